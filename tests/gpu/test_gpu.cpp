// Strategy::gpu. Two kinds of tests:
//   GpuPath.*  run everywhere: the CPU-only build and the "CUDA built, no GPU" path (why
//              CUDA is off, a clear error for a forced gpu search, auto never picking it,
//              the loader's refusals), auto's choice with a GPU described by hand, and
//              the host side (incremental uploads, filters, memory limit) against a
//              stand-in module that computes on the CPU.
//   Gpu.*      need a CUDA device and are reported as skipped without one: the device's
//              top-k against the scalar reference on the exact-engine shapes, filters,
//              batches, k > N, and the device copy kept current across saves, deletes and
//              compaction.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/row_filter.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/search.hpp"
#include "gpu/gpu_loader.hpp"
#include "gpu/gpu_search.hpp"
#include "test_util.hpp"

#ifndef EDGEHDF5_TEST_FAKE_MODULE
#define EDGEHDF5_TEST_FAKE_MODULE ""
#endif

namespace edgehdf5 {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

MemoryColumns make_columns(std::size_t rows, std::size_t dim, bool half, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  MemoryColumns columns;
  columns.embedding_dim = dim;
  columns.embedding_type = half ? EmbeddingType::float16 : EmbeddingType::float32;
  for (std::size_t row = 0; row < rows; ++row) {
    std::vector<float> v = testing::random_vector(rng, dim);
    if (row % 23 == 7) std::fill(v.begin(), v.end(), 0.0f);       // zero vectors
    if (row % 31 == 9 && row > 0) v = columns.embedding(row - 1);  // duplicates: ties
    testing::append_embedding(columns, std::move(v));
    columns.tombstones.push_back(row % 11 == 4 ? 1 : 0);
    columns.ids.push_back(static_cast<MemoryId>(row * 3 + 2));
    // (Appended rather than "lit" + to_string: GCC 12 warns falsely on that form.)
    std::string chunk = "chunk ";
    chunk += std::to_string(row);
    columns.chunks.push_back(std::move(chunk));
    columns.source_channels.push_back(row % 3 == 0 ? "chat" : row % 3 == 1 ? "email" : "slack");
    std::string session = "s";
    session += std::to_string(row % 5);
    columns.session_ids.push_back(std::move(session));
    columns.timestamps.push_back(1000.0 + static_cast<double>(row));
    columns.tags.push_back(row % 4 == 0 ? "red,blue" : row % 4 == 1 ? "blue" : row % 4 == 2 ? "green,red" : "");
  }
  return columns;
}

// A GPU that exists only on paper, for auto's choice.
HardwareCapabilities with_gpu(std::size_t memory_bytes) {
  HardwareCapabilities capabilities = HardwareCapabilities::detect();
  capabilities.cuda_available = true;
  capabilities.gpu_device = "paper GPU";
  capabilities.gpu_memory_bytes = memory_bytes;
  return capabilities;
}

// ---- everywhere --------------------------------------------------------------------------------

TEST(GpuPath, StatusSaysWhyCudaIsOff) {
  const HardwareCapabilities capabilities = HardwareCapabilities::detect();
  ASSERT_FALSE(capabilities.cuda_status.empty());
  if (!gpu::module_built()) {
    EXPECT_FALSE(capabilities.cuda_available);
    EXPECT_TRUE(contains(capabilities.cuda_status, "module not built")) << capabilities.cuda_status;
  }
  if (!capabilities.cuda_available) {
    EXPECT_TRUE(capabilities.gpu_device.empty());
    EXPECT_EQ(capabilities.gpu_memory_bytes, 0u);
  } else {
    EXPECT_TRUE(contains(capabilities.cuda_status, capabilities.gpu_device));
    EXPECT_GT(capabilities.gpu_memory_bytes, 0u);
  }
}

TEST(GpuPath, ForcedGpuWithoutDeviceIsAClearError) {
  if (HardwareCapabilities::detect().cuda_available) GTEST_SKIP() << "a GPU is present";
  const MemoryColumns columns = make_columns(50, 8, false, 1);
  SearchOptions options;
  options.strategy = Strategy::gpu;
  testing::expect_error([&] { search_with_metrics(std::vector<float>(8, 1.0f), columns, options); },
                        ErrorCode::unsupported, "strategy 'gpu' is not available: CUDA " +
                                                    HardwareCapabilities::detect().cuda_status);
}

TEST(GpuPath, AutoNeverPicksGpuWithoutCuda) {
  HardwareCapabilities capabilities = HardwareCapabilities::detect();
  capabilities.cuda_available = false;
  for (std::size_t rows : {std::size_t{1}, std::size_t{100000}, std::size_t{50000000}}) {
    for (std::size_t batch : {std::size_t{1}, std::size_t{1024}}) {
      for (EmbeddingType type : {EmbeddingType::float32, EmbeddingType::float16}) {
        EXPECT_NE(auto_select_strategy(SearchShape{rows, batch, type, false, 384}, capabilities),
                  Strategy::gpu);
      }
    }
  }
  // An engine given a GPU on paper where none loads corrects its capabilities.
  if (!gpu::gpu_module().usable()) {
    const SearchEngine engine(with_gpu(std::size_t{1} << 40));
    EXPECT_FALSE(engine.capabilities().cuda_available);
    EXPECT_EQ(engine.capabilities().cuda_status, gpu::gpu_module().status);
    EXPECT_NE(engine.choose(10000000), Strategy::gpu);
    const MemoryColumns columns = make_columns(300, 8, false, 2);
    const SearchResults results = engine.search(std::vector<float>(8, 1.0f), columns, {});
    EXPECT_NE(results.metrics.strategy, "gpu");
  }
}

TEST(GpuPath, AutoPicksGpuAboveItsThresholdsWhenTheStoreFits) {
  const StrategyThresholds thresholds;
  const HardwareCapabilities roomy = with_gpu(std::size_t{64} << 30);
  const auto choose = [&](std::size_t rows, std::size_t batch, const HardwareCapabilities& caps,
                          const StrategyThresholds& limits) {
    return auto_select_strategy(SearchShape{rows, batch, EmbeddingType::float32, false, 384}, caps,
                                limits);
  };
  EXPECT_EQ(choose(thresholds.gpu_min_rows, 1, roomy, thresholds), Strategy::gpu);
  EXPECT_NE(choose(thresholds.gpu_min_rows - 1, 1, roomy, thresholds), Strategy::gpu);
  EXPECT_EQ(choose(thresholds.gpu_min_batch_rows, 16, roomy, thresholds), Strategy::gpu);
  EXPECT_NE(choose(thresholds.gpu_min_batch_rows - 1, 16, roomy, thresholds), Strategy::gpu);
  // The crossovers are settings.
  StrategyThresholds lower = thresholds;
  lower.gpu_min_rows = 10;
  EXPECT_EQ(choose(10, 1, roomy, lower), Strategy::gpu);
  // An index still wins above its own threshold.
  EXPECT_EQ(auto_select_strategy(SearchShape{1000000, 1, EmbeddingType::float32, true, 384}, roomy),
            Strategy::ivfpq);
  // A store that does not fit the device's memory is left to the CPU.
  const std::size_t rows = 1000000;
  const std::size_t needed = gpu_device_bytes(SearchShape{rows, 1, EmbeddingType::float32, false, 384});
  EXPECT_EQ(choose(rows, 1, with_gpu(needed), thresholds), Strategy::gpu);
  EXPECT_NE(choose(rows, 1, with_gpu(needed - 1), thresholds), Strategy::gpu);
}

TEST(GpuPath, DeviceBytesCountRowsNormsTombstonesAndScores) {
  const std::size_t rows = 1000000, dim = 384;
  const std::size_t f32 = gpu_device_bytes(SearchShape{rows, 1, EmbeddingType::float32, false, dim});
  const std::size_t f16 = gpu_device_bytes(SearchShape{rows, 1, EmbeddingType::float16, false, dim});
  EXPECT_GE(f32, rows * (dim * 4 + 4 + 1 + 4));
  EXPECT_LT(f32, rows * (dim * 4 + 32));
  EXPECT_GE(f16, rows * (dim * 2 + 4 + 1 + 4));
  EXPECT_LT(f16, f32);
  // A batch's scores are bounded by the work buffer (groups of queries), not by the batch.
  const std::size_t batch =
      gpu_device_bytes(SearchShape{rows, 100000, EmbeddingType::float32, false, dim});
  EXPECT_GT(batch, f32);
  EXPECT_LT(batch, f32 + (std::size_t{1100} << 20));
}

TEST(GpuPath, ByteSizesParse) {
  EXPECT_EQ(gpu::parse_byte_size("1048576"), std::size_t{1048576});
  EXPECT_EQ(gpu::parse_byte_size("512K"), std::size_t{512} << 10);
  EXPECT_EQ(gpu::parse_byte_size("64m"), std::size_t{64} << 20);
  EXPECT_EQ(gpu::parse_byte_size("2G"), std::size_t{2} << 30);
  for (const char* bad : {"", "G", "-1", "1.5G", "12T", "99999999999999999999999", "1 G"}) {
    EXPECT_FALSE(gpu::parse_byte_size(bad).has_value()) << bad;
  }
}

// Sets an environment variable for one scope and puts back what was there.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    had_ = old != nullptr;
    ::setenv(name, value, 1);
  }
  ~ScopedEnvironment() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(GpuPath, EnvironmentSettingsAreReadAndBadOnesReported) {
  std::optional<gpu::LoadSettings> read;
  {
    const ScopedEnvironment limit("EDGEHDF5_GPU_MEMORY_LIMIT", "lots");
    const ScopedEnvironment driver("EDGEHDF5_CUDA_DRIVER", "libmy_driver.so.1");
    const ScopedEnvironment module("EDGEHDF5_CUDA_MODULE", "/opt/x/libedgehdf5_cuda.so");
    const ScopedEnvironment off("EDGEHDF5_GPU", "off");
    read = gpu::settings_from_environment();
  }
  const gpu::LoadSettings& settings = *read;
  EXPECT_TRUE(settings.disabled);
  EXPECT_EQ(settings.driver, "libmy_driver.so.1");
  ASSERT_EQ(settings.module_paths.size(), 1u);
  EXPECT_EQ(settings.module_paths[0], "/opt/x/libedgehdf5_cuda.so");
  EXPECT_TRUE(contains(settings.problem, "EDGEHDF5_GPU_MEMORY_LIMIT='lots'")) << settings.problem;

  const ScopedEnvironment no_limit("EDGEHDF5_GPU_MEMORY_LIMIT", "64M");
  const gpu::LoadSettings plain = gpu::settings_from_environment();
  EXPECT_EQ(plain.memory_limit_bytes, std::size_t{64} << 20);
  EXPECT_TRUE(plain.problem.empty());
  EXPECT_FALSE(plain.module_paths.empty());
}

