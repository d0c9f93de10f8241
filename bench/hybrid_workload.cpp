// edgehdf5-bench hybrid: keyword (BM25) and hybrid retrieval over 10K..1M generated chunks,
// beside SQLite FTS5 on the same corpus in the same process, in one run:
//   * query latency of keyword_search (1-3 term OR queries: rare identifiers, mid-frequency
//     and some very common words) against FTS5's `MATCH ... ORDER BY bm25() LIMIT 10`, and of
//     hybrid_search with RRF and weighted fusion beside the exact vector search it runs;
//   * index build (BM25Index::build) against an FTS5 bulk insert in one transaction, and the
//     memory each takes per chunk;
//   * incremental updates: 1000 adds and 1000 removes against FTS5 INSERTs and DELETEs;
//   * persist vs rebuild at open: the index's postings as flat arrays written to an HDF5 file
//     (contiguous datasets, one H5Dwrite each) and read back, against BM25Index::build.
// The top-10 ids of the first queries are compared with FTS5's (same bm25 formula, so the
// same ranking up to ties), before and after the updates.

#include <fcntl.h>
#include <hdf5.h>
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/bm25.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/hybrid.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/version.hpp"
#include "exact_peers.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kTopK = 10;
// The first queries' top-10 are compared with FTS5's.
constexpr std::size_t kCheckedQueries = 20;
// FTS5 sums scores in double, we report float32: scores this close (relative) are a tie.
constexpr double kRelativeTieTolerance = 1e-5;
// Chunks added and removed by the update measurement.
constexpr std::size_t kUpdates = 1000;
// Timed queries are spread over this many rounds of all backends, so that a shared machine's
// drift touches every backend alike.
constexpr std::size_t kRounds = 3;

// Random streams of one seed: the embeddings use streams 0, 1, 2... (random_unit_rows).
constexpr std::uint64_t kQueryStream = std::uint64_t{1} << 40;
constexpr std::uint64_t kVocabularyStream = kQueryStream + 1;
constexpr std::uint64_t kCorpusStream = kQueryStream + 2;
constexpr std::uint64_t kQueryTermStream = kQueryStream + 3;
constexpr std::uint64_t kUpdateStream = kQueryStream + 4;

struct HybridBenchOptions {
  std::vector<std::size_t> sizes = {10'000, 100'000, 1'000'000};
  std::size_t queries = 0;  // timed queries per backend; 0: by collection size
  std::size_t embedding_dim = 384;
  std::uint64_t seed = 42;
  std::string dir = fs::temp_directory_path().string();
  bool json = false;
};

// Timed calls per measurement at one collection size: enough for a stable median on a noisy
// machine, few enough that the default run takes a few minutes on two cores.
struct Repeats {
  std::size_t queries;  // per query backend
  std::size_t builds;   // index builds, FTS5 bulk inserts, persist writes and reads
};

Repeats repeats_for(std::size_t rows, std::size_t queries) {
  Repeats repeats = rows <= 20'000    ? Repeats{300, 5}
                    : rows <= 200'000 ? Repeats{100, 3}
                                      : Repeats{30, 1};
  if (queries > 0) repeats.queries = queries;
  return repeats;
}

std::mt19937_64 generator(std::uint64_t seed, std::uint64_t stream) {
  std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                         static_cast<std::uint32_t>(stream),
                         static_cast<std::uint32_t>(stream >> 32)};
  return std::mt19937_64(sequence);
}

// --- the corpus ----------------------------------------------------------------------------

// Words of the agent-notes corpus of tests/interop/test_fts5_oracle.py, most frequent first:
// function words, then topic words (some with diacritics and CJK, which FTS5's unicode61 and
// our tokenizer split and fold alike).
constexpr std::array kCommonWords = {
    "the",  "a",    "to",   "and",   "of",        "in",    "for",  "on",   "with",
    "is",   "it",   "that", "this",  "we",        "was",   "at",   "be",   "have",
    "from", "user", "said", "asked", "assistant", "about", "next", "week", "today",
};
constexpr std::array kTopicWords = {
    "flight",      "hotel",      "lisbon",   "airport", "booking",    "passport",  "train",
    "luggage",     "itinerary",  "visa",     "deploy",  "release",    "migration", "postgres",
    "kafka",       "ticket",     "review",   "sprint",  "incident",   "rollback",  "marathon",
    "training",    "knee",       "physio",   "sleep",   "meditation", "protein",   "stretching",
    "run",         "budget",     "invoice",  "salary",  "savings",    "mortgage",  "taxes",
    "refund",      "receipt",    "expense",  "quarter", "birthday",   "dinner",    "parents",
    "anniversary", "school",     "daughter", "gift",    "holiday",    "cousin",    "café",
    "crème",       "brûlée",     "naïve",    "recipe",  "sourdough",  "ramen",     "日本語",
    "espresso",    "pâtisserie",
};
constexpr std::array kSeparators = {", ", ". ", " — ", "; ", " “", "” ", "! ", "? ", " ☕ ",
                                    " ",  " ",  " ",   " ",  " ",  " ",  " ",  " "};
constexpr std::size_t kVocabularySize = 4000;
constexpr double kZipfExponent = 1.0;
constexpr std::size_t kMinWords = 8;
constexpr std::size_t kMaxWords = 60;
// Share of words that are ticket-like identifiers ("ref004217"), drawn from a pool of half as
// many identifiers as chunks: each occurs in about two chunks.
constexpr double kIdentifierShare = 0.03;
constexpr double kCapitalisedShare = 0.05;
// Query terms: ranks below kMidRanks[0] are "common" (function words); mid-frequency words
// come from ranks kMidRanks[0]..kMidRanks[1].
constexpr std::array<std::size_t, 2> kMidRanks = {kCommonWords.size(), 1500};
constexpr double kRareTermShare = 0.30;
constexpr double kCommonTermShare = 0.12;

