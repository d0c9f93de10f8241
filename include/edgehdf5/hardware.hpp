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
  // Why CUDA is off ("module not built ...", "libcuda.so.1 not found ...", "no CUDA device
  // ..."), or the device in use ("NVIDIA H200, 139.8 GiB, sm_90, 132 SMs").
  std::string cuda_status;
  std::string gpu_device;            // the device's name; empty when CUDA is off
  std::size_t gpu_memory_bytes = 0;  // device memory search may use (free memory at start,
                                     // capped by EDGEHDF5_GPU_MEMORY_LIMIT); 0 when off

  // Detects once per call (cheap: a CPUID and a sysconf; the GPU is probed once per process,
  // see src/gpu/gpu_loader.hpp for the EDGEHDF5_GPU* settings). Thread-safe.
  static HardwareCapabilities detect();
};

}  // namespace edgehdf5
