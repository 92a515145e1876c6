"""test_sim — takt-sim against a real taktd: the demo's two plants (DE01:
canonical MES, completion per operation; PL02: legacy-mes MES signing with
HMAC, completion by the MES, scrap separate) and an sap-s4 ERP, with faults
(5xx, timeouts, 400 rejections that the simulator replays). With --check it
exits 0 only when every released order closed and the ERP's totals equal
the MES's; a plant configured differently from what its MES does leaves
orders open and --check fails. Also: usage errors and missing credentials."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from takt_e2e.daemon import ADMIN_TOKEN
from takt_e2e.ports import free_port

TOKENS = {"s4": "s4-token-e2e", "mes-de01": "mes-de01-token-e2e",
          "mes-pl02-hmac": "pl02-hmac-secret-e2e"}


def demo_body(sim_port, pl02_completion="order"):
    """The demo's sources, destinations and plants (conf/taktd.yaml), with
    the destinations on the simulator's port."""
    sink = f"http://127.0.0.1:{sim_port}"
    return f"""\
sources:
  s4: {{kind: erp, dialect: sap-s4, token_file: s4.token}}
  mes-de01: {{kind: mes, dialect: canonical, plant: DE01, token_file: mes-de01.token}}
  mes-pl02: {{kind: mes, dialect: legacy-mes, plant: PL02, hmac_secret_file: mes-pl02-hmac.token}}
destinations:
  mes-de01: {{type: http, url: "{sink}/mes-de01/orders", dialect: canonical, timeout: 2s,
             retry: {{initial: 200ms, max: 2s, max_attempts: 10}}}}
  mes-pl02: {{type: http, url: "{sink}/mes-pl02/orders", dialect: legacy-mes, timeout: 2s,
             retry: {{initial: 200ms, max: 2s, max_attempts: 10}}}}
  s4: {{type: http, kind: erp, url: "{sink}/s4/odata", dialect: sap-s4, timeout: 2s,
       retry: {{initial: 200ms, max: 2s, max_attempts: 10}}}}
  events: {{type: kafka, topic: plant-events}}
plants:
  DE01:
    completion: operation
    scrap: embedded
    sla: {{acknowledge: 30s, erp_confirmation: 2m}}
    routes:
      "work_order.released": [mes-de01, events]
      "work_order.completed": [s4, events]
      "work_order.*": [events]
      "operation.confirmed": [s4, events]
      "material.consumed": [s4, events]
      "quality.*": [events]
  PL02:
    completion: {pl02_completion}
    scrap: separate
    routes:
      "work_order.released": [mes-pl02, events]
      "work_order.completed": [s4, events]
      "work_order.*": [events]
      "operation.confirmed": [s4, events]
      "material.consumed": [s4, events]
      "quality.*": [events]
"""


@pytest.fixture(scope="session")
def sim_binary():
    path = Path(os.environ.get("TAKT_BINARY_DIR", "")) / "src" / "sim" / "takt-sim"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build the takt-sim target")
    return str(path)


def sim_env():
    return dict(os.environ, TAKT_TOKEN_S4=TOKENS["s4"], TAKT_TOKEN_MES_DE01=TOKENS["mes-de01"],
                TAKT_HMAC_PL02=TOKENS["mes-pl02-hmac"], TAKT_ADMIN_TOKEN=ADMIN_TOKEN)


PLANTS = ["--plant", "DE01",
          "--plant", "PL02", "--mes-dialect", "legacy-mes", "--mes-hmac-env", "TAKT_HMAC_PL02",
          "--completion", "order", "--scrap", "separate"]


def run_sim(sim_binary, daemon, port, *args, timeout=150):
    cmd = [sim_binary, "--taktd", daemon.url, "--listen", f"127.0.0.1:{port}", "--json",
           "--timeout-hold", "3s", "--delay", "20ms-100ms", "--hold-time", "300ms",
           "--replay-every", "1s", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=sim_env(),
                         stdin=subprocess.DEVNULL)
    for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert mark not in out.stderr, out.stderr
    return out


def test_two_plants_with_faults_close_every_order_and_totals_match(taktd, sim_binary):
    port = free_port()
    d = taktd(body=demo_body(port), tokens=TOKENS)
    out = run_sim(sim_binary, d, port, *PLANTS, "--rate", "4", "--duration", "8s",
                  "--drain", "90s", "--fault-rate", "0.15", "--hold-rate", "0.3", "--seed", "7",
                  "--check")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True
    assert report["released"] >= 20, report
    assert report["release_rejected"] == 0 and report["mes_messages"]["rejected"] == 0, report
    assert report["closed"] == report["released"] and report["open"] == 0, report
    for plant in ("DE01", "PL02"):
        totals = report["plants"][plant]
        assert totals["equal"], totals
        assert totals["erp"]["completions"] > 0, totals
    faults = report["faults"]
    assert faults["5xx"] + faults["timeout"] + faults["400"] > 0, faults
    # every 400 rejection became a failed message that the simulator replayed
    assert report["replayed"] == faults["400"], (report["replayed"], faults)
    assert "replayed failed message" in out.stderr or faults["400"] == 0
    assert d.admin_get("/v1/messages?state=failed").json["messages"] == []
    assert report["sla_breaches"] is not None


