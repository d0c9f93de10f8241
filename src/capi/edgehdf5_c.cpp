// The C ABI (include/edgehdf5/edgehdf5.h) over HDF5Memory.
//
// Every entry point runs its body inside guarded(): an edgehdf5::Error becomes its status and
// the C++ message, std::bad_alloc becomes EH5_ERR_OUT_OF_MEMORY, anything else
// EH5_ERR_INTERNAL; nothing escapes (the functions are noexcept, so a slip would terminate
// rather than unwind into C). Arguments are checked before anything is read through them;
// outputs are written only once the call has succeeded.

#include "edgehdf5/edgehdf5.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capi/status.hpp"
#include "edgehdf5/config.hpp"
#include "edgehdf5/half.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/version.hpp"

struct eh5_memory {
  edgehdf5::HDF5Memory store;
};
struct eh5_results {
  edgehdf5::SearchResults results;
};
struct eh5_entry {
  edgehdf5::MemoryEntry entry;
  eh5_record view{};
};
struct eh5_strings {
  std::vector<std::string> values;
};

namespace {

using namespace edgehdf5;

// The C layer's own failures (NULL, out of range), thrown inside guarded() like Errors.
struct CallError {
  eh5_status status;
  std::string message;
};

[[noreturn]] void fail(eh5_status status, std::string message) {
  throw CallError{status, std::move(message)};
}

thread_local std::string t_last_error;
thread_local bool t_last_error_lost = false;  // the message itself could not be stored

void set_last_error(const char* first, const char* second = "") noexcept {
  try {
    t_last_error.assign(first);
    t_last_error.append(second);
    t_last_error_lost = false;
  } catch (...) {
    t_last_error_lost = true;
  }
}

template <typename Body>
eh5_status guarded(const char* function, Body&& body) noexcept {
  t_last_error.clear();
  t_last_error_lost = false;
  try {
    body();
    return EH5_OK;
  } catch (const Error& error) {
    set_last_error(error.what());
    return capi::to_status(error.code());
  } catch (const CallError& error) {
    set_last_error(function, error.message.c_str());
    return error.status;
  } catch (const std::bad_alloc&) {
    set_last_error(function, ": out of memory");
    return EH5_ERR_OUT_OF_MEMORY;
  } catch (const std::exception& error) {
    set_last_error(function, ": unexpected exception: ");
    if (!t_last_error_lost) set_last_error(t_last_error.c_str(), error.what());
    return EH5_ERR_INTERNAL;
  } catch (...) {
    set_last_error(function, ": unexpected exception of unknown type");
    return EH5_ERR_INTERNAL;
  }
}

void require(const void* pointer, const char* name) {
  if (pointer == nullptr) fail(EH5_ERR_NULL_ARGUMENT, std::string(": ") + name + " is NULL");
}

std::string text_or_empty(const char* text) { return text ? std::string(text) : std::string(); }

// Refuses an index past `count` items of `what` ("entity", "relation").
void require_index(std::size_t index, std::size_t count, const char* what) {
  if (index >= count) {
    fail(EH5_ERR_OUT_OF_RANGE, ": index " + std::to_string(index) + " >= " + what + " count " +
                                   std::to_string(count));
  }
}

// A fact about an open store into *out: the shape of every one-value accessor.
template <typename Out, typename Read>
eh5_status read_fact(const char* function, const eh5_memory* memory, Out* out,
                     Read read) noexcept {
  return guarded(function, [&] {
    require(memory, "memory");
    require(out, "out");
    *out = read(memory->store);
  });
}

// The size of the first version of each struct: a struct_size below it is refused. When a
// field is appended, these stay at their old values (write the old size as a number).
template <typename T>
constexpr std::size_t kFirstSize = sizeof(T);

// A caller's struct over the defaults: the first struct_size bytes (capped at what this
// version knows) are the caller's, the rest keep init's values.
template <typename T>
T read_struct(const T* given, void (*init)(T*), const char* name) {
  T value;
  init(&value);
  if (given == nullptr) return value;
  if (given->struct_size < kFirstSize<T>) {
    fail(EH5_ERR_OUT_OF_RANGE, std::string(": ") + name + "->struct_size is " +
                                   std::to_string(given->struct_size) + ", below " +
                                   std::to_string(kFirstSize<T>) + " (set it to sizeof)");
  }
  std::memcpy(static_cast<void*>(&value), given, std::min(given->struct_size, sizeof(T)));
  value.struct_size = sizeof(T);
  return value;
}

// C enums are read as int: a value outside the enumerators is the caller's error, and loading
// it as the C++ enum type would be undefined.
template <typename Enum>
int enum_value(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int));
  int raw = 0;
  std::memcpy(&raw, &value, sizeof raw);
  return raw;
}

