// edgehdf5 mcp FILE: the memory file as an MCP server on stdin/stdout (mcp_server.hpp).
// stdout carries protocol messages only; diagnostics go to stderr.

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "edgehdf5/embedder.hpp"
#include "embedding_support.hpp"
#include "mcp_line_reader.hpp"
#include "mcp_server.hpp"
#include "mcp_store_access.hpp"

namespace edgehdf5::cli {
namespace {

struct McpOptions {
  std::filesystem::path file;
  std::optional<std::string> embed_command;
  bool read_only = false;
  double lock_timeout_seconds = 10.0;
  std::size_t max_line_bytes = mcp::kDefaultMaxLineBytes;
};

std::chrono::milliseconds to_milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

// As the reference server creates its JSONL file: a missing FILE is created, with the
// built-in embedder (or, with --embed-cmd, one vector from CMD tells the dimension). Two
// servers started at once on a missing FILE: the second finds it made and opens it.
void create_if_missing(const McpOptions& options) {
  if (std::filesystem::exists(options.file)) return;
  if (options.read_only) {
    throw Error(ErrorCode::not_found, options.file.string() +
                                          " does not exist, and --read-only cannot create it");
  }
  MemoryConfig config;
  config.path = options.file;
  if (options.embed_command && !options.embed_command->empty()) {
    config.embedder = "external";
    const CommandEmbedder probe(*options.embed_command, config.embedder, 0);
    config.embedding_dim = probe.embed("dimension probe").size();
  } else {
    const HashEmbedder embedder;
    config.embedder = embedder.name();
    config.embedding_dim = embedder.dimension();
  }
  OpenOptions open_options;
  open_options.lock_timeout = to_milliseconds(options.lock_timeout_seconds);
  try {
    HDF5Memory::create(config, open_options).close();
    std::cerr << "edgehdf5 mcp: created " << options.file.string() << " (embedder "
              << config.embedder << ")\n";
  } catch (const Error&) {
    if (!std::filesystem::exists(options.file)) throw;
  }
}

// The embedder for the text tools, or null (with a note) when the file's model is not at hand:
// the graph tools still work then.
std::unique_ptr<TextEmbedder> server_embedder(const McpOptions& options) {
  const MemoryConfig config = open_read_only(options.file).config();
  try {
    return file_embedder(config, options.file, options.embed_command);
  } catch (const Error& error) {
    std::cerr << "edgehdf5 mcp: note: " << error.what()
              << "; save_memory and recall are refused, observations get no memory\n";
    return nullptr;
  }
}

ExitStatus run_mcp(const McpOptions& options) {
  create_if_missing(options);
  const std::unique_ptr<TextEmbedder> embedder = server_embedder(options);
  mcp::AccessSettings access;
  access.read_only = options.read_only;
  access.lock_timeout = to_milliseconds(options.lock_timeout_seconds);
  mcp::StoreAccess store(options.file, access);
  mcp::Server server(store, embedder.get(), {options.max_line_bytes, 0, 1});
  return server.run() == 0 ? kExitSuccess : kExitRuntimeError;
}

}  // namespace

Command add_mcp_command(CLI::App& app) {
  auto options = std::make_shared<McpOptions>();
  auto* command = app.add_subcommand(
      "mcp",
      "Serve FILE over the Model Context Protocol (stdio): the reference memory server's\n"
      "knowledge-graph tools plus save_memory, recall, forget, sessions and statistics.\n"
      "FILE is created when missing. Ends at end of input or SIGTERM, with everything durable");
  add_memory_file_argument(*command, options->file);
  add_embed_command_option(*command, options->embed_command);
  command->add_flag("--read-only", options->read_only,
                    "Serve the read tools only (never takes the writer lock)");
  command
      ->add_option("--lock-timeout", options->lock_timeout_seconds,
                   "Seconds a write waits for another process's writer lock before it fails")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->option_text("SECONDS");
  command
      ->add_option("--max-line-bytes", options->max_line_bytes,
                   "Longest message (one line) accepted; longer ones are refused unread")
      ->check(positive_count())
      ->capture_default_str()
      ->option_text("BYTES");
  return make_command(command, options, &run_mcp);
}

}  // namespace edgehdf5::cli
