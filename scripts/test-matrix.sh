#!/usr/bin/env bash
# Runs the integration tests against every other supported PostgreSQL major version (the
# machine's own version is covered by plain `cargo test`). Binaries come from
# scripts/pg-binaries.sh. Usage: scripts/test-matrix.sh [MAJOR ...]   (default: 14 16 17 18)
set -uo pipefail
cd "$(dirname "$0")/.."

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(14 16 17 18)

failed=()
for major in "${versions[@]}"; do
    bindir="$(scripts/pg-binaries.sh "$major")" || { echo "cannot get PostgreSQL $major"; exit 1; }
    echo "==> integration tests on PostgreSQL $major ($bindir)"
    # --no-fail-fast: one failing test binary must not hide the others' results.
    LOCKSCOPE_PG_BINDIR="$bindir" cargo test --no-fail-fast --test '*' || failed+=("$major")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "integration tests failed on PostgreSQL ${failed[*]}"
    exit 1
fi