std::optional<Strategy> to_strategy(const eh5_strategy& strategy) {
  switch (enum_value(strategy)) {
    case EH5_STRATEGY_AUTO: return std::nullopt;
    case EH5_STRATEGY_SCALAR: return Strategy::scalar;
    case EH5_STRATEGY_SIMD: return Strategy::simd;
    case EH5_STRATEGY_BLAS: return Strategy::blas;
    case EH5_STRATEGY_PARALLEL: return Strategy::parallel;
    case EH5_STRATEGY_IVFPQ: return Strategy::ivfpq;
    case EH5_STRATEGY_GPU: return Strategy::gpu;
    default: break;
  }
  fail(EH5_ERR_OUT_OF_RANGE, ": strategy " + std::to_string(enum_value(strategy)) +
                                 " is not an eh5_strategy");
}

OpenOptions to_open_options(const eh5_open_options* given) {
  const eh5_open_options options = read_struct(given, eh5_open_options_init, "options");
  OpenOptions result;
  result.read_only = options.read_only != 0;
  switch (enum_value(options.durability)) {
    case EH5_DURABILITY_ON_FLUSH: result.durability = Durability::on_flush; break;
    case EH5_DURABILITY_EVERY_WRITE: result.durability = Durability::every_write; break;
    default:
      fail(EH5_ERR_OUT_OF_RANGE, ": options->durability " +
                                     std::to_string(enum_value(options.durability)) +
                                     " is not an eh5_durability");
  }
  result.checkpoint_log_bytes = options.checkpoint_log_bytes;
  return result;
}

SearchFilter to_filter(const eh5_filter* given) {
  if (given == nullptr) return {};
  const eh5_filter filter = read_struct(given, eh5_filter_init, "filter");
  SearchFilter result;
  if (filter.session_id) result.session_id = filter.session_id;
  if (filter.source_channel) result.source_channel = filter.source_channel;
  if (filter.tag_count > 0) {
    require(filter.tags, "filter->tags (with tag_count > 0)");
    for (std::size_t i = 0; i < filter.tag_count; ++i) {
      if (filter.tags[i] == nullptr) {
        fail(EH5_ERR_NULL_ARGUMENT, ": filter->tags[" + std::to_string(i) + "] is NULL");
      }
      result.tags.emplace_back(filter.tags[i]);
    }
  }
  result.all_tags = filter.all_tags != 0;
  if (filter.has_after) result.after = filter.after;
  if (filter.has_before) result.before = filter.before;
  if (filter.half_life_seconds != 0.0) result.half_life_seconds = filter.half_life_seconds;
  if (filter.has_now) result.now = filter.now;
  return result;
}

void check_dim(std::size_t given, const HDF5Memory& store, const char* what) {
  const std::size_t dim = store.config().embedding_dim;
  if (given != dim) {
    fail(EH5_ERR_INVALID_ARGUMENT, std::string(": ") + what + " has " + std::to_string(given) +
                                       " values; the file's embedding_dim is " +
                                       std::to_string(dim));
  }
}

MemoryEntry to_entry(const eh5_record& record, const HDF5Memory& store, const std::string& name) {
  if (record.chunk == nullptr) fail(EH5_ERR_NULL_ARGUMENT, ": " + name + ".chunk is NULL");
  if ((record.embedding == nullptr) == (record.embedding_f16 == nullptr)) {
    fail(record.embedding == nullptr ? EH5_ERR_NULL_ARGUMENT : EH5_ERR_INVALID_ARGUMENT,
         ": " + name + ": exactly one of embedding and embedding_f16 must be set");
  }
  check_dim(record.embedding_dim, store, (name + ".embedding").c_str());
  MemoryEntry entry;
  entry.chunk = record.chunk;
  if (record.embedding != nullptr) {
    entry.embedding.assign(record.embedding, record.embedding + record.embedding_dim);
  } else {
    entry.embedding.resize(record.embedding_dim);
    halves_to_floats(std::span<const half_bits>(record.embedding_f16, record.embedding_dim), entry.embedding);
  }
  entry.source_channel = text_or_empty(record.source_channel);
  entry.timestamp = record.timestamp;
  entry.session_id = text_or_empty(record.session_id);
  entry.tags = text_or_empty(record.tags);
  return entry;
}

