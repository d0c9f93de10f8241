#include "bench_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <array>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;

std::mt19937_64 seeded_generator(std::uint64_t seed, std::uint64_t stream) {
  // seed_seq mixes all four halves, so neighbouring (seed, stream) pairs are unrelated.
  std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                         static_cast<std::uint32_t>(stream),
                         static_cast<std::uint32_t>(stream >> 32)};
  return std::mt19937_64(sequence);
}

[[noreturn]] void throw_errno(const std::string& what, const fs::path& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

// An open POSIX file descriptor, closed on destruction.
class FileDescriptor {
 public:
  FileDescriptor(const fs::path& path, int flags)
      : path_(path), fd_(::open(path.c_str(), flags, 0644)) {
    if (fd_ < 0) throw_errno("cannot open", path);
  }
  ~FileDescriptor() { ::close(fd_); }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  void write_all(const std::byte* data, std::size_t size) const {
    while (size > 0) {
      const ssize_t written = ::write(fd_, data, size);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) throw_errno("cannot write", path_);
      data += written;
      size -= static_cast<std::size_t>(written);
    }
  }
  void read_all(std::byte* data, std::size_t size) const {
    while (size > 0) {
      const ssize_t got = ::read(fd_, data, size);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw_errno("cannot read", path_);
      if (got == 0) throw std::runtime_error("file shrank while reading: " + path_.string());
      data += got;
      size -= static_cast<std::size_t>(got);
    }
  }
  void sync() const {
    if (::fsync(fd_) != 0) throw_errno("cannot fsync", path_);
  }
  std::size_t size() const {
    struct stat status {};
    if (::fstat(fd_, &status) != 0) throw_errno("cannot stat", path_);
    return static_cast<std::size_t>(status.st_size);
  }

 private:
  fs::path path_;
  int fd_;
};

// The table's columns: metric, n, dim, dtype, value, unit, ratio, vs.
struct TableColumn {
  int width;
  bool left_aligned;
};
constexpr std::array<TableColumn, 8> kTableColumns = {{
    {36, true}, {9, false}, {5, false}, {6, true}, {12, false}, {10, true}, {8, false}, {0, true},
}};

void print_table_row(const std::array<std::string, kTableColumns.size()>& cells) {
  std::ostringstream line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const TableColumn& column = kTableColumns[i];
    line << (column.left_aligned ? std::left : std::right) << std::setw(column.width) << cells[i]
         << "  ";
  }
  std::string text = line.str();
  text.erase(text.find_last_not_of(' ') + 1);  // empty trailing cells leave only padding
  std::cout << text << std::endl;              // flushed per row: a long run shows progress
}

std::string format_number(double value) {
  char text[32];
  // Large rates as whole numbers, seconds and ratios with four significant digits.
  std::snprintf(text, sizeof text, std::fabs(value) >= 1000.0 ? "%.0f" : "%.4g", value);
  return text;
}

}  // namespace

std::vector<float> random_unit_vectors(std::size_t count, std::size_t dim, std::uint64_t seed,
                                       std::uint64_t stream) {
  std::mt19937_64 generator = seeded_generator(seed, stream);
  std::normal_distribution<float> gaussian;
  std::vector<float> vectors(count * dim);
  for (std::size_t row = 0; row < count; ++row) {
    float* vector = vectors.data() + row * dim;
    double squared_norm = 0.0;
    for (std::size_t i = 0; i < dim; ++i) {
      vector[i] = gaussian(generator);
      squared_norm += static_cast<double>(vector[i]) * vector[i];
    }
    const auto inverse_norm = static_cast<float>(1.0 / std::sqrt(squared_norm));
    for (std::size_t i = 0; i < dim; ++i) vector[i] *= inverse_norm;
  }
  return vectors;
}

