// Writes the seed inputs of the fuzz targets that need files our library writes:
//   OUT/log_replay/*   logs (FILE.wal) of a store with every kind of record
//   OUT/open_file/*    small memory files: plain, float16 + deflate, with an IVF-PQ index
// The committed corpus (tests/fuzz/corpus/) was made with it; run it again after a change to
// the log or file format:  make_fuzz_seeds tests/fuzz/corpus
// (the h5py-made seeds come from tests/interop/make_rust_fixture.py, see README "Fuzzing").

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "edgehdf5/memory.hpp"

namespace {

using namespace edgehdf5;
namespace fs = std::filesystem;

MemoryEntry entry(int i, std::size_t dim) {
  MemoryEntry e;
  // snprintf, not `"..." + std::to_string(...)`: that trips a false -Wrestrict in GCC 12.
  char text[64];
  std::snprintf(text, sizeof text, "alpha note %d%s", i, i % 2 ? " Grüße 🚀" : "");
  e.chunk = text;
  for (std::size_t d = 0; d < dim; ++d) {
    e.embedding.push_back(static_cast<float>((i + 1) * (d + 1) % 7) - 3.0f);
  }
  e.source_channel = i % 2 ? "chat" : "email";
  e.timestamp = 1.7e9 + i;
  std::snprintf(text, sizeof text, "s%d", i / 3);
  e.session_id = text;
  e.tags = "a,b";
  return e;
}

MemoryConfig config_at(const fs::path& path, bool float16) {
  MemoryConfig config;
  config.path = path;
  config.embedder = "hash:4";
  config.embedding_dim = 4;
  config.float16 = float16;
  config.compression = float16;
  config.created_at = "2026-01-01T00:00:00Z";
  return config;
}

// Every kind of log record, flushed, then the log copied aside before close() checkpoints it.
void write_log_seed(const fs::path& scratch, const fs::path& out) {
  const auto path = scratch / "log.h5";
  auto memory = HDF5Memory::create(config_at(path, false));
  std::vector<MemoryEntry> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(entry(i, 4));
  memory.save_batch(batch);
  memory.save(entry(3, 4));
  memory.remove(1);
  memory.add_session("s0", 0, 3, "chat", "first session");
  const auto a = memory.add_entity("Ada", "person", 0);
  const auto b = memory.add_entity("edgehdf5", "project", -1);
  memory.add_relation(a, b, "works_on", 0.5f);
  memory.add_observation(a, "likes HDF5", 0);
  memory.remove_observation(a, "likes HDF5");
  memory.remove_relations(a, b, "works_on");
  memory.remove_entity(b);
  memory.flush();
  fs::copy_file(fs::path(path.string() + ".wal"), out / "all_records.wal",
                fs::copy_options::overwrite_existing);
}

void write_file_seed(const fs::path& scratch, const fs::path& out, const std::string& name,
                     bool float16, bool index) {
  const auto path = scratch / (name + ".h5");
  {
    auto memory = HDF5Memory::create(config_at(path, float16));
    std::vector<MemoryEntry> batch;
    const int rows = index ? 260 : 5;  // an index needs 256 active rows
    for (int i = 0; i < rows; ++i) batch.push_back(entry(i, 4));
    memory.save_batch(batch);
    memory.remove(2);
    memory.add_session("s0", 0, 3, "chat", "first session");
    const auto a = memory.add_entity("Ada", "person", 0);
    const auto b = memory.add_entity("edgehdf5", "project", -1);
    memory.add_relation(a, b, "works_on", 0.5f);
    memory.add_observation(a, "likes HDF5", 0);
    if (index) {
      IVFPQParams params;
      params.nlist = 2;
      params.sub_quantizers = 2;
      params.threads = 1;
      memory.build_ivfpq_index(params);
    }
    memory.close();
  }
  fs::copy_file(path, out / (name + ".h5"), fs::copy_options::overwrite_existing);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path corpus = argv[1];
  const fs::path scratch = fs::temp_directory_path() / "edgehdf5-fuzz-seeds";
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  fs::create_directories(corpus / "log_replay");
  fs::create_directories(corpus / "open_file");
  write_log_seed(scratch, corpus / "log_replay");
  write_file_seed(scratch, corpus / "open_file", "ours_plain", false, false);
  write_file_seed(scratch, corpus / "open_file", "ours_float16_deflate", true, false);
  write_file_seed(scratch, corpus / "open_file", "ours_ivfpq", false, true);
  fs::remove_all(scratch);
  std::printf("seeds written under %s\n", corpus.c_str());
  return 0;
}
