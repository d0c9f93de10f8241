#pragma once
// Keyword search (BM25) and hybrid search (vector + keyword) over a memory store.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/filter.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/strategy.hpp"

namespace edgehdf5 {

enum class Fusion {
  weighted,  // vector_weight * minmax(cosine) + keyword_weight * minmax(bm25)
  rrf,       // reciprocal-rank fusion: sum over both lists of 1 / (60 + rank), rank from 1
};

struct HybridOptions {
  std::size_t k = 10;
  float vector_weight = 0.7f;
  float keyword_weight = 0.3f;
  Fusion fusion = Fusion::weighted;
  SearchFilter filter;                // as in exact search; recency weighting applies to both lists
  std::optional<Strategy> strategy;   // for the vector side; empty = auto
  ApproximateSearch approximate;      // for the vector side, as in SearchOptions
  // Each side contributes its best `candidates` rows (at least k) before fusion.
  std::size_t candidates = 100;
};

// BM25 top-k over active rows that pass the filter. Throws invalid_argument for k == 0 or a
// query with no terms (empty, or only spaces and punctuation). No matching row: no hits.
SearchResults keyword_search(std::string_view query_text, const MemoryColumns& columns,
                             const BM25Index& index, std::size_t k,
                             const SearchFilter& filter = {});

// Fuses the exact vector top list and the BM25 top list (each of options.candidates rows).
// Weighted fusion min-max normalises each list to [0, 1] (a list whose scores are all equal
// normalises to 1) and adds the weights of the lists a row appears in; RRF adds
// 1 / (60 + rank). Ties go to the lower id. A query text with no terms is an error; a
// query text that matches nothing leaves the vector list alone.
SearchResults hybrid_search(std::span<const float> query_embedding, std::string_view query_text,
                            const MemoryColumns& columns, const BM25Index& index,
                            const HybridOptions& options);

}  // namespace edgehdf5
