#!/usr/bin/env bash
# bench/ingest/run.sh — the ingest benchmark in one go; prints one table.
#
# Rows, each at concurrency 1, 16 and 64 (closed loop, keep-alive):
#   bare     takt-bare-server: evhttp + jansson parse + 202, nothing else
#            (ceiling a: what the HTTP layer alone can do on this machine)
#   pg-1     pgbench, one ~600-byte message INSERT per transaction
#   pg-50    pgbench, one 50-row INSERT per transaction (ceiling b: what
#            PostgreSQL can commit with and without group commit)
#   pg-takt  pgbench writing, into taktd's own schema, the rows taktd
#            commits before answering 202 (pg_takt.sql): pg-takt-1 one
#            message per transaction (c=1), pg-takt 50 per transaction (c=2,
#            taktd's two connections), pg-takt+ 50 per transaction with the
#            rest of each message's rows (delivered, dispatched). Nothing but
#            PostgreSQL runs: what the rows alone cost this machine
#   taktd    POST /v1/ingest/erp with work_order.released messages to a taktd
#            started here; each is validated, ordered, and committed with its
#            outbox rows for two destinations (the MES and an archive, both a
#            takt-bare-server sink) before the 202. Only work_order.released is
#            routed, so each message makes exactly two outbox rows, as the
#            benchmark asks; the state changes takt derives (released, then
#            dispatched once the MES has the order) are still decided, stored
#            and traced, just not sent anywhere.
#   taktd-held  the same taktd with both destinations at a port nobody
#            listens on: every message is still committed with its two
#            outbox rows, but the deliveries fail at once and the circuit
#            breakers hold them back. What ingest alone does, without the
#            deliveries (and the dispatched transitions they cause) on the
#            same two cores.
#
# Every cell starts settled (lib.sh settle: CHECKPOINT, sync), so no cell
# pays for the page-cache writeback of the one before it.
#
# Builds a Release tree (build-bench/), then re-runs itself inside
# tests/harness/with-postgres.sh (a throwaway PostgreSQL 15). Every process it
# starts is stopped by PID. Knobs (environment): DURATION (s per cell,
# default 10), WARMUP (s, default 2), CONCURRENCY (default "1 16 64").
#
# A/B of two builds: TAKTD_B=/path/to/other/taktd runs only taktd rows,
# this build's ("taktd") and the other's ("taktd-b"), alternating, ROUNDS
# times (default 3), each build on a database of its own that it migrated
# itself (so the two may differ in schema); HELD=1 holds the deliveries
# back as in taktd-held. Alternating cells share the machine's mood, which
# moves by 10-30% within an hour here: compare the rows of one run.
# Don't run it while the machine is busy building: the numbers mean nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/bench/ingest
BUILD=${TAKT_BENCH_BUILD:-$ROOT/build-bench}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONCURRENCY=${CONCURRENCY:-"1 16 64"}

if [[ ${1:-} != --inner ]]; then
        bash "$ROOT/scripts/install-deps.sh"
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build "$BUILD" -j2 -t takt-loadgen takt-bare-server
        if [[ -f $ROOT/src/main.c ]]; then
                cmake --build "$BUILD" -j2 -t taktd
        fi
        # a durable server: the numbers are for messages that survive a crash
        TAKT_PG_FSYNC=on exec bash "$ROOT/tests/harness/with-postgres.sh" bash "$HERE/run.sh" --inner
fi

: "${TAKT_PG_CONNINFO:?run.sh --inner needs TAKT_PG_CONNINFO (tests/harness/with-postgres.sh)}"
LOADGEN=$BUILD/bench/ingest/takt-loadgen
BARE=$BUILD/bench/ingest/takt-bare-server
TAKTD=$BUILD/taktd
WORK=$(mktemp -d /tmp/takt-bench.XXXXXX)
chmod 755 "$WORK"
ROWS=()
# PIDS, cleanup (trap EXIT), with_db, sql, free_port, start_bg, stop_pid,
# wait_http, wait_ready, field
source "$HERE/lib.sh"

