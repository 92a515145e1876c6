"""receiver — a programmable HTTP destination on 127.0.0.1:<free port>.

It records every request (method, path, headers, body, arrival time) and
answers each with the next programmed Reply: a status, a body, extra headers
(Retry-After), a delay, or a hang (no answer until the receiver closes).
Replies can be queued per path; without one the default Reply (200) is used.
"""
import collections
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # never answer; the connection closes with the receiver
    retry_after: object = None  # int seconds or an HTTP date string


@dataclass
class Request:
    method: str
    path: str
    headers: dict  # lower-case names
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def json(self):
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real destinations do

    def log_message(self, fmt, *args):  # quiet: the test prints what it needs
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        recv = self.server.receiver
        req = Request(self.command, self.path,
                      {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
        reply = recv._record(req)
        if reply.hang:
            recv._closing.wait()
            self.close_connection = True
            return
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        headers = dict(reply.headers)
        if reply.retry_after is not None:
            headers["Retry-After"] = str(reply.retry_after)
        headers.setdefault("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_POST = do_PUT = do_PATCH = do_GET = do_DELETE = _handle


class Receiver:
    def __init__(self):
        self._lock = threading.Condition()
        self._closing = threading.Event()
        self._queues = collections.defaultdict(collections.deque)  # path|None -> Replies
        self.default = Reply()
        self.requests = []  # every Request, in arrival order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def reply(self, *replies, path=None):
        """Queue replies (Reply or int status) for the next requests to path
        (exact match), or to any path when path is None."""
        with self._lock:
            for r in replies:
                self._queues[path].append(r if isinstance(r, Reply) else Reply(status=r))

    def _record(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
            self._lock.notify_all()
            for key in (req.path, None):
                if self._queues.get(key):
                    return self._queues[key].popleft()
            return self.default

    def received(self, path=None) -> list:
        """A copy of the requests so far (to path, when given)."""
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, count: int, timeout=20.0, path=None) -> list:
        """Block until count requests (to path, when given) arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self.requests if path is None or r.path == path]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"receiver: {len(got)} requests after {timeout}s, wanted {count}")
                self._lock.wait(left)

    def close(self):
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
