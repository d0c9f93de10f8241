// HDF5Memory behaviour: saves, ids, tombstones, compaction, sessions, entities, reopen.

#include "edgehdf5/memory.hpp"

#include <gtest/gtest.h>

#include "edgehdf5/error.hpp"
#include "edgehdf5/hybrid.hpp"
#include "edgehdf5/search.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::make_entries;
using testing::TempDir;

MemoryConfig config_at(const std::filesystem::path& path, std::size_t dim, bool half = false) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = dim;
  config.float16 = half;
  config.agent_id = "tester";
  config.embedder = "random:" + std::to_string(dim);
  return config;
}

OpenOptions read_only() {
  OpenOptions options;
  options.read_only = true;
  return options;
}

class MemoryTypes : public ::testing::TestWithParam<bool> {};  // float16 or not

TEST_P(MemoryTypes, SavesSurviveCloseAndReopen) {
  TempDir dir;
  const bool half = GetParam();
  const auto entries = make_entries(25, 16);
  std::vector<MemoryId> ids;
  {
    HDF5Memory memory = HDF5Memory::create(config_at(dir / "m.h5", 16, half));
    ids = memory.save_batch(std::span(entries).first(20));
    ids.push_back(memory.save(entries[20]));
    for (std::size_t i = 21; i < entries.size(); ++i) ids.push_back(memory.save(entries[i]));
    EXPECT_EQ(memory.count(), 25u);
    memory.close();
  }
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<MemoryId>(i));

  HDF5Memory memory = HDF5Memory::open(dir / "m.h5", read_only());
  EXPECT_EQ(memory.info().log_records_replayed, 0u);  // close() checkpointed everything
  ASSERT_EQ(memory.count(), 25u);
  EXPECT_EQ(memory.columns().embedding_type, half ? EmbeddingType::float16 : EmbeddingType::float32);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const MemoryEntry got = memory.get(ids[i]);
    EXPECT_EQ(got.chunk, entries[i].chunk);
    EXPECT_EQ(got.source_channel, entries[i].source_channel);
    EXPECT_EQ(got.timestamp, entries[i].timestamp);
    EXPECT_EQ(got.session_id, entries[i].session_id);
    EXPECT_EQ(got.tags, entries[i].tags);
    for (std::size_t d = 0; d < 16; ++d) {
      const float expected = half ? half_to_float(float_to_half(entries[i].embedding[d]))
                                  : entries[i].embedding[d];
      EXPECT_EQ(got.embedding[d], expected);
    }
    EXPECT_NEAR(memory.columns().norms[i], compute_norm(got.embedding), 1e-5);
  }
}

TEST_P(MemoryTypes, EveryConfigSettingSurvivesReopen) {
  TempDir dir;
  MemoryConfig config = config_at(dir / "m.h5", 7, GetParam());
  config.chunk_size = 256;
  config.overlap = 32;
  config.compression = true;
  config.compression_level = 7;
  config.compact_threshold = 0.5;
  config.created_at = "2025-01-01T00:00:00Z";
  config.keyword_tokenizer = KeywordTokenizer::unicode61;  // not the default
  HDF5Memory::create(config).close();
  const HDF5Memory memory = HDF5Memory::open(config.path, read_only());
  const MemoryConfig& got = memory.config();
  EXPECT_EQ(got.agent_id, "tester");
  EXPECT_EQ(got.embedder, "random:7");
  EXPECT_EQ(got.embedding_dim, 7u);
  EXPECT_EQ(got.chunk_size, 256u);
  EXPECT_EQ(got.overlap, 32u);
  EXPECT_EQ(got.float16, GetParam());
  EXPECT_TRUE(got.compression);
  EXPECT_EQ(got.compression_level, 7);
  EXPECT_EQ(got.compact_threshold, 0.5);
  EXPECT_EQ(got.created_at, "2025-01-01T00:00:00Z");
  EXPECT_EQ(got.keyword_tokenizer, KeywordTokenizer::unicode61);
  EXPECT_EQ(memory.info().schema_version, "1.0");
}