// The loader's refusals, each with its reason (the module's own build only: without it
// every answer is "module not built").
TEST(GpuPath, LoaderSaysWhatIsMissing) {
  gpu::LoadSettings settings = gpu::settings_from_environment();
  if (!gpu::module_built()) {
    EXPECT_TRUE(contains(gpu::load_module(settings).status, "module not built"));
    GTEST_SKIP() << "built without EDGEHDF5_CUDA: the loader's other refusals need the module";
  }
  gpu::LoadSettings off = settings;
  off.disabled = true;
  EXPECT_TRUE(contains(gpu::load_module(off).status, "EDGEHDF5_GPU=off"));

  gpu::LoadSettings bad_setting = settings;
  bad_setting.problem = "EDGEHDF5_GPU_MEMORY_LIMIT='lots' is not a byte size";
  EXPECT_EQ(gpu::load_module(bad_setting).status, bad_setting.problem);

  gpu::LoadSettings no_driver = settings;
  no_driver.driver = "libedgehdf5_no_such_driver.so.1";
  const gpu::GpuModule without_driver = gpu::load_module(no_driver);
  EXPECT_FALSE(without_driver.usable());
  EXPECT_EQ(without_driver.status,
            "libedgehdf5_no_such_driver.so.1 not found (no NVIDIA driver on this machine)");

  // From here a library that surely loads stands in for the driver.
  gpu::LoadSettings no_module = settings;
  no_module.driver = "libm.so.6";
  no_module.module_paths = {"/nonexistent/libedgehdf5_cuda.so"};
  const gpu::GpuModule without_module = gpu::load_module(no_module);
  EXPECT_FALSE(without_module.usable());
  EXPECT_EQ(without_module.status,
            "module libedgehdf5_cuda.so not found (looked at: /nonexistent/libedgehdf5_cuda.so)");

  gpu::LoadSettings wrong_version = no_module;
  // (scripts/gpu_check.sh runs a prebuilt copy of this test elsewhere and says where.)
  const char* fake_module = std::getenv("EDGEHDF5_TEST_FAKE_MODULE");
  wrong_version.module_paths = {fake_module != nullptr ? fake_module : EDGEHDF5_TEST_FAKE_MODULE};
  const gpu::GpuModule old_module = gpu::load_module(wrong_version);
  EXPECT_FALSE(old_module.usable());
  EXPECT_TRUE(contains(old_module.status, "module interface version 999 does not match"))
      << old_module.status;

  // The real module, with no device behind it (the driver library is not CUDA's).
  gpu::LoadSettings no_device = settings;
  no_device.driver = "libm.so.6";
  const gpu::GpuModule without_device = gpu::load_module(no_device);
  if (without_device.usable()) GTEST_SKIP() << "a GPU is present: " << without_device.status;
  EXPECT_TRUE(contains(without_device.status, "no CUDA device (")) << without_device.status;
}

