#include "store/validation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "edgehdf5/embedder.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"
#include "util/text.hpp"

namespace edgehdf5::store {

namespace {

void validate_embedding_dim(std::size_t dim) {
  if (dim == 0 || dim > kMaxEmbeddingDim) {
    throw Error(ErrorCode::invalid_argument, "embedding_dim must be between 1 and " +
                                                 std::to_string(kMaxEmbeddingDim) + ", got " +
                                                 std::to_string(dim));
  }
}

}  // namespace

void validate_config(const MemoryConfig& config) {
  if (config.path.empty()) throw Error(ErrorCode::invalid_argument, "path is empty");
  validate_embedding_dim(config.embedding_dim);
  if (config.compression && (config.compression_level < 1 || config.compression_level > 9)) {
    throw Error(ErrorCode::invalid_argument,
                "compression_level must be 1..9, got " + std::to_string(config.compression_level));
  }
  if (!std::isfinite(config.compact_threshold) || config.compact_threshold < 0) {
    throw Error(ErrorCode::invalid_argument, "compact_threshold must be a finite number >= 0");
  }
  util::require_text(config.agent_id, "agent_id");
  util::require_text(config.embedder, "embedder");
  util::require_text(config.created_at, "created_at");
}

// The name is built only when there is something to report: this runs for every save.
void validate_entry(const MemoryEntry& entry, const MemoryColumns& columns, std::ptrdiff_t index) {
  const auto entry_name = [&] {
    return index < 0 ? std::string("entry") : "entry " + std::to_string(index);
  };
  const auto refuse = [&](const std::string& why) {
    throw Error(ErrorCode::invalid_argument, entry_name() + ": " + why);
  };
  const std::size_t dim = columns.embedding_dim;
  if (entry.embedding.empty()) refuse("embedding is empty");
  if (entry.embedding.size() != dim) {
    refuse("embedding has " + std::to_string(entry.embedding.size()) +
           " values, the store's embedding_dim is " + std::to_string(dim));
  }
  validate_embedding_values(entry.embedding, columns.embedding_type, entry_name);
  if (!std::isfinite(entry.timestamp)) refuse("timestamp is not finite");
  const std::pair<const char*, const std::string*> texts[] = {
      {"chunk", &entry.chunk},
      {"source_channel", &entry.source_channel},
      {"session_id", &entry.session_id},
      {"tags", &entry.tags}};
  for (const auto& [field, text] : texts) {
    if (!util::is_plain_text(*text)) {
      util::require_text(*text, entry_name() + ": " + field);  // throws, saying what is wrong
    }
  }
}

void validate_embedding_values(std::span<const float> values, EmbeddingType type,
                               const std::function<std::string()>& what) {
  const float limit =
      type == EmbeddingType::float16 ? kHalfMax : std::numeric_limits<float>::max();
  if (const std::size_t i = first_value_beyond(values, limit); i < values.size()) {
    const float value = values[i];
    const std::string where = what() + ": embedding value " + std::to_string(i);
    if (std::isnan(value)) throw Error(ErrorCode::invalid_argument, where + " is NaN");
    if (std::isinf(value)) throw Error(ErrorCode::invalid_argument, where + " is infinite");
    throw Error(ErrorCode::invalid_argument,
                where + " (" + std::to_string(value) + ") is outside the float16 range");
  }
}

void validate_replacement_embeddings(const MemoryColumns& columns, std::span<const MemoryId> ids,
                                     std::span<const float> embeddings, std::size_t dim,
                                     const std::string& embedder) {
  validate_embedding_dim(dim);
  util::require_text(embedder, "embedder");
  if (is_builtin_embedder(embedder) && make_embedder(embedder)->dimension() != dim) {
    throw Error(ErrorCode::invalid_argument,
                "embedder '" + embedder + "' makes vectors of another dimension than the " +
                    std::to_string(dim) + " given: name the model that made them");
  }
  std::size_t next = 0;  // the next of `ids`
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.tombstones[row] != 0) continue;
    if (next == ids.size()) break;
    if (ids[next] != columns.ids[row]) {
      throw Error(ErrorCode::invalid_argument,
                  "ids[" + std::to_string(next) + "] is " + std::to_string(ids[next]) +
                      ", the active memory there is " + std::to_string(columns.ids[row]) +
                      " (the active ids in increasing order are required)");
    }
    ++next;
  }
  const std::size_t active = static_cast<std::size_t>(
      std::count(columns.tombstones.begin(), columns.tombstones.end(), std::uint8_t{0}));
  if (ids.size() != active) {
    throw Error(ErrorCode::invalid_argument,
                "ids: " + std::to_string(ids.size()) + " given, the store has " +
                    std::to_string(active) + " active memories (they changed since they were read?)");
  }
  if (embeddings.size() != ids.size() * dim) {
    throw Error(ErrorCode::invalid_argument,
                "embeddings: " + std::to_string(embeddings.size()) + " values given, " +
                    std::to_string(ids.size()) + " memories x " + std::to_string(dim) + " needed");
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    validate_embedding_values(embeddings.subspan(i * dim, dim), columns.embedding_type, [&] {
      return "embedding " + std::to_string(i) + " (id " + std::to_string(ids[i]) + ")";
    });
  }
}

