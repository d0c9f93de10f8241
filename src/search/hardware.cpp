#include "edgehdf5/hardware.hpp"

#include <sched.h>

#include <thread>

#include "search/kernels/kernels.hpp"

#ifndef EDGEHDF5_BLAS
#define EDGEHDF5_BLAS 0
#endif

namespace edgehdf5 {

HardwareCapabilities HardwareCapabilities::detect() {
  HardwareCapabilities capabilities;
  capabilities.simd_isa = kernels::best_simd_kernels().isa;
  // The CPUs this process may run on (a container or taskset may allow fewer than exist).
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    capabilities.cores = static_cast<std::size_t>(CPU_COUNT(&allowed));
  } else {
    capabilities.cores = std::max(1u, std::thread::hardware_concurrency());
  }
  capabilities.blas_available = EDGEHDF5_BLAS != 0;
  capabilities.cuda_available = false;
  return capabilities;
}

}  // namespace edgehdf5
