#pragma once
// Exact cosine search over a MemoryCache: the free functions users know from the original
// library. Kernels know nothing about HDF5.

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/memory_cache.hpp"

namespace edgehdf5 {

// L2 norm of a vector (double accumulation, so it is exact to float precision).
float compute_norm(std::span<const float> vector) noexcept;

// Cosine similarity of `query` to every row of `cache`, using the stored norms.
// Tombstoned rows and rows with a zero norm score 0 (tombstoned rows are never returned
// by top_k_active below). Throws invalid_argument on a query of the wrong length or with
// NaN/Inf.
std::vector<float> cosine_similarity_batch_prenorm(std::span<const float> query,
                                                   const MemoryCache& cache);

// The `k` highest scores as (row, score), best first; ties broken by the lower row.
// Partial selection, never a full sort.
std::vector<std::pair<std::size_t, float>> top_k(std::span<const float> scores, std::size_t k);

// Exact top-k over the active rows of `cache`. Throws invalid_argument for k == 0 or a bad
// query. Returns at most k hits, best first.
std::vector<SearchHit> exact_search(std::span<const float> query, const MemoryCache& cache,
                                    std::size_t k);

}  // namespace edgehdf5
