// SIMD dot-product kernels, compiled once per instruction set by Highway (Debian's
// libhwy-dev) and chosen at run time. This file includes itself once per target through
// hwy/foreach_target.h; code inside HWY_NAMESPACE is per target, code under HWY_ONCE is not.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/kernels/simd.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <type_traits>

#include "edgehdf5/half.hpp"
#include "core/kernels/kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace edgehdf5::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The vector width per element type. float16 rows use at most 256-bit vectors: measured on
// the development machine (AMD EPYC with AVX-512), widening halves into 512-bit registers
// scanned 1M x 384 rows in 35.8 ms against 29.7 ms with 256-bit ones (the conversion is the
// bottleneck there), while float32 rows are read at memory speed either way.
template <typename Element>
using FloatTagFor = std::conditional_t<std::is_same_v<Element, float>, hn::ScalableTag<float>,
                                       hn::CappedTag<float, 8>>;

// Loads lanes [i, i + Lanes) of a row as float, from float or from IEEE half.
template <class D>
HWY_INLINE hn::Vec<D> load_row(D d, const float* HWY_RESTRICT row, std::size_t i) {
  return hn::LoadU(d, row + i);
}
template <class D>
HWY_INLINE hn::Vec<D> load_row(D d, const std::uint16_t* HWY_RESTRICT row, std::size_t i) {
  const hn::Rebind<hwy::float16_t, D> dh;
  return hn::PromoteTo(d, hn::LoadU(dh, reinterpret_cast<const hwy::float16_t*>(row) + i));
}
HWY_INLINE float scalar_value(const float* row, std::size_t i) { return row[i]; }
HWY_INLINE float scalar_value(const std::uint16_t* row, std::size_t i) {
  return half_to_float(row[i]);
}

// One query against rows [begin, end). Four accumulators hide the FMA latency; the scan is
// bound by memory bandwidth long before it is bound by arithmetic.
template <typename Element>
void dot_rows(const float* HWY_RESTRICT query, const Element* HWY_RESTRICT matrix, std::size_t dim,
              std::size_t begin, std::size_t end, float* HWY_RESTRICT out) {
  const FloatTagFor<Element> d;
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t row = begin; row < end; ++row) {
    const Element* HWY_RESTRICT values = matrix + row * dim;
    auto sum0 = hn::Zero(d), sum1 = hn::Zero(d), sum2 = hn::Zero(d), sum3 = hn::Zero(d);
    std::size_t i = 0;
    for (; i + 4 * lanes <= dim; i += 4 * lanes) {
      sum0 = hn::MulAdd(hn::LoadU(d, query + i), load_row(d, values, i), sum0);
      sum1 = hn::MulAdd(hn::LoadU(d, query + i + lanes), load_row(d, values, i + lanes), sum1);
      sum2 =
          hn::MulAdd(hn::LoadU(d, query + i + 2 * lanes), load_row(d, values, i + 2 * lanes), sum2);
      sum3 =
          hn::MulAdd(hn::LoadU(d, query + i + 3 * lanes), load_row(d, values, i + 3 * lanes), sum3);
    }
    for (; i + lanes <= dim; i += lanes) {
      sum0 = hn::MulAdd(hn::LoadU(d, query + i), load_row(d, values, i), sum0);
    }
    float total = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(sum0, sum1), hn::Add(sum2, sum3))));
    for (; i < dim; ++i) total += query[i] * scalar_value(values, i);
    out[row - begin] = total;
  }
}

