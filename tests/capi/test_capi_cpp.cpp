// The C ABI against the C++ API: a file written through eh5_* functions opened by
// HDF5Memory, and every search answered identically by the C call and the C++ call on the
// same data (ids and scores bit for bit). Also: the status mapping covers every ErrorCode, and
// the *_init defaults are the C++ defaults.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "capi/status.hpp"
#include "edgehdf5/edgehdf5.h"
#include "edgehdf5/edgehdf5.hpp"
#include "edgehdf5/half.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

TEST(CapiStatus, OneStatusPerErrorCodeWithTheSameName) {
  const ErrorCode codes[] = {ErrorCode::invalid_argument, ErrorCode::not_found, ErrorCode::io,
                             ErrorCode::hdf5,      ErrorCode::schema,    ErrorCode::corruption,
                             ErrorCode::locked,    ErrorCode::read_only, ErrorCode::unsupported};
  std::vector<eh5_status> seen;
  for (ErrorCode code : codes) {
    const eh5_status status = capi::to_status(code);
    EXPECT_NE(status, EH5_OK);
    EXPECT_NE(status, EH5_ERR_INTERNAL);
    EXPECT_EQ(std::string(eh5_status_name(status)), std::string(error_code_name(code)));
    EXPECT_EQ(std::count(seen.begin(), seen.end(), status), 0);
    seen.push_back(status);
  }
  // The C statuses follow ErrorCode's order.
  EXPECT_EQ(capi::to_status(ErrorCode::invalid_argument), EH5_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(capi::to_status(ErrorCode::unsupported), EH5_ERR_UNSUPPORTED);
}

TEST(CapiDefaults, InitFunctionsGiveTheCppDefaults) {
  eh5_config config;
  eh5_config_init(&config);
  const MemoryConfig memory_config;
  EXPECT_EQ(config.struct_size, sizeof(eh5_config));
  EXPECT_EQ(config.embedding_dim, memory_config.embedding_dim);
  EXPECT_EQ(config.chunk_size, memory_config.chunk_size);
  EXPECT_EQ(config.overlap, memory_config.overlap);
  EXPECT_EQ(config.float16 != 0, memory_config.float16);
  EXPECT_EQ(config.compression != 0, memory_config.compression);
  EXPECT_EQ(config.compression_level, memory_config.compression_level);
  EXPECT_EQ(config.compact_threshold, memory_config.compact_threshold);
  EXPECT_EQ(config.agent_id, nullptr);  // NULL means MemoryConfig's

  eh5_open_options open;
  eh5_open_options_init(&open);
  const OpenOptions open_options;
  EXPECT_EQ(open.read_only != 0, open_options.read_only);
  EXPECT_EQ(open.durability, EH5_DURABILITY_ON_FLUSH);
  EXPECT_EQ(open.checkpoint_log_bytes, open_options.checkpoint_log_bytes);

  eh5_search_options search;
  eh5_search_options_init(&search);
  const SearchOptions search_options;
  EXPECT_EQ(search.k, search_options.k);
  EXPECT_EQ(search.nprobe, search_options.approximate.nprobe);
  EXPECT_EQ(search.rerank, search_options.approximate.rerank);

  eh5_hybrid_options hybrid;
  eh5_hybrid_options_init(&hybrid);
  const HybridOptions hybrid_options;
  EXPECT_EQ(hybrid.k, hybrid_options.k);
  EXPECT_EQ(hybrid.vector_weight, hybrid_options.vector_weight);
  EXPECT_EQ(hybrid.keyword_weight, hybrid_options.keyword_weight);
  EXPECT_EQ(hybrid.fusion, EH5_FUSION_WEIGHTED);
  EXPECT_EQ(hybrid.candidates, hybrid_options.candidates);
}

constexpr std::size_t kDim = 16;
constexpr std::size_t kRows = 300;
const char* const kWords[] = {"dark", "mode", "tea", "meeting", "deadline", "printer",
                              "garden", "music", "travel", "budget", "coffee", "report"};

std::vector<std::vector<float>> make_embeddings(std::size_t rows, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> out(rows, std::vector<float>(kDim));
  for (auto& row : out) {
    for (float& value : row) value = normal(random);
  }
  return out;
}

std::vector<SearchHit> hits_of(const eh5_results* results) {
  std::vector<SearchHit> hits(eh5_results_count(results));
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(eh5_results_hit(results, i, &hits[i].id, &hits[i].score), EH5_OK);
  }
  return hits;
}

