// The keyword index as flat arrays (KeywordIndexArrays, the file's /keyword_index group):
// an index made from its arrays, then changed, must score exactly as BM25Index::build over
// the same rows (itself held to SQLite FTS5's bm25() by tests/interop/test_fts5_oracle.py);
// damaged arrays give errors, not reads out of bounds; and through the store, a reopened
// file queries its arrays in place, with saves and deletes since the checkpoint, in a writer
// and in a reader, after compaction and when the group is missing or stale.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <random>
#include <string>
#include <vector>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::TempDir;

const std::vector<std::string> kWords{"alpha", "beta",  "gamma",   "delta", "epsilon", "zeta",
                                      "eta",   "theta", "iota",    "kappa", "lambda",  "mu",
                                      "Café",  "naïve", "日本語", "ref42", "ref43",   "deploy"};
const std::vector<std::string> kQueries{"alpha",        "beta gamma",  "eta zeta alpha delta",
                                        "café 日本語", "ref42 mu",    "kappa kappa",
                                        "deploy",       "absentword", "lambda theta iota"};

std::vector<std::string> make_chunks(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < count; ++i) {
    std::string chunk;
    const std::size_t words = rng() % 14;  // some rows have no terms at all
    for (std::size_t w = 0; w < words; ++w) chunk += kWords[rng() % kWords.size()] + ", ";
    chunks.push_back(chunk);
  }
  return chunks;
}

// Asserts that two indexes give the same rows with the same scores for every query.
void expect_same_scores(const BM25Index& got, const BM25Index& want) {
  ASSERT_EQ(got.rows(), want.rows());
  EXPECT_EQ(got.active_documents(), want.active_documents());
  for (const std::string& query : kQueries) {
    auto a = got.score(query, [](std::size_t) { return true; });
    auto b = want.score(query, [](std::size_t) { return true; });
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    ASSERT_EQ(a.size(), b.size()) << query;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first) << query;
      EXPECT_FLOAT_EQ(a[i].second, b[i].second) << query << " row " << a[i].first;
    }
    EXPECT_DOUBLE_EQ(got.idf(query), want.idf(query)) << query;
  }
}

TEST(KeywordArrays, AnIndexMadeFromItsArraysScoresAsTheOriginal) {
  std::vector<std::string> chunks = make_chunks(400, 3);
  chunks[7] = "";
  for (int i = 0; i < 300; ++i) chunks[11] += "kappa ";  // tf 300: a large frequency
  chunks[12] += " kappa kappa";
  std::vector<std::uint8_t> tombstones(chunks.size(), 0);
  for (std::size_t row : {2u, 50u, 51u, 399u}) tombstones[row] = 1;
  const BM25Index original = BM25Index::build(chunks, tombstones);
  const KeywordIndexArrays arrays = original.to_arrays();
  EXPECT_EQ(arrays.rows(), chunks.size());
  EXPECT_EQ(arrays.document_lengths[2], KeywordIndexArrays::kNotIndexed);
  EXPECT_EQ(arrays.large_frequencies, (RowVector<std::uint32_t>{300}));
  // Terms in bytewise order, each with its postings by row.
  for (std::size_t t = 1; t < arrays.terms(); ++t) {
    const auto* bytes = reinterpret_cast<const char*>(arrays.term_bytes.data());
    EXPECT_LT(std::string_view(bytes + arrays.term_offsets[t - 1],
                               arrays.term_offsets[t] - arrays.term_offsets[t - 1]),
              std::string_view(bytes + arrays.term_offsets[t],
                               arrays.term_offsets[t + 1] - arrays.term_offsets[t]));
  }
  const BM25Index reloaded = BM25Index::from_arrays(arrays);
  EXPECT_EQ(reloaded.stored_rows(), chunks.size());
  expect_same_scores(reloaded, original);
}

