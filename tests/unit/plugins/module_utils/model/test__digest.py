# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one home of digests: grammar, hashing, and the same messages for bytes, streams and archives."""

from __future__ import annotations

import hashlib
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._digest import (
    ALGORITHMS,
    HEX_LENGTHS,
    check_announced,
    check_chunks,
    text_number,
    compute_digest,
    has_algorithm_prefix,
    is_digest,
    validate_digest,
    verified,
    verify_digest,
)
from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError

DATA = [b'first chunk ', b'', b'second chunk ', b'last']
WHOLE = b''.join(DATA)
SHA256 = 'sha256:' + hashlib.sha256(WHOLE).hexdigest()
SHA512 = 'sha512:' + hashlib.sha512(WHOLE).hexdigest()
OTHER = compute_digest(b'other bytes')


def test_algorithms_and_hex_lengths_agree() -> None:
    assert set(ALGORITHMS) == set(HEX_LENGTHS)
    for algorithm, length in HEX_LENGTHS.items():
        assert len(compute_digest(b'', algorithm).split(':')[1]) == length
        assert validate_digest(compute_digest(b'x', algorithm))


@pytest.mark.parametrize('digest', [SHA256, SHA512])
def test_matching_bytes_pass_everywhere(digest: str) -> None:
    verify_digest(WHOLE, digest, 'content')
    assert b''.join(verified(iter(DATA), digest, len(WHOLE), 'blob')) == WHOLE
    assert b''.join(verified(iter(DATA), digest, None, 'blob')) == WHOLE
    assert check_chunks(iter(DATA), digest, len(WHOLE), 'blob') == len(WHOLE)


# (digest, size, message): the same message whichever way the bytes are checked
MISMATCHES = [
    (OTHER, None, 'blob X does not match its digest: expected %s, the bytes hash to %s' % (OTHER, SHA256)),
    (SHA256, len(WHOLE) + 1, 'blob X is %d bytes, not the %d bytes its descriptor says (truncated?)' % (len(WHOLE), len(WHOLE) + 1)),
    (SHA256, 3, 'blob X is larger than the 3 bytes its descriptor says'),
    ('md5:900150983cd24fb0d6963f7d28e17f72', None,
     "cannot verify blob X: unsupported digest algorithm 'md5'; only sha256 and sha512 digests are supported"),
]


@pytest.mark.parametrize('digest, size, message', MISMATCHES)
def test_one_message_per_mismatch(digest: str, size: t.Optional[int], message: str) -> None:
    for check in (lambda: list(verified(iter(DATA), digest, size, 'blob X')), lambda: check_chunks(iter(DATA), digest, size, 'blob X')):
        with pytest.raises(DigestMismatchError) as info:
            check()
        assert str(info.value) == message
        assert info.value.details()['error_kind'] == 'digest_mismatch'
    if size is None:
        with pytest.raises(DigestMismatchError) as info:
            verify_digest(WHOLE, digest, 'blob X')
        assert str(info.value) == message


def test_last_chunk_is_held_back_until_the_digest_checks_out() -> None:
    stream = verified(iter(DATA), OTHER, None, 'blob X')
    passed = []
    with pytest.raises(DigestMismatchError):
        for chunk in stream:
            passed.append(chunk)
    assert passed == [b'first chunk ', b'second chunk ']  # 'last' never reached the writer


@pytest.mark.parametrize('text,digest,prefix', [
    ('sha256:' + 'a' * 64, True, True),
    ('sha512:' + 'a' * 128, True, True),
    ('sha256:' + 'a' * 100, False, True),  # between the two lengths: neither algorithm's
    ('sha512:' + 'a' * 64, False, True),
    ('sha256:' + 'A' * 64, False, True),
    ('sha256:', False, True),
    ('sha384:' + 'a' * 96, False, False),
    ('sha256-' + 'a' * 64, False, False),
    ('latest', False, False),
    (None, False, False),
])
def test_strict_per_algorithm(text, digest: bool, prefix: bool) -> None:
    assert (is_digest(text), has_algorithm_prefix(text)) == (digest, prefix)


def test_announced_digest_must_match_the_bytes() -> None:
    assert check_announced(WHOLE, None, 'm') == SHA256
    assert check_announced(WHOLE, SHA256, 'm') == SHA256
    assert check_announced(WHOLE, SHA512, 'm') == SHA256  # checked in its own algorithm, the sha256 returned
    assert check_announced(WHOLE, 'sha384:abc', 'm') == SHA256  # an algorithm not computed here is not checked
    for wrong in (OTHER, 'sha512:' + '0' * 128):
        with pytest.raises(DigestMismatchError) as info:
            check_announced(WHOLE, wrong, 'the manifest')
        assert str(info.value).startswith('the manifest does not match its digest: expected %s' % wrong)


@pytest.mark.parametrize('text,hex_digest', [
    # Vectors from coreutils: printf '%s' TEXT | sha256sum
    ('mirror.example.com/hub/library/nginx', '5cb725aab029b7775566301ee7fb8811720dc15bab4ba9ac91b551842384c540'),
    ('\u00e9/app', '8449adb64d926c3446859f3f5d04ca4cd6b757605e2386e7a120a789addc8cdc'),
    ('', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
])
def test_text_number_is_the_sha256_of_the_utf8_bytes(text: str, hex_digest: str) -> None:
    assert text_number(text) == int(hex_digest, 16)
