# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""One exception tree for everything that can go wrong talking to a registry.

Errors are built from the HTTP status and the distribution spec's error body in one
place (:func:`error_from_response`), carry what failed and where, and never hold a
secret: messages are passed through :func:`redact` before they are stored.
"""

from __future__ import annotations

import json
import re
import typing as t

# Error bodies larger than this are cut before parsing: a proxy's HTML page is no use whole.
MAX_ERROR_BODY = 64 * 1024
# What of a registry's message goes into an error: enough to understand it, never a page of it.
MAX_MESSAGE = 300
MAX_DETAIL = 600

_SECRET_PATTERNS = (
    re.compile(r'(?i)(authorization\s*[:=]\s*)(basic|bearer)\s+[^\s,;"\']+'),
    re.compile(r'(?i)\b(basic|bearer)\s+[A-Za-z0-9._~+/=-]{8,}'),
    re.compile(r'(?i)((?:access_|refresh_|id_)?token|password|secret|identitytoken)(["\']?\s*[:=]\s*)("[^"]*"|\'[^\']*\'|[^\s&,;"\']+)'),
    re.compile(r'(?i)(://[^/@\s:]+:)[^/@\s]+(@)'),
)

_known_secrets: t.Set[str] = set()
# RegistryError.with_message's default for ``hint``: keep the error's own (None is a hint of its own: none).
_KEEP = object()


def register_secret(value: t.Optional[str]) -> None:
    """Remember a secret so that :func:`redact` removes it from any text, wherever it appears."""
    if value and len(value) >= 3:
        _known_secrets.add(value)


def redact(text: str) -> str:
    """Remove known secrets, Authorization values and token-like fields from text."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, '********')
    text = _SECRET_PATTERNS[0].sub(r'\1\2 ********', text)
    text = _SECRET_PATTERNS[1].sub(r'\1 ********', text)
    text = _SECRET_PATTERNS[2].sub(r'\1\2"********"', text)
    text = _SECRET_PATTERNS[3].sub(r'\1********\2', text)
    return text


class RegistryError(Exception):
    """Base of every error the client raises. ``str(error)`` is a complete, secret-free message."""

    kind = 'registry_error'

    def __init__(self, msg: str, status: t.Optional[int] = None, codes: t.Sequence[str] = (),
                 url: t.Optional[str] = None, hint: t.Optional[str] = None) -> None:
        self.msg = redact(msg)
        self.status = status
        self.codes = tuple(codes)
        self.url = redact(url) if url else None
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return '%s. Hint: %s' % (self.msg, self.hint) if self.hint else self.msg

    def details(self) -> t.Dict[str, t.Any]:
        """Extra keys for a failed task result."""
        return {'error_kind': self.kind, 'status': self.status, 'registry_codes': list(self.codes), 'url': self.url}

    def with_message(self, msg: str, kind: t.Optional[t.Type['RegistryError']] = None, hint: t.Any = _KEEP) -> 'RegistryError':
        """The same error told another way: a new message, optionally another class or hint.

        Every other field (status, codes, url, the hint unless one is given, and any field added
        later) is copied from this error, so re-raising with more context cannot lose one.
        """
        cls = kind or type(self)
        error = cls.__new__(cls)
        error.__dict__.update(self.__dict__)
        error.msg = redact(msg)
        if hint is not _KEEP:
            error.hint = hint
        Exception.__init__(error, error.message)
        return error


class InvalidInputError(RegistryError):
    kind = 'invalid_input'


class AuthenticationError(RegistryError):
    kind = 'authentication'


class PermissionDeniedError(RegistryError):
    kind = 'permission_denied'


class NotFoundError(RegistryError):
    kind = 'not_found'


class UnsupportedError(RegistryError):
    kind = 'unsupported'


class RateLimitedError(RegistryError):
    kind = 'rate_limited'


class TLSError(RegistryError):
    kind = 'tls'


class RegistryConnectionError(RegistryError):
    kind = 'connection'


