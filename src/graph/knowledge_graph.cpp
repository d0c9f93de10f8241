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

void KnowledgeGraph::clear() { *this = KnowledgeGraph(); }

}  // namespace edgehdf5
