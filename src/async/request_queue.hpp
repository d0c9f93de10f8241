#pragma once
// The bounded queue between the threads that make changes and AsyncHDF5Memory's writer.
// Thread safety: every method may be called from any thread; one thread (the writer) pops.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "async/request.hpp"

namespace edgehdf5::async {

class RequestQueue {
 public:
  // REQUIRES: capacity >= 1.
  explicit RequestQueue(std::size_t capacity);

  // Appends `request`, blocking while `capacity` requests wait (back-pressure). Returns
  // false once close() was called, and then leaves `request` as it was.
  bool push(Request&& request);

  // Waits until a request is queued, the queue is closed, or `deadline` (when set) passes,
  // then takes up to `max` requests from the front, in order. Returns none when the deadline
  // passed first or when the queue is closed and empty. REQUIRES: max >= 1.
  std::vector<Request> pop_group(std::size_t max,
                                 std::optional<std::chrono::steady_clock::time_point> deadline);

  // Refuses every later push and wakes all waiters. Requests already queued stay, to be
  // popped.
  void close();
  // True once the queue is closed and empty: nothing will be popped any more.
  bool drained() const;
  std::size_t size() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;  // the writer waits here
  std::condition_variable not_full_;   // pushers wait here
  std::deque<Request> requests_;
  bool closed_ = false;
};

}  // namespace edgehdf5::async
