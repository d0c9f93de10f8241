// SearchEngine: query -> strategy -> kernel -> top-k -> hits.
//
// The matrix is scanned in blocks of rows. In each block the filter picks runs of
// consecutive accepted rows; the kernel scores each run (so a selective filter also saves
// the memory traffic of the rows it refuses) and every score goes straight into a bounded
// heap. The parallel strategy gives each worker a contiguous slice and its own heap, and
// merges the heaps at the end.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/search.hpp"
#include "search/blas.hpp"
#include "search/kernels/kernels.hpp"
#include "search/query_check.hpp"
#include "search/row_filter.hpp"
#include "search/thread_pool.hpp"

#ifndef EDGEHDF5_BLAS
#define EDGEHDF5_BLAS 0
#endif

namespace edgehdf5 {
namespace {

using search::RowFilter;

// Rows per block: the scores of a block stay in L1 (4 KiB).
constexpr std::size_t kBlockRows = 1024;

// Rows per BLAS call: large, so the call's overhead and OpenBLAS's own threading pay off;
// half as many for float16 rows, which are widened into a buffer of that many rows first.
constexpr std::size_t kBlasBlockRows = 32768;
constexpr std::size_t kBlasHalfBlockRows = 16384;

struct Candidate {
  float score;
  std::size_t row;
};

// Higher score first; among equal scores the lower row, which is the lower id.
inline bool better(const Candidate& a, const Candidate& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

// The best k candidates seen so far, in a heap whose front is the worst of them.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(std::min<std::size_t>(k, 1 << 16)); }

  void offer(float score, std::size_t row) {
    // Most rows of a large scan lose to the current k-th best: one compare turns them away.
    if (score < threshold_) return;
    const Candidate candidate{score, row};
    if (heap_.size() < k_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(candidate, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = candidate;
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else {
      return;
    }
    if (heap_.size() == k_) threshold_ = heap_.front().score;
  }
  void merge(const TopK& other) {
    for (const Candidate& candidate : other.heap_) offer(candidate.score, candidate.row);
  }
  std::vector<SearchHit> hits(const MemoryCache& cache) {
    std::sort(heap_.begin(), heap_.end(), better);
    std::vector<SearchHit> hits;
    hits.reserve(heap_.size());
    for (const Candidate& candidate : heap_)
      hits.push_back({cache.ids[candidate.row], candidate.score});
    return hits;
  }

 private:
  std::size_t k_;
  std::vector<Candidate> heap_;
  // The score a candidate must reach to enter: -inf until the heap is full, then the worst
  // kept score (a tie may still win on its lower row, so equality goes to the full check).
  float threshold_ = -std::numeric_limits<float>::infinity();
};

// How one scan turns dot products into scores for the heap.
struct Scoring {
  const MemoryCache& cache;
  const RowFilter& filter;
  // Turns the dot products of rows [row, row + count) into cosine scores, in place. A
  // branch-free loop the compiler vectorises; zero norms score 0.
  void to_scores(float* values, std::size_t count, std::size_t row, float query_norm) const {
    const float* norms = cache.norms.data() + row;
    for (std::size_t i = 0; i < count; ++i) {
      // Written without a branch around the division (a zero denominator divides by 1 and
      // is then multiplied by 0), so the compiler may vectorise it: it may not hoist a
      // division out of a condition.
      const float denominator = query_norm * norms[i];
      const float nonzero = denominator != 0.0f ? 1.0f : 0.0f;
      values[i] = values[i] / (denominator + (1.0f - nonzero)) * nonzero;
    }
    if (filter.weights_recency()) {
      for (std::size_t i = 0; i < count; ++i) values[i] *= filter.recency_weight(row + i);
    }
  }
};

// Scans rows [begin, end) for `query_count` queries. `score_run(run_begin, run_end, out)`
// fills out[q * (run_end - run_begin) + i] with dot products. Returns rows scored.
template <typename ScoreRun>
std::size_t scan(std::size_t begin, std::size_t end, std::size_t block_rows,
                 std::size_t query_count, const float* query_norms, const Scoring& scoring,
                 ScoreRun score_run, TopK* tops) {
  std::vector<float> dots(std::min(block_rows, end - begin) * query_count);
  std::size_t scanned = 0;
  for (std::size_t block = begin; block < end; block += block_rows) {
    const std::size_t block_end = std::min(end, block + block_rows);
    std::size_t row = block;
    while (row < block_end) {
      while (row < block_end && !scoring.filter.accepts(row)) ++row;
      std::size_t run_end = row;
      if (scoring.filter.metadata_free()) {
        // Only tombstones refuse rows: find the next one with memchr, not row by row.
        const std::uint8_t* tombstones = scoring.cache.tombstones.data();
        const void* next = std::memchr(tombstones + row, 1, block_end - row);
        run_end =
            next ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(next) - tombstones)
                 : block_end;
      }
      while (run_end < block_end && scoring.filter.accepts(run_end)) ++run_end;
      if (row == run_end) break;
      const std::size_t run = run_end - row;
      score_run(row, run_end, dots.data());
      for (std::size_t q = 0; q < query_count; ++q) {
        float* run_scores = dots.data() + q * run;
        scoring.to_scores(run_scores, run, row, query_norms[q]);
        for (std::size_t i = 0; i < run; ++i) tops[q].offer(run_scores[i], row + i);
      }
      scanned += run;
      row = run_end;
    }
  }
  return scanned;
}

}  // namespace

struct SearchEngine::Impl {
  HardwareCapabilities capabilities;
  StrategyThresholds thresholds;
  kernels::KernelSet scalar = kernels::scalar_kernels();
  kernels::KernelSet simd = kernels::best_simd_kernels();
  mutable search::ThreadPool pool;
  pid_t owner = ::getpid();  // a forked child inherits no workers: it scans inline

