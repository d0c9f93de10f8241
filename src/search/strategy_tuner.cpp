#include "search/strategy_tuner.hpp"

#include <algorithm>
#include <bit>

#include "search/block_rows.hpp"

namespace edgehdf5::search {
namespace {

bool uses_openblas(Strategy strategy) noexcept { return strategy == Strategy::blas; }

double median_of(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

}  // namespace

TunedShape tuned_shape_of(const SearchShape& shape) noexcept {
  return {static_cast<unsigned>(std::bit_width(shape.rows)),
          static_cast<unsigned>(std::bit_width(shape.batch)),
          shape.type == EmbeddingType::float16, shape.embedding_dim};
}

std::vector<Strategy> tuning_candidates(const SearchShape& shape, Strategy chosen,
                                        const HardwareCapabilities& capabilities) {
  const bool exact_cpu =
      chosen == Strategy::simd || chosen == Strategy::parallel || chosen == Strategy::blas;
  if (!exact_cpu || shape.rows < kMinTunedRows) return {};
  std::vector<Strategy> candidates{Strategy::simd};
  // One query over fewer than two blocks is one slice, i.e. simd; a batch over few rows is
  // split by queries instead.
  if (capabilities.cores > 1 && (shape.batch > 1 || shape.rows >= 2 * kBlockRows)) {
    candidates.push_back(Strategy::parallel);
  }
  const bool blas_helps = shape.batch > 1 || shape.type == EmbeddingType::float32;
  if (capabilities.blas_available && blas_helps) candidates.push_back(Strategy::blas);
  // The thresholds' choice takes part even where the rules above leave it out.
  if (std::find(candidates.begin(), candidates.end(), chosen) == candidates.end()) {
    candidates.push_back(chosen);
  }
  std::stable_partition(candidates.begin(), candidates.end(),
                        [](Strategy strategy) { return !uses_openblas(strategy); });
  if (candidates.size() < 2) return {};
  return candidates;
}

StrategyTuner::Pick StrategyTuner::pick(const TunedShape& shape, Strategy chosen,
                                         const std::vector<Strategy>& candidates) {
  const std::lock_guard lock(mutex_);
  auto [it, fresh] = trials_.try_emplace(shape);
  Trial& trial = it->second;
  if (fresh) {
    trial.candidates = candidates;
    trial.times.resize(candidates.size());
    trial.spent.resize(candidates.size());
  }
  if (trial.winner) return {*trial.winner, false};
  if (!trial.first_call_handed_out) {
    trial.first_call_handed_out = true;
    return {chosen, true};
  }
  for (std::size_t c = 0; c < trial.candidates.size(); ++c) {
    if (!timed_enough(trial, c)) return {trial.candidates[c], true};
  }
  return {chosen, true};  // unreachable: a trial with every candidate timed has a winner
}

void StrategyTuner::record(const TunedShape& shape, Strategy strategy, std::size_t work,
                           Clock::time_point started, Clock::time_point finished) {
  const std::lock_guard lock(mutex_);
  const auto it = trials_.find(shape);
  if (it == trials_.end() || it->second.winner) return;
  Trial& trial = it->second;
  const auto found = std::find(trial.candidates.begin(), trial.candidates.end(), strategy);
  if (found == trial.candidates.end()) return;
  const bool run_starts = trial.last_recorded != strategy;
  trial.last_recorded = strategy;
  const bool openblas_spinning = !uses_openblas(strategy) && trial.last_openblas_end &&
                                 started - *trial.last_openblas_end < kOpenBlasSpin;
  if (uses_openblas(strategy)) trial.last_openblas_end = finished;
  if (run_starts || openblas_spinning) return;
  const auto c = static_cast<std::size_t>(found - trial.candidates.begin());
  const double seconds = std::chrono::duration<double>(finished - started).count();
  trial.times[c].push_back(seconds / static_cast<double>(std::max<std::size_t>(work, 1)));
  trial.spent[c] += finished - started;
  for (std::size_t other = 0; other < trial.candidates.size(); ++other) {
    if (!timed_enough(trial, other)) return;
  }
  settle(trial);
}

bool StrategyTuner::timed_enough(const Trial& trial, std::size_t c) {
  const std::size_t timed = trial.times[c].size();
  return timed >= kTimedCalls ||
         (timed >= kFewestTimedCalls && trial.spent[c] >= kEnoughTrialTime);
}

void StrategyTuner::settle(Trial& trial) {
  std::size_t best = 0;
  double best_median = median_of(trial.times[0]);
  for (std::size_t c = 1; c < trial.candidates.size(); ++c) {
    const double median = median_of(trial.times[c]);
    if (median < best_median) {
      best = c;
      best_median = median;
    }
  }
  trial.winner = trial.candidates[best];
  trial.times = {};
  trial.spent = {};
}

std::optional<Strategy> StrategyTuner::winner(const TunedShape& shape) const {
  const std::lock_guard lock(mutex_);
  const auto it = trials_.find(shape);
  if (it == trials_.end()) return std::nullopt;
  return it->second.winner;
}

}  // namespace edgehdf5::search