// ---- on a GPU ------------------------------------------------------------------------------------

class Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!gpu::gpu_module().usable()) {
      GTEST_SKIP() << "no GPU: " << gpu::gpu_module().status;
    }
  }
};

// The cosine score of `row` for `query` as the scalar reference computes it, in double.
double reference_score(const MemoryColumns& columns, std::span<const float> query, std::size_t row) {
  const std::vector<float> values = columns.embedding(row);
  double dot = 0.0, query_norm = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    dot += double(values[i]) * query[i];
    query_norm += double(query[i]) * query[i];
  }
  const double denominator = std::sqrt(query_norm) * columns.norms[row];
  return denominator != 0.0 ? dot / denominator : 0.0;
}

// Same hits as the reference, ties aside: the same count, scores within `tolerance` rank
// by rank, and where ids differ the two scores tie within the tolerance.
void expect_same_hits(const std::vector<SearchHit>& got, const std::vector<SearchHit>& want,
                      float tolerance, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].score, want[i].score, tolerance) << what << " rank " << i;
    if (got[i].id != want[i].id) {
      EXPECT_NEAR(got[i].score, want[i].score, tolerance) << what << " rank " << i << " id "
                                                          << got[i].id << " vs " << want[i].id;
    }
  }
}

std::vector<SearchHit> search_as(Strategy strategy, std::span<const float> query,
                                 const MemoryColumns& columns, SearchOptions options) {
  options.strategy = strategy;
  return search_with_metrics(query, columns, options).hits;
}

