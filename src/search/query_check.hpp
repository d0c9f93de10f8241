#pragma once
// The checks every search entry point makes on its arguments.

#include <cmath>
#include <span>
#include <string>

#include "edgehdf5/error.hpp"

namespace edgehdf5::search {

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

inline void require_positive_k(std::size_t k) {
  if (k == 0) throw Error(ErrorCode::invalid_argument, "k must be at least 1");
}

}  // namespace edgehdf5::search
