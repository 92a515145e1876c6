"""canon_msgs — builders for canonical messages (contract §2) used by the
end-to-end tests. Every builder returns a fresh dict the test may edit."""
import itertools

_seq = itertools.count(1)

T0 = "2026-11-30T06:00:00Z"


def qty(value, uom="EA"):
    return {"value": value, "uom": uom}


def envelope(type_, data, wo="4711", plant="DE01", id=None, corr=None):
    env = {"id": id or f"{type_}-{wo}-{next(_seq)}", "type": type_, "schema_version": 1,
           "plant": plant, "occurred_at": T0, "data": data}
    if wo is not None:
        env["work_order"] = wo
    if corr:
        env["correlation_id"] = corr
    return env


def released(wo="4711", ops=("0010", "0020"), revision=1, quantity=100, **kw):
    return envelope("work_order.released", {
        "material": "MAT-1", "quantity": qty(quantity),
        "planned_start": "2026-11-30T08:00:00Z", "planned_end": "2026-11-30T16:00:00Z",
        "revision": revision,
        "operations": [{"operation": op, "work_center": f"WC-{op}"} for op in ops]}, wo, **kw)


def cancelled(wo="4711", revision=2, **kw):
    return envelope("work_order.cancelled", {"revision": revision, "reason": "test"}, wo, **kw)


def changed(wo="4711", revision=2, quantity=120, **kw):
    return envelope("work_order.changed", {"revision": revision, "quantity": qty(quantity)}, wo,
                    **kw)


def acknowledged(wo="4711", **kw):
    return envelope("work_order.acknowledged", {"mes_reference": f"MES-{wo}"}, wo, **kw)


def started(op="0010", wo="4711", **kw):
    return envelope("operation.started", {"operation": op, "work_center": f"WC-{op}"}, wo, **kw)


def confirmed(op="0010", yield_=90, scrap=10, final=True, wo="4711", **kw):
    return envelope("operation.confirmed", {"operation": op, "yield": qty(yield_),
                                            "scrap": qty(scrap), "final": final}, wo, **kw)


def consumed(material="RAW-1", quantity=5, wo="4711", **kw):
    return envelope("material.consumed", {"material": material, "quantity": qty(quantity, "KG")},
                    wo, **kw)


def hold_placed(hold="H1", wo="4711", **kw):
    return envelope("quality.hold_placed", {"hold_id": hold, "reason": "visual defect"}, wo, **kw)


def hold_released(hold="H1", wo="4711", **kw):
    return envelope("quality.hold_released", {"hold_id": hold, "disposition": "use as is"}, wo,
                    **kw)


def completed(yield_=90, scrap=10, wo="4711", **kw):
    return envelope("work_order.completed", {"yield": qty(yield_), "scrap": qty(scrap)}, wo, **kw)


def downtime(kind="started", work_center="WC-0010", **kw):
    return envelope(f"downtime.{kind}", {"work_center": work_center, "reason_code": "BRK"}, None,
                    **kw)
