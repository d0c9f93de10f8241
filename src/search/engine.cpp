// SearchEngine: query -> strategy -> kernel -> top-k -> hits.
//
// The matrix is scanned in blocks of rows. In each block the filter picks runs of
// consecutive accepted rows; a run scorer computes the dot products of each run with every
// query (so a selective filter also saves the memory traffic of the rows it refuses), and
// every score goes straight into a bounded top-k per query. The parallel strategy gives each
// pool thread a contiguous slice of rows and top-k's of its own, and merges them at the end.
//
// Layering: the engine is built on core/ (kernels, row filters, query checks, top-k, the
// thread pool) and reaches the IVF-PQ index only through its public header.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <vector>

#include "core/kernels/blas.hpp"
#include "core/kernels/kernels.hpp"
#include "core/query_check.hpp"
#include "core/row_filter.hpp"
#include "core/thread_pool.hpp"
#include "core/top_k.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/search.hpp"
#include "gpu/gpu_search.hpp"
#include "search/block_rows.hpp"
#include "search/strategy_tuner.hpp"

namespace edgehdf5 {
namespace {

using core::RowFilter;
using RowTopK = core::BoundedTopK<std::size_t>;  // the best rows so far for one query

using search::kBlockRows;

// Rows per BLAS call: large, so the call's overhead and OpenBLAS's own threading pay off;
// half as many for float16 rows, which are widened into a buffer of that many rows first.
constexpr std::size_t kBlasBlockRows = 32768;
constexpr std::size_t kBlasHalfBlockRows = 16384;

// Scores per BLAS call of a batch at most: a block's scores are then still in the caches
// when they are turned into cosines and offered (4 MiB: 8192 rows of 128 queries).
constexpr std::size_t kBlasBatchScores = std::size_t{1} << 20;

// Scratch space of one scan: up to kKeptScratchFloats it is this thread's, kept from call to
// call; a buffer made per call was zeroed and, from 128 KiB on (where malloc maps blocks
// anew), page-faulted in on every call, which cost a 1K-row batch of 128 queries (512 KiB of
// scores) about a third of its time beside a plain sgemm into a buffer it keeps. Larger
// requests (a block of widened float16 rows of a large store, a batch of thousands of
// queries) get a buffer of their own, as before, so no thread holds more than 8 MiB per slot.
class Scratch {
 public:
  enum Slot : std::size_t { kScores = 0, kWidened = 1 };
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Scratch(Slot slot, std::size_t count) {
    if (count > kKeptScratchFloats) {
      own_.resize(count);
      data_ = own_.data();
      return;
    }
    thread_local std::vector<float> kept[2];
    std::vector<float>& buffer = kept[slot];
    if (buffer.size() < count) buffer.resize(count);
    data_ = buffer.data();
  }
  float* data() const noexcept { return data_; }

 private:
  static constexpr std::size_t kKeptScratchFloats = std::size_t{2} << 20;  // 8 MiB
  std::vector<float> own_;
  float* data_ = nullptr;
};

// Query q of a row-major batch. (A single query is the whole span, whatever its length, so
// that a wrong length is reported as such.)
std::span<const float> query_at(std::span<const float> queries, std::size_t query_count,
                                std::size_t dim, std::size_t q) {
  return query_count == 1 ? queries : queries.subspan(q * dim, dim);
}

// What every slice of one exact scan reads: the rows, the filter, the queries and their
// norms. REQUIRES: the queries were checked (require_valid_query).
struct ExactScan {
  ExactScan(std::span<const float> query_values, std::size_t count, const MemoryColumns& rows,
            const RowFilter& row_filter)
      : columns(rows),
        filter(row_filter),
        queries(query_values.data()),
        query_count(count),
        query_norms(count) {
    for (std::size_t q = 0; q < count; ++q) {
      query_norms[q] = compute_norm(query_at(query_values, count, dim, q));
    }
  }

