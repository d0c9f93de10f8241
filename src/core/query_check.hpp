#pragma once
// The checks every search entry point (the exact engine, the reference search, IVF-PQ,
// keyword and hybrid search) makes on its arguments, so that each reports a bad argument in
// the same words.

#include <cmath>
#include <cstddef>
#include <span>
#include <string>

#include "edgehdf5/error.hpp"

namespace edgehdf5::core {

// Throws invalid_argument unless `query` has embedding_dim values, all finite. `what` names
// the query in the message ("query 3" in a batch).
inline void require_valid_query(std::span<const float> query, std::size_t embedding_dim,
                                const std::string& what = "query") {
  if (query.size() != embedding_dim) {
    throw Error(ErrorCode::invalid_argument, what + " has " + std::to_string(query.size()) +
                                                 " dimensions, the store has " +
                                                 std::to_string(embedding_dim));
  }
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (!std::isfinite(query[i])) {
      throw Error(ErrorCode::invalid_argument,
                  what + " value " + std::to_string(i) + " is not finite");
    }
  }
}

// Throws invalid_argument for k == 0: a search for nothing is a caller's mistake, not an
// empty result.
inline void require_positive_k(std::size_t k) {
  if (k == 0) throw Error(ErrorCode::invalid_argument, "k must be at least 1");
}

}  // namespace edgehdf5::core
