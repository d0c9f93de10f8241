#include "store/posix_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "edgehdf5/error.hpp"

namespace edgehdf5::store {
namespace {

// `error_number` is positive, as errno.
[[noreturn]] void fail_errno(const std::string& what, const std::filesystem::path& path,
                             int error_number) {
  throw Error(ErrorCode::io, what + " " + path.string() + ": " + std::strerror(error_number));
}

// A seam result (a negative errno on failure) as an Error(io).
[[noreturn]] void fail_result(const std::string& what, const std::filesystem::path& path,
                              std::int64_t result) {
  fail_errno(what, path, static_cast<int>(-result));
}

int open_checked(FileSystem& file_system, const std::filesystem::path& path, FileOpenMode mode,
                 const char* what) {
  int fd;
  do {
    fd = file_system.open(path, mode);
  } while (fd == -EINTR);
  if (fd < 0) fail_result(what, path, fd);
  return fd;
}

// Runs `call` until it does not fail with EINTR; returns its last result.
template <typename Call>
auto retry_interrupted(Call call) {
  auto result = call();
  while (result == -EINTR) result = call();
  return result;
}

// Writes every byte of `parts` at `offset`, going on after short writes.
void write_all(FileSystem& file_system, int fd, std::initializer_list<std::string_view> parts,
               std::uint64_t offset, const std::filesystem::path& path) {
  std::vector<std::string_view> pending;
  for (std::string_view part : parts) {
    if (!part.empty()) pending.push_back(part);
  }
  std::size_t first = 0;
  while (first < pending.size()) {
    const std::int64_t written = retry_interrupted([&] {
      return file_system.pwrite(fd, std::span(pending).subspan(first), offset);
    });
    if (written < 0) fail_result("cannot write", path, written);
    if (written == 0) fail_errno("cannot write", path, EIO);  // no progress: never loop
    offset += static_cast<std::uint64_t>(written);
    auto left = static_cast<std::size_t>(written);
    while (left > 0) {
      std::string_view& part = pending[first];
      const std::size_t taken = std::min(left, part.size());
      part.remove_prefix(taken);
      left -= taken;
      if (part.empty()) ++first;
    }
  }
}

void fsync_checked(FileSystem& file_system, int fd, const std::filesystem::path& path) {
  const int status = retry_interrupted([&] { return file_system.fsync(fd); });
  if (status != 0) fail_result("cannot fsync", path, status);
}

// Whether `fd` is the file `path` names now (not one unlinked or replaced since it opened).
bool names_same_file(FileSystem& file_system, int fd, const std::filesystem::path& path) {
  const FileStatus opened = file_system.stat(fd);
  const FileStatus named = file_system.stat(path);
  if (opened.error != 0 || named.error != 0) return false;
  return opened.device == named.device && opened.inode == named.inode;
}

}  // namespace

// ---- FileLock --------------------------------------------------------------------------------

FileLock FileLock::acquire(std::shared_ptr<FileSystem> file_system,
                           const std::filesystem::path& lock_path,
                           const std::filesystem::path& locked_file,
                           std::chrono::milliseconds wait) {
  FileSystem& fs = *file_system;
  // Waiting polls with a non-blocking flock (a blocking one cannot time out without a signal)
  // and a backoff from 1 ms to 50 ms: a short hold is seen quickly, a long one costs little.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = std::chrono::milliseconds{1};
  // A holder that releases unlinks the file it locked; whoever locked that unlinked file
  // meanwhile holds nothing that others see, so it tries again on the file the path names
  // now. Each round means another writer released in between: a bounded number in practice.
  for (;;) {
    const int fd =
        open_checked(fs, lock_path, FileOpenMode::read_write, "cannot open lock file");
    const int locked = retry_interrupted([&] { return fs.lock(fd); });
    if (locked != 0) {
      const int error_number = -locked;
      std::string holder;
      char buffer[32] = {};
      if (fs.pread(fd, buffer, sizeof buffer - 1, 0) > 0)
        holder = std::string(" (pid ") + buffer + ")";
      fs.close(fd);
      if (error_number == EWOULDBLOCK) {
        const auto now = std::chrono::steady_clock::now();
        if (now < deadline) {
          using Duration = std::chrono::steady_clock::duration;
          std::this_thread::sleep_for(std::min<Duration>(pause, deadline - now));
          pause = std::min(pause * 2, std::chrono::milliseconds{50});
          continue;
        }
        const std::string waited =
            wait.count() > 0 ? " (waited " + std::to_string(wait.count()) + " ms for it)" : "";
        throw Error(ErrorCode::locked, locked_file.string() +
                                           " is already open for writing by another process" +
                                           holder + waited +
                                           "; open it read-only or close the writer");
      }
      fail_errno("cannot lock", lock_path, error_number);
    }
    if (!names_same_file(fs, fd, lock_path)) {
      fs.close(fd);
      continue;
    }
    // Record our pid for the message another writer gets; best effort, the flock is the lock.
    const std::string pid = std::to_string(::getpid());
    if (fs.ftruncate(fd, 0) == 0) {
      const std::string_view parts[] = {pid};
      [[maybe_unused]] const std::int64_t ignored = fs.pwrite(fd, parts, 0);
    }
    return FileLock(std::move(file_system), fd, lock_path, ::getpid());
  }
}

FileLock::FileLock(FileLock&& other) noexcept
    : file_system_(std::move(other.file_system_)),
      fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      owner_(other.owner_) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    file_system_ = std::move(other.file_system_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    owner_ = other.owner_;
  }
  return *this;
}

