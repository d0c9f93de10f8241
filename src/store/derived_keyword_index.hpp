#pragma once
// The store's BM25 index over its chunks. A file written by this build keeps it as its
// /keyword_index group (store/keyword_group.hpp), mapped at open; at its first use the
// index is made from those arrays in place (a pass over the row lengths), the rows saved
// since the checkpoint are indexed in memory and those deleted since are taken off, so a
// fresh process queries a 1M-row file without reading its chunks. A file without a usable
// group has its index built from all the chunks at first use, as before. Notifications keep
// it current from then on; every checkpoint writes it back (to_write), so the next open
// finds it whole.

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "edgehdf5/bm25.hpp"
#include "store/derived_index.hpp"
#include "store/schema.hpp"

namespace edgehdf5::store {

class DerivedKeywordIndex final : public DerivedIndex {
 public:
  // What open read of the file's /keyword_index group. REQUIRES: before any other call.
  void load(StoredKeywords stored);

  // The index over `columns` with the file's tokenizer, making it first if need be. Safe
  // to call concurrently. REQUIRES: `columns` is the store's, the one notifications
  // describe, and `tokenizer` is the same at every call.
  const BM25Index& get(const MemoryColumns& columns, KeywordTokenizer tokenizer) const;
  // What a checkpoint writes as /keyword_index: the index as arrays (made first if need be;
  // rebuilt from the chunks if the file's arrays turn out to be damaged).
  KeywordIndexArrays to_write(const MemoryColumns& columns, KeywordTokenizer tokenizer) const;
  // Why the file's group is not used (or was found damaged), or empty.
  std::string problem() const;
  // Forgets everything (a closed store).
  void drop() noexcept;

  void rows_appended(const MemoryColumns& columns, std::size_t first_row) noexcept override;
  void row_removed(const MemoryColumns& columns, std::size_t row) noexcept override;
  // Rows moved: the index is renumbered as compaction renumbered the rows (the store makes
  // it before compacting, see HDF5Memory::Impl::compact); one not made yet is dropped.
  void rows_compacted(const MemoryColumns& columns) noexcept override;

 private:
  // The index from the file's arrays and the columns, or nullptr when they do not fit
  // together (problem_ says why). REQUIRES: mutex_ held.
  std::unique_ptr<BM25Index> from_stored_locked(const MemoryColumns& columns) const;
  // REQUIRES: mutex_ held.
  const BM25Index& get_locked(const MemoryColumns& columns, KeywordTokenizer tokenizer) const;

  mutable std::mutex mutex_;
  mutable std::optional<KeywordIndexArrays> stored_;  // read at open, not yet used
  mutable std::string problem_;
  mutable std::unique_ptr<BM25Index> index_;  // null until first used
};

}  // namespace edgehdf5::store
