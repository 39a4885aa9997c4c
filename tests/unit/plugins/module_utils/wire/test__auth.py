# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils.wire._auth import (
    CATALOG_SCOPE,
    Challenge,
    _format_scopes,
    _scope_set,
    parse_challenges,
    repository_scope,
)

HUB_REALM = "https://auth.docker.io/token"

# WWW-Authenticate header -> the challenges parsed from it, in order
CHALLENGES = [
    ("", []),
    ('Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})]),
    ('Basic realm=""', [Challenge("basic", {"realm": ""})]),
    # The Docker token-auth spec's example: the scope holds a comma inside the quotes.
    ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
     [Challenge("bearer", {"realm": HUB_REALM, "service": "registry.docker.io", "scope": "repository:samalba/my-app:pull,push"})]),
    # Several scopes are space-separated inside one quoted value.
    ('Bearer realm="https://a.example/t",scope="repository:a:pull repository:b/c:pull,push"',
     [Challenge("bearer", {"realm": "https://a.example/t", "scope": "repository:a:pull repository:b/c:pull,push"})]),
    # Commas and "=" inside quotes belong to the value.
    ('Bearer realm="https://a.example/t?x=1,y=2"', [Challenge("bearer", {"realm": "https://a.example/t?x=1,y=2"})]),
    # Backslash-escaped quotes inside a quoted value.
    (r'Bearer realm="https://a.example/t",error_description="the \"pull\" action is not allowed"',
     [Challenge("bearer", {"realm": "https://a.example/t", "error_description": 'the "pull" action is not allowed'})]),
    # Whitespace around "=" and ",".
    ('Bearer realm = "https://a.example/t" ,  service = "reg"', [Challenge("bearer", {"realm": "https://a.example/t", "service": "reg"})]),
    # Unquoted (token) values.
    ("Bearer realm=https://a.example/t?x=1,service=reg.example.com",
     [Challenge("bearer", {"realm": "https://a.example/t?x=1", "service": "reg.example.com"})]),
    # Scheme and parameter names are case-insensitive; values keep their case.
    ('BEARER Realm="https://A.example/T",SERVICE="Reg"', [Challenge("bearer", {"realm": "https://A.example/T", "service": "Reg"})]),
    ('bAsIc realm="R"', [Challenge("basic", {"realm": "R"})]),
    # A scheme with no parameters at all.
    ("Basic", [Challenge("basic", {})]),
    # Several challenges in one header (or several header lines, which requests joins with ", ").
    ('Basic realm="r", Bearer realm="https://a.example/t",service="s"',
     [Challenge("basic", {"realm": "r"}), Challenge("bearer", {"realm": "https://a.example/t", "service": "s"})]),
    ('Bearer realm="https://a.example/t",service="s",Basic realm="r"',
     [Challenge("bearer", {"realm": "https://a.example/t", "service": "s"}), Challenge("basic", {"realm": "r"})]),
    # A bare scheme followed by another challenge (RFC 9110 11.6.1: "Newauth, Basic realm=..."), e.g. the
    # header lines "WWW-Authenticate: Negotiate" and "WWW-Authenticate: Bearer ..." joined by requests.
    ('Negotiate, Bearer realm="https://a.example/t",service="s"',
     [Challenge("negotiate", {}), Challenge("bearer", {"realm": "https://a.example/t", "service": "s"})]),
    # What distribution sends when a token lacks an action.
    ('Bearer realm="https://a.example/t",service="s",scope="repository:team/app:pull,push",error="insufficient_scope"',
     [Challenge("bearer", {"realm": "https://a.example/t", "service": "s", "scope": "repository:team/app:pull,push",
                           "error": "insufficient_scope"})]),
]


@pytest.mark.parametrize("header, expected", CHALLENGES)
def test_parse_challenges(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges(header) == expected


def test_parse_challenges_none_is_empty() -> None:
    assert parse_challenges(None) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("repository, actions, expected", [
    ("team/app", "pull", "repository:team/app:pull"),
    ("library/nginx", "pull,push", "repository:library/nginx:pull,push"),
    ("a/b/c", "delete", "repository:a/b/c:delete"),
])
def test_repository_scope(repository: str, actions: str, expected: str) -> None:
    assert repository_scope(repository, actions) == expected


def test_catalog_scope() -> None:
    assert CATALOG_SCOPE == "registry:catalog:*"


# scopes -> the (resource, action) pairs they grant
SCOPE_SETS = [
    ([], set()),
    (["repository:team/app:pull"], {("repository:team/app", "pull")}),
    (["repository:team/app:pull,push"], {("repository:team/app", "pull"), ("repository:team/app", "push")}),
    (["repository:team/app:pull", "repository:team/app:pull,push"], {("repository:team/app", "pull"), ("repository:team/app", "push")}),
    (["repository:a:pull", "repository:b:delete"], {("repository:a", "pull"), ("repository:b", "delete")}),
    ([CATALOG_SCOPE], {("registry:catalog", "*")}),
    (["repository:team/app:pull,,push,"], {("repository:team/app", "pull"), ("repository:team/app", "push")}),
]


@pytest.mark.parametrize("scopes, expected", SCOPE_SETS)
def test_scope_set(scopes: list[str], expected: set[tuple[str, str]]) -> None:
    assert _scope_set(scopes) == frozenset(expected)


def test_scope_set_containment() -> None:
    # A cached token for pull,push serves a pull request, not the other way round.
    assert _scope_set(["repository:a:pull"]) <= _scope_set(["repository:a:pull,push"])
    assert not _scope_set(["repository:a:pull,push"]) <= _scope_set(["repository:a:pull"])
    assert not _scope_set(["repository:b:pull"]) <= _scope_set(["repository:a:pull,push"])


# scopes -> the scope strings sent to a token server: one per resource, actions sorted and joined
FORMATTED = [
    ([], []),
    (["repository:a:push", "repository:a:pull"], ["repository:a:pull,push"]),
    (["repository:b:pull", "repository:a:delete", "repository:a:pull"], ["repository:a:delete,pull", "repository:b:pull"]),
    ([CATALOG_SCOPE, "repository:a:pull"], ["registry:catalog:*", "repository:a:pull"]),
]


@pytest.mark.parametrize("scopes, expected", FORMATTED)
def test_format_scopes(scopes: list[str], expected: list[str]) -> None:
    assert _format_scopes(_scope_set(scopes)) == expected
    # Formatting and re-reading gives the same pairs back.
    assert _scope_set(_format_scopes(_scope_set(scopes))) == _scope_set(scopes)
