// edgehdf5-bench ivfpq: the IVF-PQ index at 100K and 1M x 384 clustered unit vectors (a
// seeded mixture of Gaussians), beside FAISS IndexIVFPQ with and without IndexRefineFlat and
// hnswlib, on the same data in the same run. For each backend: build time, bytes per vector,
// and single-query median latency and recall@10 (against exact search) over a sweep of
// nprobe and re-rank counts (hnswlib: ef). A last table checks the SPEC's targets.
//
// Peers are optional (bench/CMakeLists.txt finds them); a missing one's rows are left out
// with a note.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/ivfpq.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/version.hpp"
#include "workload.hpp"

#ifndef EDGEHDF5_BENCH_FAISS
#define EDGEHDF5_BENCH_FAISS 0
#endif
#ifndef EDGEHDF5_BENCH_HNSWLIB
#define EDGEHDF5_BENCH_HNSWLIB 0
#endif
#if EDGEHDF5_BENCH_FAISS
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexRefine.h>
#include <omp.h>
#endif
#if EDGEHDF5_BENCH_HNSWLIB
#include <hnswlib/hnswlib.h>
#endif

namespace edgehdf5::bench {
namespace {

constexpr std::size_t kTopK = 10;
constexpr std::size_t kSubQuantizers = 48;
const std::vector<std::size_t> kProbes = {4, 8, 16, 32, 64};
const std::vector<std::size_t> kReranks = {0, 50, 100, 200, 300, 400};
const std::vector<std::size_t> kEfs = {16, 32, 64, 128, 256};

struct IvfpqOptions {
  std::vector<std::size_t> sizes = {100'000, 1'000'000};
  std::size_t embedding_dim = 384;
  std::size_t queries = 200;
  std::size_t hnsw_max = 100'000;  // hnswlib is built only up to this size (its build is slow)
  std::uint64_t seed = 42;
  bool json = false;
  bool ours_only = false;  // leave the peers out (a quick look at our own curve)
  // --crossover: instead of the sweep, exact auto vs the index at the store's defaults over
  // these sizes, to place StrategyThresholds::ivfpq_min_rows.
  bool crossover = false;
  std::vector<std::size_t> crossover_sizes = {2'000, 5'000, 10'000, 20'000, 50'000, 100'000};
  ApproximateSearch approximate;  // --nprobe, --rerank of the --crossover sweep
};

// A mixture of n / 1000 Gaussians: centres random unit vectors, each point its centre plus
// isotropic noise of norm ~0.9, then normalised. Within a cluster the neighbours are decided
// by the noise, which PQ codes blur: re-ranking is needed for high recall (as with real
// sentence embeddings). Queries are fresh draws from the same mixture. Made on every core,
// in blocks of rows with their own streams, so the data does not depend on the core count.
std::vector<float> clustered_unit_rows(std::size_t count, std::size_t dim, std::size_t clusters,
                                       std::uint64_t seed, std::uint64_t stream) {
  std::vector<float> centres(clusters * dim);
  {
    std::mt19937_64 random(seed);
    std::normal_distribution<float> normal;
    for (std::size_t c = 0; c < clusters; ++c) {
      double norm = 0;
      for (std::size_t j = 0; j < dim; ++j) {
        centres[c * dim + j] = normal(random);
        norm += double(centres[c * dim + j]) * centres[c * dim + j];
      }
      for (std::size_t j = 0; j < dim; ++j) centres[c * dim + j] /= static_cast<float>(std::sqrt(norm));
    }
  }
  constexpr std::size_t kBlock = 16384;
  const float sigma = 0.9f / std::sqrt(static_cast<float>(dim));
  std::vector<float> rows(count * dim);
  const std::size_t blocks = (count + kBlock - 1) / kBlock;
  const std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t b = t; b < blocks; b += threads) {
        std::mt19937_64 random(seed ^ (0x9e3779b97f4a7c15ull * (stream * 1'000'003 + b + 1)));
        std::normal_distribution<float> normal;
        std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
        for (std::size_t i = b * kBlock; i < std::min(count, (b + 1) * kBlock); ++i) {
          const float* centre = centres.data() + pick(random) * dim;
          float* row = rows.data() + i * dim;
          double norm = 0;
          for (std::size_t j = 0; j < dim; ++j) {
            row[j] = centre[j] + sigma * normal(random);
            norm += double(row[j]) * row[j];
          }
          const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
          for (std::size_t j = 0; j < dim; ++j) row[j] *= scale;
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  return rows;
}

double recall_at_k(const std::vector<std::int64_t>& found, const std::set<std::int64_t>& truth) {
  std::size_t hits = 0;
  for (std::int64_t id : found) hits += truth.count(id);
  return truth.empty() ? 1.0 : double(hits) / double(truth.size());
}

class IvfpqBench {
 public:
  IvfpqBench(const IvfpqOptions& options, RowReporter& report) : options_(options), report_(report) {}
  void run(std::size_t rows);
  void report_targets();
  // Exact auto (what a store without an index runs) against the index with the store's
  // defaults (nlist sqrt(n), ApproximateSearch's nprobe and rerank), through the engine.
  void run_crossover(std::size_t rows);
  void report_crossover();

 private:
  // Times `search` on every query (after one untimed pass over the first few) and adds a row.
  template <typename Search>
  void sweep_point(const std::string& backend, std::size_t rows, std::optional<std::size_t> nprobe,
                   std::optional<std::size_t> rerank, double bytes_per_vector, double build_s,
                   Search&& search);

  // Makes the data, the queries and their exact top-10 for `rows` rows.
  MemoryColumns prepare(std::size_t rows);

  const IvfpqOptions& options_;
  RowReporter& report_;
  std::vector<float> queries_;
  std::vector<std::set<std::int64_t>> truth_;

  struct Point {
    double median_us;
    double recall;
    double build_s;
  };
  std::map<std::pair<std::size_t, std::string>, std::vector<Point>> points_;
};

template <typename Search>
void IvfpqBench::sweep_point(const std::string& backend, std::size_t rows,
                             std::optional<std::size_t> nprobe, std::optional<std::size_t> rerank,
                             double bytes_per_vector, double build_s, Search&& search) {
  const std::size_t dim = options_.embedding_dim;
  const std::size_t count = truth_.size();
  std::vector<std::int64_t> found;
  for (std::size_t q = 0; q < std::min<std::size_t>(count, 5); ++q) search(queries_.data() + q * dim, found);
  std::vector<double> micros;
  double recall = 0;
  for (std::size_t q = 0; q < count; ++q) {
    const double seconds = seconds_to_run([&] { search(queries_.data() + q * dim, found); });
    micros.push_back(seconds * 1e6);
    recall += recall_at_k(found, truth_[q]);
  }
  recall /= double(count);
  const Summary summary = summarize(micros);
  report_.add({"ivfpq", backend, rows, nprobe ? nlohmann::json(*nprobe) : nlohmann::json(),
               rerank ? nlohmann::json(*rerank) : nlohmann::json(), summary.median, summary.p99,
               recall, bytes_per_vector, build_s});
  points_[{rows, backend}].push_back({summary.median, recall, build_s});
}

MemoryColumns IvfpqBench::prepare(std::size_t rows) {
  const std::size_t dim = options_.embedding_dim;
  const std::size_t clusters = std::max<std::size_t>(16, rows / 1000);
  MemoryColumns columns = float32_columns(clustered_unit_rows(rows, dim, clusters, options_.seed, 0), dim);
  queries_ = clustered_unit_rows(options_.queries, dim, clusters, options_.seed, 1);
  // Ground truth: exact search, all queries in one batch.
  SearchOptions exact;
  exact.k = kTopK;
  const std::vector<SearchResults> results =
      SearchEngine::shared().search_batch(queries_, options_.queries, columns, exact);
  truth_.assign(options_.queries, {});
  for (std::size_t q = 0; q < options_.queries; ++q) {
    for (const SearchHit& hit : results[q].hits) truth_[q].insert(hit.id);
  }
  return columns;
}

void IvfpqBench::run_crossover(std::size_t rows) {
  const std::size_t dim = options_.embedding_dim;
  const MemoryColumns columns = prepare(rows);
  auto found_ids = [](const SearchResults& results, std::vector<std::int64_t>& found) {
    found.clear();
    for (const SearchHit& hit : results.hits) found.push_back(hit.id);
  };
  SearchOptions exact;
  exact.k = kTopK;
  sweep_point("exact_auto", rows, std::nullopt, std::nullopt, double(dim * sizeof(float)), 0.0,
              [&](const float* query, std::vector<std::int64_t>& found) {
                found_ids(SearchEngine::shared().search(std::span(query, dim), columns, exact),
                          found);
              });
  IVFPQParams params;
  params.seed = options_.seed;
  IVFPQIndex index;
  const double build_s = seconds_to_run([&] { index = IVFPQIndex::train(columns, params); });
  SearchOptions approximate;
  approximate.k = kTopK;
  approximate.strategy = Strategy::ivfpq;
  approximate.approximate = options_.approximate;
  approximate.approximate.index = &index;
  sweep_point("edgehdf5_ivfpq_default", rows, approximate.approximate.nprobe,
              approximate.approximate.rerank, double(index.info().bytes) / double(rows), build_s,
              [&](const float* query, std::vector<std::int64_t>& found) {
                found_ids(SearchEngine::shared().search(std::span(query, dim), columns, approximate),
                          found);
              });
}

void IvfpqBench::report_crossover() {
  report_.set_columns({
      {"crossover", 10, true},
      {"n", 8},
      {"exact_us", 10},
      {"ivfpq_us", 10},
      {"ratio", 6},
      {"recall_at_10", 12},
      {"faster", 6, true},
  });
  for (const std::size_t rows : options_.crossover_sizes) {
    const auto exact = points_.find({rows, "exact_auto"});
    const auto approximate = points_.find({rows, "edgehdf5_ivfpq_default"});
    if (exact == points_.end() || approximate == points_.end()) continue;
    const Point& e = exact->second.front();
    const Point& a = approximate->second.front();
    const double ratio = a.median_us / e.median_us;
    report_.add({"ivfpq/auto", rows, e.median_us, a.median_us, ratio, a.recall,
                 ratio < 1.0 ? "yes" : "no"});
  }
}

void IvfpqBench::run(std::size_t rows) {
  const std::size_t dim = options_.embedding_dim;
  const std::size_t nlist = static_cast<std::size_t>(std::lround(std::sqrt(double(rows))));
  MemoryColumns columns = prepare(rows);
  const float* data = columns.embeddings_f32.data();

  // --- ours
  {
    IVFPQParams params;
    params.nlist = nlist;
    params.sub_quantizers = kSubQuantizers;
    params.seed = options_.seed;
    IVFPQIndex index;
    const double build_s = seconds_to_run([&] { index = IVFPQIndex::train(columns, params); });
    const IVFPQInfo info = index.info();
    const double bytes = double(info.bytes) / double(rows);
    {
      // What reopening a store costs on top of reading /ivfpq: binding the arrays to the
      // rows, without retraining.
      IVFPQData data = index.to_data();
      IVFPQIndex bound;
      const double bind_s =
          seconds_to_run([&] { bound = IVFPQIndex::from_data(std::move(data), columns); });
      report_.note("edgehdf5_ivfpq n=" + std::to_string(rows) + ": train " +
                   std::to_string(build_s) + " s; bind stored arrays (reopen, no retraining) " +
                   std::to_string(bind_s) + " s");
    }
    for (std::size_t nprobe : kProbes) {
      for (std::size_t rerank : kReranks) {
        IVFPQSearchOptions search;
        search.k = kTopK;
        search.nprobe = nprobe;
        search.rerank = rerank;
        sweep_point("edgehdf5_ivfpq", rows, nprobe, rerank, bytes, build_s,
                    [&](const float* query, std::vector<std::int64_t>& found) {
                      const SearchResults results = index.search(std::span(query, dim), columns, search);
                      found.clear();
                      for (const SearchHit& hit : results.hits) found.push_back(hit.id);
                    });
      }
    }
  }

#if EDGEHDF5_BENCH_FAISS
  if (!options_.ours_only) {
    using idx_t = faiss::Index::idx_t;
    faiss::IndexFlatIP quantizer(static_cast<idx_t>(dim));
    faiss::IndexIVFPQ ivfpq(&quantizer, static_cast<idx_t>(dim), nlist, kSubQuantizers, 8,
                            faiss::METRIC_INNER_PRODUCT);
    const double build_s = seconds_to_run([&] {
      ivfpq.train(static_cast<idx_t>(rows), data);
      ivfpq.add(static_cast<idx_t>(rows), data);
    });
    std::optional<faiss::IndexRefineFlat> refine;
    const double refine_s = seconds_to_run([&] { refine.emplace(&ivfpq, data); });
    // FAISS keeps codes and 64-bit ids per vector; the refine index adds the float32 copy.
    const double base_bytes =
        double(rows * (kSubQuantizers + sizeof(idx_t)) + (nlist * dim + 256 * dim) * sizeof(float)) /
        double(rows);
    // One query at a time runs on one thread in FAISS (it parallelises over queries); its
    // OpenMP team is set to one so that idle workers do not spin on the cores.
    const int omp_threads = omp_get_max_threads();
    omp_set_num_threads(1);
    std::vector<float> distances(kTopK * 64);
    std::vector<idx_t> labels(kTopK * 64);
    for (std::size_t nprobe : kProbes) {
      ivfpq.nprobe = nprobe;
      sweep_point("faiss_ivfpq", rows, nprobe, std::nullopt, base_bytes, build_s,
                  [&](const float* query, std::vector<std::int64_t>& found) {
                    ivfpq.search(1, query, kTopK, distances.data(), labels.data());
                    found.assign(labels.begin(), labels.begin() + kTopK);
                  });
      for (std::size_t rerank : kReranks) {
        if (rerank == 0) continue;
        refine->k_factor = float(rerank) / float(kTopK);
        sweep_point("faiss_ivfpq_refine", rows, nprobe, rerank, base_bytes + double(dim * sizeof(float)),
                    build_s + refine_s, [&](const float* query, std::vector<std::int64_t>& found) {
                      refine->search(1, query, kTopK, distances.data(), labels.data());
                      found.assign(labels.begin(), labels.begin() + kTopK);
                    });
      }
    }
    omp_set_num_threads(omp_threads);
  }
#endif

#if EDGEHDF5_BENCH_HNSWLIB
  if (!options_.ours_only && rows <= options_.hnsw_max) {
    constexpr std::size_t kM = 16;
    constexpr std::size_t kEfConstruction = 100;
    hnswlib::InnerProductSpace space(dim);
    hnswlib::HierarchicalNSW<float> hnsw(&space, rows, kM, kEfConstruction, options_.seed);
    const double build_s = seconds_to_run([&] {
      const std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
      std::vector<std::thread> workers;
      for (std::size_t t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
          for (std::size_t i = t; i < rows; i += threads) hnsw.addPoint(data + i * dim, i);
        });
      }
      for (std::thread& worker : workers) worker.join();
    });
    // Level 0 (vector, links, label) for every point plus the upper levels' links.
    const double bytes = double(hnsw.size_data_per_element_) + double(kM * sizeof(hnswlib::tableint)) * 0.1;
    for (std::size_t ef : kEfs) {
      hnsw.setEf(ef);
      sweep_point("hnswlib", rows, ef, std::nullopt, bytes, build_s,
                  [&](const float* query, std::vector<std::int64_t>& found) {
                    auto result = hnsw.searchKnn(query, kTopK);
                    found.clear();
                    while (!result.empty()) {
                      found.push_back(static_cast<std::int64_t>(result.top().second));
                      result.pop();
                    }
                  });
    }
  }
#endif
}

void IvfpqBench::report_targets() {
  report_.set_columns({
      {"target", 44, true},
      {"n", 8},
      {"ours", 10},
      {"peer", 10},
      {"ratio", 6},
      {"met", 3, true},
  });
  // The fastest point of a backend with recall >= `recall`.
  auto fastest = [this](std::size_t rows, const std::string& backend, double recall) -> std::optional<Point> {
    const auto it = points_.find({rows, backend});
    if (it == points_.end()) return std::nullopt;
    std::optional<Point> best;
    for (const Point& point : it->second) {
      if (point.recall >= recall && (!best || point.median_us < best->median_us)) best = point;
    }
    return best;
  };
  for (const std::size_t rows : options_.sizes) {
    const auto ours = fastest(rows, "edgehdf5_ivfpq", 0.95);
    const auto faiss = fastest(rows, "faiss_ivfpq_refine", 0.95);
    if (ours && faiss) {
      const double ratio = ours->median_us / faiss->median_us;
      report_.add({"median_us at recall@10 >= 0.95, <= 0.5x faiss", rows, ours->median_us,
                   faiss->median_us, ratio, ratio <= 0.5 ? "yes" : "no"});
      const double build = ours->build_s / faiss->build_s;
      report_.add({"build_s, <= 0.5x faiss_ivfpq", rows, ours->build_s, faiss->build_s, build,
                   build <= 0.5 ? "yes" : "no"});
    } else {
      report_.add({"recall@10 >= 0.95 reached", rows, ours ? "yes" : "no", faiss ? "yes" : "no",
                   nlohmann::json(), ours ? "yes" : "no"});
    }
  }
}

}  // namespace

int run_ivfpq_workload(int argc, char** argv) {
  IvfpqOptions options;
  CLI::App app{
      "IVF-PQ with exact re-ranking beside FAISS IndexIVFPQ (+ IndexRefineFlat) and hnswlib on "
      "clustered data: build time, bytes per vector, latency and recall@10 over nprobe / re-rank.",
      "edgehdf5-bench ivfpq"};
  app.add_flag("--json", options.json, "One JSON object per result line");
  app.add_option("--sizes", options.sizes, "Collection sizes (rows)")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{1000}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--dim", options.embedding_dim, "Embedding dimension (a multiple of 48)")
      ->check(CLI::Range(std::size_t{48}, std::size_t{4096}))
      ->capture_default_str();
  app.add_option("--queries", options.queries, "Queries per sweep point")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--hnsw-max", options.hnsw_max, "Largest size hnswlib is built at")->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the generated data")->capture_default_str();
  app.add_flag("--ours-only", options.ours_only, "Leave the peers out");
  app.add_flag("--crossover", options.crossover,
               "Instead: exact auto vs the index at the store's defaults, per --crossover-sizes");
  app.add_option("--crossover-sizes", options.crossover_sizes, "Sizes of the --crossover sweep")
      ->delimiter(',')
      ->check(CLI::Range(std::size_t{1000}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_option("--nprobe", options.approximate.nprobe, "Lists probed in the --crossover sweep")
      ->capture_default_str();
  app.add_option("--rerank", options.approximate.rerank, "Re-ranked in the --crossover sweep")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (options.embedding_dim % kSubQuantizers != 0) {
    throw Error(ErrorCode::invalid_argument, "--dim must be a multiple of 48 (the sub-quantisers)");
  }

  RowReporter report("ivfpq", command_line(argc, argv), options.json);
  const HardwareCapabilities capabilities = HardwareCapabilities::detect();
  report.note("edgehdf5 " + std::string(kVersion) + ", SIMD " + capabilities.simd_isa + ", " +
              std::to_string(std::thread::hardware_concurrency()) + " hardware threads, k=10, " +
              std::to_string(options.queries) + " single queries per point");
  report.note("data: mixture of n/1000 Gaussians (centre unit, noise norm 0.9), normalised, seed " +
              std::to_string(options.seed) + "; recall@10 against exact search");
  report.note("IVF-PQ: nlist = sqrt(n), 48 sub-quantisers x 8 bits, residual codes, inner product; "
              "rerank = candidates scored exactly (0: PQ scores only)");
#if EDGEHDF5_BENCH_FAISS
  report.note("peer: FAISS IndexIVFPQ (same nlist, m, nbits; default training) and "
              "IndexRefineFlat(k_factor = rerank / 10); build_s = train + add");
  // libgomp reads this when it loads, so it can only be set for the whole process. Its
  // default (threads spin after a parallel region) let FAISS's OpenMP threads take the
  // cores from its OpenBLAS threads: 2.4x slower builds on a 2-core machine.
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  report.note(std::string("OMP_WAIT_POLICY=") + (wait_policy ? wait_policy : "(unset)") +
              (wait_policy ? "" : "; PASSIVE gives FAISS faster builds on few cores"));
#else
  report.note("peer: FAISS not found at configure time: faiss rows omitted");
#endif
#if EDGEHDF5_BENCH_HNSWLIB
  report.note("peer: hnswlib (libhnswlib-dev), M=16, ef_construction=100, built on every core up to n=" +
              std::to_string(options.hnsw_max) + "; its nprobe column is ef");
#else
  report.note("peer: hnswlib not found at configure time: hnswlib rows omitted");
#endif
  report.set_columns({
      {"workload", 8, true, Column::Shown::table_only},
      {"backend", 18, true},
      {"n", 8},
      {"nprobe", 6},
      {"rerank", 6},
      {"median_us", 10},
      {"p99_us", 10},
      {"recall_at_10", 12},
      {"bytes_per_vector", 16},
      {"build_s", 8},
  });
  IvfpqBench bench(options, report);
  if (options.crossover) {
    for (const std::size_t rows : options.crossover_sizes) bench.run_crossover(rows);
    bench.report_crossover();
    return 0;
  }
  for (const std::size_t rows : options.sizes) bench.run(rows);
  bench.report_targets();
  return 0;
}

}  // namespace edgehdf5::bench
