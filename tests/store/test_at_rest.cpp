// One file at rest: after a clean close a store is FILE alone (no FILE.wal, no FILE.lock);
// while a writer is open, and after a crash, the sidecars are there and the next open
// recovers from them. Processes racing to open, write and close one file never hold the
// writer lock together (the lock file is removed while locked, and a locker checks that the
// path still names what it locked), and a reader opening meanwhile never sees less than what
// was flushed before it started.

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "edgehdf5/error.hpp"
#include "edgehdf5/memory.hpp"
#include "store/posix_file.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::make_entries;
using testing::TempDir;

constexpr std::size_t kDim = 4;

std::set<std::string> names_in(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& item : std::filesystem::directory_iterator(dir)) {
    names.insert(item.path().filename().string());
  }
  return names;
}

MemoryConfig config_at(const std::filesystem::path& path) {
  MemoryConfig config;
  config.path = path;
  config.embedding_dim = kDim;
  return config;
}

TEST(AtRest, ACleanCloseLeavesTheFileAlone) {
  TempDir dir;
  const auto path = dir / "m.h5";
  {
    HDF5Memory memory = HDF5Memory::create(config_at(path));
    EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"m.h5", "m.h5.lock", "m.h5.wal"}));
    memory.save_batch(make_entries(5, kDim));
    memory.close();
  }
  EXPECT_EQ(names_in(dir.path()), std::set<std::string>{"m.h5"});
  {
    const HDF5Memory reader = HDF5Memory::open(path, OpenOptions{.read_only = true});
    EXPECT_EQ(reader.count(), 5u);
    EXPECT_EQ(names_in(dir.path()), std::set<std::string>{"m.h5"});  // a reader adds nothing
  }
  {
    HDF5Memory memory = HDF5Memory::open(path);  // nothing changed: close only syncs
    memory.snapshot(dir / "copy.h5");
  }  // the destructor closes as close() does
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"copy.h5", "m.h5"}));
  EXPECT_EQ(HDF5Memory::open(dir / "copy.h5", OpenOptions{.read_only = true}).count(), 5u);
}

TEST(AtRest, ACrashLeavesTheSidecarsAndTheNextOpenRecovers) {
  TempDir dir;
  const auto path = dir / "m.h5";
  HDF5Memory::create(config_at(path)).close();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    HDF5Memory memory = HDF5Memory::open(path);
    memory.save_batch(make_entries(3, kDim));
    memory.flush();
    ::_exit(0);  // no close: as a crash
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(names_in(dir.path()), (std::set<std::string>{"m.h5", "m.h5.lock", "m.h5.wal"}));
  {
    HDF5Memory memory = HDF5Memory::open(path);  // takes the unlocked, leftover lock file
    EXPECT_EQ(memory.info().log_records_replayed, 1u);
    EXPECT_EQ(memory.count(), 3u);
  }
  EXPECT_EQ(names_in(dir.path()), std::set<std::string>{"m.h5"});
  EXPECT_TRUE(verify_file(path).empty());
}

// What the racing processes share (an anonymous shared mapping made before fork).
struct Shared {
  std::atomic<int> writers_inside;  // processes holding the writer lock right now
  std::atomic<int> overlaps;        // times a process found another inside
  std::atomic<int> flushed;         // saves whose flush returned
  std::atomic<int> reader_behind;   // reads that saw fewer saves than flushed before them
  std::atomic<int> failures;        // unexpected errors
};

[[noreturn]] void race_writer(const std::filesystem::path& path, Shared& shared, int rounds,
                              int seed) {
  const std::vector<MemoryEntry> entries = make_entries(1, kDim, static_cast<std::uint64_t>(seed));
  for (int done = 0; done < rounds;) {
    try {
      HDF5Memory memory = HDF5Memory::open(path);
      if (shared.writers_inside.fetch_add(1) != 0) shared.overlaps.fetch_add(1);
      memory.save(entries.front());
      memory.flush();
      shared.flushed.fetch_add(1);
      shared.writers_inside.fetch_sub(1);
      memory.close();
      ++done;
    } catch (const Error& error) {
      if (error.code() != ErrorCode::locked) {
        shared.failures.fetch_add(1);
        ::_exit(2);
      }
      ::usleep(100);
    }
  }
  ::_exit(0);
}

[[noreturn]] void race_reader(const std::filesystem::path& path, Shared& shared, int reads) {
  for (int i = 0; i < reads; ++i) {
    try {
      const int flushed_before = shared.flushed.load();
      const HDF5Memory reader = HDF5Memory::open(path, OpenOptions{.read_only = true});
      if (static_cast<int>(reader.count()) < flushed_before) shared.reader_behind.fetch_add(1);
    } catch (const Error&) {
      shared.failures.fetch_add(1);
    }
  }
  ::_exit(0);
}

TEST(AtRest, ProcessesRacingOpenAndCloseNeverShareTheLockAndLoseNothing) {
  TempDir dir;
  const auto path = dir / "m.h5";
  HDF5Memory::create(config_at(path)).close();
  void* mapping = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
  auto* shared = new (mapping) Shared{};

  constexpr int kWriters = 3;
  constexpr int kRounds = 25;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) race_writer(path, *shared, kRounds, w);
    children.push_back(child);
  }
  const pid_t reader = ::fork();
  ASSERT_GE(reader, 0);
  if (reader == 0) race_reader(path, *shared, 60);
  children.push_back(reader);
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << child;
  }

  EXPECT_EQ(shared->overlaps.load(), 0) << "two processes held the writer lock at once";
  EXPECT_EQ(shared->failures.load(), 0);
  EXPECT_EQ(shared->reader_behind.load(), 0) << "a reader missed flushed saves";
  EXPECT_EQ(shared->flushed.load(), kWriters * kRounds);
  EXPECT_EQ(HDF5Memory::open(path, OpenOptions{.read_only = true}).count(),
            static_cast<std::size_t>(kWriters * kRounds));
  EXPECT_EQ(names_in(dir.path()), std::set<std::string>{"m.h5"});
  EXPECT_TRUE(verify_file(path).empty());
  ::munmap(mapping, sizeof(Shared));
}

// The lock protocol alone, many times over, so that lockers often land between another's
// open() and flock() of a file its holder is removing.
TEST(AtRest, LockersRacingOnARemovedLockFileNeverHoldItTogether) {
  TempDir dir;
  const auto lock_path = dir / "m.h5.lock";
  void* mapping = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
  auto* shared = new (mapping) Shared{};
  constexpr int kLockers = 4;
  constexpr int kAcquisitions = 800;
  std::vector<pid_t> children;
  for (int l = 0; l < kLockers; ++l) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int done = 0; done < kAcquisitions;) {
        try {
          const store::FileLock lock = store::FileLock::acquire(lock_path, dir / "m.h5");
          if (shared->writers_inside.fetch_add(1) != 0) shared->overlaps.fetch_add(1);
          ::usleep(20);  // a holder is inside for a while, so an overlap would be seen
          shared->writers_inside.fetch_sub(1);
          ++done;
        } catch (const Error& error) {
          if (error.code() != ErrorCode::locked) ::_exit(2);
        }
      }
      ::_exit(0);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(shared->overlaps.load(), 0) << "two lockers held the lock at once";
  EXPECT_FALSE(std::filesystem::exists(lock_path));
  ::munmap(mapping, sizeof(Shared));
}

}  // namespace
}  // namespace edgehdf5
