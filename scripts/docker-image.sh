#!/usr/bin/env bash
# Builds the local PostgreSQL image lockscope-pg:15 from Debian's own packages, for machines that
# reach no image registry (postgres:17 cannot be pulled there):
#
#   debootstrap --variant=minbase --include=postgresql-15 bookworm DIR <the machine's Debian archive>
#   tar -C DIR -c . | docker import - lockscope-pg:15   (entrypoint: docker/entrypoint.sh)
#
# The archive is read from this machine's apt sources (/etc/apt/sources.list and
# /etc/apt/sources.list.d/*.list / *.sources); no host is written here. The image is cached: the
# build is skipped when an image of that name built from the same entrypoint exists. Installs
# docker.io and debootstrap when missing, and starts dockerd only when no engine answers (then
# stops that one at exit).
#
#   scripts/docker-image.sh            # build unless cached; prints the image name last
#   LOCKSCOPE_PG_IMAGE_REBUILD=1 ...   # build even if cached
set -euo pipefail

cd "$(dirname "$0")/.."

IMAGE="${LOCKSCOPE_PG_LOCAL_IMAGE:-lockscope-pg:15}"
SUITE=bookworm
PACKAGE=postgresql-15

log() { printf '==> %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    die "run as root (debootstrap and dockerd need it)"
fi

missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# shellcheck source=../docker/engine.sh
source docker/engine.sh
docker_engine_start || die "no Docker engine could be started (see above)"
rootfs=""
cleanup() {
    if [ -n "$rootfs" ]; then
        rm -rf --one-file-system "$rootfs"
    fi
    docker_engine_stop
}
trap cleanup EXIT

# What the image is built from, recorded as a label: a changed entrypoint or RECIPE means a rebuild.
RECIPE=2 # bump when the build below changes
recipe="$( (cat docker/entrypoint.sh; echo "$RECIPE $SUITE $PACKAGE") | sha256sum | cut -c1-16)"
if [ -z "${LOCKSCOPE_PG_IMAGE_REBUILD:-}" ] &&
    [ "$(docker image inspect --format '{{ index .Config.Labels "org.lockscope.recipe" }}' "$IMAGE" 2>/dev/null)" = "$recipe" ]; then
    log "$IMAGE is up to date (recipe $recipe); not rebuilding"
    echo "$IMAGE"
    exit 0
fi

# The first Debian archive in the apt sources that serves $SUITE's main component: one-line
# `deb [options] URI SUITE COMPONENTS…` entries and deb822 stanzas (Types/URIs/Suites/Components).
debian_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$file" ] || continue
        awk -v suite="$SUITE" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                uri = $i; s = $(i + 1)
                for (j = i + 2; j <= NF; j++) if ($j == "main" && s == suite) { print uri; exit }
            }' "$file"
    done
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -r "$file" ] || continue
        awk -v suite="$SUITE" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && (" " comps " ") ~ / main / && enabled != "no") {
                    split(uris, u, " "); print u[1]; found = 1
                }
                types = uris = suites = comps = ""; enabled = "yes"
            }
            BEGIN { enabled = "yes" }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); if (found) exit; next }
            { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "") }
            key == "types" { types = $0 }
            key == "uris" { uris = $0 }
            key == "suites" { suites = $0 }
            key == "components" { comps = $0 }
            key == "enabled" { enabled = tolower($0) }
            END { if (!found) flush() }' "$file"
    done
}

mirror="$(debian_mirror | head -n 1)"
[ -n "$mirror" ] || die "no Debian archive serving '$SUITE main' in /etc/apt/sources.list or /etc/apt/sources.list.d/"
log "Debian archive from the apt sources: $mirror"

rootfs="$(mktemp -d /var/tmp/lockscope-pg-rootfs.XXXXXX)"
started=$(date +%s)
log "debootstrap --variant=minbase --include=$PACKAGE $SUITE $rootfs $mirror"
if ! debootstrap --variant=minbase --include="$PACKAGE" "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
    tail -n 30 "$rootfs.log" >&2
    die "debootstrap failed (full log: $rootfs.log)"
fi
rm -f "$rootfs.log"
bootstrapped=$(date +%s)

# Installing postgresql-15 may have started its packaged cluster inside the chroot (the package's
# postinst runs invoke-rc.d): stop what runs from our rootfs, then drop that cluster and caches.
for proc in /proc/[0-9]*; do
    if [ "$(readlink "$proc/root" 2>/dev/null)" = "$rootfs" ]; then
        log "stopping ${proc#/proc/}, started inside the new root file system"
        kill -TERM "${proc#/proc/}" 2>/dev/null || true
    fi
done
rm -rf "$rootfs"/var/lib/postgresql/* "$rootfs"/etc/postgresql/* "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
install -m 0755 docker/entrypoint.sh "$rootfs/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$rootfs/docker-entrypoint-initdb.d"

log "docker import -> $IMAGE"
tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
    --change 'CMD ["postgres"]' \
    --change 'ENV PGDATA=/var/lib/postgresql/data' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'EXPOSE 5432' \
    --change 'VOLUME /var/lib/postgresql/data' \
    --change "LABEL org.lockscope.recipe=$recipe" \
    --message "lockscope: $PACKAGE from Debian $SUITE ($mirror)" \
    - "$IMAGE" >/dev/null
finished=$(date +%s)
log "built $IMAGE in $((finished - started))s (debootstrap $((bootstrapped - started))s, import $((finished - bootstrapped))s); $(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
echo "$IMAGE"
