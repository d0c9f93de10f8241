#include "store/derived_keyword_index.hpp"

#include "edgehdf5/error.hpp"

namespace edgehdf5::store {

void DerivedKeywordIndex::load(StoredKeywords stored) {
  std::lock_guard lock(mutex_);
  stored_ = std::move(stored.arrays);
  problem_ = std::move(stored.problem);
}

std::unique_ptr<BM25Index> DerivedKeywordIndex::from_stored_locked(
    const MemoryColumns& columns) const {
  KeywordIndexArrays arrays = std::move(*stored_);
  stored_.reset();
  try {
    auto index = std::make_unique<BM25Index>(BM25Index::from_arrays(std::move(arrays)));
    if (index->stored_rows() > columns.rows()) {
      problem_ = "/keyword_index covers more rows than the store has";
      return nullptr;
    }
    // Rows deleted since the checkpoint: the arrays still count them.
    for (std::size_t row = 0; row < index->stored_rows(); ++row) {
      const bool tombstoned = columns.tombstones[row] != 0;
      if (tombstoned && index->active(row)) {
        index->remove(row, columns.chunks[row]);
      } else if (!tombstoned && !index->active(row)) {
        problem_ = "/keyword_index has row " + std::to_string(row) +
                   " deleted but /memory/tombstones has it active";
        return nullptr;
      }
    }
    // Rows saved since the checkpoint.
    for (std::size_t row = index->rows(); row < columns.rows(); ++row) {
      index->add(columns.chunks[row]);
      if (columns.tombstones[row]) index->remove(row);
    }
    return index;
  } catch (const Error& error) {  // damaged arrays (BM25Index::from_arrays, remove)
    problem_ = error.what();
    return nullptr;
  }
}

const BM25Index& DerivedKeywordIndex::get_locked(const MemoryColumns& columns,
                                                 KeywordTokenizer tokenizer) const {
  if (!index_ && stored_) index_ = from_stored_locked(columns);
  if (!index_) {
    index_ = std::make_unique<BM25Index>(
        BM25Index::build(columns.chunks.values(), columns.tombstones, {}, tokenizer));
  }
  return *index_;
}

const BM25Index& DerivedKeywordIndex::get(const MemoryColumns& columns,
                                          KeywordTokenizer tokenizer) const {
  std::lock_guard lock(mutex_);
  return get_locked(columns, tokenizer);
}

KeywordIndexArrays DerivedKeywordIndex::to_write(const MemoryColumns& columns,
                                                 KeywordTokenizer tokenizer) const {
  std::lock_guard lock(mutex_);
  try {
    return get_locked(columns, tokenizer).to_arrays();
  } catch (const Error& error) {
    // The file's arrays are damaged where a query has not looked yet: a checkpoint must not
    // fail for derived data, so the index is built anew from the chunks.
    if (error.code() != ErrorCode::corruption) throw;
    problem_ = error.what();
    index_.reset();
    return get_locked(columns, tokenizer).to_arrays();
  }
}

std::string DerivedKeywordIndex::problem() const {
  std::lock_guard lock(mutex_);
  return problem_;
}

void DerivedKeywordIndex::drop() noexcept {
  std::lock_guard lock(mutex_);
  stored_.reset();
  index_.reset();
  problem_.clear();
}

void DerivedKeywordIndex::rows_appended(const MemoryColumns& columns,
                                        std::size_t first_row) noexcept {
  std::lock_guard lock(mutex_);
  if (!index_) return;  // the arrays (or the chunks) cover them when the index is made
  try {
    for (std::size_t row = first_row; row < columns.rows(); ++row) index_->add(columns.chunks[row]);
  } catch (...) {  // out of memory: drop it; the next use rebuilds it from the columns
    index_.reset();
  }
}

void DerivedKeywordIndex::row_removed(const MemoryColumns& columns, std::size_t row) noexcept {
  std::lock_guard lock(mutex_);
  if (!index_) return;  // the tombstone is seen when the index is made
  try {
    index_->remove(row, columns.chunks[row]);
  } catch (...) {
    index_.reset();
  }
}

void DerivedKeywordIndex::rows_compacted(const MemoryColumns& columns) noexcept {
  std::lock_guard lock(mutex_);
  stored_.reset();  // in the old numbering
  if (!index_) return;
  try {
    index_ = std::make_unique<BM25Index>(
        BM25Index::from_arrays(index_->to_arrays(/*drop_deleted_rows=*/true)));
    if (index_->rows() != columns.rows()) index_.reset();
  } catch (...) {
    index_.reset();
  }
}

}  // namespace edgehdf5::store
