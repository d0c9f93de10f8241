// edgehdf5-bench checkpoint: a checkpoint's file written three ways from the same state, side
// by side in one run, to show what writing through the I/O seam costs:
//   * seam driver: what the store does (HDF5 writes through FileSystem with our virtual file
//     driver, src/h5/seam_driver.hpp);
//   * core image: HDF5 builds the whole file in memory (core driver) and the image is then
//     written through the seam (the store's way from the seam's introduction until the driver);
//   * sec2 direct: HDF5 writes the file itself with its default driver, by path (the store's
//     way before the seam; no fault injection possible).
// Each is the whole durable replacement: the temporary written and fsynced, renamed over the
// target, the directory fsynced. Reported per writer: median seconds, the ratio to sec2
// direct, and the process's peak resident memory during the write (VmHWM, reset through
// /proc/self/clear_refs before each write), also less VmRSS before it (what the write
// adds). The state comes from a real store (save_batch of generated entries, closed, its
// file read back), so it is exactly what a checkpoint writes. Each writer's file is read
// back once and checked.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/version.hpp"
#include "h5/h5.hpp"
#include "store/checkpoint_file.hpp"
#include "store/posix_file.hpp"
#include "store/schema.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;

struct CheckpointOptions {
  std::vector<std::size_t> sizes = {100'000};
  std::size_t embedding_dim = 384;
  std::size_t batch_size = 10'000;
  std::size_t repeats = 5;
  std::uint64_t seed = 42;
  std::string dir = fs::temp_directory_path().string();
  bool json = false;
};

// ---- resident memory ---------------------------------------------------------------------------

// A "VmRSS:"-style line of /proc/self/status, in bytes; nullopt where there is none.
std::optional<double> status_bytes(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) * 1024.0;
  }
  return std::nullopt;
}

// Resets the process's peak resident size (VmHWM) to its current size (Linux 4.0+).
bool reset_peak_resident() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

// ---- the three writers -----------------------------------------------------------------------

struct Writer {
  std::string name;
  std::function<void(const store::StoreState&, const fs::path& target, const fs::path& temporary)>
      write;
};

std::vector<Writer> writers() {
  FileSystem& posix = *posix_file_system();
  return {
      {"seam driver",
       [&posix](const store::StoreState& state, const fs::path& target, const fs::path& temporary) {
         store::write_file_atomically(posix, target, temporary, state, {});
       }},
      {"core image",
       [&posix](const store::StoreState& state, const fs::path& target, const fs::path& temporary) {
         {
           const h5::FileImage image =
               store::state_file_image(state, nullptr, temporary.string() + " (in memory)");
           store::write_new_file(posix, temporary, image.bytes());
         }
         store::rename_durably(posix, temporary, target);
       }},
      {"sec2 direct",
       [&posix](const store::StoreState& state, const fs::path& target, const fs::path& temporary) {
         {
           h5::Object file = h5::create_file(temporary);
           store::write_state_groups(file, state, {});
           file.close();
         }
         store::sync_file(posix, temporary);
         store::rename_durably(posix, temporary, target);
       }},
  };
}

// ---- one size and type -----------------------------------------------------------------------

// What a checkpoint of `count` generated entries writes: a store made with save_batch and
// closed (which checkpoints), its file read back.
store::StoreState make_state(std::size_t count, bool float16, const CheckpointOptions& options,
                             const fs::path& dir) {
  const fs::path path = dir / "source.h5";
  {
    MemoryConfig config;
    config.path = path;
    config.agent_id = "edgehdf5-bench";
    config.embedder = "random-unit-vectors";
    config.embedding_dim = options.embedding_dim;
    config.float16 = float16;
    OpenOptions open_options;
    open_options.checkpoint_log_bytes = std::numeric_limits<std::size_t>::max();
    HDF5Memory memory = HDF5Memory::create(config, open_options);
    for (std::size_t first = 0; first < count; first += options.batch_size) {
      const std::size_t size = std::min(options.batch_size, count - first);
      memory.save_batch(random_entries(size, options.embedding_dim, options.seed,
                                       first / options.batch_size, first));
    }
    memory.close();
  }
  store::StoreState state = store::read_state_file(path);
  for (const char* suffix : {"", ".wal", ".lock"}) fs::remove(path.string() + suffix);
  return state;
}

struct Sample {
  double seconds = 0.0;
  double peak_resident_bytes = -1.0;   // VmHWM during the write; negative: not measurable here
  double added_resident_bytes = -1.0;  // the same minus VmRSS before it
};

