// OpenOptions::lock_timeout: a writer waits for another process's lock (SQLite's busy
// timeout) instead of failing at once, and fails with ErrorCode::locked, saying how long it
// waited, when the holder keeps it longer. The holder is a real second process (fork).

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class LockTimeout : public ::testing::Test {
 protected:
  testing::TempDir dir;
  std::filesystem::path path = dir / "locked.h5";

  void SetUp() override {
    MemoryConfig config;
    config.path = path;
    config.embedding_dim = 4;
    HDF5Memory::create(config).close();
  }

  // A child process that opens the file for writing, says so through a pipe, holds the lock
  // for `hold`, saves one memory and closes. Returns its pid once it holds the lock.
  pid_t hold_lock_in_child(milliseconds hold) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(ready[0]);
      int status = 0;
      try {
        auto memory = HDF5Memory::open(path);
        if (::write(ready[1], "x", 1) != 1) status = 2;
        std::this_thread::sleep_for(hold);
        memory.save({"from the child", {1, 0, 0, 0}, "test", 1.0, "", ""});
        memory.close();
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    ::close(ready[1]);
    char byte = 0;
    EXPECT_EQ(::read(ready[0], &byte, 1), 1) << "the child never held the lock";
    ::close(ready[0]);
    return child;
  }

  static int exit_status(pid_t child) {
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_F(LockTimeout, WithoutATimeoutASecondWriterFailsAtOnce) {
  const pid_t child = hold_lock_in_child(milliseconds{500});
  const auto start = Clock::now();
  testing::expect_error([&] { HDF5Memory::open(path); }, ErrorCode::locked,
                        "already open for writing");
  EXPECT_LT(Clock::now() - start, milliseconds{400});
  EXPECT_EQ(exit_status(child), 0);
}

TEST_F(LockTimeout, AWriterWaitsForTheHolderAndSeesItsWrite) {
  const pid_t child = hold_lock_in_child(milliseconds{300});
  OpenOptions options;
  options.lock_timeout = milliseconds{10000};
  const auto start = Clock::now();
  auto memory = HDF5Memory::open(path, options);
  EXPECT_GE(Clock::now() - start, milliseconds{200});  // it did wait for the holder
  EXPECT_EQ(memory.count(), 1u);                       // and opened after its close
  EXPECT_EQ(memory.get(0).chunk, "from the child");
  memory.close();
  EXPECT_EQ(exit_status(child), 0);
}

TEST_F(LockTimeout, AHolderLongerThanTheTimeoutIsReportedWithTheWait) {
  const pid_t child = hold_lock_in_child(milliseconds{1500});
  OpenOptions options;
  options.lock_timeout = milliseconds{200};
  const auto start = Clock::now();
  testing::expect_error([&] { HDF5Memory::open(path, options); }, ErrorCode::locked,
                        "waited 200 ms");
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, milliseconds{200});
  EXPECT_LT(waited, milliseconds{1200});  // gave up near the timeout, not at the holder's end
  EXPECT_EQ(exit_status(child), 0);
}

}  // namespace
}  // namespace edgehdf5
