#include "edgehdf5/async_memory.hpp"

#include <cassert>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "async/fair_shared_mutex.hpp"
#include "async/request.hpp"
#include "async/request_queue.hpp"
#include "edgehdf5/error.hpp"

namespace edgehdf5 {

using async::ChangeRequest;
using async::FlushRequest;
using async::Reply;
using async::Request;
using async::SaveRequest;

namespace {

using Clock = std::chrono::steady_clock;

template <typename... Visitors>
struct Overloaded : Visitors... {
  using Visitors::operator()...;
};
// Spelled out for clang 14 (the fuzz build), which does not yet deduce aggregate templates.
template <typename... Visitors>
Overloaded(Visitors...) -> Overloaded<Visitors...>;

// Errors that say the disk or the library failed, not that the store refused a change:
// those are reported once more, by the next flush().
bool is_write_failure(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& failure) {
    switch (failure.code()) {
      case ErrorCode::io:
      case ErrorCode::hdf5:
      case ErrorCode::corruption:
        return true;
      default:
        return false;
    }
  } catch (...) {
    return true;  // bad_alloc and the like: nothing the caller asked for was wrong
  }
}

std::exception_ptr shut_down_error(const std::filesystem::path& path) {
  return std::make_exception_ptr(
      Error(ErrorCode::invalid_argument, path.string() + " is shut down"));
}

void validate_settings(const OpenOptions& options, const AsyncConfig& async) {
  if (options.read_only) {
    throw Error(ErrorCode::invalid_argument,
                "AsyncHDF5Memory writes: open read-only handles with HDF5Memory::open");
  }
  if (async.queue_capacity == 0 || async.max_group == 0) {
    throw Error(ErrorCode::invalid_argument,
                "AsyncConfig: queue_capacity and max_group must be at least 1");
  }
}

// The options of the HDF5Memory underneath: the writer decides when to fsync (group commit),
// so the store itself never syncs on its own.
OpenOptions store_options(OpenOptions options) {
  options.durability = Durability::on_flush;
  return options;
}

}  // namespace

struct AsyncHDF5Memory::Impl {
  Impl(HDF5Memory opened, const OpenOptions& requested, const AsyncConfig& async_config)
      : config(opened.config()),
        options(store_options(requested)),
        async(async_config),
        durable_replies(requested.durability == Durability::every_write),
        queue(async_config.queue_capacity),
        memory(std::move(opened)),
        writer([this] { run_writer(); }) {}

  ~Impl() {
    try {
      shutdown();
    } catch (...) {  // a destructor must not throw; shutdown() reports errors
    }
  }

  // ---- the callers' side ------------------------------------------------------------------

  template <typename Kind>
  auto submit(Kind request) {
    auto future = request.reply.future();
    Request queued(std::move(request));
    if (!queue.push(std::move(queued))) {
      std::visit(
          [&](auto& refused) {
            refused.reply.fail(shut_down_error(config.path));
            refused.reply.publish();
          },
          queued);
    }
    return future;
  }

  template <typename Result, typename Apply>
  std::future<Result> submit_change(std::size_t changes, Apply apply) {
    return submit(ChangeRequest<Result>{std::move(apply), changes, {}});
  }

  void shutdown() {
    std::lock_guard guard(shutdown_mutex);
    if (writer.joinable()) {
      queue.close();
      writer.join();
    }
    if (shutdown_error) std::rethrow_exception(shutdown_error);
  }

  // ---- the writer thread --------------------------------------------------------------------

  void run_writer() {
    for (;;) {
      std::vector<Request> group = queue.pop_group(async.max_group, sync_deadline());
      if (!group.empty()) {
        handle_group(group);
      } else if (queue.drained()) {
        break;
      } else if (sync_due(/*requested=*/false)) {  // woken by the interval's deadline
        sync();
      }
    }
    finish();
  }

