#include "edgehdf5/half.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "core/kernels/kernels.hpp"

namespace edgehdf5 {

half_bits float_to_half(float value) noexcept {
  const std::uint32_t f = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (f >> 16) & 0x8000u;
  const std::uint32_t abs = f & 0x7fffffffu;

  if (abs >= 0x7f800000u) {  // Inf or NaN: keep NaN a (quiet) NaN
    return static_cast<half_bits>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) {  // rounds to a value >= 65520: overflow to infinity
    return static_cast<half_bits>(sign | 0x7c00u);
  }
  if (abs < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    // Work in units of 2^-24 (the smallest subnormal half), rounding to nearest even.
    const std::uint32_t mantissa = (abs & 0x007fffffu) | 0x00800000u;
    const int shift = 126 - static_cast<int>(abs >> 23);  // 14 + 113 - exponent - 1
    if (shift > 24) return static_cast<half_bits>(sign);  // rounds to zero
    const std::uint32_t shifted = mantissa >> shift;
    const std::uint32_t remainder = mantissa & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1);
    std::uint32_t result = shifted;
    if (remainder > halfway || (remainder == halfway && (shifted & 1u))) ++result;
    return static_cast<half_bits>(sign | result);
  }
  // Normal: rebias the exponent (127 -> 15) and round the mantissa 23 -> 10 bits to nearest
  // even; a carry out of the mantissa correctly bumps the exponent.
  std::uint32_t bits = abs - 0x38000000u;
  const std::uint32_t remainder = bits & 0x1fffu;
  bits >>= 13;
  if (remainder > 0x1000u || (remainder == 0x1000u && (bits & 1u))) ++bits;
  return static_cast<half_bits>(sign | bits);
}

float half_to_float(half_bits bits) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  std::uint32_t f;
  if (exponent == 0x1f) {
    f = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    f = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    f = sign;
  } else {  // subnormal half: normalise
    int e = -1;
    do {
      ++e;
      mantissa <<= 1;
    } while ((mantissa & 0x400u) == 0);
    f = sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(f);
}

void floats_to_halves(std::span<const float> values, std::span<half_bits> out) {
  kernels::best_simd_kernels().narrow_f32(values.data(), values.size(), out.data());
}

void halves_to_floats(std::span<const half_bits> bits, std::span<float> out) {
  kernels::best_simd_kernels().widen_f16(bits.data(), bits.size(), out.data());
}

std::size_t first_value_beyond(std::span<const float> values, float limit) noexcept {
  // On the bits: for a non-negative limit, |x| > limit or x NaN is exactly "the magnitude
  // bits of x, as an unsigned integer, exceed those of the limit" (IEEE order; a NaN's
  // magnitude bits exceed infinity's). An integer max over a group of fixed size compiles to
  // vector code; the scalar loop after it finds the exact index (and does the tail).
  const std::uint32_t limit_bits = std::bit_cast<std::uint32_t>(std::fabs(limit));
  const auto magnitude = [](float value) {
    return std::bit_cast<std::uint32_t>(value) & 0x7fffffffu;
  };
  constexpr std::size_t kGroup = 64;
  std::size_t i = 0;
  for (; i + kGroup <= values.size(); i += kGroup) {
    std::uint32_t largest = 0;
    for (std::size_t j = 0; j < kGroup; ++j) largest = std::max(largest, magnitude(values[i + j]));
    if (largest > limit_bits) break;
  }
  for (; i < values.size(); ++i) {
    if (magnitude(values[i]) > limit_bits) return i;
  }
  return values.size();
}

}  // namespace edgehdf5
