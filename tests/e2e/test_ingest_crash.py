"""test_ingest_crash — accepted means durable (contract §1 step 4, §6).

Concurrent clients send thousands of messages; taktd is killed with SIGKILL
mid-way and restarted. Every message answered 202 must be in PostgreSQL
exactly once (inbox, work order, outbox rows), every message answered with
an error must not be, and resending everything after the restart must not
create a second copy of anything. Then the same with PostgreSQL killed
instead (immediate shutdown, crash recovery): nothing accepted is lost, and
everything stored is still delivered."""
import signal
import threading

import canon_msgs as m
from e2e_util import pg_ctl, wait_ready, wait_until
from takt_e2e.daemon import default_body
from takt_e2e.pg import psql

CLIENTS = 16
PER_CLIENT = 400


class Senders:
    """clients threads, each sending per_client work_order.released messages
    (id "<prefix>-<n>-<i>", work order "<wo>-<n>-<i>") one after another,
    recording each answer's status (None: no answer, connection broken)."""

    def __init__(self, d, clients, per_client, prefix, wo):
        self.answers = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(d, n, per_client, prefix, wo))
                        for n in range(clients)]
        for t in self.threads:
            t.start()

    def _client(self, d, n, per_client, prefix, wo):
        for i in range(per_client):
            if self.stopping.is_set():
                return
            msg = m.released(wo=f"{wo}-{n}-{i}", id=f"{prefix}-{n}-{i}")
            try:
                status = d.ingest("erp", msg).status
            except OSError:
                status = None
            with self.lock:
                self.answers[msg["id"]] = status

    def accepted(self):
        with self.lock:
            return sum(1 for s in self.answers.values() if s == 202)

    def join(self, stop=False):
        if stop:
            self.stopping.set()
        for t in self.threads:
            t.join(120)
        assert not any(t.is_alive() for t in self.threads)
        return self.answers




def test_sigkill_loses_nothing_accepted_and_stores_nothing_refused(taktd, receiver, database):
    d = taktd(body=default_body(receiver.url))
    wait_ready(d)
    senders = Senders(d, CLIENTS, PER_CLIENT, "crash", "K")
    # Kill once a good share is accepted, while clients are still sending.
    wait_until(lambda: senders.accepted() >= CLIENTS * PER_CLIENT // 3,
               "a third accepted before the kill", timeout=60, interval=0.01)
    d.signal(signal.SIGKILL)
    d.proc.wait(10)
    answers = senders.join(stop=True)

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


def test_postgres_crash_loses_nothing_accepted_and_delivers_everything(taktd, receiver, database):
    """PostgreSQL killed mid-load (immediate shutdown, crash recovery on
    start): every 202 survives; a sender that resends what got no 202 ends
    with each message stored exactly once; and every stored message reaches
    the MES at least once, with one Idempotency-Key, although the delivery
    outcomes are committed asynchronously and the crash may lose the last
    of them."""
    d = wait_ready(taktd(body=default_body(receiver.url)))
    senders = Senders(d, 8, 250, "pgcrash", "PGC")
    wait_until(lambda: senders.accepted() >= 300, "300 accepted before the crash", timeout=60)
    pg_ctl("stop", "immediate")
    pg_ctl("start")
    answers = senders.join()

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
