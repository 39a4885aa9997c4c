# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Google's extended tags/list (the ``manifest`` map of go-containerregistry's pkg/v1/google/list.go), parsed from tables."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.client._google import google_tag_details

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
