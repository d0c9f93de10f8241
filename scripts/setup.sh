#!/usr/bin/env bash
# Installs edgehdf5's dependencies (Debian packages only) and builds it into build/.
# Safe to run again: packages already present are not reinstalled, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  libhdf5-dev hdf5-tools zlib1g-dev
  libhwy-dev libopenblas-dev libfaiss-dev
  nlohmann-json3-dev libcli11-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhnswlib-dev libstemmer-dev
  clang libclang-rt-14-dev
  python3-h5py python3-numpy
  pybind11-dev python3-pybind11 python3-dev python3-pytest python3-setuptools python3-hnswlib
  python3-dask python3-distributed
  strace sqlite3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The MCP tests' npm packages (the official SDK client, the reference server), exactly as
# tests/mcp/package-lock.json pins them; reinstalled only when what is there differs.
if command -v npm >/dev/null 2>&1; then
  if ! (cd tests/mcp && npm ls --all --loglevel=error >/dev/null 2>&1); then
    echo "setup: installing the MCP tests' npm packages (npm ci, tests/mcp/package-lock.json)"
    (cd tests/mcp && npm ci --no-audit --no-fund --loglevel=error)
  fi
else
  echo "setup: npm not found: the MCP tests (tests/mcp) will not be registered" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${EDGEHDF5_CMAKE_ARGS:-}
cmake --build build -j "$jobs"
