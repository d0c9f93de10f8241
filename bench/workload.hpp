#pragma once
// The workloads edgehdf5-bench runs: one source file each, listed in main.cpp's table.

#include <string_view>

namespace edgehdf5::bench {

// A workload's entry point. argv[0] is the workload's name and argv[1..] its own arguments,
// so that argument parsers written for a whole program (CLI11, Google Benchmark) work as
// they are. Returns the process exit code.
using WorkloadMain = int (*)(int argc, char** argv);

struct Workload {
  std::string_view name;
  std::string_view summary;  // one line, for the usage text
  WorkloadMain run;
};

int run_store_workload(int argc, char** argv);
int run_exact_workload(int argc, char** argv);
int run_calibrate_workload(int argc, char** argv);
int run_gbench_workload(int argc, char** argv);
int run_async_workload(int argc, char** argv);
int run_hybrid_workload(int argc, char** argv);
int run_migrate_workload(int argc, char** argv);
int run_ivfpq_workload(int argc, char** argv);
int run_mcp_workload(int argc, char** argv);
int run_gpu_workload(int argc, char** argv);
int run_crash_workload(int argc, char** argv);
int run_checkpoint_workload(int argc, char** argv);
int run_oneshot_workload(int argc, char** argv);

}  // namespace edgehdf5::bench
