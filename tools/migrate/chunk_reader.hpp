#pragma once
// memory_chunks -> /memory: every row checked, the rows to migrate saved in id order (in
// batches, so the source's rows are never all held twice), deleted rows recorded to be
// tombstoned or left out, and the position -> id mapping recorded for the tables that refer
// to chunks.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "edgehdf5/entry.hpp"

#include "chunk_positions.hpp"
#include "read_context.hpp"
#include "source_schema.hpp"

namespace edgehdf5::migrate {

struct DetectedDim {
  std::optional<std::size_t> embedding_dim;  // nullopt when no row has a usable embedding
  std::string row;                           // the row it was taken from, "memory_chunks id 1"
  bool table_empty = true;
};

// The dimension of the first embedding, in id order, that is a BLOB holding a whole number
// of float32 values (rows left out by skip_deleted do not count).
DetectedDim detect_embedding_dim(SqliteDatabase& database, const ResolvedTable& table,
                                 bool skip_deleted);

// What reading memory_chunks gives the rest of the migration.
struct MemoryChunks {
  ChunkPositions positions;
  // The ids of the deleted rows saved into context.sink(), for the caller to tombstone once
  // the tables that may refer to them are read.
  std::vector<MemoryId> deleted_ids;
};

// Reads every row of memory_chunks into context.sink(). `total_rows` is for progress only.
MemoryChunks read_memory_chunks(const ReadContext& context, const ResolvedTable& table,
                                std::size_t total_rows);

}  // namespace edgehdf5::migrate
