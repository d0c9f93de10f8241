// edgehdf5-bench crash --kills N: real crashes, counted. A writer (the synchronous HDF5Memory,
// then AsyncHDF5Memory) runs in a child process and is killed with SIGKILL at a random moment,
// N times per writer. The child saves batches, deletes, compacts now and then, flushes, and
// checkpoints often (a small checkpoint_log_bytes), so kills land in every phase; after each
// flush() returns it writes the batch numbers that flush made durable into a pipe. After each
// kill the parent checks the file as a user would find it:
//   - verify_file passes and the file opens (recovery replays the log);
//   - every batch the child saw flushed is there, with its delete (batches % 3 == 0 lose their
//     first entry right after the save);
//   - every batch is whole (save_batch is atomic) and nothing is applied twice (chunks unique).
// Each broken invariant is one violation; the run prints kills, recoveries (kills after which
// the file reopened and verified), violations and time, per writer. The same checks as CTest's
// tests/store/test_crash.cpp, which does 60 kills; this runs as many as asked.
// The file starts anew every --kills-per-file kills, so the checks do not grow with N.

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/async_memory.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/version.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct CrashOptions {
  std::size_t kills = 100;  // per writer
  std::size_t kills_per_file = 50;
  std::uint64_t max_delay_us = 60'000;
  std::size_t embedding_dim = 8;
  std::vector<std::string> writers = {"sync", "async"};
  std::uint64_t seed = 20261202;
  std::string dir = fs::temp_directory_path().string();
  bool json = false;
  // Checks the checker: the child acknowledges each batch one step before it saves it (the
  // batch after the one it is saving) instead of after its flush, so every kill after the
  // first acknowledgement must show up as a lost batch (violations > 0, exit status 1). (With
  // the acknowledgement just before the save, a kill had to land in that gap of microseconds:
  // 30 kills found none in one CI run.) (Acknowledging between save and flush would not do: a SIGKILL keeps what was
  // written but not fsynced; only a power cut loses it, tests/faults covers that.)
  bool ack_before_save = false;
};

// Set in the child only, from CrashOptions::ack_before_save.
bool g_ack_before_save = false;

// Batch `batch` of child `round` holds 2..40 entries tagged "r<round>-b<batch>-n<size>", so the
// parent can tell from the file alone which batch each row came from and how big it was.
std::vector<MemoryEntry> make_batch(int round, int batch, std::size_t dim, std::mt19937_64& rng) {
  const int size = 2 + static_cast<int>(rng() % 39);  // >= 2: the delete leaves one
  const std::string tag =
      "r" + std::to_string(round) + "-b" + std::to_string(batch) + "-n" + std::to_string(size);
  std::normal_distribution<float> normal;
  std::vector<MemoryEntry> entries(static_cast<std::size_t>(size));
  for (int i = 0; i < size; ++i) {
    MemoryEntry& entry = entries[static_cast<std::size_t>(i)];
    entry.chunk = tag + "-i" + std::to_string(i) + " memory text";
    entry.tags = tag;
    entry.source_channel = "crash";
    entry.timestamp = 1.7e9 + batch;
    entry.embedding.resize(dim);
    for (float& value : entry.embedding) value = normal(rng);
  }
  return entries;
}

OpenOptions writer_options() {
  OpenOptions options;
  options.checkpoint_log_bytes = 32 << 10;  // checkpoint often, so kills land inside them
  return options;
}

void report_flushed(int report_fd, int batch) {
  if (::write(report_fd, &batch, sizeof batch) != sizeof batch) ::_exit(4);
}

// The synchronous writer: one batch, its delete, a compaction every 11th, then flush.
[[noreturn]] void run_sync_writer(const fs::path& path, int round, std::size_t dim, int report_fd) {
  HDF5Memory memory = HDF5Memory::open(path, writer_options());
  std::mt19937_64 rng(static_cast<std::uint64_t>(round) * 7919 + 1);
  for (int batch = 0;; ++batch) {
    if (g_ack_before_save) {
      if (batch == 0) report_flushed(report_fd, batch);
      report_flushed(report_fd, batch + 1);
    }
    const std::vector<MemoryId> ids = memory.save_batch(make_batch(round, batch, dim, rng));
    if (batch % 3 == 0) memory.remove(ids.front());
    if (batch % 11 == 10) memory.compact();
    memory.flush();
    if (!g_ack_before_save) report_flushed(report_fd, batch);
  }
}

