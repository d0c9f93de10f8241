// Fuzz target: log (FILE.wal) replay from arbitrary bytes.
//
// The bytes are the log; read_log() parses it and every record it returns is applied to a
// new store's state with apply_change(), as recovery does. A torn or damaged log must end in
// a shorter log or Error(corruption), never a crash, and what read_log accepts must account
// for the bytes: valid_bytes <= file_bytes, lsns in sequence after base_lsn.

#include <cstddef>
#include <cstdint>

#include "edgehdf5/error.hpp"
#include "edgehdf5/file_system.hpp"
#include "fuzz/fuzz_support.hpp"
#include "store/changes.hpp"
#include "store/schema.hpp"
#include "store/wal.hpp"

namespace {

// The configuration the seed logs were written with (tests/fuzz/make_seeds.cpp).
edgehdf5::MemoryConfig seed_config() {
  edgehdf5::MemoryConfig config;
  config.path = edgehdf5::fuzz::scratch_directory() / "log_replay.h5";
  config.embedder = "hash:4";
  config.embedding_dim = 4;
  config.created_at = "2026-01-01T00:00:00Z";
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace edgehdf5;
  static const auto file_system = posix_file_system();
  static const auto log_path = fuzz::scratch_directory() / "log_replay.h5.wal";
  fuzz::write_bytes(log_path, fuzz::as_text(data, size));

  store::LogContents contents;
  try {
    contents = store::read_log(*file_system, log_path);
  } catch (const Error&) {
    return 0;  // a damaged header or records out of sequence: refused with a reason
  }
  if (contents.valid_bytes > contents.file_bytes) fuzz::violated("valid_bytes > file_bytes");
  if (contents.file_bytes != size) fuzz::violated("file_bytes is not the log's size");
  std::uint64_t expected_lsn = contents.base_lsn;
  for (const auto& record : contents.records) {
    if (record.lsn != ++expected_lsn) fuzz::violated("record lsns out of sequence");
  }

  store::StoreState state = store::empty_state(seed_config());
  for (const auto& record : contents.records) {
    try {
      store::apply_change(state, record.type, record.payload);
    } catch (const Error&) {
      break;  // recovery stops at a record that does not fit, and reports it
    }
  }
  return 0;
}
