#pragma once
// The in-memory columns of a memory store, exposed read-only (HDF5Memory::cache()) so that
// the free search functions can scan them without a copy. Row i of every column describes
// the same memory; rows are in id order.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/half.hpp"

namespace edgehdf5 {

enum class EmbeddingType { float32, float16 };

struct MemoryCache {
  std::size_t embedding_dim = 0;
  EmbeddingType embedding_type = EmbeddingType::float32;
  std::vector<float> embeddings_f32;      // rows * embedding_dim, when float32
  std::vector<half_bits> embeddings_f16;  // rows * embedding_dim, when float16
  std::vector<float> norms;               // L2 norm of each stored (rounded) embedding
  std::vector<std::uint8_t> tombstones;   // 1 = deleted
  std::vector<MemoryId> ids;              // strictly increasing
  std::vector<std::string> chunks;
  std::vector<std::string> source_channels;
  std::vector<double> timestamps;
  std::vector<std::string> session_ids;
  std::vector<std::string> tags;

  std::size_t rows() const noexcept { return ids.size(); }
  // Row of `id`, or -1 when no row has it. O(log n).
  std::ptrdiff_t row_of(MemoryId id) const noexcept;
  // Embedding of a row widened to float32.
  std::vector<float> embedding(std::size_t row) const;
};

}  // namespace edgehdf5
