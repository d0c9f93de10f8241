#pragma once
// A small fork-join pool: run(tasks, fn) calls fn(0..tasks-1) across the workers and the
// calling thread and returns when all are done.
//
// Who owns which pool. The exact engine owns one per SearchEngine, sized by the
// capabilities it was given (a test may ask for 4 cores on a 2-core machine), so a search
// never queues behind work it did not start. IVF-PQ's training and encoding share
// process_thread_pool(), one for the process, instead of starting threads per call: an index
// has no engine to borrow a pool from, and several indexes (or a build beside a reopen) then
// share one set of threads instead of each spawning `threads` more.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace edgehdf5::core {

// Thread safety: run() may be called from any number of threads; one job runs at a time
// and the others queue. It never deadlocks on itself: a run() made from inside a task that
// a pool's workers share (this pool's or another's) runs its tasks inline on that thread,
// as does a run() in a child forked from the process that built the pool (the child has
// none of its worker threads).
class ThreadPool {
 public:
  // `threads` counts the caller: a pool of 1 has no workers and runs everything inline.
  explicit ThreadPool(std::size_t threads);
  // Joins the workers. REQUIRES: no run() in progress.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // The threads a job may use, the caller's included.
  std::size_t size() const noexcept { return workers_.size() + 1; }
  // How many of a run's tasks may run at once from this thread now: size(), or 1 where
  // run() would run inline (inside a task, or in a forked child). Callers that split work
  // into one piece per thread ask this, not size().
  std::size_t concurrency() const noexcept;
  // Calls task(i) for every i in [0, tasks), each exactly once, and returns when all have
  // returned. If tasks throw, the rest still run and the first exception is rethrown here.
  // Inline runs stop at the first exception instead.
  void run(std::size_t tasks, const std::function<void(std::size_t)>& task);

 private:
  bool runs_inline() const noexcept;
  void work_on_current_job();
  void worker_loop();

  const pid_t owner_;  // the process whose threads workers_ are
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(std::size_t)>* task_ = nullptr;
  std::size_t task_count_ = 0;
  std::atomic<std::size_t> next_task_{0};
  std::size_t busy_workers_ = 0;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

// The CPUs this process may run on (a container or taskset may allow fewer than exist);
// at least 1.
std::size_t available_cores();

// The process-wide pool, available_cores() threads, started on first use. Never destroyed:
// its workers simply end with the process, so no static destructor can find it gone and a
// forked child never tries to join threads it does not have. Thread-safe.
ThreadPool& process_thread_pool();

}  // namespace edgehdf5::core
