#pragma once
// Checks on the text the store accepts: HDF5 strings are C strings read back as UTF-8 by
// h5py, so text must be valid UTF-8 without NUL bytes.

#include <string>
#include <string_view>

namespace edgehdf5::util {

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
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
