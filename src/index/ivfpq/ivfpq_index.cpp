// IVFPQIndex (include/edgehdf5/ivfpq.hpp): training, incremental encoding, search with exact
// re-ranking, and the flat form the store persists.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <thread>

#include "core/kernels/kernels.hpp"
#include "core/query_check.hpp"
#include "core/row_filter.hpp"
#include "core/top_k.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "index/ivfpq/adc.hpp"
#include "index/ivfpq/kmeans.hpp"

namespace edgehdf5 {
namespace {

using ivfpq::kCodewords;

// Rows encoded per step of sync(): their normalised copies (1.5 MiB at 384-d) and the
// coarse assignment's dot products stay in cache.
constexpr std::size_t kEncodeBlock = 1024;

// The retrain rule's constants (see IVFPQIndex::needs_retrain).
constexpr std::size_t kRetrainMinAdded = 1000;
constexpr double kRetrainErrorRatio = 1.5;
constexpr double kRetrainGrowth = 4.0;

std::size_t resolve_threads(std::size_t threads) {
  if (threads != 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Row `row` of the columns scaled to unit length into `out`; false for a zero row.
bool normalised_row(const MemoryColumns& columns, std::size_t row, const kernels::KernelSet& simd,
                    float* out) {
  const std::size_t dim = columns.embedding_dim;
  if (columns.embedding_type == EmbeddingType::float16) {
    simd.widen_f16(columns.embeddings_f16.data() + row * dim, dim, out);
  } else {
    std::copy_n(columns.embeddings_f32.data() + row * dim, dim, out);
  }
  const float norm = columns.norms[row];
  if (!(norm > 0.0f)) return false;
  const float scale = 1.0f / norm;
  for (std::size_t j = 0; j < dim; ++j) out[j] *= scale;
  return true;
}

// The columns row of `id`, or -1 when the columns do not hold it. Until a compaction a
// store's ids are its row numbers plus the first id: that O(1) guess comes before the
// binary search.
std::ptrdiff_t row_of_id(const MemoryColumns& columns, MemoryId id) {
  const std::size_t rows = columns.rows();
  if (rows != 0) {
    const MemoryId guess = id - columns.ids.front();
    if (guess >= 0 && static_cast<std::size_t>(guess) < rows &&
        columns.ids[static_cast<std::size_t>(guess)] == id) {
      return static_cast<std::ptrdiff_t>(guess);
    }
  }
  return columns.row_of(id);
}

// Candidates are keyed by columns row; 32 bits keep a candidate in 8 bytes (the index holds at
// most 2^32 - 1 rows, see encode_rows).
using CandidateTopK = core::BoundedTopK<std::uint32_t>;
using Candidate = CandidateTopK::Entry;

}  // namespace

struct IVFPQIndex::Impl {
  std::size_t dim = 0;
  std::size_t nlist = 0;
  std::size_t sub_quantizers = 0;
  std::size_t sub_dim = 0;
  std::uint64_t seed = 0;
  std::size_t threads = 1;
  std::vector<float> centroids;       // nlist * dim
  std::vector<float> centroid_norms;  // |c|^2 per centroid
  std::vector<float> codebooks;       // [s][c][j]
  std::vector<float> transposed;      // [s][j][c]

  // A list entry whose row is looked up when a search meets it (entries from_data() kept).
  static constexpr std::uint32_t kRowUnknown = std::numeric_limits<std::uint32_t>::max();

  struct List {
    std::vector<std::uint8_t> codes;
    std::vector<MemoryId> ids;
    std::vector<std::uint32_t> rows;  // current columns row of each id, or kRowUnknown
  };
  std::vector<List> lists;

  // The lists as from_data() was given them (mapped from the file, when the store could),
  // scanned where they lie: list l is entries [offsets[l], offsets[l + 1]), before the
  // entries of lists[l]; their rows are looked up per candidate. Copying them into `lists`
  // and finding every id's row at open were most of a one-shot IVF-PQ recall at 1M (the
  // search touches the 1-2% of the codes its probed lists hold); a compaction or remove()
  // copies them (thaw()).
  struct StoredLists {
    RowVector<std::uint8_t> codes;
    RowVector<MemoryId> ids;
    std::vector<std::uint64_t> offsets;
  };
  std::optional<StoredLists> stored;

  // The columns rows seen so far: sync() adds only rows past bound_rows while the row
  // before it still holds bound_last_id (nothing was removed in between).
  std::size_t bound_rows = 0;
  MemoryId bound_last_id = -1;

  std::size_t trained_vectors = 0;
  double training_error = 0.0;
  std::size_t added_since_training = 0;
  double added_error_sum = 0.0;

  ivfpq::AdcKernels adc = ivfpq::best_adc_kernels();
  kernels::KernelSet simd = kernels::best_simd_kernels();

  void prepare_derived() {
    centroid_norms.resize(nlist);
    for (std::size_t c = 0; c < nlist; ++c) {
      float sum = 0.0f;
      for (std::size_t j = 0; j < dim; ++j) sum += centroids[c * dim + j] * centroids[c * dim + j];
      centroid_norms[c] = sum;
    }
    transposed = ivfpq::transpose_codebooks(codebooks, sub_quantizers, sub_dim);
  }

  std::size_t vectors() const {
    std::size_t total = stored ? stored->ids.size() : 0;
    for (const List& list : lists) total += list.ids.size();
    return total;
  }

  // Moves the stored entries into `lists`, ahead of each list's own, rows unknown.
  void thaw() {
    if (!stored) return;
    const std::size_t m = sub_quantizers;
    for (std::size_t l = 0; l < nlist; ++l) {
      const std::size_t begin = stored->offsets[l];
      const std::size_t end = stored->offsets[l + 1];
      List& list = lists[l];
      list.ids.insert(list.ids.begin(), stored->ids.begin() + static_cast<std::ptrdiff_t>(begin),
                      stored->ids.begin() + static_cast<std::ptrdiff_t>(end));
      list.codes.insert(list.codes.begin(),
                        stored->codes.begin() + static_cast<std::ptrdiff_t>(begin * m),
                        stored->codes.begin() + static_cast<std::ptrdiff_t>(end * m));
      list.rows.insert(list.rows.begin(), end - begin, kRowUnknown);
    }
    stored.reset();
  }

  // Encodes the active rows among [begin, end) of `columns` and appends them to their lists.
  // Returns the sum of their squared distances to their centroids.
  double encode_rows(const MemoryColumns& columns, std::size_t begin, std::size_t end) {
    if (end > std::numeric_limits<std::uint32_t>::max()) {
      throw Error(ErrorCode::unsupported, "the IVF-PQ index holds at most 2^32 - 1 rows");
    }
    // A save's few rows are encoded on the calling thread with OpenBLAS left as it is (its
    // thread setting is process-wide, and another thread may be searching with it); a
    // build's or a bind's many rows are split over our threads, OpenBLAS single-threaded.
    const bool many = end - begin >= kEncodeBlock;
    const std::size_t encode_threads = many ? threads : 1;
    std::optional<ivfpq::SingleThreadedBlas> blas_guard;
    if (many) blas_guard.emplace();
    double error_sum = 0.0;
    std::vector<float> block(kEncodeBlock * dim);
    std::vector<std::uint32_t> block_rows(kEncodeBlock);
    std::vector<std::uint32_t> labels(kEncodeBlock);
    std::vector<float> distances(kEncodeBlock);
    std::vector<std::uint8_t> codes(kEncodeBlock * sub_quantizers);
    for (std::size_t row = begin; row < end;) {
      std::size_t filled = 0;
      for (; row < end && filled < kEncodeBlock; ++row) {
        if (columns.tombstones[row]) continue;
        if (!normalised_row(columns, row, simd, block.data() + filled * dim)) continue;
        block_rows[filled++] = static_cast<std::uint32_t>(row);
      }
      if (filled == 0) continue;
      ivfpq::assign_nearest(block.data(), filled, centroids.data(), nlist, dim, encode_threads,
                            labels.data(), distances.data());
      ivfpq::parallel_ranges(filled, encode_threads, [&](std::size_t first, std::size_t last) {
        std::vector<float> residual(dim);
        for (std::size_t i = first; i < last; ++i) {
          const float* x = block.data() + i * dim;
          const float* centre = centroids.data() + labels[i] * dim;
          for (std::size_t j = 0; j < dim; ++j) residual[j] = x[j] - centre[j];
          adc.encode(residual.data(), transposed.data(), sub_quantizers, sub_dim,
                     codes.data() + i * sub_quantizers);
        }
      });
      for (std::size_t i = 0; i < filled; ++i) {
        List& list = lists[labels[i]];
        const std::uint8_t* code = codes.data() + i * sub_quantizers;
        list.codes.insert(list.codes.end(), code, code + sub_quantizers);
        list.ids.push_back(columns.ids[block_rows[i]]);
        list.rows.push_back(block_rows[i]);
        error_sum += distances[i];
      }
    }
    return error_sum;
  }

  std::size_t count_active(const MemoryColumns& columns, std::size_t begin, std::size_t end) const {
    std::size_t active = 0;
    for (std::size_t row = begin; row < end; ++row) {
      active += (!columns.tombstones[row] && columns.norms[row] > 0.0f) ? 1 : 0;
    }
    return active;
  }

  void add_new_rows(const MemoryColumns& columns, std::size_t first, bool counts_as_added) {
    const std::size_t end = columns.rows();
    if (first < end) {
      const std::size_t added = count_active(columns, first, end);
      const double error = encode_rows(columns, first, end);
      if (counts_as_added) {
        added_since_training += added;
        added_error_sum += error;
      }
    }
    bound_rows = end;
    bound_last_id = end ? columns.ids[end - 1] : -1;
  }
};

IVFPQIndex::IVFPQIndex() = default;
IVFPQIndex::~IVFPQIndex() = default;
IVFPQIndex::IVFPQIndex(IVFPQIndex&&) noexcept = default;
IVFPQIndex& IVFPQIndex::operator=(IVFPQIndex&&) noexcept = default;

bool IVFPQIndex::trained() const noexcept { return impl_ != nullptr; }

IVFPQIndex IVFPQIndex::train(const MemoryColumns& columns, const IVFPQParams& params) {
  const std::size_t dim = columns.embedding_dim;
  if (params.bits != 8) {
    throw Error(
        ErrorCode::invalid_argument,
        "IVF-PQ codes are 8 bits per sub-quantiser; got bits = " + std::to_string(params.bits));
  }
  if (params.sub_quantizers == 0 || dim % params.sub_quantizers != 0) {
    throw Error(ErrorCode::invalid_argument,
                "sub_quantizers (" + std::to_string(params.sub_quantizers) +
                    ") must divide embedding_dim (" + std::to_string(dim) + ")");
  }
  std::vector<std::size_t> active;
  active.reserve(columns.rows());
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (!columns.tombstones[row] && columns.norms[row] > 0.0f) active.push_back(row);
  }
  const std::size_t nlist =
      params.nlist != 0
          ? params.nlist
          : std::max<std::size_t>(
                1, static_cast<std::size_t>(std::lround(std::sqrt(double(active.size())))));
  if (active.size() < std::max(nlist, kCodewords)) {
    throw Error(ErrorCode::invalid_argument,
                "an IVF-PQ index needs at least max(nlist, 256) active rows to train on; nlist = " +
                    std::to_string(nlist) + ", active rows = " + std::to_string(active.size()));
  }

  auto impl = std::make_unique<Impl>();
  impl->dim = dim;
  impl->nlist = nlist;
  impl->sub_quantizers = params.sub_quantizers;
  impl->sub_dim = dim / params.sub_quantizers;
  impl->seed = params.seed;
  impl->threads = resolve_threads(params.threads);
  impl->lists.resize(nlist);
  const std::size_t threads = impl->threads;
  ivfpq::SingleThreadedBlas blas_guard;

  std::mt19937_64 random(params.seed);
  // A seeded sample of `count` active rows, normalised, row after row.
  auto sample = [&](std::size_t count) {
    count = std::min(count, active.size());
    std::vector<std::size_t> chosen = active;
    for (std::size_t i = 0; i < count; ++i) {
      std::uniform_int_distribution<std::size_t> pick(i, chosen.size() - 1);
      std::swap(chosen[i], chosen[pick(random)]);
    }
    chosen.resize(count);
    std::sort(chosen.begin(), chosen.end());  // read the columns in order
    std::vector<float> rows(count * dim);
    for (std::size_t i = 0; i < count; ++i) {
      normalised_row(columns, chosen[i], impl->simd, rows.data() + i * dim);
    }
    return rows;
  };

  // Coarse quantiser. 64 points per centroid: k-means centroids settle with far fewer
  // points than FAISS's default cap of 256, and training time is linear in the sample.
  const std::size_t coarse_count =
      params.training_sample != 0 ? params.training_sample : 64 * nlist;
  std::vector<float> coarse_sample = sample(std::max(coarse_count, nlist));
  const std::size_t coarse_rows = coarse_sample.size() / dim;
  ivfpq::KMeansResult coarse = ivfpq::kmeans(coarse_sample.data(), coarse_rows, dim, nlist,
                                             params.iterations, params.seed, threads);
  impl->centroids = std::move(coarse.centroids);
  impl->training_error = coarse.mean_error;
  coarse_sample = {};

  // Codebooks, trained on the residuals of a second sample, one k-means per slice; the
  // slices are independent, so the threads take whole slices.
  const std::size_t pq_count =
      params.pq_training_sample != 0 ? params.pq_training_sample : std::size_t{32768};
  std::vector<float> residuals = sample(std::max(pq_count, kCodewords));
  const std::size_t pq_rows = residuals.size() / dim;
  {
    std::vector<std::uint32_t> labels(pq_rows);
    ivfpq::assign_nearest(residuals.data(), pq_rows, impl->centroids.data(), nlist, dim, threads,
                          labels.data(), nullptr);
    for (std::size_t i = 0; i < pq_rows; ++i) {
      const float* centre = impl->centroids.data() + labels[i] * dim;
      for (std::size_t j = 0; j < dim; ++j) residuals[i * dim + j] -= centre[j];
    }
  }
  const std::size_t m = impl->sub_quantizers;
  const std::size_t sub_dim = impl->sub_dim;
  impl->codebooks.resize(m * kCodewords * sub_dim);
  ivfpq::parallel_ranges(m, threads, [&](std::size_t first, std::size_t last) {
    std::vector<float> slice(pq_rows * sub_dim);
    for (std::size_t s = first; s < last; ++s) {
      for (std::size_t i = 0; i < pq_rows; ++i) {
        std::copy_n(residuals.data() + i * dim + s * sub_dim, sub_dim, slice.data() + i * sub_dim);
      }
      ivfpq::KMeansResult words = ivfpq::kmeans(slice.data(), pq_rows, sub_dim, kCodewords,
                                                params.iterations, params.seed + 1 + s, 1);
      std::copy(words.centroids.begin(), words.centroids.end(),
                impl->codebooks.begin() + static_cast<std::ptrdiff_t>(s * kCodewords * sub_dim));
    }
  });
  residuals = {};
  impl->prepare_derived();

  impl->add_new_rows(columns, 0, /*counts_as_added=*/false);
  impl->trained_vectors = impl->vectors();
  IVFPQIndex index;
  index.impl_ = std::move(impl);
  return index;
}

IVFPQIndex::Impl& IVFPQIndex::impl_for(const MemoryColumns& columns) {
  if (!impl_) throw Error(ErrorCode::unsupported, "the IVF-PQ index is not trained");
  if (columns.embedding_dim != impl_->dim) {
    throw Error(ErrorCode::invalid_argument, "the IVF-PQ index has " +
                                                 std::to_string(impl_->dim) +
                                                 " dimensions, the store has " +
                                                 std::to_string(columns.embedding_dim));
  }
  return *impl_;
}

void IVFPQIndex::sync(const MemoryColumns& columns) {
  Impl& impl = impl_for(columns);
  const std::size_t rows = columns.rows();
  const bool only_appended =
      impl.bound_rows <= rows &&
      (impl.bound_rows == 0 ? impl.bound_last_id < 0
                            : columns.ids[impl.bound_rows - 1] == impl.bound_last_id);
  if (only_appended) {
    impl.add_new_rows(columns, impl.bound_rows, true);
    return;
  }
  resync(columns);
}

void IVFPQIndex::resync(const MemoryColumns& columns) {
  Impl& impl = impl_for(columns);
  // Rows were removed (compaction): refresh every row number, drop the ids that are gone,
  // then add the rows newer than any indexed id.
  impl.thaw();
  MemoryId last_indexed = impl.bound_last_id;
  for (Impl::List& list : impl.lists) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < list.ids.size(); ++i) {
      const std::ptrdiff_t row = row_of_id(columns, list.ids[i]);
      last_indexed = std::max(last_indexed, list.ids[i]);
      if (row < 0 || columns.tombstones[static_cast<std::size_t>(row)]) continue;
      list.ids[kept] = list.ids[i];
      list.rows[kept] = static_cast<std::uint32_t>(row);
      std::copy_n(list.codes.begin() + static_cast<std::ptrdiff_t>(i * impl.sub_quantizers),
                  impl.sub_quantizers,
                  list.codes.begin() + static_cast<std::ptrdiff_t>(kept * impl.sub_quantizers));
      ++kept;
    }
    list.ids.resize(kept);
    list.rows.resize(kept);
    list.codes.resize(kept * impl.sub_quantizers);
  }
  const auto first_new = static_cast<std::size_t>(
      std::upper_bound(columns.ids.begin(), columns.ids.end(), last_indexed) - columns.ids.begin());
  impl.add_new_rows(columns, first_new, true);
}

