// edgehdf5-bench gpu: Strategy::gpu on the machine's CUDA device, in one run:
//   1. the device's read bandwidth (a kernel reading 4 GiB; best of 10), the bound for one
//      query: the stored bytes (rows, norms, tombstones) / that bandwidth;
//   2. for N = 100K, 1M, 4M x 384, float32 and float16, batches of 1, 16, 128 and 1024:
//      end to end through SearchEngine::search_batch (query upload, scoring, top-k on the
//      device, hits back), beside cuBLAS GEMV/GEMM alone (scores only, no top-k, CUDA
//      events) and beside the best CPU strategy of this machine (what auto picks with CUDA
//      off), taking turns call by call;
//   3. with --crossover, single queries and batches of 16 from 4K to 512K rows, gpu
//      against the best CPU strategy: the sizes from which gpu wins, the measured values
//      for StrategyThresholds::gpu_min_rows and gpu_min_batch_rows.
// Without a GPU it prints why and exits 0.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/version.hpp"
#include "gpu/gpu_loader.hpp"
#include "gpu/gpu_search.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

constexpr std::size_t kTopK = 10;
constexpr std::uint64_t kQueryStream = std::uint64_t{1} << 40;

struct GpuOptions {
  std::vector<std::size_t> sizes = {100'000, 1'000'000, 4'000'000};
  std::vector<std::size_t> batches = {1, 16, 128, 1024};
  std::size_t embedding_dim = 384;
  double seconds_per_point = 0.4;  // per strategy and point, within [3, 200] calls
  bool crossover = false;
  bool json = false;
};

// Median seconds of `call`, repeated within the time budget (one untimed call first).
template <typename Call>
double median_seconds(Call&& call, double budget) {
  call();
  std::vector<double> samples;
  double spent = 0.0;
  while (samples.size() < 3 || (spent < budget && samples.size() < 200)) {
    const double seconds = seconds_to_run(call);
    samples.push_back(seconds);
    spent += seconds;
  }
  return summarize(samples).median;
}

Strategy best_cpu_strategy(const SearchEngine& engine, const MemoryColumns& columns,
                           std::size_t batch) {
  HardwareCapabilities cpu = engine.capabilities();
  cpu.cuda_available = false;
  return auto_select_strategy(
      SearchShape{columns.rows(), batch, columns.embedding_type, false, columns.embedding_dim}, cpu,
      engine.thresholds());
}

double seconds_per_batch(const SearchEngine& engine, const MemoryColumns& columns,
                         const std::vector<float>& queries, std::size_t batch, Strategy strategy,
                         double budget) {
  SearchOptions options;
  options.k = kTopK;
  options.strategy = strategy;
  const std::span<const float> used(queries.data(), batch * columns.embedding_dim);
  return median_seconds(
      [&] {
        if (batch == 1) {
          (void)engine.search(used, columns, options);
        } else {
          (void)engine.search_batch(used, batch, columns, options);
        }
      },
      budget);
}

}  // namespace

