#pragma once
// What to say when a word on the command line names no command: CLI11 reports a mistyped
// command as "A subcommand is required" (top level, `index`) or as an unexpected argument
// (`kg`, `sessions`), which hides the mistake; this names the word and the nearest command.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace edgehdf5::cli {

// After app.parse() threw: when the first word left unparsed by the innermost command picked
// (the tool itself, kg, sessions, index) is not an option and that command has subcommands,
// "unknown command 'serch'; did you mean 'search'?" (or "unknown kg command 'teleport'; the kg
// commands are: list, ..." when none is near). nullopt when the error was something else.
std::optional<std::string> unknown_command_message(const CLI::App& app);

// Optimal-string-alignment distance: the insertions, deletions, substitutions and swaps of
// two neighbouring characters that turn `a` into `b` (bytes, not code points).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace edgehdf5::cli
