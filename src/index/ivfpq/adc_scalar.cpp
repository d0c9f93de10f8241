// The scalar reference of the IVF-PQ kernels (adc.hpp): plain loops, the truth the SIMD
// sets are tested against.

#include <limits>

#include "index/ivfpq/adc.hpp"

namespace edgehdf5::ivfpq {
namespace {

void table_scalar(const float* query, const float* transposed, std::size_t sub_quantizers,
                  std::size_t sub_dim, float* table) {
  for (std::size_t s = 0; s < sub_quantizers; ++s) {
    const float* q = query + s * sub_dim;
    const float* words = transposed + s * sub_dim * kCodewords;
    for (std::size_t c = 0; c < kCodewords; ++c) {
      float sum = 0.0f;
      for (std::size_t j = 0; j < sub_dim; ++j) sum += q[j] * words[j * kCodewords + c];
      table[s * kCodewords + c] = sum;
    }
  }
}

void scan_scalar(const float* table, const std::uint8_t* codes, std::size_t count,
                 std::size_t sub_quantizers, float base, float* out) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* code = codes + i * sub_quantizers;
    float sum = base;
    for (std::size_t s = 0; s < sub_quantizers; ++s) sum += table[s * kCodewords + code[s]];
    out[i] = sum;
  }
}

void encode_scalar(const float* vector, const float* transposed, std::size_t sub_quantizers,
                   std::size_t sub_dim, std::uint8_t* code) {
  for (std::size_t s = 0; s < sub_quantizers; ++s) {
    const float* x = vector + s * sub_dim;
    const float* words = transposed + s * sub_dim * kCodewords;
    float best = std::numeric_limits<float>::infinity();
    std::size_t best_word = 0;
    for (std::size_t c = 0; c < kCodewords; ++c) {
      float distance = 0.0f;
      for (std::size_t j = 0; j < sub_dim; ++j) {
        const float diff = x[j] - words[j * kCodewords + c];
        distance += diff * diff;
      }
      if (distance < best) {
        best = distance;
        best_word = c;
      }
    }
    code[s] = static_cast<std::uint8_t>(best_word);
  }
}

}  // namespace

AdcKernels scalar_adc_kernels() { return {"scalar", table_scalar, scan_scalar, encode_scalar}; }

std::vector<float> transpose_codebooks(const std::vector<float>& codebooks,
                                       std::size_t sub_quantizers, std::size_t sub_dim) {
  std::vector<float> transposed(codebooks.size());
  for (std::size_t s = 0; s < sub_quantizers; ++s) {
    for (std::size_t c = 0; c < kCodewords; ++c) {
      for (std::size_t j = 0; j < sub_dim; ++j) {
        transposed[(s * sub_dim + j) * kCodewords + c] =
            codebooks[(s * kCodewords + c) * sub_dim + j];
      }
    }
  }
  return transposed;
}

}  // namespace edgehdf5::ivfpq
