// The IVF-PQ index inside HDF5Memory: built into the file, reopened without retraining,
// kept current by saves, removes and compaction, chosen by auto above the crossover, and
// never able to keep the memories from opening. Exact search is the oracle throughout.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "edgehdf5/async_memory.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/file_system.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/search.hpp"
#include "h5/h5.hpp"
#include "store/schema.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::mixture;
using testing::TempDir;

constexpr std::size_t kDim = 64;
constexpr std::size_t kClusters = 32;
constexpr float kSpread = 0.9f;

std::vector<MemoryEntry> entries_of(const std::vector<float>& points, std::size_t first) {
  std::vector<MemoryEntry> entries;
  const std::size_t count = points.size() / kDim;
  for (std::size_t i = 0; i < count; ++i) {
    MemoryEntry entry;
    // (Appended rather than "memory " + to_string: GCC 12 warns falsely on that form.)
    entry.chunk = "memory ";
    entry.chunk += std::to_string(first + i);
    entry.embedding.assign(points.begin() + static_cast<std::ptrdiff_t>(i * kDim),
                           points.begin() + static_cast<std::ptrdiff_t>((i + 1) * kDim));
    entry.session_id = "s";
    entry.session_id += std::to_string((first + i) % 100);
    entry.timestamp = 1.7e9 + static_cast<double>(first + i);
    entries.push_back(std::move(entry));
  }
  return entries;
}

HDF5Memory create_store(const std::filesystem::path& path, const std::vector<float>& points) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = kDim;
  config.compact_threshold = 0;  // compaction only when a test asks for it
  HDF5Memory memory = HDF5Memory::create(config);
  memory.save_batch(entries_of(points, 0));
  return memory;
}

IVFPQParams small_params() {
  IVFPQParams params;
  params.nlist = 64;
  params.sub_quantizers = 16;
  params.seed = 7;
  return params;
}

HDF5Memory open_read_only(const std::filesystem::path& path) {
  OpenOptions options;
  options.read_only = true;
  return HDF5Memory::open(path, options);
}

SearchOptions ivfpq_options(std::size_t k = 10) {
  SearchOptions options;
  options.k = k;
  options.strategy = Strategy::ivfpq;
  options.approximate.nprobe = 16;
  options.approximate.rerank = 200;
  return options;
}

std::vector<MemoryId> ids_of(const SearchResults& results) {
  std::vector<MemoryId> ids;
  for (const SearchHit& hit : results.hits) ids.push_back(hit.id);
  return ids;
}

// Mean recall@10 of the store's index against its exact scan.
double store_recall(const HDF5Memory& memory, const std::vector<float>& queries) {
  const std::size_t count = queries.size() / kDim;
  double total = 0;
  for (std::size_t q = 0; q < count; ++q) {
    const std::span<const float> query(queries.data() + q * kDim, kDim);
    SearchOptions exact;
    exact.k = 10;
    exact.strategy = Strategy::simd;
    const std::vector<MemoryId> truth = ids_of(memory.search(query, exact));
    const SearchResults found = memory.search(query, ivfpq_options());
    EXPECT_EQ(found.metrics.strategy, "ivfpq");
    const std::set<MemoryId> expected(truth.begin(), truth.end());
    std::size_t hits = 0;
    for (MemoryId id : ids_of(found)) hits += expected.count(id);
    total += double(hits) / double(expected.size());
  }
  return total / double(count);
}

class IVFPQStoreTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::filesystem::path path = dir / "memory.h5";
  std::vector<float> points = mixture(8000, kDim, kClusters, kSpread, 1);
  std::vector<float> queries = mixture(40, kDim, kClusters, kSpread, 2);
};

