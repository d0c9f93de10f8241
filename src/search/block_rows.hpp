#pragma once
// The exact scan's block of rows, shared by the engine (its blocks and its parallel slices)
// and the strategy tuner (which must know when `parallel` would run as `simd`).

#include <cstddef>

namespace edgehdf5::search {

// Rows per block of a kernel scan: the scores of a block stay in L1 (4 KiB). The parallel
// strategy gives each thread a slice of at least this many rows.
inline constexpr std::size_t kBlockRows = 1024;

}  // namespace edgehdf5::search