ApproximateSearch approximate(std::size_t nprobe, std::size_t rerank) {
  ApproximateSearch result;
  result.nprobe = nprobe;
  result.rerank = rerank;
  return result;
}

// A handle around the store `open()` makes. Its memory is allocated first, so that running out
// of it leaves no file created and no lock taken.
template <typename Open>
eh5_memory* make_memory(Open&& open) {
  void* storage = ::operator new(sizeof(eh5_memory));
  try {
    return new (storage) eh5_memory{open()};
  } catch (...) {
    ::operator delete(storage);
    throw;
  }
}

void give_results(SearchResults results, eh5_results** out) {
  *out = new eh5_results{std::move(results)};
}

}  // namespace

extern "C" {

// ---- versions and errors ---------------------------------------------------------------------

const char* eh5_version(void) { return kVersion; }
int eh5_abi_version(void) { return EH5_ABI_VERSION; }

const char* eh5_status_name(eh5_status status) {
  switch (enum_value(status)) {
    case EH5_OK: return "ok";
    case EH5_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case EH5_ERR_NOT_FOUND: return "not_found";
    case EH5_ERR_IO: return "io";
    case EH5_ERR_HDF5: return "hdf5";
    case EH5_ERR_SCHEMA: return "schema";
    case EH5_ERR_CORRUPTION: return "corruption";
    case EH5_ERR_LOCKED: return "locked";
    case EH5_ERR_READ_ONLY: return "read_only";
    case EH5_ERR_UNSUPPORTED: return "unsupported";
    case EH5_ERR_NULL_ARGUMENT: return "null_argument";
    case EH5_ERR_OUT_OF_RANGE: return "out_of_range";
    case EH5_ERR_OUT_OF_MEMORY: return "out_of_memory";
    case EH5_ERR_INTERNAL: return "internal";
    default: return "unknown";
  }
}

const char* eh5_last_error(void) {
  return t_last_error_lost ? "out of memory (the error message could not be stored)"
                           : t_last_error.c_str();
}

// ---- create, open, close ---------------------------------------------------------------------

void eh5_config_init(eh5_config* config) {
  if (config == nullptr) return;
  // MemoryConfig's defaults, written out because building a MemoryConfig could allocate (a
  // path, strings) and this function cannot fail; tests/capi/test_capi_cpp.cpp checks that
  // they match.
  *config = eh5_config{};
  config->struct_size = sizeof(eh5_config);
  config->embedding_dim = 384;
  config->chunk_size = 512;
  config->overlap = 50;
  config->float16 = 0;
  config->compression = 0;
  config->compression_level = 4;
  config->compact_threshold = 0.3;
}

void eh5_open_options_init(eh5_open_options* options) {
  if (options == nullptr) return;
  const OpenOptions defaults;
  *options = eh5_open_options{};
  options->struct_size = sizeof(eh5_open_options);
  options->read_only = defaults.read_only ? 1 : 0;
  options->durability = defaults.durability == Durability::every_write
                            ? EH5_DURABILITY_EVERY_WRITE
                            : EH5_DURABILITY_ON_FLUSH;
  options->checkpoint_log_bytes = defaults.checkpoint_log_bytes;
}

eh5_status eh5_memory_create(const char* path, const eh5_config* config,
                             const eh5_open_options* options, eh5_memory** out) {
  return guarded("eh5_memory_create", [&] {
    require(path, "path");
    require(config, "config");
    require(out, "out");
    const eh5_config given = read_struct(config, eh5_config_init, "config");
    MemoryConfig cpp;
    cpp.path = path;
    if (given.agent_id) cpp.agent_id = given.agent_id;
    if (given.embedder) cpp.embedder = given.embedder;
    cpp.embedding_dim = given.embedding_dim;
    cpp.chunk_size = given.chunk_size;
    cpp.overlap = given.overlap;
    cpp.float16 = given.float16 != 0;
    cpp.compression = given.compression != 0;
    cpp.compression_level = given.compression_level;
    cpp.compact_threshold = given.compact_threshold;
    cpp.created_at = text_or_empty(given.created_at);
    const OpenOptions open = to_open_options(options);
    *out = make_memory([&] { return HDF5Memory::create(cpp, open); });
  });
}

eh5_status eh5_memory_open(const char* path, const eh5_open_options* options, eh5_memory** out) {
  return guarded("eh5_memory_open", [&] {
    require(path, "path");
    require(out, "out");
    const OpenOptions open = to_open_options(options);
    *out = make_memory([&] { return HDF5Memory::open(path, open); });
  });
}

eh5_status eh5_memory_close(eh5_memory* memory) {
  return guarded("eh5_memory_close", [&] {
    // Freed whatever close() says: the destructor of a closed (or failed) store never throws.
    std::unique_ptr<eh5_memory> owned(memory);
    if (owned) owned->store.close();
  });
}

eh5_status eh5_memory_flush(eh5_memory* memory) {
  return guarded("eh5_memory_flush", [&] {
    require(memory, "memory");
    memory->store.flush();
  });
}

eh5_status eh5_memory_embedding_dim(const eh5_memory* memory, size_t* out) {
  return read_fact("eh5_memory_embedding_dim", memory, out,
                   [](const HDF5Memory& store) -> size_t { return store.config().embedding_dim; });
}

eh5_status eh5_memory_is_float16(const eh5_memory* memory, int* out) {
  return read_fact("eh5_memory_is_float16", memory, out,
                   [](const HDF5Memory& store) -> int { return store.config().float16 ? 1 : 0; });
}

eh5_status eh5_memory_is_read_only(const eh5_memory* memory, int* out) {
  return read_fact("eh5_memory_is_read_only", memory, out,
                   [](const HDF5Memory& store) -> int { return store.read_only() ? 1 : 0; });
}

eh5_status eh5_memory_count(const eh5_memory* memory, size_t* out) {
  return read_fact("eh5_memory_count", memory, out,
                   [](const HDF5Memory& store) -> size_t { return store.count(); });
}

eh5_status eh5_memory_count_active(const eh5_memory* memory, size_t* out) {
  return read_fact("eh5_memory_count_active", memory, out,
                   [](const HDF5Memory& store) -> size_t { return store.count_active(); });
}

// ---- memories --------------------------------------------------------------------------------

void eh5_record_init(eh5_record* record) {
  if (record == nullptr) return;
  *record = eh5_record{};
  record->struct_size = sizeof(eh5_record);
}

eh5_status eh5_memory_save(eh5_memory* memory, const eh5_record* record, int64_t* id_out) {
  return guarded("eh5_memory_save", [&] {
    require(memory, "memory");
    require(record, "record");
    const eh5_record given = read_struct(record, eh5_record_init, "record");
    const MemoryId id = memory->store.save(to_entry(given, memory->store, "record"));
    if (id_out) *id_out = id;
  });
}

eh5_status eh5_memory_save_batch(eh5_memory* memory, const eh5_record* records, size_t count,
                                 int64_t* ids_out) {
  return guarded("eh5_memory_save_batch", [&] {
    require(memory, "memory");
    if (count == 0) return;
    require(records, "records");
    const std::size_t stride = records[0].struct_size;
    read_struct(records, eh5_record_init, "records[0]");  // checks the size
    if (stride % alignof(eh5_record) != 0) {
      fail(EH5_ERR_INVALID_ARGUMENT, ": records[0].struct_size " + std::to_string(stride) +
                                         " is not a multiple of the record's alignment");
    }
    std::vector<MemoryEntry> entries;
    entries.reserve(count);
    const auto* bytes = reinterpret_cast<const unsigned char*>(records);
    for (std::size_t i = 0; i < count; ++i) {
      const auto* record = reinterpret_cast<const eh5_record*>(bytes + i * stride);
      const std::string name = "records[" + std::to_string(i) + "]";
      if (record->struct_size != stride) {
        fail(EH5_ERR_INVALID_ARGUMENT,
             ": " + name + ".struct_size differs from records[0].struct_size (the stride)");
      }
      entries.push_back(to_entry(read_struct(record, eh5_record_init, name.c_str()),
                                 memory->store, name));
    }
    const std::vector<MemoryId> ids = memory->store.save_batch(entries);
    if (ids_out) std::copy(ids.begin(), ids.end(), ids_out);
  });
}

eh5_status eh5_memory_remove(eh5_memory* memory, int64_t id) {
  return guarded("eh5_memory_remove", [&] {
    require(memory, "memory");
    memory->store.remove(id);
  });
}

eh5_status eh5_memory_compact(eh5_memory* memory, size_t* dropped) {
  return guarded("eh5_memory_compact", [&] {
    require(memory, "memory");
    const std::size_t rows = memory->store.compact();
    if (dropped) *dropped = rows;
  });
}

eh5_status eh5_memory_snapshot(eh5_memory* memory, const char* destination) {
  return guarded("eh5_memory_snapshot", [&] {
    require(memory, "memory");
    require(destination, "destination");
    memory->store.snapshot(destination);
  });
}

eh5_status eh5_memory_get(const eh5_memory* memory, int64_t id, eh5_entry** out) {
  return guarded("eh5_memory_get", [&] {
    require(memory, "memory");
    require(out, "out");
    auto entry = std::make_unique<eh5_entry>();
    entry->entry = memory->store.get(id);
    eh5_record_init(&entry->view);
    entry->view.chunk = entry->entry.chunk.c_str();
    entry->view.embedding = entry->entry.embedding.data();
    entry->view.embedding_dim = entry->entry.embedding.size();
    entry->view.source_channel = entry->entry.source_channel.c_str();
    entry->view.timestamp = entry->entry.timestamp;
    entry->view.session_id = entry->entry.session_id.c_str();
    entry->view.tags = entry->entry.tags.c_str();
    *out = entry.release();
  });
}

const eh5_record* eh5_entry_record(const eh5_entry* entry) {
  return entry ? &entry->view : nullptr;
}

void eh5_entry_free(eh5_entry* entry) { delete entry; }

// ---- search ----------------------------------------------------------------------------------

void eh5_filter_init(eh5_filter* filter) {
  if (filter == nullptr) return;
  *filter = eh5_filter{};
  filter->struct_size = sizeof(eh5_filter);
}

void eh5_search_options_init(eh5_search_options* options) {
  if (options == nullptr) return;
  const SearchOptions defaults;
  *options = eh5_search_options{};
  options->struct_size = sizeof(eh5_search_options);
  options->k = defaults.k;
  options->strategy = EH5_STRATEGY_AUTO;
  options->nprobe = defaults.approximate.nprobe;
  options->rerank = defaults.approximate.rerank;
}

void eh5_hybrid_options_init(eh5_hybrid_options* options) {
  if (options == nullptr) return;
  const HybridOptions defaults;
  *options = eh5_hybrid_options{};
  options->struct_size = sizeof(eh5_hybrid_options);
  options->k = defaults.k;
  options->vector_weight = defaults.vector_weight;
  options->keyword_weight = defaults.keyword_weight;
  options->fusion = defaults.fusion == Fusion::rrf ? EH5_FUSION_RRF : EH5_FUSION_WEIGHTED;
  options->strategy = EH5_STRATEGY_AUTO;
  options->candidates = defaults.candidates;
  options->nprobe = defaults.approximate.nprobe;
  options->rerank = defaults.approximate.rerank;
}

eh5_status eh5_memory_search(const eh5_memory* memory, const float* query, size_t query_dim,
                             const eh5_search_options* options, eh5_results** out) {
  return guarded("eh5_memory_search", [&] {
    require(memory, "memory");
    require(query, "query");
    require(out, "out");
    check_dim(query_dim, memory->store, "query");
    const eh5_search_options given = read_struct(options, eh5_search_options_init, "options");
    SearchOptions cpp;
    cpp.k = given.k;
    cpp.strategy = to_strategy(given.strategy);
    cpp.filter = to_filter(given.filter);
    cpp.approximate = approximate(given.nprobe, given.rerank);
    give_results(memory->store.search(std::span<const float>(query, query_dim), cpp), out);
  });
}

eh5_status eh5_memory_search_k(const eh5_memory* memory, const float* query, size_t query_dim,
                               size_t k, int64_t* ids, float* scores, size_t* found) {
  return guarded("eh5_memory_search_k", [&] {
    require(memory, "memory");
    require(query, "query");
    require(ids, "ids");
    require(scores, "scores");
    require(found, "found");
    check_dim(query_dim, memory->store, "query");
    const std::vector<SearchHit> hits =
        memory->store.search(std::span<const float>(query, query_dim), k);
    const std::size_t n = std::min(hits.size(), k);
    for (std::size_t i = 0; i < n; ++i) {
      ids[i] = hits[i].id;
      scores[i] = hits[i].score;
    }
    *found = n;
  });
}

eh5_status eh5_memory_keyword_search(const eh5_memory* memory, const char* query_text, size_t k,
                                     const eh5_filter* filter, eh5_results** out) {
  return guarded("eh5_memory_keyword_search", [&] {
    require(memory, "memory");
    require(query_text, "query_text");
    require(out, "out");
    give_results(memory->store.keyword_search(query_text, k, to_filter(filter)), out);
  });
}

eh5_status eh5_memory_hybrid_search(const eh5_memory* memory, const float* query,
                                    size_t query_dim, const char* query_text,
                                    const eh5_hybrid_options* options, eh5_results** out) {
  return guarded("eh5_memory_hybrid_search", [&] {
    require(memory, "memory");
    require(query, "query");
    require(query_text, "query_text");
    require(out, "out");
    check_dim(query_dim, memory->store, "query");
    const eh5_hybrid_options given = read_struct(options, eh5_hybrid_options_init, "options");
    HybridOptions cpp;
    cpp.k = given.k;
    cpp.vector_weight = given.vector_weight;
    cpp.keyword_weight = given.keyword_weight;
    switch (enum_value(given.fusion)) {
      case EH5_FUSION_WEIGHTED: cpp.fusion = Fusion::weighted; break;
      case EH5_FUSION_RRF: cpp.fusion = Fusion::rrf; break;
      default:
        fail(EH5_ERR_OUT_OF_RANGE, ": options->fusion " + std::to_string(enum_value(given.fusion)) +
                                       " is not an eh5_fusion");
    }
    cpp.filter = to_filter(given.filter);
    cpp.strategy = to_strategy(given.strategy);
    cpp.candidates = given.candidates;
    cpp.approximate = approximate(given.nprobe, given.rerank);
    give_results(memory->store.hybrid_search(std::span<const float>(query, query_dim),
                                             query_text, cpp),
                 out);
  });
}

size_t eh5_results_count(const eh5_results* results) {
  return results ? results->results.hits.size() : 0;
}

eh5_status eh5_results_hit(const eh5_results* results, size_t index, int64_t* id, float* score) {
  return guarded("eh5_results_hit", [&] {
    require(results, "results");
    const auto& hits = results->results.hits;
    require_index(index, hits.size(), "hit");
    if (id) *id = hits[index].id;
    if (score) *score = hits[index].score;
  });
}

eh5_status eh5_results_copy(const eh5_results* results, int64_t* ids, float* scores,
                            size_t capacity, size_t* written) {
  return guarded("eh5_results_copy", [&] {
    require(results, "results");
    require(written, "written");
    const auto& hits = results->results.hits;
    const std::size_t n = std::min(hits.size(), capacity);
    for (std::size_t i = 0; i < n; ++i) {
      if (ids) ids[i] = hits[i].id;
      if (scores) scores[i] = hits[i].score;
    }
    *written = n;
  });
}

const char* eh5_results_strategy(const eh5_results* results) {
  return results ? results->results.metrics.strategy.c_str() : "";
}
const char* eh5_results_isa(const eh5_results* results) {
  return results ? results->results.metrics.isa.c_str() : "";
}
double eh5_results_time_us(const eh5_results* results) {
  return results ? results->results.metrics.search_time_us : 0.0;
}
size_t eh5_results_vectors_scanned(const eh5_results* results) {
  return results ? results->results.metrics.vectors_scanned : 0;
}
void eh5_results_free(eh5_results* results) { delete results; }

// ---- sessions --------------------------------------------------------------------------------

eh5_status eh5_memory_add_session(eh5_memory* memory, const char* session_id, int64_t start_id,
                                  int64_t end_id, const char* channel, const char* summary) {
  return guarded("eh5_memory_add_session", [&] {
    require(memory, "memory");
    require(session_id, "session_id");
    memory->store.add_session(session_id, start_id, end_id, text_or_empty(channel),
                              text_or_empty(summary));
  });
}

eh5_status eh5_memory_session_summary(const eh5_memory* memory, const char* session_id,
                                      const char** summary) {
  return guarded("eh5_memory_session_summary", [&] {
    require(memory, "memory");
    require(session_id, "session_id");
    require(summary, "summary");
    const std::vector<Session>& sessions = memory->store.sessions();
    // The most recently added one, as get_session_summary answers.
    for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) {
      if (it->id == session_id) {
        *summary = it->summary.c_str();
        return;
      }
    }
    // The C++ call words the not-found error.
    (void)memory->store.get_session_summary(session_id);
    fail(EH5_ERR_NOT_FOUND, std::string(": no session ") + session_id);
  });
}

