// Auto's measured choice (src/search/strategy_tuner.hpp): which strategies are timed, the
// order of the trial, what is not counted, the winner; and the engine with and without it.

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "edgehdf5/search.hpp"
#include "search/strategy_tuner.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using search::StrategyTuner;
using search::TunedShape;
using search::tuning_candidates;
using Clock = StrategyTuner::Clock;

HardwareCapabilities two_cores_with_blas() {
  HardwareCapabilities capabilities;
  capabilities.cores = 2;
  capabilities.blas_available = true;
  return capabilities;
}

SearchShape shape_of(std::size_t rows, std::size_t batch,
                     EmbeddingType type = EmbeddingType::float32) {
  return SearchShape{rows, batch, type, false, 64};
}

TEST(StrategyTuner, CandidatesAreTheExactCpuStrategiesThatDifferBlasLast) {
  const HardwareCapabilities capabilities = two_cores_with_blas();
  using S = Strategy;
  // One query over 1K rows: parallel would run as simd (one slice), so it is not timed.
  EXPECT_EQ(tuning_candidates(shape_of(1000, 1), S::blas, capabilities),
            (std::vector<S>{S::simd, S::blas}));
  EXPECT_EQ(tuning_candidates(shape_of(10000, 1), S::parallel, capabilities),
            (std::vector<S>{S::simd, S::parallel, S::blas}));
  // A batch over few rows: parallel splits the queries.
  EXPECT_EQ(tuning_candidates(shape_of(1000, 16), S::blas, capabilities),
            (std::vector<S>{S::simd, S::parallel, S::blas}));
  // One float16 query: blas would widen every row for it.
  EXPECT_EQ(tuning_candidates(shape_of(10000, 1, EmbeddingType::float16), S::parallel,
                              capabilities),
            (std::vector<S>{S::simd, S::parallel}));
  // Nothing to measure: tiny stores, an index, the device, a single candidate.
  EXPECT_TRUE(tuning_candidates(shape_of(511, 1), S::blas, capabilities).empty());
  EXPECT_TRUE(tuning_candidates(shape_of(100000, 1), S::ivfpq, capabilities).empty());
  EXPECT_TRUE(tuning_candidates(shape_of(100000, 1), S::gpu, capabilities).empty());
  HardwareCapabilities one_core;
  one_core.cores = 1;
  EXPECT_TRUE(tuning_candidates(shape_of(100000, 1), S::simd, one_core).empty());
}

TEST(StrategyTuner, TheFirstCallRunsTheThresholdsChoiceThenEachCandidateIsTimed) {
  StrategyTuner tuner;
  const TunedShape shape = search::tuned_shape_of(shape_of(10000, 1));
  const std::vector<Strategy> candidates{Strategy::simd, Strategy::parallel, Strategy::blas};
  // Per call: parallel 1 us, simd 3 us, blas 2 us (per row x query: / 10000).
  auto seconds_of = [](Strategy strategy) {
    return strategy == Strategy::parallel ? 1e-6 : strategy == Strategy::simd ? 3e-6 : 2e-6;
  };
  Clock::time_point now{};
  std::vector<Strategy> ran;
  for (int call = 0; call < 40 && !tuner.winner(shape); ++call) {
    const Strategy strategy = tuner.pick(shape, Strategy::blas, candidates).strategy;
    ran.push_back(strategy);
    // Calls a second apart: no blas call leaves OpenBLAS spinning into the next one.
    now += std::chrono::seconds(1);
    const auto took = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(seconds_of(strategy)));
    tuner.record(shape, strategy, 10000, now, now + took);
  }
  ASSERT_TRUE(tuner.winner(shape));
  EXPECT_EQ(*tuner.winner(shape), Strategy::parallel);
  // blas first (the thresholds' choice), then runs of kTimedCalls + 1 (the first of each run
  // is not counted) in trial order.
  const std::size_t run = StrategyTuner::kTimedCalls + 1;
  ASSERT_EQ(ran.size(), 1 + 3 * run);
  EXPECT_EQ(ran.front(), Strategy::blas);
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < run; ++i) EXPECT_EQ(ran[1 + c * run + i], candidates[c]);
  }
  // From then on the winner, whatever the thresholds chose.
  EXPECT_EQ(tuner.pick(shape, Strategy::blas, candidates).strategy, Strategy::parallel);
  EXPECT_FALSE(tuner.pick(shape, Strategy::blas, candidates).on_trial);  // nothing to record
  // Another shape has its own trial.
  const TunedShape other = search::tuned_shape_of(shape_of(100000, 1));
  EXPECT_FALSE(tuner.winner(other));
  EXPECT_EQ(tuner.pick(other, Strategy::blas, candidates).strategy, Strategy::blas);
}

