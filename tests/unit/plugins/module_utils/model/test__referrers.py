# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Referrers: the fallback and cosign tags spelled once, recognised strictly, described alike everywhere."""
from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._referrers import (
    COSIGN_SUFFIXES, cosign_suffix, cosign_tag, describe, describe_cosign, fallback_tag, from_index, is_fallback_tag, is_referrer_tag,
)

HEX = '0123456789abcdef' * 4
SHA256 = 'sha256:' + HEX
SHA512 = 'sha512:' + HEX * 2


def test_fallback_tag_is_the_spec_schema() -> None:
    assert fallback_tag(SHA256) == 'sha256-' + HEX
    # The referrers tag schema keeps 64 hex characters: a sha512 tag stays within the 128 a tag may have.
    assert fallback_tag(SHA512) == 'sha512-' + HEX
    assert [cosign_tag(SHA256, s) for s in COSIGN_SUFFIXES] == ['sha256-%s.%s' % (HEX, s) for s in ('sig', 'att', 'sbom')]


@pytest.mark.parametrize('tag,fallback,referrer', [
    ('sha256-' + HEX, True, True),
    ('sha512-' + HEX, True, True),
    ('sha256-' + HEX + '.sig', False, True),
    ('sha256-' + HEX + '.att', False, True),
    ('sha256-' + HEX + '.custom_1', False, True),
    ('sha256-' + HEX[:-1], False, False),  # 63 hex
    ('sha256-' + HEX + '0', False, False),  # 65 hex
    ('sha256-' + HEX[:36], False, False),  # the 100-hex kind of mistake, shorter: never a referrer tag
    ('sha512-' + HEX * 2, False, False),  # a whole sha512 is longer than a tag may be: not the schema
    ('sha256-' + HEX.upper(), False, False),
    ('sha384-' + HEX, False, False),
    ('sha256-' + HEX + '.', False, False),
    ('sha256-' + HEX + '.a.b', False, False),
    ('sha256-foo', False, False),
    ('latest', False, False),
])
def test_referrer_tags_are_recognised_strictly(tag: str, fallback: bool, referrer: bool) -> None:
    assert (is_fallback_tag(tag), is_referrer_tag(tag)) == (fallback, referrer)


def test_cosign_suffix_of_a_digest() -> None:
    assert cosign_suffix('sha256-%s.sig' % HEX, SHA256) == 'sig'
    assert cosign_suffix('sha256-%s' % HEX, SHA256) is None
    assert cosign_suffix('sha256-%s.sig' % HEX, 'sha256:' + 'f' * 64) is None


def test_one_shape_for_every_referrer() -> None:
    keys = {'digest', 'kind', 'tag', 'artifact_type', 'media_type', 'annotations', 'size'}
    cosign = describe_cosign(SHA256, 'sha256-%s.sig' % HEX, 'sig')
    assert set(cosign) == keys
    assert (cosign['kind'], cosign['artifact_type'], cosign['media_type'], cosign['annotations']) == ('cosign', 'cosign/sig', None, {})
    listed = from_index({'manifests': [
        {'digest': SHA256, 'mediaType': 'm', 'artifactType': 'a', 'annotations': {'k': 'v'}, 'size': 3},
        {'mediaType': 'no digest: skipped'}, 'not a dict',
    ]}, 'sha256-' + HEX)
    assert listed == [{'digest': SHA256, 'kind': 'referrer', 'tag': 'sha256-' + HEX, 'artifact_type': 'a', 'media_type': 'm',
                       'annotations': {'k': 'v'}, 'size': 3}]
    assert from_index({}) == [] and from_index({'manifests': None}) == []
    with pytest.raises(ValueError, match='kind'):
        describe(SHA256, 'notation')
