#pragma once
// A SearchFilter compiled against one MemoryColumns: a per-row yes/no that the scan asks
// before it computes a row's score, and the recency weight it applies after. The exact
// engine, IVF-PQ and keyword search all filter through it, so a filter and a tombstone mean
// the same whichever path answers a query.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/filter.hpp"
#include "edgehdf5/memory_columns.hpp"

namespace edgehdf5::core {

// Holds references: `filter` and `columns` must outlive it and not change meanwhile. Const
// methods may be called from several threads at once (a parallel scan shares one).
class RowFilter {
 public:
  // Throws invalid_argument for an `after` later than `before` or a half-life that is not a
  // positive finite number of seconds. The clock for recency is read once, here.
  RowFilter(const SearchFilter& filter, const MemoryColumns& columns);

  // Tombstoned rows and rows the metadata conditions exclude are refused. Cheapest first.
  bool accepts(std::size_t row) const {
    if (columns_.tombstones[row]) return false;
    if (metadata_free_) return true;
    return accepts_metadata(row);
  }
  // True when only tombstones can refuse a row.
  bool metadata_free() const noexcept { return metadata_free_; }

  bool weights_recency() const noexcept { return half_life_ > 0; }
  float recency_weight(std::size_t row) const {
    const double age = std::max(0.0, now_ - columns_.timestamps[row]);
    return static_cast<float>(std::exp2(-age / half_life_));
  }

 private:
  bool accepts_metadata(std::size_t row) const;
  bool tags_match(std::string_view row_tags) const;

  const SearchFilter& filter_;
  const MemoryColumns& columns_;
  bool metadata_free_;
  double half_life_ = 0;
  double now_ = 0;
};

}  // namespace edgehdf5::core
