#pragma once
// OpenBLAS behind EDGEHDF5_BLAS: the same contract as the kernels in kernels/kernels.hpp.

#include <cstddef>

namespace edgehdf5::search {

// out[row - begin] = dot(query, matrix[row]) by cblas_sgemv.
void blas_dot_f32(const float* query, const float* matrix, std::size_t dim, std::size_t begin,
                  std::size_t end, float* out);
// out[q * (end - begin) + row - begin] by one cblas_sgemm.
void blas_dot_f32_batch(const float* queries, std::size_t query_count, const float* matrix,
                        std::size_t dim, std::size_t begin, std::size_t end, float* out);
// OpenBLAS's own thread count (it parallelises large calls itself).
std::size_t blas_threads();

}  // namespace edgehdf5::search
