# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""HTTP transport: one Transport per registry host, sending on urllib3's pools (``_http.py``).

TLS settings and proxies come from the options and the environment, read once per destination (an
exported REQUESTS_CA_BUNDLE never overrides ``validate_certs: false`` or ``ca_cert``; ``~/.netrc``
is never read), retries use urllib3's Retry for safe methods and honour Retry-After with a cap,
redirects are followed here so that Authorization is only ever sent to the registry host, bodies
are read with size caps, and every exchange is counted.
"""

from __future__ import annotations

import json
import re
import threading
import typing as t
from urllib.parse import urljoin, urlsplit

from ansible_collections.oci.registry.plugins.module_utils.model._errors import (
    MAX_ERROR_BODY,
    RegistryConnectionError,
    RegistryError,
    ResponseTooLargeError,
    TLSError,
    error_from_response,
)
from ._connection import ConnectionOptions, RequestAuth
from ._http import HAS_URLLIB3, SEND_ERRORS, URLLIB3_IMPORT_ERROR, Destinations, Response, SentRequest, failure_kind, registry_retry, timeout

MAX_REDIRECTS = 5
USER_AGENT = 'oci.registry-ansible-collection'
__all__ = ['HAS_URLLIB3', 'URLLIB3_IMPORT_ERROR', 'RequestLog', 'Transport', 'body_chunks', 'read_capped', 'read_json']


class RequestRecord(t.NamedTuple):
    method: str
    host: str
    path: str
    status: t.Optional[int]


class RequestLog:
    """Every HTTP exchange a client made, in order: what tests and benchmarks count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: t.List[RequestRecord] = []

    def add(self, method: str, url: str, status: t.Optional[int]) -> None:
        parts = urlsplit(url)
        with self._lock:
            self.records.append(RequestRecord(method, parts.netloc, parts.path, status))

    def count(self, method: t.Optional[str] = None, path_contains: str = '') -> int:
        return sum(1 for r in self.records if (method is None or r.method == method) and path_contains in r.path)

    def __len__(self) -> int:
        return len(self.records)


def read_capped(response: t.Any, cap: int, what: str) -> bytes:
    """Read a streamed body, refusing to hold more than ``cap`` bytes."""
    length = response.headers.get('Content-Length')
    if length and length.isdigit() and int(length) > cap:
        response.close()
        raise ResponseTooLargeError('%s is %s bytes, more than the %d bytes allowed' % (what, length, cap))
    chunks, total = [], 0
    for chunk in body_chunks(response, 65536, what):
        total += len(chunk)
        if total > cap:
            response.close()
            raise ResponseTooLargeError('%s is larger than the %d bytes allowed' % (what, cap))
        chunks.append(chunk)
    return b''.join(chunks)


