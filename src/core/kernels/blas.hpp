#pragma once
// OpenBLAS behind EDGEHDF5_BLAS: the same contract as the kernels in kernels.hpp, plus
// control of OpenBLAS's own threads.
//
// The build switch lives here and in blas.cpp only. Callers write
// `if constexpr (kBlasCompiledIn)` around a BLAS path: a build without OpenBLAS then drops
// that path, while the code still compiles the same in both builds (no #if around callers).
// Without OpenBLAS the functions exist but abort: nothing may reach them.

#include <cstddef>

#ifndef EDGEHDF5_BLAS
#define EDGEHDF5_BLAS 0  // (the library's CMake target always defines it, 0 or 1)
#endif

namespace edgehdf5::kernels {

inline constexpr bool kBlasCompiledIn = EDGEHDF5_BLAS != 0;

// out[row - begin] = dot(query, matrix[row]) by cblas_sgemv.
void blas_dot_f32(const float* query, const float* matrix, std::size_t dim, std::size_t begin,
                  std::size_t end, float* out);
// out[q * (end - begin) + row - begin] by one cblas_sgemm.
void blas_dot_f32_batch(const float* queries, std::size_t query_count, const float* matrix,
                        std::size_t dim, std::size_t begin, std::size_t end, float* out);
// OpenBLAS's own thread count (it parallelises large calls itself).
std::size_t blas_threads();
// Sets it for the whole process (OpenBLAS has no per-call setting). Not thread-safe.
void set_blas_threads(std::size_t threads);

}  // namespace edgehdf5::kernels
