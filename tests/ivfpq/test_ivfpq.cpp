// IVFPQIndex against exact search on clustered data (a mixture of Gaussians).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"
#include "index/ivfpq/kmeans.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/search.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::mixture;

// Appends rows to columns the way a store holds them: ids in order, metadata that filters
// can select on (session "s<row % 4>", timestamps increasing).
void append_rows(MemoryColumns& columns, const std::vector<float>& points) {
  const std::size_t dim = columns.embedding_dim;
  const std::size_t count = points.size() / dim;
  for (std::size_t i = 0; i < count; ++i) {
    const float* x = points.data() + i * dim;
    const MemoryId id = columns.ids.empty() ? 0 : columns.ids.back() + 1;
    double norm = 0;
    if (columns.embedding_type == EmbeddingType::float16) {
      for (std::size_t j = 0; j < dim; ++j) {
        const half_bits bits = float_to_half(x[j]);
        columns.embeddings_f16.push_back(bits);
        norm += double(half_to_float(bits)) * half_to_float(bits);
      }
    } else {
      columns.embeddings_f32.insert(columns.embeddings_f32.end(), x, x + dim);
      for (std::size_t j = 0; j < dim; ++j) norm += double(x[j]) * x[j];
    }
    columns.norms.push_back(static_cast<float>(std::sqrt(norm)));
    columns.tombstones.push_back(0);
    columns.ids.push_back(id);
    columns.chunks.push_back("chunk " + std::to_string(id));
    columns.source_channels.push_back("chat");
    columns.timestamps.push_back(1.7e9 + static_cast<double>(id));
    std::string session = "s";  // not "s" + ...: a false -Wrestrict in GCC 12
    session += std::to_string(id % 4);
    columns.session_ids.push_back(std::move(session));
    columns.tags.push_back("");
  }
}

MemoryColumns make_columns(std::size_t dim, EmbeddingType type = EmbeddingType::float32) {
  MemoryColumns columns;
  columns.embedding_dim = dim;
  columns.embedding_type = type;
  return columns;
}

SearchResults exact(std::span<const float> query, const MemoryColumns& columns, std::size_t k,
                    const SearchFilter& filter = {}) {
  SearchOptions options;
  options.k = k;
  options.strategy = Strategy::simd;
  options.filter = filter;
  return SearchEngine::shared().search(query, columns, options);
}

// Mean recall@k of the index over `queries` against exact search.
double recall(const IVFPQIndex& index, const MemoryColumns& columns, const std::vector<float>& queries,
              IVFPQSearchOptions options) {
  const std::size_t dim = columns.embedding_dim;
  const std::size_t count = queries.size() / dim;
  double total = 0;
  for (std::size_t q = 0; q < count; ++q) {
    const std::span<const float> query(queries.data() + q * dim, dim);
    const SearchResults truth = exact(query, columns, options.k, options.filter);
    const SearchResults found = index.search(query, columns, options);
    std::set<MemoryId> expected;
    for (const SearchHit& hit : truth.hits) expected.insert(hit.id);
    std::size_t hits = 0;
    for (const SearchHit& hit : found.hits) hits += expected.count(hit.id);
    total += expected.empty() ? 1.0 : double(hits) / double(expected.size());
  }
  return total / double(count);
}

constexpr std::size_t kDim = 384;
constexpr std::size_t kClusters = 64;
constexpr float kSpread = 0.9f;

class IVFPQTest : public ::testing::Test {
 protected:
  // One trained index over all the points, shared by the tests that only read it.
  static void SetUpTestSuite() {
    points_ = new std::vector<float>(mixture(20000, kDim, kClusters, kSpread, 1));
    queries_ = new std::vector<float>(mixture(100, kDim, kClusters, kSpread, 2));
    columns_ = new MemoryColumns(make_columns(kDim));
    append_rows(*columns_, *points_);
    index_ = new IVFPQIndex(IVFPQIndex::train(*columns_, params()));
  }
  static void TearDownTestSuite() {
    delete index_;
    delete columns_;
    delete points_;
    delete queries_;
  }
  static MemoryColumns* columns_;
  static IVFPQIndex* index_;
  static IVFPQParams params() {
    IVFPQParams params;
    params.nlist = 64;
    params.sub_quantizers = 48;
    params.seed = 5;
    return params;
  }
  static std::vector<float>* points_;
  static std::vector<float>* queries_;
};
std::vector<float>* IVFPQTest::points_ = nullptr;
std::vector<float>* IVFPQTest::queries_ = nullptr;
MemoryColumns* IVFPQTest::columns_ = nullptr;
IVFPQIndex* IVFPQTest::index_ = nullptr;

