#pragma once
// Mapping a file's embedding matrix into a RowVector (edgehdf5/row_allocator.hpp) instead of
// reading it: the pages come from the page cache when a scan touches them, nothing is
// copied at open, and the file is never written (a private mapping: a page the store
// changes, by compaction or by rows saved after the mapped ones, becomes its own copy).
//
// Safe because a memory file is never changed in place once renamed into place: a
// checkpoint or compaction writes a new file and renames it over the old one, whose inode,
// and so this mapping, stays valid until the vector lets go of it (the old file's disk
// space comes back then, at close or reopen).

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "edgehdf5/row_allocator.hpp"

namespace edgehdf5::store {

// Blocks of at least this many bytes are mapped rather than read.
inline constexpr std::size_t kSmallestMappedBytes = std::size_t{64} << 10;

// A block of `capacity_bytes` (virtual: nothing is committed until written) whose first
// `data_bytes` are bytes [offset, offset + data_bytes) of the open file `descriptor`.
// Returns its first byte, or nullptr when the system refuses (the caller reads instead).
// `offset` need not be page-aligned; the block starts at the matching position in a page.
void* map_file_block(int descriptor, std::uint64_t offset, std::size_t data_bytes,
                     std::size_t capacity_bytes);

// Makes `rows` hold `count` values whose storage is `block` (from map_file_block with
// capacity `capacity_bytes`), capacity included; `rows` owns the block from then on.
template <typename T>
void adopt_block(RowVector<T>& rows, void* block, std::size_t count, std::size_t capacity_bytes);

namespace detail {
// The next allocate_rows(capacity_bytes) on this thread returns `block`.
void offer_block(void* block, std::size_t capacity_bytes) noexcept;
// Takes back an offer no allocation took; true if there was one.
bool withdraw_offer() noexcept;
}  // namespace detail

template <typename T>
void adopt_block(RowVector<T>& rows, void* block, std::size_t count, std::size_t capacity_bytes) {
  RowVector<T>().swap(rows);
  detail::offer_block(block, capacity_bytes);
  rows.reserve(capacity_bytes / sizeof(T));  // allocate() takes the offered block
  if (detail::withdraw_offer()) {            // capacity_bytes not a multiple of sizeof(T)
    edgehdf5::detail::free_rows(block, capacity_bytes);
    throw std::logic_error("adopt_block: the block was not taken");
  }
  rows.resize(count);  // default-initialised: the mapped values stay
}

}  // namespace edgehdf5::store
