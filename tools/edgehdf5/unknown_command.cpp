#include "unknown_command.hpp"

#include <algorithm>
#include <vector>

namespace edgehdf5::cli {
namespace {

// The innermost command the user picked: the app, or the parsed subcommand of a parsed...
const CLI::App& innermost_command(const CLI::App& app) {
  const CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  return *command;
}

std::vector<std::string> subcommand_names(const CLI::App& command) {
  std::vector<std::string> names;
  const auto named = [](const CLI::App* subcommand) { return !subcommand->get_name().empty(); };
  for (const CLI::App* subcommand : command.get_subcommands(named)) {
    names.push_back(subcommand->get_name());
  }
  return names;
}

// The name nearest `word`, if it is near enough to be what the user meant: at most a third
// of the word's letters wrong (at least 2 allowed), and never all of them.
std::optional<std::string> nearest_name(const std::string& word,
                                        const std::vector<std::string>& names) {
  const std::size_t allowed = std::max<std::size_t>(2, word.size() / 3);
  std::optional<std::string> nearest;
  std::size_t nearest_distance = allowed + 1;
  for (const std::string& name : names) {
    const std::size_t distance = edit_distance(word, name);
    if (distance < nearest_distance && distance < word.size()) {
      nearest = name;
      nearest_distance = distance;
    }
  }
  return nearest;
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

std::optional<std::string> unknown_command_message(const CLI::App& app) {
  const CLI::App& command = innermost_command(app);
  const std::vector<std::string> names = subcommand_names(command);
  // CLI11 keeps the words it could not place (in command-line order) until the next parse.
  const std::vector<std::string> left_over = command.remaining();
  if (names.empty() || left_over.empty() || left_over.front().starts_with('-')) return {};
  const std::string& word = left_over.front();
  // "kg command" for a subcommand; plain "command" for the tool's own.
  const std::string kind = (command.get_parent() ? command.get_name() + " " : "") + "command";
  if (const auto nearest = nearest_name(word, names)) {
    return "unknown " + kind + " '" + word + "'; did you mean '" + *nearest + "'?";
  }
  return "unknown " + kind + " '" + word + "'; the " + kind + "s are: " + joined(names);
}

// Written here because CLI11 (2.1) has no suggestion feature of its own.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  // rows[i][j]: distance between the first i bytes of a and the first j bytes of b.
  std::vector<std::vector<std::size_t>> rows(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) rows[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) rows[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = rows[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      rows[i][j] = std::min({rows[i - 1][j] + 1, rows[i][j - 1] + 1, substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        rows[i][j] = std::min(rows[i][j], rows[i - 2][j - 2] + 1);  // two letters swapped
      }
    }
  }
  return rows[a.size()][b.size()];
}

}  // namespace edgehdf5::cli
