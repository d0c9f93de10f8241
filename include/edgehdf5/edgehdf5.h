/* edgehdf5.h: the C ABI of edgehdf5 (C11; no C++ types).
 *
 * A thin layer over edgehdf5::HDF5Memory (include/edgehdf5/memory.hpp): the same file, the
 * same durability and the same searches, for programs in C or any language with a C FFI.
 *
 * Errors. Every fallible call returns an eh5_status: EH5_OK (0), one code per C++ ErrorCode
 * (EH5_ERR_INVALID_ARGUMENT .. EH5_ERR_UNSUPPORTED, same order and meaning as
 * edgehdf5::ErrorCode), and four of the C layer's own: EH5_ERR_NULL_ARGUMENT (a required
 * pointer was NULL), EH5_ERR_OUT_OF_RANGE (an index past a count, a struct_size smaller than
 * the first version of its struct, an enum value that does not exist), EH5_ERR_OUT_OF_MEMORY
 * (std::bad_alloc) and EH5_ERR_INTERNAL (any other exception: a bug; please report it). eh5_last_error() then holds the message, the C++ text where the
 * error came from the library. No call aborts and no C++ exception crosses this boundary.
 * A call that fails changes nothing and leaves its output arguments untouched.
 *
 * Ownership. Objects the library makes (eh5_memory, eh5_results, eh5_entry, eh5_strings) are
 * freed by the caller with their own function, once; those functions accept NULL. Every
 * `const char*` the library returns is either static (eh5_version, eh5_status_name),
 * thread-local (eh5_last_error, valid until the next eh5_ call on that thread), or points
 * into the object it was read from and stays valid as long as the comment on that call says
 * (never longer than that object). The caller never frees a returned string. Strings passed
 * in are UTF-8, NUL-terminated, and copied before the call returns.
 *
 * Thread safety. As in C++: on one eh5_memory, any number of threads may make the reading
 * calls (marked [read] below: search, get, counts, accessors) at once; a mutating call
 * ([write]) must not overlap any other call on that handle. Different handles are
 * independent. eh5_results, eh5_entry and eh5_strings never change after they are made: any
 * number of threads may read one; freeing it must not overlap a read. Functions that take no
 * handle are safe from any thread.
 *
 * Growth. Options structs and eh5_record begin with `size_t struct_size`: set it to
 * sizeof(the struct) (the *_init functions do, with the defaults). A later version may add
 * fields at the end; it will read only the first struct_size bytes of yours, and refuse a
 * struct_size below the first version's with EH5_ERR_OUT_OF_RANGE.
 */
#ifndef EDGEHDF5_EDGEHDF5_H
#define EDGEHDF5_EDGEHDF5_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define EH5_API __attribute__((visibility("default")))
#else
#define EH5_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this ABI that the header describes. eh5_abi_version() says what the library
 * loaded at run time implements; a program may compare the two. */
#define EH5_ABI_VERSION 1

typedef enum eh5_status {
  EH5_OK = 0,
  EH5_ERR_INVALID_ARGUMENT = 1, /* refused input: wrong dim, NaN, k = 0, empty query text */
  EH5_ERR_NOT_FOUND = 2,        /* an id, session or entity that does not exist */
  EH5_ERR_IO = 3,               /* the OS refused a file operation */
  EH5_ERR_HDF5 = 4,             /* the HDF5 library reported an error */
  EH5_ERR_SCHEMA = 5,           /* HDF5, but not an edgehdf5 memory file */
  EH5_ERR_CORRUPTION = 6,       /* a checksum or structural check failed */
  EH5_ERR_LOCKED = 7,           /* another writer holds the file */
  EH5_ERR_READ_ONLY = 8,        /* a write on a handle opened read-only */
  EH5_ERR_UNSUPPORTED = 9,      /* not compiled in, or not supported by this file */
  EH5_ERR_NULL_ARGUMENT = 10,   /* a required pointer argument was NULL */
  EH5_ERR_OUT_OF_RANGE = 11,    /* index past a count, struct_size too small, bad enum value */
  EH5_ERR_OUT_OF_MEMORY = 12,   /* an allocation failed */
  EH5_ERR_INTERNAL = 13         /* an unexpected exception (a bug) */
} eh5_status;

