#pragma once
// Dot-product kernels over a row-major embedding matrix, one set per instruction set.
//
// Every kernel computes out[row - begin] = dot(query, matrix[row]) for rows [begin, end).
// The batch kernels do the same for `query_count` queries at once (query-major output:
// out[q * (end - begin) + (row - begin)]), reading each row from memory once for all of
// them. The dot kernels know nothing of norms, filters or top-k; to_cosines and
// first_at_least are the two steps between them and a top-k that run over every score.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgehdf5::kernels {

using DotRowsF32 = void (*)(const float* query, const float* matrix, std::size_t dim,
                            std::size_t begin, std::size_t end, float* out);
using DotRowsF16 = void (*)(const float* query, const std::uint16_t* matrix, std::size_t dim,
                            std::size_t begin, std::size_t end, float* out);
using DotRowsF32Batch = void (*)(const float* queries, std::size_t query_count,
                                 const float* matrix, std::size_t dim, std::size_t begin,
                                 std::size_t end, float* out);
using DotRowsF16Batch = void (*)(const float* queries, std::size_t query_count,
                                 const std::uint16_t* matrix, std::size_t dim,
                                 std::size_t begin, std::size_t end, float* out);

// out[i] = the IEEE half bits[i] as float, for i < count (exact: every half is a float).
using WidenF16 = void (*)(const std::uint16_t* bits, std::size_t count, float* out);

// out[i] = bits[i]'s float rounded to the nearest IEEE half (ties to even), exactly as
// float_to_half, for i < count. Not for NaN (whose payload bits may differ): the store
// refuses NaN before anything is narrowed.
using NarrowF32 = void (*)(const float* values, std::size_t count, std::uint16_t* out);

// values[i] = values[i] / (query_norm * norms[i]) in place, for i < count: dot products
// turned into cosines; 0 where that denominator is 0. Every kernel set rounds alike (one
// product, one division).
using ToCosines = void (*)(float* values, const float* norms, std::size_t count,
                           float query_norm);

// The first i < count with !(values[i] < limit) (a score a top-k whose threshold is `limit`
// would look at), or count when there is none.
using FirstAtLeast = std::size_t (*)(const float* values, std::size_t count, float limit);

struct KernelSet {
  const char* isa = "scalar";  // the instruction set these kernels were compiled for
  DotRowsF32 dot_f32 = nullptr;
  DotRowsF16 dot_f16 = nullptr;
  DotRowsF32Batch dot_f32_batch = nullptr;
  DotRowsF16Batch dot_f16_batch = nullptr;
  WidenF16 widen_f16 = nullptr;
  NarrowF32 narrow_f32 = nullptr;
  ToCosines to_cosines = nullptr;
  FirstAtLeast first_at_least = nullptr;
};

// The plain C++ reference: the truth every other kernel set is tested against.
KernelSet scalar_kernels();

// The best SIMD kernel set this CPU supports (Highway's runtime dispatch: AVX-512, AVX2,
// SSE4, NEON, ...). Resolved on the first call, then the same set every time; Highway's
// process-wide target choice is left as it is (see highway_dispatch.hpp). Thread-safe.
KernelSet best_simd_kernels();

// Every SIMD kernel set compiled in that this CPU can run, best first (for tests).
// Thread-safe; changes no global state.
std::vector<KernelSet> all_simd_kernels();

}  // namespace edgehdf5::kernels
