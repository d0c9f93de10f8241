// HDF5Memory::replace_embeddings: every memory's embedding replaced at once (a new embedding
// model, possibly of another dimension). Oracles: the vectors the test made (what get()
// and a reopened file must hold), brute-force cosine over them (what a search must rank),
// the memories, sessions and graph as they were before (what must not change), and
// verify_file. A failing rename (through the I/O seam) must leave the store as it was.

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/file_system.hpp"
#include "edgehdf5/half.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::make_entries;
using testing::TempDir;

constexpr std::size_t kOldDim = 16;
constexpr std::size_t kNewDim = 40;
constexpr std::size_t kRows = 300;  // enough for an IVF-PQ index

MemoryConfig config_at(const std::filesystem::path& path, bool half = false) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = kOldDim;
  config.float16 = half;
  config.embedder = "old-model";
  config.compact_threshold = 0;  // compaction only when a test asks
  return config;
}

// A store of kRows memories with three removed, a session, two entities and a relation.
void fill(HDF5Memory& memory) {
  memory.save_batch(make_entries(kRows, kOldDim));
  for (MemoryId id : {3, 50, 299}) memory.remove(id);
  memory.add_session("s1", 0, 20, "chat", "the first session");
  const EntityId alice = memory.add_entity("alice", "person", 7);
  const EntityId bob = memory.add_entity("bob", "person", -1);
  memory.add_relation(alice, bob, "knows", 0.5f);
}

std::vector<MemoryId> active_ids(const HDF5Memory& memory) {
  std::vector<MemoryId> ids;
  const MemoryColumns& columns = memory.columns();
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (!columns.tombstones[row]) ids.push_back(columns.ids[row]);
  }
  return ids;
}

std::vector<float> new_vectors(std::size_t count, std::size_t dim, std::uint64_t seed = 7) {
  std::mt19937_64 random(seed);
  std::vector<float> values;
  for (std::size_t i = 0; i < count; ++i) {
    const std::vector<float> v = testing::random_vector(random, dim);
    values.insert(values.end(), v.begin(), v.end());
  }
  return values;
}

// The ids of the k rows of `vectors` most cosine-similar to `query`, best first.
std::vector<MemoryId> brute_force(const std::vector<MemoryId>& ids, const std::vector<float>& vectors,
                                  std::size_t dim, const std::vector<float>& query, std::size_t k) {
  std::vector<std::pair<double, MemoryId>> scored;
  const double query_norm = std::sqrt(std::inner_product(query.begin(), query.end(), query.begin(), 0.0));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const float* row = vectors.data() + i * dim;
    const double dot = std::inner_product(row, row + dim, query.begin(), 0.0);
    const double norm = std::sqrt(std::inner_product(row, row + dim, row, 0.0));
    scored.emplace_back(-dot / (norm * query_norm), ids[i]);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<MemoryId> best;
  for (std::size_t i = 0; i < k; ++i) best.push_back(scored[i].second);
  return best;
}

// What must survive a re-embedding unchanged, as text.
std::string everything_but_embeddings(const HDF5Memory& memory) {
  std::string text;
  const MemoryColumns& columns = memory.columns();
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    text += std::to_string(columns.ids[row]) + "|" + columns.chunks[row] + "|" +
            columns.session_ids[row] + "|" + columns.source_channels[row] + "|" + columns.tags[row] +
            "|" + std::to_string(columns.timestamps[row]) + "|" +
            std::to_string(columns.tombstones[row]) + "\n";
  }
  for (const Session& session : memory.sessions()) text += "session " + session.id + " " + session.summary + "\n";
  for (const Entity& entity : memory.knowledge().entities()) {
    text += "entity " + std::to_string(entity.id) + " " + entity.name + " " +
            std::to_string(entity.embedding_id) + "\n";
  }
  for (const Relation& relation : memory.knowledge().relations()) {
    text += "relation " + std::to_string(relation.source) + " " + relation.type + " " +
            std::to_string(relation.target) + "\n";
  }
  return text;
}

void expect_holds(const HDF5Memory& memory, const std::vector<MemoryId>& ids,
                  const std::vector<float>& vectors, std::size_t dim) {
  ASSERT_EQ(memory.config().embedding_dim, dim);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::vector<float> got = memory.get(ids[i]).embedding;
    ASSERT_EQ(got.size(), dim);
    for (std::size_t j = 0; j < dim; ++j) ASSERT_EQ(got[j], vectors[i * dim + j]) << "id " << ids[i];
  }
  for (std::uint64_t seed : {11u, 12u, 13u}) {
    const std::vector<float> query = new_vectors(1, dim, seed);
    std::vector<MemoryId> found;
    for (const SearchHit& hit : memory.search(query, 10)) found.push_back(hit.id);
    EXPECT_EQ(found, brute_force(ids, vectors, dim, query, 10));
  }
}

