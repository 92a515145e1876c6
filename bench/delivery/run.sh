#!/usr/bin/env bash
# bench/delivery/run.sh — the delivery benchmark in one go; prints one table.
#
# One taktd (Release) against a throwaway PostgreSQL; plant DE01 routes
# work_order.* to an HTTP destination (takt-dbench-receiver on loopback),
# plant DE02 to a Kafka destination (taktd's embedded mock cluster, read by
# takt-dbench-kafka while the run goes on). Rows:
#   e2e-http/e2e-kafka @RATE  open loop at RATE msg/s (takt-loadgen -r, from
#            each message's intended send time): accepted (202) -> delivered
#            (arrival at the receiver / the consumer) p50/p99 from raw samples
#   max-http/max-kafka  closed loop at MAX_CONC connections: the ingest rate
#            with delivery on, the delivered rate, the tail (last arrival -
#            last 202) and accepted -> delivered p50/p99
#   drain-http  BACKLOG messages ingested (batches of 1000) while the receiver
#            is down, then the receiver started: delivered msg/s from the first
#            to the last arrival (and from the receiver's start)
#   pgbench-claim-mark  pg_claim_mark.sql (the same page query and outcome
#            UPDATE + trace INSERT, 100 rows a turn, one client) over a copy of
#            the drained outbox rows: rows/s
# A metrics line per row cross-checks with takt_end_to_end_seconds (scraped
# before and after; bucket bounds, not samples).
#
# Every row starts settled (bench/ingest/lib.sh settle: CHECKPOINT, sync),
# so no row pays for the page-cache writeback of the one before it.
#
# Builds a Release tree (build-dbench/), then re-runs itself inside
# tests/harness/with-postgres.sh. Every process it starts is stopped by PID.
# Knobs (environment): RATES (open-loop msg/s, default "1000"; "" for
# none), DURATION (s per open-loop row, default 30), WARMUP (s, default 2),
# MAX_CONC (default 64), MAX_DURATION (s, default 20), BACKLOG (default
# 200000), DRAIN_TIMEOUT (s, default 600), KAFKA (1/0, default 1).
# Don't run it while the machine is busy: the numbers mean nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/bench/delivery
BUILD=${TAKT_BENCH_BUILD:-$ROOT/build-dbench}
RATES=${RATES-1000}
DURATION=${DURATION:-30}
WARMUP=${WARMUP:-2}
MAX_CONC=${MAX_CONC:-64}
MAX_DURATION=${MAX_DURATION:-20}
BACKLOG=${BACKLOG:-200000}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-600}
KAFKA=${KAFKA:-1}
TARGETS=(taktd takt-loadgen takt-dbench-receiver takt-dbench-kafka takt-dbench-join
        takt-dbench-batch)

if [[ ${1:-} != --inner ]]; then
        bash "$ROOT/scripts/install-deps.sh"
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build "$BUILD" -j2 -t "${TARGETS[@]}"
        # a durable server: the numbers are for messages that survive a crash
        TAKT_PG_FSYNC=on exec bash "$ROOT/tests/harness/with-postgres.sh" bash "$HERE/run.sh" --inner
fi

: "${TAKT_PG_CONNINFO:?run.sh --inner needs TAKT_PG_CONNINFO (tests/harness/with-postgres.sh)}"
LOADGEN=$BUILD/bench/ingest/takt-loadgen
RECEIVER=$BUILD/bench/delivery/takt-dbench-receiver
KREADER=$BUILD/bench/delivery/takt-dbench-kafka
JOIN=$BUILD/bench/delivery/takt-dbench-join
BATCH=$BUILD/bench/delivery/takt-dbench-batch
TAKTD=$BUILD/taktd
WORK=$(mktemp -d /tmp/takt-dbench.XXXXXX)
chmod 755 "$WORK"
ROWS=()
# PIDS, cleanup (trap EXIT), with_db, sql, free_port, start_bg, stop_pid,
# wait_http, wait_ready, field, settle, taktd_files
source "$ROOT/bench/ingest/lib.sh"

mono() { python3 -c 'import time; print(f"{time.monotonic():.6f}")'; }

