#include "gpu/gpu_loader.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <mutex>

#ifndef EDGEHDF5_CUDA
#define EDGEHDF5_CUDA 0
#endif
#ifndef EDGEHDF5_CUDA_MODULE_BUILD_DIR
#define EDGEHDF5_CUDA_MODULE_BUILD_DIR ""
#endif
#ifndef EDGEHDF5_CUDA_MODULE_INSTALL_DIR
#define EDGEHDF5_CUDA_MODULE_INSTALL_DIR ""
#endif

namespace edgehdf5::gpu {
namespace {

constexpr const char* kModuleFile = "libedgehdf5_cuda.so";

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

// The directory of the binary (executable or shared library) this code was linked into:
// the module is installed and built beside it.
std::string directory_of_this_binary() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&directory_of_this_binary), &info) == 0 ||
      info.dli_fname == nullptr) {
    return {};
  }
  std::error_code ignored;
  const std::filesystem::path binary = std::filesystem::canonical(info.dli_fname, ignored);
  return binary.empty() ? std::string() : binary.parent_path().string();
}

std::string describe(const edgehdf5_gpu_device_info& device) {
  char line[384];
  std::snprintf(line, sizeof(line), "%s, %.1f GiB, sm_%d%d, %d SMs", device.name,
                static_cast<double>(device.total_memory_bytes) / (1024.0 * 1024.0 * 1024.0),
                device.compute_major, device.compute_minor, device.multiprocessors);
  return line;
}

}  // namespace

bool module_built() noexcept { return EDGEHDF5_CUDA != 0; }

std::optional<std::size_t> parse_byte_size(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::size_t shift = 0;
  switch (text.back()) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    default: break;
  }
  if (shift != 0) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  std::size_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::size_t digit = static_cast<std::size_t>(c - '0');
    if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (shift != 0 && value > (std::numeric_limits<std::size_t>::max() >> shift)) return std::nullopt;
  return value << shift;
}

LoadSettings settings_from_environment() {
  LoadSettings settings;
  const std::string gpu = environment("EDGEHDF5_GPU");
  settings.disabled = gpu == "off" || gpu == "0";
  if (const std::string driver = environment("EDGEHDF5_CUDA_DRIVER"); !driver.empty()) {
    settings.driver = driver;
  }
  if (const std::string limit = environment("EDGEHDF5_GPU_MEMORY_LIMIT"); !limit.empty()) {
    settings.memory_limit_bytes = parse_byte_size(limit);
    if (!settings.memory_limit_bytes) {
      settings.problem = "EDGEHDF5_GPU_MEMORY_LIMIT='" + limit +
                         "' is not a byte size (digits with an optional K, M or G)";
    }
  }
  if (const std::string module = environment("EDGEHDF5_CUDA_MODULE"); !module.empty()) {
    settings.module_paths.push_back(module);
    return settings;
  }
  for (const std::string& directory :
       {directory_of_this_binary(), std::string(EDGEHDF5_CUDA_MODULE_BUILD_DIR),
        std::string(EDGEHDF5_CUDA_MODULE_INSTALL_DIR)}) {
    if (!directory.empty()) settings.module_paths.push_back(directory + "/" + kModuleFile);
  }
  return settings;
}

GpuModule load_module(const LoadSettings& settings) {
  GpuModule module;
  if (!module_built()) {
    module.status = "module not built (configure with -DEDGEHDF5_CUDA=ON and the CUDA toolkit)";
    return module;
  }
  if (settings.disabled) {
    module.status = "turned off (EDGEHDF5_GPU=off)";
    return module;
  }
  if (!settings.problem.empty()) {
    module.status = settings.problem;
    return module;
  }
  // The driver first: it is what a machine without an NVIDIA GPU lacks, and opening it is
  // cheap, while the module pulls in cuBLAS (hundreds of MB).
  if (dlopen(settings.driver.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
    module.status = settings.driver + " not found (no NVIDIA driver on this machine)";
    return module;
  }
  std::string tried;
  void* handle = nullptr;
  std::string load_error;
  for (const std::string& path : settings.module_paths) {
    tried += (tried.empty() ? "" : ", ") + path;
    std::error_code ignored;
    if (!std::filesystem::exists(path, ignored)) continue;
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) break;
    const char* why = dlerror();
    load_error = path + ": " + (why != nullptr ? why : "dlopen failed");
    break;
  }
  if (handle == nullptr) {
    module.status = !load_error.empty()
                        ? "module could not be loaded (" + load_error + ")"
                        : std::string("module ") + kModuleFile + " not found (looked at: " +
                              (tried.empty() ? "nothing" : tried) + ")";
    return module;
  }
  auto entry = reinterpret_cast<edgehdf5_gpu_module_entry>(dlsym(handle, EDGEHDF5_GPU_MODULE_SYMBOL));
  const edgehdf5_gpu_api* api = entry != nullptr ? entry() : nullptr;
  if (api == nullptr) {
    module.status = std::string("module has no ") + EDGEHDF5_GPU_MODULE_SYMBOL + "()";
    return module;
  }
  if (api->abi_version != EDGEHDF5_GPU_ABI_VERSION || api->struct_size < sizeof(edgehdf5_gpu_api)) {
    module.status = "module interface version " + std::to_string(api->abi_version) +
                    " does not match this library's " + std::to_string(EDGEHDF5_GPU_ABI_VERSION) +
                    " (a module from another build?)";
    return module;
  }
  char error[512] = {0};
  if (api->probe(&module.device, error, sizeof(error)) != 0) {
    module.status = std::string("no CUDA device (") + error + ")";
    return module;
  }
  module.memory_limit_bytes = module.device.free_memory_bytes;
  if (settings.memory_limit_bytes && *settings.memory_limit_bytes < module.memory_limit_bytes) {
    module.memory_limit_bytes = *settings.memory_limit_bytes;
  }
  module.api = api;
  module.status = describe(module.device);
  return module;
}

const GpuModule& gpu_module() {
  // Loaded once and never unloaded: cudart and cuBLAS do not support being unloaded while a
  // context may still exist.
  static const GpuModule module = load_module(settings_from_environment());
  return module;
}

}  // namespace edgehdf5::gpu
