#!/usr/bin/env bash
# Runs the integration tests against every other supported PostgreSQL major version (the
# machine's own version is covered by plain `cargo test`). Binaries come from
# scripts/pg-binaries.sh. Usage: scripts/test-matrix.sh [MAJOR ...]   (default: 14 16 17 18)
set -euo pipefail
cd "$(dirname "$0")/.."

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(14 16 17 18)

for major in "${versions[@]}"; do
    bindir="$(scripts/pg-binaries.sh "$major")"
    echo "==> integration tests on PostgreSQL $major ($bindir)"
    LOCKSCOPE_PG_BINDIR="$bindir" cargo test --test '*'
done
