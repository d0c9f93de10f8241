// The IVF-PQ kernels (adc.hpp) compiled once per instruction set by Highway and chosen at run
// time, in the pattern of core/kernels/simd.cpp: this file includes itself once per target
// through hwy/foreach_target.h.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "index/ivfpq/adc_simd.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>

#include "index/ivfpq/adc.hpp"

HWY_BEFORE_NAMESPACE();
namespace edgehdf5::ivfpq {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Lanes run over 256 consecutive codewords (a multiple of every vector width), so there are
// no tails: table[s][c..] = sum over j of query[s][j] * transposed[s][j][c..].
void adc_table(const float* HWY_RESTRICT query, const float* HWY_RESTRICT transposed,
               std::size_t sub_quantizers, std::size_t sub_dim, float* HWY_RESTRICT table) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t s = 0; s < sub_quantizers; ++s) {
    const float* HWY_RESTRICT words = transposed + s * sub_dim * kCodewords;
    for (std::size_t c = 0; c < kCodewords; c += lanes) {
      auto sum = hn::Zero(d);
      for (std::size_t j = 0; j < sub_dim; ++j) {
        sum = hn::MulAdd(hn::Set(d, query[s * sub_dim + j]),
                         hn::LoadU(d, words + j * kCodewords + c), sum);
      }
      hn::StoreU(sum, d, table + s * kCodewords + c);
    }
  }
}

// One code per step: its bytes, widened to 32-bit lanes and offset by 256 per slice, index
// one gather from the table per `lanes` slices (48 slices: three 16-lane gathers with
// AVX-512). Two codes are in flight at once so that their gathers overlap.
void adc_scan(const float* HWY_RESTRICT table, const std::uint8_t* HWY_RESTRICT codes,
              std::size_t count, std::size_t sub_quantizers, float base, float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const hn::Rebind<std::uint8_t, decltype(di)> du8;
  const std::size_t lanes = hn::Lanes(d);
  const std::size_t whole = sub_quantizers - sub_quantizers % lanes;
  const auto lane_offsets = hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(kCodewords)));
  const auto step = hn::Set(di, static_cast<int32_t>(lanes * kCodewords));
  std::size_t i = 0;
  for (; i + 2 <= count; i += 2) {
    const std::uint8_t* HWY_RESTRICT a = codes + i * sub_quantizers;
    const std::uint8_t* HWY_RESTRICT b = a + sub_quantizers;
    auto sum_a = hn::Zero(d), sum_b = hn::Zero(d);
    auto offsets = lane_offsets;
    for (std::size_t s = 0; s < whole; s += lanes) {
      const auto index_a = hn::Add(hn::PromoteTo(di, hn::LoadU(du8, a + s)), offsets);
      const auto index_b = hn::Add(hn::PromoteTo(di, hn::LoadU(du8, b + s)), offsets);
      sum_a = hn::Add(sum_a, hn::GatherIndex(d, table, index_a));
      sum_b = hn::Add(sum_b, hn::GatherIndex(d, table, index_b));
      offsets = hn::Add(offsets, step);
    }
    float total_a = base + hn::GetLane(hn::SumOfLanes(d, sum_a));
    float total_b = base + hn::GetLane(hn::SumOfLanes(d, sum_b));
    for (std::size_t s = whole; s < sub_quantizers; ++s) {
      total_a += table[s * kCodewords + a[s]];
      total_b += table[s * kCodewords + b[s]];
    }
    out[i] = total_a;
    out[i + 1] = total_b;
  }
  for (; i < count; ++i) {
    const std::uint8_t* code = codes + i * sub_quantizers;
    float total = base;
    for (std::size_t s = 0; s < sub_quantizers; ++s) total += table[s * kCodewords + code[s]];
    out[i] = total;
  }
}

