#include "edgehdf5/hardware.hpp"

#include "core/kernels/blas.hpp"
#include "core/kernels/kernels.hpp"
#include "core/thread_pool.hpp"
#include "gpu/gpu_loader.hpp"

namespace edgehdf5 {

HardwareCapabilities HardwareCapabilities::detect() {
  HardwareCapabilities capabilities;
  capabilities.simd_isa = kernels::best_simd_kernels().isa;
  capabilities.cores = core::available_cores();
  capabilities.blas_available = kernels::kBlasCompiledIn;
  const gpu::GpuModule& module = gpu::gpu_module();
  capabilities.cuda_available = module.usable();
  capabilities.cuda_status = module.status;
  if (module.usable()) {
    capabilities.gpu_device = module.device.name;
    capabilities.gpu_memory_bytes = module.memory_limit_bytes;
  }
  return capabilities;
}

}  // namespace edgehdf5
