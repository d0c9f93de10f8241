// edgehdf5-bench calibrate: where, on this machine, the parallel strategy starts to beat simd
// for single float32 queries (StrategyThresholds::parallel_min_rows), and, for information,
// where blas does. Sizes are swept from 1K to 256K rows; at each size simd and parallel take
// turns query by query, so a shared machine's noise falls on both alike, and their medians
// are compared; then simd and blas the same way.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/version.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

constexpr std::size_t kTopK = 10;
constexpr std::uint64_t kQueryStream = std::uint64_t{1} << 40;
constexpr std::size_t kQueryPool = 64;
// Calls per strategy at one size: about this many bytes scanned per strategy, within the
// limits below, keeps the whole sweep under a minute on two cores.
constexpr double kBytesPerStrategy = 2e10;
constexpr std::size_t kMinCalls = 31;
constexpr std::size_t kMaxCalls = 1001;

struct CalibrateOptions {
  std::vector<std::size_t> sizes = {1'024,  2'048,  4'096,   8'192,  16'384,
                                    32'768, 65'536, 131'072, 262'144};
  std::size_t embedding_dim = 384;
  std::uint64_t seed = 42;
  bool json = false;
};

// The smallest swept size from which `faster[i]` holds at that size and every larger one;
// empty when it does not hold at the largest.
std::optional<std::size_t> faster_from(const std::vector<std::size_t>& sizes,
                                       const std::vector<bool>& faster) {
  std::optional<std::size_t> from;
  for (std::size_t i = sizes.size(); i-- > 0;) {
    if (!faster[i]) break;
    from = sizes[i];
  }
  return from;
}

// The largest swept size up to which `faster[i]` holds at that size and every smaller one;
// empty when it does not hold at the smallest.
std::optional<std::size_t> faster_up_to(const std::vector<std::size_t>& sizes,
                                        const std::vector<bool>& faster) {
  std::optional<std::size_t> up_to;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (!faster[i]) break;
    up_to = sizes[i];
  }
  return up_to;
}

}  // namespace

