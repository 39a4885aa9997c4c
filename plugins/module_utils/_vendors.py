# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Registry-specific knowledge, keyed by host: the only place that looks at host names."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

DOCKER_HUB = 'docker.io'
DOCKER_HUB_API_HOST = 'registry-1.docker.io'
# The key docker login writes for Docker Hub in config.json.
DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/'
DOCKER_HUB_ALIASES = frozenset((DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST))

_GOOGLE_HOST = re.compile(r'^(?:[a-z0-9-]+\.)?gcr\.io$|^[a-z0-9-]+-docker\.pkg\.dev$')


def _host(registry: str) -> str:
    return registry.lower().split(':')[0] if not registry.startswith('[') else registry.lower()


def is_docker_hub(registry: str) -> bool:
    return _host(registry) in DOCKER_HUB_ALIASES


def is_google(registry: str) -> bool:
    """gcr.io, its regional hosts (eu.gcr.io, ...) and Artifact Registry (REGION-docker.pkg.dev)."""
    return bool(_GOOGLE_HOST.match(_host(registry)))


def auth_keys(registry: str) -> t.Tuple[str, ...]:
    """The names a docker/podman auth file may use for this registry, most specific first."""
    if is_docker_hub(registry):
        return (DOCKER_HUB_AUTH_KEY, DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST)
    return (registry,)


def parse_ratelimit(headers: t.Mapping[str, str]) -> t.Optional[t.Dict[str, t.Any]]:
    """Docker Hub's ``ratelimit-limit: 100;w=21600`` headers as a dict, or None when absent."""
    limit, remaining = headers.get('ratelimit-limit'), headers.get('ratelimit-remaining')
    if not limit and not remaining:
        return None

    def split(value: t.Optional[str]) -> t.Tuple[t.Optional[int], t.Optional[int]]:
        if not value:
            return None, None
        count, _sep, rest = value.partition(';')
        window = rest.strip()[2:] if rest.strip().startswith('w=') else ''
        return (int(count) if count.strip().isdigit() else None, int(window) if window.isdigit() else None)

    lim, window = split(limit)
    rem, window2 = split(remaining)
    return {'limit': lim, 'remaining': rem, 'window_seconds': window or window2, 'source': headers.get('docker-ratelimit-source')}


# registry_repo_delete: how each kind of registry deletes, and Docker Hub's own API.
# Docker Hub deletes tags and repositories only through hub.docker.com (its registry answers 405 to
# manifest DELETE); Google untags with DELETE by tag and refuses to delete a digest that still has
# tags (GOOGLE_MANIFEST_DANGLING_TAG) or a child of an index (GOOGLE_MANIFEST_DANGLING_PARENT_IMAGE).

HUB_API_URL = 'https://hub.docker.com'
HUB_TOKEN_PATH = '/v2/auth/token'  # POST {"identifier", "secret"} -> {"access_token"}: a JWT valid for 10 minutes
HUB_TOKEN_LIFETIME = 300  # renew well before the 10 minutes
HUB_PAGE_SIZE = 100
GOOGLE_DANGLING_TAG = 'GOOGLE_MANIFEST_DANGLING_TAG'
GOOGLE_DANGLING_PARENT = 'GOOGLE_MANIFEST_DANGLING_PARENT_IMAGE'

DELETE_KINDS = ('docker_hub', 'google', 'oci')


def hub_repository_path(repository: str) -> str:
    """Hub API path of a repository (``library/nginx``, ``team/app``): DELETE removes the repository."""
    return '/v2/repositories/%s/' % repository


def hub_tag_path(repository: str, tag: str) -> str:
    """Hub API path of one tag: GET describes it, DELETE removes only this tag."""
    return '/v2/repositories/%s/tags/%s/' % (repository, tag)


def hub_tags_path(repository: str) -> str:
    return '/v2/repositories/%s/tags/?page_size=%d' % (repository, HUB_PAGE_SIZE)


