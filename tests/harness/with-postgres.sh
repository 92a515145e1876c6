#!/bin/sh
# with-postgres.sh COMMAND... — run COMMAND against a throwaway PostgreSQL 15.
#
# Creates a temporary directory, initdb's a cluster in it (as the `postgres`
# user when run as root), starts it on a free loopback port with its unix
# socket in the same directory, creates the database takt_test, exports
#   TAKT_PG_CONNINFO  "host=<sockdir> port=<port> dbname=takt_test user=postgres"
#   TAKT_PG_BIN       the PostgreSQL binaries
#   TAKT_PG_DATADIR   the cluster (for tests/harness/pg-stop.sh and pg-start.sh)
#   PGHOST PGPORT PGUSER
# TAKT_PG_FSYNC=on makes the server durable (fsync, full_page_writes): the
# benchmarks use it; tests run with fsync off for speed.
# runs COMMAND, then stops the server and removes the directory on every exit
# path, exiting with COMMAND's status.
set -eu

if [ "$#" -eq 0 ]; then
        echo "usage: $0 COMMAND..." >&2
        exit 2
fi

TAKT_PG_BIN=${TAKT_PG_BIN:-/usr/lib/postgresql/15/bin}
harness_dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/takt-pg.XXXXXX")
datadir="$tmp/data"
sockdir="$tmp"

# as_pg CMD...: run as the cluster owner (postgres when we are root).
as_pg() {
        if [ "$(id -u)" -eq 0 ]; then
                runuser -u postgres -- "$@"
        else
                "$@"
        fi
}

cleanup() {
        status=$?
        trap - EXIT INT TERM HUP
        if [ -f "$datadir/postmaster.pid" ]; then
                as_pg "$TAKT_PG_BIN/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$tmp"
        exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$tmp"
fi
chmod 700 "$tmp"

as_pg "$TAKT_PG_BIN/initdb" -D "$datadir" -U postgres --auth=trust --no-sync \
        -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 || {
        cat "$tmp/initdb.log" >&2
        exit 1
}

# The first port that a server actually starts on wins (another process may
# take a port between a probe and the start, so the start itself is the probe).
port=""
for try in $(seq 1 50); do
        candidate=$((20000 + ($$ * 7 + try * 131) % 40000))
        cat >"$datadir/postgresql.auto.conf" <<CONF
port = $candidate
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
fsync = ${TAKT_PG_FSYNC:-off}
full_page_writes = ${TAKT_PG_FSYNC:-off}
synchronous_commit = on
max_connections = 100
log_min_messages = warning
CONF
        if as_pg "$TAKT_PG_BIN/pg_ctl" -D "$datadir" -l "$tmp/server.log" -w -t 30 \
                start >/dev/null 2>&1; then
                port=$candidate
                break
        fi
done
if [ -z "$port" ]; then
        echo "with-postgres: could not start PostgreSQL on any port" >&2
        cat "$tmp/server.log" >&2 || true
        exit 1
fi

"$TAKT_PG_BIN/createdb" -h "$sockdir" -p "$port" -U postgres takt_test

export TAKT_PG_CONNINFO="host=$sockdir port=$port dbname=takt_test user=postgres"
export TAKT_PG_BIN TAKT_PG_DATADIR="$datadir" TAKT_PG_LOG="$tmp/server.log"
export TAKT_PG_HARNESS="$harness_dir"
export PGHOST="$sockdir" PGPORT="$port" PGUSER=postgres

set +e
"$@"
status=$?
set -e
exit "$status"
