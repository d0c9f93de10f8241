// Files written by the original Rust tool open here, read-only and read-write.
//
// make_rust_fixture.py writes them the Rust way (fixed-length null-padded UTF-8 strings, no
// /memory/ids so that a memory's id is its row, no next_id, integer attributes as int64 in
// one file and uint64 in the other) with a JSON manifest beside each. CTest runs it first
// (fixture interop_rust_fixture) and passes the folder in EDGEHDF5_RUST_FIXTURE_DIR.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "edgehdf5/edgehdf5.hpp"

namespace edgehdf5 {
// Readable failure messages for the records compared below, with timestamps and floats
// printed exactly (gtest would show raw bytes, or 1.7e+09 for any recent timestamp).
void PrintTo(const MemoryEntry& entry, std::ostream* out) {
  *out << std::setprecision(17) << "MemoryEntry{\"" << entry.chunk << "\", [";
  for (float value : entry.embedding) *out << value << ' ';
  *out << "], " << entry.source_channel << ", " << entry.timestamp << ", " << entry.session_id
       << ", " << entry.tags << "}";
}
void PrintTo(const Session& session, std::ostream* out) {
  *out << std::setprecision(17) << "Session{" << session.id << ", [" << session.start_id << ", "
       << session.end_id << "), " << session.channel << ", " << session.timestamp << ", \""
       << session.summary << "\"}";
}
void PrintTo(const Entity& entity, std::ostream* out) {
  *out << "Entity{" << entity.id << ", " << entity.name << ", " << entity.type << ", "
       << entity.embedding_id << "}";
}
void PrintTo(const Relation& relation, std::ostream* out) {
  *out << std::setprecision(17) << "Relation{" << relation.source << " -> " << relation.target
       << ", " << relation.type << ", " << relation.weight << ", " << relation.timestamp << "}";
}
}  // namespace edgehdf5

namespace {

namespace fs = std::filesystem;
using edgehdf5::ErrorCode;
using edgehdf5::HDF5Memory;
using edgehdf5::MemoryEntry;
using edgehdf5::MemoryId;
using nlohmann::json;

fs::path fixture_dir() {
  const char* dir = std::getenv("EDGEHDF5_RUST_FIXTURE_DIR");
  if (dir == nullptr) {
    throw std::runtime_error("EDGEHDF5_RUST_FIXTURE_DIR is not set: run this test through CTest");
  }
  return dir;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return json::parse(in);
}

MemoryEntry entry_from(const json& row) {
  return {.chunk = row.at("chunk"),
          .embedding = row.at("embedding").get<std::vector<float>>(),
          .source_channel = row.at("source_channel"),
          .timestamp = row.at("timestamp"),
          .session_id = row.at("session_id"),
          .tags = row.at("tags")};
}

// The code of the edgehdf5::Error that `call` throws; nothing if it returns.
template <typename Call>
std::optional<ErrorCode> thrown_code(Call&& call) {
  try {
    call();
  } catch (const edgehdf5::Error& error) {
    return error.code();
  }
  return std::nullopt;
}

// A folder of its own for one test, removed with its contents when the test ends.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;  // a leftover temp folder must not fail the test
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

class RustFormatFile : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    path_ = fixture_dir() / (GetParam() + ".h5");
    manifest_ = read_json(fixture_dir() / (GetParam() + ".json"));
  }

  std::size_t rust_rows() const { return manifest_.at("rows").size(); }

  // The Rust file's rows are the first rows of `memory`, each with id == row.
  void expect_rust_rows(const HDF5Memory& memory) const {
    const edgehdf5::MemoryColumns& columns = memory.columns();
    ASSERT_GE(columns.rows(), rust_rows());
    for (std::size_t row = 0; row < rust_rows(); ++row) {
      SCOPED_TRACE("row " + std::to_string(row));
      const json& expected = manifest_.at("rows")[row];
      const MemoryEntry want = entry_from(expected);
      const auto id = static_cast<MemoryId>(row);
      EXPECT_EQ(columns.ids[row], id);
      EXPECT_EQ(columns.chunks[row], want.chunk);
      EXPECT_EQ(columns.embedding(row), want.embedding);
      EXPECT_FLOAT_EQ(columns.norms[row], edgehdf5::compute_norm(want.embedding));
      EXPECT_EQ(columns.source_channels[row], want.source_channel);
      EXPECT_EQ(columns.timestamps[row], want.timestamp);
      EXPECT_EQ(columns.session_ids[row], want.session_id);
      EXPECT_EQ(columns.tags[row], want.tags);
      const bool tombstoned = expected.at("tombstone") == 1;
      EXPECT_EQ(columns.tombstones[row], tombstoned ? 1 : 0);
      if (tombstoned) {
        EXPECT_EQ(thrown_code([&] { memory.get(id); }), ErrorCode::not_found);
      } else {
        EXPECT_EQ(memory.get(id), want);
      }
    }
  }

  void expect_rust_sessions(const HDF5Memory& memory) const {
    std::vector<edgehdf5::Session> want;
    std::map<std::string, std::string> latest_summary;
    for (const json& session : manifest_.at("sessions")) {
      want.push_back({.id = session.at("id"),
                      .start_id = session.at("start"),
                      .end_id = session.at("end"),
                      .channel = session.at("channel"),
                      .timestamp = session.at("timestamp"),
                      .summary = session.at("summary")});
      latest_summary[want.back().id] = want.back().summary;
    }
    EXPECT_EQ(memory.sessions(), want);
    for (const auto& [session_id, summary] : latest_summary) {
      EXPECT_EQ(memory.get_session_summary(session_id), summary) << session_id;
    }
  }

  void expect_rust_graph(const HDF5Memory& memory) const {
    std::vector<edgehdf5::Entity> entities;
    for (const json& entity : manifest_.at("entities")) {
      entities.push_back({.id = entity.at("id"),
                          .name = entity.at("name"),
                          .type = entity.at("type"),
                          .embedding_id = entity.at("embedding_idx")});  // row == id
    }
    std::vector<edgehdf5::Relation> relations;
    for (const json& relation : manifest_.at("relations")) {
      relations.push_back({.source = relation.at("source"),
                           .target = relation.at("target"),
                           .type = relation.at("type"),
                           .weight = relation.at("weight"),
                           .timestamp = relation.at("timestamp")});
    }
    const edgehdf5::KnowledgeGraph& graph = memory.knowledge();
    EXPECT_EQ(graph.entities(), entities);
    EXPECT_EQ(graph.relations(), relations);
    for (const edgehdf5::Entity& entity : entities) {
      const edgehdf5::Entity* found = graph.find_entity_by_name(entity.name);
      ASSERT_NE(found, nullptr) << entity.name;
      EXPECT_EQ(found->id, entity.id);
    }
  }

  fs::path path_;
  json manifest_;
};

