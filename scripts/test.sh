#!/usr/bin/env bash
# Sets up the machine, builds everything and runs the whole test suite.
# Exit status is non-zero when any build or test fails.
#   BUILD_DIR   build directory (default: build)
#   POLAR_JOBS  parallel build jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh

build_dir=${BUILD_DIR:-build}
jobs=${POLAR_JOBS:-$(nproc)}

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DPOLAR_BUILD_TESTS=ON -DPOLAR_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build_dir" -j "$jobs"
cd "$build_dir"
ctest --output-on-failure -j "$jobs" --timeout 300
