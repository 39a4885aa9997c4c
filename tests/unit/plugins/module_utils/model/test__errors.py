# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._errors import (
    MAX_ERROR_BODY,
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RegistryError,
    UnsupportedError,
    error_from_response,
    parse_error_body,
    redact,
    register_secret,
)

OPERATION = "GET manifest registry.example.com:5000/team/app:1.0"
URL = "https://registry.example.com:5000/v2/team/app/manifests/1.0"
REGISTRY = "registry.example.com:5000"
REPOSITORY = "team/app"
# Longest message an error may carry when the body is huge: the fixed parts plus a short excerpt.
MAX_MESSAGE = 1000


def _body(*errors: tuple[str, str]) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None} for code, message in errors]}).encode()


# status, body, insufficient_scope, class, codes, text the message holds, text the hint holds (None: no hint)
RESPONSES: list[tuple[int, bytes, bool, type, list[str], str, str | None]] = [
    (401, _body(("UNAUTHORIZED", "authentication required")), False, AuthenticationError, ["UNAUTHORIZED"],
     "UNAUTHORIZED: authentication required", "username/password"),
    (401, _body(("UNAUTHORIZED", "authentication required")), True, PermissionDeniedError, ["UNAUTHORIZED"],
     "UNAUTHORIZED: authentication required", "insufficient scope"),
    (401, _body(("DENIED", "requested access to the resource is denied")), False, PermissionDeniedError, ["DENIED"],
     "DENIED: requested access to the resource is denied", "insufficient scope"),
    (403, _body(("DENIED", "denied")), False, PermissionDeniedError, ["DENIED"], "DENIED: denied", "lack permission"),
    (404, _body(("MANIFEST_UNKNOWN", "manifest unknown")), False, NotFoundError, ["MANIFEST_UNKNOWN"],
     "MANIFEST_UNKNOWN: manifest unknown", None),
    (404, _body(("NAME_UNKNOWN", "repository name not known to registry")), False, NotFoundError, ["NAME_UNKNOWN"],
     "NAME_UNKNOWN: repository name not known to registry", None),
    (404, b"404 page not found\n", False, NotFoundError, [], "HTTP 404 - 404 page not found", None),
    (405, _body(("UNSUPPORTED", "The operation is unsupported.")), False, UnsupportedError, ["UNSUPPORTED"],
     "UNSUPPORTED: The operation is unsupported.", "storage.delete.enabled"),
    (405, b"", False, UnsupportedError, [], "HTTP 405", "does not allow"),
    (400, _body(("UNSUPPORTED", "delete by tag is not supported")), False, UnsupportedError, ["UNSUPPORTED"],
     "UNSUPPORTED: delete by tag is not supported", None),
    (429, _body(("TOOMANYREQUESTS", "You have reached your pull rate limit.")), False, RateLimitedError, ["TOOMANYREQUESTS"],
     "TOOMANYREQUESTS: You have reached your pull rate limit.", "rate limiting"),
    (429, b"", False, RateLimitedError, [], "HTTP 429", "retry later"),
    (400, _body(("TAG_INVALID", "manifest tag did not match URI")), False, InvalidInputError, ["TAG_INVALID"],
     "TAG_INVALID: manifest tag did not match URI", None),
    (400, _body(("DIGEST_INVALID", "provided digest did not match uploaded content")), False, InvalidInputError, ["DIGEST_INVALID"],
     "DIGEST_INVALID: provided digest did not match uploaded content", None),
    (400, _body(("NAME_INVALID", "invalid repository name"), ("TAG_INVALID", "bad tag")), False, InvalidInputError,
     ["NAME_INVALID", "TAG_INVALID"], "NAME_INVALID: invalid repository name; TAG_INVALID: bad tag", None),
    # A code outside the input-error set keeps the base class.
    (400, _body(("MANIFEST_BLOB_UNKNOWN", "blob unknown to registry")), False, RegistryError, ["MANIFEST_BLOB_UNKNOWN"],
     "MANIFEST_BLOB_UNKNOWN: blob unknown to registry", None),
    (400, _body(("PAGINATION_NUMBER_INVALID", "invalid number of results requested")), False, RegistryError,
     ["PAGINATION_NUMBER_INVALID"], "PAGINATION_NUMBER_INVALID: invalid number of results requested", None),
    # A proxy's HTML page is named, not pasted.
    (500, b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>", False, RegistryError, [],
     "HTTP 500 - non-JSON (HTML) response", None),
    (503, b"  <!DOCTYPE html>\n<html>maintenance</html>", False, RegistryError, [], "non-JSON (HTML) response", None),
    (502, b"upstream connect error or disconnect/reset before headers", False, RegistryError, [],
     "HTTP 502 - upstream connect error or disconnect/reset before headers", None),
    (500, b"", False, RegistryError, [], "HTTP 500", None),
    (500, b"\xff\xfe\xfd", False, RegistryError, [], "HTTP 500", None),
    # Other JSON shapes token servers and proxies use.
    (401, b'{"details": "incorrect username or password"}', False, AuthenticationError, [], "incorrect username or password", "username"),
    (400, b'{"error": "invalid_grant", "error_description": "bad refresh token"}', False, RegistryError, [], "bad refresh token", None),
]


