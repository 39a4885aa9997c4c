# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import base64
import calendar
import datetime
import email.utils
import http.server
import ipaddress
import os
import pathlib
import socket
import ssl
import threading
import time
import typing as t

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import urllib3
from urllib3._collections import HTTPHeaderDict  # where both urllib3 1.26 and 2.x have it
from urllib3.util.retry import RequestHistory

from ansible_collections.oci.registry.plugins.module_utils.model._errors import (
    RegistryConnectionError,
    RegistryError,
    ResponseTooLargeError,
    TLSError,
)
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions, Credentials
from ansible_collections.oci.registry.plugins.module_utils.wire._http import MAX_RETRY_WAIT, RegistryRetry, parse_retry_after
from ansible_collections.oci.registry.plugins.module_utils.wire._transport import (
    RequestLog,
    RequestRecord,
    Transport,
    read_capped,
)

# --- parse_retry_after ------------------------------------------------------------------------

# 1994-11-06 08:49:27 UTC: ten seconds before the date in RFC 9110's examples.
NOW = float(calendar.timegm((1994, 11, 6, 8, 49, 27)))

# value, expected seconds at NOW
RETRY_AFTER = [
    ("120", 120.0),
    ("0", 0.0),
    (" 7 ", 7.0),
    # The three HTTP-date forms of RFC 9110 section 5.6.7 (a recipient must accept all three); all are GMT.
    ("Sun, 06 Nov 1994 08:49:37 GMT", 10.0),
    ("Sunday, 06-Nov-94 08:49:37 GMT", 10.0),
    ("Sun Nov  6 08:49:37 1994", 10.0),
    # RFC 5322 numeric zones: "-0000" is UTC too; an explicit offset is honoured.
    ("Sun, 06 Nov 1994 08:49:37 -0000", 10.0),
    ("Sun, 06 Nov 1994 09:49:37 +0100", 10.0),
    ("Sun, 06 Nov 1994 08:51:27 GMT", 120.0),
    # In the past: no wait.
    ("Sun, 06 Nov 1994 08:49:17 GMT", 0.0),
    ("Sun Nov  6 07:00:00 1994", 0.0),
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
    # Garbage.
    ("", None),
    (None, None),
    ("soon", None),
    ("-5", None),
    ("1.5", None),
    ("Sun, 99 Nov 1994 08:49:37 GMT", None),
]


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def local_timezone(request: pytest.FixtureRequest) -> t.Iterator[str]:
    """Run under several local time zones: an HTTP date means the same instant in all of them."""
    if not hasattr(time, "tzset"):
        pytest.fail("time.tzset is needed to change the local time zone")
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.parametrize("value, expected", RETRY_AFTER)
def test_parse_retry_after(local_timezone: str, value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_against_the_clock() -> None:
    # Without ``now`` the wait is measured from the current time, in UTC.
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=90)
    wait = parse_retry_after(email.utils.format_datetime(future, usegmt=True))
    assert wait is not None and 85.0 <= wait <= 90.0
    assert parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT") == 0.0
    assert parse_retry_after("45") == 45.0


# headers of a response (an int is an epoch: that many seconds from now), expected wait (None: no header, the backoff applies)
RETRY_WAITS: list[tuple[dict[str, t.Union[str, int]], float | None]] = [
    ({}, None),
    ({"Retry-After": "5"}, 5.0),
    ({"retry-after": "5"}, 5.0),
    ({"Retry-After": "0"}, 0.0),
    ({"Retry-After": "3600"}, MAX_RETRY_WAIT),
    ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, MAX_RETRY_WAIT),
    ({"Retry-After": "Mon, 01 Jan 2001 00:00:00 GMT"}, 0.0),
    # Docker Hub's API: an epoch in X-Retry-After.
    ({"X-Retry-After": 3600}, MAX_RETRY_WAIT),
    ({"X-Retry-After": -100}, 0.0),
    ({"X-Retry-After": "soon"}, None),
    ({"Retry-After": "garbage", "X-Retry-After": 3600}, MAX_RETRY_WAIT),
    # Retry-After wins when both are there.
    ({"Retry-After": "2", "X-Retry-After": 3600}, 2.0),
]


