#include "core/kernels/blas.hpp"

#if EDGEHDF5_BLAS
#include <cblas.h>
#else
#include <cstdlib>
#endif

namespace edgehdf5::kernels {

#if EDGEHDF5_BLAS

void blas_dot_f32(const float* query, const float* matrix, std::size_t dim, std::size_t begin,
                  std::size_t end, float* out) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<blasint>(end - begin),
              static_cast<blasint>(dim), 1.0f, matrix + begin * dim, static_cast<blasint>(dim),
              query, 1, 0.0f, out, 1);
}

void blas_dot_f32_batch(const float* queries, std::size_t query_count, const float* matrix,
                        std::size_t dim, std::size_t begin, std::size_t end, float* out) {
  const auto rows = static_cast<blasint>(end - begin);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(query_count), rows,
              static_cast<blasint>(dim), 1.0f, queries, static_cast<blasint>(dim),
              matrix + begin * dim, static_cast<blasint>(dim), 0.0f, out, rows);
}

std::size_t blas_threads() { return static_cast<std::size_t>(openblas_get_num_threads()); }

void set_blas_threads(std::size_t threads) { openblas_set_num_threads(static_cast<int>(threads)); }

#else  // no OpenBLAS: every caller's BLAS path is discarded by `if constexpr`

void blas_dot_f32(const float*, const float*, std::size_t, std::size_t, std::size_t, float*) {
  std::abort();
}
void blas_dot_f32_batch(const float*, std::size_t, const float*, std::size_t, std::size_t,
                        std::size_t, float*) {
  std::abort();
}
std::size_t blas_threads() { std::abort(); }
void set_blas_threads(std::size_t) { std::abort(); }

#endif  // EDGEHDF5_BLAS

}  // namespace edgehdf5::kernels
