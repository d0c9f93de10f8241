#pragma once
// The checks a change must pass before the store logs it. One set of rules for every door
// into a memory file: HDF5Memory's calls and MemoryFileBuilder (which keeps a source's own
// ids and timestamps) both call these, so a file can only hold what the store accepts.
//
// Each function throws Error(invalid_argument) or Error(not_found) with a message that
// names the field, and returns normally when the change may be committed.

#include <cstddef>
#include <functional>
#include <span>
#include <string>

#include "edgehdf5/config.hpp"
#include "edgehdf5/entry.hpp"
#include "edgehdf5/knowledge_graph.hpp"
#include "edgehdf5/memory_columns.hpp"

namespace edgehdf5::store {

// A config a new file may be created with: a path, 1 <= embedding_dim <= kMaxEmbeddingDim,
// compression_level 1..9 when compressing, a finite compact_threshold >= 0, text fields
// that are UTF-8 without NUL bytes.
void validate_config(const MemoryConfig& config);

// A memory the columns can take: embedding_dim finite values (within the half range for
// float16 columns), a finite timestamp, text fields that are UTF-8 without NUL bytes.
// `index` names the entry in a batch ("entry 3: ..."); -1 for a single save.
void validate_entry(const MemoryEntry& entry, const MemoryColumns& columns, std::ptrdiff_t index);

// The values of one embedding the columns can take: finite, and within the half range when
// `type` is float16. Throws Error(invalid_argument) "<what>: embedding value 3 is NaN"...
void validate_embedding_values(std::span<const float> values, EmbeddingType type,
                               const std::function<std::string()>& what);

// What HDF5Memory::replace_embeddings takes: `ids` the active memories of `columns` in
// increasing order, `embeddings` one finite row of `dim` values (1..kMaxEmbeddingDim; within
// the half range for float16 columns) per id, `embedder` text that, when it names a built-in
// embedder (hash:D), makes vectors of `dim` values.
void validate_replacement_embeddings(const MemoryColumns& columns, std::span<const MemoryId> ids,
                                     std::span<const float> embeddings, std::size_t dim,
                                     const std::string& embedder);

// A session summary: a non-empty id, a range start_id <= end_id of non-negative ids, a
// finite timestamp, text fields as above.
void validate_session(const Session& session);

// An entity: a non-empty name, text fields as above, and an embedding_id that is -1 or an
// active memory of `columns` (not_found otherwise).
void validate_entity(const Entity& entity, const MemoryColumns& columns);

// A relation between two entities of `graph` (not_found otherwise), with a finite weight
// and timestamp and a type that is text as above.
void validate_relation(const Relation& relation, const KnowledgeGraph& graph);

// An observation of an entity of `graph` (not_found otherwise): non-empty text as above that
// the entity does not have yet, and a memory_id that is -1 or an active memory of `columns`.
void validate_observation(const Observation& observation, const KnowledgeGraph& graph,
                          const MemoryColumns& columns);

}  // namespace edgehdf5::store