FileLock::~FileLock() { release(); }

void FileLock::release() noexcept {
  if (fd_ < 0) return;
  // Unlinked while still ours (see acquire); closing the last descriptor releases the flock.
  // A failed unlink leaves an unlocked lock file behind, which the next writer simply takes.
  // A forked child shares the parent's lock (one open file description) and must not
  // remove the file the parent still holds.
  if (::getpid() == owner_) file_system_->unlink(path_);
  file_system_->close(fd_);
  fd_ = -1;
}

// ---- AppendFile ------------------------------------------------------------------------------

AppendFile AppendFile::open(std::shared_ptr<FileSystem> file_system,
                            const std::filesystem::path& path) {
  const int fd = open_checked(*file_system, path, FileOpenMode::write, "cannot open");
  const FileStatus status = file_system->stat(fd);
  if (status.error != 0) {
    file_system->close(fd);
    fail_result("cannot stat", path, status.error);
  }
  return AppendFile(std::move(file_system), fd, path, status.size);
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : file_system_(std::move(other.file_system_)),
      fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      size_(other.size_) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  if (this != &other) {
    close_quietly();
    file_system_ = std::move(other.file_system_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    size_ = other.size_;
  }
  return *this;
}

AppendFile::~AppendFile() { close_quietly(); }

void AppendFile::close_quietly() noexcept {
  // Only a log that was synced is counted on, and sync() reported its errors.
  if (fd_ >= 0) file_system_->close(fd_);
  fd_ = -1;
}

void AppendFile::append(std::initializer_list<std::string_view> parts) {
  std::size_t total = 0;
  for (std::string_view part : parts) total += part.size();
  try {
    write_all(*file_system_, fd_, parts, size_, path_);
  } catch (...) {
    // Leave no partial record behind; if even this fails, recovery drops the torn tail (its
    // checksum does not hold), and the next append overwrites it from size_ on.
    file_system_->ftruncate(fd_, size_);
    throw;
  }
  size_ += total;
}

void AppendFile::sync() {
  // fdatasync is enough: the size change is metadata fdatasync flushes (it is needed to
  // read the data back), while the timestamps it skips are not.
  const int status = retry_interrupted([&] { return file_system_->fdatasync(fd_); });
  if (status != 0) fail_result("cannot fsync", path_, status);
}

void AppendFile::truncate(std::uint64_t size) {
  const int status = retry_interrupted([&] { return file_system_->ftruncate(fd_, size); });
  if (status != 0) fail_result("cannot truncate", path_, status);
  size_ = size;
}

// ---- whole-file helpers ----------------------------------------------------------------------

void sync_file(FileSystem& file_system, const std::filesystem::path& path) {
  const int fd = open_checked(file_system, path, FileOpenMode::read, "cannot open");
  const int status = retry_interrupted([&] { return file_system.fsync(fd); });
  file_system.close(fd);
  if (status != 0) fail_result("cannot fsync", path, status);
}

void sync_directory(FileSystem& file_system, const std::filesystem::path& directory) {
  const std::filesystem::path dir = directory.empty() ? "." : directory;
  const int fd =
      open_checked(file_system, dir, FileOpenMode::directory, "cannot open directory");
  const int status = retry_interrupted([&] { return file_system.fsync(fd); });
  file_system.close(fd);
  // Some file systems refuse fsync on directories; the rename is then as durable as it gets.
  if (status != 0 && status != -EINVAL && status != -EBADF) {
    fail_result("cannot fsync directory", dir, status);
  }
}

void write_new_file(FileSystem& file_system, const std::filesystem::path& path,
                    std::string_view bytes) {
  const int fd = open_checked(file_system, path, FileOpenMode::create, "cannot create");
  try {
    write_all(file_system, fd, {bytes}, 0, path);
    fsync_checked(file_system, fd, path);
  } catch (...) {
    file_system.close(fd);
    file_system.unlink(path);
    throw;
  }
  // After a good fsync the data is on disk: a failing close cannot take it back, but report
  // it all the same (it would mean a file system we do not understand).
  const int closed = file_system.close(fd);
  if (closed != 0 && closed != -EINTR) {
    file_system.unlink(path);
    fail_result("cannot close", path, closed);
  }
}

bool path_is_taken(FileSystem& file_system, const std::filesystem::path& path) {
  const int found = retry_interrupted([&] { return file_system.exists(path); });
  if (found < 0) fail_result("cannot stat", path, found);
  return found > 0;
}

void rename_file(FileSystem& file_system, const std::filesystem::path& from,
                 const std::filesystem::path& to) {
  const int status = retry_interrupted([&] { return file_system.rename(from, to); });
  if (status != 0) fail_result("cannot rename " + from.string() + " to", to, status);
}

void rename_durably(FileSystem& file_system, const std::filesystem::path& from,
                    const std::filesystem::path& to) {
  rename_file(file_system, from, to);
  sync_directory(file_system, to.parent_path());
}

bool remove_file(FileSystem& file_system, const std::filesystem::path& path) noexcept {
  const int status = file_system.unlink(path);
  return status == 0 || status == -ENOENT;
}

void write_file_atomically(FileSystem& file_system, const std::filesystem::path& path,
                           std::string_view bytes) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  write_new_file(file_system, temporary, bytes);
  try {
    rename_durably(file_system, temporary, path);
  } catch (...) {
    file_system.unlink(temporary);  // gone already if the rename happened
    throw;
  }
}

