#!/usr/bin/env bash
# Builds the benchmarks (Release, own build directory), runs them all, prints
# one table and writes benchmarks/results.md.
#
#   bash benchmarks/run.sh
#
# Every figure is a ratio against a baseline measured in the same run. Clients
# run on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU (taskset); all traffic is
# on 127.0.0.1. Knobs (environment): RUNS (runs per throughput cell with 32 in
# flight, the cells with targets, and for decode and fan-out: 9), OTHER_RUNS
# (other throughput cells: 3), DURATION (seconds per throughput sample: 1),
# CONCURRENCY ("1 32 256"), MEM_RUNS (3), COMPILE_RUNS (1), BUILD_DIR
# (build-bench), SKIP_BUILD=1, SKIP_TS=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${BUILD_DIR:-$ROOT/build-bench}
RUNS=${RUNS:-9}
OTHER_RUNS=${OTHER_RUNS:-3}
DURATION=${DURATION:-1}
CONCURRENCY=${CONCURRENCY:-"1 32 256"}
MEM_RUNS=${MEM_RUNS:-3}
COMPILE_RUNS=${COMPILE_RUNS:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
WARMUP=0.2      # C++ clients: connections, allocator
TS_WARMUP=0.7   # Node: connections, JIT, lazily built schemas

BIN=$BUILD/benchmarks
WORK=$(mktemp -d /tmp/polar-bench.XXXXXX)
SAMPLES=$WORK/samples.tsv
PIDS=()
T_START=$(date +%s)

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "[$(date +%T)] $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }
on_client() { taskset -c "$CLIENT_CPU" timeout 120 "$@"; }

ulimit -n 8192 2>/dev/null || true
[ "$(ulimit -n)" -ge 2100 ] || die "need at least 2100 file descriptors (ulimit -n)"
for tool in cmake g++ wrk node npm taskset python3; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# -- build ---------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building in $BUILD"
    gen=()
    if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
    cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DPOLAR_BUILD_BENCHMARKS=ON \
        -DPOLAR_BUILD_TESTS=OFF -DPOLAR_BUILD_EXAMPLES=OFF -DPOLAR_BUILD_EMULATOR=OFF >/dev/null
    cmake --build "$BUILD" -j "$(nproc)" --target fixed_server raw_beast_client bench_client bench_decode \
        bench_memory bench_fanout bench_ingest >/dev/null
fi
if [ "${SKIP_TS:-0}" != 1 ]; then
    if [ ! -d "$HERE/ts/node_modules/@polar-sh/sdk" ]; then
        log "installing the TypeScript SDK (npm ci)"
        (cd "$HERE/ts" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
fi

# -- servers -------------------------------------------------------------------
# start_server NAME ARGS...: runs fixed_server on the server CPU and reads its
# start-up lines into SRV_<NAME>_{port,meter_id,token,start,end}.
start_server() {
    local name=$1
    shift
    taskset -c "$SERVER_CPU" "$BIN/fixed_server" --max-seconds 1500 "$@" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do
        grep -q '^ready' "$WORK/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^ready' "$WORK/$name.out" || die "server $name did not start: $(cat "$WORK/$name.out")"
    while read -r key value; do
        if [ -n "${value:-}" ]; then printf -v "SRV_${name}_${key}" '%s' "$value"; fi
    done <"$WORK/$name.out"
}

start_server http
start_server https --tls --cert-out "$WORK/cert.pem"
CA=$WORK/cert.pem
ID=$SRV_http_meter_id
TOKEN=$SRV_http_token
START=$SRV_http_start
END=$SRV_http_end

target_of() {
    case $1 in
    get) echo "/v1/meters/$ID" ;;
    quantities) echo "/v1/meters/$ID/quantities?start_timestamp=$START&end_timestamp=$END&interval=hour" ;;
    events) echo "/v1/meters/$ID/events?limit=100" ;;
    esac
}

