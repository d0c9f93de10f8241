#pragma once
// Finding and loading the CUDA module (libedgehdf5_cuda.so) at run time.
//
// The library never links CUDA. A build with EDGEHDF5_CUDA=ON adds a module beside it; this
// loader opens it only when the CUDA driver is present, and asks it for a device. Whatever
// is missing (the module in this build, the driver, a device) ends up as a sentence in
// GpuModule::status, which HardwareCapabilities::detect() reports as cuda_status, and the
// engine then searches with its CPU strategies.
//
// Settings, read from the environment once per process (gpu_module()):
//   EDGEHDF5_GPU=off             never load the module (CPU strategies only)
//   EDGEHDF5_CUDA_MODULE=PATH    the module file to load (else: beside the binary that holds
//                                libedgehdf5, the build's bin/, the install libdir, then the
//                                loader's own search path)
//   EDGEHDF5_CUDA_DRIVER=NAME    the driver library that must load first (libcuda.so.1)
//   EDGEHDF5_GPU_MEMORY_LIMIT=N  device memory the engine may use, in bytes; K, M, G suffixes
//                                (binary). A store whose device copy needs more is not
//                                offered to auto, and a forced gpu search of it is refused.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/gpu_module_abi.h"

namespace edgehdf5::gpu {

// True when this build made the CUDA module (EDGEHDF5_CUDA=ON at configure).
bool module_built() noexcept;

struct LoadSettings {
  bool disabled = false;                 // EDGEHDF5_GPU=off
  std::string driver = "libcuda.so.1";   // EDGEHDF5_CUDA_DRIVER
  std::vector<std::string> module_paths; // tried in order; the first file that exists loads
  std::optional<std::size_t> memory_limit_bytes;  // EDGEHDF5_GPU_MEMORY_LIMIT
  std::string problem;  // a setting that could not be read (then nothing is loaded)
};

struct GpuModule {
  const edgehdf5_gpu_api* api = nullptr;  // null: the GPU is off, see status
  std::string status;  // why the GPU is off, or the device ("NVIDIA H200, 139.8 GiB, sm_90")
  edgehdf5_gpu_device_info device{};
  std::size_t memory_limit_bytes = 0;  // free device memory at load, capped by the setting

  bool usable() const noexcept { return api != nullptr; }
};

// The settings as the environment gives them (module paths filled in as described above).
LoadSettings settings_from_environment();

// Loads per `settings`. Never throws: every failure is a status. Each call loads afresh
// (tests); the process keeps one (gpu_module()).
GpuModule load_module(const LoadSettings& settings);

// The process's module, loaded on first use from settings_from_environment(). Thread-safe.
const GpuModule& gpu_module();

// "1048576", "512K", "64M", "2G" -> bytes; empty for anything else (a sign, a fraction,
// an unknown suffix, overflow).
std::optional<std::size_t> parse_byte_size(std::string_view text);

}  // namespace edgehdf5::gpu
