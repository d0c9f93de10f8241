// edgehdf5-bench exact: exact top-k cosine search over 1K..1M x 384 unit vectors stored as
// float32 and as float16, in one run on the same data:
//   * each strategy of ours (scalar, simd, blas, parallel) forced, and auto (none forced),
//     for single queries and for batches of 16 and 128 queries (search_batch);
//   * the peers: FAISS IndexFlatIP on one thread and on every core, and a plain OpenBLAS
//     sgemv (sgemm for batches) + heap top-k on one thread and on every core;
//   * the memory-bandwidth bound of the stored bytes: a plain read of the embedding matrix,
//     on one thread and on every core; each row's ratio_to_bound is its median over the
//     bound's median with the same thread count.
// The top-10 ids of the first queries are compared with FAISS's (float32) or with the scalar
// reference's (float16, where FAISS has no like-for-like index); differences beyond ties are
// counted in the table, not fatal. The SPEC's targets are checked in a last table.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/version.hpp"
#include "exact_peers.hpp"
#include "workload.hpp"

namespace edgehdf5::bench {
namespace {

constexpr std::size_t kTopK = 10;
constexpr std::array<std::size_t, 2> kBatchSizes = {16, 128};
// The first queries' top-k are compared with the reference's.
constexpr std::size_t kCheckedQueries = 5;
// Ids that differ at the same rank count as a tie when their scores agree this closely
// (FAISS's inner product and our dot / (norm * norm) differ by rounding, ~1e-7).
constexpr float kTieTolerance = 1e-5f;
// Query vectors come from a stream far beyond the data's.
constexpr std::uint64_t kQueryStream = std::uint64_t{1} << 40;
// Below this many stored bytes a call is short and its matrix stays in the caches, so what
// the backend measured before left behind (cache contents, OpenMP workers still spinning)
// would weigh: each backend's calls then start with one untimed call.
constexpr std::size_t kWarmUpBelowBytes = std::size_t{64} << 20;
// Timed calls are spread over this many rounds of all backends, so that a shared machine's
// slow drift touches every backend alike.
constexpr std::size_t kRounds = 3;
// OpenBLAS's idle workers spin after each multi-threaded call (OpenMP's for a few ms), on the
// cores the next backend needs: after such a backend's calls the next one waits this long.
// Their spin is 2^28 time-stamp counter ticks: 128 ms measured on a 2.1 GHz counter, so the
// wait is StrategyTuner's kOpenBlasSpin, which covers a counter of 0.9 GHz.
constexpr auto kSettle = std::chrono::milliseconds(300);
// Auto's trial before its timed calls lasts at most this long (it needs about 20 calls, and
// 300 ms of them after a blas call: StrategyTuner::kOpenBlasSpin).
constexpr auto kMostTrialTime = std::chrono::seconds(60);

// The SPEC's targets (section 6).
constexpr std::size_t kBoundTargetMinRows = 100'000;
constexpr double kBoundTargetRatio = 1.25;
constexpr double kHalfTargetRatio = 0.6;

struct ExactOptions {
  std::vector<std::size_t> sizes = {1'000, 10'000, 100'000, 1'000'000};
  std::size_t embedding_dim = 384;
  std::size_t queries = 0;  // single queries per backend; 0: by collection size
  std::uint64_t seed = 42;
  bool json = false;
};

// Timed calls per measurement at one collection size: enough for a stable median on a noisy
// machine, few enough that the default run takes a few minutes on two cores.
struct Repeats {
  std::size_t single;          // single queries per backend
  std::size_t batches;         // batches per backend and batch size
  std::size_t scalar_single;   // the scalar reference is several times slower: fewer calls
  std::size_t scalar_batches;  // 0: its batches are not measured (a batch of 128 scalar
                               // queries over 10K float16 rows already takes seconds)
  std::size_t bound_passes;    // read passes per bound, half before the backends, half after
};

Repeats repeats_for(std::size_t rows, std::size_t queries) {
  Repeats repeats = rows <= 2'000     ? Repeats{200, 30, 50, 3, 40}
                    : rows <= 20'000  ? Repeats{200, 30, 50, 0, 40}
                    : rows <= 200'000 ? Repeats{50, 5, 10, 0, 20}
                                      : Repeats{15, 3, 3, 0, 10};
  if (queries > 0) {
    repeats.single = queries;
    repeats.scalar_single = std::min(repeats.scalar_single, queries);
  }
  return repeats;
}

std::string dtype_name(EmbeddingType type) {
  return type == EmbeddingType::float16 ? "f16" : "f32";
}

// One thing measured on one store: a strategy of ours or a peer.
struct Backend {
  std::string name;  // "simd", "auto", "faiss_flat", "openblas_sgemv", ...
  std::string ran;   // what actually ran, e.g. "parallel/AVX3" for auto
  // Ours: what the last call ran ("strategy/isa"), and that of each batch size's last call
  // (auto measures on its first calls, so the probe's strategy may not be what it kept).
  std::shared_ptr<std::string> last_ran;
  std::map<std::size_t, std::string> ran_by_batch;
  std::size_t threads = 1;
  std::size_t single_calls = 0;
  std::size_t batch_calls = 0;  // 0: no batch rows
  bool reference = false;       // the others' top-k are compared with this one's
  bool leaves_spinning_threads = false;  // runs OpenBLAS or OpenMP on more than one thread
  std::function<void()> prepare;  // thread settings, before each run of its calls
  // Auto: calls of `batch` queries until its measured choice for the shape is made (see
  // StrategyThresholds::tune_auto), before any of its calls is timed; returns a note of
  // the trial's cost. Empty for the others.
  std::function<std::string(std::size_t batch)> settle;
  // The k best rows of `count` queries, k per query, best first.
  std::function<void(const float* queries, std::size_t count, std::vector<PeerHit>& hits)> search;