# rps CLIENT OP PROTO N: one throughput sample (requests/s) on the client CPU.
rps() {
    local client=$1 op=$2 proto=$3 n=$4 port tls=() url target out
    if [ "$proto" = https ]; then port=$SRV_https_port; tls=(--tls --ca "$CA"); else port=$SRV_http_port; fi
    url="$proto://127.0.0.1:$port"
    target=$(target_of "$op")
    case $client in
    wrk)
        out=$(on_client wrk -t1 -c"$n" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" "$url$target") ||
            die "wrk failed: $out"
        if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then die "wrk saw errors on $url$target: $out"; fi
        awk '/^Requests\/sec:/ {print $2}' <<<"$out"
        ;;
    raw)
        on_client "$BIN/raw_beast_client" --port "$port" "${tls[@]}" --target "$target" --token "$TOKEN" \
            --concurrency "$n" --duration "$DURATION" --warmup "$WARMUP" | awk '/^rps/ {print $2}'
        ;;
    sdk)
        on_client "$BIN/bench_client" --port "$port" "${tls[@]}" --token "$TOKEN" --meter-id "$ID" --op "$op" \
            --start "$START" --end "$END" --concurrency "$n" --duration "$DURATION" --warmup "$WARMUP" |
            awk '/^rps/ {print $2}'
        ;;
    ts)
        NODE_EXTRA_CA_CERTS=$CA on_client node "$HERE/ts/bench.mjs" --url "$url" --token "$TOKEN" --meter-id "$ID" \
            --op "$op" --start "$START" --end "$END" --concurrency "$n" --duration "$DURATION" \
            --warmup "$TS_WARMUP" | awk '/^rps/ {print $2}'
        ;;
    esac
}

