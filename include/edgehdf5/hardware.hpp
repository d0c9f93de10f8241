#pragma once
// What this machine and this build can use for search, detected at run time.

#include <cstddef>
#include <string>

namespace edgehdf5 {

struct HardwareCapabilities {
  std::string simd_isa =
      "scalar";                 // the best SIMD kernels this CPU runs ("AVX3", "AVX2", "NEON"...)
  std::size_t cores = 1;        // hardware threads available to the process
  bool blas_available = false;  // built with EDGEHDF5_BLAS (OpenBLAS)
  bool cuda_available = false;  // built with EDGEHDF5_CUDA and a CUDA device is present

  // Detects once per call (cheap: a CPUID and a sysconf). Thread-safe.
  static HardwareCapabilities detect();
};

}  // namespace edgehdf5
