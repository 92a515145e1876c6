"""test_retention — the pruner (config retention:, docs/storage.md
"Retention") in the real daemon: delivered outbox messages, trace rows and
the inbox records of finished orders go once past their retention; failed
messages, work orders and an open order's inbox records stay, so a resend
to an open order stays a duplicate; takt_pruned_rows_total counts what
went; a reload to forever stops it."""
import re
import time

import pytest

import canon_msgs as m
from e2e_util import wait_ready, wait_until
from takt_e2e.daemon import ADMIN_TOKEN
from takt_e2e.pg import psql

RETENTION = "retention: {delivered: 1s, inbox: 3s, trace: 1s, interval: 200ms}\n"
FOREVER = "retention: {delivered: forever, inbox: forever, trace: forever, interval: 200ms}\n"


def body(sink):
    return f"""\
sources:
  erp: {{kind: erp, dialect: canonical, token_file: erp.token}}
destinations:
  mes-de01: {{type: http, url: "{sink}/mes-de01"}}
  archive: {{type: http, url: "{sink}/archive"}}
plants:
  DE01:
    routes:
      "work_order.released": [mes-de01, archive]
"""


def count(conninfo, sql):
    return int(psql(conninfo, sql))


def rows(conninfo, table, orders, where="true"):
    """Rows of the messages of these work orders (the module's tests share
    one database)."""
    keys = ", ".join(f"'{o}'" for o in orders)
    if table == "outbox":
        match = f"work_order IN ({keys})"
    elif table == "inbox":
        match = f"envelope->>'work_order' IN ({keys})"
    else:  # trace: by the correlation ids the inbox answered with
        match = ("correlation_id IN (SELECT o.correlation_id FROM outbox o"
                 f" WHERE o.work_order IN ({keys}) UNION SELECT i.correlation_id FROM inbox i"
                 f" WHERE i.envelope->>'work_order' IN ({keys}))")
    return count(conninfo, f"SELECT count(*) FROM {table} WHERE {match} AND {where}")


def pruned(daemon):
    text = daemon.get("/metrics").body.decode()
    return {t: float(v) for t, v in
            re.findall(r'^takt_pruned_rows_total\{table="(\w+)"\} (\S+)$', text, re.M)}


@pytest.fixture
def daemon(taktd, receiver):
    return wait_ready(taktd(body=body(receiver.url), extra=RETENTION))


def test_prunes_past_retention_and_keeps_what_is_open(daemon, receiver, database):
    assert pruned(daemon) == {"outbox": 0, "inbox": 0, "trace": 0}
    orders = ("RT-1", "RT-2")
    # The archive rejects (400: failed at once); the MES takes it.
    receiver.reply(400, 400, path="/archive")
    first, second = (m.released(wo=wo) for wo in orders)
    assert daemon.ingest("erp", first).status == 202
    assert daemon.ingest("erp", second).status == 202
    receiver.wait_for(2, path="/mes-de01")
    wait_until(lambda: rows(database, "outbox", orders, "state = 'failed'") == 2,
               "both archive postings failed")
    # Within the inbox's retention a resend is a duplicate.
    again = daemon.ingest("erp", first)
    assert again.status == 200 and again.json["status"] == "duplicate"

    # Delivered messages and the trace go after a second or so ...
    wait_until(lambda: rows(database, "outbox", orders) == 2, "the delivered messages pruned")
    wait_until(lambda: rows(database, "trace", orders) == 0, "the trace pruned")
    # ... the failed ones, the work orders and (for now) the inbox stay.
    assert rows(database, "outbox", orders, "state = 'failed'") == 2
    assert count(database, "SELECT count(*) FROM work_orders WHERE work_order LIKE 'RT-%'") == 2
    assert rows(database, "inbox", orders) == 2
    # RT-1 is cancelled, RT-2 stays open. After three seconds the inbox
    # records of the cancelled order go; those of the open one stay however
    # old, so that a resend is still a duplicate and never counts twice.
    assert daemon.ingest("erp", m.cancelled(wo="RT-1")).status == 202
    wait_until(lambda: rows(database, "inbox", orders[:1]) == 0, "the cancelled order's inbox")
    time.sleep(1)  # five more rounds
    assert rows(database, "inbox", orders[1:]) == 1
    again = daemon.ingest("erp", second)
    assert again.status == 200 and again.json["status"] == "duplicate", again
    # The cancelled order's release is no longer a duplicate but a release
    # of an order takt knows, at a revision it has: stale.
    late = daemon.ingest("erp", first)
    assert late.status == 200 and late.json["status"] == "stale", late

    counts = pruned(daemon)
    assert counts["outbox"] >= 2 and counts["inbox"] >= 2 and counts["trace"] >= 2, counts
    # A failed message can still be replayed.
    failed_id = psql(database, "SELECT min(id) FROM outbox WHERE state = 'failed'"
                     " AND work_order = 'RT-1'")
    assert daemon.request("POST", f"/v1/messages/{failed_id}/replay",
                          token=ADMIN_TOKEN).status == 200


def test_reload_to_forever_keeps_everything(daemon, receiver, database):
    daemon.reload(body=body(receiver.url), extra=FOREVER)
    daemon.wait_log("config.reloaded")
    orders = ("RT-3",)
    assert daemon.ingest("erp", m.released(wo="RT-3")).status == 202
    receiver.wait_for(2)
    wait_until(lambda: rows(database, "outbox", orders, "state = 'delivered'") == 2,
               "both delivered")
    before = pruned(daemon)
    # A dozen rounds later (interval 200ms), past every earlier retention,
    # nothing has gone.
    time.sleep(2.5)
    assert rows(database, "outbox", orders) == 2
    assert rows(database, "inbox", orders) == 1
    assert rows(database, "trace", orders) > 0
    assert pruned(daemon) == before