typedef enum eh5_strategy {
  EH5_STRATEGY_AUTO = 0, /* the adaptive choice (with the store's IVF-PQ index, if any) */
  EH5_STRATEGY_SCALAR = 1,
  EH5_STRATEGY_SIMD = 2,
  EH5_STRATEGY_BLAS = 3,
  EH5_STRATEGY_PARALLEL = 4,
  EH5_STRATEGY_IVFPQ = 5,
  EH5_STRATEGY_GPU = 6
} eh5_strategy;

typedef enum eh5_durability {
  EH5_DURABILITY_ON_FLUSH = 0,   /* saves survive a kill at once, a power loss after flush */
  EH5_DURABILITY_EVERY_WRITE = 1 /* every mutating call fsyncs before returning */
} eh5_durability;

typedef enum eh5_fusion {
  EH5_FUSION_WEIGHTED = 0, /* weights times min-max normalised scores */
  EH5_FUSION_RRF = 1       /* reciprocal-rank fusion */
} eh5_fusion;

typedef struct eh5_memory eh5_memory;   /* an open memory file (HDF5Memory) */
typedef struct eh5_results eh5_results; /* hits of one search, with its metrics */
typedef struct eh5_entry eh5_entry;     /* a copy of one memory */
typedef struct eh5_strings eh5_strings; /* a list of strings (verify's problems) */

/* ---- versions and errors ------------------------------------------------------------------ */

/* The library's version, e.g. "0.3.0" (static). */
EH5_API const char* eh5_version(void);
/* The ABI version the library implements (EH5_ABI_VERSION of the header it was built with). */
EH5_API int eh5_abi_version(void);
/* The name of a status ("ok", "invalid_argument", ..., as error_code_name in C++), static;
 * "unknown" for a value that is not an eh5_status. */
EH5_API const char* eh5_status_name(eh5_status status);
/* The message of the last failed eh5_ call on this thread, "" after a call that succeeded.
 * Never NULL; valid until the next eh5_ call on this thread. */
EH5_API const char* eh5_last_error(void);

/* ---- create, open, close ------------------------------------------------------------------ */

/* Settings written into a new file (MemoryConfig). Zero is not a default: call
 * eh5_config_init first. */
typedef struct eh5_config {
  size_t struct_size;
  const char* agent_id;     /* NULL: "agent" */
  const char* embedder;     /* NULL: "unknown" */
  size_t embedding_dim;     /* 1 .. 65536; init: 384 */
  size_t chunk_size;        /* informational; init: 512 */
  size_t overlap;           /* informational; init: 50 */
  int float16;              /* nonzero: store embeddings as IEEE half */
  int compression;          /* nonzero: deflate the /memory datasets */
  int compression_level;    /* 1..9; init: 4 */
  double compact_threshold; /* init: 0.3; 0 or >= 1: no automatic compaction */
  const char* created_at;   /* ISO-8601 UTC; NULL or "": now */
} eh5_config;

/* How one handle behaves (OpenOptions). */
typedef struct eh5_open_options {
  size_t struct_size;
  int read_only;                  /* nonzero: no lock, no writes; sees the file as of open */
  eh5_durability durability;      /* init: EH5_DURABILITY_ON_FLUSH */
  size_t checkpoint_log_bytes;    /* init: 64 MiB */
} eh5_open_options;

/* Fill with struct_size and the C++ defaults. Do nothing when given NULL. */
EH5_API void eh5_config_init(eh5_config* config);
EH5_API void eh5_open_options_init(eh5_open_options* options);

/* Creates a new memory file at `path`; *out receives the handle (free with eh5_memory_close).
 * `options` may be NULL (defaults). Errors: INVALID_ARGUMENT for a bad config, IO when the
 * file or its log exists. */