// Real-looking paragraphs: 8-60 words drawn from a Zipf-like vocabulary of a few thousand
// words, ticket-like identifiers, some capitalised words, punctuation and symbols between.
class CorpusGenerator {
 public:
  CorpusGenerator(std::uint64_t seed, std::size_t rows)
      : identifiers_(std::max<std::size_t>(1000, rows / 2)) {
    std::unordered_set<std::string> taken;
    for (const char* word : kCommonWords) vocabulary_.emplace_back(word);
    for (const char* word : kTopicWords) vocabulary_.emplace_back(word);
    taken.insert(vocabulary_.begin(), vocabulary_.end());
    // Pronounceable made-up words (consonant-vowel syllables) fill the long tail.
    static constexpr std::string_view kConsonants = "bcdfghklmnprstvz";
    static constexpr std::string_view kVowels = "aeiou";
    std::mt19937_64 random = generator(seed, kVocabularyStream);
    std::uniform_int_distribution<std::size_t> syllables(2, 4);
    std::uniform_int_distribution<std::size_t> consonant(0, kConsonants.size() - 1);
    std::uniform_int_distribution<std::size_t> vowel(0, kVowels.size() - 1);
    while (vocabulary_.size() < kVocabularySize) {
      std::string word;
      for (std::size_t s = syllables(random); s > 0; --s) {
        word.push_back(kConsonants[consonant(random)]);
        word.push_back(kVowels[vowel(random)]);
      }
      if (taken.insert(word).second) vocabulary_.push_back(std::move(word));
    }
    double total = 0.0;
    for (std::size_t rank = 0; rank < vocabulary_.size(); ++rank) {
      total += 1.0 / std::pow(static_cast<double>(rank + 1), kZipfExponent);
      cumulative_.push_back(total);
    }
  }

  std::string paragraph(std::mt19937_64& random) const {
    std::uniform_int_distribution<std::size_t> word_count(kMinWords, kMaxWords);
    std::uniform_int_distribution<std::size_t> separator(0, kSeparators.size() - 1);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::string text;
    for (std::size_t w = word_count(random); w > 0; --w) {
      std::string word =
          unit(random) < kIdentifierShare ? identifier(random) : vocabulary_[rank(random)];
      if (unit(random) < kCapitalisedShare && word[0] >= 'a' && word[0] <= 'z') word[0] -= 32;
      text += word;
      text += kSeparators[separator(random)];
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
  }

  // A Zipf-distributed vocabulary rank.
  std::size_t rank(std::mt19937_64& random) const {
    std::uniform_real_distribution<double> position(0.0, cumulative_.back());
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), position(random));
    return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()),
                                 vocabulary_.size() - 1);
  }

  std::string identifier(std::mt19937_64& random) const {
    std::uniform_int_distribution<std::size_t> number(0, identifiers_ - 1);
    char text[24];
    std::snprintf(text, sizeof text, "ref%06zu", number(random));
    return text;
  }

  const std::string& word(std::size_t rank) const { return vocabulary_[rank]; }

 private:
  std::size_t identifiers_;
  std::vector<std::string> vocabulary_;  // most frequent first
  std::vector<double> cumulative_;       // Zipf weights summed up to each rank
};

struct Query {
  std::string text;        // terms separated by spaces, for keyword_search
  std::string fts5_match;  // the same terms quoted and OR-ed
  bool has_common_term = false;
};

std::vector<Query> make_queries(const CorpusGenerator& corpus, std::size_t count,
                                std::uint64_t seed) {
  std::mt19937_64 random = generator(seed, kQueryTermStream);
  std::uniform_int_distribution<std::size_t> term_count(1, 3);
  std::uniform_int_distribution<std::size_t> mid_rank(kMidRanks[0], kMidRanks[1] - 1);
  std::uniform_int_distribution<std::size_t> common_rank(0, kMidRanks[0] - 1);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Query> queries;
  while (queries.size() < count) {
    Query query;
    std::vector<std::string> terms;
    for (std::size_t t = term_count(random); t > 0; --t) {
      const double roll = unit(random);
      std::string term;
      if (roll < kRareTermShare) {
        term = corpus.identifier(random);
      } else if (roll < 1.0 - kCommonTermShare) {
        term = corpus.word(mid_rank(random));
      } else {
        term = corpus.word(common_rank(random));
        query.has_common_term = true;
      }
      if (std::find(terms.begin(), terms.end(), term) == terms.end())
        terms.push_back(std::move(term));
    }
    for (const std::string& term : terms) {
      if (!query.text.empty()) {
        query.text += ' ';
        query.fts5_match += " OR ";
      }
      query.text += term;
      query.fts5_match += '"' + term + '"';  // terms hold no '"' (tokenizer output)
    }
    queries.push_back(std::move(query));
  }
  return queries;
}

// --- the peer: SQLite FTS5 ------------------------------------------------------------------

// An in-memory SQLite database holding one FTS5 table `docs(chunk)` with the unicode61
// tokenizer (diacritics kept, so it splits and folds as edgehdf5's tokenizer does). Rowids are
// the rows of the memory columns. Not thread-safe.
class Fts5Peer {
 public:
  static std::string description() {
    return std::string("SQLite ") + sqlite3_libversion() +
           " FTS5, in-memory, tokenize='unicode61 remove_diacritics 0'";
  }