# cpu_mark: "total idle" jiffies of the whole machine (idle counts iowait).
cpu_mark() {
        awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat
}

# busy_since MARK: percent of the machine's CPU busy since cpu_mark printed MARK.
busy_since() {
        local t0 i0 t1 i1
        read -r t0 i0 <<<"$1"
        read -r t1 i1 < <(cpu_mark)
        awk -v dt=$((t1 - t0)) -v di=$((i1 - i0)) 'BEGIN {printf "%.0f", (dt > 0 ? 100 * (dt - di) / dt : 0)}'
}

# loadgen_row NAME C URL [TOKEN]: one closed-loop run; adds a table row.
loadgen_row() {
        local name=$1 c=$2 url=$3 token=${4:-}
        local out mark
        settle "$DB"
        mark=$(cpu_mark)
        out=$("$LOADGEN" -u "$url" ${token:+-t "$token"} -c "$c" -d "$DURATION" -w "$WARMUP" 2>"$WORK/loadgen.err") ||
                true
        if [[ -z $out ]]; then
                ROWS+=("$name|$c|failed|-|-|$(head -c 60 "$WORK/loadgen.err" | tr '\n' ' ')")
                return
        fi
        ROWS+=("$name|$c|$(field msgs_per_s "$out")|$(field p50_ms "$out")|$(field p99_ms "$out")|errors=$(field errors "$out") conn_errors=$(field conn_errors "$out") cpu=$(busy_since "$mark")%")
}

# pgbench_row NAME SCRIPT ROWS_PER_TX C [PGBENCH_ARG...]: one pgbench run;
# adds a table row.
pgbench_row() {
        local name=$1 script=$2 per_tx=$3 c=$4
        shift 4
        local jobs=$((c < 2 ? c : 2)) prefix=$WORK/pgb-$name-$c out mark
        settle "$DB"
        mark=$(cpu_mark)
        out=$(pgbench -n -f "$script" -c "$c" -j "$jobs" -T "$DURATION" -l \
                --log-prefix="$prefix" "$@" "$DB" 2>&1) || {
                ROWS+=("$name|$c|failed|-|-|$(tail -n 1 <<<"$out")")
                return
        }
        local tps pct
        tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$out" | head -n 1)
        pct=$(cat "$prefix".* | awk '{print $3 / 1000}' | sort -n | awk '
                {v[NR] = $1} END {
                    if (NR == 0) { print "- -"; exit }
                    i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999)
                    printf "%.3f %.3f\n", v[i50], v[i99] }')
        ROWS+=("$name|$c|$(awk -v t="$tps" -v n="$per_tx" 'BEGIN {printf "%.1f", t * n}')|${pct% *}|${pct#* }|tx/s=$tps cpu=$(busy_since "$mark")%")
        rm -f "$prefix".*
}

ADMIN_DB=$(with_db "$TAKT_PG_CONNINFO" postgres)
sql -d "$ADMIN_DB" -c "DROP DATABASE IF EXISTS takt_bench" -c "CREATE DATABASE takt_bench"
DB=$(with_db "$TAKT_PG_CONNINFO" takt_bench)

echo "bench: ${DURATION}s per cell (${WARMUP}s warm-up), concurrency $CONCURRENCY"

# The ceilings (not in the A/B mode).
if [[ -z ${TAKTD_B:-} ]]; then
        # --- ceiling a: bare evhttp + jansson ----------------------------------
        port=$(free_port)
        start_bg "$WORK/bare.log" "$BARE" "$port"
        bare_pid=$!
        wait_http "http://127.0.0.1:$port/"
        for c in $CONCURRENCY; do
                loadgen_row bare "$c" "http://127.0.0.1:$port/v1/ingest/erp"
        done
        stop_pid "$bare_pid"

        # --- ceiling b: PostgreSQL alone ---------------------------------------
        sql -d "$DB" -f "$HERE/pg_schema.sql"
        for c in $CONCURRENCY; do
                pgbench_row pg-1 "$HERE/pg_one_row.sql" 1 "$c"
        done
        sql -d "$DB" -c "TRUNCATE bench_inbox"
        for c in $CONCURRENCY; do
                pgbench_row pg-50 "$HERE/pg_batch50.sql" 50 "$c"
        done
        sql -d "$DB" -c "DROP TABLE bench_inbox"
