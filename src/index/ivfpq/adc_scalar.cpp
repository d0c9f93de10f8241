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

// Kept out of the per-target file on purpose: built with the baseline flags, the compiler
// cannot turn these loads back into gathers. (Reading each code's bytes as 64-bit words and
// shifting them apart measured no faster here.)
void scan_with_loads(const float* table, const std::uint8_t* codes, std::size_t count,
                     std::size_t sub_quantizers, float base, float* out) {
  const std::size_t m = sub_quantizers;
  const std::size_t pairs = m - m % 2;
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const std::uint8_t* a = codes + i * m;
    const std::uint8_t* b = a + m;
    const std::uint8_t* c = b + m;
    const std::uint8_t* d = c + m;
    float a0 = base, a1 = 0.0f, b0 = base, b1 = 0.0f, c0 = base, c1 = 0.0f, d0 = base, d1 = 0.0f;
    const float* even = table;
    for (std::size_t s = 0; s < pairs; s += 2, even += 2 * kCodewords) {
      const float* odd = even + kCodewords;
      a0 += even[a[s]];
      a1 += odd[a[s + 1]];
      b0 += even[b[s]];
      b1 += odd[b[s + 1]];
      c0 += even[c[s]];
      c1 += odd[c[s + 1]];
      d0 += even[d[s]];
      d1 += odd[d[s + 1]];
    }
    if (pairs < m) {
      a0 += even[a[pairs]];
      b0 += even[b[pairs]];
      c0 += even[c[pairs]];
      d0 += even[d[pairs]];
    }
    out[i] = a0 + a1;
    out[i + 1] = b0 + b1;
    out[i + 2] = c0 + c1;
    out[i + 3] = d0 + d1;
  }
  if (i < count) scan_scalar(table, codes + i * m, count - i, m, base, out + i);
}

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
