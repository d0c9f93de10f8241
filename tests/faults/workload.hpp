#pragma once
// The scripted workload the fault-injection and power-loss tests run on a SimFileSystem:
// saves, a batch, removes, sessions, entities, a relation, flushes, checkpoints, an IVF-PQ
// build, compaction, a snapshot, a re-embedding and a reopen, in a fixed order. The test's oracle is the
// Model: what the steps that returned have made the store hold, kept by the test itself
// (memory texts, session ids, entity names, relations by names), never read from the store.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/memory.hpp"
#include "faults/sim_file_system.hpp"

namespace edgehdf5::testing {

inline const std::filesystem::path kStorePath = "/sim/memory.h5";
inline const std::filesystem::path kSnapshotPath = "/sim/snapshot.h5";
inline constexpr std::size_t kDim = 8;

// What a store holds, by names the test chose.
struct Model {
  std::set<std::string> memories;  // active chunks
  std::vector<std::string> sessions;
  std::set<std::string> entities;
  std::multiset<std::string> relations;  // "source -type-> target"

  bool operator==(const Model&) const = default;
  std::string describe() const {
    std::ostringstream text;
    text << memories.size() << " memories, sessions [";
    for (const auto& s : sessions) text << s << ' ';
    text << "], " << entities.size() << " entities, " << relations.size() << " relations";
    return text.str();
  }
};

// The store's content as a Model; a memory held twice, or an id out of order, is a problem.
inline Model observe(const HDF5Memory& memory, std::vector<std::string>& problems) {
  Model model;
  const MemoryColumns& columns = memory.columns();
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (row > 0 && columns.ids[row] <= columns.ids[row - 1]) {
      problems.push_back("ids out of order at row " + std::to_string(row));
    }
    if (columns.tombstones[row]) continue;
    if (!model.memories.insert(columns.chunks[row]).second) {
      problems.push_back("memory '" + columns.chunks[row] + "' is held twice");
    }
  }
  for (const Session& session : memory.sessions()) model.sessions.push_back(session.id);
  const KnowledgeGraph& graph = memory.knowledge();
  for (const Entity& entity : graph.entities()) {
    if (!model.entities.insert(entity.name).second) {
      problems.push_back("entity '" + entity.name + "' is held twice");
    }
  }
  for (const Relation& relation : graph.relations()) {
    const Entity* source = graph.find_entity(relation.source);
    const Entity* target = graph.find_entity(relation.target);
    model.relations.insert((source ? source->name : "?") + " -" + relation.type + "-> " +
                           (target ? target->name : "?"));
  }
  return model;
}

inline MemoryEntry entry_for(const std::string& text) {
  std::seed_seq seed(text.begin(), text.end());
  std::mt19937_64 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  MemoryEntry entry;
  entry.chunk = text;
  entry.embedding.resize(kDim);
  for (float& value : entry.embedding) value = normal(random);
  entry.source_channel = "test";
  entry.timestamp = 1.7e9;
  return entry;
}

struct WorkloadState {
  std::shared_ptr<SimFileSystem> files;
  Durability durability = Durability::on_flush;
  std::optional<HDF5Memory> memory;
  Model model;
  std::map<std::string, MemoryId> ids;           // chunk -> id, for saves that returned
  std::map<std::string, EntityId> entity_ids;

  OpenOptions options() const {
    OpenOptions options;
    options.durability = durability;
    options.file_system = files;
    return options;
  }
  HDF5Memory& store() { return *memory; }
};

struct Step {
  std::string name;
  // After it returns, everything the steps so far did survives a power cut.
  bool makes_durable = false;
  std::function<void(WorkloadState&)> run;  // changes state.model only once the store returned
};

inline void save_one(WorkloadState& state, const std::string& text) {
  const MemoryId id = state.store().save(entry_for(text));
  state.ids[text] = id;
  state.model.memories.insert(text);
}

inline void remove_one(WorkloadState& state, const std::string& text) {
  state.store().remove(state.ids.at(text));
  state.model.memories.erase(text);
}

inline void add_entity(WorkloadState& state, const std::string& name, MemoryId embedding) {
  state.entity_ids[name] = state.store().add_entity(name, "person", embedding);
  state.model.entities.insert(name);
}