TEST_F(IVFPQStoreTest, BuiltIndexIsInTheFileAndReopensWithoutRetraining) {
  std::vector<std::vector<MemoryId>> before;
  IVFPQData built;
  {
    HDF5Memory memory = create_store(path, points);
    EXPECT_EQ(memory.ivfpq_index(), nullptr);
    const IVFPQInfo info = memory.build_ivfpq_index(small_params());
    EXPECT_EQ(info.vectors, 8000u);
    EXPECT_EQ(info.nlist, 64u);
    EXPECT_GE(store_recall(memory, queries), 0.95);
    for (std::size_t q = 0; q < 10; ++q) {
      before.push_back(ids_of(memory.search(
          std::span<const float>(queries.data() + q * kDim, kDim), ivfpq_options())));
    }
    built = memory.ivfpq_index()->to_data();
    memory.close();
  }
  // The group is in the .h5 itself (build checkpoints): the log holds no record of it.
  const store::StoredIndex stored = store::read_stored_index(path);
  ASSERT_TRUE(stored.data.has_value()) << stored.problem;
  EXPECT_EQ(stored.data->ids.size(), 8000u);

  for (const bool read_only : {true, false}) {
    OpenOptions options;
    options.read_only = read_only;
    const HDF5Memory memory = HDF5Memory::open(path, options);
    const IVFPQIndex* index = memory.ivfpq_index();
    ASSERT_NE(index, nullptr) << memory.ivfpq_problem();
    // The same centroids, codebooks, lists and codes: nothing was retrained.
    const IVFPQData reopened = index->to_data();
    EXPECT_EQ(reopened.centroids, built.centroids);
    EXPECT_EQ(reopened.codebooks, built.codebooks);
    EXPECT_EQ(reopened.list_offsets, built.list_offsets);
    EXPECT_EQ(reopened.codes, built.codes);
    EXPECT_EQ(reopened.ids, built.ids);
    for (std::size_t q = 0; q < before.size(); ++q) {
      EXPECT_EQ(ids_of(memory.search(
                    std::span<const float>(queries.data() + q * kDim, kDim), ivfpq_options())),
                before[q]);
    }
  }
  EXPECT_TRUE(verify_file(path).empty());
}

TEST_F(IVFPQStoreTest, SavesAreEncodedAtOnceAndAfterReopen) {
  const std::vector<float> first(points.begin(), points.begin() + 4000 * kDim);
  const std::vector<float> second(points.begin() + 4000 * kDim, points.end());
  HDF5Memory memory = create_store(path, first);
  memory.build_ivfpq_index(small_params());
  const std::vector<MemoryId> added = memory.save_batch(entries_of(second, 4000));
  memory.flush();  // in the log only: the .h5 still holds the index of 4000 rows
  const IVFPQInfo info = memory.ivfpq_index()->info();
  EXPECT_EQ(info.vectors, 8000u);
  EXPECT_EQ(info.added_since_training, 4000u);
  // A saved memory is found by the index by its own embedding.
  for (std::size_t i = 0; i < 4000; i += 500) {
    const std::span<const float> own(second.data() + i * kDim, kDim);
    EXPECT_EQ(memory.search(own, ivfpq_options(1)).hits.at(0).id, added[i]);
  }
  // Incremental adds reach the recall of a rebuild over the same rows.
  const double incremental = store_recall(memory, queries);
  {
    // A reader replays the log and encodes the rows it adds to the stored index.
    const HDF5Memory reader = open_read_only(path);
    ASSERT_NE(reader.ivfpq_index(), nullptr);
    EXPECT_EQ(reader.ivfpq_index()->info().vectors, 8000u);
    EXPECT_NEAR(store_recall(reader, queries), incremental, 1e-9);
  }
  memory.build_ivfpq_index(small_params());
  const double rebuilt = store_recall(memory, queries);
  EXPECT_GE(incremental, 0.95);
  EXPECT_NEAR(incremental, rebuilt, 0.03);
}

