#!/usr/bin/env bash
# Installs, builds, and runs the whole test suite under CTest; then builds the async tests
# again under ThreadSanitizer (in build-tsan) and runs them there, the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer (in build-asan), and each fuzz target for a
# short fixed time (in build-fuzz, clang).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

# --- AsyncHDF5Memory and the multi-process tests under ThreadSanitizer ------------------------
# Only what those tests need is built (the library, tests/async, and test_crash and
# test_graph_store: SIGKILLed writers, readers beside a writer, processes racing on the lock;
# test_text_on_demand: threads reading rows of a text column while one reads it whole),
# to keep this short: about 2 minutes to build the tests beside test_async, 15 s to run them.
tsan_dir=build-tsan
cmake -S . -B "$tsan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEHDF5_SANITIZE=thread \
  -DEDGEHDF5_BENCH=OFF ${EDGEHDF5_CMAKE_ARGS:-}
cmake --build "$tsan_dir" -j "$jobs" --target test_async test_crash test_graph_store \
  test_text_on_demand
# TSan's shadow memory assumes an address layout that kernels with more mmap randomisation
# (vm.mmap_rnd_bits above 28) break: "FATAL: ThreadSanitizer: unexpected memory mapping".
# Running without address randomisation avoids it. setarch is refused in some containers,
# so it is used only where it works; tests/async/tsan_defaults.cpp holds TSan's settings.
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  no_aslr=(setarch "$(uname -m)" -R)
fi
(cd "$tsan_dir" && "${no_aslr[@]}" ctest -R 'async|Crash\.|AtRest\.|LockTimeout\.|TextOnDemand\.' \
  --output-on-failure -j "$jobs" --timeout 600)

# --- the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer ------------------------
# Every test program, sanitized, and the whole CTest suite run on them (the Python package is
# left out: CMake turns EDGEHDF5_PYTHON off under a sanitizer, since Debian's interpreter is
# not built with ASan). UBSan findings abort the test (-fno-sanitize-recover), ASan reports
# leaks at exit. Built at -O1 -g1 rather than RelWithDebInfo's -O2 -g: line tables are all
# a report needs, and the build is most of this step's time (RelWithDebInfo took 23 min
# to build here and 17 to run; -O1 -g1 about 13 and 5).
asan_dir=build-asan
cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEHDF5_SANITIZE=address \
  -DEDGEHDF5_BENCH=OFF "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" ${EDGEHDF5_CMAKE_ARGS:-}
cmake --build "$asan_dir" -j "$jobs"
(cd "$asan_dir" && ctest --output-on-failure -j "$jobs" --timeout 600)

# --- fuzzing: each libFuzzer target a short fixed time on the committed corpus -----------------
# Built with Debian's clang (EDGEHDF5_FUZZ, ASan + UBSan + coverage). New inputs a run finds go
# to a scratch directory, never into tests/fuzz/corpus; a crash stops the script with the
# input saved as crash-* in build-fuzz/ (keep it under tests/fuzz/regressions/NAME/ once fixed).
fuzz_dir=build-fuzz
# open_file is left out: it reaches hangs and leaks inside libhdf5 1.10.8 itself on
# malformed files (tests/fuzz/findings/open_file/, README "Fuzzing"); run it by hand.
fuzz_targets=(log_replay jsonl_import text_embed migrate_cells mcp_request)
CC=clang CXX=clang++ cmake -S . -B "$fuzz_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEHDF5_FUZZ=ON \
  -DEDGEHDF5_CUDA=OFF -DEDGEHDF5_PYTHON=OFF \
  -DEDGEHDF5_TESTS=OFF -DEDGEHDF5_BENCH=OFF ${EDGEHDF5_CMAKE_ARGS:-}
cmake --build "$fuzz_dir" -j "$jobs" --target "${fuzz_targets[@]/#/fuzz_}"
for target in "${fuzz_targets[@]}"; do
  scratch=$(mktemp -d)
  inputs=("$PWD/tests/fuzz/corpus/$target")
  [[ -d tests/fuzz/regressions/$target ]] && inputs+=("$PWD/tests/fuzz/regressions/$target")
  (cd "$fuzz_dir" && "./bin/fuzz_$target" -max_total_time="${EDGEHDF5_FUZZ_SECONDS:-15}" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$scratch" "${inputs[@]}")
  rm -rf "$scratch"
done
