"""test_foundation — the daemon's outer shell against contract §4, §5 and §7:
the command line, configuration errors, health, readiness, metrics, error
bodies, SIGHUP reload and SIGTERM shutdown."""
import re
import signal
import subprocess
import time

import pytest

from takt_e2e.daemon import default_body
from takt_e2e.pg import psql

from e2e_util import wait_ready

CLI_FLAGS = ["--config", "--foreground", "--check-config", "--migrate", "--replay", "--message",
             "--destination", "--plant", "--all-failed", "--dry-run", "--version", "--help"]


# --- command line (§7) -------------------------------------------------------

def test_version_prints_name_and_version(taktd_cli):
    out = taktd_cli("--version")
    assert out.returncode == 0, out.stderr
    assert "taktd" in out.stdout
    assert re.search(r"\b\d+\.\d+\.\d+\b", out.stdout), out.stdout


def test_help_lists_every_option(taktd_cli):
    out = taktd_cli("--help")
    assert out.returncode == 0, out.stderr
    missing = [f for f in CLI_FLAGS if f not in out.stdout]
    assert not missing, f"--help does not mention {missing}:\n{out.stdout}"


@pytest.mark.parametrize("args", [["--frobnicate"], ["-Z"], ["--config"], ["stray-argument"]],
                         ids=["unknown-long", "unknown-short", "missing-value", "positional"])
def test_usage_error_exits_2_with_usage_on_stderr(taktd_cli, args):
    out = taktd_cli(*args)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "usage" in out.stderr.lower(), out.stderr
    assert out.stdout == ""


def test_check_config_accepts_the_shipped_config(source_dir, taktd_binary, tmp_path):
    """conf/taktd.yaml with conf/demo.env's variables, from another folder
    (nothing may depend on the working directory)."""
    conf, env = source_dir / "conf" / "taktd.yaml", source_dir / "conf" / "demo.env"
    assert conf.is_file() and env.is_file()
    out = subprocess.run(
        ["bash", "-c", 'set -a; . "$1"; set +a; exec "$2" --check-config --config "$3"', "sh",
         str(env), taktd_binary, str(conf)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr


# A valid file, then one edit per row; each edit's error must name its line.
VALID = """\
listen: {address: 127.0.0.1, port: 8470}
admin: {token_file: admin.token}
postgres: {conninfo: "postgresql:///takt", migrate: manual}
dialects_dir: DIALECTS
kafka: {brokers: embedded}
sources:
  erp: {kind: erp, dialect: canonical, token_file: erp.token}
  mes-de01: {kind: mes, dialect: canonical, plant: DE01, token_file: mes.token}
destinations:
  mes-de01: {type: http, url: "http://127.0.0.1:9/mes", timeout: 5s}
  erp: {type: http, url: "http://127.0.0.1:9/erp"}
plants:
  DE01:
    routes:
      "work_order.*": [mes-de01]
      "operation.confirmed": [erp]
"""

BAD_CONFIGS = [
    # id, (old, new) replacement or None, appended text, expected line
    ("unknown-top-level-key", None, "colour: red\n", 17),
    ("unknown-source-key", ("token_file: erp.token}", "token_file: erp.token, colour: red}"),
     "", 7),
    ("wrong-type", ("port: 8470", "port: [8470]"), "", 1),
    ("port-out-of-range", ("port: 8470", "port: 70000"), "", 1),
    ("bad-duration", ("timeout: 5s", "timeout: soon"), "", 10),
    ("route-to-undefined-destination", ('[erp]', "[nowhere]"), "", 16),
    ("plant-without-routes", None, "  PL02: {completion: order}\n", 17),
    ("mes-source-for-undefined-plant", ("plant: DE01", "plant: XX99"), "", 8),
    ("bad-enum", None, "  PL03: {completion: sometimes, routes: {\"*\": [erp]}}\n", 17),
    ("missing-token-file", ("token_file: mes.token", "token_file: nowhere.token"), "", 8),
]


def write_config(tmp_path, source_dir, text):
    for name in ("admin", "erp", "mes"):
        (tmp_path / f"{name}.token").write_text(f"{name}-secret\n")
    path = tmp_path / "taktd.yaml"
    path.write_text(text.replace("DIALECTS", str(source_dir / "conf" / "dialects")))
    return path


def test_check_config_accepts_the_valid_base(taktd_cli, tmp_path, source_dir):
    path = write_config(tmp_path, source_dir, VALID)
    out = taktd_cli("--check-config", "--config", str(path))
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("edit,append,line", [b[1:] for b in BAD_CONFIGS],
                         ids=[b[0] for b in BAD_CONFIGS])
def test_check_config_refuses_with_file_and_line(taktd_cli, tmp_path, source_dir, edit, append,
                                                 line):
    text = VALID
    if edit:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1], 1)
    path = write_config(tmp_path, source_dir, text + append)
    out = taktd_cli("--check-config", "--config", str(path))
    assert out.returncode == 1, (out.returncode, out.stderr)
    assert f"{path}:{line}:" in out.stderr, out.stderr


def test_check_config_refuses_a_missing_file(taktd_cli, tmp_path):
    path = tmp_path / "nowhere.yaml"
    out = taktd_cli("--check-config", "--config", str(path))
    assert out.returncode == 1
    assert str(path) in out.stderr


# --- the running daemon (§4) ---------------------------------------------------

