// create, import, delete, compact: the commands that change a memory file.

#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "json_io.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

double seconds_since_epoch() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

Command add_create_command(CLI::App& app) {
  struct Options {
    MemoryConfig config;
    int compression_level = 0;  // 0: no compression
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand("create", "Create a new, empty memory file");
  command->add_option("FILE", options->config.path, "Memory file to create")->required();
  command->add_option("--dim", options->config.embedding_dim, "Embedding dimension")
      ->required()
      ->check(positive_count());
  command->add_option("--agent-id", options->config.agent_id, "Agent the memories belong to")
      ->capture_default_str();
  command->add_option("--embedder", options->config.embedder, "Name of the embedding model")
      ->capture_default_str();
  command->add_flag("--float16", options->config.float16,
                    "Store embeddings as IEEE half floats (half the size)");
  command
      ->add_option("--compression", options->compression_level,
                   "Deflate the memory datasets at this LEVEL (1-9)")
      ->option_text("LEVEL")
      ->check(CLI::Range(1, 9));

  return {command, [options] {
            auto config = options->config;
            config.compression = options->compression_level != 0;
            if (config.compression) config.compression_level = options->compression_level;
            auto memory = HDF5Memory::create(config);
            memory.close();
            std::cout << "created " << config.path.string() << " (dim " << config.embedding_dim
                      << ", " << (config.float16 ? "float16" : "float32") << ")\n";
            return kExitSuccess;
          }};
}

Command add_import_command(CLI::App& app) {
  struct Options {
    std::filesystem::path file;
    std::filesystem::path input;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "import",
      "Import memories from JSON lines, all or nothing.\n"
      "Each line: {\"chunk\": \"...\", \"embedding\": [...], \"source_channel\": \"chat\",\n"
      "\"timestamp\": 1718000000.0, \"session_id\": \"s1\", \"tags\": \"a,b\" or [\"a\", \"b\"]}.\n"
      "chunk and embedding are required; blank lines are skipped. If any line is bad,\n"
      "nothing is saved and the error names the line.");
  add_memory_file_argument(*command, options->file);
  command->add_option("INPUT", options->input, "JSON-lines file to read")->required();

  return {command, [options] {
            auto memory = HDF5Memory::open(options->file);
            auto input = open_input_file(options->input);
            const EmbeddingRules rules{memory.config().embedding_dim, memory.config().float16};
            const auto entries =
                entries_from_jsonl(input, options->input.string(), rules, seconds_since_epoch());
            // One batch: the library stores all entries or none, also across a crash.
            if (!entries.empty()) memory.save_batch(entries);
            memory.close();
            std::cout << "imported " << counted(entries.size(), "memory", "memories") << '\n';
            return kExitSuccess;
          }};
}

Command add_delete_command(CLI::App& app) {
  struct Options {
    std::filesystem::path file;
    std::vector<MemoryId> ids;
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "delete", "Delete memories by id (tombstones them; `compact` reclaims the space)");
  add_memory_file_argument(*command, options->file);
  command->add_option("ID", options->ids, "Ids of the memories to delete")->required();

  return {command, [options] {
            auto memory = HDF5Memory::open(options->file);
            // Check every id first so that a typo in the list deletes nothing.
            const std::set<MemoryId> ids(options->ids.begin(), options->ids.end());
            const auto& cache = memory.cache();
            for (const MemoryId id : ids) {
              const auto row = cache.row_of(id);
              if (row < 0 || cache.tombstones[static_cast<std::size_t>(row)] != 0) {
                throw Error(ErrorCode::not_found, "no memory with id " + std::to_string(id) +
                                                      " (already deleted or never saved); "
                                                      "nothing was deleted");
              }
            }
            for (const MemoryId id : ids) memory.remove(id);
            memory.close();
            std::cout << "deleted " << counted(ids.size(), "memory", "memories") << '\n';
            return kExitSuccess;
          }};
}

Command add_compact_command(CLI::App& app) {
  auto file = std::make_shared<std::filesystem::path>();
  auto* command = app.add_subcommand(
      "compact", "Drop deleted rows from the file (ids stay valid) and print how many");
  add_memory_file_argument(*command, *file);

  return {command, [file] {
            auto memory = HDF5Memory::open(*file);
            const auto dropped = memory.compact();
            memory.close();
            std::cout << "compacted: dropped " << counted(dropped, "deleted row", "deleted rows")
                      << '\n';
            return kExitSuccess;
          }};
}

}  // namespace edgehdf5::cli