TEST_F(IVFPQStoreTest, DeletesAreNeverReturnedAndCompactionKeepsTheIndexConsistent) {
  HDF5Memory memory = create_store(path, points);
  memory.build_ivfpq_index(small_params());
  // Delete every third memory; each deleted one is queried with its own embedding, which
  // would otherwise be its own best hit.
  std::set<MemoryId> deleted;
  for (MemoryId id = 0; id < 8000; id += 3) {
    memory.remove(id);
    deleted.insert(id);
  }
  auto check_no_deleted = [&](const HDF5Memory& store) {
    for (MemoryId id = 0; id < 8000; id += 99) {
      const std::span<const float> own(points.data() + static_cast<std::size_t>(id) * kDim, kDim);
      const SearchResults found = store.search(own, ivfpq_options(10));
      ASSERT_EQ(found.hits.size(), 10u);
      for (const SearchHit& hit : found.hits) EXPECT_EQ(deleted.count(hit.id), 0u) << hit.id;
      if (!deleted.count(id)) {
        EXPECT_EQ(found.hits[0].id, id);
      }
    }
  };
  check_no_deleted(memory);
  memory.flush();
  check_no_deleted(open_read_only(path));  // the tombstones come back from the log

  EXPECT_EQ(memory.compact(), deleted.size());
  const IVFPQInfo info = memory.ivfpq_index()->info();
  EXPECT_EQ(info.vectors, 8000u - deleted.size());
  check_no_deleted(memory);
  memory.close();
  // The file written by compaction holds only codes of memories it holds.
  const store::StoredIndex stored = store::read_stored_index(path);
  ASSERT_TRUE(stored.data.has_value());
  EXPECT_EQ(stored.data->ids.size(), 8000u - deleted.size());
  for (MemoryId id : stored.data->ids) EXPECT_EQ(deleted.count(id), 0u);
  EXPECT_TRUE(verify_file(path).empty());
  const HDF5Memory reopened = open_read_only(path);
  check_no_deleted(reopened);
  EXPECT_GE(store_recall(reopened, queries), 0.95);
}

TEST_F(IVFPQStoreTest, CompactionBindsAnIndexThatWasNotUsedYet) {
  {
    HDF5Memory memory = create_store(path, points);
    memory.build_ivfpq_index(small_params());
  }
  {
    HDF5Memory memory = HDF5Memory::open(path);  // the stored arrays are not bound yet
    for (MemoryId id = 0; id < 100; ++id) memory.remove(id);
    memory.compact();
  }
  const store::StoredIndex stored = store::read_stored_index(path);
  ASSERT_TRUE(stored.data.has_value());
  EXPECT_EQ(stored.data->ids.size(), 7900u);
  EXPECT_TRUE(verify_file(path).empty());
}

