// edgehdf5-bench WORKLOAD [ARGS...]: runs one named benchmark workload.
// Each workload measures edgehdf5 beside a peer or a hardware bound in the same run, so its
// ratios hold on whatever machine produced them.

#include <array>
#include <exception>
#include <iomanip>
#include <iostream>
#include <string_view>

#include "edgehdf5/error.hpp"
#include "workload.hpp"

namespace {

using edgehdf5::bench::Workload;

// To add a workload: write bench/<name>_workload.cpp with its entry point, declare it in
// workload.hpp, add it to bench/CMakeLists.txt and one line here.
constexpr std::array kWorkloads{
    Workload{"store", "save_batch, flush, checkpoint and open-to-first-search beside raw file I/O",
             edgehdf5::bench::run_store_workload},
    Workload{"exact",
             "exact search of every strategy, f32 and f16, beside FAISS, OpenBLAS and the "
             "bandwidth bound",
             edgehdf5::bench::run_exact_workload},
    Workload{"calibrate", "the size from which parallel beats simd (parallel_min_rows)",
             edgehdf5::bench::run_calibrate_workload},
    Workload{"gbench", "the Google Benchmark registrations (takes --benchmark_* flags)",
             edgehdf5::bench::run_gbench_workload},
    Workload{"async", "AsyncHDF5Memory saves from 1-8 threads and searches while saving, beside the sync store", edgehdf5::bench::run_async_workload},
    Workload{"hybrid", "BM25 keyword and hybrid search, build, updates and persist-vs-rebuild beside SQLite FTS5",
             edgehdf5::bench::run_hybrid_workload},
    Workload{"ivfpq", "IVF-PQ build, recall@10 and latency beside FAISS IVFPQ(+refine) and hnswlib",
             edgehdf5::bench::run_ivfpq_workload},
    Workload{"migrate", "edgehdf5-migrate rows/s beside an SQLite scan and write+fsync",
             edgehdf5::bench::run_migrate_workload},
    Workload{"mcp", "MCP tool-call latency of `edgehdf5 mcp` beside the reference memory server",
             edgehdf5::bench::run_mcp_workload},
    Workload{"gpu", "Strategy::gpu end to end beside cuBLAS alone, the device bandwidth bound and the best CPU strategy",
             edgehdf5::bench::run_gpu_workload},
    Workload{"crash", "SIGKILLs a sync and an async writer N times; counts recoveries and lost or doubled changes",
             edgehdf5::bench::run_crash_workload},
    Workload{"checkpoint", "a checkpoint written by the seam's HDF5 driver, the core-driver image and sec2 directly",
             edgehdf5::bench::run_checkpoint_workload},
    Workload{"oneshot", "one edgehdf5 process per question on 100K/1M memories of real text, beside cat and sqlite3 FTS5",
             edgehdf5::bench::run_oneshot_workload},
};

void print_usage(std::ostream& out) {
  out << "usage: edgehdf5-bench WORKLOAD [ARGS...]   (WORKLOAD --help for its arguments)\n\n"
         "workloads:\n";
  for (const Workload& workload : kWorkloads) {
    out << "  " << std::left << std::setw(10) << workload.name << workload.summary << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view requested = argc >= 2 ? argv[1] : "";
  if (requested == "--help" || requested == "-h") {
    print_usage(std::cout);
    return 0;
  }
  for (const Workload& workload : kWorkloads) {
    if (workload.name != requested) continue;
    try {
      return workload.run(argc - 1, argv + 1);
    } catch (const edgehdf5::Error& error) {
      std::cerr << "edgehdf5-bench " << requested << ": " << edgehdf5::error_code_name(error.code())
                << ": " << error.what() << '\n';
    } catch (const std::exception& error) {
      std::cerr << "edgehdf5-bench " << requested << ": " << error.what() << '\n';
    }
    return 1;
  }
  if (!requested.empty()) std::cerr << "edgehdf5-bench: unknown workload '" << requested << "'\n";
  print_usage(std::cerr);
  return 2;
}
