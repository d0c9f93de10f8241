// Writes memory files with known, deterministic content and a JSON manifest of exactly what
// was written, for the h5py readers in this folder to check the files against.
//
// Usage: interop_write_fixture OUT_DIR
//
// The manifest comes from what this program asked the library to store, never from reading
// the library's state back: the readers then compare the file with the intent, not with the
// library's own (possibly equally wrong) view of it. Where the library picks a value itself
// (session and relation timestamps: "now"), the manifest gives the window it must fall in.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/edgehdf5.hpp"

namespace {

namespace fs = std::filesystem;
using edgehdf5::EntityId;
using edgehdf5::MemoryEntry;
using edgehdf5::MemoryId;
using nlohmann::json;

// One file to write. Every populated variant holds the same memories, sessions and graph, so
// a difference between two files' checks points at the setting that differs.
struct Variant {
  std::string_view name;
  bool float16 = false;
  bool compression = false;
  int compression_level = 4;
  bool populated = true;  // false: created and closed with nothing in it
  bool compact = false;   // compact() before close(), dropping the removed rows
};

constexpr std::array kVariants{
    Variant{.name = "f32"},
    Variant{.name = "f16", .float16 = true},
    Variant{.name = "f32_gzip6", .compression = true, .compression_level = 6},
    Variant{.name = "f32_compacted", .compact = true},
    Variant{.name = "empty", .populated = false},
};

constexpr std::size_t kEmbeddingDim = 20;  // not a multiple of any SIMD width
constexpr std::size_t kEntryCount = 30;
constexpr std::size_t kSavedOneByOne = 5;  // the first few go through save(), the rest save_batch()
constexpr double kCompactThreshold = 0.45;  // distinctive, and above the 10% removed below
constexpr std::array<MemoryId, 3> kRemovedIds = {3, 17, 22};
constexpr std::uint64_t kEmbeddingSeed = 20240506;

// What a UTF-8 round trip through HDF5 must keep byte for byte.
constexpr std::array<std::string_view, 6> kPhrases = {
    "plain ASCII text",
    "naïve café — Grüße aus Zürich",  // Latin-1 range, em dash
    "日本語のテキストと東京",  // three-byte characters only
    "emoji 🚀✨ and 👩‍💻",  // four-byte, zero-width joiner
    "Ελληνικά и русский",  // two-byte scripts
    "quotes \"q\", backslash \\, tab\tand newline\nend",  // escapes in h5dump and JSON
};
constexpr std::array<std::string_view, 3> kChannels = {"chat", "email", "voice 📞"};
constexpr std::array<std::string_view, 4> kTags = {"preference,ui", "", "work,日本", "single"};

struct SessionPlan {
  std::string_view id;
  MemoryId start_id;
  MemoryId end_id;
  std::string_view channel;
  std::string_view summary;
};
// "session-α" appears twice: the file keeps both, get_session_summary() the later one.
constexpr std::array<SessionPlan, 3> kSessions = {{
    {"session-α", 0, 10, "chat", "Talked about café ☕ preferences"},
    {"session-β", 10, 20, "email", "Planning the 東京 trip"},
    {"session-α", 20, 25, "chat", "Follow-up: a naïve question"},
}};

struct EntityPlan {
  std::string_view name;
  std::string_view type;
  MemoryId embedding_id;  // never one of kRemovedIds, so compaction keeps it
};
constexpr std::array<EntityPlan, 4> kEntities = {{
    {"Alice", "person", 0},
    {"Projekt Zürich", "project", 12},
    {"東京", "place", -1},
    {"Bob", "person", 25},
}};

struct RelationPlan {
  std::size_t source_entity;  // index into kEntities
  std::size_t target_entity;
  std::string_view type;
  float weight;
};
constexpr std::array<RelationPlan, 4> kRelations = {{
    {0, 1, "works_on", 0.9f},
    {3, 1, "works_on", 0.5f},
    {1, 2, "located_in", 1.0f},
    {0, 3, "knows", 0.25f},
}};

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A window [before, after] around a call that stamps "now"; the lower bound is floored so
// a library that stamps whole seconds still falls inside it.
struct TimeWindow {
  double earliest;
  double latest;
};
template <typename Call>
TimeWindow stamp_window(Call&& call) {
  const double before = unix_now();
  call();
  return {std::floor(before), unix_now()};
}

std::vector<MemoryEntry> fixture_entries() {
  std::mt19937_64 rng(kEmbeddingSeed);
  std::uniform_real_distribution<float> component(-1.0f, 1.0f);
  std::vector<MemoryEntry> entries(kEntryCount);
  for (std::size_t i = 0; i < kEntryCount; ++i) {
    MemoryEntry& entry = entries[i];
    entry.chunk = "memory " + std::to_string(i) + ": " + std::string(kPhrases[i % kPhrases.size()]);
    // Rows of different lengths, so the norms differ and a mix-up of rows shows.
    const float scale = 1.0f + static_cast<float>(i) / 8.0f;
    entry.embedding.resize(kEmbeddingDim);
    for (float& value : entry.embedding) value = scale * component(rng);
    entry.source_channel = kChannels[i % kChannels.size()];
    entry.timestamp = 1714979289.0 + static_cast<double>(i) * 61.25;
    entry.session_id = i < 10 ? "session-α" : i < 20 ? "session-β" : "";
    entry.tags = kTags[i % kTags.size()];
  }
  return entries;
}

// Where the row of a memory id lands in the file: rows are in id order, so a session bound
// that names a dropped memory moves to the next kept one.
std::int64_t row_position(std::span<const MemoryId> ids_in_file, MemoryId id) {
  return std::lower_bound(ids_in_file.begin(), ids_in_file.end(), id) - ids_in_file.begin();
}

json config_json(const edgehdf5::MemoryConfig& config) {
  return {{"agent_id", config.agent_id},
          {"embedder", config.embedder},
          {"embedding_dim", config.embedding_dim},
          {"chunk_size", config.chunk_size},
          {"overlap", config.overlap},
          {"float16", config.float16},
          {"compression", config.compression},
          {"compression_level", config.compression_level},
          {"compact_threshold", config.compact_threshold},
          {"keyword_tokenizer", std::string(keyword_tokenizer_name(config.keyword_tokenizer))},
          {"created_at", config.created_at}};
}

json row_json(MemoryId id, const MemoryEntry& entry, bool tombstoned) {
  return {{"id", id},
          {"chunk", entry.chunk},
          {"embedding", entry.embedding},  // float32 values; readers round them for float16
          {"source_channel", entry.source_channel},
          {"timestamp", entry.timestamp},
          {"session_id", entry.session_id},
          {"tags", entry.tags},
          {"tombstone", tombstoned ? 1 : 0}};
}

// Writes one variant and returns its manifest entry.
json write_variant(const fs::path& out_dir, const Variant& variant) {
  edgehdf5::MemoryConfig config;
  config.path = out_dir / (std::string(variant.name) + ".h5");
  config.agent_id = "interop-agent-ü";
  config.embedder = "fixture-embedder/v1";
  config.embedding_dim = kEmbeddingDim;
  config.chunk_size = 256;
  config.overlap = 32;
  config.float16 = variant.float16;
  config.compression = variant.compression;
  config.compression_level = variant.compression_level;
  config.compact_threshold = kCompactThreshold;
  config.created_at = "2024-05-06T07:08:09Z";
  for (const char* suffix : {"", ".wal", ".lock"}) fs::remove(config.path.string() + suffix);

  auto memory = edgehdf5::HDF5Memory::create(config);
  json manifest = {{"name", variant.name},
                   {"file", config.path.filename().string()},
                   {"schema_version", edgehdf5::kSchemaVersion},
                   {"edgehdf5_version", edgehdf5::kVersion},
                   {"config", config_json(config)},
                   {"compacted", variant.compact},
                   {"rows", json::array()},
                   {"sessions", json::array()},
                   {"entities", json::array()},
                   {"relations", json::array()},
                   {"observations", json::array()}};
  if (!variant.populated) {
    memory.close();
    manifest["next_id"] = 0;
    return manifest;
  }

  const std::vector<MemoryEntry> entries = fixture_entries();
  const std::span<const MemoryEntry> all(entries);
  std::vector<MemoryId> ids;
  for (const MemoryEntry& entry : all.first(kSavedOneByOne)) ids.push_back(memory.save(entry));
  for (MemoryId id : memory.save_batch(all.subspan(kSavedOneByOne))) ids.push_back(id);
  // The plans name memories by their position in fixture_entries(); this is the id it got.
  auto id_of = [&](MemoryId position) { return ids.at(static_cast<std::size_t>(position)); };
  for (MemoryId removed : kRemovedIds) memory.remove(id_of(removed));

  std::vector<TimeWindow> session_stamps;
  for (const SessionPlan& session : kSessions) {
    session_stamps.push_back(stamp_window([&] {
      memory.add_session(std::string(session.id), id_of(session.start_id), id_of(session.end_id),
                         std::string(session.channel), std::string(session.summary));
    }));
  }
  std::vector<EntityId> entity_ids;
  for (const EntityPlan& entity : kEntities) {
    const MemoryId embedding_id = entity.embedding_id < 0 ? -1 : id_of(entity.embedding_id);
    entity_ids.push_back(
        memory.add_entity(std::string(entity.name), std::string(entity.type), embedding_id));
  }
  // One observation per entity (the MCP tools' facts), tied to the entity's memory if it has
  // one, so /knowledge_graph/observation_mem_idxs holds rows and -1s.
  for (std::size_t e = 0; e < kEntities.size(); ++e) {
    const EntityPlan& entity = kEntities[e];
    memory.add_observation(entity_ids[e], "observed: " + std::string(entity.name),
                           entity.embedding_id < 0 ? -1 : id_of(entity.embedding_id));
  }
  std::vector<TimeWindow> relation_stamps;
  for (const RelationPlan& relation : kRelations) {
    relation_stamps.push_back(stamp_window([&] {
      memory.add_relation(entity_ids.at(relation.source_entity),
                          entity_ids.at(relation.target_entity), std::string(relation.type),
                          relation.weight);
    }));
  }

  auto is_removed = [&](std::size_t index) {
    return std::ranges::find(kRemovedIds, static_cast<MemoryId>(index)) != kRemovedIds.end();
  };
  if (variant.compact) {
    const std::size_t dropped = memory.compact();
    if (dropped != kRemovedIds.size()) {
      throw std::runtime_error("compact() dropped " + std::to_string(dropped) + " rows, expected " +
                               std::to_string(kRemovedIds.size()));
    }
  }
  memory.close();

  std::vector<MemoryId> ids_in_file;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (variant.compact && is_removed(i)) continue;
    ids_in_file.push_back(ids[i]);
    manifest["rows"].push_back(row_json(ids[i], entries[i], is_removed(i)));
  }
  manifest["next_id"] = ids.back() + 1;
  for (std::size_t s = 0; s < kSessions.size(); ++s) {
    const SessionPlan& session = kSessions[s];
    manifest["sessions"].push_back(
        {{"id", session.id},
         {"start_row", row_position(ids_in_file, id_of(session.start_id))},
         {"end_row", row_position(ids_in_file, id_of(session.end_id))},
         {"channel", session.channel},
         {"summary", session.summary},
         {"timestamp_min", session_stamps[s].earliest},
         {"timestamp_max", session_stamps[s].latest}});
  }
  for (std::size_t e = 0; e < kEntities.size(); ++e) {
    const EntityPlan& entity = kEntities[e];
    const std::int64_t embedding_row =
        entity.embedding_id < 0 ? -1 : row_position(ids_in_file, id_of(entity.embedding_id));
    manifest["entities"].push_back({{"id", entity_ids[e]},
                                    {"name", entity.name},
                                    {"type", entity.type},
                                    {"embedding_row", embedding_row}});
    manifest["observations"].push_back({{"entity", entity_ids[e]},
                                        {"text", "observed: " + std::string(entity.name)},
                                        {"memory_row", embedding_row}});
  }
  for (std::size_t r = 0; r < kRelations.size(); ++r) {
    const RelationPlan& relation = kRelations[r];
    manifest["relations"].push_back({{"source", entity_ids.at(relation.source_entity)},
                                     {"target", entity_ids.at(relation.target_entity)},
                                     {"type", relation.type},
                                     {"weight", relation.weight},
                                     {"timestamp_min", relation_stamps[r].earliest},
                                     {"timestamp_max", relation_stamps[r].latest}});
  }
  return manifest;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " OUT_DIR\n";
    return 2;
  }
  try {
    const fs::path out_dir = argv[1];
    fs::create_directories(out_dir);
    json manifest = {{"embedding_dim", kEmbeddingDim}, {"files", json::array()}};
    for (const Variant& variant : kVariants) {
      manifest["files"].push_back(write_variant(out_dir, variant));
    }
    std::ofstream manifest_file(out_dir / "manifest.json");
    manifest_file << manifest.dump(2) << '\n';
    if (!manifest_file.flush()) throw std::runtime_error("cannot write manifest.json");
  } catch (const edgehdf5::Error& error) {
    std::cerr << argv[0] << ": " << edgehdf5::error_code_name(error.code()) << ": " << error.what()
              << '\n';
    return 1;
  } catch (const std::exception& error) {
    std::cerr << argv[0] << ": " << error.what() << '\n';
    return 1;
  }
  return 0;
}