# row NAME RATE P50 P99 NOTES: one line of the table.
row() { ROWS+=("$1|$2|$3|$4|$5"); }

# scrape FILE: taktd's /metrics.
scrape() { curl -s "http://127.0.0.1:$port/metrics" >"$1"; }

# metrics_note DEST BEFORE AFTER: count and p50/p99 bucket bounds of the
# histogram's increase between two scrapes.
metrics_note() {
        python3 - "$@" <<'PY'
import re, sys
dest, before, after = sys.argv[1:4]
def read(path):
    b, n = {}, 0
    for line in open(path):
        m = re.match(r'takt_end_to_end_seconds_(bucket|count)\{([^}]*)\} (\S+)', line)
        if not m or f'destination="{dest}"' not in m.group(2):
            continue
        if m.group(1) == "count":
            n = float(m.group(3))
        else:
            le = re.search(r'le="([^"]+)"', m.group(2)).group(1)
            b[float(le)] = float(m.group(3))
    return b, n
b0, n0 = read(before)
b1, n1 = read(after)
n = n1 - n0
def bound(q):
    for le in sorted(b1):
        if b1[le] - b0.get(le, 0) >= q * n:
            return "inf" if le == float("inf") else f"{le * 1000:g}ms"
    return "-"
print(f"metrics: n={n:.0f} p50<={bound(0.5)} p99<={bound(0.99)}" if n > 0 else "metrics: n=0")
PY
}

# wait_count CMD N TIMEOUT: until CMD prints a number >= N; false on timeout.
wait_count() {
        local deadline=$((SECONDS + $3)) got
        while ((SECONDS < deadline)); do
                got=$(eval "$1" 2>/dev/null || true)
                [[ ${got:-0} -ge $2 ]] && return 0
                sleep 0.2
        done
        echo "bench: only ${got:-0} of $2 delivered within $3 s" >&2
        return 1
}

# start_sink KIND PREFIX: the receiver (http) or the Kafka reader, recording
# run PREFIX to $WORK/arr-PREFIX; sets SINK_PID and COUNT_CMD.
start_sink() {
        local out=$WORK/arr-$2
        if [[ $1 == http ]]; then
                start_bg "$WORK/sink-$2.log" "$RECEIVER" "$sink_port" "$2" "$out"
                SINK_PID=$!
                wait_http "http://127.0.0.1:$sink_port/count"
                COUNT_CMD="curl -s http://127.0.0.1:$sink_port/count"
        else
                start_bg "$WORK/sink-$2.log" "$KREADER" "$bootstrap" dbench "$2" "$out"
                SINK_PID=$!
                COUNT_CMD="cat $out.count"
                # caught up with the topic: assigned, every partition at its end
                wait_count "[[ -f $out.count ]] && echo 1" 1 30 || {
                        tail -n 5 "$WORK/sink-$2.log" >&2
                        return 1
                }

        fi
}

# post_batch PREFIX PLANT FIRST COUNT: one ingest POST of COUNT messages.
post_batch() {
        "$BATCH" "$@" >"$WORK/batch.json"
        local code
        code=$(curl -s -o "$WORK/batch.out" -w '%{http_code}' -H 'Authorization: Bearer bench-erp' \
                -H 'Content-Type: application/json' --data-binary @"$WORK/batch.json" \
                "http://127.0.0.1:$port/v1/ingest/erp")
        if [[ $code != 202 ]]; then
                echo "bench: batch $* answered $code: $(head -c 200 "$WORK/batch.out")" >&2
                return 1
        fi
}

