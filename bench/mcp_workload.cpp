// mcp: tool-call latency (p50/p99) of `edgehdf5 mcp` beside the reference knowledge-graph
// memory server, both driven by the official MCP SDK client, on graphs of 1K, 10K and 100K
// entities in one run. The measuring is done by bench/mcp/bench_mcp.mjs (a node script: the
// SDK and the reference server are npm packages); this workload installs them (npm ci from
// tests/mcp's lock file, once, into the build directory) and runs it.
//
//   edgehdf5-bench mcp [--sizes=1000,10000,100000] [--calls=200] [--json=PATH]

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "workload.hpp"

namespace edgehdf5::bench {

#if defined(EDGEHDF5_BENCH_NODE) && defined(EDGEHDF5_BENCH_MCP_DIR) && defined(EDGEHDF5_BENCH_CLI)
namespace {

// For the shell std::system() runs: one argument, whatever it holds.
std::string quoted(const std::string& text) {
  std::string result = "'";
  for (char c : text) result += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return result + "'";
}

}  // namespace
#endif

int run_mcp_workload(int argc, char** argv) {
#if defined(EDGEHDF5_BENCH_NODE) && defined(EDGEHDF5_BENCH_MCP_DIR) && defined(EDGEHDF5_BENCH_CLI)
  const std::filesystem::path dir = EDGEHDF5_BENCH_MCP_DIR;
  if (!std::filesystem::exists(dir / "node_modules" / "@modelcontextprotocol" / "server-memory")) {
    std::cerr << "mcp: installing the pinned MCP SDK and reference server (npm ci) in " << dir
              << '\n';
    const std::string install = "cd " + quoted(dir.string()) + " && " +
                                quoted(EDGEHDF5_BENCH_NPM) + " ci --no-audit --no-fund --loglevel=error";
    if (std::system(install.c_str()) != 0) {
      std::cerr << "mcp: npm ci failed (the npm registry must be reachable once)\n";
      return 1;
    }
  }
  std::string command = quoted(EDGEHDF5_BENCH_NODE) + " " + quoted((dir / "bench_mcp.mjs").string()) +
                        " --edgehdf5=" + quoted(EDGEHDF5_BENCH_CLI);
  for (int i = 1; i < argc; ++i) {
    // Appended apart: `" " + quoted(...)` trips a false -Wrestrict in GCC 12's <string>.
    command += ' ';
    command += quoted(argv[i]);
  }
  const int status = std::system(command.c_str());
  return status == 0 ? 0 : 1;
#else
  (void)argc;
  (void)argv;
  std::cerr << "mcp: this build found no node/npm at configure time; the workload needs both\n";
  return 1;
#endif
}

}  // namespace edgehdf5::bench
