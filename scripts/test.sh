#!/usr/bin/env bash
# Installs, builds, and runs the whole test suite under CTest; then builds the async tests
# again under ThreadSanitizer (in build-tsan) and runs them there, and the C ABI's tests
# under AddressSanitizer + UndefinedBehaviorSanitizer (in build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

# --- AsyncHDF5Memory under ThreadSanitizer ----------------------------------------------------
# Only what those tests need is built (the library and tests/async), to keep this short.
tsan_dir=build-tsan
cmake -S . -B "$tsan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEHDF5_SANITIZE=thread \
  -DEDGEHDF5_BENCH=OFF ${EDGEHDF5_CMAKE_ARGS:-}
cmake --build "$tsan_dir" -j "$jobs" --target test_async
# TSan's shadow memory assumes an address layout that kernels with more mmap randomisation
# (vm.mmap_rnd_bits above 28) break: "FATAL: ThreadSanitizer: unexpected memory mapping".
# Running without address randomisation avoids it. setarch is refused in some containers,
# so it is used only where it works; tests/async/tsan_defaults.cpp holds TSan's settings.
no_aslr=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  no_aslr=(setarch "$(uname -m)" -R)
fi
(cd "$tsan_dir" && "${no_aslr[@]}" ctest -R async --output-on-failure -j "$jobs" --timeout 600)

# --- the C ABI under AddressSanitizer + UndefinedBehaviorSanitizer ----------------------------
# Only the library and tests/capi are built: the C test of every function and error path, the
# C++ comparison, and the program the h5py check runs (sanitized too). UBSan findings abort
# the test (-fno-sanitize-recover), ASan reports leaks at exit.
asan_dir=build-asan
cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEHDF5_SANITIZE=address \
  -DEDGEHDF5_BENCH=OFF ${EDGEHDF5_CMAKE_ARGS:-}
cmake --build "$asan_dir" -j "$jobs" --target capi_test_c capi_test_cpp capi_write_fixture
(cd "$asan_dir" && ctest -R capi --output-on-failure -j "$jobs" --timeout 600)
