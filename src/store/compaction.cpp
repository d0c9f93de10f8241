#include "store/compaction.hpp"

#include <type_traits>
#include <utility>
#include <vector>

namespace edgehdf5::store {
namespace {

// Moves the values of kept rows to the front of `values` and cuts off the rest; one pass,
// in place, so compaction needs no second copy of the matrix.
template <typename Vector>
void keep_rows(Vector& values, std::size_t values_per_row,
               const std::vector<std::uint8_t>& tombstones) {
  std::size_t kept = 0;
  for (std::size_t row = 0; row < tombstones.size(); ++row) {
    if (tombstones[row]) continue;
    if (kept != row) {
      for (std::size_t i = 0; i < values_per_row; ++i) {
        values[kept * values_per_row + i] = std::move(values[row * values_per_row + i]);
      }
    }
    ++kept;
  }
  values.resize(kept * values_per_row);
  values.shrink_to_fit();
}

void unlink_dropped_memories(StoreState& state) {
  KnowledgeGraph graph;
  for (Entity entity : state.graph.entities()) {
    if (entity.embedding_id >= 0 && state.columns.row_of(entity.embedding_id) < 0) {
      entity.embedding_id = -1;
    }
    graph.add_entity(std::move(entity));
  }
  for (const Relation& relation : state.graph.relations()) graph.add_relation(relation);
  for (const Entity& entity : state.graph.entities()) {
    for (Observation observation : state.graph.observations_of(entity.id)) {
      if (observation.memory_id >= 0 && state.columns.row_of(observation.memory_id) < 0) {
        observation.memory_id = -1;
      }
      graph.add_observation(std::move(observation));
    }
  }
  state.graph = std::move(graph);
}

}  // namespace

std::size_t drop_tombstoned_rows(StoreState& state) {
  if (state.tombstoned == 0) return 0;
  MemoryColumns& columns = state.columns;
  // The tombstones decide which rows stay and are compacted too: they are read from a copy.
  const std::vector<std::uint8_t> tombstones = columns.tombstones;
  columns.for_each_column([&](const MemoryColumn& column, auto& values) {
    keep_rows(values, column.values_per_row, tombstones);
  });
  const std::size_t dropped = state.tombstoned;
  state.tombstoned = 0;
  unlink_dropped_memories(state);
  return dropped;
}

}  // namespace edgehdf5::store
