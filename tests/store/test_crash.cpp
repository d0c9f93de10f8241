// Crash safety, for real: a child process writes to a memory file (batches, deletes,
// flushes, checkpoints, compactions) and is killed with SIGKILL at a random moment, many
// times over. After each kill the parent reopens the file and checks that
//   - it opens (recovery replays the log) and passes verify_file;
//   - every batch the child saw flushed is there, and every delete it saw flushed holds;
//   - every batch is there whole or not at all (save_batch is atomic), none twice.
// A second test runs readers in this process while a child writes and checkpoints.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "edgehdf5/error.hpp"
#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::TempDir;

constexpr std::size_t kDim = 8;

// Batch `batch` of round `round` holds `size` entries tagged "r<round>-b<batch>-n<size>";
// batches with batch % 3 == 0 lose their first entry to a delete right after the save.
std::vector<MemoryEntry> make_batch(int round, int batch, std::mt19937_64& rng) {
  const int size = 2 + static_cast<int>(rng() % 39);  // >= 2: a delete leaves one
  const std::string tag =
      "r" + std::to_string(round) + "-b" + std::to_string(batch) + "-n" + std::to_string(size);
  std::vector<MemoryEntry> entries;
  for (int i = 0; i < size; ++i) {
    MemoryEntry entry = testing::make_entry(rng, kDim, i);
    entry.tags = tag;
    entry.chunk = tag + "-i" + std::to_string(i) + " " + entry.chunk;
    entries.push_back(std::move(entry));
  }
  return entries;
}

// The child: writes until killed, reporting each batch number once its flush returned.
[[noreturn]] void run_writer(const std::filesystem::path& path, int round, int report_fd) {
  try {
    OpenOptions options;
    options.checkpoint_log_bytes = 32 << 10;  // checkpoint often, so kills land inside them
    HDF5Memory memory = HDF5Memory::open(path, options);
    std::mt19937_64 rng(static_cast<std::uint64_t>(round) * 7919);
    for (int batch = 0;; ++batch) {
      const std::vector<MemoryId> ids = memory.save_batch(make_batch(round, batch, rng));
      if (batch % 3 == 0) memory.remove(ids.front());
      if (batch % 11 == 10) memory.compact();
      memory.flush();
      if (::write(report_fd, &batch, sizeof batch) != sizeof batch) ::_exit(4);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "writer failed: %s\n", error.what());
    ::_exit(3);
  }
}

// An empty store of kDim; compaction happens only when the workload asks for it.
void create_store(const std::filesystem::path& path) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = kDim;
  config.compact_threshold = 0;
  HDF5Memory::create(config).close();
}

struct BatchTag {
  int round, batch, size;
};

BatchTag parse_tag(const std::string& tag) {
  BatchTag parsed{};
  EXPECT_EQ(std::sscanf(tag.c_str(), "r%d-b%d-n%d", &parsed.round, &parsed.batch, &parsed.size), 3)
      << tag;
  return parsed;
}

// Checks the invariants over the whole file; `flushed[round]` is the last batch of each
// round the writer saw flushed (-1 if none).
void check_file(const std::filesystem::path& path, const std::map<int, int>& flushed) {
  const auto problems = verify_file(path);
  ASSERT_TRUE(problems.empty()) << problems.front();
  OpenOptions options;
  options.read_only = true;
  const HDF5Memory memory = HDF5Memory::open(path, options);
  const MemoryColumns& columns = memory.columns();
  std::map<std::pair<int, int>, int> present;  // (round, batch) -> active entries
  std::map<std::pair<int, int>, int> sizes;
  std::set<std::string> chunks;
  for (std::size_t row = 0; row < columns.rows(); ++row) {
    ASSERT_TRUE(chunks.insert(columns.chunks[row]).second) << "duplicate: " << columns.chunks[row];
    if (columns.tombstones[row]) continue;
    const BatchTag tag = parse_tag(columns.tags[row]);
    ++present[{tag.round, tag.batch}];
    sizes[{tag.round, tag.batch}] = tag.size;
  }
  for (const auto& [key, count] : present) {
    const int size = sizes[key];
    const bool deletes_one = key.second % 3 == 0;
    // Whole, or whole minus the one delete; never a part of a batch.
    EXPECT_TRUE(count == size || (deletes_one && count == size - 1))
        << "round " << key.first << " batch " << key.second << ": " << count << " of " << size;
  }
  for (const auto& [round, last] : flushed) {
    for (int batch = 0; batch <= last; ++batch) {
      const auto it = present.find({round, batch});
      ASSERT_NE(it, present.end()) << "flushed batch lost: round " << round << " batch " << batch;
      if (batch % 3 == 0) {
        const int expected = sizes[{round, batch}] - 1;
        EXPECT_EQ(it->second, expected) << "flushed delete lost";
      }
    }
  }
}

