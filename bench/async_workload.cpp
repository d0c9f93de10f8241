// edgehdf5-bench async: AsyncHDF5Memory's saves and searches beside the synchronous store,
// in the same run and on the same disk:
//   * saves from 1, 2 and 8 threads, throughput and per-save latency, in these modes:
//       sync + flush each     HDF5Memory behind a mutex, flush() after every save (the baseline:
//                             every save durable before the next starts);
//       async + flush each    save().get() then flush() on every thread: as durable, but
//                             concurrent flushes share one fsync (group commit);
//       async every_write     Durability::every_write: a save's future completes once durable;
//       async visible         save().get() only: visible at once, fsynced on the interval;
//       async pipelined       64 saves in flight per thread, merged into batches by the writer;
//       ... unmerged          the same with AsyncConfig::coalesce_saves off, to show what
//                             merging buys.
//     The last two end with one flush(), counted in their time. Beside them, the disk's own
//     bound for one durable save at a time: append a record of the same size and fdatasync.
//     Modes take turns in each of --repeats rounds, so that the disk's drift (its fsync time
//     varies a lot on shared machines) spreads over all of them.
//   * search latency (k=10) over a filled store while threads save with a flush each, through
//     AsyncHDF5Memory and through the synchronous store behind a mutex, beside the idle store.

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/async_memory.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/version.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct AsyncOptions {
  std::vector<std::size_t> threads = {1, 2, 8};
  std::size_t saves = 2000;  // per mode, thread count and round, shared among the threads
  std::size_t repeats = 3;
  std::size_t embedding_dim = 384;
  std::size_t search_rows = 20'000;
  std::size_t searches = 300;
  std::size_t search_writers = 2;
  std::uint64_t seed = 42;
  std::string dir = fs::temp_directory_path().string();
  bool json = false;
};

constexpr std::size_t kTopK = 10;
constexpr std::size_t kInFlight = 64;  // saves each thread keeps queued when pipelining
constexpr std::uint64_t kQueryStream = std::uint64_t{1} << 40;

enum class SaveMode {
  sync_flush_each,
  async_flush_each,
  async_every_write,
  async_visible,
  async_pipelined,
  async_pipelined_unmerged,
};

struct ModeName {
  SaveMode mode;
  const char* name;
};
constexpr ModeName kModes[] = {
    {SaveMode::sync_flush_each, "sync + flush each"},
    {SaveMode::async_flush_each, "async + flush each"},
    {SaveMode::async_every_write, "async every_write"},
    {SaveMode::async_visible, "async visible"},
    {SaveMode::async_pipelined, "async pipelined"},
    {SaveMode::async_pipelined_unmerged, "async pipelined unmerged"},
};

MemoryConfig store_config(const fs::path& path, const AsyncOptions& options) {
  MemoryConfig config;
  config.path = path;
  config.agent_id = "edgehdf5-bench";
  config.embedder = "random-unit-vectors";
  config.embedding_dim = options.embedding_dim;
  return config;
}

void remove_store_files(const fs::path& path) {
  for (const char* suffix : {"", ".wal", ".lock"}) fs::remove(path.string() + suffix);
}

double microseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// Runs body(thread, latencies) on `threads` threads; returns the wall seconds until all are
// done and every thread's latencies (microseconds) in one list.
struct ThreadedRun {
  double seconds = 0.0;
  std::vector<double> latencies_us;
};
ThreadedRun run_on_threads(std::size_t threads,
                           const std::function<void(std::size_t, std::vector<double>&)>& body) {
  std::vector<std::vector<double>> latencies(threads);
  std::vector<std::thread> workers;
  ThreadedRun run;
  run.seconds = seconds_to_run([&] {
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] { body(t, latencies[t]); });
    }
    for (std::thread& worker : workers) worker.join();
  });
  for (const auto& some : latencies) {
    run.latencies_us.insert(run.latencies_us.end(), some.begin(), some.end());
  }
  return run;
}

struct SaveResult {
  ThreadedRun run;
  std::uint64_t fsyncs = 0;
};