# generate NAME KIND PREFIX LOADGEN-ARGS...: one load-generator run against
# plant DE01 (http) or DE02 (kafka), waits for every accepted message at the
# sink, joins, adds a row.
generate() {
        local name=$1 kind=$2 prefix=$3
        shift 3
        local plant=DE01 dest=mes-de01 out joined note
        [[ $kind == kafka ]] && plant=DE02 dest=events
        settle "$DB"
        start_sink "$kind" "$prefix"
        scrape "$WORK/m0"
        out=$("$LOADGEN" -u "http://127.0.0.1:$port/v1/ingest/erp" -t bench-erp -p "$plant" \
                -P "$prefix" -o "$WORK/acc-$prefix" "$@" 2>"$WORK/loadgen.err") || true
        local ok
        ok=$(field ok "$out")
        wait_count "$COUNT_CMD" "${ok:-0}" 60 || true
        scrape "$WORK/m1"
        stop_pid "$SINK_PID"
        if [[ -z $out ]]; then
                row "$name" failed - - "$(head -c 80 "$WORK/loadgen.err" | tr '\n' ' ')"
                return
        fi
        joined=$("$JOIN" "$WORK/arr-$prefix" "$WORK/acc-$prefix") || true
        note=$(metrics_note "$dest" "$WORK/m0" "$WORK/m1")
        row "$name" "in $(field msgs_per_s "$out") out $(field delivered_per_s "$joined")" \
                "$(field a2d_p50_ms "$joined")" "$(field a2d_p99_ms "$joined")" \
                "i2d p50/p99 $(field i2d_p50_ms "$joined")/$(field i2d_p99_ms "$joined") ms; matched $(field matched "$joined")/$(field accepted "$joined") tail $(field tail_s "$joined")s; 202 p99 $(field p99_ms "$out") ms; $note"
}

ADMIN_DB=$(with_db "$TAKT_PG_CONNINFO" postgres)
sql -d "$ADMIN_DB" -c "DROP DATABASE IF EXISTS takt_dbench" -c "CREATE DATABASE takt_dbench"
DB=$(with_db "$TAKT_PG_CONNINFO" takt_dbench)

sink_port=$(free_port)
taktd_files
cat >"$WORK/taktd.yaml" <<EOF
listen: {address: 127.0.0.1, port: $port}
admin: {token_file: admin.token}
postgres: {conninfo: "$DB", migrate: manual}
dialects_dir: "$ROOT/conf/dialects"
kafka: {brokers: embedded, topic_prefix: ""}
sources:
  erp: {kind: erp, dialect: canonical, token_file: erp.token}
destinations:
  mes-de01:
    type: http
    url: "http://127.0.0.1:$sink_port/mes"
    dialect: canonical
    max_in_flight: 64
    retry: {initial: 100ms, max: 1s, max_attempts: 1000000}
    breaker: {failures: 5, open: 1s}
  events: {type: kafka, topic: dbench}
plants:
  DE01:
    routes:
      "work_order.released": [mes-de01]
  DE02:
    routes:
      "work_order.released": [events]
EOF
TAKT_PG_CONNINFO=$DB "$TAKTD" --migrate --config "$WORK/taktd.yaml"
TAKT_PG_CONNINFO=$DB start_bg "$WORK/taktd.log" "$TAKTD" --foreground --config "$WORK/taktd.yaml"
taktd_pid=$!
wait_ready "http://127.0.0.1:$port"
bootstrap=$(sed -nE 's/.*event=kafka\.embedded bootstrap=([^ ]+).*/\1/p' "$WORK/taktd.log" | head -n 1)
if [[ $KAFKA == 1 && -z $bootstrap ]]; then
        echo "bench: no event=kafka.embedded in taktd's log; Kafka rows skipped" >&2
        KAFKA=0
fi
kinds=(http)
if [[ $KAFKA == 1 ]]; then
        kinds+=(kafka)
        post_batch prime DE02 0 1 # creates the topic, so the reader can join at once
fi

echo "bench: open loop at [${RATES}] msg/s for ${DURATION}s (${WARMUP}s warm-up), closed" \
        "loop c=${MAX_CONC} for ${MAX_DURATION}s, backlog ${BACKLOG}"

# --- (1) end to end: fixed rates, then as fast as ingest goes ------------------
for kind in "${kinds[@]}"; do
        for rate in $RATES; do
                generate "e2e-$kind@$rate" "$kind" "r${rate}${kind}" -r "$rate" -c 32 \
                        -d "$DURATION" -w "$WARMUP"
        done
        generate "max-$kind" "$kind" "max${kind}" -c "$MAX_CONC" -d "$MAX_DURATION" -w "$WARMUP"
done

