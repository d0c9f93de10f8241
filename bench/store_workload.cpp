// edgehdf5-bench store: how fast memories get into a file and out of it again, each figure
// beside the bound the machine sets in the same run:
//   * save_batch throughput (entries kept in memory and appended to the log), f32 and f16;
//   * flush() of those entries (the log's fsync) and checkpoint() (writing the .h5), against
//     write()+fsync() of the same number of bytes to a plain file in the same folder;
//   * open-to-first-search (open read-only + one search) of 100K and 1M-entry files,
//     against read() of the whole file into memory.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/version.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;

struct StoreOptions {
  std::vector<std::size_t> open_sizes = {100'000, 1'000'000};
  std::size_t ingest_entries = 100'000;
  std::size_t batch_size = 10'000;
  std::size_t embedding_dim = 384;
  std::size_t repeats = 3;
  std::uint64_t seed = 42;
  std::string dir = fs::temp_directory_path().string();
  bool json = false;
};

constexpr std::size_t kTopK = 10;
// Random streams: entry batches use streams 0, 1, 2...; the query one far beyond them.
constexpr std::uint64_t kQueryStream = std::uint64_t{1} << 40;

std::string megabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  return text;
}

std::string dtype_name(bool float16) { return float16 ? "f16" : "f32"; }

// A store whose log never triggers a checkpoint by itself, so that flush() is only the log's
// fsync and checkpoint() is timed on its own.
HDF5Memory create_store(const fs::path& path, const StoreOptions& options, bool float16) {
  MemoryConfig config;
  config.path = path;
  config.agent_id = "edgehdf5-bench";
  config.embedder = "random-unit-vectors";
  config.embedding_dim = options.embedding_dim;
  config.float16 = float16;
  OpenOptions open_options;
  open_options.checkpoint_log_bytes = std::numeric_limits<std::size_t>::max();
  return HDF5Memory::create(config, open_options);
}

void remove_store_files(const fs::path& path) {
  for (const char* suffix : {"", ".wal", ".lock"}) fs::remove(path.string() + suffix);
}

// Saves `count` generated entries in batches and returns the seconds spent inside
// save_batch; making the entries is not timed.
double seconds_in_save_batch(HDF5Memory& memory, std::size_t count, const StoreOptions& options) {
  double seconds = 0.0;
  for (std::size_t first = 0; first < count; first += options.batch_size) {
    const std::size_t size = std::min(options.batch_size, count - first);
    const std::vector<MemoryEntry> entries = random_entries(
        size, options.embedding_dim, options.seed, first / options.batch_size, first);
    seconds += seconds_to_run([&] { memory.save_batch(entries); });
  }
  return seconds;
}

// One ingest into a new file: save_batch of every entry, flush(), checkpoint(), and raw
// write+fsync of as many bytes as the log and the .h5 hold, right after each.
struct IngestRun {
  double save_seconds = 0.0;
  double flush_seconds = 0.0;
  double checkpoint_seconds = 0.0;
  double raw_log_seconds = 0.0;
  double raw_file_seconds = 0.0;
  std::uintmax_t log_bytes = 0;
  std::uintmax_t file_bytes = 0;
};

IngestRun run_ingest_once(bool float16, const StoreOptions& options, const fs::path& dir) {
  const fs::path path = dir / ("ingest_" + dtype_name(float16) + ".h5");
  HDF5Memory memory = create_store(path, options, float16);
  IngestRun run;
  run.save_seconds = seconds_in_save_batch(memory, options.ingest_entries, options);
  run.log_bytes = memory.info().log_bytes;
  run.flush_seconds = seconds_to_run([&] { memory.flush(); });
  run.raw_log_seconds = seconds_to_write_and_fsync(dir / "raw_log.bin", run.log_bytes);
  run.checkpoint_seconds = seconds_to_run([&] { memory.checkpoint(); });
  run.file_bytes = fs::file_size(path);
  run.raw_file_seconds = seconds_to_write_and_fsync(dir / "raw_file.bin", run.file_bytes);
  memory.close();
  remove_store_files(path);
  return run;
}

