"""test_ingest_crash — accepted means durable (contract §1 step 4, §6).

Concurrent clients send thousands of messages; taktd is killed with SIGKILL
mid-way and restarted. Every message answered 202 must be in PostgreSQL
exactly once (inbox, work order, outbox rows), every message answered with
an error must not be, and resending everything after the restart must not
create a second copy of anything."""
import signal
import threading
import time

import canon_msgs as m
from e2e_util import wait_ready
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
