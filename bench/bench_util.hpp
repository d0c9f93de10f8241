#pragma once
// What every edgehdf5-bench workload needs: seeded data, timing statistics, raw file I/O to
// measure the machine's own bounds with, and one way of printing results.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "edgehdf5/entry.hpp"

namespace edgehdf5::bench {

// --- data -----------------------------------------------------------------------------------

// `count` random unit vectors of `dim` floats, row after row (Gaussian components, then
// normalised: directions uniform on the sphere). The same (seed, stream) gives the same
// vectors; distinct streams are independent, so batch b can be made alone as stream b.
std::vector<float> random_unit_vectors(std::size_t count, std::size_t dim, std::uint64_t seed,
                                       std::uint64_t stream = 0);

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

// "edgehdf5-bench ARGS...": the command line that produced a run, for its results.
std::string command_line(int argc, char** argv);

}  // namespace edgehdf5::bench
