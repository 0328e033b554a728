#!/usr/bin/env bash
# Sets up the machine, builds the quickstart example and runs it: against the
# bundled emulator (HTTPS, demo data) by default, or against Polar when
# POLAR_ACCESS_TOKEN is set (POLAR_SERVER=sandbox|production, or POLAR_SERVER_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "${POLAR_JOBS:-$(nproc)}" --target example_quickstart
exec "$build_dir/examples/example_quickstart"
