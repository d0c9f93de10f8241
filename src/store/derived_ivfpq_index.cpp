#include "store/derived_ivfpq_index.hpp"

#include <utility>

#include "edgehdf5/error.hpp"

namespace edgehdf5::store {

void DerivedIvfpqIndex::load(StoredIndex stored, const std::filesystem::path& file) {
  std::lock_guard lock(mutex_);
  file_ = file;
  stored_ = std::move(stored.data);
  if (!stored.problem.empty()) problem_ = file.string() + ": " + stored.problem;
}

IVFPQIndex* DerivedIvfpqIndex::bind_locked(const MemoryColumns& columns) const {
  if (stored_) {
    IVFPQData data = std::move(*stored_);
    stored_.reset();
    try {
      index_ = std::make_unique<IVFPQIndex>(IVFPQIndex::from_data(std::move(data), columns));
    } catch (const std::exception& error) {  // Error, or bad_alloc for absurd sizes
      problem_ = file_.string() + ": /ivfpq: " + error.what();
    }
  }
  return index_.get();
}

void DerivedIvfpqIndex::follow_locked(const MemoryColumns& columns, bool every_row) noexcept {
  if (!index_) return;
  try {
    if (every_row) {
      index_->resync(columns);
    } else {
      index_->sync(columns);
    }
  } catch (const std::exception& error) {
    index_.reset();
    problem_ = std::string("the IVF-PQ index could not follow a change and was set aside (") +
               error.what() + "); rebuild it";
  }
}

const IVFPQIndex* DerivedIvfpqIndex::bound(const MemoryColumns& columns) const {
  std::lock_guard lock(mutex_);
  return bind_locked(columns);
}

std::string DerivedIvfpqIndex::problem(const MemoryColumns& columns) const {
  std::lock_guard lock(mutex_);
  bind_locked(columns);
  return problem_;
}

void DerivedIvfpqIndex::replace(IVFPQIndex index) {
  std::lock_guard lock(mutex_);
  index_ = std::make_unique<IVFPQIndex>(std::move(index));
  stored_.reset();
  problem_.clear();
}

bool DerivedIvfpqIndex::drop() {
  std::lock_guard lock(mutex_);
  const bool had = index_ || stored_ || !problem_.empty();
  index_.reset();
  stored_.reset();
  problem_.clear();
  return had;
}

std::optional<IVFPQData> DerivedIvfpqIndex::to_write() const {
  std::lock_guard lock(mutex_);
  if (index_) return index_->to_data();
  return stored_;
}

void DerivedIvfpqIndex::rows_appended(const MemoryColumns& columns, std::size_t) noexcept {
  std::lock_guard lock(mutex_);
  follow_locked(columns, /*every_row=*/false);
}

void DerivedIvfpqIndex::row_removed(const MemoryColumns&, std::size_t) noexcept {}

void DerivedIvfpqIndex::rows_compacted(const MemoryColumns& columns) noexcept {
  std::lock_guard lock(mutex_);
  // Arrays bound only now were written before this compaction: from_data() trusts them to
  // name the columns' memories, so every id is looked up once here.
  const bool binds_now = stored_.has_value();
  bind_locked(columns);
  follow_locked(columns, /*every_row=*/binds_now);
}

}  // namespace edgehdf5::store
