#pragma once
// Little-endian encoding of log record payloads. The log is only ever read by the machine
// family that wrote it in practice, but a fixed byte order keeps a log file portable.

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "edgehdf5/error.hpp"

namespace edgehdf5::store {

static_assert(std::endian::native == std::endian::little,
              "the log codec copies little-endian values as they are");

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  template <typename T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put_string(std::string_view text) {
    put(static_cast<std::uint32_t>(text.size()));
    out_.append(text);
  }
  template <typename T>
  void put_array(std::span<const T> values) {
    out_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  }

 private:
  std::string& out_;
};

// Reads what ByteWriter wrote; running past the end throws Error(corruption), which can only
// happen when a record that passed its checksum is malformed (a bug or a foreign file).
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, take(sizeof value), sizeof value);
    return value;
  }
  std::string get_string() {
    const auto size = get<std::uint32_t>();
    return std::string(take(size), size);
  }
  template <typename T>
  void get_array(std::span<T> out) {
    std::memcpy(out.data(), take(out.size_bytes()), out.size_bytes());
  }
  bool done() const noexcept { return position_ == in_.size(); }
  std::size_t remaining() const noexcept { return in_.size() - position_; }

 private:
  const char* take(std::size_t size) {
    if (size > in_.size() - position_) {
      throw Error(ErrorCode::corruption, "log record is shorter than its contents");
    }
    const char* at = in_.data() + position_;
    position_ += size;
    return at;
  }
  std::string_view in_;
  std::size_t position_ = 0;
};

}  // namespace edgehdf5::store
