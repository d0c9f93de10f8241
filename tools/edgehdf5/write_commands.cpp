// create, import, delete, compact: the commands that change a memory file.

#include <sys/stat.h>

#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "edgehdf5/embedder.hpp"
#include "embedding_support.hpp"
#include "json_io.hpp"
#include "progress.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

// The embedder name `create` records for --embed-cmd without --embedder.
constexpr const char* kExternalEmbedder = "external";

// Size of a regular file, for a progress bar; 0 (unknown) for pipes and errors.
std::size_t regular_file_size(const std::filesystem::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) return 0;
  return static_cast<std::size_t>(status.st_size);
}

// Closes the file (a checkpoint, which can take a while for a big file) under a spinner.
void close_with_progress(HDF5Memory& memory, const std::filesystem::path& file,
                         std::size_t rows_changed) {
  std::optional<Progress> progress;
  if (rows_changed >= 10000) progress.emplace("writing " + file.string(), 0);
  memory.close();
}

struct CreateOptions {
  MemoryConfig config;
  std::optional<std::size_t> dim;
  std::optional<std::string> embedder;
  std::optional<std::string> embed_command;
  int compression_level = 0;  // 0: no compression
  std::string tokenizer = std::string(keyword_tokenizer_name(MemoryConfig{}.keyword_tokenizer));
  bool json = false;
};

// --embedder and --dim must describe one embedder; a usage error (exit 2) when they do not.
void check_create_options(const CreateOptions& options) {
  const auto& name = options.embedder;
  if (name && name->starts_with("hash:") && !is_builtin_embedder(*name)) {
    throw CLI::ValidationError("--embedder", "'" + *name +
                                                 "' is not a built-in embedder: expected "
                                                 "hash:D with 1 <= D <= 65536");
  }
  if (name && is_builtin_embedder(*name) && options.dim &&
      *options.dim != make_embedder(*name)->dimension()) {
    throw CLI::ValidationError(
        "--dim", std::to_string(*options.dim) + " does not match --embedder " + *name);
  }
  if (name && !is_builtin_embedder(*name) && !options.dim && !options.embed_command) {
    throw CLI::ValidationError("--embedder", "'" + *name +
                                                 "' is not built in: give its --dim (or "
                                                 "--embed-cmd, to measure it)");
  }
}

// The configuration of the new file: the options, with the embedder and dimension settled.
MemoryConfig create_config(const CreateOptions& options) {
  auto config = options.config;
  config.compression = options.compression_level != 0;
  if (config.compression) config.compression_level = options.compression_level;
  const bool external = options.embed_command && !options.embed_command->empty();
  if (options.embedder) {
    config.embedder = *options.embedder;
  } else if (external) {
    config.embedder = kExternalEmbedder;
  } else if (!options.dim) {
    config.embedder = HashEmbedder().name();
  }  // else: --dim alone, vectors from elsewhere: the library's "unknown"
  config.keyword_tokenizer = *parse_keyword_tokenizer(options.tokenizer);  // checked by CLI11
  if (options.dim) {
    config.embedding_dim = *options.dim;
  } else if (is_builtin_embedder(config.embedder)) {
    config.embedding_dim = make_embedder(config.embedder)->dimension();
  } else {
    // Ask the command for one vector to learn its dimension.
    const CommandEmbedder probe(*options.embed_command, config.embedder, 0);
    config.embedding_dim = probe.embed("dimension probe").size();
  }
  return config;
}

ExitStatus run_create(const CreateOptions& options) {
  const MemoryConfig config = create_config(options);
  auto memory = HDF5Memory::create(config, writer_open_options());
  memory.close();
  const char* dtype = config.float16 ? "float16" : "float32";
  print_outcome(options.json,
                {{"path", config.path.string()},
                 {"embedding_dim", config.embedding_dim},
                 {"dtype", dtype},
                 {"embedder", config.embedder},
                 {"keyword_tokenizer", keyword_tokenizer_name(config.keyword_tokenizer)},
                 {"compression", config.compression}},
                "created " + config.path.string() + " (dim " +
                    std::to_string(config.embedding_dim) + ", " + dtype + ", embedder " +
                    config.embedder + ", keyword tokenizer " +
                    std::string(keyword_tokenizer_name(config.keyword_tokenizer)) + ")");
  return kExitSuccess;
}

struct ImportOptions {
  std::filesystem::path file;
  std::filesystem::path input;
  bool embed = false;
  std::optional<std::string> embed_command;
  bool json = false;
};

