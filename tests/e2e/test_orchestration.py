"""test_orchestration — the work-order state machine through the real daemon
(contract §3): both plant kinds, parked events, quality holds holding back
ERP postings, and an SLA deadline that passed while taktd was down."""
import time

import pytest

import canon_msgs as m
from e2e_util import wait_ready
from takt_e2e import kafka

ADMIN = "/v1/work-orders"


def body(sink, ack_sla="0s"):
    return f"""\
sources:
  erp: {{kind: erp, dialect: canonical, token_file: erp.token}}
  mes-de01: {{kind: mes, dialect: canonical, plant: DE01, token_file: mes-de01.token}}
  mes-pl02: {{kind: mes, dialect: canonical, plant: PL02, token_file: mes-pl02.token}}
destinations:
  erp: {{type: http, url: "{sink}/erp", retry: {{initial: 50ms, max: 200ms}}}}
  mes-de01: {{type: http, url: "{sink}/mes-de01", retry: {{initial: 50ms, max: 200ms}}}}
  mes-pl02: {{type: http, url: "{sink}/mes-pl02", retry: {{initial: 50ms, max: 200ms}}}}
  events: {{type: kafka, topic: plant-events}}
plants:
  DE01:
    completion: operation
    scrap: embedded
    sla: {{acknowledge: {ack_sla}, erp_confirmation: 1m}}
    routes:
      "work_order.*": [mes-de01, events]
      "work_order.completed": [erp]
      "operation.confirmed": [erp]
      "material.consumed": [erp]
      "sla.*": [events]
  PL02:
    completion: order
    scrap: separate
    routes:
      "work_order.*": [mes-pl02]
      "work_order.completed": [erp]
      "operation.confirmed": [erp]
      "material.consumed": [erp]
"""


TOKENS = {"erp": "erp-t", "mes-de01": "de01-t", "mes-pl02": "pl02-t"}




def wait_state(d, plant, wo, state, timeout=20.0):
    deadline = time.monotonic() + timeout
    view = None
    while time.monotonic() < deadline:
        r = d.admin_get(f"{ADMIN}/{plant}/{wo}")
        if r.status == 200:
            view = r.json
            if view["state"] == state:
                return view
        time.sleep(0.05)
    raise AssertionError(f"{plant}/{wo} not {state}: {view}")


def ok(r):
    assert r.status == 202, r
    return r


def erp_totals(receiver, wo):
    """Yield and scrap the ERP received for wo, by type (deduplicated by
    Idempotency-Key: at-least-once delivery may repeat)."""
    seen, conf_yield, conf_scrap, completion = set(), 0.0, 0.0, None
    for req in receiver.received("/erp"):
        key = req.headers.get("idempotency-key")
        if key in seen:
            continue
        seen.add(key)
        env = req.json
        if env.get("work_order") != wo:
            continue
        if env["type"] == "operation.confirmed":
            conf_yield += env["data"]["yield"]["value"]
            conf_scrap += env["data"]["scrap"]["value"]
        elif env["type"] == "work_order.completed":
            completion = (env["data"]["yield"]["value"], env["data"]["scrap"]["value"])
    return conf_yield, conf_scrap, completion


@pytest.fixture
def daemon(taktd, receiver):
    return wait_ready(taktd(body=body(receiver.url), tokens=TOKENS))


def test_operation_plant_lifecycle_closes_with_derived_completion(daemon, receiver):
    wo = "OP-1"
    ok(daemon.ingest("erp", m.released(wo=wo)))
    wait_state(daemon, "DE01", wo, "dispatched")
    ok(daemon.ingest("mes-de01", m.acknowledged(wo=wo)))
    ok(daemon.ingest("mes-de01", m.started("0010", wo=wo)))
    ok(daemon.ingest("mes-de01", m.confirmed("0010", 95, 5, wo=wo)))
    ok(daemon.ingest("mes-de01", m.consumed(wo=wo)))
    ok(daemon.ingest("mes-de01", m.started("0020", wo=wo)))
    ok(daemon.ingest("mes-de01", m.confirmed("0020", 90, 5, wo=wo)))
    view = wait_state(daemon, "DE01", wo, "closed")
    assert [h["to"] for h in view["history"]] == [
        "released", "dispatched", "acknowledged", "in_progress", "completed", "closed"]
    y, s, completion = erp_totals(receiver, wo)
    assert (y, s) == (185, 10)
    assert completion == (90, 10)  # last operation's yield, all operations' scrap


def test_order_plant_with_separate_scrap_gives_the_same_erp_totals(daemon, receiver):
    wo = "OR-1"
    ok(daemon.ingest("erp", m.released(wo=wo, plant="PL02")))
    wait_state(daemon, "PL02", wo, "dispatched")
    mes = "mes-pl02"
    ok(daemon.ingest(mes, m.acknowledged(wo=wo, plant="PL02")))
    ok(daemon.ingest(mes, m.confirmed("0010", 95, 0, wo=wo, plant="PL02")))
    ok(daemon.ingest(mes, m.confirmed("0010", 0, 5, final=False, wo=wo, plant="PL02")))
    ok(daemon.ingest(mes, m.confirmed("0020", 90, 0, wo=wo, plant="PL02")))
    ok(daemon.ingest(mes, m.confirmed("0020", 0, 5, final=False, wo=wo, plant="PL02")))
    ok(daemon.ingest(mes, m.completed(90, 10, wo=wo, plant="PL02")))
    wait_state(daemon, "PL02", wo, "closed")
    y, s, completion = erp_totals(receiver, wo)
    assert (y, s) == (185, 10)
    assert completion == (90, 10)


