// Opens one file with HDF5Memory::open and prints the outcome as one JSON line, so that the
// Python tests can break files with h5py (test_schema_errors.py) or read a file while an
// edgehdf5 writer holds it (test_h5py_interop.py) and check what the library does.
//
// Usage: interop_open_probe [--read-write | --hold] PATH
//   (default)     open read-only, print, close
//   --read-write  open for writing, print, close
//   --hold        open for writing, print, then keep the file open until stdin is closed
// Prints {"opened": true, "rows": N, "active": M}
//     or {"opened": false, "code": "<error_code_name>", "message": "..."}
// and exits 0 either way: a failure to open is the probe's answer, not its own failure. A
// failing close() is the probe's failure: message on stderr, exit status 1.
// An exception that is not an edgehdf5::Error is reported with "code": null, because the
// library promises to throw nothing else.

#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "edgehdf5/edgehdf5.hpp"

namespace {

using nlohmann::json;

enum class Mode { read_only, read_write, hold };

std::optional<Mode> parse_mode(int argc, char** argv) {
  if (argc == 2) return Mode::read_only;
  if (argc != 3) return std::nullopt;
  const std::string_view flag = argv[1];
  if (flag == "--read-write") return Mode::read_write;
  if (flag == "--hold") return Mode::hold;
  return std::nullopt;
}

void print(const json& outcome) {
  // An error message quoting raw bytes from a broken file may not be valid UTF-8.
  std::cout << outcome.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Mode> mode = parse_mode(argc, argv);
  if (!mode) {
    std::cerr << "usage: " << argv[0] << " [--read-write | --hold] PATH\n";
    return 2;
  }
  std::optional<edgehdf5::HDF5Memory> memory;
  try {
    memory.emplace(edgehdf5::HDF5Memory::open(argv[argc - 1],
                                              {.read_only = *mode == Mode::read_only}));
  } catch (const edgehdf5::Error& error) {
    print({{"opened", false},
           {"code", edgehdf5::error_code_name(error.code())},
           {"message", error.what()}});
    return 0;
  } catch (const std::exception& error) {
    print({{"opened", false}, {"code", nullptr}, {"message", error.what()}});
    return 0;
  }
  // std::endl in print() flushes: a caller waiting for this line knows the writer holds the
  // file from here on.
  print({{"opened", true}, {"rows", memory->count()}, {"active", memory->count_active()}});
  if (*mode == Mode::hold) std::cin.ignore(std::numeric_limits<std::streamsize>::max());
  try {
    memory->close();
  } catch (const std::exception& error) {
    std::cerr << argv[0] << ": close() failed: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
