#include "text_table.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <iterator>
#include <utility>

namespace edgehdf5::cli {
namespace {

// A UTF-8 continuation byte (10xxxxxx) never starts a code point.
bool starts_code_point(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; }

}  // namespace

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {
  widths_.reserve(columns_.size());
  for (const auto& column : columns_) widths_.push_back(display_width(column.header));
}

void TextTable::add_row(std::vector<std::string> cells) {
  assert(cells.size() == columns_.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    widths_[i] = std::max(widths_[i], display_width(cells[i]));
  }
  rows_.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out) const {
  std::vector<std::string> headers;
  headers.reserve(columns_.size());
  for (const auto& column : columns_) headers.push_back(column.header);
  print_row(out, headers);
  for (const auto& row : rows_) print_row(out, row);
}

void TextTable::print_row(std::ostream& out, const std::vector<std::string>& cells) const {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const std::string padding(widths_[i] - display_width(cells[i]), ' ');
    if (i > 0) line += "  ";
    if (columns_[i].align == Align::right) {
      line += padding + cells[i];
    } else {
      line += cells[i] + padding;
    }
  }
  line.erase(line.find_last_not_of(' ') + 1);
  out << line << '\n';
}

std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), starts_code_point));
}

std::string one_line_preview(std::string_view text, std::size_t max_width) {
  static constexpr std::string_view kEllipsis = "...";
  std::string line(text);
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (display_width(line) <= max_width) return line;

  const std::size_t keep = max_width > kEllipsis.size() ? max_width - kEllipsis.size() : 0;
  std::size_t code_points = 0;
  std::size_t cut = 0;
  for (; cut < line.size(); ++cut) {
    if (starts_code_point(line[cut]) && code_points++ == keep) break;
  }
  line.resize(cut);
  return line + std::string(kEllipsis);
}

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  if (unit == 0) return std::to_string(bytes) + " B";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

std::string counted(std::size_t count, std::string_view singular, std::string_view plural) {
  return std::to_string(count) + " " + std::string(count == 1 ? singular : plural);
}

}  // namespace edgehdf5::cli