def test_parked_event_is_visible_then_applied_on_release(daemon):
    wo = "PK-1"
    ok(daemon.ingest("mes-de01", m.acknowledged(wo=wo)))
    view = daemon.admin_get(f"{ADMIN}/DE01/{wo}").json
    assert view["state"] == "new" and len(view["parked"]) == 1
    metrics = daemon.get("/metrics").body.decode()
    assert "takt_parked_events" in metrics
    ok(daemon.ingest("erp", m.released(wo=wo)))
    view = wait_state(daemon, "DE01", wo, "acknowledged")
    assert view["parked"] == []


def test_hold_keeps_erp_postings_back_until_released(daemon, receiver):
    wo = "HD-1"
    ok(daemon.ingest("erp", m.released(wo=wo, ops=["0010"])))
    wait_state(daemon, "DE01", wo, "dispatched")
    ok(daemon.ingest("mes-de01", m.acknowledged(wo=wo)))
    ok(daemon.ingest("mes-de01", m.hold_placed("Q1", wo=wo)))
    wait_state(daemon, "DE01", wo, "on_hold")
    conf = m.confirmed("0010", 50, 1, final=False, wo=wo)
    cons = m.consumed(wo=wo)
    ok(daemon.ingest("mes-de01", conf))
    ok(daemon.ingest("mes-de01", cons))
    time.sleep(1.0)
    got = [r.json["id"] for r in receiver.received("/erp")]
    assert conf["id"] not in got and cons["id"] not in got, "posting sent during a hold"
    view = daemon.admin_get(f"{ADMIN}/DE01/{wo}").json
    assert view["holds"] == ["Q1"]
    assert sorted(d["state"] for d in view["deliveries"] if d["destination"] == "erp") == \
        ["held", "held"]
    ok(daemon.ingest("mes-de01", m.hold_released("Q1", wo=wo)))
    # back to where the order would be without the hold: the confirmation started it
    wait_state(daemon, "DE01", wo, "in_progress")
    reqs = receiver.wait_for(2, path="/erp")
    ids = [r.json["id"] for r in reqs if r.json.get("work_order") == wo]
    assert ids[:2] == [conf["id"], cons["id"]], ids  # in their original order


def test_cancel_is_forwarded_to_the_mes(daemon, receiver):
    wo = "CX-1"
    ok(daemon.ingest("erp", m.released(wo=wo)))
    cancel = m.cancelled(wo=wo, revision=2)
    ok(daemon.ingest("erp", cancel))
    wait_state(daemon, "DE01", wo, "cancelled")
    reqs = receiver.wait_for(1, path="/mes-de01")
    deadline = time.monotonic() + 10
    while cancel["id"] not in [r.json["id"] for r in receiver.received("/mes-de01")]:
        assert time.monotonic() < deadline, "cancel not forwarded to the MES"
        time.sleep(0.05)
    assert reqs


def test_unknown_operation_is_422_naming_it(daemon):
    wo = "UO-1"
    ok(daemon.ingest("erp", m.released(wo=wo)))
    r = daemon.ingest("mes-de01", m.confirmed("9999", wo=wo))
    assert r.status == 422, r
    assert r.json["errors"][0]["path"] == "/data/operation"
    assert "9999" in r.json["errors"][0]["message"]


def test_sla_breach_during_downtime_is_reported_at_start(taktd, receiver):
    d = wait_ready(taktd(body=body(receiver.url, ack_sla="2s"), tokens=TOKENS))
    wo = "SLA-1"
    ok(d.ingest("erp", m.released(wo=wo)))
    assert d.stop() == 0
    time.sleep(2.5)
    d2 = wait_ready(taktd(body=body(receiver.url, ack_sla="2s"), tokens=TOKENS, migrate=False))
    deadline = time.monotonic() + 15
    while True:
        view = d2.admin_get(f"{ADMIN}/DE01/{wo}").json
        if view["sla"]["acknowledge"] and view["sla"]["acknowledge"].get("breached"):
            break
        assert time.monotonic() < deadline, view
        time.sleep(0.1)
    text = d2.get("/metrics").body.decode()
    assert 'takt_sla_breaches_total{plant="DE01",sla="acknowledge"} 1' in text
    # and emitted: routed by "sla.*" to the Kafka destination
    bootstrap = d2.kafka_bootstrap()
    deadline = time.monotonic() + 20
    while not any(r["value"] and r["value"]["type"] == "sla.breached"
                  for r in kafka.read_topic(bootstrap, "takt.plant-events")):
        assert time.monotonic() < deadline, "no sla.breached record in takt.plant-events"
        time.sleep(0.2)
