// BM25: the tokenizer, the formula against a hand computation, incremental maintenance
// against a rebuild, and keyword/hybrid search through the store.

#include "edgehdf5/bm25.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "edgehdf5/error.hpp"
#include "edgehdf5/hybrid.hpp"
#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using Terms = std::vector<std::string>;

TEST(Tokenizer, LowerCasesAndSplitsOnNonAlphanumerics) {
  EXPECT_EQ(tokenize("Hello, World! It's 2024-06-01."),
            (Terms{"hello", "world", "it", "s", "2024", "06", "01"}));
  EXPECT_EQ(tokenize(""), Terms{});
  EXPECT_EQ(tokenize(" ,.;!? -- "), Terms{});
  EXPECT_EQ(tokenize("snake_case and CamelCase"), (Terms{"snake", "case", "and", "camelcase"}));
}

TEST(Tokenizer, KeepsMultiByteCharactersWhole) {
  EXPECT_EQ(tokenize("Café naïve 日本語 résumé"), (Terms{"café", "naïve", "日本語", "résumé"}));
  // Unicode punctuation separates; letters fold to lower case in Latin, Greek, Cyrillic.
  EXPECT_EQ(tokenize("ÉCOLE—“Ωμέγα” ДОМ…Ÿes"), (Terms{"école", "ωμέγα", "дом", "ÿes"}));
  EXPECT_EQ(tokenize("tab\there\nnew line ☕coffee"), (Terms{"tab", "here", "new", "line", "coffee"}));
  // A malformed byte separates terms instead of corrupting them.
  EXPECT_EQ(tokenize(std::string("ab\xff" "cd")), (Terms{"ab", "cd"}));
  EXPECT_EQ(tokenize(std::string("ab\xc3")), (Terms{"ab"}));  // a truncated sequence
}

// The formula of bm25.hpp, written out for one document.
double expected_score(double tf, double length, double average, double documents, double holding) {
  const double idf = std::max(1e-6, std::log((documents - holding + 0.5) / (holding + 0.5)));
  return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / average));
}

TEST(Tokenizer, SuperscriptsAndFractionsAreWordCharactersAsInFts5) {
  // Unicode "No" characters of Latin-1 (² ³ ¹ ¼ ½ ¾) are token characters to FTS5's unicode61.
  EXPECT_EQ(tokenize("r\u00b3 x\u00b2 \u00bd-cup"),
            (std::vector<std::string>{"r\u00b3", "x\u00b2", "\u00bd", "cup"}));
}

TEST(Tokenizer, PorterStemsAllButVeryShortAndVeryLongTerms) {
  EXPECT_EQ(tokenize("Renovating renovations is", KeywordTokenizer::porter),
            (std::vector<std::string>{"renov", "renov", "is"}));
  EXPECT_EQ(tokenize("Renovating", KeywordTokenizer::unicode61),
            (std::vector<std::string>{"renovating"}));
  const std::string longest = "b" + std::string(59, 'a') + "ings";  // 64 bytes: stemmed
  EXPECT_EQ(tokenize(longest, KeywordTokenizer::porter),
            (std::vector<std::string>{"b" + std::string(59, 'a')}));
  const std::string too_long = "b" + std::string(60, 'a') + "ings";  // 65 bytes: as written
  EXPECT_EQ(tokenize(too_long, KeywordTokenizer::porter), (std::vector<std::string>{too_long}));
}

TEST(BM25, PorterIndexMatchesOtherFormsAndStemsIdfTerms) {
  const BM25Index index = BM25Index::build({"renovating the flat", "renovation costs", "flat tyre"},
                                           {0, 0, 0}, {}, KeywordTokenizer::porter);
  EXPECT_EQ(index.tokenizer(), KeywordTokenizer::porter);
  EXPECT_EQ(index.score("renovations", [](std::size_t) { return true; }).size(), 2u);
  EXPECT_DOUBLE_EQ(index.idf("renovations"), index.idf("renov"));
  EXPECT_GT(index.idf("renovations"), 0.0);
}

