# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker Hub's search answer (moby's registry/search_session.go shape), parsed from tables."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.client._hub import hub_search_query, parse_hub_search


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