bool IVFPQIndex::remove(MemoryId id) {
  if (!impl_) return false;
  impl_->thaw();
  for (Impl::List& list : impl_->lists) {
    const auto it = std::find(list.ids.begin(), list.ids.end(), id);
    if (it == list.ids.end()) continue;
    const std::size_t i = static_cast<std::size_t>(it - list.ids.begin());
    const std::size_t last = list.ids.size() - 1;
    const std::size_t m = impl_->sub_quantizers;
    list.ids[i] = list.ids[last];
    list.rows[i] = list.rows[last];
    std::copy_n(list.codes.begin() + static_cast<std::ptrdiff_t>(last * m), m,
                list.codes.begin() + static_cast<std::ptrdiff_t>(i * m));
    list.ids.pop_back();
    list.rows.pop_back();
    list.codes.resize(last * m);
    return true;
  }
  return false;
}

SearchResults IVFPQIndex::search(std::span<const float> query, const MemoryColumns& columns,
                                 const IVFPQSearchOptions& options) const {
  const auto start = std::chrono::steady_clock::now();
  core::require_positive_k(options.k);
  if (!impl_) {
    throw Error(ErrorCode::unsupported, "strategy 'ivfpq' needs an index: none is built");
  }
  const Impl& impl = *impl_;
  core::require_valid_query(query, impl.dim);
  if (columns.embedding_dim != impl.dim) {
    throw Error(ErrorCode::invalid_argument,
                "the IVF-PQ index does not match this store's dimensions");
  }
  const std::size_t dim = impl.dim;

  // Unit query: approximate scores are then cosines.
  double norm_sq = 0.0;
  for (float value : query) norm_sq += double(value) * value;
  const float inverse_norm = norm_sq > 0.0 ? static_cast<float>(1.0 / std::sqrt(norm_sq)) : 0.0f;
  std::vector<float> unit(dim);
  for (std::size_t j = 0; j < dim; ++j) unit[j] = query[j] * inverse_norm;

  // Coarse step: the nprobe centroids nearest the query (L2 on the sphere), nearest first,
  // ties to the lower cell. A top-k of the negated distance |c|^2 - 2 q.c (|q|^2 = 1 is the
  // same for every cell): negation is exact, so the order is that of the distances.
  const std::size_t nprobe = std::clamp<std::size_t>(options.nprobe, 1, impl.nlist);
  std::vector<float> centroid_dots(impl.nlist);
  impl.simd.dot_f32(unit.data(), impl.centroids.data(), dim, 0, impl.nlist, centroid_dots.data());
  core::BoundedTopK<std::uint32_t> nearest_cells(nprobe);
  for (std::size_t c = 0; c < impl.nlist; ++c) {
    nearest_cells.offer(2.0f * centroid_dots[c] - impl.centroid_norms[c],
                        static_cast<std::uint32_t>(c));
  }
  const std::vector<core::Scored<std::uint32_t>> cells = nearest_cells.take_sorted();

  std::vector<float> table(impl.sub_quantizers * kCodewords);
  impl.adc.table(unit.data(), impl.transposed.data(), impl.sub_quantizers, impl.sub_dim,
                 table.data());

  const core::RowFilter filter(options.filter, columns);
  const bool recency = filter.weights_recency();
  const bool rerank = options.rerank > 0;
  CandidateTopK candidates(rerank ? std::max(options.rerank, options.k) : options.k);
  std::vector<float> scores;
  std::size_t scanned = 0;
  // Scores `count` codes of one list; `row_at(i)` is entry i's columns row (or -1: gone).
  const auto scan_codes = [&](std::uint32_t cell, const std::uint8_t* codes, std::size_t count,
                              const auto& row_at) {
    if (count == 0) return;
    scores.resize(count);
    impl.adc.scan(table.data(), codes, count, impl.sub_quantizers, centroid_dots[cell],
                  scores.data());
    scanned += count;
    for (std::size_t i = 0; i < count; ++i) {
      float score = scores[i];
      // Most codes lose to the current worst candidate: one compare turns them away before
      // the row is looked up or the filter touches its metadata. Recency weights are in
      // (0, 1], so max(score, 0) bounds the weighted score.
      if (std::max(score, 0.0f) < candidates.threshold()) continue;
      const std::ptrdiff_t found = row_at(i);
      if (found < 0) continue;
      const auto row = static_cast<std::uint32_t>(found);
      if (!filter.accepts(row)) continue;
      // Candidates compete on the score they will be ranked by: weighted, if weighting.
      if (recency) score *= filter.recency_weight(row);
      candidates.offer(score, row);
    }
  };
  const std::size_t m = impl.sub_quantizers;
  for (const core::Scored<std::uint32_t>& probed : cells) {
    const std::uint32_t cell = probed.key;
    if (impl.stored) {
      const std::size_t begin = impl.stored->offsets[cell];
      const MemoryId* ids = impl.stored->ids.data() + begin;
      scan_codes(cell, impl.stored->codes.data() + begin * m, impl.stored->offsets[cell + 1] - begin,
                 [&](std::size_t i) { return row_of_id(columns, ids[i]); });
    }
    const Impl::List& list = impl.lists[cell];
    scan_codes(cell, list.codes.data(), list.ids.size(), [&](std::size_t i) -> std::ptrdiff_t {
      const std::uint32_t row = list.rows[i];
      return row == Impl::kRowUnknown ? row_of_id(columns, list.ids[i]) : row;
    });
  }

  std::vector<Candidate> best = candidates.take_sorted();
  if (rerank) {
    // Exact cosines from the stored rows, as the exact engine computes them, and the best k
    // of those. The rows are scattered over the matrix: the next candidates' rows are
    // prefetched while this one is scored, so their cache misses overlap instead of
    // following one another.
    const std::size_t row_bytes =
        dim * (columns.embedding_type == EmbeddingType::float16 ? sizeof(half_bits) : sizeof(float));
    auto prefetch = [&](std::uint32_t row) {
      const char* begin =
          columns.embedding_type == EmbeddingType::float16
              ? reinterpret_cast<const char*>(columns.embeddings_f16.data() + std::size_t{row} * dim)
              : reinterpret_cast<const char*>(columns.embeddings_f32.data() + std::size_t{row} * dim);
      for (std::size_t offset = 0; offset < row_bytes; offset += 64)
        __builtin_prefetch(begin + offset);
    };
    constexpr std::size_t kPrefetchAhead = 4;
    for (std::size_t i = 0; i < std::min(kPrefetchAhead, best.size()); ++i) prefetch(best[i].key);
    CandidateTopK reranked(options.k);
    for (std::size_t i = 0; i < best.size(); ++i) {
      if (i + kPrefetchAhead < best.size()) prefetch(best[i + kPrefetchAhead].key);
      const std::uint32_t row = best[i].key;
      float dot = 0.0f;
      if (columns.embedding_type == EmbeddingType::float16) {
        impl.simd.dot_f16(query.data(), columns.embeddings_f16.data(), dim, row, row + 1, &dot);
      } else {
        impl.simd.dot_f32(query.data(), columns.embeddings_f32.data(), dim, row, row + 1, &dot);
      }
      const float norm = columns.norms[row];
      float score = norm > 0.0f ? dot * inverse_norm / norm : 0.0f;
      if (recency) score *= filter.recency_weight(row);
      reranked.offer(score, row);
    }
    best = reranked.take_sorted();
  }

  SearchResults results;
  results.hits = core::hits_of_rows<std::uint32_t>(best, columns);
  results.metrics.strategy = "ivfpq";
  results.metrics.isa = std::string(impl.adc.isa) + "/" + impl.adc.scan_kind;
  results.metrics.threads = 1;
  results.metrics.vectors_scanned = scanned;
  results.metrics.search_time_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  return results;
}

