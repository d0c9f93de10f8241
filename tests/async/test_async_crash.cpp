// AsyncHDF5Memory when things go wrong, for real, in a child process:
//   * several threads save and delete while another flushes and reports what had completed
//     before each flush; the child is killed with SIGKILL at a random moment, again and
//     again. Every save and delete reported flushed must be in the file, and each thread's
//     saves must be there in its order, without gaps or duplicates.
//   * a file size limit (RLIMIT_FSIZE) makes writes fail: a failed save's future and the next
//     flush() report it, a failed checkpoint makes the writer reopen the store, and once the
//     limit is lifted saves work again. Nothing whose future held an id is lost.
// The parent stays single-threaded until it forks, so the children may start threads.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "async_test_util.hpp"
#include "edgehdf5/async_memory.hpp"
#include "edgehdf5/error.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::async_store_config;
using testing::TempDir;

constexpr std::size_t kDim = 8;

// Forks; the child runs `child(write_fd)` (which must not return) and the parent gets the
// child's pid and the pipe's read end.
template <typename Child>
std::pair<pid_t, int> fork_child(Child&& child) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {-1, -1};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    child(pipe_fds[1]);
    ::_exit(5);  // not reached
  }
  ::close(pipe_fds[1]);
  return {pid, pipe_fds[0]};
}

// ---- kill -9 ---------------------------------------------------------------------------------

constexpr int kProducers = 3;
constexpr int kWindow = 4;  // saves each producer keeps in flight

// What the child reports each time a flush returned: per producer, the last save and the
// last delete whose futures had completed before that flush was called (-1: none).
struct FlushedProgress {
  int saved[kProducers];
  int removed[kProducers];
};

std::string tag_for(int round, int producer, int sequence) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "r" + std::string.
  std::string tag = "r";
  tag += std::to_string(round);
  tag += "-p";
  tag += std::to_string(producer);
  tag += "-s";
  tag += std::to_string(sequence);
  return tag;
}

// A producer saves entries 0, 1, 2... in order, kWindow in flight, and deletes every fifth
// once its save completed.
void produce_until_killed(AsyncHDF5Memory& memory, int round, int producer, std::atomic<int>& saved,
                          std::atomic<int>& removed) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(round * 100 + producer));
  std::deque<std::pair<int, std::future<MemoryId>>> in_flight;
  for (int sequence = 0;; ++sequence) {
    MemoryEntry entry = testing::make_entry(rng, kDim, sequence);
    entry.tags = tag_for(round, producer, sequence);
    entry.chunk = entry.tags + " " + entry.chunk;
    in_flight.emplace_back(sequence, memory.save(std::move(entry)));
    if (in_flight.size() < kWindow) continue;
    auto [done, future] = std::move(in_flight.front());
    in_flight.pop_front();
    const MemoryId id = future.get();
    saved = done;
    if (done % 5 == 0) {
      memory.remove(id).get();
      removed = done;
    }
  }
}

[[noreturn]] void run_killed_writer(const std::filesystem::path& path, int round, int report_fd) {
  try {
    OpenOptions options;
    options.checkpoint_log_bytes = 64 << 10;  // checkpoint often, so kills land inside them
    AsyncConfig async;
    async.queue_capacity = 64;
    auto memory = AsyncHDF5Memory::open(path, options, async);
    std::atomic<int> saved[kProducers], removed[kProducers];
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      saved[p] = removed[p] = -1;
      producers.emplace_back([&, p] {
        try {
          produce_until_killed(memory, round, p, saved[p], removed[p]);
        } catch (const std::exception& error) {
          std::fprintf(stderr, "producer failed: %s\n", error.what());
          ::_exit(3);
        }
      });
    }
    for (;;) {
      FlushedProgress progress{};
      for (int p = 0; p < kProducers; ++p) {
        progress.saved[p] = saved[p];
        progress.removed[p] = removed[p];
      }
      memory.flush();
      // Smaller than PIPE_BUF, so the parent never reads half a report.
      if (::write(report_fd, &progress, sizeof progress) != sizeof progress) ::_exit(4);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "writer failed: %s\n", error.what());
    ::_exit(3);
  }
}