int run_gpu_workload(int argc, char** argv) {
  GpuOptions options;
  CLI::App app{"Strategy::gpu end to end beside cuBLAS alone, the device's bandwidth bound and "
               "the best CPU strategy", "edgehdf5-bench gpu"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.sizes, "Collection sizes (rows)")->delimiter(',')->capture_default_str();
  app.add_option("--batches", options.batches, "Queries per call")->delimiter(',')->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")->capture_default_str();
  app.add_option("--seconds", options.seconds_per_point, "Time budget per strategy and point")
      ->capture_default_str();
  app.add_flag("--crossover", options.crossover,
               "Also sweep 4K-512K rows for the gpu_min_rows / gpu_min_batch_rows crossovers");
  CLI11_PARSE(app, argc, argv);

  const gpu::GpuModule& module = gpu::gpu_module();
  if (!module.usable()) {
    if (options.json) {
      std::cout << nlohmann::json{{"workload", "gpu"}, {"gpu", nullptr}, {"reason", module.status}}.dump()
                << "\n";
    } else {
      std::cout << "edgehdf5-bench gpu: no GPU: " << module.status << "\n";
    }
    return 0;
  }
  const SearchEngine& engine = SearchEngine::shared();
  const std::size_t dim = options.embedding_dim;
  RowReporter report("gpu", command_line(argc, argv), options.json);
  report.note("edgehdf5 " + std::string(kVersion) + ", GPU " + module.status + ", CPU " +
              engine.capabilities().simd_isa + " x" + std::to_string(engine.capabilities().cores) +
              (engine.capabilities().blas_available ? " + OpenBLAS" : "") + ", k=" +
              std::to_string(kTopK));

  // 1. bandwidth.
  double bandwidth = 0.0;
  char error[512] = {0};
  if (module.api->measure_read_bandwidth(std::size_t{4} << 30, 10, &bandwidth, error,
                                         sizeof(error)) != 0) {
    std::cerr << "edgehdf5-bench gpu: bandwidth kernel failed: " << error << "\n";
    return 1;
  }
  report.note("device read bandwidth " + std::to_string(bandwidth / 1e9) + " GB/s (4 GiB read kernel, best of 10)");
  report.note("bound_ms: stored bytes (rows + norms + tombstones) / that bandwidth, one query; "
              "vs_bound = gpu_ms / bound_ms; vs_cublas = cublas_ms / gpu_ms (queries/s as a "
              "share of cuBLAS scores-only); speedup = cpu_ms / gpu_ms");
  report.set_columns({{"n", 8},          {"dim", 4},       {"dtype", 5, true},
                      {"batch", 5},      {"gpu_ms", 9},    {"gpu_qps", 10},
                      {"scorer", 17, true}, {"cublas_ms", 9}, {"vs_cublas", 9},
                      {"bound_ms", 8},   {"vs_bound", 8},  {"cpu", 8, true},
                      {"cpu_ms", 9},     {"speedup", 8}});

  const std::size_t largest = *std::max_element(options.sizes.begin(), options.sizes.end());
  const std::size_t most_queries = *std::max_element(options.batches.begin(), options.batches.end());
  const std::vector<float> all_rows = random_unit_rows(largest, dim, 42);
  const std::vector<float> queries = random_unit_vectors(most_queries, dim, 42, kQueryStream);
  gpu::GpuSearcher cublas_only(module);  // its own device copy, for the scores-only timings

  for (const std::size_t rows : options.sizes) {
    for (const bool half : {false, true}) {
      const std::span<const float> first(all_rows.data(), rows * dim);
      const MemoryColumns columns =
          half ? float16_columns(first, dim)
               : float32_columns(std::vector<float>(first.begin(), first.end()), dim);
      const double stored = static_cast<double>(rows) * (dim * (half ? 2.0 : 4.0) + 5.0);
      for (const std::size_t batch : options.batches) {
        SearchOptions probe;
        probe.k = kTopK;
        probe.strategy = Strategy::gpu;
        const std::span<const float> used(queries.data(), batch * dim);
        std::string scorer;
        try {
          scorer = engine.search_batch(used, batch, columns, probe).front().metrics.isa;
        } catch (const std::exception& failure) {
          report.note("n=" + std::to_string(rows) + " batch=" + std::to_string(batch) +
                      ": gpu failed: " + failure.what());
          continue;
        }
        const double gpu_s = seconds_per_batch(engine, columns, queries, batch, Strategy::gpu,
                                               options.seconds_per_point);
        double cublas_ms = 0.0;
        try {
          cublas_ms = cublas_only.time_scores_only(used, batch, columns, 20);
        } catch (const std::exception& failure) {
          report.note(std::string("cuBLAS alone failed: ") + failure.what());
        }
        const Strategy cpu = best_cpu_strategy(engine, columns, batch);
        const double cpu_s = seconds_per_batch(engine, columns, queries, batch, cpu,
                                               options.seconds_per_point);
        const double gpu_ms = gpu_s * 1e3;
        const double bound_ms = stored / bandwidth * 1e3;
        report.add({rows, dim, half ? "f16" : "f32", batch, gpu_ms,
                    static_cast<double>(batch) / gpu_s, scorer,
                    cublas_ms > 0 ? nlohmann::json(cublas_ms) : nlohmann::json(),
                    cublas_ms > 0 ? nlohmann::json(cublas_ms / gpu_ms) : nlohmann::json(),
                    batch == 1 ? nlohmann::json(bound_ms) : nlohmann::json(),
                    batch == 1 ? nlohmann::json(gpu_ms / bound_ms) : nlohmann::json(),
                    std::string(strategy_name(cpu)), cpu_s * 1e3, cpu_s / gpu_s});
      }
    }
  }

  if (options.crossover) {
    report.set_columns({{"n", 8}, {"batch", 5}, {"gpu_ms", 9}, {"cpu", 8, true}, {"cpu_ms", 9},
                        {"gpu_faster", 10, true}});
    const std::vector<std::size_t> sweep = {4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288};
    const std::vector<float> sweep_rows = random_unit_rows(sweep.back(), dim, 7);
    std::vector<std::pair<std::string, std::optional<std::size_t>>> crossovers;
    for (const std::size_t batch : {std::size_t{1}, std::size_t{16}}) {
      std::optional<std::size_t> from;
      std::vector<bool> faster;
      for (const std::size_t rows : sweep) {
        const MemoryColumns columns = float32_columns(
            std::vector<float>(sweep_rows.begin(), sweep_rows.begin() + static_cast<std::ptrdiff_t>(rows * dim)), dim);
        const double gpu_s = seconds_per_batch(engine, columns, queries, batch, Strategy::gpu, 0.2);
        const Strategy cpu = best_cpu_strategy(engine, columns, batch);
        const double cpu_s = seconds_per_batch(engine, columns, queries, batch, cpu, 0.2);
        faster.push_back(gpu_s < cpu_s);
        report.add({rows, batch, gpu_s * 1e3, std::string(strategy_name(cpu)), cpu_s * 1e3,
                    gpu_s < cpu_s ? "yes" : "no"});
      }
      for (std::size_t i = sweep.size(); i-- > 0;) {
        if (!faster[i]) break;
        from = sweep[i];
      }
      crossovers.emplace_back(batch == 1 ? "gpu_min_rows" : "gpu_min_batch_rows", from);
    }
    // The smallest swept size from which gpu wins at every larger one; null: the CPU won at
    // the largest.
    report.set_columns({{"threshold", 18, true}, {"measured_rows", 13}});
    for (const auto& [threshold, rows] : crossovers) {
      report.add({threshold, rows ? nlohmann::json(*rows) : nlohmann::json()});
    }
  }
  return 0;
}

}  // namespace edgehdf5::bench