@pytest.mark.parametrize("status, body, insufficient_scope, cls, codes, text, hint", RESPONSES)
def test_error_from_response(status: int, body: bytes, insufficient_scope: bool, cls: type, codes: list[str],
                             text: str, hint: str | None) -> None:
    error = error_from_response(status, body, OPERATION, URL, REGISTRY, REPOSITORY, insufficient_scope=insufficient_scope)
    assert isinstance(error, cls) and error.kind == cls.kind  # exactly this class: each kind is its own
    assert error.status == status
    assert list(error.codes) == codes
    assert error.url == URL
    message = str(error)
    assert message == error.message
    assert message.startswith("%s failed (registry %s, repository %s): HTTP %d" % (OPERATION, REGISTRY, REPOSITORY, status))
    assert text in message
    assert "<html" not in message.lower()
    if hint is None:
        assert error.hint is None
        assert "Hint:" not in message
    else:
        assert hint in error.hint
        assert message.endswith("Hint: %s" % error.hint)


def test_error_without_repository() -> None:
    error = error_from_response(404, b"", "list repositories of r.example", "https://r.example/v2/_catalog", "r.example")
    assert str(error) == "list repositories of r.example failed (registry r.example): HTTP 404"


@pytest.mark.parametrize("body", [
    b"x" * (MAX_ERROR_BODY * 4),
    b"word " * 100000,
    # Over the cap, a JSON body is cut mid-way and is read as text.
    json.dumps({"errors": [{"code": "MANIFEST_INVALID", "message": "m" * 50000}] * 4}).encode(),
    # Under the cap, a single huge registry message must not make a huge task error either.
    _body(("MANIFEST_INVALID", "m" * 50000)),
    _body(*[("MANIFEST_INVALID", "m" * 2000)] * 20),
], ids=["text", "words", "json-over-cap", "json-one-long-message", "json-many-messages"])
def test_huge_body_is_capped(body: bytes) -> None:
    error = error_from_response(400, body, OPERATION, URL, REGISTRY, REPOSITORY)
    assert str(error).startswith("%s failed (registry %s, repository %s): HTTP 400 - " % (OPERATION, REGISTRY, REPOSITORY))
    assert len(str(error)) < MAX_MESSAGE


@pytest.mark.parametrize("body, expected", [
    (b"", []),
    (b"   \n", []),
    (b"{}", []),
    (b"[]", []),
    (b'{"errors": []}', []),
    (b'{"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}, "junk"]}', [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]),
    (b'{"errors": [{"message": "no code"}]}', [{"code": "", "message": "no code"}]),
    (b"plain   text\n\twith   spaces", [{"code": "", "message": "plain text with spaces"}]),
    (b"<html>x</html>", [{"code": "", "message": "non-JSON (HTML) response"}]),
])
def test_parse_error_body(body: bytes, expected: list[dict[str, str]]) -> None:
    assert parse_error_body(body) == expected


# --- redact -----------------------------------------------------------------------------------

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyIiwiYWNjZXNzIjpbXX0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

# text, secrets that must be gone, text that must stay
REDACT = [
    ("Authorization: Basic dXNlcjpodW50ZXIy", ["dXNlcjpodW50ZXIy"], "Authorization: Basic "),
    ("authorization=bearer abc.def", ["abc.def"], "authorization=bearer "),
    ("header was 'Authorization: Bearer %s'" % JWT, [JWT], "Authorization: Bearer "),
    ("got Bearer %s from the realm" % JWT, [JWT], "from the realm"),
    ("token server said: bearer %s" % JWT, [JWT], "token server said"),
    ("POST /token grant_type=password&password=hunter2&client_id=x", ["hunter2"], "client_id=x"),
    ("password: hunter2", ["hunter2"], "password"),
    ('{"token": "abc.def.ghi", "expires_in": 60}', ["abc.def.ghi"], '"expires_in": 60'),
    ('{"access_token":"zzz-access","refresh_token":"yyy-refresh"}', ["zzz-access", "yyy-refresh"], "access_token"),
    ("identitytoken=some-identity-token", ["some-identity-token"], "identitytoken="),
    ("secret='s3cr3t'", ["s3cr3t"], "secret="),
    ("cannot connect to https://alice:hunter2@registry.example.com/v2/", ["hunter2"], "https://alice:"),
    ("proxy http://bob:p%40ss@proxy:3128 refused", ["p%40ss"], "@proxy:3128 refused"),
]


@pytest.mark.parametrize("text, secrets, kept", REDACT)
def test_redact(text: str, secrets: list[str], kept: str) -> None:
    result = redact(text)
    for secret in secrets:
        assert secret not in result
    assert kept in result
    assert "********" in result


