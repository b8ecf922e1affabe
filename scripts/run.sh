#!/usr/bin/env bash
# `make run`: database, migrations, admin user, then gunicorn and the task worker side by side.
# Ctrl-C (or SIGTERM/SIGHUP to this script) stops both; if either exits, the other is stopped.
#
#   DATABASE_URL   a server to use (default: the embedded PostgreSQL, scripts/devdb.py)
#   DJANGO_DEBUG   default 1 (a safe local configuration)
#   BIND           default 127.0.0.1:8000
#   WEB_WORKERS    default 2
#   WEB_TIMEOUT    default 30 (s): a sync worker busy longer is killed with its request unanswered,
#                  so DATABASE_WAIT_TIMEOUT + DATABASE_CONNECT_TIMEOUT (settings) stay below it
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PY="$VENV/bin/python"
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
if [ -z "${DATABASE_URL:-}" ]; then
    DATABASE_URL="$("$PY" scripts/devdb.py url)"
fi
export DATABASE_URL

"$PY" manage.py migrate --noinput
"$PY" manage.py ensure_admin

pids=()
stopping=0

stop_children() {
    [ "$stopping" = 1 ] && return
    stopping=1
    trap '' INT TERM HUP
    local pid alive
    # Each child leads its own process group (setsid): signal the group, workers included.
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    # Both shut down gracefully on SIGTERM; force after 15 s.
    for _ in $(seq 150); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    if [ "$alive" = 1 ]; then
        for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    fi
    wait 2>/dev/null || true
}
trap 'stop_children; exit 130' INT
trap 'stop_children; exit 143' TERM HUP
trap 'stop_children' EXIT

# setsid: the children do not get the terminal's Ctrl-C themselves; this script sends each one
# SIGTERM once (a second signal would make db_worker abandon a running task).
# --no-reload: under DEBUG the worker would otherwise run behind an autoreloader that kills it
# (SIGKILL, mid-task) when it is asked to stop.
# db_worker is conversations' own: it waits out a lost database instead of exiting, and re-runs
# (once) the task of a worker that died, so run.sh need not restart it.
setsid "$PY" manage.py db_worker --no-reload &
pids+=("$!")
# Its settings (BIND, WEB_WORKERS, WEB_TIMEOUT read there) live in leadbot/gunicorn.conf.py.
setsid "$VENV/bin/gunicorn" leadbot.wsgi --config leadbot/gunicorn.conf.py &
pids+=("$!")

status=0
wait -n "${pids[@]}" || status=$?
echo "run.sh: a process exited (status $status); stopping the other" >&2
exit "$status"
