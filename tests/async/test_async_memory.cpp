// AsyncHDF5Memory's contract, one behaviour per test: futures, refusals, group commit, the
// flush interval and threshold, every_write, back-pressure, shutdown and moves.

#include "edgehdf5/async_memory.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "async_test_util.hpp"
#include "edgehdf5/error.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::async_store_config;
using testing::ids_of;
using testing::make_entries;
using testing::TempDir;

constexpr std::size_t kDim = 16;

// Settings under which the writer fsyncs only when flush() asks, so counts are exact.
AsyncConfig sync_on_flush_only() {
  AsyncConfig async;
  async.flush_interval = std::chrono::milliseconds(0);
  async.flush_pending = 0;
  return async;
}

// The error a future or call holds; fails the test if it holds none.
template <typename Call>
Error error_of(Call&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorCode::invalid_argument, "no error");
}

TEST(async_memory, SavesReturnIdsAndAreVisibleOnceTheirFutureCompletes) {
  TempDir dir;
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim));
  const auto entries = make_entries(10, kDim);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const MemoryId id = memory.save(entries[i]).get();
    EXPECT_EQ(id, static_cast<MemoryId>(i));
    EXPECT_EQ(memory.get(id), entries[i]);
    EXPECT_EQ(memory.count(), i + 1);
    const auto hits = memory.search(entries[i].embedding, 1);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, id);
  }
  SearchOptions options;
  options.k = 3;
  const SearchResults results = memory.search(entries[4].embedding, options);
  ASSERT_EQ(results.hits.size(), 3u);
  EXPECT_EQ(results.hits[0].id, 4);
  EXPECT_FALSE(results.metrics.strategy.empty());
  EXPECT_EQ(memory.config().embedding_dim, kDim);
}

TEST(async_memory, EveryKindOfChangeGoesThroughTheQueue) {
  TempDir dir;
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim));
  const std::vector<MemoryId> ids = memory.save_batch(make_entries(5, kDim)).get();
  EXPECT_EQ(ids, (std::vector<MemoryId>{0, 1, 2, 3, 4}));
  memory.remove(2).get();
  EXPECT_EQ(memory.count_active(), 4u);
  memory.add_session("s1", 0, 5, "chat", "talked about cats").get();
  EXPECT_EQ(memory.get_session_summary("s1"), "talked about cats");
  const EntityId alice = memory.add_entity("Alice", "person", 0).get();
  const EntityId project = memory.add_entity("edgehdf5", "project", -1).get();
  memory.add_relation(alice, project, "works_on", 0.5f).get();
  const auto neighbours =
      memory.read([&](const HDF5Memory& m) { return m.knowledge().neighbors(alice); });
  EXPECT_EQ(neighbours, std::vector<EntityId>{project});
  memory.shutdown();

  const HDF5Memory reopened = HDF5Memory::open(dir / "m.h5", {.read_only = true});
  EXPECT_EQ(reopened.count_active(), 4u);
  EXPECT_EQ(reopened.knowledge().relations().size(), 1u);
  EXPECT_EQ(reopened.get_session_summary("s1"), "talked about cats");
}

// Saves queued together are merged into one save_batch; a refused entry must still fail
// alone, whether merging is on or off.
class async_refusals : public ::testing::TestWithParam<bool> {};

TEST_P(async_refusals, ARefusedChangeFailsOnlyItsOwnFuture) {
  TempDir dir;
  AsyncConfig async = sync_on_flush_only();
  async.coalesce_saves = GetParam();
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, async);
  auto entries = make_entries(20, kDim);
  entries[7].embedding.resize(3);
  std::vector<std::future<MemoryId>> saves;
  for (const MemoryEntry& entry : entries) saves.push_back(memory.save(entry));
  std::vector<MemoryId> ids;
  for (std::size_t i = 0; i < saves.size(); ++i) {
    if (i == 7) {
      const Error error = error_of([&] { saves[i].get(); });
      EXPECT_EQ(error.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(error.what()).find("embedding has 3 values"), std::string::npos)
          << error.what();
    } else {
      ids.push_back(saves[i].get());
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<MemoryId>(i));
  EXPECT_EQ(error_of([&] { memory.remove(1000).get(); }).code(), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { memory.add_relation(0, 1, "knows", 1.0f).get(); }).code(),
            ErrorCode::not_found);
  memory.flush();  // refusals are not write failures: nothing to report
  EXPECT_EQ(memory.count(), 19u);
  const AsyncStats stats = memory.stats();
  EXPECT_EQ(stats.failed_requests, 3u);
  EXPECT_EQ(stats.syncs, 1u);
  memory.shutdown();
  EXPECT_EQ(HDF5Memory::open(dir / "m.h5", {.read_only = true}).count(), 19u);
}

