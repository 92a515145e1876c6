#!/bin/sh
# pg-start.sh — start the harness's PostgreSQL again after pg-stop.sh (same
# port and socket directory: they live in the cluster's postgresql.auto.conf).
set -eu
: "${TAKT_PG_DATADIR:?run under tests/harness/with-postgres.sh}"
TAKT_PG_BIN=${TAKT_PG_BIN:-/usr/lib/postgresql/15/bin}
log=${TAKT_PG_LOG:-/dev/null}
if [ "$(id -u)" -eq 0 ]; then
        exec runuser -u postgres -- "$TAKT_PG_BIN/pg_ctl" -D "$TAKT_PG_DATADIR" -l "$log" -w -t 30 start
fi
exec "$TAKT_PG_BIN/pg_ctl" -D "$TAKT_PG_DATADIR" -l "$log" -w -t 30 start
