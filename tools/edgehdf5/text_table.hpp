#pragma once
// Human-readable output for the CLI: aligned columns and one-line previews of text.
// Widths are counted in UTF-8 code points, which lines up Latin, Greek, Cyrillic... text
// (wide CJK characters and emoji still take two terminal cells; good enough for a preview).

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace edgehdf5::cli {

enum class Align { left, right };

struct Column {
  std::string header;
  Align align = Align::left;
};

class TextTable {
 public:
  explicit TextTable(std::vector<Column> columns);

  // REQUIRES: cells.size() equals the number of columns.
  void add_row(std::vector<std::string> cells);
  // Writes the header and the rows, columns separated by two spaces, no trailing blanks.
  void print(std::ostream& out) const;

 private:
  void print_row(std::ostream& out, const std::vector<std::string>& cells) const;

  std::vector<Column> columns_;
  std::vector<std::size_t> widths_;
  std::vector<std::vector<std::string>> rows_;
};

// Number of code points in a UTF-8 string.
std::size_t display_width(std::string_view text);

// `text` on one line (newlines and tabs become spaces) and at most `max_width` code points
// long, ending in "..." when cut. Never splits a multi-byte character.
std::string one_line_preview(std::string_view text, std::size_t max_width);

// "512 B", "3.2 MiB": a byte count in binary units, one decimal above bytes.
std::string human_bytes(std::uint64_t bytes);

// "1 memory", "3 memories": a count with the right form of its noun.
std::string counted(std::size_t count, std::string_view singular, std::string_view plural);

}  // namespace edgehdf5::cli
