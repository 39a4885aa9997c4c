# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the environment says about a destination: proxies (either spelling, NO_PROXY) and the CA bundle, as tables."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.wire._environment import (
    bypasses_proxy, environment_ca_bundle, environment_proxy, proxy_variables,
)

# environment, URL, expected proxy
PROXIES: list[tuple[dict[str, str], str, t.Optional[str]]] = [
    ({}, "https://registry.example.com/v2/", None),
    ({"HTTPS_PROXY": "http://proxy:3128"}, "https://registry.example.com/v2/", "http://proxy:3128"),
    ({"https_proxy": "http://proxy:3128"}, "https://registry.example.com/v2/", "http://proxy:3128"),
    ({"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}, "https://r.example/v2/", "http://lower:2"),
    ({"HTTPS_PROXY": "http://upper:1", "https_proxy": ""}, "https://r.example/v2/", None),  # an empty lower-case one unsets it
    ({"HTTP_PROXY": "http://proxy:3128"}, "https://r.example/v2/", None),  # the scheme's own variable
    ({"HTTP_PROXY": "http://proxy:3128"}, "http://r.example/v2/", "http://proxy:3128"),
    ({"ALL_PROXY": "http://all:1"}, "https://r.example/v2/", "http://all:1"),
    ({"all_proxy": "socks5://all:1080", "https_proxy": "http://own:1"}, "https://r.example/v2/", "http://own:1"),
    ({"https_proxy": "proxy.corp:3128"}, "https://r.example/v2/", "http://proxy.corp:3128"),  # no scheme: http
    ({"HTTP_PROXY": "http://proxy:3128", "REQUEST_METHOD": "GET"}, "http://r.example/v2/", None),  # CGI: HTTP_PROXY is a header
    ({"http_proxy": "http://proxy:3128", "REQUEST_METHOD": "GET"}, "http://r.example/v2/", "http://proxy:3128"),
    ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "r.example"}, "https://r.example/v2/", None),
    ({"HTTPS_PROXY": "http://p:1", "no_proxy": "r.example"}, "https://r.example/v2/", None),
    ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://r.example/v2/", None),
]


@pytest.mark.parametrize("environ, url, expected", PROXIES)
def test_environment_proxy(environ: dict[str, str], url: str, expected: t.Optional[str]) -> None:
    assert environment_proxy(url, environ) == expected


# NO_PROXY, host, port, bypassed
NO_PROXY: list[tuple[str, str, t.Optional[int], bool]] = [
    ("", "registry.example.com", None, False),
    ("example.com", "registry.example.com", None, True),
    ("example.com", "example.com", 443, True),
    (".example.com", "registry.example.com", None, True),
    (".example.com", "example.com", None, True),
    ("example.com", "badexample.com", None, False),  # a domain, not a string suffix
    ("other.org, example.com", "registry.example.com", None, True),
    ("other.org example.com", "registry.example.com", None, True),  # spaces separate too
    ("REGISTRY.Example.com", "registry.example.com", None, True),
    ("registry.example.com:5000", "registry.example.com", 5000, True),
    ("registry.example.com:5000", "registry.example.com", 443, False),
    ("127.0.0.1", "127.0.0.1", 5000, True),
    ("10.0.0.0/8", "10.1.2.3", None, True),
    ("10.0.0.0/8", "11.1.2.3", None, False),
    ("10.0.0.0/8", "ten.example", None, False),
    ("::1", "[::1]", None, True),
    ("fd00::/8", "fd12::5", None, True),
    ("*", "anything.example", None, True),
]


@pytest.mark.parametrize("no_proxy, host, port, expected", NO_PROXY)
def test_bypasses_proxy(no_proxy: str, host: str, port: t.Optional[int], expected: bool) -> None:
    assert bypasses_proxy(host, port, no_proxy) is expected


def test_proxy_variables_lower_case_wins() -> None:
    assert proxy_variables({"HTTPS_PROXY": "a", "https_proxy": "b", "NO_PROXY": "x", "PATH": "/bin"}) == {"https": "b", "no": "x"}


@pytest.mark.parametrize("environ, expected", [
    ({"REQUESTS_CA_BUNDLE": "/etc/a.pem", "CURL_CA_BUNDLE": "/etc/b.pem"}, "/etc/a.pem"),
    ({"CURL_CA_BUNDLE": "/etc/b.pem"}, "/etc/b.pem"),
    ({"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "/etc/b.pem"}, "/etc/b.pem"),
])
def test_environment_ca_bundle(environ: dict[str, str], expected: str) -> None:
    assert environment_ca_bundle(environ) == expected


def test_environment_ca_bundle_default_is_certifi() -> None:
    import certifi  # installed with requests  # pylint: disable=import-outside-toplevel
    assert environment_ca_bundle({}) == certifi.where()