  Fts5Peer() {
    sqlite3* db = nullptr;
    const int status = sqlite3_open(":memory:", &db);
    db_.reset(db);  // closed on failure too
    check(status, "sqlite3_open");
    execute(
        "CREATE VIRTUAL TABLE docs USING fts5(chunk, tokenize='unicode61 remove_diacritics 0')");
    insert_ = prepare("INSERT INTO docs(rowid, chunk) VALUES (?, ?)");
    delete_ = prepare("DELETE FROM docs WHERE rowid = ?");
    search_ = prepare(
        "SELECT rowid, bm25(docs) FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10");
  }

  // Rows first_row, first_row + 1, ... in one transaction.
  void insert_all(const std::vector<std::string>& chunks, std::size_t first_row = 0) {
    execute("BEGIN");
    for (std::size_t i = 0; i < chunks.size(); ++i) insert(first_row + i, chunks[i]);
    execute("COMMIT");
  }

  // One statement, so one transaction of its own when none is open.
  void insert(std::size_t row, const std::string& chunk) {
    sqlite3_stmt* statement = insert_.get();
    check(sqlite3_bind_int64(statement, 1, static_cast<sqlite3_int64>(row)), "bind rowid");
    check(sqlite3_bind_text(statement, 2, chunk.data(), static_cast<int>(chunk.size()),
                            SQLITE_STATIC),
          "bind chunk");
    step_to_done(statement, "INSERT");
  }

  void remove(std::size_t row) {
    sqlite3_stmt* statement = delete_.get();
    check(sqlite3_bind_int64(statement, 1, static_cast<sqlite3_int64>(row)), "bind rowid");
    step_to_done(statement, "DELETE");
  }

  // The 10 best rows, best first, with -bm25() (FTS5's scores are negated: lower is better).
  void search(const std::string& match, std::vector<PeerHit>& hits) {
    hits.clear();
    sqlite3_stmt* statement = search_.get();
    check(sqlite3_bind_text(statement, 1, match.data(), static_cast<int>(match.size()),
                            SQLITE_STATIC),
          "bind MATCH");
    int status;
    while ((status = sqlite3_step(statement)) == SQLITE_ROW) {
      hits.push_back({sqlite3_column_int64(statement, 0),
                      static_cast<float>(-sqlite3_column_double(statement, 1))});
    }
    sqlite3_reset(statement);
    check(status == SQLITE_DONE ? SQLITE_OK : status, "FTS5 query");
  }

  // page_count * page_size: everything the database holds, the chunk text included.
  std::size_t database_bytes() { return pragma("PRAGMA page_count") * pragma("PRAGMA page_size"); }
  // The bytes of the FTS5 index alone (the table's shadow tables but docs_content, which
  // holds a copy of the text), from the dbstat table; empty where SQLite lacks it.
  std::optional<std::size_t> index_bytes() {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(
            db_.get(),
            "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'docs_%' AND name <> 'docs_content'",
            -1, &raw, nullptr) != SQLITE_OK) {
      return std::nullopt;
    }
    const Statement statement(raw);
    if (sqlite3_step(raw) != SQLITE_ROW) return std::nullopt;
    return static_cast<std::size_t>(sqlite3_column_int64(raw, 0));
  }

 private:
  struct CloseDatabase {
    void operator()(sqlite3* db) const noexcept { sqlite3_close(db); }
  };
  struct FinalizeStatement {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
  };
  using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

  void check(int status, const char* what) const {
    if (status != SQLITE_OK) {
      throw Error(ErrorCode::unsupported,
                  std::string("SQLite: ") + what + ": " +
                      (db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(status)));
    }
  }
  Statement prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    check(sqlite3_prepare_v2(db_.get(), sql, -1, &statement, nullptr), sql);
    return Statement(statement);
  }
  void execute(const char* sql) {
    check(sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr), sql);
  }
  void step_to_done(sqlite3_stmt* statement, const char* what) {
    const int status = sqlite3_step(statement);
    sqlite3_reset(statement);
    check(status == SQLITE_DONE ? SQLITE_OK : status, what);
  }
  std::size_t pragma(const char* sql) {
    const Statement statement = prepare(sql);
    if (sqlite3_step(statement.get()) != SQLITE_ROW) check(SQLITE_ERROR, sql);
    return static_cast<std::size_t>(sqlite3_column_int64(statement.get(), 0));
  }

  std::unique_ptr<sqlite3, CloseDatabase> db_;
  Statement insert_;
  Statement delete_;
  Statement search_;
};

// --- persist vs rebuild: the postings as flat arrays in an HDF5 file -------------------------

// What a persisted keyword index would store. BM25Index offers no way to enumerate its
// postings, so they are made here the way it makes them: tokenize() each chunk, terms
// numbered in order of first appearance, one (row, frequency) posting per distinct term of a
// row, by row within a term.
struct FlatPostings {
  std::vector<std::uint8_t> term_bytes;        // the terms' UTF-8, one after another
  std::vector<std::uint64_t> term_offsets;     // terms + 1, into term_bytes
  std::vector<std::uint64_t> posting_offsets;  // terms + 1, into the posting arrays
  std::vector<std::uint32_t> posting_rows;
  std::vector<std::uint32_t> posting_frequencies;
  std::vector<std::uint32_t> document_lengths;  // terms per row