INSTANTIATE_TEST_SUITE_P(Merging, async_refusals, ::testing::Bool());

TEST(async_memory, ManyQueuedSavesShareOneFsync) {
  TempDir dir;
  auto memory =
      AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, sync_on_flush_only());
  std::vector<std::future<MemoryId>> saves;
  for (const MemoryEntry& entry : make_entries(500, kDim)) saves.push_back(memory.save(entry));
  memory.flush();
  EXPECT_EQ(ids_of(saves).size(), 500u);
  const AsyncStats stats = memory.stats();
  EXPECT_EQ(stats.syncs, 1u);
  EXPECT_EQ(stats.requests, 500u);
  EXPECT_EQ(stats.failed_requests, 0u);
}

TEST(async_memory, FsyncsOnTheIntervalWithoutBeingAsked) {
  TempDir dir;
  AsyncConfig async = sync_on_flush_only();
  async.flush_interval = std::chrono::milliseconds(20);
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, async);
  memory.save(make_entries(1, kDim)[0]).get();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (memory.stats().syncs == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(memory.stats().syncs, 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(memory.stats().syncs, 1u) << "nothing new to sync, so no more fsyncs";
}

TEST(async_memory, WithoutTimerOrThresholdOnlyFlushSyncs) {
  TempDir dir;
  auto memory =
      AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, sync_on_flush_only());
  memory.save(make_entries(1, kDim)[0]).get();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(memory.stats().syncs, 0u);
  memory.flush();
  EXPECT_EQ(memory.stats().syncs, 1u);
}

TEST(async_memory, FsyncsOnceThePendingThresholdIsReached) {
  TempDir dir;
  AsyncConfig async = sync_on_flush_only();
  async.flush_pending = 10;
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, async);
  // One at a time, so that each group holds one save: fsyncs after the 10th and the 20th.
  for (const MemoryEntry& entry : make_entries(25, kDim)) memory.save(entry).get();
  EXPECT_EQ(memory.stats().syncs, 2u);
  memory.save_batch(make_entries(10, kDim, 7)).get();  // a batch counts its entries
  // A future completes before its group's fsync: the next save's completes after it.
  memory.save(make_entries(1, kDim, 8)[0]).get();
  EXPECT_EQ(memory.stats().syncs, 3u);
}

TEST(async_memory, EveryWriteCompletesFuturesOnlyAfterTheirGroupsFsync) {
  TempDir dir;
  OpenOptions options;
  options.durability = Durability::every_write;
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), options,
                                        sync_on_flush_only());
  memory.save(make_entries(1, kDim)[0]).get();
  EXPECT_EQ(memory.stats().syncs, 1u);
  std::vector<std::future<MemoryId>> saves;
  for (const MemoryEntry& entry : make_entries(200, kDim, 3)) saves.push_back(memory.save(entry));
  EXPECT_EQ(ids_of(saves).size(), 200u);
  const AsyncStats stats = memory.stats();
  EXPECT_EQ(stats.syncs, stats.groups) << "one fsync per group, however many saves it holds";
}

TEST(async_memory, AFullQueueMakesProducersWait) {
  TempDir dir;
  AsyncConfig async;
  async.queue_capacity = 2;
  async.max_group = 1;
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, async);
  std::atomic<bool> producing = true;
  std::size_t most_queued = 0;
  std::thread watcher([&] {
    while (producing) most_queued = std::max(most_queued, memory.stats().queued);
  });
  constexpr int kThreads = 4, kSaves = 100;
  std::vector<std::vector<MemoryId>> ids(kThreads);
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      std::vector<std::future<MemoryId>> saves;
      for (const MemoryEntry& entry : make_entries(kSaves, kDim, t)) {
        saves.push_back(memory.save(entry));
      }
      ids[t] = ids_of(saves);
    });
  }
  for (std::thread& producer : producers) producer.join();
  producing = false;
  watcher.join();
  std::set<MemoryId> distinct;
  for (const auto& thread_ids : ids) {
    EXPECT_TRUE(std::is_sorted(thread_ids.begin(), thread_ids.end()));
    distinct.insert(thread_ids.begin(), thread_ids.end());
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kSaves));
  EXPECT_LE(most_queued, 2u);
  EXPECT_EQ(memory.stats().largest_group, 1u);
  EXPECT_EQ(memory.count(), static_cast<std::size_t>(kThreads * kSaves));
}

