#include "command_support.hpp"

#include <cerrno>
#include <chrono>
#include <charconv>
#include <iostream>
#include <string>
#include <system_error>

#include "edgehdf5/error.hpp"
#include "json_io.hpp"

namespace edgehdf5::cli {

void add_memory_file_argument(CLI::App& command, std::filesystem::path& file) {
  command.add_option("FILE", file, "Memory file (.h5)")->required();
}

CLI::Option* add_json_flag(CLI::App& command, bool& json, std::string_view instead_of) {
  return command.add_flag("--json", json,
                          "Print one JSON object instead of " + std::string(instead_of));
}

void add_file_options(CLI::App& command, FileOptions& options, std::string_view instead_of) {
  add_memory_file_argument(command, options.file);
  add_json_flag(command, options.json, instead_of);
}

void print_outcome(bool json, const nlohmann::ordered_json& result, const std::string& message) {
  std::cout << (json ? json_line(result) : message) << '\n';
}

Command with_subcommands(CLI::App* command, std::vector<Command> subcommands,
                         std::function<ExitStatus()> fallback) {
  return {command, [subcommands = std::move(subcommands), fallback = std::move(fallback)] {
            for (const Command& subcommand : subcommands) {
              if (subcommand.subcommand->parsed()) return subcommand.run();
            }
            return fallback ? fallback() : kExitUsageError;
          }};
}

FileCommandGroup add_file_command_group(CLI::App& app, const std::string& name,
                                        const std::string& description,
                                        const std::string& json_help) {
  FileCommandGroup group{app.add_subcommand(name, description), std::make_shared<FileOptions>()};
  add_memory_file_argument(*group.command, group.shared->file);
  group.command->add_flag("--json", group.shared->json, json_help);
  group.command->require_subcommand(0, 1);
  return group;
}

Command with_default_subcommand(CLI::App* command, std::vector<Command> subcommands) {
  auto fallback = subcommands.front().run;
  return with_subcommands(command, std::move(subcommands), std::move(fallback));
}

CLI::Validator positive_count() {
  const auto check = [](const std::string& text) -> std::string {
    unsigned long long value = 0;
    const char* end = text.data() + text.size();
    const auto parsed = std::from_chars(text.data(), end, value);
    if (parsed.ec != std::errc{} || parsed.ptr != end || value == 0) {
      return "expected a whole number of at least 1, got " + text;
    }
    return {};
  };
  return {check, "POSITIVE"};
}

HDF5Memory open_read_only(const std::filesystem::path& file) {
  return HDF5Memory::open(file, OpenOptions{.read_only = true});
}

namespace {
double lock_timeout_seconds = kDefaultLockTimeoutSeconds;
}  // namespace

void add_lock_timeout_option(CLI::App& command) {
  command
      .add_option("--lock-timeout", lock_timeout_seconds,
                  "Seconds to wait for another process's writer lock before failing")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->option_text("SECONDS");
}

OpenOptions writer_open_options() {
  OpenOptions options;
  options.lock_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(lock_timeout_seconds * 1000.0));
  return options;
}

HDF5Memory open_for_writing(const std::filesystem::path& file) {
  return HDF5Memory::open(file, writer_open_options());
}

double seconds_since_epoch() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::ifstream open_input_file(const std::filesystem::path& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) {
    // ifstream keeps no reason of its own; the failed open() left it in errno.
    throw Error(ErrorCode::io,
                "cannot open " + path.string() + ": " + std::generic_category().message(errno));
  }
  return input;
}

}  // namespace edgehdf5::cli
