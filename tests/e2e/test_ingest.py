"""test_ingest — POST /v1/ingest/{source} against contract §4: every answer,
authentication, duplicates, batches, and 503 while PostgreSQL is down with
recovery after it returns. Real taktd, real PostgreSQL, real HTTP."""
import hashlib
import hmac
import json
import os
import time

import pytest

import canon_msgs as m
from e2e_util import pg_ctl, wait_ready, wait_until
from takt_e2e.daemon import default_body
from takt_e2e.pg import psql


def count(conninfo, sql):
    return int(psql(conninfo, sql))




@pytest.fixture
def daemon(taktd, receiver):
    return wait_ready(taktd(body=default_body(receiver.url)))


def test_release_is_accepted_and_stored_in_one_transaction(daemon, database):
    msg = m.released(wo="A-1")
    r = daemon.ingest("erp", msg)
    assert r.status == 202, r
    body = r.json
    assert body["status"] == "accepted"
    [res] = body["results"]
    assert res["id"] == msg["id"] and res["status"] == "accepted" and res["correlation_id"]
    # inbox, work order and one outbox row per routed destination, all there after 202
    assert count(database, f"SELECT count(*) FROM inbox WHERE message_id = '{msg['id']}'") == 1
    # dispatched as soon as the MES receiver has it
    assert psql(database, "SELECT state FROM work_orders WHERE work_order = 'A-1'") in ("released", "dispatched")
    dests = psql(database, "SELECT string_agg(destination, ',' ORDER BY destination) FROM outbox "
                           f"WHERE message_id = '{msg['id']}'")
    assert dests == "events,mes-de01"


def test_correlation_id_is_kept_when_given(daemon):
    msg = m.released(wo="A-2", corr="corr-given-1")
    r = daemon.ingest("erp", msg)
    assert r.status == 202, r
    assert r.json["results"][0]["correlation_id"] == "corr-given-1"


def test_duplicate_gets_the_first_answer(daemon, database):
    msg = m.released(wo="A-3")
    first = daemon.ingest("erp", msg)
    assert first.status == 202
    again = daemon.ingest("erp", msg)
    assert again.status == 200, again
    assert again.json["status"] == "duplicate"
    assert again.json["results"][0]["correlation_id"] == first.json["results"][0]["correlation_id"]
    assert count(database, f"SELECT count(*) FROM outbox WHERE message_id = '{msg['id']}'") == 2


def test_stale_revision_answers_200_stale_and_forwards_nothing(daemon, database):
    assert daemon.ingest("erp", m.released(wo="A-4", revision=5)).status == 202
    stale = m.changed(wo="A-4", revision=5)
    r = daemon.ingest("erp", stale)
    assert r.status == 200, r
    assert r.json["status"] == "stale"
    assert count(database, f"SELECT count(*) FROM outbox WHERE message_id = '{stale['id']}'") == 0


def test_cancel_after_completion_is_409_and_nothing_is_stored(taktd, receiver, database):
    body = default_body(receiver.url).replace("completion: operation", "completion: order")
    d = wait_ready(taktd(body=body))
    assert d.ingest("erp", m.released(wo="A-5", ops=["0010"])).status == 202
    assert d.ingest("mes-de01", m.completed(wo="A-5")).status == 202
    cancel = m.cancelled(wo="A-5", revision=2)
    r = d.ingest("erp", cancel)
    assert r.status == 409, r
    assert r.json["status"] == "conflict" and r.json["error"]
    assert count(database, f"SELECT count(*) FROM inbox WHERE message_id = '{cancel['id']}'") == 0
    assert psql(database, "SELECT state FROM work_orders WHERE work_order = 'A-5'") == "completed"


@pytest.mark.parametrize("mutate,path", [
    (lambda e: e["data"]["quantity"].update(value=-1), "/data/quantity/value"),
    (lambda e: e.pop("occurred_at"), "/occurred_at"),
    (lambda e: e.update(schema_version=2), "/schema_version"),
    (lambda e: e["data"].pop("operations"), "/data/operations"),
], ids=["negative-quantity", "missing-occurred_at", "schema-version", "missing-operations"])
def test_validation_errors_name_the_field(daemon, database, mutate, path):
    msg = m.released(wo="A-6")
    mutate(msg)
    r = daemon.ingest("erp", msg)
    assert r.status == 422, r
    assert r.json["status"] == "invalid"
    assert path in [e["path"] for e in r.json["errors"]], r.json
    assert count(database, f"SELECT count(*) FROM inbox WHERE message_id = '{msg['id']}'") == 0


def test_batch_is_all_or_nothing_and_names_the_index(daemon, database):
    good = [m.released(wo=f"B-{i}") for i in range(3)]
    bad = m.released(wo="B-bad")
    bad["data"]["quantity"]["value"] = "many"
    r = daemon.ingest("erp", good + [bad])
    assert r.status == 422, r
    assert any(e["path"].startswith("/3/") for e in r.json["errors"]), r.json
    assert count(database, "SELECT count(*) FROM inbox WHERE message_id LIKE 'work_order.released-B-%'") == 0
    r = daemon.ingest("erp", good)
    assert r.status == 202, r
    assert [x["id"] for x in r.json["results"]] == [g["id"] for g in good]
    assert count(database, "SELECT count(*) FROM work_orders WHERE work_order LIKE 'B-%'") == 3


def test_batch_limit_is_1000(daemon):
    r = daemon.ingest("erp", [m.released(wo=f"L-{i}") for i in range(1001)])
    assert r.status == 422, r


