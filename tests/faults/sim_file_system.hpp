#pragma once
// SimFileSystem: an in-memory FileSystem (include/edgehdf5/file_system.hpp) for the fault
// injection and power-loss tests. It models what a disk keeps apart from what a process
// sees, the way a kernel's page cache does:
//   * each file has its live bytes (what reads see) and its durable bytes (as of its last
//     fsync/fdatasync);
//   * the directory has its live names and its durable names (as of its last fsync), so a
//     rename or a new file is lost in a power cut unless the directory was fsynced.
// It counts every call (the test's "I/O operations"), can fail the call with a chosen
// index (an errno, or a short write), can report each call to a hook before making it
// (where the power-loss test takes its crash images), and can make a crash image: the disk
// after a power cut at this moment, with the unsynced part dropped in one of several ways.
// Files and the directory are shared between copies (copy-on-write strings), so an image
// costs little.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "edgehdf5/file_system.hpp"

namespace edgehdf5::testing {

enum class IoOperation {
  open, close, pread, pwrite, fsync, fdatasync, ftruncate, lock, fstat, stat, exists,
  rename, unlink,
};

inline const char* operation_name(IoOperation operation) {
  static const char* const names[] = {"open",  "close",     "pread", "pwrite", "fsync",
                                      "fdatasync", "ftruncate", "lock", "fstat", "stat",
                                      "exists", "rename", "unlink"};
  return names[static_cast<int>(operation)];
}

// How a power cut treats what was not synced.
enum class CrashMode {
  drop_unsynced,     // everything unsynced is lost (data and directory changes)
  keep_everything,   // the page cache reached the disk (what a kill -9 leaves)
  torn_prefix,       // each file keeps a random prefix of its unsynced bytes
  random_pages,      // each 4 KiB page of a file is the new or the old one, at random
  lost_renames,      // file data reached the disk, directory changes did not
};
inline constexpr CrashMode kCrashModes[] = {CrashMode::drop_unsynced, CrashMode::keep_everything,
                                            CrashMode::torn_prefix, CrashMode::random_pages,
                                            CrashMode::lost_renames};

// The disk's contents: what survives the process.
struct SimDisk {
  using Bytes = std::shared_ptr<const std::string>;
  struct Inode {
    Bytes live = std::make_shared<const std::string>();
    Bytes durable = std::make_shared<const std::string>();
  };
  std::map<std::string, std::uint64_t> live_names;     // path -> inode
  std::map<std::string, std::uint64_t> durable_names;  // as of the last directory fsync
  std::map<std::uint64_t, Inode> inodes;
  std::uint64_t next_inode = 1;

  // The disk after a power cut now, the unsynced part treated as `mode` says.
  SimDisk crash_image(CrashMode mode, std::mt19937_64& random) const {
    SimDisk after = *this;
    const bool names_survive = mode == CrashMode::keep_everything ||
                               ((mode == CrashMode::torn_prefix ||
                                 mode == CrashMode::random_pages) &&
                                random() % 2 == 0);
    if (!names_survive) after.live_names = durable_names;
    after.durable_names = after.live_names;
    for (auto& [number, inode] : after.inodes) {
      const std::string& live = *inode.live;
      const std::string& durable = *inode.durable;
      std::string kept;
      switch (mode) {
        case CrashMode::drop_unsynced:
          kept = durable;
          break;
        case CrashMode::keep_everything:
        case CrashMode::lost_renames:
          kept = live;
          break;
        case CrashMode::torn_prefix: {
          const std::size_t cut = random() % (live.size() + 1);
          kept = live.substr(0, cut);
          if (durable.size() > cut) kept += durable.substr(cut);
          break;
        }
        case CrashMode::random_pages: {
          constexpr std::size_t kPage = 4096;
          kept.assign(random() % 2 == 0 ? live.size() : durable.size(), '\0');
          for (std::size_t page = 0; page < kept.size(); page += kPage) {
            const std::string& source = random() % 2 == 0 ? live : durable;
            if (page < source.size()) {
              const std::size_t length =
                  std::min({kPage, source.size() - page, kept.size() - page});
              std::memcpy(kept.data() + page, source.data() + page, length);
            }
          }
          break;
        }
      }
      inode.live = inode.durable = std::make_shared<const std::string>(std::move(kept));
    }
    return after;
  }
};

class SimFileSystem final : public FileSystem {
 public:
  static constexpr const char* kDirectory = "/sim";

