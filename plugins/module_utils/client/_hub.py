# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Docker Hub: its own APIs beside the registry API (its rate-limit headers are read in ``wire/_ratelimit.py``).

- Search (``index.docker.io/v1/search``): Docker Hub has no catalog; registry_search_info asks this.
- The Hub API (``hub.docker.com``): Docker Hub's registry answers 405 to manifest DELETE, so tags
  and repositories are deleted through this API, with a JWT from ``POST /v2/auth/token
  {identifier, secret}``. ``RegistryClient.docker_hub(ref)`` hands out a ``DockerHubAPI`` whose
  Transport sends the JWT to the Hub API host only.
- Docker Hub refuses ``/v2/_catalog``; the Hub API lists one namespace's repositories
  (``GET /v2/namespaces/{namespace}/repositories``, anonymous for public repositories, pages
  linked by ``next``), which is how a whole-namespace mirror finds its repositories.

Which hosts are Docker Hub's, and the APIs' URLs, are decided in ``_vendors.py``.
"""

from __future__ import annotations

import json
import time
import typing as t
from urllib.parse import urlencode

from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, NotFoundError, RegistryError, register_secret
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import DOCKER_HUB
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import Credentials
from ansible_collections.oci.registry.plugins.module_utils.wire._transport import Transport, read_json

MAX_HUB_BODY = 16 * 1024 * 1024
MAX_HUB_PAGES = 10000
HUB_TOKEN_PATH = '/v2/auth/token'  # POST {"identifier", "secret"} -> {"access_token"}: a JWT valid for 10 minutes
HUB_TOKEN_LIFETIME = 300  # renew well before the 10 minutes
HUB_PAGE_SIZE = 100
HUB_LIST_PAGE_SIZE = 1000  # the repository listing's largest page_size: the fewest requests per namespace
SEARCH_MAX_PAGE = 100  # the search API's largest n


# --- search -----------------------------------------------------------------------------------

def hub_search_query(query: str, page_size: int, page: int) -> t.List[t.Tuple[str, t.Any]]:
    return [('q', query), ('n', max(1, min(page_size, SEARCH_MAX_PAGE))), ('page', page)]


def parse_hub_search(data: t.Any) -> t.Tuple[t.List[t.Dict[str, t.Any]], int]:
    """Docker Hub's ``/v1/search`` answer as (results, number of pages); every result has ``name``."""
    if not isinstance(data, dict):
        return [], 0
    results = []
    for entry in data.get('results') or []:
        if isinstance(entry, dict) and isinstance(entry.get('name'), str):
            results.append({
                'name': entry['name'],
                'description': entry.get('description'),
                'star_count': entry.get('star_count'),
                'is_official': entry.get('is_official'),
                'is_automated': entry.get('is_automated'),
            })
    pages = data.get('num_pages')
    return results, pages if isinstance(pages, int) else 0


def search(transport: Transport, search_url: str, query: str, limit: int) -> t.List[t.Dict[str, t.Any]]:
    """Docker Hub's search API, page by page until ``limit`` results or the last page.

    ``transport`` is the Docker Hub registry's: the search host is another host, so no
    credentials are sent to it.
    """
    operation = 'search Docker Hub for %r' % query
    results: t.List[t.Dict[str, t.Any]] = []
    page = 1
    while len(results) < limit and page <= MAX_HUB_PAGES:
        url = '%s?%s' % (search_url, urlencode(hub_search_query(query, limit, page)))
        response = transport.request('GET', url, headers={'Accept': 'application/json'}, stream=True, operation=operation)
        found, pages = parse_hub_search(read_json(response, MAX_HUB_BODY, operation, 'registry %s' % transport.registry))
        results.extend(found)
        if not found or page >= pages:
            break
        page += 1
    return results[:limit]


# --- the Hub API: tags and repositories -------------------------------------------------------

def hub_repository_path(repository: str) -> str:
    """Hub API path of a repository (``library/nginx``, ``team/app``): DELETE removes the repository."""
    return '/v2/repositories/%s/' % repository


def hub_tag_path(repository: str, tag: str) -> str:
    """Hub API path of one tag: GET describes it, DELETE removes only this tag."""
    return '/v2/repositories/%s/tags/%s/' % (repository, tag)


def hub_tags_path(repository: str) -> str:
    return '/v2/repositories/%s/tags/?page_size=%d' % (repository, HUB_PAGE_SIZE)