fi

# taktd_rows NAME [BINARY [DB]]: empty tables, start BINARY (default
# $TAKTD) on taktd.yaml, one row per concurrency, stop it.
taktd_rows() {
        local bin=${2:-$TAKTD} db=${3:-$DB}
        sql -d "$db" -c "TRUNCATE inbox, work_orders, outbox, trace RESTART IDENTITY"
        TAKT_PG_CONNINFO=$db start_bg "$WORK/$1.log" "$bin" --foreground --config "$WORK/taktd.yaml"
        local taktd_pid=$!
        wait_ready "http://127.0.0.1:$port"
        for c in $CONCURRENCY; do
                loadgen_row "$1" "$c" "http://127.0.0.1:$port/v1/ingest/erp" bench-erp
        done
        stop_pid "$taktd_pid"
        echo "bench: $1's last warnings and errors:"
        grep -E 'level=(warn|error)' "$WORK/$1.log" |
                grep -v -e 'event=store.not_ready' -e 'event=delivery.breaker_open' | tail -n 5 || true
}

# ab_rows: the A/B mode (TAKTD_B, header), instead of every other row.
ab_rows() {
        local db_b sink=127.0.0.1:9 sink_pid=
        sql -d "$ADMIN_DB" -c "DROP DATABASE IF EXISTS takt_bench_b" -c "CREATE DATABASE takt_bench_b"
        db_b=$(with_db "$TAKT_PG_CONNINFO" takt_bench_b)
        write_taktd_config "$sink"
        TAKT_PG_CONNINFO=$DB "$TAKTD" --migrate --config "$WORK/taktd.yaml"
        write_taktd_config "$sink" "$db_b"
        TAKT_PG_CONNINFO=$db_b "$TAKTD_B" --migrate --config "$WORK/taktd.yaml"
        if [[ ${HELD:-0} != 1 ]]; then
                start_sink
        fi
        for ((round = 1; round <= ${ROUNDS:-3}; round++)); do
                write_taktd_config "$sink"
                taktd_rows taktd
                write_taktd_config "$sink" "$db_b"
                taktd_rows taktd-b "$TAKTD_B" "$db_b"
        done
        if [[ -n $sink_pid ]]; then
                stop_pid "$sink_pid"
        fi
}

if [[ -n ${TAKTD_B:-} ]]; then
        [[ -x $TAKTD && -x $TAKTD_B ]] || { echo "run.sh: $TAKTD or $TAKTD_B is missing" >&2; exit 1; }
        taktd_files
        ab_rows
elif [[ -x $TAKTD ]]; then
        taktd_files
        write_taktd_config 127.0.0.1:9
        TAKT_PG_CONNINFO=$DB "$TAKTD" --migrate --config "$WORK/taktd.yaml"

        # --- ceiling c: taktd's rows, PostgreSQL alone ---------------------------
        sql -d "$DB" -c "CREATE SEQUENCE pg_takt_group"
        pgbench_row pg-takt-1 "$HERE/pg_takt.sql" 1 1 -M prepared -D size=1 -D life=0
        pgbench_row pg-takt "$HERE/pg_takt.sql" 50 2 -M prepared -D size=50 -D life=0
        pgbench_row pg-takt+ "$HERE/pg_takt.sql" 50 2 -M prepared -D size=50 -D life=1
        sql -d "$DB" -c "DROP SEQUENCE pg_takt_group"

        # --- taktd, delivering to a sink -------------------------------------------
        start_sink
        write_taktd_config "$sink"
        taktd_rows taktd
        stop_pid "$sink_pid"

        # --- taktd, deliveries held (nothing listens: refused, breaker open) ------
        write_taktd_config "127.0.0.1:$(free_port)"
        taktd_rows taktd-held
