#pragma once
// The peers edgehdf5's exact search is measured beside in the same run: FAISS IndexFlatIP
// (Debian's libfaiss-dev) and a plain OpenBLAS sgemv/sgemm over the whole matrix followed by
// a heap top-k, the way a numpy-free program would do it. Either may be missing from a
// build (bench/CMakeLists.txt finds them); available() says so, and constructing a missing
// one throws edgehdf5::Error(unsupported).
//
// Both take unit vectors, so their inner products are cosine similarities.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace edgehdf5::bench {

// One of a peer's k best rows for one query.
struct PeerHit {
  std::int64_t row = -1;
  float score = 0.0f;
};

// FAISS IndexFlatIP holding its own copy of the vectors. Not thread-safe: one caller at a
// time (FAISS threads internally with OpenMP).
class FaissFlatPeer {
 public:
  static bool available() noexcept;
  // FAISS's version, or why it is missing.
  static std::string description();

  FaissFlatPeer(const float* vectors, std::size_t rows, std::size_t dim);
  ~FaissFlatPeer();
  FaissFlatPeer(const FaissFlatPeer&) = delete;
  FaissFlatPeer& operator=(const FaissFlatPeer&) = delete;

  // Threads for the following searches: OpenMP's, and OpenBLAS's too, since FAISS hands
  // batches of 20 queries or more to sgemm.
  void use_threads(std::size_t threads);
  // The k best rows of each of query_count queries (row-major, query_count * dim floats);
  // out gets query_count * k hits, best first per query.
  void search(const float* queries, std::size_t query_count, std::size_t k,
              std::vector<PeerHit>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// cblas_sgemv (one query) or cblas_sgemm (a batch) over the whole row-major matrix into a
// score buffer, then a bounded heap per query. Borrows the matrix: it must outlive the peer.
// Not thread-safe (the score buffer is reused).
class OpenBlasPeer {
 public:
  static bool available() noexcept;
  static std::string description();

  // Allocates (and touches) the score buffer for up to max_queries queries at once, so that
  // no timed call pays for it.
  OpenBlasPeer(const float* matrix, std::size_t rows, std::size_t dim, std::size_t max_queries);

  void use_threads(std::size_t threads);
  void search(const float* queries, std::size_t query_count, std::size_t k,
              std::vector<PeerHit>& out);

 private:
  const float* matrix_;
  std::size_t rows_;
  std::size_t dim_;
  std::vector<float> scores_;
};

// OpenBLAS's thread count for everything in this process that calls it, edgehdf5's blas
// strategy included; 1 without OpenBLAS.
std::size_t openblas_threads();
void set_openblas_threads(std::size_t threads);

}  // namespace edgehdf5::bench