// The workload, in order. With Durability::every_write every step makes its change durable.
inline std::vector<Step> workload_steps(Durability durability) {
  const bool each = durability == Durability::every_write;
  std::vector<Step> steps;
  steps.push_back({"create", true, [](WorkloadState& state) {
                     MemoryConfig config;
                     config.path = kStorePath;
                     config.embedding_dim = kDim;
                     config.compact_threshold = 0;  // compaction only when the step says
                     state.memory.emplace(HDF5Memory::create(config, state.options()));
                   }});
  steps.push_back({"save_batch 260", each, [](WorkloadState& state) {
                     std::vector<MemoryEntry> batch;
                     for (int i = 0; i < 260; ++i) {
                       std::string text = "m";  // not "m" + ...: a false -Wrestrict in GCC 12
                       text += std::to_string(i);
                       batch.push_back(entry_for(text));
                     }
                     const std::vector<MemoryId> ids = state.store().save_batch(batch);
                     for (std::size_t i = 0; i < ids.size(); ++i) {
                       state.ids[batch[i].chunk] = ids[i];
                       state.model.memories.insert(batch[i].chunk);
                     }
                   }});
  steps.push_back({"flush", true, [](WorkloadState& state) { state.store().flush(); }});
  steps.push_back({"save", each, [](WorkloadState& state) { save_one(state, "m260"); }});
  steps.push_back({"save", each, [](WorkloadState& state) { save_one(state, "m261"); }});
  steps.push_back({"remove", each, [](WorkloadState& state) { remove_one(state, "m3"); }});
  steps.push_back({"add_session", each, [](WorkloadState& state) {
                     state.store().add_session("s1", state.ids.at("m0"), state.ids.at("m261"),
                                               "test", "the first session");
                     state.model.sessions.push_back("s1");
                   }});
  steps.push_back({"add_entity", each, [](WorkloadState& state) {
                     add_entity(state, "alice", state.ids.at("m0"));
                   }});
  steps.push_back({"add_entity", each, [](WorkloadState& state) { add_entity(state, "bob", -1); }});
  steps.push_back({"add_relation", each, [](WorkloadState& state) {
                     state.store().add_relation(state.entity_ids.at("alice"),
                                                state.entity_ids.at("bob"), "knows", 0.5f);
                     state.model.relations.insert("alice -knows-> bob");
                   }});
  steps.push_back({"flush", true, [](WorkloadState& state) { state.store().flush(); }});
  steps.push_back({"checkpoint", true, [](WorkloadState& state) { state.store().checkpoint(); }});
  steps.push_back({"build_ivfpq_index", true, [](WorkloadState& state) {
                     IVFPQParams params;
                     params.nlist = 4;
                     params.sub_quantizers = 4;
                     params.iterations = 2;
                     params.threads = 1;
                     state.store().build_ivfpq_index(params);
                   }});
  steps.push_back({"save_batch 5", each, [](WorkloadState& state) {
                     std::vector<MemoryEntry> batch;
                     for (int i = 262; i < 267; ++i) {
                       std::string text = "m";  // not "m" + ...: a false -Wrestrict in GCC 12
                       text += std::to_string(i);
                       batch.push_back(entry_for(text));
                     }
                     const std::vector<MemoryId> ids = state.store().save_batch(batch);
                     for (std::size_t i = 0; i < ids.size(); ++i) {
                       state.ids[batch[i].chunk] = ids[i];
                       state.model.memories.insert(batch[i].chunk);
                     }
                   }});
  steps.push_back({"remove", each, [](WorkloadState& state) { remove_one(state, "m5"); }});
  steps.push_back({"compact", true, [](WorkloadState& state) { state.store().compact(); }});
  steps.push_back({"save", each, [](WorkloadState& state) { save_one(state, "m267"); }});
  steps.push_back({"add_session", each, [](WorkloadState& state) {
                     state.store().add_session("s2", state.ids.at("m262"), state.ids.at("m267"),
                                               "test", "the second session");
                     state.model.sessions.push_back("s2");
                   }});
  steps.push_back({"flush", true, [](WorkloadState& state) { state.store().flush(); }});
  steps.push_back({"snapshot", false, [](WorkloadState& state) {
                     state.store().snapshot(kSnapshotPath);
                   }});
  steps.push_back({"replace_embeddings", true, [](WorkloadState& state) {
                     // A new embedding model (of the same dimension, so that the steps after
                     // it and the test's probe save as before): every active memory's vector
                     // is replaced in one checkpoint.
                     const MemoryColumns& columns = state.store().columns();
                     std::vector<MemoryId> ids;
                     std::vector<float> vectors;
                     for (std::size_t row = 0; row < columns.rows(); ++row) {
                       if (columns.tombstones[row]) continue;
                       ids.push_back(columns.ids[row]);
                       const MemoryEntry made = entry_for("new model: " + columns.chunks[row]);
                       vectors.insert(vectors.end(), made.embedding.begin(), made.embedding.end());
                     }
                     state.store().replace_embeddings(ids, vectors, kDim, "new-model");
                   }});
  steps.push_back({"reopen", true, [](WorkloadState& state) {
                     state.store().close();
                     state.memory.reset();
                     state.memory.emplace(HDF5Memory::open(kStorePath, state.options()));
                   }});
  steps.push_back({"save", each, [](WorkloadState& state) { save_one(state, "m268"); }});
  steps.push_back({"remove", each, [](WorkloadState& state) { remove_one(state, "m6"); }});
  steps.push_back({"flush", true, [](WorkloadState& state) { state.store().flush(); }});
  steps.push_back({"close", true, [](WorkloadState& state) { state.store().close(); }});
  return steps;
}

// The test-name suffix of each durability setting, for the parameterised suites.
inline std::string durability_test_name(const ::testing::TestParamInfo<Durability>& info) {
  return info.param == Durability::on_flush ? "on_flush" : "every_write";
}

}  // namespace edgehdf5::testing