def test_check_fails_when_orders_stay_open(taktd, sim_binary):
    """takt's plant PL02 has 'completion: order' (the MES must send the
    completion) but the simulated MES plays 'completion: operation' and never
    sends it: PL02's orders stay open, and --check exits 1."""
    port = free_port()
    d = taktd(body=demo_body(port, pl02_completion="order"), tokens=TOKENS)
    out = run_sim(sim_binary, d, port, "--plant", "PL02", "--mes-dialect", "legacy-mes",
                  "--mes-hmac-env", "TAKT_HMAC_PL02", "--completion", "operation", "--scrap",
                  "separate", "--rate", "4", "--duration", "2s", "--drain", "4s",
                  "--fault-rate", "0", "--check")
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is False and report["open"] > 0, report


@pytest.mark.parametrize("args,message", [
    (["--frobnicate"], "unknown option"),
    (["--rate"], "needs a value"),
    (["--plant", "PL02", "--mes-dialect", "legacy-mes"], "--scrap separate"),
])
def test_usage_errors_exit_2(sim_binary, args, message):
    out = subprocess.run([sim_binary, *args], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 2, out
    assert message in out.stderr and "usage" in out.stderr


def test_missing_token_is_named(sim_binary):
    env = {k: v for k, v in sim_env().items() if k != "TAKT_TOKEN_S4"}
    out = subprocess.run([sim_binary, "--listen", f"127.0.0.1:{free_port()}"], capture_output=True,
                         text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert out.returncode == 2, out
    assert "TAKT_TOKEN_S4" in out.stderr and "demo.env" in out.stderr


def test_help_exits_0(sim_binary):
    out = subprocess.run([sim_binary, "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "--fault-rate" in out.stdout



def test_shipped_demo_config_and_sim_defaults_work_together(taktd_binary, sim_binary, database,
                                                            source_dir, tmp_path):
    """The README's demo: conf/taktd.yaml with conf/demo.env's secrets and
    takt-sim with its defaults (sap-s4 ERP "s4", DE01's canonical MES
    "mes-de01", the demo's token variables). Orders flow, /metrics moves, and
    a failed message is replayed, all within a minute and a half: 20 s of
    orders, then up to 60 s for the last ones to close, because the shipped
    retry policy may rightly take longer than 30 s for one (a destination's
    breaker opens for 30 s after five failures in a row; timeouts cluster).
    A run closes them in 15-26 s after the orders stop. The ports are moved
    to free ones (a demo may be running on 8470/8471); that the file and the
    simulator agree on them is checked separately."""
    import signal
    import time
    import urllib.request
    taktd_port, sim_port = free_port(), free_port()
    text = (source_dir / "conf" / "taktd.yaml").read_text()
    text = text.replace("port: 8470", f"port: {taktd_port}")
    text = text.replace("127.0.0.1:8471/", f"127.0.0.1:{sim_port}/")
    text = text.replace("dialects_dir: dialects",
                        f"dialects_dir: {source_dir / 'conf' / 'dialects'}")
    conf = tmp_path / "taktd.yaml"
    conf.write_text(text)
    env = dict(os.environ, TAKT_PG_CONNINFO=database)
    for line in (source_dir / "conf" / "demo.env").read_text().splitlines():
        m = re.match(r"export (\w+)=(\S+)", line)
        if m:
            env[m.group(1)] = m.group(2)
    mig = subprocess.run([taktd_binary, "--migrate", "--config", str(conf)], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert mig.returncode == 0, mig.stderr
    url = f"http://127.0.0.1:{taktd_port}"
    log = open(tmp_path / "taktd.stderr", "wb")
    daemon = subprocess.Popen([taktd_binary, "--foreground", "--config", str(conf)], env=env,
                              cwd=tmp_path, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                assert daemon.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "taktd.stderr").read_text()[-3000:]
                time.sleep(0.1)
        start = time.monotonic()
        out = subprocess.run([sim_binary, "--taktd", url, "--listen", f"127.0.0.1:{sim_port}",
                              "--duration", "20s", "--drain", "60s", "--fault-rate", "0.2",
                              "--timeout-hold", "6s", "--json", "--check"], env=env,
                             capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL)
        assert time.monotonic() - start < 90, "the demo took over a minute and a half"
        assert out.returncode == 0, out.stdout + out.stderr
        report = json.loads(out.stdout)
        assert report["released"] > 0 and report["open"] == 0, report
        assert report["replayed"] >= 1, report
        assert "replayed failed message" in out.stderr
        metrics = urllib.request.urlopen(url + "/metrics", timeout=5).read()
        assert re.search(rb'^takt_ingest_messages_total\{source="s4"[^}]*result="accepted"\} [1-9]',
                         metrics, re.M), metrics[:2000]
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()
    text = (tmp_path / "taktd.stderr").read_text(errors="replace")
    for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert mark not in text, text[-4000:]


def test_shipped_config_points_at_the_sim_defaults(source_dir, sim_binary):
    """conf/taktd.yaml listens where takt-sim drives by default, and its
    HTTP destinations are on takt-sim's default --listen."""
    import yaml
    conf = yaml.safe_load((source_dir / "conf" / "taktd.yaml").read_text())
    help_text = subprocess.run([sim_binary, "--help"], capture_output=True, text=True,
                               timeout=30).stdout
    assert f"http://{conf['listen']['address']}:{conf['listen']['port']}" in help_text
    listen = re.search(r"--listen ADDR:PORT.*\((\S+)\)", help_text).group(1)
    for name in ("mes-de01", "s4"):
        assert conf["destinations"][name]["url"].startswith(f"http://{listen}/{name}/"), name
