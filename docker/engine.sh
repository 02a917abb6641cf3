# shellcheck shell=bash
# Sourced by scripts/docker-image.sh, scripts/compose-check.sh and .ci/run: a Docker engine for
# the container steps, started only when none answers, and stopped only if we started it.
#
#   docker_engine_start   # 0 when an engine answers (ours or one already running), else 1
#   docker_engine_stop    # stops the dockerd we started (by its pid), nothing else
#
# LOCKSCOPE_STARTED_DOCKERD_PID holds the pid of the dockerd started here (empty otherwise); it is
# exported, so a script run from a shell that started the engine sees it is not its own to stop.

LOCKSCOPE_STARTED_DOCKERD_PID="${LOCKSCOPE_STARTED_DOCKERD_PID:-}"
LOCKSCOPE_DOCKERD_LOG="${LOCKSCOPE_DOCKERD_LOG:-/tmp/lockscope-dockerd.log}"
# Only the dockerd that *this* shell started is stopped by this shell.
_lockscope_dockerd_owner=""

docker_engine_answers() {
    command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

docker_engine_start() {
    if docker_engine_answers; then
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "==> no Docker engine answers and there is no dockerd to start" >&2
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "==> no Docker engine answers, and starting dockerd needs root" >&2
        return 1
    fi
    echo "==> starting dockerd (log: $LOCKSCOPE_DOCKERD_LOG)" >&2
    # $! is dockerd itself (no wrapper), so the pid we stop is the one we started; dockerd stops
    # the containerd it runs as its child.
    dockerd >"$LOCKSCOPE_DOCKERD_LOG" 2>&1 </dev/null &
    LOCKSCOPE_STARTED_DOCKERD_PID=$!
    _lockscope_dockerd_owner=$$
    export LOCKSCOPE_STARTED_DOCKERD_PID
    local waited=0
    while [ "$waited" -lt 60 ]; do
        if ! kill -0 "$LOCKSCOPE_STARTED_DOCKERD_PID" 2>/dev/null; then
            echo "==> dockerd exited while starting; last lines of its log:" >&2
            tail -n 15 "$LOCKSCOPE_DOCKERD_LOG" >&2 || true
            LOCKSCOPE_STARTED_DOCKERD_PID=""
            _lockscope_dockerd_owner=""
            return 1
        fi
        if docker_engine_answers; then
            echo "==> dockerd $LOCKSCOPE_STARTED_DOCKERD_PID answers after ${waited}s" >&2
            return 0
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "==> dockerd did not answer within 60s; stopping it. Last lines of its log:" >&2
    tail -n 15 "$LOCKSCOPE_DOCKERD_LOG" >&2 || true
    docker_engine_stop
    return 1
}

docker_engine_stop() {
    if [ -z "$LOCKSCOPE_STARTED_DOCKERD_PID" ] || [ "$_lockscope_dockerd_owner" != "$$" ]; then
        return 0
    fi
    local pid="$LOCKSCOPE_STARTED_DOCKERD_PID"
    LOCKSCOPE_STARTED_DOCKERD_PID=""
    _lockscope_dockerd_owner=""
    if kill -0 "$pid" 2>/dev/null; then
        echo "==> stopping the dockerd we started (pid $pid)" >&2
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 30 ]; do
            sleep 1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "==> dockerd $pid still running after 30s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
}
