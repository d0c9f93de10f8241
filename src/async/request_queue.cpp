#include "async/request_queue.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>

namespace edgehdf5::async {

RequestQueue::RequestQueue(std::size_t capacity) : capacity_(capacity) { assert(capacity >= 1); }

bool RequestQueue::push(Request&& request) {
  {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || requests_.size() < capacity_; });
    if (closed_) return false;
    requests_.push_back(std::move(request));
  }
  not_empty_.notify_one();
  return true;
}

std::vector<Request> RequestQueue::pop_group(
    std::size_t max, std::optional<std::chrono::steady_clock::time_point> deadline) {
  assert(max >= 1);
  std::vector<Request> group;
  {
    std::unique_lock lock(mutex_);
    const auto ready = [&] { return closed_ || !requests_.empty(); };
    if (deadline) {
      not_empty_.wait_until(lock, *deadline, ready);
    } else {
      not_empty_.wait(lock, ready);
    }
    const auto taken = static_cast<std::ptrdiff_t>(std::min(max, requests_.size()));
    group.assign(std::make_move_iterator(requests_.begin()),
                 std::make_move_iterator(requests_.begin() + taken));
    requests_.erase(requests_.begin(), requests_.begin() + taken);
  }
  // Several slots may have freed up, so every blocked pusher gets a chance.
  if (!group.empty()) not_full_.notify_all();
  return group;
}

void RequestQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
}

bool RequestQueue::drained() const {
  std::lock_guard lock(mutex_);
  return closed_ && requests_.empty();
}

std::size_t RequestQueue::size() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

}  // namespace edgehdf5::async