// A reopened store searches the file's codes where they lie: open maps /ivfpq/codes (asked
// of the kernel, as for the embeddings) and the index is made from them without a copy; it
// answers as the index that wrote them, with rows deleted and saved since.
TEST_F(IVFPQStoreTest, AReopenedIndexIsSearchedWhereItsCodesLie) {
  // 20000 rows of 64-byte codes: 1.2 MiB, past the 1 MiB from which arrays are mapped (the
  // ids, 8 bytes a row, would need 131072 rows).
  constexpr std::size_t kRows = 20000;
  points = mixture(kRows, kDim, kClusters, kSpread, 1);
  IVFPQParams params = small_params();
  params.sub_quantizers = 64;
  std::vector<std::vector<MemoryId>> written;
  {
    HDF5Memory memory = create_store(path, points);
    memory.build_ivfpq_index(params);
    for (std::size_t q = 0; q < 10; ++q) {
      written.push_back(
          ids_of(memory.search(std::span<const float>(queries.data() + q * kDim, kDim),
                               ivfpq_options())));
    }
  }
  store::StoredIndex stored;
  store::StateReading mapped;
  mapped.map_embeddings = true;
  (void)store::read_state_file(*posix_file_system(), path, &stored, mapped);
  ASSERT_TRUE(stored.data.has_value());
  const std::optional<std::string> codes_file = testing::file_backing(stored.data->codes.data());
  if (!codes_file) GTEST_SKIP() << "no /proc/self/maps here";
  EXPECT_NE(codes_file->find(path.filename().string()), std::string::npos) << *codes_file;
  // Without mapping, the same arrays are read into memory of our own.
  store::StoredIndex read;
  (void)store::read_state_file(*posix_file_system(), path, &read, store::StateReading{});
  ASSERT_TRUE(read.data.has_value());
  EXPECT_EQ(*testing::file_backing(read.data->codes.data()), "");
  EXPECT_EQ(read.data->codes, stored.data->codes);
  EXPECT_EQ(read.data->ids, stored.data->ids);

  // The store answers from the mapped arrays as the writer did.
  {
    const HDF5Memory reopened = open_read_only(path);
    for (std::size_t q = 0; q < written.size(); ++q) {
      EXPECT_EQ(ids_of(reopened.search(std::span<const float>(queries.data() + q * kDim, kDim),
                                       ivfpq_options())),
                written[q]);
    }
  }
  // Deletes and saves since the checkpoint: a deleted memory is passed over where its code
  // lies, a saved one is encoded beside the mapped codes.
  const std::vector<float> fresh = mixture(20, kDim, kClusters, kSpread, 99);
  std::vector<MemoryId> saved;
  {
    HDF5Memory memory = HDF5Memory::open(path);
    for (MemoryId id = 0; id < MemoryId{kRows}; id += 2) memory.remove(id);
    saved = memory.save_batch(entries_of(fresh, kRows));
    memory.flush();
  }
  const HDF5Memory reopened = open_read_only(path);
  for (MemoryId id = 0; id < MemoryId{kRows}; id += 197) {
    const std::span<const float> own(points.data() + static_cast<std::size_t>(id) * kDim, kDim);
    const SearchResults found = reopened.search(own, ivfpq_options());
    ASSERT_EQ(found.hits.size(), 10u);
    for (const SearchHit& hit : found.hits) EXPECT_FALSE(hit.id % 2 == 0 && hit.id < MemoryId{kRows}) << hit.id;
    if (id % 2 == 1) {
      EXPECT_EQ(found.hits[0].id, id);
    }
  }
  for (std::size_t i = 0; i < saved.size(); ++i) {
    const std::span<const float> own(fresh.data() + i * kDim, kDim);
    EXPECT_EQ(reopened.search(own, ivfpq_options(1)).hits.at(0).id, saved[i]);
  }
  EXPECT_EQ(reopened.ivfpq_index()->info().vectors, kRows + 20);  // deleted rows' codes stay
  EXPECT_GE(store_recall(reopened, queries), 0.95);
}

