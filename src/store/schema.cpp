#include "store/schema.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>

#include "edgehdf5/bm25.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/version.hpp"
#include "h5/h5.hpp"
#include "h5/seam_driver.hpp"
#include "index/ivfpq/ivfpq_group.hpp"
#include "store/file_texts.hpp"
#include "store/keyword_group.hpp"
#include "store/mapped_dataset.hpp"
#include "store/posix_file.hpp"

namespace edgehdf5::store {
namespace {

// ---- ids <-> rows --------------------------------------------------------------------------
// Sessions cover half-open id ranges and entities point at one memory id; the file stores
// row positions, as the original tool did. While no compaction has dropped rows, ids and
// rows are the same numbers. Bounds past the last row extrapolate, so a session that ends
// at "the next memory to be saved" keeps meaning that after a reopen.

std::int64_t bound_to_row(const MemoryColumns& columns, MemoryId id) {
  const MemoryId last = columns.ids.empty() ? -1 : columns.ids.back();
  if (id > last) return static_cast<std::int64_t>(columns.rows()) + (id - last - 1);
  return std::lower_bound(columns.ids.begin(), columns.ids.end(), id) - columns.ids.begin();
}

MemoryId row_to_bound(const MemoryColumns& columns, std::int64_t row) {
  const auto rows = static_cast<std::int64_t>(columns.rows());
  if (row < 0) return row;
  if (row < rows) return columns.ids[static_cast<std::size_t>(row)];
  const MemoryId last = columns.ids.empty() ? -1 : columns.ids.back();
  return last + 1 + (row - rows);
}

// ---- validation helpers ----------------------------------------------------------------------

struct Column {
  h5::Object dataset;
  h5::DatasetInfo info;
};

Column open_column(const h5::Object& group, const char* name, h5::TypeClass type_class,
                   std::size_t rank) {
  Column column{h5::open_dataset(group, name), {}};
  column.info = h5::describe(column.dataset);
  const auto& info = column.info;
  if (info.type_class != type_class) {
    const char* wanted = type_class == h5::TypeClass::string    ? "strings"
                         : type_class == h5::TypeClass::integer ? "integers"
                                                                : "floating point";
    throw Error(ErrorCode::schema, info.path + " must hold " + wanted + ", found " +
                                       info.describe_type());
  }
  if (info.dims.size() != rank) {
    throw Error(ErrorCode::schema, info.path + " must have rank " + std::to_string(rank) +
                                       ", found rank " + std::to_string(info.dims.size()));
  }
  return column;
}

void expect_rows(const Column& column, std::size_t rows, const std::string& reference) {
  if (column.info.dims[0] != rows) {
    throw Error(ErrorCode::schema, column.info.path + " has " +
                                       std::to_string(column.info.dims[0]) + " rows, expected " +
                                       std::to_string(rows) + " (as " + reference + ")");
  }
}

template <typename T, typename Vector = std::vector<T>>
Vector read_numbers(const h5::Object& group, const char* name, h5::TypeClass type_class,
                    std::size_t rows, const std::string& reference) {
  Column column = open_column(group, name, type_class, 1);
  expect_rows(column, rows, reference);
  Vector values(rows);
  h5::read_into(column.dataset, values.data());
  return values;
}

std::vector<std::string> read_text(const h5::Object& group, const char* name, std::size_t rows,
                                   const std::string& reference) {
  Column column = open_column(group, name, h5::TypeClass::string, 1);
  expect_rows(column, rows, reference);
  return h5::read_strings(column.dataset);
}

// A /memory text column into `out`: read, or (defer) left in the file and read when asked
// (store/file_texts.hpp).
void read_text_column(Column column, bool defer, TextColumn& out) {
  if (defer) {
    const auto rows = static_cast<std::size_t>(column.info.dims[0]);
    out.defer_to(file_texts(std::move(column.dataset), rows));
  } else {
    out = h5::read_strings(column.dataset);
  }
}

std::int64_t optional_int(const h5::Object& meta, const char* name, std::int64_t fallback) {
  return h5::has_attribute(meta, name) ? h5::read_int_attribute(meta, name) : fallback;
}

std::size_t non_negative(const h5::Object& meta, const char* name) {
  const std::int64_t value = h5::read_int_attribute(meta, name);
  if (value < 0) {
    throw Error(ErrorCode::schema, "attribute /meta/" + std::string(name) + " is negative");
  }
  return static_cast<std::size_t>(value);
}

// /meta/keyword_tokenizer; files without it (before 0.3, other writers) used unicode61.
KeywordTokenizer read_keyword_tokenizer(const h5::Object& meta) {
  if (!h5::has_attribute(meta, "keyword_tokenizer")) return KeywordTokenizer::unicode61;
  const std::string name = h5::read_string_attribute(meta, "keyword_tokenizer");
  const std::optional<KeywordTokenizer> tokenizer = parse_keyword_tokenizer(name);
  if (!tokenizer) {
    throw Error(ErrorCode::schema, "attribute /meta/keyword_tokenizer is '" + name +
                                       "'; this build knows 'unicode61' and 'porter'");
  }
  return *tokenizer;
}

void read_meta(const h5::Object& file, StoreState& state) {
  h5::Object meta = h5::open_group(file, "meta");
  state.schema_version = h5::read_string_attribute(meta, "schema_version");
  if (state.schema_version.rfind("1.", 0) != 0) {
    throw Error(ErrorCode::schema, "unsupported schema_version '" + state.schema_version +
                                       "' in /meta (this build reads 1.x)");
  }
  state.edgehdf5_version = h5::has_attribute(meta, "edgehdf5_version")
                               ? h5::read_string_attribute(meta, "edgehdf5_version")
                               : "";
  MemoryConfig& config = state.config;
  config.agent_id = h5::read_string_attribute(meta, "agent_id");
  config.embedder = h5::read_string_attribute(meta, "embedder");
  config.embedding_dim = non_negative(meta, "embedding_dim");
  if (config.embedding_dim == 0) {
    throw Error(ErrorCode::schema, "attribute /meta/embedding_dim is 0");
  }
  config.chunk_size = non_negative(meta, "chunk_size");
  config.overlap = non_negative(meta, "overlap");
  config.created_at = h5::read_string_attribute(meta, "created_at");
  // Settings added by edgehdf5; files from the original tool lack them.
  config.float16 = optional_int(meta, "float16", 0) != 0;
  config.compression = optional_int(meta, "compression", 0) != 0;
  config.compression_level = static_cast<int>(optional_int(meta, "compression_level", 4));
  config.compact_threshold = h5::has_attribute(meta, "compact_threshold")
                                 ? h5::read_double_attribute(meta, "compact_threshold")
                                 : 0.3;
  config.keyword_tokenizer = read_keyword_tokenizer(meta);
  state.checkpoint_lsn = static_cast<std::uint64_t>(optional_int(meta, "checkpoint_lsn", 0));
  state.last_lsn = state.checkpoint_lsn;
  state.next_id = optional_int(meta, "next_id", -1);  // settled once the ids are read
}

// Maps the embedding matrix from the file into `rows` instead of reading it, when it can be
// (store/mapped_dataset.hpp). The block reserves room for as many rows again (at least
// 1 MiB), so rows saved after the open extend it in place. False when it was not mapped:
// the caller reads it.
template <typename T>
bool map_matrix(const std::optional<h5::RawExtent>& extent, std::size_t values,
                RowVector<T>& rows) {
  constexpr std::size_t kOneMiB = std::size_t{1} << 20;
  return map_values(extent, values, std::max(2 * values * sizeof(T), kOneMiB), rows);
}

// defer_text: leave the text columns in the file, read when asked (store/file_texts.hpp).
void read_memory(const h5::Object& file, StoreState& state, bool map, bool defer_text) {
  h5::Object memory = h5::open_group(file, "memory");
  MemoryColumns& columns = state.columns;
  const std::string reference = "/memory/chunks";
  read_text_column(open_column(memory, "chunks", h5::TypeClass::string, 1), defer_text,
                   columns.chunks);
  const std::size_t rows = columns.chunks.size();
  const std::size_t dim = state.config.embedding_dim;
  columns.embedding_dim = dim;

  Column embeddings = open_column(memory, "embeddings", h5::TypeClass::floating, 2);
  expect_rows(embeddings, rows, reference);
  if (embeddings.info.dims[1] != dim) {
    throw Error(ErrorCode::schema, embeddings.info.path + " has " +
                                       std::to_string(embeddings.info.dims[1]) +
                                       " columns but /meta/embedding_dim is " +
                                       std::to_string(dim));
  }
  const std::size_t element = embeddings.info.type_size;
  if (element == 2) {
    columns.embedding_type = EmbeddingType::float16;
    if (!map ||
        !map_matrix(h5::raw_half_extent(embeddings.dataset), rows * dim, columns.embeddings_f16)) {
      columns.embeddings_f16.resize(rows * dim);
      h5::read_half_into(embeddings.dataset, columns.embeddings_f16.data());
    }
  } else if (element == 4 || element == 8) {
    columns.embedding_type = EmbeddingType::float32;
    if (!map || !map_matrix(h5::raw_extent(embeddings.dataset, H5T_NATIVE_FLOAT), rows * dim,
                            columns.embeddings_f32)) {
      columns.embeddings_f32.resize(rows * dim);
      h5::read_into(embeddings.dataset, columns.embeddings_f32.data());
    }
  } else {
    throw Error(ErrorCode::schema, embeddings.info.path + " has an unsupported element type " +
                                       embeddings.info.describe_type());
  }
  if (state.config.float16 != (columns.embedding_type == EmbeddingType::float16)) {
    // The data decides; the attribute is only a record of the setting.
    state.config.float16 = columns.embedding_type == EmbeddingType::float16;
  }

  // The other columns, as MemoryColumns lists them; /memory/ids is optional (below).
  columns.for_each_column([&](const MemoryColumn& column, auto& values) {
    using Value = typename std::decay_t<decltype(values)>::value_type;
    if (column.dataset == "chunks" || column.dataset == "embeddings") return;  // read above
    if (column.dataset == "ids" && !h5::has_link(memory, "ids")) return;
    const std::string name(column.dataset);
    if constexpr (std::is_same_v<Value, std::string>) {
      Column text = open_column(memory, name.c_str(), h5::TypeClass::string, 1);
      expect_rows(text, rows, reference);
      read_text_column(std::move(text), defer_text, values);
    } else if constexpr (!std::is_same_v<Value, half_bits>) {  // half: only the embeddings
      constexpr h5::TypeClass type_class =
          std::is_floating_point_v<Value> ? h5::TypeClass::floating : h5::TypeClass::integer;
      values = read_numbers<Value, std::decay_t<decltype(values)>>(memory, name.c_str(),
                                                                    type_class, rows, reference);
    }
  });
  if (h5::has_link(memory, "ids")) {
    for (std::size_t i = 1; i < rows; ++i) {
      if (columns.ids[i] <= columns.ids[i - 1]) {
        throw Error(ErrorCode::schema, "/memory/ids is not strictly increasing at row " +
                                           std::to_string(i));
      }
    }
    if (rows > 0 && columns.ids[0] < 0) {
      throw Error(ErrorCode::schema, "/memory/ids holds a negative id at row 0");
    }
  } else {  // the original tool's files: the row is the id
    columns.ids.resize(rows);
    for (std::size_t i = 0; i < rows; ++i) columns.ids[i] = static_cast<MemoryId>(i);
  }
  const MemoryId after_last = rows ? columns.ids.back() + 1 : 0;
  if (state.next_id < after_last) state.next_id = after_last;

  state.tombstoned = 0;
  for (auto& tombstone : columns.tombstones) {
    tombstone = tombstone != 0 ? 1 : 0;
    state.tombstoned += tombstone;
  }
}

void read_sessions(const h5::Object& file, StoreState& state) {
  h5::Object group = h5::open_group(file, "sessions");
  Column ids = open_column(group, "ids", h5::TypeClass::string, 1);
  const std::vector<std::string> session_ids = h5::read_strings(ids.dataset);
  const std::size_t count = session_ids.size();
  const std::string reference = "/sessions/ids";
  const auto starts = read_numbers<std::int64_t>(group, "start_idxs", h5::TypeClass::integer,
                                                 count, reference);
  const auto ends = read_numbers<std::int64_t>(group, "end_idxs", h5::TypeClass::integer, count,
                                               reference);
  auto channels = read_text(group, "channels", count, reference);
  const auto timestamps = read_numbers<double>(group, "timestamps", h5::TypeClass::floating,
                                               count, reference);
  auto summaries = read_text(group, "summaries", count, reference);
  state.sessions.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    Session& session = state.sessions[i];
    session.id = session_ids[i];
    session.start_id = row_to_bound(state.columns, starts[i]);
    session.end_id = row_to_bound(state.columns, ends[i]);
    session.channel = std::move(channels[i]);
    session.timestamp = timestamps[i];
    session.summary = std::move(summaries[i]);
  }
}

// Observations (added by edgehdf5 for the MCP tools): files written before, and by the
// original tool, have none. Each row belongs to an entity of the file; its memory is a row
// number, as entity_emb_idxs, or -1.
void read_observations(const h5::Object& group, StoreState& state) {
  if (!h5::has_link(group, "observation_entity_ids")) return;
  const std::string reference = "/knowledge_graph/observation_entity_ids";
  Column entities_column = open_column(group, "observation_entity_ids", h5::TypeClass::integer, 1);
  const std::size_t count = entities_column.info.dims[0];
  std::vector<std::int64_t> entities(count);
  h5::read_into(entities_column.dataset, entities.data());
  auto texts = read_text(group, "observation_texts", count, reference);
  const auto memory_rows = read_numbers<std::int64_t>(group, "observation_mem_idxs",
                                                      h5::TypeClass::integer, count, reference);
  for (std::size_t i = 0; i < count; ++i) {
    if (!state.graph.contains(entities[i])) {
      throw Error(ErrorCode::schema, reference + " row " + std::to_string(i) +
                                         " names entity " + std::to_string(entities[i]) +
                                         ", which the file does not hold");
    }
    const std::int64_t row = memory_rows[i];
    const MemoryId memory_id = row >= 0 && static_cast<std::size_t>(row) < state.columns.rows()
                                   ? state.columns.ids[static_cast<std::size_t>(row)]
                                   : -1;
    state.graph.add_observation({entities[i], std::move(texts[i]), memory_id});
  }
}

void read_knowledge_graph(const h5::Object& file, StoreState& state) {
  h5::Object group = h5::open_group(file, "knowledge_graph");
  const std::string entity_reference = "/knowledge_graph/entity_ids";
  Column entity_ids_column = open_column(group, "entity_ids", h5::TypeClass::integer, 1);
  const std::size_t entities = entity_ids_column.info.dims[0];
  std::vector<std::int64_t> entity_ids(entities);
  h5::read_into(entity_ids_column.dataset, entity_ids.data());
  auto names = read_text(group, "entity_names", entities, entity_reference);
  auto types = read_text(group, "entity_types", entities, entity_reference);
  const auto embedding_rows = read_numbers<std::int64_t>(group, "entity_emb_idxs",
                                                         h5::TypeClass::integer, entities,
                                                         entity_reference);
  state.graph.clear();
  for (std::size_t i = 0; i < entities; ++i) {
    if (state.graph.contains(entity_ids[i])) {
      throw Error(ErrorCode::schema, "/knowledge_graph/entity_ids repeats id " +
                                         std::to_string(entity_ids[i]));
    }
    const std::int64_t row = embedding_rows[i];
    const MemoryId embedding_id =
        row >= 0 && static_cast<std::size_t>(row) < state.columns.rows()
            ? state.columns.ids[static_cast<std::size_t>(row)]
            : -1;
    state.graph.add_entity({entity_ids[i], std::move(names[i]), std::move(types[i]), embedding_id});
  }

  const std::string relation_reference = "/knowledge_graph/relation_srcs";
  Column sources_column = open_column(group, "relation_srcs", h5::TypeClass::integer, 1);
  const std::size_t relations = sources_column.info.dims[0];
  std::vector<std::int64_t> sources(relations);
  h5::read_into(sources_column.dataset, sources.data());
  const auto targets = read_numbers<std::int64_t>(group, "relation_tgts", h5::TypeClass::integer,
                                                  relations, relation_reference);
  auto relation_types = read_text(group, "relation_types", relations, relation_reference);
  const auto weights = read_numbers<float>(group, "relation_weights", h5::TypeClass::floating,
                                           relations, relation_reference);
  const auto timestamps = read_numbers<double>(group, "relation_ts", h5::TypeClass::floating,
                                               relations, relation_reference);
  for (std::size_t i = 0; i < relations; ++i) {
    state.graph.add_relation(
        {sources[i], targets[i], std::move(relation_types[i]), weights[i], timestamps[i]});
  }
  read_observations(group, state);
}

// The /keyword_index group into `keywords`, when it is usable for `state` (written with the
// file's tokenizer over all its rows); whatever goes wrong is recorded, not thrown.
void read_keyword_index(const h5::Object& file, const StoreState& state, bool map,
                        StoredKeywords& keywords) {
  try {
    keywords.arrays = read_keyword_group(file, map);
    if (!keywords.arrays) return;
    if (keywords.arrays->tokenizer != state.config.keyword_tokenizer) {
      keywords.problem = "/keyword_index was made with the tokenizer '" +
                         std::string(keyword_tokenizer_name(keywords.arrays->tokenizer)) +
                         "' but /meta/keyword_tokenizer is '" +
                         std::string(keyword_tokenizer_name(state.config.keyword_tokenizer)) + "'";
    } else if (keywords.arrays->rows() != state.columns.rows()) {
      keywords.problem = "/keyword_index covers " + std::to_string(keywords.arrays->rows()) +
                         " rows but /memory has " + std::to_string(state.columns.rows());
    }
  } catch (const std::exception& error) {  // Error, or bad_alloc for absurd sizes
    keywords.problem = error.what();
  }
  if (!keywords.problem.empty()) keywords.arrays.reset();
}

// The /ivfpq group into `index` (its codes and ids mapped with `map`); whatever goes wrong
// is recorded, not thrown.
void read_index_group(const h5::Object& file, bool map, StoredIndex& index) {
  try {
    index.data = ivfpq::read_group(file, map);
  } catch (const std::exception& error) {  // Error, or bad_alloc for absurd sizes
    index.data.reset();
    index.problem = error.what();
  }
}

}  // namespace

