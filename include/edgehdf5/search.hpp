#pragma once
// Exact cosine search over a MemoryColumns: the free functions users know from the original
// library. Kernels know nothing about HDF5.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/filter.hpp"
#include "edgehdf5/hardware.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "edgehdf5/strategy.hpp"

namespace edgehdf5 {

// L2 norm of a vector (double accumulation, so it is exact to float precision).
float compute_norm(std::span<const float> vector) noexcept;

// Cosine similarity of `query` to every row of `columns`, using the stored norms.
// Tombstoned rows and rows with a zero norm score 0 (tombstoned rows are never returned
// by top_k_active below). Throws invalid_argument on a query of the wrong length or with
// NaN/Inf.
std::vector<float> cosine_similarity_batch_prenorm(std::span<const float> query,
                                                   const MemoryColumns& columns);

// The `k` highest scores as (row, score), best first; ties broken by the lower row.
// Partial selection, never a full sort.
std::vector<std::pair<std::size_t, float>> top_k(std::span<const float> scores, std::size_t k);

// Exact top-k over the active rows of `columns` with the scalar reference kernel. Throws
// invalid_argument for k == 0 or a bad query. Returns at most k hits, best first.
std::vector<SearchHit> exact_search(std::span<const float> query, const MemoryColumns& columns,
                                    std::size_t k);

// ---- the search engine ---------------------------------------------------------------------

class IVFPQIndex;  // edgehdf5/ivfpq.hpp

// The approximate side of a search: the index Strategy::ivfpq searches and how.
struct ApproximateSearch {
  // An index over the same columns (HDF5Memory::ivfpq_index()), kept in sync with it. Null:
  // no index, so auto never picks ivfpq and a forced ivfpq throws unsupported.
  const IVFPQIndex* index = nullptr;
  std::size_t nprobe = 16;   // lists scanned per query (clamped to the index's nlist)
  std::size_t rerank = 400;  // approximate candidates scored exactly (at least k); 0: none
};

struct SearchOptions {
  std::size_t k = 10;
  std::optional<Strategy> strategy;  // empty: auto_select_strategy
  SearchFilter filter;
  ApproximateSearch approximate;
};

struct SearchMetrics {
  std::string strategy;  // what ran: "scalar", "simd", "blas", "parallel", "ivfpq", "gpu"
  std::string isa;       // the kernels' instruction set ("AVX3", "AVX2", "scalar", "openblas";
                         // for gpu the device scorer: "cuda-gemv-f32", "cublas-sgemm", ...)
  std::string device;    // gpu: the device ("NVIDIA H200"); empty for the CPU strategies
  std::size_t threads = 1;
  std::size_t vectors_scanned = 0;  // rows whose score was computed (filters skip rows)
  double search_time_us = 0.0;
};

struct SearchResults {
  std::vector<SearchHit> hits;  // best first; ties broken by the lower id
  SearchMetrics metrics;
};

// Exact cosine top-k with the fastest backend present. Holds the kernels chosen for this CPU
// and a pool of worker threads; create one and reuse it (SearchEngine::shared() is a
// process-wide one). Thread safety: all methods are const and may be called concurrently.
class SearchEngine {
 public:
  explicit SearchEngine(HardwareCapabilities capabilities = HardwareCapabilities::detect(),
                        StrategyThresholds thresholds = {});
  ~SearchEngine();
  SearchEngine(const SearchEngine&) = delete;
  SearchEngine& operator=(const SearchEngine&) = delete;

  static const SearchEngine& shared();

  // Throws invalid_argument (k == 0, wrong length, NaN/Inf in the query) and unsupported
  // (a forced strategy this build or machine lacks; ivfpq without options.approximate.index).
  // Auto with an index: ivfpq from thresholds.ivfpq_min_rows rows; if the lists it probed
  // held fewer than k rows that pass the filter (a selective filter, many deletions), the
  // query is answered by the exact scan instead, so auto never returns fewer hits than exist.
  SearchResults search(std::span<const float> query, const MemoryColumns& columns,
                       const SearchOptions& options) const;
  // `queries` holds query_count queries of columns.embedding_dim values each, row-major.
  // One pass over the matrix serves all of them (matrix-matrix products).
  std::vector<SearchResults> search_batch(std::span<const float> queries, std::size_t query_count,
                                          const MemoryColumns& columns,
                                          const SearchOptions& options) const;

  // What the thresholds pick for one float32 query over `rows` rows (with an index at hand or
  // not): auto's first choice, which it may then change by measuring (tune_auto).
  Strategy choose(std::size_t rows, bool ivfpq_index = false) const;
  // Whether auto measures its choice for searches of `shape` (see tune_auto: an exact CPU
  // choice with more than one candidate).
  bool measures(const SearchShape& shape) const;
  // What auto measured and keeps for searches of `shape` (its rows, batch, type and
  // embedding_dim, as the search saw them), once it has timed every candidate; empty
  // before, and where it does not measure.
  std::optional<Strategy> measured_strategy(const SearchShape& shape) const;
  const StrategyThresholds& thresholds() const noexcept;
  const HardwareCapabilities& capabilities() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SearchEngine::shared().search(...), under the name users know.
SearchResults search_with_metrics(std::span<const float> query, const MemoryColumns& columns,
                                  const SearchOptions& options);

}  // namespace edgehdf5