// Four queries against rows [begin, end), two rows at a time: eight accumulators, each row
// vector loaded once for four queries and each query vector once for two rows. The four
// queries (6 KiB at 384 dimensions) stay in L1 while the rows stream past from L2; the
// earlier loop, one row against every query of the batch in turn, read the whole batch from
// L2 for every row (196 KiB a row for 128 queries), which bound a 1K-row batch of 128 at a
// third of what the FMAs can do. Eight accumulators plus the loads fit the 16 vector
// registers of AVX2 as well as AVX-512's 32.
template <typename Element>
void dot_four_queries(const float* HWY_RESTRICT q0, const Element* HWY_RESTRICT matrix,
                      std::size_t dim, std::size_t begin, std::size_t end, std::size_t rows,
                      float* HWY_RESTRICT out) {
  const FloatTagFor<Element> d;
  const std::size_t lanes = hn::Lanes(d);
  const float* HWY_RESTRICT q1 = q0 + dim;
  const float* HWY_RESTRICT q2 = q1 + dim;
  const float* HWY_RESTRICT q3 = q2 + dim;
  std::size_t row = begin;
  for (; row + 2 <= end; row += 2) {
    const Element* HWY_RESTRICT r0 = matrix + row * dim;
    const Element* HWY_RESTRICT r1 = r0 + dim;
    auto s00 = hn::Zero(d), s01 = hn::Zero(d), s10 = hn::Zero(d), s11 = hn::Zero(d);
    auto s20 = hn::Zero(d), s21 = hn::Zero(d), s30 = hn::Zero(d), s31 = hn::Zero(d);
    std::size_t i = 0;
    for (; i + lanes <= dim; i += lanes) {
      const auto v0 = load_row(d, r0, i);
      const auto v1 = load_row(d, r1, i);
      const auto a0 = hn::LoadU(d, q0 + i);
      s00 = hn::MulAdd(a0, v0, s00);
      s01 = hn::MulAdd(a0, v1, s01);
      const auto a1 = hn::LoadU(d, q1 + i);
      s10 = hn::MulAdd(a1, v0, s10);
      s11 = hn::MulAdd(a1, v1, s11);
      const auto a2 = hn::LoadU(d, q2 + i);
      s20 = hn::MulAdd(a2, v0, s20);
      s21 = hn::MulAdd(a2, v1, s21);
      const auto a3 = hn::LoadU(d, q3 + i);
      s30 = hn::MulAdd(a3, v0, s30);
      s31 = hn::MulAdd(a3, v1, s31);
    }
    float t[8] = {hn::GetLane(hn::SumOfLanes(d, s00)), hn::GetLane(hn::SumOfLanes(d, s01)),
                  hn::GetLane(hn::SumOfLanes(d, s10)), hn::GetLane(hn::SumOfLanes(d, s11)),
                  hn::GetLane(hn::SumOfLanes(d, s20)), hn::GetLane(hn::SumOfLanes(d, s21)),
                  hn::GetLane(hn::SumOfLanes(d, s30)), hn::GetLane(hn::SumOfLanes(d, s31))};
    for (; i < dim; ++i) {
      const float v0 = scalar_value(r0, i);
      const float v1 = scalar_value(r1, i);
      t[0] += q0[i] * v0;
      t[1] += q0[i] * v1;
      t[2] += q1[i] * v0;
      t[3] += q1[i] * v1;
      t[4] += q2[i] * v0;
      t[5] += q2[i] * v1;
      t[6] += q3[i] * v0;
      t[7] += q3[i] * v1;
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out[j * rows + (row - begin)] = t[2 * j];
      out[j * rows + (row - begin) + 1] = t[2 * j + 1];
    }
  }
  if (row < end) {  // an odd row out
    for (std::size_t j = 0; j < 4; ++j) {
      dot_rows(q0 + j * dim, matrix, dim, row, end, out + j * rows + (row - begin));
    }
  }
}

// Several queries against rows [begin, end): four queries at a time over all the rows, so a
// batch reads the matrix from memory once per block (the engine's blocks stay in L2) and
// the queries from L1; the last one to three queries one at a time.
template <typename Element>
void dot_rows_batch(const float* HWY_RESTRICT queries, std::size_t query_count,
                    const Element* HWY_RESTRICT matrix, std::size_t dim, std::size_t begin,
                    std::size_t end, float* HWY_RESTRICT out) {
  const std::size_t rows = end - begin;
  std::size_t q = 0;
  for (; q + 4 <= query_count; q += 4) {
    dot_four_queries(queries + q * dim, matrix, dim, begin, end, rows, out + q * rows);
  }
  for (; q < query_count; ++q) {
    dot_rows(queries + q * dim, matrix, dim, begin, end, out + q * rows);
  }
}

const char* target_name() { return hwy::TargetName(HWY_TARGET); }

void dot_f32(const float* query, const float* matrix, std::size_t dim, std::size_t begin,
             std::size_t end, float* out) {
  dot_rows(query, matrix, dim, begin, end, out);
}
void dot_f16(const float* query, const std::uint16_t* matrix, std::size_t dim, std::size_t begin,
             std::size_t end, float* out) {
  dot_rows(query, matrix, dim, begin, end, out);
}
void dot_f32_batch(const float* queries, std::size_t query_count, const float* matrix,
                   std::size_t dim, std::size_t begin, std::size_t end, float* out) {
  dot_rows_batch(queries, query_count, matrix, dim, begin, end, out);
}
void dot_f16_batch(const float* queries, std::size_t query_count, const std::uint16_t* matrix,
                   std::size_t dim, std::size_t begin, std::size_t end, float* out) {
  dot_rows_batch(queries, query_count, matrix, dim, begin, end, out);
}