  std::size_t terms() const { return term_offsets.empty() ? 0 : term_offsets.size() - 1; }
  std::size_t bytes() const {
    return term_bytes.size() + 8 * (term_offsets.size() + posting_offsets.size()) +
           4 * (posting_rows.size() + posting_frequencies.size() + document_lengths.size());
  }
};

FlatPostings flatten_postings(const std::vector<std::string>& chunks) {
  std::unordered_map<std::string, std::uint32_t> term_ids;
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> postings;  // (row, frequency)
  FlatPostings flat;
  flat.document_lengths.reserve(chunks.size());
  std::vector<std::uint32_t> ids;
  for (std::size_t row = 0; row < chunks.size(); ++row) {
    const std::vector<std::string> terms = tokenize(chunks[row]);
    ids.clear();
    for (const std::string& term : terms) {
      const auto [it, inserted] =
          term_ids.try_emplace(term, static_cast<std::uint32_t>(postings.size()));
      if (inserted) {
        postings.emplace_back();
        flat.term_bytes.insert(flat.term_bytes.end(), term.begin(), term.end());
        flat.term_offsets.push_back(flat.term_bytes.size());
      }
      ids.push_back(it->second);
    }
    std::sort(ids.begin(), ids.end());
    for (std::size_t i = 0; i < ids.size();) {
      std::size_t j = i;
      while (j < ids.size() && ids[j] == ids[i]) ++j;
      postings[ids[i]].emplace_back(static_cast<std::uint32_t>(row),
                                    static_cast<std::uint32_t>(j - i));
      i = j;
    }
    flat.document_lengths.push_back(static_cast<std::uint32_t>(terms.size()));
  }
  flat.term_offsets.insert(flat.term_offsets.begin(), 0);
  flat.posting_offsets.push_back(0);
  for (const auto& term : postings) {
    for (const auto& [row, frequency] : term) {
      flat.posting_rows.push_back(row);
      flat.posting_frequencies.push_back(frequency);
    }
    flat.posting_offsets.push_back(flat.posting_rows.size());
  }
  return flat;
}

// What BM25Index holds, rebuilt from the flat arrays as a loader would: the term dictionary,
// each term's postings, and each row's distinct terms (which remove() needs).
struct LoadedIndex {
  std::unordered_map<std::string, std::uint32_t> term_ids;
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> postings;
  std::vector<std::vector<std::uint32_t>> document_terms;
  std::vector<std::uint32_t> document_lengths;
};

LoadedIndex load_index(FlatPostings flat) {
  LoadedIndex index;
  const std::size_t terms = flat.terms();
  index.term_ids.reserve(terms);
  index.postings.resize(terms);
  index.document_terms.resize(flat.document_lengths.size());
  const auto* bytes = reinterpret_cast<const char*>(flat.term_bytes.data());
  for (std::size_t t = 0; t < terms; ++t) {
    index.term_ids.emplace(
        std::string(bytes + flat.term_offsets[t], bytes + flat.term_offsets[t + 1]),
        static_cast<std::uint32_t>(t));
    auto& term = index.postings[t];
    term.reserve(flat.posting_offsets[t + 1] - flat.posting_offsets[t]);
    for (std::uint64_t p = flat.posting_offsets[t]; p < flat.posting_offsets[t + 1]; ++p) {
      term.emplace_back(flat.posting_rows[p], flat.posting_frequencies[p]);
      index.document_terms[flat.posting_rows[p]].push_back(static_cast<std::uint32_t>(t));
    }
  }
  index.document_lengths = std::move(flat.document_lengths);
  return index;
}

// A raw HDF5 identifier closed on destruction. The library's own code goes through its checked
// wrapper (src/h5); this peer measures the plain C API, as a persisted index would use it.
class H5Id {
 public:
  H5Id(hid_t id, herr_t (*close)(hid_t), const char* what) : id_(id), close_(close) {
    if (id_ < 0) throw Error(ErrorCode::hdf5, std::string("HDF5: ") + what + " failed");
  }
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const noexcept { return id_; }
  // The close's own error, for the file (its buffers are written on close).
  void close(const char* what) {
    const herr_t status = close_(id_);
    id_ = H5I_INVALID_HID;
    if (status < 0) throw Error(ErrorCode::hdf5, std::string("HDF5: ") + what + " failed");
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void check_h5(herr_t status, const std::string& what) {
  if (status < 0) throw Error(ErrorCode::hdf5, "HDF5: " + what + " failed");
}

template <typename T>
void write_dataset(hid_t file, const char* name, hid_t file_type, hid_t memory_type,
                   const std::vector<T>& values) {
  const hsize_t size = values.size();
  const H5Id space(H5Screate_simple(1, &size, nullptr), H5Sclose, "H5Screate_simple");
  const H5Id dataset(
      H5Dcreate2(file, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose, name);
  check_h5(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
           std::string("H5Dwrite ") + name);
}

template <typename T>
void read_dataset(hid_t file, const char* name, hid_t memory_type, std::vector<T>& values) {
  const H5Id dataset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose, name);
  const H5Id space(H5Dget_space(dataset.get()), H5Sclose, "H5Dget_space");
  hsize_t size = 0;
  if (H5Sget_simple_extent_dims(space.get(), &size, nullptr) != 1)
    check_h5(-1, std::string("extent of ") + name);
  values.resize(size);
  check_h5(H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
           std::string("H5Dread ") + name);
}

// Writes the arrays to a new HDF5 file, closes it and makes it durable, as a checkpoint would.
void write_postings(const fs::path& path, const FlatPostings& flat) {
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
            "H5Fcreate");
  write_dataset(file.get(), "term_bytes", H5T_STD_U8LE, H5T_NATIVE_UINT8, flat.term_bytes);
  write_dataset(file.get(), "term_offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64, flat.term_offsets);
  write_dataset(file.get(), "posting_offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64,
                flat.posting_offsets);
  write_dataset(file.get(), "posting_rows", H5T_STD_U32LE, H5T_NATIVE_UINT32, flat.posting_rows);
  write_dataset(file.get(), "posting_frequencies", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                flat.posting_frequencies);
  write_dataset(file.get(), "document_lengths", H5T_STD_U32LE, H5T_NATIVE_UINT32,
                flat.document_lengths);
  file.close("H5Fclose");
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw Error(ErrorCode::io, "cannot fsync " + path.string());
  }
  ::close(fd);
}

FlatPostings read_postings(const fs::path& path) {
  const H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "H5Fopen");
  FlatPostings flat;
  read_dataset(file.get(), "term_bytes", H5T_NATIVE_UINT8, flat.term_bytes);
  read_dataset(file.get(), "term_offsets", H5T_NATIVE_UINT64, flat.term_offsets);
  read_dataset(file.get(), "posting_offsets", H5T_NATIVE_UINT64, flat.posting_offsets);
  read_dataset(file.get(), "posting_rows", H5T_NATIVE_UINT32, flat.posting_rows);
  read_dataset(file.get(), "posting_frequencies", H5T_NATIVE_UINT32, flat.posting_frequencies);
  read_dataset(file.get(), "document_lengths", H5T_NATIVE_UINT32, flat.document_lengths);
  return flat;
}

