#!/bin/sh
# pg-stop.sh — stop the harness's PostgreSQL (fast shutdown: sessions are
# terminated) so a test can watch the daemon lose the database. Needs
# TAKT_PG_DATADIR and TAKT_PG_BIN from with-postgres.sh.
set -eu
: "${TAKT_PG_DATADIR:?run under tests/harness/with-postgres.sh}"
TAKT_PG_BIN=${TAKT_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ "$(id -u)" -eq 0 ]; then
        exec runuser -u postgres -- "$TAKT_PG_BIN/pg_ctl" -D "$TAKT_PG_DATADIR" -m fast -w stop
fi
exec "$TAKT_PG_BIN/pg_ctl" -D "$TAKT_PG_DATADIR" -m fast -w stop