std::optional<std::string> read_file(FileSystem& file_system, const std::filesystem::path& path,
                                     bool missing_ok) {
  return read_file_prefix(file_system, path, missing_ok, std::numeric_limits<std::size_t>::max());
}

std::optional<std::string> read_file_prefix(FileSystem& file_system,
                                            const std::filesystem::path& path, bool missing_ok,
                                            std::size_t max_bytes) {
  int fd;
  do {
    fd = file_system.open(path, FileOpenMode::read);
  } while (fd == -EINTR);
  if (fd < 0) {
    if (missing_ok && fd == -ENOENT) return std::nullopt;
    fail_result("cannot open", path, fd);
  }
  std::string content;
  const FileStatus status = file_system.stat(fd);
  if (status.error == 0) content.reserve(std::min<std::uint64_t>(status.size, max_bytes));
  char buffer[1 << 16];
  while (content.size() < max_bytes) {
    const std::size_t want = std::min(sizeof buffer, max_bytes - content.size());
    const std::int64_t got = retry_interrupted(
        [&] { return file_system.pread(fd, buffer, want, content.size()); });
    if (got < 0) {
      file_system.close(fd);
      fail_result("cannot read", path, got);
    }
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
  }
  file_system.close(fd);
  return content;
}

std::uint64_t file_size_or_zero(FileSystem& file_system,
                                const std::filesystem::path& path) noexcept {
  const FileStatus status = file_system.stat(path);
  return status.error == 0 ? status.size : 0;
}

std::optional<FileIdentity> file_identity(FileSystem& file_system,
                                          const std::filesystem::path& path) noexcept {
  const FileStatus status = file_system.stat(path);
  if (status.error != 0) return std::nullopt;
  return FileIdentity{status.device, status.inode};
}

}  // namespace edgehdf5::store
