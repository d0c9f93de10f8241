// Many threads on one AsyncHDF5Memory at once: producers saving (single saves and batches,
// flushing now and then), deleters removing what producers published, searchers checking
// that every save whose future completed is found, all while the writer checkpoints and
// compacts. Afterwards counts and contents are checked, before and after reopening.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "async_test_util.hpp"
#include "edgehdf5/async_memory.hpp"
#include "edgehdf5/error.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::async_store_config;
using testing::TempDir;

constexpr std::size_t kDim = 16;
constexpr int kProducers = 4;
constexpr int kDeleters = 2;
constexpr int kSearchers = 2;
constexpr int kRoundsPerProducer = 60;  // each round: 3 single saves and a batch of 2
constexpr int kEntriesPerRound = 5;

// What the threads share: the saves whose futures completed, and problems seen.
class Ledger {
 public:
  using Entry = std::shared_ptr<const MemoryEntry>;

  // A completed save. Every fifth one may be deleted; the others must stay findable.
  void saved(MemoryId id, Entry entry, bool deletable) {
    std::lock_guard lock(mutex_);
    all_.emplace(id, entry);
    if (deletable) {
      to_delete_.push_back(id);
    } else {
      kept_.emplace_back(id, std::move(entry));
    }
  }
  std::optional<MemoryId> next_to_delete() {
    std::lock_guard lock(mutex_);
    if (to_delete_.empty()) return std::nullopt;
    const MemoryId id = to_delete_.back();
    to_delete_.pop_back();
    return id;
  }
  void deleted(MemoryId id) {
    std::lock_guard lock(mutex_);
    deleted_.insert(id);
  }
  std::optional<std::pair<MemoryId, Entry>> random_kept(std::mt19937_64& rng) {
    std::lock_guard lock(mutex_);
    if (kept_.empty()) return std::nullopt;
    return kept_[rng() % kept_.size()];
  }
  void problem(const std::string& what) {
    std::lock_guard lock(mutex_);
    if (problems_.size() < 20) problems_.push_back(what);
  }

  // For the checks after every thread has stopped.
  const std::map<MemoryId, Entry>& all() const { return all_; }
  const std::set<MemoryId>& deleted() const { return deleted_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::mutex mutex_;
  std::map<MemoryId, Entry> all_;
  std::vector<std::pair<MemoryId, Entry>> kept_;
  std::vector<MemoryId> to_delete_;
  std::set<MemoryId> deleted_;
  std::vector<std::string> problems_;
};

MemoryEntry producer_entry(int producer, int number, std::mt19937_64& rng) {
  MemoryEntry entry = testing::make_entry(rng, kDim, number);
  entry.chunk = "producer " + std::to_string(producer) + " entry " + std::to_string(number);
  return entry;
}

// Saves, in rounds of three single saves (queued before any is waited for) and one batch.
void produce(AsyncHDF5Memory& memory, int producer, Ledger& ledger) {
  std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(producer));
  MemoryId last_id = -1;
  int number = 0;
  auto record = [&](MemoryId id, MemoryEntry entry, int entry_number) {
    if (id <= last_id) ledger.problem("a producer's ids went backwards");
    last_id = id;
    ledger.saved(id, std::make_shared<const MemoryEntry>(std::move(entry)), entry_number % 5 == 0);
  };
  for (int round = 0; round < kRoundsPerProducer; ++round) {
    std::vector<std::pair<int, MemoryEntry>> singles;
    std::vector<std::future<MemoryId>> futures;
    for (int i = 0; i < 3; ++i, ++number) {
      singles.emplace_back(number, producer_entry(producer, number, rng));
      futures.push_back(memory.save(singles.back().second));
    }
    std::vector<MemoryEntry> batch;
    for (int i = 0; i < 2; ++i) batch.push_back(producer_entry(producer, number + i, rng));
    auto batch_future = memory.save_batch(batch);
    try {
      for (std::size_t i = 0; i < futures.size(); ++i) {
        record(futures[i].get(), std::move(singles[i].second), singles[i].first);
      }
      const std::vector<MemoryId> ids = batch_future.get();
      for (std::size_t i = 0; i < ids.size(); ++i) {
        record(ids[i], std::move(batch[i]), number + static_cast<int>(i));
      }
      if (round % 10 == 9) memory.flush();
    } catch (const std::exception& error) {
      ledger.problem(std::string("save failed: ") + error.what());
    }
    number += 2;
  }
}