  // Queries [first, last) of `whole`, for a slice of a batch split by queries.
  ExactScan(const ExactScan& whole, std::size_t first, std::size_t last)
      : columns(whole.columns),
        filter(whole.filter),
        queries(whole.queries + first * whole.dim),
        query_count(last - first),
        query_norms(whole.query_norms.begin() + static_cast<std::ptrdiff_t>(first),
                    whole.query_norms.begin() + static_cast<std::ptrdiff_t>(last)) {}

  // Turns the dot products of rows [row, row + count) into cosine scores, in place, with
  // `kernel_set`'s to_cosines; zero norms score 0.
  void to_scores(const kernels::KernelSet& kernel_set, float* values, std::size_t count,
                 std::size_t row, float query_norm) const {
    kernel_set.to_cosines(values, columns.norms.data() + row, count, query_norm);
    if (filter.weights_recency()) {
      for (std::size_t i = 0; i < count; ++i) values[i] *= filter.recency_weight(row + i);
    }
  }

  const MemoryColumns& columns;
  const RowFilter& filter;
  const float* queries;  // query_count queries of dim values, row-major
  std::size_t query_count;
  std::size_t dim = columns.embedding_dim;
  bool half = columns.embedding_type == EmbeddingType::float16;
  const float* rows_f32 = columns.embeddings_f32.data();
  const std::uint16_t* rows_f16 = columns.embeddings_f16.data();
  std::vector<float> query_norms;
};

// A run scorer fills out[q * (end - begin) + i] with the dot product of query q and row
// begin + i, for rows [begin, end) of one block; block_rows() says how many rows a block
// holds at most. One per slice (it may keep a buffer).

// The scalar, simd and parallel strategies' scorer: the engine's kernel set.
class KernelRunScorer {
 public:
  KernelRunScorer(const kernels::KernelSet& kernel_set, const ExactScan& scan)
      : kernels_(kernel_set), scan_(scan) {}
  std::size_t block_rows() const noexcept { return kBlockRows; }
  void operator()(std::size_t begin, std::size_t end, float* out) const {
    const ExactScan& s = scan_;
    if (s.query_count == 1) {
      s.half ? kernels_.dot_f16(s.queries, s.rows_f16, s.dim, begin, end, out)
             : kernels_.dot_f32(s.queries, s.rows_f32, s.dim, begin, end, out);
    } else {
      s.half ? kernels_.dot_f16_batch(s.queries, s.query_count, s.rows_f16, s.dim, begin, end, out)
             : kernels_.dot_f32_batch(s.queries, s.query_count, s.rows_f32, s.dim, begin, end, out);
    }
  }

 private:
  const kernels::KernelSet& kernels_;
  const ExactScan& scan_;
};

// The blas strategy's scorer: one sgemv (one query) or sgemm (a batch) per block. OpenBLAS
// has no half-precision product: float16 rows are widened a block at a time into a buffer,
// a cost a batch of queries shares.
class BlasRunScorer {
 public:
  BlasRunScorer(const kernels::KernelSet& kernel_set, const ExactScan& scan,
                std::size_t slice_rows)
      : kernels_(kernel_set),
        scan_(scan),
        widened_(Scratch::kWidened,
                 scan.half ? std::min(block_rows(), slice_rows) * scan.dim : 0) {}
  std::size_t block_rows() const noexcept {
    const std::size_t most = scan_.half ? kBlasHalfBlockRows : kBlasBlockRows;
    return std::clamp(kBlasBatchScores / scan_.query_count, kBlockRows, most);
  }
  void operator()(std::size_t begin, std::size_t end, float* out) {
    const ExactScan& s = scan_;
    const float* rows = s.rows_f32;
    std::size_t first = begin;
    if (s.half) {
      kernels_.widen_f16(s.rows_f16 + begin * s.dim, (end - begin) * s.dim, widened_.data());
      rows = widened_.data();
      first = 0;
    }
    const std::size_t last = first + (end - begin);
    if (s.query_count == 1) {
      kernels::blas_dot_f32(s.queries, rows, s.dim, first, last, out);
    } else {
      kernels::blas_dot_f32_batch(s.queries, s.query_count, rows, s.dim, first, last, out);
    }
  }

