"""test_delivery — delivery through the real daemon (contract §6, §4
messages/replay/trace, §7 --replay): HTTP headers, Kafka records read back
with kcat, retries with one Idempotency-Key, a failed message holding back
its lane only, replay by API and by command line, the trace, and SIGKILL
during delivery."""
import os
import signal
import time

import pytest

import canon_msgs as m
from e2e_util import wait_ready, wait_until
from takt_e2e import kafka
from takt_e2e.receiver import Reply


def body(sink, max_attempts=5):
    return f"""\
sources:
  erp: {{kind: erp, dialect: canonical, token_file: erp.token}}
  mes-de01: {{kind: mes, dialect: canonical, plant: DE01, token_file: mes-de01.token}}
destinations:
  erp: {{type: http, url: "{sink}/erp", retry: {{initial: 50ms, max: 200ms, max_attempts: {max_attempts}}}}}
  mes-de01: {{type: http, url: "{sink}/mes-de01", timeout: 2s,
             retry: {{initial: 50ms, max: 200ms, max_attempts: {max_attempts}}}}}
  events: {{type: kafka, topic: plant-events}}
plants:
  DE01:
    routes:
      "work_order.released": [mes-de01, events]
      "work_order.changed": [mes-de01]
      "operation.*": [erp]
"""




def ids_at(receiver, path):
    return [r.json["id"] for r in receiver.received(path)]


@pytest.fixture
def daemon(taktd, receiver):
    return wait_ready(taktd(body=body(receiver.url)))


def test_http_delivery_carries_the_contract_headers(daemon, receiver):
    msg = m.released(wo="HD-1", corr="corr-hd-1")
    assert daemon.ingest("erp", msg).status == 202
    [req] = receiver.wait_for(1, path="/mes-de01")
    assert req.method == "POST"
    assert req.headers["content-type"].startswith("application/json")
    assert req.headers["idempotency-key"].isdigit()
    assert req.headers["x-takt-type"] == "work_order.released"
    assert req.headers["x-takt-work-order"] == "HD-1"
    assert req.headers["traceparent"].startswith("00-") and len(req.headers["traceparent"]) == 55
    assert req.json["id"] == msg["id"] and req.json["correlation_id"] == "corr-hd-1"


def test_kafka_record_key_value_and_headers(daemon):
    msg = m.released(wo="KF-1")
    assert daemon.ingest("erp", msg).status == 202
    bootstrap = daemon.kafka_bootstrap()
    recs = wait_until(lambda: [r for r in kafka.read_topic(bootstrap, "takt.plant-events")
                               if r["value"] and r["value"]["id"] == msg["id"]], "kafka record")
    rec = recs[0]
    assert rec["key"] == "DE01/KF-1"
    assert rec["headers"]["takt-type"] == "work_order.released"
    assert rec["headers"]["takt-schema-version"] == "1"
    # the outbox message id, as in HTTP's Idempotency-Key (contract §6)
    assert rec["headers"]["takt-message-id"].isdigit()
    assert rec["headers"]["traceparent"].startswith("00-")


def test_retries_503_with_one_idempotency_key(daemon, receiver):
    receiver.reply(503, 503, 503, path="/mes-de01")
    msg = m.released(wo="RT-1")
    assert daemon.ingest("erp", msg).status == 202
    reqs = receiver.wait_for(4, path="/mes-de01")
    assert len({r.headers["idempotency-key"] for r in reqs}) == 1
    time.sleep(0.5)
    assert len(receiver.received("/mes-de01")) == 4  # delivered once, not again
    delivered = wait_until(lambda: [x for x in daemon.admin_get(
        "/v1/messages?state=delivered&destination=mes-de01").json["messages"]
        if x["work_order"] == "RT-1" and x["type"] == "work_order.released"], "delivered state")
    assert delivered[0]["attempts"] == 4
    # the work-order view lists only what still needs attention
    view = daemon.admin_get("/v1/work-orders/DE01/RT-1").json
    assert all(d["state"] != "delivered" for d in view["deliveries"]), view["deliveries"]


def test_400_fails_the_message_holds_its_lane_and_replay_resumes(daemon, receiver):
    receiver.reply(400, path="/erp")
    a1 = m.confirmed("0010", wo="FL-1", final=False, corr="corr-fl-1")
    a2 = m.confirmed("0010", wo="FL-1", final=False)
    b1 = m.confirmed("0010", wo="FL-2", final=False)
    for wo in ("FL-1", "FL-2"):
        assert daemon.ingest("erp", m.released(wo=wo)).status == 202
    assert daemon.ingest("mes-de01", a1).status == 202
    failed = wait_until(lambda: daemon.admin_get("/v1/messages?state=failed").json["messages"],
                        "a failed message")
    assert failed[0]["destination"] == "erp" and failed[0]["work_order"] == "FL-1"
    assert "400" in (failed[0]["last_error"] or "")
    assert daemon.ingest("mes-de01", a2).status == 202
    assert daemon.ingest("mes-de01", b1).status == 202
    wait_until(lambda: b1["id"] in ids_at(receiver, "/erp"), "other work order flows on")
    time.sleep(0.5)
    assert a2["id"] not in ids_at(receiver, "/erp"), "a later message passed a failed one"
    # replay through the API: the failed one goes, then the one it held back
    r = daemon.request("POST", f"/v1/messages/{failed[0]['id']}/replay",
                       token=daemon.admin_token)
    assert r.status == 200 and r.json["state"] == "pending", r
    wait_until(lambda: a2["id"] in ids_at(receiver, "/erp"), "lane resumes after replay")
    got = ids_at(receiver, "/erp")
    assert got.index(a1["id"], 1) < got.index(a2["id"])
    # the trace tells the whole story of a1
    steps = [s["step"] for s in daemon.admin_get("/v1/trace/corr-fl-1").json["steps"]]
    for step in ("received", "normalized", "enqueued", "attempt", "failed", "replayed",
                 "delivered"):
        assert step in steps, steps
    assert daemon.admin_get("/v1/trace/no-such-correlation").status == 404