// The entries of the JSON-lines input ('-': standard input), under a progress bar.
JsonLines read_import_input(const ImportOptions& options, const EmbeddingRules& rules,
                            const std::string& source_name) {
  const bool from_stdin = options.input == "-";
  std::ifstream file_input;
  if (!from_stdin) file_input = open_input_file(options.input);
  std::istream& input = from_stdin ? std::cin : file_input;
  const std::size_t size = from_stdin ? 0 : regular_file_size(options.input);
  Progress progress("reading " + source_name, size);
  return entries_from_jsonl(input, source_name, rules, seconds_since_epoch(),
                            [&](std::size_t bytes) { progress.update(bytes); });
}

// Embeds the entries that came without an embedding; returns how many and the embedder used.
std::pair<std::size_t, std::string> embed_missing(JsonLines& lines, const MemoryConfig& config,
                                                  const ImportOptions& options,
                                                  const std::string& source_name) {
  auto& entries = lines.entries;
  std::vector<std::size_t> to_embed;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].embedding.empty()) to_embed.push_back(i);
  }
  if (to_embed.empty()) return {0, {}};
  std::unique_ptr<TextEmbedder> embedder;
  try {
    embedder = file_embedder(config, options.file, options.embed_command);
  } catch (const Error& error) {
    throw Error(error.code(), source_name + ":" +
                                  std::to_string(lines.line_numbers[to_embed[0]]) +
                                  ": no \"embedding\" on this line, and " + error.what());
  }
  std::vector<std::string> texts;
  texts.reserve(to_embed.size());
  for (const std::size_t i : to_embed) texts.push_back(entries[i].chunk);
  auto vectors = embed_texts(*embedder, texts, "embedding");
  for (std::size_t j = 0; j < to_embed.size(); ++j) {
    entries[to_embed[j]].embedding = std::move(vectors[j]);
  }
  return {to_embed.size(), embedder->name()};
}

void print_import_outcome(const ImportOptions& options, std::size_t imported,
                          std::size_t embedded, const std::string& embedder_name,
                          const std::vector<MemoryId>& ids) {
  if (options.json) {
    nlohmann::ordered_json result = {{"imported", imported}, {"embedded", embedded}};
    const nlohmann::ordered_json null(nullptr);
    result["embedder"] = embedder_name.empty() ? null : nlohmann::ordered_json(embedder_name);
    result["first_id"] = ids.empty() ? null : nlohmann::ordered_json(ids.front());
    result["last_id"] = ids.empty() ? null : nlohmann::ordered_json(ids.back());
    std::cout << json_line(result) << '\n';
    return;
  }
  std::cout << "imported " << counted(imported, "memory", "memories");
  if (embedded != 0) std::cout << " (" << embedded << " embedded with " << embedder_name << ")";
  std::cout << '\n';
}

ExitStatus run_import(const ImportOptions& options) {
  auto memory = open_for_writing(options.file);
  const MemoryConfig& config = memory.config();
  const std::string source_name = options.input == "-" ? "<stdin>" : options.input.string();
  const EmbeddingRules rules{
      .embedding_dim = config.embedding_dim,
      .float16 = config.float16,
      .field = options.embed ? EmbeddingField::ignored : EmbeddingField::optional};
  JsonLines lines = read_import_input(options, rules, source_name);
  // Lines without an embedding get one from the file's embedder.
  const auto [embedded, embedder_name] = embed_missing(lines, config, options, source_name);
  const auto& entries = lines.entries;
  std::vector<MemoryId> ids;
  // One batch: the library stores all entries or none, also across a crash.
  if (!entries.empty()) {
    std::optional<Progress> progress;
    if (entries.size() >= 10000) progress.emplace("saving", 0);
    ids = memory.save_batch(entries);
  }
  close_with_progress(memory, options.file, entries.size());
  print_import_outcome(options, entries.size(), embedded, embedder_name, ids);
  return kExitSuccess;
}

struct DeleteOptions {
  std::filesystem::path file;
  std::vector<MemoryId> ids;
  bool json = false;
};

ExitStatus run_delete(const DeleteOptions& options) {
  auto memory = open_for_writing(options.file);
  // Check every id first so that a typo in the list deletes nothing.
  const std::set<MemoryId> ids(options.ids.begin(), options.ids.end());
  const auto& columns = memory.columns();
  for (const MemoryId id : ids) {
    const auto row = columns.row_of(id);
    if (row < 0 || columns.tombstones[static_cast<std::size_t>(row)] != 0) {
      throw Error(ErrorCode::not_found, "no memory with id " + std::to_string(id) +
                                            " (already deleted or never saved); "
                                            "nothing was deleted");
    }
  }
  for (const MemoryId id : ids) memory.remove(id);
  memory.close();
  print_outcome(options.json, {{"deleted", ids}},
                "deleted " + counted(ids.size(), "memory", "memories"));
  return kExitSuccess;
}

