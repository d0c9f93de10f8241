// Fuzz target: migration cell values (tools/migrate/cell_values.cpp), what edgehdf5-migrate
// makes of one SQLite value.
//
// The first byte picks the storage class SQLite hands over (integer, real, text, blob, NULL)
// and the embedding settings; the rest is the value. Every reader must return a value that
// obeys its contract or throw RowError, never crash: text is valid UTF-8 without NUL,
// timestamps and numbers are finite, a decoded embedding has the asked dimension and only
// finite values.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "cell_values.hpp"
#include "fuzz/fuzz_support.hpp"
#include "sqlite_database.hpp"
#include "util/text.hpp"

namespace {

using namespace edgehdf5;

// Each reader against its contract; RowError is the documented refusal.
void check_readers(const migrate::SqliteStatement& row) {
  try {
    const auto text = migrate::text_value(row, 0, "chunk");
    if (!util::is_plain_text(text)) fuzz::violated("text with NUL or bad UTF-8 accepted");
  } catch (const migrate::RowError&) {
  }
  try {
    if (migrate::nonempty_text_value(row, 0, "session_id").empty()) fuzz::violated("empty text");
  } catch (const migrate::RowError&) {
  }
  try {
    if (!std::isfinite(migrate::timestamp_value(row, 0, "timestamp"))) fuzz::violated("timestamp");
  } catch (const migrate::RowError&) {
  }
  try {
    if (!std::isfinite(migrate::number_value(row, 0, "weight"))) fuzz::violated("number");
  } catch (const migrate::RowError&) {
  }
  try {
    (void)migrate::integer_value(row, 0, "id");
  } catch (const migrate::RowError&) {
  }
  try {
    (void)migrate::optional_integer_value(row, 0, "embedding_id");
  } catch (const migrate::RowError&) {
  }
  try {
    (void)migrate::deleted_value(row, 0);  // refuses what is not NULL or an integer
  } catch (const migrate::RowError&) {
  }
}

void check_embedding(const migrate::SqliteStatement& row, std::size_t dimension, bool float16) {
  try {
    const auto blob = migrate::embedding_blob(row, 0);
    std::vector<float> values;
    migrate::decode_embedding(blob, dimension, float16, values);
    if (values.size() != dimension) fuzz::violated("embedding of the wrong dimension");
    for (const float value : values) {
      if (!std::isfinite(value)) fuzz::violated("non-finite embedding value");
    }
  } catch (const migrate::RowError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static auto database = migrate::SqliteDatabase::open_read_write(":memory:");
  static auto select_value = database.prepare("SELECT ?1");
  static auto select_null = database.prepare("SELECT NULL");
  const std::uint8_t choice = data[0];
  const auto* value = data + 1;
  const std::size_t value_size = size - 1;

  migrate::SqliteStatement& row = choice % 5 == 4 ? select_null : select_value;
  row.reset();
  switch (choice % 5) {
    case 0: {
      std::int64_t integer = 0;
      std::memcpy(&integer, value, std::min(value_size, sizeof integer));
      row.bind(1, integer);
      break;
    }
    case 1: {
      double real = 0.0;
      std::memcpy(&real, value, std::min(value_size, sizeof real));
      row.bind(1, real);
      break;
    }
    case 2:
      row.bind_text(1, fuzz::as_text(value, value_size));
      break;
    case 3:
      row.bind_blob(1, std::as_bytes(std::span(value, value_size)));
      break;
    default:
      break;  // NULL
  }
  if (!row.step()) fuzz::violated("SELECT returned no row");
  check_readers(row);
  check_embedding(row, 1 + (choice >> 4), (choice & 0x8) != 0);
  row.reset();
  return 0;
}
