# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shards: which run owns a target repository, and the shard option's checks, as tables."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.operations._shards import MAX_SHARDS, Shard, shard_of

NAMES = ['mirror.example.com/hub/team%d/app%d' % (i % 7, i) for i in range(400)]


@pytest.mark.parametrize('name,count,owner', [
    # int('5cb725aa...c540', 16) % count, the sha256 from coreutils' sha256sum
    ('mirror.example.com/hub/library/nginx', 4, 0),
    ('mirror.example.com/hub/library/nginx', 3, int('5cb725aab029b7775566301ee7fb8811720dc15bab4ba9ac91b551842384c540', 16) % 3),
    ('mirror.example.com/hub/library/nginx', 1, 0),
])
def test_shard_of_known_vectors(name: str, count: int, owner: int) -> None:
    assert shard_of(name, count) == owner


@pytest.mark.parametrize('count', [1, 2, 4, 7])
def test_shards_cover_every_repository_exactly_once(count: int) -> None:
    owners = [[shard.index for shard in (Shard(i, count) for i in range(count)) if shard.owns(name)] for name in NAMES]
    assert all(len(found) == 1 for found in owners)
    per_shard = [sum(1 for found in owners if found == [i]) for i in range(count)]
    assert min(per_shard) > len(NAMES) / count * 0.6  # spread, not all on one shard


def test_assignment_is_stable_as_repositories_come_and_go() -> None:
    before = {name: shard_of(name, 4) for name in NAMES}
    fewer = NAMES[::3] + ['mirror.example.com/hub/new/one', 'mirror.example.com/hub/new/two']
    assert all(shard_of(name, 4) == before[name] for name in fewer if name in before)


def test_assignment_is_the_same_in_another_process_with_another_hash_seed() -> None:
    """Python's hash() of a str differs between processes; the shard must not."""
    code = ('from ansible_collections.oci.registry.plugins.module_utils.operations._shards import shard_of; '
            'import sys; print(",".join(str(shard_of(n, 5)) for n in sys.argv[1:]))')
    env = dict(os.environ, PYTHONHASHSEED='12345', PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, '-c', code] + NAMES[:20], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == ','.join(str(shard_of(n, 5)) for n in NAMES[:20])


@pytest.mark.parametrize('value,expected', [
    (None, None),
    ({'index': 0, 'count': 1}, Shard(0, 1)),
    ({'index': 3, 'count': 4}, Shard(3, 4)),
    ({'index': MAX_SHARDS - 1, 'count': MAX_SHARDS}, Shard(MAX_SHARDS - 1, MAX_SHARDS)),
])
def test_parse(value: t.Any, expected: t.Optional[Shard]) -> None:
    assert Shard.parse(value) == expected


@pytest.mark.parametrize('value,words', [
    ({'index': 4, 'count': 4}, ['shard.index must be from 0 to 3', 'numbered from 0', 'got 4']),
    ({'index': -1, 'count': 4}, ['shard.index must be from 0 to 3', 'got -1']),
    ({'index': None, 'count': 2}, ['shard.index must be from 0 to 1', 'got None']),
    ({'index': 0, 'count': 0}, ['shard.count must be a whole number of shards from 1 to %d' % MAX_SHARDS, 'got 0']),
    ({'index': 0, 'count': MAX_SHARDS + 1}, ['shard.count', 'got %d' % (MAX_SHARDS + 1)]),
    ({'index': 0, 'count': True}, ['shard.count', 'got True']),
    ({'index': '1', 'count': 2}, ['shard.index', "got '1'"]),
    ([1, 2], ['shard must be a dict {index, count}']),
])
def test_parse_refuses(value: t.Any, words: t.List[str]) -> None:
    with pytest.raises(InvalidInputError) as info:
        Shard.parse(value)
    for word in words:
        assert word in info.value.msg


def test_report() -> None:
    assert Shard(1, 4).report(5, 21) == {'index': 1, 'count': 4, 'repositories': 5, 'total_repositories': 21}
