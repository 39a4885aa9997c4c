# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Sending on urllib3's connection pools: TLS, proxies and retries settled once per destination.

requests (installed with urllib3, and still what google-auth uses) resolves proxies, the CA bundle
and ``~/.netrc`` from the environment on every call, which cost more CPU per request than the
exchange itself. Here the environment is read once per destination (scheme, host, port), the TLS
context is built once per transport, and each request is one exchange on the destination's
pool. Works with urllib3 1.26 and 2.x.
"""

from __future__ import annotations

import datetime
import email.utils
import os
import threading
import time
import traceback
import typing as t
from urllib.parse import unquote, urlsplit

from ansible_collections.oci.registry.plugins.module_utils.model._options import MAX_WORKERS
from ._connection import ConnectionOptions
from ._environment import environment_ca_bundle, environment_proxy

try:
    import ssl
    import urllib3
    from urllib3.util.retry import Retry
    from urllib3.util.ssl_ import create_urllib3_context
except ImportError:
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR: t.Optional[str] = traceback.format_exc()
else:
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None

RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))
SAFE_METHODS = frozenset(('GET', 'HEAD'))
# The longest single wait a Retry-After header can impose, and the backoff ceiling: with the
# default 3 retries no request waits more than about 3 * MAX_RETRY_WAIT seconds in all.
MAX_RETRY_WAIT = 30.0
# Connections kept per host: one per worker, so no worker's connection is dropped and opened again (32 lookup
# workers on a pool of 16 reconnected on every other request, and urllib3 warned each time).
POOL_SIZE = MAX_WORKERS


def parse_retry_after(value: t.Optional[str], now: t.Optional[float] = None) -> t.Optional[float]:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP date (always timezone-aware)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT (asctime and -0000 forms parse naive): never local time
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


if HAS_URLLIB3 or t.TYPE_CHECKING:
    class RegistryRetry(Retry):
        """urllib3 Retry that caps Retry-After and the backoff, and also reads Docker Hub's X-Retry-After (epoch).

        The backoff cap is applied here, not with ``backoff_max``, which only urllib3 2.x takes.
        """

        def get_backoff_time(self) -> float:
            return float(min(super().get_backoff_time(), MAX_RETRY_WAIT))

        def get_retry_after(self, response: t.Any) -> t.Optional[float]:
            seconds = parse_retry_after(response.headers.get('Retry-After'))
            if seconds is None:
                epoch = response.headers.get('X-Retry-After')
                if epoch and epoch.strip().isdigit():
                    seconds = max(0.0, float(epoch) - time.time())
            return None if seconds is None else min(seconds, MAX_RETRY_WAIT)


def timeout(seconds: float) -> t.Any:
    """Connecting waits at most 10 seconds (or ``seconds`` when shorter); each read waits ``seconds``."""
    return urllib3.Timeout(connect=min(10.0, float(seconds)), read=float(seconds))


def registry_retry(retries: int) -> 'RegistryRetry':
    """Retries for connection errors, read errors and 429/5xx answers of GET and HEAD; never for writes, TLS failures or redirects."""
    count = max(0, int(retries))
    # other=0: TLS handshake failures are not transient, so they fail at once instead of after backoff.
    return RegistryRetry(total=count, connect=count, read=count, status=count, other=0, status_forcelist=RETRY_STATUSES,
                         allowed_methods=SAFE_METHODS, backoff_factor=0.5, respect_retry_after_header=True, raise_on_status=False,
                         raise_on_redirect=False, redirect=0)


# What sending or reading can raise before (or instead of) an HTTP answer.
SEND_ERRORS: t.Tuple[t.Type[BaseException], ...] = (OSError, urllib3.exceptions.HTTPError) if HAS_URLLIB3 else (OSError,)


def failure_kind(exc: BaseException) -> str:
    """What went wrong before an answer: ``ca_bundle``, ``proxy_setup``, ``tls``, ``timeout``, ``proxy`` or ``connect``."""
    if isinstance(exc, CABundleError):
        return 'ca_bundle'
    if isinstance(exc, ProxySetupError):
        return 'proxy_setup'
    errors = urllib3.exceptions
    reason = exc.reason if isinstance(exc, errors.MaxRetryError) and exc.reason is not None else exc
    if isinstance(reason, errors.ProxyError):
        inner = getattr(reason, 'original_error', None)
        return 'tls' if isinstance(inner, (errors.SSLError, ssl.SSLError)) else 'proxy'
    if isinstance(reason, (errors.SSLError, ssl.SSLError)):
        return 'tls'
    if isinstance(reason, errors.NewConnectionError):
        return 'connect'
    if isinstance(reason, (errors.ConnectTimeoutError, errors.ReadTimeoutError, TimeoutError)):
        return 'timeout'
    return 'connect'


class SentRequest(t.NamedTuple):
    method: str
    url: str
    headers: t.Mapping[str, str]


class Response:
    """An answer: urllib3's response with the names the client reads (``status_code``, ``headers``, ``iter_content``, ...)."""

    def __init__(self, raw: t.Any, request: SentRequest, stream: bool) -> None:
        self.raw = raw
        self.request = request
        self.url = request.url
        self.status_code: int = raw.status
        self.headers: t.Mapping[str, str] = raw.headers
        # Not streamed: read now, so the connection goes back to the pool at once.
        self._content: t.Optional[bytes] = None if stream else raw.read(decode_content=True)

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = b''.join(self.iter_content(65536))
        return self._content

    def iter_content(self, size: int) -> t.Iterator[bytes]:
        """The body in chunks of at most ``size`` bytes (urllib3 returns the connection to its pool at the end)."""
        if self._content is not None:
            for start in range(0, len(self._content), size):
                yield self._content[start:start + size]
            return
        for chunk in self.raw.stream(size, decode_content=True):
            if chunk:
                yield chunk

    def close(self) -> None:
        """Done with it: a body read to its end leaves the connection in the pool; a connection with unread bytes is closed."""
        if self._content is None and not self.raw.isclosed():
            self.raw.close()
        self.raw.release_conn()


