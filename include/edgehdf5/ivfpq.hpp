#pragma once
// IVFPQIndex: an approximate cosine index over a MemoryColumns (inverted file + product
// quantisation), with exact re-ranking of its candidates against the stored embeddings.
//
// How it works. Every active row is normalised to unit length. A k-means coarse quantiser
// splits the unit sphere into `nlist` cells; each row goes to the list of its nearest
// centroid, stored as the product-quantised code of its residual (row - centroid):
// `sub_quantizers` bytes, one 8-bit code per slice of embedding_dim / sub_quantizers values
// (384-d with 48 sub-quantisers: 48 bytes per row, 32x smaller than float32). A query is
// normalised, compared with every centroid, and the `nprobe` nearest lists are scanned with
// one lookup table per query (asymmetric distance computation: the inner product of the query
// with each of 256 codewords per slice, so a row's approximate cosine is
// dot(query, centroid) + the sum of sub_quantizers table entries). The `rerank` best
// approximate candidates are then scored exactly from the columns' float32 or float16 rows,
// which lifts recall from what PQ alone reaches (about 0.3 at 1M x 384) to that of the
// exact engine within the probed lists.
//
// Rows are identified by MemoryId (stable across compaction and reopen); the index also keeps
// each id's current row, refreshed by sync(). Filters and tombstones are applied during the
// scan exactly as the exact engine applies them, so a deleted row is never returned even
// before the index itself is updated.
//
// Thread safety: const methods may run concurrently; train/add/sync/remove need exclusive
// access. The MemoryColumns passed to a call must not change during it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/filter.hpp"
#include "edgehdf5/memory_columns.hpp"
#include "edgehdf5/row_allocator.hpp"
#include "edgehdf5/search.hpp"

namespace edgehdf5 {

struct IVFPQParams {
  std::size_t nlist = 0;             // coarse cells; 0: about sqrt(active rows), at least 1
  std::size_t sub_quantizers = 48;   // bytes per code; must divide embedding_dim
  std::size_t bits = 8;              // per sub-quantiser code; only 8 is supported
  std::size_t training_sample = 0;   // rows the coarse k-means sees; 0: min(rows, 64 * nlist)
  std::size_t pq_training_sample = 0;  // rows the PQ codebooks see; 0: min(rows, 32768)
  std::size_t iterations = 10;       // k-means iterations (coarse and PQ)
  std::uint64_t seed = 1234;         // same seed and data: the same index
  std::size_t threads = 0;           // build threads; 0: every core
};

struct IVFPQSearchOptions {
  std::size_t k = 10;
  std::size_t nprobe = 16;    // lists scanned (clamped to nlist)
  std::size_t rerank = 400;   // approximate candidates scored exactly (at least k);
                              // 0: no re-ranking, scores are the PQ approximations
  SearchFilter filter;        // as in the exact engine (tombstoned rows are always refused)
};

// What an index holds, for `edgehdf5 index info` and the retrain rule.
struct IVFPQInfo {
  std::size_t embedding_dim = 0;
  std::size_t nlist = 0;
  std::size_t sub_quantizers = 0;
  std::size_t bits = 8;
  std::size_t vectors = 0;              // codes held (rows removed by compaction are dropped)
  std::size_t trained_vectors = 0;      // active rows when it was trained
  std::size_t added_since_training = 0;
  double training_error = 0.0;          // mean squared distance of the training sample to its
                                        // centroid (unit vectors)
  double added_error = 0.0;             // the same for rows added since; 0 if none
  std::size_t bytes = 0;                // centroids + codebooks + codes + ids
  bool needs_retrain = false;           // see IVFPQIndex::needs_retrain()
};

// The index as flat arrays, for persistence (the store writes them as the /ivfpq group).
struct IVFPQData {
  std::size_t embedding_dim = 0;
  std::size_t nlist = 0;
  std::size_t sub_quantizers = 0;
  std::size_t bits = 8;
  std::uint64_t seed = 0;
  std::vector<float> centroids;               // nlist * embedding_dim
  std::vector<float> codebooks;               // sub_quantizers * 256 * (dim / sub_quantizers)
  std::vector<std::uint64_t> list_offsets;    // nlist + 1; list l is [offsets[l], offsets[l+1])
  // The bulk of the index: a store maps them from its file where it can (RowVector, as the
  // embedding matrix), so an index opened from a file is searched where its codes lie.
  RowVector<std::uint8_t> codes;              // vectors * sub_quantizers, list after list
  RowVector<MemoryId> ids;                    // vectors, in the order of codes
  std::size_t trained_vectors = 0;
  double training_error = 0.0;
  std::size_t added_since_training = 0;
  double added_error_sum = 0.0;
};

class IVFPQIndex {
 public:
  // An empty, untrained index: trained() is false and search throws.
  IVFPQIndex();
  ~IVFPQIndex();
  IVFPQIndex(IVFPQIndex&&) noexcept;
  IVFPQIndex& operator=(IVFPQIndex&&) noexcept;
  IVFPQIndex(const IVFPQIndex&) = delete;
  IVFPQIndex& operator=(const IVFPQIndex&) = delete;

  // Trains on the active rows of `columns` and indexes all of them. Throws invalid_argument
  // (sub_quantizers does not divide embedding_dim, bits != 8, nlist larger than the active
  // rows, fewer than 256 active rows to train the codebooks on).
  static IVFPQIndex train(const MemoryColumns& columns, const IVFPQParams& params = {});
  // Rebuilds from persisted arrays without retraining and binds it to `columns`: the rows
  // saved after the arrays were written are encoded and added. The codes and ids are kept
  // as given (mapped, if they were) and scanned in place until a compaction or remove()
  // copies them; ids the columns no longer hold are passed over by search. Throws corruption
  // when the arrays are inconsistent with each other or with the columns' embedding_dim.
  static IVFPQIndex from_data(IVFPQData data, const MemoryColumns& columns);
  IVFPQData to_data() const;

  bool trained() const noexcept;

  // Brings the index up to date with `columns`: appended rows are encoded and added to their
  // lists (cheap: only rows past the last one seen); if rows were removed or reordered
  // (compaction), ids no longer in the columns are dropped and every row number is refreshed.
  void sync(const MemoryColumns& columns);
  // As sync(), but drops the ids no longer in `columns` and refreshes every row number
  // whatever sync() can tell: for an index made by from_data() from arrays written before a
  // compaction of `columns` (from_data() trusts the arrays to name the columns' memories and
  // looks each candidate's row up when a search meets it). O(vectors).
  void resync(const MemoryColumns& columns);
  // Drops `id`'s code now (a tombstone already hides it from search). Returns whether it
  // was indexed. O(vectors).
  bool remove(MemoryId id);

  // Approximate cosine top-k over the active rows of `columns` that pass the filter.
  // REQUIRES: sync(columns) since columns last changed. Throws invalid_argument (k == 0, bad
  // query) and unsupported (not trained). metrics.strategy is "ivfpq".
  SearchResults search(std::span<const float> query, const MemoryColumns& columns,
                       const IVFPQSearchOptions& options) const;

  IVFPQInfo info() const;
  // The retrain rule: true when at least 1000 rows were added since training and either
  // (a) their mean squared distance to their centroid exceeds 1.5x that of the training
  // sample (the data has moved away from the cells), or (b) the index holds more than 4x
  // the rows it was trained on (lists have grown long enough that more cells would pay).
  bool needs_retrain() const;

 private:
  struct Impl;
  // The trained index, for changes that follow `columns`; throws unsupported when not
  // trained and invalid_argument when the dimensions differ.
  Impl& impl_for(const MemoryColumns& columns);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgehdf5