TEST(StrategyTuner, CallsWhileOpenBlasSpinsAreNotCounted) {
  StrategyTuner tuner;
  const TunedShape shape = search::tuned_shape_of(shape_of(1000, 1));
  const std::vector<Strategy> candidates{Strategy::simd, Strategy::blas};
  Clock::time_point now{};
  const auto micro = std::chrono::microseconds(1);
  // The first call (blas) ends at `now`; simd calls back to back after it.
  ASSERT_EQ(tuner.pick(shape, Strategy::blas, candidates).strategy, Strategy::blas);
  tuner.record(shape, Strategy::blas, 1000, now, now + micro);
  now += micro;
  std::size_t simd_calls = 0;
  while (tuner.pick(shape, Strategy::blas, candidates).strategy == Strategy::simd) {
    ++simd_calls;
    // Slow while OpenBLAS spins, fast after: if the spinning calls counted, simd's median
    // would be 100 us and blas (50 us) would win.
    const bool spinning = now - Clock::time_point{} < StrategyTuner::kOpenBlasSpin;
    const auto took = spinning ? 100 * micro : 10 * micro;
    tuner.record(shape, Strategy::simd, 1000, now, now + took);
    now += took;
    ASSERT_LT(simd_calls, 100000u);
  }
  // Every call that started within kOpenBlasSpin of the blas call, then kTimedCalls more.
  const auto spinning_calls = static_cast<std::size_t>(StrategyTuner::kOpenBlasSpin / (100 * micro));
  EXPECT_GE(simd_calls, spinning_calls + StrategyTuner::kTimedCalls);
  while (!tuner.winner(shape)) {
    const Strategy strategy = tuner.pick(shape, Strategy::blas, candidates).strategy;
    ASSERT_EQ(strategy, Strategy::blas);
    tuner.record(shape, strategy, 1000, now, now + 50 * micro);
    now += 50 * micro;
  }
  EXPECT_EQ(*tuner.winner(shape), Strategy::simd);
}

TEST(StrategyTuner, CallsOfSecondsNeedFewerTimedCalls) {
  StrategyTuner tuner;
  const TunedShape shape = search::tuned_shape_of(shape_of(1 << 20, 128));
  const std::vector<Strategy> candidates{Strategy::simd, Strategy::parallel};
  Clock::time_point now{};
  std::size_t calls = 0;
  while (!tuner.winner(shape)) {
    const Strategy strategy = tuner.pick(shape, Strategy::parallel, candidates).strategy;
    const auto took = std::chrono::milliseconds(strategy == Strategy::simd ? 2000 : 900);
    tuner.record(shape, strategy, (1 << 20) * 128, now, now + took);
    now += took;
    ASSERT_LT(++calls, 100u);
  }
  // The first call, then per candidate one call not counted and two timed (>= 1 s).
  EXPECT_EQ(calls, 1 + 2 * (1 + StrategyTuner::kFewestTimedCalls));
  EXPECT_EQ(*tuner.winner(shape), Strategy::parallel);
}

TEST(StrategyTuner, TheEngineMeasuresOnlyWhenAskedAndAnswersTheSameEitherWay) {
  const std::size_t dim = 32;
  std::mt19937_64 rng(17);
  MemoryColumns columns;
  columns.embedding_dim = dim;
  for (std::size_t row = 0; row < 3000; ++row) {
    testing::append_embedding(columns, testing::random_vector(rng, dim));
    columns.tombstones.push_back(row % 13 == 5 ? 1 : 0);
    columns.ids.push_back(static_cast<MemoryId>(row + 1));
  }
  HardwareCapabilities capabilities = HardwareCapabilities::detect();
  capabilities.cores = 2;
  capabilities.cuda_available = false;
  StrategyThresholds fixed;
  fixed.tune_auto = false;
  const SearchEngine measuring(capabilities);
  const SearchEngine thresholds_only(capabilities, fixed);
  const SearchShape shape{columns.rows(), 1, EmbeddingType::float32, false, dim};
  EXPECT_TRUE(measuring.measures(shape));
  EXPECT_FALSE(thresholds_only.measures(shape));
  const Strategy first_choice = measuring.choose(columns.rows());
  SearchOptions options;
  options.k = 10;
  std::set<std::string> ran;
  const auto started = std::chrono::steady_clock::now();
  for (int call = 0; !measuring.measured_strategy(shape) &&
                     std::chrono::steady_clock::now() - started < std::chrono::seconds(20);
       ++call) {
    const std::vector<float> query = testing::random_vector(rng, dim);
    const SearchResults tuned = measuring.search(query, columns, options);
    const SearchResults fixed_result = thresholds_only.search(query, columns, options);
    if (call == 0) {
      EXPECT_EQ(tuned.metrics.strategy, strategy_name(first_choice));
    }
    EXPECT_EQ(fixed_result.metrics.strategy, strategy_name(first_choice));
    ran.insert(tuned.metrics.strategy);
    const std::vector<SearchHit> truth = exact_search(query, columns, options.k);
    ASSERT_EQ(tuned.hits.size(), truth.size());
    for (std::size_t i = 0; i < truth.size(); ++i) {
      EXPECT_NEAR(tuned.hits[i].score, truth[i].score, 1e-5f);
    }
  }
  // The trial ran every candidate (simd's calls are not counted until 300 ms after the first
  // call, a blas one, so this takes thousands of calls).
  const std::optional<Strategy> kept = measuring.measured_strategy(shape);
  ASSERT_TRUE(kept) << "no choice after 20 s";
  EXPECT_EQ(ran.size(), capabilities.blas_available ? 3u : 2u);
  EXPECT_FALSE(thresholds_only.measured_strategy(shape));
  const SearchResults after = measuring.search(testing::random_vector(rng, dim), columns, options);
  EXPECT_EQ(after.metrics.strategy, strategy_name(*kept));
  // A forced strategy is never measured or changed.
  options.strategy = Strategy::simd;
  EXPECT_EQ(measuring.search(testing::random_vector(rng, dim), columns, options).metrics.strategy,
            "simd");
}

}  // namespace
}  // namespace edgehdf5
