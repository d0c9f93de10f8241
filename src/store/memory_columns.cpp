#include "edgehdf5/memory_columns.hpp"

#include <algorithm>
#include <type_traits>

namespace edgehdf5 {

std::ptrdiff_t MemoryColumns::row_of(MemoryId id) const noexcept {
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) return -1;
  return it - ids.begin();
}

void MemoryColumns::load_texts() const {
  for_each_column([](const MemoryColumn&, const auto& values) {
    if constexpr (std::is_same_v<std::decay_t<decltype(values)>, TextColumn>) values.load();
  });
}

std::vector<float> MemoryColumns::embedding(std::size_t row) const {
  std::vector<float> values(embedding_dim);
  const std::size_t offset = row * embedding_dim;
  if (embedding_type == EmbeddingType::float16) {
    halves_to_floats(std::span<const half_bits>(embeddings_f16.data() + offset, embedding_dim), values);
  } else {
    std::copy_n(embeddings_f32.begin() + static_cast<std::ptrdiff_t>(offset), embedding_dim,
                values.begin());
  }
  return values;
}

}  // namespace edgehdf5