Sample run_once(const Writer& writer, const store::StoreState& state, const fs::path& target) {
  const fs::path temporary = target.string() + ".tmp";
  const bool peak_reset = reset_peak_resident();
  const std::optional<double> before = status_bytes("VmRSS:");
  Sample sample;
  sample.seconds = seconds_to_run([&] { writer.write(state, target, temporary); });
  const std::optional<double> peak = status_bytes("VmHWM:");
  if (peak_reset && before && peak) {
    sample.peak_resident_bytes = *peak;
    // Never below 0: a write that only reuses heap pages already resident adds nothing.
    sample.added_resident_bytes = std::max(0.0, *peak - *before);
  }
  return sample;
}

// The file `writer` wrote holds `state`: same rows, same embeddings, same chunks.
void check_file(const Writer& writer, const store::StoreState& state, const fs::path& target) {
  const store::StoreState written = store::read_state_file(target);
  const MemoryColumns& want = state.columns;
  const MemoryColumns& got = written.columns;
  if (got.rows() != want.rows() || got.embeddings_f32 != want.embeddings_f32 ||
      got.embeddings_f16 != want.embeddings_f16 || got.chunks != want.chunks ||
      got.ids != want.ids) {
    throw std::runtime_error("the " + writer.name + " writer's file does not hold the state");
  }
}

void measure(std::size_t count, bool float16, const CheckpointOptions& options,
             const fs::path& dir, RowReporter& report) {
  const store::StoreState state = make_state(count, float16, options, dir);
  const std::vector<Writer> all = writers();
  std::vector<std::vector<Sample>> samples(all.size());
  std::vector<std::uintmax_t> file_bytes(all.size(), 0);
  const fs::path target = dir / "checkpoint.h5";
  // The writers take turns, starting one further each round, so that neither order nor a
  // drift of the machine favours one of them.
  for (std::size_t round = 0; round < options.repeats; ++round) {
    for (std::size_t turn = 0; turn < all.size(); ++turn) {
      const std::size_t which = (round + turn) % all.size();
      samples[which].push_back(run_once(all[which], state, target));
      if (round == 0) {
        file_bytes[which] = fs::file_size(target);
        check_file(all[which], state, target);
      }
    }
  }
  fs::remove(target);

  auto median_seconds = [&](std::size_t which) {
    std::vector<double> seconds;
    for (const Sample& sample : samples[which]) seconds.push_back(sample.seconds);
    return summarize(seconds).median;
  };
  // The most of all its writes, in MB (null where /proc cannot tell).
  auto most_mb = [&](std::size_t which, double Sample::*field) -> nlohmann::json {
    double most = -1.0;
    for (const Sample& sample : samples[which]) most = std::max(most, sample.*field);
    if (most < 0) return nullptr;
    return most / 1e6;
  };
  const std::size_t sec2 = all.size() - 1;
  const double sec2_seconds = median_seconds(sec2);
  for (std::size_t which = 0; which < all.size(); ++which) {
    const double seconds = median_seconds(which);
    report.add({all[which].name, count, options.embedding_dim, float16 ? "f16" : "f32", seconds,
                seconds / sec2_seconds, most_mb(which, &Sample::peak_resident_bytes),
                most_mb(which, &Sample::added_resident_bytes),
                static_cast<double>(file_bytes[which]) / 1e6});
  }
}

}  // namespace

int run_checkpoint_workload(int argc, char** argv) {
  CheckpointOptions options;
  CLI::App app{
      "A checkpoint's file written by the seam's HDF5 driver, by HDF5's core driver then "
      "the seam, and by HDF5's sec2 driver directly, from the same state in one run.",
      "edgehdf5-bench checkpoint"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.sizes, "Entries in the checkpointed store")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--repeats", options.repeats,
                 "Timed writes per writer, taking turns (medians reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  add_scratch_dir_option(app, options.dir);
  CLI11_PARSE(app, argc, argv);

  RowReporter report("checkpoint", command_line(argc, argv), options.json);
  report.set_columns({{"writer", 12, true},
                      {"n", 9},
                      {"dim", 5},
                      {"dtype", 6, true},
                      {"seconds", 9},
                      {"vs_sec2", 8},
                      {"peak_rss_mb", 12},
                      {"added_rss_mb", 13},
                      {"file_mb", 8}});
  const ScratchDir scratch(options.dir);
  report.note("edgehdf5 " + std::string(kVersion) + ", " +
              std::to_string(std::thread::hardware_concurrency()) + " hardware threads, files in " +
              scratch.path().string());
  report.note("each write: temporary written + fsync, rename, directory fsync; medians of " +
              std::to_string(options.repeats) + " writes per writer, writers taking turns");
  report.note("peak_rss_mb: the process's peak resident memory during a write (VmHWM after "
              "clear_refs; the state itself included); added_rss_mb: that minus VmRSS before the "
              "write; the most of all writes");
  for (const std::size_t count : options.sizes) {
    for (const bool float16 : {false, true}) {
      measure(count, float16, options, scratch.path(), report);
    }
  }
  return 0;
}

}  // namespace edgehdf5::bench