std::vector<MemoryEntry> random_entries(std::size_t count, std::size_t dim, std::uint64_t seed,
                                        std::uint64_t stream, std::size_t first_number) {
  static constexpr const char* kChannels[] = {"chat", "email", "voice"};
  const std::vector<float> vectors = random_unit_vectors(count, dim, seed, stream);
  std::vector<MemoryEntry> entries(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t number = first_number + i;
    MemoryEntry& entry = entries[i];
    entry.chunk = "memory " + std::to_string(number) + ": the user talked about topic " +
                  std::to_string(number % 997) + " and asked for a follow-up";
    entry.embedding.assign(vectors.begin() + static_cast<std::ptrdiff_t>(i * dim),
                           vectors.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
    entry.source_channel = kChannels[number % 3];
    entry.timestamp = 1.7e9 + static_cast<double>(number);
    entry.session_id = "session-" + std::to_string(number / 1000);
    entry.tags = "bench,topic" + std::to_string(number % 7);
  }
  return entries;
}

Summary summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const std::size_t count = samples.size();
  const std::size_t middle = count / 2;
  const double median = count % 2 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2;
  const auto p99_rank = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(count)));
  return {.median = median, .p99 = samples[p99_rank - 1], .min = samples.front(), .samples = count};
}

ScratchDir::ScratchDir(const fs::path& parent) {
  fs::create_directories(parent);
  const std::string stem = "edgehdf5-bench-" + std::to_string(::getpid());
  for (int attempt = 0;; ++attempt) {
    path_ = parent / (attempt == 0 ? stem : stem + "-" + std::to_string(attempt));
    if (fs::create_directory(path_)) return;
  }
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;  // a cleanup failure must not mask the run's own outcome
  fs::remove_all(path_, ignored);
}

double seconds_to_write_and_fsync(const fs::path& path, std::uintmax_t bytes) {
  // Random bytes, in case the file system compresses or deduplicates.
  std::vector<std::byte> block(std::size_t{8} << 20);
  std::mt19937_64 generator = seeded_generator(bytes, 0);
  for (std::byte& byte : block) byte = static_cast<std::byte>(generator());

  const double seconds = seconds_to_run([&] {
    const FileDescriptor file(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
    for (std::uintmax_t left = bytes; left > 0;) {
      const auto size = static_cast<std::size_t>(std::min<std::uintmax_t>(left, block.size()));
      file.write_all(block.data(), size);
      left -= size;
    }
    file.sync();
  });
  fs::remove(path);
  return seconds;
}

double seconds_to_read_whole_file(const fs::path& path) {
  // The buffer outlives the timing: freeing it is not part of loading, just as closing an
  // HDF5Memory is not part of opening it.
  std::unique_ptr<std::byte[]> contents;
  return seconds_to_run([&] {
    const FileDescriptor file(path, O_RDONLY | O_CLOEXEC);
    const std::size_t size = file.size();
    contents = std::make_unique_for_overwrite<std::byte[]>(size);
    file.read_all(contents.get(), size);
  });
}

Reporter::Reporter(std::string workload, std::string command, bool json)
    : workload_(std::move(workload)), command_(std::move(command)), json_(json) {
  if (!json_) std::cout << "# " << command_ << '\n';
}

void Reporter::note(const std::string& text) {
  notes_.push_back(text);
  if (!json_) std::cout << "# " << text << '\n';
}

void Reporter::add(const Result& result, const std::optional<Comparison>& comparison) {
  if (json_) {
    nlohmann::ordered_json row = {{"workload", workload_}, {"metric", result.metric},
                                  {"n", result.n},         {"dim", result.dim},
                                  {"dtype", result.dtype}, {"value", result.value},
                                  {"unit", result.unit}};
    if (comparison) {
      row["ratio"] = comparison->ratio;
      row["baseline"] = comparison->baseline;
    }
    if (!notes_.empty()) row["notes"] = notes_;
    row["command"] = command_;
    std::cout << row.dump() << std::endl;  // flushed per row: a long run shows progress
    return;
  }
  if (!header_printed_) {
    print_table_row({"metric", "n", "dim", "dtype", "value", "unit", "ratio", "vs"});
    header_printed_ = true;
  }
  print_table_row({result.metric, std::to_string(result.n), std::to_string(result.dim),
                   result.dtype, format_number(result.value), result.unit,
                   comparison ? format_number(comparison->ratio) + "x" : "",
                   comparison ? comparison->baseline : ""});
}

std::string command_line(int argc, char** argv) {
  std::string line = "edgehdf5-bench";
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool quote = arg.find(' ') != std::string_view::npos;
    line.append(quote ? " '" : " ").append(arg).append(quote ? "'" : "");
  }
  return line;
}

}  // namespace edgehdf5::bench