StoreState empty_state(const MemoryConfig& config) {
  StoreState state;
  state.config = config;
  state.schema_version = kSchemaVersion;
  state.edgehdf5_version = kVersion;
  state.columns.embedding_dim = config.embedding_dim;
  state.columns.embedding_type = config.float16 ? EmbeddingType::float16 : EmbeddingType::float32;
  return state;
}

namespace {

// About how many bytes the file of `state` takes (the embeddings and text dominate), for the
// in-memory file's first allocation.
std::size_t expected_file_bytes(const StoreState& state) {
  const MemoryColumns& columns = state.columns;
  std::size_t bytes = columns.embeddings_f32.size() * sizeof(float) +
                      columns.embeddings_f16.size() * sizeof(half_bits) + columns.rows() * 64;
  for (const std::string& chunk : columns.chunks) bytes += chunk.size();
  return bytes + (std::size_t{1} << 16);
}

}  // namespace

h5::FileImage state_file_image(const StoreState& state, const IVFPQData* index,
                               const std::string& name) {
  state.columns.load_texts();  // before the library lock: see write_state_file
  h5::LibraryLock lock;
  return h5::build_memory_file(name, expected_file_bytes(state),
                               [&](h5::Object& file) { write_state_groups(file, state, index); });
}

void write_state_file(FileSystem& file_system, const std::filesystem::path& path,
                      const StoreState& state, const IVFPQData* index,
                      const KeywordIndexArrays* keywords) {
  // HDF5 writes the file through the seam as it goes (h5/seam_driver.hpp): each byte once,
  // no file image in memory, and a failing write is our Error(io) while HDF5 carries on
  // unaware of it (its cleanup after a failed write is where it used to crash).
  // Texts left in the old file are read first: a column takes its own lock and then HDF5's
  // to read, so reading it while holding HDF5's lock (as writing does) would take the two
  // in the other order.
  state.columns.load_texts();
  h5::write_file_through_seam(file_system, path, [&](h5::Object& file) {
    write_state_groups(file, state, index, keywords);
  });
}

