#pragma once
// edgehdf5-migrate's engine: brings an SQLite agent memory (the tables memory_chunks,
// sessions, entities, relations of the reference README) into a new edgehdf5 memory file,
// losing nothing. The command-line tool parses flags into MigrationOptions and prints the
// MigrationReport; edgehdf5-bench's `migrate` workload times the same call.
//
// What a migration guarantees:
// - Every field of every row arrives unchanged (text byte for byte, float32 embeddings bit
//   for bit, timestamps as doubles, entity ids as they were), or the row is reported.
// - A row that cannot be taken as it is (embedding of the wrong length, NULL, NaN or Inf;
//   a timestamp that is NULL or not a number; text that is not UTF-8; a reference to a
//   chunk or entity that does not exist...) is reported with its table and id. Unless
//   skip_invalid is set, one such row fails the whole run and nothing is written.
// - The output is written to a temporary file beside it, fsynced and renamed into place:
//   the output path holds either what was there before or the complete new file.
//
// Thread safety: migrate() may run on several threads at once for different outputs.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/error.hpp"

namespace edgehdf5::migrate {

struct MigrationOptions {
  std::filesystem::path sqlite_path;
  std::filesystem::path hdf5_path;
  std::string agent_id = "migrated";
  std::string embedder = "unknown";
  // nullopt: taken from the first embedding that is a whole number of float32 values.
  std::optional<std::size_t> embedding_dim;
  bool skip_deleted = false;  // leave out rows with deleted != 0 (else: kept as tombstones)
  bool skip_invalid = false;  // leave out (and report) rows that cannot be migrated
  bool float16 = false;
  bool compression = false;
  int compression_level = 4;       // 1..9, used with compression
  double compact_threshold = 0.3;  // written to the file; see MemoryConfig
  bool dry_run = false;            // read and check everything, write nothing
  bool force = false;              // replace an existing output file
};

// One row that could not be migrated.
struct RowProblem {
  std::string row;     // "memory_chunks id 17", "sessions row 3 ('s-1')", ...
  std::string reason;  // "embedding value 5 is NaN"
};

// What one table contributed.
struct TableCounts {
  bool present = false;  // optional tables may be absent
  std::size_t read = 0;
  std::size_t written = 0;
  std::size_t invalid = 0;  // rows that could not be migrated
};

struct MigrationReport {
  TableCounts memory_chunks;
  TableCounts sessions;
  TableCounts entities;
  TableCounts relations;
  std::size_t tombstones = 0;         // deleted rows written as tombstones
  std::size_t deleted_left_out = 0;   // deleted rows left out (skip_deleted)
  std::size_t entities_unlinked = 0;  // entities whose chunk was left out: now without one
  std::size_t embedding_dim = 0;
  std::optional<std::string> dim_detected_from;  // "memory_chunks id 1" when detected
  std::vector<RowProblem> invalid_rows;          // left out (only with skip_invalid)
  bool written = false;                          // false for a dry run
  std::uintmax_t input_bytes = 0;                // size of the SQLite database
  std::uintmax_t output_bytes = 0;               // size of the memory file written
  double seconds = 0.0;
};

// Thrown when rows cannot be migrated and skip_invalid is off: nothing was written.
class InvalidRowsError : public Error {
 public:
  explicit InvalidRowsError(std::vector<RowProblem> rows);
  const std::vector<RowProblem>& rows() const noexcept { return rows_; }

 private:
  std::vector<RowProblem> rows_;
};

// How far a migration is: `done` of `total` units in the named stage ("reading
// memory_chunks", "writing <file>"); total 0 when unknown.
struct Progress {
  std::string_view stage;
  std::size_t done = 0;
  std::size_t total = 0;
};
using ProgressObserver = std::function<void(const Progress&)>;

// Runs a migration. Throws InvalidRowsError (see above), Error(schema) when a required table
// or column is missing, Error(io) when a file cannot be read or written or the output
// exists without `force`, Error(invalid_argument) for bad options. `observer`, when set, is
// called on the calling thread every few thousand rows and at each stage.
MigrationReport migrate(const MigrationOptions& options, const ProgressObserver& observer = {});

}  // namespace edgehdf5::migrate
