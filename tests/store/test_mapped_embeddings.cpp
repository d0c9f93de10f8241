// Mapped embeddings (OpenOptions::map_embeddings, src/store/mapped_rows.hpp): an open store
// maps a contiguous, uncompressed embedding matrix from its file instead of reading it.
// Whether a matrix is mapped is asked of the kernel (/proc/self/maps: which file backs the
// page of embeddings_f32.data()), and what a mapped store holds and answers is compared
// with the same file read by HDF5 (map_embeddings = false) and with brute force.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>

#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::file_backing;
using testing::make_entries;
using testing::TempDir;

constexpr std::size_t kDim = 64;
constexpr std::size_t kRows = 1'000;  // 256 KB of float32, 128 KB of float16: both mapped

MemoryConfig config_at(const std::filesystem::path& path, bool half, bool compression = false) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = kDim;
  config.float16 = half;
  config.compression = compression;
  config.agent_id = "tester";
  config.embedder = "random:64";
  config.compact_threshold = 0;  // compaction only when a test asks
  return config;
}

OpenOptions options(bool read_only, bool map = true) {
  OpenOptions result;
  result.read_only = read_only;
  result.map_embeddings = map;
  return result;
}

const void* embeddings_of(const HDF5Memory& memory) {
  const MemoryColumns& columns = memory.columns();
  return columns.embedding_type == EmbeddingType::float16
             ? static_cast<const void*>(columns.embeddings_f16.data())
             : static_cast<const void*>(columns.embeddings_f32.data());
}

std::size_t embedding_bytes(const MemoryColumns& columns) {
  return columns.embedding_type == EmbeddingType::float16
             ? columns.embeddings_f16.size() * sizeof(half_bits)
             : columns.embeddings_f32.size() * sizeof(float);
}

// Whether the store's matrix is a mapping of `file` (skips where the kernel cannot say).
#define EXPECT_MAPPED_FROM(memory, file, expected)                                      \
  do {                                                                                  \
    const std::optional<std::string> backing = file_backing(embeddings_of(memory));     \
    if (!backing) GTEST_SKIP() << "no /proc/self/maps here";                            \
    EXPECT_EQ(backing->find((file).filename().string()) != std::string::npos, expected) \
        << "the matrix lies in '" << *backing << "'";                                   \
  } while (false)

void expect_same_matrix(const MemoryColumns& a, const MemoryColumns& b) {
  ASSERT_EQ(a.embedding_type, b.embedding_type);
  ASSERT_EQ(embedding_bytes(a), embedding_bytes(b));
  const void* left = a.embedding_type == EmbeddingType::float16
                         ? static_cast<const void*>(a.embeddings_f16.data())
                         : static_cast<const void*>(a.embeddings_f32.data());
  const void* right = b.embedding_type == EmbeddingType::float16
                          ? static_cast<const void*>(b.embeddings_f16.data())
                          : static_cast<const void*>(b.embeddings_f32.data());
  EXPECT_EQ(std::memcmp(left, right, embedding_bytes(a)), 0);
  EXPECT_EQ(a.norms, b.norms);
  EXPECT_EQ(a.ids, b.ids);
}

// The ids of the k active rows nearest `query` by cosine, in double: the oracle.
std::vector<MemoryId> brute_force(const MemoryColumns& columns, std::span<const float> query,
                                  std::size_t k) {
  std::vector<std::pair<double, MemoryId>> scored;
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.tombstones[row]) continue;
    const std::vector<float> embedding = columns.embedding(row);
    double dot = 0, norm_e = 0, norm_q = 0;
    for (std::size_t i = 0; i < kDim; ++i) {
      dot += double(embedding[i]) * query[i];
      norm_e += double(embedding[i]) * embedding[i];
      norm_q += double(query[i]) * query[i];
    }
    scored.emplace_back(-dot / std::sqrt(norm_e * norm_q), columns.ids[row]);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<MemoryId> ids;
  for (std::size_t i = 0; i < std::min(k, scored.size()); ++i) ids.push_back(scored[i].second);
  return ids;
}

std::vector<MemoryId> search_ids(const HDF5Memory& memory, std::span<const float> query,
                                 std::size_t k) {
  std::vector<MemoryId> ids;
  for (const SearchHit& hit : memory.search(query, k)) ids.push_back(hit.id);
  return ids;
}

void create_store(const std::filesystem::path& path, bool half, std::size_t rows = kRows,
                  bool compression = false) {
  HDF5Memory memory = HDF5Memory::create(config_at(path, half, compression));
  memory.save_batch(make_entries(rows, kDim));
  memory.close();
}

class MappedEmbeddings : public ::testing::TestWithParam<bool> {};  // float16 or not

