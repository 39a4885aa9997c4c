# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Authentication: challenges, Basic, Bearer tokens with a scoped cache, and the ping handshake.

Where credentials come from lives in ``_credentials.py``; this file decides what to send.
``Authenticator`` is the registry's implementation of the transport's ``RequestAuth``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import typing as t
from urllib.parse import urlencode, urlsplit

from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, RegistryError, register_secret
from ._connection import Credentials
from ._transport import Transport, read_capped

MAX_TOKEN_BODY = 1024 * 1024
DEFAULT_TOKEN_LIFETIME = 60
CLIENT_ID = 'oci.registry'

_CHALLENGE_SCHEME = re.compile(r'\s*,?\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+|(?=,)|$)')
_CHALLENGE_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


class Challenge(t.NamedTuple):
    scheme: str
    params: t.Dict[str, str]


def parse_challenges(header: str) -> t.List[Challenge]:
    """Parse a WWW-Authenticate header: schemes with quoted or bare, comma-separated params."""
    challenges: t.List[Challenge] = []
    pos, header = 0, header or ''
    while pos < len(header):
        match = _CHALLENGE_SCHEME.match(header, pos)
        if not match:
            break
        scheme, pos = match.group(1).lower(), match.end()
        params: t.Dict[str, str] = {}
        while pos < len(header):
            param = _CHALLENGE_PARAM.match(header, pos)
            if not param:
                break
            value = param.group(2) if param.group(2) is not None else param.group(3)
            params[param.group(1).lower()] = re.sub(r'\\(.)', r'\1', value)
            pos = param.end()
        challenges.append(Challenge(scheme, params))
    return challenges


def repository_scope(repository: str, actions: str) -> str:
    return 'repository:%s:%s' % (repository, actions)


CATALOG_SCOPE = 'registry:catalog:*'


def _scope_set(scopes: t.Iterable[str]) -> t.FrozenSet[t.Tuple[str, str]]:
    """``repository:a/b:pull,push`` -> {('repository:a/b', 'pull'), ('repository:a/b', 'push')}."""
    result = set()
    for scope in scopes:
        resource, _sep, actions = scope.rpartition(':')
        result.update((resource, action) for action in actions.split(',') if action)
    return frozenset(result)


class _Token(t.NamedTuple):
    value: str
    scopes: t.FrozenSet[t.Tuple[str, str]]
    expires: float


def scope_repository(scopes: t.Sequence[str]) -> t.Optional[str]:
    """The repository a request is for: that of its first ``repository:`` scope (a mount's target), else None."""
    for scope in scopes:
        if scope.startswith('repository:'):
            return scope[len('repository:'):].rpartition(':')[0]
    return None


