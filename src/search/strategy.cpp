#include "edgehdf5/strategy.hpp"

#include <algorithm>
#include <string>

#include "edgehdf5/error.hpp"

namespace edgehdf5 {

std::string_view strategy_name(Strategy strategy) noexcept {
  switch (strategy) {
    case Strategy::scalar: return "scalar";
    case Strategy::simd: return "simd";
    case Strategy::blas: return "blas";
    case Strategy::parallel: return "parallel";
    case Strategy::ivfpq: return "ivfpq";
    case Strategy::gpu: return "gpu";
  }
  return "unknown";
}

Strategy parse_strategy(std::string_view name) {
  for (Strategy strategy : {Strategy::scalar, Strategy::simd, Strategy::blas, Strategy::parallel,
                            Strategy::ivfpq, Strategy::gpu}) {
    if (strategy_name(strategy) == name) return strategy;
  }
  throw Error(ErrorCode::invalid_argument,
              "unknown strategy '" + std::string(name) +
                  "' (choose auto, scalar, simd, blas, parallel, ivfpq or gpu)");
}

void require_available(Strategy strategy, const HardwareCapabilities& capabilities) {
  switch (strategy) {
    case Strategy::scalar:
    case Strategy::simd:
    case Strategy::parallel:
    case Strategy::ivfpq: return;
    case Strategy::blas:
      if (capabilities.blas_available) return;
      throw Error(ErrorCode::unsupported,
                  "strategy 'blas' is not compiled in (configure with -DEDGEHDF5_BLAS=ON and "
                  "libopenblas-dev installed)");
    case Strategy::gpu:
      if (capabilities.cuda_available) return;
      throw Error(ErrorCode::unsupported,
                  "strategy 'gpu' is not available: " +
                      (capabilities.cuda_status.empty() ? std::string("this build has no GPU backend")
                                                        : "CUDA " + capabilities.cuda_status));
  }
}

std::size_t gpu_device_bytes(const SearchShape& shape) {
  // Keep in step with src/gpu/cuda_module.cu: its score work buffer holds 256M floats, and
  // a batch beyond that is scored in groups.
  constexpr std::size_t kScoreBudgetFloats = std::size_t{256} << 20;
  const std::size_t rows = std::max<std::size_t>(shape.rows, 1);
  const std::size_t dim = shape.embedding_dim != 0 ? shape.embedding_dim : 1536;
  const std::size_t value_bytes = shape.type == EmbeddingType::float16 ? 2 : 4;
  const std::size_t batch = std::max<std::size_t>(shape.batch, 1);
  const std::size_t group = std::min(batch, std::max<std::size_t>(1, kScoreBudgetFloats / rows));
  const std::size_t resident = rows * (dim * value_bytes + sizeof(float) + 1);
  const std::size_t filter = rows * (sizeof(float) + 1);
  const std::size_t work = group * (rows * sizeof(float) + dim * 6);
  return resident + filter + work;
}

Strategy auto_select_strategy(std::size_t rows, const HardwareCapabilities& capabilities,
                              const StrategyThresholds& thresholds) {
  return auto_select_strategy(rows, 1, EmbeddingType::float32, capabilities, thresholds);
}

Strategy auto_select_strategy(std::size_t rows, std::size_t batch, EmbeddingType type,
                              const HardwareCapabilities& capabilities,
                              const StrategyThresholds& thresholds) {
  return auto_select_strategy(SearchShape{rows, batch, type, false}, capabilities, thresholds);
}

Strategy auto_select_strategy(const SearchShape& shape, const HardwareCapabilities& capabilities,
                              const StrategyThresholds& thresholds) {
  const std::size_t rows = shape.rows;
  const std::size_t batch = shape.batch;
  const EmbeddingType type = shape.type;
  // The index answers a query from a few lists whatever the store's size, so above the
  // crossover it wins for batches too (a batch of exact scans still reads every row).
  if (shape.ivfpq_index && rows >= thresholds.ivfpq_min_rows) return Strategy::ivfpq;
  if (capabilities.cuda_available &&
      rows >= (batch > 1 ? thresholds.gpu_min_batch_rows : thresholds.gpu_min_rows) &&
      gpu_device_bytes(shape) <= capabilities.gpu_memory_bytes) {
    // A store too large for the device is left to the CPU strategies (not sliced): a
    // slice streamed over PCIe per query would run at bus speed, below the CPU's own.
    return Strategy::gpu;
  }
  if (capabilities.blas_available) {
    // A batch turns the scan into a matrix product, which OpenBLAS's sgemm does best; the
    // widening of float16 rows is then shared by the whole batch.
    if (batch >= thresholds.blas_min_batch) return Strategy::blas;
    if (batch == 1 && type == EmbeddingType::float32 && rows < thresholds.blas_max_rows) {
      return Strategy::blas;
    }
    if (batch > 1 && rows < thresholds.blas_small_batch_max_rows) return Strategy::blas;
  }
  if (capabilities.cores > 1 && rows >= thresholds.parallel_min_rows) return Strategy::parallel;
  return Strategy::simd;
}

}  // namespace edgehdf5
