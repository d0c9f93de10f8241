// The search engine against the scalar reference and a brute-force oracle: every kernel set
// this CPU runs, every strategy, filters, batches, float16, edge cases.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <hwy/targets.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>

#include "edgehdf5/error.hpp"
#include "edgehdf5/search.hpp"
#include "core/kernels/kernels.hpp"
#include "core/thread_pool.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

MemoryColumns make_columns(std::size_t rows, std::size_t dim, bool half, std::uint64_t seed,
                       bool with_tombstones = true) {
  std::mt19937_64 rng(seed);
  MemoryColumns columns;
  columns.embedding_dim = dim;
  columns.embedding_type = half ? EmbeddingType::float16 : EmbeddingType::float32;
  for (std::size_t row = 0; row < rows; ++row) {
    std::vector<float> v = testing::random_vector(rng, dim);
    if (row % 23 == 7) std::fill(v.begin(), v.end(), 0.0f);       // zero vectors
    if (row % 31 == 9 && row > 0) v = columns.embedding(row - 1);    // duplicates
    testing::append_embedding(columns, std::move(v));
    columns.tombstones.push_back(with_tombstones && row % 11 == 4 ? 1 : 0);
    columns.ids.push_back(static_cast<MemoryId>(row * 3 + 2));
    columns.chunks.push_back("chunk " + std::to_string(row));
    columns.source_channels.push_back(row % 3 == 0 ? "chat" : row % 3 == 1 ? "email" : "slack");
    columns.session_ids.push_back("s" + std::to_string(row % 5));
    columns.timestamps.push_back(1000.0 + static_cast<double>(row));
    columns.tags.push_back(row % 4 == 0 ? "red,blue" : row % 4 == 1 ? "blue" : row % 4 == 2 ? " green , red" : "");
  }
  return columns;
}

void expect_same_hits(const std::vector<SearchHit>& got, const std::vector<SearchHit>& want,
                      float tolerance) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].score, want[i].score, tolerance) << "rank " << i;
    // The same ids, except where two scores tie within the tolerance.
    if (got[i].id != want[i].id) {
      EXPECT_NEAR(got[i].score, want[i].score, tolerance / 10) << "rank " << i << " id "
                                                                 << got[i].id << " vs " << want[i].id;
    }
  }
}

// ---- kernels -----------------------------------------------------------------------------------

TEST(Kernels, EverySimdSetMatchesScalarOnAwkwardDimensions) {
  const auto scalar = kernels::scalar_kernels();
  const auto sets = kernels::all_simd_kernels();
  ASSERT_FALSE(sets.empty());
  std::mt19937_64 rng(1);
  for (const kernels::KernelSet& set : sets) {
    SCOPED_TRACE(set.isa);
    for (std::size_t dim : {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 384, 385, 1536}) {
      const std::size_t rows = 9;
      std::vector<float> matrix(rows * dim);
      for (float& x : matrix) x = std::normal_distribution<float>()(rng);
      std::vector<std::uint16_t> half(matrix.size());
      std::transform(matrix.begin(), matrix.end(), half.begin(), float_to_half);
      std::vector<float> queries(8 * dim);
      for (float& x : queries) x = std::normal_distribution<float>()(rng);
      const float tolerance = 1e-4f * std::sqrt(static_cast<float>(dim)) * 4;
      std::vector<float> want(rows), got(rows), want_batch(8 * rows), got_batch(8 * rows);
      // Rows [2, 9): the kernels must honour begin.
      scalar.dot_f32(queries.data(), matrix.data(), dim, 2, rows, want.data());
      set.dot_f32(queries.data(), matrix.data(), dim, 2, rows, got.data());
      for (std::size_t i = 0; i < rows - 2; ++i) EXPECT_NEAR(got[i], want[i], tolerance) << dim;
      scalar.dot_f16(queries.data(), half.data(), dim, 2, rows, want.data());
      set.dot_f16(queries.data(), half.data(), dim, 2, rows, got.data());
      for (std::size_t i = 0; i < rows - 2; ++i) EXPECT_NEAR(got[i], want[i], tolerance) << dim;
      // Batches of whole groups of four queries and with some left over, over an even and an
      // odd number of rows (the batch kernel takes four queries and two rows at a time).
      for (const std::size_t batch : {std::size_t{3}, std::size_t{5}, std::size_t{8}}) {
        for (const std::size_t first : {std::size_t{1}, std::size_t{2}}) {
          SCOPED_TRACE("batch " + std::to_string(batch) + " from row " + std::to_string(first));
          auto expect_same_batch = [&](auto scalar_batch, auto simd_batch, const auto* rows_of) {
            std::fill(got_batch.begin(), got_batch.end(), -1.0f);
            scalar_batch(queries.data(), batch, rows_of, dim, first, rows, want_batch.data());
            simd_batch(queries.data(), batch, rows_of, dim, first, rows, got_batch.data());
            for (std::size_t i = 0; i < batch * (rows - first); ++i) {
              EXPECT_NEAR(got_batch[i], want_batch[i], tolerance);
            }
          };
          expect_same_batch(scalar.dot_f32_batch, set.dot_f32_batch, matrix.data());
          expect_same_batch(scalar.dot_f16_batch, set.dot_f16_batch, half.data());
        }
      }
      std::vector<float> widened(half.size()), widened_reference(half.size());
      set.widen_f16(half.data() + 1, half.size() - 1, widened.data());  // odd start and count
      scalar.widen_f16(half.data() + 1, half.size() - 1, widened_reference.data());
      EXPECT_EQ(widened, widened_reference) << dim;
    }
  }
}