// One thread appending `count` records of `record_bytes` to a plain file, each followed by
// fdatasync (as the store's log does): what the disk allows one durable save at a time.
SaveResult measure_raw_appends(std::size_t count, std::size_t record_bytes, const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
  const std::string record(record_bytes, 'x');
  SaveResult result;
  result.run = run_on_threads(1, [&](std::size_t, std::vector<double>& latencies) {
    for (std::size_t i = 0; i < count; ++i) {
      const auto start = Clock::now();
      if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
          ::fdatasync(fd) != 0) {
        throw std::system_error(errno, std::generic_category(), "write " + path.string());
      }
      latencies.push_back(microseconds_since(start));
    }
  });
  result.fsyncs = count;
  ::close(fd);
  fs::remove(path);
  return result;
}

// Thread t saves entries t, t + threads, t + 2 * threads...
SaveResult measure_saves(SaveMode mode, std::size_t threads,
                         const std::vector<MemoryEntry>& entries, const AsyncOptions& options,
                         const fs::path& path) {
  const MemoryConfig config = store_config(path, options);
  const auto each_entry = [&](std::size_t thread, auto&& save) {
    for (std::size_t i = thread; i < entries.size(); i += threads) save(entries[i]);
  };
  const auto timed = [](std::vector<double>& latencies, auto&& call) {
    const auto start = Clock::now();
    call();
    latencies.push_back(microseconds_since(start));
  };
  SaveResult result;
  if (mode == SaveMode::sync_flush_each) {
    HDF5Memory memory = HDF5Memory::create(config);
    std::mutex mutex;
    result.run = run_on_threads(threads, [&](std::size_t t, std::vector<double>& latencies) {
      each_entry(t, [&](const MemoryEntry& entry) {
        timed(latencies, [&] {
          const std::lock_guard lock(mutex);
          memory.save(entry);
          memory.flush();
        });
      });
    });
    result.fsyncs = entries.size();
    memory.close();
    remove_store_files(path);
    return result;
  }

  OpenOptions open_options;
  if (mode == SaveMode::async_every_write) open_options.durability = Durability::every_write;
  AsyncConfig async;
  async.coalesce_saves = mode != SaveMode::async_pipelined_unmerged;
  AsyncHDF5Memory memory = AsyncHDF5Memory::create(config, open_options, async);
  result.run = run_on_threads(threads, [&](std::size_t t, std::vector<double>& latencies) {
    if (mode == SaveMode::async_pipelined || mode == SaveMode::async_pipelined_unmerged) {
      std::deque<std::pair<Clock::time_point, std::future<MemoryId>>> in_flight;
      const auto complete_oldest = [&] {
        in_flight.front().second.get();
        latencies.push_back(microseconds_since(in_flight.front().first));
        in_flight.pop_front();
      };
      each_entry(t, [&](const MemoryEntry& entry) {
        in_flight.emplace_back(Clock::now(), memory.save(entry));
        if (in_flight.size() == kInFlight) complete_oldest();
      });
      while (!in_flight.empty()) complete_oldest();
    } else {
      each_entry(t, [&](const MemoryEntry& entry) {
        timed(latencies, [&] {
          memory.save(entry).get();
          if (mode == SaveMode::async_flush_each) memory.flush();
        });
      });
    }
    if (mode != SaveMode::async_flush_each && mode != SaveMode::async_every_write) {
      memory.flush();  // the run ends durable, like the others
    }
  });
  result.fsyncs = memory.stats().syncs;
  memory.shutdown();
  remove_store_files(path);
  return result;
}