TEST_P(RustFormatFile, ReadOnlyOpenSeesEveryField) {
  HDF5Memory memory = HDF5Memory::open(path_, {.read_only = true});
  EXPECT_TRUE(memory.read_only());

  const json& config = manifest_.at("config");
  EXPECT_EQ(memory.config().agent_id, config.at("agent_id"));
  EXPECT_EQ(memory.config().embedder, config.at("embedder"));
  EXPECT_EQ(memory.config().embedding_dim, config.at("embedding_dim"));
  EXPECT_EQ(memory.config().chunk_size, config.at("chunk_size"));
  EXPECT_EQ(memory.config().overlap, config.at("overlap"));
  EXPECT_EQ(memory.config().created_at, config.at("created_at"));
  // Absent from Rust files: taken from the datasets themselves.
  EXPECT_FALSE(memory.config().float16);
  EXPECT_FALSE(memory.config().compression);

  const edgehdf5::StoreInfo info = memory.info();
  EXPECT_EQ(info.schema_version, manifest_.at("schema_version"));
  EXPECT_EQ(info.edgehdf5_version, manifest_.at("edgehdf5_version"));
  EXPECT_EQ(info.sessions, manifest_.at("sessions").size());
  EXPECT_EQ(info.entities, manifest_.at("entities").size());
  EXPECT_EQ(info.relations, manifest_.at("relations").size());

  std::size_t tombstoned = 0;
  for (const json& row : manifest_.at("rows")) tombstoned += row.at("tombstone") == 1 ? 1 : 0;
  EXPECT_EQ(memory.count(), rust_rows());
  EXPECT_EQ(memory.count_active(), rust_rows() - tombstoned);
  expect_rust_rows(memory);
  expect_rust_sessions(memory);
  expect_rust_graph(memory);
}

TEST_P(RustFormatFile, SearchReturnsTheNearestActiveRow) {
  const HDF5Memory memory = HDF5Memory::open(path_, {.read_only = true});
  for (const json& query : manifest_.at("queries")) {
    const auto vector = query.at("vector").get<std::vector<float>>();
    const std::vector<edgehdf5::SearchHit> hits = memory.search(vector, 3);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits.front().id, query.at("nearest_id").get<MemoryId>());
    EXPECT_NEAR(hits.front().score, query.at("score").get<float>(), 1e-5);
    for (const edgehdf5::SearchHit& hit : hits) {
      EXPECT_EQ(memory.columns().tombstones.at(static_cast<std::size_t>(hit.id)), 0)
          << "a tombstoned row was returned: " << hit.id;
    }
  }
}

TEST_P(RustFormatFile, ReadOnlyHandleRefusesWrites) {
  HDF5Memory memory = HDF5Memory::open(path_, {.read_only = true});
  MemoryEntry entry = entry_from(manifest_.at("rows")[0]);
  EXPECT_EQ(thrown_code([&] { memory.save(entry); }), ErrorCode::read_only);
  EXPECT_EQ(memory.count(), rust_rows());
}

TEST_P(RustFormatFile, SavingAfterReadWriteOpenKeepsEveryOldRow) {
  // Work on a copy: the fixture is shared by every test in this file.
  const ScratchDir scratch("edgehdf5_rust_" + GetParam());
  const fs::path copy = scratch.path() / path_.filename();
  fs::copy_file(path_, copy);

  const std::size_t dim = manifest_.at("config").at("embedding_dim");
  MemoryEntry appended{.chunk = "appended by edgehdf5 — ✓ 追加",
                       .embedding = std::vector<float>(dim, 0.25f),
                       .source_channel = "cli",
                       .timestamp = 1800000000.5,
                       .session_id = "sess-new",
                       .tags = "appended,rust"};
  appended.embedding.front() = -1.5f;
  {
    HDF5Memory memory = HDF5Memory::open(copy);
    EXPECT_EQ(memory.save(appended), static_cast<MemoryId>(rust_rows()));
    memory.close();
  }

  HDF5Memory reopened = HDF5Memory::open(copy, {.read_only = true});
  ASSERT_EQ(reopened.count(), rust_rows() + 1);
  expect_rust_rows(reopened);
  EXPECT_EQ(reopened.get(static_cast<MemoryId>(rust_rows())), appended);
  expect_rust_sessions(reopened);
  expect_rust_graph(reopened);
  EXPECT_EQ(reopened.config().agent_id, manifest_.at("config").at("agent_id"));
}

// The variants make_rust_fixture.py writes, named in the test names.
INSTANTIATE_TEST_SUITE_P(RustFormat, RustFormatFile, testing::Values("rust_i64", "rust_u64"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