else
        ROWS+=("taktd|-|not built|-|-|$TAKTD missing")
fi

# --- the table -----------------------------------------------------------------
echo
printf '%-10s %5s %12s %10s %10s  %s\n' target conc msgs/s p50_ms p99_ms notes
for row in "${ROWS[@]}"; do
        IFS='|' read -r name c rate p50 p99 notes <<<"$row"
        printf '%-10s %5s %12s %10s %10s  %s\n' "$name" "$c" "$rate" "$p50" "$p99" "$notes"
done
echo
echo "bare = HTTP+JSON ceiling; pg-1/pg-50 = PostgreSQL ceilings (the harness's PostgreSQL"
echo "settings apply, see tests/harness/with-postgres.sh); msgs/s for pg-50 = tx/s x 50."
echo "pg-takt-1/pg-takt/pg-takt+ = PostgreSQL alone writing taktd's rows for 1/50/50"
echo "messages per transaction (before the 202 / before the 202 / over each message's"
echo "whole life); msgs/s = tx/s x messages per transaction. taktd-held = taktd with"
echo "its deliveries held back (destinations refuse connections): ingest alone."
echo "cpu = the whole machine's CPU busy during the cell (iowait counts as idle)."
if [[ -n ${TAKTD_B:-} ]]; then
        held=; [[ ${HELD:-0} == 1 ]] && held=" (deliveries held)"
        echo "A/B: taktd = $TAKTD, taktd-b = $TAKTD_B, alternating$held."
fi

# --- the issue's two goals, from this run's cells ------------------------------
printf '%s\n' "${ROWS[@]}" | awk -F'|' '
        { rate[$1 "/" $2] = $3; p50[$1 "/" $2] = $4 }
        match($6, /cpu=[0-9]+/) { cpu[$1 "/" $2] = substr($6, RSTART + 4, RLENGTH - 4) }
        function pct(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.1f%%", 100 * a / b) : "-" }
        END {
            if (("bare/64" in rate) && ("taktd/64" in rate)) {
                printf "goal c=64: taktd %s of bare (goal >= 70%%)", pct(rate["taktd/64"], rate["bare/64"])
                if ("taktd-held/64" in rate)
                    printf ", %s with deliveries held", pct(rate["taktd-held/64"], rate["bare/64"])
                if ("pg-takt/2" in rate)
                    printf "; PostgreSQL alone: %s (pg-takt), %s (pg-takt+)", pct(rate["pg-takt/2"], rate["bare/64"]),
                        pct(rate["pg-takt+/2"], rate["bare/64"])
                printf "\n"
                if (("bare/64" in cpu) && ("pg-takt/2" in cpu) && rate["pg-takt/2"] + 0 > 0) {
                    http = 0.7 * cpu["bare/64"]
                    pg = 0.7 * rate["bare/64"] / rate["pg-takt/2"] * cpu["pg-takt/2"]
                    printf "  at 70%% of bare: ~%.0f%% of this machine for the HTTP work of the bare server", http
                    printf " + ~%.0f%% for PostgreSQL writing the ingest rows = %.0f%%, before any work of taktd\n", pg, http + pg
                }
            }
            if (("bare/1" in p50) && ("pg-1/1" in p50) && ("taktd/1" in p50)) {
                printf "goal c=1: taktd p50 %s ms (goal <= 2 x pg-1 p50 + bare p50 = %.3f ms)", p50["taktd/1"],
                    2 * p50["pg-1/1"] + p50["bare/1"]
                if ("taktd-held/1" in p50)
                    printf ", %s ms with deliveries held", p50["taktd-held/1"]
                if ("pg-takt-1/1" in p50)
                    printf "; PostgreSQL alone + bare: %.3f ms (pg-takt-1 p50 + bare p50)",
                        p50["pg-takt-1/1"] + p50["bare/1"]
                printf "\n"
            }
        }'

