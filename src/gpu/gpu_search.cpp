#include "gpu/gpu_search.hpp"

#include <algorithm>
#include <cstring>

#include "edgehdf5/error.hpp"
#include "edgehdf5/strategy.hpp"

namespace edgehdf5::gpu {
namespace {

constexpr std::size_t kTombstoneBlock = 4096;
constexpr std::size_t kNormSamples = 64;

[[noreturn]] void fail(const std::string& what, const char* error) {
  throw Error(ErrorCode::unsupported, "gpu search: " + what + ": " + error);
}

}  // namespace

struct GpuSearcher::Mirror {
  const MemoryColumns* columns = nullptr;
  edgehdf5_gpu_mirror* handle = nullptr;
  std::size_t dim = 0;
  EmbeddingType type = EmbeddingType::float32;
  std::size_t rows = 0;               // rows on the device
  MemoryId first_id = 0, last_id = 0;  // ids of rows 0 and rows - 1 when uploaded
  std::vector<std::uint8_t> tombstones;  // what the device holds
  std::vector<std::size_t> sample_rows;  // rows whose norms are compared
  std::vector<float> sample_norms;
};

GpuSearcher::GpuSearcher(const GpuModule& module) : module_(module) {}

GpuSearcher::~GpuSearcher() {
  for (Mirror& mirror : mirrors_) module_.api->mirror_destroy(mirror.handle);
}

void GpuSearcher::forget_locked(Mirror& mirror) {
  module_.api->mirror_clear(mirror.handle);
  mirror.rows = 0;
  mirror.tombstones.clear();
  mirror.sample_rows.clear();
  mirror.sample_norms.clear();
}

GpuSearcher::Mirror& GpuSearcher::sync_locked(const MemoryColumns& columns, std::size_t batch) {
  const edgehdf5_gpu_api& api = *module_.api;
  const std::size_t rows = columns.rows();
  const SearchShape shape{rows, batch, columns.embedding_type, false, columns.embedding_dim};
  const std::size_t needed = gpu_device_bytes(shape);
  if (needed > module_.memory_limit_bytes) {
    throw Error(ErrorCode::unsupported,
                "strategy 'gpu': this search needs " + std::to_string(needed >> 20) +
                    " MiB of device memory, the GPU offers " +
                    std::to_string(module_.memory_limit_bytes >> 20) +
                    " MiB (free memory, or EDGEHDF5_GPU_MEMORY_LIMIT); use a CPU strategy");
  }
  char error[512] = {0};
  auto found = std::find_if(mirrors_.begin(), mirrors_.end(),
                            [&](const Mirror& mirror) { return mirror.columns == &columns; });
  if (found != mirrors_.end() &&
      (found->dim != columns.embedding_dim || found->type != columns.embedding_type)) {
    api.mirror_destroy(found->handle);
    mirrors_.erase(found);
    found = mirrors_.end();
  }
  if (found == mirrors_.end()) {
    if (mirrors_.size() >= kMaxMirrors) {
      api.mirror_destroy(mirrors_.back().handle);
      mirrors_.pop_back();
    }
    Mirror mirror;
    mirror.columns = &columns;
    mirror.dim = columns.embedding_dim;
    mirror.type = columns.embedding_type;
    if (api.mirror_create(static_cast<std::uint32_t>(mirror.dim),
                          mirror.type == EmbeddingType::float16 ? 1 : 0, &mirror.handle, error,
                          sizeof(error)) != 0) {
      fail("creating the device copy", error);
    }
    mirrors_.push_front(std::move(mirror));
  } else {
    mirrors_.splice(mirrors_.begin(), mirrors_, found);
  }
  Mirror& mirror = mirrors_.front();

  // Is the device copy a prefix of these columns?
  bool prefix = mirror.rows <= rows;
  if (prefix && mirror.rows > 0) {
    prefix = columns.ids[0] == mirror.first_id && columns.ids[mirror.rows - 1] == mirror.last_id;
    for (std::size_t i = 0; prefix && i < mirror.sample_rows.size(); ++i) {
      prefix = columns.norms[mirror.sample_rows[i]] == mirror.sample_norms[i];
    }
  }
  if (!prefix) forget_locked(mirror);

  // Deletes since the last search: upload the tombstone blocks that changed.
  const std::uint8_t* tombstones = columns.tombstones.data();
  for (std::size_t block = 0; block < mirror.rows; block += kTombstoneBlock) {
    const std::size_t count = std::min(kTombstoneBlock, mirror.rows - block);
    if (std::memcmp(tombstones + block, mirror.tombstones.data() + block, count) == 0) continue;
    if (api.mirror_set_tombstones(mirror.handle, block, tombstones + block, count, error,
                                  sizeof(error)) != 0) {
      forget_locked(mirror);
      fail("uploading tombstones", error);
    }
    std::memcpy(mirror.tombstones.data() + block, tombstones + block, count);
    tombstone_bytes_uploaded_ += count;
  }

  // Saves since the last search: upload the new rows.
  if (rows > mirror.rows) {
    const std::size_t first = mirror.rows;
    const std::size_t count = rows - first;
    const void* values =
        mirror.type == EmbeddingType::float16
            ? static_cast<const void*>(columns.embeddings_f16.data() + first * mirror.dim)
            : static_cast<const void*>(columns.embeddings_f32.data() + first * mirror.dim);
    if (api.mirror_append(mirror.handle, values, columns.norms.data() + first,
                          tombstones + first, count, error, sizeof(error)) != 0) {
      forget_locked(mirror);
      fail("uploading rows", error);
    }
    mirror.tombstones.insert(mirror.tombstones.end(), tombstones + first, tombstones + rows);
    mirror.rows = rows;
    rows_uploaded_ += count;
    mirror.first_id = columns.ids.front();
    mirror.last_id = columns.ids.back();
    mirror.sample_rows.clear();
    mirror.sample_norms.clear();
    const std::size_t samples = std::min(kNormSamples, rows);
    for (std::size_t i = 0; i < samples; ++i) {
      const std::size_t row = rows * i / samples;
      mirror.sample_rows.push_back(row);
      mirror.sample_norms.push_back(columns.norms[row]);
    }
  }
  return mirror;
}

GpuSearchOutcome GpuSearcher::search(std::span<const float> queries, std::size_t query_count,
                                     std::span<const float> query_norms,
                                     const MemoryColumns& columns, const core::RowFilter& filter,
                                     std::size_t k, bool force_cublas) {
  const std::size_t rows = columns.rows();
  // The filter's verdicts and weights are built here, on the CPU, with the very RowFilter
  // the CPU strategies use, so both paths mean the same by every filter.
  std::vector<std::uint8_t> refused;
  std::vector<float> weights;
  if (!filter.metadata_free()) {
    refused.resize(rows);
    for (std::size_t row = 0; row < rows; ++row) refused[row] = filter.accepts(row) ? 0 : 1;
  }
  if (filter.weights_recency()) {
    weights.resize(rows);
    for (std::size_t row = 0; row < rows; ++row) weights[row] = filter.recency_weight(row);
  }

  std::lock_guard lock(mutex_);
  Mirror& mirror = sync_locked(columns, query_count);
  const std::size_t capacity = std::min(k, rows);
  std::vector<edgehdf5_gpu_hit> hits(query_count * capacity);
  std::vector<std::size_t> counts(query_count, 0);
  edgehdf5_gpu_search_request request{};
  request.queries = queries.data();
  request.query_norms = query_norms.data();
  request.query_count = query_count;
  request.k = k;
  request.refused = refused.empty() ? nullptr : refused.data();
  request.weights = weights.empty() ? nullptr : weights.data();
  request.force_cublas = force_cublas ? 1 : 0;
  edgehdf5_gpu_search_report report{};
  char error[512] = {0};
  if (module_.api->search(mirror.handle, &request, hits.data(), counts.data(), &report, error,
                          sizeof(error)) != 0) {
    fail("searching", error);
  }

  GpuSearchOutcome outcome;
  outcome.scorer = report.scorer;
  outcome.device_ms = report.device_ms;
  outcome.tops.resize(query_count);
  for (std::size_t q = 0; q < query_count; ++q) {
    auto& top = outcome.tops[q];
    top.reserve(counts[q]);
    for (std::size_t i = 0; i < counts[q]; ++i) {
      const edgehdf5_gpu_hit& hit = hits[q * capacity + i];
      top.push_back({hit.score, static_cast<std::size_t>(hit.row)});
    }
    // The device hands back its k in no order; the library's order is score, then row.
    std::sort(top.begin(), top.end(), core::ranks_before<std::size_t>);
  }
  return outcome;
}

std::size_t GpuSearcher::device_rows(const MemoryColumns& columns) const {
  std::lock_guard lock(mutex_);
  for (const Mirror& mirror : mirrors_) {
    if (mirror.columns == &columns) return mirror.rows;
  }
  return 0;
}

std::size_t GpuSearcher::rows_uploaded() const {
  std::lock_guard lock(mutex_);
  return rows_uploaded_;
}

std::size_t GpuSearcher::tombstone_bytes_uploaded() const {
  std::lock_guard lock(mutex_);
  return tombstone_bytes_uploaded_;
}

double GpuSearcher::time_scores_only(std::span<const float> queries, std::size_t query_count,
                                     const MemoryColumns& columns, std::size_t repeats) {
  std::lock_guard lock(mutex_);
  Mirror& mirror = sync_locked(columns, query_count);
  double milliseconds = 0.0;
  char error[512] = {0};
  if (module_.api->time_scores_only(mirror.handle, queries.data(), query_count, repeats,
                                    &milliseconds, error, sizeof(error)) != 0) {
    fail("timing cuBLAS", error);
  }
  return milliseconds;
}

}  // namespace edgehdf5::gpu