# --- (2) backlog drain after an outage of the receiver ---------------------------
prefix=drain
sent=0
while ((sent < BACKLOG)); do
        n=$((BACKLOG - sent < 1000 ? BACKLOG - sent : 1000))
        post_batch "$prefix" DE01 "$sent" "$n"
        sent=$((sent + n))
done
pending=$(sql -d "$DB" -At -c "SELECT count(*) FROM outbox WHERE state = 'pending'")
echo "bench: backlog of $pending pending messages; starting the receiver"
settle "$DB"
scrape "$WORK/m0"
t_start=$(mono)
start_sink http "$prefix"
drained=ok
wait_count "$COUNT_CMD" "$BACKLOG" "$DRAIN_TIMEOUT" || drained="INCOMPLETE"
scrape "$WORK/m1"
stop_pid "$SINK_PID"
joined=$("$JOIN" "$WORK/arr-$prefix") || true
from_start=$(awk -v n="$(field arrived "$joined")" -v t0="$t_start" -v t1="$(field last "$joined")" \
        'BEGIN {printf "%.1f", (t1 > t0 ? n / (t1 - t0) : 0)}')
drain_rate=$(field delivered_per_s "$joined")
row drain-http "$drain_rate" - - "$drained: $(field arrived "$joined")/$BACKLOG; ${from_start} msg/s from the receiver's start; $(metrics_note mes-de01 "$WORK/m0" "$WORK/m1")"
stop_pid "$taktd_pid"
echo "bench: taktd's last warnings and errors:"
grep -E 'level=(warn|error)' "$WORK/taktd.log" | grep -vE 'event=(store.not_ready|delivery.breaker_open)' |
        tail -n 5 || true

# --- (2b) pgbench: the same claim-and-mark SQL over a copy ------------------------
sql -d "$DB" <<SQL
CREATE TABLE bench_outbox (LIKE outbox INCLUDING ALL);
CREATE TABLE bench_trace (LIKE trace INCLUDING ALL);
INSERT INTO bench_outbox
SELECT id, destination, plant, work_order, lane, type, message_id, correlation_id, envelope,
       'pending', 0, NULL, NULL, created_at, NULL
FROM outbox WHERE message_id LIKE 'lg-$prefix-%';
ANALYZE bench_outbox;
SQL
copied=$(sql -d "$DB" -At -c "SELECT count(*) FROM bench_outbox")
turns=$(((copied + 99) / 100))
settle "$DB"
pgb=$(pgbench -n -f "$HERE/pg_claim_mark.sql" -c 1 -j 1 -t "$turns" -D last=0 "$DB" 2>&1) || {
        row pgbench-claim-mark failed - - "$(tail -n 1 <<<"$pgb")"
        turns=0
}
if ((turns > 0)); then
        tps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$pgb" | head -n 1)
        left=$(sql -d "$DB" -At -c "SELECT count(*) FROM bench_outbox WHERE state = 'pending'")
        pg_rate=$(awk -v t="$tps" -v n="$copied" -v k="$turns" 'BEGIN {printf "%.1f", t * n / k}')
        row pgbench-claim-mark "$pg_rate" - - "$copied rows, $turns turns of 100, tx/s=$tps, $left left pending"
        ratio=$(awk -v a="$drain_rate" -v b="$pg_rate" 'BEGIN {printf "%.0f", (b > 0 ? 100 * a / b : 0)}')
fi

# --- the table -----------------------------------------------------------------
echo
printf '%-20s %-26s %9s %9s  %s\n' row 'msg/s' p50_ms p99_ms notes
for r in "${ROWS[@]}"; do
        IFS='|' read -r name rate p50 p99 notes <<<"$r"
        printf '%-20s %-26s %9s %9s  %s\n' "$name" "$rate" "$p50" "$p99" "$notes"
done
echo
echo "p50/p99 = accepted (202 at the generator) -> delivered (arrival at the receiver or"
echo "consumer), raw samples, nearest rank; i2d = from the intended send time."
[[ -n ${ratio:-} ]] && echo "drain = ${ratio}% of the pgbench claim-and-mark row rate (goal: >= 50%)."
exit 0