TEST(ReplaceEmbeddings, ANewModelOfAnotherDimensionKeepsEverythingElseAndSurvivesReopen) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  std::string before;
  std::vector<MemoryId> ids;
  const std::vector<float> vectors = new_vectors(kRows - 3, kNewDim);
  {
    HDF5Memory memory = HDF5Memory::create(config_at(path));
    fill(memory);
    IVFPQParams params;
    params.nlist = 4;
    params.sub_quantizers = 4;
    params.iterations = 2;
    memory.build_ivfpq_index(params);
    memory.save(make_entries(1, kOldDim, 5)[0]);  // in the log only, when replace_embeddings runs
    ids = active_ids(memory);
    ASSERT_EQ(ids.size(), kRows - 2);
    const std::vector<float> with_logged = new_vectors(ids.size(), kNewDim);
    before = everything_but_embeddings(memory);
    memory.replace_embeddings(ids, with_logged, kNewDim, "new-model");
    EXPECT_EQ(memory.ivfpq_index(), nullptr) << "an index of the old vectors must go";
    EXPECT_EQ(memory.config().embedder, "new-model");
    EXPECT_EQ(everything_but_embeddings(memory), before);
    expect_holds(memory, ids, with_logged, kNewDim);
    memory.remove(ids.back());  // changes after it are logged against the new layout
    ids.pop_back();
    memory.save_batch(make_entries(2, kNewDim, 9, 1000));
    memory.flush();
  }
  HDF5Memory reopened = HDF5Memory::open(path);
  EXPECT_EQ(reopened.config().embedder, "new-model");
  EXPECT_EQ(reopened.config().embedding_dim, kNewDim);
  EXPECT_EQ(reopened.count_active(), kRows - 2 - 1 + 2);
  EXPECT_EQ(reopened.ivfpq_index(), nullptr);
  const std::vector<float> first = new_vectors(kRows - 2, kNewDim);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::vector<float> got = reopened.get(ids[i]).embedding;
    ASSERT_TRUE(std::equal(got.begin(), got.end(), first.begin() + static_cast<std::ptrdiff_t>(i * kNewDim)));
  }
  reopened.close();
  EXPECT_EQ(verify_file(path), std::vector<std::string>{});
}

TEST(ReplaceEmbeddings, Float16FilesStoreTheRoundedValuesAndTheirNorms) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  HDF5Memory memory = HDF5Memory::create(config_at(path, /*half=*/true));
  fill(memory);
  const std::vector<MemoryId> ids = active_ids(memory);
  std::vector<float> vectors = new_vectors(ids.size(), kNewDim);
  memory.replace_embeddings(ids, vectors, kNewDim, "new-model");
  for (float& value : vectors) value = half_to_float(float_to_half(value));
  expect_holds(memory, ids, vectors, kNewDim);
  // the norm is that of the stored (rounded) row, as a save computes it
  const MemoryColumns& columns = memory.columns();
  const std::size_t row = static_cast<std::size_t>(columns.row_of(ids[5]));
  const double norm = std::sqrt(std::inner_product(vectors.begin() + 5 * kNewDim,
                                                   vectors.begin() + 6 * kNewDim,
                                                   vectors.begin() + 5 * kNewDim, 0.0));
  EXPECT_NEAR(columns.norms[row], norm, 1e-4);
  std::vector<float> too_large = vectors;
  too_large[3] = 1e6f;  // beyond the half range
  try {
    memory.replace_embeddings(ids, too_large, kNewDim, "new-model");
    FAIL() << "expected invalid_argument";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(error.what()).find("float16 range"), std::string::npos) << error.what();
  }
  memory.close();
  EXPECT_EQ(verify_file(path), std::vector<std::string>{});
}

