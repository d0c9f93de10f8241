#include "bench_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "edgehdf5/half.hpp"
#include "edgehdf5/search.hpp"

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

struct TableColumn {
  int width;
  bool left_aligned;
};
// Reporter's columns: metric, n, dim, dtype, value, unit, ratio, vs.
constexpr std::array<TableColumn, 8> kTableColumns = {{
    {36, true}, {9, false}, {5, false}, {6, true}, {12, false}, {10, true}, {8, false}, {0, true},
}};

// REQUIRES: cells.size() == columns.size().
void print_table_row(std::span<const TableColumn> columns, std::span<const std::string> cells) {
  std::ostringstream line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const TableColumn& column = columns[i];
    line << (column.left_aligned ? std::left : std::right) << std::setw(column.width) << cells[i]
         << "  ";
  }
  std::string text = line.str();
  text.erase(text.find_last_not_of(' ') + 1);  // empty trailing cells leave only padding
  std::cout << text << std::endl;              // flushed per row: a long run shows progress
}

void print_table_row(const std::array<std::string, kTableColumns.size()>& cells) {
  print_table_row(kTableColumns, cells);
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

std::vector<float> random_unit_rows(std::size_t count, std::size_t dim, std::uint64_t seed,
                                    std::uint64_t first_stream) {
  std::vector<float> rows(count * dim);
  const std::size_t blocks = (count + kRowsPerStream - 1) / kRowsPerStream;
  std::atomic<std::size_t> next_block{0};
  auto make_blocks = [&] {
    for (std::size_t block; (block = next_block.fetch_add(1)) < blocks;) {
      const std::size_t first = block * kRowsPerStream;
      const std::size_t size = std::min(kRowsPerStream, count - first);
      const std::vector<float> vectors = random_unit_vectors(size, dim, seed, first_stream + block);
      std::copy(vectors.begin(), vectors.end(), rows.begin() + static_cast<std::ptrdiff_t>(first * dim));
    }
  };
  const std::size_t helpers =
      std::min<std::size_t>(blocks, std::max(1u, std::thread::hardware_concurrency())) - (blocks > 0);
  std::vector<std::jthread> threads;
  for (std::size_t i = 0; i < helpers; ++i) threads.emplace_back(make_blocks);
  make_blocks();
  return rows;
}

MemoryColumns float32_columns(std::vector<float> vectors, std::size_t dim) {
  MemoryColumns columns;
  columns.embedding_dim = dim;
  columns.embedding_type = EmbeddingType::float32;
  const std::size_t rows = vectors.size() / dim;
  columns.norms.resize(rows);
  for (std::size_t row = 0; row < rows; ++row) {
    columns.norms[row] = compute_norm(std::span<const float>(vectors).subspan(row * dim, dim));
  }
  columns.embeddings_f32.assign(vectors.begin(), vectors.end());
  columns.tombstones.assign(rows, 0);
  columns.ids.resize(rows);
  for (std::size_t row = 0; row < rows; ++row) columns.ids[row] = static_cast<MemoryId>(row);
  return columns;
}

MemoryColumns float16_columns(std::span<const float> vectors, std::size_t dim) {
  MemoryColumns columns;
  columns.embedding_dim = dim;
  columns.embedding_type = EmbeddingType::float16;
  const std::size_t rows = vectors.size() / dim;
  columns.embeddings_f16.resize(vectors.size());
  columns.norms.resize(rows);
  std::vector<float> rounded(dim);
  for (std::size_t row = 0; row < rows; ++row) {
    for (std::size_t i = 0; i < dim; ++i) {
      const half_bits bits = float_to_half(vectors[row * dim + i]);
      columns.embeddings_f16[row * dim + i] = bits;
      rounded[i] = half_to_float(bits);
    }
    columns.norms[row] = compute_norm(rounded);  // of the stored values, as the store keeps it
  }
  columns.tombstones.assign(rows, 0);
  columns.ids.resize(rows);
  for (std::size_t row = 0; row < rows; ++row) columns.ids[row] = static_cast<MemoryId>(row);
  return columns;
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

namespace {

// Four sums, so the adds are not one chain; memcpy reads the words without breaking aliasing
// rules and compiles to plain (vector) loads.
std::uint64_t sum_words(const std::byte* data, std::size_t words) {
  std::uint64_t sums[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    for (std::size_t lane = 0; lane < 4; ++lane) {
      std::uint64_t word;
      std::memcpy(&word, data + (i + lane) * 8, 8);
      sums[lane] += word;
    }
  }
  for (; i < words; ++i) {
    std::uint64_t word;
    std::memcpy(&word, data + i * 8, 8);
    sums[0] += word;
  }
  return sums[0] + sums[1] + sums[2] + sums[3];
}

}  // namespace

std::vector<double> seconds_to_read_memory(std::span<const std::byte> bytes, std::size_t threads,
                                           std::size_t passes) {
  assert(threads >= 1);
  const std::size_t words = bytes.size() / 8;
  std::vector<double> seconds;
  seconds.reserve(passes);
  std::atomic<std::uint64_t> checksum{0};
  std::barrier sync(static_cast<std::ptrdiff_t>(threads));
  auto read_share = [&](std::size_t index) {
    const std::size_t begin = words * index / threads;
    const std::size_t end = words * (index + 1) / threads;
    for (std::size_t pass = 0; pass <= passes; ++pass) {
      // Thread 0 times from before the start barrier to after the end barrier: waking the
      // others is part of a multi-threaded scan's cost.
      const auto start = std::chrono::steady_clock::now();
      sync.arrive_and_wait();
      checksum.fetch_add(sum_words(bytes.data() + begin * 8, end - begin), std::memory_order_relaxed);
      sync.arrive_and_wait();
      if (index == 0 && pass > 0) {
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (std::size_t index = 1; index < threads; ++index) helpers.emplace_back(read_share, index);
    read_share(0);
  }
  // The atomic adds already keep the reads; this only makes the sum visibly used.
  if (checksum.load() == 0x5eed'5eed'5eed'5eedULL) std::cerr << "(checksum coincidence)\n";
  return seconds;
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

void add_scratch_dir_option(CLI::App& app, std::string& dir) {
  app.add_option("--dir", dir,
                 "Where to write the files; a scratch folder inside it is removed afterwards")
      ->capture_default_str();
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

RowReporter::RowReporter(std::string workload, std::string command, bool json)
    : workload_(std::move(workload)), command_(std::move(command)), json_(json) {
  if (!json_) std::cout << "# " << command_ << '\n';
}

void RowReporter::set_columns(std::vector<Column> columns) {
  columns_ = std::move(columns);
  header_printed_ = false;
}

void RowReporter::note(const std::string& text) {
  notes_.push_back(text);
  if (!json_) std::cout << "# " << text << '\n';
}

void RowReporter::add(const std::vector<nlohmann::json>& cells) {
  assert(cells.size() == columns_.size());
  if (json_) {
    nlohmann::ordered_json row = {{"workload", workload_}};
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].shown == Column::Shown::table_only || cells[i].is_null()) continue;
      row[columns_[i].key] = cells[i];
    }
    if (!notes_.empty()) row["notes"] = notes_;
    row["command"] = command_;
    std::cout << row.dump() << std::endl;  // flushed per row: a long run shows progress
    return;
  }
  std::vector<TableColumn> widths;
  std::vector<std::string> texts;
  std::vector<std::string> headings;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const Column& column = columns_[i];
    if (column.shown == Column::Shown::json_only) continue;
    widths.push_back({column.width, column.left_aligned});
    headings.push_back(column.key);
    const nlohmann::json& cell = cells[i];
    if (cell.is_string()) {
      texts.push_back(cell.get<std::string>());
    } else if (cell.is_number_float()) {
      texts.push_back(format_number(cell.get<double>()));
    } else if (cell.is_null()) {
      texts.emplace_back();
    } else {
      texts.push_back(cell.dump());
    }
  }
  if (!header_printed_) {
    print_table_row(widths, headings);
    header_printed_ = true;
  }
  print_table_row(widths, texts);
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
