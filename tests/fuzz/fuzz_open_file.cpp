// Fuzz target: opening a mutated memory file.
//
// The bytes are written as FILE.h5 (seeded from small valid files: ours and h5py-made, see
// tests/fuzz/corpus/open_file/), opened read-only as untrusted (OpenOptions::untrusted),
// read (count, get, search, keyword search, the graph), and, once opened, checked by
// verify_file(). A file that is not a valid memory file must be refused with an
// edgehdf5::Error (schema, hdf5, corruption, io), never crash. libhdf5 itself is not
// hardened against hostile files (README, "Fuzzing"): files of the unchecksummed 1.0 format
// reach crashes inside it (tests/fuzz/regressions/open_file), which is why an untrusted open
// takes only the checksummed format (src/store/untrusted_file.hpp).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/memory.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

void read_everything(const edgehdf5::HDF5Memory& memory) {
  const std::size_t rows = memory.count();
  if (memory.count_active() > rows) edgehdf5::fuzz::violated("more active rows than rows");
  for (std::size_t id = 0; id < rows && id < 8; ++id) {
    try {
      (void)memory.get(static_cast<edgehdf5::MemoryId>(id));
    } catch (const edgehdf5::Error&) {
      // not_found for a removed memory
    }
  }
  const std::vector<float> query(memory.config().embedding_dim, 0.5f);
  (void)memory.search(query, 3);
  (void)memory.keyword_search("alpha note", 3);
  (void)memory.knowledge();
  (void)memory.sessions();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgehdf5;
  static const auto path = fuzz::scratch_directory() / "open_file.h5";
  fuzz::write_bytes(path, fuzz::as_text(data, size));

  bool opened = false;
  try {
    OpenOptions options;
    options.read_only = true;
    options.untrusted = true;
    auto memory = HDF5Memory::open(path, options);
    opened = true;
    read_everything(memory);
  } catch (const Error&) {
    // refused with a reason
  }
  if (!opened) return 0;  // verify would parse what the untrusted open refused
  std::vector<std::string> problems;
  try {
    problems = verify_file(path);
  } catch (const Error&) {
    problems.push_back("verify threw");
  }
  return 0;
}
