"""http — a small HTTP/1.1 client for talking to taktd: one request, one
connection, the answer as a Response (never raises for a status code)."""
import http.client
import json
import urllib.parse
from dataclasses import dataclass


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage  # case-insensitive .get()
    body: bytes

    @property
    def json(self):
        """The body parsed as JSON (raises ValueError when it is not JSON)."""
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


def request(method, url, body=None, token=None, headers=None, timeout=10.0) -> Response:
    """Send one request. body: bytes/str as is, anything else as JSON.
    token: sent as "Authorization: Bearer <token>"."""
    parts = urllib.parse.urlsplit(url)
    hdrs = {}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def post_json(url, body, token=None, headers=None, timeout=10.0) -> Response:
    return request("POST", url, body=body, token=token, headers=headers, timeout=timeout)


def get_json(url, token=None, headers=None, timeout=10.0) -> Response:
    return request("GET", url, token=token, headers=headers, timeout=timeout)