IVFPQData IVFPQIndex::to_data() const {
  IVFPQData data;
  if (!impl_) return data;
  const Impl& impl = *impl_;
  data.embedding_dim = impl.dim;
  data.nlist = impl.nlist;
  data.sub_quantizers = impl.sub_quantizers;
  data.bits = 8;
  data.seed = impl.seed;
  data.centroids = impl.centroids;
  data.codebooks = impl.codebooks;
  const std::size_t total = impl.vectors();
  data.list_offsets.reserve(impl.nlist + 1);
  data.codes.reserve(total * impl.sub_quantizers);
  data.ids.reserve(total);
  data.list_offsets.push_back(0);
  const std::size_t m = impl.sub_quantizers;
  for (std::size_t l = 0; l < impl.nlist; ++l) {
    if (impl.stored) {
      const std::size_t begin = impl.stored->offsets[l];
      const std::size_t end = impl.stored->offsets[l + 1];
      data.codes.insert(data.codes.end(), impl.stored->codes.begin() + static_cast<std::ptrdiff_t>(begin * m),
                        impl.stored->codes.begin() + static_cast<std::ptrdiff_t>(end * m));
      data.ids.insert(data.ids.end(), impl.stored->ids.begin() + static_cast<std::ptrdiff_t>(begin),
                      impl.stored->ids.begin() + static_cast<std::ptrdiff_t>(end));
    }
    const Impl::List& list = impl.lists[l];
    data.codes.insert(data.codes.end(), list.codes.begin(), list.codes.end());
    data.ids.insert(data.ids.end(), list.ids.begin(), list.ids.end());
    data.list_offsets.push_back(data.ids.size());
  }
  data.trained_vectors = impl.trained_vectors;
  data.training_error = impl.training_error;
  data.added_since_training = impl.added_since_training;
  data.added_error_sum = impl.added_error_sum;
  return data;
}

