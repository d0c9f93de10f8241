#pragma once
// Helpers shared by the command sources (not by main()).
//
// Every command is written the same way: a struct of its options, an add_* function that
// declares them on CLI11 (help text, checks), and a run_* function that does the work from
// a filled-in struct. make_command() joins the two into the Command main() runs; with_subcommands()
// does it for a command such as `kg` whose subcommands are each written that way.

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "edgehdf5/memory.hpp"

namespace edgehdf5::cli {

// The positional FILE and the --json flag that most commands take. A command with
// subcommands (kg, sessions) keeps one for all of them: `kg FILE --json` and
// `kg FILE list --json` set the same flag.
struct FileOptions {
  std::filesystem::path file;
  bool json = false;
};

// Adds the positional FILE argument every command takes.
void add_memory_file_argument(CLI::App& command, std::filesystem::path& file);

// Adds --json, described as "Print one JSON object instead of <instead_of>".
CLI::Option* add_json_flag(CLI::App& command, bool& json, std::string_view instead_of);

// Adds FILE and --json (as add_json_flag describes it).
void add_file_options(CLI::App& command, FileOptions& options, std::string_view instead_of);

// Prints `result` as one line of JSON with --json, else `message`; then a newline.
void print_outcome(bool json, const nlohmann::ordered_json& result, const std::string& message);

// The action of a command: runs `run` on the options CLI11 filled in.
template <typename Options>
Command make_command(CLI::App* command, std::shared_ptr<Options> options,
             ExitStatus (*run)(const Options&)) {
  return {command, [options = std::move(options), run] { return run(*options); }};
}

// The same for a subcommand that also reads its parent's FILE and --json.
template <typename Options>
Command make_command(CLI::App* command, std::shared_ptr<const FileOptions> parent,
             std::shared_ptr<Options> options,
             ExitStatus (*run)(const FileOptions&, const Options&)) {
  return {command, [parent = std::move(parent), options = std::move(options), run] {
            return run(*parent, *options);
          }};
}

// The action of a command with subcommands: runs the one the user picked, or `fallback` when
// none was (empty: the command requires one, so CLI11 already refused the command line).
Command with_subcommands(CLI::App* command, std::vector<Command> subcommands,
                         std::function<ExitStatus()> fallback = {});

// A command over one FILE whose subcommands (added by the caller) share it and --json, at most
// one of them named on a command line: `kg FILE [--json] [list|add-entity|...]`.
struct FileCommandGroup {
  CLI::App* command = nullptr;
  std::shared_ptr<FileOptions> shared;
};
FileCommandGroup add_file_command_group(CLI::App& app, const std::string& name,
                                        const std::string& description,
                                        const std::string& json_help);

// with_subcommands() where the first subcommand (`list`) runs when none is named.
Command with_default_subcommand(CLI::App* command, std::vector<Command> subcommands);

// Accepts whole numbers >= 1 (a dimension, a count). CLI::PositiveNumber would do, but
// its error message prints the largest double in full.
CLI::Validator positive_count();

// Opens without the writer lock or log writes: sees the file as of now, beside any writer.
HDF5Memory open_read_only(const std::filesystem::path& file);

// The writer lock's wait (OpenOptions::lock_timeout) for the write commands: --lock-timeout
// SECONDS, default kDefaultLockTimeoutSeconds, so a command run while another process writes
// waits its turn instead of failing at once. One command runs per process, so the option is
// kept in one place that open_for_writing() reads, rather than in every command's options.
inline constexpr double kDefaultLockTimeoutSeconds = 10.0;
void add_lock_timeout_option(CLI::App& command);
// Opens `file` for writing, waiting for the lock as --lock-timeout says.
HDF5Memory open_for_writing(const std::filesystem::path& file);
// OpenOptions with that wait, for HDF5Memory::create.
OpenOptions writer_open_options();

// The current time, as seconds since the Unix epoch (the default timestamp of new memories).
double seconds_since_epoch();

// Opens an input file the user named; throws Error(io) saying why it cannot be read.
std::ifstream open_input_file(const std::filesystem::path& path);

}  // namespace edgehdf5::cli
