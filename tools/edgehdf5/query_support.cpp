#include "query_support.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <iostream>
#include <iterator>
#include <utility>

#include "edgehdf5/error.hpp"
#include "json_io.hpp"
#include "progress.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

constexpr std::size_t kChunkPreviewWidth = 60;
// From this many rows, making the keyword index can take long enough to show that it runs.
constexpr std::size_t kLargeIndexRows = 20000;

std::string two_digits(unsigned value) {
  return std::string(1, static_cast<char>('0' + value / 10 % 10)) +
         static_cast<char>('0' + value % 10);
}

}  // namespace

SearchFilter FilterOptions::filter() const {
  SearchFilter filter;
  filter.session_id = session;
  filter.source_channel = channel;
  filter.tags = tags;
  filter.all_tags = all_tags;
  filter.after = after;
  filter.before = before;
  filter.half_life_seconds = half_life;
  return filter;
}

void add_filter_options(CLI::App& command, FilterOptions& options) {
  command.add_option("--session", options.session, "Only memories of this session id");
  command.add_option("--channel", options.channel, "Only memories from this source channel");
  command.add_option("--tags", options.tags, "Only memories carrying any of these tags")
      ->delimiter(',')
      ->option_text("a,b");
  command.add_flag("--all-tags", options.all_tags, "With --tags: require all of them");
  command.add_option("--after", options.after, "Only memories with timestamp >= T")
      ->option_text("T");
  command.add_option("--before", options.before, "Only memories with timestamp <= T")
      ->option_text("T");
  command.add_option("--half-life", options.half_life,
                     "Weight scores by recency: halve them per SECONDS of age")
      ->option_text("SECONDS");
}

SearchResults run_query(const HDF5Memory& memory, const Query& query) {
  if (query.text && memory.count() >= kLargeIndexRows) {
    // The keyword index is made at the first text query: from the file's /keyword_index in a
    // pass over its row lengths, or, without a usable group, built in a pass over every chunk.
    const Progress progress("building keyword index", 0);
    memory.keyword_index();
  }
  if (!query.vector) return memory.keyword_search(*query.text, query.k, query.filter);
  const IVFPQIndex* answering = memory.ivfpq_index_answering(query.strategy);
  if (answering != nullptr && answering->needs_retrain()) {
    std::cerr << "edgehdf5: note: the IVF-PQ index has drifted from its training data or grown "
                 "past 4x it; `edgehdf5 index build FILE` retrains it\n";
  }
  if (!query.text) {
    SearchOptions search;
    search.k = query.k;
    search.strategy = query.strategy;
    search.filter = query.filter;
    search.approximate.nprobe = query.nprobe;
    search.approximate.rerank = query.rerank;
    return memory.search(*query.vector, search);
  }
  HybridOptions hybrid;
  hybrid.k = query.k;
  hybrid.strategy = query.strategy;
  hybrid.approximate.nprobe = query.nprobe;
  hybrid.approximate.rerank = query.rerank;
  hybrid.filter = query.filter;
  hybrid.fusion = query.fusion;
  hybrid.vector_weight = query.vector_weight;
  hybrid.keyword_weight = 1.0f - query.vector_weight;
  return memory.hybrid_search(*query.vector, *query.text, hybrid);
}

std::optional<Strategy> strategy_option(const std::string& name) {
  if (name == "auto") return std::nullopt;
  return parse_strategy(name);
}

FoundMemories resolve_hits(const HDF5Memory& memory, SearchResults results) {
  FoundMemories found{{}, std::move(results.metrics)};
  found.hits.reserve(results.hits.size());
  for (const auto& match : results.hits) found.hits.push_back({match, memory.get(match.id)});
  return found;
}

nlohmann::ordered_json found_to_json(const FoundMemories& found) {
  auto hits = nlohmann::ordered_json::array();
  for (const auto& [match, entry] : found.hits) {
    hits.push_back({{"id", match.id},
                    {"score", shortest_json_number(match.score)},
                    {"chunk", entry.chunk},
                    {"session_id", entry.session_id},
                    {"source_channel", entry.source_channel},
                    {"timestamp", entry.timestamp},
                    {"tags", entry.tags}});
  }
  const SearchMetrics& metrics = found.metrics;
  return {{"hits", std::move(hits)},
          {"strategy", metrics.strategy},
          {"isa", metrics.isa},
          {"threads", metrics.threads},
          {"vectors_scanned", metrics.vectors_scanned},
          {"search_time_us", metrics.search_time_us}};
}

void print_found_table(const FoundMemories& found, std::ostream& out) {
  const SearchMetrics& metrics = found.metrics;
  out << counted(found.hits.size(), "hit", "hits") << " in "
      << fixed_decimals(metrics.search_time_us, 1) << " us (" << metrics.strategy << ", "
      << metrics.isa << ", " << counted(metrics.threads, "thread", "threads") << ", "
      << counted(metrics.vectors_scanned, "vector", "vectors") << " scanned)\n";
  if (found.hits.empty()) return;

  TextTable table({{"rank", Align::right},
                   {"id", Align::right},
                   {"score", Align::right},
                   {"date"},
                   {"channel"},
                   {"session"},
                   {"chunk"}});
  std::size_t rank = 1;
  for (const auto& [match, entry] : found.hits) {
    table.add_row({std::to_string(rank++), std::to_string(match.id), fixed_decimals(match.score, 3),
                   utc_time(entry.timestamp, true), entry.source_channel, entry.session_id,
                   one_line_preview(entry.chunk, kChunkPreviewWidth)});
  }
  table.print(out);
}

std::string fixed_decimals(double value, int decimals) {
  char text[64];
  const auto written =
      std::to_chars(std::begin(text), std::end(text), value, std::chars_format::fixed, decimals);
  return {std::begin(text), written.ptr};
}

std::string utc_time(double seconds, bool date_only) {
  using namespace std::chrono;
  // Far outside the calendar (a bogus timestamp) the number itself is the honest answer.
  if (!std::isfinite(seconds) || std::fabs(seconds) > 1e12) return fixed_decimals(seconds, 0);
  const sys_seconds time{std::chrono::seconds(static_cast<long long>(std::floor(seconds)))};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  std::string text = std::to_string(static_cast<int>(date.year())) + "-" +
                     two_digits(static_cast<unsigned>(date.month())) + "-" +
                     two_digits(static_cast<unsigned>(date.day()));
  if (date_only) return text;
  return text + " " + two_digits(static_cast<unsigned>(clock.hours().count())) + ":" +
         two_digits(static_cast<unsigned>(clock.minutes().count()));
}

}  // namespace edgehdf5::cli