IVFPQIndex IVFPQIndex::from_data(IVFPQData data, const MemoryColumns& columns) {
  auto fail = [](const std::string& what) {
    throw Error(ErrorCode::corruption, "IVF-PQ index: " + what);
  };
  const std::size_t dim = data.embedding_dim;
  const std::size_t m = data.sub_quantizers;
  if (dim == 0 || m == 0 || dim % m != 0) fail("sub_quantizers does not divide embedding_dim");
  if (data.bits != 8) fail("bits is " + std::to_string(data.bits) + ", only 8 is supported");
  if (dim != columns.embedding_dim) {
    fail("built for " + std::to_string(dim) + " dimensions, the store has " +
         std::to_string(columns.embedding_dim));
  }
  if (data.nlist == 0 || data.centroids.size() != data.nlist * dim)
    fail("centroids have the wrong size");
  if (data.codebooks.size() != m * kCodewords * (dim / m)) fail("codebooks have the wrong size");
  if (data.list_offsets.size() != data.nlist + 1 || data.list_offsets.front() != 0 ||
      data.list_offsets.back() != data.ids.size()) {
    fail("list_offsets do not cover the ids");
  }
  if (!std::is_sorted(data.list_offsets.begin(), data.list_offsets.end()))
    fail("list_offsets decrease");
  if (data.codes.size() != data.ids.size() * m) fail("codes and ids differ in length");
  for (float value : data.centroids) {
    if (!std::isfinite(value)) fail("a centroid is not finite");
  }
  for (float value : data.codebooks) {
    if (!std::isfinite(value)) fail("a codeword is not finite");
  }

  auto impl = std::make_unique<Impl>();
  impl->dim = dim;
  impl->nlist = data.nlist;
  impl->sub_quantizers = m;
  impl->sub_dim = dim / m;
  impl->seed = data.seed;
  impl->threads = resolve_threads(0);
  impl->centroids = std::move(data.centroids);
  impl->codebooks = std::move(data.codebooks);
  impl->trained_vectors = data.trained_vectors;
  impl->training_error = data.training_error;
  impl->added_since_training = data.added_since_training;
  impl->added_error_sum = data.added_error_sum;
  impl->lists.resize(data.nlist);
  impl->prepare_derived();
  // The entries stay where they are (Impl::stored); the rows newer than every indexed id
  // (saved since the arrays were written) are encoded and added.
  const MemoryId last_id =
      data.ids.empty() ? MemoryId{-1} : *std::max_element(data.ids.begin(), data.ids.end());
  impl->stored = Impl::StoredLists{std::move(data.codes), std::move(data.ids),
                                   std::move(data.list_offsets)};
  const auto first_new = static_cast<std::size_t>(
      std::upper_bound(columns.ids.begin(), columns.ids.end(), last_id) - columns.ids.begin());
  impl->add_new_rows(columns, first_new, true);
  IVFPQIndex index;
  index.impl_ = std::move(impl);
  return index;
}

