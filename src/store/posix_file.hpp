#pragma once
// The POSIX file operations the store needs for durability, each checked and reporting
// errno as an Error(io) that names the file: an append-only file with explicit fsync, an
// inter-process writer lock, and the fsync-and-rename dance that makes replacement atomic.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace edgehdf5::store {

// An exclusive, non-blocking flock() on a lock file, held for the object's lifetime.
// The lock dies with the process, so a kill -9 never leaves a stale lock behind (the file
// stays, unlocked, and the next writer takes it). Releasing removes the lock file, so that a
// cleanly closed store leaves only FILE: the file is unlinked while still locked, and
// acquire() checks after locking that the path still names the file it locked (else a
// releasing holder removed it meanwhile, and it starts again on the new path), so two
// writers can never hold locks on two different files of one name.
class FileLock {
 public:
  // Throws Error(locked) naming `locked_file` (and the holder's pid) if another process
  // holds the lock.
  static FileLock acquire(const std::filesystem::path& lock_path,
                          const std::filesystem::path& locked_file);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // Removes the lock file, then releases the lock.
  ~FileLock();

 private:
  FileLock(int fd, std::filesystem::path path, pid_t owner) noexcept
      : fd_(fd), path_(std::move(path)), owner_(owner) {}
  void release() noexcept;
  int fd_ = -1;
  std::filesystem::path path_;
  pid_t owner_ = -1;  // the process that locked; only it removes the file
};

// A file written only at its end. Writes go straight to the kernel (they survive a kill -9
// of the process); sync() makes them survive a power loss.
class AppendFile {
 public:
  // Opens (creating if needed) for appending at the current end.
  static AppendFile open(const std::filesystem::path& path);
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  // Writes all the parts, in order, at the end (one writev). On failure (disk full, ...) the
  // file is cut back to its previous size, so no partial record is left, and Error(io) is
  // thrown.
  void append(std::initializer_list<std::string_view> parts);
  void sync();
  // Cuts the file to `size` bytes (used to drop a torn record found at recovery).
  void truncate(std::uint64_t size);
  std::uint64_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  AppendFile(int fd, std::filesystem::path path, std::uint64_t size) noexcept
      : fd_(fd), path_(std::move(path)), size_(size) {}
  void close_quietly() noexcept;
  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t size_ = 0;
};

// fsync of a file's data and of a directory's entries.
void sync_file(const std::filesystem::path& path);
void sync_directory(const std::filesystem::path& directory);
// Writes `bytes` to `path` through a temporary beside it, fsyncs and renames: afterwards
// `path` holds either the old content or all of the new.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);
// Whether anything is at `path`: a file, a directory, or a link (even a dangling one, which
// a rename would replace all the same).
bool path_is_taken(const std::filesystem::path& path) noexcept;
// rename() then fsync of the directory, so the new name survives a power loss.
void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);
// The whole content of a file; Error(io) if it cannot be read. A missing file reads as
// empty when `missing_ok`.
std::string read_file(const std::filesystem::path& path, bool missing_ok);

}  // namespace edgehdf5::store
