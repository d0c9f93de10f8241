#include "exact_peers.hpp"

#include <algorithm>

#include "edgehdf5/error.hpp"

#ifndef EDGEHDF5_BENCH_FAISS
#define EDGEHDF5_BENCH_FAISS 0
#endif
#ifndef EDGEHDF5_BENCH_OPENBLAS
#define EDGEHDF5_BENCH_OPENBLAS 0
#endif

#if EDGEHDF5_BENCH_FAISS
#include <faiss/IndexFlat.h>
#include <omp.h>
#endif
#if EDGEHDF5_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace edgehdf5::bench {

// --- OpenBLAS threads -----------------------------------------------------------------------

std::size_t openblas_threads() {
#if EDGEHDF5_BENCH_OPENBLAS
  return static_cast<std::size_t>(openblas_get_num_threads());
#else
  return 1;
#endif
}

void set_openblas_threads(std::size_t threads) {
#if EDGEHDF5_BENCH_OPENBLAS
  openblas_set_num_threads(static_cast<int>(threads));
#else
  (void)threads;
#endif
}

// --- FAISS IndexFlatIP ----------------------------------------------------------------------

#if EDGEHDF5_BENCH_FAISS

struct FaissFlatPeer::Impl {
  explicit Impl(std::size_t dim) : index(static_cast<faiss::Index::idx_t>(dim)) {}
  faiss::IndexFlatIP index;
  std::vector<float> distances;
  std::vector<faiss::Index::idx_t> labels;
};

bool FaissFlatPeer::available() noexcept { return true; }

std::string FaissFlatPeer::description() {
  return "FAISS " + std::to_string(FAISS_VERSION_MAJOR) + "." +
         std::to_string(FAISS_VERSION_MINOR) + "." + std::to_string(FAISS_VERSION_PATCH) +
         " IndexFlatIP (libfaiss-dev)";
}

FaissFlatPeer::FaissFlatPeer(const float* vectors, std::size_t rows, std::size_t dim)
    : impl_(std::make_unique<Impl>(dim)) {
  impl_->index.add(static_cast<faiss::Index::idx_t>(rows), vectors);
}

void FaissFlatPeer::use_threads(std::size_t threads) {
  omp_set_num_threads(static_cast<int>(threads));
  set_openblas_threads(threads);
}

void FaissFlatPeer::search(const float* queries, std::size_t query_count, std::size_t k,
                           std::vector<PeerHit>& out) {
  impl_->distances.resize(query_count * k);
  impl_->labels.resize(query_count * k);
  impl_->index.search(static_cast<faiss::Index::idx_t>(query_count), queries,
                      static_cast<faiss::Index::idx_t>(k), impl_->distances.data(),
                      impl_->labels.data());
  out.resize(query_count * k);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = {impl_->labels[i], impl_->distances[i]};
}

#else

struct FaissFlatPeer::Impl {};

bool FaissFlatPeer::available() noexcept { return false; }

std::string FaissFlatPeer::description() {
  return "FAISS not found at configure time (install libfaiss-dev and reconfigure)";
}

FaissFlatPeer::FaissFlatPeer(const float*, std::size_t, std::size_t) {
  throw Error(ErrorCode::unsupported, description());
}

void FaissFlatPeer::use_threads(std::size_t) {}

void FaissFlatPeer::search(const float*, std::size_t, std::size_t, std::vector<PeerHit>&) {}

#endif

FaissFlatPeer::~FaissFlatPeer() = default;

// --- OpenBLAS sgemv + heap ------------------------------------------------------------------

bool OpenBlasPeer::available() noexcept { return EDGEHDF5_BENCH_OPENBLAS != 0; }

std::string OpenBlasPeer::description() {
#if EDGEHDF5_BENCH_OPENBLAS
  return std::string(openblas_get_config()) + ", core " + openblas_get_corename();
#else
  return "OpenBLAS not found at configure time (EDGEHDF5_BLAS=OFF or libopenblas-dev missing)";
#endif
}

OpenBlasPeer::OpenBlasPeer(const float* matrix, std::size_t rows, std::size_t dim,
                           std::size_t max_queries)
    : matrix_(matrix), rows_(rows), dim_(dim) {
  if (!available()) throw Error(ErrorCode::unsupported, description());
  scores_.assign(rows * std::max<std::size_t>(1, max_queries), 0.0f);
}

void OpenBlasPeer::use_threads(std::size_t threads) { set_openblas_threads(threads); }

void OpenBlasPeer::search(const float* queries, std::size_t query_count, std::size_t k,
                          std::vector<PeerHit>& out) {
#if EDGEHDF5_BENCH_OPENBLAS
  const auto rows = static_cast<blasint>(rows_);
  const auto dim = static_cast<blasint>(dim_);
  if (query_count == 1) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, dim, 1.0f, matrix_, dim, queries, 1, 0.0f,
                scores_.data(), 1);
  } else {
    // scores (query_count x rows) = queries (query_count x dim) * matrix^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(query_count), rows,
                dim, 1.0f, queries, dim, matrix_, dim, 0.0f, scores_.data(), rows);
  }
#else
  (void)queries;
#endif
  // A min-heap of the k best: its top is the worst kept. On equal scores the earlier row
  // stays, as in edgehdf5 and FAISS.
  auto worse = [](const PeerHit& a, const PeerHit& b) { return a.score > b.score; };
  out.clear();
  std::vector<PeerHit> heap;
  heap.reserve(k);
  for (std::size_t q = 0; q < query_count; ++q) {
    const float* scores = scores_.data() + q * rows_;
    heap.clear();
    for (std::size_t row = 0; row < rows_; ++row) {
      if (heap.size() < k) {
        heap.push_back({static_cast<std::int64_t>(row), scores[row]});
        std::push_heap(heap.begin(), heap.end(), worse);
      } else if (scores[row] > heap.front().score) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        heap.back() = {static_cast<std::int64_t>(row), scores[row]};
        std::push_heap(heap.begin(), heap.end(), worse);
      }
    }
    std::sort_heap(heap.begin(), heap.end(), worse);  // best first
    out.insert(out.end(), heap.begin(), heap.end());
  }
}

}  // namespace edgehdf5::bench
