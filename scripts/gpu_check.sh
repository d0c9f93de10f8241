#!/usr/bin/env bash
# The GPU check of Strategy::gpu (issue 17), in one go on a machine with an NVIDIA GPU:
# the GPU tests (ctest -R Gpu, which must run, not skip) and `edgehdf5-bench gpu --json
# --crossover`, with every log written under $OUT (default ./gpu-check-out).
#
#   scripts/gpu_check.sh            on the GPU machine. Uses the prebuilt bundle
#                                   .gpu-bundle/gpu-bundle.tar.xz when it is there (the
#                                   device image has CUDA but not our Debian -dev packages),
#                                   else builds build-gpu from source (-DEDGEHDF5_CUDA=ON
#                                   -DEDGEHDF5_TESTS=ON; needs scripts/setup.sh's packages).
#   scripts/gpu_check.sh bundle     on a build machine with the CUDA toolkit (no GPU needed):
#                                   builds $BUILD (default build-gpu) with CUDA and packs the
#                                   GPU test, the bench, the module and the shared libraries
#                                   they need that are not glibc's, libstdc++'s or CUDA's
#                                   into .gpu-bundle/gpu-bundle.tar.xz. Add /.gpu-bundle/ to
#                                   .git/info/exclude and carry .gpu-bundle to the device.
#
# Budget: about 2 minutes for the tests and 3 to 5 for the bench on a 16-core H200 machine;
# building from source adds 3 to 5. Give the run a limit of 540 s or more.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build-gpu}
OUT=${OUT:-$ROOT/gpu-check-out}
JOBS=${JOBS:-$(nproc)}
TARGETS=(edgehdf5_cuda test_gpu edgehdf5_bench)

configure_and_build() {
  local launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache
              -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$ROOT" -B "$BUILD" -DEDGEHDF5_CUDA=ON -DEDGEHDF5_TESTS=ON -DEDGEHDF5_BENCH=ON \
        "${launcher[@]}" &&
    cmake --build "$BUILD" -j"$JOBS" --target "${TARGETS[@]}"
}

if [[ "${1:-run}" == bundle ]]; then
  configure_and_build || exit 1
  stage=$(mktemp -d)
  mkdir -p "$stage/bin" "$stage/lib" "$ROOT/.gpu-bundle"
  cp "$BUILD/bin/test_gpu" "$BUILD/bin/edgehdf5-bench" "$BUILD/bin/libedgehdf5_cuda.so" "$stage/bin/"
  cp "$(find "$BUILD" -name 'libedgehdf5_test_fake_cuda_module.so' | head -1)" "$stage/bin/"
  strip --strip-debug "$stage"/bin/*
  # Shared libraries from this machine's Debian packages (HDF5, Highway, OpenBLAS, SQLite,
  # Google Benchmark and theirs, and GCC 12's libstdc++ in case the GPU machine's is older);
  # the GPU machine's own glibc and CUDA libraries are used.
  for binary in "$stage"/bin/*; do
    ldd "$binary" | awk '$3 ~ /^\// {print $3}'
  done | sort -u | grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*|libcublas[^/]*|libcublasLt[^/]*|libcudart[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$stage/lib/"; done
  strip --strip-unneeded "$stage"/lib/* 2>/dev/null
  tar -C "$stage" -cJf "$ROOT/.gpu-bundle/gpu-bundle.tar.xz" bin lib
  rm -rf "$stage"
  ls -la "$ROOT/.gpu-bundle/gpu-bundle.tar.xz"
  exit 0
fi

mkdir -p "$OUT"
log() { echo "[gpu_check $(date -u +%H:%M:%S)] $*" | tee -a "$OUT/summary.txt"; }
status=0
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || log "nvidia-smi failed (no driver?)"

if [[ -f "$ROOT/.gpu-bundle/gpu-bundle.tar.xz" ]]; then
  BIN=/tmp/edgehdf5-gpu-bundle
  rm -rf "$BIN" && mkdir -p "$BIN"
  tar -C "$BIN" -xJf "$ROOT/.gpu-bundle/gpu-bundle.tar.xz"
  export LD_LIBRARY_PATH="$BIN/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
  export EDGEHDF5_CUDA_MODULE="$BIN/bin/libedgehdf5_cuda.so"
  export EDGEHDF5_TEST_FAKE_MODULE="$BIN/bin/libedgehdf5_test_fake_cuda_module.so"
  if [[ ! -e /usr/local/cuda/lib64/libcublas.so.13 ]]; then
    # cuBLAS from the image's Python packages (nvidia-cublas) when the toolkit lacks it.
    cublas=$(find / -name 'libcublas.so.13' -not -path '/proc/*' 2>/dev/null | head -1)
    [[ -n "$cublas" ]] && export LD_LIBRARY_PATH="$(dirname "$cublas"):$LD_LIBRARY_PATH"
  fi
  TEST_GPU="$BIN/bin/test_gpu"
  BENCH="$BIN/bin/edgehdf5-bench"
  log "using the prebuilt bundle"
else
  log "building $BUILD from source (-j$JOBS)"
  if ! configure_and_build >"$OUT/build.log" 2>&1; then
    log "build FAILED: see build.log"; tail -40 "$OUT/build.log"; exit 1
  fi
  TEST_GPU="$BUILD/bin/test_gpu"
  BENCH="$BUILD/bin/edgehdf5-bench"
fi

log "GPU tests"
timeout 300 "$TEST_GPU" --gtest_output="xml:$OUT/test_gpu.xml" >"$OUT/test_gpu.log" 2>&1
rc=$?
tail -25 "$OUT/test_gpu.log" | tee -a "$OUT/summary.txt"
if [[ $rc -ne 0 ]]; then log "GPU tests FAILED (rc $rc)"; status=1; fi
if grep -q "^\[  SKIPPED \] Gpu\." "$OUT/test_gpu.log"; then
  log "GPU tests were SKIPPED: the device was not found"; status=1
fi

log "edgehdf5-bench gpu --json --crossover"
timeout 420 "$BENCH" gpu --json --crossover >"$OUT/bench_gpu.jsonl" 2>"$OUT/bench_gpu.stderr"
rc=$?
if [[ $rc -ne 0 ]]; then log "bench FAILED (rc $rc)"; status=1; fi
cat "$OUT/bench_gpu.jsonl" >>"$OUT/summary.txt"
log "done (status $status); results in $OUT"
exit $status
