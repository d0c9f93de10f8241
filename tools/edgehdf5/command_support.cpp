#include "command_support.hpp"

#include <cerrno>
#include <chrono>
#include <charconv>
#include <string>
#include <system_error>

#include "edgehdf5/error.hpp"

namespace edgehdf5::cli {

void add_memory_file_argument(CLI::App& command, std::filesystem::path& file) {
  command.add_option("FILE", file, "Memory file (.h5)")->required();
}

CLI::Validator positive_count() {
  const auto check = [](const std::string& text) -> std::string {
    unsigned long long value = 0;
    const char* end = text.data() + text.size();
    const auto parsed = std::from_chars(text.data(), end, value);
    if (parsed.ec != std::errc{} || parsed.ptr != end || value == 0) {
      return "expected a whole number of at least 1, got " + text;
    }
    return {};
  };
  return {check, "POSITIVE"};
}

HDF5Memory open_read_only(const std::filesystem::path& file) {
  return HDF5Memory::open(file, OpenOptions{.read_only = true});
}

double seconds_since_epoch() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::ifstream open_input_file(const std::filesystem::path& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) {
    // ifstream keeps no reason of its own; the failed open() left it in errno.
    throw Error(ErrorCode::io,
                "cannot open " + path.string() + ": " + std::generic_category().message(errno));
  }
  return input;
}

}  // namespace edgehdf5::cli
