#pragma once
// Reading one SQLite value as the type a memory file needs, refusing what does not fit.
//
// SQLite stores any type in any column, so every value is checked: a refusal throws
// RowError with a reason that names the field ("timestamp is NULL"); the table readers add
// the row's id and record it. Nothing is ever truncated, padded or guessed.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sqlite_database.hpp"

namespace edgehdf5::migrate {

// Why one value (and so its row) cannot be migrated.
class RowError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Text as stored; NULL reads as "" (a memory file has no NULL). Numbers read as SQLite
// prints them. Refuses text that is not valid UTF-8 or holds a NUL byte, which HDF5 strings
// cannot carry (the store refuses them for the same reason).
std::string text_value(const SqliteStatement& row, int column, std::string_view field);
// As text_value, and refuses "" too (session ids and entity names must not be empty).
std::string nonempty_text_value(const SqliteStatement& row, int column, std::string_view field);

// Seconds since the epoch: an integer, a real, or text that is a whole decimal number
// ("1718000000.5"). NULL, other text, blobs and non-finite values are refused.
double timestamp_value(const SqliteStatement& row, int column, std::string_view field);

// A finite number (integer or real); NULL and everything else refused.
double number_value(const SqliteStatement& row, int column, std::string_view field);

// An integer; NULL and everything else refused.
std::int64_t integer_value(const SqliteStatement& row, int column, std::string_view field);
// An integer, or nullopt for NULL.
std::optional<std::int64_t> optional_integer_value(const SqliteStatement& row, int column,
                                                   std::string_view field);

// The deleted flag: NULL or 0 is false, any other integer true.
bool deleted_value(const SqliteStatement& row, int column);

// The bytes of an embedding blob; NULL, text and numbers are refused, as is an empty blob
// or one whose length is not a multiple of 4.
std::string_view embedding_blob(const SqliteStatement& row, int column);

// Decodes little-endian float32 values into `values` (resized to `embedding_dim`). Refuses a
// blob whose length is not 4 * embedding_dim, NaN and infinities, and with `float16` values
// beyond the half range (they would become infinite).
void decode_embedding(std::string_view blob, std::size_t embedding_dim, bool float16,
                      std::vector<float>& values);

}  // namespace edgehdf5::migrate
