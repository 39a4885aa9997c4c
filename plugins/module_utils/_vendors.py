# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Registry-specific knowledge, keyed by host: the only place that looks at host names."""

from __future__ import annotations

import re
import typing as t

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