void write_state_file(const std::filesystem::path& path, const StoreState& state,
                      const IVFPQData* index) {
  write_state_file(*posix_file_system(), path, state, index);
}

void write_state_groups(h5::Object& file, const StoreState& state, const IVFPQData* index,
                        const KeywordIndexArrays* keywords) {
  const MemoryConfig& config = state.config;
  const MemoryColumns& columns = state.columns;
  {
    h5::Object meta = h5::create_group(file, "meta");
    h5::write_attribute(meta, "schema_version", std::string_view(kSchemaVersion));
    h5::write_attribute(meta, "edgehdf5_version", std::string_view(kVersion));
    h5::write_attribute(meta, "agent_id", config.agent_id);
    h5::write_attribute(meta, "embedder", config.embedder);
    h5::write_attribute(meta, "embedding_dim", static_cast<std::int64_t>(config.embedding_dim));
    h5::write_attribute(meta, "chunk_size", static_cast<std::int64_t>(config.chunk_size));
    h5::write_attribute(meta, "overlap", static_cast<std::int64_t>(config.overlap));
    h5::write_attribute(meta, "created_at", config.created_at);
    h5::write_attribute(meta, "float16", static_cast<std::int64_t>(config.float16));
    h5::write_attribute(meta, "compression", static_cast<std::int64_t>(config.compression));
    h5::write_attribute(meta, "compression_level",
                        static_cast<std::int64_t>(config.compression_level));
    h5::write_attribute(meta, "compact_threshold", config.compact_threshold);
    h5::write_attribute(meta, "keyword_tokenizer", keyword_tokenizer_name(config.keyword_tokenizer));
    h5::write_attribute(meta, "next_id", static_cast<std::int64_t>(state.next_id));
    h5::write_attribute(meta, "checkpoint_lsn", static_cast<std::int64_t>(state.last_lsn));
    meta.close();
  }
  const h5::WriteOptions options{config.compression ? config.compression_level : 0};
  {
    h5::Object memory = h5::create_group(file, "memory");
    columns.for_each_column([&](const MemoryColumn& column, const auto& values) {
      using Values = std::decay_t<decltype(values)>;
      const std::string name(column.dataset);
      // The embeddings (the RowVectors): rows x dim, even when dim is 1.
      if constexpr (std::is_same_v<Values, RowVector<half_bits>>) {
        h5::write_half_matrix(memory, name.c_str(), values.data(), columns.rows(),
                              column.values_per_row, options);
      } else if constexpr (std::is_same_v<Values, RowVector<float>>) {
        h5::write_matrix(memory, name.c_str(), values.data(), columns.rows(),
                         column.values_per_row, options);
      } else if constexpr (std::is_same_v<Values, TextColumn>) {
        h5::write_dataset(memory, name.c_str(), values.values(), options);  // reads them all
      } else {
        h5::write_dataset(memory, name.c_str(), values, options);
      }
    });
    memory.close();
  }
  {
    const std::size_t count = state.sessions.size();
    std::vector<std::string> ids(count), channels(count), summaries(count);
    std::vector<std::int64_t> starts(count), ends(count);
    std::vector<double> timestamps(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Session& session = state.sessions[i];
      ids[i] = session.id;
      starts[i] = bound_to_row(columns, session.start_id);
      ends[i] = bound_to_row(columns, session.end_id);
      channels[i] = session.channel;
      timestamps[i] = session.timestamp;
      summaries[i] = session.summary;
    }
    h5::Object group = h5::create_group(file, "sessions");
    h5::write_dataset(group, "ids", ids, options);
    h5::write_dataset(group, "start_idxs", starts, options);
    h5::write_dataset(group, "end_idxs", ends, options);
    h5::write_dataset(group, "channels", channels, options);
    h5::write_dataset(group, "timestamps", timestamps, options);
    h5::write_dataset(group, "summaries", summaries, options);
    group.close();
  }
  {
    const auto& entities = state.graph.entities();
    std::vector<std::int64_t> entity_ids, embedding_rows;
    std::vector<std::string> names, types;
    for (const Entity& entity : entities) {
      entity_ids.push_back(entity.id);
      names.push_back(entity.name);
      types.push_back(entity.type);
      embedding_rows.push_back(entity.embedding_id < 0 ? -1 : columns.row_of(entity.embedding_id));
    }
    const auto& relations = state.graph.relations();
    std::vector<std::int64_t> sources, targets;
    std::vector<std::string> relation_types;
    std::vector<float> weights;
    std::vector<double> timestamps;
    for (const Relation& relation : relations) {
      sources.push_back(relation.source);
      targets.push_back(relation.target);
      relation_types.push_back(relation.type);
      weights.push_back(relation.weight);
      timestamps.push_back(relation.timestamp);
    }
    h5::Object group = h5::create_group(file, "knowledge_graph");
    h5::write_dataset(group, "entity_ids", entity_ids, options);
    h5::write_dataset(group, "entity_names", names, options);
    h5::write_dataset(group, "entity_types", types, options);
    h5::write_dataset(group, "entity_emb_idxs", embedding_rows, options);
    h5::write_dataset(group, "relation_srcs", sources, options);
    h5::write_dataset(group, "relation_tgts", targets, options);
    h5::write_dataset(group, "relation_types", relation_types, options);
    h5::write_dataset(group, "relation_weights", weights, options);
    h5::write_dataset(group, "relation_ts", timestamps, options);
    std::vector<std::int64_t> observation_entities, observation_rows;
    std::vector<std::string> observation_texts;
    for (const Entity& entity : entities) {
      for (const Observation& observation : state.graph.observations_of(entity.id)) {
        observation_entities.push_back(observation.entity);
        observation_texts.push_back(observation.text);
        observation_rows.push_back(
            observation.memory_id < 0 ? -1 : columns.row_of(observation.memory_id));
      }
    }
    h5::write_dataset(group, "observation_entity_ids", observation_entities, options);
    h5::write_dataset(group, "observation_texts", observation_texts, options);
    h5::write_dataset(group, "observation_mem_idxs", observation_rows, options);
    group.close();
  }
  if (index != nullptr) ivfpq::write_group(file, *index);
  if (keywords != nullptr) write_keyword_group(file, *keywords, options);
}