  void handle_group(std::vector<Request>& group) {
    {
      // Counted before any reply is published, so that a caller sees its group in stats().
      std::lock_guard lock(stats_mutex);
      ++stats.groups;
      stats.largest_group = std::max(stats.largest_group, group.size());
    }
    if (!memory) reopen();  // an earlier reopen failed; the cause may be gone by now
    bool flush_requested = false;
    for (std::size_t i = 0; i < group.size();) {
      std::size_t step = 1;
      std::visit(Overloaded{
                     [&](SaveRequest&) {
                       step = save_run_length(group, i);
                       apply_saves(std::span(group).subspan(i, step));
                     },
                     [&](FlushRequest& flush) {
                       flush_requested = true;
                       take_flush(flush.reply);
                     },
                     [&]<typename Result>(ChangeRequest<Result>& change) {
                       apply(change.reply, change.changes,
                             [&](HDF5Memory& store) { return change.apply(store); });
                     },
                 },
                 group[i]);
      i += step;
    }
    // Changes are published before the fsync when their futures promise visibility only,
    // so that callers wait for the disk only when they asked to.
    const auto is_flush = [](const Request& request) {
      return std::holds_alternative<FlushRequest>(request);
    };
    if (!durable_replies) {
      for (Request& request : group) {
        if (!is_flush(request)) publish(request, nullptr);
      }
    }
    const std::exception_ptr sync_error = sync_due(flush_requested) ? sync() : nullptr;
    for (Request& request : group) {
      if (durable_replies || is_flush(request)) publish(request, sync_error);
    }
  }

  static void publish(Request& request, const std::exception_ptr& sync_error) {
    std::visit([&](auto& any) { any.reply.publish(sync_error); }, request);
  }

  // How many requests from group[first] on are saves to apply together.
  std::size_t save_run_length(const std::vector<Request>& group, std::size_t first) const {
    std::size_t end = first + 1;
    if (async.coalesce_saves) {
      while (end < group.size() && std::holds_alternative<SaveRequest>(group[end])) ++end;
    }
    return end - first;
  }

  // Applies consecutive saves as one save_batch: one log record, one write(). A batch is all
  // or nothing, so if it is refused, each save is retried alone and only the ones at fault
  // fail (the refused batch changed nothing).
  void apply_saves(std::span<Request> run) {
    const auto save_at = [&](std::size_t k) -> SaveRequest& {
      return std::get<SaveRequest>(run[k]);
    };
    if (run.size() > 1 && memory) {
      std::vector<MemoryEntry> entries;
      entries.reserve(run.size());
      for (std::size_t k = 0; k < run.size(); ++k) entries.push_back(std::move(save_at(k).entry));
      std::vector<MemoryId> ids;
      bool applied = false;
      try {
        std::unique_lock lock(state_mutex);
        ids = memory->save_batch(entries);
        applied = true;
      } catch (...) {
        for (std::size_t k = 0; k < run.size(); ++k) save_at(k).entry = std::move(entries[k]);
      }
      if (applied) {
        for (std::size_t k = 0; k < run.size(); ++k) {
          save_at(k).reply.succeed(ids[k]);
          settle(nullptr, 1);
        }
        return;
      }
    }
    for (std::size_t k = 0; k < run.size(); ++k) {
      SaveRequest& save = save_at(k);
      apply(save.reply, 1, [&](HDF5Memory& store) { return store.save(save.entry); });
    }
  }

  // Applies one change under the exclusive lock and keeps its outcome in `reply`.
  template <typename Result, typename Body>
  void apply(Reply<Result>& reply, std::size_t changes, Body&& body) {
    if (memory) {
      std::unique_lock lock(state_mutex);
      reply.run([&] { return body(*memory); });
    } else {
      reply.fail(unavailable);
    }
    settle(reply.error(), changes);
  }

  // Accounts for one handled change: what awaits an fsync, and failures to report.
  void settle(const std::exception_ptr& error, std::size_t changes) {
    if (!error) {
      if (unsynced_changes == 0) first_unsynced = Clock::now();
      unsynced_changes += changes;
    } else if (memory && is_write_failure(error) && !unreported_write_failure) {
      unreported_write_failure = error;
    }
    std::lock_guard lock(stats_mutex);
    ++stats.requests;
    if (error) ++stats.failed_requests;
  }

  void take_flush(Reply<void>& reply) {
    if (!memory) {
      reply.fail(unavailable);
    } else if (unreported_write_failure) {
      reply.fail(std::exchange(unreported_write_failure, nullptr));
    } else {
      reply.succeed({});
    }
  }

  std::optional<Clock::time_point> sync_deadline() const {
    if (unsynced_changes == 0 || async.flush_interval.count() == 0) return std::nullopt;
    return first_unsynced + async.flush_interval;
  }