TEST(async_memory, ShutdownAppliesEverythingQueuedAndCheckpoints) {
  TempDir dir;
  std::vector<std::future<MemoryId>> saves;
  {
    auto memory =
        AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, sync_on_flush_only());
    for (const MemoryEntry& entry : make_entries(300, kDim)) saves.push_back(memory.save(entry));
    memory.shutdown();
    for (const auto& save : saves) {
      EXPECT_EQ(save.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    }
  }
  EXPECT_EQ(ids_of(saves).size(), 300u);
  const HDF5Memory reopened = HDF5Memory::open(dir / "m.h5", {.read_only = true});
  EXPECT_EQ(reopened.count(), 300u);
  EXPECT_EQ(reopened.info().log_records_replayed, 0u);  // all in the .h5
}

TEST(async_memory, DestroyingWithoutShutdownLosesNothing) {
  TempDir dir;
  const auto entries = make_entries(300, kDim);
  std::vector<std::future<MemoryId>> saves;
  {
    auto memory =
        AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim), {}, sync_on_flush_only());
    for (const MemoryEntry& entry : entries) saves.push_back(memory.save(entry));
  }
  const std::vector<MemoryId> ids = ids_of(saves);
  ASSERT_EQ(ids.size(), entries.size());
  const HDF5Memory reopened = HDF5Memory::open(dir / "m.h5", {.read_only = true});
  ASSERT_EQ(reopened.count(), entries.size());
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(reopened.get(ids[i]), entries[i]);
}

TEST(async_memory, AfterShutdownChangesFailAndReadsThrow) {
  TempDir dir;
  auto memory = AsyncHDF5Memory::create(async_store_config(dir / "m.h5", kDim));
  memory.save(make_entries(1, kDim)[0]).get();
  memory.shutdown();
  memory.shutdown();  // again: nothing failed, nothing to throw
  const Error refused = error_of([&] { memory.save(make_entries(1, kDim)[0]).get(); });
  EXPECT_EQ(refused.code(), ErrorCode::invalid_argument);
  EXPECT_NE(std::string(refused.what()).find("shut down"), std::string::npos) << refused.what();
  EXPECT_EQ(error_of([&] { memory.flush(); }).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { memory.count(); }).code(), ErrorCode::invalid_argument);
  // The file is released: another handle may write it now.
  EXPECT_EQ(HDF5Memory::open(dir / "m.h5").count(), 1u);
}

TEST(async_memory, MovesKeepTheWriterAndAssignmentShutsTheOldStoreDown) {
  TempDir dir;
  auto first = AsyncHDF5Memory::create(async_store_config(dir / "a.h5", kDim));
  first.save(make_entries(1, kDim)[0]).get();
  AsyncHDF5Memory moved(std::move(first));
  EXPECT_EQ(moved.save(make_entries(1, kDim)[0]).get(), 1);
  moved = AsyncHDF5Memory::create(async_store_config(dir / "b.h5", kDim));
  EXPECT_EQ(moved.save(make_entries(1, kDim)[0]).get(), 0);
  EXPECT_EQ(HDF5Memory::open(dir / "a.h5").count(), 2u);  // shut down: saved and unlocked
}

TEST(async_memory, BadSettingsAreRefusedBeforeAnythingIsCreated) {
  TempDir dir;
  const auto config = async_store_config(dir / "m.h5", kDim);
  EXPECT_EQ(error_of([&] { AsyncHDF5Memory::create(config, {.read_only = true}); }).code(),
            ErrorCode::invalid_argument);
  AsyncConfig no_queue;
  no_queue.queue_capacity = 0;
  EXPECT_EQ(error_of([&] { AsyncHDF5Memory::create(config, {}, no_queue); }).code(),
            ErrorCode::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(config.path));
  EXPECT_EQ(error_of([&] { AsyncHDF5Memory::open(dir / "missing.h5"); }).code(), ErrorCode::io);
}

}  // namespace
}  // namespace edgehdf5