IVFPQInfo IVFPQIndex::info() const {
  IVFPQInfo info;
  if (!impl_) return info;
  const Impl& impl = *impl_;
  info.embedding_dim = impl.dim;
  info.nlist = impl.nlist;
  info.sub_quantizers = impl.sub_quantizers;
  info.bits = 8;
  info.vectors = impl.vectors();
  info.trained_vectors = impl.trained_vectors;
  info.added_since_training = impl.added_since_training;
  info.training_error = impl.training_error;
  info.added_error = impl.added_since_training
                         ? impl.added_error_sum / static_cast<double>(impl.added_since_training)
                         : 0.0;
  info.bytes = (impl.centroids.size() + impl.codebooks.size()) * sizeof(float) +
               info.vectors * (impl.sub_quantizers + sizeof(MemoryId));
  info.needs_retrain = needs_retrain();
  return info;
}

bool IVFPQIndex::needs_retrain() const {
  if (!impl_) return false;
  const Impl& impl = *impl_;
  if (impl.added_since_training < kRetrainMinAdded) return false;
  const double added_error = impl.added_error_sum / static_cast<double>(impl.added_since_training);
  if (added_error > kRetrainErrorRatio * impl.training_error) return true;
  return static_cast<double>(impl.vectors()) >
         kRetrainGrowth * static_cast<double>(impl.trained_vectors);
}

}  // namespace edgehdf5