void measure_all_saves(const AsyncOptions& options, const fs::path& dir, RowReporter& report) {
  const std::vector<MemoryEntry> entries =
      random_entries(options.saves, options.embedding_dim, options.seed, 0, 0);
  // About what one save adds to the log: the embedding, the texts, the record's framing.
  const std::size_t record_bytes = options.embedding_dim * sizeof(float) + 160;
  report.set_columns({
      {"mode", 26, true},
      {"threads", 7},
      {"saves", 6},
      {"saves_per_s", 11},
      {"p50_us", 9},
      {"p99_us", 9},
      {"vs_sync", 8},
      {"fsyncs", 7},
  });
  const fs::path path = dir / "saves.h5";
  constexpr std::size_t kRaw = std::size(kModes);  // the raw appends' slot after the modes
  for (const std::size_t threads : options.threads) {
    std::vector<SaveResult> totals(kRaw + 1);
    const auto accumulate = [](SaveResult& total, const SaveResult& round) {
      total.run.seconds += round.run.seconds;
      total.run.latencies_us.insert(total.run.latencies_us.end(), round.run.latencies_us.begin(),
                                    round.run.latencies_us.end());
      total.fsyncs += round.fsyncs;
    };
    for (std::size_t round = 0; round < options.repeats; ++round) {
      accumulate(totals[kRaw], measure_raw_appends(entries.size(), record_bytes, dir / "raw.bin"));
      for (std::size_t m = 0; m < kRaw; ++m) {
        accumulate(totals[m], measure_saves(kModes[m].mode, threads, entries, options, path));
      }
    }
    const std::size_t saves = entries.size() * options.repeats;
    const auto rate_of = [&](const SaveResult& total) {
      return static_cast<double>(saves) / total.run.seconds;
    };
    const double sync_rate = rate_of(totals[0]);  // kModes[0] is sync + flush each
    const auto add = [&](const std::string& name, std::size_t row_threads,
                         const SaveResult& total) {
      const Summary latency = summarize(total.run.latencies_us);
      report.add({name, row_threads, saves, rate_of(total), latency.median, latency.p99,
                  rate_of(total) / sync_rate, total.fsyncs});
    };
    add("raw append + fdatasync", 1, totals[kRaw]);
    for (std::size_t m = 0; m < kRaw; ++m) add(kModes[m].name, threads, totals[m]);
  }
}

// ---- search while saving ---------------------------------------------------------------------

// A checkpointed store of options.search_rows entries, copied afresh for each scenario.
fs::path make_search_store(const AsyncOptions& options, const fs::path& dir) {
  const fs::path path = dir / "search_template.h5";
  HDF5Memory memory = HDF5Memory::create(store_config(path, options));
  constexpr std::size_t kBatch = 10'000;
  for (std::size_t first = 0; first < options.search_rows; first += kBatch) {
    const std::size_t size = std::min(kBatch, options.search_rows - first);
    memory.save_batch(
        random_entries(size, options.embedding_dim, options.seed, 1 + first / kBatch, first));
  }
  memory.close();
  return path;
}

struct SearchScenario {
  std::vector<double> latencies_us;
  std::size_t saves_during = 0;
  double seconds = 0.0;
};

// Runs the searches on this thread while `writers` threads call save_once() until they are
// done.
SearchScenario search_while(
    const std::function<std::vector<SearchHit>(std::span<const float>)>& search,
    const std::function<void(const MemoryEntry&)>& save_once, std::size_t writers,
    const std::vector<float>& queries, const AsyncOptions& options) {
  std::atomic<bool> searching = true;
  std::atomic<std::size_t> saves = 0;
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      const std::vector<MemoryEntry> entries =
          random_entries(256, options.embedding_dim, options.seed, 1000 + w, 0);
      for (std::size_t i = 0; searching; ++i) {
        save_once(entries[i % entries.size()]);
        ++saves;
      }
    });
  }
  SearchScenario scenario;
  const std::size_t dim = options.embedding_dim;
  scenario.seconds = seconds_to_run([&] {
    for (std::size_t q = 0; q < options.searches; ++q) {
      const std::span<const float> query(queries.data() + q * dim, dim);
      const auto start = Clock::now();
      if (search(query).size() != kTopK) throw std::runtime_error("search returned too few hits");
      scenario.latencies_us.push_back(microseconds_since(start));
    }
  });
  searching = false;
  for (std::thread& thread : threads) thread.join();
  scenario.saves_during = saves;
  return scenario;
}