TEST(BM25, MatchesTheFormula) {
  const std::vector<std::string> chunks{"the cat sat on the mat", "dogs and cats", "a cat, a cat!",
                                        "nothing here", "mat mat mat mat"};
  const BM25Index index = BM25Index::build(chunks, std::vector<std::uint8_t>(chunks.size(), 0));
  const double average = (6 + 3 + 4 + 2 + 4) / 5.0;
  auto scores = index.score("cat", [](std::size_t) { return true; });
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_NEAR(scores[0].second, expected_score(1, 6, average, 5, 2), 1e-5);
  EXPECT_NEAR(scores[1].second, expected_score(2, 4, average, 5, 2), 1e-5);
  // Two terms add; a repeated query term counts once; case and punctuation do not matter.
  scores = index.score("CAT mat cat", [](std::size_t) { return true; });
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_NEAR(scores[0].second, expected_score(1, 6, average, 5, 2) + expected_score(1, 6, average, 5, 2), 1e-5);
  EXPECT_NEAR(scores[2].second, expected_score(4, 4, average, 5, 2), 1e-5);
  EXPECT_TRUE(index.score("unknown words", [](std::size_t) { return true; }).empty());
  // "a" is in 1 of 5 documents; a term in more than half gets the 1e-6 floor.
  const BM25Index common = BM25Index::build({"x y", "x", "x z"}, {0, 0, 0});
  EXPECT_DOUBLE_EQ(common.idf("x"), 1e-6);
}

TEST(BM25, IncrementalAddAndRemoveEqualARebuild) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> words{"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"};
  std::vector<std::string> chunks;
  for (int i = 0; i < 300; ++i) {
    std::string chunk;
    for (int w = 0; w < 3 + static_cast<int>(rng() % 12); ++w) chunk += words[rng() % words.size()] + " ";
    chunks.push_back(chunk);
  }
  BM25Index incremental;
  std::vector<std::uint8_t> tombstones(chunks.size(), 0);
  for (std::size_t row = 0; row < chunks.size(); ++row) {
    incremental.add(chunks[row]);
    if (row % 7 == 3) {
      incremental.remove(row / 2);
      tombstones[row / 2] = 1;
    }
  }
  incremental.remove(5);
  incremental.remove(5);  // idempotent
  tombstones[5] = 1;
  const BM25Index rebuilt = BM25Index::build(chunks, tombstones);
  EXPECT_EQ(incremental.active_documents(), rebuilt.active_documents());
  for (const std::string query : {"alpha", "beta gamma", "eta zeta alpha delta"}) {
    const auto a = incremental.score(query, [](std::size_t) { return true; });
    const auto b = rebuilt.score(query, [](std::size_t) { return true; });
    ASSERT_EQ(a.size(), b.size()) << query;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first);
      EXPECT_FLOAT_EQ(a[i].second, b[i].second);
      EXPECT_FALSE(tombstones[a[i].first]);
    }
  }
}

// ---- through the store ---------------------------------------------------------------------------

class KeywordStore : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryConfig config;
    config.path = dir_ / "m.h5";
    config.embedding_dim = 4;
    config.compact_threshold = 0;
    memory_.emplace(HDF5Memory::create(config));
    const std::vector<std::string> texts{"ticket ENG-4521 is about the login bug",
                                         "the budget for Q3 is 40k",
                                         "dark mode preference noted",
                                         "login page redesign, see ticket ENG-4522"};
    for (std::size_t i = 0; i < texts.size(); ++i) {
      MemoryEntry entry;
      entry.chunk = texts[i];
      entry.embedding = {static_cast<float>(i == 0), static_cast<float>(i == 1),
                         static_cast<float>(i == 2), static_cast<float>(i == 3)};
      entry.session_id = i % 2 ? "odd" : "even";
      memory_->save(entry);
    }
  }
  std::vector<MemoryId> keyword_ids(const std::string& query, const SearchFilter& filter = {}) {
    std::vector<MemoryId> ids;
    for (const SearchHit& hit :
         keyword_search(query, memory_->columns(), memory_->keyword_index(), 10, filter).hits) {
      ids.push_back(hit.id);
    }
    return ids;
  }
  testing::TempDir dir_;
  std::optional<HDF5Memory> memory_;
};

