#!/usr/bin/env bash
# Starts the emulator on a free port, runs one TypeScript SDK conformance
# check against it and stops it.
#
#   bash tests/ts/run_check.sh EMULATOR_BINARY 2026-10|2025-03 [--only NAME]
#
# 2026-10: @polar-sh/sdk 1.0.1 (check_2026_10.mjs) against the emulator's
# default API version, with the demo data (customers on events) and a token
# holding every scope the checked operations need.
# 2025-03: @polar-sh/sdk 0.32.4 (check_2025_03.mjs) against
# --api-version 2025-03 with the emulator's default organization and token.
#
# Exits 77 (ctest SKIP_RETURN_CODE) when node or npm is missing, or when the
# packages are not installed and cannot be (scripts/setup.sh installs them).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EMULATOR=${1:?usage: run_check.sh EMULATOR_BINARY 2026-10|2025-03 [--only NAME]}
WHICH=${2:?usage: run_check.sh EMULATOR_BINARY 2026-10|2025-03 [--only NAME]}
shift 2

for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is not installed (scripts/setup.sh installs Node.js and the SDKs)"
        exit 77
    fi
done
if [ ! -f "$HERE/node_modules/@polar-sh/sdk/package.json" ] || [ ! -f "$HERE/node_modules/polar-sdk-0-32/package.json" ]; then
    echo "installing the TypeScript SDKs (npm ci in tests/ts)"
    if ! (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
        echo "SKIP: npm ci in tests/ts failed (run scripts/setup.sh)"
        exit 77
    fi
fi
[ -x "$EMULATOR" ] || { echo "run_check.sh: no emulator binary at $EMULATOR" >&2; exit 1; }

case $WHICH in
2026-10)
    SCRIPT=check_2026_10.mjs
    TOKEN=polar_ts_check_token
    EMU_ARGS=(--seed demo --token "$TOKEN:meters:read,meters:write,events:read,events:write,customer_meters:read")
    ;;
2025-03)
    SCRIPT=check_2025_03.mjs
    TOKEN=polar_test_token
    EMU_ARGS=(--api-version 2025-03)
    ;;
*)
    echo "run_check.sh: unknown check $WHICH (2026-10 or 2025-03)" >&2
    exit 2
    ;;
esac

OUT=$(mktemp /tmp/polar-ts-check.XXXXXX)
"$EMULATOR" --port 0 "${EMU_ARGS[@]}" >"$OUT" 2>&1 &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    rm -f "$OUT"
}
trap cleanup EXIT

URL=
for _ in $(seq 100); do
    URL=$(sed -n 's/^polar-emulator: listening on \(.*\)$/\1/p' "$OUT")
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$URL" ]; then
    echo "run_check.sh: the emulator did not start:" >&2
    cat "$OUT" >&2
    exit 1
fi
grep -q "^token: $TOKEN " "$OUT" || { echo "run_check.sh: token $TOKEN not announced:" >&2; cat "$OUT" >&2; exit 1; }
echo "emulator $EMULATOR ${EMU_ARGS[*]} at $URL"

node "$HERE/$SCRIPT" --url "$URL" --token "$TOKEN" "$@"