void delete_published(AsyncHDF5Memory& memory, Ledger& ledger, const std::atomic<bool>& producing) {
  for (;;) {
    const std::optional<MemoryId> id = ledger.next_to_delete();
    if (!id) {
      if (!producing) return;
      std::this_thread::yield();
      continue;
    }
    try {
      memory.remove(*id).get();
      ledger.deleted(*id);
    } catch (const std::exception& error) {
      ledger.problem("remove " + std::to_string(*id) + " failed: " + error.what());
    }
  }
}

// A save whose future completed must be found by a search that starts afterwards.
void search_kept(const AsyncHDF5Memory& memory, Ledger& ledger, int searcher,
                 const std::atomic<bool>& producing, std::atomic<int>& searches) {
  std::mt19937_64 rng(77 + static_cast<std::uint64_t>(searcher));
  while (producing) {
    const auto kept = ledger.random_kept(rng);
    if (!kept) {
      std::this_thread::yield();
      continue;
    }
    const auto& [id, entry] = *kept;
    try {
      const std::vector<SearchHit> hits = memory.search(entry->embedding, 1);
      if (hits.empty() || hits[0].id != id) {
        ledger.problem("search for memory " + std::to_string(id) + " did not find it first");
      }
      if (memory.get(id) != *entry) ledger.problem("memory " + std::to_string(id) + " differs");
      const bool consistent =
          memory.read([](const HDF5Memory& m) { return m.count_active() <= m.count(); });
      if (!consistent) ledger.problem("more active memories than rows");
    } catch (const std::exception& error) {
      ledger.problem(std::string("read failed: ") + error.what());
    }
    ++searches;
  }
}

// Everything the ledger says, against `count_active` and `get` of a store.
template <typename Store>
void expect_contents(const Store& store, const Ledger& ledger) {
  EXPECT_EQ(store.count_active(), ledger.all().size() - ledger.deleted().size());
  for (const auto& [id, entry] : ledger.all()) {
    if (ledger.deleted().count(id)) {
      try {
        store.get(id);
        ADD_FAILURE() << "deleted memory " << id << " is still there";
      } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::not_found);
      }
    } else {
      EXPECT_EQ(store.get(id), *entry) << "memory " << id;
    }
  }
}

TEST(async_concurrency, ProducersDeletersAndSearchersAtOnce) {
  TempDir dir;
  MemoryConfig config = async_store_config(dir / "m.h5", kDim);
  config.compact_threshold = 0.1;  // deletes (a fifth of the saves) trigger compactions
  OpenOptions options;
  options.checkpoint_log_bytes = 32 << 10;  // flushes checkpoint while searches run
  AsyncConfig async;
  async.flush_interval = std::chrono::milliseconds(5);
  async.queue_capacity = 16;  // producers feel back-pressure
  auto memory = AsyncHDF5Memory::create(config, options, async);

  Ledger ledger;
  std::atomic<bool> producing = true;
  std::atomic<int> searches = 0;
  std::vector<std::thread> others;
  for (int d = 0; d < kDeleters; ++d) {
    others.emplace_back([&] { delete_published(memory, ledger, producing); });
  }
  for (int s = 0; s < kSearchers; ++s) {
    others.emplace_back([&, s] { search_kept(memory, ledger, s, producing, searches); });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] { produce(memory, p, ledger); });
  }
  for (std::thread& producer : producers) producer.join();
  producing = false;
  for (std::thread& other : others) other.join();

  for (const std::string& problem : ledger.problems()) ADD_FAILURE() << problem;
  ASSERT_EQ(ledger.all().size(),
            static_cast<std::size_t>(kProducers * kRoundsPerProducer * kEntriesPerRound));
  EXPECT_EQ(ledger.deleted().size(), ledger.all().size() / 5);
  EXPECT_GT(searches.load(), 0);
  memory.flush();
  expect_contents(memory, ledger);
  const AsyncStats stats = memory.stats();
  EXPECT_EQ(stats.failed_requests, 0u);
  EXPECT_EQ(stats.reopens, 0u);
  memory.shutdown();

  const HDF5Memory reopened = HDF5Memory::open(config.path, {.read_only = true});
  expect_contents(reopened, ledger);
  EXPECT_TRUE(verify_file(config.path).empty());
}

}  // namespace
}  // namespace edgehdf5