class _Response:
    def __init__(self, headers: t.Mapping[str, str]) -> None:
        self.headers = HTTPHeaderDict(headers)


@pytest.mark.parametrize("headers, expected", RETRY_WAITS)
def test_get_retry_after(headers: dict[str, t.Union[str, int]], expected: float | None) -> None:
    now = int(time.time())
    response = _Response({name: str(now + value) if isinstance(value, int) else value for name, value in headers.items()})
    assert RegistryRetry(total=3).get_retry_after(response) == expected


def test_get_retry_after_epoch_near() -> None:
    wait = RegistryRetry(total=3).get_retry_after(_Response({"X-Retry-After": str(int(time.time()) + 12)}))
    assert wait is not None and 10.0 <= wait <= 12.0


def test_retry_subclass_survives_increment() -> None:
    # urllib3 makes a new Retry per attempt; the Retry-After cap must not be lost on the way.
    retry = RegistryRetry(total=3, status_forcelist=[429])
    assert isinstance(retry.new(total=2), RegistryRetry)


# --- the Retry a Transport mounts, under whichever urllib3 is installed ---------------------------
# The test venv has urllib3 2.x; the matrix runs this file again with the urllib3 1.26 of the
# distributions' python3-requests (Debian 12, RHEL 9), where Retry has no backoff_max argument.

def _mounted_retry(retries: int) -> t.Any:
    """The Retry a Transport hands urllib3 on every request."""
    transport = Transport("https://registry.example", "registry.example", ConnectionOptions(retries=retries), RequestLog())
    return transport.retry


@pytest.mark.parametrize("retries", [0, 3, 7])
def test_transport_mounts_a_registry_retry(retries: int) -> None:
    retry = _mounted_retry(retries)
    assert isinstance(retry, RegistryRetry), urllib3.__version__
    assert (retry.total, retry.connect, retry.read, retry.status, retry.other, retry.redirect) == (retries, retries, retries, retries, 0, 0)
    assert set(retry.allowed_methods) == {"GET", "HEAD"} and set(retry.status_forcelist) == {429, 500, 502, 503, 504}
    assert retry.respect_retry_after_header and not retry.raise_on_status and not retry.raise_on_redirect


# consecutive failures so far, backoff before the next attempt (0.5 s doubling, capped at MAX_RETRY_WAIT)
BACKOFFS = [(0, 0.0), (1, 0.0), (2, 1.0), (3, 2.0), (6, 16.0), (7, MAX_RETRY_WAIT), (40, MAX_RETRY_WAIT)]


@pytest.mark.parametrize("failures, expected", BACKOFFS)
def test_backoff_is_capped(failures: int, expected: float) -> None:
    history = tuple(RequestHistory("GET", "/v2/", None, 503, None) for _failure in range(failures))
    retry = _mounted_retry(50).new(history=history)
    assert isinstance(retry, RegistryRetry)
    assert retry.get_backoff_time() == expected, urllib3.__version__


def test_increment_keeps_the_caps() -> None:
    """What urllib3 does between attempts: increment() makes the next Retry, which must still cap both waits."""
    retry = _mounted_retry(50)
    for _attempt in range(12):
        retry = retry.increment(method="GET", url="/v2/", response=urllib3.HTTPResponse(status=503, headers={"Retry-After": "3600"}))
    assert isinstance(retry, RegistryRetry) and retry.total == 38
    assert retry.get_backoff_time() == MAX_RETRY_WAIT
    assert retry.get_retry_after(_Response({"Retry-After": "3600"})) == MAX_RETRY_WAIT


# --- ConnectionOptions ------------------------------------------------------------------------

@pytest.mark.parametrize("validate_certs, ca_cert, expected", [
    (True, None, True),
    (False, None, False),
    (True, "/etc/registry/ca.pem", "/etc/registry/ca.pem"),
    (False, "/etc/registry/ca.pem", False),
    (True, "", True),
])
def test_verify(monkeypatch: pytest.MonkeyPatch, validate_certs: bool, ca_cert: str | None, expected: bool | str) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/somewhere/else.pem")
    assert ConnectionOptions(validate_certs=validate_certs, ca_cert=ca_cert).verify == expected


