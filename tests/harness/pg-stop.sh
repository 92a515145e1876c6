#!/bin/sh
# pg-stop.sh [MODE] — stop the harness's PostgreSQL so a test can watch the
# daemon lose the database. MODE is pg_ctl's shutdown mode: fast (the
# default: sessions are terminated, a clean shutdown) or immediate (every
# process is killed; the next start runs crash recovery, as after a power
# cut of the server process). Needs TAKT_PG_DATADIR and TAKT_PG_BIN from
# with-postgres.sh.
set -eu
: "${TAKT_PG_DATADIR:?run under tests/harness/with-postgres.sh}"
TAKT_PG_BIN=${TAKT_PG_BIN:-/usr/lib/postgresql/15/bin}
mode=${1:-fast}
if [ "$(id -u)" -eq 0 ]; then
        exec runuser -u postgres -- "$TAKT_PG_BIN/pg_ctl" -D "$TAKT_PG_DATADIR" -m "$mode" -w stop
fi
exec "$TAKT_PG_BIN/pg_ctl" -D "$TAKT_PG_DATADIR" -m "$mode" -w stop
