#!/usr/bin/env bash
# Sets up the machine, builds everything and runs the whole test suite:
#   1. Release build: unit, integration, standalone-header, single-header and
#      package tests;
#   2. the unit and integration tests again under AddressSanitizer +
#      UndefinedBehaviorSanitizer (leak checking on);
#   3. the multi-threaded tests under ThreadSanitizer.
# Exit status is non-zero when any build or test fails.
#
#   POLAR_JOBS        parallel jobs (default: nproc)
#   POLAR_STAGES      stages to run (default: "release asan tsan")
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

jobs=${POLAR_JOBS:-$(nproc)}
stages=${POLAR_STAGES:-release asan tsan}
start=$(date +%s)

stage() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }

configure() { # dir, extra cmake args...
    local dir=$1
    shift
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
}

for s in $stages; do
    case $s in
    release)
        stage "release build"
        configure build -DCMAKE_BUILD_TYPE=Release -DPOLAR_BUILD_TESTS=ON -DPOLAR_BUILD_EXAMPLES=ON
        cmake --build build -j "$jobs"
        stage "release tests"
        (cd build && ctest --output-on-failure -j "$jobs" --timeout 600)
        ;;
    asan)
        stage "AddressSanitizer + UndefinedBehaviorSanitizer build"
        # -O0: g++ needs several GB and minutes per TU with sanitizers at -O1.
        configure build-asan -DCMAKE_BUILD_TYPE=Debug -DPOLAR_SANITIZE=address,undefined \
            -DPOLAR_BUILD_EXAMPLES=OFF -DPOLAR_BUILD_EMULATOR=OFF -DPOLAR_PACKAGE_TESTS=OFF
        cmake --build build-asan -j "$jobs" --target polar_unit_tests polar_integration_tests
        stage "AddressSanitizer + UndefinedBehaviorSanitizer tests"
        (cd build-asan &&
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            ctest --output-on-failure -j "$jobs" --timeout 600 -R "^(unit|integration):")
        ;;
    tsan)
        stage "ThreadSanitizer build"
        configure build-tsan -DCMAKE_BUILD_TYPE=Debug -DPOLAR_SANITIZE=thread \
            -DPOLAR_BUILD_EXAMPLES=OFF -DPOLAR_BUILD_EMULATOR=OFF -DPOLAR_PACKAGE_TESTS=OFF
        cmake --build build-tsan -j "$jobs" --target polar_integration_tests
        stage "ThreadSanitizer tests (multi-threaded ones)"
        (cd build-tsan &&
            TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
            ctest --output-on-failure -j "$jobs" --timeout 600 -R "^integration:.*(thread|concurren|fan-out|parallel)")
        ;;
    *)
        echo "unknown stage: $s" >&2
        exit 2
        ;;
    esac
done
stage "done"
