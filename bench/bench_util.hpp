#pragma once
// What every edgehdf5-bench workload needs: seeded data, timing statistics, raw file I/O to
// measure the machine's own bounds with, and one way of printing results.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/memory_columns.hpp"

namespace edgehdf5::bench {

// --- data -----------------------------------------------------------------------------------

// `count` random unit vectors of `dim` floats, row after row (Gaussian components, then
// normalised: directions uniform on the sphere). The same (seed, stream) gives the same
// vectors; distinct streams are independent, so batch b can be made alone as stream b.
std::vector<float> random_unit_vectors(std::size_t count, std::size_t dim, std::uint64_t seed,
                                       std::uint64_t stream = 0);

// The same kind of vectors made on every core: rows come in blocks of kRowsPerStream, block b
// being random_unit_vectors(rows in it, dim, seed, first_stream + b). The result depends on
// (count, dim, seed, first_stream) only, not on the number of cores.
inline constexpr std::size_t kRowsPerStream = 65536;
std::vector<float> random_unit_rows(std::size_t count, std::size_t dim, std::uint64_t seed,
                                    std::uint64_t first_stream = 0);

// A MemoryColumns holding `vectors` (rows of `dim` floats) the way a store holds them after
// saving them: float32 as given (float32_columns takes the vector over) or rounded to IEEE half
// (float16_columns), the norm of each stored row, no tombstones, ids 0, 1, 2... so that a hit's
// id is its row number, and no metadata columns (search without a metadata filter needs none).
MemoryColumns float32_columns(std::vector<float> vectors, std::size_t dim);
MemoryColumns float16_columns(std::span<const float> vectors, std::size_t dim);

// `count` entries with random unit embeddings and short, realistic metadata; entry i is
// numbered first_number + i in its chunk text. Deterministic in (seed, stream).
std::vector<MemoryEntry> random_entries(std::size_t count, std::size_t dim, std::uint64_t seed,
                                        std::uint64_t stream, std::size_t first_number);

// --- timing ---------------------------------------------------------------------------------

template <typename Call>
double seconds_to_run(Call&& call) {
  const auto start = std::chrono::steady_clock::now();
  call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Summary {
  double median = 0.0;
  double p99 = 0.0;  // nearest-rank: with few samples, the largest
  double min = 0.0;
  std::size_t samples = 0;
};
// REQUIRES: samples is not empty.
Summary summarize(std::vector<double> samples);

// --- the machine's bounds ------------------------------------------------------------------

// Seconds of each of `passes` timed passes that read `bytes` once as 64-bit words and sum
// them (the sum is kept, so the reads stay), `threads` threads each reading a contiguous
// share: the memory-bandwidth bound of any scan over those bytes with that many threads.
// The threads are started once and synchronised per pass with a barrier, as a worker pool
// would be; one untimed pass comes first. Trailing bytes past the last whole word are not read.
// REQUIRES: threads >= 1.
std::vector<double> seconds_to_read_memory(std::span<const std::byte> bytes, std::size_t threads,
                                           std::size_t passes);

// --- files ----------------------------------------------------------------------------------

// A fresh, uniquely named folder under `parent` for one run's files, removed with everything
// in it on destruction, so an interrupted comparison never leaves gigabytes behind twice.
class ScratchDir {
 public:
  explicit ScratchDir(const std::filesystem::path& parent);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// The `--dir` option of the workloads that write files into a ScratchDir.
void add_scratch_dir_option(CLI::App& app, std::string& dir);

// Seconds to write `bytes` bytes to a new plain file with write() and make them durable
// with fsync(): the disk bound for anything that writes that much durably. Removes the
// file afterwards. Throws std::system_error.
double seconds_to_write_and_fsync(const std::filesystem::path& path, std::uintmax_t bytes);

// Seconds to read a whole file with read() into one buffer of its size: the bound for
// anything that must load the file. Throws std::system_error.
double seconds_to_read_whole_file(const std::filesystem::path& path);

// --- results --------------------------------------------------------------------------------

struct Result {
  std::string metric;   // what was measured, e.g. "save_batch"
  std::size_t n = 0;    // entries involved
  std::size_t dim = 0;  // embedding dimension
  std::string dtype;    // "f32", "f16", or "bytes" for raw I/O
  double value = 0.0;
  std::string unit;  // "entries/s", "s", "MB/s", ...
};

// A result set beside its bound or peer measured in the same run.
struct Comparison {
  double ratio = 0.0;    // the result's value / the baseline's
  std::string baseline;  // what it is compared with
};

// Prints results as they come: an aligned table for people, or (json) one JSON object per
// line with keys workload, metric, n, dim, dtype, value, unit [, ratio, baseline], notes,
// command.
class Reporter {
 public:
  Reporter(std::string workload, std::string command, bool json);
  // A line about the whole run (machine, conditions); in JSON mode it goes into every row.
  void note(const std::string& text);
  void add(const Result& result, const std::optional<Comparison>& comparison = std::nullopt);

 private:
  std::string workload_;
  std::string command_;
  bool json_;
  bool header_printed_ = false;
  std::vector<std::string> notes_;
};

// One column of a RowReporter's rows: the JSON key, which is also the table heading, the table
// width, and where the column appears.
struct Column {
  enum class Shown { everywhere, table_only, json_only };
  std::string key;
  int width = 10;
  bool left_aligned = false;
  Shown shown = Shown::everywhere;
};

// Prints rows of named columns as they come: an aligned table for people, or (json) one
// JSON object per line with "workload" first, then each column's cell under its key (null
// cells left out), then "notes" and "command". Cells are JSON values: strings, integers or
// numbers (shown with four significant digits, or whole from 1000 up, in the table).
// set_columns() starts a new table, so one run can print several.
class RowReporter {
 public:
  RowReporter(std::string workload, std::string command, bool json);
  void set_columns(std::vector<Column> columns);
  void note(const std::string& text);
  // REQUIRES: set_columns() was called and cells.size() equals the number of columns.
  void add(const std::vector<nlohmann::json>& cells);

 private:
  std::string workload_;
  std::string command_;
  bool json_;
  std::vector<Column> columns_;
  bool header_printed_ = false;
  std::vector<std::string> notes_;
};

// "edgehdf5-bench ARGS...": the command line that produced a run, for its results.
std::string command_line(int argc, char** argv);

}  // namespace edgehdf5::bench
