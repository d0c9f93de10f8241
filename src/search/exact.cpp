// The scalar reference search: the truth every faster backend is tested against. Its scores
// come from plain loops of its own; the selection is the library's one top-k
// (core/top_k.hpp), which the tests check against a full sort.

#include <cmath>
#include <string>

#include "core/query_check.hpp"
#include "core/top_k.hpp"
#include "edgehdf5/search.hpp"

namespace edgehdf5 {

float compute_norm(std::span<const float> vector) noexcept {
  double sum = 0.0;
  for (float value : vector) sum += static_cast<double>(value) * value;
  return static_cast<float>(std::sqrt(sum));
}

std::vector<float> cosine_similarity_batch_prenorm(std::span<const float> query,
                                                   const MemoryColumns& columns) {
  core::require_valid_query(query, columns.embedding_dim);
  const std::size_t dim = columns.embedding_dim;
  const std::size_t rows = columns.rows();
  const float query_norm = compute_norm(query);
  std::vector<float> scores(rows, 0.0f);
  if (query_norm == 0.0f) return scores;
  for (std::size_t row = 0; row < rows; ++row) {
    if (columns.tombstones[row] || columns.norms[row] == 0.0f) continue;
    float dot = 0.0f;
    if (columns.embedding_type == EmbeddingType::float16) {
      const half_bits* values = columns.embeddings_f16.data() + row * dim;
      for (std::size_t i = 0; i < dim; ++i) dot += query[i] * half_to_float(values[i]);
    } else {
      const float* values = columns.embeddings_f32.data() + row * dim;
      for (std::size_t i = 0; i < dim; ++i) dot += query[i] * values[i];
    }
    scores[row] = dot / (query_norm * columns.norms[row]);
  }
  return scores;
}

namespace {

// The best k rows of `scores` that `accept` lets through, best first, ties to the lower row.
template <typename Accept>
std::vector<core::Scored<std::size_t>> best_rows(std::span<const float> scores, std::size_t k,
                                                 Accept accept) {
  core::BoundedTopK<std::size_t> best(k);
  for (std::size_t row = 0; row < scores.size(); ++row) {
    if (accept(row)) best.offer(scores[row], row);
  }
  return best.take_sorted();
}

}  // namespace

std::vector<std::pair<std::size_t, float>> top_k(std::span<const float> scores, std::size_t k) {
  std::vector<std::pair<std::size_t, float>> pairs;
  if (k == 0) return pairs;
  const auto best = best_rows(scores, k, [](std::size_t) { return true; });
  pairs.reserve(best.size());
  for (const auto& [score, row] : best) pairs.emplace_back(row, score);
  return pairs;
}

std::vector<SearchHit> exact_search(std::span<const float> query, const MemoryColumns& columns,
                                    std::size_t k) {
  core::require_positive_k(k);
  const std::vector<float> scores = cosine_similarity_batch_prenorm(query, columns);
  const auto best = best_rows(scores, k, [&](std::size_t row) { return !columns.tombstones[row]; });
  return core::hits_of_rows<std::size_t>(best, columns);
}

}  // namespace edgehdf5