  bool sync_due(bool requested) const {
    // With nothing applied since the last fsync, a flush() is satisfied as it is: concurrent
    // callers of save-then-flush often find their save fsynced by someone else's flush.
    if (unsynced_changes == 0) return false;
    if (requested || durable_replies) return true;
    if (async.flush_pending > 0 && unsynced_changes >= async.flush_pending) return true;
    const auto deadline = sync_deadline();
    return deadline && Clock::now() >= *deadline;
  }

  // Fsyncs the log (and lets the store checkpoint when its log has grown past
  // OpenOptions::checkpoint_log_bytes). After a failure, reopens the store. Returns the error.
  std::exception_ptr sync() {
    if (!memory) return nullptr;  // every request of the group failed already
    std::exception_ptr error;
    // Without the lock: this thread is the only one that changes the store, and flush()
    // changes nothing readers read (it fsyncs the log, and a checkpoint writes a new .h5
    // from the state). So searches go on while the disk works.
    try {
      memory->flush();
    } catch (...) {
      error = std::current_exception();
    }
    unsynced_changes = 0;
    {
      std::lock_guard lock(stats_mutex);
      ++stats.syncs;
    }
    if (error) reopen();
    return error;
  }

  // After a failed fsync or checkpoint the handle's view of the disk cannot be trusted (and
  // after a failed fsync it refuses writes): start again from what the files hold.
  void reopen() {
    std::unique_lock lock(state_mutex);
    // Destroying the old handle closes it quietly (its checkpoint may fail again) and frees
    // the file's writer lock, which open() takes again.
    memory.reset();
    unsynced_changes = 0;
    try {
      memory.emplace(HDF5Memory::open(config.path, options));
      unavailable = nullptr;
    } catch (const Error& error) {
      unavailable = std::make_exception_ptr(Error(
          error.code(),
          config.path.string() + " could not be reopened after a failed flush: " + error.what()));
      return;
    } catch (...) {
      unavailable = std::current_exception();
      return;
    }
    std::lock_guard stats_lock(stats_mutex);
    ++stats.reopens;
  }

