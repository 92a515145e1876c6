#!/usr/bin/env bash
# bench/soak/run.sh — does taktd slow down, or grow, as it ages? One taktd,
# one closed-loop load of work_order.released messages for DURATION seconds,
# and every INTERVAL seconds one row:
#   msg/s      accepted in the interval (takt_ingest_messages_total)
#   main_us    the main loop's CPU per accepted message (its thread's
#              utime + stime, /proc/<pid>/task/<pid>/stat)
#   pg_us      CPU per accepted message of the PostgreSQL backends whose
#              application_name is taktd-* (docs/storage.md, "Connections")
#   rss_mb     taktd's resident memory
#   pending    pending outbox rows (takt_outbox_messages, a 5 s snapshot)
# It ends with the main loop's cost in the last interval against the first.
# A daemon that slows with age (heap fragmentation: docs/architecture.md,
# "Memory allocator") or grows shows here, not in the ingest benchmark's
# 10 s cells on a fresh process.
#
# HELD=1 (default): both destinations point at a port nobody listens on, so
# the deliveries are held back and the backlog grows (a destination down for
# the whole run); HELD=0 delivers to a takt-bare-server sink.
#
# Builds a Release tree (build-bench/, shared with bench/ingest), then re-runs
# itself inside tests/harness/with-postgres.sh with a durable server
# (TAKT_PG_FSYNC=on). Every process it starts is stopped by PID. Knobs:
# DURATION (s, default 120), INTERVAL (s, default 10), C (connections,
# default 64), HELD (1/0), TAKTD_BIN (another build's taktd, to compare).
# Don't run it while the machine is busy.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${TAKT_BENCH_BUILD:-$ROOT/build-bench}
DURATION=${DURATION:-120}
INTERVAL=${INTERVAL:-10}
C=${C:-64}
HELD=${HELD:-1}

if [[ ${1:-} != --inner ]]; then
        bash "$ROOT/scripts/install-deps.sh"
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build "$BUILD" -j2 -t taktd takt-loadgen takt-bare-server
        TAKT_PG_FSYNC=on exec bash "$ROOT/tests/harness/with-postgres.sh" \
                bash "$ROOT/bench/soak/run.sh" --inner
fi

: "${TAKT_PG_CONNINFO:?run.sh --inner needs TAKT_PG_CONNINFO (tests/harness/with-postgres.sh)}"
LOADGEN=$BUILD/bench/ingest/takt-loadgen
BARE=$BUILD/bench/ingest/takt-bare-server
TAKTD=${TAKTD_BIN:-$BUILD/taktd}
WORK=$(mktemp -d /tmp/takt-soak.XXXXXX)
chmod 755 "$WORK"
DB=$TAKT_PG_CONNINFO
# PIDS, cleanup (trap EXIT), sql, free_port, start_bg, stop_pid, wait_ready,
# settle, start_sink, taktd_files, write_taktd_config
source "$ROOT/bench/ingest/lib.sh"

sink=127.0.0.1:9
if [[ $HELD != 1 ]]; then
        start_sink
fi
taktd_files
write_taktd_config "$sink"
TAKT_PG_CONNINFO=$DB "$TAKTD" --migrate --config "$WORK/taktd.yaml" >/dev/null
settle "$DB"
TAKT_PG_CONNINFO=$DB start_bg "$WORK/taktd.log" "$TAKTD" --foreground --config "$WORK/taktd.yaml"
taktd_pid=$!
wait_ready "http://127.0.0.1:$port"

# taktd's backends, once all of its connections are up.
backends=""
for _ in $(seq 100); do
        backends=$(sql -At -d "$DB" -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity
                WHERE application_name LIKE 'taktd-%'")
        [[ $(wc -w <<<"$backends") -ge 5 ]] && break
        sleep 0.1
done
read -ra backend_pids <<<"$backends"

# cpu_ticks PID...: utime + stime of every thread of the PIDs.
cpu_ticks() {
        local pid
        for pid in "$@"; do
                cat /proc/"$pid"/task/*/stat 2>/dev/null || true
        done | awk '{t += $14 + $15} END {print t + 0}'
}
main_ticks() { awk '{print $14 + $15}' "/proc/$taktd_pid/task/$taktd_pid/stat"; }
# metric SCRAPE NAME FILTER: sum of NAME's samples in SCRAPE (the text of
# /metrics) whose labels match FILTER.
metric() {
        awk -v n="$2" -v f="$3" '$1 ~ "^" n "[{ ]" && $1 ~ f {s += $NF} END {printf "%.0f", s}' <<<"$1"
}
scrape() { curl -s "http://127.0.0.1:$port/metrics"; }
accepted() { metric "$1" takt_ingest_messages_total 'result="accepted"'; }

echo "soak: c=$C for ${DURATION}s, rows every ${INTERVAL}s, deliveries $([[ $HELD == 1 ]] && echo held || echo running);" \
        "backends: $backends"
start_bg "$WORK/loadgen.log" "$LOADGEN" -u "http://127.0.0.1:$port/v1/ingest/erp" -t bench-erp \
        -c "$C" -d "$DURATION" -w 0
loadgen_pid=$!
printf '%6s %8s %8s %8s %7s %9s\n' t_s msg/s main_us pg_us rss_mb pending
hz=$(getconf CLK_TCK)
n0=$(accepted "$(scrape)") m0=$(main_ticks) p0=$(cpu_ticks "${backend_pids[@]}") first="" last=""
for ((t = INTERVAL; t <= DURATION; t += INTERVAL)); do
        sleep "$INTERVAL"
        metrics=$(scrape)
        n1=$(accepted "$metrics") m1=$(main_ticks) p1=$(cpu_ticks "${backend_pids[@]}")
        row=$(awk -v t="$t" -v dn=$((n1 - n0)) -v dm=$((m1 - m0)) -v dp=$((p1 - p0)) \
                -v iv="$INTERVAL" -v hz="$hz" -v rss="$(awk '/VmRSS/ {print $2}' "/proc/$taktd_pid/status")" \
                -v pend="$(metric "$metrics" takt_outbox_messages 'state="pending"')" \
                'BEGIN {n = dn > 0 ? dn : 1
                        printf "%6d %8.0f %8.0f %8.0f %7.0f %9d\n", t, dn / iv, dm * 1e6 / hz / n,
                               dp * 1e6 / hz / n, rss / 1024, pend}')
        echo "$row"
        last=$(awk '{print $3}' <<<"$row")
        first=${first:-$last}
        n0=$n1 m0=$m1 p0=$p1
done
stop_pid "$loadgen_pid"
echo "main loop per message: first interval $first us, last $last us ($(awk -v a="$first" -v b="$last" \
        'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}')x)"
stop_pid "$taktd_pid"
