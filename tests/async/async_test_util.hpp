#pragma once
// What the async tests share: a store's settings and waiting on many futures.

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "edgehdf5/config.hpp"
#include "edgehdf5/entry.hpp"

namespace edgehdf5::testing {

inline MemoryConfig async_store_config(const std::filesystem::path& path, std::size_t dim) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = dim;
  config.agent_id = "async-tester";
  config.embedder = "random:" + std::to_string(dim);
  config.compact_threshold = 0;  // a test that wants compaction says so
  return config;
}

// The ids the futures hold, in order. Fails the test (and returns fewer) if one holds an error.
inline std::vector<MemoryId> ids_of(std::vector<std::future<MemoryId>>& futures) {
  std::vector<MemoryId> ids;
  for (std::future<MemoryId>& future : futures) {
    try {
      ids.push_back(future.get());
    } catch (const std::exception& error) {
      ADD_FAILURE() << "a save failed: " << error.what();
    }
  }
  return ids;
}

}  // namespace edgehdf5::testing
