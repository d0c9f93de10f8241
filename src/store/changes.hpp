#pragma once
// The changes a store logs, as log payloads, and how each is applied to a StoreState.
// Live calls and recovery share apply_change(): a live change is encoded, appended to the
// log, then applied by decoding what was logged, so replay cannot differ from the original.

#include <span>
#include <string>

#include "edgehdf5/entry.hpp"
#include "store/schema.hpp"
#include "store/wal.hpp"

namespace edgehdf5::store {

// REQUIRES: entries validated against state (see hdf5_memory.cpp).
std::string encode_save_batch(const StoreState& state, std::span<const MemoryEntry> entries);
std::string encode_remove(MemoryId id);
std::string encode_add_session(const Session& session);
std::string encode_add_entity(const Entity& entity);
std::string encode_add_relation(const Relation& relation);
std::string encode_add_observation(const Observation& observation);
std::string encode_remove_entity(EntityId id);
std::string encode_remove_relations(EntityId source, EntityId target, const std::string& type);
std::string encode_remove_observation(EntityId id, const std::string& text);

// Applies one logged change. Throws Error(corruption) if the record does not fit the state
// (an id out of sequence, an unknown id), which a log we wrote never does.
void apply_change(StoreState& state, RecordType type, std::string_view payload);

}  // namespace edgehdf5::store