def hub_tag_digest(entry: t.Mapping[str, t.Any]) -> t.Optional[str]:
    """A Hub tag's manifest digest: its top-level ``digest``, else the one image's digest when it has one image."""
    digest = entry.get('digest')
    if isinstance(digest, str) and digest:
        return digest
    images = entry.get('images') or []
    if len(images) == 1 and isinstance(images[0], dict) and images[0].get('digest'):
        return str(images[0]['digest'])
    return None


# Listing and search (registry_search_info, registry_tags_info)

DOCKER_HUB_SEARCH_URL = 'https://index.docker.io/v1/search'
DOCKER_HUB_SEARCH_MAX_PAGE = 100  # the search API's largest n


@dataclass(frozen=True)
class VendorEndpoints:
    """Where vendor-only APIs are, and which extra hosts count as a vendor's.

    Production code uses :data:`VENDOR_ENDPOINTS`, built from the real host names above. This
    is also the one seam for tests (Docker Hub and Google cannot be reached from the test
    machines): a test that replays a vendor's documented responses from a local server builds
    its own instance (say ``VendorEndpoints(hub_api_url='http://127.0.0.1:P', google_hosts=frozenset({'127.0.0.1:Q'}))``)
    and sets it as ``client.vendors`` on its RegistryClient (or on the class, for a whole test).
    """

    hub_search_url: str = DOCKER_HUB_SEARCH_URL
    hub_api_url: str = HUB_API_URL
    google_hosts: t.FrozenSet[str] = frozenset()

    def is_docker_hub(self, registry: str) -> bool:
        return is_docker_hub(registry)

    def is_google(self, registry: str) -> bool:
        return is_google(registry) or registry.lower() in self.google_hosts

    def delete_kind(self, registry: str) -> str:
        """``docker_hub`` (Hub API), ``google`` (untag, then delete the digest) or ``oci`` (registry API V2)."""
        if self.is_docker_hub(registry):
            return 'docker_hub'
        if self.is_google(registry):
            return 'google'
        return 'oci'


VENDOR_ENDPOINTS = VendorEndpoints()


def hub_search_query(query: str, page_size: int, page: int) -> t.List[t.Tuple[str, t.Any]]:
    return [('q', query), ('n', max(1, min(page_size, DOCKER_HUB_SEARCH_MAX_PAGE))), ('page', page)]


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


def google_manifests(data: t.Any) -> t.Dict[str, t.Dict[str, t.Any]]:
    """Google's extended ``tags/list``: ``{digest: {media_type, tags, created}}`` for every manifest, tagged or not.

    ``created`` is epoch seconds or None: ``timeCreatedMs`` is the image's own creation time
    (Google sends ``"0"`` when unknown), ``timeUploadedMs`` the push time, used when the first is
    missing. Both are strings of milliseconds.
    """
    result: t.Dict[str, t.Dict[str, t.Any]] = {}
    manifests = data.get('manifest') if isinstance(data, dict) else None
    if not isinstance(manifests, dict):
        return result
    for digest, entry in manifests.items():
        if not isinstance(entry, dict):
            continue
        created: t.Optional[float] = None
        for key in ('timeCreatedMs', 'timeUploadedMs'):
            value = str(entry.get(key) or '').strip()
            if value.isdigit() and int(value) > 0:
                created = int(value) / 1000.0
                break
        result[str(digest)] = {'media_type': entry.get('mediaType') or '', 'created': created,
                               'tags': [tag for tag in entry.get('tag') or [] if isinstance(tag, str)]}
    return result


def google_tag_details(data: t.Any) -> t.Dict[str, t.Tuple[str, t.Optional[float]]]:
    """Google's ``tags/list`` ``manifest`` map as ``{tag: (digest, created epoch seconds or None)}``."""
    return {tag: (digest, entry['created']) for digest, entry in google_manifests(data).items() for tag in entry['tags']}