TEST_P(MappedEmbeddings, ALargeMatrixIsMappedAndHoldsWhatHDF5Reads) {
  TempDir dir;
  const auto path = dir / "m.h5";
  create_store(path, GetParam());
  const HDF5Memory mapped = HDF5Memory::open(path, options(true));
  const HDF5Memory read = HDF5Memory::open(path, options(true, /*map=*/false));
  EXPECT_MAPPED_FROM(mapped, path, true);
  EXPECT_MAPPED_FROM(read, path, false);
  expect_same_matrix(mapped.columns(), read.columns());
  const std::vector<float> query = make_entries(1, kDim, 7)[0].embedding;
  EXPECT_EQ(search_ids(mapped, query, 10), brute_force(read.columns(), query, 10));
}

TEST_P(MappedEmbeddings, SavesAfterOpenGrowTheMatrixAndSurviveTheCheckpoint) {
  TempDir dir;
  const auto path = dir / "m.h5";
  create_store(path, GetParam());
  const auto later = make_entries(3'000, kDim, 11, static_cast<int>(kRows));
  {
    HDF5Memory memory = HDF5Memory::open(path, options(false));
    EXPECT_MAPPED_FROM(memory, path, true);
    // Within the mapped block's spare room (as many rows again), then past it: the matrix
    // moves to memory of its own, the mapped rows copied with it.
    memory.save_batch(std::span(later).first(500));
    EXPECT_MAPPED_FROM(memory, path, true);
    memory.save_batch(std::span(later).subspan(500));
    for (MemoryId id = 0; id < 4'000; id += 7) memory.remove(id);
    ASSERT_EQ(memory.count(), kRows + later.size());
    for (std::size_t q = 0; q < 5; ++q) {
      const std::vector<float> query = make_entries(1, kDim, 100 + q)[0].embedding;
      EXPECT_EQ(search_ids(memory, query, 10), brute_force(memory.columns(), query, 10));
    }
    memory.close();  // checkpoints: the new file is written from the mapped matrix
  }
  const HDF5Memory reopened = HDF5Memory::open(path, options(true, /*map=*/false));
  ASSERT_EQ(reopened.count(), kRows + later.size());
  const HDF5Memory original_rows = HDF5Memory::open(path, options(true));
  expect_same_matrix(reopened.columns(), original_rows.columns());
  if (!GetParam()) {  // float32 rows come back exactly as saved
    const auto first = make_entries(kRows, kDim);
    EXPECT_EQ(reopened.get(1).embedding, first[1].embedding);
    EXPECT_EQ(reopened.get(static_cast<MemoryId>(kRows + 2'999)).embedding, later[2'999].embedding);
  }
}

TEST_P(MappedEmbeddings, AReaderKeepsItsMatrixWhileAWriterCompactsAndRenamesOverTheFile) {
  TempDir dir;
  const auto path = dir / "m.h5";
  create_store(path, GetParam());
  const HDF5Memory reader = HDF5Memory::open(path, options(true));
  EXPECT_MAPPED_FROM(reader, path, true);
  const HDF5Memory copy = HDF5Memory::open(path, options(true, /*map=*/false));
  {
    HDF5Memory writer = HDF5Memory::open(path, options(false));
    for (MemoryId id = 0; id < static_cast<MemoryId>(kRows); id += 2) writer.remove(id);
    EXPECT_EQ(writer.compact(), kRows / 2);  // rows moved inside the writer's mapped block
    writer.checkpoint();                     // a new file renamed over the mapped one
    const std::vector<float> query = make_entries(1, kDim, 5)[0].embedding;
    EXPECT_EQ(search_ids(writer, query, 10), brute_force(writer.columns(), query, 10));
    writer.close();
  }
  // The reader's mapping is of the old file, which lives on until it lets go.
  expect_same_matrix(reader.columns(), copy.columns());
  const HDF5Memory after = HDF5Memory::open(path, options(true));
  EXPECT_EQ(after.count(), kRows / 2);
  EXPECT_EQ(after.get(1).embedding, copy.get(1).embedding);
}

INSTANTIATE_TEST_SUITE_P(Types, MappedEmbeddings, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "float16" : "float32"; });

TEST(MappedEmbeddingsNot, SmallOrCompressedMatricesAreRead) {
  TempDir dir;
  create_store(dir / "small.h5", false, /*rows=*/100);  // 25 KB: below kSmallestMappedBytes
  create_store(dir / "deflate.h5", false, kRows, /*compression=*/true);
  for (const char* name : {"small.h5", "deflate.h5"}) {
    SCOPED_TRACE(name);
    const HDF5Memory memory = HDF5Memory::open(dir / name, options(true));
    EXPECT_MAPPED_FROM(memory, dir / name, false);
    const HDF5Memory read = HDF5Memory::open(dir / name, options(true, false));
    expect_same_matrix(memory.columns(), read.columns());
  }
}

}  // namespace
}  // namespace edgehdf5