// Whether Highway converts halves with the CPU's own instructions on this target: x86's F16C
// from the AVX2 target up (VCVTPH2PS / VCVTPS2PH, IEEE semantics), and NEON where the compiler
// has Arm's half-precision conversions (__ARM_FP bit 2; always on AArch64). Highway 1.0's
// emulation on the other targets truncates when narrowing and widens infinities and NaNs to
// finite numbers (tested: tests/h5/test_half.cpp), so the conversions there stay scalar. The
// dot kernels may still use the emulation: the store never holds infinite or NaN halves.
#if (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2 && !defined(HWY_DISABLE_F16C)) || \
    (HWY_TARGET == HWY_NEON && defined(__ARM_FP) && (__ARM_FP & 2))
#define EDGEHDF5_NATIVE_HALF_CONVERSION 1
#else
#define EDGEHDF5_NATIVE_HALF_CONVERSION 0
#endif

void widen_f16(const std::uint16_t* bits, std::size_t count, float* out) {
  std::size_t i = 0;
#if EDGEHDF5_NATIVE_HALF_CONVERSION
  const FloatTagFor<std::uint16_t> d;
  const std::size_t lanes = hn::Lanes(d);
  for (; i + lanes <= count; i += lanes) hn::StoreU(load_row(d, bits, i), d, out + i);
#endif
  for (; i < count; ++i) out[i] = half_to_float(bits[i]);
}

// Rounds to the nearest half, ties to even, as float_to_half (the bits are logged and
// replayed, so every machine must store the same ones).
void narrow_f32(const float* values, std::size_t count, std::uint16_t* out) {
  std::size_t i = 0;
#if EDGEHDF5_NATIVE_HALF_CONVERSION
  const hn::CappedTag<float, 8> d;
  const hn::Rebind<hwy::float16_t, decltype(d)> dh;
  const std::size_t lanes = hn::Lanes(d);
  auto* halves = reinterpret_cast<hwy::float16_t*>(out);
  for (; i + lanes <= count; i += lanes) hn::StoreU(hn::DemoteTo(dh, hn::LoadU(d, values + i)), dh, halves + i);
#endif
  for (; i < count; ++i) out[i] = float_to_half(values[i]);
}
#undef EDGEHDF5_NATIVE_HALF_CONVERSION

void to_cosines(float* HWY_RESTRICT values, const float* HWY_RESTRICT norms, std::size_t count,
                float query_norm) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  const auto scale = hn::Set(d, query_norm);
  const auto zero = hn::Zero(d);
  const auto one = hn::Set(d, 1.0f);
  std::size_t i = 0;
  for (; i + lanes <= count; i += lanes) {
    const auto denominator = hn::Mul(scale, hn::LoadU(d, norms + i));
    const auto nonzero = hn::Ne(denominator, zero);
    const auto quotient = hn::Div(hn::LoadU(d, values + i), hn::IfThenElse(nonzero, denominator, one));
    hn::StoreU(hn::IfThenElseZero(nonzero, quotient), d, values + i);
  }
  for (; i < count; ++i) {
    const float denominator = query_norm * norms[i];
    values[i] = denominator != 0.0f ? values[i] / denominator : 0.0f;
  }
}

std::size_t first_at_least(const float* HWY_RESTRICT values, std::size_t count, float limit) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  const auto bound = hn::Set(d, limit);
  std::size_t i = 0;
  for (; i + lanes <= count; i += lanes) {
    const intptr_t found = hn::FindFirstTrue(d, hn::Not(hn::Lt(hn::LoadU(d, values + i), bound)));
    if (found >= 0) return i + static_cast<std::size_t>(found);
  }
  for (; i < count; ++i) {
    if (!(values[i] < limit)) return i;
  }
  return count;
}

KernelSet kernel_set() {
  return {target_name(), dot_f32,    dot_f16,    dot_f32_batch,  dot_f16_batch,
          widen_f16,     narrow_f32, to_cosines, first_at_least};
}

}  // namespace HWY_NAMESPACE
}  // namespace edgehdf5::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/kernels/highway_dispatch.hpp"

namespace edgehdf5::kernels {

HWY_EXPORT(kernel_set);

KernelSet best_simd_kernels() {
  // Resolved once: the CPU does not change under a running process, and every engine and
  // index then holds the same set.
  static const KernelSet best =
      dispatch_entry(HWY_DISPATCH_TABLE(kernel_set), runnable_targets())();
  return best;
}

std::vector<KernelSet> all_simd_kernels() {
  std::vector<KernelSet> sets;
  for_each_runnable_target([&](std::int64_t target) {
    sets.push_back(dispatch_entry(HWY_DISPATCH_TABLE(kernel_set), target)());
  });
  return sets;
}

}  // namespace edgehdf5::kernels
#endif  // HWY_ONCE