def test_migrate_is_idempotent(taktd):
    d = taktd(start=False)
    for _ in range(2):
        out = d.cli("--migrate")
        assert out.returncode == 0, out.stderr


def test_healthz_and_readyz_answer_200(taktd):
    d = taktd()
    assert d.get("/healthz").status == 200
    # Live at once; ready once PostgreSQL is connected and the schema checked
    # (a moment later on a loaded machine).
    wait_ready(d)
    ready = d.get("/readyz")
    assert ready.status == 200, ready


def test_readyz_names_migrate_until_the_schema_exists(taktd, pg):
    conninfo = pg.create_database("e2e_foundation_unmigrated")
    d = taktd(conninfo=conninfo, migrate=False, migrate_mode="manual")
    assert d.get("/healthz").status == 200
    # The first answers may say it is still connecting; then it names the fix.
    deadline = time.monotonic() + 15
    while True:
        ready = d.get("/readyz")
        assert ready.status == 503, ready
        if b"taktd --migrate" in ready.body:
            break
        assert time.monotonic() < deadline, ready
        time.sleep(0.05)
    d.migrate()
    deadline = time.monotonic() + 15
    while d.get("/readyz").status != 200:
        assert time.monotonic() < deadline, "not ready 15 s after taktd --migrate"
        time.sleep(0.2)


def taktd_connection_names(conninfo, expected, timeout=15):
    """The application_name of every other connection to conninfo's
    database, once it is `expected` (a set) or after timeout."""
    query = ("SELECT string_agg(application_name, ',' ORDER BY application_name) "
             "FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid()")
    deadline = time.monotonic() + timeout
    while True:
        names = set(filter(None, psql(conninfo, query).split(",")))
        if names == expected or time.monotonic() > deadline:
            return names
        time.sleep(0.1)


def test_connections_are_named_for_their_role_unless_conninfo_names_them(taktd, database):
    # A DBA looking at pg_stat_activity sees which of taktd's connections is
    # which; an operator's own application_name wins.
    d = taktd()
    wait_ready(d)
    roles = {"taktd-ingest", "taktd-delivery", "taktd-admin", "taktd-listen"}
    assert taktd_connection_names(database, roles) == roles
    d.stop(timeout=10.0)
    named = (database + ("&" if "?" in database else "?") + "application_name=line3-broker"
             if re.match(r"^postgres(ql)?://", database)
             else database + " application_name=line3-broker")
    d = taktd(conninfo=named)
    wait_ready(d)
    assert taktd_connection_names(database, {"line3-broker"}) == {"line3-broker"}


def test_metrics_pass_promtool_and_carry_build_and_process_metrics(taktd):
    d = taktd()
    m = d.get("/metrics")
    assert m.status == 200
    assert m.content_type == "text/plain"
    assert "version=0.0.4" in m.headers.get("Content-Type", "")
    check = subprocess.run(["promtool", "check", "metrics"], input=m.body, capture_output=True,
                           timeout=30)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    text = m.body.decode()
    assert re.search(r'^takt_build_info\{[^}]*version="[^"]+"[^}]*\} 1$', text, re.M), text
    assert re.search(r"^process_cpu_seconds_total \S+$", text, re.M), text


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/nope", 404),
    ("GET", "/v1/nope", 404),
    ("POST", "/v1/ingest/no-such-source", 404),
    ("POST", "/healthz", 405),
    ("DELETE", "/metrics", 405),
    ("GET", "/v1/ingest/erp", 405),
])
def test_errors_answer_json(taktd, method, path, status):
    d = taktd()
    body = {} if method == "POST" else None
    r = d.request(method, path, body=body, token="whatever")
    assert r.status == status, r
    assert r.content_type == "application/json", r.headers
    assert isinstance(r.json, dict), r
    if status == 405:
        assert r.headers.get("Allow"), "405 without an Allow header"


PL02 = """\
  mes-pl02: {kind: mes, dialect: canonical, plant: PL02, token_file: mes-pl02.token}
"""
PL02_PLANT = """\
  PL02:
    completion: order
    routes:
      "work_order.*": [events]
"""


def with_pl02(body):
    """default_body() plus an MES source mes-pl02 for a new plant PL02."""
    body = body.replace("destinations:\n", PL02 + "destinations:\n", 1)
    return body + PL02_PLANT


def test_sighup_applies_a_good_file_and_keeps_the_old_one_on_a_bad_file(taktd):
    d = taktd()
    d.write_tokens({"mes-pl02": "mes-pl02-token-e2e"})
    assert d.ingest("mes-pl02", {}).status == 404

    d.reload(with_pl02(default_body()))
    deadline = time.monotonic() + 10
    while (status := d.ingest("mes-pl02", {}).status) == 404:
        assert time.monotonic() < deadline, "mes-pl02 unknown 10 s after SIGHUP"
        time.sleep(0.1)
    assert status in (400, 422), status  # known, authenticated, and {} is no message

    bad = with_pl02(default_body()) + "colour: red\n"
    mark = d.reload(bad)
    bad_line = d.line_of("colour: red")
    d.wait_log(re.escape(f"{d.config_path}:{bad_line}:"), since=mark)
    time.sleep(0.5)
    assert d.running()
    assert d.get("/healthz").status == 200
    assert d.ingest("mes-pl02", {}).status in (400, 422)  # the old (good) file still rules


def test_sigterm_exits_0_within_5_seconds(taktd):
    d = taktd()
    start = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.wait_exit(5) == 0
    assert time.monotonic() - start < 5
