#pragma once
// edgehdf5.Memory: an HDF5Memory shared safely between Python threads.

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>

#include "common.hpp"

namespace edgehdf5::python {

// The Python object behind edgehdf5.Memory.
// Thread safety: every method may be called from any thread. Reads (searches, get, count,
// graph lookups, views) take `mutex` shared and run concurrently; changes take it exclusively.
// The GIL is always released before the lock is taken, so a thread waiting for the store
// never holds up Python threads that do not use it, and no deadlock with the GIL is possible.
class PyMemory {
 public:
  explicit PyMemory(HDF5Memory store, py::object embed)
      : embed(std::move(embed)), store_(std::move(store)) {}

  // Runs reader(const HDF5Memory&) without the GIL under the shared lock.
  template <typename Reader>
  auto read(Reader&& reader) const {
    py::gil_scoped_release nogil;
    std::shared_lock lock(mutex_);
    const HDF5Memory& store = open_store();
    const auto start = std::chrono::steady_clock::now();
    if constexpr (std::is_void_v<decltype(reader(store))>) {
      reader(store);
      last_call_seconds = seconds_since(start);
    } else {
      auto result = reader(store);
      last_call_seconds = seconds_since(start);
      return result;
    }
  }

  // Runs writer(HDF5Memory&) without the GIL under the exclusive lock. `moves_columns`: the
  // change may reallocate or free the columns, so it is refused while numpy views are alive
  // (checked under the lock: a view is only ever made under the shared lock).
  template <typename Writer>
  auto write(Writer&& writer, bool moves_columns) {
    py::gil_scoped_release nogil;
    std::unique_lock lock(mutex_);
    HDF5Memory& store = open_store();
    if (moves_columns) refuse_while_viewed();
    const auto start = std::chrono::steady_clock::now();
    if constexpr (std::is_void_v<decltype(writer(store))>) {
      writer(store);
      last_call_seconds = seconds_since(start);
    } else {
      auto result = writer(store);
      last_call_seconds = seconds_since(start);
      return result;
    }
  }

  // The file's embedding_dim (what a query or row must have).
  std::size_t embedding_dim() const {
    return read([](const HDF5Memory& store) { return store.config().embedding_dim; });
  }

  // Checkpoints and closes (HDF5Memory::close); refused while views are alive. Idempotent.
  void close();
  bool closed() const;

  // Live numpy views of the columns (ViewToken counts them).
  std::atomic<long> views{0};
  // The shared lock, for code that builds views (it must hold it while counting one).
  std::shared_mutex& mutex() const { return mutex_; }
  const HDF5Memory& open_store() const;

  py::object embed;              // the default `embed=` callable, or None
  std::size_t nprobe = 16;       // IVF-PQ lists scanned per query
  std::size_t rerank = 400;      // IVF-PQ candidates re-scored exactly
  // Seconds the last read() or write() spent inside the C++ call (for the benchmark).
  mutable std::atomic<double> last_call_seconds{0.0};

 private:
  HDF5Memory& open_store();
  void refuse_while_viewed() const;
  static double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  std::optional<HDF5Memory> store_;
  bool closed_ = false;
  mutable std::shared_mutex mutex_;
};

void register_memory(py::module_& module);

}  // namespace edgehdf5::python
