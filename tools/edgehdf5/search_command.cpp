// search: exact cosine top-k of a query embedding, with filters inside the scan, as a table
// or as JSON. The engine picks the backend (or --strategy forces one) and reports it.

#include <charconv>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "json_io.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

constexpr std::size_t kChunkPreviewWidth = 60;

struct Options {
  std::filesystem::path file;
  std::string vector;
  std::filesystem::path vector_file;
  std::size_t k = 10;
  bool json = false;
  std::string strategy = "auto";
  std::optional<std::string> session;
  std::optional<std::string> channel;
  std::vector<std::string> tags;
  bool all_tags = false;
  std::optional<double> after;
  std::optional<double> before;
  std::optional<double> half_life;
};

struct Hit {
  SearchHit match;
  MemoryEntry entry;
};

struct SearchResult {
  std::vector<Hit> hits;
  SearchMetrics metrics;
};

std::string read_text_file(const std::filesystem::path& path) {
  std::ostringstream text;
  text << open_input_file(path).rdbuf();
  return text.str();
}

std::vector<float> query_vector(const Options& options, const EmbeddingRules& rules) {
  const bool from_file = !options.vector_file.empty();
  const auto source =
      from_file ? "--vector-file " + options.vector_file.string() : std::string("--vector");
  nlohmann::json array;
  try {
    array = nlohmann::json::parse(from_file ? read_text_file(options.vector_file) : options.vector);
  } catch (const nlohmann::json::exception& error) {
    throw Error(ErrorCode::invalid_argument,
                source + " is not valid JSON: " + json_error_message(error));
  }
  return embedding_from_json(array, rules, "query vector");
}

SearchOptions search_options(const Options& options) {
  SearchOptions search;
  search.k = options.k;
  if (options.strategy != "auto") search.strategy = parse_strategy(options.strategy);
  SearchFilter& filter = search.filter;
  filter.session_id = options.session;
  filter.source_channel = options.channel;
  filter.tags = options.tags;
  filter.all_tags = options.all_tags;
  filter.after = options.after;
  filter.before = options.before;
  filter.half_life_seconds = options.half_life;
  return search;
}

SearchResult run_search(const HDF5Memory& memory, const std::vector<float>& query,
                        const SearchOptions& options) {
  SearchResults found = search_with_metrics(query, memory.cache(), options);
  SearchResult result{{}, std::move(found.metrics)};
  result.hits.reserve(found.hits.size());
  for (const auto& match : found.hits) result.hits.push_back({match, memory.get(match.id)});
  return result;
}

nlohmann::ordered_json result_to_json(const SearchResult& result) {
  auto hits = nlohmann::ordered_json::array();
  for (const auto& [match, entry] : result.hits) {
    hits.push_back({{"id", match.id},
                    {"score", shortest_json_number(match.score)},
                    {"chunk", entry.chunk},
                    {"session_id", entry.session_id},
                    {"source_channel", entry.source_channel},
                    {"timestamp", entry.timestamp},
                    {"tags", entry.tags}});
  }
  const SearchMetrics& metrics = result.metrics;
  return {{"hits", std::move(hits)},
          {"strategy", metrics.strategy},
          {"isa", metrics.isa},
          {"threads", metrics.threads},
          {"vectors_scanned", metrics.vectors_scanned},
          {"search_time_us", metrics.search_time_us}};
}

std::string fixed_decimals(double value, int decimals) {
  char text[64];
  const auto written =
      std::to_chars(std::begin(text), std::end(text), value, std::chars_format::fixed, decimals);
  return {std::begin(text), written.ptr};
}

void print_table(const SearchResult& result, std::ostream& out) {
  const SearchMetrics& metrics = result.metrics;
  out << counted(result.hits.size(), "hit", "hits") << " in "
      << fixed_decimals(metrics.search_time_us, 1) << " us (" << metrics.strategy << ", "
      << metrics.isa << ", " << counted(metrics.threads, "thread", "threads") << ", "
      << counted(metrics.vectors_scanned, "vector", "vectors") << " scanned)\n";
  if (result.hits.empty()) return;

  TextTable table({{"rank", Align::right},
                   {"id", Align::right},
                   {"score", Align::right},
                   {"channel"},
                   {"session"},
                   {"chunk"}});
  std::size_t rank = 1;
  for (const auto& [match, entry] : result.hits) {
    table.add_row({std::to_string(rank++), std::to_string(match.id), fixed_decimals(match.score, 3),
                   entry.source_channel, entry.session_id,
                   one_line_preview(entry.chunk, kChunkPreviewWidth)});
  }
  table.print(out);
}

}  // namespace

Command add_search_command(CLI::App& app) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "search", "Find the memories nearest to a query embedding (exact cosine similarity)");
  add_memory_file_argument(*command, options->file);
  auto* query = command->add_option_group("query", "The query embedding: give exactly one");
  query->add_option("--vector", options->vector, "JSON array of embedding_dim numbers")
      ->option_text("'[...]'");
  query->add_option("--vector-file", options->vector_file, "File holding such a JSON array")
      ->option_text("F");
  query->require_option(1);
  command->add_option("--k", options->k, "Number of hits to return")
      ->capture_default_str()
      ->check(positive_count());
  command->add_flag("--json", options->json, "Print one JSON object instead of a table");
  command->add_option("--strategy", options->strategy,
                      "Backend: auto, scalar, simd, blas, parallel (ivfpq, gpu: not built)")
      ->capture_default_str();
  command->add_option("--session", options->session, "Only memories of this session id");
  command->add_option("--channel", options->channel, "Only memories from this source channel");
  command->add_option("--tags", options->tags, "Only memories carrying any of these tags")
      ->delimiter(',')
      ->option_text("a,b");
  command->add_flag("--all-tags", options->all_tags, "With --tags: require all of them");
  command->add_option("--after", options->after, "Only memories with timestamp >= T")
      ->option_text("T");
  command->add_option("--before", options->before, "Only memories with timestamp <= T")
      ->option_text("T");
  command->add_option("--half-life", options->half_life,
                      "Weight scores by recency: halve them per SECONDS of age")
      ->option_text("SECONDS");

  return {command, [options] {
            const auto memory = open_read_only(options->file);
            // The query is compared, not stored, so it need not fit a float16 file's range.
            const EmbeddingRules rules{memory.config().embedding_dim, false};
            const auto result =
                run_search(memory, query_vector(*options, rules), search_options(*options));
            if (options->json) {
              std::cout << json_line(result_to_json(result)) << '\n';
            } else {
              print_table(result, std::cout);
            }
            return kExitSuccess;
          }};
}

}  // namespace edgehdf5::cli