EH5_API eh5_status eh5_memory_create(const char* path, const eh5_config* config,
                                     const eh5_open_options* options, eh5_memory** out);
/* Opens an existing file, validating it and replaying its log. `options` may be NULL.
 * Errors: IO, HDF5, SCHEMA, CORRUPTION, LOCKED (another writer). */
EH5_API eh5_status eh5_memory_open(const char* path, const eh5_open_options* options,
                                   eh5_memory** out);
/* Checkpoints, releases the lock, and frees the handle, in every case (the handle is gone
 * even when the status is an error, which then says what did not reach the file). NULL:
 * EH5_OK. Must not overlap any other call on the handle. */
EH5_API eh5_status eh5_memory_close(eh5_memory* memory);
/* [write] Returns when every change so far is durable. */
EH5_API eh5_status eh5_memory_flush(eh5_memory* memory);

/* [read] Facts about the handle. */
EH5_API eh5_status eh5_memory_embedding_dim(const eh5_memory* memory, size_t* out);
EH5_API eh5_status eh5_memory_is_float16(const eh5_memory* memory, int* out);
EH5_API eh5_status eh5_memory_is_read_only(const eh5_memory* memory, int* out);
EH5_API eh5_status eh5_memory_count(const eh5_memory* memory, size_t* out);        /* all rows */
EH5_API eh5_status eh5_memory_count_active(const eh5_memory* memory, size_t* out); /* live rows */

/* ---- memories ----------------------------------------------------------------------------- */

/* One memory, to save or as read back. Exactly one of embedding / embedding_f16 is set, with
 * embedding_dim values (which must equal the file's). Strings may be NULL (""), except chunk.
 * A float32 embedding saved into a float16 file is rounded; half bits saved into a float32
 * file are widened exactly. */
typedef struct eh5_record {
  size_t struct_size;
  const char* chunk;
  const float* embedding;        /* float32 values, or NULL */
  const uint16_t* embedding_f16; /* IEEE binary16 bits, or NULL */
  size_t embedding_dim;
  const char* source_channel;
  double timestamp;              /* seconds since the Unix epoch */
  const char* session_id;
  const char* tags;              /* comma-separated */
} eh5_record;

EH5_API void eh5_record_init(eh5_record* record);

/* [write] Saves one memory; *id_out (may be NULL) receives its id. */
EH5_API eh5_status eh5_memory_save(eh5_memory* memory, const eh5_record* record,
                                   int64_t* id_out);
/* [write] Saves `count` records, all or none. The array's stride is records[0].struct_size
 * (every record must have the same); ids_out (may be NULL) receives `count` ids. count 0:
 * EH5_OK, nothing saved. */
EH5_API eh5_status eh5_memory_save_batch(eh5_memory* memory, const eh5_record* records,
                                         size_t count, int64_t* ids_out);
/* [write] Tombstones a memory. NOT_FOUND for an unknown or already removed id. */
EH5_API eh5_status eh5_memory_remove(eh5_memory* memory, int64_t id);
/* [write] Drops tombstoned rows; *dropped (may be NULL) receives how many. */
EH5_API eh5_status eh5_memory_compact(eh5_memory* memory, size_t* dropped);
/* [write] Writes a consistent copy of the current state to `destination`, atomically (it
 * changes nothing, but as in C++ it must not overlap other calls on the handle). */
EH5_API eh5_status eh5_memory_snapshot(eh5_memory* memory, const char* destination);

/* [read] A copy of memory `id` (NOT_FOUND for unknown or removed); free with eh5_entry_free. */
EH5_API eh5_status eh5_memory_get(const eh5_memory* memory, int64_t id, eh5_entry** out);
/* The entry as a record: embedding is float32 (widened from half in a float16 file),
 * embedding_f16 is NULL, no string is NULL. Points into the entry; valid until it is freed.
 * NULL for a NULL entry. */
EH5_API const eh5_record* eh5_entry_record(const eh5_entry* entry);
EH5_API void eh5_entry_free(eh5_entry* entry);