def test_replay_from_the_command_line_while_running(daemon, receiver):
    receiver.reply(422, path="/mes-de01")
    msg = m.released(wo="CLI-1")
    assert daemon.ingest("erp", msg).status == 202
    wait_until(lambda: daemon.admin_get("/v1/messages?state=failed&destination=mes-de01")
               .json["messages"], "failed message")
    dry = daemon.cli("--replay", "--destination", "mes-de01", "--dry-run")
    assert dry.returncode == 0 and "1" in dry.stdout, dry
    assert daemon.admin_get("/v1/messages?state=failed").json["messages"], "dry run changed state"
    out = daemon.cli("--replay", "--all-failed")
    assert out.returncode == 0 and "1" in out.stdout, out
    wait_until(lambda: ids_at(receiver, "/mes-de01").count(msg["id"]) >= 2,
               "redelivery after CLI replay (NOTIFY)")


def test_unknown_replay_id_is_404(daemon):
    r = daemon.request("POST", "/v1/messages/999999/replay", token=daemon.admin_token)
    assert r.status == 404, r


def test_sigkill_during_delivery_delivers_everything_after_restart(taktd, receiver):
    d = wait_ready(taktd(body=body(receiver.url)))
    receiver.default = Reply(status=200, delay=0.05)
    sent = []
    for i in range(60):
        msg = m.released(wo=f"SK-{i}")
        assert d.ingest("erp", msg).status == 202
        sent.append(msg["id"])
    time.sleep(0.3)
    d.signal(signal.SIGKILL)
    d.proc.wait(10)
    receiver.default = Reply(status=200)
    d2 = wait_ready(taktd(body=body(receiver.url), migrate=False))
    wait_until(lambda: set(sent) <= set(ids_at(receiver, "/mes-de01")), "all delivered")
    keys = {}
    for r in receiver.received("/mes-de01"):
        keys.setdefault(r.json["id"], set()).add(r.headers["idempotency-key"])
    assert all(len(k) == 1 for k in keys.values()), "a message changed its Idempotency-Key"
    assert d2.running()


def test_sighup_adds_a_destination_and_a_bad_file_changes_nothing(taktd, receiver):
    d = wait_ready(taktd(body=body(receiver.url)))
    first = m.released(wo="HUP-1")
    assert d.ingest("erp", first).status == 202
    wait_until(lambda: first["id"] in ids_at(receiver, "/mes-de01"), "first release")
    two = body(receiver.url).replace(
        '  events: {type: kafka, topic: plant-events}\n',
        f'  events: {{type: kafka, topic: plant-events}}\n'
        f'  mes-copy: {{type: http, url: "{receiver.url}/mes-copy"}}\n').replace(
        '"work_order.released": [mes-de01, events]',
        '"work_order.released": [mes-de01, events, mes-copy]')
    mark = d.reload(two)
    d.wait_log(r"event=config\.reloaded", since=mark)
    second = m.released(wo="HUP-2")
    assert d.ingest("erp", second).status == 202
    wait_until(lambda: second["id"] in ids_at(receiver, "/mes-copy"), "the new destination")
    bad = two.replace('[mes-de01, events, mes-copy]', '[mes-de01, nowhere]')
    mark = d.reload(bad)
    d.wait_log(r"event=config\.reload_refused", since=mark)
    third = m.released(wo="HUP-3")
    assert d.ingest("erp", third).status == 202
    wait_until(lambda: third["id"] in ids_at(receiver, "/mes-copy"), "the kept configuration")


def test_delivery_thread_yields_to_the_main_loop(daemon):
    """The delivery thread is named and runs five nice steps below the main
    loop, so that on a busy machine the sources' answers come first."""
    tasks = f"/proc/{daemon.proc.pid}/task"

    def name(tid):
        with open(f"{tasks}/{tid}/comm") as f:
            return f.read().strip()

    def nice(tid):
        with open(f"{tasks}/{tid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[16])  # field 19

    workers = [tid for tid in os.listdir(tasks) if name(tid) == "takt-delivery"]
    assert len(workers) == 1, [name(tid) for tid in os.listdir(tasks)]
    assert nice(workers[0]) == min(19, nice(str(daemon.proc.pid)) + 5)
