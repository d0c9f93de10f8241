#pragma once
// The IVF-PQ kernels, one set per instruction set (adc_simd.cpp, Highway runtime dispatch)
// plus the scalar reference (adc_scalar.cpp) they are tested against. They know nothing of
// lists, filters or HDF5.
//
// Layouts: codebooks are sub_quantizers blocks of 256 codewords of sub_dim floats
// (codebook[s][c][j]); `transposed` codebooks hold the same values as [s][j][c], so that a
// vector of lanes covers consecutive codewords. A code is sub_quantizers bytes.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgehdf5::ivfpq {

inline constexpr std::size_t kCodewords = 256;  // 8-bit codes

// table[s * 256 + c] = dot(query[s * sub_dim ...], codebook[s][c]), from the transposed
// codebooks.
using AdcTableFn = void (*)(const float* query, const float* transposed_codebooks,
                            std::size_t sub_quantizers, std::size_t sub_dim, float* table);
// out[i] = base + sum over s of table[s * 256 + codes[i * sub_quantizers + s]], i < count.
using AdcScanFn = void (*)(const float* table, const std::uint8_t* codes, std::size_t count,
                           std::size_t sub_quantizers, float base, float* out);
// code[s] = the codeword of slice s nearest (L2) to vector's slice s; ties: the lower one.
using PqEncodeFn = void (*)(const float* vector, const float* transposed_codebooks,
                            std::size_t sub_quantizers, std::size_t sub_dim,
                            std::uint8_t* code);

struct AdcKernels {
  const char* isa = "scalar";
  AdcTableFn table = nullptr;
  AdcScanFn scan = nullptr;
  PqEncodeFn encode = nullptr;
  const char* scan_kind = "scalar";  // "gather" (SIMD gathers) or "loads" (scan_with_loads)
};

AdcKernels scalar_adc_kernels();
// The scan as independent scalar loads: four codes at a time, two running sums each, so
// that eight additions are in flight. No gathers: on CPUs whose gathers are microcoded (AMD
// before Zen 4) this is several times faster than the SIMD scan; elsewhere about as fast.
void scan_with_loads(const float* table, const std::uint8_t* codes, std::size_t count,
                     std::size_t sub_quantizers, float base, float* out);
// The best set for this CPU: the SIMD table and encoder, and whichever scan (SIMD gathers or
// scan_with_loads) ran a 4096-code list faster when first asked (measured once per process,
// about a millisecond). Thread-safe.
AdcKernels best_adc_kernels();
// Every SIMD set compiled in that this CPU runs, best first, each with its gather scan and
// again with scan_with_loads (for tests). Thread-safe; like best_adc_kernels(), it leaves
// Highway's process-wide target choice alone (core/kernels/highway_dispatch.hpp).
std::vector<AdcKernels> all_adc_kernels();

// codebook[s][c][j] -> transposed[s][j][c].
std::vector<float> transpose_codebooks(const std::vector<float>& codebooks,
                                       std::size_t sub_quantizers, std::size_t sub_dim);

}  // namespace edgehdf5::ivfpq