TEST_F(IVFPQTest, RecallAt10AgainstExactSearch) {
  const MemoryColumns& columns = *columns_;
  const IVFPQIndex& index = *index_;
  const IVFPQInfo info = index.info();
  EXPECT_EQ(info.vectors, 20000u);
  EXPECT_EQ(info.nlist, 64u);
  EXPECT_EQ(info.sub_quantizers, 48u);
  EXPECT_FALSE(info.needs_retrain);

  IVFPQSearchOptions options;
  options.k = 10;
  options.nprobe = 8;
  options.rerank = 200;
  const double reranked = recall(index, columns, *queries_, options);
  EXPECT_GE(reranked, 0.95);
  options.rerank = 0;
  const double pq_only = recall(index, columns, *queries_, options);
  EXPECT_LT(pq_only, reranked);  // re-ranking is what lifts recall
  std::cout << "recall@10: re-ranked " << reranked << ", PQ alone " << pq_only << '\n';

  const SearchResults results = index.search(std::span(queries_->data(), kDim), columns, {});
  EXPECT_EQ(results.metrics.strategy, "ivfpq");
  EXPECT_GT(results.metrics.vectors_scanned, 0u);
  EXPECT_LT(results.metrics.vectors_scanned, 20000u);
  ASSERT_EQ(results.hits.size(), 10u);
  for (std::size_t i = 1; i < results.hits.size(); ++i) {
    EXPECT_GE(results.hits[i - 1].score, results.hits[i].score);
  }
}

TEST_F(IVFPQTest, RerankedScoresAreExactCosines) {
  const MemoryColumns& columns = *columns_;
  const IVFPQIndex& index = *index_;
  const std::span<const float> query(queries_->data(), kDim);
  const SearchResults found = index.search(query, columns, {});
  const std::vector<float> all = cosine_similarity_batch_prenorm(query, columns);
  for (const SearchHit& hit : found.hits) {
    EXPECT_NEAR(hit.score, all[static_cast<std::size_t>(hit.id)], 1e-5f);
  }
}

TEST_F(IVFPQTest, IncrementalAddsMatchARebuild) {
  MemoryColumns columns = make_columns(kDim);
  const std::vector<float> first(points_->begin(), points_->begin() + 10000 * kDim);
  const std::vector<float> second(points_->begin() + 10000 * kDim, points_->end());
  append_rows(columns, first);
  IVFPQIndex incremental = IVFPQIndex::train(columns, params());
  append_rows(columns, second);
  incremental.sync(columns);
  EXPECT_EQ(incremental.info().vectors, 20000u);
  EXPECT_EQ(incremental.info().added_since_training, 10000u);
  const IVFPQIndex& rebuilt = *index_;  // trained on the same 20000 rows at once

  IVFPQSearchOptions options;
  options.nprobe = 8;
  options.rerank = 200;
  const double incremental_recall = recall(incremental, columns, *queries_, options);
  const double rebuilt_recall = recall(rebuilt, columns, *queries_, options);
  EXPECT_GE(incremental_recall, 0.95);
  EXPECT_NEAR(incremental_recall, rebuilt_recall, 0.02);
  // Same distribution: no retrain is called for (the index only doubled).
  EXPECT_FALSE(incremental.needs_retrain());
}

TEST_F(IVFPQTest, DeletedRowsAreNeverReturned) {
  MemoryColumns columns = *columns_;
  IVFPQIndex index = IVFPQIndex::from_data(index_->to_data(), columns);  // a copy
  // Delete every query's exact top 5 (after the index was built: only tombstones hide them)
  // and a third of all rows.
  for (std::size_t q = 0; q < 100; ++q) {
    for (const SearchHit& hit : exact(std::span(queries_->data() + q * kDim, kDim), columns, 5).hits) {
      columns.tombstones[static_cast<std::size_t>(hit.id)] = 1;
    }
  }
  for (std::size_t row = 0; row < columns.rows(); row += 3) columns.tombstones[row] = 1;
  IVFPQSearchOptions options;
  options.nprobe = 8;
  for (std::size_t q = 0; q < 100; ++q) {
    const SearchResults found = index.search(std::span(queries_->data() + q * kDim, kDim), columns, options);
    EXPECT_EQ(found.hits.size(), 10u);
    for (const SearchHit& hit : found.hits) {
      ASSERT_EQ(columns.tombstones[static_cast<std::size_t>(hit.id)], 0) << "id " << hit.id;
    }
  }
  EXPECT_GE(recall(index, columns, *queries_, options), 0.93);

  // Compaction: the tombstoned rows leave the columns, the others move up but keep their ids.
  MemoryColumns compacted = make_columns(kDim);
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (columns.tombstones[row]) continue;
    compacted.embeddings_f32.insert(compacted.embeddings_f32.end(),
                                    columns.embeddings_f32.begin() + std::ptrdiff_t(row * kDim),
                                    columns.embeddings_f32.begin() + std::ptrdiff_t((row + 1) * kDim));
    compacted.norms.push_back(columns.norms[row]);
    compacted.tombstones.push_back(0);
    compacted.ids.push_back(columns.ids[row]);
    compacted.chunks.push_back(columns.chunks[row]);
    compacted.source_channels.push_back(columns.source_channels[row]);
    compacted.timestamps.push_back(columns.timestamps[row]);
    compacted.session_ids.push_back(columns.session_ids[row]);
    compacted.tags.push_back(columns.tags[row]);
  }
  index.sync(compacted);
  EXPECT_EQ(index.info().vectors, compacted.rows());
  EXPECT_GE(recall(index, compacted, *queries_, options), 0.93);

  // An explicit remove drops the code at once.
  const MemoryId victim = compacted.ids[10];
  EXPECT_TRUE(index.remove(victim));
  EXPECT_FALSE(index.remove(victim));
  EXPECT_EQ(index.info().vectors, compacted.rows() - 1);
}

