#!/usr/bin/env bash
# The docker-compose.yml walk-through, run for real: brings the seeded `shop` database up, runs
# `lockscope check examples/migrations --database-url …` against it, checks the findings that only
# real data gives (the ALTER COLUMN TYPE rewrite of orders, the SET NOT NULL scan of users, exit
# code 1), and brings it down with its volume. Called by .ci/run; also runs by hand.
#
#   scripts/compose-check.sh
#   LOCKSCOPE_PG_IMAGE=postgres:17 scripts/compose-check.sh   # default: postgres:17 when present,
#                                                            # else lockscope-pg:15 (built here)
#
# Compose: the v2 plugin (`docker compose up -d --wait`) when installed; else Debian's
# docker-compose 1.29 package (bookworm has no v2), which has no --wait, so the script waits for
# the service's health check itself. Only this run's project (its own name) is brought down.
set -euo pipefail

cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# shellcheck source=../docker/engine.sh
source docker/engine.sh
docker_engine_start || die "no Docker engine answers and none could be started"

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
else
    [ "$(id -u)" -eq 0 ] || die "neither \`docker compose\` nor docker-compose is installed"
    log "apt-get install docker-compose"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >&2
    compose=(docker-compose)
fi
log "compose: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || echo unknown version))"

if [ -z "${LOCKSCOPE_PG_IMAGE:-}" ]; then
    if docker image inspect postgres:17 >/dev/null 2>&1; then
        LOCKSCOPE_PG_IMAGE=postgres:17
    else
        log "postgres:17 is not here (and no registry may be reachable): using the local image"
        LOCKSCOPE_PG_IMAGE="$(scripts/docker-image.sh)"
    fi
fi
export LOCKSCOPE_PG_IMAGE
# A free port on 127.0.0.1 unless one is given.
export LOCKSCOPE_PG_PORT="${LOCKSCOPE_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"

lockscope="${LOCKSCOPE_BIN:-${CARGO_TARGET_DIR:-target}/debug/lockscope}"
if [ ! -x "$lockscope" ]; then
    log "cargo build (no $lockscope)"
    cargo build --bin lockscope
fi

project="lockscope-compose-$$"
out="$(mktemp -d)"
compose_down() {
    log "${compose[*]} -p $project down --volumes"
    "${compose[@]}" -p "$project" down --volumes --remove-orphans >&2 || true
    rm -rf "$out"
    docker_engine_stop
}
trap compose_down EXIT

started=$(date +%s)
log "LOCKSCOPE_PG_IMAGE=$LOCKSCOPE_PG_IMAGE LOCKSCOPE_PG_PORT=$LOCKSCOPE_PG_PORT ${compose[*]} up -d"
if [ "${compose[0]}" = docker ] && [ "${#compose[@]}" -eq 2 ]; then
    "${compose[@]}" -p "$project" up -d --wait >&2
else
    "${compose[@]}" -p "$project" up -d >&2
    container="$("${compose[@]}" -p "$project" ps -q postgres)"
    [ -n "$container" ] || die "compose started no postgres container"
    # What `up --wait` does: wait until the health check passes (seed included, see the file).
    status=""
    for _ in $(seq 1 180); do
        status="$(docker inspect --format '{{.State.Health.Status}}' "$container")"
        [ "$status" = healthy ] && break
        [ "$status" = unhealthy ] && break
        [ "$(docker inspect --format '{{.State.Running}}' "$container")" = true ] || break
        sleep 1
    done
    if [ "$status" != healthy ]; then
        docker logs --tail 30 "$container" >&2 || true
        die "the postgres service did not become healthy (status: ${status:-none})"
    fi
fi
log "healthy after $(($(date +%s) - started))s (seeded)"

url="postgres://lockscope:lockscope@127.0.0.1:$LOCKSCOPE_PG_PORT/shop"
log "lockscope check examples/migrations --database-url postgres://lockscope:***@127.0.0.1:$LOCKSCOPE_PG_PORT/shop"
set +e
"$lockscope" check examples/migrations --database-url "$url" --format json >"$out/check.json" 2>"$out/check.err"
code=$?
set -e
cat "$out/check.err" >&2
[ "$code" -eq 1 ] || die "lockscope check exited $code, expected 1 (high-severity findings)"

# The facts only real data shows, read from the JSON report (not the findings' wording).
python3 - "$out/check.json" <<'EOF'
import json, sys

report = json.load(open(sys.argv[1]))
assert report["mode"] == "dry-run", report["mode"]
statements = [s for m in report["migrations"] for s in m["statements"]]

rewrites = [s for s in statements if any(r["relation"] == "public.orders" and r["relkind"] == "table" for r in s["rewrites"])]
assert rewrites, "no statement rewrote public.orders"
assert any("ALTER COLUMN quantity TYPE bigint" in s["sql"] for s in rewrites), [s["sql"] for s in rewrites]

not_null = [s for s in statements if "SET NOT NULL" in s["sql"].upper()]
assert not_null, "no SET NOT NULL statement in the report"
scanned = [sc for s in not_null for sc in s["scans"] if sc["relation"] == "public.users"]
assert scanned and scanned[0]["rows"] >= 200000, f"SET NOT NULL did not scan all of public.users: {not_null[0]['scans']}"

high = [f for f in report["findings"] if f["severity"] == "high"]
assert high, "no high-severity finding, yet exit code 1"
print(f"compose check: rewrite of public.orders ({rewrites[0]['sql']}), SET NOT NULL scanned "
      f"{scanned[0]['rows']} rows of public.users, {len(high)} high findings, exit 1")
EOF
# LOCKSCOPE_COMPOSE_SHOW=1: also print the table report (the README's walk-through output).
if [ -n "${LOCKSCOPE_COMPOSE_SHOW:-}" ]; then
    "$lockscope" check examples/migrations --database-url "$url" || true
fi
log "compose check passed in $(($(date +%s) - started))s"
