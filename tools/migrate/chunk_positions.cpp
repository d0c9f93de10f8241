#include "chunk_positions.hpp"

#include <cassert>

namespace edgehdf5::migrate {

void ChunkPositions::add_written() {
  written_.push_back(true);
  written_before_.push_back(written_before_.back() + 1);
}

void ChunkPositions::add_left_out() {
  written_.push_back(false);
  written_before_.push_back(written_before_.back());
}

std::optional<MemoryId> ChunkPositions::memory_at(std::size_t position) const {
  assert(position < positions());
  if (!written_[position]) return std::nullopt;
  return written_before_[position];  // ids are dense from 0, so the id is the count before
}

MemoryId ChunkPositions::first_id_from(std::size_t position) const {
  assert(position <= positions());
  return written_before_[position];
}

}  // namespace edgehdf5::migrate