float tolerance_for(const MemoryColumns& columns) {
  return columns.embedding_type == EmbeddingType::float16 ? 2e-3f : 1e-4f;
}

// Saves, deletes and compaction between searches through `module`: the device copy must
// follow each, uploading only what changed.
void check_device_copy_follows_changes(const gpu::GpuModule& module) {
  for (bool half : {false, true}) {
    gpu::GpuSearcher searcher(module);
    MemoryColumns columns = make_columns(3000, 64, half, 11 + half);
    std::mt19937_64 rng(9);
    const std::vector<float> query = testing::random_vector(rng, 64);
    const std::vector<float> norms{compute_norm(query)};
    const auto check = [&](const std::string& what) {
      SearchFilter none;
      const core::RowFilter filter(none, columns);
      const gpu::GpuSearchOutcome outcome = searcher.search(query, 1, norms, columns, filter, 20);
      SearchOptions options;
      options.k = 20;
      expect_same_hits(core::hits_of_rows<std::size_t>(outcome.tops[0], columns),
                       search_as(Strategy::scalar, query, columns, options),
                       tolerance_for(columns), what);
      EXPECT_EQ(searcher.device_rows(columns), columns.rows()) << what;
    };
    check("first search");
    EXPECT_EQ(searcher.rows_uploaded(), 3000u);
    check("second search");
    EXPECT_EQ(searcher.rows_uploaded(), 3000u) << "nothing changed, nothing uploaded";
    EXPECT_EQ(searcher.tombstone_bytes_uploaded(), 0u);

    // Saves: only the new rows go up.
    MemoryColumns more = make_columns(3500, 64, half, 11 + half);  // the same first 3000 rows
    columns = std::move(more);
    check("after 500 saves");
    EXPECT_EQ(searcher.rows_uploaded(), 3500u);

    // Deletes: a tombstone block, not the rows.
    const std::vector<SearchHit> best = search_as(Strategy::scalar, query, columns, {});
    columns.tombstones[static_cast<std::size_t>(columns.row_of(best[0].id))] = 1;
    columns.tombstones[static_cast<std::size_t>(columns.row_of(best[1].id))] = 1;
    check("after 2 deletes");
    EXPECT_EQ(searcher.rows_uploaded(), 3500u);
    EXPECT_GT(searcher.tombstone_bytes_uploaded(), 0u);
    EXPECT_LE(searcher.tombstone_bytes_uploaded(), 2u * 4096u);

    // Compaction: rows move, so the copy is made again.
    MemoryColumns compacted;
    compacted.embedding_dim = columns.embedding_dim;
    compacted.embedding_type = columns.embedding_type;
    for (std::size_t row = 0; row < columns.rows(); ++row) {
      if (columns.tombstones[row]) continue;
      testing::append_embedding(compacted, columns.embedding(row));
      compacted.tombstones.push_back(0);
      compacted.ids.push_back(columns.ids[row]);
      compacted.chunks.push_back(columns.chunks[row]);
      compacted.source_channels.push_back(columns.source_channels[row]);
      compacted.session_ids.push_back(columns.session_ids[row]);
      compacted.timestamps.push_back(columns.timestamps[row]);
      compacted.tags.push_back(columns.tags[row]);
    }
    const std::size_t before = searcher.rows_uploaded();
    columns = std::move(compacted);
    check("after compaction");
    EXPECT_EQ(searcher.rows_uploaded(), before + columns.rows());
  }
}

