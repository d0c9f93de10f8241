#pragma once
// A readers-writer lock that serves threads in the order they arrive.
//
// Why not std::shared_mutex: on glibc it is a pthread_rwlock_t that prefers readers, and with
// searches running back to back on two threads AsyncHDF5Memory's writer waited up to 5.5 s
// for it (measured on a 2-core machine), so saves stalled behind searches. A lock that
// prefers the writer would starve searches instead while saves stream in. Here each arrival
// takes a ticket and is served in turn, and readers that follow each other in line hold the
// lock together: a search waits at most for the writer ahead of it, the writer at most for
// the searches that arrived before it.
//
// Meets the SharedMutex requirements that std::unique_lock and std::shared_lock use.
// Not recursive: a thread that holds it in either mode must not take it again.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace edgehdf5::async {

class FairSharedMutex {
 public:
  void lock() {
    std::unique_lock guard(mutex_);
    const std::uint64_t ticket = next_ticket_++;
    turn_.wait(guard, [&] { return serving_ == ticket && readers_ == 0; });
    // serving_ moves on only in unlock(), so nobody behind us enters meanwhile.
  }

  void unlock() {
    {
      std::lock_guard guard(mutex_);
      ++serving_;
    }
    turn_.notify_all();
  }

  void lock_shared() {
    std::unique_lock guard(mutex_);
    const std::uint64_t ticket = next_ticket_++;
    turn_.wait(guard, [&] { return serving_ == ticket; });
    ++readers_;
    ++serving_;  // the next in line may be a reader, who can join us
    guard.unlock();
    turn_.notify_all();
  }

  void unlock_shared() {
    bool last = false;
    {
      std::lock_guard guard(mutex_);
      last = --readers_ == 0;
    }
    if (last) turn_.notify_all();  // a writer may be waiting for the room to empty
  }

 private:
  std::mutex mutex_;
  std::condition_variable turn_;
  std::uint64_t next_ticket_ = 0;  // handed to the next thread that arrives
  std::uint64_t serving_ = 0;      // the ticket whose turn it is
  std::size_t readers_ = 0;        // readers holding the lock
};

}  // namespace edgehdf5::async
