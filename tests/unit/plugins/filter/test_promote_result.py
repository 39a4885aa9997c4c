# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The promote_result filter: registry_tag's results + read-back digests -> promote_result, as tables."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.promote_result import FilterModule

promote_result = FilterModule().filters()['promote_result']

A, B = 'sha256:' + 'a' * 64, 'sha256:' + 'b' * 64


def _image(source, digest, *targets):
    """targets: (target, changed)"""
    return {'source': source, 'digest': digest, 'referrers': [],
            'results': [{'target': target, 'previous_digest': None, 'digest': digest, 'changed': changed} for target, changed in targets]}


READ_A, READ_B, SKIPPED = {'digest': A}, {'digest': B}, {'skipped': True, 'changed': False}


@pytest.mark.parametrize('images,reads,verified,moved', [
    ([_image('r/app:1', A, ('r/app:prod', True), ('r/app:stable', False))], [READ_A, READ_A], [True, True], ['r/app:prod']),
    ([_image('r/app:1', A, ('r/app:prod', True))], [READ_B], [False], ['r/app:prod']),
    ([_image('r/app:1', A, ('r/app:prod', True))], [SKIPPED], [None], ['r/app:prod']),
    ([_image('r/app:1', A, ('r/app:prod', False)), _image('r/app:2', B, ('r/app:next', True))], [READ_A, READ_B], [True, True],
     ['r/app:next']),
    ([_image('r/app:1', A, ('r/app:x', False)), _image('r/app:2', B, ('r/app:x', False))], [READ_A, READ_A], [True, False], []),
    ([], [], [], []),
], ids=['verified', 'other-digest', 'not-read', 'two-images', 'same-target-twice', 'nothing'])
def test_verdict(images, reads, verified, moved):
    result = promote_result(images, reads)
    assert [row['verified'] for image in result['images'] for row in image['targets']] == verified
    assert result['moved'] == moved and result['changed'] is bool(moved)
    assert [image['source'] for image in result['images']] == [image['source'] for image in images]


@pytest.mark.parametrize('images,reads,words', [
    ([_image('r/app:1', A, ('r/app:prod', True))], [], ['1 targets were tagged but 0 were read back']),
    ('nope', [], ['registry_tag results', 'str']),
    ([], {'results': []}, ['read-back results', 'dict']),
])
def test_bad_input(images, reads, words):
    with pytest.raises(AnsibleFilterError) as info:
        promote_result(images, reads)
    assert str(info.value).startswith('oci.registry.promote_result: ')
    for word in words:
        assert word in str(info.value)
