# bench/ingest/lib.sh — shell helpers shared by the benchmarks' run.sh
# scripts (sourced, not run). The sourcing script sets WORK (a scratch
# directory) before it; every process started with start_bg is remembered in
# PIDS and stopped by PID, and WORK removed, on exit.
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

