#include <algorithm>
#include <cmath>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/error.hpp"

namespace edgehdf5 {

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

void BM25Index::add(std::string_view text) {
  if (document_lengths_.size() >= UINT32_MAX) {
    throw Error(ErrorCode::unsupported, "the keyword index holds at most 2^32 - 1 rows");
  }
  const auto row = static_cast<std::uint32_t>(document_lengths_.size());
  const std::vector<std::string> terms = tokenize(text, tokenizer_);
  // Count each distinct term once per document, with its frequency.
  std::vector<std::uint32_t> ids;
  ids.reserve(terms.size());
  for (const std::string& term : terms) {
    auto [it, inserted] = term_ids_.try_emplace(term, static_cast<std::uint32_t>(postings_.size()));
    if (inserted) postings_.emplace_back();
    ids.push_back(it->second);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::uint32_t> distinct;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    TermPostings& term = postings_[ids[i]];
    term.postings.push_back({row, static_cast<std::uint32_t>(j - i)});
    ++term.active;
    distinct.push_back(ids[i]);
    i = j;
  }
  document_lengths_.push_back(static_cast<std::uint32_t>(terms.size()));
  deleted_.push_back(0);
  document_terms_.push_back(std::move(distinct));
  ++active_documents_;
  active_length_ += terms.size();
}

void BM25Index::remove(std::size_t row) {
  if (row >= deleted_.size() || deleted_[row]) return;
  deleted_[row] = 1;
  for (std::uint32_t id : document_terms_[row]) --postings_[id].active;
  document_terms_[row].clear();
  document_terms_[row].shrink_to_fit();
  --active_documents_;
  active_length_ -= document_lengths_[row];
}

std::size_t BM25Index::memory_bytes() const noexcept {
  std::size_t bytes = document_lengths_.capacity() * sizeof(std::uint32_t) + deleted_.capacity();
  for (const auto& [term, id] : term_ids_)
    bytes += term.capacity() + sizeof(term) + sizeof(id) + 16;
  for (const TermPostings& term : postings_)
    bytes += sizeof(term) + term.postings.capacity() * sizeof(Posting);
  for (const auto& terms : document_terms_)
    bytes += sizeof(terms) + terms.capacity() * sizeof(std::uint32_t);
  return bytes;
}

double BM25Index::idf_of(const TermPostings& term) const {
  const double documents = static_cast<double>(active_documents_);
  const double holding = term.active;
  const double idf = std::log((documents - holding + 0.5) / (holding + 0.5));
  return idf > 0.0 ? idf : 1e-6;  // see bm25.hpp: FTS5's floor for very common terms
}

double BM25Index::idf(std::string_view term) const {
  std::string key(term);
  if (tokenizer_ == KeywordTokenizer::porter) porter_stem(key);
  const auto it = term_ids_.find(key);
  if (it == term_ids_.end()) return 0.0;
  return idf_of(postings_[it->second]);
}

std::vector<const BM25Index::TermPostings*> BM25Index::query_terms(std::string_view query) const {
  std::vector<std::string> terms = tokenize(query, tokenizer_);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  std::vector<const TermPostings*> found;
  for (const std::string& term : terms) {
    const auto it = term_ids_.find(term);
    if (it != term_ids_.end() && postings_[it->second].active > 0)
      found.push_back(&postings_[it->second]);
  }
  return found;
}

// Walks the terms' postings (each sorted by row) together, so every candidate row is
// visited once with all its terms: no per-query array over all rows.
void BM25Index::accumulate(const std::vector<const TermPostings*>& terms,
                           std::vector<std::pair<std::size_t, float>>& scored) const {
  if (terms.empty() || active_documents_ == 0) return;
  const double k1 = parameters_.k1;
  const double b = parameters_.b;
  const double average_length =
      static_cast<double>(active_length_) / static_cast<double>(active_documents_);
  std::vector<double> idfs;
  std::vector<std::size_t> cursors(terms.size(), 0);
  for (const TermPostings* term : terms) idfs.push_back(idf_of(*term));
  for (;;) {
    std::uint32_t row = UINT32_MAX;
    for (std::size_t t = 0; t < terms.size(); ++t) {
      if (cursors[t] < terms[t]->postings.size())
        row = std::min(row, terms[t]->postings[cursors[t]].row);
    }
    if (row == UINT32_MAX) return;
    double score = 0.0;
    const double length_norm = k1 * (1.0 - b + b * document_lengths_[row] / average_length);
    for (std::size_t t = 0; t < terms.size(); ++t) {
      if (cursors[t] >= terms[t]->postings.size()) continue;
      const Posting& posting = terms[t]->postings[cursors[t]];
      if (posting.row != row) continue;
      const double frequency = posting.frequency;
      score += idfs[t] * frequency * (k1 + 1.0) / (frequency + length_norm);
      ++cursors[t];
    }
    if (!deleted_[row]) scored.emplace_back(row, static_cast<float>(score));
  }
}

}  // namespace edgehdf5
