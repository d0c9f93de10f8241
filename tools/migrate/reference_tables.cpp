#include "reference_tables.hpp"

#include <cmath>
#include <limits>
#include <unordered_set>

#include "row_check.hpp"

namespace edgehdf5::migrate {
namespace {

std::string positions_text(const ChunkPositions& positions) {
  return "memory_chunks has " + std::to_string(positions.positions()) + " rows";
}

// A position in memory_chunks, 0 <= position <= rows (the end of a half-open range may be
// one past the last row).
std::size_t position_value(const SqliteStatement& row, int column, std::string_view field,
                           const ChunkPositions& positions, bool end_allowed) {
  const std::int64_t value = integer_value(row, column, field);
  const auto limit = static_cast<std::int64_t>(positions.positions());
  if (value < 0 || value > limit || (value == limit && !end_allowed)) {
    throw RowError(std::string(field) + " " + std::to_string(value) +
                   " is not a position in memory_chunks (" + positions_text(positions) + ")");
  }
  return static_cast<std::size_t>(value);
}

void read_entities(const ReadContext& context, const ResolvedTable& table,
                   const ChunkPositions& positions, std::unordered_set<EntityId>& migrated) {
  MigrationReport& report = context.report;
  SqliteStatement rows = context.database.prepare(
      table.select_sql(quote_identifier(table.columns[entity_field::id]) + ", rowid"));
  std::unordered_set<EntityId> seen;
  while (rows.step()) {
    Entity entity;
    bool unlinked = false;
    const bool valid = check_row(
        report.entities, report.invalid_rows,
        [&] { return row_label("entities", "id", rows, entity_field::id); },
        [&] {
          entity.id = integer_value(rows, entity_field::id, "id");
          if (!seen.insert(entity.id).second) throw RowError("id is used by an earlier row too");
          entity.name = nonempty_text_value(rows, entity_field::name, "name");
          entity.type = text_value(rows, entity_field::type, table.columns[entity_field::type]);
          const std::optional<std::int64_t> index =
              optional_integer_value(rows, entity_field::embedding_idx, "embedding_idx");
          entity.embedding_id = -1;
          if (!index || *index == -1) return;
          const std::size_t position =
              position_value(rows, entity_field::embedding_idx, "embedding_idx", positions, false);
          const std::optional<MemoryId> memory = positions.memory_at(position);
          entity.embedding_id = memory.value_or(-1);
          unlinked = !memory;
        });
    if (!valid) continue;
    migrated.insert(entity.id);
    ++report.entities.written;
    if (unlinked) ++report.entities_unlinked;
    if (MemoryFileBuilder* sink = context.sink()) sink->add_entity(entity);
  }
}

void read_relations(const ReadContext& context, const ResolvedTable& table,
                    const std::unordered_set<EntityId>& entities) {
  MigrationReport& report = context.report;
  SqliteStatement rows = context.database.prepare(table.select_sql("rowid"));
  const auto entity_value = [&](int column, std::string_view field) {
    const EntityId id = integer_value(rows, column, field);
    if (!entities.contains(id)) {
      throw RowError(std::string(field) + " " + std::to_string(id) +
                     " is not the id of a migrated entity");
    }
    return id;
  };
  while (rows.step()) {
    Relation relation;
    const bool valid = check_row(
        report.relations, report.invalid_rows,
        [&] { return row_label("relations", "rowid", rows, table.rowid_column()); },
        [&] {
          relation.source = entity_value(relation_field::src, "src");
          relation.target = entity_value(relation_field::tgt, "tgt");
          relation.type = text_value(rows, relation_field::relation, "relation");
          const double weight = number_value(rows, relation_field::weight, "weight");
          if (std::abs(weight) > std::numeric_limits<float>::max()) {
            throw RowError("weight " + std::to_string(weight) + " does not fit a float32");
          }
          relation.weight = static_cast<float>(weight);
          relation.timestamp =
              timestamp_value(rows, relation_field::ts, table.columns[relation_field::ts]);
        });
    if (!valid) continue;
    ++report.relations.written;
    if (MemoryFileBuilder* sink = context.sink()) sink->add_relation(relation);
  }
}

}  // namespace

void read_sessions(const ReadContext& context, const ResolvedTable& table,
                   const ChunkPositions& positions) {
  MigrationReport& report = context.report;
  SqliteStatement rows = context.database.prepare(table.select_sql("rowid"));
  while (rows.step()) {
    Session session;
    const bool valid = check_row(
        report.sessions, report.invalid_rows,
        [&] { return row_label("sessions", "rowid", rows, table.rowid_column()); },
        [&] {
          session.id = nonempty_text_value(rows, session_field::id, "id");
          const std::size_t start =
              position_value(rows, session_field::start_idx, "start_idx", positions, true);
          const std::size_t end =
              position_value(rows, session_field::end_idx, "end_idx", positions, true);
          if (end < start) {
            throw RowError("end_idx " + std::to_string(end) + " is before start_idx " +
                           std::to_string(start));
          }
          session.start_id = positions.first_id_from(start);
          session.end_id = positions.first_id_from(end);
          session.channel = text_value(rows, session_field::channel, "channel");
          session.timestamp = timestamp_value(rows, session_field::timestamp, "timestamp");
          session.summary = text_value(rows, session_field::summary, "summary");
        });
    if (!valid) continue;
    ++report.sessions.written;
    if (MemoryFileBuilder* sink = context.sink()) sink->add_session(session);
  }
}

void read_knowledge_graph(const ReadContext& context, const std::optional<ResolvedTable>& entities,
                          const std::optional<ResolvedTable>& relations,
                          const ChunkPositions& positions) {
  std::unordered_set<EntityId> migrated;
  if (entities) read_entities(context, *entities, positions, migrated);
  if (relations) read_relations(context, *relations, migrated);
}

}  // namespace edgehdf5::migrate