ExitStatus run_compact(const FileOptions& options) {
  auto memory = open_for_writing(options.file);
  std::size_t dropped = 0;
  std::size_t rows = 0;
  {
    std::optional<Progress> progress;
    if (memory.count() >= 10000) progress.emplace("compacting " + options.file.string(), 0);
    dropped = memory.compact();
    rows = memory.count();
    memory.close();
  }
  print_outcome(options.json, {{"dropped", dropped}, {"rows", rows}},
                "compacted: dropped " + counted(dropped, "deleted row", "deleted rows"));
  return kExitSuccess;
}

}  // namespace

Command add_create_command(CLI::App& app) {
  auto options = std::make_shared<CreateOptions>();
  auto* command = app.add_subcommand(
      "create",
      "Create a new, empty memory file. Without --dim and --embedder it is made for the\n"
      "built-in text embedder (hash:384), so `add --text` and `recall` work at once");
  command->add_option("FILE", options->config.path, "Memory file to create")->required();
  command
      ->add_option("--dim", options->dim,
                   "Embedding dimension (default: the embedder's; 384 for hash:384)")
      ->check(positive_count());
  command
      ->add_option("--embedder", options->embedder,
                   "Name of the embedding model, recorded in the file. hash:D is the built-in\n"
                   "one (default hash:384); another name needs --dim or --embed-cmd")
      ->option_text("NAME");
  add_embed_command_option(*command, options->embed_command);
  command->add_option("--agent-id", options->config.agent_id, "Agent the memories belong to")
      ->capture_default_str();
  command->add_flag("--float16", options->config.float16,
                    "Store embeddings as IEEE half floats (half the size)");
  command
      ->add_option("--compression", options->compression_level,
                   "Deflate the memory datasets at this LEVEL (1-9)")
      ->option_text("LEVEL")
      ->check(CLI::Range(1, 9));
  command
      ->add_option("--tokenizer", options->tokenizer,
                   "How keyword search splits text: porter (Porter stems, so 'renovating'\n"
                   "finds 'renovation') or unicode61 (words as written)")
      ->check(CLI::IsMember({"porter", "unicode61"}))
      ->capture_default_str()
      ->option_text("NAME");
  command->add_flag("--json", options->json, "Print one JSON object describing the new file");
  command->callback([options] { check_create_options(*options); });
  add_lock_timeout_option(*command);
  return make_command(command, options, &run_create);
}

Command add_import_command(CLI::App& app) {
  auto options = std::make_shared<ImportOptions>();
  auto* command = app.add_subcommand(
      "import",
      "Import memories from JSON lines, all or nothing.\n"
      "Each line: {\"chunk\": \"...\", \"embedding\": [...], \"source_channel\": \"chat\",\n"
      "\"timestamp\": 1718000000.0, \"session_id\": \"s1\", \"tags\": \"a,b\" or [\"a\", \"b\"]}.\n"
      "chunk is required. A line without \"embedding\" is embedded by the file's embedder\n"
      "(--embed: every line is, ignoring the embeddings given). Blank lines are skipped.\n"
      "If any line is bad, nothing is saved and the error names the line.");
  add_memory_file_argument(*command, options->file);
  command->add_option("INPUT", options->input, "JSON-lines file to read ('-': standard input)")
      ->required();
  command->add_flag("--embed", options->embed,
                    "Embed every chunk with the file's embedder, ignoring given embeddings");
  add_embed_command_option(*command, options->embed_command);
  add_json_flag(*command, options->json, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, options, &run_import);
}

Command add_delete_command(CLI::App& app) {
  auto options = std::make_shared<DeleteOptions>();
  auto* command = app.add_subcommand(
      "delete", "Delete memories by id (tombstones them; `compact` reclaims the space)");
  add_memory_file_argument(*command, options->file);
  command->add_option("ID", options->ids, "Ids of the memories to delete")->required();
  add_json_flag(*command, options->json, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, options, &run_delete);
}

Command add_compact_command(CLI::App& app) {
  auto options = std::make_shared<FileOptions>();
  auto* command = app.add_subcommand(
      "compact", "Drop deleted rows from the file (ids stay valid) and print how many");
  add_file_options(*command, *options, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, options, &run_compact);
}

}  // namespace edgehdf5::cli
