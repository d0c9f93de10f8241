#include "row_check.hpp"

namespace edgehdf5::migrate {

std::string row_label(std::string_view table, std::string_view key, const SqliteStatement& row,
                      int key_column) {
  std::string label = std::string(table) + " " + std::string(key) + " ";
  switch (row.type(key_column)) {
    case SqliteType::integer: return label + std::to_string(row.integer(key_column));
    case SqliteType::null: return label + "NULL";
    case SqliteType::blob: return label + "(a BLOB)";
    default: return label + "'" + std::string(row.bytes(key_column).substr(0, 60)) + "'";
  }
}

}  // namespace edgehdf5::migrate