// Checks the whole file against the last progress each round reported.
void check_after_kill(const std::filesystem::path& path,
                      const std::map<int, FlushedProgress>& flushed) {
  const auto problems = verify_file(path);
  ASSERT_TRUE(problems.empty()) << problems.front();
  const HDF5Memory memory = HDF5Memory::open(path, {.read_only = true});
  const MemoryColumns& columns = memory.columns();
  // (round, producer) -> for each sequence number in row order, whether it is deleted.
  std::map<std::pair<int, int>, std::vector<bool>> found;
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    int round = -1, producer = -1, sequence = -1;
    ASSERT_EQ(std::sscanf(columns.tags[row].c_str(), "r%d-p%d-s%d", &round, &producer, &sequence), 3);
    std::vector<bool>& sequences = found[{round, producer}];
    ASSERT_EQ(sequence, static_cast<int>(sequences.size()))
        << "round " << round << " producer " << producer
        << ": saves out of order, missing or twice";
    sequences.push_back(columns.tombstones[row] != 0);
  }
  for (const auto& [round, progress] : flushed) {
    for (int p = 0; p < kProducers; ++p) {
      const std::vector<bool>& sequences = found[{round, p}];
      ASSERT_GT(static_cast<int>(sequences.size()), progress.saved[p])
          << "a flushed save was lost: round " << round << " producer " << p;
      for (int sequence = 0; sequence <= progress.removed[p]; sequence += 5) {
        EXPECT_TRUE(sequences[static_cast<std::size_t>(sequence)])
            << "a flushed delete was lost: round " << round << " producer " << p;
      }
    }
  }
}

TEST(async_crash, KillNineLosesNoChangeWhoseFlushReturned) {
  TempDir dir;
  const auto path = dir / "crash.h5";
  HDF5Memory::create(async_store_config(path, kDim)).close();
  const std::uint64_t seed = 20261126;
  std::mt19937_64 rng(seed);
  std::map<int, FlushedProgress> flushed;
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    const auto [child, report_fd] =
        fork_child([&](int write_fd) { run_killed_writer(path, round, write_fd); });
    ASSERT_GT(child, 0);
    const auto delay = std::chrono::milliseconds(50 + rng() % 400);
    std::this_thread::sleep_for(delay);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited early with status " << WEXITSTATUS(status);
    FlushedProgress progress, last{};
    int reports = 0;
    while (::read(report_fd, &progress, sizeof progress) == sizeof progress) {
      last = progress;
      ++reports;
    }
    ::close(report_fd);
    if (reports > 0) flushed[round] = last;
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round) +
                 " killed after " + std::to_string(delay.count()) + " ms, " +
                 std::to_string(reports) + " flushes reported");
    check_after_kill(path, flushed);
    if (HasFatalFailure()) return;
  }
  EXPECT_FALSE(flushed.empty()) << "no child ever flushed: the test checked nothing";
  // A writer can carry on after all of it.
  auto memory = AsyncHDF5Memory::open(path);
  const std::size_t before = memory.count();
  memory.save(testing::make_entries(1, kDim)[0]).get();
  EXPECT_EQ(memory.count(), before + 1);
}

// ---- failing writes --------------------------------------------------------------------------

constexpr int kMaxSaves = 2048;

// What the child found, sent through a pipe: the checks run in the child, gtest in the parent.
struct ChildReport {
  int saved = 0;                // saves whose future held an id...
  int numbers[kMaxSaves] = {};  // ...and the numbers of their entries
  char failure[512] = {};       // the first expectation that did not hold; empty if none

  void expect(bool holds, const std::string& what) {
    if (!holds && failure[0] == '\0') std::snprintf(failure, sizeof failure, "%s", what.c_str());
  }
};

MemoryEntry numbered_entry(int number) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(number));
  MemoryEntry entry = testing::make_entry(rng, 64, number);
  entry.chunk = "entry " + std::to_string(number);
  return entry;
}

// "io: <message>": what the child compares and reports.
std::string describe(const Error& error) {
  return std::string(error_code_name(error.code())) + ": " + error.what();
}

void limit_file_size(rlim_t bytes) {
  rlimit limit{};
  ::getrlimit(RLIMIT_FSIZE, &limit);
  limit.rlim_cur = std::min(bytes, limit.rlim_max);
  ::setrlimit(RLIMIT_FSIZE, &limit);
}

