"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a real harness registry (or its token server).

    with FaultProxy(harness.open.url) as proxy:            # clients talk to proxy.host with plain_http
        proxy.add(Fault.status(429, retry_after='1'), method='HEAD', path=r'/manifests/', count=1)
        ...                                                 # run the client
        proxy.seen                                          # every request: method, path, status, authorization, fault
        proxy.writes()                                      # PUT/POST/PATCH/DELETE that reached the proxy

Faults are rules matched in order against each request (method, path regex, how many times); a rule whose count is
used up stops matching. Without a matching rule the request goes to the upstream unchanged. Faults:

    Fault.status(code, retry_after=None, body=...)  answer at once (429 with Retry-After seconds or HTTP-date, 503, ...)
    Fault.reset()                                   read the request, then reset the connection (no answer)
    Fault.truncate(keep)                            forward, but send only the first `keep` body bytes under the full length
    Fault.stall(seconds)                            wait, then forward (a client with a shorter timeout has given up)
    Fault.expire_token()                            answer 401 with the upstream's Bearer challenge and error="invalid_token"
    proxy.revoke()                                  the same for every later request carrying an Authorization seen so far
    Fault.drop_header(name)                         forward, without one response header (Docker-Content-Digest)
    Fault.corrupt()                                 forward, with the body's bytes changed (same length: a digest mismatch)
    Fault.redirect(storage)                         forward, store the body in a StorageServer and answer 307 to it

    proxy.limit_pulls(remaining, limit, window)     Docker Hub's pull limit: every manifest answer carries RateLimit-Limit and
                                                    RateLimit-Remaining; a manifest GET spends one pull, a HEAD none; with none
                                                    left a manifest GET is answered 429 TOOMANYREQUESTS

