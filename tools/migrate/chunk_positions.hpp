#pragma once
// Where each row of memory_chunks went in the new file.
//
// The SQLite schema refers to chunks by position: sessions.start_idx/end_idx and
// entities.embedding_idx are 0-based positions in memory_chunks ordered by id. The new file
// refers to memories by id, and a new file numbers the memories it is given 0, 1, 2... So
// with every row written, position p becomes id p; rows left out (--skip-deleted,
// --skip-invalid) shift the ids of the rows after them. This class records that mapping.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "edgehdf5/entry.hpp"

namespace edgehdf5::migrate {

class ChunkPositions {
 public:
  // The row at the next position was written and got the next id (0, 1, 2...).
  void add_written();
  // The row at the next position was left out.
  void add_left_out();

  // How many positions (rows of memory_chunks) have been recorded.
  std::size_t positions() const noexcept { return written_.size(); }

  // The id of the memory written for `position`, or nullopt when that row was left out.
  // REQUIRES: position < positions().
  std::optional<MemoryId> memory_at(std::size_t position) const;

  // The id that the first row written at or after `position` got (the next id when none
  // was). The ids of the rows written from positions [first, last) are then exactly
  // [first_id_from(first), first_id_from(last)), which is how a session's half-open range
  // of positions becomes a half-open range of ids. REQUIRES: position <= positions().
  MemoryId first_id_from(std::size_t position) const;

 private:
  std::vector<bool> written_;
  // written_before_[p]: rows written at positions < p; one entry more than positions.
  std::vector<MemoryId> written_before_{0};
};

}  // namespace edgehdf5::migrate