class DigestMismatchError(RegistryError):
    kind = 'digest_mismatch'


class ResponseTooLargeError(RegistryError):
    kind = 'too_large'


class VerificationFailedError(RegistryError):
    """An image's signatures do not satisfy the ``verify`` rule: the gate refuses it before anything is written."""

    kind = 'verification_failed'


def parse_error_body(body: bytes) -> t.List[t.Dict[str, str]]:
    """Return the spec's ``errors`` list from a body, or a one-item list holding plain text."""
    body = body[:MAX_ERROR_BODY]
    try:
        data = json.loads(body.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        text = body.decode('utf-8', 'replace').strip()
        if text.lstrip().startswith('<'):
            text = 'non-JSON (HTML) response'
        return [{'code': '', 'message': ' '.join(text.split())[:MAX_MESSAGE]}] if text else []
    if isinstance(data, dict) and isinstance(data.get('errors'), list):
        return [
            {'code': str(e.get('code', ''))[:100], 'message': ' '.join(str(e.get('message', '')).split())[:MAX_MESSAGE]}
            for e in data['errors'] if isinstance(e, dict)
        ]
    if isinstance(data, dict):
        for key in ('details', 'detail', 'message', 'error_description', 'error'):
            if isinstance(data.get(key), str):
                return [{'code': '', 'message': ' '.join(data[key].split())[:MAX_MESSAGE]}]
    return []


_HINTS = {
    401: 'check username/password or token, or the credentials found by auth_method',
    403: 'the credentials are valid but lack permission for this operation',
    405: 'the registry does not allow this operation (for deletes on distribution, storage.delete.enabled must be true)',
    429: 'the registry is rate limiting this client; retry later or authenticate to get a higher limit',
}


def error_from_response(status: int, body: bytes, operation: str, url: str,
                        registry: str, repository: t.Optional[str] = None,
                        insufficient_scope: bool = False, anonymous: bool = False) -> RegistryError:
    """The one place that turns an HTTP status and error body into a RegistryError.

    ``anonymous`` says the request carried no credentials because none were found, which is
    what a user must be told about a 401, whatever its challenge says.
    """
    errors = parse_error_body(body)
    codes = [e['code'] for e in errors if e['code']]
    detail = '; '.join(('%s: %s' % (e['code'], e['message'])) if e['code'] else e['message'] for e in errors if e['code'] or e['message'])
    detail = detail if len(detail) <= MAX_DETAIL else detail[:MAX_DETAIL] + '...'
    where = 'registry %s' % registry
    if repository:
        where += ', repository %s' % repository
    msg = '%s failed (%s): HTTP %d' % (operation, where, status)
    if detail:
        msg += ' - %s' % detail
    hint = _HINTS.get(status)
    cls: t.Type[RegistryError] = RegistryError
    if status == 401 and (insufficient_scope or 'DENIED' in codes):
        cls, hint = PermissionDeniedError, 'the credentials were accepted but are not allowed to do this (insufficient scope)'
    elif status == 401:
        cls = AuthenticationError
    elif status == 403:
        cls = PermissionDeniedError
    elif status == 404:
        cls = NotFoundError
    elif status == 405 or 'UNSUPPORTED' in codes:
        cls = UnsupportedError
    elif status == 429 or 'TOOMANYREQUESTS' in codes:
        cls = RateLimitedError
    elif status == 400 and codes and set(codes) <= {'NAME_INVALID', 'TAG_INVALID', 'DIGEST_INVALID', 'MANIFEST_INVALID', 'SIZE_INVALID'}:
        cls = InvalidInputError
    if status == 401 and anonymous:
        hint = ('no credentials were found for registry %s, so the request was anonymous: set username and password '
                '(or token), or log in with docker/podman' % registry)
    elif status == 400 and 'HTTP request to an HTTPS server' in detail:
        hint = 'the server speaks HTTPS: set plain_http: false'
    return cls(msg, status=status, codes=codes, url=url, hint=hint)
