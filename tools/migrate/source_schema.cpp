#include "source_schema.hpp"

#include <algorithm>

#include "edgehdf5/error.hpp"

namespace edgehdf5::migrate {
namespace {

bool same_identifier(std::string_view a, std::string_view b) {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::string join(const auto& names, std::string_view separator) {
  std::string joined;
  for (const auto& name : names) {
    if (!joined.empty()) joined += separator;
    joined += name;
  }
  return joined;
}

}  // namespace

const TableSpec& memory_chunks_table() {
  static const TableSpec spec{"memory_chunks",
                              true,
                              {{{"id"}},
                               {{"chunk"}},
                               {{"embedding"}},
                               {{"source_channel"}},
                               {{"timestamp"}},
                               {{"session_id"}},
                               {{"tags"}},
                               {{"deleted"}}}};
  return spec;
}

const TableSpec& sessions_table() {
  static const TableSpec spec{
      "sessions",
      false,
      {{{"id"}}, {{"start_idx"}}, {{"end_idx"}}, {{"channel"}}, {{"timestamp"}}, {{"summary"}}}};
  return spec;
}

const TableSpec& entities_table() {
  static const TableSpec spec{
      "entities", false, {{{"id"}}, {{"name"}}, {{"entity_type", "type"}}, {{"embedding_idx"}}}};
  return spec;
}

const TableSpec& relations_table() {
  static const TableSpec spec{
      "relations",
      false,
      {{{"src"}}, {{"tgt"}}, {{"relation"}}, {{"weight"}}, {{"ts", "timestamp"}}}};
  return spec;
}

std::string ResolvedTable::select_sql(std::string_view order_by) const {
  std::vector<std::string> selected;
  for (const std::string& column : columns) selected.push_back(quote_identifier(column));
  selected.emplace_back("rowid");
  return "SELECT " + join(selected, ", ") + " FROM " + quote_identifier(name) + " ORDER BY " +
         std::string(order_by);
}

std::optional<ResolvedTable> resolve_table(SqliteDatabase& database, const TableSpec& spec) {
  const std::string where = "SQLite database " + database.path().string();
  if (!database.has_table(spec.name)) {
    if (!spec.required) return std::nullopt;
    throw Error(ErrorCode::schema, where + " has no table " + std::string(spec.name) +
                                       " (the table of memories, which a migration needs)");
  }
  const std::vector<std::string> present = database.column_names(spec.name);
  ResolvedTable table{std::string(spec.name), {}};
  for (const FieldSpec& field : spec.fields) {
    // By preference: a table with both names gets the reference one.
    std::optional<std::string> found;
    for (const std::string_view name : field.accepted_names) {
      const auto column = std::find_if(present.begin(), present.end(), [&](const std::string& c) {
        return same_identifier(c, name);
      });
      if (column != present.end()) {
        found = *column;
        break;
      }
    }
    if (!found) {
      throw Error(ErrorCode::schema, where + ": table " + std::string(spec.name) +
                                         " has no column " + join(field.accepted_names, " or ") +
                                         " (its columns: " + join(present, ", ") + ")");
    }
    table.columns.push_back(std::move(*found));
  }
  return table;
}

}  // namespace edgehdf5::migrate