def read_json(response: t.Any, cap: int, operation: str, source: str) -> t.Any:
    """A streamed JSON body read with a cap; anything that is not JSON is a RegistryError naming ``source``."""
    try:
        return json.loads(read_capped(response, cap, operation).decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError('%s: %s returned a body that is not JSON: %s' % (operation, source, exc)) from None


def body_chunks(response: t.Any, size: int, what: str) -> t.Iterator[bytes]:
    """A streamed body's chunks; a connection that breaks mid-body is a RegistryConnectionError, not urllib3's exception."""
    try:
        yield from response.iter_content(size)
    except SEND_ERRORS as exc:  # urllib3's ProtocolError, ReadTimeoutError, or a socket error: the connection broke mid-body
        response.close()
        raise RegistryConnectionError('%s was cut off before its end: %s' % (what, _reason(exc)), url=getattr(response, 'url', None),
                                      hint='the connection to the registry broke while reading; run again') from None


class Transport:
    """HTTP to one host (a registry's API host, or a vendor's API), with its own pools, auth and TLS settings.

    ``base_url`` is ``scheme://host[:port]`` (credentials go to that origin only), ``registry``
    names the registry in messages, and ``auth`` builds the RequestAuth from the transport it
    serves (auth needs the transport to ping and fetch tokens), or is None for no auth.
    """

    def __init__(self, base_url: str, registry: str, options: ConnectionOptions, log: RequestLog,
                 auth: t.Optional[t.Callable[['Transport'], RequestAuth]] = None) -> None:
        self.base_url = base_url.rstrip('/')
        self.api_host = urlsplit(self.base_url).netloc
        self._scheme = urlsplit(self.base_url).scheme
        self.registry = registry
        self.options = options
        self.log = log
        self.destinations = Destinations(options)
        self.retry = registry_retry(options.retries)
        self.timeout = timeout(options.timeout)
        self.auth: t.Optional[RequestAuth] = auth(self) if auth is not None else None

    def url(self, path_or_url: str) -> str:
        return urljoin(self.base_url + '/', path_or_url)

    def is_registry_url(self, url: str) -> bool:
        """Credentials are bound to the registry host: never send them anywhere else."""
        parts = urlsplit(url)
        return parts.netloc.lower() == self.api_host.lower() and parts.scheme == self._scheme

    def send(self, method: str, url: str, headers: t.Optional[t.Mapping[str, str]] = None, data: t.Any = None,
             stream: bool = False, operation: str = 'request') -> Response:
        """One exchange (plus urllib3's retries): no auth, no redirects. Network errors become RegistryError."""
        sent = {'User-Agent': USER_AGENT, 'Accept': '*/*'}
        sent.update(headers or {})
        body, chunked = _body(data, sent)
        try:
            raw = self.destinations.manager(url).request(
                method, url, body=body, headers=sent, retries=self.retry, redirect=False, timeout=self.timeout, chunked=chunked,
                preload_content=False, decode_content=True, enforce_content_length=True)
            response = Response(raw, SentRequest(method, url, sent), stream)
        except SEND_ERRORS as exc:
            self.log.add(method, url, None)
            raise self._network_error(exc, url, operation) from None
        for attempt in getattr(raw.retries, 'history', None) or ():
            self.log.add(method, url, attempt.status)
        self.log.add(method, url, response.status_code)
        return response

    def _network_error(self, exc: BaseException, url: str, operation: str) -> RegistryError:
        """What went wrong before any HTTP answer, with what to change."""
        kind = failure_kind(exc)
        if kind == 'tls':
            return self._tls_error(exc, url, operation)
        if kind == 'ca_bundle':
            return TLSError('%s failed: cannot use the CA bundle for registry %s: %s' % (operation, self.registry, exc), url=url,
                            hint='check that ca_cert (or REQUESTS_CA_BUNDLE) names an existing PEM file')
        if kind == 'timeout':
            return RegistryConnectionError(
                '%s failed: registry %s did not answer within %s seconds (%s)' % (operation, self.registry, self.options.timeout, url),
                url=url, hint='raise timeout, or check that the registry is reachable')
        if kind in ('proxy', 'proxy_setup'):
            return RegistryConnectionError(
                '%s failed: cannot reach registry %s at %s through the proxy: %s' % (operation, self.registry, url, _reason(exc)),
                url=url, hint='check the HTTPS_PROXY/HTTP_PROXY/ALL_PROXY settings, or list the registry in NO_PROXY')
        return RegistryConnectionError(
            '%s failed: cannot connect to registry %s at %s: %s' % (operation, self.registry, url, _reason(exc)),
            url=url, hint='check the registry host and port, that it is running, and any proxy settings')

    def _tls_error(self, exc: BaseException, url: str, operation: str) -> RegistryError:
        reason = _reason(exc)
        lowered = reason.lower()
        if 'wrong version number' in lowered or 'record layer failure' in lowered or 'unknown protocol' in lowered:
            hint = 'the server speaks plain HTTP: set plain_http: true'
        elif 'certificate' in lowered or 'self signed' in lowered or 'self-signed' in lowered:
            hint = 'the certificate is not trusted: set ca_cert to the CA bundle that signed it, or validate_certs: false'
        else:
            hint = 'check the TLS settings (ca_cert, validate_certs, plain_http)'
        return TLSError('%s failed: TLS error talking to registry %s at %s: %s' % (operation, self.registry, url, reason), url=url, hint=hint)

    def request(self, method: str, path_or_url: str, scopes: t.Sequence[str] = (), headers: t.Optional[t.Mapping[str, str]] = None,
                data: t.Any = None, stream: bool = False, ok: t.Collection[int] = (200,), operation: str = 'request',
                repository: t.Optional[str] = None) -> t.Any:
        """Send an authenticated request, follow redirects safely, and raise RegistryError unless the status is in ``ok``."""
        url = self.url(path_or_url)
        redirects = 0
        # Link and Location headers may name another host: credentials only ever go to the registry.
        if self.is_registry_url(url):
            response = self._authorized(method, url, scopes, headers, data, stream, operation)
        else:
            response = self.send(method, url, headers=headers, data=data, stream=stream, operation=operation)
        while response.status_code in (301, 302, 303, 307, 308) and response.headers.get('Location') and redirects < MAX_REDIRECTS:
            redirects += 1
            response.close()
            url = urljoin(url, response.headers['Location'])
            if response.status_code == 303 or (response.status_code in (301, 302) and method == 'POST'):
                method, data = 'GET', None
            if self.is_registry_url(url):
                response = self._authorized(method, url, scopes, headers, data, stream, operation)
            else:
                response = self.send(method, url, headers=headers, data=data, stream=stream, operation=operation)
        if response.status_code not in ok:
            raise self.error(response, operation, url, repository)
        return response

    def _authorized(self, method: str, url: str, scopes: t.Sequence[str], headers: t.Optional[t.Mapping[str, str]],
                    data: t.Any, stream: bool, operation: str) -> t.Any:
        all_headers = dict(headers or {})
        if self.auth is not None:
            self.auth.apply(all_headers, scopes, operation)
        response = self.send(method, url, headers=all_headers, data=data, stream=stream, operation=operation)
        if response.status_code == 401 and self.auth is not None and self.auth.refresh(response, scopes, operation):
            response.close()
            all_headers = dict(headers or {})
            self.auth.apply(all_headers, scopes, operation)
            response = self.send(method, url, headers=all_headers, data=data, stream=stream, operation=operation)
        return response

    def error(self, response: t.Any, operation: str, url: str, repository: t.Optional[str] = None) -> RegistryError:
        """The RegistryError for an unexpected response (body read with a cap, never trusted to be JSON)."""
        body = b''
        if response.request.method != 'HEAD':
            try:
                body = read_capped(response, MAX_ERROR_BODY, 'error body')
            except ResponseTooLargeError:
                body = b''
        challenge = response.headers.get('WWW-Authenticate', '')
        anonymous = response.status_code == 401 and self.auth is not None and self.auth.credentials_for(repository) is None
        return error_from_response(response.status_code, body, operation, url, self.registry, repository,
                                   insufficient_scope='insufficient_scope' in challenge, anonymous=anonymous)


def _body(data: t.Any, headers: t.Dict[str, str]) -> t.Tuple[t.Any, bool]:
    """The body to send and whether it goes chunked: bytes as they are, text as UTF-8, sized chunks with their
    Content-Length, any other iterable of chunks with chunked transfer encoding unless the caller gave its length."""
    if data is None or isinstance(data, bytes):
        return data, False
    if isinstance(data, str):
        return data.encode('utf-8'), False
    if 'Content-Length' in headers or hasattr(data, 'read'):
        return data, False
    try:
        headers['Content-Length'] = str(len(data))
    except TypeError:
        return data, True
    return data, False


def _reason(exc: BaseException) -> str:
    """The useful part of a urllib3 exception (they nest reprs several levels deep)."""
    text = str(exc)
    for pattern in (r'certificate verify failed: ([^()\'"]+)', r'\[SSL: [A-Z_]+\] ([^()\'"]+)', r'\[Errno -?\d+\] ([^()\'"]+)',
                    r'(Name or service not known|Connection refused|Connection reset by peer|Remote end closed connection[^\'"]*'
                    r'|IncompleteRead\(\d+ bytes read, \d+ more expected\))'):
        match = re.search(pattern, text)
        if match:
            return match.group(0).strip().rstrip('.') if pattern.startswith('certificate') else match.group(1).strip().rstrip('.')
    return text[:300]