TEST_F(IVFPQTest, FiltersAsInTheExactEngine) {
  const MemoryColumns& columns = *columns_;
  const IVFPQIndex& index = *index_;
  IVFPQSearchOptions options;
  options.nprobe = 8;
  options.filter.session_id = "s2";
  options.filter.after = 1.7e9 + 5000;
  for (std::size_t q = 0; q < 20; ++q) {
    for (const SearchHit& hit : index.search(std::span(queries_->data() + q * kDim, kDim), columns, options).hits) {
      const auto row = static_cast<std::size_t>(hit.id);
      EXPECT_EQ(columns.session_ids[row], "s2");
      EXPECT_GE(columns.timestamps[row], 1.7e9 + 5000);
    }
  }
  EXPECT_GE(recall(index, columns, *queries_, options), 0.9);
  options.filter = {};
  options.filter.half_life_seconds = 20000.0;
  options.filter.now = 1.7e9 + 20000;
  EXPECT_GE(recall(index, columns, *queries_, options), 0.8);
}

TEST_F(IVFPQTest, Float16Rows) {
  MemoryColumns columns = make_columns(kDim, EmbeddingType::float16);
  append_rows(columns, *points_);
  const IVFPQIndex index = IVFPQIndex::train(columns, params());
  IVFPQSearchOptions options;
  options.nprobe = 8;
  options.rerank = 200;
  EXPECT_GE(recall(index, columns, *queries_, options), 0.95);
  const std::span<const float> query(queries_->data(), kDim);
  const std::vector<float> all = cosine_similarity_batch_prenorm(query, columns);
  for (const SearchHit& hit : index.search(query, columns, options).hits) {
    EXPECT_NEAR(hit.score, all[static_cast<std::size_t>(hit.id)], 1e-4f);
  }
}

TEST_F(IVFPQTest, FlatFormRoundTrip) {
  MemoryColumns columns = make_columns(kDim);
  append_rows(columns, std::vector<float>(points_->begin(), points_->begin() + 8000 * kDim));
  IVFPQIndex index = IVFPQIndex::train(columns, params());
  // Appended after training and a delete: both must survive the round trip.
  append_rows(columns, std::vector<float>(points_->begin() + 8000 * kDim, points_->begin() + 9000 * kDim));
  index.sync(columns);
  columns.tombstones[17] = 1;
  index.remove(columns.ids[17]);

  IVFPQData data = index.to_data();
  EXPECT_EQ(data.list_offsets.size(), 65u);
  EXPECT_EQ(data.ids.size(), 8999u);
  EXPECT_EQ(data.codes.size(), 8999u * 48);
  const IVFPQIndex reopened = IVFPQIndex::from_data(data, columns);
  EXPECT_EQ(reopened.info().vectors, 8999u);
  EXPECT_EQ(reopened.info().added_since_training, 1000u);
  for (std::size_t q = 0; q < 10; ++q) {
    const std::span<const float> query(queries_->data() + q * kDim, kDim);
    const SearchResults a = index.search(query, columns, {});
    const SearchResults b = reopened.search(query, columns, {});
    ASSERT_EQ(a.hits.size(), b.hits.size());
    for (std::size_t i = 0; i < a.hits.size(); ++i) {
      EXPECT_EQ(a.hits[i].id, b.hits[i].id);
      EXPECT_EQ(a.hits[i].score, b.hits[i].score);
    }
  }
  // Rows saved after the index was persisted are added when it is opened.
  append_rows(columns, std::vector<float>(points_->begin() + 9000 * kDim, points_->begin() + 9500 * kDim));
  EXPECT_EQ(IVFPQIndex::from_data(data, columns).info().vectors, 9499u);

  IVFPQData broken = data;
  broken.list_offsets[3] = broken.ids.size() + 1;
  EXPECT_THROW(IVFPQIndex::from_data(broken, columns), Error);
  broken = data;
  broken.codes.pop_back();
  EXPECT_THROW(IVFPQIndex::from_data(broken, columns), Error);
  broken = data;
  broken.embedding_dim = 192;
  EXPECT_THROW(IVFPQIndex::from_data(broken, columns), Error);
}

