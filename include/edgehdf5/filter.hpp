#pragma once
// Metadata filters and recency weighting, applied inside the scan before top-k.

#include <optional>
#include <string>
#include <vector>

namespace edgehdf5 {

struct SearchFilter {
  std::optional<std::string> session_id;      // exact match
  std::optional<std::string> source_channel;  // exact match
  std::vector<std::string> tags;              // rows carrying any (or, with all_tags, all)
  bool all_tags = false;
  std::optional<double> after;                // timestamp >= after
  std::optional<double> before;               // timestamp <= before
  // Recency weighting: score * 0.5^((now - timestamp) / half_life). Rows newer than `now`
  // are not boosted (age counts as 0). `now` defaults to the current time.
  std::optional<double> half_life_seconds;
  std::optional<double> now;

  // True when no row can be excluded (recency weighting does not exclude).
  bool selects_all() const noexcept {
    return !session_id && !source_channel && tags.empty() && !after && !before;
  }
};

}  // namespace edgehdf5
