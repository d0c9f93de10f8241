// MemoryFileBuilder: the file it writes opens as a store holding exactly what it was given
// (ids, timestamps, tombstones, sessions, entity ids, relations); it refuses what the store
// refuses, and what only a builder can get wrong; write() is atomic and respects the lock.
// Only public headers: the builder is the door tools use instead of src/store.

#include "edgehdf5/memory_file_builder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"
#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::make_entries;
using testing::TempDir;

constexpr std::size_t kDim = 8;

MemoryConfig config_for(const fs::path& path, bool float16 = false) {
  MemoryConfig config;
  config.path = path;
  config.agent_id = "builder-agent";
  config.embedder = "test-embedder";
  config.embedding_dim = kDim;
  config.float16 = float16;
  config.created_at = "2024-06-01T12:00:00Z";
  return config;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Every name in `directory`, to see that no temporary or set-aside file is left behind.
std::vector<std::string> names_in(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(directory)) {
    names.push_back(item.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

HDF5Memory open_read_only(const fs::path& path) {
  OpenOptions options;
  options.read_only = true;
  return HDF5Memory::open(path, options);
}

// ---- what is written is what was given -------------------------------------------------

class BuilderContent : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path path = dir / "built.h5";
  std::vector<MemoryEntry> first = make_entries(5, kDim, 1);
  std::vector<MemoryEntry> later = make_entries(2, kDim, 2, 100);
  std::vector<Session> sessions = {{"s-1", 0, 5, "chat", 1600000000.25, "first five"},
                                   {"s-2", 10, 12, "email", 1600000100.5, "the later two"},
                                   {"s-3", 5, 5, "", 1500000000.0, ""}};
  std::vector<Entity> entities = {{42, "Ada", "person", 3},
                                  {7, "deleted-linked", "thing", 2},
                                  {1000, "Lovelace", "", -1}};
  std::vector<Relation> relations = {{42, 7, "knows", 0.25f, 1400000000.75},
                                     {1000, 42, "", -3.5f, 0.0}};

  MemoryFileBuilder build() {
    MemoryFileBuilder builder(config_for(path));
    EXPECT_EQ(builder.add_memories(first), 0);
    EXPECT_EQ(builder.add_memories(10, later), 10);  // a gap, as after a compaction
    EXPECT_EQ(builder.next_id(), 12);
    for (const Session& session : sessions) builder.add_session(session);
    // An entity refers to memory 2 while it is active; 2 is tombstoned afterwards.
    for (const Entity& entity : entities) builder.add_entity(entity);
    for (const Relation& relation : relations) builder.add_relation(relation);
    builder.tombstone(2);
    builder.tombstone(11);
    EXPECT_EQ(builder.memories(), 7u);
    return builder;
  }
};

TEST_F(BuilderContent, FileOpensWithExactlyWhatWasGiven) {
  build().write(path);
  EXPECT_TRUE(verify_file(path).empty());
  const HDF5Memory memory = open_read_only(path);

  const MemoryConfig& config = memory.config();
  EXPECT_EQ(config.agent_id, "builder-agent");
  EXPECT_EQ(config.embedder, "test-embedder");
  EXPECT_EQ(config.embedding_dim, kDim);
  EXPECT_EQ(config.created_at, "2024-06-01T12:00:00Z");

  const MemoryColumns& columns = memory.columns();
  EXPECT_EQ(columns.ids, (std::vector<MemoryId>{0, 1, 2, 3, 4, 10, 11}));
  EXPECT_EQ(columns.tombstones, (std::vector<std::uint8_t>{0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(memory.count(), 7u);
  EXPECT_EQ(memory.count_active(), 5u);
  for (MemoryId id : {0, 1, 3, 4}) EXPECT_EQ(memory.get(id), first[static_cast<std::size_t>(id)]);
  EXPECT_EQ(memory.get(10), later[0]);
  // Tombstoned rows keep their content in the file but are not active.
  EXPECT_EQ(columns.chunks[2], first[2].chunk);
  EXPECT_EQ(columns.timestamps[6], later[1].timestamp);
  expect_error([&] { (void)memory.get(2); }, ErrorCode::not_found, "no active memory with id 2");

  // The file keeps a session's range as the rows it covers, so an end in the gap 5..9 reads
  // back as the next id present, 10: the same memories, as after a compaction.
  std::vector<Session> covered = sessions;
  covered[0].end_id = 10;
  covered[2].start_id = covered[2].end_id = 10;
  EXPECT_EQ(memory.sessions(), covered);
  EXPECT_EQ(memory.knowledge().entities(), entities);
  EXPECT_EQ(memory.knowledge().relations(), relations);
}

TEST_F(BuilderContent, AStoreOpenedOnTheFileGoesOnFromTheGivenIds) {
  build().write(path);
  HDF5Memory memory = HDF5Memory::open(path);
  EXPECT_EQ(memory.count_active(), 5u);  // opening does not compact the tombstones away
  EXPECT_EQ(memory.save(make_entries(1, kDim, 3)[0]), 12);
  EXPECT_EQ(memory.add_entity("next", "thing", -1), 1001);
  memory.remove(0);
  memory.close();
  EXPECT_TRUE(verify_file(path).empty());
}

TEST_F(BuilderContent, WriteLeavesTheBuilderAsItWas) {
  const MemoryFileBuilder builder = build();
  builder.write(path);
  builder.write(dir / "again.h5");
  EXPECT_EQ(read_bytes(path).size(), read_bytes(dir / "again.h5").size());
  EXPECT_EQ(open_read_only(dir / "again.h5").knowledge().entities(), entities);
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"again.h5", "built.h5"}));
}

TEST(MemoryFileBuilder, Float16StoresTheRoundedValues) {
  TempDir dir;
  MemoryFileBuilder builder(config_for(dir / "half.h5", /*float16=*/true));
  std::vector<MemoryEntry> entries = make_entries(3, kDim, 9);
  entries[0].embedding[0] = 65504.0f;  // the largest half
  builder.add_memories(entries);
  builder.write(dir / "half.h5");
  const HDF5Memory memory = open_read_only(dir / "half.h5");
  EXPECT_EQ(memory.columns().embedding_type, EmbeddingType::float16);
  for (MemoryId id = 0; id < 3; ++id) {
    const std::vector<float> stored = memory.get(id).embedding;
    for (std::size_t d = 0; d < kDim; ++d) {
      const float given = entries[static_cast<std::size_t>(id)].embedding[d];
      EXPECT_EQ(stored[d], half_to_float(float_to_half(given)));
    }
  }
}

TEST(MemoryFileBuilder, AnEmptyBuilderWritesAnEmptyStore) {
  TempDir dir;
  MemoryFileBuilder builder(config_for(dir / "x.h5"));
  EXPECT_EQ(builder.add_memories(std::span<const MemoryEntry>{}), 0);
  builder.write(dir / "empty.h5");
  const HDF5Memory memory = open_read_only(dir / "empty.h5");
  EXPECT_EQ(memory.count(), 0u);
  EXPECT_TRUE(memory.sessions().empty());
  EXPECT_FALSE(memory.config().created_at.empty());  // filled in when not given
}

// ---- refusals ------------------------------------------------------------------------------

class BuilderRefusals : public ::testing::Test {
 protected:
  TempDir dir;
  MemoryFileBuilder builder{config_for(dir / "r.h5")};
  std::vector<MemoryEntry> entries = make_entries(3, kDim);

  void SetUp() override {
    builder.add_memories(entries);  // ids 0, 1, 2
    builder.add_entity({5, "five", "", 0});
  }

  // A refused change leaves the builder as it was: the same file is written.
  void expect_unchanged() {
    EXPECT_EQ(builder.memories(), 3u);
    EXPECT_EQ(builder.next_id(), 3);
    builder.write(dir / "after.h5");
    const HDF5Memory memory = open_read_only(dir / "after.h5");
    EXPECT_EQ(memory.count_active(), 3u);
    EXPECT_EQ(memory.knowledge().entities().size(), 1u);
    EXPECT_EQ(memory.knowledge().relations().size(), 0u);
    EXPECT_TRUE(memory.sessions().empty());
  }
};

TEST_F(BuilderRefusals, EntriesTheStoreRefuses) {
  const auto refused = [&](MemoryEntry entry, const std::string& fragment) {
    expect_error([&] { builder.add_memories({&entry, 1}); }, ErrorCode::invalid_argument,
                 fragment);
  };
  MemoryEntry entry = entries[0];
  entry.embedding.resize(kDim - 1);
  refused(entry, "embedding has 7 values, the store's embedding_dim is 8");
  entry = entries[0];
  entry.embedding[1] = std::numeric_limits<float>::quiet_NaN();
  refused(entry, "entry: embedding value 1 is NaN");
  entry = entries[0];
  entry.embedding[2] = std::numeric_limits<float>::infinity();
  refused(entry, "embedding value 2 is infinite");
  entry = entries[0];
  entry.timestamp = std::numeric_limits<double>::quiet_NaN();
  refused(entry, "timestamp is not finite");
  entry = entries[0];
  entry.chunk = "bad \xff\xfe utf-8";
  refused(entry, "entry: chunk is not valid UTF-8");
  entry = entries[0];
  entry.tags = std::string("a\0b", 3);
  refused(entry, "entry: tags contains a NUL byte");
  // In a batch the entry is named, and none of the batch is added.
  std::vector<MemoryEntry> batch = make_entries(3, kDim, 5);
  batch[2].source_channel = "\xc0\x80";  // overlong NUL
  expect_error([&] { builder.add_memories(batch); }, ErrorCode::invalid_argument,
               "entry 2: source_channel is not valid UTF-8");
  expect_unchanged();
}

TEST(MemoryFileBuilder, Float16RangeIsChecked) {
  TempDir dir;
  MemoryFileBuilder builder(config_for(dir / "h.h5", /*float16=*/true));
  MemoryEntry entry = make_entries(1, kDim)[0];
  entry.embedding[3] = 70000.0f;
  expect_error([&] { builder.add_memories({&entry, 1}); }, ErrorCode::invalid_argument,
               "embedding value 3 (70000.000000) is outside the float16 range");
  EXPECT_EQ(builder.memories(), 0u);
}

TEST_F(BuilderRefusals, MemoryIdsMustIncrease) {
  const std::vector<MemoryEntry> more = make_entries(2, kDim, 6);
  expect_error([&] { builder.add_memories(2, more); }, ErrorCode::invalid_argument,
               "memory id 2 does not follow the ids added");
  expect_error([&] { builder.add_memories(std::numeric_limits<MemoryId>::max() - 1, more); },
               ErrorCode::invalid_argument, "past the largest id");
  expect_unchanged();
}

TEST_F(BuilderRefusals, TombstonesOfMemoriesThatAreNotActive) {
  expect_error([&] { builder.tombstone(3); }, ErrorCode::not_found, "no active memory with id 3");
  expect_error([&] { builder.tombstone(-1); }, ErrorCode::not_found, "no active memory");
  expect_unchanged();
  builder.tombstone(1);
  expect_error([&] { builder.tombstone(1); }, ErrorCode::not_found, "no active memory with id 1");
}

TEST_F(BuilderRefusals, Sessions) {
  expect_error([&] { builder.add_session({"", 0, 1, "", 1.0, ""}); }, ErrorCode::invalid_argument,
               "session id is empty");
  expect_error([&] { builder.add_session({"s", 2, 1, "", 1.0, ""}); },
               ErrorCode::invalid_argument, "session range [2, 1) is not a range of memory ids");
  expect_error([&] { builder.add_session({"s", 0, 1, "", INFINITY, ""}); },
               ErrorCode::invalid_argument, "session timestamp is not finite");
  expect_error([&] { builder.add_session({"s", 0, 1, "\xff", 1.0, ""}); },
               ErrorCode::invalid_argument, "session channel is not valid UTF-8");
  expect_unchanged();
}

TEST_F(BuilderRefusals, Entities) {
  expect_error([&] { builder.add_entity({5, "again", "", -1}); }, ErrorCode::invalid_argument,
               "entity id 5 is used by an earlier entity");
  expect_error([&] { builder.add_entity({6, "", "", -1}); }, ErrorCode::invalid_argument,
               "entity name is empty");
  expect_error([&] { builder.add_entity({6, "six", "\xff", -1}); }, ErrorCode::invalid_argument,
               "entity type is not valid UTF-8");
  expect_error([&] { builder.add_entity({6, "six", "", 3}); }, ErrorCode::not_found,
               "entity 'six' refers to memory 3, which is not an active memory");
  expect_unchanged();
  builder.tombstone(2);
  expect_error([&] { builder.add_entity({6, "six", "", 2}); }, ErrorCode::not_found,
               "refers to memory 2, which is not an active memory");
}

TEST_F(BuilderRefusals, Relations) {
  expect_error([&] { builder.add_relation({5, 9, "r", 1.0f, 1.0}); }, ErrorCode::not_found,
               "no entity with id 9");
  expect_error([&] { builder.add_relation({9, 5, "r", 1.0f, 1.0}); }, ErrorCode::not_found,
               "no entity with id 9");
  expect_error([&] { builder.add_relation({5, 5, "r", NAN, 1.0}); }, ErrorCode::invalid_argument,
               "relation weight is not finite");
  expect_error([&] { builder.add_relation({5, 5, "r", 1.0f, -INFINITY}); },
               ErrorCode::invalid_argument, "relation timestamp is not finite");
  expect_error([&] { builder.add_relation({5, 5, std::string("r\0", 2), 1.0f, 1.0}); },
               ErrorCode::invalid_argument, "relation type contains a NUL byte");
  expect_unchanged();
}

TEST(MemoryFileBuilder, ConfigsHDF5MemoryCreateRefuses) {
  TempDir dir;
  MemoryConfig config = config_for(dir / "c.h5");
  config.embedding_dim = 0;
  expect_error([&] { MemoryFileBuilder{config}; }, ErrorCode::invalid_argument,
               "embedding_dim must be between 1 and 65536, got 0");
  config.embedding_dim = kMaxEmbeddingDim + 1;
  expect_error([&] { MemoryFileBuilder{config}; }, ErrorCode::invalid_argument, "embedding_dim");
  config = config_for(dir / "c.h5");
  config.compression = true;
  config.compression_level = 10;
  expect_error([&] { MemoryFileBuilder{config}; }, ErrorCode::invalid_argument,
               "compression_level must be 1..9, got 10");
  config = config_for(dir / "c.h5");
  config.agent_id = "\xff";
  expect_error([&] { MemoryFileBuilder{config}; }, ErrorCode::invalid_argument,
               "agent_id is not valid UTF-8");
  config = config_for("");
  expect_error([&] { MemoryFileBuilder{config}; }, ErrorCode::invalid_argument, "path is empty");
}

TEST(MemoryFileBuilder, CheckTextIsTheStoresRule) {
  EXPECT_NO_THROW(MemoryFileBuilder::check_text("naïve café ☕", "chunk"));
  EXPECT_NO_THROW(MemoryFileBuilder::check_text("", "chunk"));
  expect_error([] { MemoryFileBuilder::check_text("\xed\xa0\x80", "name"); },
               ErrorCode::invalid_argument, "name is not valid UTF-8");  // a surrogate
  expect_error([] { MemoryFileBuilder::check_text(std::string_view("a\0", 2), "tags"); },
               ErrorCode::invalid_argument, "tags contains a NUL byte");
}

// ---- writing -------------------------------------------------------------------------------

class BuilderWrite : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path path = dir / "out.h5";
  fs::path log = dir / "out.h5.wal";
  MemoryFileBuilder builder{config_for(path)};

  void SetUp() override { builder.add_memories(make_entries(4, kDim, 11)); }

  // A store at `path` with one memory, closed: its file and an (empty) log.
  void make_existing_store() {
    HDF5Memory memory = HDF5Memory::create(config_for(path));
    memory.save(make_entries(1, kDim, 12)[0]);
    memory.close();
  }
};

TEST_F(BuilderWrite, RefusesAnExistingFileOrLogUnlessReplacing) {
  make_existing_store();
  const std::string before = read_bytes(path);
  expect_error([&] { builder.write(path); }, ErrorCode::io, path.string() + " already exists");
  EXPECT_EQ(read_bytes(path), before);

  fs::remove(path);
  write_bytes(log, "stale");
  expect_error([&] { builder.write(path); }, ErrorCode::io, log.string() + " already exists");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(read_bytes(log), "stale");
}

TEST_F(BuilderWrite, ReplacingPutsTheNewFileInPlaceAndDropsTheOldLog) {
  make_existing_store();
  write_bytes(log, "a log that belongs to the old file");
  builder.write(path, {.replace = true});
  EXPECT_FALSE(fs::exists(log));
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"out.h5"}));
  const HDF5Memory memory = HDF5Memory::open(path);
  EXPECT_EQ(memory.count(), 4u);
  EXPECT_EQ(memory.info().log_records_replayed, 0u);
}