// --- the measurements -----------------------------------------------------------------------

// Our top-k straight from the index (no columns needed, so it still works after adds): by score,
// then by row, as keyword_search orders them.
void index_top_k(const BM25Index& index, const std::string& query, std::vector<PeerHit>& hits) {
  auto scored = index.score(query, [](std::size_t) { return true; });
  const auto better = [](const auto& a, const auto& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  const std::size_t k = std::min(kTopK, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(k), scored.end(),
                    better);
  hits.clear();
  for (std::size_t i = 0; i < k; ++i) {
    hits.push_back({static_cast<std::int64_t>(scored[i].first), scored[i].second});
  }
}

bool same_top_k(const std::vector<PeerHit>& ours, const std::vector<PeerHit>& theirs) {
  if (ours.size() != theirs.size()) return false;
  for (std::size_t rank = 0; rank < ours.size(); ++rank) {
    if (ours[rank].row == theirs[rank].row) continue;
    const double scale = std::max(1.0, static_cast<double>(std::fabs(theirs[rank].score)));
    if (std::fabs(ours[rank].score - theirs[rank].score) > kRelativeTieTolerance * scale)
      return false;
  }
  return true;
}

std::string diff_text(std::size_t mismatches, std::size_t checked) {
  return std::to_string(mismatches) + "/" + std::to_string(checked) + " vs fts5";
}

std::string megabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  return text;
}

std::string microseconds(double us) {
  char text[32];
  std::snprintf(text, sizeof text, us < 100 ? "%.1f us" : "%.0f us", us);
  return text;
}

// One row of the table; absent cells stay empty (and out of the JSON).
struct Row {
  std::string backend;
  std::optional<Summary> summary;  // seconds
  std::optional<double> bytes_per_chunk;
  std::optional<double> ratio;
  std::string baseline;
  std::optional<std::pair<std::size_t, std::size_t>> check;  // (mismatches, checked)
  std::string detail;
};

class HybridBench {
 public:
  HybridBench(const HybridBenchOptions& options, RowReporter& report)
      : options_(options), report_(report) {}
  void run_size(std::size_t rows);

 private:
  void add(std::size_t rows, const Row& row);

  const HybridBenchOptions& options_;
  RowReporter& report_;
};

void HybridBench::add(std::size_t rows, const Row& row) {
  auto number = [](std::optional<double> value) {
    return value ? nlohmann::json(*value) : nlohmann::json();
  };
  report_.add({
      "hybrid",
      rows,
      row.backend,
      row.summary ? nlohmann::json(row.summary->median * 1e6) : nlohmann::json(),
      row.summary && row.summary->samples > 1 ? nlohmann::json(row.summary->p99 * 1e6)
                                              : nlohmann::json(),
      row.summary ? nlohmann::json(row.summary->samples) : nlohmann::json(),
      number(row.bytes_per_chunk),
      number(row.ratio),
      row.baseline.empty() ? nlohmann::json() : nlohmann::json(row.baseline),
      row.check ? nlohmann::json(diff_text(row.check->first, row.check->second)) : nlohmann::json(),
      row.check ? nlohmann::json(row.check->first) : nlohmann::json(),
      row.check ? nlohmann::json(row.check->second) : nlohmann::json(),
      row.detail,
  });
}

