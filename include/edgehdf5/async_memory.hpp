#pragma once
// AsyncHDF5Memory: an HDF5Memory driven by one background writer thread, so that an agent
// can save from many threads without waiting for the disk, and search while saves go on.
//
// How it works. Every change (save, save_batch, remove, add_session, add_entity,
// add_relation) becomes a request in a bounded queue, and the call returns a std::future at
// once. The writer thread takes what is queued (up to AsyncConfig::max_group requests) as
// one group and applies its requests in queue order, each as one record in the store's log
// (consecutive single saves merged into one save_batch). Then, once for the whole group
// (group commit), it fsyncs the log if that is due: someone called flush(), flush_pending
// changes await an fsync, or the oldest of them has waited flush_interval.
//
// When a future completes. With Durability::on_flush (the default) a change's future
// completes once the change is applied: it is visible to reads and searches, and it is in
// the log, so it survives a kill -9 of the process; it survives a power loss after the next
// fsync (flush(), or the interval or threshold above). With Durability::every_write the
// future completes only after the fsync of its group: a completed future means durable, and
// concurrent writers share fsyncs.
//
// Errors. A refused change (invalid_argument, not_found...) fails its own future only and
// changes nothing; a merged save refused as part of a batch is retried alone, so one bad
// entry fails only its own future. A failed write (ErrorCode io, hdf5 or corruption: a full
// disk, say) fails the future of each change it hit and is reported once more, by the next
// flush() (or by shutdown() when no flush() came first). When the fsync or checkpoint of a
// flush fails, what the disk holds is unknown: the flush reports it, with every_write also
// every future of the group, and the writer reopens the store from its files (the log is
// replayed), so later changes work again once the cause is gone. Changes applied since the
// last successful fsync may or may not survive that. While the store cannot be reopened,
// each request and read fails with the reason, and each later group tries again.
//
// Thread safety.
//   * Every public method may be called from any thread, concurrently with any other call,
//     except moves and the destructor, which must not overlap any other call. A moved-from
//     object may only be destroyed or assigned to.
//   * Changes from one thread are applied in the order that thread made them; changes from
//     different threads in the order they entered the queue.
//   * Reads (search, get, count, count_active, get_session_summary,
//     read) run on the calling thread under a shared lock, concurrently with each other and
//     with the writer's fsyncs and checkpoints. The writer takes the lock exclusively only
//     while it applies one change (or one merged batch), and the lock serves threads in
//     arrival order: a read waits at most for the change being applied, never for an fsync
//     (except that a remove which triggers compaction rewrites the file under the lock), and
//     the writer waits at most for the reads that began before it. A read sees every change
//     whose future completed before the read began, and never part of a change.
//   * A callback given to read() runs under that shared lock: it must not call any method of
//     this object (a change may wait for the writer, which waits for the lock: a deadlock),
//     and nothing it saw of the store may be kept past its return.
//   * No user code runs on the writer thread. Futures may be waited for from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "edgehdf5/config.hpp"
#include "edgehdf5/entry.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/search.hpp"

namespace edgehdf5 {

// How the writer thread batches and syncs. One handle's settings; nothing goes to the file.
struct AsyncConfig {
  // Requests waiting in the queue at most (a save_batch counts as one); a change call blocks
  // while the queue is full (back-pressure). At least 1.
  std::size_t queue_capacity = 4096;
  // Requests the writer applies as one group at most. It bounds the work between two
  // fsyncs and how long the queue waits. At least 1.
  std::size_t max_group = 1024;
  // An applied change is fsynced at most this long after it was applied, whether or not
  // anyone calls flush(). Zero turns the timer off.
  std::chrono::milliseconds flush_interval{100};
  // Fsync as soon as this many changes await it (each saved entry counts, other changes
  // count 1). Zero turns the threshold off.
  std::size_t flush_pending = 4096;
  // Merge consecutive single saves of a group into one save_batch: one log record and one
  // write() instead of one each (bench: edgehdf5-bench async measures both).
  bool coalesce_saves = true;
};

// What the writer has done so far, for tests and tuning.
struct AsyncStats {
  std::uint64_t requests = 0;         // change requests handled, failed ones included
  std::uint64_t failed_requests = 0;  // of those, the ones whose future holds an error
  std::uint64_t groups = 0;           // groups taken from the queue
  std::uint64_t syncs = 0;            // fsyncs of the log (HDF5Memory::flush calls)
  std::uint64_t reopens = 0;          // times the store was reopened after a failed flush
  std::size_t largest_group = 0;      // requests in the largest group
  std::size_t queued = 0;             // requests waiting now
};

class AsyncHDF5Memory {
 public:
  // Creates a new memory file (as HDF5Memory::create) and starts the writer. Throws as
  // HDF5Memory::create does, and invalid_argument for a read-only `options` or an `async`
  // with queue_capacity or max_group 0.
  static AsyncHDF5Memory create(const MemoryConfig& config, const OpenOptions& options = {},
                                const AsyncConfig& async = {});
  // Opens an existing file for writing (as HDF5Memory::open, replaying its log) and starts
  // the writer. Throws as HDF5Memory::open does, and as create() for the settings.
  static AsyncHDF5Memory open(const std::filesystem::path& path, const OpenOptions& options = {},
                              const AsyncConfig& async = {});

