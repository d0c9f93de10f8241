#include "index/ivfpq/ivfpq_group.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "edgehdf5/error.hpp"
#include "index/ivfpq/adc.hpp"
#include "store/mapped_dataset.hpp"

namespace edgehdf5::ivfpq {
namespace {

constexpr const char* kFormat = "ivfpq 1";

std::size_t element_count(const h5::DatasetInfo& info) {
  std::size_t count = 1;
  for (hsize_t dim : info.dims) count *= static_cast<std::size_t>(dim);
  return count;
}

// Opens `name` and checks it holds `expected` elements.
h5::Object open_sized(const h5::Object& group, const char* name, std::size_t expected) {
  h5::Object dataset = h5::open_dataset(group, name);
  const h5::DatasetInfo info = h5::describe(dataset);
  if (element_count(info) != expected) {
    throw Error(ErrorCode::schema, info.path + " holds " + std::to_string(element_count(info)) +
                                       " values, expected " + std::to_string(expected));
  }
  return dataset;
}

std::size_t read_size(const h5::Object& group, const char* name) {
  const std::int64_t value = h5::read_int_attribute(group, name);
  if (value < 0) {
    throw Error(ErrorCode::schema, h5::path_of(group) + " attribute " + name + " is negative");
  }
  return static_cast<std::size_t>(value);
}

}  // namespace

void write_group(const h5::Object& file, const IVFPQData& data) {
  const h5::WriteOptions options{};  // codes and centroids do not compress usefully
  h5::Object group = h5::create_group(file, kGroupName);
  h5::write_attribute(group, "format", std::string_view(kFormat));
  h5::write_attribute(group, "embedding_dim", static_cast<std::int64_t>(data.embedding_dim));
  h5::write_attribute(group, "nlist", static_cast<std::int64_t>(data.nlist));
  h5::write_attribute(group, "sub_quantizers", static_cast<std::int64_t>(data.sub_quantizers));
  h5::write_attribute(group, "bits", static_cast<std::int64_t>(data.bits));
  std::int64_t seed = 0;
  std::memcpy(&seed, &data.seed, sizeof seed);
  h5::write_attribute(group, "seed", seed);
  h5::write_attribute(group, "trained_vectors", static_cast<std::int64_t>(data.trained_vectors));
  h5::write_attribute(group, "training_error", data.training_error);
  h5::write_attribute(group, "added_since_training",
                      static_cast<std::int64_t>(data.added_since_training));
  h5::write_attribute(group, "added_error_sum", data.added_error_sum);
  h5::write_matrix(group, "centroids", data.centroids.data(), data.nlist, data.embedding_dim,
                   options);
  const std::size_t sub_dim = data.sub_quantizers ? data.embedding_dim / data.sub_quantizers : 0;
  h5::write_matrix(group, "codebooks", data.codebooks.data(), data.sub_quantizers * kCodewords,
                   sub_dim, options);
  const std::vector<std::int64_t> offsets(data.list_offsets.begin(), data.list_offsets.end());
  h5::write_dataset(group, "list_offsets", offsets, options);
  h5::write_array(group, "codes", std::span<const std::uint8_t>(data.codes), options);
  h5::write_array(group, "ids", std::span<const std::int64_t>(data.ids), options);
  group.close();
}

std::optional<IVFPQData> read_group(const h5::Object& file, bool map) {
  if (!h5::has_link(file, kGroupName)) return std::nullopt;
  h5::Object group = h5::open_group(file, kGroupName);
  const std::string format = h5::read_string_attribute(group, "format");
  if (format != kFormat) {
    throw Error(ErrorCode::unsupported,
                "/ivfpq has format '" + format + "'; this build reads '" + kFormat + "'");
  }
  IVFPQData data;
  data.embedding_dim = read_size(group, "embedding_dim");
  data.nlist = read_size(group, "nlist");
  data.sub_quantizers = read_size(group, "sub_quantizers");
  data.bits = read_size(group, "bits");
  const std::int64_t seed = h5::read_int_attribute(group, "seed");
  std::memcpy(&data.seed, &seed, sizeof seed);
  data.trained_vectors = read_size(group, "trained_vectors");
  data.training_error = h5::read_double_attribute(group, "training_error");
  data.added_since_training = read_size(group, "added_since_training");
  data.added_error_sum = h5::read_double_attribute(group, "added_error_sum");
  if (data.sub_quantizers == 0 || data.embedding_dim % data.sub_quantizers != 0) {
    throw Error(ErrorCode::schema, "/ivfpq: sub_quantizers does not divide embedding_dim");
  }

  // Every dataset's size is checked before its buffer is allocated, so a damaged count
  // is reported rather than tried. Sizes are products of file values: bound them first.
  constexpr std::size_t kMaxValues = std::size_t{1} << 40;
  if (data.nlist == 0 || data.nlist > kMaxValues / std::max<std::size_t>(1, data.embedding_dim)) {
    throw Error(ErrorCode::schema, "/ivfpq attribute nlist (" + std::to_string(data.nlist) +
                                       ") is not a usable list count");
  }
  const h5::Object centroids = open_sized(group, "centroids", data.nlist * data.embedding_dim);
  data.centroids.resize(data.nlist * data.embedding_dim);
  h5::read_into(centroids, data.centroids.data());
  const std::size_t codebook_values =
      data.sub_quantizers * kCodewords * (data.embedding_dim / data.sub_quantizers);
  const h5::Object codebooks = open_sized(group, "codebooks", codebook_values);
  data.codebooks.resize(codebook_values);
  h5::read_into(codebooks, data.codebooks.data());
  const h5::Object offsets_dataset = open_sized(group, "list_offsets", data.nlist + 1);
  std::vector<std::int64_t> offsets(data.nlist + 1);
  h5::read_into(offsets_dataset, offsets.data());
  for (std::size_t l = 0; l < offsets.size(); ++l) {
    if (offsets[l] < 0 || (l > 0 && offsets[l] < offsets[l - 1])) {
      throw Error(ErrorCode::schema, "/ivfpq/list_offsets is not a non-decreasing list of "
                                     "offsets (at entry " + std::to_string(l) + ")");
    }
  }
  data.list_offsets.assign(offsets.begin(), offsets.end());
  const std::size_t vectors = static_cast<std::size_t>(offsets.back());
  if (vectors > kMaxValues / data.sub_quantizers) {
    throw Error(ErrorCode::schema, "/ivfpq/list_offsets ends at an impossible " +
                                       std::to_string(vectors) + " vectors");
  }
  const h5::Object ids = open_sized(group, "ids", vectors);
  const h5::Object codes = open_sized(group, "codes", vectors * data.sub_quantizers);
  store::map_or_read(ids, H5T_NATIVE_INT64, vectors, map, data.ids);
  store::map_or_read(codes, H5T_NATIVE_UINT8, vectors * data.sub_quantizers, map, data.codes);
  group.close();
  return data;
}

}  // namespace edgehdf5::ivfpq
