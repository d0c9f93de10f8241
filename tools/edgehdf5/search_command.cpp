// search: exact cosine top-k of a query embedding, BM25 keyword search of a query text, or
// both fused (--hybrid), with filters inside the scan, as a table or as JSON. The engine
// picks the vector backend (or --strategy forces one) and reports what ran.

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
  std::optional<std::string> text;
  bool hybrid = false;
  std::string fusion = "weighted";
  float vector_weight = 0.7f;

  bool has_vector() const { return !vector.empty() || !vector_file.empty(); }
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

SearchFilter search_filter(const Options& options) {
  SearchFilter filter;
  filter.session_id = options.session;
  filter.source_channel = options.channel;
  filter.tags = options.tags;
  filter.all_tags = options.all_tags;
  filter.after = options.after;
  filter.before = options.before;
  filter.half_life_seconds = options.half_life;
  return filter;
}

std::optional<Strategy> chosen_strategy(const Options& options) {
  if (options.strategy == "auto") return std::nullopt;
  return parse_strategy(options.strategy);
}

// Runs the search the options ask for: vector, keyword, or hybrid.
SearchResults find(const HDF5Memory& memory, const Options& options) {
  const MemoryCache& cache = memory.cache();
  if (!options.has_vector()) {
    return keyword_search(*options.text, cache, memory.keyword_index(), options.k,
                          search_filter(options));
  }
  // The query is compared, not stored, so it need not fit a float16 file's range.
  const EmbeddingRules rules{memory.config().embedding_dim, false};
  const std::vector<float> query = query_vector(options, rules);
  if (!options.hybrid) {
    SearchOptions search;
    search.k = options.k;
    search.strategy = chosen_strategy(options);
    search.filter = search_filter(options);
    return search_with_metrics(query, cache, search);
  }
  HybridOptions hybrid;
  hybrid.k = options.k;
  hybrid.strategy = chosen_strategy(options);
  hybrid.filter = search_filter(options);
  hybrid.fusion = options.fusion == "rrf" ? Fusion::rrf : Fusion::weighted;
  hybrid.vector_weight = options.vector_weight;
  hybrid.keyword_weight = 1.0f - options.vector_weight;
  return hybrid_search(query, *options.text, cache, memory.keyword_index(), hybrid);
}

SearchResult run_search(const HDF5Memory& memory, const Options& options) {
  SearchResults found = find(memory, options);
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
      "search",
      "Find memories by embedding (exact cosine similarity), by keywords (BM25), or both\n"
      "(--hybrid with --vector and --text)");
  add_memory_file_argument(*command, options->file);
  auto* vector = command->add_option("--vector", options->vector, "Query embedding: JSON array of embedding_dim numbers")
      ->option_text("'[...]'");
  command->add_option("--vector-file", options->vector_file, "File holding such a JSON array")
      ->option_text("F")
      ->excludes(vector);
  auto* text = command->add_option("--text", options->text, "Keyword query (BM25)")->option_text("'...'");
  auto* hybrid = command->add_flag("--hybrid", options->hybrid,
                                   "Fuse vector and keyword results (needs --vector and --text)")
                     ->needs(text);
  command->add_option("--fusion", options->fusion, "With --hybrid: weighted or rrf")
      ->check(CLI::IsMember({"weighted", "rrf"}))
      ->capture_default_str()
      ->needs(hybrid);
  command->add_option("--vector-weight", options->vector_weight,
                      "With --hybrid and weighted fusion: weight of the vector side (the keyword "
                      "side gets 1 - W)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str()
      ->option_text("W")
      ->needs(hybrid);
  // Which query the user gave must add up to one search; say so as a usage error.
  command->callback([options] {
    if (!options->has_vector() && !options->text) {
      throw CLI::ValidationError("search", "give a query: --vector, --vector-file or --text");
    }
    if (options->has_vector() && options->text && !options->hybrid) {
      throw CLI::ValidationError("search", "--vector and --text together need --hybrid");
    }
    if (options->hybrid && !options->has_vector()) {
      throw CLI::ValidationError("search", "--hybrid needs --vector or --vector-file too");
    }
  });
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
            const auto result = run_search(memory, *options);
            if (options->json) {
              std::cout << json_line(result_to_json(result)) << '\n';
            } else {
              print_table(result, std::cout);
            }
            return kExitSuccess;
          }};
}

}  // namespace edgehdf5::cli
