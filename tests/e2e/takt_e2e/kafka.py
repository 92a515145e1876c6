"""kafka — read topics back with kcat (the daemon's embedded mock cluster or
a real broker) and find the embedded cluster's bootstrap address in the log."""
import json
import re
import subprocess
import time

_BOOTSTRAP = re.compile(r"bootstrap(?:[._]?servers?|s)?=\"?([0-9A-Za-z.\-\[\]:,]+:\d+)")


def bootstrap_from_log(text: str):
    """The last 'bootstrap=host:port' the daemon logged, or None."""
    found = _BOOTSTRAP.findall(text)
    return found[-1] if found else None


def _record(line: str) -> dict:
    rec = json.loads(line)
    hdrs = rec.get("headers") or []
    if isinstance(hdrs, list):  # kcat -J: ["k1", "v1", "k2", "v2"]
        rec["headers"] = dict(zip(hdrs[0::2], hdrs[1::2]))
    try:
        rec["value"] = json.loads(rec.get("payload") or "null")
    except ValueError:
        rec["value"] = None
    return rec


def read_topic(bootstrap: str, topic: str, timeout=20.0) -> list:
    """Every record of topic, from the beginning to the current end. Each is
    kcat's JSON with headers as a dict and the payload parsed as "value"."""
    out = subprocess.run(
        ["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError(f"kcat failed ({out.returncode}) on {topic}: {out.stderr}")
    return [_record(line) for line in out.stdout.splitlines() if line.startswith("{")]


def wait_records(bootstrap: str, topic: str, count: int, timeout=20.0) -> list:
    """Poll topic until it holds at least count records; returns them."""
    deadline = time.monotonic() + timeout
    records = []
    while time.monotonic() < deadline:
        try:
            records = read_topic(bootstrap, topic, timeout=max(1.0, deadline - time.monotonic()))
        except (RuntimeError, subprocess.TimeoutExpired):
            records = []
        if len(records) >= count:
            return records
        time.sleep(0.2)
    raise AssertionError(f"{topic}: {len(records)} records after {timeout}s, wanted {count}")
