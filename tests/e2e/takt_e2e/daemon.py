"""daemon — one taktd process started from an inline YAML config.

Daemon writes <workdir>/taktd.yaml (listen on 127.0.0.1:<free port>, admin
token file, the test's database, the repository's dialects, the embedded
Kafka cluster, then the test's sources/destinations/plants) and one
<name>.token file per credential, runs `taktd --migrate` (unless told not
to), starts `taktd --foreground`, and waits for /healthz. Its stderr goes to
<workdir>/taktd.stderr; stop() ends it by PID (SIGTERM, SIGKILL after 10 s).
"""
import json
import os
import re
import signal
import subprocess
import time

from . import http, kafka
from .ports import free_port

ADMIN_TOKEN = "admin-token-e2e"
DEFAULT_TOKENS = {"erp": "erp-token-e2e", "mes-de01": "mes-de01-token-e2e"}
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def default_body(sink="http://127.0.0.1:9"):
    """One ERP, one MES plant DE01, HTTP destinations at sink/<name>, and a
    Kafka destination "events" (topic takt.plant-events)."""
    return f"""\
sources:
  erp: {{kind: erp, dialect: canonical, token_file: erp.token}}
  mes-de01: {{kind: mes, dialect: canonical, plant: DE01, token_file: mes-de01.token}}
destinations:
  erp: {{type: http, url: "{sink}/erp", dialect: canonical}}
  mes-de01: {{type: http, url: "{sink}/mes-de01", dialect: canonical}}
  events: {{type: kafka, topic: plant-events}}
plants:
  DE01:
    completion: operation
    scrap: embedded
    routes:
      "work_order.*": [mes-de01, events]
      "operation.confirmed": [erp, events]
      "material.consumed": [erp, events]
      "quality.*": [events]
"""


def render_config(port, conninfo, body, dialects_dir, migrate="manual", extra=""):
    """The whole file: fixed header, extra top-level keys, then body."""
    return (f"listen: {{address: 127.0.0.1, port: {port}}}\n"
            f"admin: {{token_file: admin.token}}\n"
            f"postgres: {{conninfo: {json.dumps(conninfo)}, migrate: {migrate}}}\n"
            f"dialects_dir: {json.dumps(dialects_dir)}\n"
            f"kafka: {{brokers: embedded, topic_prefix: \"takt.\"}}\n"
            f"{extra}{body}")


class Daemon:
    def __init__(self, binary, workdir, conninfo, dialects_dir, body=None, tokens=None,
                 migrate="manual", extra="", env=None):
        self.binary = binary
        self.dir = str(workdir)
        self.conninfo = conninfo
        self.dialects_dir = dialects_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = os.path.join(self.dir, "taktd.yaml")
        self.stderr_path = os.path.join(self.dir, "taktd.stderr")
        self.admin_token = ADMIN_TOKEN
        self.tokens = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self.migrate_mode = migrate
        self.env = dict(os.environ, TAKT_PG_CONNINFO=conninfo, **(env or {}))
        self.proc = None
        self.returncode = None
        os.makedirs(self.dir, exist_ok=True)
        self.write_tokens(self.tokens)
        self.write_config(body if body is not None else default_body(), extra=extra)

    # --- files ---------------------------------------------------------------
    def write_tokens(self, tokens: dict):
        """<name>.token for each credential and admin.token; a trailing
        newline, which is not part of the secret (contract §5)."""
        for name, value in dict(tokens, admin=self.admin_token).items():
            with open(os.path.join(self.dir, f"{name}.token"), "w") as f:
                f.write(value + "\n")
        self.tokens.update(tokens)

    def write_config(self, body: str, extra=""):
        """Replace taktd.yaml (atomically, as an operator's editor would)."""
        text = render_config(self.port, self.conninfo, body, self.dialects_dir,
                             self.migrate_mode, extra)
        tmp = self.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)
        self.config_text = text

    def line_of(self, needle: str) -> int:
        """1-based line of the first config line containing needle."""
        for n, line in enumerate(self.config_text.splitlines(), 1):
            if needle in line:
                return n
        raise KeyError(needle)

    # --- process -------------------------------------------------------------
    def cli(self, *args, timeout=60) -> subprocess.CompletedProcess:
        """Run taktd once with args and this config (e.g. "--migrate")."""
        return subprocess.run([self.binary, *args, "--config", self.config_path],
                              capture_output=True, text=True, timeout=timeout,
                              env=self.env, cwd=self.dir, stdin=subprocess.DEVNULL)

    def migrate(self):
        out = self.cli("--migrate")
        assert out.returncode == 0, f"taktd --migrate failed ({out.returncode}):\n{out.stderr}"

    def start(self, migrate=True, wait=True, timeout=30.0):
        if migrate:
            self.migrate()
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--foreground", "--config", self.config_path],
                                     stdin=subprocess.DEVNULL, stdout=self._stderr,
                                     stderr=self._stderr, env=self.env, cwd=self.dir)
        self.pid = self.proc.pid
        if wait:
            self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"taktd exited with {self.proc.returncode} before answering /healthz:\n"
                    + self.log()[-4000:])
            try:
                if self.get("/healthz", timeout=1.0).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"taktd gave no /healthz 200 within {timeout}s:\n" + self.log()[-4000:])

    def signal(self, sig):
        os.kill(self.pid, sig)

    def reload(self, body=None, extra=""):
        """Rewrite the config (when body is given) and send SIGHUP. Returns
        the log offset before the signal, for wait_log(since=...)."""
        if body is not None:
            self.write_config(body, extra=extra)
        mark = len(self.log())
        self.signal(signal.SIGHUP)
        return mark

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout) -> int:
        """The exit status, or raises subprocess.TimeoutExpired."""
        self.returncode = self.proc.wait(timeout)
        return self.returncode

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self._stderr.close()
        return self.returncode

    # --- log -----------------------------------------------------------------
    def log(self) -> str:
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, since=0):
        """The first regex match in the log after offset since."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.log(), since)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"no /{pattern}/ in taktd's log within {timeout}s:\n"
                                     + self.log()[since:][-4000:])
            time.sleep(0.05)

    def sanitizer_report(self):
        """The sanitizer's report in the log, or None."""
        text = self.log()
        for mark in SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                return text[max(0, i - 200):i + 4000]
        return None

    def kafka_bootstrap(self, timeout=10.0) -> str:
        """The embedded cluster's bootstrap address, from the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = kafka.bootstrap_from_log(self.log())
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError("taktd logged no Kafka bootstrap address:\n" + self.log()[-4000:])

    # --- HTTP ----------------------------------------------------------------
    def get(self, path, token=None, headers=None, timeout=10.0) -> http.Response:
        return http.get_json(self.url + path, token=token, headers=headers, timeout=timeout)

    get_json = get

    def post_json(self, path, body, token=None, headers=None, timeout=10.0) -> http.Response:
        return http.post_json(self.url + path, body, token=token, headers=headers,
                              timeout=timeout)

    def request(self, method, path, body=None, token=None, headers=None, timeout=10.0):
        return http.request(method, self.url + path, body=body, token=token, headers=headers,
                            timeout=timeout)

    def ingest(self, source, body, token=None, headers=None) -> http.Response:
        """POST /v1/ingest/<source> with the source's own token by default."""
        tok = self.tokens.get(source) if token is None else token
        return self.post_json(f"/v1/ingest/{source}", body, token=tok, headers=headers)

    def admin_get(self, path) -> http.Response:
        return self.get(path, token=self.admin_token)
