#include "store_builder.hpp"

#include "edgehdf5/version.hpp"
#include "store/changes.hpp"
#include "util/text.hpp"

namespace edgehdf5::migrate {

using store::RecordType;

StoreBuilder::StoreBuilder(MemoryConfig config) {
  if (config.created_at.empty()) config.created_at = util::now_iso8601();
  state_.config = std::move(config);
  state_.schema_version = kSchemaVersion;
  state_.edgehdf5_version = kVersion;
  state_.cache.embedding_dim = state_.config.embedding_dim;
  state_.cache.embedding_type =
      state_.config.float16 ? EmbeddingType::float16 : EmbeddingType::float32;
}

MemoryId StoreBuilder::save_batch(std::span<const MemoryEntry> entries) {
  const MemoryId first = state_.next_id;
  store::apply_change(state_, RecordType::save_batch, store::encode_save_batch(state_, entries));
  return first;
}

void StoreBuilder::tombstone(MemoryId id) {
  store::apply_change(state_, RecordType::remove, store::encode_remove(id));
}

void StoreBuilder::add_session(const Session& session) {
  store::apply_change(state_, RecordType::add_session, store::encode_add_session(session));
}

void StoreBuilder::add_entity(const Entity& entity) {
  store::apply_change(state_, RecordType::add_entity, store::encode_add_entity(entity));
}

void StoreBuilder::add_relation(const Relation& relation) {
  store::apply_change(state_, RecordType::add_relation, store::encode_add_relation(relation));
}

void StoreBuilder::write_file(const std::filesystem::path& path) const {
  store::write_state_file(path, state_);
}

}  // namespace edgehdf5::migrate
