// The tokenizer shared by indexing and querying (see bm25.hpp for the rules).
//
// Written by hand: a full Unicode word breaker (ICU) is a large dependency for what keyword
// search over agent notes needs, and SQLite's own unicode61 tokenizer, which our ranking is
// checked against, is a similar small table of separators and case folds. The tables here
// cover the scripts agents mostly write in; other characters are word characters as is.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/bm25.hpp"
#include "util/text.hpp"

namespace edgehdf5 {
namespace {

constexpr std::uint32_t kInvalid = util::kInvalidCodePoint;

void encode(std::uint32_t code, std::string& out) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
  }
}

// Latin-1's letters and numbers among its punctuation and symbols (0x80-0xbf): ª µ º, and
// the superscripts ² ³ ¹ and fractions ¼ ½ ¾ (Unicode "No", word characters to FTS5 too).
bool is_latin1_word_character(std::uint32_t code) {
  switch (code) {
    case 0xaa: case 0xb5: case 0xba: case 0xb2: case 0xb3: case 0xb9: case 0xbc: case 0xbd:
    case 0xbe:
      return true;
    default:
      return false;
  }
}

// Spaces, punctuation and symbols of the common blocks separate terms.
bool is_separator(std::uint32_t code) {
  if (code < 0x80) {
    return !((code >= '0' && code <= '9') || (code >= 'a' && code <= 'z') ||
             (code >= 'A' && code <= 'Z'));
  }
  return (code >= 0x80 && code <= 0xbf && !is_latin1_word_character(code)) ||  // punctuation, symbols
         code == 0xd7 ||
         code == 0xf7 ||                        // × ÷
         (code >= 0x2000 && code <= 0x206f) ||  // general punctuation: dashes, quotes, …
         (code >= 0x20a0 && code <= 0x20cf) ||  // currency symbols
         (code >= 0x2190 && code <= 0x23ff) ||  // arrows, mathematical and technical symbols
         (code >= 0x2500 && code <= 0x27bf) ||  // box drawing, shapes, dingbats
         (code >= 0x3000 && code <= 0x303f) ||  // CJK symbols and punctuation
         (code >= 0xfe30 && code <= 0xfe4f) ||  // CJK compatibility forms
         (code >= 0xff00 && code <= 0xff0f) ||
         (code >= 0xff1a && code <= 0xff20) ||    // full-width punctuation
         (code >= 0x1f000 && code <= 0x1faff) ||  // emoji and pictographs
         code == kInvalid;
}

std::uint32_t fold_case(std::uint32_t code) {
  if (code >= 'A' && code <= 'Z') return code + 32;
  if (code < 0xc0) return code;
  if (code <= 0xde && code != 0xd7) return code + 32;  // Latin-1: À..Þ
  if (code >= 0x100 && code <= 0x17f) {                // Latin Extended-A: upper/lower pairs
    if (code == 0x178) return 0xff;                    // Ÿ -> ÿ
    if (code == 0x130 || code == 0x131 || code == 0x138 || code == 0x149 || code == 0x17f) {
      return code;  // İ ı ĸ ŉ ſ have no partner in this block
    }
    const bool odd_is_upper = (code >= 0x139 && code <= 0x148) || (code >= 0x179 && code <= 0x17e);
    const bool upper = odd_is_upper ? code % 2 == 1 : code % 2 == 0;
    return upper ? code + 1 : code;
  }
  if (code >= 0x391 && code <= 0x3ab && code != 0x3a2) return code + 32;  // Greek Α..Ϋ
  if (code >= 0x410 && code <= 0x42f) return code + 32;                   // Cyrillic А..Я
  if (code >= 0x400 && code <= 0x40f) return code + 80;                   // Cyrillic Ѐ..Џ
  return code;
}

}  // namespace

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> terms;
  std::string current;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {  // the fast path for ASCII
      ++i;
      if ((byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9')) {
        current.push_back(static_cast<char>(byte));
      } else if (byte >= 'A' && byte <= 'Z') {
        current.push_back(static_cast<char>(byte + 32));
      } else if (!current.empty()) {
        terms.push_back(std::move(current));
        current.clear();
      }
      continue;
    }
    const std::uint32_t code = util::decode_utf8(text, i);
    if (is_separator(code)) {
      if (!current.empty()) {
        terms.push_back(std::move(current));
        current.clear();
      }
    } else {
      encode(fold_case(code), current);
    }
  }
  if (!current.empty()) terms.push_back(std::move(current));
  return terms;
}

}  // namespace edgehdf5
