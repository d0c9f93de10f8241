#include "edgehdf5/strategy.hpp"

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
      throw Error(ErrorCode::unsupported,
                  "strategy 'gpu' is not available: this build has no GPU backend");
  }
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
  if (capabilities.blas_available) {
    // A batch turns the scan into a matrix product, which OpenBLAS's sgemm does best; the
    // widening of float16 rows is then shared by the whole batch.
    if (batch >= thresholds.blas_min_batch) return Strategy::blas;
    if (batch == 1 && type == EmbeddingType::float32 && rows < thresholds.blas_max_rows) {
      return Strategy::blas;
    }
  }
  if (capabilities.cores > 1 && rows >= thresholds.parallel_min_rows) return Strategy::parallel;
  return Strategy::simd;
}

}  // namespace edgehdf5
