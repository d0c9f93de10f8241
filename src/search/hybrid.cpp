// Keyword search and the fusion of keyword and vector results.

#include "edgehdf5/hybrid.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "core/query_check.hpp"
#include "core/row_filter.hpp"
#include "core/top_k.hpp"
#include "edgehdf5/error.hpp"

namespace edgehdf5 {
namespace {

constexpr double kReciprocalRankConstant = 60.0;

using Clock = std::chrono::steady_clock;

double microseconds_since(Clock::time_point started) {
  return std::chrono::duration<double, std::micro>(Clock::now() - started).count();
}

// The best k of scored ids as hits, best first, ties to the lower id. Keyed by id, not
// row: fused results come from a map of ids.
class BestHits {
 public:
  explicit BestHits(std::size_t k) : best_(k) {}
  void offer(MemoryId id, float score) { best_.offer(score, id); }
  std::vector<SearchHit> take() {
    const auto sorted = best_.take_sorted();
    std::vector<SearchHit> hits;
    hits.reserve(sorted.size());
    for (const auto& [score, id] : sorted) hits.push_back({id, score});
    return hits;
  }

 private:
  core::BoundedTopK<MemoryId> best_;
};

void require_terms(std::string_view query_text) {
  if (tokenize(query_text).empty()) {
    throw Error(ErrorCode::invalid_argument,
                "the query text has no terms to search for (it is empty or only spaces and "
                "punctuation)");
  }
}

void require_index_matches(const BM25Index& index, const MemoryColumns& columns) {
  if (index.rows() != columns.rows()) {
    throw Error(ErrorCode::invalid_argument,
                "the keyword index covers " + std::to_string(index.rows()) +
                    " rows but the store has " + std::to_string(columns.rows()) +
                    "; build it from this store");
  }
}

// Min-max normalisation of one list's scores into `fused`, weighted.
void add_normalised(const std::vector<SearchHit>& hits, float weight,
                    std::unordered_map<MemoryId, double>& fused) {
  if (hits.empty()) return;
  const auto [lowest, highest] =
      std::minmax_element(hits.begin(), hits.end(),
                          [](const SearchHit& a, const SearchHit& b) { return a.score < b.score; });
  const double range = static_cast<double>(highest->score) - lowest->score;
  for (const SearchHit& hit : hits) {
    const double normalised = range > 0 ? (hit.score - lowest->score) / range : 1.0;
    fused[hit.id] += weight * normalised;
  }
}

void add_reciprocal_ranks(const std::vector<SearchHit>& hits,
                          std::unordered_map<MemoryId, double>& fused) {
  for (std::size_t rank = 0; rank < hits.size(); ++rank) {
    fused[hits[rank].id] += 1.0 / (kReciprocalRankConstant + static_cast<double>(rank + 1));
  }
}

}  // namespace

SearchResults keyword_search(std::string_view query_text, const MemoryColumns& columns,
                             const BM25Index& index, std::size_t k, const SearchFilter& filter) {
  const auto started = Clock::now();
  core::require_positive_k(k);
  require_terms(query_text);
  require_index_matches(index, columns);
  const core::RowFilter rows(filter, columns);
  const auto scored = index.score(query_text, [&](std::size_t row) { return rows.accepts(row); });
  BestHits best(k);
  for (const auto& [row, score] : scored) {
    const float weighted = rows.weights_recency() ? score * rows.recency_weight(row) : score;
    best.offer(columns.ids[row], weighted);
  }
  SearchResults results;
  results.hits = best.take();
  results.metrics.strategy = "bm25";
  results.metrics.isa = "scalar";
  results.metrics.vectors_scanned = scored.size();
  results.metrics.search_time_us = microseconds_since(started);
  return results;
}

SearchResults hybrid_search(std::span<const float> query_embedding, std::string_view query_text,
                            const MemoryColumns& columns, const BM25Index& index,
                            const HybridOptions& options) {
  const auto started = Clock::now();
  core::require_positive_k(options.k);
  for (float weight : {options.vector_weight, options.keyword_weight}) {
    if (!std::isfinite(weight) || weight < 0) {
      throw Error(ErrorCode::invalid_argument, "fusion weights must be finite and >= 0");
    }
  }
  if (options.fusion == Fusion::weighted && options.vector_weight + options.keyword_weight == 0) {
    throw Error(ErrorCode::invalid_argument, "at least one fusion weight must be above 0");
  }
  const std::size_t depth = std::max(options.k, options.candidates);
  SearchOptions vector_options;
  vector_options.k = depth;
  vector_options.strategy = options.strategy;
  vector_options.approximate = options.approximate;
  vector_options.filter = options.filter;
  const SearchResults by_vector =
      SearchEngine::shared().search(query_embedding, columns, vector_options);
  const SearchResults by_keyword = keyword_search(query_text, columns, index, depth, options.filter);

  std::unordered_map<MemoryId, double> fused;
  if (options.fusion == Fusion::weighted) {
    add_normalised(by_vector.hits, options.vector_weight, fused);
    add_normalised(by_keyword.hits, options.keyword_weight, fused);
  } else {
    add_reciprocal_ranks(by_vector.hits, fused);
    add_reciprocal_ranks(by_keyword.hits, fused);
  }
  BestHits best(options.k);
  for (const auto& [id, score] : fused) best.offer(id, static_cast<float>(score));
  SearchResults results;
  results.hits = best.take();
  results.metrics = by_vector.metrics;
  results.metrics.strategy = options.fusion == Fusion::weighted ? "hybrid_weighted" : "hybrid_rrf";
  results.metrics.vectors_scanned += by_keyword.metrics.vectors_scanned;
  results.metrics.search_time_us = microseconds_since(started);
  return results;
}

}  // namespace edgehdf5
