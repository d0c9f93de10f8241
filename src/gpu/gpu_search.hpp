#pragma once
// Strategy::gpu's host side: device copies of the stores an engine searches, kept current,
// and the search call into the CUDA module.
//
// Keeping a device copy current. The engine is handed a MemoryColumns per search, not told
// of saves and deletes, so each search compares the columns with what the copy was made
// from:
//   - rows appended since (the ids at the copy's first and last row are where they were):
//     only the new rows are uploaded;
//   - tombstones: compared with a host shadow of the uploaded ones in 4 KiB blocks; only
//     blocks that differ are uploaded (a delete flips one byte there);
//   - anything else (compaction moved rows, a different store at the same address: the
//     ids at the ends or 64 sampled norms differ): the copy is re-uploaded whole.
// A copy is keyed by the columns' address; an engine keeps at most kMaxMirrors of them
// (least recently used goes first).

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/row_filter.hpp"
#include "core/top_k.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "gpu/gpu_loader.hpp"

namespace edgehdf5::gpu {

struct GpuSearchOutcome {
  std::vector<std::vector<core::Scored<std::size_t>>> tops;  // per query, best first
  std::string scorer;  // the module's scorer ("cuda-gemv-f32", "cublas-sgemm", ...)
  double device_ms = 0.0;
};

// Thread-safe: searches are serialised on one lock (one device, one stream).
class GpuSearcher {
 public:
  static constexpr std::size_t kMaxMirrors = 4;

  // REQUIRES: module.usable().
  explicit GpuSearcher(const GpuModule& module);
  ~GpuSearcher();
  GpuSearcher(const GpuSearcher&) = delete;
  GpuSearcher& operator=(const GpuSearcher&) = delete;

  // The top `k` rows per query that `filter` accepts. `queries` holds query_count checked
  // queries; `query_norms` their norms. Throws unsupported when the device copy would need
  // more than the module's memory limit, and unsupported with the module's words when the
  // device fails (out of memory, a CUDA error): the caller may retry on the CPU.
  GpuSearchOutcome search(std::span<const float> queries, std::size_t query_count,
                          std::span<const float> query_norms, const MemoryColumns& columns,
                          const core::RowFilter& filter, std::size_t k, bool force_cublas = false);

  // Rows of `columns` now on the device (0 when it has no copy): for tests of the
  // incremental upload.
  std::size_t device_rows(const MemoryColumns& columns) const;
  // Rows uploaded and tombstone bytes uploaded since this searcher was made.
  std::size_t rows_uploaded() const;
  std::size_t tombstone_bytes_uploaded() const;

  // Benchmarks: cuBLAS scores only for `queries` over the device copy of `columns`
  // (synced first), median milliseconds of `repeats`.
  double time_scores_only(std::span<const float> queries, std::size_t query_count,
                          const MemoryColumns& columns, std::size_t repeats);

 private:
  struct Mirror;
  Mirror& sync_locked(const MemoryColumns& columns, std::size_t batch);
  void forget_locked(Mirror& mirror);

  const GpuModule& module_;
  mutable std::mutex mutex_;
  std::list<Mirror> mirrors_;  // most recently used first
  std::size_t rows_uploaded_ = 0;
  std::size_t tombstone_bytes_uploaded_ = 0;
};

}  // namespace edgehdf5::gpu
