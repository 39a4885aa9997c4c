# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which hosts are a vendor's: the defaults, and the seam tests use to point a vendor at a local server."""
from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._vendors import VendorEndpoints


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