// The keyword tokenizer is the file's: porter (the default) matches other forms of a word,
// unicode61 only the form written, and each survives reopen with the log replayed.
TEST(Memory, KeywordSearchUsesTheFilesTokenizerAcrossReopen) {
  TempDir dir;
  for (const KeywordTokenizer tokenizer : {KeywordTokenizer::porter, KeywordTokenizer::unicode61}) {
    MemoryConfig config = config_at(dir / (std::string(keyword_tokenizer_name(tokenizer)) + ".h5"), 4);
    config.keyword_tokenizer = tokenizer;
    std::vector<MemoryEntry> entries = make_entries(3, 4);
    entries[0].chunk = "We are renovating the kitchen";
    entries[1].chunk = "The renovation budget doubled";
    entries[2].chunk = "Nothing to see here";
    {
      HDF5Memory memory = HDF5Memory::create(config);
      memory.save_batch(entries);
      memory.flush();  // in the log only: reopen must rebuild with the same tokenizer
      const bool stems = tokenizer == KeywordTokenizer::porter;
      // No row holds "renovations" as written; both hold its stem.
      EXPECT_EQ(memory.keyword_search("renovations", 10, {}).hits.size(), stems ? 2u : 0u);
      EXPECT_EQ(memory.keyword_search("renovation", 10, {}).hits.size(), stems ? 2u : 1u);
    }
    const HDF5Memory reopened = HDF5Memory::open(config.path, read_only());
    EXPECT_EQ(reopened.config().keyword_tokenizer, tokenizer);
    EXPECT_EQ(reopened.keyword_search("renovating", 10, {}).hits.size(),
              tokenizer == KeywordTokenizer::porter ? 2u : 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Float32AndFloat16, MemoryTypes, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "float16" : "float32"; });

TEST(Memory, UnflushedLogIsReplayedAtOpen) {
  TempDir dir;
  const auto entries = make_entries(10, 8);
  {
    HDF5Memory memory = HDF5Memory::create(config_at(dir / "m.h5", 8));
    memory.save_batch(entries);
    memory.remove(3);
    memory.flush();
    // Leave without close(): as a crash would, the .h5 holds nothing, the log everything.
    std::filesystem::copy_file(dir / "m.h5", dir / "crashed.h5");
    std::filesystem::copy_file(dir / "m.h5.wal", dir / "crashed.h5.wal");
  }
  HDF5Memory memory = HDF5Memory::open(dir / "crashed.h5");
  EXPECT_EQ(memory.info().log_records_replayed, 2u);
  EXPECT_EQ(memory.count(), 10u);
  EXPECT_EQ(memory.count_active(), 9u);
  EXPECT_THROW(memory.get(3), Error);
  EXPECT_EQ(memory.save(entries[0]), 10);  // ids continue after the replayed ones
}

TEST(Memory, RemoveTombstonesAndSearchSkipsDeleted) {
  TempDir dir;
  MemoryConfig config = config_at(dir / "m.h5", 8);
  config.compact_threshold = 0;  // no automatic compaction here
  HDF5Memory memory = HDF5Memory::create(config);
  const auto entries = make_entries(10, 8);
  memory.save_batch(entries);
  memory.remove(4);
  EXPECT_EQ(memory.count(), 10u);
  EXPECT_EQ(memory.count_active(), 9u);
  try {
    memory.get(4);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::not_found);
  }
  EXPECT_THROW(memory.remove(4), Error);   // already deleted
  EXPECT_THROW(memory.remove(99), Error);  // never existed
  const auto hits = memory.search(entries[4].embedding, 10);
  EXPECT_EQ(hits.size(), 9u);
  for (const SearchHit& hit : hits) EXPECT_NE(hit.id, 4);
  EXPECT_EQ(memory.search(entries[5].embedding, 1).front().id, 5);
}

