// edgehdf5: create, fill, inspect and search an agent's memory file from the shell.

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "edgehdf5/version.hpp"
#include "unknown_command.hpp"

namespace {

using namespace edgehdf5::cli;

constexpr const char* kExitStatusHelp =
    "Exit status:\n"
    "  0  success\n"
    "  1  the command failed (unreadable or invalid file, bad input, I/O error)\n"
    "  2  usage error (unknown command or option, missing or invalid argument)\n"
    "  3  verify found problems in the file";

int report_error(const std::string& message) {
  std::cerr << "edgehdf5: error: " << message << '\n';
  return kExitRuntimeError;
}

// "edgehdf5 search --help" when the mistake was in the search command's arguments.
std::string help_command(const std::vector<Command>& commands) {
  for (const auto& command : commands) {
    if (command.subcommand->parsed())
      return "edgehdf5 " + command.subcommand->get_name() + " --help";
  }
  return "edgehdf5 --help";
}

// A command line CLI11 refused: one line saying why, one saying where the usage is.
int report_usage_error(const CLI::App& app, const CLI::ParseError& error,
                       const std::vector<Command>& commands) {
  std::cerr << "edgehdf5: error: " << unknown_command_message(app).value_or(error.what())
            << "\nRun '" << help_command(commands) << "' for usage.\n";
  return kExitUsageError;
}

// Runs the chosen command; every failure becomes one line on stderr and exit status 1.
int run_reporting_errors(const Command& command) {
  try {
    const int status = command.run();
    // Output to a closed pipe or a full disk must not look like success.
    if (!std::cout.flush()) return report_error("cannot write to standard output");
    return status;
  } catch (const std::exception& error) {  // edgehdf5::Error and whatever else escaped
    return report_error(error.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Store, inspect and search an AI agent's memory in one HDF5 file.", "edgehdf5");
  app.set_version_flag("--version", edgehdf5::kVersion);
  // Set before the subcommands are added: they inherit it, so every --help lists it.
  app.footer(kExitStatusHelp);
  app.require_subcommand(1);

  const std::vector<Command> commands = {
      add_create_command(app),   add_add_command(app),      add_recall_command(app),
      add_import_command(app),   add_export_command(app),   add_info_command(app),
      add_stats_command(app),    add_search_command(app),   add_sessions_command(app),
      add_kg_command(app),       add_delete_command(app),   add_compact_command(app),
      add_index_command(app),    add_snapshot_command(app), add_verify_command(app),
      add_mcp_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version arrive here as "errors" with exit code 0.
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(error);
    return report_usage_error(app, error, commands);
  }

  for (const auto& command : commands) {
    if (command.subcommand->parsed()) return run_reporting_errors(command);
  }
  return kExitUsageError;  // unreachable: require_subcommand(1) guarantees one was parsed
}
