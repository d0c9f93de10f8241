#pragma once
// What every table reader works with: the source, the options, where accepted rows go and
// where counts and problems are recorded.

#include "edgehdf5/memory_file_builder.hpp"
#include "migration.hpp"
#include "sqlite_database.hpp"

namespace edgehdf5::migrate {

struct ReadContext {
  SqliteDatabase& database;
  const MigrationOptions& options;
  std::size_t embedding_dim = 0;
  MemoryFileBuilder* builder = nullptr;  // null for a dry run
  MigrationReport& report;
  const ProgressObserver& observer;

  // Where accepted rows go: nowhere on a dry run, nor once a bad row means the run will
  // fail (then only checking goes on, to report every bad row).
  MemoryFileBuilder* sink() const noexcept {
    return options.skip_invalid || report.invalid_rows.empty() ? builder : nullptr;
  }
};

}  // namespace edgehdf5::migrate
