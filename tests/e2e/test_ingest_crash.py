"""test_ingest_crash — accepted means durable (contract §1 step 4, §6).

Concurrent clients send thousands of messages; taktd is killed with SIGKILL
mid-way and restarted. Every message answered 202 must be in PostgreSQL
exactly once (inbox, work order, outbox rows), every message answered with
an error must not be, and resending everything after the restart must not
create a second copy of anything. Then the same with PostgreSQL killed
instead (immediate shutdown, crash recovery): nothing accepted is lost, and
everything stored is still delivered."""
import os
import signal
import subprocess
import threading
import time

import canon_msgs as m
from e2e_util import wait_ready, wait_until
from takt_e2e.daemon import default_body
from takt_e2e.pg import psql

CLIENTS = 16
PER_CLIENT = 400




def test_sigkill_loses_nothing_accepted_and_stores_nothing_refused(taktd, receiver, database):
    d = taktd(body=default_body(receiver.url))
    wait_ready(d)
    answers = {}  # message id -> status (None: no answer, connection broken)
    lock = threading.Lock()
    stop = threading.Event()

    def client(n):
        for i in range(PER_CLIENT):
            if stop.is_set():
                return
            msg = m.released(wo=f"K-{n}-{i}", id=f"crash-{n}-{i}")
            try:
                status = d.ingest("erp", msg).status
            except OSError:
                status = None
            with lock:
                answers[msg["id"]] = status

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    # Kill once a good share is accepted, while clients are still sending.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            accepted = sum(1 for s in answers.values() if s == 202)
        if accepted >= CLIENTS * PER_CLIENT // 3:
            break
        time.sleep(0.01)
    d.signal(signal.SIGKILL)
    d.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(60)

    accepted = sorted(k for k, s in answers.items() if s == 202)
    refused = sorted(k for k, s in answers.items() if s is not None and s != 202)
    assert len(accepted) >= 1000, f"only {len(accepted)} accepted before the kill"
    assert all(s in (202, 503, None) for s in answers.values()), set(answers.values())

    stored = set(psql(database, "SELECT message_id FROM inbox WHERE source = 'erp' "
                                "AND message_id LIKE 'crash-%'").split())
    missing = [k for k in accepted if k not in stored]
    assert not missing, f"{len(missing)} accepted messages lost, e.g. {missing[:5]}"
    assert not [k for k in refused if k in stored], "a refused message was stored"
    # Each accepted release: one work order, one outbox row per destination.
    assert int(psql(database, "SELECT count(*) FROM work_orders WHERE work_order LIKE 'K-%'")) \
        == len(stored)
    per_msg = psql(database, "SELECT DISTINCT count(*) FROM outbox WHERE message_id LIKE "
                             "'crash-%' AND type = 'work_order.released' GROUP BY message_id")
    assert per_msg.split() == ["2"], per_msg

    # Restart and resend everything: accepted ones are duplicates, nothing doubles.
    d2 = taktd(body=default_body(receiver.url), migrate=False)
    wait_ready(d2)
    for key in accepted[:200]:
        n, i = key.split("-")[1:]
        r = d2.ingest("erp", m.released(wo=f"K-{n}-{i}", id=key))
        assert r.status == 200 and r.json["status"] == "duplicate", r
    assert int(psql(database, "SELECT count(*) FROM outbox WHERE message_id LIKE 'crash-%' "
                             "AND type = 'work_order.released'")) \
        == 2 * len(stored)


def harness(script, *args):
    path = os.path.join(os.environ["TAKT_SOURCE_DIR"], "tests", "harness", script)
    subprocess.run(["sh", path, *args], check=True, timeout=60, stdin=subprocess.DEVNULL)


def test_postgres_crash_loses_nothing_accepted_and_delivers_everything(taktd, receiver, database):
    """PostgreSQL killed mid-load (immediate shutdown, crash recovery on
    start): every 202 survives; a sender that resends what got no 202 ends
    with each message stored exactly once; and every stored message reaches
    the MES at least once, with one Idempotency-Key, although the delivery
    outcomes are committed asynchronously and the crash may lose the last
    of them."""
    d = wait_ready(taktd(body=default_body(receiver.url)))
    clients, per_client = 8, 250
    answers = {}  # message id -> status (None: no answer)
    lock = threading.Lock()

    def client(n):
        for i in range(per_client):
            msg = m.released(wo=f"PGC-{n}-{i}", id=f"pgcrash-{n}-{i}")
            try:
                status = d.ingest("erp", msg).status
            except OSError:
                status = None
            with lock:
                answers[msg["id"]] = status

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    def n_accepted():
        with lock:
            return sum(1 for s in answers.values() if s == 202)
    wait_until(lambda: n_accepted() >= 300, "300 accepted before the crash", timeout=60)
    harness("pg-stop.sh", "immediate")
    harness("pg-start.sh")
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)

    accepted = {k for k, s in answers.items() if s == 202}
    assert all(s in (202, 503, None) for s in answers.values()), set(answers.values())
    assert any(s != 202 for s in answers.values()), "the crash refused nothing: no test"
    stored = set(psql(database, "SELECT message_id FROM inbox WHERE source = 'erp' "
                                "AND message_id LIKE 'pgcrash-%'").split())
    missing = sorted(accepted - stored)
    assert not missing, f"{len(missing)} accepted messages lost, e.g. {missing[:5]}"

    # The sender resends what got no 202: new, or a duplicate of a commit
    # whose answer the crash cut off. Then each message is stored once.
    wait_ready(d)
    for key in sorted(set(answers) - accepted):
        n, i = key.split("-")[1:]
        r = d.ingest("erp", m.released(wo=f"PGC-{n}-{i}", id=key))
        assert (r.status, r.json["status"]) in ((202, "accepted"), (200, "duplicate")), r
    assert psql(database, "SELECT count(*), count(DISTINCT message_id) FROM inbox "
                          "WHERE message_id LIKE 'pgcrash-%'") == \
        f"{len(answers)}|{len(answers)}"
    assert psql(database, "SELECT DISTINCT count(*) FROM outbox WHERE message_id LIKE "
                          "'pgcrash-%' AND type = 'work_order.released' "
                          "GROUP BY message_id") == "2"

    def delivered_ids():
        return {r.json["id"] for r in receiver.received("/mes-de01")}
    wait_until(lambda: set(answers) <= delivered_ids(), "every message delivered", timeout=60)
    keys = {}
    for r in receiver.received("/mes-de01"):
        keys.setdefault(r.json["id"], set()).add(r.headers["idempotency-key"])
    assert all(len(k) == 1 for k in keys.values()), "a message changed its Idempotency-Key"
    assert d.running()