// Lanes run over codewords: the squared distance of one slice to `lanes` codewords at a time,
// each lane keeping its running minimum and the first codeword that reached it (as float:
// exact up to 2^24); then the lowest codeword among the lanes holding the overall minimum.
void pq_encode(const float* HWY_RESTRICT vector, const float* HWY_RESTRICT transposed,
               std::size_t sub_quantizers, std::size_t sub_dim, std::uint8_t* HWY_RESTRICT code) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  const auto step = hn::Set(d, static_cast<float>(lanes));
  const auto none = hn::Set(d, static_cast<float>(kCodewords));
  for (std::size_t s = 0; s < sub_quantizers; ++s) {
    const float* HWY_RESTRICT x = vector + s * sub_dim;
    const float* HWY_RESTRICT words = transposed + s * sub_dim * kCodewords;
    auto best = hn::Set(d, std::numeric_limits<float>::infinity());
    auto best_word = hn::Zero(d);
    auto word = hn::Iota(d, 0.0f);
    for (std::size_t c = 0; c < kCodewords; c += lanes) {
      auto sum = hn::Zero(d);
      for (std::size_t j = 0; j < sub_dim; ++j) {
        const auto diff = hn::Sub(hn::Set(d, x[j]), hn::LoadU(d, words + j * kCodewords + c));
        sum = hn::MulAdd(diff, diff, sum);
      }
      const auto closer = hn::Lt(sum, best);
      best = hn::IfThenElse(closer, sum, best);
      best_word = hn::IfThenElse(closer, word, best_word);
      word = hn::Add(word, step);
    }
    const auto minimum = hn::MinOfLanes(d, best);
    const auto at_minimum = hn::IfThenElse(hn::Eq(best, minimum), best_word, none);
    code[s] = static_cast<std::uint8_t>(hn::GetLane(hn::MinOfLanes(d, at_minimum)));
  }
}

AdcKernels kernel_set() {
  return {hwy::TargetName(HWY_TARGET), adc_table, adc_scan, pq_encode, "gather"};
}

}  // namespace HWY_NAMESPACE
}  // namespace edgehdf5::ivfpq
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "core/kernels/highway_dispatch.hpp"

namespace edgehdf5::ivfpq {

HWY_EXPORT(kernel_set);

namespace {

// The faster of two scans on a 4096-code list of 48 slices, best of five runs each.
AdcScanFn faster_scan(AdcScanFn first, AdcScanFn second) {
  constexpr std::size_t kCodes = 4096;
  constexpr std::size_t kSlices = 48;
  std::mt19937 random(1);
  std::vector<float> table(kSlices * kCodewords);
  for (float& value : table) value = std::uniform_real_distribution<float>(-1, 1)(random);
  std::vector<std::uint8_t> codes(kCodes * kSlices);
  for (std::uint8_t& code : codes) code = static_cast<std::uint8_t>(random());
  std::vector<float> out(kCodes);
  auto best_time = [&](AdcScanFn scan) {
    double best = std::numeric_limits<double>::infinity();
    for (int run = 0; run < 5; ++run) {
      const auto start = std::chrono::steady_clock::now();
      scan(table.data(), codes.data(), kCodes, kSlices, 0.0f, out.data());
      best = std::min(
          best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
  };
  return best_time(second) < best_time(first) ? second : first;
}

AdcKernels with_loads(AdcKernels set) {
  set.scan = scan_with_loads;
  set.scan_kind = "loads";
  return set;
}

}  // namespace

AdcKernels best_adc_kernels() {
  // Whether gathers pay is a property of the CPU that no feature flag tells: measured once.
  static const AdcKernels best = [] {
    const AdcKernels simd =
        kernels::dispatch_entry(HWY_DISPATCH_TABLE(kernel_set), kernels::runnable_targets())();
    return faster_scan(simd.scan, scan_with_loads) == simd.scan ? simd : with_loads(simd);
  }();
  return best;
}

std::vector<AdcKernels> all_adc_kernels() {
  std::vector<AdcKernels> sets;
  kernels::for_each_runnable_target([&](std::int64_t target) {
    sets.push_back(kernels::dispatch_entry(HWY_DISPATCH_TABLE(kernel_set), target)());
    sets.push_back(with_loads(sets.back()));
  });
  return sets;
}

}  // namespace edgehdf5::ivfpq
#endif  // HWY_ONCE
