// add and recall: the commands that take plain text and embed it with the file's embedder
// (the built-in hash:D, or --embed-cmd), so a user never handles a vector.

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "edgehdf5/embedder.hpp"
#include "embedding_support.hpp"
#include "json_io.hpp"
#include "query_support.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

bool is_blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Tags as stored: comma-separated, without empty ones.
std::string joined_tags(const std::vector<std::string>& tags) {
  std::string joined;
  for (const auto& tag : tags) {
    if (tag.empty()) continue;
    if (!joined.empty()) joined += ',';
    joined += tag;
  }
  return joined;
}

struct AddOptions {
  std::filesystem::path file;
  std::vector<std::string> texts;
  bool from_stdin = false;
  std::string session;
  std::string channel;
  std::vector<std::string> tags;
  std::optional<double> timestamp;
  std::optional<std::string> embed_command;
  bool json = false;
};

// Text to remember must be given, and not blank: a usage error (exit 2) otherwise.
void check_add_options(const AddOptions& options) {
  if (options.texts.empty() && !options.from_stdin) {
    throw CLI::ValidationError("add", "give the text to remember: --text '...' or --stdin");
  }
  for (const auto& text : options.texts) {
    if (is_blank(text)) throw CLI::ValidationError("--text", "the text is empty");
  }
}

// The --text values, then (with --stdin) every non-blank line of standard input.
std::vector<std::string> texts_to_add(const AddOptions& options) {
  std::vector<std::string> texts = options.texts;
  if (!options.from_stdin) return texts;
  for (std::string line; std::getline(std::cin, line);) {
    if (!is_blank(line)) texts.push_back(line);
  }
  if (std::cin.bad()) throw Error(ErrorCode::io, "cannot read standard input");
  if (texts.empty()) throw Error(ErrorCode::invalid_argument, "no text on standard input");
  return texts;
}

ExitStatus run_add(const AddOptions& options) {
  const std::vector<std::string> texts = texts_to_add(options);
  auto memory = open_for_writing(options.file);
  const auto embedder = file_embedder(memory.config(), options.file, options.embed_command);
  auto vectors = embed_texts(*embedder, texts, "embedding");
  const double timestamp = options.timestamp.value_or(seconds_since_epoch());
  std::vector<MemoryEntry> entries;
  entries.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    entries.push_back({.chunk = texts[i],
                       .embedding = std::move(vectors[i]),
                       .source_channel = options.channel,
                       .timestamp = timestamp,
                       .session_id = options.session,
                       .tags = joined_tags(options.tags)});
  }
  const auto ids = memory.save_batch(entries);
  memory.close();
  if (options.json) {
    std::cout << json_line({{"ids", ids}, {"embedder", embedder->name()}}) << '\n';
  } else if (ids.size() == 1) {
    std::cout << "added memory " << ids.front() << '\n';
  } else {
    std::cout << "added " << counted(ids.size(), "memory", "memories") << " (ids " << ids.front()
              << "-" << ids.back() << ")\n";
  }
  return kExitSuccess;
}

struct RecallOptions {
  std::filesystem::path file;
  std::string question;
  std::size_t k = 5;
  bool json = false;
  std::string fusion = "weighted";
  // The library's default; README.md ("The built-in embedder") has the measurements.
  float vector_weight = 0.7f;
  bool vector_only = false;
  bool keyword_only = false;
  std::string strategy = "auto";
  FilterOptions filters;
  std::optional<std::string> embed_command;
};

// Declares how recall ranks: --k, --vector-only / --keyword-only, fusion, strategy.
void add_ranking_options(CLI::App& command, RecallOptions& options) {
  command.add_option("-k,--k", options.k, "Number of memories to return")
      ->capture_default_str()
      ->check(positive_count());
  auto* vector_only =
      command.add_flag("--vector-only", options.vector_only, "Rank by embedding similarity alone");
  command
      .add_flag("--keyword-only", options.keyword_only, "Rank by BM25 alone (no embedder needed)")
      ->excludes(vector_only);
  command.add_option("--fusion", options.fusion, "How to fuse the rankings: weighted or rrf")
      ->check(CLI::IsMember({"weighted", "rrf"}))
      ->capture_default_str();
  command
      .add_option("--vector-weight", options.vector_weight,
                  "Weighted fusion: weight of the embedding side (BM25 gets 1 - W)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str()
      ->option_text("W");
  command
      .add_option("--strategy", options.strategy,
                  "Vector backend: auto, scalar, simd, blas, parallel")
      ->capture_default_str();
}

ExitStatus run_recall(const RecallOptions& options) {
  if (tokenize(options.question).empty()) {
    throw Error(ErrorCode::invalid_argument,
                "the question has no words to search for: '" + options.question + "'");
  }
  const auto memory = open_read_only(options.file);
  Query query;
  std::string embedder_name;
  if (!options.keyword_only) {
    const auto embedder = file_embedder(memory.config(), options.file, options.embed_command);
    embedder_name = embedder->name();
    query.vector = embedder->embed(options.question);
  }
  if (!options.vector_only) query.text = options.question;
  query.k = options.k;
  query.strategy = strategy_option(options.strategy);
  query.filter = options.filters.filter();
  query.fusion = options.fusion == "rrf" ? Fusion::rrf : Fusion::weighted;
  query.vector_weight = options.vector_weight;
  const auto found = resolve_hits(memory, run_query(memory, query));
  if (options.json) {
    auto result = found_to_json(found);
    result["question"] = options.question;
    result["embedder"] = embedder_name.empty() ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(embedder_name);
    std::cout << json_line(result) << '\n';
  } else {
    print_found_table(found, std::cout);
  }
  return kExitSuccess;
}

}  // namespace

Command add_add_command(CLI::App& app) {
  auto options = std::make_shared<AddOptions>();
  auto* command = app.add_subcommand(
      "add",
      "Remember text: embed it with the file's embedder and save it as one memory per\n"
      "--text (or per line of standard input with --stdin), all or nothing");
  add_memory_file_argument(*command, options->file);
  auto* text = command->add_option("--text", options->texts, "Text to remember (repeatable)")
                   ->option_text("'...'");
  command->add_flag("--stdin", options->from_stdin,
                    "Read the texts from standard input, one memory per non-blank line")
      ->excludes(text);
  command->add_option("--session", options->session, "Session id of the new memories");
  command->add_option("--channel", options->channel, "Source channel (chat, email, ...)");
  command->add_option("--tags", options->tags, "Tags of the new memories")
      ->delimiter(',')
      ->option_text("a,b");
  command->add_option("--timestamp", options->timestamp, "Seconds since the epoch (default: now)")
      ->option_text("T");
  add_embed_command_option(*command, options->embed_command);
  command->add_flag("--json", options->json, "Print the new ids as JSON");
  command->callback([options] { check_add_options(*options); });
  add_lock_timeout_option(*command);
  return make_command(command, options, &run_add);
}

Command add_recall_command(CLI::App& app) {
  auto options = std::make_shared<RecallOptions>();
  auto* command = app.add_subcommand(
      "recall",
      "Find the memories that answer a question: the question is embedded by the file's\n"
      "embedder and searched by meaning and by keywords (BM25) at once, the two rankings\n"
      "fused (hybrid search). Filters as for search");
  add_memory_file_argument(*command, options->file);
  command->add_option("QUESTION", options->question, "What to recall, in plain words")
      ->required();
  add_ranking_options(*command, *options);
  add_filter_options(*command, options->filters);
  add_embed_command_option(*command, options->embed_command);
  add_json_flag(*command, options->json, "a table");
  return make_command(command, options, &run_recall);
}

}  // namespace edgehdf5::cli