def test_batch_with_a_duplicate_accepts_the_rest(daemon):
    first = m.released(wo="C-1")
    assert daemon.ingest("erp", first).status == 202
    r = daemon.ingest("erp", [first, m.released(wo="C-2")])
    assert r.status == 202, r
    assert [x["status"] for x in r.json["results"]] == ["duplicate", "accepted"]


@pytest.mark.parametrize("source,token,expect", [
    ("erp", None, 401), ("erp", "wrong-token", 401), ("nosuch", "x", 404)],
    ids=["missing-token", "bad-token", "unknown-source"])
def test_credentials_and_sources(daemon, source, token, expect):
    r = daemon.post_json(f"/v1/ingest/{source}", m.released(wo="D-1"), token=token)
    assert r.status == expect, r
    assert r.content_type == "application/json" and r.json


def test_mes_may_not_send_erp_types_or_for_another_plant(daemon):
    r = daemon.ingest("mes-de01", m.released(wo="E-1"))
    assert r.status == 403, r
    r = daemon.ingest("mes-de01", m.acknowledged(wo="E-1", plant="PL02"))
    assert r.status == 403, r


def test_malformed_json_is_400(daemon):
    r = daemon.request("POST", "/v1/ingest/erp", body=b'{"id": ', token=daemon.tokens["erp"])
    assert r.status == 400, r
    assert "line" in r.json["error"]


def test_wrong_content_type_is_415(daemon):
    r = daemon.request("POST", "/v1/ingest/erp", body=json.dumps(m.released()),
                       token=daemon.tokens["erp"], headers={"Content-Type": "text/plain"})
    assert r.status == 415, r


def test_body_over_max_body_is_413(daemon):
    big = m.released(wo="F-1")
    big["data"]["operations"][0]["description"] = "x" * (1100 * 1024)  # max_body is 1 MiB
    r = daemon.ingest("erp", big)
    assert r.status == 413, r
    assert r.json["error"]


def sign(secret, body, t):
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def test_hmac_signature_auth(taktd, receiver):
    body = default_body(receiver.url).replace(
        "mes-de01: {kind: mes, dialect: canonical, plant: DE01, token_file: mes-de01.token}",
        "mes-de01: {kind: mes, dialect: canonical, plant: DE01, hmac_secret_file: mes-hmac.token}")
    d = wait_ready(taktd(body=body, tokens={"erp": "erp-token-e2e", "mes-hmac": "s3cret"}))
    payload = json.dumps(m.acknowledged(wo="G-1")).encode()
    now = int(time.time())
    ok = d.request("POST", "/v1/ingest/mes-de01", body=payload,
                   headers={"X-Takt-Signature": sign("s3cret", payload, now)})
    assert ok.status == 202, ok
    old = d.request("POST", "/v1/ingest/mes-de01", body=payload,
                    headers={"X-Takt-Signature": sign("s3cret", payload, now - 301)})
    assert old.status == 401, old
    forged = d.request("POST", "/v1/ingest/mes-de01", body=payload,
                       headers={"X-Takt-Signature": sign("other", payload, now)})
    assert forged.status == 401, forged


def test_metrics_count_ingest_results(daemon):
    daemon.ingest("erp", m.released(wo="H-1"))
    daemon.post_json("/v1/ingest/erp", m.released(wo="H-2"), token="bad")
    text = daemon.get("/metrics").body.decode()
    assert 'takt_ingest_messages_total{source="erp",type="work_order.released",result="accepted"}' in text
    assert 'result="unauthorized"' in text
    assert "takt_ingest_duration_seconds_count" in text


def test_503_while_postgres_is_down_then_recovers(daemon, database):
    assert daemon.ingest("erp", m.released(wo="P-1")).status == 202
    pg_ctl("stop")
    try:
        deadline = time.monotonic() + 15
        r = None
        while time.monotonic() < deadline:
            r = daemon.ingest("erp", m.released(wo="P-2"))
            if r.status == 503:
                break
            time.sleep(0.2)
        assert r.status == 503, r
        assert r.headers.get("Retry-After")
        ready = daemon.get("/readyz")
        assert ready.status == 503 and ready.json.get("reason"), ready
    finally:
        pg_ctl("start")
    wait_ready(daemon)
    r = daemon.ingest("erp", m.released(wo="P-3"))
    assert r.status == 202, r
    assert count(database, "SELECT count(*) FROM work_orders WHERE work_order = 'P-2'") == 0


def test_unmigrated_database_answers_503_naming_migrate(taktd, receiver, pg):
    conninfo = pg.create_database(f"e2e_unmigrated_{os.getpid()}")
    d = taktd(body=default_body(receiver.url), conninfo=conninfo, migrate=False)
    # "connecting" comes first; then the reason names the fix
    r = wait_until(lambda: (lambda r: r if "--migrate" in r.json["reason"] else None)(
        d.get("/readyz")), "/readyz naming taktd --migrate")
    assert r.status == 503, r
    r = d.ingest("erp", m.released(wo="U-1"))
    assert r.status == 503 and "--migrate" in r.json["error"], r
    assert d.cli("--migrate").returncode == 0
    wait_ready(d)
    assert d.ingest("erp", m.released(wo="U-2")).status == 202


def test_schema_newer_than_the_build_refuses_to_start(taktd, receiver, pg):
    conninfo = pg.create_database(f"e2e_newer_{os.getpid()}")
    d = taktd(body=default_body(receiver.url), conninfo=conninfo, start=False)
    d.migrate()
    psql(conninfo, "INSERT INTO schema_version (version, name) "
                   "SELECT max(version) + 1, 'from the future' FROM schema_version")
    d.start(migrate=False, wait=False)
    assert d.wait_exit(30) == 1
    assert "newer than this build knows" in d.log()
    out = d.cli("--migrate")
    assert out.returncode == 1 and "newer" in out.stderr, out
