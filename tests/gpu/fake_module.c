/* A stand-in CUDA module from "another build": its table carries an interface version the
 * loader must refuse (tests/gpu/test_gpu.cpp, GpuPath.LoaderSaysWhatIsMissing). */
#include "gpu/gpu_module_abi.h"

static const edgehdf5_gpu_api kOldTable = {.abi_version = 999u,
                                           .struct_size = (uint32_t)sizeof(edgehdf5_gpu_api)};

__attribute__((visibility("default"))) const edgehdf5_gpu_api* edgehdf5_cuda_module(void) {
  return &kOldTable;
}
