#pragma once
// The store's IVF-PQ index. The file's /ivfpq arrays are read at open and turned into an
// index bound to the columns at its first use (bound()), so a handle that never searches
// approximately pays only for reading them. Once bound, appended rows are encoded into it
// and compaction renumbers it; every checkpoint writes it back (to_write()). A group that
// cannot be used is set aside with the reason (problem()); searches then use the exact scan.

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "edgehdf5/ivfpq.hpp"
#include "store/derived_index.hpp"
#include "store/schema.hpp"

namespace edgehdf5::store {

class DerivedIvfpqIndex final : public DerivedIndex {
 public:
  // What open read of the file's /ivfpq group. REQUIRES: before any other call.
  void load(StoredIndex stored, const std::filesystem::path& file);

  // The index bound to `columns`, binding the stored arrays first if need be; null when
  // there is none or it cannot be used. Safe to call concurrently with other const calls.
  const IVFPQIndex* bound(const MemoryColumns& columns) const;
  // Why the file's group (or the index) cannot be used, or empty. Binds first, since
  // binding is what finds arrays that do not fit the memories.
  std::string problem(const MemoryColumns& columns) const;
  // A newly trained index replaces whatever there was.
  void replace(IVFPQIndex index);
  // Forgets the index, its arrays and its problem; returns whether there was any of them.
  bool drop();
  // What a checkpoint writes as /ivfpq: the bound index, else the arrays read at open.
  // A group this build could not read is not carried over (the index is derived data).
  std::optional<IVFPQData> to_write() const;

  void rows_appended(const MemoryColumns& columns, std::size_t first_row) noexcept override;
  // Nothing to do: the tombstone hides the row inside the scan; its code goes at compaction.
  void row_removed(const MemoryColumns& columns, std::size_t row) noexcept override;
  // Drops the removed rows' codes and renumbers (binding the stored arrays first), so the
  // checkpoint after a compaction refers only to memories the file holds.
  void rows_compacted(const MemoryColumns& columns) noexcept override;

 private:
  // REQUIRES: mutex_ held.
  IVFPQIndex* bind_locked(const MemoryColumns& columns) const;
  // Brings a bound index up to date with `columns` (with `every_row`, IVFPQIndex::resync),
  // or sets it aside. REQUIRES: mutex_ held.
  void follow_locked(const MemoryColumns& columns, bool every_row) noexcept;

  std::filesystem::path file_;  // for messages
  mutable std::mutex mutex_;
  mutable std::optional<IVFPQData> stored_;  // read at open, not yet bound
  mutable std::unique_ptr<IVFPQIndex> index_;
  mutable std::string problem_;  // why the index cannot be used; empty when it is fine
};

}  // namespace edgehdf5::store
