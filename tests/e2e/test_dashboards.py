"""test_dashboards — packaging/grafana/takt.json and
packaging/prometheus/takt-alerts.yml name only metrics that a live taktd
exports (an alert on a misspelt metric never fires; a panel on one stays
empty), and the rules pass promtool. Names that Prometheus itself makes
(up, probe_* from the blackbox exporter) are not takt's and are skipped."""
import json
import re
import subprocess

import pytest

METRIC = re.compile(r"\b((?:takt|process)_[a-z0-9_]+)")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
def dashboard_exprs(source_dir):
    dash = json.loads((source_dir / "packaging" / "grafana" / "takt.json").read_text())
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("expr", "definition") and isinstance(value, str):
                    exprs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(dash)
    return dash, exprs


def alert_exprs(source_dir):
    text = (source_dir / "packaging" / "prometheus" / "takt-alerts.yml").read_text()
    return re.findall(r"^\s*expr:\s*(.+)$", text, re.M)


def named_metrics(exprs):
    names = set()
    for e in exprs:
        names.update(METRIC.findall(e))
    return names


def exported_families(text):
    """Metric family names from the # TYPE lines, plus every sample name."""
    families = set(re.findall(r"^# TYPE (\S+) \S+$", text, re.M))
    families.update(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)", text, re.M))
    return families


def missing_from(names, families):
    missing = set()
    for name in names:
        base = name
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in families:
                base = name[: -len(suffix)]
        if base not in families and name not in families:
            missing.add(name)
    return missing


@pytest.fixture(scope="module")
def live_families(request, taktd_binary, database, source_dir, tmp_path_factory):
    from takt_e2e.daemon import Daemon
    d = Daemon(taktd_binary, tmp_path_factory.mktemp("dash"), database,
               str(source_dir / "conf" / "dialects"))
    d.start()
    try:
        m = d.get("/metrics")
        assert m.status == 200, m
        yield exported_families(m.body.decode())
    finally:
        d.stop()
        report = d.sanitizer_report()
        assert report is None, report


def test_files_name_metrics(source_dir):
    _, exprs = dashboard_exprs(source_dir)
    names = named_metrics(exprs) | named_metrics(alert_exprs(source_dir))
    for required in ("takt_ingest_messages_total", "takt_end_to_end_seconds_bucket",
                     "takt_outbox_messages", "takt_outbox_oldest_pending_seconds",
                     "takt_sla_breaches_total", "takt_work_orders"):
        assert required in names, f"{required} is on no panel or alert"


@pytest.mark.parametrize("which", ["dashboard", "alerts"])
def test_every_named_metric_is_exported(which, source_dir, live_families):
    exprs = dashboard_exprs(source_dir)[1] if which == "dashboard" else alert_exprs(source_dir)
    missing = missing_from(named_metrics(exprs), live_families)
    assert not missing, f"the {which} names metrics that /metrics does not export: {sorted(missing)}"


def test_breaker_gauge_has_a_series_per_destination(live_families):
    """Not in contract §8: takt_delivery_breaker_open{destination} (0/1) feeds
    the TaktBreakerOpen alert and the breaker panel."""
    assert "takt_delivery_breaker_open" in live_families


def test_alert_rules_pass_promtool(source_dir):
    path = source_dir / "packaging" / "prometheus" / "takt-alerts.yml"
    out = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dashboard_is_well_formed(source_dir):
    dash, exprs = dashboard_exprs(source_dir)
    assert dash["uid"] and dash["title"] and exprs
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for p in dash["panels"]:
        if p["type"] == "row":
            continue
        assert p.get("targets"), p["title"]
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        assert p.get("description"), f"panel {p['title']} has no description"
        for t in p["targets"]:
            # balanced brackets: a cheap syntax check without a Prometheus server
            for open_, close in ("()", "{}", "[]"):
                assert t["expr"].count(open_) == t["expr"].count(close), t["expr"]
