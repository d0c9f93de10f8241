#include "mcp_store_access.hpp"

#include <sys/stat.h>

#include <thread>
#include <utility>

#include "edgehdf5/error.hpp"

namespace edgehdf5::cli::mcp {
namespace {

using Clock = std::chrono::steady_clock;

std::filesystem::path log_path_of(const std::filesystem::path& file) {
  return std::filesystem::path(file.string() + ".wal");  // store/sidecar_paths.hpp's rule
}

}  // namespace

StoreAccess::StoreAccess(std::filesystem::path file, AccessSettings settings)
    : file_(std::move(file)), settings_(settings) {}

StoreAccess::FileStamp StoreAccess::stamp() const {
  FileStamp result;
  struct stat status {};
  if (::stat(file_.c_str(), &status) == 0) {
    result.file_inode = status.st_ino;
    result.file_size = status.st_size;
    result.file_mtime_ns = std::int64_t{status.st_mtim.tv_sec} * 1000000000 + status.st_mtim.tv_nsec;
  }
  if (::stat(log_path_of(file_).c_str(), &status) == 0) {
    result.log_inode = status.st_ino;
    result.log_size = status.st_size;
    result.log_mtime_ns = std::int64_t{status.st_mtim.tv_sec} * 1000000000 + status.st_mtim.tv_nsec;
  }
  return result;
}

const HDF5Memory& StoreAccess::for_reading() {
  if (writer_) return *writer_;
  // Stamp before opening: a change made while we open shows as a new stamp next time, so it
  // is never missed (at worst the handle is reopened once more than needed).
  const FileStamp now = stamp();
  if (!reader_ || !(now == reader_stamp_)) {
    reader_.reset();
    reader_.emplace(HDF5Memory::open(file_, OpenOptions{.read_only = true}));
    reader_stamp_ = now;
  }
  return *reader_;
}

HDF5Memory& StoreAccess::for_writing() {
  if (settings_.read_only) {
    throw Error(ErrorCode::read_only,
                "this server was started with --read-only: " + file_.string() +
                    " cannot be changed through it");
  }
  if (!writer_) {
    if (forced_release_) {
      const auto resume = *forced_release_ + settings_.handover_pause;
      if (Clock::now() < resume) std::this_thread::sleep_until(resume);
      forced_release_.reset();
    }
    OpenOptions options;
    options.lock_timeout = settings_.lock_timeout;
    try {
      writer_.emplace(HDF5Memory::open(file_, options));
    } catch (const Error& error) {
      if (error.code() != ErrorCode::locked) throw;
      throw Error(ErrorCode::locked,
                  std::string(error.what()) + " (this server waited its --lock-timeout of " +
                      std::to_string(settings_.lock_timeout.count() / 1000.0).substr(0, 5) +
                      " s; the write was not made)");
    }
    reader_.reset();  // the writer serves reads while held
    writer_opened_ = Clock::now();
  }
  return *writer_;
}

void StoreAccess::write_done() {
  if (!writer_) return;
  try {
    writer_->flush();
  } catch (...) {
    // The handle refuses writes after a failed fsync; drop it so the next call reopens
    // (recovery then decides from what the disk holds).
    try {
      writer_->close();
    } catch (...) {
    }
    writer_.reset();
    throw;
  }
  last_write_ = Clock::now();
}

void StoreAccess::call_answered() {
  if (writer_ && Clock::now() - writer_opened_ >= settings_.hold_max) {
    release_writer();
    forced_release_ = Clock::now();
  }
}

void StoreAccess::idle() {
  if (writer_ && Clock::now() - last_write_ >= settings_.hold_idle) release_writer();
}

void StoreAccess::release_writer() {
  if (!writer_) return;
  HDF5Memory writer = std::move(*writer_);
  writer_.reset();
  writer.close();  // every change is already durable (write_done); this checkpoints
}

void StoreAccess::close() {
  reader_.reset();
  release_writer();
}

}  // namespace edgehdf5::cli::mcp