void HybridBench::run_size(std::size_t rows) {
  const Repeats repeats = repeats_for(rows, options_.queries);
  const std::size_t dim = options_.embedding_dim;

  // The data: chunks and embeddings in a MemoryColumns whose ids are its rows.
  const CorpusGenerator corpus(options_.seed, rows);
  std::vector<std::string> chunks;
  chunks.reserve(rows);
  {
    std::mt19937_64 random = generator(options_.seed, kCorpusStream);
    for (std::size_t row = 0; row < rows; ++row) chunks.push_back(corpus.paragraph(random));
  }
  std::size_t text_bytes = 0;
  for (const std::string& chunk : chunks) text_bytes += chunk.size();
  MemoryColumns columns = float32_columns(random_unit_rows(rows, dim, options_.seed), dim);
  columns.chunks = std::move(chunks);
  const std::vector<Query> queries = make_queries(corpus, repeats.queries, options_.seed);
  const std::vector<float> query_embeddings =
      random_unit_vectors(repeats.queries, dim, options_.seed, kQueryStream);

  // Builds: ours, then FTS5's bulk insert; the last of each is kept.
  std::vector<double> build_seconds;
  std::optional<BM25Index> built;
  for (std::size_t b = 0; b < repeats.builds; ++b) {
    built.reset();  // freeing the last one is not part of the build
    build_seconds.push_back(
        seconds_to_run([&] { built.emplace(BM25Index::build(columns.chunks.values(), columns.tombstones)); }));
  }
  BM25Index& index = *built;
  std::vector<double> fts5_build_seconds;
  std::unique_ptr<Fts5Peer> fts5;
  for (std::size_t b = 0; b < repeats.builds; ++b) {
    fts5.reset();
    fts5_build_seconds.push_back(seconds_to_run([&] {
      fts5 = std::make_unique<Fts5Peer>();
      fts5->insert_all(columns.chunks.values());
    }));
  }
  const Summary build = summarize(build_seconds);
  const Summary fts5_build = summarize(fts5_build_seconds);
  const double per_chunk = 1.0 / static_cast<double>(rows);
  const std::size_t fts5_bytes = fts5->database_bytes();
  const std::optional<std::size_t> fts5_index_bytes = fts5->index_bytes();
  add(rows,
      {"bm25_build", build, static_cast<double>(index.memory_bytes()) * per_chunk,
       build.median / fts5_build.median, "fts5_build", std::nullopt,
       std::to_string(index.terms()) + " terms; " + microseconds(build.median * 1e6 * per_chunk) +
           "/chunk; memory_bytes() " + megabytes(static_cast<double>(index.memory_bytes()))});
  add(rows, {"fts5_build", fts5_build, static_cast<double>(fts5_bytes) * per_chunk, std::nullopt,
             "", std::nullopt,
             "one transaction; " + microseconds(fts5_build.median * 1e6 * per_chunk) +
                 "/chunk; db " + megabytes(static_cast<double>(fts5_bytes)) +
                 (fts5_index_bytes
                      ? ", index alone " + megabytes(static_cast<double>(*fts5_index_bytes)) +
                            " (" + std::to_string(*fts5_index_bytes / rows) + " B/chunk)"
                      : std::string()) +
                 "; text " + std::to_string(text_bytes / rows) + " B/chunk"});

  // Queries. The check doubles as the warm-up: the first queries through ours and FTS5's.
  std::vector<PeerHit> ours;
  std::vector<PeerHit> theirs;
  std::size_t mismatches = 0;
  std::size_t checked_with_hits = 0;  // of the checked queries, those FTS5 found rows for
  const std::size_t checked = std::min(kCheckedQueries, queries.size());
  // Before the updates through keyword_search itself; after them (the columns no longer match
  // the index) straight from the index, ordered the same way.
  auto check_queries = [&](bool through_keyword_search) {
    std::size_t differ = 0;
    for (std::size_t q = 0; q < checked; ++q) {
      if (through_keyword_search) {
        ours.clear();
        for (const SearchHit& hit : keyword_search(queries[q].text, columns, index, kTopK).hits) {
          ours.push_back({static_cast<std::int64_t>(hit.id), hit.score});
        }
      } else {
        index_top_k(index, queries[q].text, ours);
      }
      fts5->search(queries[q].fts5_match, theirs);
      if (!same_top_k(ours, theirs)) ++differ;
      if (through_keyword_search && !theirs.empty()) ++checked_with_hits;
    }
    return differ;
  };
  mismatches = check_queries(true);

  HybridOptions rrf;
  rrf.k = kTopK;
  rrf.fusion = Fusion::rrf;
  HybridOptions weighted = rrf;
  weighted.fusion = Fusion::weighted;
  SearchOptions vector_options;
  vector_options.k = rrf.candidates;  // the vector side of a hybrid search
  std::string vector_ran;
  struct QueryBackend {
    std::string name;
    std::function<void(std::size_t query)> run;
    std::vector<double> seconds;
    std::vector<double> seconds_common;  // those of queries with a common term
    std::vector<double> seconds_rare;    // the others
  };
  std::vector<QueryBackend> backends;
  backends.push_back({"bm25",
                      [&](std::size_t q) {
                        const SearchResults results =
                            keyword_search(queries[q].text, columns, index, kTopK);
                        if (results.hits.size() > kTopK) throw std::logic_error("too many hits");
                      },
                      {},
                      {},
                      {}});
  backends.push_back(
      {"fts5", [&](std::size_t q) { fts5->search(queries[q].fts5_match, theirs); }, {}, {}, {}});
  backends.push_back({"vector",
                      [&](std::size_t q) {
                        const SearchResults results = SearchEngine::shared().search(
                            std::span(query_embeddings).subspan(q * dim, dim), columns,
                            vector_options);
                        vector_ran = results.metrics.strategy + "/" + results.metrics.isa + ", " +
                                     std::to_string(results.metrics.threads) + " thread(s)";
                      },
                      {},
                      {},
                      {}});
  for (const auto& [name, fusion_options] :
       {std::pair{"hybrid_rrf", &rrf}, std::pair{"hybrid_weighted", &weighted}}) {
    const HybridOptions* hybrid = fusion_options;
    backends.push_back({name,
                        [&, hybrid](std::size_t q) {
                          const SearchResults results =
                              hybrid_search(std::span(query_embeddings).subspan(q * dim, dim),
                                            queries[q].text, columns, index, *hybrid);
                          if (results.hits.size() > kTopK) throw std::logic_error("too many hits");
                        },
                        {},
                        {},
                        {}});
  }
  for (std::size_t round = 0; round < kRounds; ++round) {
    const std::size_t begin = queries.size() * round / kRounds;
    const std::size_t end = queries.size() * (round + 1) / kRounds;
    for (QueryBackend& backend : backends) {
      if (round == 0 && begin < end) backend.run(begin);  // warm-up
      for (std::size_t q = begin; q < end; ++q) {
        const double seconds = seconds_to_run([&] { backend.run(q); });
        backend.seconds.push_back(seconds);
        (queries[q].has_common_term ? backend.seconds_common : backend.seconds_rare)
            .push_back(seconds);
      }
    }
  }
  auto split = [](const QueryBackend& backend) {
    std::string text;
    if (!backend.seconds_common.empty()) {
      text += "with a common term " + microseconds(summarize(backend.seconds_common).median * 1e6) +
              " (" + std::to_string(backend.seconds_common.size()) + " queries)";
    }
    if (!backend.seconds_rare.empty()) {
      text += std::string(text.empty() ? "" : ", ") + "without " +
              microseconds(summarize(backend.seconds_rare).median * 1e6);
    }
    return text;
  };
  const Summary bm25 = summarize(backends[0].seconds);
  const Summary fts5_query = summarize(backends[1].seconds);
  const Summary vector = summarize(backends[2].seconds);
  add(rows, {"bm25", bm25, std::nullopt, bm25.median / fts5_query.median, "fts5",
             std::pair{mismatches, checked},
             split(backends[0]) + "; " + std::to_string(checked_with_hits) + " of the " +
                 std::to_string(checked) + " checked queries match rows"});
  add(rows, {"fts5", fts5_query, std::nullopt, std::nullopt, "", std::nullopt, split(backends[1])});
  add(rows, {"vector", vector, std::nullopt, std::nullopt, "", std::nullopt,
             "exact k=" + std::to_string(vector_options.k) + " (the hybrids' vector side), " +
                 vector_ran});
  for (std::size_t b = 3; b < backends.size(); ++b) {
    const Summary hybrid = summarize(backends[b].seconds);
    add(rows,
        {backends[b].name, hybrid, std::nullopt, hybrid.median / (vector.median + bm25.median),
         "vector+bm25", std::nullopt, "k=10 of 100 candidates per side; " + split(backends[b])});
  }

  // Persist vs rebuild at open.
  {
    const FlatPostings flat = flatten_postings(columns.chunks.values());
    const ScratchDir scratch(options_.dir);
    const fs::path path = scratch.path() / "keyword_index.h5";
    std::vector<double> write_seconds;
    std::vector<double> read_seconds;
    std::vector<double> load_seconds;
    std::size_t loaded_terms = 0;
    for (std::size_t b = 0; b < repeats.builds; ++b) {
      fs::remove(path);
      write_seconds.push_back(seconds_to_run([&] { write_postings(path, flat); }));
      read_seconds.push_back(seconds_to_run([&] { (void)read_postings(path); }));
      load_seconds.push_back(
          seconds_to_run([&] { loaded_terms = load_index(read_postings(path)).term_ids.size(); }));
    }
    const double file_bytes = static_cast<double>(fs::file_size(path));
    const Summary write = summarize(write_seconds);
    const Summary read = summarize(read_seconds);
    const Summary load = summarize(load_seconds);
    const std::string shape =
        std::to_string(flat.terms()) + " terms" +
        (flat.terms() == index.terms() ? " (= the index's)"
                                       : " (index: " + std::to_string(index.terms()) + "!)") +
        ", " + std::to_string(flat.posting_rows.size()) + " postings";
    add(rows, {"persist_write", write, file_bytes * per_chunk, write.median / build.median,
               "rebuild", std::nullopt,
               "file " + megabytes(file_bytes) + " (arrays " +
                   megabytes(static_cast<double>(flat.bytes())) +
                   "), 6 contiguous datasets + close + fsync; " + shape});
    add(rows, {"persist_read", read, std::nullopt, read.median / build.median, "rebuild",
               std::nullopt, "H5Fopen + 6 H5Dread, file in the page cache"});
    add(rows,
        {"persist_load", load, std::nullopt, load.median / build.median, "rebuild", std::nullopt,
         "read + rebuild dictionary, per-term postings, per-row terms (" +
             std::to_string(loaded_terms) + " terms)"});
    add(rows, {"rebuild", build, std::nullopt, std::nullopt, "", std::nullopt,
               "= bm25_build: BM25Index::build over the chunks at open"});
  }

  // Incremental updates: kUpdates new chunks added, then kUpdates old ones removed.
  {
    std::mt19937_64 random = generator(options_.seed, kUpdateStream);
    std::vector<std::string> added;
    for (std::size_t i = 0; i < kUpdates; ++i) added.push_back(corpus.paragraph(random));
    std::vector<std::size_t> removed;
    std::unordered_set<std::size_t> picked;
    std::uniform_int_distribution<std::size_t> any_row(0, rows - 1);
    while (removed.size() < std::min(kUpdates, rows)) {
      const std::size_t row = any_row(random);
      if (picked.insert(row).second) removed.push_back(row);
    }
    std::vector<double> add_seconds;
    std::vector<double> insert_seconds;
    std::vector<double> remove_seconds;
    std::vector<double> delete_seconds;
    for (std::size_t i = 0; i < added.size(); ++i) {
      add_seconds.push_back(seconds_to_run([&] { index.add(added[i]); }));
      insert_seconds.push_back(seconds_to_run([&] { fts5->insert(rows + i, added[i]); }));
    }
    for (const std::size_t row : removed) {
      remove_seconds.push_back(seconds_to_run([&] { index.remove(row); }));
      delete_seconds.push_back(seconds_to_run([&] { fts5->remove(row); }));
    }
    const std::size_t after = check_queries(false);
    const Summary add_ops = summarize(add_seconds);
    const Summary insert_ops = summarize(insert_seconds);
    const Summary remove_ops = summarize(remove_seconds);
    const Summary delete_ops = summarize(delete_seconds);
    add(rows, {"bm25_add", add_ops, std::nullopt, add_ops.median / insert_ops.median, "fts5_insert",
               std::nullopt, "per chunk, interleaved with FTS5's"});
    add(rows, {"fts5_insert", insert_ops, std::nullopt, std::nullopt, "", std::nullopt,
               "per chunk, one autocommit INSERT each"});
    add(rows, {"bm25_remove", remove_ops, std::nullopt, remove_ops.median / delete_ops.median,
               "fts5_delete", std::pair{after, checked},
               "per chunk; top10_diff after the adds and removes"});
    add(rows, {"fts5_delete", delete_ops, std::nullopt, std::nullopt, "", std::nullopt,
               "per chunk, one autocommit DELETE each"});
  }
}

}  // namespace