 private:
  const kernels::KernelSet& kernels_;
  const ExactScan& scan_;
  Scratch widened_;  // a block of float16 rows as float32
};

// Scans rows [begin, end) for every query of `scan` into tops[q]. Returns rows scored.
template <typename RunScorer>
std::size_t scan_rows(const ExactScan& scan, const kernels::KernelSet& kernel_set,
                      RunScorer& score_run, std::size_t begin,
                      std::size_t end, RowTopK* tops) {
  const std::size_t block_rows = score_run.block_rows();
  const Scratch scores(Scratch::kScores, std::min(block_rows, end - begin) * scan.query_count);
  float* dots = scores.data();
  std::size_t scanned = 0;
  for (std::size_t block = begin; block < end; block += block_rows) {
    const std::size_t block_end = std::min(end, block + block_rows);
    std::size_t row = block;
    while (row < block_end) {
      while (row < block_end && !scan.filter.accepts(row)) ++row;
      std::size_t run_end = row;
      if (scan.filter.metadata_free()) {
        // Only tombstones refuse rows: find the next one with memchr, not row by row.
        const std::uint8_t* tombstones = scan.columns.tombstones.data();
        const void* next = std::memchr(tombstones + row, 1, block_end - row);
        run_end =
            next ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(next) - tombstones)
                 : block_end;
      }
      while (run_end < block_end && scan.filter.accepts(run_end)) ++run_end;
      if (row == run_end) break;
      const std::size_t run = run_end - row;
      score_run(row, run_end, dots);
      for (std::size_t q = 0; q < scan.query_count; ++q) {
        float* run_scores = dots + q * run;
        scan.to_scores(kernel_set, run_scores, run, row, scan.query_norms[q]);
        tops[q].offer_run(run_scores, run, row, kernel_set.first_at_least);
      }
      scanned += run;
      row = run_end;
    }
  }
  return scanned;
}

// One slice of rows scanned by `strategy`'s scorer: the whole scan for one thread.
std::size_t scan_slice(const ExactScan& scan, const kernels::KernelSet& kernel_set,
                       Strategy strategy, std::size_t begin, std::size_t end, RowTopK* tops) {
  if constexpr (kernels::kBlasCompiledIn) {
    if (strategy == Strategy::blas) {
      BlasRunScorer blas(kernel_set, scan, end - begin);
      return scan_rows(scan, kernel_set, blas, begin, end, tops);
    }
  }
  KernelRunScorer kernel(kernel_set, scan);
  return scan_rows(scan, kernel_set, kernel, begin, end, tops);
}

// What one slice found: a top-k per query and the rows it scored.
struct SliceResult {
  std::vector<RowTopK> tops;
  std::size_t scanned = 0;
};

// Merges every slice into the first; returns the first.
SliceResult& merge_slices(std::vector<SliceResult>& slices) {
  SliceResult& merged = slices.front();
  for (std::size_t slice = 1; slice < slices.size(); ++slice) {
    merged.scanned += slices[slice].scanned;
    for (std::size_t q = 0; q < merged.tops.size(); ++q) {
      merged.tops[q].merge(slices[slice].tops[q]);
    }
  }
  return merged;
}

}  // namespace

struct SearchEngine::Impl {
  HardwareCapabilities capabilities;
  StrategyThresholds thresholds;
  kernels::KernelSet scalar = kernels::scalar_kernels();
  kernels::KernelSet simd = kernels::best_simd_kernels();
  // The engine's own pool (see core/thread_pool.hpp for why not the process one). In a
  // forked child it has no workers: concurrency() is 1 there, so the child scans inline.
  mutable core::ThreadPool pool;
  // Strategy::gpu: the device copies of the stores this engine searched. Null when CUDA is
  // off; then capabilities.cuda_available is false, whatever the caller passed.
  std::unique_ptr<gpu::GpuSearcher> gpu;
  // Auto's measured choices among the exact CPU strategies (thresholds.tune_auto).
  mutable search::StrategyTuner tuner;