TEST(KeywordArrays, SavesAndDeletesAfterTheArraysEqualARebuild) {
  std::vector<std::string> chunks = make_chunks(300, 5);
  std::vector<std::uint8_t> tombstones(chunks.size(), 0);
  tombstones[9] = 1;
  BM25Index index = BM25Index::from_arrays(BM25Index::build(chunks, tombstones).to_arrays());
  const std::vector<std::string> more = make_chunks(120, 6);
  for (const std::string& chunk : more) {
    index.add(chunk);
    chunks.push_back(chunk);
    tombstones.push_back(0);
  }
  for (std::size_t row : {0u, 9u, 17u, 150u, 299u, 300u, 333u, 419u}) {  // stored and added
    index.remove(row, chunks[row]);
    index.remove(row, chunks[row]);  // idempotent
    tombstones[row] = 1;
  }
  EXPECT_THROW(index.remove(5), Error);  // a stored row needs its text
  const BM25Index rebuilt = BM25Index::build(chunks, tombstones);
  expect_same_scores(index, rebuilt);
  // Written again (stored and added rows merged) and made from that: still the same.
  expect_same_scores(BM25Index::from_arrays(index.to_arrays()), rebuilt);
  // Compaction's renumbering: the kept rows in order, as a build over them alone.
  std::vector<std::string> kept;
  for (std::size_t row = 0; row < chunks.size(); ++row) {
    if (!tombstones[row]) kept.push_back(chunks[row]);
  }
  const KeywordIndexArrays compacted = index.to_arrays(/*drop_deleted_rows=*/true);
  EXPECT_EQ(compacted.rows(), kept.size());
  expect_same_scores(BM25Index::from_arrays(compacted),
                     BM25Index::build(kept, std::vector<std::uint8_t>(kept.size(), 0)));
}

TEST(KeywordArrays, DamagedArraysAreErrorsNotReadsOutOfBounds) {
  const KeywordIndexArrays good =
      BM25Index::build(make_chunks(50, 8), std::vector<std::uint8_t>(50, 0)).to_arrays();
  const auto corruption_from = [](KeywordIndexArrays arrays) {
    try {
      const BM25Index index = BM25Index::from_arrays(std::move(arrays));
      for (const std::string& query : kQueries) index.score(query, [](std::size_t) { return true; });
      (void)index.to_arrays();
    } catch (const Error& error) {
      return error.code() == ErrorCode::corruption;
    }
    return false;
  };
  EXPECT_FALSE(corruption_from(good));
  KeywordIndexArrays damaged = good;
  damaged.term_offsets.back() += 1;  // past term_bytes
  EXPECT_TRUE(corruption_from(damaged));
  damaged = good;
  damaged.posting_offsets.pop_back();
  EXPECT_TRUE(corruption_from(damaged));
  damaged = good;
  damaged.term_offsets[1] = damaged.term_bytes.size();  // not ascending after it
  EXPECT_TRUE(corruption_from(damaged));
  damaged = good;
  for (std::uint32_t& row : damaged.posting_rows) row = 1000;  // past the rows
  EXPECT_TRUE(corruption_from(damaged));
  damaged = good;
  damaged.posting_frequencies[0] = KeywordIndexArrays::kLargeFrequency;  // no large entry
  EXPECT_TRUE(corruption_from(damaged));
  damaged = good;
  damaged.large_frequencies.push_back(7);  // without its posting
  EXPECT_TRUE(corruption_from(damaged));
}

// ---- through the store -----------------------------------------------------------------------

constexpr std::size_t kDim = 8;

std::vector<MemoryEntry> entries_for(const std::vector<std::string>& chunks, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<MemoryEntry> entries;
  for (const std::string& chunk : chunks) {
    MemoryEntry entry;
    entry.chunk = chunk;
    entry.embedding = testing::random_vector(rng, kDim);
    entries.push_back(entry);
  }
  return entries;
}

// The index a store should have: a build over its chunks and tombstones as they are now.
BM25Index rebuilt_from(const HDF5Memory& memory) {
  return BM25Index::build(memory.columns().chunks.values(), memory.columns().tombstones, {},
                          memory.config().keyword_tokenizer);
}

