"""conftest — pytest fixtures for takt's end-to-end tests.

  pg_conninfo  the harness's PostgreSQL (TAKT_PG_CONNINFO; the test fails without it)
  pg           takt_e2e.pg.Postgres on that server (create/drop databases)
  database     conninfo of a fresh database for this test module (dropped after)
  taktd_binary TAKT_BINARY_DIR/taktd
  source_dir   the repository (TAKT_SOURCE_DIR)
  taktd_cli    run taktd once: taktd_cli("--version") -> CompletedProcess
  taktd        factory: taktd(body=..., tokens=..., start=True) -> a running Daemon,
               stopped by PID at teardown; its stderr is printed when the test fails
  receiver     a programmable HTTP destination (takt_e2e.receiver.Receiver)
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

from takt_e2e.daemon import Daemon
from takt_e2e.pg import Postgres
from takt_e2e.receiver import Receiver


@pytest.fixture(scope="session")
def pg_conninfo():
    conninfo = os.environ.get("TAKT_PG_CONNINFO")
    if not conninfo:
        pytest.fail("TAKT_PG_CONNINFO is not set: run under tests/harness/with-postgres.sh")
    return conninfo


@pytest.fixture(scope="session")
def pg(pg_conninfo):
    return Postgres(pg_conninfo)


@pytest.fixture(scope="module")
def database(pg, request):
    name = "e2e_" + re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])
    name = f"{name}_{os.getpid()}"[:63]
    conninfo = pg.create_database(name)
    yield conninfo
    pg.drop_database(name)


@pytest.fixture(scope="session")
def source_dir():
    return Path(os.environ.get("TAKT_SOURCE_DIR") or Path(__file__).resolve().parents[2])


@pytest.fixture(scope="session")
def taktd_binary():
    bindir = os.environ.get("TAKT_BINARY_DIR")
    if not bindir:
        pytest.fail("TAKT_BINARY_DIR is not set: run through ctest")
    path = Path(bindir) / "taktd"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build the taktd target")
    return str(path)


@pytest.fixture
def taktd_cli(taktd_binary, tmp_path):
    def run(*args, env=None, cwd=None, timeout=60):
        return subprocess.run([taktd_binary, *args], capture_output=True, text=True,
                              timeout=timeout, env=dict(os.environ, **(env or {})),
                              cwd=cwd or tmp_path, stdin=subprocess.DEVNULL)
    return run


@pytest.fixture
def taktd(request, taktd_binary, database, source_dir, tmp_path):
    daemons = []
    request.node.takt_daemons = daemons  # read by pytest_runtest_makereport

    def start(body=None, tokens=None, conninfo=None, migrate=True, migrate_mode="manual",
              extra="", env=None, start=True, wait=True):
        d = Daemon(taktd_binary, tmp_path / f"taktd{len(daemons)}", conninfo or database,
                   str(source_dir / "conf" / "dialects"), body=body, tokens=tokens,
                   migrate=migrate_mode, extra=extra, env=env)
        daemons.append(d)
        if start:
            d.start(migrate=migrate, wait=wait)
        return d

    yield start
    reports = []
    for d in daemons:
        d.stop(timeout=10.0)
        report = d.sanitizer_report()
        if report:
            reports.append(f"{d.stderr_path}:\n{report}")
    if reports:
        pytest.fail("sanitizer report in taktd's stderr:\n" + "\n".join(reports))


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach each daemon's stderr to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for d in getattr(item, "takt_daemons", []):
            report.sections.append((f"taktd stderr ({d.stderr_path})", d.log()[-20000:]))
