// A program outside the tree that uses an installed edgehdf5: it sees only the installed
// public headers and links the installed library (shared or static), found either through
// find_package(edgehdf5) (find_package/CMakeLists.txt) or through pkg-config
// (run_pkg_config.cmake). It creates a memory file, saves three entries, searches, reopens
// the file read-only and checks that the same hits come back.
//
// Usage: edgehdf5_consumer DIRECTORY   (DIRECTORY must exist; the file is made inside it)
// Prints "consumer ok" and exits 0, or names the first mismatch and exits 1.
#include <edgehdf5/edgehdf5.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kEmbeddingDim = 8;

// A unit vector along `axis`: each entry's embedding is distinct, so a query equal to one
// embedding has that entry as its unique best hit.
std::vector<float> axis_embedding(std::size_t axis) {
  std::vector<float> embedding(kEmbeddingDim, 0.0f);
  embedding[axis] = 1.0f;
  return embedding;
}

bool check(bool condition, const std::string& what) {
  if (!condition) std::cerr << "consumer: mismatch: " << what << "\n";
  return condition;
}

// The best hit for each entry's own embedding must be that entry, with its text intact.
bool check_hits(const edgehdf5::HDF5Memory& memory, const std::vector<edgehdf5::MemoryId>& ids,
                const std::vector<std::string>& chunks, const std::string& phase) {
  bool ok = check(memory.count() == ids.size(), phase + ": count() is " +
                                                    std::to_string(memory.count()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::vector<float> query = axis_embedding(i);
    const std::vector<edgehdf5::SearchHit> hits = memory.search(query, 3);
    if (!check(hits.size() == ids.size(), phase + ": search returned " +
                                              std::to_string(hits.size()) + " hits")) {
      return false;
    }
    ok &= check(hits.front().id == ids[i], phase + ": best hit for entry " + std::to_string(i) +
                                               " is id " + std::to_string(hits.front().id));
    ok &= check(memory.get(hits.front().id).chunk == chunks[i],
                phase + ": text of entry " + std::to_string(i));
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIRECTORY\n";
    return 2;
  }
  const std::filesystem::path path = std::filesystem::path(argv[1]) / "consumer_memory.h5";
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + ".wal");

  const std::vector<std::string> chunks = {"The user prefers dark mode.",
                                           "The build runs on two cores.",
                                           "Alice works on ProjectX."};
  try {
    edgehdf5::MemoryConfig config;
    config.path = path;
    config.agent_id = "consumer";
    config.embedder = "axis";
    config.embedding_dim = kEmbeddingDim;

    std::vector<edgehdf5::MemoryId> ids;
    bool ok = true;
    {
      edgehdf5::HDF5Memory memory = edgehdf5::HDF5Memory::create(config);
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        ids.push_back(memory.save({.chunk = chunks[i],
                                   .embedding = axis_embedding(i),
                                   .source_channel = "chat",
                                   .timestamp = 1700000000.0 + static_cast<double>(i),
                                   .session_id = "session-001",
                                   .tags = "consumer"}));
      }
      ok &= check_hits(memory, ids, chunks, "writer");
      memory.close();
    }
    {
      edgehdf5::OpenOptions read_only;
      read_only.read_only = true;
      edgehdf5::HDF5Memory memory = edgehdf5::HDF5Memory::open(path, read_only);
      ok &= check_hits(memory, ids, chunks, "read-only reopen");
      memory.close();
    }
    if (!ok) return 1;
  } catch (const edgehdf5::Error& error) {
    std::cerr << "consumer: edgehdf5::Error: " << error.what() << "\n";
    return 1;
  }
  std::cout << "consumer ok (edgehdf5 " << edgehdf5::kVersion << ")\n";
  return 0;
}