int run_hybrid_workload(int argc, char** argv) {
  HybridBenchOptions options;
  CLI::App app{
      "Keyword (BM25) and hybrid search beside SQLite FTS5 on the same generated corpus: query "
      "latency, build, updates, memory, and persisting the index vs rebuilding it at open.",
      "edgehdf5-bench hybrid"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.sizes, "Collection sizes (chunks)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option(
         "--queries", options.queries,
         "Timed queries per backend (default: 300 up to 20K chunks, 100 up to 200K, 30 above)")
      ->check(CLI::PositiveNumber);
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  app.add_option("--dir", options.dir, "Folder for the persisted index's scratch file")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (const std::size_t rows : options.sizes) {
    if (rows < kTopK) {
      throw Error(ErrorCode::invalid_argument, "--sizes: every size must hold at least k = " +
                                                   std::to_string(kTopK) + " chunks");
    }
  }

  RowReporter report("hybrid", command_line(argc, argv), options.json);
  const HardwareCapabilities capabilities = HardwareCapabilities::detect();
  report.note("edgehdf5 " + std::string(kVersion) + ", SIMD " + capabilities.simd_isa + ", " +
              std::to_string(capabilities.cores) + " cores, " +
              std::to_string(std::thread::hardware_concurrency()) +
              " hardware threads, k=" + std::to_string(kTopK));
  report.note("peer: " + Fts5Peer::description());
  report.note("data: paragraphs of 8-60 words, Zipf(1.0) over " + std::to_string(kVocabularySize) +
              " words + ticket ids ref###### (3% of words, ~2 chunks each), " +
              std::to_string(options.embedding_dim) + "-d unit embeddings f32, seed " +
              std::to_string(options.seed));
  auto percent = [](double share) { return std::to_string(std::lround(share * 100)) + "%"; };
  report.note("queries: 1-3 terms OR-ed; each term a ticket id (" + percent(kRareTermShare) +
              "), a word of rank " + std::to_string(kMidRanks[0]) + "-" +
              std::to_string(kMidRanks[1]) + " (" +
              percent(1.0 - kRareTermShare - kCommonTermShare) + ") or one of the " +
              std::to_string(kMidRanks[0]) + " function words such as 'the' (" +
              percent(kCommonTermShare) + "); FTS5 gets them quoted and OR-ed");
  report.note(
      "median_us/p99_us per call (query, build, write/read, or one add/remove); p99 is the "
      "slowest call when there are fewer than 100; builds and persist rows are whole-index times");
  report.note(
      "ratio = median / baseline's median; bytes_per_chunk: memory_bytes()/n (bm25_build), "
      "page_count*page_size/n (fts5_build, text included), file size/n (persist_write)");
  report.note(
      "persist: BM25Index cannot enumerate its postings, so the bench tokenizes the corpus "
      "into the same flat arrays itself");
  report.note(
      "top10_diff: of the first queries, how many top-10 id lists differ (ties aside) "
      "from FTS5's");
  report.set_columns({
      {"workload", 8, true, Column::Shown::table_only},
      {"n", 8},
      {"backend", 15, true},
      {"median_us", 10},
      {"p99_us", 10},
      {"calls", 5},
      {"bytes_per_chunk", 15},
      {"ratio", 7},
      {"baseline", 11, true},
      {"top10_diff", 13, true, Column::Shown::table_only},
      {"top10_mismatches", 0, false, Column::Shown::json_only},
      {"top10_checked", 0, false, Column::Shown::json_only},
      {"detail", 0, true},
  });
  HybridBench bench(options, report);
  for (const std::size_t rows : options.sizes) bench.run_size(rows);
  return 0;
}

}  // namespace edgehdf5::bench
