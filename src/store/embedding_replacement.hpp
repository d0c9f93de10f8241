#pragma once
// Every memory's embedding replaced at once, as when the embedding model changes
// (HDF5Memory::replace_embeddings). The new matrix is built beside the old one and swapped
// in; the caller keeps the old one until the file holding the new one is in place, so a
// failed write can swap it back and leave the store exactly as it was.

#include <cstddef>
#include <span>
#include <vector>

#include "edgehdf5/half.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "edgehdf5/row_allocator.hpp"

namespace edgehdf5::store {

// The embedding part of MemoryColumns: the matrix (of the stored type only), the norms and
// the dimension.
struct EmbeddingColumns {
  std::size_t dim = 0;
  RowVector<float> f32;
  RowVector<half_bits> f16;
  std::vector<float> norms;
};

// The embedding columns for `active`: one row of `dim` values for each active row of
// `columns`, in row order, stored as `columns` stores its rows (float16 rounds, and the
// norm is that of the rounded values, as a save computes it). A tombstoned row gets zeros
// and norm 0: no search reads it, and compaction drops it.
// REQUIRES: active.size() == dim * (active rows of columns).
EmbeddingColumns make_embedding_columns(const MemoryColumns& columns, std::span<const float> active,
                                        std::size_t dim);

// Exchanges the matrix, norms and embedding_dim of `columns` with those of `other`.
void swap_embeddings(MemoryColumns& columns, EmbeddingColumns& other) noexcept;

}  // namespace edgehdf5::store
