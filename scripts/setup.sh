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