  std::vector<PeerHit> checked_hits;  // of the first single queries, kTopK per query
  std::size_t checked_queries = 0;
};

// How a backend's top-k compared with the reference's.
struct CheckResult {
  std::size_t mismatches = 0;
  std::size_t checked = 0;
};

// The run's medians, keyed for the targets table.
struct Key {
  std::size_t rows;
  std::string dtype;
  std::string backend;
  std::size_t threads;
  std::size_t batch;
  auto operator<=>(const Key&) const = default;
};
using Medians = std::map<Key, double>;  // microseconds per call

class ExactBench {
 public:
  ExactBench(const ExactOptions& options, RowReporter& report)
      : options_(options),
        report_(report),
        cores_(engine_.capabilities().cores),
        openblas_default_threads_(openblas_threads()) {}

  void run_size(std::size_t rows);
  void report_targets();

 private:
  void measure_store(std::size_t rows, const MemoryColumns& columns, FaissFlatPeer* faiss,
                     OpenBlasPeer* openblas);
  Backend our_backend(const std::string& name, std::optional<Strategy> strategy,
                      const MemoryColumns& columns, const Repeats& repeats);
  // The first query of call `call` of `batch` queries: call i of a single-query run takes
  // query i; batches start at staggered queries.
  const float* queries_of_call(std::size_t call, std::size_t batch) const {
    const std::size_t first =
        batch == 1 ? call % query_pool_ : (call * batch) % (query_pool_ - batch + 1);
    return queries_.data() + first * options_.embedding_dim;
  }
  std::vector<std::vector<double>> time_calls(std::vector<Backend>& backends, std::size_t batch,
                                              bool warm_up);
  void add_row(std::size_t rows, const std::string& dtype, const Backend& backend,
               std::size_t batch, const Summary& summary, std::optional<double> bound_us,
               std::optional<CheckResult> check, const std::string& reference);