// to_cosines rounds as the scalar set does (one product, one division; 0 for a zero norm)
// and first_at_least finds what a loop finds, at every offset within a vector.
TEST(Kernels, EverySimdSetTurnsDotsIntoCosinesAndFindsScoresAsScalarDoes) {
  const auto scalar = kernels::scalar_kernels();
  std::mt19937_64 rng(2);
  for (const kernels::KernelSet& set : kernels::all_simd_kernels()) {
    SCOPED_TRACE(set.isa);
    for (std::size_t count : {0, 1, 7, 15, 16, 17, 33, 100}) {
      std::vector<float> dots(count), norms(count);
      for (std::size_t i = 0; i < count; ++i) {
        dots[i] = std::normal_distribution<float>()(rng);
        norms[i] = i % 5 == 3 ? 0.0f : std::exp(std::normal_distribution<float>()(rng));
      }
      std::vector<float> want = dots, got = dots;
      scalar.to_cosines(want.data(), norms.data(), count, 1.7f);
      set.to_cosines(got.data(), norms.data(), count, 1.7f);
      EXPECT_EQ(got, want) << count;
      for (std::size_t i = 3; i < count; i += 5) EXPECT_EQ(got[i], 0.0f) << "zero norm, row " << i;
      for (std::size_t i = 0; i < count; ++i) {
        if (norms[i] != 0.0f) {
          EXPECT_EQ(got[i], dots[i] / (1.7f * norms[i]));
        }
      }
      for (float limit : {-10.0f, -0.5f, 0.0f, 0.9f, 10.0f}) {
        for (std::size_t offset = 0; offset <= std::min<std::size_t>(count, 3); ++offset) {
          EXPECT_EQ(set.first_at_least(want.data() + offset, count - offset, limit),
                    scalar.first_at_least(want.data() + offset, count - offset, limit))
              << count << " " << limit << " " << offset;
        }
      }
    }
    // Ties: a value equal to the limit is found.
    const std::vector<float> tied(40, 0.25f);
    EXPECT_EQ(set.first_at_least(tied.data(), tied.size(), 0.25f), 0u);
    EXPECT_EQ(set.first_at_least(tied.data(), tied.size(), 0.26f), tied.size());
  }
}

// ---- strategies ----------------------------------------------------------------------------------

std::vector<Strategy> runnable_strategies() {
  std::vector<Strategy> strategies{Strategy::scalar, Strategy::simd, Strategy::parallel};
  if (HardwareCapabilities::detect().blas_available) strategies.push_back(Strategy::blas);
  return strategies;
}

