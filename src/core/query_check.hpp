#pragma once
// The checks every search entry point (the exact engine, the reference search, IVF-PQ,
// keyword and hybrid search) makes on its arguments, so that each reports a bad argument in
// the same words.

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "edgehdf5/error.hpp"

namespace edgehdf5::core {

// Throws invalid_argument unless `query` has embedding_dim values, all finite. The message
// names the query "query", or "query N" for query `batch_index` of a batch.
inline void require_valid_query(std::span<const float> query, std::size_t embedding_dim,
                                std::optional<std::size_t> batch_index = std::nullopt) {
  const auto what = [&] {
    return batch_index ? "query " + std::to_string(*batch_index) : std::string("query");
  };
  if (query.size() != embedding_dim) {
    throw Error(ErrorCode::invalid_argument, what() + " has " + std::to_string(query.size()) +
                                                 " dimensions, the store has " +
                                                 std::to_string(embedding_dim));
  }
  // A value is NaN or infinite when its exponent bits are all ones. Or-ing that test over
  // the query without a branch lets the compiler vectorise it (it runs before every
  // search, a batch's 128 queries included); the loop that names the value runs only then.
  constexpr std::uint32_t kExponent = 0x7f800000u;
  std::uint32_t not_finite = 0;
  for (const float value : query) {
    not_finite |= static_cast<std::uint32_t>((std::bit_cast<std::uint32_t>(value) & kExponent) ==
                                             kExponent);
  }
  if (not_finite == 0) return;
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (!std::isfinite(query[i])) {
      throw Error(ErrorCode::invalid_argument,
                  what() + " value " + std::to_string(i) + " is not finite");
    }
  }
}

// Throws invalid_argument for k == 0: a search for nothing is a caller's mistake, not an
// empty result.
inline void require_positive_k(std::size_t k) {
  if (k == 0) throw Error(ErrorCode::invalid_argument, "k must be at least 1");
}

}  // namespace edgehdf5::core
