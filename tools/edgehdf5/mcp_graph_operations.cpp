#include "mcp_graph_operations.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "edgehdf5/error.hpp"
#include "mcp_tools.hpp"

namespace edgehdf5::cli::mcp {
namespace {

using nlohmann::json;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const Entity& existing_entity(const KnowledgeGraph& graph, const std::string& name) {
  const Entity* entity = graph.find_entity_by_name(name);
  if (entity == nullptr) throw ToolRefusal("Entity with name " + name + " not found");
  return *entity;
}

struct PendingObservation {
  std::string entity_name;
  std::string text;
};

// Saves the observations' memories in one batch (one log record), then links each.
void store_observations(HDF5Memory& memory, const TextEmbedder* embedder,
                        const std::vector<PendingObservation>& pending) {
  if (pending.empty()) return;
  std::vector<MemoryId> memory_ids(pending.size(), -1);
  if (embedder != nullptr) {
    std::vector<std::string> texts;
    for (const auto& observation : pending) texts.push_back(observation.text);
    const auto vectors = embedder->embed_batch(texts);
    std::vector<MemoryEntry> entries(pending.size());
    const double timestamp = now_seconds();
    for (std::size_t i = 0; i < pending.size(); ++i) {
      entries[i].chunk = pending[i].text;
      entries[i].embedding = vectors[i];
      entries[i].source_channel = kObservationChannel;
      entries[i].timestamp = timestamp;
      entries[i].tags = "observation";
    }
    memory_ids = memory.save_batch(entries);
  }
  const KnowledgeGraph& graph = memory.knowledge();
  for (std::size_t i = 0; i < pending.size(); ++i) {
    memory.add_observation(existing_entity(graph, pending[i].entity_name).id, pending[i].text,
                           memory_ids[i]);
  }
}

// Forgets the memory behind an observation, if it still has an active one.
void forget_observation_memory(HDF5Memory& memory, const Observation& observation) {
  if (observation.memory_id < 0) return;
  const std::ptrdiff_t row = memory.columns().row_of(observation.memory_id);
  if (row < 0 || memory.columns().tombstones[static_cast<std::size_t>(row)]) return;
  memory.remove(observation.memory_id);
}

// Text fields the store would refuse, found before anything is written.
void require_storable(const std::string& text, const std::string& what) {
  if (text.find('\0') != std::string::npos) throw ToolRefusal(what + " contains a NUL byte");
}

json entity_json(const KnowledgeGraph& graph, const Entity& entity) {
  json observations = json::array();
  for (const Observation& observation : graph.observations_of(entity.id)) {
    observations.push_back(observation.text);
  }
  return {{"name", entity.name}, {"entityType", entity.type}, {"observations", observations}};
}

json relation_json(const KnowledgeGraph& graph, const Relation& relation) {
  return {{"from", graph.find_entity(relation.source)->name},
          {"to", graph.find_entity(relation.target)->name},
          {"relationType", relation.type}};
}

// The entities chosen and every relation with at least one end among them.
json subgraph(const KnowledgeGraph& graph, const std::vector<const Entity*>& chosen) {
  std::unordered_set<EntityId> ids;
  json entities = json::array();
  for (const Entity* entity : chosen) {
    ids.insert(entity->id);
    entities.push_back(entity_json(graph, *entity));
  }
  json relations = json::array();
  for (const Relation& relation : graph.relations()) {
    if (ids.contains(relation.source) || ids.contains(relation.target)) {
      relations.push_back(relation_json(graph, relation));
    }
  }
  return {{"entities", entities}, {"relations", relations}};
}

std::string lowercase(std::string text) {
  // ASCII only: JavaScript's toLowerCase also folds other scripts; names are mostly ASCII.
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

json create_entities(HDF5Memory& memory, const TextEmbedder* embedder, const json& entities) {
  const KnowledgeGraph& graph = memory.knowledge();
  json created = json::array();
  std::set<std::string> names_in_call;
  std::vector<PendingObservation> observations;
  for (const json& entity : entities) {
    const std::string name = entity.at("name");
    if (name.empty()) throw ToolRefusal("entities: an entity name is empty");
    require_storable(name, "entity name '" + name + "'");
    require_storable(entity.at("entityType").get<std::string>(), "entityType of '" + name + "'");
    if (graph.find_entity_by_name(name) != nullptr || !names_in_call.insert(name).second) continue;
    std::set<std::string> texts;
    json kept = json::array();
    for (const json& text : entity.at("observations")) {
      const std::string observation = text;
      if (observation.empty()) throw ToolRefusal("entity '" + name + "': an observation is empty");
      require_storable(observation, "an observation of '" + name + "'");
      if (!texts.insert(observation).second) continue;
      kept.push_back(observation);
      observations.push_back({name, observation});
    }
    created.push_back(
        {{"name", name}, {"entityType", entity.at("entityType")}, {"observations", kept}});
  }
  for (const json& entity : created) {
    memory.add_entity(entity.at("name"), entity.at("entityType"), -1);
  }
  store_observations(memory, embedder, observations);
  return created;
}

json create_relations(HDF5Memory& memory, const json& relations) {
  const KnowledgeGraph& graph = memory.knowledge();
  struct Pending {
    EntityId source, target;
    std::string type;
    json shown;
  };
  std::vector<Pending> pending;
  std::set<std::tuple<EntityId, EntityId, std::string>> seen;
  for (const json& relation : relations) {
    const std::string type = relation.at("relationType");
    require_storable(type, "relationType");
    const EntityId source = existing_entity(graph, relation.at("from")).id;
    const EntityId target = existing_entity(graph, relation.at("to")).id;
    if (!seen.insert({source, target, type}).second) continue;
    const auto existing = graph.relations_from(source);
    if (std::any_of(existing.begin(), existing.end(), [&](const Relation& r) {
          return r.target == target && r.type == type;
        })) {
      continue;
    }
    pending.push_back({source, target, type,
                       {{"from", relation.at("from")}, {"to", relation.at("to")},
                        {"relationType", type}}});
  }
  json created = json::array();
  for (const Pending& relation : pending) {
    memory.add_relation(relation.source, relation.target, relation.type, 1.0f);
    created.push_back(relation.shown);
  }
  return created;
}

json add_observations(HDF5Memory& memory, const TextEmbedder* embedder,
                      const json& observations) {
  const KnowledgeGraph& graph = memory.knowledge();
  json results = json::array();
  std::vector<PendingObservation> pending;
  std::set<std::pair<std::string, std::string>> seen;
  for (const json& item : observations) {
    const std::string name = item.at("entityName");
    const Entity& entity = existing_entity(graph, name);
    json added = json::array();
    for (const json& text : item.at("contents")) {
      const std::string observation = text;
      if (observation.empty()) throw ToolRefusal("entity '" + name + "': an observation is empty");
      require_storable(observation, "an observation of '" + name + "'");
      if (graph.has_observation(entity.id, observation) || !seen.insert({name, observation}).second)
        continue;
      added.push_back(observation);
      pending.push_back({name, observation});
    }
    results.push_back({{"entityName", name}, {"addedObservations", added}});
  }
  store_observations(memory, embedder, pending);
  return results;
}

void delete_entities(HDF5Memory& memory, const json& names) {
  const KnowledgeGraph& graph = memory.knowledge();
  for (const json& name : names) {
    const Entity* entity = graph.find_entity_by_name(name.get<std::string>());
    if (entity == nullptr) continue;
    const EntityId id = entity->id;
    for (const Observation& observation : graph.observations_of(id)) {
      forget_observation_memory(memory, observation);
    }
    memory.remove_entity(id);
  }
}

void delete_observations(HDF5Memory& memory, const json& deletions) {
  const KnowledgeGraph& graph = memory.knowledge();
  for (const json& deletion : deletions) {
    const Entity* entity = graph.find_entity_by_name(deletion.at("entityName").get<std::string>());
    if (entity == nullptr) continue;
    const EntityId id = entity->id;
    for (const json& text : deletion.at("observations")) {
      for (const Observation& observation : graph.observations_of(id)) {
        if (observation.text != text.get<std::string>()) continue;
        forget_observation_memory(memory, observation);
        memory.remove_observation(id, observation.text);
        break;
      }
    }
  }
}

void delete_relations(HDF5Memory& memory, const json& relations) {
  const KnowledgeGraph& graph = memory.knowledge();
  for (const json& relation : relations) {
    const Entity* source = graph.find_entity_by_name(relation.at("from").get<std::string>());
    const Entity* target = graph.find_entity_by_name(relation.at("to").get<std::string>());
    if (source == nullptr || target == nullptr) continue;
    memory.remove_relations(source->id, target->id, relation.at("relationType"));
  }
}

json read_graph(const HDF5Memory& memory) {
  const KnowledgeGraph& graph = memory.knowledge();
  json entities = json::array();
  for (const Entity& entity : graph.entities()) entities.push_back(entity_json(graph, entity));
  json relations = json::array();
  for (const Relation& relation : graph.relations()) {
    relations.push_back(relation_json(graph, relation));
  }
  return {{"entities", entities}, {"relations", relations}};
}

json search_nodes(const HDF5Memory& memory, const std::string& query) {
  const KnowledgeGraph& graph = memory.knowledge();
  const std::string needle = lowercase(query);
  std::vector<const Entity*> chosen;
  for (const Entity& entity : graph.entities()) {
    bool match = lowercase(entity.name).find(needle) != std::string::npos ||
                 lowercase(entity.type).find(needle) != std::string::npos;
    if (!match) {
      for (const Observation& observation : graph.observations_of(entity.id)) {
        if (lowercase(observation.text).find(needle) != std::string::npos) {
          match = true;
          break;
        }
      }
    }
    if (match) chosen.push_back(&entity);
  }
  return subgraph(graph, chosen);
}

json open_nodes(const HDF5Memory& memory, const json& names) {
  const KnowledgeGraph& graph = memory.knowledge();
  std::set<std::string> wanted;
  for (const json& name : names) wanted.insert(name.get<std::string>());
  std::vector<const Entity*> chosen;
  for (const Entity& entity : graph.entities()) {
    if (wanted.contains(entity.name)) chosen.push_back(&entity);
  }
  return subgraph(graph, chosen);
}

}  // namespace edgehdf5::cli::mcp
