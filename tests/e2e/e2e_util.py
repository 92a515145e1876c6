"""e2e_util — waiting helpers shared by the end-to-end tests."""
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


def wait_ready(d, timeout=30.0):
    """Block until the daemon's /readyz answers 200 (PostgreSQL reachable and
    migrated); the daemon log is in the failure message."""
    deadline = time.monotonic() + timeout
    while d.get("/readyz").status != 200:
        assert time.monotonic() < deadline, "taktd not ready:\n" + d.log()[-3000:]
        time.sleep(0.05)
    return d