class EveryStrategy : public ::testing::TestWithParam<std::tuple<std::size_t, bool>> {};

TEST_P(EveryStrategy, MatchesTheScalarReference) {
  const auto [dim, half] = GetParam();
  // 5000 rows: several blocks, and slices for the parallel strategy.
  const MemoryColumns columns = make_columns(5000, dim, half, dim * 7 + half);
  std::mt19937_64 rng(dim);
  // A pool of 4 even on a 2-core machine, so the parallel merge is exercised with 4 slices.
  HardwareCapabilities capabilities = HardwareCapabilities::detect();
  capabilities.cores = 4;
  const SearchEngine engine(capabilities);
  for (int trial = 0; trial < 3; ++trial) {
    const std::vector<float> query = testing::random_vector(rng, dim);
    for (std::size_t k : {1u, 10u, 6000u}) {
      const auto reference = exact_search(query, columns, k);
      for (Strategy strategy : runnable_strategies()) {
        SCOPED_TRACE(std::string(strategy_name(strategy)) + " k=" + std::to_string(k));
        SearchOptions options;
        options.k = k;
        options.strategy = strategy;
        const SearchResults results = engine.search(query, columns, options);
        expect_same_hits(results.hits, reference, 2e-5f * static_cast<float>(std::sqrt(dim)) + 1e-5f);
        EXPECT_EQ(results.metrics.strategy, strategy_name(strategy));
        EXPECT_FALSE(results.metrics.isa.empty());
        EXPECT_GE(results.metrics.search_time_us, 0.0);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dimensions, EveryStrategy,
                         ::testing::Combine(::testing::Values(1, 5, 16, 33, 384, 1536),
                                            ::testing::Bool()));

TEST(Engine, BatchEqualsOneQueryAtATime) {
  for (bool half : {false, true}) {
    const MemoryColumns columns = make_columns(3000, 37, half, 5);
    std::mt19937_64 rng(9);
    const std::size_t count = 7;  // not a multiple of the 4-query tile
    std::vector<float> queries;
    for (std::size_t q = 0; q < count; ++q) {
      const auto v = testing::random_vector(rng, 37);
      queries.insert(queries.end(), v.begin(), v.end());
    }
    for (Strategy strategy : runnable_strategies()) {
      SCOPED_TRACE(strategy_name(strategy));
      SearchOptions options;
      options.k = 15;
      options.strategy = strategy;
      options.filter.source_channel = "email";
      const auto batch = SearchEngine::shared().search_batch(queries, count, columns, options);
      ASSERT_EQ(batch.size(), count);
      for (std::size_t q = 0; q < count; ++q) {
        const auto single = SearchEngine::shared().search(
            std::span<const float>(queries).subspan(q * 37, 37), columns, options);
        expect_same_hits(batch[q].hits, single.hits, 1e-5f);
      }
    }
  }
}

// A batch over fewer rows than give each thread a slice of its own: the parallel strategy
// splits the queries instead (a pool of 4: slices of 1 to 3 queries, and a batch of 2 with
// fewer queries than threads), and each query still gets what the scalar reference finds.
TEST(Engine, ParallelSplitsASmallStoresBatchByQueries) {
  HardwareCapabilities capabilities = HardwareCapabilities::detect();
  capabilities.cores = 4;
  capabilities.cuda_available = false;
  const SearchEngine engine(capabilities);
  for (bool half : {false, true}) {
    const MemoryColumns columns = make_columns(1500, 37, half, 21);  // < 4 x 1024 rows
    std::mt19937_64 rng(22);
    for (const std::size_t count : {std::size_t{2}, std::size_t{7}, std::size_t{11}}) {
      SCOPED_TRACE(std::to_string(count) + (half ? " f16" : " f32"));
      std::vector<float> queries;
      for (std::size_t q = 0; q < count; ++q) {
        const auto v = testing::random_vector(rng, 37);
        queries.insert(queries.end(), v.begin(), v.end());
      }
      SearchOptions options;
      options.k = 9;
      options.strategy = Strategy::parallel;
      const auto batch = engine.search_batch(queries, count, columns, options);
      ASSERT_EQ(batch.size(), count);
      for (std::size_t q = 0; q < count; ++q) {
        const std::vector<float> query(queries.begin() + static_cast<std::ptrdiff_t>(q * 37),
                                       queries.begin() + static_cast<std::ptrdiff_t>(q * 37 + 37));
        expect_same_hits(batch[q].hits, exact_search(query, columns, options.k), 1e-5f);
        EXPECT_EQ(batch[q].metrics.strategy, "parallel");
        EXPECT_EQ(batch[q].metrics.threads, std::min<std::size_t>(4, count));
        const std::size_t active = static_cast<std::size_t>(
            std::count(columns.tombstones.begin(), columns.tombstones.end(), 0));
        EXPECT_EQ(batch[q].metrics.vectors_scanned, active);
      }
    }
  }
}

// ---- filters -----------------------------------------------------------------------------------

// The oracle: reference scores for every active row, the filter applied by hand, full sort.
std::vector<SearchHit> filtered_oracle(const std::vector<float>& query, const MemoryColumns& columns,
                                       std::size_t k, const std::function<bool(std::size_t)>& keep) {
  const std::vector<float> scores = cosine_similarity_batch_prenorm(query, columns);
  std::vector<SearchHit> hits;
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (!columns.tombstones[row] && keep(row)) hits.push_back({columns.ids[row], scores[row]});
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  if (hits.size() > k) hits.resize(k);
  return hits;
}

bool has_tag(const std::string& tags, const std::string& tag) {
  std::string padded = "," + tags + ",";
  padded.erase(std::remove(padded.begin(), padded.end(), ' '), padded.end());
  return padded.find("," + tag + ",") != std::string::npos;
}

TEST(Filters, EveryCombinationMatchesTheOracle) {
  const MemoryColumns columns = make_columns(2000, 24, false, 77);
  std::mt19937_64 rng(4);
  const std::vector<float> query = testing::random_vector(rng, 24);
  int combinations = 0;
  for (int mask = 0; mask < 32; ++mask) {
    for (bool all_tags : {false, true}) {
      SearchFilter filter;
      if (mask & 1) filter.session_id = "s2";
      if (mask & 2) filter.source_channel = "chat";
      if (mask & 4) filter.tags = {"red", "blue"};
      filter.all_tags = all_tags;
      if (mask & 8) filter.after = 1500.0;
      if (mask & 16) filter.before = 1800.0;
      auto keep = [&](std::size_t row) {
        if (filter.session_id && columns.session_ids[row] != *filter.session_id) return false;
        if (filter.source_channel && columns.source_channels[row] != *filter.source_channel) return false;
        if (!filter.tags.empty()) {
          const bool red = has_tag(columns.tags[row], "red"), blue = has_tag(columns.tags[row], "blue");
          if (all_tags ? !(red && blue) : !(red || blue)) return false;
        }
        if (filter.after && columns.timestamps[row] < *filter.after) return false;
        if (filter.before && columns.timestamps[row] > *filter.before) return false;
        return true;
      };
      const auto want = filtered_oracle(query, columns, 20, keep);
      for (Strategy strategy : runnable_strategies()) {
        SearchOptions options;
        options.k = 20;
        options.strategy = strategy;
        options.filter = filter;
        const auto got = SearchEngine::shared().search(query, columns, options);
        SCOPED_TRACE("mask " + std::to_string(mask) + (all_tags ? " all" : " any") + " " +
                     std::string(strategy_name(strategy)));
        expect_same_hits(got.hits, want, 1e-5f);
        std::size_t accepted = 0;
        for (std::size_t row = 0; row < columns.rows(); ++row) accepted += !columns.tombstones[row] && keep(row);
        EXPECT_EQ(got.metrics.vectors_scanned, accepted);  // refused rows are never scored
      }
      ++combinations;
    }
  }
  EXPECT_EQ(combinations, 64);
}

TEST(Filters, InclusiveBoundsNoMatchAndBadRanges) {
  const MemoryColumns columns = make_columns(100, 8, false, 3, /*with_tombstones=*/false);
  const std::vector<float> query(8, 1.0f);
  SearchOptions options;
  options.k = 100;
  options.filter.after = 1010.0;
  options.filter.before = 1012.0;
  auto hits = search_with_metrics(query, columns, options).hits;
  std::vector<MemoryId> ids;
  for (const auto& hit : hits) ids.push_back(hit.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<MemoryId>{10 * 3 + 2, 11 * 3 + 2, 12 * 3 + 2}));
  options.filter.session_id = "nobody";
  EXPECT_TRUE(search_with_metrics(query, columns, options).hits.empty());
  options.filter = {};
  options.filter.after = 5.0;
  options.filter.before = 1.0;
  EXPECT_THROW(search_with_metrics(query, columns, options), Error);
}

TEST(Filters, RecencyWeightingHalvesScoresPerHalfLife) {
  MemoryColumns columns = make_columns(3, 4, false, 1, false);
  for (std::size_t row = 0; row < 3; ++row) {
    std::copy_n(std::vector<float>{1, 0, 0, 0}.begin(), 4, columns.embeddings_f32.begin() + static_cast<long>(row * 4));
    columns.norms[row] = 1.0f;
  }
  columns.timestamps = {100.0, 90.0, 80.0};
  SearchOptions options;
  options.k = 3;
  options.filter.half_life_seconds = 10.0;
  options.filter.now = 100.0;
  const auto hits = search_with_metrics(std::vector<float>{2, 0, 0, 0}, columns, options).hits;
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_FLOAT_EQ(hits[0].score, 1.0f);
  EXPECT_FLOAT_EQ(hits[1].score, 0.5f);
  EXPECT_FLOAT_EQ(hits[2].score, 0.25f);
}

// ---- errors ------------------------------------------------------------------------------------

TEST(Engine, ErrorsAreClear) {
  const MemoryColumns columns = make_columns(10, 4, true, 2);
  SearchOptions options;
  options.k = 0;
  EXPECT_THROW(search_with_metrics(std::vector<float>(4, 1.0f), columns, options), Error);
  options.k = 3;
  options.strategy = Strategy::gpu;
  // (With a GPU the forced search runs; tests/gpu covers both cases.)
  if (!SearchEngine::shared().capabilities().cuda_available) {
    try {
      search_with_metrics(std::vector<float>(4, 1.0f), columns, options);
      FAIL();
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::unsupported);
      EXPECT_NE(std::string(error.what()).find("gpu"), std::string::npos);
    }
  }
  HardwareCapabilities without_blas = HardwareCapabilities::detect();
  without_blas.blas_available = false;
  EXPECT_THROW(require_available(Strategy::blas, without_blas), Error);
  EXPECT_EQ(parse_strategy("parallel"), Strategy::parallel);
  EXPECT_THROW(parse_strategy("fastest"), Error);
  options.strategy = std::nullopt;
  const std::vector<float> nan_query{1, std::nanf(""), 0, 0};
  EXPECT_THROW(search_with_metrics(nan_query, columns, options), Error);
}

TEST(Engine, AutoStrategyFollowsTheThresholds) {
  HardwareCapabilities capabilities;
  capabilities.cores = 8;
  StrategyThresholds thresholds;
  thresholds.parallel_min_rows = 1000;
  thresholds.blas_max_rows = 500;
  thresholds.blas_min_batch = 16;
  thresholds.blas_small_batch_max_rows = 2000;
  EXPECT_EQ(auto_select_strategy(999, capabilities, thresholds), Strategy::simd);
  EXPECT_EQ(auto_select_strategy(1000, capabilities, thresholds), Strategy::parallel);
  capabilities.blas_available = true;
  EXPECT_EQ(auto_select_strategy(499, capabilities, thresholds), Strategy::blas);
  EXPECT_EQ(auto_select_strategy(499, 1, EmbeddingType::float16, capabilities, thresholds),
            Strategy::simd);  // widening halves for one query does not pay
  EXPECT_EQ(auto_select_strategy(999, capabilities, thresholds), Strategy::simd);
  EXPECT_EQ(auto_select_strategy(10, 16, EmbeddingType::float16, capabilities, thresholds),
            Strategy::blas);
  EXPECT_EQ(auto_select_strategy(5000, 15, EmbeddingType::float32, capabilities, thresholds),
            Strategy::parallel);
  // Small batches on a small store: sgemm, the matrix in cache.
  EXPECT_EQ(auto_select_strategy(1999, 15, EmbeddingType::float32, capabilities, thresholds),
            Strategy::blas);
  EXPECT_EQ(auto_select_strategy(2000, 2, EmbeddingType::float16, capabilities, thresholds),
            Strategy::parallel);
  capabilities.blas_available = false;
  capabilities.cores = 1;
  EXPECT_EQ(auto_select_strategy(1000000, capabilities, thresholds), Strategy::simd);
  const HardwareCapabilities detected = HardwareCapabilities::detect();
  EXPECT_GE(detected.cores, 1u);
  EXPECT_NE(detected.simd_isa, "");
}

// ---- what the engine is built on ---------------------------------------------------------------

TEST(Kernels, ChosenOnceWithoutMovingHighwaysGlobalChoice) {
  const std::size_t index_before = hwy::GetChosenTarget().GetIndex();
  const kernels::KernelSet best = kernels::best_simd_kernels();
  const std::vector<kernels::KernelSet> all = kernels::all_simd_kernels();
  ASSERT_FALSE(all.empty());
  EXPECT_STREQ(best.isa, all.front().isa);  // the best set is the first of all
  EXPECT_EQ(kernels::best_simd_kernels().dot_f32, best.dot_f32);
  EXPECT_EQ(HardwareCapabilities::detect().simd_isa, best.isa);
  if (index_before != 0) {  // (0: nothing in this process has dispatched through Highway yet)
    EXPECT_EQ(hwy::GetChosenTarget().GetIndex(), index_before);
  }
}

TEST(ThreadPool, EveryTaskOnceNestedRunsInlineAndErrorsReachTheCaller) {
  core::ThreadPool pool(4);
  EXPECT_EQ(pool.size(), 4u);
  EXPECT_EQ(pool.concurrency(), 4u);
  std::vector<std::atomic<int>> calls(100);
  pool.run(calls.size(), [&](std::size_t outer) {
    EXPECT_EQ(pool.concurrency(), 1u);  // inside a task: a nested run would run inline
    // A nested run, on this pool and on the process pool, completes instead of deadlocking.
    pool.run(2, [&](std::size_t inner) { calls[(outer + inner) % calls.size()]++; });
    core::process_thread_pool().run(1, [&](std::size_t) { calls[outer]--; });
  });
  for (const auto& count : calls) EXPECT_EQ(count.load(), 1);
  EXPECT_THROW(pool.run(8,
                        [](std::size_t task) {
                          if (task == 5) throw std::runtime_error("task 5");
                        }),
               std::runtime_error);
  std::atomic<int> after{0};
  pool.run(8, [&](std::size_t) { after++; });  // still usable after a failed job
  EXPECT_EQ(after.load(), 8);
}

TEST(ThreadPool, AForkedChildRunsInline) {
  core::ThreadPool pool(3);
  pool.run(3, [](std::size_t) {});  // the workers exist and have run
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child has none of the workers: run() must not wait for them.
    int sum = 0;
    const bool inline_here = pool.concurrency() == 1;
    pool.run(5, [&](std::size_t task) { sum += static_cast<int>(task); });
    ::_exit(inline_here && sum == 10 ? 0 : 1);
  }
  int status = 0;
  for (int waited_ms = 0; waited_ms < 10000; waited_ms += 10) {
    if (::waitpid(child, &status, WNOHANG) == child) break;
    ::usleep(10000);
  }
  if (!WIFEXITED(status)) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL() << "the forked child hung in ThreadPool::run";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace edgehdf5
