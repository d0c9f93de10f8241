#include "edgehdf5/knowledge_graph.hpp"

#include <algorithm>
#include <deque>
#include <unordered_set>

#include "edgehdf5/error.hpp"

namespace edgehdf5 {

const Entity* KnowledgeGraph::find_entity(EntityId id) const noexcept {
  const auto it = entity_index_.find(id);
  return it == entity_index_.end() ? nullptr : &entities_[it->second];
}

const Entity* KnowledgeGraph::find_entity_by_name(std::string_view name) const noexcept {
  const auto it = name_index_.find(std::string(name));
  return it == name_index_.end() ? nullptr : &entities_[it->second];
}

std::vector<Relation> KnowledgeGraph::relations_from(EntityId id) const {
  std::vector<Relation> result;
  if (const auto it = outgoing_.find(id); it != outgoing_.end()) {
    for (std::size_t index : it->second) result.push_back(relations_[index]);
  }
  return result;
}

std::vector<Relation> KnowledgeGraph::relations_to(EntityId id) const {
  std::vector<Relation> result;
  if (const auto it = incoming_.find(id); it != incoming_.end()) {
    for (std::size_t index : it->second) result.push_back(relations_[index]);
  }
  return result;
}

std::vector<EntityId> KnowledgeGraph::neighbors(EntityId id) const {
  std::vector<EntityId> result;
  if (const auto it = outgoing_.find(id); it != outgoing_.end()) {
    for (std::size_t index : it->second) result.push_back(relations_[index].target);
  }
  if (const auto it = incoming_.find(id); it != incoming_.end()) {
    for (std::size_t index : it->second) result.push_back(relations_[index].source);
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  std::erase(result, id);  // a self-loop does not make an entity its own neighbour
  return result;
}

std::vector<std::pair<EntityId, std::size_t>> KnowledgeGraph::traverse(
    EntityId start, std::size_t max_hops) const {
  if (!contains(start)) {
    throw Error(ErrorCode::not_found, "no entity with id " + std::to_string(start));
  }
  std::vector<std::pair<EntityId, std::size_t>> reached{{start, 0}};
  std::unordered_set<EntityId> seen{start};
  std::vector<EntityId> frontier{start};
  for (std::size_t hop = 1; hop <= max_hops && !frontier.empty(); ++hop) {
    std::vector<EntityId> next;
    for (EntityId entity : frontier) {
      for (EntityId neighbour : neighbors(entity)) {
        if (seen.insert(neighbour).second) next.push_back(neighbour);
      }
    }
    std::sort(next.begin(), next.end());
    for (EntityId entity : next) reached.emplace_back(entity, hop);
    frontier = std::move(next);
  }
  return reached;
}

void KnowledgeGraph::add_entity(Entity entity) {
  const std::size_t index = entities_.size();
  entity_index_.emplace(entity.id, index);
  name_index_.emplace(entity.name, index);  // keeps the first entity of a name
  next_entity_id_ = std::max(next_entity_id_, entity.id + 1);
  entities_.push_back(std::move(entity));
}

void KnowledgeGraph::add_relation(Relation relation) {
  const std::size_t index = relations_.size();
  outgoing_[relation.source].push_back(index);
  incoming_[relation.target].push_back(index);
  relations_.push_back(std::move(relation));
}

std::vector<Observation> KnowledgeGraph::observations_of(EntityId id) const {
  const auto it = observations_.find(id);
  return it == observations_.end() ? std::vector<Observation>{} : it->second;
}

bool KnowledgeGraph::has_observation(EntityId id, std::string_view text) const {
  const auto it = observations_.find(id);
  if (it == observations_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const Observation& observation) { return observation.text == text; });
}

void KnowledgeGraph::add_observation(Observation observation) {
  const EntityId entity = observation.entity;
  observations_[entity].push_back(std::move(observation));
  ++observation_count_;
}

bool KnowledgeGraph::remove_entity(EntityId id) {
  const auto it = entity_index_.find(id);
  if (it == entity_index_.end()) return false;
  entities_.erase(entities_.begin() + static_cast<std::ptrdiff_t>(it->second));
  std::erase_if(relations_,
                [&](const Relation& relation) { return relation.source == id || relation.target == id; });
  if (const auto found = observations_.find(id); found != observations_.end()) {
    observation_count_ -= found->second.size();
    observations_.erase(found);
  }
  rebuild_lookups();
  return true;
}

std::size_t KnowledgeGraph::remove_relations(EntityId source, EntityId target,
                                             std::string_view type) {
  const std::size_t removed = std::erase_if(relations_, [&](const Relation& relation) {
    return relation.source == source && relation.target == target && relation.type == type;
  });
  if (removed > 0) rebuild_lookups();
  return removed;
}

bool KnowledgeGraph::remove_observation(EntityId id, std::string_view text) {
  const auto it = observations_.find(id);
  if (it == observations_.end()) return false;
  const std::size_t removed = std::erase_if(
      it->second, [&](const Observation& observation) { return observation.text == text; });
  observation_count_ -= removed;
  if (it->second.empty()) observations_.erase(it);
  return removed > 0;
}

void KnowledgeGraph::rebuild_lookups() {
  entity_index_.clear();
  name_index_.clear();
  outgoing_.clear();
  incoming_.clear();
  for (std::size_t index = 0; index < entities_.size(); ++index) {
    entity_index_.emplace(entities_[index].id, index);
    name_index_.emplace(entities_[index].name, index);  // the first of a name, as add_entity
  }
  for (std::size_t index = 0; index < relations_.size(); ++index) {
    outgoing_[relations_[index].source].push_back(index);
    incoming_[relations_[index].target].push_back(index);
  }
}

void KnowledgeGraph::clear() { *this = KnowledgeGraph(); }

}  // namespace edgehdf5
