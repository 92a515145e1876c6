"""e2e_util — helpers shared by the end-to-end tests: waiting, and stopping
or starting the harness's PostgreSQL."""
import os
import subprocess
import time


def wait_until(check, what, timeout=20.0, interval=0.05):
    """Call check() until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(interval)


def pg_ctl(action, *args):
    """Run tests/harness/pg-<action>.sh: pg_ctl("stop"), pg_ctl("stop",
    "immediate") (a crash), pg_ctl("start")."""
    script = os.path.join(os.environ["TAKT_SOURCE_DIR"], "tests", "harness", f"pg-{action}.sh")
    subprocess.run(["sh", script, *args], check=True, timeout=60, stdin=subprocess.DEVNULL)


def wait_ready(d, timeout=30.0):
    """Block until the daemon's /readyz answers 200 (PostgreSQL reachable and
    migrated); the daemon log is in the failure message."""
    deadline = time.monotonic() + timeout
    while d.get("/readyz").status != 200:
        assert time.monotonic() < deadline, "taktd not ready:\n" + d.log()[-3000:]
        time.sleep(0.05)
    return d