  const ExactOptions& options_;
  RowReporter& report_;
  SearchEngine engine_;
  std::size_t cores_;
  std::size_t openblas_default_threads_;
  std::vector<float> queries_;
  std::size_t query_pool_ = 0;
  Medians medians_;
};

Backend ExactBench::our_backend(const std::string& name, std::optional<Strategy> strategy,
                                const MemoryColumns& columns, const Repeats& repeats) {
  SearchOptions search_options;
  search_options.k = kTopK;
  search_options.strategy = strategy;
  const std::size_t dim = columns.embedding_dim;
  Backend backend;
  backend.name = name;
  const bool scalar = strategy == Strategy::scalar;
  backend.single_calls = scalar ? repeats.scalar_single : repeats.single;
  backend.batch_calls = scalar ? repeats.scalar_batches : repeats.batches;
  backend.prepare = [this] { set_openblas_threads(openblas_default_threads_); };
  backend.last_ran = std::make_shared<std::string>();
  backend.search = [this, &columns, search_options, dim, last_ran = backend.last_ran](
                       const float* queries, std::size_t count, std::vector<PeerHit>& hits) {
    hits.clear();
    auto append = [&hits, &last_ran](const SearchResults& results) {
      for (const SearchHit& hit : results.hits) hits.push_back({hit.id, hit.score});
      *last_ran = results.metrics.strategy + "/" + results.metrics.isa;
    };
    if (count == 1) {
      append(engine_.search(std::span(queries, dim), columns, search_options));
    } else {
      for (const SearchResults& results :
           engine_.search_batch(std::span(queries, count * dim), count, columns, search_options)) {
        append(results);
      }
    }
  };
  if (!strategy) {
    backend.settle = [this, &columns, search_options, dim](std::size_t batch) {
      const SearchShape shape{columns.rows(), batch, columns.embedding_type, false, dim};
      if (!engine_.measures(shape)) return std::string();
      const auto started = std::chrono::steady_clock::now();
      std::size_t calls = 0;
      while (!engine_.measured_strategy(shape) &&
             std::chrono::steady_clock::now() - started < kMostTrialTime) {
        engine_.search_batch(std::span(queries_of_call(calls, batch), batch * dim), batch,
                             columns, search_options);
        ++calls;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const std::optional<Strategy> kept = engine_.measured_strategy(shape);
      char text[160];
      std::snprintf(text, sizeof text, "auto n=%zu %s batch %zu: %s after a trial of %zu calls (%.1f ms)",
                    columns.rows(), dtype_name(columns.embedding_type).c_str(), batch,
                    kept ? std::string(strategy_name(*kept)).c_str() : "still on trial",
                    calls, seconds * 1e3);
      return std::string(text);
    };
  }
  // One probe call tells what runs and on how many threads (and throws unsupported now,
  // not in the middle of the timing, for a strategy this build lacks).
  backend.prepare();
  const SearchResults probe =
      engine_.search(std::span(queries_.data(), dim), columns, search_options);
  backend.ran = probe.metrics.strategy + "/" + probe.metrics.isa;
  backend.threads = probe.metrics.threads;
  return backend;
}

// Seconds of each backend's calls of `batch` queries ([backend][call]), spread over kRounds
// rounds; keeps the hits of the first single queries for the top-k check.
std::vector<std::vector<double>> ExactBench::time_calls(std::vector<Backend>& backends,
                                                        std::size_t batch, bool warm_up) {
  std::vector<std::vector<double>> seconds(backends.size());
  std::vector<PeerHit> hits;
  for (Backend& backend : backends) {
    const std::size_t calls = batch == 1 ? backend.single_calls : backend.batch_calls;
    if (!backend.settle || calls == 0) continue;
    backend.prepare();
    const std::string trial = backend.settle(batch);
    if (!trial.empty()) report_.note(trial);
  }
  for (std::size_t round = 0; round < kRounds; ++round) {
    for (std::size_t b = 0; b < backends.size(); ++b) {
      Backend& backend = backends[b];
      const std::size_t calls = batch == 1 ? backend.single_calls : backend.batch_calls;
      const std::size_t begin = calls * round / kRounds;
      const std::size_t end = calls * (round + 1) / kRounds;
      if (begin == end) continue;
      backend.prepare();
      if (warm_up) backend.search(queries_of_call(begin, batch), batch, hits);
      for (std::size_t call = begin; call < end; ++call) {
        const float* queries = queries_of_call(call, batch);
        seconds[b].push_back(seconds_to_run([&] { backend.search(queries, batch, hits); }));
        if (batch == 1 && call < kCheckedQueries) {
          backend.checked_hits.insert(backend.checked_hits.end(), hits.begin(), hits.end());
          ++backend.checked_queries;
        }
      }
      if (backend.leaves_spinning_threads) std::this_thread::sleep_for(kSettle);
    }
  }
  for (Backend& backend : backends) {
    if (backend.last_ran) backend.ran_by_batch[batch] = *backend.last_ran;
  }
  return seconds;
}

// Of the queries both checked, those whose top-k differs from the reference's beyond ties:
// at some rank the ids differ and so do the scores.
CheckResult count_mismatches(const Backend& backend, const Backend& reference) {
  const std::size_t queries = std::min(backend.checked_queries, reference.checked_queries);
  std::size_t mismatches = 0;
  for (std::size_t q = 0; q < queries; ++q) {
    for (std::size_t rank = 0; rank < kTopK; ++rank) {
      const PeerHit& ours = backend.checked_hits[q * kTopK + rank];
      const PeerHit& theirs = reference.checked_hits[q * kTopK + rank];
      if (ours.row != theirs.row && std::fabs(ours.score - theirs.score) > kTieTolerance) {
        ++mismatches;
        break;
      }
    }
  }
  return {mismatches, queries};
}

void ExactBench::add_row(std::size_t rows, const std::string& dtype, const Backend& backend,
                         std::size_t batch, const Summary& summary,
                         std::optional<double> bound_us, std::optional<CheckResult> check,
                         const std::string& reference) {
  const double median_us = summary.median * 1e6;
  medians_[{rows, dtype, backend.name, backend.threads, batch}] = median_us;
  report_.add({
      "exact",
      rows,
      options_.embedding_dim,
      dtype,
      backend.name,
      backend.threads,
      batch,
      median_us,
      summary.p99 * 1e6,
      median_us / static_cast<double>(batch),
      bound_us ? nlohmann::json(median_us / *bound_us) : nlohmann::json(),
      summary.samples,
      check ? nlohmann::json(std::to_string(check->mismatches) + "/" +
                             std::to_string(check->checked) + " vs " + reference)
            : nlohmann::json(),
      check ? nlohmann::json(check->mismatches) : nlohmann::json(),
      check ? nlohmann::json(check->checked) : nlohmann::json(),
      check ? nlohmann::json(reference) : nlohmann::json(),
      backend.ran_by_batch.contains(batch) ? backend.ran_by_batch.at(batch) : backend.ran,
  });
}

void ExactBench::measure_store(std::size_t rows, const MemoryColumns& columns, FaissFlatPeer* faiss,
                               OpenBlasPeer* openblas) {
  const Repeats repeats = repeats_for(rows, options_.queries);
  const std::string dtype = dtype_name(columns.embedding_type);
  const bool half = columns.embedding_type == EmbeddingType::float16;
  const std::span<const std::byte> stored =
      half ? std::as_bytes(std::span(columns.embeddings_f16)) : std::as_bytes(std::span(columns.embeddings_f32));

  std::vector<Backend> backends;
  backends.push_back(our_backend("scalar", Strategy::scalar, columns, repeats));
  backends.push_back(our_backend("simd", Strategy::simd, columns, repeats));
  backends.push_back(our_backend("parallel", Strategy::parallel, columns, repeats));
  backends.push_back(our_backend("auto", std::nullopt, columns, repeats));
  // Those that use OpenBLAS's threads come after those that do not (see kSettle).
  if (!half && engine_.capabilities().blas_available) {
    backends.push_back(our_backend("blas", Strategy::blas, columns, repeats));
    backends.back().leaves_spinning_threads = backends.back().threads > 1;
  }
  std::string reference = "scalar";
  auto add_peer = [&](auto* peer, const std::string& name, const std::string& ran,
                      std::size_t threads) {
    Backend backend;
    backend.name = name;
    backend.ran = ran;
    backend.threads = threads;
    backend.leaves_spinning_threads = threads > 1;
    backend.single_calls = repeats.single;
    backend.batch_calls = repeats.batches;
    backend.prepare = [peer, threads] { peer->use_threads(threads); };
    backend.search = [peer](const float* queries, std::size_t count, std::vector<PeerHit>& hits) {
      peer->search(queries, count, kTopK, hits);
    };
    backends.push_back(std::move(backend));
  };
  if (!half && faiss != nullptr) {
    for (const std::size_t threads : {std::size_t{1}, cores_}) {
      add_peer(faiss, "faiss_flat", "IndexFlatIP", threads);
    }
    reference = "faiss_flat";
  }
  if (!half && openblas != nullptr) {
    for (const std::size_t threads : {std::size_t{1}, cores_}) {
      add_peer(openblas, "openblas_sgemv", "sgemv/sgemm+heap", threads);
    }
  }
  for (Backend& backend : backends) {
    backend.reference = backend.name == reference && (backend.threads == 1);
  }

  std::this_thread::sleep_for(kSettle);  // after the probe calls
  // The bound: half of its passes before the backends and half after, one median of all.
  const std::size_t half_passes = std::max<std::size_t>(1, repeats.bound_passes / 2);
  std::vector<double> bound_single = seconds_to_read_memory(stored, 1, half_passes);
  std::vector<double> bound_all = seconds_to_read_memory(stored, cores_, half_passes);

  const bool warm_up = stored.size() < kWarmUpBelowBytes;
  std::vector<std::vector<std::vector<double>>> seconds;  // [batch index][backend][call]
  seconds.push_back(time_calls(backends, 1, warm_up));
  for (const std::size_t batch : kBatchSizes) seconds.push_back(time_calls(backends, batch, warm_up));

  auto append = [](std::vector<double>& to, const std::vector<double>& more) {
    to.insert(to.end(), more.begin(), more.end());
  };
  append(bound_single, seconds_to_read_memory(stored, 1, half_passes));
  append(bound_all, seconds_to_read_memory(stored, cores_, half_passes));
  set_openblas_threads(openblas_default_threads_);

  const Summary single_bound = summarize(bound_single);
  const Summary all_bound = summarize(bound_all);
  auto bound_us = [&](std::size_t threads) {
    return (threads == 1 ? single_bound : all_bound).median * 1e6;
  };
  Backend bound_row;
  bound_row.name = "bandwidth_bound";
  char read_text[48];
  std::snprintf(read_text, sizeof read_text, "read %.1f MB", static_cast<double>(stored.size()) / 1e6);
  bound_row.ran = read_text;
  add_row(rows, dtype, bound_row, 1, single_bound, std::nullopt, std::nullopt, "");
  bound_row.threads = cores_;
  add_row(rows, dtype, bound_row, 1, all_bound, std::nullopt, std::nullopt, "");

  const auto reference_backend =
      std::find_if(backends.begin(), backends.end(), [](const Backend& b) { return b.reference; });
  for (std::size_t batch_index = 0; batch_index < seconds.size(); ++batch_index) {
    const std::size_t batch = batch_index == 0 ? 1 : kBatchSizes[batch_index - 1];
    for (std::size_t b = 0; b < backends.size(); ++b) {
      if (seconds[batch_index][b].empty()) continue;
      const Backend& backend = backends[b];
      std::optional<CheckResult> check;
      if (batch == 1 && !backend.reference && reference_backend != backends.end()) {
        check = count_mismatches(backend, *reference_backend);
      }
      add_row(rows, dtype, backend, batch, summarize(seconds[batch_index][b]),
              bound_us(backend.threads), check, reference);
    }
  }
}

void ExactBench::run_size(std::size_t rows) {
  const std::size_t dim = options_.embedding_dim;
  const Repeats repeats = repeats_for(rows, options_.queries);
  query_pool_ = std::max<std::size_t>(repeats.single, 2 * kBatchSizes.back());
  queries_ = random_unit_vectors(query_pool_, dim, options_.seed, kQueryStream);

  // Everything of this size lives in this scope and is freed before the next size.
  std::vector<float> vectors = random_unit_rows(rows, dim, options_.seed);
  const MemoryColumns half_columns = float16_columns(vectors, dim);
  std::optional<FaissFlatPeer> faiss;
  if (FaissFlatPeer::available()) faiss.emplace(vectors.data(), rows, dim);
  const MemoryColumns columns = float32_columns(std::move(vectors), dim);
  std::optional<OpenBlasPeer> openblas;
  if (OpenBlasPeer::available()) {
    openblas.emplace(columns.embeddings_f32.data(), rows, dim, kBatchSizes.back());
  }
  measure_store(rows, columns, faiss ? &*faiss : nullptr, openblas ? &*openblas : nullptr);
  measure_store(rows, half_columns, nullptr, nullptr);
}

void ExactBench::report_targets() {
  report_.set_columns({
      {"target", 34, true},
      {"n", 8},
      {"dtype", 5, true},
      {"threads", 7},
      {"batch", 5},
      {"value", 7},
      {"limit", 5},
      {"met", 3, true},
      {"detail", 0, true},
  });
  // A peer's median with the given threads.
  auto find = [this](std::size_t rows, const std::string& dtype, const std::string& backend,
                     std::size_t threads, std::size_t batch) -> std::optional<double> {
    const auto it = medians_.find({rows, dtype, backend, threads, batch});
    if (it == medians_.end()) return std::nullopt;
    return it->second;
  };
  // Our backend's median and the threads it ran on (it chose them).
  struct Ours {
    double median_us;
    std::size_t threads;
  };
  auto find_ours = [this](std::size_t rows, const std::string& dtype, const std::string& backend,
                          std::size_t batch) -> std::optional<Ours> {
    for (const auto& [key, median_us] : medians_) {
      if (key.rows == rows && key.dtype == dtype && key.backend == backend && key.batch == batch) {
        return Ours{median_us, key.threads};
      }
    }
    return std::nullopt;
  };
  auto add = [this](const std::string& target, std::size_t rows, const std::string& dtype,
                    std::size_t threads, std::size_t batch, double value, double limit,
                    const std::string& detail) {
    report_.add({target, rows, dtype, threads, batch, value, limit, value <= limit ? "yes" : "NO",
                 detail});
  };
  auto microseconds = [](double us) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f us", us);
    return std::string(text);
  };
  std::vector<std::size_t> sizes = options_.sizes;
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());

