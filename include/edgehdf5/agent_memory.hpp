#pragma once
// AgentMemory: what an agent runtime needs from a memory store, independent of storage.
//
// Thread safety: implementations are not internally synchronised. Concurrent const calls
// are safe; any mutating call must not overlap any other call on the same object.
// Errors: every method throws edgehdf5::Error; a call that throws changes nothing.

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/knowledge_graph.hpp"

namespace edgehdf5 {

class AgentMemory {
 public:
  virtual ~AgentMemory() = default;

  // Stores one memory and returns its id (larger than every id returned before).
  // REQUIRES: entry.embedding has embedding_dim finite values; chunk is valid UTF-8.
  virtual MemoryId save(const MemoryEntry& entry) = 0;
  // Stores all entries or none (also across a crash). Returns their ids in order.
  virtual std::vector<MemoryId> save_batch(std::span<const MemoryEntry> entries) = 0;
  // Tombstones a memory. Throws not_found for an unknown or already deleted id.
  virtual void remove(MemoryId id) = 0;
  // Drops tombstoned rows from the file; ids, session ranges and entity embedding ids keep
  // pointing at the same memories. Returns the number of rows dropped.
  virtual std::size_t compact() = 0;
  // Writes a consistent copy of the current state to `destination`, atomically.
  virtual void snapshot(const std::filesystem::path& destination) = 0;
  // Returns when every change made before it is durable on disk.
  virtual void flush() = 0;

  virtual std::size_t count() const = 0;         // rows, tombstoned ones included
  virtual std::size_t count_active() const = 0;  // rows not tombstoned
  // The memory with this id. Throws not_found for an unknown or deleted id.
  virtual MemoryEntry get(MemoryId id) const = 0;

  // Records a session covering memories with ids in [start_id, end_id).
  virtual void add_session(const std::string& session_id, MemoryId start_id, MemoryId end_id,
                           const std::string& channel, const std::string& summary) = 0;
  // The summary of the most recently added session with this id; throws not_found.
  virtual std::string get_session_summary(std::string_view session_id) const = 0;

  // Adds an entity and returns its id. embedding_id is a memory id or -1.
  virtual EntityId add_entity(const std::string& name, const std::string& type,
                              MemoryId embedding_id) = 0;
  // Adds a directed relation between two existing entities.
  virtual void add_relation(EntityId source, EntityId target, const std::string& type,
                            float weight) = 0;
  virtual const KnowledgeGraph& knowledge() const = 0;

  // Cosine top-k over active memories, best first, with the automatic strategy: the exact
  // scan, or an approximate index the implementation keeps when it has one and the store is
  // large enough to use it (HDF5Memory: its IVF-PQ index, from
  // StrategyThresholds::ivfpq_min_rows rows). Throws invalid_argument for k == 0 or a query
  // of the wrong length or with NaN/Inf.
  virtual std::vector<SearchHit> search(std::span<const float> query, std::size_t k) const = 0;
};

}  // namespace edgehdf5
