// The scalar reference search against an independent oracle: double-precision cosine and a
// full sort.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/kernels/kernels.hpp"
#include "core/top_k.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/search.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

MemoryColumns make_columns(std::size_t rows, std::size_t dim, bool half, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  MemoryColumns columns;
  columns.embedding_dim = dim;
  columns.embedding_type = half ? EmbeddingType::float16 : EmbeddingType::float32;
  for (std::size_t row = 0; row < rows; ++row) {
    std::vector<float> v = testing::random_vector(rng, dim);
    if (row % 17 == 5) std::fill(v.begin(), v.end(), 0.0f);  // zero vectors score 0
    testing::append_embedding(columns, std::move(v));
    columns.tombstones.push_back(row % 7 == 3 ? 1 : 0);
    columns.ids.push_back(static_cast<MemoryId>(row * 2 + 1));
  }
  return columns;
}

std::vector<std::pair<MemoryId, double>> oracle(const std::vector<float>& query,
                                                const MemoryColumns& columns) {
  std::vector<std::pair<MemoryId, double>> scored;
  double query_norm = 0;
  for (float q : query) query_norm += double(q) * q;
  query_norm = std::sqrt(query_norm);
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.tombstones[row]) continue;
    const std::vector<float> e = columns.embedding(row);
    double dot = 0, norm = 0;
    for (std::size_t i = 0; i < e.size(); ++i) {
      dot += double(query[i]) * e[i];
      norm += double(e[i]) * e[i];
    }
    scored.emplace_back(columns.ids[row], norm == 0 ? 0.0 : dot / (query_norm * std::sqrt(norm)));
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return scored;
}

class ExactSearch : public ::testing::TestWithParam<std::tuple<std::size_t, bool>> {};

