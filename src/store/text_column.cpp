#include "edgehdf5/text_column.hpp"

#include <utility>

namespace edgehdf5 {
namespace {

// Rows read one by one before the rest are read in one pass: a caller that walks many rows
// without load() (a large session listed, a long export) then costs one pass over the file
// instead of one HDF5 read per row.
constexpr std::size_t kSingleReadsBeforeLoading = 1024;

}  // namespace

TextColumn::TextColumn(const TextColumn& other) : values_(other.values()), size_(other.size_) {}

TextColumn::TextColumn(TextColumn&& other) noexcept { *this = std::move(other); }

TextColumn& TextColumn::operator=(const TextColumn& other) {
  if (this != &other) *this = std::vector<std::string>(other.values());
  return *this;
}

TextColumn& TextColumn::operator=(TextColumn&& other) noexcept {
  if (this == &other) return *this;
  values_ = std::move(other.values_);
  singles_ = std::move(other.singles_);
  source_ = std::move(other.source_);
  source_rows_ = other.source_rows_;
  size_ = other.size_;
  loaded_ = other.loaded_.load();
  other.values_.clear();
  other.singles_.clear();
  other.source_.reset();
  other.source_rows_ = other.size_ = 0;
  other.loaded_ = true;
  return *this;
}

TextColumn& TextColumn::operator=(std::vector<std::string> values) {
  values_ = std::move(values);
  singles_.clear();
  source_.reset();
  source_rows_ = 0;
  size_ = values_.size();
  loaded_ = true;
  return *this;
}

void TextColumn::defer_to(std::shared_ptr<const TextSource> source) {
  *this = std::vector<std::string>();
  source_rows_ = size_ = source->rows();
  if (source_rows_ == 0) return;
  source_ = std::move(source);
  loaded_ = false;
}

const std::string& TextColumn::operator[](std::size_t row) const {
  // Rows saved since the open are never read from the source: no lock for them.
  if (loaded_.load(std::memory_order_acquire) || row >= source_rows_) return values_[row];
  std::lock_guard lock(mutex_);
  if (loaded_.load(std::memory_order_relaxed)) return values_[row];
  if (const auto found = singles_.find(row); found != singles_.end()) return found->second;
  if (singles_.size() >= kSingleReadsBeforeLoading) {
    load_locked();
    return values_[row];
  }
  return singles_.emplace(row, std::move(source_->read(row, 1).front())).first->second;
}

std::string& TextColumn::operator[](std::size_t row) {
  materialize();
  return values_[row];
}

void TextColumn::load() const {
  if (loaded_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mutex_);
  load_locked();
}

void TextColumn::load_locked() const {
  if (loaded_.load(std::memory_order_relaxed)) return;
  std::vector<std::string> texts = source_->read(0, source_rows_);
  if (values_.empty()) {
    values_ = std::move(texts);  // nothing of values_ was handed out: no row was in it
  } else {
    // Room was made by push_back; the source's rows in it were never handed out either
    // (rows read singly live in singles_), while the rows after them may be in use.
    for (std::size_t row = 0; row < source_rows_; ++row) values_[row] = std::move(texts[row]);
  }
  source_.reset();  // the file may go now (a reader of a file checkpointed since keeps it)
  loaded_.store(true, std::memory_order_release);
}

void TextColumn::materialize() {
  load();
  singles_.clear();
  source_rows_ = 0;
}

const std::vector<std::string>& TextColumn::values() const {
  load();
  return values_;
}

void TextColumn::push_back(std::string text) {
  if (!loaded_.load(std::memory_order_relaxed) && values_.size() < source_rows_) {
    values_.resize(source_rows_);  // room for the source's rows, unread
  }
  values_.push_back(std::move(text));
  ++size_;
}

void TextColumn::resize(std::size_t rows) {
  materialize();
  values_.resize(rows);
  size_ = rows;
}

void TextColumn::shrink_to_fit() {
  materialize();
  values_.shrink_to_fit();
}

std::size_t TextColumn::rows_read_singly() const {
  std::lock_guard lock(mutex_);
  return singles_.size();
}

}  // namespace edgehdf5
