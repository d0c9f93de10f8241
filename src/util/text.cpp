#include "util/text.hpp"

#include <chrono>
#include <cstdint>
#include <ctime>

#include "edgehdf5/error.hpp"

namespace edgehdf5::util {

std::uint32_t decode_utf8(std::string_view text, std::size_t& i) noexcept {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) {
    ++i;
    return lead;
  }
  std::size_t length;
  std::uint32_t code;
  if ((lead & 0xe0) == 0xc0) {
    length = 2;
    code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    code = lead & 0x07;
  } else {
    ++i;
    return kInvalidCodePoint;
  }
  if (text.size() - i < length) {
    ++i;
    return kInvalidCodePoint;
  }
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xc0) != 0x80) {
      ++i;
      return kInvalidCodePoint;
    }
    code = (code << 6) | (next & 0x3f);
  }
  static constexpr std::uint32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    ++i;
    return kInvalidCodePoint;
  }
  i += length;
  return code;
}

bool is_valid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {  // ASCII, the common case
      ++i;
    } else if (decode_utf8(text, i) == kInvalidCodePoint) {
      return false;
    }
  }
  return true;
}

void require_text(std::string_view text, const std::string& what) {
  if (text.find('\0') != std::string_view::npos) {
    throw Error(ErrorCode::invalid_argument, what + " contains a NUL byte");
  }
  if (!is_valid_utf8(text)) {
    throw Error(ErrorCode::invalid_argument, what + " is not valid UTF-8");
  }
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace edgehdf5::util
