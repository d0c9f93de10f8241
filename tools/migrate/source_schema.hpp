#pragma once
// The tables and columns edgehdf5-migrate reads, and how they are found in a database.
//
// The column names are those of the reference README. Databases written by the original
// tool name two columns differently (entities.type, relations.timestamp): each field lists
// the names it accepts, first match wins. SQLite compares identifiers without regard to
// ASCII case, and so do we.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlite_database.hpp"

namespace edgehdf5::migrate {

struct FieldSpec {
  std::vector<std::string_view> accepted_names;  // the first is the reference name
};

struct TableSpec {
  std::string_view name;
  bool required = false;
  std::vector<FieldSpec> fields;
};

// The tables, and the index of each field in ResolvedTable::columns (and so in the result
// of select_sql): the fields are listed in this order in source_schema.cpp.
namespace chunk_field {
enum : int { id, chunk, embedding, source_channel, timestamp, session_id, tags, deleted };
}
const TableSpec& memory_chunks_table();

namespace session_field {
enum : int { id, start_idx, end_idx, channel, timestamp, summary };
}
const TableSpec& sessions_table();

namespace entity_field {
enum : int { id, name, type, embedding_idx };  // type: entity_type, or type (original tool)
}
const TableSpec& entities_table();

namespace relation_field {
enum : int { src, tgt, relation, weight, ts };  // ts: ts, or timestamp (original tool)
}
const TableSpec& relations_table();

// A table found in the database: the actual name of each field's column, in field order.
struct ResolvedTable {
  std::string name;
  std::vector<std::string> columns;

  // "SELECT <columns>, rowid FROM <table> ORDER BY <order_by>", identifiers quoted: field i
  // is result column i, and the rowid (to name rows of tables without an integer key) is
  // result column columns.size().
  std::string select_sql(std::string_view order_by) const;
  int rowid_column() const noexcept { return static_cast<int>(columns.size()); }
};

// Finds `spec` in `database`. An absent optional table gives nullopt; an absent required
// table, or an absent column of a present table, throws Error(schema) naming the table, the
// column names accepted and the columns the table has.
std::optional<ResolvedTable> resolve_table(SqliteDatabase& database, const TableSpec& spec);

}  // namespace edgehdf5::migrate
