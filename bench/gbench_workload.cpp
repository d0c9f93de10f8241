// edgehdf5-bench gbench [--benchmark_* flags]: micro-benchmarks registered with Google
// Benchmark, for repeated, statistically summarised timings of single operations. The
// named workloads (store, ...) are for side-by-side comparisons within one run.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <limits>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/memory.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

constexpr std::size_t kEmbeddingDim = 384;
constexpr std::uint64_t kSeed = 42;

// save_batch of state.range(0) entries into one growing store (memory + log, no fsync).
void BM_SaveBatch(benchmark::State& state) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  const std::vector<MemoryEntry> entries = random_entries(batch_size, kEmbeddingDim, kSeed, 0, 0);
  const ScratchDir scratch(std::filesystem::temp_directory_path());
  MemoryConfig config;
  config.path = scratch.path() / "save_batch.h5";
  config.embedding_dim = kEmbeddingDim;
  OpenOptions options;
  options.checkpoint_log_bytes = std::numeric_limits<std::size_t>::max();  // no checkpoints
  HDF5Memory memory = HDF5Memory::create(config, options);

  for (auto _ : state) benchmark::DoNotOptimize(memory.save_batch(entries));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  memory.close();  // after the loop, so writing the .h5 is not timed; close() to see errors
}
BENCHMARK(BM_SaveBatch)->Arg(1'000)->Arg(10'000)->Unit(benchmark::kMillisecond);

}  // namespace

int run_gbench_workload(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace edgehdf5::bench
