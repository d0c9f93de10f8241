/* The C ABI from C: every function, every error path it can reach, NULL and out-of-range
 * arguments. Compiled as C11 with -Wall -Wextra -Wpedantic -Werror; run under ASan + UBSan by
 * scripts/test.sh (build-asan). Usage: test_capi WORK_DIR. Prints "N passed, M failed". */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */

#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgehdf5/edgehdf5.h"

static int passed = 0;
static int failed = 0;

#define CHECK(condition)                                                                  \
  do {                                                                                    \
    if (condition) {                                                                      \
      ++passed;                                                                           \
    } else {                                                                              \
      ++failed;                                                                           \
      fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__,   \
              #condition, eh5_last_error());                                              \
    }                                                                                     \
  } while (0)

#define CHECK_STATUS(call, expected)                                                      \
  do {                                                                                    \
    const eh5_status status_ = (call);                                                    \
    if (status_ == (expected)) {                                                          \
      ++passed;                                                                           \
    } else {                                                                              \
      ++failed;                                                                           \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__,  \
              __LINE__, #call, eh5_status_name(status_), eh5_status_name(expected),       \
              eh5_last_error());                                                          \
    }                                                                                     \
  } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, EH5_OK)
/* A failure whose message names `word`. */
#define CHECK_FAILS(call, expected, word)                                                 \
  do {                                                                                    \
    CHECK_STATUS(call, expected);                                                         \
    CHECK(strstr(eh5_last_error(), (word)) != NULL);                                      \
  } while (0)

enum { kDim = 8 };
static char work_dir[4096];

static void path_in_work(char* out, size_t size, const char* name) {
  snprintf(out, size, "%s/%s", work_dir, name);
}

/* A deterministic embedding, different per row, with one dominant coordinate. */
static void embedding(int row, float* out) {
  for (int j = 0; j < kDim; ++j) {
    out[j] = (float)((row * 31 + j * 17) % 23) / 23.0f - 0.5f + (j == row % kDim ? 2.0f : 0.0f);
  }
}

static const char* const kChunks[] = {
    "alpha the user prefers dark mode", "bravo meeting on tuesday",
    "charlie likes green tea",          "delta project deadline friday",
    "echo dark chocolate is a favorite", "foxtrot the printer is broken",
};
static const char* const kSessions[] = {"s1", "s1", "s2", "s2", "s3", "s3"};
static const char* const kTags[] = {"pref,ui", "work", "pref,food", "work,deadline",
                                    "pref,food", "office"};
enum { kRows = 6 };

static eh5_memory* create_store(const char* name, int float16) {
  char path[4200];
  path_in_work(path, sizeof path, name);
  eh5_config config;
  eh5_config_init(&config);
  config.agent_id = "c-agent";
  config.embedder = "test:8";
  config.embedding_dim = kDim;
  config.float16 = float16;
  eh5_memory* memory = NULL;
  CHECK_OK(eh5_memory_create(path, &config, NULL, &memory));
  return memory;
}

static eh5_record record_of(int row, const float* values) {
  eh5_record record;
  eh5_record_init(&record);
  record.chunk = kChunks[row];
  record.embedding = values;
  record.embedding_dim = kDim;
  record.source_channel = row % 2 ? "email" : "chat";
  record.timestamp = 1700000000.0 + row;
  record.session_id = kSessions[row];
  record.tags = kTags[row];
  return record;
}

/* Saves kRows rows: row 0 alone, the rest as one batch. */
static void fill(eh5_memory* memory) {
  float values[kRows][kDim];
  eh5_record records[kRows];
  for (int row = 0; row < kRows; ++row) {
    embedding(row, values[row]);
    records[row] = record_of(row, values[row]);
  }
  int64_t id = -1;
  CHECK_OK(eh5_memory_save(memory, &records[0], &id));
  CHECK(id == 0);
  int64_t ids[kRows - 1] = {0};
  CHECK_OK(eh5_memory_save_batch(memory, &records[1], kRows - 1, ids));
  for (int i = 0; i < kRows - 1; ++i) CHECK(ids[i] == i + 1);
}

static void test_versions(void) {
  CHECK(eh5_version()[0] >= '0' && eh5_version()[0] <= '9');
  CHECK(eh5_abi_version() == EH5_ABI_VERSION);
  CHECK(strcmp(eh5_status_name(EH5_OK), "ok") == 0);
  CHECK(strcmp(eh5_status_name(EH5_ERR_READ_ONLY), "read_only") == 0);
  for (int a = EH5_OK; a <= EH5_ERR_INTERNAL; ++a) {
    CHECK(strcmp(eh5_status_name((eh5_status)a), "unknown") != 0);
    for (int b = a + 1; b <= EH5_ERR_INTERNAL; ++b) {
      CHECK(strcmp(eh5_status_name((eh5_status)a), eh5_status_name((eh5_status)b)) != 0);
    }
  }
  CHECK(strcmp(eh5_status_name((eh5_status)99), "unknown") == 0);
  CHECK(strcmp(eh5_last_error(), "") == 0);
}