  AsyncHDF5Memory(AsyncHDF5Memory&&) noexcept;
  // Shuts this object's store down as the destructor does, then takes over `other`'s.
  AsyncHDF5Memory& operator=(AsyncHDF5Memory&&) noexcept;
  AsyncHDF5Memory(const AsyncHDF5Memory&) = delete;
  AsyncHDF5Memory& operator=(const AsyncHDF5Memory&) = delete;
  // Shuts down as shutdown() does, swallowing its error: call shutdown() to see it.
  ~AsyncHDF5Memory();

  // ---- changes: each returns at once (unless the queue is full) with a future that holds
  // the result or the Error HDF5Memory's method of the same name would have thrown. After
  // shutdown() the future holds Error(invalid_argument).

  // The new memory's id.
  std::future<MemoryId> save(MemoryEntry entry);
  // All entries or none; their ids in order.
  std::future<std::vector<MemoryId>> save_batch(std::vector<MemoryEntry> entries);
  std::future<void> remove(MemoryId id);
  std::future<void> add_session(std::string session_id, MemoryId start_id, MemoryId end_id,
                                std::string channel, std::string summary);
  std::future<EntityId> add_entity(std::string name, std::string type, MemoryId embedding_id);
  std::future<void> add_relation(EntityId source, EntityId target, std::string type, float weight);

  // Returns when every change queued before the call is applied and durable (fsynced).
  // Throws the error of a failed fsync or checkpoint, or of a write that failed since the
  // previous flush() (each such error is thrown by one flush() only). Throws
  // invalid_argument after shutdown().
  void flush();

  // Stops taking changes, applies everything already queued, fsyncs, closes the store
  // (checkpointing it into the .h5) and stops the writer. Afterwards changes fail and reads
  // throw invalid_argument. Throws the error of the final fsync or close, or of a failed
  // write no flush() reported; every later call throws the same error again.
  void shutdown();

  // ---- reads: on the calling thread, under the shared lock (see the header comment).

  // HDF5Memory::search: cosine top-k over active memories (the store's IVF-PQ index, if the
  // file has one and is large enough; else exact).
  std::vector<SearchHit> search(std::span<const float> query, std::size_t k) const;
  // HDF5Memory::search with options: filters, a forced strategy, metrics, the store's index.
  SearchResults search(std::span<const float> query, const SearchOptions& options) const;
  MemoryEntry get(MemoryId id) const;
  std::size_t count() const;
  std::size_t count_active() const;
  std::string get_session_summary(std::string_view session_id) const;

  // Calls reader(const HDF5Memory&) under the shared lock and returns its result, for any
  // other read (knowledge graph, sessions, columns, info). The result must not refer into the
  // store: it is only valid while the lock is held.
  //   auto near = memory.read([&](const HDF5Memory& m) { return m.knowledge().neighbors(id); });
  template <typename Reader>
  std::invoke_result_t<Reader&, const HDF5Memory&> read(Reader&& reader) const;

  // The store's settings (a copy taken at open; they never change).
  const MemoryConfig& config() const;
  AsyncStats stats() const;

 private:
  struct Impl;
  explicit AsyncHDF5Memory(std::unique_ptr<Impl> impl);
  // Runs `reader` under the shared lock. Throws invalid_argument after shutdown(), and the
  // reason while the store cannot be reopened.
  void visit(const std::function<void(const HDF5Memory&)>& reader) const;
  std::unique_ptr<Impl> impl_;
};

template <typename Reader>
std::invoke_result_t<Reader&, const HDF5Memory&> AsyncHDF5Memory::read(Reader&& reader) const {
  using Result = std::invoke_result_t<Reader&, const HDF5Memory&>;
  static_assert(!std::is_reference_v<Result>,
                "read() must return a copy: a reference into the store dangles once the lock "
                "is released");
  if constexpr (std::is_void_v<Result>) {
    visit([&](const HDF5Memory& memory) { reader(memory); });
  } else {
    std::optional<Result> result;
    visit([&](const HDF5Memory& memory) { result.emplace(reader(memory)); });
    return std::move(*result);
  }
}

}  // namespace edgehdf5
