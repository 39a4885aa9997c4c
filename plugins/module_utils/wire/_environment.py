# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""What the process environment says about a destination: its proxy and the CA bundle.

The transport asks once per destination (scheme, host and port), not once per request.

- Proxies: ``<scheme>_proxy`` then ``all_proxy``, each in lower or upper case (lower case wins; under
  CGI, where ``HTTP_PROXY`` can come from a request header, only ``http_proxy`` counts), skipped for
  hosts in ``no_proxy``/``NO_PROXY``: ``*``, domain names (``example.com`` and ``.example.com`` match
  the domain and its subdomains), ``host:port``, IP addresses and CIDR networks (``10.0.0.0/8``).
- CA bundle: ``REQUESTS_CA_BUNDLE``, else ``CURL_CA_BUNDLE``, else certifi's bundle when installed
  (it is with requests), else the system's default store. Used only when certificates are
  verified and no ``ca_cert`` is given.

``~/.netrc`` is never read: credentials come only from the collection's own sources, and the
Authorization header a request carries is exactly the one the transport's auth set.
"""

from __future__ import annotations

import ipaddress
import os
import typing as t
from urllib.parse import urlsplit


def proxy_variables(environ: t.Optional[t.Mapping[str, str]] = None) -> t.Dict[str, str]:
    """``{scheme: proxy URL}`` (and ``no``: the no_proxy list) from ``*_proxy`` variables, lower case winning."""
    environ = os.environ if environ is None else environ
    found: t.Dict[str, str] = {}
    for name, value in environ.items():
        if value and name[-6:].lower() == '_proxy' and name[-6:] != '_proxy':
            found[name[:-6].lower()] = value
    if 'REQUEST_METHOD' in environ:  # CGI: HTTP_PROXY may come from a client's "Proxy:" header
        found.pop('http', None)
    for name, value in environ.items():
        if name[-6:] == '_proxy':
            if value:
                found[name[:-6].lower()] = value
            else:
                found.pop(name[:-6].lower(), None)
    return found


def bypasses_proxy(host: str, port: t.Optional[int], no_proxy: str) -> bool:
    """Whether ``no_proxy`` (comma-separated) names this host."""
    host = host.strip('[]').lower().rstrip('.')
    address = _address(host)
    for entry in (part.strip().lower() for part in no_proxy.replace(' ', ',').split(',')):
        if not entry:
            continue
        if entry == '*':
            return True
        name, _sep, entry_port = entry.rpartition(':') if entry.count(':') == 1 else (entry, '', '')
        if entry_port and entry_port.isdigit():
            if port is None or int(entry_port) != port:
                continue
            entry = name
        if address is not None:
            if _in_network(address, entry.strip('[]')):
                return True
            continue
        entry = entry.lstrip('.').rstrip('.')
        if entry and (host == entry or host.endswith('.' + entry)):
            return True
    return False


def environment_proxy(url: str, environ: t.Optional[t.Mapping[str, str]] = None) -> t.Optional[str]:
    """The proxy URL the environment names for ``url`` (``http://`` added when it has no scheme), or None."""
    parts = urlsplit(url)
    variables = proxy_variables(environ)
    if not parts.hostname or bypasses_proxy(parts.hostname, parts.port, variables.get('no', '')):
        return None
    proxy = variables.get(parts.scheme.lower()) or variables.get('all')
    if not proxy:
        return None
    return proxy if '://' in proxy else 'http://' + proxy


def environment_ca_bundle(environ: t.Optional[t.Mapping[str, str]] = None) -> t.Optional[str]:
    """The CA bundle (file or directory) to verify against when none is given: the environment's, else certifi's, else None."""
    environ = os.environ if environ is None else environ
    named = environ.get('REQUESTS_CA_BUNDLE') or environ.get('CURL_CA_BUNDLE')
    if named:
        return named
    try:
        import certifi  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return str(certifi.where())


def _address(host: str) -> t.Optional[t.Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _in_network(address: t.Union[ipaddress.IPv4Address, ipaddress.IPv6Address], entry: str) -> bool:
    try:
        return address in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
