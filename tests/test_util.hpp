#pragma once
// Shared test fixtures: a temporary directory per test and seeded random entries.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "edgehdf5/search.hpp"

namespace edgehdf5::testing {

// Runs `action`, expects Error with `code` and a message containing `fragment`.
template <typename Action>
void expect_error(Action action, ErrorCode code, const std::string& fragment) {
  try {
    action();
    ADD_FAILURE() << "no error; expected one containing '" << fragment << "'";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), code) << error.what();
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "test";
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::temp_directory_path() /
            ("edgehdf5-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The file whose mapping holds `address`, as the kernel lists it ("" for anonymous memory
// or the heap); nullopt where /proc/self/maps does not exist.
inline std::optional<std::string> file_backing(const void* address) {
  std::ifstream maps("/proc/self/maps");
  if (!maps) return std::nullopt;
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range, perms, offset, device, inode, path;
    fields >> range >> perms >> offset >> device >> inode;
    std::getline(fields >> std::ws, path);
    const std::size_t dash = range.find('-');
    const std::uintptr_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (start <= at && at < end) return inode == "0" ? std::string() : path;
  }
  return std::string();
}

inline std::vector<float> random_vector(std::mt19937_64& rng, std::size_t dim) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(dim);
  for (float& x : v) x = normal(rng);
  return v;
}

inline MemoryEntry make_entry(std::mt19937_64& rng, std::size_t dim, int index) {
  MemoryEntry entry;
  entry.chunk = "memory number " + std::to_string(index) + " — naïve café ☕";
  entry.embedding = random_vector(rng, dim);
  entry.source_channel = index % 2 ? "chat" : "email";
  entry.timestamp = 1700000000.0 + index;
  entry.session_id = "session-" + std::to_string(index / 10);
  entry.tags = index % 3 ? "a,b" : "";
  return entry;
}

inline std::vector<MemoryEntry> make_entries(std::size_t count, std::size_t dim,
                                             std::uint64_t seed = 42, int first_index = 0) {
  std::mt19937_64 rng(seed);
  std::vector<MemoryEntry> entries;
  for (std::size_t i = 0; i < count; ++i) {
    entries.push_back(make_entry(rng, dim, first_index + static_cast<int>(i)));
  }
  return entries;
}

// `count` points of a mixture of `clusters` Gaussians in `dim` dimensions: centres random
// unit vectors, each point its centre plus isotropic noise of total norm about `spread`.
inline std::vector<float> mixture(std::size_t count, std::size_t dim, std::size_t clusters,
                                  float spread, std::uint64_t seed,
                                  std::uint64_t centre_seed = 99) {
  std::mt19937_64 centre_random(centre_seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(clusters * dim);
  for (std::size_t c = 0; c < clusters; ++c) {
    double norm = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      centres[c * dim + j] = normal(centre_random);
      norm += double(centres[c * dim + j]) * centres[c * dim + j];
    }
    for (std::size_t j = 0; j < dim; ++j)
      centres[c * dim + j] /= static_cast<float>(std::sqrt(norm));
  }
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
  const float sigma = spread / std::sqrt(static_cast<float>(dim));
  std::vector<float> points(count * dim);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t c = pick(random);
    for (std::size_t j = 0; j < dim; ++j)
      points[i * dim + j] = centres[c * dim + j] + sigma * normal(random);
  }
  return points;
}

// Appends `values` as the next row's embedding in the columns' element type (float16 rows are
// rounded first, so the stored norm is the norm of what is stored) with its norm.
inline void append_embedding(MemoryColumns& columns, std::vector<float> values) {
  if (columns.embedding_type == EmbeddingType::float16) {
    for (float& x : values) {
      columns.embeddings_f16.push_back(float_to_half(x));
      x = half_to_float(columns.embeddings_f16.back());
    }
  } else {
    columns.embeddings_f32.insert(columns.embeddings_f32.end(), values.begin(), values.end());
  }
  columns.norms.push_back(compute_norm(values));
}

}  // namespace edgehdf5::testing
