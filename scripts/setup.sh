#!/usr/bin/env bash
# Installs what polar-cpp needs on Debian 12 (run as root). Idempotent and
# quiet when everything is already present.
set -euo pipefail

packages=(g++ cmake ninja-build make pkg-config python3 libboost1.81-dev libssl-dev doctest-dev openssl ca-certificates)
if [[ "${POLAR_SETUP_EXTRA:-}" != "" ]]; then
    read -r -a extra <<<"${POLAR_SETUP_EXTRA}"
    packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup: missing packages: ${missing[*]}; run as root or install them" >&2
        exit 1
    fi
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js and the pinned TypeScript SDKs of the conformance checks in tests/ts
# (npm ci, only when node_modules is missing or older than package-lock.json).
if [[ "${POLAR_SETUP_NODE:-1}" != 0 ]]; then
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        if [[ $(id -u) -ne 0 ]]; then
            echo "setup: node/npm missing; install them or run as root (the TypeScript checks skip without them)" >&2
        else
            echo "setup: installing nodejs npm"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
        fi
    fi
    ts_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/ts"
    stamp="$ts_dir/node_modules/.polar-lock.sha256"
    if command -v npm >/dev/null && [[ -f "$ts_dir/package-lock.json" ]]; then
        want=$(sha256sum "$ts_dir/package-lock.json" | cut -d' ' -f1)
        if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
            echo "setup: npm ci in tests/ts"
            (cd "$ts_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
            echo "$want" >"$stamp"
        fi
    fi
fi