/* ---- search ------------------------------------------------------------------------------- */

/* Metadata filters (SearchFilter). NULL strings and zero has_* fields filter nothing. */
typedef struct eh5_filter {
  size_t struct_size;
  const char* session_id;     /* exact match */
  const char* source_channel; /* exact match */
  const char* const* tags;    /* tag_count tags: rows carrying any (all, with all_tags) */
  size_t tag_count;
  int all_tags;
  int has_after;
  double after;               /* timestamp >= after */
  int has_before;
  double before;              /* timestamp <= before */
  double half_life_seconds;   /* > 0: recency weighting; 0: none */
  int has_now;
  double now;                 /* the recency weighting's "now"; default: the current time */
} eh5_filter;

typedef struct eh5_search_options {
  size_t struct_size;
  size_t k;                   /* init: 10 */
  eh5_strategy strategy;      /* init: EH5_STRATEGY_AUTO */
  const eh5_filter* filter;   /* NULL: none */
  size_t nprobe;              /* IVF-PQ lists probed; init: 16 */
  size_t rerank;              /* IVF-PQ candidates re-scored exactly; init: 400 */
} eh5_search_options;

typedef struct eh5_hybrid_options {
  size_t struct_size;
  size_t k;                   /* init: 10 */
  float vector_weight;        /* init: 0.7 */
  float keyword_weight;       /* init: 0.3 */
  eh5_fusion fusion;          /* init: EH5_FUSION_WEIGHTED */
  const eh5_filter* filter;   /* NULL: none */
  eh5_strategy strategy;      /* the vector side's; init: EH5_STRATEGY_AUTO */
  size_t candidates;          /* each side's list before fusion; init: 100 */
  size_t nprobe;              /* init: 16 */
  size_t rerank;              /* init: 400 */
} eh5_hybrid_options;

EH5_API void eh5_filter_init(eh5_filter* filter);
EH5_API void eh5_search_options_init(eh5_search_options* options);
EH5_API void eh5_hybrid_options_init(eh5_hybrid_options* options);

/* [read] Cosine top-k (HDF5Memory::search(query, options)); `options` may be NULL (k 10,
 * auto). *out receives the results; free with eh5_results_free. Errors: INVALID_ARGUMENT
 * (k 0, query_dim not the file's, NaN/Inf), UNSUPPORTED (a strategy this build lacks). */
EH5_API eh5_status eh5_memory_search(const eh5_memory* memory, const float* query,
                                     size_t query_dim, const eh5_search_options* options,
                                     eh5_results** out);
/* [read] The same with the automatic strategy and no filter, into caller buffers of at least
 * k elements each: *found receives the number of hits written (at most k), best first. */
EH5_API eh5_status eh5_memory_search_k(const eh5_memory* memory, const float* query,
                                       size_t query_dim, size_t k, int64_t* ids, float* scores,
                                       size_t* found);
/* [read] BM25 top-k over the chunks; `filter` may be NULL. INVALID_ARGUMENT for k 0 or a query
 * with no terms. */
EH5_API eh5_status eh5_memory_keyword_search(const eh5_memory* memory, const char* query_text,
                                             size_t k, const eh5_filter* filter,
                                             eh5_results** out);
/* [read] Vector + keyword fusion; `options` may be NULL (defaults). */
EH5_API eh5_status eh5_memory_hybrid_search(const eh5_memory* memory, const float* query,
                                            size_t query_dim, const char* query_text,
                                            const eh5_hybrid_options* options,
                                            eh5_results** out);

/* Accessors of a results object (never fail on a valid one; NULL gives 0 / ""). */
EH5_API size_t eh5_results_count(const eh5_results* results);
/* Hit `index` (best first): OUT_OF_RANGE when index >= count. id / score may be NULL. */
EH5_API eh5_status eh5_results_hit(const eh5_results* results, size_t index, int64_t* id,
                                   float* score);
/* All hits into caller buffers of `capacity` elements (either may be NULL): *written receives
 * min(count, capacity). */
