#pragma once
// Compaction: the rows of tombstoned memories are dropped from every column, and what
// referred to them is updated. Ids stay as they are (rows are renumbered, ids are not), so
// every id a caller holds stays valid; sessions refer to ids and need no change.

#include <cstddef>

#include "store/schema.hpp"

namespace edgehdf5::store {

// Drops the tombstoned rows of state.columns (every column, through for_each_column) and
// unlinks entities whose memory went (embedding_id -1). Returns the rows dropped. The
// derived indexes are the caller's to bring up to date.
std::size_t drop_tombstoned_rows(StoreState& state);

}  // namespace edgehdf5::store
