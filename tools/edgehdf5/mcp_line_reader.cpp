#include "mcp_line_reader.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "edgehdf5/error.hpp"

namespace edgehdf5::cli::mcp {

namespace {
constexpr std::size_t kReadBytes = 64 * 1024;
}  // namespace

LineReader::LineReader(int fd, std::size_t max_line_bytes)
    : fd_(fd), max_line_bytes_(max_line_bytes) {
  buffer_.reserve(max_line_bytes_ + kReadBytes);
}

bool LineReader::take_buffered(LineRead& out) {
  const std::size_t newline = buffer_.find('\n');
  if (discarding_) {
    if (newline == std::string::npos) {
      discarded_ += buffer_.size();
      buffer_.clear();
      return false;
    }
    out = {LineStatus::too_long, {}, discarded_ + newline};
    buffer_.erase(0, newline + 1);
    discarding_ = false;
    discarded_ = 0;
    return true;
  }
  if (newline == std::string::npos) {
    if (buffer_.size() > max_line_bytes_) {
      // No end in sight within the limit: drop what we have and the rest of the line.
      discarding_ = true;
      discarded_ = buffer_.size();
      buffer_.clear();
    }
    return false;
  }
  if (newline > max_line_bytes_) {
    out = {LineStatus::too_long, {}, newline};
    buffer_.erase(0, newline + 1);
    return true;
  }
  out = {LineStatus::line, buffer_.substr(0, newline), 0};
  if (!out.text.empty() && out.text.back() == '\r') out.text.pop_back();
  buffer_.erase(0, newline + 1);
  return true;
}

LineRead LineReader::next(std::chrono::milliseconds poll_interval) {
  LineRead out;
  if (take_buffered(out)) return out;
  if (eof_) {
    if (discarding_) {
      discarding_ = false;
      return {LineStatus::too_long, {}, discarded_};
    }
    if (!buffer_.empty()) {
      out = {LineStatus::line, std::move(buffer_), 0};
      buffer_.clear();
      return out;
    }
    return {LineStatus::end, {}, 0};
  }
  pollfd descriptor{fd_, POLLIN, 0};
  const int ready = ::poll(&descriptor, 1, static_cast<int>(poll_interval.count()));
  if (ready < 0) {
    if (errno == EINTR) return {LineStatus::idle, {}, 0};
    throw Error(ErrorCode::io, std::string("cannot wait for standard input: ") + std::strerror(errno));
  }
  if (ready == 0) return {LineStatus::idle, {}, 0};
  char chunk[kReadBytes];
  const ssize_t got = ::read(fd_, chunk, sizeof chunk);
  if (got < 0) {
    if (errno == EINTR || errno == EAGAIN) return {LineStatus::idle, {}, 0};
    throw Error(ErrorCode::io, std::string("cannot read standard input: ") + std::strerror(errno));
  }
  if (got == 0) {
    eof_ = true;
    return next(std::chrono::milliseconds{0});
  }
  buffer_.append(chunk, static_cast<std::size_t>(got));
  if (take_buffered(out)) return out;
  return {LineStatus::idle, {}, 0};
}

}  // namespace edgehdf5::cli::mcp