TEST(Memory, CompactionKeepsIdsSessionsAndEntitiesPointingAtTheSameMemories) {
  TempDir dir;
  MemoryConfig config = config_at(dir / "m.h5", 8);
  config.compact_threshold = 0;
  const auto entries = make_entries(12, 8);
  {
    HDF5Memory memory = HDF5Memory::create(config);
    memory.save_batch(entries);
    memory.add_session("s1", 2, 8, "chat", "ids 2..7");
    memory.add_session("s2", 8, 12, "chat", "ids 8..11");
    const EntityId alice = memory.add_entity("Alice", "person", 6);
    const EntityId bob = memory.add_entity("Bob", "person", 1);
    memory.add_relation(alice, bob, "knows", 0.5f);
    for (MemoryId id : {0, 1, 3, 9}) memory.remove(id);
    EXPECT_EQ(memory.compact(), 4u);
    EXPECT_EQ(memory.count(), 8u);
    EXPECT_EQ(memory.get(6).chunk, entries[6].chunk);
    EXPECT_EQ(memory.knowledge().find_entity(bob)->embedding_id, -1);  // its memory is gone
    memory.close();
  }
  HDF5Memory memory = HDF5Memory::open(config.path, read_only());
  ASSERT_EQ(memory.count(), 8u);
  for (MemoryId id : {2, 4, 5, 6, 7, 8, 10, 11}) {
    EXPECT_EQ(memory.get(id).chunk, entries[static_cast<std::size_t>(id)].chunk) << id;
  }
  EXPECT_THROW(memory.get(3), Error);
  const auto& sessions = memory.sessions();
  ASSERT_EQ(sessions.size(), 2u);
  // The ranges still cover the same surviving memories.
  EXPECT_EQ(sessions[0].start_id, 2);
  EXPECT_EQ(sessions[0].end_id, 8);
  EXPECT_EQ(sessions[1].start_id, 8);
  EXPECT_EQ(sessions[1].end_id, 12);
  EXPECT_EQ(memory.knowledge().find_entity_by_name("Alice")->embedding_id, 6);
  EXPECT_EQ(memory.knowledge().find_entity_by_name("Bob")->embedding_id, -1);
  // Ids keep increasing after compaction and reopen.
  HDF5Memory writer = HDF5Memory::open(config.path);
  EXPECT_EQ(writer.save(entries[0]), 12);
}

TEST(Memory, CompactionDroppingTheLastRowsKeepsTheNextId) {
  TempDir dir;
  MemoryConfig config = config_at(dir / "m.h5", 4);
  config.compact_threshold = 0;
  {
    HDF5Memory memory = HDF5Memory::create(config);
    memory.save_batch(make_entries(5, 4));
    memory.remove(3);
    memory.remove(4);
    memory.compact();
  }
  HDF5Memory memory = HDF5Memory::open(config.path);
  EXPECT_EQ(memory.save(make_entries(1, 4)[0]), 5);
}

TEST(Memory, CompactsAutomaticallyPastTheThreshold) {
  TempDir dir;
  MemoryConfig config = config_at(dir / "m.h5", 4);
  config.compact_threshold = 0.25;
  HDF5Memory memory = HDF5Memory::create(config);
  memory.save_batch(make_entries(8, 4));
  memory.remove(0);
  memory.remove(1);  // 2/8 = 0.25: not past
  EXPECT_EQ(memory.count(), 8u);
  memory.remove(2);  // 3/8 > 0.25: compacted
  EXPECT_EQ(memory.count(), 5u);
  EXPECT_EQ(memory.count_active(), 5u);
}

