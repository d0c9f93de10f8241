#pragma once
// The subcommands of the `edgehdf5` tool.
//
// Each add_*_command registers its subcommand (options, help text) on the app and returns
// the action to run once the user picked it. Parsing and running are kept apart so that
// main() can tell usage errors (exit 2) from errors while running (exit 1).
// Actions throw edgehdf5::Error (or another std::exception) on failure; main() reports it.

#include <functional>

#include <CLI/CLI.hpp>

namespace edgehdf5::cli {

// Exit statuses of the tool, also listed in its --help.
enum ExitStatus : int {
  kExitSuccess = 0,
  kExitRuntimeError = 1,   // the command ran and failed (bad file, bad input, I/O error)
  kExitUsageError = 2,     // the command line itself is wrong
  kExitProblemsFound = 3,  // `verify` ran and found the file unsound
};

struct Command {
  CLI::App* subcommand = nullptr;
  std::function<ExitStatus()> run;
};

// Mutating commands: they take the file's writer lock and close() it at the end, so an
// error while writing is reported rather than lost in a destructor.
Command add_create_command(CLI::App& app);
Command add_import_command(CLI::App& app);
Command add_delete_command(CLI::App& app);
Command add_compact_command(CLI::App& app);
Command add_add_command(CLI::App& app);       // text in: embedded by the file's embedder
Command add_sessions_command(CLI::App& app);  // list/show read; add writes
Command add_kg_command(CLI::App& app);        // list/neighbors/path read; add-* write
Command add_index_command(CLI::App& app);     // info reads; build/drop write
Command add_mcp_command(CLI::App& app);       // MCP server on stdio (mcp_server.hpp)

// Read-only commands: they open the file read-only, so they work beside a running writer.
Command add_export_command(CLI::App& app);
Command add_info_command(CLI::App& app);
Command add_search_command(CLI::App& app);
Command add_recall_command(CLI::App& app);    // question in, memories out (hybrid)
Command add_stats_command(CLI::App& app);
Command add_snapshot_command(CLI::App& app);
Command add_verify_command(CLI::App& app);

}  // namespace edgehdf5::cli