  // The queue is closed and empty: make everything durable, checkpoint, close.
  void finish() {
    std::exception_ptr error = unreported_write_failure;
    if (memory) {
      try {
        memory->flush();  // close() alone would not fsync the log if its checkpoint failed
        memory->close();
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    } else if (!error) {
      error = unavailable;
    }
    shutdown_error = error;  // read by shutdown() after join()
    std::unique_lock lock(state_mutex);
    memory.reset();
    unavailable = shut_down_error(config.path);
  }

  // ---- state --------------------------------------------------------------------------------
  // Set at open, then constant.
  const MemoryConfig config;
  const OpenOptions options;  // the store's, also to reopen it
  const AsyncConfig async;
  const bool durable_replies;  // Durability::every_write: futures complete after the fsync

  async::RequestQueue queue;

  // The store. Only the writer changes it, holding state_mutex exclusively; readers hold it
  // shared. Empty after shutdown and while a failed store cannot be reopened.
  mutable async::FairSharedMutex state_mutex;  // not std::shared_mutex: see its header
  std::optional<HDF5Memory> memory;
  std::exception_ptr unavailable;  // why `memory` is empty

  // The writer thread's own.
  std::size_t unsynced_changes = 0;  // applied since the last fsync
  Clock::time_point first_unsynced;  // when the oldest of them was applied
  std::exception_ptr unreported_write_failure;

  mutable std::mutex stats_mutex;
  AsyncStats stats;

  std::mutex shutdown_mutex;  // one shutdown() joins, the others wait for it
  std::exception_ptr shutdown_error;

  std::thread writer;  // last: it starts running once everything above exists
};

// ---- open, move, shut down -------------------------------------------------------------------

AsyncHDF5Memory::AsyncHDF5Memory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AsyncHDF5Memory::AsyncHDF5Memory(AsyncHDF5Memory&&) noexcept = default;

AsyncHDF5Memory& AsyncHDF5Memory::operator=(AsyncHDF5Memory&& other) noexcept {
  if (this != &other) {
    const AsyncHDF5Memory old(std::move(*this));  // shuts down as it goes out of scope
    impl_ = std::move(other.impl_);
  }
  return *this;
}

AsyncHDF5Memory::~AsyncHDF5Memory() = default;  // Impl's destructor shuts down

AsyncHDF5Memory AsyncHDF5Memory::create(const MemoryConfig& config, const OpenOptions& options,
                                        const AsyncConfig& async) {
  validate_settings(options, async);
  return AsyncHDF5Memory(
      std::make_unique<Impl>(HDF5Memory::create(config, store_options(options)), options, async));
}

AsyncHDF5Memory AsyncHDF5Memory::open(const std::filesystem::path& path, const OpenOptions& options,
                                      const AsyncConfig& async) {
  validate_settings(options, async);
  return AsyncHDF5Memory(
      std::make_unique<Impl>(HDF5Memory::open(path, store_options(options)), options, async));
}

void AsyncHDF5Memory::flush() {
  std::future<void> done = impl_->submit(FlushRequest{});
  done.get();
}

void AsyncHDF5Memory::shutdown() { impl_->shutdown(); }

// ---- changes ---------------------------------------------------------------------------------

std::future<MemoryId> AsyncHDF5Memory::save(MemoryEntry entry) {
  return impl_->submit(SaveRequest{std::move(entry), {}});
}

std::future<std::vector<MemoryId>> AsyncHDF5Memory::save_batch(std::vector<MemoryEntry> entries) {
  const std::size_t changes = entries.size();
  return impl_->submit_change<std::vector<MemoryId>>(
      changes,
      [entries = std::move(entries)](HDF5Memory& store) { return store.save_batch(entries); });
}

std::future<void> AsyncHDF5Memory::remove(MemoryId id) {
  return impl_->submit_change<void>(1, [id](HDF5Memory& store) { store.remove(id); });
}

std::future<void> AsyncHDF5Memory::add_session(std::string session_id, MemoryId start_id,
                                               MemoryId end_id, std::string channel,
                                               std::string summary) {
  return impl_->submit_change<void>(
      1, [=, session_id = std::move(session_id), channel = std::move(channel),
          summary = std::move(summary)](HDF5Memory& store) {
        store.add_session(session_id, start_id, end_id, channel, summary);
      });
}

std::future<EntityId> AsyncHDF5Memory::add_entity(std::string name, std::string type,
                                                  MemoryId embedding_id) {
  return impl_->submit_change<EntityId>(
      1, [=, name = std::move(name), type = std::move(type)](HDF5Memory& store) {
        return store.add_entity(name, type, embedding_id);
      });
}

std::future<void> AsyncHDF5Memory::add_relation(EntityId source, EntityId target, std::string type,
                                                float weight) {
  return impl_->submit_change<void>(1, [=, type = std::move(type)](HDF5Memory& store) {
    store.add_relation(source, target, type, weight);
  });
}

// ---- reads -----------------------------------------------------------------------------------

void AsyncHDF5Memory::visit(const std::function<void(const HDF5Memory&)>& reader) const {
  std::shared_lock lock(impl_->state_mutex);
  if (!impl_->memory) std::rethrow_exception(impl_->unavailable);
  reader(*impl_->memory);
}

std::vector<SearchHit> AsyncHDF5Memory::search(std::span<const float> query, std::size_t k) const {
  return read([&](const HDF5Memory& memory) { return memory.search(query, k); });
}

SearchResults AsyncHDF5Memory::search(std::span<const float> query,
                                      const SearchOptions& options) const {
  return read([&](const HDF5Memory& memory) { return memory.search(query, options); });
}

MemoryEntry AsyncHDF5Memory::get(MemoryId id) const {
  return read([&](const HDF5Memory& memory) { return memory.get(id); });
}

std::size_t AsyncHDF5Memory::count() const {
  return read([](const HDF5Memory& memory) { return memory.count(); });
}

std::size_t AsyncHDF5Memory::count_active() const {
  return read([](const HDF5Memory& memory) { return memory.count_active(); });
}

std::string AsyncHDF5Memory::get_session_summary(std::string_view session_id) const {
  return read([&](const HDF5Memory& memory) { return memory.get_session_summary(session_id); });
}

const MemoryConfig& AsyncHDF5Memory::config() const { return impl_->config; }

AsyncStats AsyncHDF5Memory::stats() const {
  AsyncStats stats;
  {
    std::lock_guard lock(impl_->stats_mutex);
    stats = impl_->stats;
  }
  stats.queued = impl_->queue.size();
  return stats;
}

}  // namespace edgehdf5
