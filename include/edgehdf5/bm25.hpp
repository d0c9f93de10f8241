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
#include "edgehdf5/row_allocator.hpp"

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

// A keyword index as flat arrays: what a memory file keeps as its /keyword_index group
// (format "bm25 1", SPEC section 1; store/keyword_group.hpp) and what BM25Index queries in
// place, mapped from the file, without loading it. Terms are numbered in bytewise order.
struct KeywordIndexArrays {
  // document_lengths of a row that was deleted when the arrays were written: it has no
  // postings and is not counted in N or the average length.
  static constexpr std::uint32_t kNotIndexed = UINT32_MAX;
  // posting_frequencies holds min(tf, 255); a posting with 255 has its tf in large_frequencies.
  static constexpr std::uint8_t kLargeFrequency = 255;

  KeywordTokenizer tokenizer = KeywordTokenizer::unicode61;
  RowVector<std::uint8_t> term_bytes;      // every term's UTF-8, one after another, sorted
  RowVector<std::uint64_t> term_offsets;   // terms + 1: term t is [term_offsets[t], [t + 1])
  RowVector<std::uint64_t> posting_offsets;  // terms + 1: term t's postings, likewise
  RowVector<std::uint32_t> posting_rows;     // the rows holding the term, ascending per term
  RowVector<std::uint8_t> posting_frequencies;       // min(tf, 255), one per posting
  RowVector<std::uint64_t> large_frequency_postings;  // postings with tf >= 255, ascending
  RowVector<std::uint32_t> large_frequencies;         // their tf
  RowVector<std::uint32_t> document_lengths;          // terms per row, or kNotIndexed

  std::size_t terms() const noexcept {
    return term_offsets.empty() ? 0 : term_offsets.size() - 1;
  }
  std::size_t rows() const noexcept { return document_lengths.size(); }
  std::size_t bytes() const noexcept;
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

  // The index over `arrays` (rows 0 .. arrays.rows() - 1), queried in place: nothing is
  // copied or loaded (a pass over document_lengths counts N and the lengths). Rows added
  // later follow them in memory. Throws Error(corruption) when the arrays do not fit
  // together (sizes, offsets); a posting found out of range by a query throws the same.
  static BM25Index from_arrays(KeywordIndexArrays arrays, Parameters parameters = {});
  // The index as flat arrays (rows deleted so far marked kNotIndexed), for writing. With
  // `drop_deleted_rows`, deleted rows are left out and the others renumbered in order, as
  // compaction renumbers the store's rows.
  KeywordIndexArrays to_arrays(bool drop_deleted_rows = false) const;

  // How documents and queries are split into terms.
  KeywordTokenizer tokenizer() const noexcept { return tokenizer_; }

  // Appends the next row (rows are numbered 0, 1, ... in the order added).
  void add(std::string_view text);
  // Marks a row deleted: it no longer counts in N, n_t or avgdl and is never returned.
  // Idempotent. `text` is the row's text, needed for a row of the arrays the index was made
  // from (which do not list a row's terms); the overload without it is for added rows only
  // and throws Error(invalid_argument) for the others.
  void remove(std::size_t row, std::string_view text);
  void remove(std::size_t row);

  std::size_t rows() const noexcept { return stored_rows() + document_lengths_.size(); }
  std::size_t active_documents() const noexcept { return active_documents_; }
  // Whether `row` (< rows()) counts: added or stored, and not deleted.
  bool active(std::size_t row) const noexcept { return deleted_[row] == 0; }
  // Distinct terms of the added rows, plus those of the arrays (a term in both counts twice).
  std::size_t terms() const noexcept { return term_ids_.size() + stored_.terms(); }
  // Rows that came from the arrays the index was made from (from_arrays), the rest added.
  std::size_t stored_rows() const noexcept { return stored_.rows(); }
  // Bytes held by the index (dictionary, postings, lengths, mapped arrays included): for
  // capacity planning.
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
  // One query term: its postings in the arrays, then in the added rows.
  struct QueryTerm {
    std::uint64_t stored_begin = 0, stored_end = 0;  // posting indexes into stored_
    const TermPostings* added = nullptr;             // may be null
    std::uint64_t active = 0;                        // n_t
  };
  class Cursor;

  static constexpr std::uint64_t kNoTerm = UINT64_MAX;
  // The term number of `term` in the arrays, or kNoTerm.
  std::uint64_t stored_term(std::string_view term) const;
  std::string_view stored_term_at(std::uint64_t t) const;
  std::pair<std::uint64_t, std::uint64_t> stored_postings(std::uint64_t t) const;
  std::uint32_t stored_frequency(std::uint64_t posting) const;
  std::uint32_t document_length(std::size_t row) const noexcept;
  std::uint32_t term_in_added_rows(const std::string& term);
  QueryTerm query_term(const std::string& term) const;
  double idf_of(std::uint64_t holding) const;
  std::vector<QueryTerm> query_terms(std::string_view query) const;
  void accumulate(const std::vector<QueryTerm>& terms,
                  std::vector<std::pair<std::size_t, float>>& scored) const;

  Parameters parameters_;
  KeywordTokenizer tokenizer_;
  // The arrays of from_arrays (empty otherwise): rows [0, stored_rows()).
  KeywordIndexArrays stored_;
  // Per term of the arrays, how many of its rows were deleted since (n_t goes down by it).
  std::unordered_map<std::uint64_t, std::uint32_t> stored_deleted_;
  // The added rows: [stored_rows(), rows()), numbered from there.
  std::unordered_map<std::string, std::uint32_t> term_ids_;
  std::vector<TermPostings> postings_;
  std::vector<std::uint32_t> document_lengths_;  // in terms
  std::vector<std::vector<std::uint32_t>> document_terms_;  // distinct term ids per row, for remove
  std::vector<std::uint8_t> deleted_;  // every row
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