TEST(Memory, SessionsAndKnowledgeGraph) {
  TempDir dir;
  const auto path = dir / "m.h5";
  {
    HDF5Memory memory = HDF5Memory::create(config_at(path, 4));
    memory.save_batch(make_entries(3, 4));
    memory.add_session("session-001", 0, 3, "chat", "Discussed UI preferences");
    memory.add_session("session-001", 0, 3, "chat", "Updated summary");
    const EntityId alice = memory.add_entity("Alice", "person", 0);
    const EntityId project = memory.add_entity("ProjectX", "project", -1);
    const EntityId carol = memory.add_entity("Carol", "person", -1);
    const EntityId dave = memory.add_entity("Dave", "person", -1);
    EXPECT_EQ(alice, 0);
    EXPECT_EQ(dave, 3);
    memory.add_relation(alice, project, "works_on", 1.0f);
    memory.add_relation(carol, project, "leads", 0.8f);
    memory.add_relation(dave, carol, "reports_to", 1.0f);
    EXPECT_THROW(memory.add_relation(alice, 42, "knows", 1.0f), Error);
    EXPECT_THROW(memory.add_entity("Ghost", "person", 17), Error);
    EXPECT_THROW(memory.get_session_summary("nope"), Error);
    memory.close();
  }
  HDF5Memory memory = HDF5Memory::open(path, read_only());
  EXPECT_EQ(memory.get_session_summary("session-001"), "Updated summary");
  const KnowledgeGraph& graph = memory.knowledge();
  const Entity* alice = graph.find_entity_by_name("Alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->type, "person");
  EXPECT_EQ(alice->embedding_id, 0);
  EXPECT_EQ(graph.find_entity_by_name("Nobody"), nullptr);
  const auto from = graph.relations_from(alice->id);
  ASSERT_EQ(from.size(), 1u);
  EXPECT_EQ(from[0].type, "works_on");
  EXPECT_EQ(from[0].target, 1);
  EXPECT_EQ(graph.relations_to(1).size(), 2u);
  EXPECT_EQ(graph.neighbors(1), (std::vector<EntityId>{0, 2}));
  const auto reach = graph.traverse(alice->id, 2);
  EXPECT_EQ(reach, (std::vector<std::pair<EntityId, std::size_t>>{{0, 0}, {1, 1}, {2, 2}}));
  EXPECT_EQ(graph.traverse(alice->id, 3).back(), (std::pair<EntityId, std::size_t>{3, 3}));
  // The writer continues entity ids after reopen.
  HDF5Memory writer = HDF5Memory::open(path);
  EXPECT_EQ(writer.add_entity("Eve", "person", -1), 4);
}

TEST(Memory, SnapshotIsACompleteCopyAtThatMoment) {
  TempDir dir;
  HDF5Memory memory = HDF5Memory::create(config_at(dir / "m.h5", 4));
  memory.save_batch(make_entries(5, 4));
  memory.snapshot(dir / "snap.h5");
  memory.save(make_entries(1, 4, 7)[0]);
  EXPECT_FALSE(std::filesystem::exists(dir / "snap.h5.wal"));
  const HDF5Memory snap = HDF5Memory::open(dir / "snap.h5", read_only());
  EXPECT_EQ(snap.count(), 5u);
  EXPECT_THROW(memory.snapshot(dir / "m.h5"), Error);
}

TEST(Memory, SnapshotReplacesAnOldStoreAndItsLogButNotALiveOne) {
  TempDir dir;
  HDF5Memory memory = HDF5Memory::create(config_at(dir / "m.h5", 4));
  memory.save_batch(make_entries(2, 4));
  {
    // An older store at the destination, closed with changes still in its log.
    HDF5Memory old = HDF5Memory::create(config_at(dir / "old.h5", 4));
    for (const MemoryEntry& entry : make_entries(7, 4, 3)) old.save(entry);  // lsns 1..7
    old.flush();
    std::filesystem::copy_file(dir / "old.h5.wal", dir / "old-log.wal");
  }
  std::filesystem::copy_file(dir / "old-log.wal", dir / "old.h5.wal",
                             std::filesystem::copy_options::overwrite_existing);
  memory.snapshot(dir / "old.h5");
  EXPECT_EQ(HDF5Memory::open(dir / "old.h5", OpenOptions{.read_only = true}).count(), 2u);

  HDF5Memory live = HDF5Memory::create(config_at(dir / "live.h5", 4));
  try {
    memory.snapshot(dir / "live.h5");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::locked);
  }
}

TEST(Memory, SecondWriterIsRefusedButReadersWork) {
  TempDir dir;
  const auto path = dir / "m.h5";
  HDF5Memory writer = HDF5Memory::create(config_at(path, 4));
  writer.save_batch(make_entries(3, 4));
  try {
    HDF5Memory::open(path);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::locked);
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos);
  }
  // A reader sees what was saved so far, from the file plus the log.
  const HDF5Memory reader = HDF5Memory::open(path, read_only());
  EXPECT_EQ(reader.count(), 3u);
  EXPECT_EQ(reader.search(make_entries(3, 4)[1].embedding, 1).front().id, 1);
  writer.close();
  EXPECT_NO_THROW(HDF5Memory::open(path));  // the lock went with close()
}

TEST(Memory, ReadOnlyHandleRefusesWrites) {
  TempDir dir;
  HDF5Memory::create(config_at(dir / "m.h5", 4)).close();
  HDF5Memory reader = HDF5Memory::open(dir / "m.h5", read_only());
  try {
    reader.save(make_entries(1, 4)[0]);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::read_only);
  }
}