TEST(ReplaceEmbeddings, BadArgumentsAreRefusedAndChangeNothing) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  HDF5Memory memory = HDF5Memory::create(config_at(path));
  fill(memory);
  const std::vector<MemoryId> ids = active_ids(memory);
  const std::vector<float> vectors = new_vectors(ids.size(), kNewDim);
  const std::vector<float> old_first = memory.get(ids[0]).embedding;
  const auto refused = [&](std::span<const MemoryId> given_ids, std::span<const float> given,
                           std::size_t dim, const std::string& embedder, const std::string& says) {
    try {
      memory.replace_embeddings(given_ids, given, dim, embedder);
      ADD_FAILURE() << "expected a refusal saying '" << says << "'";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::invalid_argument) << error.what();
      EXPECT_NE(std::string(error.what()).find(says), std::string::npos) << error.what();
    }
    EXPECT_EQ(memory.config().embedding_dim, kOldDim);
    EXPECT_EQ(memory.config().embedder, "old-model");
    EXPECT_EQ(memory.get(ids[0]).embedding, old_first);
  };
  std::vector<MemoryId> fewer(ids.begin(), ids.end() - 1);
  refused(fewer, std::span(vectors).first(fewer.size() * kNewDim), kNewDim, "m", "active memories");
  std::vector<MemoryId> removed_one = ids;
  removed_one[10] = 3;  // a removed memory in place of an active one
  refused(removed_one, vectors, kNewDim, "m", "ids[10] is 3");
  refused(ids, std::span(vectors).first(vectors.size() - 1), kNewDim, "m", "values given");
  std::vector<float> with_nan = vectors;
  with_nan[kNewDim * 4 + 2] = std::nanf("");
  refused(ids, with_nan, kNewDim, "m", "embedding 4 (id 5): embedding value 2 is NaN");
  refused(ids, {}, 0, "m", "embedding_dim must be between 1");
  refused(ids, vectors, kNewDim, std::string("bad\0name", 8), "embedder");
  refused(ids, vectors, kNewDim, "hash:16", "another dimension");

  OpenOptions read_only;
  read_only.read_only = true;
  memory.close();
  HDF5Memory reader = HDF5Memory::open(path, read_only);
  try {
    reader.replace_embeddings(ids, vectors, kNewDim, "m");
    FAIL() << "a read-only handle replaced embeddings";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::read_only);
  }
}

// The operating system's files, with every rename failing (EIO) while `fail` is set: the
// checkpoint that would put the new file in place fails before it replaces anything.
class FailingRenames final : public FileSystem {
 public:
  int open(const std::filesystem::path& path, FileOpenMode mode) override { return real_->open(path, mode); }
  int close(int file) override { return real_->close(file); }
  std::int64_t pread(int file, void* buffer, std::size_t size, std::uint64_t offset) override {
    return real_->pread(file, buffer, size, offset);
  }
  std::int64_t pwrite(int file, std::span<const std::string_view> parts, std::uint64_t offset) override {
    return real_->pwrite(file, parts, offset);
  }
  int fsync(int file) override { return real_->fsync(file); }
  int fdatasync(int file) override { return real_->fdatasync(file); }
  int ftruncate(int file, std::uint64_t size) override { return real_->ftruncate(file, size); }
  int lock(int file) override { return real_->lock(file); }
  FileStatus stat(int file) override { return real_->stat(file); }
  FileStatus stat(const std::filesystem::path& path) override { return real_->stat(path); }
  int exists(const std::filesystem::path& path) override { return real_->exists(path); }
  int rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    return fail ? -EIO : real_->rename(from, to);
  }
  int unlink(const std::filesystem::path& path) override { return real_->unlink(path); }
  bool reads_natively() const noexcept override { return real_->reads_natively(); }

  bool fail = false;

 private:
  std::shared_ptr<FileSystem> real_ = posix_file_system();
};

TEST(ReplaceEmbeddings, AFailedCheckpointLeavesTheStoreAsItWas) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  auto files = std::make_shared<FailingRenames>();
  OpenOptions options;
  options.file_system = files;
  {
    HDF5Memory memory = HDF5Memory::create(config_at(path));
    fill(memory);
  }
  HDF5Memory memory = HDF5Memory::open(path, options);
  const std::vector<MemoryId> ids = active_ids(memory);
  const std::vector<float> old_first = memory.get(ids[0]).embedding;
  files->fail = true;
  try {
    memory.replace_embeddings(ids, new_vectors(ids.size(), kNewDim), kNewDim, "m");
    FAIL() << "the rename did not fail";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::io) << error.what();
    EXPECT_NE(std::string(error.what()).find("rename"), std::string::npos) << error.what();
  }
  EXPECT_EQ(memory.config().embedding_dim, kOldDim);
  EXPECT_EQ(memory.config().embedder, "old-model");
  EXPECT_EQ(memory.get(ids[0]).embedding, old_first);
  files->fail = false;
  memory.save(make_entries(1, kOldDim, 3, 500)[0]);  // the handle carries on in the old layout
  memory.flush();
  memory.close();
  HDF5Memory reopened = HDF5Memory::open(path);
  EXPECT_EQ(reopened.config().embedding_dim, kOldDim);
  EXPECT_EQ(reopened.count_active(), ids.size() + 1);
}

}  // namespace
}  // namespace edgehdf5
