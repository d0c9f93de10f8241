#pragma once
// Search strategies and the adaptive choice between them.

#include <cstddef>
#include <string_view>

#include "edgehdf5/hardware.hpp"
#include "edgehdf5/memory_columns.hpp"

namespace edgehdf5 {

enum class Strategy {
  scalar,    // the plain C++ reference loop
  simd,      // Highway kernels for the best instruction set of this CPU
  blas,      // OpenBLAS sgemv/sgemm (float16 rows are widened block by block first)
  parallel,  // simd kernels on every core, each scanning a slice
  ivfpq,     // the IVF-PQ approximate index with exact re-ranking (needs an index)
  gpu,       // CUDA: a device-resident copy of the rows, cuBLAS/own kernels, top-k on the GPU
};

std::string_view strategy_name(Strategy strategy) noexcept;
// Parses "scalar", "simd", "blas", "parallel", "ivfpq", "gpu"; throws invalid_argument.
Strategy parse_strategy(std::string_view name);
// Throws unsupported, naming the strategy, if this build or machine cannot run it. (ivfpq
// runs in every build; whether an index exists is the caller's to check.)
void require_available(Strategy strategy, const HardwareCapabilities& capabilities);

// Where one strategy starts to beat another. The defaults come from `edgehdf5-bench
// calibrate` and `edgehdf5-bench exact` on the development machine (see README, "Strategy
// thresholds"); a different machine can measure its own and pass them to SearchEngine.
struct StrategyThresholds {
  std::size_t parallel_min_rows = 8192;  // one query: all cores from this many rows
  std::size_t blas_max_rows = 32768;     // one query, float32: OpenBLAS below this many rows
                                         // (its threads wake faster than ours while the
                                         // matrix is in cache; above it `parallel` wins)
  std::size_t blas_min_batch = 32;       // batches of this many queries: sgemm
  std::size_t blas_small_batch_max_rows = 8192;  // smaller batches: sgemm below this many
                                                 // rows (the matrix in cache), else parallel
  std::size_t ivfpq_min_rows = 20000;    // with an IVF-PQ index: use it from this many rows,
                                         // the smallest size where, at its default nprobe and
                                         // re-rank, it answered in under half the exact time
                                         // at recall@10 >= 0.95 (`edgehdf5-bench ivfpq
                                         // --crossover`; at 10K it saved only 0.13x)
  // With a GPU (capabilities.cuda_available): gpu from this many rows for one query, and
  // from gpu_min_batch_rows rows for batches. Provisional: not yet measured on a device;
  // `edgehdf5-bench gpu` prints the crossovers of the machine it runs on.
  std::size_t gpu_min_rows = 100000;
  std::size_t gpu_min_batch_rows = 16384;
  // Where auto's choice is an exact CPU strategy (simd, parallel or blas) of 512 rows or
  // more, auto measures: the first search of a shape (rows and batch size by their bit
  // width, the dimension, the row type) runs the thresholds' choice, the next ones time each
  // candidate in turn, and from then on the fastest runs (src/search/strategy_tuner.hpp says
  // why: the crossovers above differ from machine to machine). false: these thresholds
  // alone decide, the same on every call.
  bool tune_auto = true;
};

// What the adaptive choice looks at for one search.
struct SearchShape {
  std::size_t rows = 0;    // rows of the store (active and deleted)
  std::size_t batch = 1;   // queries answered together
  EmbeddingType type = EmbeddingType::float32;
  bool ivfpq_index = false;  // an IVF-PQ index over these rows is at hand
  std::size_t embedding_dim = 0;  // for the GPU's memory check; 0: unknown (taken as 1536)
};

// Device memory a gpu search of `shape` needs: the device copy of the rows (embeddings in
// their stored type, norms, tombstones), a filter mask and recency weights, and the work
// buffer of one group of query scores. An estimate the engine and auto_select_strategy
// both use: gpu is not offered when it exceeds capabilities.gpu_memory_bytes.
std::size_t gpu_device_bytes(const SearchShape& shape);

// The fastest strategy for `shape` on this machine: ivfpq when an index is at hand and the
// store has at least ivfpq_min_rows rows, else the fastest exact backend (gpu only when
// capabilities.cuda_available, the thresholds say so and gpu_device_bytes(shape) fits).
Strategy auto_select_strategy(const SearchShape& shape, const HardwareCapabilities& capabilities,
                              const StrategyThresholds& thresholds = {});

// The fastest strategy for one query over `rows` float32 vectors on this machine.
Strategy auto_select_strategy(std::size_t rows, const HardwareCapabilities& capabilities,
                              const StrategyThresholds& thresholds = {});

// The fastest strategy for `batch` queries over `rows` vectors of `type`.
Strategy auto_select_strategy(std::size_t rows, std::size_t batch, EmbeddingType type,
                              const HardwareCapabilities& capabilities,
                              const StrategyThresholds& thresholds = {});

}  // namespace edgehdf5
