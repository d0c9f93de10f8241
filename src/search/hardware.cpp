#include "edgehdf5/hardware.hpp"

#include "core/kernels/blas.hpp"
#include "core/kernels/kernels.hpp"
#include "core/thread_pool.hpp"

namespace edgehdf5 {

HardwareCapabilities HardwareCapabilities::detect() {
  HardwareCapabilities capabilities;
  capabilities.simd_isa = kernels::best_simd_kernels().isa;
  capabilities.cores = core::available_cores();
  capabilities.blas_available = kernels::kBlasCompiledIn;
  capabilities.cuda_available = false;
  return capabilities;
}

}  // namespace edgehdf5