class KeywordFile : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryConfig config;
    config.path = path_;
    config.embedding_dim = kDim;
    config.compact_threshold = 0;
    config.keyword_tokenizer = KeywordTokenizer::porter;
    HDF5Memory memory = HDF5Memory::create(config);
    memory.save_batch(entries_for(make_chunks(2000, 21), 1));
    for (MemoryId id : {3, 4, 500, 1999}) memory.remove(id);
  }  // closed: the checkpoint writes /keyword_index

  OpenOptions read_only() const {
    OpenOptions options;
    options.read_only = true;
    return options;
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_ / "memory.h5";
};

TEST_F(KeywordFile, AReopenedFileIsQueriedFromItsArraysWithoutReadingItsChunks) {
  const HDF5Memory memory = HDF5Memory::open(path_, read_only());
  const BM25Index& index = memory.keyword_index();
  EXPECT_EQ(index.stored_rows(), 2000u);  // made from the arrays, not from the chunks
  EXPECT_TRUE(memory.columns().chunks.deferred());
  EXPECT_EQ(memory.columns().chunks.rows_read_singly(), 0u);
  const SearchResults results = memory.keyword_search("alpha beta", 10);
  EXPECT_EQ(results.hits.size(), 10u);
  EXPECT_TRUE(memory.columns().chunks.deferred());
  EXPECT_EQ(index.tokenizer(), KeywordTokenizer::porter);
  expect_same_scores(index, rebuilt_from(memory));
  EXPECT_EQ(memory.keyword_index_problem(), "");
  EXPECT_EQ(verify_file(path_), std::vector<std::string>{});
}

TEST_F(KeywordFile, SavesAndDeletesSinceTheCheckpointCountInAWriterAndInAReader) {
  HDF5Memory writer = HDF5Memory::open(path_);
  const BM25Index& before = writer.keyword_index();  // made from the arrays now
  EXPECT_EQ(before.stored_rows(), 2000u);
  writer.save_batch(entries_for(make_chunks(300, 22), 2));
  for (MemoryId id : {0, 10, 1500, 2100, 2299}) writer.remove(id);
  writer.flush();  // in the log, not in the file
  expect_same_scores(writer.keyword_index(), rebuilt_from(writer));

  // A reader replays the log onto the file: its index is the arrays plus those changes.
  {
    const HDF5Memory reader = HDF5Memory::open(path_, read_only());
    EXPECT_EQ(reader.count(), 2300u);
    EXPECT_EQ(reader.keyword_index().stored_rows(), 2000u);
    expect_same_scores(reader.keyword_index(), rebuilt_from(reader));
  }
  // A writer that never queried: its checkpoint still writes a whole index.
  writer.close();
  {
    HDF5Memory again = HDF5Memory::open(path_);
    again.save_batch(entries_for(make_chunks(10, 23), 3));
    again.remove(11);
  }
  const HDF5Memory reader = HDF5Memory::open(path_, read_only());
  EXPECT_EQ(reader.keyword_index().stored_rows(), 2310u);
  expect_same_scores(reader.keyword_index(), rebuilt_from(reader));
}

TEST_F(KeywordFile, CompactionRenumbersTheIndexAndTheFileKeepsIt) {
  {
    HDF5Memory writer = HDF5Memory::open(path_);
    writer.remove(7);
    EXPECT_EQ(writer.compact(), 5u);
    EXPECT_EQ(writer.keyword_index().rows(), 1995u);
    expect_same_scores(writer.keyword_index(), rebuilt_from(writer));
  }
  const HDF5Memory reader = HDF5Memory::open(path_, read_only());
  EXPECT_EQ(reader.keyword_index().stored_rows(), 1995u);
  expect_same_scores(reader.keyword_index(), rebuilt_from(reader));
}