TEST(Crash, KillNineAtRandomMomentsLosesNothingFlushed) {
  TempDir dir;
  const auto path = dir / "crash.h5";
  create_store(path);
  const std::uint64_t seed = 20261125;
  std::mt19937_64 rng(seed);
  std::map<int, int> flushed;
  int killed_in_checkpoint = 0;  // a half-written checkpoint file was left behind
  constexpr int kRounds = 60;
  for (int round = 0; round < kRounds; ++round) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      run_writer(path, round, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    // From "before the file is even open" to "deep into the workload".
    const auto delay = std::chrono::microseconds(rng() % 60000);
    std::this_thread::sleep_for(delay);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited early with status " << WEXITSTATUS(status)
                                     << " in round " << round;
    int last = -1, batch;
    while (::read(pipe_fds[0], &batch, sizeof batch) == sizeof batch) last = batch;
    ::close(pipe_fds[0]);
    flushed[round] = last;
    if (std::filesystem::exists(path.string() + ".tmp")) ++killed_in_checkpoint;
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round) +
                 " killed after " + std::to_string(delay.count()) + " us, last flushed batch " +
                 std::to_string(last));
    check_file(path, flushed);
    if (HasFatalFailure()) return;
  }
  // A writer can still open and continue after all of it.
  HDF5Memory memory = HDF5Memory::open(path);
  EXPECT_GT(memory.count_active(), 0u);
  std::printf("%d of %d kills landed inside a checkpoint; %zu memories at the end\n",
              killed_in_checkpoint, kRounds, memory.count());
}

TEST(Crash, ReadersInAnotherProcessSeeConsistentStatesWhileAWriterWorks) {
  TempDir dir;
  const auto path = dir / "shared.h5";
  create_store(path);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    run_writer(path, 0, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::size_t largest = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int reads = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    check_file(path, {});  // opens read-only while the writer appends and checkpoints
    if (HasFatalFailure()) break;
    OpenOptions options;
    options.read_only = true;
    const std::size_t rows = HDF5Memory::open(path, options).count();
    EXPECT_GE(rows + 200, largest);  // never goes back (beyond compaction's drop)
    largest = std::max(largest, rows);
    ++reads;
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(pipe_fds[0]);
  EXPECT_GT(reads, 5);
  EXPECT_GT(largest, 0u);
}

// A full disk, made real with RLIMIT_FSIZE: the kernel refuses writes past the limit (EFBIG)
// for the log and for HDF5's own writes alike.
TEST(Crash, FullDiskGivesAClearErrorAndLosesNothing) {
  TempDir dir;
  const auto path = dir / "full.h5";
  {
    MemoryConfig config;
    config.path = path;
    config.embedding_dim = 64;
    HDF5Memory::create(config).close();
  }
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{256 << 10, 256 << 10};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int saved = 0, outcome = 0;
    try {
      HDF5Memory memory = HDF5Memory::open(path);
      std::mt19937_64 rng(5);
      try {
        for (;;) {
          std::vector<MemoryEntry> batch;
          for (int i = 0; i < 10; ++i) batch.push_back(testing::make_entry(rng, 64, saved + i));
          memory.save_batch(batch);
          saved += 10;
        }
      } catch (const Error& error) {
        const std::string message = error.what();
        outcome = error.code() == ErrorCode::io && message.find("full.h5.wal") != std::string::npos &&
                          message.find("File too large") != std::string::npos
                      ? 1
                      : 2;
      }
      memory.flush();  // what was saved is still good
      bool checkpoint_failed = false;
      try {
        memory.checkpoint();  // the new file would exceed the limit too
      } catch (const Error&) {
        checkpoint_failed = true;
      }
      if (!checkpoint_failed || std::filesystem::exists(path.string() + ".tmp")) outcome = 3;
    } catch (const std::exception& error) {
      std::fprintf(stderr, "unexpected: %s\n", error.what());
      outcome = 4;
    }
    const int report[2] = {saved, outcome};
    [[maybe_unused]] auto written = ::write(pipe_fds[1], report, sizeof report);
    ::_exit(0);  // no destructor: it would try to checkpoint again
  }
  ::close(pipe_fds[1]);
  int report[2] = {-1, -1};
  ASSERT_EQ(::read(pipe_fds[0], report, sizeof report), static_cast<ssize_t>(sizeof report));
  ::waitpid(child, nullptr, 0);
  ::close(pipe_fds[0]);
  EXPECT_EQ(report[1], 1) << "1 = a precise io error naming the log; 3 = checkpoint misbehaved";
  ASSERT_GT(report[0], 0);
  EXPECT_TRUE(verify_file(path).empty());
  const HDF5Memory memory = HDF5Memory::open(path);
  EXPECT_EQ(memory.count(), static_cast<std::size_t>(report[0]));  // every save that returned
}

}  // namespace
}  // namespace edgehdf5
