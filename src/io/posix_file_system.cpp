// posix_file_system(): the FileSystem of the operating system, each call one system call.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

#include "edgehdf5/file_system.hpp"

namespace edgehdf5 {
namespace {

int open_flags(FileOpenMode mode) {
  switch (mode) {
    case FileOpenMode::read:
      return O_RDONLY;
    case FileOpenMode::write:
      return O_WRONLY | O_CREAT;
    case FileOpenMode::create:
      return O_RDWR | O_CREAT | O_TRUNC;
    case FileOpenMode::read_write:
      return O_RDWR | O_CREAT;
    case FileOpenMode::directory:
      return O_RDONLY | O_DIRECTORY;
  }
  return O_RDONLY;
}

int status_or_errno(int status) { return status == 0 ? 0 : -errno; }

FileStatus to_status(int result, const struct stat& status) {
  if (result != 0) return FileStatus{-errno, 0, 0, 0};
  return FileStatus{0, static_cast<std::uint64_t>(status.st_dev),
                    static_cast<std::uint64_t>(status.st_ino),
                    static_cast<std::uint64_t>(status.st_size)};
}

class PosixFileSystem final : public FileSystem {
 public:
  int open(const std::filesystem::path& path, FileOpenMode mode) override {
    const int fd = ::open(path.c_str(), open_flags(mode) | O_CLOEXEC, 0644);
    return fd >= 0 ? fd : -errno;
  }
  int close(int file) override { return status_or_errno(::close(file)); }
  std::int64_t pread(int file, void* buffer, std::size_t size, std::uint64_t offset) override {
    const ssize_t got = ::pread(file, buffer, size, static_cast<off_t>(offset));
    return got >= 0 ? got : -errno;
  }
  std::int64_t pwrite(int file, std::span<const std::string_view> parts,
                      std::uint64_t offset) override {
    // One pwritev for the usual few parts; more than IOV_MAX are written in turns by the
    // caller, since a short count is allowed.
    std::vector<iovec> slices;
    slices.reserve(std::min<std::size_t>(parts.size(), IOV_MAX));
    for (std::string_view part : parts) {
      if (slices.size() == IOV_MAX) break;
      if (!part.empty()) slices.push_back({const_cast<char*>(part.data()), part.size()});
    }
    if (slices.empty()) return 0;
    const ssize_t written = ::pwritev(file, slices.data(), static_cast<int>(slices.size()),
                                      static_cast<off_t>(offset));
    return written >= 0 ? written : -errno;
  }
  int fsync(int file) override { return status_or_errno(::fsync(file)); }
  int fdatasync(int file) override { return status_or_errno(::fdatasync(file)); }
  int ftruncate(int file, std::uint64_t size) override {
    return status_or_errno(::ftruncate(file, static_cast<off_t>(size)));
  }
  int lock(int file) override { return status_or_errno(::flock(file, LOCK_EX | LOCK_NB)); }
  FileStatus stat(int file) override {
    struct stat status {};
    return to_status(::fstat(file, &status), status);
  }
  FileStatus stat(const std::filesystem::path& path) override {
    struct stat status {};
    return to_status(::stat(path.c_str(), &status), status);
  }
  int exists(const std::filesystem::path& path) override {
    struct stat status {};
    if (::lstat(path.c_str(), &status) == 0) return 1;
    return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
  }
  int rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    return status_or_errno(::rename(from.c_str(), to.c_str()));
  }
  int unlink(const std::filesystem::path& path) override {
    return status_or_errno(::unlink(path.c_str()));
  }
  bool reads_natively() const noexcept override { return true; }
};

}  // namespace

std::shared_ptr<FileSystem> posix_file_system() {
  static const std::shared_ptr<FileSystem> instance = std::make_shared<PosixFileSystem>();
  return instance;
}

}  // namespace edgehdf5