void measure_search_while_saving(const AsyncOptions& options, const fs::path& dir,
                                 RowReporter& report) {
  const fs::path template_path = make_search_store(options, dir);
  const fs::path path = dir / "search.h5";
  const std::vector<float> queries =
      random_unit_vectors(options.searches, options.embedding_dim, options.seed, kQueryStream);
  const auto fresh_copy = [&] {
    remove_store_files(path);
    fs::copy_file(template_path, path);
  };
  report.set_columns({
      {"scenario", 40, true},
      {"rows", 7},
      {"searches", 8},
      {"p50_us", 9},
      {"p99_us", 9},
      {"vs_idle_p50", 11},
      {"vs_idle_p99", 11},
      {"saves_per_s", 11},
  });
  Summary idle;  // the first scenario's
  const auto add = [&](const std::string& name, const SearchScenario& scenario) {
    const Summary latency = summarize(scenario.latencies_us);
    if (idle.samples == 0) idle = latency;
    report.add({name, options.search_rows, options.searches, latency.median, latency.p99,
                latency.median / idle.median, latency.p99 / idle.p99,
                static_cast<double>(scenario.saves_during) / scenario.seconds});
  };
  const std::string writers = std::to_string(options.search_writers) + " threads saving";
  {
    fresh_copy();
    AsyncHDF5Memory memory = AsyncHDF5Memory::open(path);
    const auto search = [&](std::span<const float> query) { return memory.search(query, kTopK); };
    add("idle (async store)", search_while(search, {}, 0, queries, options));
    const auto save_and_flush = [&](const MemoryEntry& entry) {
      memory.save(entry).get();
      memory.flush();
    };
    add("async, " + writers + " + flush each",
        search_while(search, save_and_flush, options.search_writers, queries, options));
    memory.shutdown();
  }
  {
    fresh_copy();
    HDF5Memory memory = HDF5Memory::open(path);
    std::mutex mutex;
    const auto search = [&](std::span<const float> query) {
      const std::lock_guard lock(mutex);
      return memory.search(query, kTopK);
    };
    const auto save_and_flush = [&](const MemoryEntry& entry) {
      const std::lock_guard lock(mutex);
      memory.save(entry);
      memory.flush();
    };
    add("sync behind a mutex, " + writers + " + flush each",
        search_while(search, save_and_flush, options.search_writers, queries, options));
    memory.close();
  }
  remove_store_files(path);
  remove_store_files(template_path);
}

}  // namespace

int run_async_workload(int argc, char** argv) {
  AsyncOptions options;
  CLI::App app{
      "AsyncHDF5Memory: saves from several threads and searches while saving, beside the "
      "synchronous store with a flush per save, in the same run.",
      "edgehdf5-bench async"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--threads", options.threads, "Saving thread counts to measure")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--saves", options.saves, "Saves per mode and thread count")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--repeats", options.repeats,
                 "Rounds in which the save modes take turns (their results are pooled)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--search-rows", options.search_rows, "Entries in the searched store")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--searches", options.searches, "Searches timed per scenario")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--search-writers", options.search_writers, "Threads saving during searches")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  add_scratch_dir_option(app, options.dir);
  CLI11_PARSE(app, argc, argv);

  RowReporter report("async", command_line(argc, argv), options.json);
  const ScratchDir scratch(options.dir);
  report.note("edgehdf5 " + std::string(kVersion) + ", " +
              std::to_string(std::thread::hardware_concurrency()) + " hardware threads, " +
              std::to_string(options.embedding_dim) + "-d float32 entries, files in " +
              scratch.path().string());
  report.note("saves: pooled over " + std::to_string(options.repeats) +
              " rounds; latency per save (pipelined: from submit to its future's completion); "
              "vs_sync: saves/s over sync + flush each with as many threads");
  measure_all_saves(options, scratch.path(), report);
  measure_search_while_saving(options, scratch.path(), report);
  return 0;
}

}  // namespace edgehdf5::bench