// The child's script; see the file's comment.
void fail_writes(const std::filesystem::path& path, ChildReport& report) {
  OpenOptions options;
  options.checkpoint_log_bytes = 0;  // a flush checkpoints once the log outgrows the .h5
  AsyncConfig async;                 // fsyncs only when flush() asks
  async.flush_interval = std::chrono::milliseconds(0);
  async.flush_pending = 0;
  auto memory = AsyncHDF5Memory::open(path, options, async);
  int next = 0;
  std::string last_error;
  // Saves `count` entries one at a time; returns how many failed.
  const auto save = [&](int count) {
    int failed = 0;
    for (int i = 0; i < count; ++i, ++next) {
      try {
        memory.save(numbered_entry(next)).get();
        if (report.saved < kMaxSaves) report.numbers[report.saved++] = next;
      } catch (const Error& error) {
        last_error = describe(error);
        ++failed;
      }
    }
    return failed;
  };
  const auto flush_error = [&]() -> std::string {
    try {
      memory.flush();
      return "";
    } catch (const Error& error) {
      return describe(error);
    }
  };
  const auto sizes = [&] {
    return memory.read([](const HDF5Memory& m) {
      return std::pair<std::uintmax_t, std::uintmax_t>(m.info().log_bytes,
                                                       std::filesystem::file_size(m.config().path));
    });
  };
  const auto is_full_disk = [](const std::string& error) {
    return error.rfind("io: ", 0) == 0 && error.find("File too large") != std::string::npos;
  };

  // 1. Appends to the log fail once it would pass the limit.
  std::uintmax_t log_bytes = 0, file_bytes = 0;
  std::tie(log_bytes, file_bytes) = sizes();
  limit_file_size(log_bytes + 2000);
  const int failed = save(20);
  report.expect(failed > 0 && failed < 20,
                "expected some saves to fail, " + std::to_string(failed) + " of 20 did");
  report.expect(is_full_disk(last_error) && last_error.find(".wal") != std::string::npos,
                "a failed save's future should name the log and the cause: " + last_error);
  std::tie(log_bytes, file_bytes) = sizes();
  report.expect(log_bytes < file_bytes, "the test needs a log smaller than the .h5 here");
  const std::string reported = flush_error();
  report.expect(reported == last_error,
                "the next flush should report the failed write, got '" + reported + "'");
  report.expect(flush_error().empty(), "a failure is reported by one flush only");

  // 2. Once the limit is lifted, saves work again.
  limit_file_size(RLIM_INFINITY);
  report.expect(save(5) == 0, "saves should work once the limit is lifted: " + last_error);
  report.expect(flush_error().empty(), "flush after the limit was lifted");

  // 3. A checkpoint fails: the log has outgrown the .h5, which cannot be rewritten.
  while (log_bytes <= file_bytes && next < kMaxSaves / 2) {
    save(10);
    std::tie(log_bytes, file_bytes) = sizes();
  }
  limit_file_size(std::max(log_bytes, file_bytes) + 1024);
  const std::string checkpoint_error = flush_error();
  report.expect(!checkpoint_error.empty(), "the flush's checkpoint should have failed");
  report.expect(memory.stats().reopens == 1, "the writer should reopen after a failed flush");
  report.expect(memory.count() == static_cast<std::size_t>(report.saved),
                "the reopened store should hold every save: " + std::to_string(memory.count()) +
                    " rows, " + std::to_string(report.saved) + " saved");
  report.expect(save(1) == 0, "a save that fits should work after the reopen: " + last_error);
  limit_file_size(RLIM_INFINITY);
  report.expect(save(5) == 0, "saves after the failure: " + last_error);
  report.expect(flush_error().empty(), "the checkpoint should work once the limit is lifted");
  report.expect(sizes().first < 1024, "the checkpoint should have emptied the log");
  memory.shutdown();
}

TEST(async_crash, FailingWritesAreReportedAndLaterSavesWork) {
  TempDir dir;
  const auto path = dir / "full.h5";
  HDF5Memory::create(async_store_config(path, 64)).close();
  const auto [child, report_fd] = fork_child([&](int write_fd) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead of killing
    auto report = std::make_unique<ChildReport>();
    try {
      fail_writes(path, *report);
    } catch (const std::exception& error) {
      report->expect(false, std::string("unexpected: ") + error.what());
    }
    const ssize_t written = ::write(write_fd, report.get(), sizeof *report);
    ::_exit(written == static_cast<ssize_t>(sizeof *report) ? 0 : 4);
  });
  ASSERT_GT(child, 0);
  auto report = std::make_unique<ChildReport>();
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(report.get());
  for (ssize_t n;
       got < sizeof *report && (n = ::read(report_fd, bytes + got, sizeof *report - got)) > 0;) {
    got += static_cast<std::size_t>(n);
  }
  ::close(report_fd);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(got, sizeof *report) << "the child died; status " << status;
  EXPECT_STREQ(report->failure, "");
  ASSERT_GT(report->saved, 0);

  EXPECT_TRUE(verify_file(path).empty());
  const HDF5Memory memory = HDF5Memory::open(path, {.read_only = true});
  std::set<std::string> expected, found;
  for (int i = 0; i < report->saved; ++i) expected.insert(numbered_entry(report->numbers[i]).chunk);
  for (const std::string& chunk : memory.columns().chunks) found.insert(chunk);
  EXPECT_EQ(memory.count(), static_cast<std::size_t>(report->saved));
  EXPECT_EQ(found, expected);
}

}  // namespace
}  // namespace edgehdf5
