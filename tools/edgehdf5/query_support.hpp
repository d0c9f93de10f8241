#pragma once
// What `search` and `recall` share: the filter flags, turning hits into memories, and
// printing them as a table or as JSON.

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "edgehdf5/hybrid.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/search.hpp"

namespace edgehdf5::cli {

// The filter flags (--session --channel --tags --all-tags --after --before --half-life).
struct FilterOptions {
  std::optional<std::string> session;
  std::optional<std::string> channel;
  std::vector<std::string> tags;
  bool all_tags = false;
  std::optional<double> after;
  std::optional<double> before;
  std::optional<double> half_life;

  SearchFilter filter() const;
};

void add_filter_options(CLI::App& command, FilterOptions& options);

// One query: a vector, a text, or both (fused, as hybrid_search does).
struct Query {
  std::optional<std::vector<float>> vector;
  std::optional<std::string> text;
  std::size_t k = 10;
  std::optional<Strategy> strategy;  // vector side; empty: auto
  std::size_t nprobe = ApproximateSearch{}.nprobe;  // when the IVF-PQ index is used
  std::size_t rerank = ApproximateSearch{}.rerank;
  SearchFilter filter;
  Fusion fusion = Fusion::weighted;
  float vector_weight = 0.7f;  // keyword side: 1 - vector_weight
};

// Runs it: vector search (the store's IVF-PQ index where auto picks it or --strategy ivfpq
// asks for it, else exact), BM25 keyword search, or hybrid search. A note goes to stderr
// when the index that answered is due for a retrain.
// REQUIRES: query.vector or query.text.
SearchResults run_query(const HDF5Memory& memory, const Query& query);

// The --strategy value: "auto" gives nothing (the engine chooses), anything else is parsed
// (unknown names throw invalid_argument).
std::optional<Strategy> strategy_option(const std::string& name);

struct FoundMemory {
  SearchHit match;
  MemoryEntry entry;
};

struct FoundMemories {
  std::vector<FoundMemory> hits;
  SearchMetrics metrics;
};

// Looks up the memory behind every hit.
FoundMemories resolve_hits(const HDF5Memory& memory, SearchResults results);

// {"hits": [{"id","score","chunk","session_id","source_channel","timestamp","tags"}...],
//  "strategy", "isa", "threads", "vectors_scanned", "search_time_us"}
nlohmann::ordered_json found_to_json(const FoundMemories& found);

// A summary line ("3 hits in 12.5 us (simd, AVX3, 1 thread, 300 vectors scanned)"), then a
// table: rank, id, score, date (UTC), channel, session and the chunk shortened to one line.
void print_found_table(const FoundMemories& found, std::ostream& out);

// `value` with exactly `decimals` digits after the point ("0.250").
std::string fixed_decimals(double value, int decimals);

// A timestamp (seconds since the epoch) as "YYYY-MM-DD HH:MM" UTC, or "YYYY-MM-DD" with
// date_only.
std::string utc_time(double seconds, bool date_only = false);

}  // namespace edgehdf5::cli
