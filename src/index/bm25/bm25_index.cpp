#include <algorithm>
#include <cmath>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/error.hpp"

namespace edgehdf5 {

namespace {

[[noreturn]] void damaged(const std::string& what) {
  throw Error(ErrorCode::corruption,
              "the keyword index is damaged: " + what +
                  " (a writer rebuilds it: open the file for writing and checkpoint)");
}

// The distinct terms of `terms`, in bytewise order.
std::vector<std::string> distinct(std::vector<std::string> terms) {
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

}  // namespace

std::size_t KeywordIndexArrays::bytes() const noexcept {
  return term_bytes.size() + 8 * (term_offsets.size() + posting_offsets.size()) +
         4 * posting_rows.size() + posting_frequencies.size() +
         12 * large_frequencies.size() + 4 * document_lengths.size();
}

BM25Index BM25Index::build(const std::vector<std::string>& chunks,
                           const std::vector<std::uint8_t>& tombstones, Parameters parameters,
                           KeywordTokenizer tokenizer) {
  BM25Index index(parameters, tokenizer);
  for (std::size_t row = 0; row < chunks.size(); ++row) {
    index.add(chunks[row]);
    if (row < tombstones.size() && tombstones[row]) index.remove(row);
  }
  return index;
}

BM25Index BM25Index::from_arrays(KeywordIndexArrays arrays, Parameters parameters) {
  if (arrays.term_offsets.size() != arrays.posting_offsets.size()) {
    damaged("term_offsets and posting_offsets differ in length");
  }
  const auto ends_at = [](const RowVector<std::uint64_t>& offsets, std::size_t size) {
    return offsets.empty() ? size == 0 : offsets.front() == 0 && offsets.back() == size;
  };
  if (!ends_at(arrays.term_offsets, arrays.term_bytes.size())) {
    damaged("term_offsets does not span term_bytes");
  }
  if (!ends_at(arrays.posting_offsets, arrays.posting_rows.size()) ||
      arrays.posting_rows.size() != arrays.posting_frequencies.size()) {
    damaged("posting_offsets, posting_rows and posting_frequencies do not fit together");
  }
  if (arrays.large_frequency_postings.size() != arrays.large_frequencies.size()) {
    damaged("large_frequency_postings and large_frequencies differ in length");
  }
  if (arrays.rows() >= UINT32_MAX) damaged("more than 2^32 - 2 rows");

  BM25Index index(parameters, arrays.tokenizer);
  index.deleted_.assign(arrays.rows(), 0);
  for (std::size_t row = 0; row < arrays.rows(); ++row) {
    const std::uint32_t length = arrays.document_lengths[row];
    if (length == KeywordIndexArrays::kNotIndexed) {
      index.deleted_[row] = 1;
    } else {
      ++index.active_documents_;
      index.active_length_ += length;
    }
  }
  index.stored_ = std::move(arrays);
  return index;
}

std::uint32_t BM25Index::term_in_added_rows(const std::string& term) {
  auto [it, inserted] = term_ids_.try_emplace(term, static_cast<std::uint32_t>(postings_.size()));
  if (inserted) postings_.emplace_back();
  return it->second;
}

void BM25Index::add(std::string_view text) {
  if (rows() >= UINT32_MAX - 1) {
    throw Error(ErrorCode::unsupported, "the keyword index holds at most 2^32 - 2 rows");
  }
  const auto row = static_cast<std::uint32_t>(rows());
  const std::vector<std::string> terms = tokenize(text, tokenizer_);
  // Count each distinct term once per document, with its frequency.
  std::vector<std::uint32_t> ids;
  ids.reserve(terms.size());
  for (const std::string& term : terms) ids.push_back(term_in_added_rows(term));
  std::sort(ids.begin(), ids.end());
  std::vector<std::uint32_t> distinct_ids;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    TermPostings& term = postings_[ids[i]];
    term.postings.push_back({row, static_cast<std::uint32_t>(j - i)});
    ++term.active;
    distinct_ids.push_back(ids[i]);
    i = j;
  }
  document_lengths_.push_back(static_cast<std::uint32_t>(terms.size()));
  deleted_.push_back(0);
  document_terms_.push_back(std::move(distinct_ids));
  ++active_documents_;
  active_length_ += terms.size();
}

void BM25Index::remove(std::size_t row) {
  if (row < stored_rows() && !deleted_[row]) {
    throw Error(ErrorCode::invalid_argument,
                "row " + std::to_string(row) +
                    " comes from the stored arrays: removing it takes its text");
  }
  remove(row, {});
}

void BM25Index::remove(std::size_t row, std::string_view text) {
  if (row >= deleted_.size() || deleted_[row]) return;
  if (row < stored_rows()) {
    // The arrays list rows per term, not terms per row: the row's terms come from its text.
    for (const std::string& term : distinct(tokenize(text, tokenizer_))) {
      const std::uint64_t t = stored_term(term);
      if (t != kNoTerm) ++stored_deleted_[t];
    }
  } else {
    std::vector<std::uint32_t>& terms = document_terms_[row - stored_rows()];
    for (std::uint32_t id : terms) --postings_[id].active;
    terms.clear();
    terms.shrink_to_fit();
  }
  deleted_[row] = 1;
  --active_documents_;
  active_length_ -= document_length(row);
}

std::uint32_t BM25Index::document_length(std::size_t row) const noexcept {
  return row < stored_rows() ? stored_.document_lengths[row]
                            : document_lengths_[row - stored_rows()];
}

std::size_t BM25Index::memory_bytes() const noexcept {
  std::size_t bytes = stored_.bytes() + stored_deleted_.size() * 32 +
                      document_lengths_.capacity() * sizeof(std::uint32_t) + deleted_.capacity();
  for (const auto& [term, id] : term_ids_)
    bytes += term.capacity() + sizeof(term) + sizeof(id) + 16;
  for (const TermPostings& term : postings_)
    bytes += sizeof(term) + term.postings.capacity() * sizeof(Posting);
  for (const auto& terms : document_terms_)
    bytes += sizeof(terms) + terms.capacity() * sizeof(std::uint32_t);
  return bytes;
}

// ---- the arrays, read in place ---------------------------------------------------------------
// Every offset is checked where it is used: the arrays come from a file, and a damaged one
// must give an error, never a read out of bounds.

std::string_view BM25Index::stored_term_at(std::uint64_t t) const {
  const std::uint64_t begin = stored_.term_offsets[t], end = stored_.term_offsets[t + 1];
  if (begin > end || end > stored_.term_bytes.size()) {
    damaged("term_offsets is not ascending at term " + std::to_string(t));
  }
  return {reinterpret_cast<const char*>(stored_.term_bytes.data()) + begin, end - begin};
}

std::uint64_t BM25Index::stored_term(std::string_view term) const {
  std::uint64_t low = 0, high = stored_.terms();
  while (low < high) {  // binary search in bytewise order (string_view compares as memcmp)
    const std::uint64_t middle = low + (high - low) / 2;
    const int order = stored_term_at(middle).compare(term);
    if (order == 0) return middle;
    if (order < 0) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return kNoTerm;
}

std::pair<std::uint64_t, std::uint64_t> BM25Index::stored_postings(std::uint64_t t) const {
  const std::uint64_t begin = stored_.posting_offsets[t], end = stored_.posting_offsets[t + 1];
  if (begin > end || end > stored_.posting_rows.size()) {
    damaged("posting_offsets is not ascending at term " + std::to_string(t));
  }
  return {begin, end};
}

std::uint32_t BM25Index::stored_frequency(std::uint64_t posting) const {
  const std::uint8_t frequency = stored_.posting_frequencies[posting];
  if (frequency != KeywordIndexArrays::kLargeFrequency) return frequency;
  const auto& large = stored_.large_frequency_postings;
  const auto it = std::lower_bound(large.begin(), large.end(), posting);
  if (it == large.end() || *it != posting) {
    damaged("posting " + std::to_string(posting) + " has no entry in large_frequencies");
  }
  return stored_.large_frequencies[static_cast<std::size_t>(it - large.begin())];
}

// ---- queries ---------------------------------------------------------------------------------

double BM25Index::idf_of(std::uint64_t holding) const {
  const double documents = static_cast<double>(active_documents_);
  const double n = static_cast<double>(holding);
  const double idf = std::log((documents - n + 0.5) / (n + 0.5));
  return idf > 0.0 ? idf : 1e-6;  // see bm25.hpp: FTS5's floor for very common terms
}

BM25Index::QueryTerm BM25Index::query_term(const std::string& term) const {
  QueryTerm found;
  const std::uint64_t t = stored_term(term);
  if (t != kNoTerm) {
    std::tie(found.stored_begin, found.stored_end) = stored_postings(t);
    found.active = found.stored_end - found.stored_begin;
    if (const auto it = stored_deleted_.find(t); it != stored_deleted_.end()) {
      found.active -= std::min<std::uint64_t>(found.active, it->second);
    }
  }
  if (const auto it = term_ids_.find(term); it != term_ids_.end()) {
    found.added = &postings_[it->second];
    found.active += found.added->active;
  }
  return found;
}

double BM25Index::idf(std::string_view term) const {
  std::string key(term);
  if (tokenizer_ == KeywordTokenizer::porter) porter_stem(key);
  const QueryTerm found = query_term(key);
  return found.active == 0 ? 0.0 : idf_of(found.active);
}

std::vector<BM25Index::QueryTerm> BM25Index::query_terms(std::string_view query) const {
  std::vector<QueryTerm> found;
  for (const std::string& term : distinct(tokenize(query, tokenizer_))) {
    QueryTerm candidate = query_term(term);
    if (candidate.active > 0) found.push_back(candidate);
  }
  return found;
}

// A query term's postings in row order: those of the arrays, then those of the added rows
// (whose rows all come after).
class BM25Index::Cursor {
 public:
  Cursor(const BM25Index& index, const QueryTerm& term)
      : index_(index), at_(term.stored_begin), end_(term.stored_end), added_(term.added) {}

  // The current posting's row, or UINT32_MAX at the end.
  std::uint32_t row() const noexcept { return row_; }
  std::uint32_t frequency() const {
    return in_stored_ ? index_.stored_frequency(at_) : added_->postings[added_at_].frequency;
  }
  void advance() {
    if (in_stored_) {
      ++at_;
    } else {
      ++added_at_;
    }
    settle();
  }
  void settle() {
    if (at_ < end_) {
      const std::uint32_t row = index_.stored_.posting_rows[at_];
      if (row >= index_.stored_rows() || (started_ && row <= row_)) {
        damaged("posting_rows is out of order or out of range at posting " +
                std::to_string(at_));
      }
      in_stored_ = true;
      started_ = true;
      row_ = row;
      return;
    }
    in_stored_ = false;
    row_ = added_ != nullptr && added_at_ < added_->postings.size()
               ? added_->postings[added_at_].row
               : UINT32_MAX;
  }

 private:
  const BM25Index& index_;
  std::uint64_t at_, end_;
  const TermPostings* added_;
  std::size_t added_at_ = 0;
  bool in_stored_ = false;
  bool started_ = false;
  std::uint32_t row_ = UINT32_MAX;
};

// Walks the terms' postings (each sorted by row) together, so every candidate row is
// visited once with all its terms: no per-query array over all rows.
void BM25Index::accumulate(const std::vector<QueryTerm>& terms,
                           std::vector<std::pair<std::size_t, float>>& scored) const {
  if (terms.empty() || active_documents_ == 0) return;
  const double k1 = parameters_.k1;
  const double b = parameters_.b;
  const double average_length =
      static_cast<double>(active_length_) / static_cast<double>(active_documents_);
  std::vector<double> idfs;
  std::vector<Cursor> cursors;
  for (const QueryTerm& term : terms) {
    idfs.push_back(idf_of(term.active));
    cursors.emplace_back(*this, term).settle();
  }
  for (;;) {
    std::uint32_t row = UINT32_MAX;
    for (const Cursor& cursor : cursors) row = std::min(row, cursor.row());
    if (row == UINT32_MAX) return;
    double score = 0.0;
    const double length_norm = k1 * (1.0 - b + b * document_length(row) / average_length);
    for (std::size_t t = 0; t < cursors.size(); ++t) {
      if (cursors[t].row() != row) continue;
      const double frequency = cursors[t].frequency();
      score += idfs[t] * frequency * (k1 + 1.0) / (frequency + length_norm);
      cursors[t].advance();
    }
    if (!deleted_[row]) scored.emplace_back(row, static_cast<float>(score));
  }
}

// ---- writing the arrays ----------------------------------------------------------------------

KeywordIndexArrays BM25Index::to_arrays(bool drop_deleted_rows) const {
  KeywordIndexArrays arrays;
  arrays.tokenizer = tokenizer_;
  // The row each row becomes: itself, or its place among the kept rows.
  std::vector<std::uint32_t> new_row;
  if (drop_deleted_rows) {
    new_row.resize(rows());
    std::uint32_t kept = 0;
    for (std::size_t row = 0; row < rows(); ++row) new_row[row] = deleted_[row] ? UINT32_MAX : kept++;
  }
  const auto renumbered = [&](std::uint32_t row) { return drop_deleted_rows ? new_row[row] : row; };

  arrays.document_lengths.reserve(rows());
  for (std::size_t row = 0; row < rows(); ++row) {
    if (!deleted_[row]) {
      arrays.document_lengths.push_back(document_length(row));
    } else if (!drop_deleted_rows) {
      arrays.document_lengths.push_back(KeywordIndexArrays::kNotIndexed);
    }
  }

  // The added rows' terms in bytewise order, merged with the arrays' (already in order).
  std::vector<std::pair<std::string_view, std::uint32_t>> added;
  added.reserve(term_ids_.size());
  for (const auto& [term, id] : term_ids_) added.emplace_back(term, id);
  std::sort(added.begin(), added.end());

  std::size_t added_postings = 0, added_term_bytes = 0;
  for (const auto& [term, id] : added) {
    added_postings += postings_[id].postings.size();
    added_term_bytes += term.size();
  }
  arrays.posting_rows.reserve(stored_.posting_rows.size() + added_postings);
  arrays.posting_frequencies.reserve(stored_.posting_rows.size() + added_postings);
  arrays.term_bytes.reserve(stored_.term_bytes.size() + added_term_bytes);
  arrays.term_offsets.reserve(stored_.terms() + added.size() + 1);
  arrays.posting_offsets.reserve(stored_.terms() + added.size() + 1);

  arrays.term_offsets.push_back(0);
  arrays.posting_offsets.push_back(0);
  // A stored term none of whose rows was deleted since keeps its postings as they are: copied
  // in bulk (a checkpoint's common case), checked in one pass that vectorises.
  const auto copy_stored_postings = [&](std::uint64_t begin, std::uint64_t end) {
    const std::uint32_t* rows = stored_.posting_rows.data() + begin;
    const std::size_t count = static_cast<std::size_t>(end - begin);
    bool in_order = true;
    std::uint32_t highest = 0;
    for (std::size_t i = 0; i < count; ++i) {
      highest = std::max(highest, rows[i]);
      if (i > 0) in_order &= rows[i] > rows[i - 1];
    }
    if (!in_order || (count > 0 && highest >= stored_rows())) {
      damaged("posting_rows is out of order or out of range at postings " +
              std::to_string(begin) + ".." + std::to_string(end));
    }
    const std::uint64_t first = arrays.posting_rows.size();  // where posting `begin` goes
    arrays.posting_rows.insert(arrays.posting_rows.end(), rows, rows + count);
    const std::uint8_t* frequencies = stored_.posting_frequencies.data() + begin;
    arrays.posting_frequencies.insert(arrays.posting_frequencies.end(), frequencies,
                                      frequencies + count);
    const auto& large = stored_.large_frequency_postings;
    for (auto it = std::lower_bound(large.begin(), large.end(), begin);
         it != large.end() && *it < end; ++it) {
      arrays.large_frequency_postings.push_back(*it - begin + first);
      arrays.large_frequencies.push_back(
          stored_.large_frequencies[static_cast<std::size_t>(it - large.begin())]);
    }
  };
  const auto append_posting = [&](std::uint32_t row, std::uint32_t frequency) {
    if (deleted_[row]) return;
    arrays.posting_rows.push_back(renumbered(row));
    if (frequency >= KeywordIndexArrays::kLargeFrequency) {
      arrays.large_frequency_postings.push_back(arrays.posting_frequencies.size());
      arrays.large_frequencies.push_back(frequency);
      arrays.posting_frequencies.push_back(KeywordIndexArrays::kLargeFrequency);
    } else {
      arrays.posting_frequencies.push_back(static_cast<std::uint8_t>(frequency));
    }
  };
  const auto finish_term = [&](std::string_view term) {
    if (arrays.posting_rows.size() == arrays.posting_offsets.back()) return;  // no active row
    arrays.term_bytes.insert(arrays.term_bytes.end(), term.begin(), term.end());
    arrays.term_offsets.push_back(arrays.term_bytes.size());
    arrays.posting_offsets.push_back(arrays.posting_rows.size());
  };
  const std::uint64_t stored_terms = stored_.terms();
  std::uint64_t t = 0;
  std::size_t a = 0;
  while (t < stored_terms || a < added.size()) {
    const std::string_view stored_term = t < stored_terms ? stored_term_at(t) : std::string_view();
    const int order = t >= stored_terms        ? 1
                      : a >= added.size()      ? -1
                                               : stored_term.compare(added[a].first);
    std::string_view term;
    if (order <= 0) {  // the arrays' postings come first: their rows are the lower ones
      term = stored_term;
      const auto [begin, end] = stored_postings(t);
      if (!drop_deleted_rows && !stored_deleted_.contains(t)) {
        copy_stored_postings(begin, end);
      } else {
        for (std::uint64_t p = begin; p < end; ++p) {
          const std::uint32_t row = stored_.posting_rows[p];
          if (row >= stored_rows()) {
            damaged("posting_rows is out of range at posting " + std::to_string(p));
          }
          append_posting(row, stored_frequency(p));
        }
      }
      ++t;
    }
    if (order >= 0) {
      term = added[a].first;
      for (const Posting& posting : postings_[added[a].second].postings) {
        append_posting(posting.row, posting.frequency);
      }
      ++a;
    }
    finish_term(term);
  }
  return arrays;
}

}  // namespace edgehdf5