static void test_null_arguments(void) {
  eh5_config config;
  eh5_config_init(&config);
  config.embedding_dim = kDim;
  eh5_memory* memory = NULL;
  char path[4200];
  path_in_work(path, sizeof path, "null.h5");

  /* init functions ignore NULL */
  eh5_config_init(NULL);
  eh5_open_options_init(NULL);
  eh5_record_init(NULL);
  eh5_filter_init(NULL);
  eh5_search_options_init(NULL);
  eh5_hybrid_options_init(NULL);

  CHECK_FAILS(eh5_memory_create(NULL, &config, NULL, &memory), EH5_ERR_NULL_ARGUMENT, "path");
  CHECK_FAILS(eh5_memory_create(path, NULL, NULL, &memory), EH5_ERR_NULL_ARGUMENT, "config");
  CHECK_FAILS(eh5_memory_create(path, &config, NULL, NULL), EH5_ERR_NULL_ARGUMENT, "out");
  CHECK_FAILS(eh5_memory_open(NULL, NULL, &memory), EH5_ERR_NULL_ARGUMENT, "path");
  CHECK_FAILS(eh5_memory_open(path, NULL, NULL), EH5_ERR_NULL_ARGUMENT, "out");
  CHECK(memory == NULL);
  CHECK_OK(eh5_memory_close(NULL));
  CHECK_STATUS(eh5_memory_flush(NULL), EH5_ERR_NULL_ARGUMENT);

  memory = create_store("null.h5", 0);
  size_t size = 0;
  int flag = 0;
  CHECK_STATUS(eh5_memory_embedding_dim(NULL, &size), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_embedding_dim(memory, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_is_float16(NULL, &flag), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_is_float16(memory, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_is_read_only(NULL, &flag), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_is_read_only(memory, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_count(NULL, &size), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_count(memory, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_count_active(NULL, &size), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_count_active(memory, NULL), EH5_ERR_NULL_ARGUMENT);

  float values[kDim];
  embedding(0, values);
  eh5_record record = record_of(0, values);
  CHECK_STATUS(eh5_memory_save(NULL, &record, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_save(memory, NULL, NULL), EH5_ERR_NULL_ARGUMENT, "record");
  record.chunk = NULL;
  CHECK_FAILS(eh5_memory_save(memory, &record, NULL), EH5_ERR_NULL_ARGUMENT, "chunk");
  record.chunk = "x";
  record.embedding = NULL;
  CHECK_FAILS(eh5_memory_save(memory, &record, NULL), EH5_ERR_NULL_ARGUMENT, "embedding");
  CHECK_STATUS(eh5_memory_save_batch(NULL, &record, 1, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_save_batch(memory, NULL, 1, NULL), EH5_ERR_NULL_ARGUMENT, "records");
  CHECK_OK(eh5_memory_save_batch(memory, NULL, 0, NULL));
  CHECK_STATUS(eh5_memory_remove(NULL, 0), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_compact(NULL, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_snapshot(NULL, path), EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_snapshot(memory, NULL), EH5_ERR_NULL_ARGUMENT, "destination");
  CHECK_OK(eh5_memory_count(memory, &size));
  CHECK(size == 0); /* none of the refused saves stored anything */

  record.embedding = values;
  CHECK_OK(eh5_memory_save(memory, &record, NULL));
  eh5_entry* entry = NULL;
  CHECK_STATUS(eh5_memory_get(NULL, 0, &entry), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_get(memory, 0, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK(eh5_entry_record(NULL) == NULL);
  eh5_entry_free(NULL);

  eh5_results* results = NULL;
  int64_t ids[4];
  float scores[4];
  CHECK_STATUS(eh5_memory_search(NULL, values, kDim, NULL, &results), EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_search(memory, NULL, kDim, NULL, &results), EH5_ERR_NULL_ARGUMENT,
              "query");
  CHECK_STATUS(eh5_memory_search(memory, values, kDim, NULL, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_search_k(NULL, values, kDim, 4, ids, scores, &size),
               EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_search_k(memory, NULL, kDim, 4, ids, scores, &size),
               EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_search_k(memory, values, kDim, 4, NULL, scores, &size),
              EH5_ERR_NULL_ARGUMENT, "ids");
  CHECK_FAILS(eh5_memory_search_k(memory, values, kDim, 4, ids, NULL, &size),
              EH5_ERR_NULL_ARGUMENT, "scores");
  CHECK_FAILS(eh5_memory_search_k(memory, values, kDim, 4, ids, scores, NULL),
              EH5_ERR_NULL_ARGUMENT, "found");
  CHECK_STATUS(eh5_memory_keyword_search(NULL, "alpha", 4, NULL, &results),
               EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_keyword_search(memory, NULL, 4, NULL, &results), EH5_ERR_NULL_ARGUMENT,
              "query_text");
  CHECK_STATUS(eh5_memory_keyword_search(memory, "alpha", 4, NULL, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_hybrid_search(NULL, values, kDim, "alpha", NULL, &results),
               EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_hybrid_search(memory, NULL, kDim, "alpha", NULL, &results),
               EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_hybrid_search(memory, values, kDim, NULL, NULL, &results),
               EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_hybrid_search(memory, values, kDim, "alpha", NULL, NULL),
               EH5_ERR_NULL_ARGUMENT);
  CHECK(results == NULL);

  eh5_filter filter;
  eh5_filter_init(&filter);
  filter.tag_count = 1;
  CHECK_FAILS(eh5_memory_keyword_search(memory, "alpha", 4, &filter, &results),
              EH5_ERR_NULL_ARGUMENT, "tags");
  const char* tags[] = {"pref", NULL};
  filter.tags = tags;
  filter.tag_count = 2;
  CHECK_FAILS(eh5_memory_keyword_search(memory, "alpha", 4, &filter, &results),
              EH5_ERR_NULL_ARGUMENT, "tags[1]");

  /* results accessors on NULL */
  CHECK(eh5_results_count(NULL) == 0);
  CHECK(strcmp(eh5_results_strategy(NULL), "") == 0);
  CHECK(strcmp(eh5_results_isa(NULL), "") == 0);
  CHECK(eh5_results_time_us(NULL) == 0.0);
  CHECK(eh5_results_vectors_scanned(NULL) == 0);
  CHECK_STATUS(eh5_results_hit(NULL, 0, ids, scores), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_results_copy(NULL, ids, scores, 4, &size), EH5_ERR_NULL_ARGUMENT);
  eh5_results_free(NULL);

  const char* summary = NULL;
  CHECK_STATUS(eh5_memory_add_session(NULL, "s", 0, 1, "chat", "x"), EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_add_session(memory, NULL, 0, 1, "chat", "x"), EH5_ERR_NULL_ARGUMENT,
              "session_id");
  CHECK_STATUS(eh5_memory_session_summary(NULL, "s", &summary), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_session_summary(memory, NULL, &summary), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_session_summary(memory, "s", NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_session_count(NULL, &size), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_session_count(memory, NULL), EH5_ERR_NULL_ARGUMENT);

  eh5_entity entity;
  eh5_relation relation;
  CHECK_STATUS(eh5_memory_add_entity(NULL, "a", "t", -1, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_add_entity(memory, NULL, "t", -1, NULL), EH5_ERR_NULL_ARGUMENT, "name");
  CHECK_STATUS(eh5_memory_add_relation(NULL, 0, 0, "r", 1.0f), EH5_ERR_NULL_ARGUMENT);
  CHECK_FAILS(eh5_memory_add_relation(memory, 0, 0, NULL, 1.0f), EH5_ERR_NULL_ARGUMENT, "type");
  CHECK_STATUS(eh5_memory_entity_count(NULL, &size), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_entity_count(memory, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_relation_count(NULL, &size), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_relation_count(memory, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_entity_at(NULL, 0, &entity), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_entity_at(memory, 0, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_relation_at(NULL, 0, &relation), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_relation_at(memory, 0, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_find_entity(NULL, "a", &entity), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_find_entity(memory, NULL, &entity), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_memory_find_entity(memory, "a", NULL), EH5_ERR_NULL_ARGUMENT);

  eh5_strings* problems = NULL;
  CHECK_STATUS(eh5_verify_file(NULL, &problems), EH5_ERR_NULL_ARGUMENT);
  CHECK_STATUS(eh5_verify_file(path, NULL), EH5_ERR_NULL_ARGUMENT);
  CHECK(eh5_strings_count(NULL) == 0);
  CHECK(eh5_strings_at(NULL, 0) == NULL);
  eh5_strings_free(NULL);

  CHECK_OK(eh5_memory_close(memory));
}

static void test_struct_sizes_and_enums(void) {
  char path[4200];
  path_in_work(path, sizeof path, "sizes.h5");
  eh5_config config;
  eh5_config_init(&config);
  config.embedding_dim = kDim;
  eh5_memory* memory = NULL;
  config.struct_size = 0;
  CHECK_FAILS(eh5_memory_create(path, &config, NULL, &memory), EH5_ERR_OUT_OF_RANGE,
              "struct_size");
  config.struct_size = sizeof config - 1;
  CHECK_STATUS(eh5_memory_create(path, &config, NULL, &memory), EH5_ERR_OUT_OF_RANGE);
  config.struct_size = sizeof config;
  eh5_open_options options;
  eh5_open_options_init(&options);
  options.struct_size = 4;
  CHECK_STATUS(eh5_memory_create(path, &config, &options, &memory), EH5_ERR_OUT_OF_RANGE);
  eh5_open_options_init(&options);
  memcpy(&options.durability, &(int){7}, sizeof(int));
  CHECK_FAILS(eh5_memory_create(path, &config, &options, &memory), EH5_ERR_OUT_OF_RANGE,
              "durability");
  CHECK(memory == NULL);

  config.embedding_dim = 0;
  CHECK_STATUS(eh5_memory_create(path, &config, NULL, &memory), EH5_ERR_INVALID_ARGUMENT);
  config.embedding_dim = kDim;
  config.compression = 1;
  config.compression_level = 12;
  CHECK_STATUS(eh5_memory_create(path, &config, NULL, &memory), EH5_ERR_INVALID_ARGUMENT);
  config.compression_level = 4;
  eh5_open_options_init(&options);
  options.durability = EH5_DURABILITY_EVERY_WRITE;
  CHECK_OK(eh5_memory_create(path, &config, &options, &memory));
  fill(memory);

  float query[kDim];
  embedding(2, query);
  eh5_results* results = NULL;
  eh5_search_options search;
  eh5_search_options_init(&search);
  search.struct_size = sizeof search - 1;
  CHECK_STATUS(eh5_memory_search(memory, query, kDim, &search, &results), EH5_ERR_OUT_OF_RANGE);
  eh5_search_options_init(&search);
  memcpy(&search.strategy, &(int){42}, sizeof(int));
  CHECK_FAILS(eh5_memory_search(memory, query, kDim, &search, &results), EH5_ERR_OUT_OF_RANGE,
              "strategy");
  eh5_search_options_init(&search);
  eh5_filter filter;
  eh5_filter_init(&filter);
  filter.struct_size = 1;
  search.filter = &filter;
  CHECK_FAILS(eh5_memory_search(memory, query, kDim, &search, &results), EH5_ERR_OUT_OF_RANGE,
              "filter");
  eh5_hybrid_options hybrid;
  eh5_hybrid_options_init(&hybrid);
  hybrid.struct_size = 0;
  CHECK_STATUS(eh5_memory_hybrid_search(memory, query, kDim, "tea", &hybrid, &results),
               EH5_ERR_OUT_OF_RANGE);
  eh5_hybrid_options_init(&hybrid);
  memcpy(&hybrid.fusion, &(int){9}, sizeof(int));
  CHECK_FAILS(eh5_memory_hybrid_search(memory, query, kDim, "tea", &hybrid, &results),
              EH5_ERR_OUT_OF_RANGE, "fusion");
  CHECK(results == NULL);

  eh5_record records[2];
  records[0] = record_of(0, query);
  records[1] = record_of(1, query);
  records[0].struct_size = 8;
  CHECK_STATUS(eh5_memory_save(memory, &records[0], NULL), EH5_ERR_OUT_OF_RANGE);
  CHECK_STATUS(eh5_memory_save_batch(memory, records, 2, NULL), EH5_ERR_OUT_OF_RANGE);
  records[0].struct_size = sizeof(eh5_record) + 1;
  records[1].struct_size = sizeof(eh5_record) + 1;
  CHECK_FAILS(eh5_memory_save_batch(memory, records, 1, NULL), EH5_ERR_INVALID_ARGUMENT,
              "alignment");
  records[0].struct_size = sizeof(eh5_record);
  records[1].struct_size = sizeof(eh5_record) + 8;
  CHECK_FAILS(eh5_memory_save_batch(memory, records, 2, NULL), EH5_ERR_INVALID_ARGUMENT,
              "records[1]");
  size_t count = 0;
  CHECK_OK(eh5_memory_count(memory, &count));
  CHECK(count == kRows); /* the refused batch stored nothing */

  /* A program built against a later, larger eh5_record: the stride is its struct_size and the
   * fields this version does not know are ignored. */
  struct grown_record {
    eh5_record record;
    double added_later;
  } grown[2];
  grown[0].record = record_of(0, query);
  grown[1].record = record_of(1, query);
  grown[0].record.struct_size = sizeof grown[0];
  grown[1].record.struct_size = sizeof grown[1];
  grown[0].added_later = grown[1].added_later = 1.0;
  int64_t grown_ids[2] = {-1, -1};
  CHECK_OK(eh5_memory_save_batch(memory, &grown[0].record, 2, grown_ids));
  CHECK(grown_ids[0] == kRows && grown_ids[1] == kRows + 1);
  eh5_entry* entry = NULL;
  CHECK_OK(eh5_memory_get(memory, grown_ids[1], &entry));
  CHECK(strcmp(eh5_entry_record(entry)->chunk, kChunks[1]) == 0);
  eh5_entry_free(entry);
  CHECK_OK(eh5_memory_close(memory));
}

static void test_store_float32(void) {
  eh5_memory* memory = create_store("store.h5", 0);
  if (memory == NULL) return;
  fill(memory);
  size_t value = 0;
  int flag = -1;
  CHECK_OK(eh5_memory_embedding_dim(memory, &value));
  CHECK(value == kDim);
  CHECK_OK(eh5_memory_is_float16(memory, &flag));
  CHECK(flag == 0);
  CHECK_OK(eh5_memory_is_read_only(memory, &flag));
  CHECK(flag == 0);
  CHECK_OK(eh5_memory_count(memory, &value));
  CHECK(value == kRows);

  /* get */
  eh5_entry* entry = NULL;
  CHECK_OK(eh5_memory_get(memory, 3, &entry));
  const eh5_record* got = eh5_entry_record(entry);
  float expected[kDim];
  embedding(3, expected);
  CHECK(got != NULL && strcmp(got->chunk, kChunks[3]) == 0);
  CHECK(got != NULL && strcmp(got->source_channel, "email") == 0);
  CHECK(got != NULL && strcmp(got->session_id, "s2") == 0);
  CHECK(got != NULL && strcmp(got->tags, "work,deadline") == 0);
  CHECK(got != NULL && got->timestamp == 1700000003.0);
  CHECK(got != NULL && got->embedding_dim == kDim && got->embedding_f16 == NULL);
  CHECK(got != NULL && memcmp(got->embedding, expected, sizeof expected) == 0);
  eh5_entry_free(entry);
  entry = NULL;
  CHECK_FAILS(eh5_memory_get(memory, 99, &entry), EH5_ERR_NOT_FOUND, "99");
  CHECK(entry == NULL);

  /* save errors: wrong dim, NaN, both embeddings */
  float bad[kDim];
  embedding(0, bad);
  eh5_record record = record_of(0, bad);
  record.embedding_dim = kDim - 1;
  CHECK_FAILS(eh5_memory_save(memory, &record, NULL), EH5_ERR_INVALID_ARGUMENT, "embedding_dim");
  record.embedding_dim = kDim;
  bad[2] = NAN;
  CHECK_STATUS(eh5_memory_save(memory, &record, NULL), EH5_ERR_INVALID_ARGUMENT);
  uint16_t halves[kDim] = {0};
  bad[2] = 0.0f;
  record.embedding_f16 = halves;
  CHECK_FAILS(eh5_memory_save(memory, &record, NULL), EH5_ERR_INVALID_ARGUMENT, "exactly one");
  CHECK_OK(eh5_memory_count(memory, &value));
  CHECK(value == kRows);

  /* vector search: the handle and the caller buffers agree */
  float query[kDim];
  embedding(2, query);
  eh5_results* results = NULL;
  CHECK_OK(eh5_memory_search(memory, query, kDim, NULL, &results));
  CHECK(eh5_results_count(results) == kRows);
  int64_t id = -1;
  float score = 0.0f;
  CHECK_OK(eh5_results_hit(results, 0, &id, &score));
  CHECK(id == 2 && fabsf(score - 1.0f) < 1e-5f);
  CHECK_OK(eh5_results_hit(results, 1, NULL, NULL));
  CHECK_FAILS(eh5_results_hit(results, kRows, &id, &score), EH5_ERR_OUT_OF_RANGE, "index");
  CHECK(strlen(eh5_results_strategy(results)) > 0);
  CHECK(eh5_results_time_us(results) >= 0.0);
  CHECK(eh5_results_vectors_scanned(results) == kRows);
  (void)eh5_results_isa(results);
  int64_t ids[kRows];
  float scores[kRows];
  int64_t copied_ids[3];
  size_t written = 0;
  CHECK_OK(eh5_results_copy(results, copied_ids, NULL, 3, &written));
  CHECK(written == 3);
  CHECK_OK(eh5_memory_search_k(memory, query, kDim, kRows, ids, scores, &written));
  CHECK(written == kRows);
  for (size_t i = 0; i < written; ++i) {
    int64_t hit_id = -1;
    float hit_score = 0.0f;
    CHECK_OK(eh5_results_hit(results, i, &hit_id, &hit_score));
    CHECK(hit_id == ids[i] && hit_score == scores[i]);
    if (i < 3) CHECK(copied_ids[i] == ids[i]);
  }
  eh5_results_free(results);
  results = NULL;

  /* vector search errors */
  CHECK_FAILS(eh5_memory_search(memory, query, kDim + 1, NULL, &results),
              EH5_ERR_INVALID_ARGUMENT, "query");
  CHECK_STATUS(eh5_memory_search_k(memory, query, kDim, 0, ids, scores, &written),
               EH5_ERR_INVALID_ARGUMENT);
  eh5_search_options search;
  eh5_search_options_init(&search);
  search.k = 0;
  CHECK_STATUS(eh5_memory_search(memory, query, kDim, &search, &results),
               EH5_ERR_INVALID_ARGUMENT);
  query[0] = INFINITY;
  search.k = 3;
  CHECK_STATUS(eh5_memory_search(memory, query, kDim, &search, &results),
               EH5_ERR_INVALID_ARGUMENT);
  embedding(2, query);
  search.strategy = EH5_STRATEGY_GPU;
  CHECK_STATUS(eh5_memory_search(memory, query, kDim, &search, &results), EH5_ERR_UNSUPPORTED);
  search.strategy = EH5_STRATEGY_SCALAR;
  CHECK_OK(eh5_memory_search(memory, query, kDim, &search, &results));
  CHECK(strcmp(eh5_results_strategy(results), "scalar") == 0);
  CHECK(eh5_results_count(results) == 3);
  eh5_results_free(results);
  results = NULL;

  /* filters */
  eh5_filter filter;
  eh5_filter_init(&filter);
  filter.session_id = "s2";
  eh5_search_options_init(&search);
  search.filter = &filter;
  CHECK_OK(eh5_memory_search(memory, query, kDim, &search, &results));
  CHECK(eh5_results_count(results) == 2);
  for (size_t i = 0; i < eh5_results_count(results); ++i) {
    CHECK_OK(eh5_results_hit(results, i, &id, NULL));
    CHECK(id == 2 || id == 3);
  }
  eh5_results_free(results);
  eh5_filter_init(&filter);
  const char* food[] = {"food"};
  filter.tags = food;
  filter.tag_count = 1;
  filter.source_channel = "chat";
  CHECK_OK(eh5_memory_search(memory, query, kDim, &search, &results));
  CHECK(eh5_results_count(results) == 2); /* rows 2 and 4: food, chat */
  eh5_results_free(results);
  eh5_filter_init(&filter);
  filter.has_after = 1;
  filter.after = 1700000004.0;
  filter.has_before = 1;
  filter.before = 1700000005.0;
  filter.half_life_seconds = 3600.0;
  filter.has_now = 1;
  filter.now = 1700000005.0;
  CHECK_OK(eh5_memory_search(memory, query, kDim, &search, &results));
  CHECK(eh5_results_count(results) == 2);
  eh5_results_free(results);

  /* keyword search */
  CHECK_OK(eh5_memory_keyword_search(memory, "dark", 10, NULL, &results));
  CHECK(eh5_results_count(results) == 2); /* rows 0 and 4 */
  CHECK(strcmp(eh5_results_strategy(results), "bm25") == 0);
  eh5_results_free(results);
  eh5_filter_init(&filter);
  filter.session_id = "s3";
  CHECK_OK(eh5_memory_keyword_search(memory, "dark", 10, &filter, &results));
  CHECK(eh5_results_count(results) == 1);
  CHECK_OK(eh5_results_hit(results, 0, &id, NULL));
  CHECK(id == 4);
  eh5_results_free(results);
  results = NULL;
  CHECK_STATUS(eh5_memory_keyword_search(memory, "dark", 0, NULL, &results),
               EH5_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(eh5_memory_keyword_search(memory, " ,. ", 5, NULL, &results),
               EH5_ERR_INVALID_ARGUMENT);
  CHECK(results == NULL);

  /* hybrid search */
  eh5_hybrid_options hybrid;
  eh5_hybrid_options_init(&hybrid);
  hybrid.k = 3;
  CHECK_OK(eh5_memory_hybrid_search(memory, query, kDim, "tea", &hybrid, &results));
  CHECK(eh5_results_count(results) == 3);
  CHECK_OK(eh5_results_hit(results, 0, &id, NULL));
  CHECK(id == 2); /* the nearest vector and the only "tea" */
  CHECK(strcmp(eh5_results_strategy(results), "hybrid_weighted") == 0);
  eh5_results_free(results);
  hybrid.fusion = EH5_FUSION_RRF;
  hybrid.filter = &filter; /* session s3 */
  CHECK_OK(eh5_memory_hybrid_search(memory, query, kDim, "dark", &hybrid, &results));
  CHECK(eh5_results_count(results) == 2);
  CHECK(strcmp(eh5_results_strategy(results), "hybrid_rrf") == 0);
  eh5_results_free(results);
  results = NULL;
  CHECK_OK(eh5_memory_hybrid_search(memory, query, kDim, "dark", NULL, &results));
  eh5_results_free(results);
  results = NULL;
  CHECK_STATUS(eh5_memory_hybrid_search(memory, query, kDim - 1, "dark", NULL, &results),
               EH5_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(eh5_memory_hybrid_search(memory, query, kDim, "", NULL, &results),
               EH5_ERR_INVALID_ARGUMENT);
  eh5_hybrid_options_init(&hybrid);
  hybrid.strategy = EH5_STRATEGY_IVFPQ; /* no index in this file */
  CHECK_STATUS(eh5_memory_hybrid_search(memory, query, kDim, "dark", &hybrid, &results),
               EH5_ERR_UNSUPPORTED);
  CHECK(results == NULL);

  /* sessions */
  const char* summary = NULL;
  CHECK_OK(eh5_memory_add_session(memory, "s1", 0, 2, "chat", "first talk"));
  CHECK_OK(eh5_memory_add_session(memory, "s1", 0, 2, NULL, "first talk, again"));
  CHECK_OK(eh5_memory_add_session(memory, "s2", 2, 4, "email", NULL));
  CHECK_OK(eh5_memory_session_summary(memory, "s1", &summary));
  CHECK(summary != NULL && strcmp(summary, "first talk, again") == 0);
  CHECK_OK(eh5_memory_session_summary(memory, "s2", &summary));
  CHECK(summary != NULL && strcmp(summary, "") == 0);
  CHECK_FAILS(eh5_memory_session_summary(memory, "nope", &summary), EH5_ERR_NOT_FOUND, "nope");
  CHECK_OK(eh5_memory_session_count(memory, &value));
  CHECK(value == 3);

  /* entities and relations */
  int64_t alice = -1, project = -1;
  CHECK_OK(eh5_memory_add_entity(memory, "Alice", "person", 0, &alice));
  CHECK_OK(eh5_memory_add_entity(memory, "ProjectX", NULL, -1, &project));
  CHECK(alice == 0 && project == 1);
  CHECK_OK(eh5_memory_add_relation(memory, alice, project, "works_on", 0.5f));
  CHECK_FAILS(eh5_memory_add_relation(memory, alice, 77, "works_on", 1.0f), EH5_ERR_NOT_FOUND,
              "77");
  CHECK_STATUS(eh5_memory_add_entity(memory, "Bob", "person", 999, NULL), EH5_ERR_NOT_FOUND);
  CHECK_OK(eh5_memory_entity_count(memory, &value));
  CHECK(value == 2);
  CHECK_OK(eh5_memory_relation_count(memory, &value));
  CHECK(value == 1);
  eh5_entity entity;
  CHECK_OK(eh5_memory_entity_at(memory, 1, &entity));
  CHECK(entity.id == project && strcmp(entity.name, "ProjectX") == 0);
  CHECK(strcmp(entity.type, "") == 0 && entity.embedding_id == -1);
  CHECK_FAILS(eh5_memory_entity_at(memory, 2, &entity), EH5_ERR_OUT_OF_RANGE, "index");
  CHECK_OK(eh5_memory_find_entity(memory, "Alice", &entity));
  CHECK(entity.id == alice && strcmp(entity.type, "person") == 0 && entity.embedding_id == 0);
  CHECK_FAILS(eh5_memory_find_entity(memory, "Carol", &entity), EH5_ERR_NOT_FOUND, "Carol");
  eh5_relation relation;
  CHECK_OK(eh5_memory_relation_at(memory, 0, &relation));
  CHECK(relation.source == alice && relation.target == project);
  CHECK(strcmp(relation.type, "works_on") == 0 && relation.weight == 0.5f);
  CHECK(relation.timestamp > 0.0);
  CHECK_FAILS(eh5_memory_relation_at(memory, 1, &relation), EH5_ERR_OUT_OF_RANGE, "index");

  /* more refusals, each with the C++ message */
  eh5_record_init(&record);
  record.chunk = "bad \xff utf-8";
  record.embedding = query;
  record.embedding_dim = kDim;
  CHECK_FAILS(eh5_memory_save(memory, &record, NULL), EH5_ERR_INVALID_ARGUMENT, "UTF-8");
  CHECK_STATUS(eh5_memory_add_session(memory, "s9", 5, 2, "chat", "x"), EH5_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(eh5_memory_add_entity(memory, "", "t", -1, NULL), EH5_ERR_INVALID_ARGUMENT, "name");
  CHECK_FAILS(eh5_memory_snapshot(memory, "/nonexistent-dir/x.h5"), EH5_ERR_IO, "nonexistent");
  eh5_filter_init(&filter);
  filter.half_life_seconds = -5.0;
  CHECK_STATUS(eh5_memory_keyword_search(memory, "dark", 3, &filter, &results),
               EH5_ERR_INVALID_ARGUMENT);
  /* k beyond the rows is not an error: every row comes back */
  eh5_search_options_init(&search);
  search.k = SIZE_MAX;
  CHECK_OK(eh5_memory_search(memory, query, kDim, &search, &results));
  CHECK(eh5_results_count(results) == kRows);
  eh5_results_free(results);
  results = NULL;
  CHECK_OK(eh5_memory_count(memory, &value));
  CHECK(value == kRows);

  /* remove, compact, snapshot, flush, verify */
  CHECK_OK(eh5_memory_remove(memory, 5));
  CHECK_FAILS(eh5_memory_remove(memory, 5), EH5_ERR_NOT_FOUND, "5");
  CHECK_STATUS(eh5_memory_remove(memory, -3), EH5_ERR_NOT_FOUND);
  CHECK_STATUS(eh5_memory_get(memory, 5, &entry), EH5_ERR_NOT_FOUND);
  CHECK_OK(eh5_memory_count_active(memory, &value));
  CHECK(value == kRows - 1);
  size_t dropped = 0;
  CHECK_OK(eh5_memory_compact(memory, &dropped));
  CHECK(dropped == 1);
  CHECK_OK(eh5_memory_compact(memory, NULL));
  CHECK_OK(eh5_memory_count(memory, &value));
  CHECK(value == kRows - 1);
  char snapshot[4200];
  path_in_work(snapshot, sizeof snapshot, "store-snapshot.h5");
  CHECK_OK(eh5_memory_snapshot(memory, snapshot));
  CHECK_OK(eh5_memory_snapshot(memory, snapshot)); /* replaces it, atomically */
  CHECK_OK(eh5_memory_flush(memory));

  /* a second writer, and a second create */
  char path[4200];
  path_in_work(path, sizeof path, "store.h5");
  eh5_memory* second = NULL;
  CHECK_STATUS(eh5_memory_open(path, NULL, &second), EH5_ERR_LOCKED);
  eh5_config config;
  eh5_config_init(&config);
  config.embedding_dim = kDim;
  CHECK_STATUS(eh5_memory_create(path, &config, NULL, &second), EH5_ERR_LOCKED);
  CHECK_OK(eh5_memory_close(memory));
  CHECK_FAILS(eh5_memory_create(path, &config, NULL, &second), EH5_ERR_IO, "exists");
  CHECK(second == NULL);

  eh5_strings* problems = NULL;
  CHECK_OK(eh5_verify_file(snapshot, &problems));
  CHECK(eh5_strings_count(problems) == 0);
  CHECK(eh5_strings_at(problems, 0) == NULL);
  eh5_strings_free(problems);
  CHECK_OK(eh5_verify_file(path, &problems));
  CHECK(eh5_strings_count(problems) == 0);
  eh5_strings_free(problems);
  char missing[4200];
  path_in_work(missing, sizeof missing, "missing.h5");
  CHECK_OK(eh5_verify_file(missing, &problems));
  CHECK(eh5_strings_count(problems) == 1);
  CHECK(eh5_strings_at(problems, 0) != NULL && strlen(eh5_strings_at(problems, 0)) > 0);
  eh5_strings_free(problems);

  /* reopen read-only: the data is there and writes are refused */
  eh5_open_options options;
  eh5_open_options_init(&options);
  options.read_only = 1;
  CHECK_OK(eh5_memory_open(path, &options, &memory));
  CHECK_OK(eh5_memory_is_read_only(memory, &flag));
  CHECK(flag == 1);
  CHECK_OK(eh5_memory_count(memory, &value));
  CHECK(value == kRows - 1);
  CHECK_OK(eh5_memory_session_summary(memory, "s1", &summary));
  CHECK(strcmp(summary, "first talk, again") == 0);
  CHECK_OK(eh5_memory_find_entity(memory, "ProjectX", &entity));
  embedding(0, bad);
  record = record_of(0, bad);
  CHECK_FAILS(eh5_memory_save(memory, &record, NULL), EH5_ERR_READ_ONLY, "read");
  CHECK_STATUS(eh5_memory_remove(memory, 0), EH5_ERR_READ_ONLY);
  CHECK_STATUS(eh5_memory_add_entity(memory, "Bob", "person", -1, NULL), EH5_ERR_READ_ONLY);
  CHECK_STATUS(eh5_memory_add_session(memory, "s9", 0, 1, "chat", "x"), EH5_ERR_READ_ONLY);
  CHECK_OK(eh5_memory_close(memory));
}

static void test_store_float16(void) {
  eh5_memory* memory = create_store("half.h5", 1);
  if (memory == NULL) return;
  int flag = 0;
  CHECK_OK(eh5_memory_is_float16(memory, &flag));
  CHECK(flag == 1);
  /* 1.0, -2.0, 0.5, 0.25, 3.0, 0, 0, 1.5 as IEEE half bits */
  const uint16_t halves[kDim] = {0x3C00, 0xC000, 0x3800, 0x3400, 0x4200, 0x0000, 0x0000, 0x3E00};
  const float widened[kDim] = {1.0f, -2.0f, 0.5f, 0.25f, 3.0f, 0.0f, 0.0f, 1.5f};
  eh5_record record;
  eh5_record_init(&record);
  record.chunk = "half row";
  record.embedding_f16 = halves;
  record.embedding_dim = kDim;
  int64_t id = -1;
  CHECK_OK(eh5_memory_save(memory, &record, &id));
  float values[kDim];
  embedding(1, values);
  eh5_record float_row = record_of(1, values);
  CHECK_OK(eh5_memory_save(memory, &float_row, NULL));
  eh5_entry* entry = NULL;
  CHECK_OK(eh5_memory_get(memory, id, &entry));
  const eh5_record* got = eh5_entry_record(entry);
  CHECK(got != NULL && memcmp(got->embedding, widened, sizeof widened) == 0);
  CHECK(got != NULL && strcmp(got->source_channel, "") == 0 && strcmp(got->tags, "") == 0);
  eh5_entry_free(entry);
  eh5_results* results = NULL;
  CHECK_OK(eh5_memory_search(memory, widened, kDim, NULL, &results));
  int64_t best = -1;
  float score = 0.0f;
  CHECK_OK(eh5_results_hit(results, 0, &best, &score));
  CHECK(best == id && fabsf(score - 1.0f) < 1e-5f);
  eh5_results_free(results);
  CHECK_OK(eh5_memory_close(memory));
}

static void test_bad_files(void) {
  eh5_memory* memory = NULL;
  char path[4200];
  path_in_work(path, sizeof path, "does-not-exist.h5");
  CHECK_STATUS(eh5_memory_open(path, NULL, &memory), EH5_ERR_IO);

  /* not HDF5 at all */
  path_in_work(path, sizeof path, "text.h5");
  FILE* file = fopen(path, "w");
  CHECK(file != NULL);
  if (file) {
    fputs("this is not an HDF5 file\n", file);
    fclose(file);
  }
  eh5_open_options options;
  eh5_open_options_init(&options);
  options.read_only = 1;
  CHECK_FAILS(eh5_memory_open(path, &options, &memory), EH5_ERR_HDF5, "not an HDF5 file");

  /* HDF5, but not a memory file */
  path_in_work(path, sizeof path, "empty.h5");
  const hid_t created = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(created >= 0);
  if (created >= 0) H5Fclose(created);
  CHECK_STATUS(eh5_memory_open(path, &options, &memory), EH5_ERR_SCHEMA);
  CHECK(memory == NULL);

  /* verify reports a problem for each, and the call itself succeeds */
  eh5_strings* problems = NULL;
  CHECK_OK(eh5_verify_file(path, &problems));
  CHECK(eh5_strings_count(problems) >= 1);
  eh5_strings_free(problems);
}

/* A writer that dies without closing leaves FILE.wal; a damaged log header is corruption. */
static void test_corrupt_log(void) {
  char path[4200];
  path_in_work(path, sizeof path, "crashed.h5");
  fflush(NULL);
  const pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    eh5_memory* memory = create_store("crashed.h5", 0);
    float values[kDim];
    embedding(0, values);
    const eh5_record record = record_of(0, values);
    const int ok = memory != NULL && eh5_memory_save(memory, &record, NULL) == EH5_OK &&
                   eh5_memory_flush(memory) == EH5_OK;
    _exit(ok ? 0 : 3); /* no close: the log stays */
  }
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char log[4300];
  snprintf(log, sizeof log, "%s.wal", path);
  FILE* file = fopen(log, "r+b");
  CHECK(file != NULL);
  if (file == NULL) return;
  fputs("NOT A LOG HEADER", file);
  fclose(file);
  eh5_open_options options;
  eh5_open_options_init(&options);
  options.read_only = 1;
  eh5_memory* memory = NULL;
  CHECK_STATUS(eh5_memory_open(path, &options, &memory), EH5_ERR_CORRUPTION);
  CHECK(memory == NULL);
}

/* Concurrent reading calls on one handle, and each thread's own last error. */
struct reader_job {
  eh5_memory* memory;
  int thread;
  int failures; /* counted here, not through CHECK: the counters are not atomic */
};

static void* reader(void* argument) {
  struct reader_job* job = argument;
  float query[kDim];
  embedding(job->thread, query);
  for (int round = 0; round < 50; ++round) {
    eh5_results* results = NULL;
    int64_t id = -1;
    if (eh5_memory_search(job->memory, query, kDim, NULL, &results) != EH5_OK ||
        eh5_results_count(results) != kRows || eh5_results_hit(results, 0, &id, NULL) != EH5_OK ||
        id != job->thread) {
      ++job->failures;
    }
    eh5_results_free(results);
    char missing[32];
    snprintf(missing, sizeof missing, "%d", 1000 + job->thread);
    eh5_entry* entry = NULL;
    if (eh5_memory_get(job->memory, 1000 + job->thread, &entry) != EH5_ERR_NOT_FOUND ||
        strstr(eh5_last_error(), missing) == NULL) {
      ++job->failures;
    }
    size_t count = 0;
    if (eh5_memory_count(job->memory, &count) != EH5_OK || strcmp(eh5_last_error(), "") != 0) {
      ++job->failures;
    }
  }
  return NULL;
}

static void test_threads(void) {
  eh5_memory* memory = create_store("threads.h5", 0);
  if (memory == NULL) return;
  fill(memory);
  enum { kThreads = 4 };
  pthread_t threads[kThreads];
  struct reader_job jobs[kThreads];
  for (int t = 0; t < kThreads; ++t) {
    jobs[t].memory = memory;
    jobs[t].thread = t;
    jobs[t].failures = 0;
    CHECK(pthread_create(&threads[t], NULL, reader, &jobs[t]) == 0);
  }
  for (int t = 0; t < kThreads; ++t) {
    CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(jobs[t].failures == 0);
  }
  CHECK_OK(eh5_memory_close(memory));
}

static int remove_entry(const char* path, const struct stat* info, int type, struct FTW* ftw) {
  (void)info;
  (void)type;
  (void)ftw;
  return remove(path);
}

int main(int argc, char** argv) {
  const char* base = argc > 1 ? argv[1] : ".";
  snprintf(work_dir, sizeof work_dir, "%s/capi-XXXXXX", base);
  if (mkdtemp(work_dir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  test_versions();
  test_null_arguments();
  test_struct_sizes_and_enums();
  test_store_float32();
  test_store_float16();
  test_bad_files();
  test_corrupt_log();
  test_threads();
  printf("%d passed, %d failed\n", passed, failed);
  if (failed == 0) nftw(work_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); /* else: kept to look at */
  return failed == 0 ? 0 : 1;
}