// ---- the host side of Strategy::gpu against a module that computes on the CPU ---------------
// A stand-in for the CUDA module that keeps its "device" copy in host memory and answers by
// brute force. It runs everywhere, so the host side's bookkeeping (incremental uploads,
// tombstone blocks, re-uploads, the filter mask and weights, the hits' order, the memory
// limit) is tested without a GPU: a wrong upload shows as wrong hits.

struct HostMirror {
  std::uint32_t dim = 0;
  bool half = false;
  std::vector<float> rows;  // widened
  std::vector<float> norms;
  std::vector<std::uint8_t> tombstones;
};

const edgehdf5_gpu_api& host_module_table() {
  static const edgehdf5_gpu_api table = [] {
    edgehdf5_gpu_api api{};
    api.abi_version = EDGEHDF5_GPU_ABI_VERSION;
    api.struct_size = sizeof(edgehdf5_gpu_api);
    api.mirror_create = [](std::uint32_t dim, int half, edgehdf5_gpu_mirror** out, char*,
                           std::size_t) {
      auto* mirror = new HostMirror;
      mirror->dim = dim;
      mirror->half = half != 0;
      *out = reinterpret_cast<edgehdf5_gpu_mirror*>(mirror);
      return 0;
    };
    api.mirror_destroy = [](edgehdf5_gpu_mirror* m) { delete reinterpret_cast<HostMirror*>(m); };
    api.mirror_clear = [](edgehdf5_gpu_mirror* m) {
      auto* mirror = reinterpret_cast<HostMirror*>(m);
      mirror->rows.clear();
      mirror->norms.clear();
      mirror->tombstones.clear();
    };
    api.mirror_rows = [](const edgehdf5_gpu_mirror* m) {
      return reinterpret_cast<const HostMirror*>(m)->norms.size();
    };
    api.mirror_append = [](edgehdf5_gpu_mirror* m, const void* rows, const float* norms,
                           const std::uint8_t* tombstones, std::size_t count, char*, std::size_t) {
      auto* mirror = reinterpret_cast<HostMirror*>(m);
      for (std::size_t i = 0; i < count * mirror->dim; ++i) {
        mirror->rows.push_back(mirror->half ? half_to_float(static_cast<const half_bits*>(rows)[i])
                                            : static_cast<const float*>(rows)[i]);
      }
      mirror->norms.insert(mirror->norms.end(), norms, norms + count);
      mirror->tombstones.insert(mirror->tombstones.end(), tombstones, tombstones + count);
      return 0;
    };
    api.mirror_set_tombstones = [](edgehdf5_gpu_mirror* m, std::size_t first,
                                   const std::uint8_t* values, std::size_t count, char*,
                                   std::size_t) {
      std::copy(values, values + count, reinterpret_cast<HostMirror*>(m)->tombstones.begin() +
                                            static_cast<std::ptrdiff_t>(first));
      return 0;
    };
    api.search = [](edgehdf5_gpu_mirror* m, const edgehdf5_gpu_search_request* request,
                    edgehdf5_gpu_hit* hits, std::size_t* hit_counts,
                    edgehdf5_gpu_search_report* report, char*, std::size_t) {
      const auto* mirror = reinterpret_cast<const HostMirror*>(m);
      const std::size_t rows = mirror->norms.size();
      const std::size_t capacity = std::min(request->k, rows);
      for (std::size_t q = 0; q < request->query_count; ++q) {
        core::BoundedTopK<std::size_t> top(request->k);
        const float* query = request->queries + q * mirror->dim;
        for (std::size_t row = 0; row < rows; ++row) {
          if (mirror->tombstones[row] || (request->refused && request->refused[row])) continue;
          float dot = 0.0f;
          for (std::size_t i = 0; i < mirror->dim; ++i) dot += mirror->rows[row * mirror->dim + i] * query[i];
          const float denominator = request->query_norms[q] * mirror->norms[row];
          float score = denominator != 0.0f ? dot / denominator : 0.0f;
          if (request->weights) score *= request->weights[row];
          top.offer(score, row);
        }
        std::vector<core::Scored<std::size_t>> best = top.take_sorted();
        std::reverse(best.begin(), best.end());  // the device's order is no order
        hit_counts[q] = best.size();
        for (std::size_t i = 0; i < best.size(); ++i) {
          hits[q * capacity + i] = {best[i].key, best[i].score, 0};
        }
      }
      std::snprintf(report->scorer, sizeof(report->scorer), "host-stand-in");
      return 0;
    };
    return api;
  }();
  return table;
}