def test_from_getter() -> None:
    values = {"username": "u", "password": None, "timeout": 5.0, "retries": 0, "validate_certs": False}
    options = ConnectionOptions.from_getter(values.get)
    assert options == ConnectionOptions(username="u", timeout=5.0, retries=0, validate_certs=False)


# --- a real local HTTP server -----------------------------------------------------------------
# A local fault-injecting server is used because no real registry returns 429, 503 or a
# cross-host redirect on demand; the exchanges below go over real sockets through requests and
# urllib3, so retries, Retry-After waits, redirects and streaming are the real ones.

class Reply(t.NamedTuple):
    status: int
    headers: t.Dict[str, str] = {}
    body: bytes = b""
    content_length: bool = True  # False: no Content-Length, the body ends when the connection closes


class Seen(t.NamedTuple):
    method: str
    path: str
    headers: t.Dict[str, str]
    body: bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    server: '_HTTPServer'

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        with owner.lock:
            replies = owner.routes.get(self.path.split("?")[0])
            reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else Reply(404, body=b"404 page not found\n")
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.content_length:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
        pass  # keep pytest's output clean


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: 'FaultServer'

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        pass  # a client that stops reading (read_capped) breaks the pipe: expected here


class FaultServer:
    """A registry stand-in on 127.0.0.1 answering each path from a list of scripted replies (the last one repeats)."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.routes: t.Dict[str, t.List[Reply]] = {}
        self.seen: t.List[Seen] = []
        self.lock = threading.Lock()
        self.httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def netloc(self) -> str:
        return "127.0.0.1:%d" % self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return "http://%s%s" % (self.netloc, path)

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> t.Iterator[FaultServer]:
    srv = FaultServer()
    yield srv
    srv.close()


@pytest.fixture
def other_server() -> t.Iterator[FaultServer]:
    """A second host (another netloc), standing in for object storage."""
    srv = FaultServer()
    yield srv
    srv.close()


class FakeAuth:
    """A RequestAuth (what Transport needs of its auth): sets Authorization on requests to the registry."""

    TOKEN = "Bearer fake-registry-token-0123"

    def __init__(self) -> None:
        self.applied: t.List[str] = []

    def apply(self, headers: t.Dict[str, str], scopes: t.Sequence[str], operation: str) -> None:
        headers["Authorization"] = self.TOKEN
        self.applied.append(operation)

    def refresh(self, response: t.Any, scopes: t.Sequence[str], operation: str) -> bool:
        return False

    def credentials_for(self, repository: t.Optional[str]) -> t.Optional[Credentials]:
        return Credentials("fake", "fake-password")

    def scheme(self) -> t.Optional[str]:
        return "bearer"


def _transport(srv: FaultServer, auth: t.Optional[FakeAuth] = None, **options: t.Any) -> Transport:
    options.setdefault("plain_http", True)
    options.setdefault("timeout", 5)
    opts = ConnectionOptions(**options)
    return Transport(opts.base_url(srv.netloc), srv.netloc, opts, RequestLog(), auth=(lambda _transport: auth) if auth else None)


def test_429_retry_after_is_waited_and_logged(server: FaultServer) -> None:
    server.route("/v2/team/app/manifests/1.0",
                 Reply(429, {"Retry-After": "1"}, b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'),
                 Reply(200, {"Content-Type": "application/json"}, b"{}"))
    transport = _transport(server)
    start = time.monotonic()
    response = transport.request("GET", "/v2/team/app/manifests/1.0")
    elapsed = time.monotonic() - start
    assert response.status_code == 200
    assert response.content == b"{}"
    assert [(s.method, s.path) for s in server.seen] == [("GET", "/v2/team/app/manifests/1.0")] * 2
    assert transport.log.records == [
        RequestRecord("GET", server.netloc, "/v2/team/app/manifests/1.0", 429),
        RequestRecord("GET", server.netloc, "/v2/team/app/manifests/1.0", 200),
    ]
    assert elapsed >= 0.9


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reads_are_retried_on_503(server: FaultServer, method: str) -> None:
    # (One retry: urllib3 does not back off before the first one, so this is instant.)
    server.route("/v2/a/manifests/x", Reply(503), Reply(200, body=b"ok"))
    transport = _transport(server)
    assert transport.request(method, "/v2/a/manifests/x").status_code == 200
    assert [r.status for r in transport.log.records] == [503, 200]
    assert [s.method for s in server.seen] == [method, method]


def test_retries_zero_means_one_attempt(server: FaultServer) -> None:
    server.route("/v2/a/manifests/x", Reply(503), Reply(200))
    transport = _transport(server, retries=0)
    with pytest.raises(RegistryError) as exc:
        transport.request("GET", "/v2/a/manifests/x", operation="GET manifest a:x")
    assert exc.value.status == 503
    assert len(server.seen) == 1


@pytest.mark.parametrize("method, status", [("POST", 503), ("POST", 429), ("PUT", 503), ("PATCH", 502), ("DELETE", 503)])
def test_writes_are_not_retried(server: FaultServer, method: str, status: int) -> None:
    server.route("/v2/a/blobs/uploads/", Reply(status, {"Retry-After": "0"}), Reply(202))
    transport = _transport(server)
    with pytest.raises(RegistryError) as exc:
        transport.request(method, "/v2/a/blobs/uploads/", data=b"payload", ok=(202,), operation="start upload", repository="a")
    assert exc.value.status == status
    assert [(s.method, s.body) for s in server.seen] == [(method, b"payload")]
    assert [r.status for r in transport.log.records] == [status]


def test_redirect_to_another_host_drops_authorization(server: FaultServer, other_server: FaultServer) -> None:
    storage = other_server.url("/storage/blob?X-Amz-Signature=abc")
    server.route("/v2/a/blobs/sha256:1", Reply(307, {"Location": storage}))
    other_server.route("/storage/blob", Reply(200, body=b"blob bytes"))
    transport = _transport(server, FakeAuth())
    response = transport.request("GET", "/v2/a/blobs/sha256:1", headers={"Accept": "*/*"})
    assert response.content == b"blob bytes"
    assert server.seen[0].headers.get("Authorization") == FakeAuth.TOKEN
    assert len(other_server.seen) == 1
    assert other_server.seen[0].path == "/storage/blob?X-Amz-Signature=abc"
    assert "Authorization" not in other_server.seen[0].headers
    assert other_server.seen[0].headers.get("Accept") == "*/*"
    assert [(r.host, r.status) for r in transport.log.records] == [(server.netloc, 307), (other_server.netloc, 200)]


def test_redirect_on_the_registry_host_keeps_authorization(server: FaultServer) -> None:
    server.route("/v2/old/manifests/1", Reply(301, {"Location": "/v2/new/manifests/1"}))
    server.route("/v2/new/manifests/1", Reply(200, body=b"{}"))
    transport = _transport(server, FakeAuth())
    assert transport.request("GET", "/v2/old/manifests/1").content == b"{}"
    assert [(s.path, s.headers.get("Authorization")) for s in server.seen] == [
        ("/v2/old/manifests/1", FakeAuth.TOKEN), ("/v2/new/manifests/1", FakeAuth.TOKEN)]


def test_absolute_url_on_another_host_gets_no_authorization(server: FaultServer, other_server: FaultServer) -> None:
    # Link and Location headers may name another host (an upload endpoint, a mirror): the
    # registry's credentials must not go there either.
    other_server.route("/upload/1", Reply(201))
    transport = _transport(server, FakeAuth())
    transport.request("PUT", other_server.url("/upload/1?digest=sha256:1"), data=b"x", ok=(201,))
    assert len(other_server.seen) == 1
    assert "Authorization" not in other_server.seen[0].headers


def test_redirect_loop_stops(server: FaultServer) -> None:
    server.route("/v2/loop", Reply(302, {"Location": "/v2/loop"}))
    transport = _transport(server)
    with pytest.raises(RegistryError) as exc:
        transport.request("GET", "/v2/loop")
    assert exc.value.status == 302
    assert len(server.seen) == 6  # the request and five redirects


@pytest.mark.parametrize("body, content_length, cap, expected", [
    (b"x" * 100, True, 50, "is 100 bytes, more than the 50 bytes allowed"),
    (b"x" * 200000, False, 100000, "is larger than the 100000 bytes allowed"),
    (b"x" * 51, False, 50, "is larger than the 50 bytes allowed"),
])
def test_read_capped_refuses_over_cap(server: FaultServer, body: bytes, content_length: bool, cap: int, expected: str) -> None:
    server.route("/v2/a/manifests/big", Reply(200, body=body, content_length=content_length))
    transport = _transport(server)
    response = transport.send("GET", server.url("/v2/a/manifests/big"), stream=True)
    with pytest.raises(ResponseTooLargeError) as exc:
        read_capped(response, cap, "manifest of a:big")
    assert str(exc.value) == "manifest of a:big " + expected


@pytest.mark.parametrize("size, content_length", [(0, True), (50, True), (50, False), (70000, False)])
def test_read_capped_within_cap(server: FaultServer, size: int, content_length: bool) -> None:
    body = bytes(range(256)) * (size // 256) + b"y" * (size % 256)
    server.route("/v2/a/blobs/b", Reply(200, body=body, content_length=content_length))
    response = _transport(server).send("GET", server.url("/v2/a/blobs/b"), stream=True)
    assert read_capped(response, size, "blob") == body


def test_read_capped_body_cut_off_is_a_connection_error(server: FaultServer) -> None:
    """A body shorter than its Content-Length (the connection closed early) is one clear error, not requests' exception."""
    server.route("/v2/a/manifests/cut", Reply(200, {"Content-Length": "100"}, b"x" * 10, content_length=False))
    response = _transport(server).send("GET", server.url("/v2/a/manifests/cut"), stream=True)
    with pytest.raises(RegistryConnectionError) as exc:
        read_capped(response, 1000, "manifest of a:cut")
    assert str(exc.value).startswith("manifest of a:cut was cut off before its end: IncompleteRead(10 bytes read, 90 more expected)")


