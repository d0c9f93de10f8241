#pragma once
// Helpers shared by the fuzz targets (tests/fuzz/fuzz_*.cpp).
//
// A target gets arbitrary bytes. Our code must answer them with an edgehdf5::Error (or a
// documented result), never a crash, a hang or another exception type: libFuzzer treats an
// escaping exception as a crash (std::terminate), which is exactly what it should find.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace edgehdf5::fuzz {

// A scratch directory for this process, made once (targets that must hand bytes to code
// that reads files). /dev/shm when there is one, so each run costs no disk I/O.
inline const std::filesystem::path& scratch_directory() {
  static const std::filesystem::path directory = [] {
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    const auto path = base / ("edgehdf5-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return directory;
}

inline void write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

// A property the target checks failed: report it the way libFuzzer reports a crash.
[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "fuzz: property violated: %s\n", what);
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace edgehdf5::fuzz