  Impl(HardwareCapabilities caps, StrategyThresholds limits)
      : capabilities(std::move(caps)),
        thresholds(limits),
        pool(std::max<std::size_t>(1, capabilities.cores)) {}

  std::vector<SearchResults> run(std::span<const float> queries, std::size_t query_count,
                                 const MemoryCache& cache, const SearchOptions& options) const;
  // The exact backends: `strategy` is not ivfpq.
  std::vector<SearchResults> run_exact(std::span<const float> queries, std::size_t query_count,
                                       const MemoryCache& cache, const SearchOptions& options,
                                       Strategy strategy,
                                       std::chrono::steady_clock::time_point started) const;
  // Strategy::ivfpq, one query after another; with `fall_back`, a query whose probed lists
  // held fewer than k accepted rows is answered by the exact scan.
  std::vector<SearchResults> run_approximate(std::span<const float> queries,
                                             std::size_t query_count, const MemoryCache& cache,
                                             const SearchOptions& options, bool fall_back) const;
};

SearchEngine::SearchEngine(HardwareCapabilities capabilities, StrategyThresholds thresholds)
    : impl_(std::make_unique<Impl>(std::move(capabilities), thresholds)) {}
SearchEngine::~SearchEngine() = default;

const SearchEngine& SearchEngine::shared() {
  static const SearchEngine engine;
  return engine;
}

const HardwareCapabilities& SearchEngine::capabilities() const noexcept {
  return impl_->capabilities;
}

Strategy SearchEngine::choose(std::size_t rows, bool ivfpq_index) const {
  return auto_select_strategy(SearchShape{rows, 1, EmbeddingType::float32, ivfpq_index},
                              impl_->capabilities, impl_->thresholds);
}

const StrategyThresholds& SearchEngine::thresholds() const noexcept { return impl_->thresholds; }

std::vector<SearchResults> SearchEngine::Impl::run(std::span<const float> queries,
                                                   std::size_t query_count,
                                                   const MemoryCache& cache,
                                                   const SearchOptions& options) const {
  const auto started = std::chrono::steady_clock::now();
  search::require_positive_k(options.k);
  const std::size_t dim = cache.embedding_dim;
  if (query_count > 1 && queries.size() != query_count * dim) {
    throw Error(ErrorCode::invalid_argument, std::to_string(query_count) + " queries need " +
                                                 std::to_string(query_count * dim) +
                                                 " values, got " + std::to_string(queries.size()));
  }
  for (std::size_t q = 0; q < query_count; ++q) {
    // (A single query is checked whole, so a wrong length is reported as such.)
    const auto query = query_count == 1 ? queries : queries.subspan(q * dim, dim);
    search::require_valid_query(query, dim,
                                query_count == 1 ? "query" : "query " + std::to_string(q));
  }
  const bool have_index = options.approximate.index != nullptr;
  const Strategy strategy = options.strategy.value_or(auto_select_strategy(
      SearchShape{cache.rows(), query_count, cache.embedding_type, have_index}, capabilities,
      thresholds));
  require_available(strategy, capabilities);
  if (strategy == Strategy::ivfpq) {
    if (!have_index) {
      throw Error(ErrorCode::unsupported,
                  "strategy 'ivfpq' needs an IVF-PQ index over the store; build one with "
                  "`edgehdf5 index build FILE` (HDF5Memory::build_ivfpq_index)");
    }
    return run_approximate(queries, query_count, cache, options, !options.strategy.has_value());
  }
  return run_exact(queries, query_count, cache, options, strategy, started);
}

std::vector<SearchResults> SearchEngine::Impl::run_approximate(std::span<const float> queries,
                                                               std::size_t query_count,
                                                               const MemoryCache& cache,
                                                               const SearchOptions& options,
                                                               bool fall_back) const {
  const std::size_t dim = cache.embedding_dim;
  IVFPQSearchOptions approximate;
  approximate.k = options.k;
  approximate.nprobe = options.approximate.nprobe;
  approximate.rerank = options.approximate.rerank;
  approximate.filter = options.filter;
  std::vector<SearchResults> results;
  results.reserve(query_count);
  for (std::size_t q = 0; q < query_count; ++q) {
    const auto query = query_count == 1 ? queries : queries.subspan(q * dim, dim);
    SearchResults found = options.approximate.index->search(query, cache, approximate);
    if (fall_back && found.hits.size() < options.k) {
      // Too few rows of the probed lists passed the filter: the exact scan finds every
      // one there is. Its metrics say so, with the time of both attempts.
      const auto started = std::chrono::steady_clock::now();
      const Strategy exact = auto_select_strategy(
          SearchShape{cache.rows(), 1, cache.embedding_type, false}, capabilities, thresholds);
      SearchResults scanned =
          std::move(run_exact(query, 1, cache, options, exact, started).front());
      scanned.metrics.vectors_scanned += found.metrics.vectors_scanned;
      scanned.metrics.search_time_us += found.metrics.search_time_us;
      found = std::move(scanned);
    }
    results.push_back(std::move(found));
  }
  return results;
}

std::vector<SearchResults> SearchEngine::Impl::run_exact(
    std::span<const float> queries, std::size_t query_count, const MemoryCache& cache,
    const SearchOptions& options, Strategy strategy,
    std::chrono::steady_clock::time_point started) const {
  const std::size_t dim = cache.embedding_dim;
  std::vector<float> query_norms(query_count);
  for (std::size_t q = 0; q < query_count; ++q) {
    query_norms[q] = compute_norm(query_count == 1 ? queries : queries.subspan(q * dim, dim));
  }
  const bool half = cache.embedding_type == EmbeddingType::float16;

  const RowFilter filter(options.filter, cache);
  const Scoring scoring{cache, filter};
  const kernels::KernelSet& kernels = strategy == Strategy::scalar ? scalar : simd;
  const float* query_data = queries.data();
  const float* matrix32 = cache.embeddings_f32.data();
  const std::uint16_t* matrix16 = cache.embeddings_f16.data();

  // One slice of rows with its own heaps: the whole scan for one thread.
  auto scan_slice = [&](std::size_t begin, std::size_t end, TopK* tops) -> std::size_t {
#if EDGEHDF5_BLAS
    if (strategy == Strategy::blas) {
      // OpenBLAS has no half-precision product: float16 rows are widened a block at a
      // time into a buffer, a cost a batch of queries shares.
      const std::size_t block_rows = half ? kBlasHalfBlockRows : kBlasBlockRows;
      std::vector<float> widened(half ? std::min(block_rows, end - begin) * dim : 0);
      return scan(
          begin, end, block_rows, query_count, query_norms.data(), scoring,
          [&](std::size_t b, std::size_t e, float* out) {
            const float* rows = matrix32;
            std::size_t first = b;
            if (half) {
              kernels.widen_f16(matrix16 + b * dim, (e - b) * dim, widened.data());
              rows = widened.data();
              first = 0;
            }
            if (query_count == 1) {
              search::blas_dot_f32(query_data, rows, dim, first, first + (e - b), out);
            } else {
              search::blas_dot_f32_batch(query_data, query_count, rows, dim, first, first + (e - b),
                                         out);
            }
          },
          tops);
    }
#endif
    return scan(
        begin, end, kBlockRows, query_count, query_norms.data(), scoring,
        [&](std::size_t b, std::size_t e, float* out) {
          if (query_count == 1) {
            half ? kernels.dot_f16(query_data, matrix16, dim, b, e, out)
                 : kernels.dot_f32(query_data, matrix32, dim, b, e, out);
          } else {
            half ? kernels.dot_f16_batch(query_data, query_count, matrix16, dim, b, e, out)
                 : kernels.dot_f32_batch(query_data, query_count, matrix32, dim, b, e, out);
          }
        },
        tops);
  };

  const std::size_t rows = cache.rows();
  const bool parallel = strategy == Strategy::parallel && pool.size() > 1 && owner == ::getpid();
  const std::size_t slices =
      parallel ? std::min(pool.size(), std::max<std::size_t>(1, rows / kBlockRows)) : 1;
  std::vector<std::vector<TopK>> slice_tops(slices,
                                            std::vector<TopK>(query_count, TopK(options.k)));
  std::vector<std::size_t> slice_scanned(slices, 0);
  auto run_slice = [&](std::size_t slice) {
    const std::size_t begin = rows * slice / slices;
    const std::size_t end = rows * (slice + 1) / slices;
    slice_scanned[slice] = scan_slice(begin, end, slice_tops[slice].data());
  };
  if (slices > 1) {
    pool.run(slices, run_slice);
  } else {
    run_slice(0);
  }
  std::size_t scanned = 0;
  for (std::size_t slice = 0; slice < slices; ++slice) {
    scanned += slice_scanned[slice];
    if (slice == 0) continue;
    for (std::size_t q = 0; q < query_count; ++q) slice_tops[0][q].merge(slice_tops[slice][q]);
  }

  SearchMetrics metrics;
  metrics.strategy = strategy_name(strategy);
  metrics.isa = strategy == Strategy::blas ? "openblas" : kernels.isa;
  metrics.threads = slices;
#if EDGEHDF5_BLAS
  if (strategy == Strategy::blas) metrics.threads = search::blas_threads();
#endif
  metrics.vectors_scanned = scanned;
  std::vector<SearchResults> results(query_count);
  for (std::size_t q = 0; q < query_count; ++q) results[q].hits = slice_tops[0][q].hits(cache);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  metrics.search_time_us = std::chrono::duration<double, std::micro>(elapsed).count();
  for (SearchResults& result : results) result.metrics = metrics;
  return results;
}

SearchResults SearchEngine::search(std::span<const float> query, const MemoryCache& cache,
                                   const SearchOptions& options) const {
  return std::move(impl_->run(query, 1, cache, options).front());
}

std::vector<SearchResults> SearchEngine::search_batch(std::span<const float> queries,
                                                      std::size_t query_count,
                                                      const MemoryCache& cache,
                                                      const SearchOptions& options) const {
  if (query_count == 0) return {};
  return impl_->run(queries, query_count, cache, options);
}

SearchResults search_with_metrics(std::span<const float> query, const MemoryCache& cache,
                                  const SearchOptions& options) {
  return SearchEngine::shared().search(query, cache, options);
}

}  // namespace edgehdf5
