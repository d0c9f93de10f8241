// export, info, snapshot, verify: the commands that only read a memory file.

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "json_io.hpp"
#include "progress.hpp"
#include "text_table.hpp"

namespace edgehdf5::cli {
namespace {

// Everything `info` reports, in the order it prints it; the same object serves --json.
nlohmann::ordered_json describe(const HDF5Memory& memory, const std::filesystem::path& file) {
  const auto& config = memory.config();
  const auto store = memory.info();
  return {
      {"path", file.string()},
      {"schema_version", store.schema_version},
      {"edgehdf5_version", store.edgehdf5_version},
      {"agent_id", config.agent_id},
      {"embedder", config.embedder},
      {"created_at", config.created_at},
      {"embedding_dim", config.embedding_dim},
      {"dtype", config.float16 ? "float16" : "float32"},
      {"keyword_tokenizer", keyword_tokenizer_name(config.keyword_tokenizer)},
      {"total", memory.count()},
      {"active", memory.count_active()},
      {"deleted", memory.count() - memory.count_active()},
      {"sessions", store.sessions},
      {"entities", store.entities},
      {"relations", store.relations},
      {"compression", config.compression},
      {"compression_level", config.compression_level},
      {"compact_threshold", config.compact_threshold},
      {"chunk_size", config.chunk_size},
      {"overlap", config.overlap},
      {"log_bytes", store.log_bytes},
      {"log_records_replayed", store.log_records_replayed},
  };
}

void print_fields(const nlohmann::ordered_json& fields, std::ostream& out) {
  std::size_t key_width = 0;
  for (const auto& [key, value] : fields.items()) key_width = std::max(key_width, key.size());
  for (const auto& [key, value] : fields.items()) {
    out << key << ':' << std::string(key_width - key.size() + 1, ' ')
        << (value.is_string() ? value.get<std::string>() : json_line(value)) << '\n';
  }
}

ExitStatus run_export(const FileOptions& options) {
  const auto memory = open_read_only(options.file);
  const auto& columns = memory.columns();
  columns.load_texts();  // every text is printed: one pass per column, not a read per row
  // A bar beside JSON lines printed on the same terminal would garble both.
  std::optional<Progress> progress;
  if (::isatty(STDOUT_FILENO) != 1) progress.emplace("exporting", columns.rows());
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    if (progress) progress->update(row);
    if (columns.tombstones[row] != 0) continue;
    const MemoryId id = columns.ids[row];
    std::cout << json_line(entry_to_json(id, memory.get(id))) << '\n';
  }
  return kExitSuccess;
}

ExitStatus run_info(const FileOptions& options) {
  const auto fields = describe(open_read_only(options.file), options.file);
  if (options.json) {
    std::cout << json_line(fields) << '\n';
  } else {
    print_fields(fields, std::cout);
  }
  return kExitSuccess;
}

struct SnapshotOptions {
  std::filesystem::path file;
  std::filesystem::path destination;
  bool json = false;
};

ExitStatus run_snapshot(const SnapshotOptions& options) {
  // A read-only handle sees the file and its log as of opening, which is all a snapshot
  // needs, and it works while another process writes.
  auto memory = open_read_only(options.file);
  memory.snapshot(options.destination);
  print_outcome(options.json, {{"snapshot", options.destination.string()}},
                "snapshot written to " + options.destination.string());
  return kExitSuccess;
}

ExitStatus run_verify(const FileOptions& options) {
  const auto problems = verify_file(options.file);
  if (options.json) {
    std::cout << json_line({{"ok", problems.empty()}, {"problems", problems}}) << '\n';
  } else if (problems.empty()) {
    std::cout << "ok\n";
  } else {
    for (const auto& problem : problems) std::cout << problem << '\n';
  }
  if (problems.empty()) return kExitSuccess;
  std::cerr << "edgehdf5: " << options.file.string() << ": "
            << counted(problems.size(), "problem", "problems") << " found\n";
  return kExitProblemsFound;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto options = std::make_shared<FileOptions>();
  auto* command = app.add_subcommand(
      "export", "Print the active memories as JSON lines, in id order (the import format)");
  add_memory_file_argument(*command, options->file);
  command->add_flag("--json", options->json, "Accepted for uniformity: the output is JSON lines");
  return make_command(command, options, &run_export);
}

Command add_info_command(CLI::App& app) {
  auto options = std::make_shared<FileOptions>();
  auto* command = app.add_subcommand(
      "info", "Show a memory file's settings and counts (memories, sessions, graph, log)");
  add_file_options(*command, *options, "a list");
  return make_command(command, options, &run_info);
}

Command add_snapshot_command(CLI::App& app) {
  auto options = std::make_shared<SnapshotOptions>();
  auto* command = app.add_subcommand(
      "snapshot", "Write a consistent copy of the memory file (log included) to DEST");
  add_memory_file_argument(*command, options->file);
  command->add_option("DEST", options->destination, "Where to write the copy")->required();
  add_json_flag(*command, options->json, "a sentence");
  return make_command(command, options, &run_snapshot);
}

Command add_verify_command(CLI::App& app) {
  auto options = std::make_shared<FileOptions>();
  auto* command = app.add_subcommand(
      "verify",
      "Check a memory file (and its log) in depth without changing it. Prints \"ok\", or\n"
      "each problem found and exits with status 3");
  add_memory_file_argument(*command, options->file);
  command->add_flag("--json", options->json,
                    "Print {\"ok\": true|false, \"problems\": [...]} (same exit status)");
  return make_command(command, options, &run_verify);
}

}  // namespace edgehdf5::cli