eh5_status eh5_memory_session_count(const eh5_memory* memory, size_t* out) {
  return read_fact("eh5_memory_session_count", memory, out,
                   [](const HDF5Memory& store) -> size_t { return store.sessions().size(); });
}

// ---- entities and relations ------------------------------------------------------------------

namespace {
eh5_entity to_c(const Entity& entity) {
  return eh5_entity{entity.id, entity.name.c_str(), entity.type.c_str(), entity.embedding_id};
}
}  // namespace

eh5_status eh5_memory_add_entity(eh5_memory* memory, const char* name, const char* type,
                                 int64_t embedding_id, int64_t* id_out) {
  return guarded("eh5_memory_add_entity", [&] {
    require(memory, "memory");
    require(name, "name");
    const EntityId id = memory->store.add_entity(name, text_or_empty(type), embedding_id);
    if (id_out) *id_out = id;
  });
}

eh5_status eh5_memory_add_relation(eh5_memory* memory, int64_t source, int64_t target,
                                   const char* type, float weight) {
  return guarded("eh5_memory_add_relation", [&] {
    require(memory, "memory");
    require(type, "type");
    memory->store.add_relation(source, target, type, weight);
  });
}

eh5_status eh5_memory_entity_count(const eh5_memory* memory, size_t* out) {
  return read_fact("eh5_memory_entity_count", memory, out,
                   [](const HDF5Memory& store) -> size_t { return store.knowledge().entities().size(); });
}

