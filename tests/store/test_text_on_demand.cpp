// Text on demand (OpenOptions::text_on_demand, include/edgehdf5/text_column.hpp): an open
// store leaves the text columns in its file and reads a row when asked. What a deferred
// store answers is compared with the same file opened with every text read at open
// (text_on_demand = false) and with the entries the test saved; what was read is asked of
// the columns themselves (deferred(), rows_read_singly()).

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::make_entries;
using testing::TempDir;

constexpr std::size_t kDim = 16;
constexpr std::size_t kRows = 3000;

std::vector<MemoryEntry> saved_entries() { return make_entries(kRows, kDim, 42); }

void make_file(const std::filesystem::path& path) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = kDim;
  config.compact_threshold = 0;
  HDF5Memory memory = HDF5Memory::create(config);
  memory.save_batch(saved_entries());
}

OpenOptions reading(bool text_on_demand) {
  OpenOptions options;
  options.read_only = true;
  options.text_on_demand = text_on_demand;
  return options;
}

bool all_deferred(const MemoryColumns& columns) {
  return columns.chunks.deferred() && columns.source_channels.deferred() &&
         columns.session_ids.deferred() && columns.tags.deferred();
}

TEST(TextOnDemand, OpenReadsNoTextAndASearchReadsOnlyItsHits) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  make_file(path);
  const std::vector<MemoryEntry> entries = saved_entries();
  const HDF5Memory memory = HDF5Memory::open(path, reading(true));
  const HDF5Memory eager = HDF5Memory::open(path, reading(false));
  EXPECT_TRUE(all_deferred(memory.columns()));
  EXPECT_FALSE(eager.columns().chunks.deferred());
  EXPECT_EQ(memory.count(), kRows);

  const std::vector<SearchHit> hits = memory.search(entries[17].embedding, 5);
  ASSERT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits.front().id, 17);
  for (const SearchHit& hit : hits) {
    const MemoryEntry got = memory.get(hit.id);
    const MemoryEntry& want = entries[static_cast<std::size_t>(hit.id)];
    EXPECT_EQ(got.chunk, want.chunk);
    EXPECT_EQ(got.session_id, want.session_id);
    EXPECT_EQ(got.source_channel, want.source_channel);
    EXPECT_EQ(got.tags, want.tags);
  }
  EXPECT_EQ(memory.columns().chunks.rows_read_singly(), 5u);
  EXPECT_TRUE(all_deferred(memory.columns())) << "five rows read, not the column";

  // A session filter reads that column whole, and only it.
  SearchOptions options;
  options.k = 20;
  options.filter.session_id = "session-7";
  std::vector<MemoryId> got, want;
  for (const SearchHit& hit : memory.search(entries[70].embedding, options).hits) got.push_back(hit.id);
  for (const SearchHit& hit : eager.search(entries[70].embedding, options).hits) want.push_back(hit.id);
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size(), 10u);  // session-7 is rows 70..79
  EXPECT_FALSE(memory.columns().session_ids.deferred());
  EXPECT_TRUE(memory.columns().chunks.deferred());
  EXPECT_TRUE(memory.columns().tags.deferred());

  // Keyword search runs on the file's keyword index (its /keyword_index arrays), so it
  // reads no chunk; the scores are the eager store's.
  const SearchResults words = memory.keyword_search("memory number 123", 10);
  const SearchResults eager_words = eager.keyword_search("memory number 123", 10);
  EXPECT_TRUE(memory.columns().chunks.deferred());
  ASSERT_EQ(words.hits.size(), eager_words.hits.size());
  for (std::size_t i = 0; i < words.hits.size(); ++i) {
    EXPECT_EQ(words.hits[i].id, eager_words.hits[i].id);
    EXPECT_EQ(words.hits[i].score, eager_words.hits[i].score);
  }
  EXPECT_EQ(memory.columns().chunks.values(), eager.columns().chunks.values());
}

