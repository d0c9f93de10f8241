#pragma once
// The file operations the store needs for durability, each made through a FileSystem (the
// I/O seam, include/edgehdf5/file_system.hpp), checked, retried on EINTR and short writes,
// and reporting any other failure as an Error(io) that names the operation and the file:
// an append-only file with explicit fsync, an inter-process writer lock, and the
// fsync-and-rename dance that makes replacement atomic.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/file_system.hpp"

namespace edgehdf5::store {

// An exclusive, non-blocking lock() on a lock file, held for the object's lifetime.
// The lock dies with the process, so a kill -9 never leaves a stale lock behind (the file
// stays, unlocked, and the next writer takes it). Releasing removes the lock file, so that a
// cleanly closed store leaves only FILE: the file is unlinked while still locked, and
// acquire() checks after locking that the path still names the file it locked (else a
// releasing holder removed it meanwhile, and it starts again on the new path), so two
// writers can never hold locks on two different files of one name.
class FileLock {
 public:
  // Throws Error(locked) naming `locked_file` (and the holder's pid) if another process
  // holds the lock and still holds it after `wait` (0: fail at once).
  static FileLock acquire(std::shared_ptr<FileSystem> file_system,
                          const std::filesystem::path& lock_path,
                          const std::filesystem::path& locked_file,
                          std::chrono::milliseconds wait = std::chrono::milliseconds{0});
  // The same on the operating system's files.
  static FileLock acquire(const std::filesystem::path& lock_path,
                          const std::filesystem::path& locked_file,
                          std::chrono::milliseconds wait = std::chrono::milliseconds{0}) {
    return acquire(posix_file_system(), lock_path, locked_file, wait);
  }
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // Removes the lock file, then releases the lock.
  ~FileLock();

 private:
  FileLock(std::shared_ptr<FileSystem> file_system, int fd, std::filesystem::path path,
           int owner) noexcept
      : file_system_(std::move(file_system)), fd_(fd), path_(std::move(path)), owner_(owner) {}
  void release() noexcept;
  std::shared_ptr<FileSystem> file_system_;
  int fd_ = -1;
  std::filesystem::path path_;
  int owner_ = -1;  // the process that locked; only it removes the file
};

// A file written only at its end. Writes go straight to the kernel (they survive a kill -9
// of the process); sync() makes them survive a power loss.
class AppendFile {
 public:
  // Opens (creating if needed) for appending at the current end.
  static AppendFile open(std::shared_ptr<FileSystem> file_system,
                         const std::filesystem::path& path);
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  // Writes all the parts, in order, at the end. On failure (disk full, ...) the file is cut
  // back to its previous size, so no partial record is left, and Error(io) is thrown.
  void append(std::initializer_list<std::string_view> parts);
  // fdatasync; Error(io) if it fails.
  void sync();
  // Cuts the file to `size` bytes (used to drop a torn record found at recovery).
  void truncate(std::uint64_t size);
  std::uint64_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  AppendFile(std::shared_ptr<FileSystem> file_system, int fd, std::filesystem::path path,
             std::uint64_t size) noexcept
      : file_system_(std::move(file_system)), fd_(fd), path_(std::move(path)), size_(size) {}
  void close_quietly() noexcept;
  std::shared_ptr<FileSystem> file_system_;
  int fd_ = -1;
  std::filesystem::path path_;
  std::uint64_t size_ = 0;
};

// fsync of a file's data and of a directory's entries.
void sync_file(FileSystem& file_system, const std::filesystem::path& path);
void sync_directory(FileSystem& file_system, const std::filesystem::path& directory);
// Creates `path` (truncating it) holding `bytes`, fsynced and closed. On failure it is
// removed again and Error(io) thrown.
void write_new_file(FileSystem& file_system, const std::filesystem::path& path,
                    std::string_view bytes);
// Writes `bytes` to `path` through a temporary beside it, fsyncs and renames: afterwards
// `path` holds either the old content or all of the new.
void write_file_atomically(FileSystem& file_system, const std::filesystem::path& path,
                           std::string_view bytes);
// Whether anything is at `path`: a file, a directory, or a link (even a dangling one, which
// a rename would replace all the same). Error(io) when that cannot be told (EIO, EACCES):
// guessing either way could overwrite a file or replay a stranger's log.
bool path_is_taken(FileSystem& file_system, const std::filesystem::path& path);
// rename() then fsync of the directory, so the new name survives a power loss.
void rename_durably(FileSystem& file_system, const std::filesystem::path& from,
                    const std::filesystem::path& to);
// rename() alone; Error(io) if it fails.
void rename_file(FileSystem& file_system, const std::filesystem::path& from,
                 const std::filesystem::path& to);
// Best-effort unlink (what is left behind is harmless): whether `path` is gone.
bool remove_file(FileSystem& file_system, const std::filesystem::path& path) noexcept;
// The whole content of a file; Error(io) if it cannot be read. A missing file reads as
// nullopt when `missing_ok` (else it is an error too).
std::optional<std::string> read_file(FileSystem& file_system, const std::filesystem::path& path,
                                     bool missing_ok);
// The same, at most the first `max_bytes` of it.
std::optional<std::string> read_file_prefix(FileSystem& file_system,
                                            const std::filesystem::path& path, bool missing_ok,
                                            std::size_t max_bytes);
// The size of the file at `path`, or 0 when there is none (or it cannot be stat'ed).
std::uint64_t file_size_or_zero(FileSystem& file_system,
                                const std::filesystem::path& path) noexcept;
// Which file `path` names (device, inode), or nullopt when none can be stat'ed.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};
std::optional<FileIdentity> file_identity(FileSystem& file_system,
                                          const std::filesystem::path& path) noexcept;

}  // namespace edgehdf5::store