// The asynchronous writer: four batches in flight, their deletes, one flush for the group
// (group commit), then all four are reported.
[[noreturn]] void run_async_writer(const fs::path& path, int round, std::size_t dim,
                                   int report_fd) {
  AsyncHDF5Memory memory = AsyncHDF5Memory::open(path, writer_options());
  std::mt19937_64 rng(static_cast<std::uint64_t>(round) * 7919 + 2);
  constexpr int kInFlight = 4;
  for (int first = 0;; first += kInFlight) {
    const auto acknowledge = [&](int group) {
      for (int batch = group; batch < group + kInFlight; ++batch) report_flushed(report_fd, batch);
    };
    if (g_ack_before_save) {
      if (first == 0) acknowledge(first);
      acknowledge(first + kInFlight);
    }
    std::vector<std::future<std::vector<MemoryId>>> saved;
    for (int batch = first; batch < first + kInFlight; ++batch) {
      saved.push_back(memory.save_batch(make_batch(round, batch, dim, rng)));
    }
    std::vector<std::future<void>> removed;
    for (int i = 0; i < kInFlight; ++i) {
      const std::vector<MemoryId> ids = saved[static_cast<std::size_t>(i)].get();
      if ((first + i) % 3 == 0) removed.push_back(memory.remove(ids.front()));
    }
    for (auto& done : removed) done.get();
    memory.flush();
    if (!g_ack_before_save) acknowledge(first);
  }
}

[[noreturn]] void run_writer(const std::string& writer, const fs::path& path, int round,
                             std::size_t dim, int report_fd) {
  try {
    if (writer == "async") run_async_writer(path, round, dim, report_fd);
    run_sync_writer(path, round, dim, report_fd);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "crash writer failed: %s\n", error.what());
    ::_exit(3);
  }
}

struct BatchTag {
  int round = 0, batch = 0, size = 0;
};

// What the parent found after one kill.
struct Check {
  bool recovered = false;  // opened and verified
  std::vector<std::string> violations;
};

// Checks every invariant over the whole file. `flushed[round]` holds the batches of each round
// whose flush returned in the child.
Check check_file(const fs::path& path, const std::map<int, std::set<int>>& flushed) {
  Check check;
  const auto problems = verify_file(path);
  for (const std::string& problem : problems) check.violations.push_back("verify: " + problem);
  std::map<std::pair<int, int>, int> present;  // (round, batch) -> active entries
  std::map<std::pair<int, int>, int> sizes;
  try {
    OpenOptions options;
    options.read_only = true;
    const HDF5Memory memory = HDF5Memory::open(path, options);
    const MemoryColumns& columns = memory.columns();
    std::set<std::string> chunks;
    for (std::size_t row = 0; row < columns.rows(); ++row) {
      if (!chunks.insert(columns.chunks[row]).second) {
        check.violations.push_back("applied twice: " + columns.chunks[row]);
      }
      if (columns.tombstones[row]) continue;
      BatchTag tag;
      if (std::sscanf(columns.tags[row].c_str(), "r%d-b%d-n%d", &tag.round, &tag.batch,
                      &tag.size) != 3) {
        check.violations.push_back("row " + std::to_string(row) + " has a foreign tag '" +
                                   columns.tags[row] + "'");
        continue;
      }
      ++present[{tag.round, tag.batch}];
      sizes[{tag.round, tag.batch}] = tag.size;
    }
  } catch (const std::exception& error) {
    check.violations.push_back(std::string("open: ") + error.what());
    return check;
  }
  check.recovered = problems.empty();
  const auto where = [](const std::pair<int, int>& key) {
    return "round " + std::to_string(key.first) + " batch " + std::to_string(key.second);
  };
  for (const auto& [key, count] : present) {
    const int size = sizes[key];
    const bool deletes_one = key.second % 3 == 0;
    if (count != size && !(deletes_one && count == size - 1)) {
      check.violations.push_back("batch not whole: " + where(key) + " has " +
                                 std::to_string(count) + " of " + std::to_string(size));
    }
  }
  for (const auto& [round, batches] : flushed) {
    for (const int batch : batches) {
      const auto it = present.find({round, batch});
      if (it == present.end()) {
        check.violations.push_back("flushed batch lost: " + where({round, batch}));
      } else if (batch % 3 == 0 && it->second != sizes[{round, batch}] - 1) {
        check.violations.push_back("flushed delete lost: " + where({round, batch}));
      }
    }
  }
  return check;
}

void create_store(const fs::path& path, std::size_t dim) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = dim;
  config.compact_threshold = 0;  // compaction only where the writer asks for it
  HDF5Memory::create(config).close();
}

struct WriterTotals {
  std::size_t kills = 0;
  std::size_t recoveries = 0;
  std::size_t violations = 0;
  std::size_t early_exits = 0;      // the child ended before the kill (a writer error)
  std::size_t flushed_batches = 0;  // acknowledged by the children, all checked
  std::size_t sidecars_seen = 0;    // kills that left the log or a half-made checkpoint
  double seconds = 0.0;
  std::vector<double> check_ms;
};

bool sidecars_present(const fs::path& path) {
  const std::string prefix = path.filename().string() + ".";
  for (const auto& item : fs::directory_iterator(path.parent_path())) {
    if (item.path().filename().string().starts_with(prefix)) return true;
  }
  return false;
}

