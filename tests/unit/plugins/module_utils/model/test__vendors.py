# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which hosts are a vendor's: the defaults, and the seam tests use to point a vendor at a local server."""
from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._vendors import (
    VendorEndpoints, canonical_registry, full_repository, is_docker_hub, is_docker_hub_registry, registry_api_host,
)


@pytest.mark.parametrize('registry,google', [
    ('gcr.io', True), ('eu.gcr.io', True), ('europe-west1-docker.pkg.dev', True), ('127.0.0.1:5000', False), ('docker.io', False),
])
def test_vendor_endpoints_default_and_seam(registry: str, google: bool) -> None:
    assert VendorEndpoints().is_google(registry) is google
    assert VendorEndpoints(google_hosts=frozenset({registry})).is_google(registry) is True


@pytest.mark.parametrize('registry,kind', [
    ('docker.io', 'docker_hub'), ('index.docker.io', 'docker_hub'), ('gcr.io', 'google'), ('us-docker.pkg.dev', 'google'),
    ('quay.io', 'oci'), ('127.0.0.1:5000', 'oci'),
])
def test_delete_kind(registry: str, kind: str) -> None:
    assert VendorEndpoints().delete_kind(registry) == kind


@pytest.mark.parametrize('registry,canonical,api_host', [
    ('docker.io', 'docker.io', 'registry-1.docker.io'), ('index.docker.io', 'docker.io', 'registry-1.docker.io'),
    ('registry-1.docker.io', 'docker.io', 'registry-1.docker.io'),
    ('docker.io:5000', 'docker.io:5000', 'docker.io:5000'),  # a port makes it another registry to the grammar
    ('quay.io', 'quay.io', 'quay.io'), ('127.0.0.1:5000', '127.0.0.1:5000', '127.0.0.1:5000'),
])
def test_the_grammars_docker_hub_rules(registry: str, canonical: str, api_host: str) -> None:
    assert canonical_registry(registry) == canonical
    assert registry_api_host(canonical_registry(registry)) == api_host
    assert is_docker_hub_registry(canonical_registry(registry)) is (canonical == 'docker.io')


def test_auth_files_count_any_docker_hub_name() -> None:
    assert [is_docker_hub(r) for r in ('docker.io', 'INDEX.docker.io', 'registry-1.docker.io:443', 'quay.io')] == [True, True, True, False]


@pytest.mark.parametrize('registry,repository,full', [
    ('docker.io', 'nginx', 'library/nginx'), ('docker.io', 'team/app', 'team/app'), ('quay.io', 'nginx', 'nginx'),
])
def test_official_images_on_docker_hub(registry: str, repository: str, full: str) -> None:
    assert full_repository(registry, repository) == full
