#!/usr/bin/env bash
# run.sh — runs takt on this machine for a demo (command 1 of README.md).
#
# Installs missing packages, builds a Release tree in build-release/, keeps a
# private PostgreSQL 15 cluster in ./var/pg (socket in ./var/run, port 5470 or
# the next free one, reachable only through the socket), creates database
# "takt", loads conf/demo.env, migrates, and runs taktd in the foreground with
# conf/taktd.yaml, fed by the plant simulator takt-sim when it is built
# (TAKT_RUN_SIM=0: taktd alone). Ctrl-C stops takt-sim (it reports), then
# taktd, then the PostgreSQL that this script started. Run as root
# (PostgreSQL then runs as the "postgres" user) or as a normal user once the
# packages are installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PGBIN=/usr/lib/postgresql/15/bin
BUILD=build-release
VAR=$ROOT/var
PGDATA=$VAR/pg
SOCKDIR=$VAR/run
CONFIG=${TAKT_CONFIG:-$ROOT/conf/taktd.yaml} # another file: TAKT_CONFIG=/path bash scripts/run.sh
DEMO_ENV=$ROOT/conf/demo.env
TAKT_URL=${TAKT_URL:-http://127.0.0.1:8470} # where the config makes taktd listen (for takt-sim)

say() { echo "run.sh: $*"; }
die() {
        echo "run.sh: $*" >&2
        exit 1
}

# as_pg CMD...: runs CMD as the cluster's owner (postgres when we are root).
as_pg() {
        if [[ $(id -u) -eq 0 ]]; then
                runuser -u postgres -- "$@"
        else
                "$@"
        fi
}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() {
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pg_port: the port of the running cluster (line 4 of postmaster.pid).
pg_port() {
        sed -n 4p "$PGDATA/postmaster.pid"
}

bash scripts/install-deps.sh

say "building $BUILD (Release)"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 -t taktd
TAKTD=$ROOT/$BUILD/taktd
[[ -x $TAKTD ]] || die "$TAKTD was not built"
SIM=$ROOT/$BUILD/src/sim/takt-sim
if [[ ${TAKT_RUN_SIM:-1} == 1 && -f $ROOT/src/sim/CMakeLists.txt ]]; then
        cmake --build "$BUILD" -j2 -t takt-sim
fi

# --- PostgreSQL -------------------------------------------------------------
mkdir -p "$VAR" "$SOCKDIR"
if [[ $(id -u) -eq 0 ]]; then
        chown postgres:postgres "$SOCKDIR"
        as_pg test -x "$VAR" ||
                die "user postgres cannot reach $VAR (a parent folder is private); clone the repo elsewhere"
fi
if (( ${#SOCKDIR} > 90 )); then
        die "$SOCKDIR is too long for a Unix socket path; clone the repo into a shorter path"
fi

if [[ ! -f $PGDATA/PG_VERSION ]]; then
        say "creating PostgreSQL cluster in $PGDATA"
        mkdir -p "$PGDATA"
        [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$PGDATA"
        chmod 700 "$PGDATA"
        # trust is safe here: the server listens on no TCP address, and its
        # socket folder is readable by the cluster owner (and root) only.
        as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --no-locale >/dev/null
fi

started_pg=0
if as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        PGPORT=$(pg_port)
        say "PostgreSQL already running on $SOCKDIR port $PGPORT (left running on exit)"
else
        PGPORT=5470
        while ! port_free "$PGPORT"; do PGPORT=$((PGPORT + 1)); done
        say "starting PostgreSQL on $SOCKDIR port $PGPORT"
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 start \
                -o "-c listen_addresses='' -c unix_socket_directories='$SOCKDIR' -c port=$PGPORT -c unix_socket_permissions=0700" \
                >/dev/null || {
                tail -n 20 "$PGDATA/server.log" >&2
                die "PostgreSQL did not start"
        }
        started_pg=1
fi

stop_pg() {
        if ((started_pg)); then
                say "stopping PostgreSQL"
                as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
                started_pg=0
        fi
}

# libpq reads these, so "postgresql:///takt" in the config finds this cluster.
export PGHOST=$SOCKDIR PGPORT PGUSER=postgres PGDATABASE=takt
export TAKT_PG_CONNINFO="host=$SOCKDIR port=$PGPORT user=postgres dbname=takt"

taktd_pid=
sim_pid=
# stop_pid PID: SIGTERM and wait for it.
stop_pid() {
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}
# stop_sim: SIGINT makes takt-sim stop releasing, drain open orders and
# report. The drain (SIM_DRAIN_S) outlasts the shipped config's slowest
# retry: a timed-out s4 posting costs its 10 s timeout and a growing backoff,
# and the simulator keeps injecting faults, so 15 s often ended the demo with
# an order still open. A second Ctrl-C makes it report at once (SIGTERM);
# cleanup ignores every other one until taktd and PostgreSQL are stopped.
SIM_DRAIN_S=60
stop_sim() {
        say "stopping takt-sim: it drains open orders for up to ${SIM_DRAIN_S} s, then reports" \
                "(Ctrl-C again: report now)"
        trap 'kill -TERM "$sim_pid" 2>/dev/null || true; trap "" INT' INT
        kill -INT "$sim_pid" 2>/dev/null || true
        for _ in $(seq $((SIM_DRAIN_S * 10 + 50))); do
                kill -0 "$sim_pid" 2>/dev/null || break
                sleep 0.1
        done
        stop_pid "$sim_pid"
        trap '' INT
}
# In this order: the simulator (it reports), taktd (it drains), PostgreSQL.
cleanup() {
        trap - EXIT
        trap '' INT TERM # stop everything started, however often Ctrl-C is pressed
        if [[ -n $sim_pid ]]; then
                stop_sim
        fi
        if [[ -n $taktd_pid ]]; then
                say "stopping taktd"
                stop_pid "$taktd_pid"
        fi
        stop_pg
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

RUN_SIM=0
if [[ ${TAKT_RUN_SIM:-1} == 1 && -x $SIM ]]; then
        RUN_SIM=1
fi
# The simulator remembers nothing between runs, so the orders and pending
# deliveries of an earlier demo would only confuse it: it starts on a fresh
# database. Without it (TAKT_RUN_SIM=0) the database is kept.
if ((RUN_SIM)); then
        say "dropping the previous demo's database (TAKT_RUN_SIM=0 keeps it)"
        psql -d postgres -q -c "DROP DATABASE IF EXISTS takt WITH (FORCE)"
fi
if [[ -z $(psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'takt'") ]]; then
        say "creating database takt"
        psql -d postgres -q -c "CREATE DATABASE takt"
fi

# --- taktd ------------------------------------------------------------------
[[ -f $DEMO_ENV ]] || die "$DEMO_ENV is missing"
set -a
# shellcheck source=/dev/null
. "$DEMO_ENV"
set +a

say "migrating"
"$TAKTD" --migrate --config "$CONFIG"

# taktd and takt-sim run in sessions of their own (setsid), so Ctrl-C reaches
# only this script, which then stops them in order (cleanup above).
say "starting taktd (Ctrl-C stops it)"
setsid "$TAKTD" --foreground --config "$CONFIG" &
taktd_pid=$!

# >>> takt-sim hook >>>
# The plant simulator plays the ERP and both plants' MESs of the shipped
# config (destinations at 127.0.0.1:8471) until Ctrl-C, then prints its
# report. TAKT_RUN_SIM=0 runs taktd alone.
if ((RUN_SIM)); then
        for _ in $(seq 100); do
                curl -sf -o /dev/null "$TAKT_URL/healthz" && break
                kill -0 "$taktd_pid" 2>/dev/null || break
                sleep 0.2
        done
        say "starting takt-sim (DE01 canonical, PL02 legacy-mes)"
        setsid "$SIM" --taktd "$TAKT_URL" --duration 0 --drain "${SIM_DRAIN_S}s" --plant DE01 \
                --plant PL02 --mes-dialect legacy-mes --mes-hmac-env TAKT_HMAC_PL02 \
                --completion order --scrap separate &
        sim_pid=$!
fi
# <<< takt-sim hook <<<

rc=0
wait "$taktd_pid" || rc=$?
taktd_pid=
say "taktd exited with status $rc"
exit "$rc"