WriterTotals run_kills(const std::string& writer, const CrashOptions& options, const fs::path& dir,
                       std::mt19937_64& rng) {
  WriterTotals totals;
  const auto start = Clock::now();
  fs::path path;
  std::map<int, std::set<int>> flushed;
  for (std::size_t kill = 0; kill < options.kills; ++kill) {
    if (kill % options.kills_per_file == 0) {
      if (!path.empty()) fs::remove(path);
      path = dir / (writer + "-" + std::to_string(kill) + ".h5");
      create_store(path, options.embedding_dim);
      flushed.clear();
    }
    const int round = static_cast<int>(kill);
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);  // nothing buffered is written twice by the child
    const pid_t child = ::fork();
    if (child < 0) throw std::runtime_error("fork failed");
    if (child == 0) {
      ::close(pipe_fds[0]);
      g_ack_before_save = options.ack_before_save;
      run_writer(writer, path, round, options.embedding_dim, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    // From "before the file is even open" to "deep into the workload".
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % (options.max_delay_us + 1)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ++totals.kills;
    std::set<int>& acknowledged = flushed[round];
    int batch = 0;
    while (::read(pipe_fds[0], &batch, sizeof batch) == sizeof batch) acknowledged.insert(batch);
    ::close(pipe_fds[0]);
    totals.flushed_batches += acknowledged.size();
    if (!WIFSIGNALED(status)) {
      ++totals.early_exits;
      ++totals.violations;
      std::fprintf(stderr, "%s kill %zu: the writer exited with status %d before the kill\n",
                   writer.c_str(), kill, WEXITSTATUS(status));
    }
    if (sidecars_present(path)) ++totals.sidecars_seen;
    const auto check_start = Clock::now();
    const Check check = check_file(path, flushed);
    totals.check_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - check_start).count());
    if (check.recovered) ++totals.recoveries;
    totals.violations += check.violations.size();
    for (const std::string& violation : check.violations) {
      std::fprintf(stderr, "%s kill %zu: %s\n", writer.c_str(), kill, violation.c_str());
    }
  }
  if (!path.empty()) fs::remove(path);
  totals.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return totals;
}

}  // namespace

int run_crash_workload(int argc, char** argv) {
  CrashOptions options;
  CLI::App app{
      "SIGKILLs a writer (sync HDF5Memory, AsyncHDF5Memory) in a child process at random "
      "moments; after each kill checks that every acknowledged flush is there, batches are "
      "whole, nothing is applied twice and verify_file passes.",
      "edgehdf5-bench crash"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--kills", options.kills, "Kills per writer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--kills-per-file", options.kills_per_file,
                 "Kills after which a new file is started (keeps each check small)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-delay-us", options.max_delay_us,
                 "Kills come 0..this many microseconds after the child starts")
      ->capture_default_str();
  app.add_option("--writers", options.writers, "Writers to kill: sync, async")
      ->delimiter(',')
      ->check(CLI::IsMember({"sync", "async"}))
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the kill moments")->capture_default_str();
  app.add_flag("--ack-before-save", options.ack_before_save,
               "Check the checker: acknowledge each batch one step before saving it (must report "
               "violations)");
  add_scratch_dir_option(app, options.dir);
  CLI11_PARSE(app, argc, argv);

  RowReporter report("crash", command_line(argc, argv), options.json);
  const ScratchDir scratch(options.dir);
  report.note("edgehdf5 " + std::string(kVersion) + ", SIGKILL 0-" +
              std::to_string(options.max_delay_us) + " us after the writer starts, seed " +
              std::to_string(options.seed) + ", a new file every " +
              std::to_string(options.kills_per_file) + " kills, files in " +
              scratch.path().string());
  report.note("recoveries: kills after which the file reopened and verified; violations: "
              "broken invariants (lost flushed batch or delete, partial batch, duplicate, "
              "verify problem, writer error); check_ms: verify + reopen + full scan per kill");
  report.set_columns({
      {"writer", 7, true},
      {"kills", 6},
      {"recoveries", 10},
      {"violations", 10},
      {"early_exits", 11},
      {"flushed", 8},
      {"sidecars", 8},
      {"check_ms_p50", 12},
      {"check_ms_p99", 12},
      {"seconds", 8},
  });
  std::mt19937_64 rng(options.seed);
  std::size_t violations = 0;
  for (const std::string& writer : options.writers) {
    const WriterTotals totals = run_kills(writer, options, scratch.path(), rng);
    const Summary check = summarize(totals.check_ms);
    report.add({writer, totals.kills, totals.recoveries, totals.violations, totals.early_exits,
                totals.flushed_batches, totals.sidecars_seen, check.median, check.p99,
                totals.seconds});
    violations += totals.violations;
  }
  return violations == 0 ? 0 : 1;
}

}  // namespace edgehdf5::bench
