#pragma once
// A dataset's values mapped from the file when they lie there as they would in memory, else
// read: how an open store gets its embedding matrix and its keyword index without copying
// them (store/mapped_rows.hpp says why a mapping of a memory file is safe).

#include <algorithm>
#include <cstddef>
#include <optional>

#include "edgehdf5/row_allocator.hpp"
#include "h5/h5.hpp"
#include "store/mapped_rows.hpp"

namespace edgehdf5::store {

// Maps `values` values of the dataset whose extent is `extent` (h5::raw_extent) into
// `rows`, in a block of `capacity_bytes` (a multiple of sizeof(T), at least the data: room
// for rows appended later, reserved but not committed). False, `rows` untouched, when the
// extent is not there, not of that size, too small for a mapping to pay, misaligned, or the
// system refuses: the caller reads the values instead.
template <typename T>
bool map_values(const std::optional<h5::RawExtent>& extent, std::size_t values,
                std::size_t capacity_bytes, RowVector<T>& rows) {
  const std::size_t bytes = values * sizeof(T);
  if (!extent || extent->bytes != bytes || bytes < kSmallestMappedBytes ||
      extent->offset % alignof(T) != 0 || capacity_bytes < bytes ||
      capacity_bytes % sizeof(T) != 0) {
    return false;
  }
  void* block = map_file_block(extent->descriptor, extent->offset, bytes, capacity_bytes);
  if (block == nullptr) return false;
  adopt_block(rows, block, values, capacity_bytes);
  return true;
}

// `count` values of `dataset` into `values`: mapped (map_values, with no room reserved
// beyond them) when `map` and the values lie in the file as `memory_type` would hold them in
// memory, else read.
template <typename T>
void map_or_read(const h5::Object& dataset, hid_t memory_type, std::size_t count, bool map,
                 RowVector<T>& values) {
  if (map && map_values(h5::raw_extent(dataset, memory_type), count, count * sizeof(T), values)) {
    return;
  }
  values.resize(count);
  h5::read_into(dataset, values.data());
}

}  // namespace edgehdf5::store
