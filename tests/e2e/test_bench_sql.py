"""test_bench_sql — the ingest benchmark's PostgreSQL-only ceiling
(bench/ingest/pg_takt.sql) still writes no more than taktd does.

The benchmark compares taktd with pgbench writing "taktd's rows" and nothing
else. That comparison is only honest while the script runs against the
current schema and, per message, writes at most the rows taktd itself
writes. This test accepts and delivers one message through a real taktd
(routed as in the benchmark: work_order.released to two HTTP destinations),
runs the script with pgbench on a second database of the same schema, and
compares one fully processed message of each, table by table."""
import subprocess

import pytest

import canon_msgs as m
from e2e_util import wait_ready, wait_until
from takt_e2e.pg import psql

BENCH_ROUTES = """\
sources:
  erp: {{kind: erp, dialect: canonical, token_file: erp.token}}
  mes-de01: {{kind: mes, dialect: canonical, plant: DE01, token_file: mes-de01.token}}
destinations:
  mes-de01: {{type: http, url: "{sink}/mes", dialect: canonical}}
  archive: {{type: http, url: "{sink}/archive", dialect: canonical}}
plants:
  DE01:
    routes:
      "work_order.released": [mes-de01, archive]
"""


def rows_of(conninfo, message_id, work_order, correlation_id):
    """One message's rows: counts per table and the states they ended in."""
    q = lambda sql: psql(conninfo, sql)  # noqa: E731
    return {
        "inbox": int(q(f"SELECT count(*) FROM inbox WHERE message_id = '{message_id}'")),
        "work_order": q(f"SELECT state FROM work_orders WHERE work_order = '{work_order}'"),
        "outbox": q(f"SELECT string_agg(state, ',' ORDER BY state) FROM outbox "
                    f"WHERE work_order = '{work_order}'"),
        "trace": int(q(f"SELECT count(*) FROM trace WHERE correlation_id = '{correlation_id}'")),
    }


@pytest.fixture
def taktd_rows(taktd, receiver, database):
    """The rows of one message taktd accepted and delivered to both destinations."""
    d = wait_ready(taktd(body=BENCH_ROUTES.format(sink=receiver.url)))
    msg = m.released(wo="BENCH-1")
    r = d.ingest("erp", msg)
    assert r.status == 202, r
    correlation = r.json["results"][0]["correlation_id"]

    def settled():
        rows = rows_of(database, msg["id"], "BENCH-1", correlation)
        return rows if rows["work_order"] == "dispatched" and \
            rows["outbox"] == "delivered,delivered" else None
    return wait_until(settled, "both deliveries and the dispatched state")


@pytest.fixture
def pgbench_rows(taktd, pg, source_dir, request):
    """The rows of one message pg_takt.sql wrote through its whole life."""
    name = f"e2e_bench_sql_{request.node.name}"[:63]
    conninfo = pg.create_database(name)
    request.addfinalizer(lambda: pg.drop_database(name))
    taktd(conninfo=conninfo, start=False).migrate()
    psql(conninfo, "CREATE SEQUENCE pg_takt_group")
    # five groups of 50: the fifth delivers and dispatches the first (base 50)
    script = source_dir / "bench" / "ingest" / "pg_takt.sql"
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-f", str(script), "-D", "life=1",
                          "-D", "size=50", "-c", "1", "-t", "5", conninfo], capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert "number of failed transactions: 0" in out.stdout, out.stdout
    return rows_of(conninfo, "pgb-50", "WO-pgb-50", "pgb-c-50")


def test_pgbench_ceiling_writes_no_more_than_taktd(taktd_rows, pgbench_rows):
    assert pgbench_rows["inbox"] == taktd_rows["inbox"] == 1
    assert pgbench_rows["work_order"] == taktd_rows["work_order"] == "dispatched"
    assert pgbench_rows["outbox"] == taktd_rows["outbox"] == "delivered,delivered"
    assert 1 <= pgbench_rows["trace"] <= taktd_rows["trace"], (pgbench_rows, taktd_rows)