class CABundleError(OSError):
    """The CA bundle named by ``ca_cert`` or the environment cannot be used."""


class ProxySetupError(OSError):
    """The proxy the environment names cannot be used."""


class Destinations:
    """The urllib3 manager for each destination (``scheme://host:port``): direct, or through the proxy the environment names.

    The environment is read once per destination; the TLS context (``validate_certs``, ``ca_cert``,
    else the environment's or certifi's bundle) is built once per transport, when the first https
    destination needs it, so a plain-http registry never reads a CA bundle.
    """

    def __init__(self, options: ConnectionOptions) -> None:
        self.options = options
        self._lock = threading.Lock()
        self._managers: t.Dict[str, t.Any] = {}
        self._shared: t.Dict[t.Tuple[str, bool], t.Any] = {}  # (proxy or 'direct', https): one manager each
        self._tls: t.Optional[t.Dict[str, t.Any]] = None

    def manager(self, url: str) -> t.Any:
        scheme, _sep, rest = url.partition('://')
        key = scheme.lower() + '://' + rest.split('/', 1)[0].lower()
        manager = self._managers.get(key)
        if manager is None:
            with self._lock:
                manager = self._managers.get(key)
                if manager is None:
                    manager = self._managers[key] = self._build(key)
        return manager

    def _build(self, key: str) -> t.Any:
        """The manager for one destination (call with the lock held)."""
        proxy = environment_proxy(key)
        https = key.startswith('https:')
        manager = self._shared.get((proxy or 'direct', https))
        if manager is None:
            kwargs: t.Dict[str, t.Any] = dict(self.tls() if https else {}, num_pools=10, maxsize=POOL_SIZE)
            if proxy is None:
                manager = urllib3.PoolManager(**kwargs)
            elif proxy.lower().startswith('socks'):
                manager = _socks_manager(proxy, kwargs)
            else:
                manager = urllib3.ProxyManager(proxy, proxy_headers=_proxy_headers(proxy), **kwargs)
            self._shared[(proxy or 'direct', https)] = manager
        return manager

    def tls(self) -> t.Dict[str, t.Any]:
        """PoolManager keywords for TLS: one SSLContext, its CA bundle loaded once."""
        if self._tls is None:
            if not self.options.validate_certs:
                self._tls = {'cert_reqs': 'CERT_NONE', 'ssl_context': create_urllib3_context(cert_reqs=ssl.CERT_NONE)}
                return self._tls
            context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
            bundle = self.options.ca_cert or environment_ca_bundle()
            try:
                if bundle and os.path.isdir(bundle):
                    context.load_verify_locations(capath=bundle)
                elif bundle:
                    context.load_verify_locations(cafile=bundle)
                else:
                    context.load_default_certs()
            except (OSError, ssl.SSLError) as exc:
                raise CABundleError('cannot load the CA bundle %s: %s' % (bundle, getattr(exc, 'strerror', None) or exc)) from None
            self._tls = {'cert_reqs': 'CERT_REQUIRED', 'ssl_context': context}
        return self._tls


def _proxy_headers(proxy: str) -> t.Dict[str, str]:
    """Proxy-Authorization for credentials written into the proxy URL (``http://user:pass@proxy:3128``)."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return {}
    return dict(urllib3.util.make_headers(proxy_basic_auth='%s:%s' % (unquote(parts.username), unquote(parts.password or ''))))


def _socks_manager(proxy: str, kwargs: t.Dict[str, t.Any]) -> t.Any:
    try:
        from urllib3.contrib.socks import SOCKSProxyManager  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ProxySetupError('the proxy %s is a SOCKS proxy, which needs the PySocks Python library (pip install pysocks)'
                              % urlsplit(proxy).netloc) from None
    return SOCKSProxyManager(proxy, **kwargs)
