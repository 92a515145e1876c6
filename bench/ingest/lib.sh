# bench/ingest/lib.sh — shell helpers shared by the benchmarks' run.sh
# scripts (sourced, not run). The sourcing script sets WORK (a scratch
# directory) before it, and ROOT and DB before write_taktd_config; every
# process started with start_bg is remembered in PIDS and stopped by PID,
# and WORK removed, on exit.
# shellcheck shell=bash
PIDS=()

cleanup() {
        for pid in "${PIDS[@]}"; do
                kill -TERM "$pid" 2>/dev/null || true
        done
        for pid in "${PIDS[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$WORK"
}
trap cleanup EXIT

# with_db CONNINFO DBNAME: the same server, another database (URI or key=value).
with_db() {
        python3 - "$1" "$2" <<'PY'
import re, sys, urllib.parse
c, db = sys.argv[1], sys.argv[2]
if re.match(r"^postgres(ql)?://", c):
    p = urllib.parse.urlsplit(c)
    print(urllib.parse.urlunsplit(p._replace(path="/" + db)))
else:
    print(f"{c} dbname={db}")
PY
}

# sql ARGS...: psql without notices.
sql() {
        PGOPTIONS='-c client_min_messages=warning' psql -X -q "$@"
}

# settle DB: CHECKPOINT, then sync: the next cell starts with no dirty data
# in the page cache. Without it a cell pays for the one before it: the kernel
# writes pages back once they are 30 s old (vm.dirty_expire_centisecs), and
# that burst slows the WAL flush every commit waits for. Seen as a 0.1-0.6 s
# stall of every 202 ~10 s into the delivery bench's Kafka row, 30 s after
# the HTTP rows (perf sched: kworker writeback, PostgreSQL in D state); gone
# with a settle before the row.
settle() {
        sql -d "$1" -c CHECKPOINT
        sync
}

free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# taktd_files: the port taktd will listen on, and its token files.
taktd_files() {
        port=$(free_port)
        printf 'bench-admin\n' >"$WORK/admin.token"
        printf 'bench-erp\n' >"$WORK/erp.token"
        printf 'bench-mes\n' >"$WORK/mes.token"
}

# start_sink: a takt-bare-server ($BARE) for the deliveries; sets sink
# (host:port) and sink_pid.
# shellcheck disable=SC2034 # sink and sink_pid are what it returns
start_sink() {
        local sink_port
        sink_port=$(free_port)
        start_bg "$WORK/sink.log" "$BARE" "$sink_port"
        sink_pid=$!
        sink=127.0.0.1:$sink_port
}

# write_taktd_config SINK [DB]: $WORK/taktd.yaml listening on $port, with
# both destinations at http://SINK, on DB (default $DB); plant DE01 routes
# work_order.released to both (the benchmarks' two-destination setup).
write_taktd_config() {
        cat >"$WORK/taktd.yaml" <<EOF
listen: {address: 127.0.0.1, port: $port}
admin: {token_file: admin.token}
postgres: {conninfo: "${2:-$DB}", migrate: manual}
dialects_dir: "$ROOT/conf/dialects"
kafka: {brokers: embedded}
sources:
  erp: {kind: erp, dialect: canonical, token_file: erp.token}
  mes-de01: {kind: mes, dialect: canonical, plant: DE01, token_file: mes.token}
destinations:
  mes-de01: {type: http, url: "http://$1/mes", dialect: canonical, max_in_flight: 64}
  archive: {type: http, url: "http://$1/archive", dialect: canonical, max_in_flight: 64}
plants:
  DE01:
    routes:
      "work_order.released": [mes-de01, archive]
EOF
}

# start_bg LOG CMD...: start CMD in the background, remember its PID in $!.
start_bg() {
        local log=$1
        shift
        "$@" >"$log" 2>&1 &
        PIDS+=($!)
}

# stop_pid PID: SIGTERM and wait.
stop_pid() {
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}

# wait_http URL: until something answers (any status), 30 s at most.
wait_http() {
        for _ in $(seq 300); do
                [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") != 000 ]] && return 0
                sleep 0.1
        done
        echo "bench: nothing answers at $1" >&2
        return 1
}

# wait_ready URL: until taktd's /readyz answers 200 (PostgreSQL reachable and
# migrated), 30 s at most: a run that starts earlier counts 503s as errors.
wait_ready() {
        for _ in $(seq 300); do
                [[ $(curl -s -o /dev/null -w '%{http_code}' "$1/readyz") == 200 ]] && return 0
                sleep 0.1
        done
        echo "bench: $1 never became ready" >&2
        return 1
}

# field NAME LINE: value of NAME=... in a loadgen result line.
field() {
        sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2"
}