EH5_API eh5_status eh5_results_copy(const eh5_results* results, int64_t* ids, float* scores,
                                    size_t capacity, size_t* written);
/* What ran ("scalar", "simd", "blas", "parallel", "ivfpq"; "bm25" for keyword search;
 * "hybrid_weighted" or "hybrid_rrf") and on which instruction set ("" where none applies);
 * valid until the results are freed. */
EH5_API const char* eh5_results_strategy(const eh5_results* results);
EH5_API const char* eh5_results_isa(const eh5_results* results);
EH5_API double eh5_results_time_us(const eh5_results* results);
EH5_API size_t eh5_results_vectors_scanned(const eh5_results* results);
EH5_API void eh5_results_free(eh5_results* results);

/* ---- sessions ----------------------------------------------------------------------------- */

/* [write] Records a session covering memory ids [start_id, end_id). channel and summary may
 * be NULL (""). */
EH5_API eh5_status eh5_memory_add_session(eh5_memory* memory, const char* session_id,
                                          int64_t start_id, int64_t end_id, const char* channel,
                                          const char* summary);
/* [read] The summary of the most recent session with this id (NOT_FOUND if none). *summary
 * points into the handle: valid until the next [write] call on it or its close. */
EH5_API eh5_status eh5_memory_session_summary(const eh5_memory* memory, const char* session_id,
                                              const char** summary);
EH5_API eh5_status eh5_memory_session_count(const eh5_memory* memory, size_t* out);

/* ---- entities and relations --------------------------------------------------------------- */

/* An entity or relation as the handle holds it: the strings point into the handle, valid
 * until the next [write] call on it or its close. */
typedef struct eh5_entity {
  int64_t id;
  const char* name;
  const char* type;
  int64_t embedding_id; /* a memory id, or -1 */
} eh5_entity;

typedef struct eh5_relation {
  int64_t source;
  int64_t target;
  const char* type;
  float weight;
  double timestamp;
} eh5_relation;

/* [write] Adds an entity; *id_out (may be NULL) receives its id. embedding_id: a memory id
 * or -1. type may be NULL (""). */
EH5_API eh5_status eh5_memory_add_entity(eh5_memory* memory, const char* name, const char* type,
                                         int64_t embedding_id, int64_t* id_out);
/* [write] Adds a directed relation between two existing entities (NOT_FOUND otherwise). */
EH5_API eh5_status eh5_memory_add_relation(eh5_memory* memory, int64_t source, int64_t target,
                                           const char* type, float weight);
EH5_API eh5_status eh5_memory_entity_count(const eh5_memory* memory, size_t* out);
EH5_API eh5_status eh5_memory_relation_count(const eh5_memory* memory, size_t* out);
/* [read] Entity / relation number `index` in insertion order (OUT_OF_RANGE past the count). */
EH5_API eh5_status eh5_memory_entity_at(const eh5_memory* memory, size_t index, eh5_entity* out);
EH5_API eh5_status eh5_memory_relation_at(const eh5_memory* memory, size_t index,
                                          eh5_relation* out);
/* [read] The first entity added with exactly this name (NOT_FOUND if none). */
EH5_API eh5_status eh5_memory_find_entity(const eh5_memory* memory, const char* name,
                                          eh5_entity* out);

/* ---- verify ------------------------------------------------------------------------------- */

/* Deep check of a closed (or open) file without modifying it. *problems receives the list of
 * problems found (empty: the file is sound); free with eh5_strings_free. The status is EH5_OK
 * whenever the check ran, whatever it found. */
EH5_API eh5_status eh5_verify_file(const char* path, eh5_strings** problems);
EH5_API size_t eh5_strings_count(const eh5_strings* strings);
/* String `index`, valid until the list is freed; NULL when index >= count. */
EH5_API const char* eh5_strings_at(const eh5_strings* strings, size_t index);
EH5_API void eh5_strings_free(eh5_strings* strings);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EDGEHDF5_EDGEHDF5_H */