@pytest.mark.parametrize("text", [
    "GET manifest registry.example.com/team/app:1.0 failed: HTTP 404",
    "token request for repository:team/app:pull failed",
    'Bearer realm="https://auth.example.com/token",service="registry"',
    "Basic auth is required",
])
def test_redact_leaves_plain_text(text: str) -> None:
    assert redact(text) == text


def test_register_secret() -> None:
    register_secret("Sup3r-Secret-Value-1")
    register_secret("Sup3r-Secret")  # shorter, and a prefix of the first: the longest goes first
    assert redact("xSup3r-Secret-Value-1y Sup3r-Secret.") == "x********y ********."
    # Too short or empty values are not registered: they would mangle every message.
    register_secret("ab")
    register_secret("")
    register_secret(None)
    assert redact("ab cab") == "ab cab"


def test_error_messages_are_redacted() -> None:
    register_secret("pa55-in-a-message")
    error = RegistryError("login failed for alice with pa55-in-a-message (Authorization: Basic YWxpY2U6cGE1NQ==)",
                          url="https://alice:pa55w0rd@r.example/v2/")
    assert "pa55-in-a-message" not in str(error)
    assert "YWxpY2U6cGE1NQ==" not in str(error)
    assert "pa55w0rd" not in error.url
    assert "alice" in str(error)


def test_error_from_response_redacts_body() -> None:
    register_secret("leaked-in-a-body-1234")
    body = _body(("UNAUTHORIZED", "bad credentials leaked-in-a-body-1234; Authorization: Bearer %s" % JWT))
    error = error_from_response(401, body, "ping", "https://r.example/v2/", "r.example")
    assert "leaked-in-a-body-1234" not in str(error)
    assert JWT not in str(error)
    assert "UNAUTHORIZED: bad credentials" in str(error)


# --- RegistryError ----------------------------------------------------------------------------

def test_details() -> None:
    error = NotFoundError("gone", status=404, codes=["MANIFEST_UNKNOWN", "NAME_UNKNOWN"], url="https://r.example/v2/a/manifests/1")
    assert error.details() == {
        "error_kind": "not_found",
        "status": 404,
        "registry_codes": ["MANIFEST_UNKNOWN", "NAME_UNKNOWN"],
        "url": "https://r.example/v2/a/manifests/1",
    }


def test_details_defaults() -> None:
    assert RegistryError("x").details() == {"error_kind": "registry_error", "status": None, "registry_codes": [], "url": None}


@pytest.mark.parametrize("cls, kind", [
    (RegistryError, "registry_error"),
    (InvalidInputError, "invalid_input"),
    (AuthenticationError, "authentication"),
    (PermissionDeniedError, "permission_denied"),
    (NotFoundError, "not_found"),
    (UnsupportedError, "unsupported"),
    (RateLimitedError, "rate_limited"),
])
def test_kinds(cls: t.Type[RegistryError], kind: str) -> None:
    error = cls("msg", hint="do this")
    assert isinstance(error, RegistryError)
    assert error.details()["error_kind"] == kind
    assert str(error) == "msg. Hint: do this"


@pytest.mark.parametrize("kind, hint, expected_cls, expected_hint", [
    (None, "keep", PermissionDeniedError, "the credentials lack permission"),
    (AuthenticationError, "keep", AuthenticationError, "the credentials lack permission"),
    (UnsupportedError, None, UnsupportedError, None),
    (None, "check the token", PermissionDeniedError, "check the token"),
])
def test_with_message_keeps_every_other_field(kind: t.Optional[t.Type[RegistryError]], hint: t.Optional[str],
                                              expected_cls: type, expected_hint: t.Optional[str]) -> None:
    error = PermissionDeniedError("push failed", status=403, codes=["DENIED"], url="https://r.example/v2/a/blobs/uploads/",
                                  hint="the credentials lack permission")
    error.request_id = "req-1"  # a field added later is kept too
    again = error.with_message("push of a:1 failed (tags already written: 1.0)", kind,
                               **({} if hint == "keep" else {"hint": hint}))
    assert again.__class__ is expected_cls and isinstance(again, RegistryError)
    assert (again.msg, again.status, again.codes, again.url, again.hint) == (
        "push of a:1 failed (tags already written: 1.0)", 403, ("DENIED",), "https://r.example/v2/a/blobs/uploads/", expected_hint)
    assert again.request_id == "req-1"
    assert str(again) == again.message == ("%s. Hint: %s" % (again.msg, expected_hint) if expected_hint else again.msg)
    assert (error.msg, type(error)) == ("push failed", PermissionDeniedError)  # the original is unchanged


def test_with_message_redacts() -> None:
    error = RegistryError("token request failed", status=401)
    assert "s3cr3t-value" not in str(error.with_message("token request failed: password=s3cr3t-value"))