gpu::GpuModule host_module(std::size_t memory_limit_bytes = std::size_t{1} << 34) {
  gpu::GpuModule module;
  module.api = &host_module_table();
  module.status = "host stand-in";
  module.memory_limit_bytes = memory_limit_bytes;
  return module;
}

TEST(GpuPath, HostSideFollowsSavesDeletesAndCompaction) {
  const gpu::GpuModule module = host_module();
  check_device_copy_follows_changes(module);
}

TEST(GpuPath, HostSidePassesFiltersAndRecencyAndSortsTheHits) {
  const gpu::GpuModule module = host_module();
  gpu::GpuSearcher searcher(module);
  for (bool half : {false, true}) {
    const MemoryColumns columns = make_columns(1500, 24, half, 31 + half);
    std::mt19937_64 rng(3);
    const std::vector<float> query = testing::random_vector(rng, 24);
    const std::vector<float> norms{compute_norm(query)};
    std::vector<SearchFilter> filters(3);
    filters[0].session_id = "s2";
    filters[1].tags = {"red"};
    filters[1].half_life_seconds = 300.0;
    filters[1].now = 2000.0;
    filters[2].after = 1200.0;
    for (std::size_t f = 0; f < filters.size(); ++f) {
      const core::RowFilter filter(filters[f], columns);
      const gpu::GpuSearchOutcome outcome = searcher.search(query, 1, norms, columns, filter, 30);
      EXPECT_EQ(outcome.scorer, "host-stand-in");
      SearchOptions options;
      options.k = 30;
      options.filter = filters[f];
      expect_same_hits(core::hits_of_rows<std::size_t>(outcome.tops[0], columns),
                       search_as(Strategy::scalar, query, columns, options), 1e-5f,
                       "filter " + std::to_string(f));
    }
  }
}

TEST(GpuPath, HostSideRefusesAStoreOverTheMemoryLimit) {
  const MemoryColumns columns = make_columns(2000, 64, false, 8);
  const std::size_t needed =
      gpu_device_bytes(SearchShape{2000, 1, EmbeddingType::float32, false, 64});
  const std::vector<float> query(64, 0.25f);
  const std::vector<float> norms{compute_norm(query)};
  SearchFilter none;
  const core::RowFilter filter(none, columns);
  const gpu::GpuModule tight = host_module(needed - 1);
  gpu::GpuSearcher refusing(tight);
  testing::expect_error([&] { refusing.search(query, 1, norms, columns, filter, 5); },
                        ErrorCode::unsupported, "MiB of device memory");
  EXPECT_EQ(refusing.device_rows(columns), 0u);
  const gpu::GpuModule enough = host_module(needed);
  gpu::GpuSearcher searching(enough);
  EXPECT_EQ(searching.search(query, 1, norms, columns, filter, 5).tops[0].size(), 5u);
}

