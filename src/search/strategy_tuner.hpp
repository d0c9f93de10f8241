#pragma once
// StrategyTuner: auto's choice among the exact CPU strategies, measured on this machine, in
// this process, on the searches themselves.
//
// Why measure: below a few hundred thousand rows, which of simd, parallel and blas is the
// fastest depends on the machine (cache sizes, how fast a sleeping thread wakes up in this
// VM, the kernel OpenBLAS picked), and no threshold fits them all. On the machine the
// defaults of StrategyThresholds came from, OpenBLAS's two-thread sgemv beat simd up to 32K
// rows; on another (AVX-512, 2 MiB of L2 per core) `edgehdf5-bench calibrate` found blas at
// 0.48x of simd's speed at 1K rows and never ahead, and the thresholds' choice was 1.4-2.3x
// slower than the best strategy at 1K and 10K rows. So, as FFTW's planner and cuDNN's
// benchmark mode do, auto times each candidate on its first calls of a shape and then keeps
// the fastest for that shape.
//
// The first call of a shape always runs the thresholds' choice (a one-shot process, such as
// `edgehdf5 recall`, never pays for a trial). The following calls time each candidate in
// turn, kTimedCalls calls each (fewer where they take seconds), blas last; then the one with
// the lowest median time per row and query runs from then on. Not counted: the first call
// after a change of strategy (a pool or OpenBLAS thread waking from sleep), and a call of
// our own strategies that starts within kOpenBlasSpin of a blas call: OpenBLAS's threads
// keep spinning after a call, for 2^28 time-stamp counter ticks by default (its
// THREAD_TIMEOUT: 128 ms measured at 2.1 GHz; 300 ms covers a counter of 0.9 GHz), and take
// the cores our threads need (a 1K x 128 float16 batch on simd took 2.0-3.1 ms while they
// spun, 1.8 ms after), which would make blas look faster than it is wherever it is not in
// use.
// Thread-safe: one mutex around a small map, taken twice per search while on trial, once
// after.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "edgehdf5/strategy.hpp"

namespace edgehdf5::search {

// What a measured choice holds for: searches of one dimension and row type whose rows and
// batch size fall in the same buckets (by their bit width: 1000 and 1023 rows share one).
struct TunedShape {
  unsigned rows_bits = 0;
  unsigned batch_bits = 0;
  bool half = false;
  std::size_t dim = 0;
  auto operator<=>(const TunedShape&) const = default;
};

TunedShape tuned_shape_of(const SearchShape& shape) noexcept;

// The exact CPU strategies worth timing against `chosen` (the thresholds' choice) for
// `shape`, in the order of their trial: `chosen` and the others among simd, parallel and blas
// that can run and differ (for one query parallel is simd below two blocks of rows; blas
// widens float16 rows for a single query, never a gain), blas last. Fewer than two: nothing
// to measure. Only for an exact CPU choice (not ivfpq, gpu or a forced strategy) of at least
// kMinTunedRows rows: below that every strategy answers in a few microseconds.
std::vector<Strategy> tuning_candidates(const SearchShape& shape, Strategy chosen,
                                        const HardwareCapabilities& capabilities);

inline constexpr std::size_t kMinTunedRows = 512;

class StrategyTuner {
 public:
  using Clock = std::chrono::steady_clock;
  // Timed calls of each candidate: kTimedCalls, or kFewestTimedCalls once they add up to
  // kEnoughTrialTime (a batch over a million rows takes seconds a call, and its time varies
  // far less than the call's overhead does at a thousand rows).
  static constexpr std::size_t kTimedCalls = 5;
  static constexpr std::size_t kFewestTimedCalls = 2;
  static constexpr Clock::duration kEnoughTrialTime = std::chrono::seconds(1);
  static constexpr Clock::duration kOpenBlasSpin = std::chrono::milliseconds(300);

  struct Pick {
    Strategy strategy;
    bool on_trial;  // the call is to be reported with record(); false once there is a winner
  };
  // The strategy to run for `shape`: `chosen` on its first call, then the first candidate
  // still short of timed calls, and the measured winner once there is one. `candidates` is
  // tuning_candidates(shape, chosen, ...), the same on every call for one shape.
  Pick pick(const TunedShape& shape, Strategy chosen, const std::vector<Strategy>& candidates);
  // Reports that `strategy` answered a search of `shape` over `work` rows x queries in
  // [started, finished].
  void record(const TunedShape& shape, Strategy strategy, std::size_t work,
              Clock::time_point started, Clock::time_point finished);
  // The measured winner for `shape`, once its trial is over.
  std::optional<Strategy> winner(const TunedShape& shape) const;

 private:
  struct Trial {
    std::vector<Strategy> candidates;        // in the order of their trial
    std::vector<std::vector<double>> times;  // per candidate, seconds per row x query
    std::vector<Clock::duration> spent;      // per candidate, the time of its timed calls
    bool first_call_handed_out = false;
    std::optional<Strategy> last_recorded;   // a record of another one starts a run
    std::optional<Clock::time_point> last_openblas_end;
    std::optional<Strategy> winner;
  };
  // Whether candidate c of `trial` has been timed enough.
  static bool timed_enough(const Trial& trial, std::size_t c);
  static void settle(Trial& trial);

  mutable std::mutex mutex_;
  std::map<TunedShape, Trial> trials_;
};

}  // namespace edgehdf5::search
