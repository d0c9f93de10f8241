#pragma once
// BM25 keyword index over the chunks of a memory store, kept current as memories are saved
// and removed (never rebuilt per query).
//
// Scoring: for each query term t in document d,
//   idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)),   k1 = 1.2, b = 0.75,
// with the Robertson-Sparck Jones idf(t) = ln((N - n_t + 0.5) / (n_t + 0.5)) that SQLite
// FTS5 uses. A term in more than half the documents would get a negative idf; like FTS5 we
// floor it at 1e-6, so such a term still ranks a document that has it above one that does
// not, but barely. N, n_t and avgdl count active (not deleted) documents only.
// A query term counts once however often it is repeated (as in FTS5).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgehdf5/config.hpp"

namespace edgehdf5 {

// Splits text into lower-cased terms. A term is a run of letters and digits: ASCII ones,
// and any non-ASCII character except Unicode spaces and punctuation (so a multi-byte UTF-8
// character is never split, and "café", "naïve" and "日本語" are terms). Upper-case ASCII,
// Latin-1, Latin Extended-A, Greek and Cyrillic letters are folded to lower case. Invalid
// UTF-8 bytes separate terms. Indexing and querying share this function.
std::vector<std::string> tokenize(std::string_view text);
// The terms of `tokenizer` (config.hpp): tokenize(text), each term Porter-stemmed for porter.
std::vector<std::string> tokenize(std::string_view text, KeywordTokenizer tokenizer);
// Replaces a term (lower-cased, as tokenize gives it) by its Porter stem (Snowball's porter,
// Debian's libstemmer); terms under 3 or over 64 bytes stay as they are, as in FTS5.
void porter_stem(std::string& term);

// "unicode61" / "porter", as the file records them.
std::string_view keyword_tokenizer_name(KeywordTokenizer tokenizer) noexcept;
std::optional<KeywordTokenizer> parse_keyword_tokenizer(std::string_view name) noexcept;

struct BM25Parameters {
  double k1 = 1.2;  // term-frequency saturation
  double b = 0.75;  // document-length normalisation
};

class BM25Index {
 public:
  using Parameters = BM25Parameters;

  explicit BM25Index(Parameters parameters = {},
                     KeywordTokenizer tokenizer = KeywordTokenizer::unicode61)
      : parameters_(parameters), tokenizer_(tokenizer) {}

  // Indexes every row of `chunks`; rows whose tombstone is set are known but inactive.
  static BM25Index build(const std::vector<std::string>& chunks,
                         const std::vector<std::uint8_t>& tombstones, Parameters parameters = {},
                         KeywordTokenizer tokenizer = KeywordTokenizer::unicode61);

  // How documents and queries are split into terms.
  KeywordTokenizer tokenizer() const noexcept { return tokenizer_; }

  // Appends the next row (rows are numbered 0, 1, ... in the order added).
  void add(std::string_view text);
  // Marks a row deleted: it no longer counts in N, n_t or avgdl and is never returned.
  // Idempotent.
  void remove(std::size_t row);

  std::size_t rows() const noexcept { return document_lengths_.size(); }
  std::size_t active_documents() const noexcept { return active_documents_; }
  std::size_t terms() const noexcept { return term_ids_.size(); }
  // Bytes held by the index (dictionary, postings, lengths): for capacity planning.
  std::size_t memory_bytes() const noexcept;

  // BM25 score of every active row that holds a query term, as (row, score), unordered.
  // `accept(row)` may refuse rows (filters); it is called once per candidate row.
  // An empty query (no terms after tokenising) gives no results.
  template <typename Accept>
  std::vector<std::pair<std::size_t, float>> score(std::string_view query, Accept accept) const;

  // The idf of a term (a word, stemmed here as documents were); 0 when no row holds it.
  double idf(std::string_view term) const;

 private:
  struct Posting {
    std::uint32_t row;
    std::uint32_t frequency;
  };
  struct TermPostings {
    std::vector<Posting> postings;  // by row, ascending
    std::uint32_t active = 0;       // postings whose row is active: n_t
  };

  double idf_of(const TermPostings& term) const;
  std::vector<const TermPostings*> query_terms(std::string_view query) const;
  void accumulate(const std::vector<const TermPostings*>& terms,
                  std::vector<std::pair<std::size_t, float>>& scored) const;

  Parameters parameters_;
  KeywordTokenizer tokenizer_;
  std::unordered_map<std::string, std::uint32_t> term_ids_;
  std::vector<TermPostings> postings_;
  std::vector<std::uint32_t> document_lengths_;  // in terms
  std::vector<std::uint8_t> deleted_;
  std::vector<std::vector<std::uint32_t>> document_terms_;  // distinct term ids per row, for remove
  std::size_t active_documents_ = 0;
  std::uint64_t active_length_ = 0;  // sum of the active documents' lengths
};

template <typename Accept>
std::vector<std::pair<std::size_t, float>> BM25Index::score(std::string_view query,
                                                            Accept accept) const {
  std::vector<std::pair<std::size_t, float>> scored;
  accumulate(query_terms(query), scored);
  std::erase_if(scored,
                [&](const std::pair<std::size_t, float>& hit) { return !accept(hit.first); });
  return scored;
}

}  // namespace edgehdf5