TEST_F(IVFPQStoreTest, AutoUsesTheIndexFromTheCrossoverAndFallsBackForSelectiveFilters) {
  HardwareCapabilities caps = HardwareCapabilities::detect();
  StrategyThresholds thresholds;
  EXPECT_EQ(
      auto_select_strategy(SearchShape{thresholds.ivfpq_min_rows, 1, EmbeddingType::float32, true},
                           caps, thresholds),
      Strategy::ivfpq);
  EXPECT_NE(auto_select_strategy(
                SearchShape{thresholds.ivfpq_min_rows - 1, 1, EmbeddingType::float32, true}, caps,
                thresholds),
            Strategy::ivfpq);
  EXPECT_NE(auto_select_strategy(
                SearchShape{thresholds.ivfpq_min_rows * 10, 64, EmbeddingType::float16, false},
                caps, thresholds),
            Strategy::ivfpq);
  EXPECT_EQ(
      auto_select_strategy(SearchShape{thresholds.ivfpq_min_rows, 64, EmbeddingType::float16, true},
                           caps, thresholds),
      Strategy::ivfpq);

  HDF5Memory memory = create_store(path, points);
  memory.build_ivfpq_index(small_params());
  // An engine whose crossover is below this store's size, so auto picks the index.
  thresholds.ivfpq_min_rows = 1000;
  const SearchEngine engine(caps, thresholds);
  SearchOptions options;
  options.k = 10;
  options.approximate.index = memory.ivfpq_index();
  options.approximate.nprobe = 2;
  const std::span<const float> query(queries.data(), kDim);
  EXPECT_EQ(engine.search(query, memory.columns(), options).metrics.strategy, "ivfpq");
  // Session s7 holds 80 memories spread over every cluster: the 2 of 64 lists probed hold
  // fewer than k of them, so auto answers with the exact scan and finds all the best ones.
  options.filter.session_id = "s7";
  const SearchResults filtered = engine.search(query, memory.columns(), options);
  EXPECT_NE(filtered.metrics.strategy, "ivfpq");
  SearchOptions exact = options;
  exact.strategy = Strategy::simd;
  EXPECT_EQ(ids_of(filtered), ids_of(engine.search(query, memory.columns(), exact)));
  options.filter.session_id = "no such session";
  EXPECT_TRUE(engine.search(query, memory.columns(), options).hits.empty());
  // Forced, the index answers alone, with what its lists hold.
  options.filter.session_id = "s7";
  options.strategy = Strategy::ivfpq;
  options.approximate.nprobe = 1;
  options.approximate.rerank = 10;
  const SearchResults forced = engine.search(query, memory.columns(), options);
  EXPECT_EQ(forced.metrics.strategy, "ivfpq");
  EXPECT_LT(forced.hits.size(), 10u);
  // Batches go through the index too, one answer per query.
  SearchOptions batch_options;
  batch_options.k = 5;
  batch_options.approximate.index = memory.ivfpq_index();
  const std::vector<SearchResults> batch = engine.search_batch(
      std::span<const float>(queries.data(), 4 * kDim), 4, memory.columns(), batch_options);
  ASSERT_EQ(batch.size(), 4u);
  for (std::size_t q = 0; q < 4; ++q) {
    EXPECT_EQ(batch[q].metrics.strategy, "ivfpq");
    SearchOptions one = batch_options;
    EXPECT_EQ(ids_of(batch[q]),
              ids_of(engine.search(std::span<const float>(queries.data() + q * kDim, kDim),
                                   memory.columns(), one)));
  }
}

TEST_F(IVFPQStoreTest, ErrorsAndDrop) {
  HDF5Memory memory =
      create_store(path, std::vector<float>(points.begin(), points.begin() + 100 * kDim));
  const std::span<const float> query(queries.data(), kDim);
  try {
    memory.search(query, ivfpq_options());
    FAIL() << "ivfpq without an index";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(error.what()).find("index build"), std::string::npos) << error.what();
  }
  EXPECT_THROW(memory.build_ivfpq_index(small_params()), Error);  // 100 rows < 256
  IVFPQParams bad = small_params();
  bad.sub_quantizers = 7;
  EXPECT_THROW(memory.build_ivfpq_index(bad), Error);
  EXPECT_FALSE(memory.drop_ivfpq_index());
  memory.save_batch(entries_of(points, 100));
  memory.build_ivfpq_index(small_params());
  memory.close();
  {
    HDF5Memory reader = open_read_only(path);
    try {
      reader.build_ivfpq_index(small_params());
      FAIL() << "build on a read-only handle";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::read_only);
    }
  }
  {
    HDF5Memory writer = HDF5Memory::open(path);
    EXPECT_TRUE(writer.drop_ivfpq_index());
    EXPECT_EQ(writer.ivfpq_index(), nullptr);
  }
  EXPECT_FALSE(store::read_stored_index(path).data.has_value());
  EXPECT_EQ(open_read_only(path).ivfpq_index(), nullptr);
}