void expect_same(const std::vector<SearchHit>& c, const std::vector<SearchHit>& cpp) {
  ASSERT_EQ(c.size(), cpp.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c[i].id, cpp[i].id) << "hit " << i;
    EXPECT_EQ(c[i].score, cpp[i].score) << "hit " << i;
  }
}

class CapiAgainstCpp : public ::testing::TestWithParam<bool> {};

TEST_P(CapiAgainstCpp, FileWrittenThroughCIsReadByCppAndSearchesAgree) {
  const bool float16 = GetParam();
  testing::TempDir dir;
  const std::string path = (dir.path() / "c_written.h5").string();
  const auto embeddings = make_embeddings(kRows, 7);

  // ---- write through the C ABI -------------------------------------------------------------
  eh5_config config;
  eh5_config_init(&config);
  config.agent_id = "c-agent";
  config.embedding_dim = kDim;
  config.float16 = float16 ? 1 : 0;
  eh5_memory* writer = nullptr;
  ASSERT_EQ(eh5_memory_create(path.c_str(), &config, nullptr, &writer), EH5_OK) << eh5_last_error();
  std::vector<std::string> chunks(kRows);
  std::vector<eh5_record> records(kRows);
  for (std::size_t row = 0; row < kRows; ++row) {
    chunks[row] = std::string(kWords[row % 12]) + " " + kWords[(row * 7 + 3) % 12] + " note " +
                  std::to_string(row);
    eh5_record_init(&records[row]);
    records[row].chunk = chunks[row].c_str();
    records[row].embedding = embeddings[row].data();
    records[row].embedding_dim = kDim;
    records[row].source_channel = row % 3 == 0 ? "chat" : "email";
    records[row].timestamp = 1700000000.0 + static_cast<double>(row) * 60.0;
    records[row].session_id = row < 150 ? "early" : "late";
    records[row].tags = row % 4 == 0 ? "pref,ui" : "work";
  }
  std::vector<std::int64_t> ids(kRows);
  ASSERT_EQ(eh5_memory_save_batch(writer, records.data(), kRows, ids.data()), EH5_OK)
      << eh5_last_error();
  for (std::int64_t id = 0; id < 20; id += 3) ASSERT_EQ(eh5_memory_remove(writer, id), EH5_OK);
  ASSERT_EQ(eh5_memory_add_session(writer, "early", 0, 150, "chat", "the first half"), EH5_OK);
  std::int64_t alice = -1, project = -1;
  ASSERT_EQ(eh5_memory_add_entity(writer, "Alice", "person", 40, &alice), EH5_OK);
  ASSERT_EQ(eh5_memory_add_entity(writer, "ProjectX", "project", -1, &project), EH5_OK);
  ASSERT_EQ(eh5_memory_add_relation(writer, alice, project, "works_on", 0.5f), EH5_OK);
  ASSERT_EQ(eh5_memory_close(writer), EH5_OK) << eh5_last_error();

  // ---- read it with the C++ API and with the C ABI, side by side ---------------------------
  OpenOptions read_only;
  read_only.read_only = true;
  const HDF5Memory store = HDF5Memory::open(path, read_only);
  eh5_open_options options;
  eh5_open_options_init(&options);
  options.read_only = 1;
  eh5_memory* reader = nullptr;
  ASSERT_EQ(eh5_memory_open(path.c_str(), &options, &reader), EH5_OK) << eh5_last_error();

  EXPECT_EQ(store.config().agent_id, "c-agent");
  EXPECT_EQ(store.config().float16, float16);
  EXPECT_EQ(store.count(), kRows);
  EXPECT_EQ(store.count_active(), kRows - 7);
  for (std::size_t row = 20; row < kRows; row += 37) {
    const MemoryEntry entry = store.get(ids[row]);
    EXPECT_EQ(entry.chunk, chunks[row]);
    EXPECT_EQ(entry.session_id, row < 150 ? "early" : "late");
    EXPECT_EQ(entry.timestamp, records[row].timestamp);
    for (std::size_t j = 0; j < kDim; ++j) {
      const float want = float16 ? half_to_float(float_to_half(embeddings[row][j]))
                                 : embeddings[row][j];
      EXPECT_EQ(entry.embedding[j], want);
    }
    eh5_entry* c_entry = nullptr;
    ASSERT_EQ(eh5_memory_get(reader, ids[row], &c_entry), EH5_OK);
    const eh5_record* c_record = eh5_entry_record(c_entry);
    EXPECT_EQ(std::string(c_record->chunk), entry.chunk);
    EXPECT_EQ(std::vector<float>(c_record->embedding, c_record->embedding + kDim),
              entry.embedding);
    eh5_entry_free(c_entry);
  }
  EXPECT_EQ(store.get_session_summary("early"), "the first half");
  ASSERT_EQ(store.knowledge().entities().size(), 2u);
  EXPECT_EQ(store.knowledge().find_entity_by_name("Alice")->embedding_id, 40);
  ASSERT_EQ(store.knowledge().relations().size(), 1u);
  EXPECT_EQ(store.knowledge().relations()[0].weight, 0.5f);

  const auto queries = make_embeddings(5, 99);
  for (const auto& query : queries) {
    // plain top-k
    std::vector<std::int64_t> c_ids(10);
    std::vector<float> c_scores(10);
    std::size_t found = 0;
    ASSERT_EQ(eh5_memory_search_k(reader, query.data(), kDim, 10, c_ids.data(), c_scores.data(),
                                  &found),
              EH5_OK);
    std::vector<SearchHit> c_hits(found);
    for (std::size_t i = 0; i < found; ++i) c_hits[i] = {c_ids[i], c_scores[i]};
    expect_same(c_hits, store.search(query, 10));

    // forced strategies and filters
    const char* tags[] = {"pref"};
    for (eh5_strategy strategy : {EH5_STRATEGY_AUTO, EH5_STRATEGY_SCALAR, EH5_STRATEGY_SIMD}) {
      eh5_filter filter;
      eh5_filter_init(&filter);
      filter.session_id = "late";
      filter.tags = tags;
      filter.tag_count = 1;
      filter.has_after = 1;
      filter.after = 1700000000.0 + 200 * 60.0;
      eh5_search_options c_options;
      eh5_search_options_init(&c_options);
      c_options.k = 7;
      c_options.strategy = strategy;
      c_options.filter = &filter;
      eh5_results* results = nullptr;
      ASSERT_EQ(eh5_memory_search(reader, query.data(), kDim, &c_options, &results), EH5_OK)
          << eh5_last_error();
      SearchOptions cpp_options;
      cpp_options.k = 7;
      if (strategy == EH5_STRATEGY_SCALAR) cpp_options.strategy = Strategy::scalar;
      if (strategy == EH5_STRATEGY_SIMD) cpp_options.strategy = Strategy::simd;
      cpp_options.filter.session_id = "late";
      cpp_options.filter.tags = {"pref"};
      cpp_options.filter.after = 1700000000.0 + 200 * 60.0;
      const SearchResults cpp = store.search(query, cpp_options);
      expect_same(hits_of(results), cpp.hits);
      EXPECT_EQ(std::string(eh5_results_strategy(results)), cpp.metrics.strategy);
      EXPECT_EQ(eh5_results_vectors_scanned(results), cpp.metrics.vectors_scanned);
      eh5_results_free(results);
    }

    // keyword and hybrid
    for (const char* text : {"dark mode", "tea budget", "printer"}) {
      eh5_results* results = nullptr;
      ASSERT_EQ(eh5_memory_keyword_search(reader, text, 8, nullptr, &results), EH5_OK);
      expect_same(hits_of(results), store.keyword_search(text, 8).hits);
      eh5_results_free(results);

      for (eh5_fusion fusion : {EH5_FUSION_WEIGHTED, EH5_FUSION_RRF}) {
        eh5_filter filter;
        eh5_filter_init(&filter);
        filter.source_channel = "email";
        filter.half_life_seconds = 3600.0;
        filter.has_now = 1;
        filter.now = 1700000000.0 + 300 * 60.0;
        eh5_hybrid_options c_options;
        eh5_hybrid_options_init(&c_options);
        c_options.k = 6;
        c_options.fusion = fusion;
        c_options.filter = &filter;
        ASSERT_EQ(eh5_memory_hybrid_search(reader, query.data(), kDim, text, &c_options,
                                           &results),
                  EH5_OK)
            << eh5_last_error();
        HybridOptions cpp_options;
        cpp_options.k = 6;
        cpp_options.fusion = fusion == EH5_FUSION_RRF ? Fusion::rrf : Fusion::weighted;
        cpp_options.filter.source_channel = "email";
        cpp_options.filter.half_life_seconds = 3600.0;
        cpp_options.filter.now = 1700000000.0 + 300 * 60.0;
        expect_same(hits_of(results), store.hybrid_search(query, text, cpp_options).hits);
        eh5_results_free(results);
      }
    }
  }
  EXPECT_EQ(eh5_memory_close(reader), EH5_OK);
  EXPECT_TRUE(verify_file(path).empty());
}

INSTANTIATE_TEST_SUITE_P(Types, CapiAgainstCpp, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "float16" : "float32"; });

}  // namespace
}  // namespace edgehdf5
