#include "chunk_reader.hpp"

#include <vector>

#include "row_check.hpp"

namespace edgehdf5::migrate {
namespace {

// Rows handed to the builder at once, and between two progress reports.
constexpr std::size_t kBatchRows = 4096;

std::string order_by_id(const ResolvedTable& table) {
  // rowid breaks ties should `id` not be a key; positions must be the same in every query.
  return quote_identifier(table.columns[chunk_field::id]) + ", rowid";
}

std::string chunk_label(const SqliteStatement& row) {
  return row_label("memory_chunks", "id", row, chunk_field::id);
}

// The rows read but not yet given to the builder; the ids deleted ones got are recorded.
class PendingBatch {
 public:
  void add(MemoryEntry entry, bool deleted) {
    if (deleted) deleted_indexes_.push_back(entries_.size());
    entries_.push_back(std::move(entry));
  }
  std::size_t size() const noexcept { return entries_.size(); }

  void flush(MemoryFileBuilder* sink, std::vector<MemoryId>& deleted_ids) {
    if (sink != nullptr && !entries_.empty()) {
      const MemoryId first = sink->add_memories(entries_);
      for (const std::size_t index : deleted_indexes_) {
        deleted_ids.push_back(first + static_cast<MemoryId>(index));
      }
    }
    entries_.clear();
    deleted_indexes_.clear();
  }

 private:
  std::vector<MemoryEntry> entries_;
  std::vector<std::size_t> deleted_indexes_;
};

}  // namespace

DetectedDim detect_embedding_dim(SqliteDatabase& database, const ResolvedTable& table,
                                 bool skip_deleted) {
  SqliteStatement rows = database.prepare(table.select_sql(order_by_id(table)));
  DetectedDim detected;
  while (rows.step()) {
    detected.table_empty = false;
    try {
      if (skip_deleted && deleted_value(rows, chunk_field::deleted)) continue;
      detected.embedding_dim = embedding_blob(rows, chunk_field::embedding).size() / sizeof(float);
      detected.row = chunk_label(rows);
      break;
    } catch (const RowError&) {
      // Not this row: the reading pass reports it.
    }
  }
  return detected;
}

MemoryChunks read_memory_chunks(const ReadContext& context, const ResolvedTable& table,
                                std::size_t total_rows) {
  MigrationReport& report = context.report;
  const MigrationOptions& options = context.options;
  const std::string stage = "reading memory_chunks";
  SqliteStatement rows = context.database.prepare(table.select_sql(order_by_id(table)));
  MemoryChunks chunks;
  ChunkPositions& positions = chunks.positions;
  PendingBatch batch;
  const auto report_progress = [&] {
    if (context.observer) context.observer({stage, report.memory_chunks.read, total_rows});
  };
  report_progress();

  while (rows.step()) {
    MemoryEntry entry;
    bool deleted = false;
    const bool valid = check_row(
        report.memory_chunks, report.invalid_rows, [&] { return chunk_label(rows); },
        [&] {
          integer_value(rows, chunk_field::id, "id");
          deleted = deleted_value(rows, chunk_field::deleted);
          // A row the user leaves out is not checked further: its faults do not matter.
          if (deleted && options.skip_deleted) return;
          entry.chunk = text_value(rows, chunk_field::chunk, "chunk");
          decode_embedding(embedding_blob(rows, chunk_field::embedding), context.embedding_dim,
                           options.float16, entry.embedding);
          entry.source_channel = text_value(rows, chunk_field::source_channel, "source_channel");
          entry.timestamp = timestamp_value(rows, chunk_field::timestamp, "timestamp");
          entry.session_id = text_value(rows, chunk_field::session_id, "session_id");
          entry.tags = text_value(rows, chunk_field::tags, "tags");
        });
    if (!valid) {
      positions.add_left_out();
    } else if (deleted && options.skip_deleted) {
      positions.add_left_out();
      ++report.deleted_left_out;
    } else {
      positions.add_written();
      ++report.memory_chunks.written;
      if (deleted) ++report.tombstones;
      batch.add(std::move(entry), deleted);
    }
    if (report.memory_chunks.read % kBatchRows == 0) {
      batch.flush(context.sink(), chunks.deleted_ids);
      report_progress();
    }
  }
  batch.flush(context.sink(), chunks.deleted_ids);
  report_progress();
  return chunks;
}

}  // namespace edgehdf5::migrate
