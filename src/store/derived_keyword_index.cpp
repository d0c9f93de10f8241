#include "store/derived_keyword_index.hpp"

namespace edgehdf5::store {

const BM25Index& DerivedKeywordIndex::get(const MemoryColumns& columns,
                                          KeywordTokenizer tokenizer) const {
  std::lock_guard lock(build_mutex_);
  if (!index_) {
    index_ = std::make_unique<BM25Index>(
        BM25Index::build(columns.chunks.values(), columns.tombstones, {}, tokenizer));
  }
  return *index_;
}

void DerivedKeywordIndex::rows_appended(const MemoryColumns& columns,
                                        std::size_t first_row) noexcept {
  if (!index_) return;
  try {
    for (std::size_t row = first_row; row < columns.rows(); ++row) index_->add(columns.chunks[row]);
  } catch (...) {  // out of memory: drop it; the next use rebuilds it from the columns
    index_.reset();
  }
}

void DerivedKeywordIndex::row_removed(const MemoryColumns&, std::size_t row) noexcept {
  if (!index_) return;
  try {
    index_->remove(row);
  } catch (...) {
    index_.reset();
  }
}

void DerivedKeywordIndex::rows_compacted(const MemoryColumns&) noexcept { index_.reset(); }

}  // namespace edgehdf5::store