TEST_F(IVFPQStoreTest, SnapshotAndAsyncSearchesCarryTheIndex) {
  HDF5Memory memory = create_store(path, points);
  memory.build_ivfpq_index(small_params());
  const auto copy = dir / "copy.h5";
  memory.snapshot(copy);
  memory.close();
  ASSERT_NE(open_read_only(copy).ivfpq_index(), nullptr);

  AsyncHDF5Memory async = AsyncHDF5Memory::open(path);
  const std::span<const float> query(queries.data(), kDim);
  const SearchResults found = async.search(query, ivfpq_options());
  EXPECT_EQ(found.metrics.strategy, "ivfpq");
  EXPECT_EQ(found.hits.size(), 10u);
  // A save through the writer thread is encoded into the index readers use.
  const std::vector<float> fresh = mixture(1, kDim, kClusters, kSpread, 77);
  const MemoryId id = async.save(entries_of(fresh, 9000).front()).get();
  EXPECT_EQ(async.search(fresh, ivfpq_options(1)).hits.at(0).id, id);
  async.shutdown();
}

// Rewrites the /ivfpq group of `path` through the checked wrapper, with `change` applied to
// the arrays first (a damaged or foreign index, as another program might leave it).
void rewrite_index(const std::filesystem::path& path,
                   const std::function<void(IVFPQData&)>& change) {
  store::StoredIndex stored = store::read_stored_index(path);
  ASSERT_TRUE(stored.data.has_value());
  change(*stored.data);
  store::StoreState state = store::read_state_file(path);
  store::write_state_file(path, state, &*stored.data);
}

TEST_F(IVFPQStoreTest, AnUnusableIndexNeverKeepsTheMemoriesFromOpening) {
  {
    HDF5Memory memory = create_store(path, points);
    memory.build_ivfpq_index(small_params());
  }
  const std::span<const float> query(queries.data(), kDim);
  SearchOptions exact;
  exact.strategy = Strategy::simd;
  const std::vector<MemoryId> truth =
      ids_of(open_read_only(path).search(query, exact));

  // Codes of a memory the file does not hold, and list offsets that overrun the codes.
  const std::vector<std::function<void(IVFPQData&)>> damages = {
      [](IVFPQData& data) { data.ids[5] = 123456789; },
      [](IVFPQData& data) { data.ids[6] = data.ids[5]; },
      [](IVFPQData& data) { data.centroids[3] = std::numeric_limits<float>::quiet_NaN(); },
  };
  for (std::size_t d = 0; d < damages.size(); ++d) {
    SCOPED_TRACE(d);
    rewrite_index(path, damages[d]);
    const std::vector<std::string> problems = verify_file(path);
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems.front().find("/ivfpq"), std::string::npos) << problems.front();
  }
  // Arrays that do not fit together: the store opens, says why, and searches exactly.
  rewrite_index(path, [](IVFPQData& data) { data.list_offsets[3] = data.list_offsets[2] - 1; });
  {
    const HDF5Memory memory = open_read_only(path);
    EXPECT_EQ(memory.ivfpq_index(), nullptr);
    EXPECT_NE(memory.ivfpq_problem().find("list_offsets"), std::string::npos)
        << memory.ivfpq_problem();
    EXPECT_EQ(ids_of(memory.search(query, SearchOptions{})), truth);
    EXPECT_THROW(memory.search(query, ivfpq_options()), Error);
  }
  EXPECT_FALSE(verify_file(path).empty());
  // A writer's checkpoint does not carry the unusable group over; a build replaces it.
  {
    HDF5Memory memory = HDF5Memory::open(path);
    memory.checkpoint();
  }
  EXPECT_TRUE(verify_file(path).empty());
  EXPECT_EQ(open_read_only(path).ivfpq_index(), nullptr);
  {
    HDF5Memory memory = HDF5Memory::open(path);
    memory.build_ivfpq_index(small_params());
  }
  EXPECT_NE(open_read_only(path).ivfpq_index(), nullptr);
  EXPECT_TRUE(verify_file(path).empty());
}

}  // namespace
}  // namespace edgehdf5
