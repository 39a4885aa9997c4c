# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Vendor response shapes (VENDOR-APIS.md): Docker Hub search and Google's tags/list manifest map, parsed from tables."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import _smaller_page_size
from ansible_collections.oci.registry.plugins.module_utils._vendors import (
    VendorEndpoints, google_tag_details, hub_search_query, parse_hub_search,
)

D1, D2 = 'sha256:' + '1' * 64, 'sha256:' + '2' * 64


@pytest.mark.parametrize('data,expected', [
    ({'manifest': {D1: {'tag': ['v1', 'latest'], 'timeCreatedMs': '1700000000000', 'timeUploadedMs': '1700000100000'}}},
     {'v1': (D1, 1700000000.0), 'latest': (D1, 1700000000.0)}),
    ({'manifest': {D1: {'tag': ['v1'], 'timeCreatedMs': '0', 'timeUploadedMs': '1700000100000'}}}, {'v1': (D1, 1700000100.0)}),
    ({'manifest': {D1: {'tag': ['v1'], 'timeCreatedMs': '0', 'timeUploadedMs': '0'}}}, {'v1': (D1, None)}),
    ({'manifest': {D1: {'tag': [], 'timeCreatedMs': '1'}, D2: {'tag': ['b'], 'timeCreatedMs': 'x'}}}, {'b': (D2, None)}),
    ({'tags': ['a']}, {}), ({'manifest': None}, {}), (None, {}), ({'manifest': {D1: 'junk'}}, {}),
])
def test_google_tag_details(data: t.Any, expected: t.Dict[str, t.Tuple[str, t.Optional[float]]]) -> None:
    assert google_tag_details(data) == expected


@pytest.mark.parametrize('data,results,pages', [
    ({'num_pages': 3, 'results': [{'name': 'nginx', 'description': 'd', 'star_count': 5, 'is_official': True, 'is_automated': False}]},
     [{'name': 'nginx', 'description': 'd', 'star_count': 5, 'is_official': True, 'is_automated': False}], 3),
    ({'results': [{'name': 'a/b'}, {'description': 'no name'}, 'junk']},
     [{'name': 'a/b', 'description': None, 'star_count': None, 'is_official': None, 'is_automated': None}], 0),
    ([], [], 0), ({'results': None, 'num_pages': '2'}, [], 0),
])
def test_parse_hub_search(data: t.Any, results: t.List[t.Dict[str, t.Any]], pages: int) -> None:
    assert parse_hub_search(data) == (results, pages)


@pytest.mark.parametrize('size,page,n', [(25, 1, 25), (1000, 2, 100), (0, 1, 1)])
def test_hub_search_query_caps_page_size(size: int, page: int, n: int) -> None:
    assert hub_search_query('web', size, page) == [('q', 'web'), ('n', n), ('page', page)]


@pytest.mark.parametrize('registry,google', [
    ('gcr.io', True), ('eu.gcr.io', True), ('europe-west1-docker.pkg.dev', True), ('127.0.0.1:5000', False), ('docker.io', False),
])
def test_vendor_endpoints_default_and_seam(registry: str, google: bool) -> None:
    assert VendorEndpoints().is_google(registry) is google
    assert VendorEndpoints(google_hosts=frozenset({registry})).is_google(registry) is True


@pytest.mark.parametrize('size,smaller', [(5000, 1000), (1001, 1000), (1000, 100), (101, 100), (100, 0), (0, None), (None, None)])
def test_smaller_page_size(size: t.Optional[int], smaller: t.Optional[int]) -> None:
    assert _smaller_page_size(size) == smaller