TEST_F(KeywordStore, FindsTicketsAndFollowsSavesRemovesAndCompaction) {
  EXPECT_EQ(keyword_ids("ENG-4521"), (std::vector<MemoryId>{0, 3}));  // "eng" is in both
  EXPECT_EQ(keyword_ids("4521"), (std::vector<MemoryId>{0}));
  SearchFilter odd;
  odd.session_id = "odd";
  EXPECT_EQ(keyword_ids("login", odd), (std::vector<MemoryId>{3}));
  MemoryEntry entry;
  entry.chunk = "another login attempt failed";
  entry.embedding = {1, 1, 0, 0};
  const MemoryId added = memory_->save(entry);
  EXPECT_EQ(keyword_ids("attempt"), (std::vector<MemoryId>{added}));
  memory_->remove(0);
  EXPECT_EQ(keyword_ids("4521"), std::vector<MemoryId>{});
  memory_->compact();
  EXPECT_EQ(keyword_ids("attempt"), (std::vector<MemoryId>{added}));
  EXPECT_EQ(memory_->keyword_index().rows(), memory_->count());
}

TEST_F(KeywordStore, BadQueriesAreClearErrors) {
  const BM25Index& index = memory_->keyword_index();
  EXPECT_THROW(keyword_search("", memory_->columns(), index, 5), Error);
  EXPECT_THROW(keyword_search(" ?! -- ", memory_->columns(), index, 5), Error);
  EXPECT_THROW(keyword_search("login", memory_->columns(), index, 0), Error);
  EXPECT_TRUE(keyword_search("absent", memory_->columns(), index, 5).hits.empty());
  const BM25Index other;  // built from another store
  EXPECT_THROW(keyword_search("login", memory_->columns(), other, 5), Error);
}

TEST_F(KeywordStore, HybridFusionArithmetic) {
  HybridOptions options;
  options.k = 4;
  const std::vector<float> query{0, 0, 0, 1};  // the vector side ranks row 3 first
  // Weighted: vector scores 1 (row 3) and 0 (the rest) -> min-max 1 and 0; keyword "budget"
  // matches row 1 only -> normalised 1.
  options.vector_weight = 0.6f;
  options.keyword_weight = 0.4f;
  auto results = hybrid_search(query, "budget", memory_->columns(), memory_->keyword_index(), options);
  ASSERT_EQ(results.hits.size(), 4u);
  EXPECT_EQ(results.hits[0].id, 3);
  EXPECT_FLOAT_EQ(results.hits[0].score, 0.6f);
  EXPECT_EQ(results.hits[1].id, 1);
  EXPECT_FLOAT_EQ(results.hits[1].score, 0.4f);
  EXPECT_EQ(results.metrics.strategy, "hybrid_weighted");
  // RRF: row 3 is rank 1 in the vector list; row 1 is rank 1 in the keyword list and rank 3
  // in the vector list (rows 0, 1, 2 tie at 0 there, and ties go to the lower id).
  options.fusion = Fusion::rrf;
  results = hybrid_search(query, "budget", memory_->columns(), memory_->keyword_index(), options);
  EXPECT_EQ(results.hits[0].id, 1);
  EXPECT_NEAR(results.hits[0].score, 1.0 / 61 + 1.0 / 63, 1e-7);
  EXPECT_EQ(results.hits[1].id, 3);
  EXPECT_NEAR(results.hits[1].score, 1.0 / 61, 1e-7);
  EXPECT_THROW(hybrid_search(query, "...", memory_->columns(), memory_->keyword_index(), options), Error);
  options.fusion = Fusion::weighted;
  options.vector_weight = options.keyword_weight = 0;
  EXPECT_THROW(hybrid_search(query, "budget", memory_->columns(), memory_->keyword_index(), options), Error);
}

}  // namespace
}  // namespace edgehdf5
