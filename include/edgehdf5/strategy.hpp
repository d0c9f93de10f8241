#pragma once
// Search strategies and the adaptive choice between them.

#include <cstddef>
#include <string_view>

#include "edgehdf5/hardware.hpp"

namespace edgehdf5 {

enum class Strategy {
  scalar,    // the plain C++ reference loop
  simd,      // Highway kernels for the best instruction set of this CPU
  blas,      // OpenBLAS sgemv/sgemm (float32 stores; float16 stores use simd)
  parallel,  // simd kernels on every core, each scanning a slice
  ivfpq,     // approximate index (not built in this version)
  gpu,       // CUDA (not built in this version)
};

std::string_view strategy_name(Strategy strategy) noexcept;
// Parses "scalar", "simd", "blas", "parallel", "ivfpq", "gpu"; throws invalid_argument.
Strategy parse_strategy(std::string_view name);
// Throws unsupported, naming the strategy, if this build or machine cannot run it.
void require_available(Strategy strategy, const HardwareCapabilities& capabilities);

// Collection sizes (rows) where one strategy starts to beat another. The defaults come from
// `edgehdf5-bench calibrate` on the development machine (see README, "Strategy thresholds").
struct StrategyThresholds {
  std::size_t parallel_min_rows = 16384;  // below: one thread; at or above: all cores
};

// The fastest strategy for `rows` vectors on this machine: simd for small collections,
// parallel above the crossover when there is more than one core.
Strategy auto_select_strategy(std::size_t rows, const HardwareCapabilities& capabilities,
                              const StrategyThresholds& thresholds = {});

}  // namespace edgehdf5
