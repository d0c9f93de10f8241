#include "core/thread_pool.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

namespace edgehdf5::core {
namespace {

// Set while this thread runs a task of a pool's shared job (not of an inline run). A nested
// run() waiting for workers that are busy with the outer job, or for the run lock its own
// caller holds, would never return; running the inner tasks inline is always correct, and
// the outer job already keeps every thread busy.
thread_local bool inside_pool_task = false;

class InsidePoolTask {
 public:
  InsidePoolTask() : previous_(std::exchange(inside_pool_task, true)) {}
  ~InsidePoolTask() { inside_pool_task = previous_; }
  InsidePoolTask(const InsidePoolTask&) = delete;
  InsidePoolTask& operator=(const InsidePoolTask&) = delete;

 private:
  bool previous_;
};

}  // namespace

ThreadPool::ThreadPool(std::size_t threads) : owner_(::getpid()) {
  for (std::size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

bool ThreadPool::runs_inline() const noexcept {
  // A forked child inherits this object but none of its worker threads (and perhaps a lock
  // a worker held at the fork), so it must not wait for them.
  return workers_.empty() || inside_pool_task || ::getpid() != owner_;
}

std::size_t ThreadPool::concurrency() const noexcept { return runs_inline() ? 1 : size(); }

void ThreadPool::work_on_current_job() {
  const InsidePoolTask inside;
  for (;;) {
    const std::size_t index = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (index >= task_count_) return;
    try {
      (*task_)(index);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::worker_loop() {
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    work_on_current_job();
    {
      std::lock_guard lock(mutex_);
      --busy_workers_;
    }
    done_.notify_one();
  }
}

void ThreadPool::run(std::size_t tasks, const std::function<void(std::size_t)>& task) {
  if (tasks == 0) return;
  if (tasks == 1 || runs_inline()) {
    // Holds no lock and occupies no worker, so a run() inside these tasks may use a pool.
    for (std::size_t i = 0; i < tasks; ++i) task(i);
    return;
  }
  std::lock_guard run_lock(run_mutex_);
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    task_count_ = tasks;
    next_task_.store(0, std::memory_order_relaxed);
    busy_workers_ = workers_.size();
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  work_on_current_job();
  std::exception_ptr error;
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return busy_workers_ == 0; });
    error = std::exchange(error_, nullptr);
    task_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

std::size_t available_cores() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    return std::max(1, CPU_COUNT(&allowed));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool& process_thread_pool() {
  static ThreadPool* const pool = new ThreadPool(available_cores());
  return *pool;
}

}  // namespace edgehdf5::core