TEST_F(Gpu, MatchesTheScalarReferenceOnTheExactEngineShapes) {
  for (bool half : {false, true}) {
    for (std::size_t dim : {1, 2, 3, 4, 7, 8, 16, 31, 64, 100, 384, 1536}) {
      for (std::size_t rows : {1, 5, 100, 2500}) {
        const MemoryColumns columns = make_columns(rows, dim, half, dim * 131 + rows + half);
        std::mt19937_64 rng(dim + rows);
        const std::vector<float> query = testing::random_vector(rng, dim);
        for (std::size_t k : {std::size_t{1}, std::size_t{10}, rows + 7}) {
          SearchOptions options;
          options.k = k;
          const std::string what = (half ? "f16" : "f32") + std::string(" dim ") +
                                   std::to_string(dim) + " rows " + std::to_string(rows) +
                                   " k " + std::to_string(k);
          const SearchResults gpu = [&] {
            options.strategy = Strategy::gpu;
            return search_with_metrics(query, columns, options);
          }();
          EXPECT_EQ(gpu.metrics.strategy, "gpu");
          EXPECT_EQ(gpu.metrics.device, gpu::gpu_module().device.name);
          expect_same_hits(gpu.hits, search_as(Strategy::scalar, query, columns, options),
                           tolerance_for(columns), what);
          for (const SearchHit& hit : gpu.hits) {
            const std::size_t row = static_cast<std::size_t>(columns.row_of(hit.id));
            EXPECT_EQ(columns.tombstones[row], 0) << what;
            EXPECT_NEAR(hit.score, reference_score(columns, query, row), tolerance_for(columns))
                << what;
          }
        }
      }
    }
  }
}

TEST_F(Gpu, AppliesEveryFilterAndRecencyBeforeTopK) {
  for (bool half : {false, true}) {
    const MemoryColumns columns = make_columns(4000, 48, half, 77 + half);
    std::mt19937_64 rng(5);
    const std::vector<float> query = testing::random_vector(rng, 48);
    std::vector<SearchFilter> filters(8);
    filters[0].session_id = "s3";
    filters[1].source_channel = "email";
    filters[2].tags = {"red"};
    filters[3].tags = {"red", "blue"};
    filters[3].all_tags = true;
    filters[4].after = 2000.0;
    filters[4].before = 2500.0;
    filters[5].half_life_seconds = 600.0;
    filters[5].now = 5000.0;
    filters[6].session_id = "no such session";
    filters[7].session_id = "s1";
    filters[7].source_channel = "chat";
    filters[7].half_life_seconds = 100.0;
    filters[7].now = 3000.0;
    for (std::size_t f = 0; f < filters.size(); ++f) {
      SearchOptions options;
      options.k = 25;
      options.filter = filters[f];
      expect_same_hits(search_as(Strategy::gpu, query, columns, options),
                       search_as(Strategy::scalar, query, columns, options),
                       tolerance_for(columns), "filter " + std::to_string(f) + (half ? " f16" : " f32"));
    }
  }
}

TEST_F(Gpu, BatchesMatchOneQueryAtATime) {
  for (bool half : {false, true}) {
    for (std::size_t dim : {5, 384}) {
      const MemoryColumns columns = make_columns(3000, dim, half, dim + half);
      for (std::size_t batch : {2, 17, 130}) {
        std::mt19937_64 rng(batch);
        std::vector<float> queries;
        for (std::size_t q = 0; q < batch; ++q) {
          const std::vector<float> query = testing::random_vector(rng, dim);
          queries.insert(queries.end(), query.begin(), query.end());
        }
        SearchOptions options;
        options.k = 12;
        options.strategy = Strategy::gpu;
        const std::vector<SearchResults> gpu =
            SearchEngine::shared().search_batch(queries, batch, columns, options);
        ASSERT_EQ(gpu.size(), batch);
        EXPECT_TRUE(contains(gpu[0].metrics.isa, "cublas")) << gpu[0].metrics.isa;
        for (std::size_t q = 0; q < batch; ++q) {
          const std::span<const float> query(queries.data() + q * dim, dim);
          expect_same_hits(gpu[q].hits, search_as(Strategy::scalar, query, columns, options),
                           tolerance_for(columns),
                           "batch " + std::to_string(batch) + " query " + std::to_string(q));
        }
      }
    }
  }
}