namespace {

// The file at `path`, opened read-only: by HDF5 itself on the operating system's files (it
// then reads only what it needs), else from its bytes read through the seam.
h5::Object open_for_reading(FileSystem& file_system, const std::filesystem::path& path) {
  if (file_system.reads_natively()) return h5::open_file_read_only(path);
  const std::optional<std::string> image = read_file(file_system, path, /*missing_ok=*/false);
  return h5::open_file_image(*image, path.string());
}

}  // namespace

StoreState read_state_file(const std::filesystem::path& path, StoredIndex* index) {
  return read_state_file(*posix_file_system(), path, index);
}

StoredIndex read_stored_index(const std::filesystem::path& path) {
  return read_stored_index(*posix_file_system(), path);
}

StoreState read_state_file(FileSystem& file_system, const std::filesystem::path& path,
                           StoredIndex* index, const StateReading& reading,
                           StoredKeywords* keywords) {
  h5::LibraryLock lock;
  try {
    StoreState state;
    h5::Object file = open_for_reading(file_system, path);
    read_meta(file, state);
    // Texts on demand only from a file HDF5 opened by path: it tells files apart by inode,
    // while files opened from their bytes are told apart by name, and a later open of the
    // same name (after a checkpoint) would be handed this one.
    read_memory(file, state, reading.map_embeddings,
                reading.text_on_demand && file_system.reads_natively());
    read_sessions(file, state);
    read_knowledge_graph(file, state);
    if (index != nullptr) read_index_group(file, reading.map_embeddings, *index);
    if (keywords != nullptr) {
      read_keyword_index(file, state, reading.map_embeddings, *keywords);
    }
    state.config.path = path;
    file.close();
    return state;
  } catch (const Error& error) {
    // Layout errors name the dataset; say which file it is in, too.
    const std::string message = error.what();
    if (message.find(path.string()) != std::string::npos) throw;
    throw Error(error.code(), path.string() + ": " + message);
  }
}

StoredIndex read_stored_index(FileSystem& file_system, const std::filesystem::path& path) {
  h5::LibraryLock lock;
  StoredIndex index;
  h5::Object file = open_for_reading(file_system, path);
  read_index_group(file, /*map=*/false, index);
  file.close();
  return index;
}

}  // namespace edgehdf5::store
