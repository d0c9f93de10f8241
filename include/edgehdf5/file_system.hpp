#pragma once
// FileSystem: the one door through which a store touches files (LevelDB's Env is the model).
//
// Every file operation a memory store makes (the log's appends and fsyncs, the writer lock,
// the checkpoint written through a temporary and renamed into place, the reads at open)
// goes through the FileSystem of its OpenOptions; the default is the operating system's
// (posix_file_system()). A test passes one that fails chosen operations or simulates a power
// loss; an embedder may pass one that counts or throttles I/O.
//
// The calls are the POSIX system calls the store needs, with POSIX's meaning, and report
// failure the same way: a negative errno (-EIO, -ENOSPC, -EINTR, ...), never an exception.
// Writes may be short (fewer bytes than asked, as write(2)) and any call may fail with
// -EINTR; the store retries both, and turns every other failure into Error(io) naming the
// file and the operation. HDF5 never does file I/O of its own on a store's behalf: it writes
// a checkpoint through here (with an HDF5 file driver of ours that buffers its small writes
// into large pwrites), and a file is read through here unless reads_natively() lets HDF5
// read it by path.
//
// Thread safety: implementations must allow concurrent calls from several threads (an
// AsyncHDF5Memory's writer thread beside readers opening files).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

namespace edgehdf5 {

// How open() opens a path.
enum class FileOpenMode {
  read,          // O_RDONLY
  write,         // O_WRONLY | O_CREAT: content kept (the log, appended to with pwrite)
  create,        // O_RDWR | O_CREAT | O_TRUNC: a new, empty file (a temporary); readable,
                 // since HDF5 reads back parts of a file it writes (its sieve buffer and
                 // metadata cache) through the seam's driver
  read_write,    // O_RDWR | O_CREAT: the lock file
  directory,     // O_RDONLY | O_DIRECTORY: only to fsync a directory's entries
};

// What stat() and fstat() say about a file.
struct FileStatus {
  int error = 0;            // 0, or a negative errno (-ENOENT when the path names nothing)
  std::uint64_t device = 0;  // device and inode: which file it is
  std::uint64_t inode = 0;
  std::uint64_t size = 0;    // bytes
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // A handle (>= 0) for `path`, or a negative errno.
  virtual int open(const std::filesystem::path& path, FileOpenMode mode) = 0;
  // Releases the handle (and any lock() on it). Returns 0 or a negative errno; the handle is
  // gone either way.
  virtual int close(int file) = 0;
  // Reads up to `size` bytes at `offset`: the count read (0 at the end), or a negative errno.
  virtual std::int64_t pread(int file, void* buffer, std::size_t size, std::uint64_t offset) = 0;
  // Writes `parts`, in order, at `offset` (pwritev): the count written, which may be fewer
  // than all of them, or a negative errno.
  virtual std::int64_t pwrite(int file, std::span<const std::string_view> parts,
                              std::uint64_t offset) = 0;
  // fsync(2) and fdatasync(2): the file's data (and, for fsync, all its metadata) on disk. A
  // handle of FileOpenMode::directory fsyncs the directory's entries (renames, unlinks).
  virtual int fsync(int file) = 0;
  virtual int fdatasync(int file) = 0;
  virtual int ftruncate(int file, std::uint64_t size) = 0;
  // An exclusive, non-blocking flock(2): 0, -EWOULDBLOCK when another handle holds it, or
  // another negative errno. Held until close().
  virtual int lock(int file) = 0;
  virtual FileStatus stat(int file) = 0;
  // As stat(2) (following a final symbolic link).
  virtual FileStatus stat(const std::filesystem::path& path) = 0;
  // Whether anything is at `path`, even a dangling link (lstat(2)): 1, 0, or a negative errno.
  virtual int exists(const std::filesystem::path& path) = 0;
  virtual int rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual int unlink(const std::filesystem::path& path) = 0;

  // Whether these are the operating system's files, which HDF5 may then read by path itself
  // (it reads only the parts a query needs). False for any other file system: a file is then
  // read whole through pread() and HDF5 opens the bytes in memory.
  virtual bool reads_natively() const noexcept { return false; }
};

// The operating system's files, by POSIX calls. One shared, stateless instance.
std::shared_ptr<FileSystem> posix_file_system();

}  // namespace edgehdf5
