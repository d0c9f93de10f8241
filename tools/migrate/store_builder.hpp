#pragma once
// The new memory file's content, built in memory with the store's own change codec, then
// written the way a checkpoint writes a file.
//
// Why not through HDF5Memory's public calls: they stamp sessions and relations with the
// current time, number entities 0, 1, 2... whatever ids the source gave them, and compact
// automatically once compact_threshold of the rows are tombstoned, while a migration must
// keep the source's timestamps, entity ids and tombstones. So each change is encoded and
// applied exactly as HDF5Memory does for a live call and as recovery replays its log
// (store/changes.hpp), minus the log itself, and the state is written by
// store::write_state_file, the function behind every checkpoint. The result is the file a
// store would hold had it been given these changes, with the source's values.
//
// The checks HDF5Memory makes before a change are made earlier, per SQLite row, by the
// table readers (cell_values.hpp), so that a refusal can name the row.

#include <cstddef>
#include <filesystem>
#include <span>

#include "edgehdf5/config.hpp"
#include "edgehdf5/entry.hpp"
#include "store/schema.hpp"

namespace edgehdf5::migrate {

class StoreBuilder {
 public:
  // An empty store with `config` (its path is not used; created_at is filled when empty).
  explicit StoreBuilder(MemoryConfig config);

  // Adds memories with the next ids (0, 1, 2... in a new file); returns the first id.
  // REQUIRES: every entry is valid for the config: embedding_dim finite values (within the
  // half range for float16), finite timestamp, text that is UTF-8 without NUL bytes.
  MemoryId save_batch(std::span<const MemoryEntry> entries);
  // REQUIRES: `id` is an active memory.
  void tombstone(MemoryId id);
  // REQUIRES: non-empty id, start_id <= end_id, text as above.
  void add_session(const Session& session);
  // REQUIRES: an id not used yet, a non-empty name, embedding_id -1 or a saved memory.
  void add_entity(const Entity& entity);
  // REQUIRES: source and target are entities already added; finite weight.
  void add_relation(const Relation& relation);

  std::size_t memories() const noexcept { return state_.cache.rows(); }

  // Writes the state as a new HDF5 file at `path` (truncating it). Not atomic by itself.
  void write_file(const std::filesystem::path& path) const;

 private:
  store::StoreState state_;
};

}  // namespace edgehdf5::migrate
