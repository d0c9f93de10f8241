#include "store/keyword_group.hpp"

#include <span>
#include <type_traits>

#include "edgehdf5/error.hpp"
#include "store/mapped_dataset.hpp"

namespace edgehdf5::store {
namespace {

// Every array of `arrays` with its dataset's name, in the group's order: the one list that
// writing and reading share (`Arrays` is KeywordIndexArrays, const or not).
template <typename Arrays, typename Visit>
void for_each_array(Arrays& arrays, Visit&& visit) {
  visit("term_bytes", arrays.term_bytes);
  visit("term_offsets", arrays.term_offsets);
  visit("posting_offsets", arrays.posting_offsets);
  visit("posting_rows", arrays.posting_rows);
  visit("posting_frequencies", arrays.posting_frequencies);
  visit("large_frequency_postings", arrays.large_frequency_postings);
  visit("large_frequencies", arrays.large_frequencies);
  visit("document_lengths", arrays.document_lengths);
}

template <typename T>
void write_values(const h5::Object& group, const char* name, const RowVector<T>& values,
                  const h5::WriteOptions& options) {
  h5::write_array(group, name, std::span<const T>(values.data(), values.size()), options);
}

template <typename T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
  if constexpr (std::is_same_v<T, std::uint32_t>) return H5T_NATIVE_UINT32;
  if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_NATIVE_UINT64;
}

template <typename T>
void read_values(const h5::Object& group, const char* name, bool map, RowVector<T>& values) {
  h5::Object dataset = h5::open_dataset(group, name);
  const h5::DatasetInfo info = h5::describe(dataset);
  if (info.type_class != h5::TypeClass::integer || info.dims.size() != 1) {
    throw Error(ErrorCode::schema, info.path + " is " + info.describe_type() + " of rank " +
                                       std::to_string(info.dims.size()) +
                                       ", not a 1-D integer array");
  }
  map_or_read(dataset, native_type<T>(), info.dims[0], map, values);
}

}  // namespace

void write_keyword_group(const h5::Object& file, const KeywordIndexArrays& arrays,
                         const h5::WriteOptions& options) {
  h5::Object group = h5::create_group(file, kKeywordGroupName);
  h5::write_attribute(group, "format", std::string_view(kKeywordFormat));
  h5::write_attribute(group, "tokenizer", keyword_tokenizer_name(arrays.tokenizer));
  for_each_array(arrays, [&](const char* name, const auto& values) {
    write_values(group, name, values, options);
  });
  group.close();
}

std::optional<KeywordIndexArrays> read_keyword_group(const h5::Object& file, bool map) {
  if (!h5::has_link(file, kKeywordGroupName)) return std::nullopt;
  h5::Object group = h5::open_group(file, kKeywordGroupName);
  const std::string format = h5::read_string_attribute(group, "format");
  if (format != kKeywordFormat) {
    throw Error(ErrorCode::schema, "/keyword_index has format '" + format + "'; this build reads '" +
                                       kKeywordFormat + "'");
  }
  const std::string tokenizer = h5::read_string_attribute(group, "tokenizer");
  KeywordIndexArrays arrays;
  const std::optional<KeywordTokenizer> parsed = parse_keyword_tokenizer(tokenizer);
  if (!parsed) {
    throw Error(ErrorCode::schema, "/keyword_index has an unknown tokenizer '" + tokenizer + "'");
  }
  arrays.tokenizer = *parsed;
  for_each_array(arrays, [&](const char* name, auto& values) {
    read_values(group, name, map, values);
  });
  group.close();
  return arrays;
}

}  // namespace edgehdf5::store
