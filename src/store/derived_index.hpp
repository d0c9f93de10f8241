#pragma once
// Data a store derives from its memories and keeps current with them: the keyword index,
// the IVF-PQ index (and the device copy of a GPU backend). The store's mutating calls read
// validate -> commit -> notify: a change is logged and applied to the columns first, then
// every derived index is told what changed. A committed change must not fail because an
// index could not follow it: an index that cannot sets itself aside and says why (searches
// then do without it), it never throws from a notification.
//
// Thread safety: notifications come from the store's non-const calls, which never overlap
// any other call on the same handle (AgentMemory's contract); the indexes' own const
// accessors may run concurrently with each other and guard what they build lazily.

#include <cstddef>

#include "edgehdf5/memory_columns.hpp"

namespace edgehdf5::store {

class DerivedIndex {
 public:
  virtual ~DerivedIndex() = default;

  // Rows [first_row, columns.rows()) were appended.
  virtual void rows_appended(const MemoryColumns& columns, std::size_t first_row) noexcept = 0;
  // Row `row` was tombstoned (its tombstone in `columns` is already set).
  virtual void row_removed(const MemoryColumns& columns, std::size_t row) noexcept = 0;
  // The tombstoned rows were dropped and the others renumbered (compaction).
  virtual void rows_compacted(const MemoryColumns& columns) noexcept = 0;
};

}  // namespace edgehdf5::store
