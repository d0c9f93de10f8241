// The scalar reference search: the truth every faster backend is tested against.

#include <algorithm>
#include <cmath>
#include <queue>
#include <string>

#include "edgehdf5/error.hpp"
#include "edgehdf5/search.hpp"
#include "search/query_check.hpp"

namespace edgehdf5 {

float compute_norm(std::span<const float> vector) noexcept {
  double sum = 0.0;
  for (float value : vector) sum += static_cast<double>(value) * value;
  return static_cast<float>(std::sqrt(sum));
}

std::vector<float> cosine_similarity_batch_prenorm(std::span<const float> query,
                                                   const MemoryCache& cache) {
  search::require_valid_query(query, cache.embedding_dim);
  const std::size_t dim = cache.embedding_dim;
  const std::size_t rows = cache.rows();
  const float query_norm = compute_norm(query);
  std::vector<float> scores(rows, 0.0f);
  if (query_norm == 0.0f) return scores;
  for (std::size_t row = 0; row < rows; ++row) {
    if (cache.tombstones[row] || cache.norms[row] == 0.0f) continue;
    float dot = 0.0f;
    if (cache.embedding_type == EmbeddingType::float16) {
      const half_bits* values = cache.embeddings_f16.data() + row * dim;
      for (std::size_t i = 0; i < dim; ++i) dot += query[i] * half_to_float(values[i]);
    } else {
      const float* values = cache.embeddings_f32.data() + row * dim;
      for (std::size_t i = 0; i < dim; ++i) dot += query[i] * values[i];
    }
    scores[row] = dot / (query_norm * cache.norms[row]);
  }
  return scores;
}

namespace {
// Better = higher score, then lower row (so results are deterministic under ties).
struct Better {
  bool operator()(const std::pair<std::size_t, float>& a,
                  const std::pair<std::size_t, float>& b) const noexcept {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  }
};

// A bounded min-heap of the best k: O(n log k), and never a sort of all n scores.
template <typename Accept>
std::vector<std::pair<std::size_t, float>> select_top(std::span<const float> scores,
                                                      std::size_t k, Accept accept) {
  std::priority_queue<std::pair<std::size_t, float>, std::vector<std::pair<std::size_t, float>>,
                      Better>
      heap;  // top() is the worst of the kept
  for (std::size_t row = 0; row < scores.size(); ++row) {
    if (!accept(row)) continue;
    const std::pair<std::size_t, float> candidate{row, scores[row]};
    if (heap.size() < k) {
      heap.push(candidate);
    } else if (Better{}(candidate, heap.top())) {
      heap.pop();
      heap.push(candidate);
    }
  }
  std::vector<std::pair<std::size_t, float>> best(heap.size());
  for (std::size_t i = best.size(); i-- > 0;) {
    best[i] = heap.top();
    heap.pop();
  }
  return best;
}
}  // namespace

std::vector<std::pair<std::size_t, float>> top_k(std::span<const float> scores, std::size_t k) {
  if (k == 0) return {};
  return select_top(scores, k, [](std::size_t) { return true; });
}

std::vector<SearchHit> exact_search(std::span<const float> query, const MemoryCache& cache,
                                    std::size_t k) {
  search::require_positive_k(k);
  const std::vector<float> scores = cosine_similarity_batch_prenorm(query, cache);
  const auto best = select_top(scores, k, [&](std::size_t row) { return !cache.tombstones[row]; });
  std::vector<SearchHit> hits;
  hits.reserve(best.size());
  for (const auto& [row, score] : best) hits.push_back({cache.ids[row], score});
  return hits;
}

}  // namespace edgehdf5
