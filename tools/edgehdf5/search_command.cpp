// search: exact cosine top-k of a query embedding, BM25 keyword search of a query text, or
// both fused (--hybrid), with filters inside the scan, as a table or as JSON. The engine
// picks the vector backend (or --strategy forces one) and reports what ran.

#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "json_io.hpp"
#include "query_support.hpp"

namespace edgehdf5::cli {
namespace {

struct Options {
  std::filesystem::path file;
  std::string vector;
  std::filesystem::path vector_file;
  std::size_t k = 10;
  bool json = false;
  std::string strategy = "auto";
  std::size_t nprobe = ApproximateSearch{}.nprobe;
  std::size_t rerank = ApproximateSearch{}.rerank;
  FilterOptions filters;
  std::optional<std::string> text;
  bool hybrid = false;
  std::string fusion = "weighted";
  float vector_weight = 0.7f;

  bool has_vector() const { return !vector.empty() || !vector_file.empty(); }
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

// Runs the search the options ask for: vector, keyword, or hybrid.
SearchResults find(const HDF5Memory& memory, const Options& options) {
  Query query;
  if (options.has_vector()) {
    // The query is compared, not stored, so it need not fit a float16 file's range.
    query.vector = query_vector(options, EmbeddingRules{memory.config().embedding_dim, false});
  }
  if (!options.has_vector() || options.hybrid) query.text = options.text;
  query.k = options.k;
  query.strategy = strategy_option(options.strategy);
  query.nprobe = options.nprobe;
  query.rerank = options.rerank;
  query.filter = options.filters.filter();
  query.fusion = options.fusion == "rrf" ? Fusion::rrf : Fusion::weighted;
  query.vector_weight = options.vector_weight;
  return run_query(memory, query);
}

// Which query the user gave must add up to one search; say so as a usage error (exit 2).
void check_search_options(const Options& options, const CLI::Option& nprobe,
                          const CLI::Option& rerank) {
  if (!options.has_vector() && !options.text) {
    throw CLI::ValidationError("search", "give a query: --vector, --vector-file or --text");
  }
  if (options.has_vector() && options.text && !options.hybrid) {
    throw CLI::ValidationError("search", "--vector and --text together need --hybrid");
  }
  if (options.hybrid && !options.has_vector()) {
    throw CLI::ValidationError("search", "--hybrid needs --vector or --vector-file too");
  }
  const bool approximate = options.strategy == "auto" || options.strategy == "ivfpq";
  const bool tuned = nprobe.count() > 0 || rerank.count() > 0;
  if (tuned && !approximate) {
    throw CLI::ValidationError("search", "--nprobe and --rerank apply to --strategy ivfpq (or "
                                         "auto), not to --strategy " + options.strategy);
  }
  if (tuned && !options.has_vector()) {
    throw CLI::ValidationError("search", "--nprobe and --rerank need a vector query");
  }
}

// --vector, --vector-file, --text, --hybrid and how hybrid fuses.
void add_query_options(CLI::App& command, Options& options) {
  auto* vector = command
                     .add_option("--vector", options.vector,
                                 "Query embedding: JSON array of embedding_dim numbers")
                     ->option_text("'[...]'");
  command.add_option("--vector-file", options.vector_file, "File holding such a JSON array")
      ->option_text("F")
      ->excludes(vector);
  auto* text =
      command.add_option("--text", options.text, "Keyword query (BM25)")->option_text("'...'");
  auto* hybrid = command
                     .add_flag("--hybrid", options.hybrid,
                               "Fuse vector and keyword results (needs --vector and --text)")
                     ->needs(text);
  command.add_option("--fusion", options.fusion, "With --hybrid: weighted or rrf")
      ->check(CLI::IsMember({"weighted", "rrf"}))
      ->capture_default_str()
      ->needs(hybrid);
  command
      .add_option("--vector-weight", options.vector_weight,
                  "With --hybrid and weighted fusion: weight of the vector side (the keyword "
                  "side gets 1 - W)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str()
      ->option_text("W")
      ->needs(hybrid);
}

// --strategy, and the IVF-PQ knobs --nprobe and --rerank (checked by check_search_options).
void add_backend_options(CLI::App& command, const std::shared_ptr<Options>& options) {
  command
      .add_option("--strategy", options->strategy,
                  "Backend: auto, scalar, simd, blas, parallel, ivfpq (needs `edgehdf5 index\n"
                  "build`; auto uses it on large stores), gpu (not built)")
      ->capture_default_str();
  auto* nprobe = command
                     .add_option("--nprobe", options->nprobe,
                                 "IVF-PQ: inverted lists scanned per query (more: higher recall)")
                     ->check(positive_count())
                     ->capture_default_str()
                     ->option_text("N");
  auto* rerank = command
                     .add_option("--rerank", options->rerank,
                                 "IVF-PQ: approximate candidates re-scored exactly (0: none)")
                     ->capture_default_str()
                     ->option_text("R");
  command.callback([options, nprobe, rerank] { check_search_options(*options, *nprobe, *rerank); });
}

ExitStatus run_search(const Options& options) {
  const auto memory = open_read_only(options.file);
  const auto found = resolve_hits(memory, find(memory, options));
  if (options.json) {
    std::cout << json_line(found_to_json(found)) << '\n';
  } else {
    print_found_table(found, std::cout);
  }
  return kExitSuccess;
}

}  // namespace

Command add_search_command(CLI::App& app) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "search",
      "Find memories by embedding (cosine similarity: exact, or the IVF-PQ index), by\n"
      "keywords (BM25), or both (--hybrid with --vector and --text)");
  add_memory_file_argument(*command, options->file);
  add_query_options(*command, *options);
  add_backend_options(*command, options);
  command->add_option("--k", options->k, "Number of hits to return")
      ->capture_default_str()
      ->check(positive_count());
  add_json_flag(*command, options->json, "a table");
  add_filter_options(*command, options->filters);
  return make_command(command, options, &run_search);
}

}  // namespace edgehdf5::cli
