#pragma once
// Runtime dispatch for our Highway kernel files (core/kernels/simd.cpp, index/ivfpq/
// adc_simd.cpp), without touching Highway's process-wide target choice.
//
// HWY_DYNAMIC_DISPATCH indexes an HWY_EXPORT table by hwy::GetChosenTarget(), a global that
// the host application (or any library in it using Highway) may also set, and that
// pointing it at one target to fetch that target's kernels would change for everyone else
// meanwhile. So we index the tables ourselves, with a ChosenTarget of our own that nobody
// else sees; the CPU's targets are read once per process. Include this from the HWY_ONCE
// part of a file that includes hwy/foreach_target.h (it needs the full HWY_TARGETS list).

#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>

namespace edgehdf5::kernels {

// The Highway targets this CPU runs (a mask of target bits; a lower bit is a better target),
// read on the first call and kept: the same answer for the life of the process. (Highway's
// SupportedTargets() initialises its own global choice as it does on any first dispatch;
// it is never changed by us afterwards.)
inline std::int64_t runnable_targets() {
  static const std::int64_t targets = hwy::SupportedTargets();
  return targets;
}

// The entry of an HWY_EXPORT table (HWY_DISPATCH_TABLE(name)) for the best of `targets`
// compiled in, the way HWY_DYNAMIC_DISPATCH would pick it if Highway's global choice were
// `targets`; the fallback target (EMU128 or SCALAR) when none of them is.
template <typename Function, std::size_t Entries>
Function dispatch_entry(Function const (&table)[Entries], std::int64_t targets) {
  if constexpr (Entries == 1) {
    return table[0];  // a build with one target has a one-entry table and no dispatch
  } else {
    hwy::ChosenTarget chosen;  // ours: hwy::GetChosenTarget() is neither read nor written
    chosen.Update(targets);
    return table[chosen.GetIndex()];
  }
}

// Calls visit(target) for each target this binary was compiled for that this CPU runs, one
// target bit at a time, best first (for tests that check every kernel set).
template <typename Visit>
void for_each_runnable_target(Visit&& visit) {
  for (std::int64_t remaining = runnable_targets() & HWY_TARGETS; remaining != 0;) {
    const std::int64_t target = remaining & -remaining;  // the lowest bit: the best target
    remaining &= ~target;
    visit(target);
  }
}

}  // namespace edgehdf5::kernels
