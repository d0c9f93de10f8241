#pragma once
// Checks on the text the store accepts: HDF5 strings are C strings read back as UTF-8 by
// h5py, so text must be valid UTF-8 without NUL bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgehdf5::util {

inline constexpr std::uint32_t kInvalidCodePoint = 0xffffffff;

// Decodes the UTF-8 character at text[i] and advances i past it. A malformed sequence
// (overlong, surrogate, beyond U+10FFFF, truncated) gives kInvalidCodePoint and advances
// one byte. REQUIRES: i < text.size().
std::uint32_t decode_utf8(std::string_view text, std::size_t& i) noexcept;

// True when `text` is well-formed UTF-8.
bool is_valid_utf8(std::string_view text) noexcept;

// Valid UTF-8 without NUL bytes: what require_text accepts.
inline bool is_plain_text(std::string_view text) noexcept {
  return text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

// Throws Error(invalid_argument) "<what> is not valid UTF-8" / "<what> contains a NUL byte".
void require_text(std::string_view text, const std::string& what);

// The current time as seconds since the Unix epoch, and as ISO-8601 UTC.
double now_seconds();
std::string now_iso8601();

}  // namespace edgehdf5::util