  explicit SimFileSystem(SimDisk disk = {}) : disk_(std::move(disk)) {}

  // A failure to inject: the call with index `at` (0-based, in the order calls are made)
  // returns -error, or for a pwrite with `short_write`, writes half of what it is asked.
  struct Fault {
    std::size_t at = SIZE_MAX;
    int error = EIO;
    bool short_write = false;
  };
  void inject(Fault fault) {
    std::lock_guard guard(mutex_);
    fault_ = fault;
  }
  // Called before each operation with its index, kind and path (the disk as it is then).
  std::function<void(std::size_t, IoOperation, const std::string&)> before_each;

  struct Call {
    IoOperation operation;
    std::string path;
  };
  std::vector<Call> calls() const {
    std::lock_guard guard(mutex_);
    return calls_;
  }
  std::size_t call_count() const {
    std::lock_guard guard(mutex_);
    return calls_.size();
  }
  // Whether the injected fault was reached (and made its call fail or come short).
  bool fault_hit() const {
    std::lock_guard guard(mutex_);
    return fault_hit_;
  }
  SimDisk disk() const {
    std::lock_guard guard(mutex_);
    return disk_;
  }

  int open(const std::filesystem::path& path, FileOpenMode mode) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::open, path)) return failed;
    const std::string name = path.string();
    std::uint64_t inode = 0;
    if (mode == FileOpenMode::directory) {
      if (name != kDirectory) return -ENOENT;
    } else {
      const auto found = disk_.live_names.find(name);
      if (found == disk_.live_names.end()) {
        if (mode == FileOpenMode::read) return -ENOENT;
        inode = disk_.next_inode++;
        disk_.inodes[inode];
        disk_.live_names[name] = inode;
      } else {
        inode = found->second;
        if (mode == FileOpenMode::create) {
          disk_.inodes[inode].live = std::make_shared<const std::string>();
        }
      }
    }
    const int handle = next_handle_++;
    handles_[handle] = Handle{inode, name, mode};
    return handle;
  }

  int close(int file) override {
    std::lock_guard guard(mutex_);
    const int failed = begin(IoOperation::close, path_of(file));
    // The handle goes whatever close() says, as POSIX's.
    locked_.erase(file);
    handles_.erase(file);
    return failed;
  }

  std::int64_t pread(int file, void* buffer, std::size_t size, std::uint64_t offset) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::pread, path_of(file))) return failed;
    const std::string* bytes = live_bytes(file);
    if (bytes == nullptr || !readable(file)) return -EBADF;
    if (offset >= bytes->size()) return 0;
    const std::size_t count = std::min<std::size_t>(size, bytes->size() - offset);
    std::memcpy(buffer, bytes->data() + offset, count);
    return static_cast<std::int64_t>(count);
  }

  std::int64_t pwrite(int file, std::span<const std::string_view> parts,
                      std::uint64_t offset) override {
    std::lock_guard guard(mutex_);
    const bool short_write = fault_.short_write && calls_.size() == fault_.at;
    if (!short_write) {
      if (const int failed = begin(IoOperation::pwrite, path_of(file))) return failed;
    } else {
      record(IoOperation::pwrite, path_of(file));
      fault_hit_ = true;
    }
    SimDisk::Inode* inode = inode_of(file);
    if (inode == nullptr || !writable(file)) return -EBADF;
    std::string joined;
    for (std::string_view part : parts) joined.append(part);
    if (short_write) joined.resize(joined.size() / 2);
    std::string bytes = *inode->live;
    if (bytes.size() < offset + joined.size()) bytes.resize(offset + joined.size(), '\0');
    std::memcpy(bytes.data() + offset, joined.data(), joined.size());
    inode->live = std::make_shared<const std::string>(std::move(bytes));
    return static_cast<std::int64_t>(joined.size());
  }

  int fsync(int file) override { return sync(IoOperation::fsync, file); }
  int fdatasync(int file) override { return sync(IoOperation::fdatasync, file); }

  int ftruncate(int file, std::uint64_t size) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::ftruncate, path_of(file))) return failed;
    SimDisk::Inode* inode = inode_of(file);
    if (inode == nullptr || !writable(file)) return -EBADF;
    std::string bytes = *inode->live;
    bytes.resize(size, '\0');
    inode->live = std::make_shared<const std::string>(std::move(bytes));
    return 0;
  }

  int lock(int file) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::lock, path_of(file))) return failed;
    const auto handle = handles_.find(file);
    if (handle == handles_.end()) return -EBADF;
    for (const auto& [other, inode] : locked_) {
      if (other != file && inode == handle->second.inode) return -EWOULDBLOCK;
    }
    locked_[file] = handle->second.inode;
    return 0;
  }

  FileStatus stat(int file) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::fstat, path_of(file))) return FileStatus{failed};
    const auto handle = handles_.find(file);
    if (handle == handles_.end()) return FileStatus{-EBADF};
    return status_of(handle->second.inode);
  }

  FileStatus stat(const std::filesystem::path& path) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::stat, path)) return FileStatus{failed};
    const auto found = disk_.live_names.find(path.string());
    if (found == disk_.live_names.end()) return FileStatus{-ENOENT};
    return status_of(found->second);
  }

  int exists(const std::filesystem::path& path) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::exists, path)) return failed;
    return path == kDirectory || disk_.live_names.count(path.string()) > 0 ? 1 : 0;
  }

  int rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::rename, from.string() + " -> " + to.string())) {
      return failed;
    }
    const auto found = disk_.live_names.find(from.string());
    if (found == disk_.live_names.end()) return -ENOENT;
    const std::uint64_t inode = found->second;
    disk_.live_names.erase(found);
    disk_.live_names[to.string()] = inode;
    return 0;
  }

  int unlink(const std::filesystem::path& path) override {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(IoOperation::unlink, path)) return failed;
    return disk_.live_names.erase(path.string()) > 0 ? 0 : -ENOENT;
  }

 private:
  struct Handle {
    std::uint64_t inode = 0;  // 0: the directory
    std::string path;
    FileOpenMode mode = FileOpenMode::read;
  };
  // As POSIX: a handle reads only when opened for reading, writes only when for writing.
  bool readable(int file) const {
    const auto handle = handles_.find(file);
    return handle != handles_.end() && handle->second.mode != FileOpenMode::write;
  }
  bool writable(int file) const {
    const auto handle = handles_.find(file);
    return handle != handles_.end() && handle->second.mode != FileOpenMode::read &&
           handle->second.mode != FileOpenMode::directory;
  }

  // Records the call; returns the injected error for it, or 0.
  int begin(IoOperation operation, const std::filesystem::path& path) {
    const std::size_t index = calls_.size();
    if (before_each) before_each(index, operation, path.string());
    record(operation, path.string());
    if (index == fault_.at && !fault_.short_write) {
      fault_hit_ = true;
      return -fault_.error;
    }
    return 0;
  }
  void record(IoOperation operation, const std::string& path) {
    calls_.push_back(Call{operation, path});
  }

  int sync(IoOperation operation, int file) {
    std::lock_guard guard(mutex_);
    if (const int failed = begin(operation, path_of(file))) return failed;
    const auto handle = handles_.find(file);
    if (handle == handles_.end()) return -EBADF;
    if (handle->second.inode == 0) {
      disk_.durable_names = disk_.live_names;
    } else {
      SimDisk::Inode& inode = disk_.inodes[handle->second.inode];
      inode.durable = inode.live;
    }
    return 0;
  }

  std::string path_of(int file) const {
    const auto handle = handles_.find(file);
    return handle == handles_.end() ? std::string("(bad handle)") : handle->second.path;
  }
  SimDisk::Inode* inode_of(int file) {
    const auto handle = handles_.find(file);
    if (handle == handles_.end() || handle->second.inode == 0) return nullptr;
    return &disk_.inodes[handle->second.inode];
  }
  const std::string* live_bytes(int file) {
    SimDisk::Inode* inode = inode_of(file);
    return inode == nullptr ? nullptr : inode->live.get();
  }
  FileStatus status_of(std::uint64_t inode) {
    const std::uint64_t size = inode == 0 ? 0 : disk_.inodes[inode].live->size();
    return FileStatus{0, 1, inode, size};
  }

  mutable std::recursive_mutex mutex_;
  SimDisk disk_;
  std::map<int, Handle> handles_;
  std::map<int, std::uint64_t> locked_;  // handle -> inode it locks
  int next_handle_ = 3;
  Fault fault_;
  bool fault_hit_ = false;
  std::vector<Call> calls_;
};

}  // namespace edgehdf5::testing