# -- 1. throughput -------------------------------------------------------------
CLIENTS="wrk raw sdk ts"
[ "${SKIP_TS:-0}" = 1 ] && CLIENTS="wrk raw sdk"
for op in get quantities events; do
    for proto in http https; do
        for n in $CONCURRENCY; do
            log "throughput: $op $proto N=$n"
            runs=$OTHER_RUNS
            [ "$n" = 32 ] && runs=$RUNS
            # Interleaved, so that a slow moment of the machine hits every
            # client, and in reverse order every other run, so that no client
            # always runs right after the same one.
            for run in $(seq "$runs"); do
                order=$CLIENTS
                [ $((run % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$CLIENTS" | tac | tr '\n' ' ')
                for client in $order; do
                    v=$(rps "$client" "$op" "$proto" "$n")
                    [ -n "$v" ] || die "no result from $client ($op $proto N=$n)"
                    printf 'rps\t%s\t%s\t%s\t%s\t%s\n' "$op" "$proto" "$n" "$client" "$v" >>"$SAMPLES"
                done
            done
        done
    done
done

# -- 2. decode -----------------------------------------------------------------
log "decode"
on_client "$BIN/bench_decode" --runs "$RUNS" --seconds 0.3 |
    awk '{printf "decode\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $3, $5, $7, $9, $11, $13}' >>"$SAMPLES"

# -- 3. memory -----------------------------------------------------------------
start_server slow --delay-ms 2000
for run in $(seq "$MEM_RUNS"); do
    for proto in http https; do
        log "memory: 1000 idle $proto connections (run $run)"
        if [ "$proto" = https ]; then args=(--port "$SRV_https_port" --tls --ca "$CA"); else args=(--port "$SRV_http_port"); fi
        on_client "$BIN/bench_memory" --mode idle --connections 1000 "${args[@]}" --token "$TOKEN" --meter-id "$ID" |
            awk -v p="$proto" '{for (i = 1; i < NF; i++) v[$i] = $(i + 1); printf "idle\t%s\t%s\t%s\t%s\n", p, v["kib_per_connection"], v["raw_kib_per_connection"], v["heap_kib_per_connection"]}' \
            >>"$SAMPLES"
    done
    for proto in http https; do
        log "memory: one events page in flight, $proto (run $run)"
        if [ "$proto" = https ]; then
            args=(--port "$SRV_https_port" --tls --ca "$CA" --body-bytes "$SRV_https_events_bytes")
        else
            args=(--port "$SRV_http_port" --body-bytes "$SRV_http_events_bytes")
        fi
        on_client "$BIN/bench_memory" --mode page --runs 5 "${args[@]}" \
            --token "$TOKEN" --meter-id "$ID" |
            awk -v p="$proto" '{for (i = 1; i < NF; i++) v[$i] = $(i + 1); printf "page\t%s\t%s\t%s\t%s\n", p, v["body_bytes"], v["beyond_models_x_body"], v["models_x_body"]}' \
            >>"$SAMPLES"
    done
    log "memory: 10000 pending operations, 16 connections (run $run)"
    on_client "$BIN/bench_memory" --mode pending --ops 10000 --pool 16 --port "$SRV_slow_port" --token "$TOKEN" \
        --meter-id "$ID" |
        awk '{for (i = 1; i < NF; i++) v[$i] = $(i + 1); printf "pending\t%s\t%s\t%s\t%s\t%s\n", v["kib_per_op"], v["rss_peak_kib"], v["raw_rss_peak_kib"], v["raw_kib_per_op"], v["heap_kib_per_op"]}' \
        >>"$SAMPLES"
done

# -- 4. fan-out ----------------------------------------------------------------
# Baseline: wrk with 16 connections on the same URL of the same delayed server,
# interleaved with the SDK's runs: what this machine allows (the client side's
# timer and wake-up latencies included), expressed as the wall time of 2000
# requests at its rate. The server busy-polls its own CPU, so that its answers
# leave 5 ms after the request without its own wake-up latency on top.
log "fan-out: 2000 quantities over 16 connections, server delay 5 ms"
start_server delayed --delay-ms 5 --spin
for run in $(seq "$RUNS"); do
    out=$(on_client wrk -t1 -c16 -d1s -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$SRV_delayed_port$(target_of quantities)") || die "wrk failed: $out"
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then die "wrk saw errors: $out"; fi
    printf 'fanout_wrk\t%s\n' "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" >>"$SAMPLES"
    on_client "$BIN/bench_fanout" --port "$SRV_delayed_port" --token "$TOKEN" --meter-id "$ID" --start "$START" \
        --end "$END" --delay-ms 5 --queries 2000 --parallel 16 --runs 1 |
        awk '{printf "fanout\t%s\t%s\t%s\t%s\n", $1, $3, $5, $7}' >>"$SAMPLES"
done

# -- 5. ingest -----------------------------------------------------------------
# The same 20,000 events into the emulator (in the benchmark's process, its
# thread on the server CPU): through the ingest batcher, and as single-event
# ingest calls 16 at a time; the program alternates the order run by run.
log "ingest: 20,000 events, batcher vs single-event calls ($RUNS runs)"
taskset -c "$CLIENT_CPU,$SERVER_CPU" timeout 600 "$BIN/bench_ingest" --events 20000 --runs "$RUNS" \
    --client-cpu "$CLIENT_CPU" --server-cpu "$SERVER_CPU" |
    awk '/^ingest/ {printf "ingest\t%s\t%s\t%s\t%s\n", $3, $5, $7, $9}' >>"$SAMPLES"

# -- 6. compile time -----------------------------------------------------------
CXXFLAGS_BENCH=(-std=gnu++20 -O3 -DNDEBUG -Wno-mismatched-new-delete -I"$ROOT/include" -DBOOST_JSON_NO_LIB
    -DBOOST_ASIO_NO_DEPRECATED)
SEPARATE=(-DPOLAR_SEPARATE_COMPILATION -DBOOST_ASIO_SEPARATE_COMPILATION -DBOOST_BEAST_SEPARATE_COMPILATION)
for run in $(seq "$COMPILE_RUNS"); do
    for mode in header_only separate; do
        log "compile time: $mode (run $run)"
        extra=()
        [ "$mode" = separate ] && extra=("${SEPARATE[@]}")
        taskset -c "$CLIENT_CPU" /usr/bin/time -v -o "$WORK/time.txt" g++ "${CXXFLAGS_BENCH[@]}" "${extra[@]}" \
            -c "$HERE/compile_tu.cpp" -o "$WORK/compile_tu.o"
        secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$WORK/time.txt")
        kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
        printf 'compile\t%s\t%s\t%s\n' "$mode" "$secs" "$kib" >>"$SAMPLES"
    done
done

# -- report --------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - T_START))
python3 "$HERE/report.py" "$SAMPLES" "$HERE/results.md" \
    --load-start "$LOAD_START" --load-end "$LOAD_END" --elapsed "$ELAPSED" --runs "$RUNS" --other-runs "$OTHER_RUNS" --duration "$DURATION" \
    --mem-runs "$MEM_RUNS" --compile-runs "$COMPILE_RUNS" --client-cpu "$CLIENT_CPU" --server-cpu "$SERVER_CPU"
