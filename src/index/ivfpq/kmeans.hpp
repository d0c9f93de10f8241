#pragma once
// k-means for the IVF-PQ coarse quantiser and codebooks: k-means++ seeding, Lloyd
// iterations, empty-cluster repair, and the nearest-centroid assignment they share with
// IVFPQIndex::sync. Row-major float matrices throughout.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/thread_pool.hpp"

namespace edgehdf5::ivfpq {

// While alive, OpenBLAS runs each call on the calling thread. The build splits its work
// across the process thread pool itself (so that the argmin after each sgemm is parallel
// too), and OpenBLAS's own threads on top of ours would only contend for the same cores.
// Not reentrant across threads: one build at a time changes the process-wide setting.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  std::size_t previous_ = 1;
};

// For each of `count` points, the nearest (L2) of `k` centroids and its squared distance
// (either output may be null). Uses OpenBLAS sgemm when built with it (blocks of points
// against all centroids, |x|^2 - 2 x.c + |c|^2), else the SIMD batch dot kernels; the
// points are split into `threads` ranges (parallel_ranges; hold a SingleThreadedBlas around
// it).
void assign_nearest(const float* points, std::size_t count, const float* centroids,
                    std::size_t k, std::size_t dim, std::size_t threads,
                    std::uint32_t* labels, float* distances);

struct KMeansResult {
  std::vector<float> centroids;  // k * dim
  double mean_error = 0.0;       // mean squared distance of the points to their centroid
};

// Lloyd's k-means on `count` points. Seeding: k-means++ (D^2 sampling) over a random subset
// of at most 8 * k points, so seeding costs no more than about two Lloyd iterations.
// An empty cluster is repaired by splitting the largest one (its centroid nudged both ways,
// as FAISS does). Deterministic in `seed` for a given thread count.
// REQUIRES: k >= 1, count >= k.
KMeansResult kmeans(const float* points, std::size_t count, std::size_t dim, std::size_t k,
                    std::size_t iterations, std::uint64_t seed, std::size_t threads);

// Runs body(begin, end) over [0, count) split into `threads` contiguous ranges of
// ceil(count / threads) items (the last one shorter), each a task of
// core::process_thread_pool(); the whole range on the calling thread when threads <= 1 or
// count < 2 * threads. The split depends only on count and threads, never on the pool's
// size, so a build's result does not depend on the machine's cores (at most the pool's
// size of ranges run at once). A body that runs parallel_ranges again gets its ranges run
// inline (the pool's rule for nested runs). Rethrows the first exception a body throws.
template <typename Body>
void parallel_ranges(std::size_t count, std::size_t threads, Body&& body) {
  if (threads <= 1 || count < 2 * threads) {
    body(std::size_t{0}, count);
    return;
  }
  const std::size_t share = (count + threads - 1) / threads;
  const std::size_t ranges = (count + share - 1) / share;  // the non-empty ones
  core::process_thread_pool().run(ranges, [&](std::size_t range) {
    const std::size_t begin = range * share;
    body(begin, std::min(count, begin + share));
  });
}

}  // namespace edgehdf5::ivfpq