  Impl(HardwareCapabilities caps, StrategyThresholds limits)
      : capabilities(std::move(caps)),
        thresholds(limits),
        pool(std::max<std::size_t>(1, capabilities.cores)) {
    if (capabilities.cuda_available) {
      const gpu::GpuModule& module = gpu::gpu_module();
      if (module.usable()) {
        gpu = std::make_unique<gpu::GpuSearcher>(module);
      } else {
        capabilities.cuda_available = false;
        capabilities.cuda_status = module.status;
      }
    }
  }

  std::vector<SearchResults> run(std::span<const float> queries, std::size_t query_count,
                                 const MemoryColumns& columns, const SearchOptions& options) const;
  // The exact backends: `strategy` is not ivfpq.
  std::vector<SearchResults> run_exact(std::span<const float> queries, std::size_t query_count,
                                       const MemoryColumns& columns, const SearchOptions& options,
                                       Strategy strategy,
                                       std::chrono::steady_clock::time_point started) const;
  // Auto's choice among `candidates` (search/strategy_tuner.hpp): `chosen`, a candidate on
  // trial or the measured winner, timed and reported to the tuner while on trial.
  std::vector<SearchResults> run_tuned(std::span<const float> queries, const SearchShape& shape,
                                       const MemoryColumns& columns, const SearchOptions& options,
                                       Strategy chosen, const std::vector<Strategy>& candidates,
                                       std::chrono::steady_clock::time_point started) const;
  // Strategy::gpu: the whole search on the device (see src/gpu/gpu_search.hpp).
  std::vector<SearchResults> run_gpu(std::span<const float> queries, std::size_t query_count,
                                     const MemoryColumns& columns, const SearchOptions& options,
                                     std::chrono::steady_clock::time_point started) const;
  // How many slices an exact scan of `rows` rows is split into: for the parallel strategy
  // one per thread the pool can use now, each at least kBlockRows rows; else one.
  std::size_t slice_count(Strategy strategy, std::size_t rows) const;
  // The parallel strategy's batches over too few rows to give every thread a slice of rows
  // (kBlockRows each): how many slices of queries instead, each scanning every row (one
  // thread per slice); 1 where rows are sliced.
  std::size_t query_slice_count(Strategy strategy, std::size_t rows,
                                std::size_t query_count) const;
  // Scans every row for each of `slices` slices of the queries, on the pool: one result
  // whose tops hold every query's.
  SliceResult scan_query_slices(const ExactScan& scan, const kernels::KernelSet& kernel_set,
                                std::size_t slices, std::size_t k) const;
  // Scans every slice (on the pool when there are several), each with k best per query.
  std::vector<SliceResult> scan_slices(const ExactScan& scan, const kernels::KernelSet& kernel_set,
                                       Strategy strategy, std::size_t slices, std::size_t k) const;
  // What ran, for SearchMetrics (search_time_us is left to the caller).
  SearchMetrics exact_metrics(Strategy strategy, const kernels::KernelSet& kernel_set,
                              std::size_t slices, std::size_t scanned) const;
  // Strategy::ivfpq, one query after another; with `fall_back`, a query whose probed lists
  // held fewer than k accepted rows is answered by the exact scan.
  std::vector<SearchResults> run_approximate(std::span<const float> queries,
                                             std::size_t query_count, const MemoryColumns& columns,
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

bool SearchEngine::measures(const SearchShape& shape) const {
  const Impl& impl = *impl_;
  if (!impl.thresholds.tune_auto) return false;
  const Strategy chosen = auto_select_strategy(shape, impl.capabilities, impl.thresholds);
  return !search::tuning_candidates(shape, chosen, impl.capabilities).empty();
}

std::optional<Strategy> SearchEngine::measured_strategy(const SearchShape& shape) const {
  return impl_->tuner.winner(search::tuned_shape_of(shape));
}

std::vector<SearchResults> SearchEngine::Impl::run(std::span<const float> queries,
                                                   std::size_t query_count,
                                                   const MemoryColumns& columns,
                                                   const SearchOptions& options) const {
  const auto started = std::chrono::steady_clock::now();
  core::require_positive_k(options.k);
  const std::size_t dim = columns.embedding_dim;
  if (query_count > 1 && queries.size() != query_count * dim) {
    throw Error(ErrorCode::invalid_argument, std::to_string(query_count) + " queries need " +
                                                 std::to_string(query_count * dim) +
                                                 " values, got " + std::to_string(queries.size()));
  }
  for (std::size_t q = 0; q < query_count; ++q) {
    core::require_valid_query(query_at(queries, query_count, dim, q), dim,
                              query_count == 1 ? std::nullopt : std::optional<std::size_t>(q));
  }
  const bool have_index = options.approximate.index != nullptr;
  const SearchShape shape{columns.rows(), query_count, columns.embedding_type, have_index, dim};
  const Strategy strategy =
      options.strategy.value_or(auto_select_strategy(shape, capabilities, thresholds));
  require_available(strategy, capabilities);
  if (!options.strategy && thresholds.tune_auto) {
    const std::vector<Strategy> candidates =
        search::tuning_candidates(shape, strategy, capabilities);
    if (!candidates.empty()) return run_tuned(queries, shape, columns, options, strategy,
                                              candidates, started);
  }
  if (strategy == Strategy::ivfpq) {
    if (!have_index) {
      throw Error(ErrorCode::unsupported,
                  "strategy 'ivfpq' needs an IVF-PQ index over the store; build one with "
                  "`edgehdf5 index build FILE` (HDF5Memory::build_ivfpq_index)");
    }
    return run_approximate(queries, query_count, columns, options, !options.strategy.has_value());
  }
  if (strategy == Strategy::gpu) {
    if (options.strategy) return run_gpu(queries, query_count, columns, options, started);
    try {
      return run_gpu(queries, query_count, columns, options, started);
    } catch (const Error& error) {
      // Auto chose the device and the device failed (out of memory, a CUDA error): the CPU
      // answers instead; only a forced gpu search reports the failure.
      if (error.code() != ErrorCode::unsupported) throw;
      HardwareCapabilities cpu_only = capabilities;
      cpu_only.cuda_available = false;
      const Strategy fallback = auto_select_strategy(
          SearchShape{columns.rows(), query_count, columns.embedding_type, false, dim}, cpu_only,
          thresholds);
      return run_exact(queries, query_count, columns, options, fallback, started);
    }
  }
  return run_exact(queries, query_count, columns, options, strategy, started);
}

std::vector<SearchResults> SearchEngine::Impl::run_tuned(
    std::span<const float> queries, const SearchShape& shape, const MemoryColumns& columns,
    const SearchOptions& options, Strategy chosen, const std::vector<Strategy>& candidates,
    std::chrono::steady_clock::time_point started) const {
  const search::TunedShape tuned = search::tuned_shape_of(shape);
  const search::StrategyTuner::Pick pick = tuner.pick(tuned, chosen, candidates);
  std::vector<SearchResults> results =
      run_exact(queries, shape.batch, columns, options, pick.strategy, started);
  if (pick.on_trial) {
    tuner.record(tuned, pick.strategy, shape.rows * shape.batch, started,
                 std::chrono::steady_clock::now());
  }
  return results;
}

std::vector<SearchResults> SearchEngine::Impl::run_gpu(
    std::span<const float> queries, std::size_t query_count, const MemoryColumns& columns,
    const SearchOptions& options, std::chrono::steady_clock::time_point started) const {
  const RowFilter filter(options.filter, columns);
  const ExactScan scan(queries, query_count, columns, filter);  // the query norms
  gpu::GpuSearchOutcome outcome =
      gpu->search(queries, query_count, scan.query_norms, columns, filter, options.k);
  SearchMetrics metrics;
  metrics.strategy = strategy_name(Strategy::gpu);
  metrics.isa = outcome.scorer;
  metrics.device = capabilities.gpu_device;
  metrics.threads = 1;
  metrics.vectors_scanned = columns.rows();  // the device scores every row, then masks
  std::vector<SearchResults> results(query_count);
  for (std::size_t q = 0; q < query_count; ++q) {
    results[q].hits = core::hits_of_rows<std::size_t>(outcome.tops[q], columns);
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  metrics.search_time_us = std::chrono::duration<double, std::micro>(elapsed).count();
  for (SearchResults& result : results) result.metrics = metrics;
  return results;
}

std::vector<SearchResults> SearchEngine::Impl::run_approximate(std::span<const float> queries,
                                                               std::size_t query_count,
                                                               const MemoryColumns& columns,
                                                               const SearchOptions& options,
                                                               bool fall_back) const {
  const std::size_t dim = columns.embedding_dim;
  IVFPQSearchOptions approximate;
  approximate.k = options.k;
  approximate.nprobe = options.approximate.nprobe;
  approximate.rerank = options.approximate.rerank;
  approximate.filter = options.filter;
  std::vector<SearchResults> results;
  results.reserve(query_count);
  for (std::size_t q = 0; q < query_count; ++q) {
    const auto query = query_at(queries, query_count, dim, q);
    SearchResults found = options.approximate.index->search(query, columns, approximate);
    if (fall_back && found.hits.size() < options.k) {
      // Too few rows of the probed lists passed the filter: the exact scan finds every
      // one there is. Its metrics say so, with the time of both attempts.
      const auto started = std::chrono::steady_clock::now();
      const Strategy exact = auto_select_strategy(
          SearchShape{columns.rows(), 1, columns.embedding_type, false, dim}, capabilities,
          thresholds);
      SearchResults scanned =
          std::move(run_exact(query, 1, columns, options, exact, started).front());
      scanned.metrics.vectors_scanned += found.metrics.vectors_scanned;
      scanned.metrics.search_time_us += found.metrics.search_time_us;
      found = std::move(scanned);
    }
    results.push_back(std::move(found));
  }
  return results;
}

std::vector<SearchResults> SearchEngine::Impl::run_exact(
    std::span<const float> queries, std::size_t query_count, const MemoryColumns& columns,
    const SearchOptions& options, Strategy strategy,
    std::chrono::steady_clock::time_point started) const {
  if (strategy == Strategy::gpu) return run_gpu(queries, query_count, columns, options, started);
  const RowFilter filter(options.filter, columns);
  const ExactScan scan(queries, query_count, columns, filter);
  const kernels::KernelSet& kernel_set = strategy == Strategy::scalar ? scalar : simd;
  const std::size_t query_slices = query_slice_count(strategy, columns.rows(), query_count);
  const std::size_t slices =
      query_slices > 1 ? query_slices : slice_count(strategy, columns.rows());
  std::vector<SliceResult> slice_results;
  if (query_slices > 1) {
    slice_results.push_back(scan_query_slices(scan, kernel_set, query_slices, options.k));
  } else {
    slice_results = scan_slices(scan, kernel_set, strategy, slices, options.k);
  }
  SliceResult& merged = merge_slices(slice_results);

  SearchMetrics metrics = exact_metrics(strategy, kernel_set, slices, merged.scanned);
  std::vector<SearchResults> results(query_count);
  for (std::size_t q = 0; q < query_count; ++q) {
    results[q].hits = core::hits_of_rows<std::size_t>(merged.tops[q].take_sorted(), columns);
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  metrics.search_time_us = std::chrono::duration<double, std::micro>(elapsed).count();
  for (SearchResults& result : results) result.metrics = metrics;
  return results;
}

std::size_t SearchEngine::Impl::slice_count(Strategy strategy, std::size_t rows) const {
  if (strategy != Strategy::parallel) return 1;
  const std::size_t threads = pool.concurrency();
  return threads > 1 ? std::min(threads, std::max<std::size_t>(1, rows / kBlockRows)) : 1;
}

std::size_t SearchEngine::Impl::query_slice_count(Strategy strategy, std::size_t rows,
                                                  std::size_t query_count) const {
  if (strategy != Strategy::parallel || query_count < 2) return 1;
  const std::size_t threads = pool.concurrency();
  if (threads < 2 || rows >= threads * kBlockRows) return 1;
  return std::min(threads, query_count);
}

SliceResult SearchEngine::Impl::scan_query_slices(const ExactScan& scan,
                                                  const kernels::KernelSet& kernel_set,
                                                  std::size_t slices, std::size_t k) const {
  SliceResult result{std::vector<RowTopK>(scan.query_count, RowTopK(k))};
  std::vector<std::size_t> scanned(slices, 0);
  const std::size_t rows = scan.columns.rows();
  pool.run(slices, [&](std::size_t slice) {
    const std::size_t first = scan.query_count * slice / slices;
    const std::size_t last = scan.query_count * (slice + 1) / slices;
    const ExactScan part(scan, first, last);
    scanned[slice] =
        scan_slice(part, kernel_set, Strategy::parallel, 0, rows, result.tops.data() + first);
  });
  result.scanned = scanned.front();  // every slice scans the same rows
  return result;
}

std::vector<SliceResult> SearchEngine::Impl::scan_slices(const ExactScan& scan,
                                                         const kernels::KernelSet& kernel_set,
                                                         Strategy strategy, std::size_t slices,
                                                         std::size_t k) const {
  std::vector<SliceResult> results(slices,
                                   SliceResult{std::vector<RowTopK>(scan.query_count, RowTopK(k))});
  const std::size_t rows = scan.columns.rows();
  auto scan_one = [&](std::size_t slice) {
    const std::size_t begin = rows * slice / slices;
    const std::size_t end = rows * (slice + 1) / slices;
    results[slice].scanned = scan_slice(scan, kernel_set, strategy, begin, end,
                                        results[slice].tops.data());
  };
  if (slices > 1) {
    pool.run(slices, scan_one);
  } else {
    scan_one(0);
  }
  return results;
}

SearchMetrics SearchEngine::Impl::exact_metrics(Strategy strategy,
                                                const kernels::KernelSet& kernel_set,
                                                std::size_t slices, std::size_t scanned) const {
  SearchMetrics metrics;
  metrics.strategy = strategy_name(strategy);
  metrics.isa = strategy == Strategy::blas ? "openblas" : kernel_set.isa;
  metrics.threads = slices;
  if constexpr (kernels::kBlasCompiledIn) {
    if (strategy == Strategy::blas) metrics.threads = kernels::blas_threads();
  }
  metrics.vectors_scanned = scanned;
  return metrics;
}

SearchResults SearchEngine::search(std::span<const float> query, const MemoryColumns& columns,
                                   const SearchOptions& options) const {
  return std::move(impl_->run(query, 1, columns, options).front());
}

std::vector<SearchResults> SearchEngine::search_batch(std::span<const float> queries,
                                                      std::size_t query_count,
                                                      const MemoryColumns& columns,
                                                      const SearchOptions& options) const {
  if (query_count == 0) return {};
  return impl_->run(queries, query_count, columns, options);
}

SearchResults search_with_metrics(std::span<const float> query, const MemoryColumns& columns,
                                  const SearchOptions& options) {
  return SearchEngine::shared().search(query, columns, options);
}

}  // namespace edgehdf5
