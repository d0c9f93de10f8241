#pragma once
// A read-only view of the entities, relations and observations in a memory file.
// Lookups by id and name are hash lookups; relations_from/to are adjacency lists kept
// current as entities and relations are added. Removals rebuild the lookups (O(E + R)): they
// are rare next to additions and reads.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgehdf5/entry.hpp"

namespace edgehdf5 {

class KnowledgeGraph {
 public:
  const std::vector<Entity>& entities() const noexcept { return entities_; }
  const std::vector<Relation>& relations() const noexcept { return relations_; }

  // The entity with this id, or nullptr.
  const Entity* find_entity(EntityId id) const noexcept;
  // The first entity added with exactly this name, or nullptr.
  const Entity* find_entity_by_name(std::string_view name) const noexcept;
  bool contains(EntityId id) const noexcept { return find_entity(id) != nullptr; }

  // Relations whose source (resp. target) is `id`, in insertion order.
  std::vector<Relation> relations_from(EntityId id) const;
  std::vector<Relation> relations_to(EntityId id) const;
  // Entities joined to `id` by a relation in either direction, each once, sorted by id.
  std::vector<EntityId> neighbors(EntityId id) const;
  // The observations of `id`, in the order they were added (empty for an unknown id).
  std::vector<Observation> observations_of(EntityId id) const;
  // Whether `id` has an observation with exactly this text.
  bool has_observation(EntityId id, std::string_view text) const;
  std::size_t observation_count() const noexcept { return observation_count_; }
  // Breadth-first traversal over relations in both directions: every entity reachable from
  // `start` in at most `max_hops` hops, with its distance, nearest first (ties by id).
  // `start` itself is included at distance 0. Throws not_found for an unknown start.
  std::vector<std::pair<EntityId, std::size_t>> traverse(EntityId start,
                                                         std::size_t max_hops) const;

  // Mutation, used by the store (which validates first and logs the change).
  EntityId next_entity_id() const noexcept { return next_entity_id_; }
  void add_entity(Entity entity);
  void add_relation(Relation relation);
  // REQUIRES: the entity exists. Appends to its observations.
  void add_observation(Observation observation);
  // Removes the entity, every relation from or to it and its observations. Ids are not
  // reused: next_entity_id() stays. Returns false (and changes nothing) for an unknown id.
  bool remove_entity(EntityId id);
  // Removes every relation source -[type]-> target; returns how many.
  std::size_t remove_relations(EntityId source, EntityId target, std::string_view type);
  // Removes the observation of `id` with exactly this text; returns whether there was one.
  bool remove_observation(EntityId id, std::string_view text);
  void clear();

 private:
  std::vector<Entity> entities_;
  std::vector<Relation> relations_;
  std::unordered_map<EntityId, std::size_t> entity_index_;
  std::unordered_map<std::string, std::size_t> name_index_;
  std::unordered_map<EntityId, std::vector<std::size_t>> outgoing_;
  std::unordered_map<EntityId, std::vector<std::size_t>> incoming_;
  // Per entity, in insertion order (a map keyed by entity: removing one entity's observations
  // touches no other).
  std::unordered_map<EntityId, std::vector<Observation>> observations_;
  std::size_t observation_count_ = 0;
  EntityId next_entity_id_ = 0;

  void rebuild_lookups();
};

}  // namespace edgehdf5