`rewrite` replaces text in WWW-Authenticate and Location values, so a registry proxy can send clients to a second proxy
in front of the token server. Used only by tests that need faults no real registry shows on demand.
"""
from __future__ import annotations

import http.client
import re
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Optional
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"))
WRITE_METHODS = frozenset(("PUT", "POST", "PATCH", "DELETE"))


@dataclass(frozen=True)
class Fault:
    """What to do with a matching request (build one with the class methods)."""

    kind: str
    code: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    seconds: float = 0.0
    keep: int = 0
    header: str = ""
    storage: Optional["StorageServer"] = None

    @classmethod
    def status(cls, status: int, retry_after: Optional[str] = None, body: Optional[bytes] = None) -> "Fault":
        headers = (("Retry-After", retry_after),) if retry_after is not None else ()
        code = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}.get(status, "UNKNOWN")
        default = b'{"errors":[{"code":"%s","message":"injected by the fault proxy"}]}' % code.encode("ascii")
        return cls("status", code=status, headers=headers + (("Content-Type", "application/json"),),
                   body=default if body is None else body)

    @staticmethod
    def retry_after_date(seconds: float) -> str:
        """An HTTP-date `seconds` from now (whole seconds, as the header allows)."""
        return formatdate(time.time() + seconds, usegmt=True)

    @classmethod
    def reset(cls) -> "Fault":
        return cls("reset")

    @classmethod
    def truncate(cls, keep: int = 10) -> "Fault":
        return cls("truncate", keep=keep)

    @classmethod
    def stall(cls, seconds: float) -> "Fault":
        return cls("stall", seconds=seconds)

    @classmethod
    def expire_token(cls) -> "Fault":
        return cls("expire_token")

    @classmethod
    def drop_header(cls, name: str = "Docker-Content-Digest") -> "Fault":
        return cls("drop_header", header=name)

    @classmethod
    def corrupt(cls) -> "Fault":
        return cls("corrupt")

    @classmethod
    def redirect(cls, storage: "StorageServer") -> "Fault":
        return cls("redirect", storage=storage)


@dataclass
class Rule:
    fault: Fault
    method: Optional[str] = None
    path: str = ""
    count: Optional[int] = 1
    hits: int = 0
    _pattern: Any = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method and method.upper() != self.method.upper():
            return False
        if self._pattern is None:
            self._pattern = re.compile(self.path)
        return bool(self._pattern.search(path))


class Seen(NamedTuple):
    """One request the proxy saw."""

    method: str
    path: str
    status: Optional[int]
    authorization: bool  # whether it carried an Authorization header
    fault: Optional[str]  # the fault applied, if any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 32 client threads connect at once: the default backlog of 5 would refuse some
    owner: Any


def _serve(server: _Server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                              name="oci-test-%s" % type(server.owner).__name__)
    thread.start()
    return thread


class _Base:
    """Start/stop of a threaded loopback HTTP server owned by this object."""

    handler: type

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), self.handler)
        self._server.owner = self
        self.port = int(self._server.server_address[1])
        self.host = "127.0.0.1:%d" % self.port
        self.url = "http://%s" % self.host
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def start(self) -> Any:
        if self._thread is None:
            self._thread = _serve(self._server)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _StorageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        """Quiet."""

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        storage: StorageServer = self.server.owner  # type: ignore[attr-defined]
        key = urlsplit(self.path).path.rsplit("/", 1)[-1]
        storage.record(self.path, self.headers.get("Authorization"))
        data = storage.objects.get(key)
        if data is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StorageServer(_Base):
    """A second host that serves blobs by signed-looking URL and records whether Authorization reached it."""

    handler = _StorageHandler

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[str, bytes] = {}
        self.requests: list[tuple[str, Optional[str]]] = []

    def put(self, data: bytes) -> str:
        key = secrets.token_hex(8)
        with self._lock:
            self.objects[key] = data
        return "%s/objects/%s?X-Signature=%s" % (self.url, key, secrets.token_hex(8))

    def record(self, path: str, authorization: Optional[str]) -> None:
        with self._lock:
            self.requests.append((path, authorization))

    @property
    def authorization_seen(self) -> list[str]:
        """Every Authorization value that reached this host (must stay empty)."""
        with self._lock:
            return [value for _path, value in self.requests if value]


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        """Quiet."""

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        proxy: FaultProxy = self.server.owner  # type: ignore[attr-defined]
        method = self.command
        body = self._body()
        rule = proxy.match(method, self.path)
        fault = rule.fault if rule else None
        authorization = bool(self.headers.get("Authorization"))
        if proxy.is_revoked(self.headers.get("Authorization")):
            fault = Fault.expire_token()
        if fault is not None and fault.kind == "reset":
            proxy.record(method, self.path, None, authorization, "reset")
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if fault is not None and fault.kind == "status":
            proxy.record(method, self.path, fault.code, authorization, "status")
            self._reply(fault.code, list(fault.headers), fault.body, head=method == "HEAD")
            return
        if fault is not None and fault.kind == "expire_token":
            challenge = proxy.upstream_challenge()
            proxy.record(method, self.path, 401, authorization, "expire_token")
            error = b'{"errors":[{"code":"UNAUTHORIZED","message":"token expired (fault proxy)"}]}'
            self._reply(401, [("WWW-Authenticate", challenge + ',error="invalid_token"'), ("Content-Type", "application/json")], error,
                        head=method == "HEAD")
            return
        if fault is not None and fault.kind == "stall":
            # Recorded on arrival: by the time the answer goes out the client has usually given up.
            proxy.record(method, self.path, None, authorization, "stall")
            time.sleep(fault.seconds)
        try:
            status, headers, data = proxy.forward(method, self.path, self.headers, body)
        except OSError as exc:
            proxy.record(method, self.path, 502, authorization, "upstream_error")
            self._reply(502, [("Content-Type", "text/plain")], ("upstream error: %s" % exc).encode("utf-8"), head=method == "HEAD")
            return
        kind = fault.kind if fault is not None else None
        if "/manifests/" in self.path and method in ("GET", "HEAD"):
            limited = proxy.spend_pull(method, status, headers)
            if limited is not None:
                proxy.record(method, self.path, 429, authorization, "pull_limit")
                self._reply(429, limited, Fault.status(429).body, head=method == "HEAD")
                return
        if kind == "stall":
            self._reply(status, headers, data, head=method == "HEAD")
            return
        if kind == "drop_header":
            headers = [(k, v) for k, v in headers if k.lower() != fault.header.lower()]  # type: ignore[union-attr]
        elif kind == "corrupt" and data:
            data = bytes([data[0] ^ 0x01]) + data[1:]
        elif kind == "redirect" and status == 200 and fault is not None and fault.storage is not None:
            location = fault.storage.put(data)
            proxy.record(method, self.path, 307, authorization, "redirect")
            self._reply(307, [("Location", location)], b"", head=method == "HEAD")
            return
        proxy.record(method, self.path, status, authorization, kind)
        if kind == "truncate":
            self._reply(status, headers, data[:fault.keep], head=method == "HEAD", length=len(data))  # type: ignore[union-attr]
            self.close_connection = True
            return
        self._reply(status, headers, data, head=method == "HEAD")

    def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes, head: bool = False,
               length: Optional[int] = None) -> None:
        try:
            self.send_response(status)
            has_length = False
            for name, value in headers:
                if name.lower() in HOP_BY_HOP:
                    continue
                if name.lower() == "content-length":
                    has_length = True
                    if length is not None:
                        value = str(length)
                self.send_header(name, value)
            if not has_length:
                self.send_header("Content-Length", str(length if length is not None else len(data)))
            self.end_headers()
            if not head and data:
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (stall past its timeout)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle  # noqa: N815


class FaultProxy(_Base):
    """Forwards to one upstream (http://host:port) unless a fault rule matches; records every request."""

    handler = _ProxyHandler

    def __init__(self, upstream: str, rewrite: Optional[dict[str, str]] = None, timeout: float = 30.0) -> None:
        super().__init__()
        parts = urlsplit(upstream)
        if parts.scheme != "http":
            raise ValueError("the fault proxy forwards to plain-HTTP upstreams only, got %s" % upstream)
        self.upstream = upstream.rstrip("/")
        self.upstream_host = parts.netloc
        self.rewrite = dict(rewrite or {})
        self.timeout = timeout
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self._challenge: Optional[str] = None
        self._credentials: dict[str, float] = {}  # Authorization value -> when first seen
        self._revoked: set[str] = set()
        self.revocations = 0

    # -- Docker Hub's pull limit -------------------------------------------------------------------------
    def limit_pulls(self, remaining: int, limit: int = 100, window: int = 21600) -> None:
        """From now on, manifest answers carry RateLimit headers and each manifest GET spends one of `remaining` pulls."""
        with self._lock:
            self.pulls = {"limit": limit, "remaining": remaining, "window": window}

    def spend_pull(self, method: str, status: int, headers: list[tuple[str, str]]) -> Optional[list[tuple[str, str]]]:
        """Add the RateLimit headers to a manifest answer; the headers of a 429 when no pull is left for a GET, else None."""
        with self._lock:
            pulls = getattr(self, "pulls", None)
            if pulls is None:
                return None
            if method == "GET" and status == 200:
                if pulls["remaining"] <= 0:
                    return [("Content-Type", "application/json"), ("RateLimit-Limit", "%d;w=%d" % (pulls["limit"], pulls["window"])),
                            ("RateLimit-Remaining", "0;w=%d" % pulls["window"]), ("Retry-After", "0")]
                pulls["remaining"] -= 1
            headers.append(("RateLimit-Limit", "%d;w=%d" % (pulls["limit"], pulls["window"])))
            headers.append(("RateLimit-Remaining", "%d;w=%d" % (pulls["remaining"], pulls["window"])))
            return None

    # -- rules -------------------------------------------------------------------------------------------
    def add(self, fault: Fault, method: Optional[str] = None, path: str = "", count: Optional[int] = 1) -> Rule:
        """Apply `fault` to the next `count` requests (None: all) whose method and path (regex search) match."""
        rule = Rule(fault, method, path, count)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every rule, every recorded request and every revoked credential."""
        with self._lock:
            self.rules.clear()
            self.seen.clear()
            self._revoked.clear()
            self._credentials.clear()

    def revoke(self, min_age: float = 0.0) -> int:
        """Expire every Authorization value first seen at least `min_age` seconds ago: later requests carrying one get
        401 invalid_token (a token issued a moment ago is not expired by any real registry)."""
        now = time.monotonic()
        with self._lock:
            self._revoked.update(value for value, first in self._credentials.items() if now - first >= min_age)
            self.revocations += 1
            return len(self._revoked)

    def is_revoked(self, authorization: Optional[str]) -> bool:
        if not authorization:
            return False
        with self._lock:
            self._credentials.setdefault(authorization, time.monotonic())
            return authorization in self._revoked

    def match(self, method: str, path: str) -> Optional[Rule]:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return None

    # -- records -----------------------------------------------------------------------------------------
    def record(self, method: str, path: str, status: Optional[int], authorization: bool, fault: Optional[str]) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, status, authorization, fault))

    def writes(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.method in WRITE_METHODS]

    def count(self, method: Optional[str] = None, path: str = "", fault: Optional[str] = None) -> int:
        with self._lock:
            return sum(1 for s in self.seen if (method is None or s.method == method) and re.search(path, s.path)
                       and (fault is None or s.fault == fault))

    # -- upstream ----------------------------------------------------------------------------------------
    def _rewritten(self, value: str) -> str:
        for old, new in self.rewrite.items():
            value = value.replace(old, new)
        return value.replace(self.upstream, self.url)

    def forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, timeout=self.timeout)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}
            out["Host"] = self.upstream_host
            if body or method in WRITE_METHODS:
                out["Content-Length"] = str(len(body))
            connection.request(method, path, body=body or None, headers=out)
            response = connection.getresponse()
            data = b"" if method == "HEAD" else response.read()
            answer = []
            for name, value in response.getheaders():
                if name.lower() in ("www-authenticate", "location"):
                    value = self._rewritten(value)
                answer.append((name, value))
            return response.status, answer, data
        finally:
            connection.close()

    def upstream_challenge(self) -> str:
        """The Bearer (or Basic) challenge the upstream sends on /v2/, learned once."""
        if self._challenge is None:
            connection = http.client.HTTPConnection(self.upstream_host, timeout=self.timeout)
            try:
                connection.request("GET", "/v2/")
                response = connection.getresponse()
                response.read()
                self._challenge = self._rewritten(response.getheader("WWW-Authenticate") or 'Bearer realm="%s/token"' % self.url)
            finally:
                connection.close()
        return self._challenge
