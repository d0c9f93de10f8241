#pragma once
// The requests AsyncHDF5Memory's writer thread applies to its store, and how each caller
// learns the outcome.

#include <cassert>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/memory.hpp"

namespace edgehdf5::async {

// The outcome of one request. The writer records it when it applies the request and
// publishes it later: at once for a change, but only after the group's fsync for a flush
// and, with Durability::every_write, for a change too.
template <typename Result>
class Reply {
 public:
  using Value = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;

  // The caller's end. REQUIRES: called once, before the request is queued.
  std::future<Result> future() { return promise_.get_future(); }

  // Runs `body` and keeps what it returned or threw.
  template <typename Body>
  void run(Body&& body) noexcept {
    try {
      if constexpr (std::is_void_v<Result>) {
        body();
        value_.emplace();
      } else {
        value_.emplace(body());
      }
    } catch (...) {
      error_ = std::current_exception();
    }
  }
  void succeed(Value value) { value_.emplace(std::move(value)); }
  void fail(std::exception_ptr error) noexcept { error_ = std::move(error); }
  const std::exception_ptr& error() const noexcept { return error_; }

  // Completes the future with the kept error, else with `instead` when it is set (a failed
  // fsync leaves an applied change's durability unknown), else with the kept value.
  // REQUIRES: run(), succeed() or fail() came first; called once.
  void publish(const std::exception_ptr& instead = nullptr) noexcept {
    if (const std::exception_ptr& error = error_ ? error_ : instead) {
      promise_.set_exception(error);
      return;
    }
    assert(value_.has_value());
    if constexpr (std::is_void_v<Result>) {
      promise_.set_value();
    } else {
      promise_.set_value(std::move(*value_));
    }
  }

 private:
  std::promise<Result> promise_;
  std::optional<Value> value_;
  std::exception_ptr error_;
};

// One save(). Kept apart from other changes so that the writer can merge consecutive ones
// into one save_batch.
struct SaveRequest {
  MemoryEntry entry;
  Reply<MemoryId> reply;
};

// Any other change: the HDF5Memory call to make, with its arguments bound.
template <typename Result>
struct ChangeRequest {
  std::function<Result(HDF5Memory&)> apply;
  std::size_t changes = 1;  // what it adds to the count AsyncConfig::flush_pending bounds
  Reply<Result> reply;
};

// flush(): completed once everything queued before it is applied and fsynced.
struct FlushRequest {
  Reply<void> reply;
};

// EntityId is MemoryId, so ChangeRequest<MemoryId> also serves add_entity.
using Request = std::variant<SaveRequest, FlushRequest, ChangeRequest<void>,
                             ChangeRequest<MemoryId>, ChangeRequest<std::vector<MemoryId>>>;

}  // namespace edgehdf5::async
