// The /ivfpq group: an index written into an HDF5 file reads back to the same arrays and
// the same search results; a file without the group has no index.

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "edgehdf5/ivfpq.hpp"
#include "h5/h5.hpp"
#include "index/ivfpq/ivfpq_group.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

MemoryColumns unit_columns(std::size_t rows, std::size_t dim) {
  MemoryColumns columns;
  columns.embedding_dim = dim;
  std::mt19937_64 random(3);
  std::normal_distribution<float> normal;
  for (std::size_t i = 0; i < rows; ++i) {
    double norm = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      columns.embeddings_f32.push_back(normal(random));
      norm += double(columns.embeddings_f32.back()) * columns.embeddings_f32.back();
    }
    columns.norms.push_back(static_cast<float>(std::sqrt(norm)));
    columns.tombstones.push_back(0);
    columns.ids.push_back(static_cast<MemoryId>(i * 2));  // ids need not be row numbers
  }
  return columns;
}

TEST(IVFPQGroup, RoundTripThroughAFile) {
  testing::TempDir dir;
  const MemoryColumns columns = unit_columns(3000, 48);
  IVFPQParams params;
  params.sub_quantizers = 12;
  params.nlist = 20;
  params.seed = 0xfedcba9876543210ull;  // needs all 64 bits
  const IVFPQIndex index = IVFPQIndex::train(columns, params);
  const IVFPQData data = index.to_data();
  const auto path = dir / "index.h5";
  {
    h5::LibraryLock lock;
    h5::Object file = h5::create_file(path);
    EXPECT_FALSE(ivfpq::read_group(file).has_value());
    ivfpq::write_group(file, data);
    file.close();
  }
  std::optional<IVFPQData> read;
  {
    h5::LibraryLock lock;
    h5::Object file = h5::open_file_read_only(path);
    read = ivfpq::read_group(file);
    file.close();
  }
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->seed, data.seed);
  EXPECT_EQ(read->centroids, data.centroids);
  EXPECT_EQ(read->codebooks, data.codebooks);
  EXPECT_EQ(read->list_offsets, data.list_offsets);
  EXPECT_EQ(read->codes, data.codes);
  EXPECT_EQ(read->ids, data.ids);
  EXPECT_EQ(read->trained_vectors, data.trained_vectors);
  EXPECT_EQ(read->training_error, data.training_error);

  const IVFPQIndex reopened = IVFPQIndex::from_data(std::move(*read), columns);
  const std::vector<float> query = columns.embedding(7);
  const SearchResults a = index.search(query, columns, {});
  const SearchResults b = reopened.search(query, columns, {});
  ASSERT_EQ(a.hits.size(), b.hits.size());
  for (std::size_t i = 0; i < a.hits.size(); ++i) EXPECT_EQ(a.hits[i].id, b.hits[i].id);
  EXPECT_EQ(b.hits.front().id, 14);  // the query row itself
}

}  // namespace
}  // namespace edgehdf5