TEST_P(ExactSearch, MatchesTheOracle) {
  const auto [dim, half] = GetParam();
  const MemoryColumns columns = make_columns(300, dim, half, dim);
  std::mt19937_64 rng(dim + 1000);
  for (int q = 0; q < 10; ++q) {
    const std::vector<float> query = testing::random_vector(rng, dim);
    const auto expected = oracle(query, columns);
    for (std::size_t k : {1u, 10u, 1000u}) {
      const auto hits = exact_search(query, columns, k);
      ASSERT_EQ(hits.size(), std::min(k, expected.size()));
      for (std::size_t i = 0; i < hits.size(); ++i) {
        EXPECT_NEAR(hits[i].score, expected[i].second, 1e-4);
        // Same ids unless two scores tie within float precision.
        if (hits[i].id != expected[i].first) {
          EXPECT_NEAR(hits[i].score, expected[i].second, 1e-5);
        }
        if (i > 0) {
          EXPECT_GE(hits[i - 1].score, hits[i].score);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dimensions, ExactSearch,
                         ::testing::Combine(::testing::Values(1, 3, 16, 17, 384, 1536),
                                            ::testing::Bool()));

TEST(ExactSearchEdges, AllTombstonedReturnsNothingAndKZeroIsAnError) {
  MemoryColumns columns = make_columns(20, 8, false, 1);
  std::fill(columns.tombstones.begin(), columns.tombstones.end(), 1);
  const std::vector<float> query(8, 1.0f);
  EXPECT_TRUE(exact_search(query, columns, 5).empty());
  EXPECT_THROW(exact_search(query, columns, 0), Error);
  const std::vector<float> zero(8, 0.0f);
  columns.tombstones.assign(20, 0);
  const auto hits = exact_search(zero, columns, 3);  // a zero query scores everything 0
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].score, 0.0f);
  EXPECT_EQ(hits[0].id, columns.ids[0]);  // ties go to the lower row
}

// `count` scores in [-1, 1] rounded to 1 / steps, so that many tie.
std::vector<float> tied_scores(std::size_t count, std::uint64_t seed, float steps) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> scores(count);
  for (float& s : scores) s = std::round(uniform(rng) * steps) / steps;
  return scores;
}

// The independent oracle for every top-k: all rows, fully and stably sorted by score, so
// that ties keep the lower row first.
std::vector<std::size_t> rows_by_full_sort(const std::vector<float>& scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

TEST(TopK, PartialSelectionMatchesAFullSort) {
  const std::vector<float> scores = tied_scores(1000, 3, 50);
  const std::vector<std::size_t> order = rows_by_full_sort(scores);
  const auto best = top_k(scores, 25);
  ASSERT_EQ(best.size(), 25u);
  for (std::size_t i = 0; i < best.size(); ++i) EXPECT_EQ(best[i].first, order[i]);
  EXPECT_TRUE(top_k(scores, 0).empty());
}

// The one top-k every search path uses: against a full sort, split and merged as the
// parallel scan does, and at its edges.
TEST(BoundedTopK, SlicesMergedEqualOnePassEqualAFullSort) {
  const std::vector<float> scores = tied_scores(5000, 5, 20);
  const std::vector<std::size_t> order = rows_by_full_sort(scores);
  for (std::size_t k : {1u, 7u, 100u, 5000u, 9000u}) {
    core::BoundedTopK<std::size_t> whole(k);
    std::vector<core::BoundedTopK<std::size_t>> slices(3, core::BoundedTopK<std::size_t>(k));
    for (std::size_t row = 0; row < scores.size(); ++row) {
      whole.offer(scores[row], row);
      slices[row * 3 / scores.size()].offer(scores[row], row);
    }
    slices[0].merge(slices[2]);  // out of order on purpose
    slices[0].merge(slices[1]);
    const auto from_whole = whole.take_sorted();
    const auto from_slices = slices[0].take_sorted();
    ASSERT_EQ(from_whole.size(), std::min<std::size_t>(k, scores.size()));
    ASSERT_EQ(from_slices.size(), from_whole.size());
    for (std::size_t i = 0; i < from_whole.size(); ++i) {
      EXPECT_EQ(from_whole[i].key, order[i]) << "k " << k << " rank " << i;
      EXPECT_EQ(from_slices[i].key, order[i]) << "k " << k << " rank " << i;
    }
    EXPECT_EQ(whole.size(), 0u);  // taken
  }
}

// offer_run with `first_at_least` keeps what offering `scores` one by one keeps.
void expect_offer_run_equals_offers(const std::vector<float>& scores,
                                    kernels::FirstAtLeast first_at_least) {
  for (std::size_t k : {1u, 10u, 200u}) {
    for (std::size_t run : {1u, 15u, 16u, 17u, 33u, 1000u}) {
      core::BoundedTopK<std::size_t> one_by_one(k);
      core::BoundedTopK<std::size_t> in_runs(k);
      for (std::size_t row = 0; row < scores.size(); ++row) one_by_one.offer(scores[row], row);
      for (std::size_t first = 0; first < scores.size(); first += run) {
        in_runs.offer_run(scores.data() + first, std::min(run, scores.size() - first), first,
                          first_at_least);
      }
      const auto expected = one_by_one.take_sorted();
      const auto got = in_runs.take_sorted();
      ASSERT_EQ(got.size(), expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].key, expected[i].key) << "k " << k << " run " << run << " rank " << i;
        EXPECT_EQ(got[i].score, expected[i].score);
      }
    }
  }
}

// offer_run (the scores below the threshold skipped by a kernel) keeps what offering them
// one by one keeps, ties at the threshold included, for runs of every length around a
// vector's, with every kernel set's first_at_least.
TEST(BoundedTopK, OfferRunEqualsOfferingOneByOne) {
  const std::vector<float> scores = tied_scores(3000, 5, 20);
  std::vector<kernels::KernelSet> sets = kernels::all_simd_kernels();
  sets.push_back(kernels::scalar_kernels());
  for (const kernels::KernelSet& set : sets) {
    SCOPED_TRACE(set.isa);
    expect_offer_run_equals_offers(scores, set.first_at_least);
  }
}

TEST(BoundedTopK, ThresholdAndEdges) {
  core::BoundedTopK<int> best(2);
  EXPECT_EQ(best.threshold(), -std::numeric_limits<float>::infinity());
  best.offer(0.5f, 9);
  EXPECT_EQ(best.threshold(), -std::numeric_limits<float>::infinity());  // not full yet
  best.offer(0.7f, 3);
  EXPECT_EQ(best.threshold(), 0.5f);
  best.offer(0.5f, 4);  // equal to the threshold, lower key: it enters
  best.offer(0.1f, 0);  // below: turned away
  const auto kept = best.take_sorted();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].key, 3);
  EXPECT_EQ(kept[1].key, 4);
  core::BoundedTopK<int> none(0);
  none.offer(1.0f, 1);
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace edgehdf5