void validate_session(const Session& session) {
  if (session.id.empty()) throw Error(ErrorCode::invalid_argument, "session id is empty");
  util::require_text(session.id, "session id");
  util::require_text(session.channel, "session channel");
  util::require_text(session.summary, "session summary");
  if (session.start_id < 0 || session.end_id < session.start_id) {
    throw Error(ErrorCode::invalid_argument, "session range [" + std::to_string(session.start_id) +
                                                 ", " + std::to_string(session.end_id) +
                                                 ") is not a range of memory ids");
  }
  if (!std::isfinite(session.timestamp)) {
    throw Error(ErrorCode::invalid_argument, "session timestamp is not finite");
  }
}

void validate_entity(const Entity& entity, const MemoryColumns& columns) {
  if (entity.name.empty()) throw Error(ErrorCode::invalid_argument, "entity name is empty");
  util::require_text(entity.name, "entity name");
  util::require_text(entity.type, "entity type");
  if (entity.embedding_id != -1) {
    const std::ptrdiff_t row = columns.row_of(entity.embedding_id);
    if (row < 0 || columns.tombstones[static_cast<std::size_t>(row)]) {
      throw Error(ErrorCode::not_found, "entity '" + entity.name + "' refers to memory " +
                                            std::to_string(entity.embedding_id) +
                                            ", which is not an active memory");
    }
  }
}

void validate_relation(const Relation& relation, const KnowledgeGraph& graph) {
  for (EntityId end : {relation.source, relation.target}) {
    if (!graph.contains(end)) {
      throw Error(ErrorCode::not_found, "no entity with id " + std::to_string(end));
    }
  }
  util::require_text(relation.type, "relation type");
  if (!std::isfinite(relation.weight)) {
    throw Error(ErrorCode::invalid_argument, "relation weight is not finite");
  }
  if (!std::isfinite(relation.timestamp)) {
    throw Error(ErrorCode::invalid_argument, "relation timestamp is not finite");
  }
}

void validate_observation(const Observation& observation, const KnowledgeGraph& graph,
                          const MemoryColumns& columns) {
  const Entity* entity = graph.find_entity(observation.entity);
  if (entity == nullptr) {
    throw Error(ErrorCode::not_found, "no entity with id " + std::to_string(observation.entity));
  }
  if (observation.text.empty()) throw Error(ErrorCode::invalid_argument, "observation is empty");
  util::require_text(observation.text, "observation");
  if (graph.has_observation(observation.entity, observation.text)) {
    throw Error(ErrorCode::invalid_argument,
                "entity '" + entity->name + "' has this observation already");
  }
  if (observation.memory_id != -1) {
    const std::ptrdiff_t row = columns.row_of(observation.memory_id);
    if (row < 0 || columns.tombstones[static_cast<std::size_t>(row)]) {
      throw Error(ErrorCode::not_found, "observation refers to memory " +
                                            std::to_string(observation.memory_id) +
                                            ", which is not an active memory");
    }
  }
}

}  // namespace edgehdf5::store