TEST_F(BuilderWrite, AFailedWriteLeavesTheOldFileAndLog) {
  make_existing_store();
  write_bytes(log, "old log");
  const std::string before = read_bytes(path);
  // The temporary cannot be created: a directory (not empty, so nobody removes it) is there.
  fs::create_directories(dir / "out.h5.tmp" / "occupied");
  EXPECT_THROW(builder.write(path, {.replace = true}), Error);
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(read_bytes(log), "old log");
  fs::remove_all(dir / "out.h5.tmp");

  // The rename fails (the destination is a directory that is not empty): the log, set aside
  // for the rename, is put back, and the temporary is removed.
  const fs::path occupied = dir / "dir.h5";
  fs::create_directories(occupied / "inside");
  write_bytes(dir / "dir.h5.wal", "its log");
  EXPECT_THROW(builder.write(occupied, {.replace = true}), Error);
  EXPECT_EQ(read_bytes(dir / "dir.h5.wal"), "its log");
  EXPECT_TRUE(fs::is_directory(occupied / "inside"));
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"dir.h5", "dir.h5.wal", "out.h5",
                                                            "out.h5.wal"}));
}

TEST_F(BuilderWrite, RefusedWhileAStoreIsOpenForWriting) {
  HDF5Memory memory = HDF5Memory::create(config_for(path));
  memory.save(make_entries(1, kDim, 13)[0]);
  memory.flush();
  const std::string file = read_bytes(path);
  const std::string wal = read_bytes(log);
  expect_error([&] { builder.write(path, {.replace = true}); }, ErrorCode::locked,
               "already open for writing");
  EXPECT_EQ(read_bytes(path), file);
  EXPECT_EQ(read_bytes(log), wal);
  memory.close();
  builder.write(path, {.replace = true});  // free once the store is closed
  EXPECT_EQ(open_read_only(path).count(), 4u);
}

TEST_F(BuilderWrite, TemporaryNameIsTheCallers) {
  builder.write(path, {.temporary_suffix = ".migrating-17"});
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"out.h5"}));
  expect_error([&] { builder.write(dir / "b.h5", {.temporary_suffix = ""}); },
               ErrorCode::invalid_argument, "temporary_suffix");
  expect_error([&] { builder.write(dir / "b.h5", {.temporary_suffix = "/../x"}); },
               ErrorCode::invalid_argument, "temporary_suffix");
  EXPECT_FALSE(fs::exists(dir / "b.h5"));
}

}  // namespace
}  // namespace edgehdf5
