// index build | info | drop: the IVF-PQ approximate index inside a memory file (its /ivfpq
// group). build and drop take the writer lock and checkpoint, so the file holds the change
// when they return; info opens the file read-only.

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "command_support.hpp"
#include "commands.hpp"
#include "edgehdf5/edgehdf5.hpp"
#include "index_report.hpp"
#include "json_io.hpp"
#include "progress.hpp"
#include "query_support.hpp"

namespace edgehdf5::cli {
namespace {

struct BuildOptions {
  std::filesystem::path file;
  IVFPQParams params;
  bool if_needed = false;
  bool json = false;
};

ExitStatus run_build(const BuildOptions& options) {
  auto memory = open_for_writing(options.file);
  bool build = true;
  if (options.if_needed) {
    const IVFPQIndex* index = memory.ivfpq_index();
    build = index == nullptr || index->needs_retrain();
  }
  const auto started = std::chrono::steady_clock::now();
  if (build) {
    std::optional<Progress> progress;
    if (memory.count() >= 10000) progress.emplace("training the IVF-PQ index", 0);
    memory.build_ivfpq_index(options.params);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // Described before close(): a closed store answers nothing.
  nlohmann::ordered_json json = index_json(memory);
  json["built"] = build;
  json["build_s"] = build ? nlohmann::ordered_json(seconds) : nlohmann::ordered_json();
  const std::string summary = index_summary(memory);
  memory.close();
  if (options.json) {
    std::cout << json_line(json) << '\n';
  } else if (build) {
    std::cout << "built " << summary << " in " << fixed_decimals(seconds, 2) << " s\n";
  } else {
    std::cout << "index is current (no retrain needed): " << summary << '\n';
  }
  return kExitSuccess;
}

Command add_build_subcommand(CLI::App& index) {
  auto options = std::make_shared<BuildOptions>();
  auto* command = index.add_subcommand(
      "build", "Train the index on the active memories (replacing any) and write it into the file");
  add_memory_file_argument(*command, options->file);
  command
      ->add_option("--nlist", options->params.nlist,
                   "Coarse cells (inverted lists); 0: about sqrt(active memories)")
      ->capture_default_str();
  command
      ->add_option("--sub-quantizers", options->params.sub_quantizers,
                   "Bytes per code; must divide the embedding dimension")
      ->check(positive_count())
      ->capture_default_str();
  command->add_option("--iterations", options->params.iterations, "k-means iterations")
      ->check(positive_count())
      ->capture_default_str();
  command
      ->add_option("--training-sample", options->params.training_sample,
                   "Rows the coarse k-means sees; 0: min(rows, 64 x nlist)")
      ->capture_default_str();
  command->add_option("--seed", options->params.seed, "Seed (same seed and data: same index)")
      ->capture_default_str();
  command->add_flag("--if-needed", options->if_needed,
                    "Only build when there is no index or it needs a retrain");
  add_json_flag(*command, options->json, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, options, &run_build);
}

ExitStatus run_info(const FileOptions& options) {
  const auto memory = open_read_only(options.file);
  if (options.json) {
    std::cout << json_line(index_json(memory)) << '\n';
  } else {
    std::cout << index_report(memory, options.file.string());
  }
  return kExitSuccess;
}

Command add_info_subcommand(CLI::App& index) {
  auto options = std::make_shared<FileOptions>();
  auto* command =
      index.add_subcommand("info", "Describe the index: size, lists, drift, retrain advice");
  add_file_options(*command, *options, "a report");
  return make_command(command, options, &run_info);
}

ExitStatus run_drop(const FileOptions& options) {
  auto memory = open_for_writing(options.file);
  const bool dropped = memory.drop_ivfpq_index();
  memory.close();
  if (!dropped) throw Error(ErrorCode::not_found, options.file.string() + " has no IVF-PQ index");
  print_outcome(options.json, {{"dropped", true}},
                "dropped the IVF-PQ index of " + options.file.string());
  return kExitSuccess;
}

Command add_drop_subcommand(CLI::App& index) {
  auto options = std::make_shared<FileOptions>();
  auto* command =
      index.add_subcommand("drop", "Remove the index from the file (searches scan exactly)");
  add_file_options(*command, *options, "a sentence");
  add_lock_timeout_option(*command);
  return make_command(command, options, &run_drop);
}

}  // namespace

Command add_index_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "index",
      "Build, describe or drop the IVF-PQ approximate index kept inside the file\n"
      "(`search --strategy ivfpq`; auto uses it on large stores)");
  command->require_subcommand(1);
  return with_subcommands(command, {add_build_subcommand(*command), add_info_subcommand(*command),
                                    add_drop_subcommand(*command)});
}

}  // namespace edgehdf5::cli