  // auto at least as fast as the faster setting of each peer.
  for (const std::string& peer : {std::string("faiss_flat"), std::string("openblas_sgemv")}) {
    for (const std::size_t rows : sizes) {
      for (const std::size_t batch : {std::size_t{1}, kBatchSizes[0], kBatchSizes[1]}) {
        const auto ours = find_ours(rows, "f32", "auto", batch);
        const auto one = find(rows, "f32", peer, 1, batch);
        const auto all = find(rows, "f32", peer, cores_, batch);
        if (!ours || !one || !all) continue;
        const bool one_faster = *one <= *all;
        const double best = std::min(*one, *all);
        add("auto <= " + peer, rows, "f32", ours->threads, batch, ours->median_us / best, 1.0,
            "auto " + microseconds(ours->median_us) + " vs " + peer + " " + microseconds(best) +
                " on " + std::to_string(one_faster ? 1 : cores_) + " thread(s), its faster setting");
      }
    }
  }
  // Single-query scans within 1.25x of the bandwidth bound from 100K rows.
  for (const std::size_t rows : sizes) {
    if (rows < kBoundTargetMinRows) continue;
    for (const std::string& dtype : {std::string("f32"), std::string("f16")}) {
      for (const std::string& backend : {std::string("simd"), std::string("parallel")}) {
        const auto ours = find_ours(rows, dtype, backend, 1);
        if (!ours) continue;
        const auto bound = find(rows, dtype, "bandwidth_bound", ours->threads, 1);
        if (!bound) continue;
        add(backend + " <= 1.25 x bandwidth bound", rows, dtype, ours->threads, 1,
            ours->median_us / *bound, kBoundTargetRatio,
            backend + " " + microseconds(ours->median_us) + " vs bound " + microseconds(*bound));
      }
    }
  }
  // float16 scans at most 0.6x the float32 time from 100K rows.
  for (const std::size_t rows : sizes) {
    if (rows < kBoundTargetMinRows) continue;
    for (const std::string& backend :
         {std::string("simd"), std::string("parallel"), std::string("auto")}) {
      const auto f16 = find_ours(rows, "f16", backend, 1);
      const auto f32 = find_ours(rows, "f32", backend, 1);
      if (!f16 || !f32) continue;
      add(backend + " f16 <= 0.6 x f32", rows, "f16", f16->threads, 1,
          f16->median_us / f32->median_us, kHalfTargetRatio,
          "f16 " + microseconds(f16->median_us) + " vs f32 " + microseconds(f32->median_us));
    }
  }
}

}  // namespace

int run_exact_workload(int argc, char** argv) {
  ExactOptions options;
  CLI::App app{
      "Exact top-k search of every strategy beside FAISS IndexFlatIP, OpenBLAS sgemv + heap and "
      "the memory-bandwidth bound, float32 and float16, in one run on the same data.",
      "edgehdf5-bench exact"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.sizes, "Collection sizes (rows)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65536}))
      ->capture_default_str();
  app.add_option("--queries", options.queries,
                 "Timed single queries per backend (default: 200 up to 20K rows, 50 up to "
                 "200K, 15 above; scalar fewer)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (const std::size_t rows : options.sizes) {
    if (rows < kTopK) {
      throw Error(ErrorCode::invalid_argument,
                  "--sizes: every size must hold at least k = " + std::to_string(kTopK) + " rows");
    }
  }

  RowReporter report("exact", command_line(argc, argv), options.json);
  ExactBench bench(options, report);
  const HardwareCapabilities capabilities = HardwareCapabilities::detect();
  report.note("edgehdf5 " + std::string(kVersion) + ", SIMD " + capabilities.simd_isa + ", " +
              std::to_string(capabilities.cores) + " cores, " +
              std::to_string(std::thread::hardware_concurrency()) + " hardware threads, k=" +
              std::to_string(kTopK));
  report.note("peer: " + FaissFlatPeer::description() +
              (FaissFlatPeer::available() ? "" : ": faiss_flat rows omitted"));
  report.note("peer: " + OpenBlasPeer::description() +
              (OpenBlasPeer::available() ? "" : ": openblas_sgemv rows omitted"));
  report.note("data: unit vectors, seed " + std::to_string(options.seed) +
              "; ids are row numbers; FAISS and OpenBLAS get the float32 vectors");
  report.note("median_us/p99_us per call (one query or one batch); p99 is the slowest call "
              "when there are fewer than 100; per_query_us = median_us / batch");
  report.note("ratio_to_bound = median_us / bandwidth_bound median with the same thread count; "
              "while the matrix fits in the CPU caches the bound is a cache bound");
  report.note("faiss_flat parallelises over queries: with one query it runs one thread whatever "
              "it is allowed");
  report.note("scalar: fewer single queries, and batches only up to 2K rows (it is the "
              "reference, not a contender)");
  report.note("top10_diff: of the first queries, how many top-10 id lists differ (ties aside) "
              "from faiss_flat's (f32) or from scalar's on the same float16 store (f16)");
  report.set_columns({
      {"workload", 8, true, Column::Shown::table_only},  // JSON rows lead with it anyway
      {"n", 8},
      {"dim", 4},
      {"dtype", 5, true},
      {"backend", 15, true},
      {"threads", 7},
      {"batch", 5},
      {"median_us", 10},
      {"p99_us", 10},
      {"per_query_us", 12},
      {"ratio_to_bound", 14},
      {"calls", 5},
      {"top10_diff", 18, true, Column::Shown::table_only},
      {"top10_mismatches", 0, false, Column::Shown::json_only},
      {"top10_checked", 0, false, Column::Shown::json_only},
      {"top10_reference", 0, false, Column::Shown::json_only},
      {"ran", 0, true},
  });
  for (const std::size_t rows : options.sizes) bench.run_size(rows);
  bench.report_targets();
  return 0;
}

}  // namespace edgehdf5::bench
