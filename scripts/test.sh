#!/usr/bin/env bash
# The whole test suite: starts the local PostgreSQL cluster, builds the binaries the
# end-to-end tests run, then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

scripts/pg.sh start
eval "$(scripts/pg.sh env)"
if [[ "${CI:-}" == "true" ]]; then trap 'scripts/pg.sh stop >/dev/null 2>&1 || true' EXIT; fi

swift build
bin="$(swift build --show-bin-path)"
export RELSYNC_BIN="$bin/relsync" NOTION_SIM_BIN="$bin/notion-sim"
swift test