TEST(TextOnDemand, AReaderKeepsTheTextsOfTheFileItOpenedAfterAWriterCompactsIt) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  make_file(path);
  const std::vector<MemoryEntry> entries = saved_entries();
  const HDF5Memory reader = HDF5Memory::open(path, reading(true));
  {
    HDF5Memory writer = HDF5Memory::open(path);
    for (MemoryId id = 0; id < 1500; ++id) writer.remove(id);
    writer.compact();  // a new file renamed over the path: row r now holds id r + 1500
    writer.close();
  }
  for (MemoryId id : {0, 1, 1499, 1500, 2999}) {
    EXPECT_EQ(reader.get(id).chunk, entries[static_cast<std::size_t>(id)].chunk) << "id " << id;
  }
  reader.columns().load_texts();
  EXPECT_EQ(reader.columns().tags[2000], entries[2000].tags);
  const HDF5Memory after = HDF5Memory::open(path, reading(true));
  EXPECT_EQ(after.count(), 1500u);
  EXPECT_EQ(after.get(1500).chunk, entries[1500].chunk);
}

TEST(TextOnDemand, ManyRowsReadOneByOneBecomeOneReadOfTheColumn) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  make_file(path);
  const std::vector<MemoryEntry> entries = saved_entries();
  const HDF5Memory memory = HDF5Memory::open(path, reading(true));
  const TextColumn& chunks = memory.columns().chunks;
  for (std::size_t row = 0; row < 1100; ++row) ASSERT_EQ(chunks[row], entries[row].chunk);
  EXPECT_FALSE(chunks.deferred()) << "a walk over many rows reads the column in one pass";
  EXPECT_LE(chunks.rows_read_singly(), 1024u);
  EXPECT_EQ(chunks[2999], entries[2999].chunk);
}

TEST(TextOnDemand, AWriterSavesRemovesCompactsAndChecksAsBefore) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  make_file(path);
  std::vector<MemoryEntry> entries = saved_entries();
  {
    HDF5Memory writer = HDF5Memory::open(path);
    EXPECT_TRUE(all_deferred(writer.columns()));
    const std::vector<MemoryEntry> more = make_entries(10, kDim, 7, 5000);
    writer.save_batch(more);
    entries.insert(entries.end(), more.begin(), more.end());
    EXPECT_TRUE(writer.columns().chunks.deferred()) << "a save reads no text";
    EXPECT_EQ(writer.get(3005).chunk, more[5].chunk);
    writer.remove(4);
    writer.compact();
    writer.close();
  }
  EXPECT_EQ(verify_file(path), std::vector<std::string>{});
  const HDF5Memory reopened = HDF5Memory::open(path, reading(false));
  const MemoryColumns& columns = reopened.columns();
  ASSERT_EQ(columns.rows(), kRows + 10 - 1);
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    const std::size_t index = static_cast<std::size_t>(columns.ids[row]);
    ASSERT_EQ(columns.chunks[row], entries[index].chunk) << "row " << row;
    ASSERT_EQ(columns.session_ids[row], entries[index].session_id) << "row " << row;
  }
}

TEST(TextOnDemand, ThreadsReadingRowsWhileOneReadsTheWholeColumnAgree) {
  TempDir dir;
  const auto path = dir / "memory.h5";
  make_file(path);
  const std::vector<MemoryEntry> entries = saved_entries();
  const HDF5Memory memory = HDF5Memory::open(path, reading(true));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < 300; ++i) {
        const std::size_t row = (i * 7919 + static_cast<std::size_t>(t) * 131) % kRows;
        if (memory.columns().chunks[row] != entries[row].chunk) ++mismatches[static_cast<std::size_t>(t)];
        if (memory.get(static_cast<MemoryId>(row)).tags != entries[row].tags) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  threads.emplace_back([&] { memory.columns().load_texts(); });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
  EXPECT_FALSE(memory.columns().chunks.deferred());
}

}  // namespace
}  // namespace edgehdf5