def test_error_body_is_read(server: FaultServer) -> None:
    server.route("/v2/a/manifests/nope", Reply(404, {"Content-Type": "application/json"},
                                               b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'))
    transport = _transport(server)
    with pytest.raises(RegistryError) as exc:
        transport.request("GET", "/v2/a/manifests/nope", operation="GET manifest a:nope", repository="a")
    assert exc.value.codes == ("MANIFEST_UNKNOWN",)
    assert "GET manifest a:nope failed (registry %s, repository a): HTTP 404 - MANIFEST_UNKNOWN: manifest unknown" % server.netloc \
        in str(exc.value)


def test_connection_refused() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    netloc = "127.0.0.1:%d" % sock.getsockname()[1]
    sock.close()
    transport = Transport("http://%s" % netloc, netloc, ConnectionOptions(plain_http=True, retries=0, timeout=5), RequestLog())
    with pytest.raises(RegistryConnectionError) as exc:
        transport.request("GET", "/v2/", operation="ping")
    assert "ping failed: cannot connect to registry %s" % netloc in str(exc.value)
    assert "Connection refused" in str(exc.value)
    assert transport.log.records == [RequestRecord("GET", netloc, "/v2/", None)]


# --- TLS settings and the environment ---------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> t.Tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oci.registry unit test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_server(tls_files: t.Tuple[str, str]) -> t.Iterator[FaultServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    srv = FaultServer(context)
    srv.route("/v2/", Reply(200, body=b"{}"))
    yield srv
    srv.close()


@pytest.fixture
def bogus_ca_bundle(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """REQUESTS_CA_BUNDLE (and CURL_CA_BUNDLE) exported, pointing at a file that does not exist."""
    path = str(tmp_path / "no-such-bundle.pem")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", path)
    monkeypatch.setenv("CURL_CA_BUNDLE", path)
    return path


@pytest.mark.parametrize("validate_certs", [True, False])
def test_ca_bundle_env_does_not_break_plain_http(server: FaultServer, bogus_ca_bundle: str, validate_certs: bool) -> None:
    server.route("/v2/", Reply(200, body=b"{}"))
    assert _transport(server, validate_certs=validate_certs).request("GET", "/v2/").status_code == 200


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_validate_certs_false_beats_ca_bundle_env(tls_server: FaultServer, bogus_ca_bundle: str) -> None:
    transport = _transport(tls_server, plain_http=False, validate_certs=False)
    assert transport.request("GET", "/v2/").status_code == 200
    assert transport.log.records == [RequestRecord("GET", tls_server.netloc, "/v2/", 200)]


def test_ca_cert_beats_ca_bundle_env(tls_server: FaultServer, bogus_ca_bundle: str, tls_files: t.Tuple[str, str]) -> None:
    transport = _transport(tls_server, plain_http=False, ca_cert=tls_files[0])
    assert transport.request("GET", "/v2/").status_code == 200


def test_untrusted_certificate(tls_server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    transport = _transport(tls_server, plain_http=False, retries=0)
    with pytest.raises(TLSError) as exc:
        transport.request("GET", "/v2/", operation="ping")
    assert "ping failed: TLS error talking to registry %s" % tls_server.netloc in str(exc.value)
    assert "ca_cert" in exc.value.hint and "validate_certs" in exc.value.hint
    assert tls_server.seen == []


def test_https_to_a_plain_http_server(server: FaultServer) -> None:
    transport = _transport(server, plain_http=False, retries=0)
    with pytest.raises(TLSError) as exc:
        transport.request("GET", "/v2/", operation="ping")
    assert exc.value.hint == "the server speaks plain HTTP: set plain_http: true"


@pytest.mark.parametrize("where", ["ca_cert", "environment"])
def test_missing_ca_file_is_a_registry_error(tls_server: FaultServer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                                             where: str) -> None:
    # A ca_cert (or exported REQUESTS_CA_BUNDLE) naming a file that is not there must fail as a
    # RegistryError naming the file, like every other TLS problem, not as a raw OSError traceback.
    missing = str(tmp_path / "missing-ca.pem")
    if where == "ca_cert":
        transport = _transport(tls_server, plain_http=False, retries=0, ca_cert=missing)
    else:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", missing)
        transport = _transport(tls_server, plain_http=False, retries=0)
    with pytest.raises(RegistryError) as exc:
        transport.request("GET", "/v2/", operation="ping")
    assert missing in str(exc.value)
    assert str(exc.value).startswith("ping failed")


# --- the environment, read once per destination -----------------------------------------------

def test_netrc_never_replaces_the_authorization_set(server: FaultServer, other_server: FaultServer, tmp_path: pathlib.Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """~/.netrc entries for the registry and for the storage it redirects to are not sent: the auth decides alone."""
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login netrc-user password netrc-password-1\n")
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    server.route("/v2/a/blobs/sha256:1", Reply(307, {"Location": other_server.url("/storage/blob")}))
    other_server.route("/storage/blob", Reply(200, body=b"blob"))
    server.route("/v2/", Reply(200, body=b"{}"))
    transport = _transport(server, FakeAuth())
    assert transport.request("GET", "/v2/a/blobs/sha256:1").content == b"blob"
    assert server.seen[0].headers.get("Authorization") == FakeAuth.TOKEN
    assert "Authorization" not in other_server.seen[0].headers
    _transport(server).request("GET", "/v2/")  # anonymous stays anonymous
    assert "Authorization" not in server.seen[-1].headers


def test_environment_is_read_once_per_destination(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first request to a host, a changed proxy variable changes nothing: it is not read again."""
    server.route("/v2/", Reply(200, body=b"{}"))
    transport = _transport(server)
    assert transport.request("GET", "/v2/").status_code == 200
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    for _attempt in range(3):
        assert transport.request("GET", "/v2/").status_code == 200
    assert len(server.seen) == 4
    fresh = _transport(server, retries=0)  # a new transport reads the environment again
    with pytest.raises(RegistryConnectionError) as exc:
        fresh.request("GET", "/v2/", operation="ping")
    assert "through the proxy" in str(exc.value) and "NO_PROXY" in (exc.value.hint or "")


@pytest.mark.parametrize("spelling", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_proxy_from_the_environment(server: FaultServer, monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    """A proxy named in either spelling gets the absolute URL, with Proxy-Authorization from the credentials in its URL."""
    server.route("http://registry.invalid/v2/a/manifests/1", Reply(200, body=b"{}"))
    monkeypatch.setenv(spelling, "http://proxy%%40user:pa%%3Ass@%s" % server.netloc)
    opts = ConnectionOptions(plain_http=True, timeout=5)
    transport = Transport("http://registry.invalid", "registry.invalid", opts, RequestLog(), auth=lambda _transport: FakeAuth())
    assert transport.request("GET", "/v2/a/manifests/1").content == b"{}"
    seen = server.seen[0]
    assert seen.path == "http://registry.invalid/v2/a/manifests/1"
    headers = {name.lower(): value for name, value in seen.headers.items()}
    assert headers.get("proxy-authorization") == "Basic " + base64.b64encode(b"proxy@user:pa:ss").decode()
    assert seen.headers.get("Authorization") == FakeAuth.TOKEN
    assert transport.log.records == [RequestRecord("GET", "registry.invalid", "/v2/a/manifests/1", 200)]


@pytest.mark.parametrize("no_proxy", ["registry.invalid", ".invalid", "*", "other.example, registry.invalid"])
def test_no_proxy_goes_direct(server: FaultServer, monkeypatch: pytest.MonkeyPatch, no_proxy: str) -> None:
    """A host in NO_PROXY is reached directly (here: it does not resolve, so the error names the host, not the proxy)."""
    monkeypatch.setenv("http_proxy", "http://%s" % server.netloc)
    monkeypatch.setenv("no_proxy", no_proxy)
    opts = ConnectionOptions(plain_http=True, timeout=5, retries=0)
    transport = Transport("http://registry.invalid", "registry.invalid", opts, RequestLog())
    with pytest.raises(RegistryConnectionError) as exc:
        transport.request("GET", "/v2/", operation="ping")
    assert "cannot connect to registry registry.invalid" in str(exc.value)
    assert server.seen == []


# --- request bodies ---------------------------------------------------------------------------

def test_bodies(server: FaultServer) -> None:
    """bytes and text as they are; sized chunks with their Content-Length; other chunk iterators chunked."""

    class Sized:
        def __init__(self, chunks: t.List[bytes]) -> None:
            self.chunks = chunks

        def __len__(self) -> int:
            return sum(map(len, self.chunks))

        def __iter__(self) -> t.Iterator[bytes]:
            return iter(self.chunks)

    server.route("/upload", Reply(201))
    transport = _transport(server)
    transport.request("PUT", "/upload", data=b"bytes body", ok=(201,))
    transport.request("POST", "/upload", data='{"secret": "\u00e9"}', ok=(201,))
    transport.request("PUT", "/upload", data=Sized([b"abc", b"defg"]), ok=(201,))
    transport.request("PUT", "/upload", data=iter([b"one", b"two"]), headers={"Content-Length": "6"}, ok=(201,))
    bodies = [(s.headers.get("Content-Length"), s.headers.get("Transfer-Encoding"), s.body) for s in server.seen]
    assert bodies == [("10", None, b"bytes body"), (str(len('{"secret": "\u00e9"}'.encode())), None, '{"secret": "\u00e9"}'.encode()),
                      ("7", None, b"abcdefg"), ("6", None, b"onetwo")]


def test_generator_body_is_chunked(server: FaultServer) -> None:
    class ChunkedHandler(_Handler):
        def _serve(self) -> None:
            chunks = []
            while True:
                size = int(self.rfile.readline().strip(), 16)
                chunks.append(self.rfile.read(size + 2)[:size])
                if size == 0:
                    break
            self.server.owner.seen.append(Seen(self.command, self.path, dict(self.headers.items()), b"".join(chunks)))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PUT = _serve

    server.httpd.RequestHandlerClass = ChunkedHandler
    _transport(server).request("PUT", "/upload", data=(part for part in (b"streamed ", b"upload")), ok=(201,))
    assert server.seen[0].headers.get("Transfer-Encoding") == "chunked"
    assert server.seen[0].body == b"streamed upload"