void measure_ingest(bool float16, const StoreOptions& options, const fs::path& dir,
                    Reporter& report) {
  std::vector<IngestRun> runs;
  for (std::size_t repeat = 0; repeat < options.repeats; ++repeat) {
    runs.push_back(run_ingest_once(float16, options, dir));
  }
  auto median = [&runs](auto IngestRun::*field) {
    std::vector<double> samples;
    for (const IngestRun& run : runs) samples.push_back(static_cast<double>(run.*field));
    return summarize(samples).median;
  };
  const double save = median(&IngestRun::save_seconds);
  const double flush = median(&IngestRun::flush_seconds);
  const double checkpoint = median(&IngestRun::checkpoint_seconds);
  const double raw_log = median(&IngestRun::raw_log_seconds);
  const double raw_file = median(&IngestRun::raw_file_seconds);
  const double log_bytes = median(&IngestRun::log_bytes);

  const std::size_t count = options.ingest_entries;
  const std::size_t dim = options.embedding_dim;
  const std::string dtype = dtype_name(float16);
  const std::string raw_log_baseline = "write+fsync of " + megabytes(log_bytes) + " (log size)";
  report.add({"save_batch (memory + log)", count, dim, dtype, static_cast<double>(count) / save,
              "entries/s"});
  report.add({"raw write+fsync", count, dim, "bytes", log_bytes / raw_log / 1e6, "MB/s"});
  report.add({"flush (log fsync)", count, dim, dtype, flush, "s"},
             Comparison{flush / raw_log, raw_log_baseline});
  report.add({"save_batch + flush (durable ingest)", count, dim, dtype, save + flush, "s"},
             Comparison{(save + flush) / raw_log, raw_log_baseline});
  report.add(
      {"checkpoint (write the .h5)", count, dim, dtype, checkpoint, "s"},
      Comparison{checkpoint / raw_file,
                 "write+fsync of " + megabytes(median(&IngestRun::file_bytes)) + " (.h5 size)"});
}

void measure_open_to_first_search(std::size_t count, const StoreOptions& options,
                                  const fs::path& dir, Reporter& report) {
  const fs::path path = dir / ("open_" + std::to_string(count) + ".h5");
  {
    HDF5Memory memory = create_store(path, options, /*float16=*/false);
    seconds_in_save_batch(memory, count, options);
    memory.close();  // checkpoints: the .h5 alone now holds every entry
  }
  const std::vector<float> query =
      random_unit_vectors(1, options.embedding_dim, options.seed, kQueryStream);

  std::vector<double> open_seconds, search_seconds, total_seconds, read_seconds;
  for (std::size_t repeat = 0; repeat < options.repeats; ++repeat) {
    std::optional<HDF5Memory> memory;
    open_seconds.push_back(
        seconds_to_run([&] { memory.emplace(HDF5Memory::open(path, {.read_only = true})); }));
    std::vector<SearchHit> hits;
    search_seconds.push_back(seconds_to_run([&] { hits = memory->search(query, kTopK); }));
    if (hits.size() != kTopK) throw std::runtime_error("search returned fewer hits than asked");
    memory.reset();  // closing is not part of opening
    total_seconds.push_back(open_seconds.back() + search_seconds.back());
    read_seconds.push_back(seconds_to_read_whole_file(path));
  }
  const std::uintmax_t file_bytes = fs::file_size(path);
  remove_store_files(path);

  const std::size_t dim = options.embedding_dim;
  const double read_median = summarize(read_seconds).median;
  const double total_median = summarize(total_seconds).median;
  report.add({"open (read-only)", count, dim, "f32", summarize(open_seconds).median, "s"});
  report.add({"first search (k=" + std::to_string(kTopK) + ")", count, dim, "f32",
              summarize(search_seconds).median, "s"});
  report.add({"raw read() of the .h5", count, dim, "bytes", read_median, "s"});
  report.add(
      {"open-to-first-search", count, dim, "f32", total_median, "s"},
      Comparison{total_median / read_median,
                 "read() of the whole .h5 (" + megabytes(static_cast<double>(file_bytes)) + ")"});
}

}  // namespace

int run_store_workload(int argc, char** argv) {
  StoreOptions options;
  CLI::App app{
      "Ingest, durability and open costs of edgehdf5 files, each beside raw file I/O "
      "of the same bytes in the same run.",
      "edgehdf5-bench store"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.open_sizes,
                 "Entries in the files timed for open-to-first-search")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--ingest", options.ingest_entries,
                 "Entries saved for save_batch/flush/checkpoint")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batch", options.batch_size, "Entries per save_batch call")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--repeats", options.repeats,
                 "Timed repetitions of each measurement (medians reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  add_scratch_dir_option(app, options.dir);
  CLI11_PARSE(app, argc, argv);

  Reporter report("store", command_line(argc, argv), options.json);
  const ScratchDir scratch(options.dir);
  report.note("edgehdf5 " + std::string(kVersion) + ", " +
              std::to_string(std::thread::hardware_concurrency()) + " hardware threads, files in " +
              scratch.path().string());
  report.note("page cache warm: each file is read right after it was written, nothing dropped");
  for (const bool float16 : {false, true}) measure_ingest(float16, options, scratch.path(), report);
  for (const std::size_t count : options.open_sizes) {
    measure_open_to_first_search(count, options, scratch.path(), report);
  }
  return 0;
}

}  // namespace edgehdf5::bench
