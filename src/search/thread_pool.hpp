#pragma once
// A small fork-join pool: run(tasks, fn) calls fn(0..tasks-1) across the workers and the
// calling thread and returns when all are done. One run at a time (callers queue); the
// first exception a task throws is rethrown to the caller.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace edgehdf5::search {

class ThreadPool {
 public:
  // `threads` counts the caller: a pool of 1 has no workers and runs everything inline.
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t size() const noexcept { return workers_.size() + 1; }
  void run(std::size_t tasks, const std::function<void(std::size_t)>& task);

 private:
  void work_on_current_job();
  void worker_loop();

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

}  // namespace edgehdf5::search
