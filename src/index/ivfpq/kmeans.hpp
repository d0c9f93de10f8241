#pragma once
// k-means for the IVF-PQ coarse quantiser and codebooks: k-means++ seeding, Lloyd
// iterations, empty-cluster repair, and the nearest-centroid assignment they share with
// IVFPQIndex::sync. Row-major float matrices throughout.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgehdf5::ivfpq {

// While alive, OpenBLAS runs each call on the calling thread. The build splits its work
// across std::threads itself (so that the argmin after each sgemm is parallel too), and
// OpenBLAS's own threads on top of ours would only contend for the same cores.
// Not reentrant across threads: one build at a time changes the process-wide setting.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int previous_ = 1;
};

// For each of `count` points, the nearest (L2) of `k` centroids and its squared distance
// (either output may be null). Uses OpenBLAS sgemm when built with it (blocks of points
// against all centroids, |x|^2 - 2 x.c + |c|^2), else the SIMD batch dot kernels; the
// points are split across `threads` std::threads (hold a SingleThreadedBlas around it).
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

// Runs body(begin, end) over [0, count) split into `threads` contiguous ranges, one
// std::thread each beyond the calling thread's.
template <typename Body>
void parallel_ranges(std::size_t count, std::size_t threads, Body&& body);

}  // namespace edgehdf5::ivfpq

#include <thread>

template <typename Body>
void edgehdf5::ivfpq::parallel_ranges(std::size_t count, std::size_t threads, Body&& body) {
  if (threads <= 1 || count < 2 * threads) {
    body(std::size_t{0}, count);
    return;
  }
  std::vector<std::thread> workers;
  const std::size_t share = (count + threads - 1) / threads;
  for (std::size_t t = 1; t < threads; ++t) {
    const std::size_t begin = std::min(count, t * share);
    const std::size_t end = std::min(count, begin + share);
    if (begin < end) workers.emplace_back([&body, begin, end] { body(begin, end); });
  }
  body(std::size_t{0}, std::min(count, share));
  for (std::thread& worker : workers) worker.join();
}
