"""test_dialects — plants speak their own languages (contract §5): an
S/4HANA-shaped production order in, a legacy MES that reports scrap on its
own, and S/4-shaped confirmations and goods movements out, through the real
daemon with the shipped mapping files."""
import json
import time

import pytest

from e2e_util import wait_ready


BODY = """\
sources:
  s4: {{kind: erp, dialect: sap-s4, token_file: s4.token}}
  mes-pl02: {{kind: mes, dialect: legacy-mes, plant: PL02, token_file: mes-pl02.token}}
destinations:
  s4: {{type: http, url: "{sink}/s4", dialect: sap-s4}}
  mes-pl02: {{type: http, url: "{sink}/mes-pl02", dialect: legacy-mes}}
plants:
  PL02:
    completion: order
    scrap: separate
    routes:
      "work_order.*": [mes-pl02, s4]
      "operation.confirmed": [s4]
      "material.consumed": [s4]
"""

TOKENS = {"s4": "s4-t", "mes-pl02": "pl02-t"}
ORDER = "1000777"




def s4_order(order=ORDER):
    return {"d": {
        "ManufacturingOrder": order, "OrderIsMarkedForDeletion": False,
        "LastChangeDateTime": "20261201080000", "Material": "FG-200",
        "ProductionPlant": "PL02",
        "MfgOrderPlannedStartDate": "/Date(1796169600000)/", "MfgOrderPlannedStartTime": "PT06H00M00S",
        "MfgOrderPlannedEndDate": "/Date(1796256000000)/", "MfgOrderPlannedEndTime": "PT18H00M00S",
        "ProductionUnit": "PC", "TotalQuantity": "100",
        "to_ProductionOrderOperation": {"results": [
            {"ManufacturingOrderOperation": "0010", "WorkCenter": "LATHE-3"}]}}}


def mes(kind, n, order=ORDER, **fields):
    msg = {"msg_type": kind, "msg_id": f"L-{n}", "site": "PL02", "order_no": order,
           "date": "20261201", "time": "120000"}
    msg.update(fields)
    return msg


@pytest.fixture
def daemon(taktd, receiver):
    return wait_ready(taktd(body=BODY.format(sink=receiver.url), tokens=TOKENS))


def test_s4_order_reaches_the_legacy_mes_and_totals_reach_s4(daemon, receiver):
    r = daemon.ingest("s4", s4_order())
    assert r.status == 202, r
    [down] = receiver.wait_for(1, path="/mes-pl02")
    order = down.json
    assert order["msg_type"] == "ORDER" and order["action"] == "NEW"
    assert order["order_no"] == ORDER and order["qty"] == "100" and order["uom"] == "PCS"

    for msg in (mes("ACK", 1, mes_ref="JOB-1"),
                mes("YIELD", 2, op_no="0010", qty="95", uom="PCS", last="Y"),
                mes("SCRAP", 3, op_no="0010", qty="5", uom="PCS", reason="porosity"),
                mes("DONE", 4, good_qty="95", scrap_qty="5", uom="PCS")):
        r = daemon.ingest("mes-pl02", msg)
        assert r.status == 202, (msg["msg_type"], r)

    deadline = time.monotonic() + 20
    while True:
        bodies = [q.json for q in receiver.received("/s4")]
        confirmations = [b for b in bodies if "ConfirmationYieldQuantity" in b]
        receipts = [b for b in bodies if "to_MaterialDocumentItem" in b]
        if len(confirmations) >= 2 and receipts:
            break
        assert time.monotonic() < deadline, json.dumps(bodies, indent=1)
        time.sleep(0.05)
    assert {c["OrderID"] for c in confirmations} == {ORDER}
    assert sum(float(c["ConfirmationYieldQuantity"]) for c in confirmations) == 95
    assert sum(float(c["ConfirmationScrapQuantity"]) for c in confirmations) == 5
    assert all(c["ConfirmationUnit"] == "PC" for c in confirmations)
    item = receipts[0]["to_MaterialDocumentItem"]["results"][0]
    assert item["GoodsMovementType"] == "101" and item["ManufacturingOrder"] == ORDER
    assert float(item["QuantityInEntryUnit"]) == 95


def test_mapping_error_is_422_naming_the_source_field(daemon):
    bad = s4_order()
    bad["d"]["TotalQuantity"] = "lots"
    r = daemon.ingest("s4", bad)
    assert r.status == 422, r
    assert any(e["path"] == "/d/TotalQuantity" for e in r.json["errors"]), r.json
    r = daemon.ingest("mes-pl02", mes("YIELD", 9, op_no="0010", qty="x", uom="PCS", last="Y"))
    assert r.status == 422 and any(e["path"] == "/qty" for e in r.json["errors"]), r


def test_rows_read_back_after_a_restart_are_mapped_by_the_dialect(taktd, receiver):
    """Rows the dispatcher pages in from PostgreSQL carry the stored envelope
    text; a dialect destination must still get its own shape."""
    import signal
    from takt_e2e.receiver import Reply

    d = wait_ready(taktd(body=BODY.format(sink=receiver.url), tokens=TOKENS))
    receiver.default = Reply(status=503)  # nothing is delivered for now
    order = "1000888"
    assert d.ingest("s4", s4_order(order)).status == 202
    for msg in (mes("ACK", 11, order, mes_ref="JOB-2"),
                mes("YIELD", 12, order, op_no="0010", qty="40", uom="PCS", last="Y")):
        assert d.ingest("mes-pl02", msg).status == 202, msg
    deadline = time.monotonic() + 20
    while not receiver.received("/s4"):
        assert time.monotonic() < deadline, "no delivery attempt to s4"
        time.sleep(0.05)
    d.signal(signal.SIGKILL)
    d.proc.wait(10)
    receiver.default = Reply(status=200)
    before = len(receiver.received("/s4"))
    wait_ready(taktd(body=BODY.format(sink=receiver.url), tokens=TOKENS, migrate=False))
    deadline = time.monotonic() + 30
    while True:
        ok = [q.json for q in receiver.received("/s4")[before:]
              if "ConfirmationYieldQuantity" in q.body.decode()]
        if ok:
            break
        assert time.monotonic() < deadline, "no S/4 confirmation after the restart"
        time.sleep(0.05)
    assert ok[0]["OrderID"] == order and float(ok[0]["ConfirmationYieldQuantity"]) == 40
