#!/usr/bin/env bash
# Sets up the machine, builds everything and runs the whole test suite:
#   1. Release build: unit, integration, standalone-header, single-header
#      (every example built against the single header and run) and package
#      tests;
#   2. the unit and integration tests again under AddressSanitizer +
#      UndefinedBehaviorSanitizer (leak checking on);
#   3. the multi-threaded tests under ThreadSanitizer;
#   4. the fuzz targets in fuzz/ (clang-19, libFuzzer, ASan+UBSan), built
#      and run for POLAR_FUZZ_SECONDS each on their seed corpora.
# Exit status is non-zero when any build or test fails.
#
#   POLAR_JOBS        parallel jobs (default: nproc)
#   POLAR_STAGES      stages to run (default: "release asan tsan fuzz")
#   POLAR_FUZZ_SECONDS  run time of each fuzz target (default: 25)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

jobs=${POLAR_JOBS:-$(nproc)}
stages=${POLAR_STAGES:-release asan tsan fuzz}
start=$(date +%s)

stage() { echo; echo "=== $* ($(( $(date +%s) - start )) s)"; }

# Every stage's ctest output goes here too, for the closing summary.
results=$(mktemp)
trap 'rm -f "$results"' EXIT

configure() { # dir, extra cmake args...
    local dir=$1
    shift
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
}

for s in $stages; do
    case $s in
    release)
        stage "release build"
        # The single-header test builds and runs every example against the
        # single header alone (about a minute and 1.3 GB per example).
        configure build -DCMAKE_BUILD_TYPE=Release -DPOLAR_BUILD_TESTS=ON -DPOLAR_BUILD_EXAMPLES=ON \
            -DPOLAR_SINGLE_HEADER_ALL_EXAMPLES=ON
        cmake --build build -j "$jobs"
        stage "release tests"
        (cd build && ctest --output-on-failure -j "$jobs" --timeout 600) | tee -a "$results"
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
            ctest --output-on-failure -j "$jobs" --timeout 600 -R "^(unit|integration):") | tee -a "$results"
        ;;
    tsan)
        stage "ThreadSanitizer build"
        configure build-tsan -DCMAKE_BUILD_TYPE=Debug -DPOLAR_SANITIZE=thread \
            -DPOLAR_BUILD_EXAMPLES=OFF -DPOLAR_BUILD_EMULATOR=OFF -DPOLAR_PACKAGE_TESTS=OFF
        cmake --build build-tsan -j "$jobs" --target polar_integration_tests
        stage "ThreadSanitizer tests (multi-threaded ones)"
        (cd build-tsan &&
            TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
            ctest --output-on-failure -j "$jobs" --timeout 600 -R "^integration:.*(thread|concurren|fan-out|parallel)") | tee -a "$results"
        ;;
    fuzz)
        stage "fuzz build (clang-19, libFuzzer, ASan+UBSan)"
        POLAR_SETUP_EXTRA="clang-19 libclang-rt-19-dev" bash scripts/setup.sh
        configure build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-19 \
            -DPOLAR_BUILD_FUZZERS=ON -DPOLAR_BUILD_TESTS=OFF -DPOLAR_BUILD_EXAMPLES=OFF -DPOLAR_BUILD_EMULATOR=OFF
        cmake --build build-fuzz -j "$jobs" --target polar_fuzzers
        fuzz_seconds=${POLAR_FUZZ_SECONDS:-25}
        stage "fuzz runs (${fuzz_seconds} s each)"
        mkdir -p build-fuzz/artifacts
        for target in fuzz_decode fuzz_datetime fuzz_url fuzz_http; do
            # New inputs go to a scratch directory; the shipped corpus is only read.
            scratch=build-fuzz/corpus-$target
            mkdir -p "$scratch"
            log=build-fuzz/$target.log
            if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build-fuzz/fuzz/$target \
                -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
                -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/$target- \
                "$scratch" "fuzz/corpus/$target" >"$log" 2>&1; then
                tail -n 60 "$log"
                echo "fuzz: $target failed; the input is in build-fuzz/artifacts/" >&2
                exit 1
            fi
            runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
            cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
            echo "$target: $runs runs in ${fuzz_seconds} s ($(( runs / fuzz_seconds )) /s), $cov, no crash"
        done
        ;;
    *)
        echo "unknown stage: $s" >&2
        exit 2
        ;;
    esac
done
stage "done"
# One closing line for the whole run (every stage above stopped the script on a failure).
total=$(grep -Eo 'tests failed out of [0-9]+' "$results" | awk '{ n += $5 } END { print n + 0 }')
echo "all stages: ${total} passed, 0 failed"
