#pragma once
// The store's BM25 index over its chunks: built at its first use (one tokenising pass over
// the store), then kept current by notifications, so no query rebuilds it.

#include <memory>
#include <mutex>

#include "edgehdf5/bm25.hpp"
#include "store/derived_index.hpp"

namespace edgehdf5::store {

class DerivedKeywordIndex final : public DerivedIndex {
 public:
  // The index over `columns` with the file's tokenizer, building it first if need be. Safe
  // to call concurrently. REQUIRES: `columns` is the store's, the one notifications
  // describe, and `tokenizer` is the same at every call.
  const BM25Index& get(const MemoryColumns& columns, KeywordTokenizer tokenizer) const;

  void rows_appended(const MemoryColumns& columns, std::size_t first_row) noexcept override;
  void row_removed(const MemoryColumns& columns, std::size_t row) noexcept override;
  // Rows moved: the index is dropped and rebuilt at its next use.
  void rows_compacted(const MemoryColumns& columns) noexcept override;

 private:
  mutable std::mutex build_mutex_;
  mutable std::unique_ptr<BM25Index> index_;  // null until first used
};

}  // namespace edgehdf5::store