eh5_status eh5_memory_relation_count(const eh5_memory* memory, size_t* out) {
  return read_fact("eh5_memory_relation_count", memory, out,
                   [](const HDF5Memory& store) -> size_t { return store.knowledge().relations().size(); });
}

eh5_status eh5_memory_entity_at(const eh5_memory* memory, size_t index, eh5_entity* out) {
  return guarded("eh5_memory_entity_at", [&] {
    require(memory, "memory");
    require(out, "out");
    const auto& entities = memory->store.knowledge().entities();
    require_index(index, entities.size(), "entity");
    *out = to_c(entities[index]);
  });
}

eh5_status eh5_memory_relation_at(const eh5_memory* memory, size_t index, eh5_relation* out) {
  return guarded("eh5_memory_relation_at", [&] {
    require(memory, "memory");
    require(out, "out");
    const auto& relations = memory->store.knowledge().relations();
    require_index(index, relations.size(), "relation");
    const Relation& relation = relations[index];
    *out = eh5_relation{relation.source, relation.target, relation.type.c_str(), relation.weight,
                        relation.timestamp};
  });
}

eh5_status eh5_memory_find_entity(const eh5_memory* memory, const char* name, eh5_entity* out) {
  return guarded("eh5_memory_find_entity", [&] {
    require(memory, "memory");
    require(name, "name");
    require(out, "out");
    const Entity* entity = memory->store.knowledge().find_entity_by_name(name);
    if (entity == nullptr) fail(EH5_ERR_NOT_FOUND, std::string(": no entity named ") + name);
    *out = to_c(*entity);
  });
}

// ---- verify ----------------------------------------------------------------------------------

eh5_status eh5_verify_file(const char* path, eh5_strings** problems) {
  return guarded("eh5_verify_file", [&] {
    require(path, "path");
    require(problems, "problems");
    *problems = new eh5_strings{verify_file(path)};
  });
}

size_t eh5_strings_count(const eh5_strings* strings) {
  return strings ? strings->values.size() : 0;
}

const char* eh5_strings_at(const eh5_strings* strings, size_t index) {
  if (strings == nullptr || index >= strings->values.size()) return nullptr;
  return strings->values[index].c_str();
}

void eh5_strings_free(eh5_strings* strings) { delete strings; }

}  // extern "C"
