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
  auto memory = HDF5Memory::open(options.file);
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

}  // namespace

Command add_index_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "index",
      "Build, describe or drop the IVF-PQ approximate index kept inside the file\n"
      "(`search --strategy ivfpq`; auto uses it on large stores)");
  command->require_subcommand(1);

  auto build = std::make_shared<BuildOptions>();
  auto* build_command = command->add_subcommand(
      "build", "Train the index on the active memories (replacing any) and write it into the file");
  add_memory_file_argument(*build_command, build->file);
  build_command
      ->add_option("--nlist", build->params.nlist,
                   "Coarse cells (inverted lists); 0: about sqrt(active memories)")
      ->capture_default_str();
  build_command
      ->add_option("--sub-quantizers", build->params.sub_quantizers,
                   "Bytes per code; must divide the embedding dimension")
      ->check(positive_count())
      ->capture_default_str();
  build_command->add_option("--iterations", build->params.iterations, "k-means iterations")
      ->check(positive_count())
      ->capture_default_str();
  build_command
      ->add_option("--training-sample", build->params.training_sample,
                   "Rows the coarse k-means sees; 0: min(rows, 64 x nlist)")
      ->capture_default_str();
  build_command->add_option("--seed", build->params.seed, "Seed (same seed and data: same index)")
      ->capture_default_str();
  build_command->add_flag("--if-needed", build->if_needed,
                          "Only build when there is no index or it needs a retrain");
  build_command->add_flag("--json", build->json, "Print one JSON object instead of a sentence");

  auto info_file = std::make_shared<std::filesystem::path>();
  auto info_json = std::make_shared<bool>(false);
  auto* info_command =
      command->add_subcommand("info", "Describe the index: size, lists, drift, retrain advice");
  add_memory_file_argument(*info_command, *info_file);
  info_command->add_flag("--json", *info_json, "Print one JSON object instead of a report");

  auto drop_file = std::make_shared<std::filesystem::path>();
  auto drop_json = std::make_shared<bool>(false);
  auto* drop_command =
      command->add_subcommand("drop", "Remove the index from the file (searches scan exactly)");
  add_memory_file_argument(*drop_command, *drop_file);
  drop_command->add_flag("--json", *drop_json, "Print one JSON object instead of a sentence");

  return {command, [=] {
            if (build_command->parsed()) return run_build(*build);
            if (info_command->parsed()) {
              const auto memory = open_read_only(*info_file);
              if (*info_json) {
                std::cout << json_line(index_json(memory)) << '\n';
              } else {
                std::cout << index_report(memory, info_file->string());
              }
              return kExitSuccess;
            }
            auto memory = HDF5Memory::open(*drop_file);
            const bool dropped = memory.drop_ivfpq_index();
            memory.close();
            if (!dropped) {
              throw Error(ErrorCode::not_found, drop_file->string() + " has no IVF-PQ index");
            }
            if (*drop_json) {
              std::cout << json_line({{"dropped", true}}) << '\n';
            } else {
              std::cout << "dropped the IVF-PQ index of " << drop_file->string() << '\n';
            }
            return kExitSuccess;
          }};
}

}  // namespace edgehdf5::cli
