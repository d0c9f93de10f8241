#pragma once
// The in-memory columns of a memory store: the store's authoritative data (the file and its
// log are how it survives; these columns are what it holds), exposed read-only
// (HDF5Memory::columns()) so that the free search functions can scan them without a copy.
// Row i of every column describes the same memory; rows are in id order. (Named
// MemoryCache before 0.2.)

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgehdf5/text_column.hpp"
#include "edgehdf5/entry.hpp"
#include "edgehdf5/half.hpp"
#include "edgehdf5/row_allocator.hpp"

namespace edgehdf5 {

enum class EmbeddingType { float32, float16 };

struct MemoryColumns {
  std::size_t embedding_dim = 0;
  EmbeddingType embedding_type = EmbeddingType::float32;
  // rows * embedding_dim, of the stored type only. A RowVector: std::vector with an allocator
  // that lets an open store map the file's matrix instead of reading it (row_allocator.hpp).
  RowVector<float> embeddings_f32;
  RowVector<half_bits> embeddings_f16;
  std::vector<float> norms;               // L2 norm of each stored (rounded) embedding
  std::vector<std::uint8_t> tombstones;   // 1 = deleted
  std::vector<MemoryId> ids;              // strictly increasing
  // The text columns: an open store reads them from its file when asked (text_column.hpp).
  TextColumn chunks;
  TextColumn source_channels;
  std::vector<double> timestamps;
  TextColumn session_ids;
  TextColumn tags;

  std::size_t rows() const noexcept { return ids.size(); }
  // Row of `id`, or -1 when no row has it. O(log n).
  std::ptrdiff_t row_of(MemoryId id) const noexcept;
  // Embedding of a row widened to float32.
  std::vector<float> embedding(std::size_t row) const;
  // Reads what an open store left of the text columns in its file (text_column.hpp), each
  // in one pass: for a caller about to look at every row of them.
  void load_texts() const;

  // Calls visit(column, values) for every per-row column, in the order of the file's
  // /memory group: chunks, embeddings (the vector of the stored type only), source_channel,
  // timestamps, session_ids, tags, tombstones, norms, ids. `values` is the vector itself
  // (std::vector, or RowVector for the embeddings; const in the const overload). This is
  // the one list of the columns: whatever treats every column alike (compaction, growth,
  // the file's layout, verify, statistics) goes through it, so a column added here reaches
  // all of them.
  template <typename Visitor>
  void for_each_column(Visitor&& visit) {
    visit_columns(*this, visit);
  }
  template <typename Visitor>
  void for_each_column(Visitor&& visit) const {
    visit_columns(*this, visit);
  }

 private:
  template <typename Self, typename Visitor>
  static void visit_columns(Self& self, Visitor& visit);
};

// A column as for_each_column presents it: the name of its dataset under /memory and the
// number of values one row holds in it (embedding_dim for the embeddings, else 1).
struct MemoryColumn {
  std::string_view dataset;
  std::size_t values_per_row = 1;
};

template <typename Self, typename Visitor>
void MemoryColumns::visit_columns(Self& self, Visitor& visit) {
  visit(MemoryColumn{"chunks"}, self.chunks);
  if (self.embedding_type == EmbeddingType::float16) {
    visit(MemoryColumn{"embeddings", self.embedding_dim}, self.embeddings_f16);
  } else {
    visit(MemoryColumn{"embeddings", self.embedding_dim}, self.embeddings_f32);
  }
  visit(MemoryColumn{"source_channel"}, self.source_channels);
  visit(MemoryColumn{"timestamps"}, self.timestamps);
  visit(MemoryColumn{"session_ids"}, self.session_ids);
  visit(MemoryColumn{"tags"}, self.tags);
  visit(MemoryColumn{"tombstones"}, self.tombstones);
  visit(MemoryColumn{"norms"}, self.norms);
  visit(MemoryColumn{"ids"}, self.ids);
}

}  // namespace edgehdf5