// Removes /keyword_index from the file, or rewrites its tokenizer attribute, with HDF5's own
// calls (as another program would).
void change_group(const std::filesystem::path& path, bool remove) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  if (remove) {
    ASSERT_GE(H5Ldelete(file, "/keyword_index", H5P_DEFAULT), 0);
  } else {
    const hid_t group = H5Gopen2(file, "/keyword_index", H5P_DEFAULT);
    ASSERT_GE(H5Adelete(group, "tokenizer"), 0);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 9);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attribute = H5Acreate2(group, "tokenizer", type, space, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Awrite(attribute, type, "unicode61"), 0);
    H5Aclose(attribute);
    H5Sclose(space);
    H5Tclose(type);
    H5Gclose(group);
  }
  H5Fclose(file);
}

TEST_F(KeywordFile, AMissingOrStaleGroupIsRebuiltFromTheChunksAndWrittenBack) {
  for (const bool remove : {true, false}) {
    SCOPED_TRACE(remove ? "missing" : "stale tokenizer");
    change_group(path_, remove);
    {
      const HDF5Memory reader = HDF5Memory::open(path_, read_only());
      EXPECT_EQ(reader.keyword_index().stored_rows(), 0u);  // built from the chunks
      EXPECT_EQ(reader.keyword_index().tokenizer(), KeywordTokenizer::porter);
      expect_same_scores(reader.keyword_index(), rebuilt_from(reader));
      // A file without the group is sound (files of other writers have none); one with a
      // group made for another tokenizer is not.
      const std::string problem = reader.keyword_index_problem();
      const std::vector<std::string> found = verify_file(path_);
      if (remove) {
        EXPECT_EQ(problem, "");
        EXPECT_EQ(found, std::vector<std::string>{});
      } else {
        EXPECT_NE(problem.find("tokenizer 'unicode61'"), std::string::npos) << problem;
        EXPECT_EQ(found, std::vector<std::string>{problem});
      }
    }
    {
      HDF5Memory writer = HDF5Memory::open(path_);
      writer.checkpoint();
    }
    const HDF5Memory reader = HDF5Memory::open(path_, read_only());
    EXPECT_EQ(reader.keyword_index().stored_rows(), 2000u);
    expect_same_scores(reader.keyword_index(), rebuilt_from(reader));
    EXPECT_EQ(reader.keyword_index_problem(), "");
    EXPECT_EQ(verify_file(path_), std::vector<std::string>{});
  }
}

// Overwrites /keyword_index/posting_rows with rows the store does not have, through HDF5
// (the group's shape stays valid; only a walk of the postings can tell).
void damage_posting_rows(const std::filesystem::path& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t dataset = H5Dopen2(file, "/keyword_index/posting_rows", H5P_DEFAULT);
  ASSERT_GE(dataset, 0);
  const hid_t space = H5Dget_space(dataset);
  hsize_t count = 0;
  ASSERT_EQ(H5Sget_simple_extent_dims(space, &count, nullptr), 1);
  const std::vector<std::uint32_t> rows(count, 1u << 30);
  ASSERT_GE(H5Dwrite(dataset, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), 0);
  H5Sclose(space);
  H5Dclose(dataset);
  H5Fclose(file);
}

TEST_F(KeywordFile, DamagedPostingsAreReportedByVerifyAndRewrittenByACheckpoint) {
  damage_posting_rows(path_);
  const std::vector<std::string> found = verify_file(path_);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rfind("/keyword_index: the keyword index is damaged", 0), 0u) << found[0];
  {
    const HDF5Memory reader = HDF5Memory::open(path_, read_only());
    try {
      (void)reader.keyword_search("alpha beta", 10);
      ADD_FAILURE() << "a query over damaged postings returned";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::corruption);
    }
  }
  {
    HDF5Memory writer = HDF5Memory::open(path_);
    writer.checkpoint();  // the damaged arrays are found and the index is built anew
    EXPECT_NE(writer.keyword_index_problem().find("damaged"), std::string::npos)
        << writer.keyword_index_problem();
  }
  EXPECT_EQ(verify_file(path_), std::vector<std::string>{});
  const HDF5Memory reader = HDF5Memory::open(path_, read_only());
  expect_same_scores(reader.keyword_index(), rebuilt_from(reader));
}

}  // namespace
}  // namespace edgehdf5
