# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Docker Hub's own API (hub.docker.com), which is not the registry API.

Docker Hub's registry answers 405 to manifest DELETE: tags and repositories are deleted through
this API, with a JWT from ``POST /v2/auth/token {identifier, secret}``. Paths and constants live
in ``_vendors.py``; ``RegistryClient.docker_hub(ref)`` hands out a ``DockerHubAPI`` whose
Transport sends the JWT to the Hub API host only.
"""

from __future__ import annotations

import json
import time
import typing as t

from ._credentials import Credentials
from ._errors import AuthenticationError, NotFoundError, RegistryError, register_secret
from ._reference import ImageReference
from ._transport import Transport, read_json
from ._vendors import HUB_TOKEN_LIFETIME, HUB_TOKEN_PATH, hub_repository_path, hub_tag_digest, hub_tag_path, hub_tags_path

MAX_HUB_BODY = 16 * 1024 * 1024
MAX_HUB_PAGES = 10000


class HubAuth:
    """The Hub API's auth for a Transport: a JWT fetched once from username + password (or access token)."""

    def __init__(self, transport: Transport, credentials: t.Optional[Credentials]) -> None:
        self.transport = transport
        self.credentials = credentials
        for secret in (credentials.password, credentials.token) if credentials else ():
            register_secret(secret)
        self._token: t.Optional[t.Tuple[str, float]] = None

    def apply(self, headers: t.Dict[str, str], scopes: t.Sequence[str], operation: str) -> None:
        headers['Authorization'] = 'Bearer %s' % self.token()

    def refresh(self, response: t.Any, scopes: t.Sequence[str], operation: str) -> bool:
        return False

    def credentials_for(self, repository: t.Optional[str]) -> t.Optional[Credentials]:
        return self.credentials

    def token(self) -> str:
        if self._token and self._token[1] > time.time():
            return self._token[0]
        creds = self.credentials
        secret = creds.password or creds.token if creds else None
        if not creds or not creds.username or not secret:
            raise AuthenticationError('Docker Hub deletes only through its API at %s, which needs a username and a password or '
                                      'access token; none were found for docker.io' % self.transport.base_url,
                                      hint='set username and password (or token), or log in to docker.io with docker/podman')
        url = self.transport.url(HUB_TOKEN_PATH)
        response = self.transport.send('POST', url, headers={'Content-Type': 'application/json'},
                                       data=json.dumps({'identifier': creds.username, 'secret': secret}), operation='Docker Hub API login')
        if response.status_code != 200:
            error = self.transport.error(response, 'Docker Hub API login as %s' % creds.username, url)
            raise AuthenticationError(error.msg, status=error.status, codes=error.codes, url=error.url,
                                      hint='check the Docker Hub username and password or access token')
        body = read_json(response, MAX_HUB_BODY, 'Docker Hub API login', 'the Docker Hub API')
        token = body.get('access_token') if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError('Docker Hub API login at %s returned no access_token' % self.transport.base_url)
        register_secret(token)
        self._token = (token, time.time() + HUB_TOKEN_LIFETIME)
        return token


class DockerHubAPI:
    """Tag and repository operations on one Docker Hub repository, through the Hub API."""

    def __init__(self, transport: Transport, ref: ImageReference) -> None:
        self.transport = transport
        self.ref = ref

    def _request(self, method: str, path: str, operation: str, ok: t.Collection[int] = (200,)) -> t.Any:
        return self.transport.request(method, path, headers={'Accept': 'application/json'}, ok=ok, operation=operation,
                                      repository=self.ref.repository)

    def tags(self) -> t.Dict[str, t.Optional[str]]:
        """Every tag with its digest where Hub names one ({} when the repository is missing); follows ``next`` pages."""
        tags: t.Dict[str, t.Optional[str]] = {}
        url: t.Optional[str] = hub_tags_path(self.ref.repository)
        operation = 'list Docker Hub tags of %s' % self.ref.name
        for _page in range(MAX_HUB_PAGES):
            if not url:
                return tags
            try:
                body = read_json(self._request('GET', url, operation), MAX_HUB_BODY, operation, 'the Docker Hub API')
            except NotFoundError:
                return tags
            for entry in body.get('results') or [] if isinstance(body, dict) else []:
                if isinstance(entry, dict) and entry.get('name'):
                    tags[str(entry['name'])] = hub_tag_digest(entry)
            url = body.get('next') or None if isinstance(body, dict) else None
        raise RegistryError('%s: more than %d pages' % (operation, MAX_HUB_PAGES))

    def tag(self, tag: str) -> t.Tuple[bool, t.Optional[str]]:
        """(exists, digest) of one tag."""
        operation = 'read Docker Hub tag %s:%s' % (self.ref.name, tag)
        try:
            body = read_json(self._request('GET', hub_tag_path(self.ref.repository, tag), operation), MAX_HUB_BODY, operation,
                             'the Docker Hub API')
        except NotFoundError:
            return False, None
        return True, hub_tag_digest(body) if isinstance(body, dict) else None

    def _delete(self, path: str, operation: str) -> bool:
        try:
            self._request('DELETE', path, operation, ok=(200, 202, 204)).close()
        except NotFoundError:
            return False
        return True

    def delete_tag(self, tag: str) -> bool:
        """Delete one tag (the image stays for its other tags). False when it was already gone."""
        return self._delete(hub_tag_path(self.ref.repository, tag), 'delete Docker Hub tag %s:%s' % (self.ref.name, tag))

    def delete_repository(self) -> bool:
        """Delete the whole repository. False when it was already gone."""
        return self._delete(hub_repository_path(self.ref.repository), 'delete Docker Hub repository %s' % self.ref.name)
