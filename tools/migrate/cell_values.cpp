#include "cell_values.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"
#include "edgehdf5/memory_file_builder.hpp"

namespace edgehdf5::migrate {
namespace {

std::string_view type_name(SqliteType type) {
  switch (type) {
    case SqliteType::integer: return "an integer";
    case SqliteType::real: return "a real";
    case SqliteType::text: return "text";
    case SqliteType::blob: return "a BLOB";
    case SqliteType::null: return "NULL";
  }
  return "unknown";
}

[[noreturn]] void refuse(std::string_view field, const std::string& why) {
  throw RowError(std::string(field) + " " + why);
}

[[noreturn]] void refuse_type(std::string_view field, SqliteType type, std::string_view wanted) {
  refuse(field, "is " + std::string(type_name(type)) + ", not " + std::string(wanted));
}

std::string number_text(double value) {
  char text[32];
  const auto written = std::to_chars(std::begin(text), std::end(text), value);
  return {std::begin(text), written.ptr};
}

double finite(double value, std::string_view field) {
  if (!std::isfinite(value)) refuse(field, "is not finite (" + number_text(value) + ")");
  return value;
}

}  // namespace

std::string text_value(const SqliteStatement& row, int column, std::string_view field) {
  if (row.type(column) == SqliteType::null) return {};
  const std::string_view text = row.bytes(column);
  try {
    MemoryFileBuilder::check_text(text, field);  // the store's own rule for text
  } catch (const Error& error) {
    throw RowError(error.what());
  }
  return std::string(text);
}

std::string nonempty_text_value(const SqliteStatement& row, int column, std::string_view field) {
  std::string text = text_value(row, column, field);
  if (text.empty()) refuse(field, "is empty");
  return text;
}

double timestamp_value(const SqliteStatement& row, int column, std::string_view field) {
  const SqliteType type = row.type(column);
  if (type == SqliteType::integer || type == SqliteType::real)
    return finite(row.real(column), field);
  if (type != SqliteType::text) refuse_type(field, type, "a number");
  // Text in a REAL column is what SQLite could not read as a number itself; we accept a
  // plain decimal number and nothing else (no dates: their time zone would be a guess).
  const std::string_view text = row.bytes(column);
  double value = 0.0;
  const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
  if (parsed.ec != std::errc{} || parsed.ptr != text.data() + text.size()) {
    refuse(field, "is text that is not a number ('" + std::string(text.substr(0, 40)) + "')");
  }
  return finite(value, field);
}

double number_value(const SqliteStatement& row, int column, std::string_view field) {
  const SqliteType type = row.type(column);
  if (type != SqliteType::integer && type != SqliteType::real) refuse_type(field, type, "a number");
  return finite(row.real(column), field);
}

std::int64_t integer_value(const SqliteStatement& row, int column, std::string_view field) {
  const SqliteType type = row.type(column);
  if (type != SqliteType::integer) refuse_type(field, type, "an integer");
  return row.integer(column);
}

std::optional<std::int64_t> optional_integer_value(const SqliteStatement& row, int column,
                                                   std::string_view field) {
  if (row.type(column) == SqliteType::null) return std::nullopt;
  return integer_value(row, column, field);
}

bool deleted_value(const SqliteStatement& row, int column) {
  const std::optional<std::int64_t> deleted = optional_integer_value(row, column, "deleted");
  return deleted.value_or(0) != 0;
}

std::string_view embedding_blob(const SqliteStatement& row, int column) {
  const SqliteType type = row.type(column);
  if (type != SqliteType::blob) refuse_type("embedding", type, "a BLOB of float32 values");
  const std::string_view blob = row.bytes(column);
  if (blob.empty()) refuse("embedding", "is an empty BLOB");
  if (blob.size() % sizeof(float) != 0) {
    refuse("embedding", "has " + std::to_string(blob.size()) +
                            " bytes, which is not a whole number of float32 values");
  }
  return blob;
}

void decode_embedding(std::string_view blob, std::size_t embedding_dim, bool float16,
                      std::vector<float>& values) {
  if (blob.size() != embedding_dim * sizeof(float)) {
    refuse("embedding", "has " + std::to_string(blob.size()) + " bytes, not " +
                            std::to_string(embedding_dim * sizeof(float)) + " (" +
                            std::to_string(embedding_dim) + " float32 values)");
  }
  values.resize(embedding_dim);
  std::memcpy(values.data(), blob.data(), blob.size());
  if constexpr (std::endian::native == std::endian::big) {
    for (float& value : values) {
      const auto bits = std::bit_cast<std::uint32_t>(value);
      value = std::bit_cast<float>((bits >> 24) | ((bits >> 8) & 0xff00u) |
                                   ((bits << 8) & 0xff0000u) | (bits << 24));
    }
  }
  const float limit = float16 ? kHalfMax : std::numeric_limits<float>::max();
  // One pass without early exit (the compiler vectorises it); the slow search for the value
  // at fault runs only for a row that has one.
  bool all_in_range = true;
  for (const float value : values) all_in_range &= std::fabs(value) <= limit;  // NaN: false
  if (all_in_range) return;
  for (std::size_t i = 0; i < embedding_dim; ++i) {
    const float value = values[i];
    if (std::fabs(value) <= limit) continue;
    const std::string which = "value " + std::to_string(i);
    if (std::isnan(value)) refuse("embedding", which + " is NaN");
    if (std::isinf(value)) refuse("embedding", which + " is infinite");
    refuse("embedding", which + " (" + number_text(value) + ") is outside the float16 range");
  }
}

}  // namespace edgehdf5::migrate