int run_calibrate_workload(int argc, char** argv) {
  CalibrateOptions options;
  CLI::App app{
      "Finds the collection size from which the parallel strategy beats simd (single float32 "
      "queries), the measured value for StrategyThresholds::parallel_min_rows.",
      "edgehdf5-bench calibrate"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.sizes, "Collection sizes to sweep (rows)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::vector<std::size_t> sizes = options.sizes;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  if (sizes.front() < kTopK) {
    throw Error(ErrorCode::invalid_argument,
                "--sizes: every size must hold at least k = " + std::to_string(kTopK) + " rows");
  }

  const std::size_t dim = options.embedding_dim;
  const SearchEngine engine;
  const HardwareCapabilities& capabilities = engine.capabilities();
  RowReporter report("calibrate", command_line(argc, argv), options.json);
  report.note("edgehdf5 " + std::string(kVersion) + ", SIMD " + capabilities.simd_isa + ", " +
              std::to_string(capabilities.cores) + " cores, float32, k=" +
              std::to_string(kTopK) + ", single queries; simd and parallel take turns query by query, then simd and blas");
  if (!capabilities.blas_available) report.note("blas not compiled in: its column is empty");
  report.note("speedup = simd median / the strategy's median in their duel (above 1: faster "
              "than simd)");
  report.set_columns({
      {"n", 8},
      {"dim", 4},
      {"dtype", 5, true},
      {"simd_us", 10},
      {"parallel_us", 11},
      {"blas_us", 10},
      {"parallel_speedup", 16},
      {"blas_speedup", 12},
      {"parallel_threads", 16},
      {"calls", 5},
  });

  // One matrix of the largest size; each size searches a copy of its first rows.
  const std::vector<float> all_rows = random_unit_rows(sizes.back(), dim, options.seed);
  const std::vector<float> queries = random_unit_vectors(kQueryPool, dim, options.seed, kQueryStream);
  std::vector<bool> parallel_faster, blas_faster;
  for (const std::size_t rows : sizes) {
    const MemoryColumns columns = float32_columns(
        std::vector<float>(all_rows.begin(), all_rows.begin() + static_cast<std::ptrdiff_t>(rows * dim)),
        dim);
    const double bytes = static_cast<double>(rows * dim * sizeof(float));
    const auto calls = std::clamp(static_cast<std::size_t>(kBytesPerStrategy / bytes), kMinCalls, kMaxCalls);

    std::size_t parallel_threads = 1;
    // simd and `other` taking turns query by query: {simd medians, other's} in microseconds.
    auto duel = [&](Strategy other) {
      std::array<SearchOptions, 2> search_options;
      std::array<std::vector<double>, 2> seconds;
      for (std::size_t s = 0; s < 2; ++s) {
        search_options[s].k = kTopK;
        search_options[s].strategy = s == 0 ? Strategy::simd : other;
        // Untimed: first touches of the copy, and the thread count the strategy uses here.
        const SearchResults warm =
            engine.search(std::span(queries.data(), dim), columns, search_options[s]);
        if (other == Strategy::parallel && s == 1) parallel_threads = warm.metrics.threads;
      }
      for (std::size_t call = 0; call < calls; ++call) {
        const std::span<const float> query(queries.data() + (call % kQueryPool) * dim, dim);
        for (std::size_t s = 0; s < 2; ++s) {
          seconds[s].push_back(seconds_to_run([&] { engine.search(query, columns, search_options[s]); }));
        }
      }
      return std::pair{summarize(seconds[0]).median * 1e6, summarize(seconds[1]).median * 1e6};
    };
    // Each duel on its own: OpenBLAS's idle workers spin for a while after each call, on the
    // core the parallel strategy needs, so blas must not take turns with parallel. The simd
    // time reported is the parallel duel's; blas_speedup is from blas's own duel.
    const auto [simd_us, parallel_us] = duel(Strategy::parallel);
    std::optional<double> blas_us, blas_speedup;
    if (capabilities.blas_available) {
      const auto [simd_beside_blas_us, blas_median_us] = duel(Strategy::blas);
      blas_us = blas_median_us;
      blas_speedup = simd_beside_blas_us / blas_median_us;
    }
    // On one slice (too few rows to split) parallel is simd plus overhead: never "faster".
    parallel_faster.push_back(parallel_threads > 1 && parallel_us < simd_us);
    blas_faster.push_back(blas_speedup && *blas_speedup > 1.0);
    report.add({rows, dim, "f32", simd_us, parallel_us,
                blas_us ? nlohmann::json(*blas_us) : nlohmann::json(), simd_us / parallel_us,
                blas_speedup ? nlohmann::json(*blas_speedup) : nlohmann::json(), parallel_threads,
                calls});
  }

  const std::optional<std::size_t> parallel_from = faster_from(sizes, parallel_faster);
  const std::optional<std::size_t> blas_from = faster_from(sizes, blas_faster);
  const std::optional<std::size_t> blas_up_to = faster_up_to(sizes, blas_faster);
  report.set_columns({
      {"setting", 40, true},
      {"rows", 8},
      {"meaning", 0, true},
  });
  auto rows_or_null = [](const std::optional<std::size_t>& rows) {
    return rows ? nlohmann::json(*rows) : nlohmann::json();
  };
  report.add({"recommended parallel_min_rows", rows_or_null(parallel_from),
              parallel_from ? "parallel (on more than one thread) beats simd here and at every "
                              "larger swept size"
                            : "parallel never beat simd at the largest swept size: keep simd"});
  report.add({"current StrategyThresholds::parallel_min_rows", StrategyThresholds{}.parallel_min_rows,
              "the default compiled into this build"});
  report.add({"blas beats simd from (report only)", rows_or_null(blas_from),
              blas_from ? "blas beats simd here and at every larger swept size"
                        : "blas did not beat simd at the largest swept size"});
  report.add({"blas beats simd up to (report only)", rows_or_null(blas_up_to),
              blas_up_to ? "blas beats simd here and at every smaller swept size"
                         : "blas did not beat simd at the smallest swept size"});
  return 0;
}

}  // namespace edgehdf5::bench
