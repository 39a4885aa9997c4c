"""A stand-in HTTP proxy on 127.0.0.1 that answers for made-up hosts from scripted replies.

    with FakeHosts() as hosts:                       # point http_proxy at hosts.url; use plain_http
        hosts.get('http://registry.example.com/v2/', json={})
        hosts.head('http://registry.example.com/v2/a/manifests/1', headers={'Docker-Content-Digest': digest})
        hosts.get('http://auth.example.com/token', query={'scope': 'repository:a:pull'}, json={'token': 't'})
        ...                                          # run the client
        hosts.calls[0].request.headers['Authorization']
        hosts.assert_all_asked()

A request is answered by the first reply registered for its method and URL (and query, when the
reply names one); a reply matched while a later one also matches is used up, so registering the
same URL twice answers two requests in turn. An unmatched request gets 599, so a test fails on it.
For vendor shapes (Docker Hub, Google, odd headers) no local registry produces.
"""
from __future__ import annotations

import json as jsonlib
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class Request(t.NamedTuple):
    method: str
    url: str
    headers: t.Any  # an email.message.Message: case-insensitive
    body: bytes


class Call(t.NamedTuple):
    request: Request
    status: int


class Reply:
    def __init__(self, method: str, url: str, status: int, body: bytes, headers: dict[str, str],
                 query: t.Optional[dict[str, str]]) -> None:
        self.method, self.url, self.status, self.body, self.headers, self.query = method, url, status, body, headers, query
        self.asked = 0

    def matches(self, method: str, url: str) -> bool:
        parts = urlsplit(url)
        if method != self.method or url.split('?')[0] != self.url.split('?')[0]:
            return False
        return self.query is None or dict(parse_qsl(parts.query)) == self.query


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: '_Server'

    def _serve(self) -> None:
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        hosts = self.server.hosts
        reply = hosts.answer(self.command, self.path)
        hosts.calls.append(Call(Request(self.command, self.path, self.headers, body), reply.status if reply else 599))
        if reply is None:
            reply = Reply(self.command, self.path, 599, b'no scripted reply for %s %s\n' % (self.command.encode(), self.path.encode()), {}, None)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if not any(name.lower() == 'content-length' for name in reply.headers):
            self.send_header('Content-Length', str(len(reply.body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(reply.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hosts: 'FakeHosts'


class FakeHosts:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._server = _Server(('127.0.0.1', 0), _Handler)
        self._server.hosts = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return 'http://127.0.0.1:%d' % self._server.server_address[1]

    def add(self, method: str, url: str, status: int = 200, body: t.Union[bytes, str] = b'', json: t.Any = None,
            headers: t.Optional[dict[str, str]] = None, content_type: t.Optional[str] = None,
            query: t.Optional[dict[str, str]] = None) -> None:
        headers = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            content_type = content_type or 'application/json'
        if content_type:
            headers['Content-Type'] = content_type
        self.replies.append(Reply(method, url, status, body.encode() if isinstance(body, str) else body, headers, query))

    def get(self, url: str, **kwargs: t.Any) -> None:
        self.add('GET', url, **kwargs)

    def head(self, url: str, **kwargs: t.Any) -> None:
        self.add('HEAD', url, **kwargs)

    def post(self, url: str, **kwargs: t.Any) -> None:
        self.add('POST', url, **kwargs)

    def answer(self, method: str, url: str) -> t.Optional[Reply]:
        with self._lock:
            found = [reply for reply in self.replies if reply.matches(method, url)]
            if not found:
                return None
            found[0].asked += 1
            if len(found) > 1:
                self.replies.remove(found[0])
                self._used = getattr(self, '_used', []) + [found[0]]
            return found[0]

    def assert_all_asked(self) -> None:
        unasked = ['%s %s' % (reply.method, reply.url) for reply in self.replies if not reply.asked]
        assert unasked == [], 'scripted replies never asked for'

    def __enter__(self) -> 'FakeHosts':
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
