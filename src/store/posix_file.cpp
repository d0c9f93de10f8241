#include "store/posix_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "edgehdf5/error.hpp"

namespace edgehdf5::store {
namespace {

[[noreturn]] void fail_errno(const std::string& what, const std::filesystem::path& path,
                             int error_number) {
  throw Error(ErrorCode::io, what + " " + path.string() + ": " + std::strerror(error_number));
}

[[noreturn]] void fail_errno(const std::string& what, const std::filesystem::path& path) {
  fail_errno(what, path, errno);
}

int open_checked(const std::filesystem::path& path, int flags, const char* what) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail_errno(what, path);
  return fd;
}

void write_all(int fd, const char* data, std::size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write", path);
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

// writev until every byte is written (it may stop early, like write).
void write_all(int fd, std::initializer_list<std::string_view> parts,
               const std::filesystem::path& path) {
  std::vector<iovec> pending;
  for (std::string_view part : parts) {
    if (!part.empty()) pending.push_back({const_cast<char*>(part.data()), part.size()});
  }
  std::size_t first = 0;
  while (first < pending.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(pending.size() - first, IOV_MAX));
    ssize_t written = ::writev(fd, pending.data() + first, count);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write", path);
    }
    while (written > 0) {
      iovec& part = pending[first];
      const auto taken = std::min(static_cast<std::size_t>(written), part.iov_len);
      part.iov_base = static_cast<char*>(part.iov_base) + taken;
      part.iov_len -= taken;
      written -= static_cast<ssize_t>(taken);
      if (part.iov_len == 0) ++first;
    }
  }
}

void fsync_fd(int fd, const std::filesystem::path& path) {
  if (::fsync(fd) != 0) fail_errno("cannot fsync", path);
}

}  // namespace

// ---- FileLock --------------------------------------------------------------------------------

namespace {

// Whether `fd` is the file `path` names now (not one unlinked or replaced since it opened).
bool names_same_file(int fd, const std::filesystem::path& path) {
  struct stat opened {}, named {};
  if (::fstat(fd, &opened) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

}  // namespace

FileLock FileLock::acquire(const std::filesystem::path& lock_path,
                           const std::filesystem::path& locked_file) {
  // A holder that releases unlinks the file it locked; whoever locked that unlinked file
  // meanwhile holds nothing that others see, so it tries again on the file the path names
  // now. Each round means another writer released in between: a bounded number in practice.
  for (;;) {
    const int fd = open_checked(lock_path, O_RDWR | O_CREAT, "cannot open lock file");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error_number = errno;
      std::string holder;
      char buffer[32] = {};
      if (::pread(fd, buffer, sizeof buffer - 1, 0) > 0)
        holder = std::string(" (pid ") + buffer + ")";
      ::close(fd);
      if (error_number == EWOULDBLOCK) {
        throw Error(ErrorCode::locked, locked_file.string() +
                                           " is already open for writing by another process" +
                                           holder + "; open it read-only or close the writer");
      }
      fail_errno("cannot lock", lock_path, error_number);
    }
    if (!names_same_file(fd, lock_path)) {
      ::close(fd);
      continue;
    }
    // Record our pid for the message another writer gets; best effort, the flock is the lock.
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(fd, 0) == 0) {
      [[maybe_unused]] ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return FileLock(fd, lock_path, ::getpid());
  }
}

FileLock::FileLock(FileLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), owner_(other.owner_) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
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
  if (::getpid() == owner_) ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

// ---- AppendFile ------------------------------------------------------------------------------

AppendFile AppendFile::open(const std::filesystem::path& path) {
  const int fd = open_checked(path, O_WRONLY | O_CREAT, "cannot open");
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const int error_number = errno;
    ::close(fd);
    fail_errno("cannot stat", path, error_number);
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (::lseek(fd, static_cast<off_t>(size), SEEK_SET) < 0) {
    const int error_number = errno;
    ::close(fd);
    fail_errno("cannot seek", path, error_number);
  }
  return AppendFile(fd, path, size);
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), size_(other.size_) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  if (this != &other) {
    close_quietly();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    size_ = other.size_;
  }
  return *this;
}

AppendFile::~AppendFile() { close_quietly(); }

void AppendFile::close_quietly() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void AppendFile::append(std::initializer_list<std::string_view> parts) {
  std::size_t total = 0;
  for (std::string_view part : parts) total += part.size();
  try {
    write_all(fd_, parts, path_);
  } catch (...) {
    // Leave no partial record behind; if even this fails, recovery drops the torn tail.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) == 0) {
      ::lseek(fd_, static_cast<off_t>(size_), SEEK_SET);
    }
    throw;
  }
  size_ += total;
}

void AppendFile::sync() {
  // fdatasync is enough: the size change is metadata fdatasync flushes (it is needed to
  // read the data back), while the timestamps it skips are not.
  if (::fdatasync(fd_) != 0) fail_errno("cannot fsync", path_);
}

void AppendFile::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) fail_errno("cannot truncate", path_);
  if (::lseek(fd_, static_cast<off_t>(size), SEEK_SET) < 0) fail_errno("cannot seek", path_);
  size_ = size;
}

// ---- whole-file helpers ----------------------------------------------------------------------

void sync_file(const std::filesystem::path& path) {
  const int fd = open_checked(path, O_RDONLY, "cannot open");
  const int status = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  if (status != 0) fail_errno("cannot fsync", path, error_number);
}

void sync_directory(const std::filesystem::path& directory) {
  const std::filesystem::path dir = directory.empty() ? "." : directory;
  const int fd = open_checked(dir, O_RDONLY | O_DIRECTORY, "cannot open directory");
  const int status = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  // Some file systems refuse fsync on directories; the rename is then as durable as it gets.
  if (status != 0 && error_number != EINVAL && error_number != EBADF) {
    fail_errno("cannot fsync directory", dir, error_number);
  }
}

bool path_is_taken(const std::filesystem::path& path) noexcept {
  std::error_code ignored;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ignored));
}

void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    fail_errno("cannot rename " + from.string() + " to", to);
  sync_directory(to.parent_path());
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  const int fd = open_checked(temporary, O_WRONLY | O_CREAT | O_TRUNC, "cannot create");
  try {
    write_all(fd, bytes.data(), bytes.size(), temporary);
    fsync_fd(fd, temporary);
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  ::close(fd);
  rename_durably(temporary, path);
}

std::string read_file(const std::filesystem::path& path, bool missing_ok) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (missing_ok && errno == ENOENT) return {};
    fail_errno("cannot open", path);
  }
  std::string content;
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error_number = errno;
      ::close(fd);
      fail_errno("cannot read", path, error_number);
    }
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return content;
}

}  // namespace edgehdf5::store