TEST_F(Gpu, DeviceCopyFollowsSavesDeletesAndCompaction) {
  check_device_copy_follows_changes(gpu::gpu_module());
}

TEST_F(Gpu, MemoryLimitRefusesForcedSearchesAndAutoLeavesTheStoreToTheCpu) {
  gpu::LoadSettings settings = gpu::settings_from_environment();
  settings.memory_limit_bytes = std::size_t{1} << 20;  // 1 MiB
  const gpu::GpuModule small = gpu::load_module(settings);
  ASSERT_TRUE(small.usable()) << small.status;
  EXPECT_EQ(small.memory_limit_bytes, std::size_t{1} << 20);
  const MemoryColumns columns = make_columns(5000, 384, false, 3);  // ~7.7 MB of rows
  gpu::GpuSearcher searcher(small);
  const std::vector<float> query(384, 0.5f);
  const std::vector<float> norms{compute_norm(query)};
  SearchFilter none;
  const core::RowFilter filter(none, columns);
  testing::expect_error([&] { searcher.search(query, 1, norms, columns, filter, 10); },
                        ErrorCode::unsupported, "MiB of device memory");
  HardwareCapabilities capabilities = HardwareCapabilities::detect();
  capabilities.gpu_memory_bytes = small.memory_limit_bytes;
  StrategyThresholds thresholds;
  thresholds.gpu_min_rows = 1;
  EXPECT_NE(auto_select_strategy(SearchShape{5000, 1, EmbeddingType::float32, false, 384},
                                 capabilities, thresholds),
            Strategy::gpu);
  capabilities.gpu_memory_bytes = std::size_t{1} << 30;
  EXPECT_EQ(auto_select_strategy(SearchShape{5000, 1, EmbeddingType::float32, false, 384},
                                 capabilities, thresholds),
            Strategy::gpu);
}

TEST_F(Gpu, LargeStoreSingleAndBatchMatchTheCpu) {
  for (bool half : {false, true}) {
    const std::size_t rows = 200000, dim = 384;
    MemoryColumns columns;
    columns.embedding_dim = dim;
    columns.embedding_type = half ? EmbeddingType::float16 : EmbeddingType::float32;
    std::mt19937_64 rng(half);
    for (std::size_t row = 0; row < rows; ++row) {
      testing::append_embedding(columns, testing::random_vector(rng, dim));
      columns.tombstones.push_back(row % 97 == 0 ? 1 : 0);
      columns.ids.push_back(static_cast<MemoryId>(row + 1));
      columns.chunks.push_back("");
      columns.source_channels.push_back("chat");
      columns.session_ids.push_back("s");
      columns.timestamps.push_back(0.0);
      columns.tags.push_back("");
    }
    std::vector<float> queries;
    for (std::size_t q = 0; q < 64; ++q) {
      const std::vector<float> query = testing::random_vector(rng, dim);
      queries.insert(queries.end(), query.begin(), query.end());
    }
    SearchOptions options;
    options.k = 10;
    options.strategy = Strategy::gpu;
    const std::vector<SearchResults> gpu =
        SearchEngine::shared().search_batch(queries, 64, columns, options);
    options.strategy = Strategy::parallel;
    const std::vector<SearchResults> cpu =
        SearchEngine::shared().search_batch(queries, 64, columns, options);
    for (std::size_t q = 0; q < 64; ++q) {
      expect_same_hits(gpu[q].hits, cpu[q].hits, tolerance_for(columns), "batch query " + std::to_string(q));
    }
    options.strategy = Strategy::gpu;
    const std::span<const float> first(queries.data(), dim);
    const SearchResults single = search_with_metrics(first, columns, options);
    EXPECT_TRUE(contains(single.metrics.isa, "gemv")) << single.metrics.isa;
    expect_same_hits(single.hits, cpu[0].hits, tolerance_for(columns), "single");
  }
}

}  // namespace
}  // namespace edgehdf5
