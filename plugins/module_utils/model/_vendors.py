# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Registry-specific knowledge keyed by host: the only place that looks at host names.

Every host check goes through :class:`VendorEndpoints` (the seam tests replace). What each
vendor's own API does lives with that vendor: Docker Hub's in ``_hub.py``, Google's in
``_google.py``.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

DOCKER_HUB = 'docker.io'
DOCKER_HUB_API_HOST = 'registry-1.docker.io'
# The key docker login writes for Docker Hub in config.json.
DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/'
DOCKER_HUB_ALIASES = frozenset((DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST))
# Every name an auth file may give Docker Hub, the one docker writes first.
DOCKER_HUB_AUTH_KEYS = (DOCKER_HUB_AUTH_KEY, DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST)

HUB_API_URL = 'https://hub.docker.com'
DOCKER_HUB_SEARCH_URL = 'https://index.docker.io/v1/search'
# Docker Hub's official images live under this namespace: nginx is library/nginx.
DOCKER_HUB_OFFICIAL_NAMESPACE = 'library'

# The OAuth scope Application Default Credentials are asked for on Google registries.
GOOGLE_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'

_GOOGLE_HOST = re.compile(r'^(?:[a-z0-9-]+\.)?gcr\.io$|^[a-z0-9-]+-docker\.pkg\.dev$')
# Google refuses to delete a digest that still has tags, or a child of an index, with these codes.
GOOGLE_DANGLING_TAG = 'GOOGLE_MANIFEST_DANGLING_TAG'
GOOGLE_DANGLING_PARENT = 'GOOGLE_MANIFEST_DANGLING_PARENT_IMAGE'

# How each kind of registry deletes: Docker Hub only through hub.docker.com (its registry answers
# 405 to manifest DELETE); Google untags with DELETE by tag, then deletes the digest; the others
# through the registry API V2.
DELETE_KINDS = ('docker_hub', 'google', 'oci')


def _host(registry: str) -> str:
    return registry.lower().split(':')[0] if not registry.startswith('[') else registry.lower()


def is_docker_hub(registry: str) -> bool:
    """Whether ``registry`` (as a user or an auth file writes it, any alias, any port) names Docker Hub."""
    return _host(registry) in DOCKER_HUB_ALIASES


# The reference grammar's Docker Hub rules (``_reference`` applies them; the names live here):

def canonical_registry(registry: str) -> str:
    """A lower-case ``host[:port]`` with Docker Hub's other names (index.docker.io, registry-1.docker.io) folded into docker.io."""
    return DOCKER_HUB if registry in DOCKER_HUB_ALIASES else registry


def is_docker_hub_registry(registry: str) -> bool:
    """Whether a normalized registry (``RegistryName.registry``, aliases folded) is Docker Hub."""
    return registry == DOCKER_HUB


def registry_api_host(registry: str) -> str:
    """The ``host[:port]`` that serves ``/v2/`` for a normalized registry: Docker Hub's is not docker.io."""
    return DOCKER_HUB_API_HOST if is_docker_hub_registry(registry) else registry


def full_repository(registry: str, repository: str) -> str:
    """The repository as the registry names it: a one-part Docker Hub name is an official image (``nginx`` is ``library/nginx``)."""
    if is_docker_hub_registry(registry) and '/' not in repository:
        return '%s/%s' % (DOCKER_HUB_OFFICIAL_NAMESPACE, repository)
    return repository


def is_google(registry: str) -> bool:
    """gcr.io, its regional hosts (eu.gcr.io, ...) and Artifact Registry (REGION-docker.pkg.dev)."""
    return bool(_GOOGLE_HOST.match(_host(registry)))


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