TEST(Memory, FlushCheckpointsOnceTheLogOutgrowsTheFile) {
  TempDir dir;
  OpenOptions options;
  options.checkpoint_log_bytes = 1024;
  HDF5Memory memory = HDF5Memory::create(config_at(dir / "m.h5", 64), options);
  memory.save_batch(make_entries(200, 64));  // ~60 KB of log against a ~10 KB file
  memory.flush();
  EXPECT_LT(memory.info().log_bytes, 100u);  // a fresh log: header only
  const HDF5Memory reader = HDF5Memory::open(dir / "m.h5", OpenOptions{.read_only = true});
  EXPECT_EQ(reader.count(), 200u);
  EXPECT_EQ(reader.info().log_records_replayed, 0u);
}

TEST(Memory, CreateRefusesAnExistingFile) {
  TempDir dir;
  HDF5Memory::create(config_at(dir / "m.h5", 4)).close();
  try {
    HDF5Memory::create(config_at(dir / "m.h5", 4));
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("already exists"), std::string::npos);
  }
}

// The store's searches are the free functions over its columns with the store's own
// indexes: the same hits and scores, and the keyword index kept current by saves and
// removes without a rebuild.
TEST(Memory, StoreSearchesAreTheFreeFunctionsWithTheStoresIndexes) {
  TempDir dir;
  const auto entries = make_entries(60, 8);
  HDF5Memory memory = HDF5Memory::create(config_at(dir / "m.h5", 8));
  memory.save_batch(entries);
  const BM25Index& keywords = memory.keyword_index();
  memory.remove(3);
  memory.save(entries[5]);  // after the keyword index was built: it must follow

  const auto same = [](const SearchResults& a, const SearchResults& b) {
    ASSERT_EQ(a.hits.size(), b.hits.size());
    for (std::size_t i = 0; i < a.hits.size(); ++i) {
      EXPECT_EQ(a.hits[i].id, b.hits[i].id);
      EXPECT_FLOAT_EQ(a.hits[i].score, b.hits[i].score);
    }
  };
  SearchOptions options;
  options.k = 7;
  options.filter.source_channel = "chat";
  const std::vector<float>& query = entries[11].embedding;  // a "chat" memory
  same(memory.search(query, options), search_with_metrics(query, memory.columns(), options));
  EXPECT_EQ(memory.search(query, options).hits.front().id, 11);

  std::vector<float> queries = entries[1].embedding;
  queries.insert(queries.end(), entries[2].embedding.begin(), entries[2].embedding.end());
  const auto batch = memory.search_batch(queries, 2, options);
  ASSERT_EQ(batch.size(), 2u);
  same(batch[1], memory.search(entries[2].embedding, options));

  EXPECT_EQ(&memory.keyword_index(), &keywords);  // kept current, not rebuilt
  const BM25Index rebuilt = BM25Index::build(memory.columns().chunks.values(), memory.columns().tombstones);
  same(memory.keyword_search("memory number 5", 10),
       keyword_search("memory number 5", memory.columns(), rebuilt, 10));
  EXPECT_EQ(memory.keyword_search("number 3", 60).hits.size(), 60u);  // every row but id 3
  for (const SearchHit& hit : memory.keyword_search("number 3", 60).hits) EXPECT_NE(hit.id, 3);

  HybridOptions hybrid;
  hybrid.k = 5;
  hybrid.fusion = Fusion::rrf;
  same(memory.hybrid_search(query, "number 10", hybrid),
       hybrid_search(query, "number 10", memory.columns(), rebuilt, hybrid));

  // Without an IVF-PQ index the exact scan answers, and a forced ivfpq says why it cannot.
  EXPECT_EQ(memory.ivfpq_index_answering(std::nullopt), nullptr);
  options.strategy = Strategy::ivfpq;
  EXPECT_THROW(memory.search(query, options), Error);
  options.strategy = Strategy::scalar;
  EXPECT_EQ(memory.ivfpq_index_answering(Strategy::scalar), nullptr);
  EXPECT_EQ(memory.search(query, options).metrics.strategy, "scalar");
}

}  // namespace
}  // namespace edgehdf5
