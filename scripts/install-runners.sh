#!/usr/bin/env bash
# Installs the real migration tools the `lockscope run` integration tests drive (tests/run_*.rs):
# dbmate from npm (the `dbmate` package ships a prebuilt binary for linux-x64 through an
# optional dependency, see https://www.npmjs.com/package/dbmate). psql comes with the
# PostgreSQL client packages that .ci/run already installs.
#
# The binary lands in ${LOCKSCOPE_RUNNERS_DIR:-$HOME/.cache/lockscope-runners}/node_modules/.bin;
# the tests look there (or at LOCKSCOPE_DBMATE) and fail loudly when it is missing.
set -euo pipefail

DBMATE_VERSION="${DBMATE_VERSION:-2.36.0}"
DIR="${LOCKSCOPE_RUNNERS_DIR:-$HOME/.cache/lockscope-runners}"
mkdir -p "$DIR"
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "npm is missing: install nodejs and npm (apt-get install npm), then run this again" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
fi
if [ -x "$DIR/node_modules/.bin/dbmate" ] && "$DIR/node_modules/.bin/dbmate" --version | grep -q "$DBMATE_VERSION"; then
    echo "dbmate $DBMATE_VERSION already in $DIR"
else
    npm install --no-audit --no-fund --prefix "$DIR" "dbmate@$DBMATE_VERSION"
fi
"$DIR/node_modules/.bin/dbmate" --version
command -v psql >/dev/null || { echo "psql is not on PATH: install postgresql-client" >&2; exit 1; }