def hub_namespace_path(namespace: str) -> str:
    """Hub API path listing a namespace's repositories, the largest page first (``next`` links the rest)."""
    return '/v2/namespaces/%s/repositories?%s' % (namespace, urlencode([('page_size', HUB_LIST_PAGE_SIZE), ('ordering', 'name')]))


def parse_hub_repositories(data: t.Any, namespace: str) -> t.Tuple[t.List[str], t.Optional[str]]:
    """One page of the repository listing as (``namespace/name`` names, the next page's URL or None)."""
    if not isinstance(data, dict):
        return [], None
    names = ['%s/%s' % (namespace, entry['name']) for entry in data.get('results') or []
             if isinstance(entry, dict) and isinstance(entry.get('name'), str) and entry['name']]
    following = data.get('next')
    return names, following if isinstance(following, str) and following else None


def namespace_repositories(transport: Transport, namespace: str) -> t.Iterator[str]:
    """Every repository of a Docker Hub namespace (``library`` for the official images), page by page as consumed."""
    operation = 'list the Docker Hub repositories of namespace %s' % namespace
    url: t.Optional[str] = hub_namespace_path(namespace)
    for _page in range(MAX_HUB_PAGES):
        if url is None:
            return
        try:
            response = transport.request('GET', url, headers={'Accept': 'application/json'}, stream=True, operation=operation)
        except NotFoundError as exc:
            raise exc.with_message('Docker Hub has no namespace %s (%s)' % (namespace, exc.msg),
                                   hint='the first part of a Docker Hub include pattern names a user or organization') from None
        names, url = parse_hub_repositories(read_json(response, MAX_HUB_BODY, operation, 'the Docker Hub API'), namespace)
        yield from names
    raise RegistryError('%s: more than %d pages' % (operation, MAX_HUB_PAGES))


def hub_tag_digest(entry: t.Mapping[str, t.Any]) -> t.Optional[str]:
    """A Hub tag's manifest digest: its top-level ``digest``, else the one image's digest when it has one image."""
    digest = entry.get('digest')
    if isinstance(digest, str) and digest:
        return digest
    images = entry.get('images') or []
    if len(images) == 1 and isinstance(images[0], dict) and images[0].get('digest'):
        return str(images[0]['digest'])
    return None


class HubAuth:
    """The Hub API's ``RequestAuth``: a JWT fetched once from username + password (or access token), renewed before it expires."""

    def __init__(self, transport: Transport, credentials: t.Optional[Credentials], required: bool = True) -> None:
        self.transport = transport
        self.credentials = credentials
        self.required = required  # False: without credentials, requests go anonymous (public listings)
        for secret in (credentials.password, credentials.token) if credentials else ():
            register_secret(secret)
        self._token: t.Optional[t.Tuple[str, float]] = None

    def apply(self, headers: t.Dict[str, str], scopes: t.Sequence[str], operation: str) -> None:
        if self.required or self._usable():
            headers['Authorization'] = 'Bearer %s' % self.token()

    def _usable(self) -> bool:
        creds = self.credentials
        return bool(creds and creds.username and (creds.password or creds.token))

    def refresh(self, response: t.Any, scopes: t.Sequence[str], operation: str) -> bool:
        return False

    def credentials_for(self, repository: t.Optional[str]) -> t.Optional[Credentials]:
        return self.credentials if self._usable() else None

    def scheme(self) -> t.Optional[str]:
        return 'bearer'  # the Hub API always takes its JWT as a Bearer token; there is nothing to ping

    def token(self) -> str:
        if self._token and self._token[1] > time.time():
            return self._token[0]
        creds = self.credentials
        secret = creds.password or creds.token if creds else None
        if not creds or not creds.username or not secret:
            raise AuthenticationError('Docker Hub deletes only through its API at %s, which needs a username and a password or '
                                      'access token; none were found for %s' % (self.transport.base_url, DOCKER_HUB),
                                      hint='set username and password (or token), or log in to %s with docker/podman' % DOCKER_HUB)
        url = self.transport.url(HUB_TOKEN_PATH)
        response = self.transport.send('POST', url, headers={'Content-Type': 'application/json'},
                                       data=json.dumps({'identifier': creds.username, 'secret': secret}), operation='Docker Hub API login')
        if response.status_code != 200:
            error = self.transport.error(response, 'Docker Hub API login as %s' % creds.username, url)
            raise error.with_message(error.msg, AuthenticationError, hint='check the Docker Hub username and password or access token')
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
