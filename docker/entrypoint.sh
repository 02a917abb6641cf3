#!/bin/bash
# Entrypoint of the local PostgreSQL image that scripts/docker-image.sh builds from Debian's
# packages. It honours the part of the official image's contract that lockscope uses
# (https://hub.docker.com/_/postgres, "Environment Variables" and "Initialization scripts";
# docker-library/postgres docker-entrypoint.sh):
#   POSTGRES_USER (default postgres) is the superuser, POSTGRES_PASSWORD its password (required,
#   unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default $POSTGRES_USER) is created;
#   on the first start (empty PGDATA) /docker-entrypoint-initdb.d/*.sql, *.sql.gz and *.sh run in
#   name order against POSTGRES_DB as POSTGRES_USER with ON_ERROR_STOP, on a temporary server that
#   listens on its Unix socket only; then the server listens on 5432 on all interfaces and logs
#   "database system is ready to accept connections" (once: the temporary server logs to a file).
# Arguments are passed to postgres (`docker run IMAGE -c fsync=off`); a first argument that is
# not an option runs that command instead.
set -Eeuo pipefail

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
export PATH="$PG_BIN:$PATH"
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi
if [ "$1" != 'postgres' ]; then
    exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    # The same script again as the postgres user (initdb and postgres refuse root).
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

log() { printf 'lockscope-pg: %s\n' "$*"; }

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    POSTGRES_USER="${POSTGRES_USER:-postgres}"
    POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != 'trust' ]; then
        log 'error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)' >&2
        exit 1
    fi

    log "initialising $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" \
        --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/tmp/initdb.log 2>&1 || {
        cat /tmp/initdb.log >&2
        exit 1
    }
    rm -f "$pwfile"
    printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

    # The temporary server: Unix socket only, so nobody reaches it (and no TCP health check
    # passes) before the init scripts are done; its log stays out of the container's output.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -l /tmp/init-server.log -w start >/dev/null || {
        cat /tmp/init-server.log >&2
        exit 1
    }
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --host /var/run/postgresql)
    if [ "$POSTGRES_DB" != 'postgres' ]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" -q <<<'CREATE DATABASE :"db";'
    fi
    psql+=(--dbname "$POSTGRES_DB")
    for file in /docker-entrypoint-initdb.d/*; do
        case "$file" in
            *.sql) log "running $file"; "${psql[@]}" -q -f "$file" ;;
            *.sql.gz) log "running $file"; gunzip -c "$file" | "${psql[@]}" -q ;;
            *.sh) log "running $file"; . "$file" ;;
            */\*) ;;
            *) log "ignoring $file" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    log 'init process complete'
fi

exec postgres -c listen_addresses='*' -c port=5432 "${@:2}"