TEST_F(IVFPQTest, RetrainWhenTheDataDrifts) {
  MemoryColumns columns = make_columns(kDim);
  append_rows(columns, std::vector<float>(points_->begin(), points_->begin() + 5000 * kDim));
  IVFPQIndex index = IVFPQIndex::train(columns, params());
  append_rows(columns, mixture(2000, kDim, kClusters, kSpread, 3));  // same clusters
  index.sync(columns);
  EXPECT_FALSE(index.needs_retrain());
  append_rows(columns, mixture(3000, kDim, kClusters, kSpread, 4, /*centre_seed=*/12345));
  index.sync(columns);
  EXPECT_TRUE(index.needs_retrain());
  EXPECT_GT(index.info().added_error, 1.5 * index.info().training_error);
}

TEST(IVFPQ, OtherShapes) {
  // 96-d with 12 sub-quantisers (8 values each) and 32-d with 32 (one each).
  for (const auto& [dim, m] : {std::pair<std::size_t, std::size_t>{96, 12}, {32, 32}}) {
    MemoryColumns columns = make_columns(dim);
    append_rows(columns, mixture(4000, dim, 16, 0.5f, 1));
    IVFPQParams params;
    params.sub_quantizers = m;
    const IVFPQIndex index = IVFPQIndex::train(columns, params);
    EXPECT_EQ(index.info().nlist, 63u);  // about sqrt(4000)
    IVFPQSearchOptions options;
    options.nprobe = 16;
    EXPECT_GE(recall(index, columns, mixture(30, dim, 16, 0.5f, 2), options), 0.9) << dim;
  }
}

TEST(IVFPQ, Errors) {
  MemoryColumns columns = make_columns(96);
  append_rows(columns, mixture(300, 96, 4, 0.5f, 1));
  IVFPQParams params;
  params.sub_quantizers = 7;
  EXPECT_THROW(IVFPQIndex::train(columns, params), Error);
  params.sub_quantizers = 12;
  params.bits = 4;
  EXPECT_THROW(IVFPQIndex::train(columns, params), Error);
  params.bits = 8;
  params.nlist = 1000;
  EXPECT_THROW(IVFPQIndex::train(columns, params), Error);

  const IVFPQIndex untrained;
  EXPECT_FALSE(untrained.trained());
  const std::vector<float> query(96, 1.0f);
  try {
    untrained.search(query, columns, {});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::unsupported);
  }
  params.nlist = 4;
  const IVFPQIndex index = IVFPQIndex::train(columns, params);
  IVFPQSearchOptions options;
  options.k = 0;
  EXPECT_THROW(index.search(query, columns, options), Error);
  EXPECT_THROW(index.search(std::vector<float>(95, 1.0f), columns, {}), Error);
  std::vector<float> bad = query;
  bad[3] = std::nanf("");
  EXPECT_THROW(index.search(bad, columns, {}), Error);
}

// The build's work split on the process thread pool: each item once, ranges that depend only
// on the count and the thread count, nested calls run inline.
TEST(IVFPQ, ParallelRangesCoverEveryItemOnce) {
  for (std::size_t threads : {1u, 2u, 3u, 7u, 64u}) {
    for (std::size_t count : {0u, 1u, 5u, 13u, 128u, 1001u}) {
      std::vector<std::atomic<int>> seen(count);
      std::atomic<std::size_t> ranges{0};
      ivfpq::parallel_ranges(count, threads, [&](std::size_t begin, std::size_t end) {
        ++ranges;
        ivfpq::parallel_ranges(end - begin, threads, [&](std::size_t first, std::size_t last) {
          for (std::size_t i = begin + first; i < begin + last; ++i) seen[i]++;
        });
      });
      for (const auto& times : seen) EXPECT_EQ(times.load(), 1) << threads << " " << count;
      const bool split = threads > 1 && count >= 2 * threads;
      const std::size_t share = split ? (count + threads - 1) / threads : count;
      EXPECT_EQ(ranges.load(), split ? (count + share - 1) / share : 1u);
    }
  }
}

}  // namespace
}  // namespace edgehdf5
