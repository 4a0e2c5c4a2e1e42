#!/usr/bin/env bash
# Installs what relsync needs to build, test and run the demo, if it is missing:
# libcurl (OpenSSL flavour) and libpq headers, PostgreSQL 15 server and client, pkg-config, python3;
# with --test also headless Chromium and a font, which the report test renders with.
# The Swift toolchain itself is expected at /opt/swift or on PATH.
set -euo pipefail
export PATH="/opt/swift/usr/bin:$PATH"

missing=()
pkg-config --version >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libcurl 2>/dev/null || missing+=(libcurl4-openssl-dev)
pkg-config --exists libpq 2>/dev/null || missing+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [[ "${1:-}" == "--test" ]]; then
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    [[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || missing+=(fonts-dejavu-core)
fi

if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}"
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "deps: no Swift toolchain found (expected /opt/swift/usr/bin/swift or swift on PATH); install Swift 6 first" >&2
    exit 1
fi
