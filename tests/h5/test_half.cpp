#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/kernels/kernels.hpp"
#include "edgehdf5/half.hpp"

namespace edgehdf5 {
namespace {

TEST(Half, EveryHalfRoundTripsThroughFloat) {
  for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto half = static_cast<half_bits>(bits);
    const float value = half_to_float(half);
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(value)))) << bits;
    } else {
      EXPECT_EQ(float_to_half(value), half) << "bits " << bits << " value " << value;
    }
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);            // rounds up to infinity
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);
  EXPECT_EQ(float_to_half(5.9604645e-08f), 0x0001);      // smallest subnormal
  EXPECT_EQ(float_to_half(2.9802322e-08f), 0x0000);      // exactly half of it: ties to even
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_FLOAT_EQ(half_to_float(0x3555), 0.33325195f);
}

TEST(Half, RoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to even (1).
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Slightly above halfway rounds up.
  EXPECT_EQ(float_to_half(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3c01);
}

TEST(Half, ErrorIsWithinHalfAnUlpForRandomFloats) {
  std::uint32_t state = 12345;
  for (int i = 0; i < 200000; ++i) {
    state = state * 1664525u + 1013904223u;
    const float value = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 200.0f;
    const float back = half_to_float(float_to_half(value));
    const float ulp = std::ldexp(1.0f, std::ilogb(std::max(std::fabs(value), 6.1e-5f)) - 10);
    EXPECT_LE(std::fabs(back - value), ulp / 2 * 1.0001f) << value;
  }
}

// Floats that probe every rounding decision of float -> half: each half's own value, the
// midpoints between neighbours (ties) and the floats either side of them, the overflow
// edge, subnormals, zeros and infinities, and random bit patterns. NaN is left out (the
// store refuses it; a vectorised conversion may keep other payload bits).
std::vector<float> rounding_probes() {
  std::vector<float> probes;
  const auto add = [&](float value) {
    if (!std::isnan(value)) probes.push_back(value);
  };
  for (std::uint32_t bits = 0; bits < 0x7c00; ++bits) {
    for (const std::uint32_t sign : {0u, 0x8000u}) {
      const float low = half_to_float(static_cast<half_bits>(bits | sign));
      const float high = half_to_float(static_cast<half_bits>((bits + 1) | sign));
      const float middle = (low + high) / 2;  // exact: a half has 11 significant bits
      add(low);
      add(middle);
      add(std::nextafter(middle, low));
      add(std::nextafter(middle, high));
    }
  }
  for (const float edge : {65504.0f, 65519.0f, 65520.0f, 65536.0f, 1e30f,
                           std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::denorm_min(), 1e-45f, 0.0f}) {
    add(edge);
    add(-edge);
    add(std::nextafter(edge, 0.0f));
  }
  std::uint32_t state = 99;
  for (int i = 0; i < 1000000; ++i) {
    state = state * 1664525u + 1013904223u;
    add(std::bit_cast<float>(state));
  }
  return probes;
}

TEST(Half, EveryKernelSetNarrowsAndWidensBitForBitAsTheScalarConversion) {
  const std::vector<float> probes = rounding_probes();
  std::vector<half_bits> want(probes.size());
  for (std::size_t i = 0; i < probes.size(); ++i) want[i] = float_to_half(probes[i]);
  std::vector<half_bits> every_half(0x10000);
  for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) every_half[bits] = static_cast<half_bits>(bits);

  std::vector<kernels::KernelSet> sets = kernels::all_simd_kernels();
  sets.push_back(kernels::scalar_kernels());
  for (const kernels::KernelSet& set : sets) {
    std::vector<half_bits> narrowed(probes.size());
    set.narrow_f32(probes.data(), probes.size(), narrowed.data());
    std::size_t differences = 0;
    for (std::size_t i = 0; i < probes.size(); ++i) {
      if (narrowed[i] != want[i] && ++differences <= 5) {
        ADD_FAILURE() << set.isa << ": " << probes[i] << " -> " << narrowed[i] << ", want " << want[i];
      }
    }
    EXPECT_EQ(differences, 0u) << set.isa << " of " << probes.size() << " values";

    std::vector<float> widened(every_half.size());
    set.widen_f16(every_half.data(), every_half.size(), widened.data());
    for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
      const float expected = half_to_float(static_cast<half_bits>(bits));
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(widened[bits])) << set.isa << " " << bits;
      } else {
        EXPECT_EQ(std::bit_cast<std::uint32_t>(widened[bits]), std::bit_cast<std::uint32_t>(expected))
            << set.isa << " " << bits;
      }
    }
  }
  // The public array functions (whichever set this CPU runs), odd lengths included.
  std::vector<half_bits> narrowed(probes.size());
  floats_to_halves(std::span<const float>(probes.data(), probes.size() - 3), narrowed);
  for (std::size_t i = 0; i + 3 < probes.size(); ++i) ASSERT_EQ(narrowed[i], want[i]) << probes[i];
}

// first_value_beyond against the plain loop it replaces, for every kind of value placed at
// every position of arrays longer and shorter than its groups.
TEST(FirstValueBeyond, FindsWhatTheScalarCheckFinds) {
  const float limits[] = {std::numeric_limits<float>::max(), kHalfMax};
  const float probes[] = {std::nanf(""), -std::nanf(""), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(), 65504.0f, -65504.0f,
                          65520.0f, -1e30f, std::numeric_limits<float>::max(), 0.0f, -0.0f,
                          std::numeric_limits<float>::denorm_min()};
  for (const float limit : limits) {
    for (const std::size_t size : {0u, 1u, 63u, 64u, 65u, 200u}) {
      for (std::size_t at = 0; at < size; at += (size > 70 ? 7 : 1)) {
        for (const float probe : probes) {
          std::vector<float> values(size, 0.5f);
          values[at] = probe;
          std::size_t want = size;
          for (std::size_t i = 0; i < size; ++i) {
            if (!(std::fabs(values[i]) <= limit)) {
              want = i;
              break;
            }
          }
          ASSERT_EQ(first_value_beyond(values, limit), want)
              << "limit " << limit << " size " << size << " at " << at << " probe " << probe;
        }
      }
    }
  }
}

}  // namespace
}  // namespace edgehdf5