class Authenticator:
    """Auth state for one registry host: ping once, then Basic or Bearer per the challenge.

    Credentials are looked up lazily (an open registry never reads an auth file), once per
    repository a request is for (its first ``repository:`` scope), so podman's
    repository-scoped auth-file keys apply to the repository being accessed; requests with no
    repository (catalog, login check) use the registry-wide credentials. Tokens are cached by
    realm, service and scope (so a token fetched with one repository's credentials never
    serves another repository), and access is serialised so concurrent lookups share one
    ping and one token.
    """

    def __init__(self, transport: Transport,
                 find_credentials: t.Callable[[t.Optional[str]], t.Optional[Credentials]]) -> None:
        self.transport = transport
        self._find_credentials = find_credentials
        self._credentials: t.Dict[t.Optional[str], t.Optional[Credentials]] = {}
        self._lock = threading.RLock()
        self._pinged = False
        self.challenge: t.Optional[Challenge] = None
        self._tokens: t.List[_Token] = []
        self._refreshed_option_token = False

    @property
    def credentials(self) -> t.Optional[Credentials]:
        """The registry-wide credentials (no repository-scoped key applies)."""
        return self.credentials_for(None)

    def credentials_for(self, repository: t.Optional[str]) -> t.Optional[Credentials]:
        """The credentials for requests on ``repository``, looked up once per repository."""
        with self._lock:
            if repository not in self._credentials:
                found = self._find_credentials(repository)
                self._credentials[repository] = found
                if found:
                    for secret in (found.password, found.token, found.identity_token):
                        register_secret(secret)
            return self._credentials[repository]

    def ping(self) -> t.Optional[Challenge]:
        """GET /v2/ once: learn whether and how this registry wants auth."""
        with self._lock:
            if self._pinged:
                return self.challenge
            url = self.transport.url('/v2/')
            response = self.transport.send('GET', url, operation='ping')
            response.close()
            if response.status_code == 401:
                challenges = parse_challenges(response.headers.get('WWW-Authenticate', ''))
                self.challenge = next((c for c in challenges if c.scheme == 'bearer'), None) or next(
                    (c for c in challenges if c.scheme == 'basic'), Challenge('basic', {}))
            elif response.status_code not in (200, 404):
                raise self.transport.error(response, 'ping', url)
            self._pinged = True
            return self.challenge

    def scheme(self) -> t.Optional[str]:
        """The scheme of the challenge ``/v2/`` answered with (pinged once), or None for an open registry."""
        challenge = self.ping()
        return challenge.scheme if challenge else None

    def apply(self, headers: t.Dict[str, str], scopes: t.Sequence[str], operation: str) -> None:
        """Put the Authorization header for these scopes on a request to the registry host."""
        challenge = self.ping()
        if challenge is None:
            return
        creds = self.credentials_for(scope_repository(scopes))
        if challenge.scheme == 'basic':
            if creds and creds.username is not None and creds.password is not None:
                headers['Authorization'] = _basic(creds.username, creds.password)
            elif creds and creds.token:
                headers['Authorization'] = 'Bearer %s' % creds.token
            return
        if creds and creds.token and not self._refreshed_option_token:
            headers['Authorization'] = 'Bearer %s' % creds.token
            return
        headers['Authorization'] = 'Bearer %s' % self._token(scopes, operation)

    def refresh(self, response: t.Any, scopes: t.Sequence[str], operation: str) -> bool:
        """After a 401: True when a retry with new credentials is worth it (done at most once)."""
        with self._lock:
            if self.challenge is None or self.challenge.scheme != 'bearer':
                if self.challenge is None:  # the registry started asking for auth after the ping
                    self._pinged = False
                    return self.ping() is not None
                return False
            creds = self.credentials_for(scope_repository(scopes))
            if creds and creds.token and not self._refreshed_option_token:
                # The given token was not accepted as a bearer token: treat it as an identity
                # (refresh) token and exchange it at the realm.
                self._refreshed_option_token = True
                return True
            fresh = parse_challenges(response.headers.get('WWW-Authenticate', ''))
            bearer = next((c for c in fresh if c.scheme == 'bearer'), None)
            wanted = _scope_set(scopes)
            if bearer and bearer.params.get('scope'):
                wanted |= _scope_set(bearer.params['scope'].split(' '))
            # Concurrent requests refused with the same expired token: the first renews it, the others only retry.
            current = self._cached(wanted)
            if current is not None and _sent_authorization(response) != 'Bearer %s' % current:
                return True
            # Drop cached tokens for these scopes and get a fresh one that names every scope asked for.
            self._tokens = [tok for tok in self._tokens if not (tok.scopes & wanted)]
            try:
                self._fetch_token(sorted(_format_scopes(wanted)), operation)
            except RegistryError:
                return False
            return True

    def _cached(self, wanted: t.FrozenSet[t.Tuple[str, str]]) -> t.Optional[str]:
        """A cached, unexpired token covering every wanted scope (call with the lock held)."""
        now = time.time()
        return next((tok.value for tok in self._tokens if tok.expires > now and wanted <= tok.scopes), None)

    def _token(self, scopes: t.Sequence[str], operation: str) -> str:
        with self._lock:
            return self._cached(_scope_set(scopes)) or self._fetch_token(list(scopes), operation)

    def _fetch_token(self, scopes: t.List[str], operation: str) -> str:
        params = self.challenge.params if self.challenge else {}
        realm = params.get('realm')
        if not realm or urlsplit(realm).scheme not in ('http', 'https'):
            raise AuthenticationError('%s failed: registry %s sent a Bearer challenge without a usable realm (%r)'
                                      % (operation, self.transport.registry, realm))
        service = params.get('service')
        creds = self.credentials_for(scope_repository(scopes))
        refresh_token = creds.identity_token if creds else None
        if creds and creds.token and self._refreshed_option_token:
            refresh_token = creds.token
        if refresh_token:
            data = _oauth_form(service, scopes, refresh_token)
            response = self.transport.send('POST', realm, headers={'Content-Type': 'application/x-www-form-urlencoded'},
                                           data=data, operation='token request')
            if response.status_code == 404:  # no OAuth2 endpoint: fall back to GET with Basic
                response.close()
                response = self._get_token(realm, service, scopes, creds)
        else:
            response = self._get_token(realm, service, scopes, creds)
        if response.status_code != 200:
            error = self.transport.error(response, 'token request for %s' % ' '.join(scopes or ['registry access']), realm,
                                         scope_repository(scopes))
            who = ('user %s' % creds.username) if creds and creds.username else ('a token' if creds else 'anonymous access')
            raise error.with_message('%s (authenticating as %s%s)' % (error.msg, who, (' from %s' % creds.source) if creds and creds.source else ''),
                                     AuthenticationError, hint=error.hint or 'check the credentials')
        try:
            payload = json.loads(read_capped(response, MAX_TOKEN_BODY, 'token response').decode('utf-8'))
            value = payload.get('token') or payload.get('access_token')
        except (ValueError, UnicodeDecodeError, AttributeError):
            value, payload = None, {}
        if not isinstance(value, str) or not value:
            raise AuthenticationError('token request to %s for registry %s returned no token' % (realm, self.transport.registry))
        register_secret(value)
        lifetime = payload.get('expires_in')
        lifetime = lifetime if isinstance(lifetime, (int, float)) and lifetime > 0 else DEFAULT_TOKEN_LIFETIME
        # Renew a little early so a token never expires between the check and the request.
        self._tokens.append(_Token(value, _scope_set(scopes), time.time() + max(lifetime - min(10.0, lifetime / 4), 1)))
        return value

    def _get_token(self, realm: str, service: t.Optional[str], scopes: t.List[str], creds: t.Optional[Credentials]) -> t.Any:
        query = [('service', service)] if service else []
        query += [('scope', s) for s in scopes]
        url = realm + ('&' if '?' in realm else '?') + urlencode(query) if query else realm
        headers = {}
        if creds and creds.username is not None and creds.password is not None:
            headers['Authorization'] = _basic(creds.username, creds.password)
        return self.transport.send('GET', url, headers=headers, operation='token request')


def _sent_authorization(response: t.Any) -> t.Optional[str]:
    request = getattr(response, 'request', None)
    return request.headers.get('Authorization') if request is not None else None


def _format_scopes(pairs: t.FrozenSet[t.Tuple[str, str]]) -> t.List[str]:
    grouped: t.Dict[str, t.List[str]] = {}
    for resource, action in sorted(pairs):
        grouped.setdefault(resource, []).append(action)
    return ['%s:%s' % (resource, ','.join(actions)) for resource, actions in grouped.items()]


def _oauth_form(service: t.Optional[str], scopes: t.List[str], refresh_token: str) -> str:
    form = [('grant_type', 'refresh_token'), ('client_id', CLIENT_ID), ('refresh_token', refresh_token)]
    if service:
        form.append(('service', service))
    if scopes:
        form.append(('scope', ' '.join(scopes)))
    return urlencode(form)


def _basic(username: str, password: str) -> str:
    return 'Basic %s' % base64.b64encode(('%s:%s' % (username, password)).encode('utf-8')).decode('ascii')
