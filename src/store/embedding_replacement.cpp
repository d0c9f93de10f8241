#include "store/embedding_replacement.hpp"

#include <algorithm>
#include <utility>

#include "edgehdf5/search.hpp"

namespace edgehdf5::store {

EmbeddingColumns make_embedding_columns(const MemoryColumns& columns, std::span<const float> active,
                                        std::size_t dim) {
  const bool half = columns.embedding_type == EmbeddingType::float16;
  const std::size_t rows = columns.rows();
  EmbeddingColumns made;
  made.dim = dim;
  made.norms.assign(rows, 0.0f);
  if (half) {
    made.f16.assign(rows * dim, half_bits{0});
  } else {
    made.f32.assign(rows * dim, 0.0f);
  }
  std::vector<float> widened(half ? dim : 0);
  std::size_t next = 0;  // the next row of `active`
  for (std::size_t row = 0; row < rows; ++row) {
    if (columns.tombstones[row] != 0) continue;
    const std::span<const float> values = active.subspan(next * dim, dim);
    ++next;
    if (half) {
      const std::span<half_bits> stored(made.f16.data() + row * dim, dim);
      floats_to_halves(values, stored);
      halves_to_floats(stored, widened);  // the norm of what is stored, as a save does
      made.norms[row] = compute_norm(widened);
    } else {
      std::copy(values.begin(), values.end(), made.f32.begin() + static_cast<std::ptrdiff_t>(row * dim));
      made.norms[row] = compute_norm(values);
    }
  }
  return made;
}

void swap_embeddings(MemoryColumns& columns, EmbeddingColumns& other) noexcept {
  std::swap(columns.embedding_dim, other.dim);
  columns.embeddings_f32.swap(other.f32);
  columns.embeddings_f16.swap(other.f16);
  columns.norms.swap(other.norms);
}

}  // namespace edgehdf5::store
