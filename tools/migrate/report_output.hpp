#pragma once
// What edgehdf5-migrate prints about a run: a one-line summary, the statistics of
// --verbose, and lists of rows that could not be migrated.

#include <cstddef>
#include <ostream>
#include <span>

#include "migration.hpp"

namespace edgehdf5::migrate {

// "migrated 1000 memories (12 as tombstones), 3 sessions, ... from a.db to b.h5", or what a
// dry run would have done.
void print_summary(const MigrationReport& report, const MigrationOptions& options,
                   std::ostream& out);

// One line per table and the totals: rows read, written and left out, bytes, time, rows/s.
void print_statistics(const MigrationReport& report, const MigrationOptions& options,
                      std::ostream& out);

// "  memory_chunks id 17: embedding value 5 is NaN", one line per row, at most `limit`
// lines and then how many more there are.
void print_row_problems(std::span<const RowProblem> rows, std::size_t limit, std::ostream& out);

}  // namespace edgehdf5::migrate
