# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The copy engine over in-memory stores: walk order, skips, verification, check mode, platform filter.

A fake store is the point here: it records every call in order and can serve corrupt bytes,
which no real registry does; the same engine runs against real registries in the integration tests.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.operations._copy import (
    CopyContext, CopyStats, copy_image, copy_referrers, filter_platforms, filtered_from,
)
from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import OCI_INDEX, OCI_MANIFEST, Manifest, Platform
from ansible_collections.oci.registry.plugins.module_utils.stores._store import CHUNK_SIZE, ImageStore, SizedChunks


def digest_of(data: bytes) -> str:
    return 'sha256:' + hashlib.sha256(data).hexdigest()


class FakeStore(ImageStore):
    def __init__(self, label: str) -> None:
        self.label = label
        self.manifests: t.Dict[str, t.Tuple[bytes, str]] = {}
        self.blobs: t.Dict[str, bytes] = {}
        self.calls: t.List[t.Tuple[str, str]] = []
        self.corrupt: t.Set[str] = set()
        self.max_chunk = 0

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        self.calls.append(('manifest_digest', reference))
        found = self.manifests.get(reference)
        return digest_of(found[0]) if found else None

    def get_manifest(self, reference: str) -> Manifest:
        self.calls.append(('get_manifest', reference))
        if reference not in self.manifests:
            raise NotFoundError('missing %s' % reference)
        raw, media_type = self.manifests[reference]
        return Manifest.from_bytes(raw, media_type)

    def put_manifest(self, reference: str, raw: bytes, media_type: str) -> None:
        self.calls.append(('put_manifest', reference))
        self.manifests[reference] = (raw, media_type)
        self.manifests[digest_of(raw)] = (raw, media_type)

    def blob_exists(self, digest: str) -> bool:
        self.calls.append(('blob_exists', digest))
        return digest in self.blobs

    @contextlib.contextmanager
    def open_blob(self, digest: str) -> t.Iterator[t.Iterator[bytes]]:
        self.calls.append(('open_blob', digest))
        data = self.blobs[digest]
        if digest in self.corrupt:
            data = data[:-1] + b'X'
        yield iter([data[i:i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)])

    def write_blob(self, digest: str, size: t.Optional[int], chunks: t.Iterable[bytes]) -> None:
        self.calls.append(('write_blob', digest))
        parts = []
        for chunk in chunks:
            self.max_chunk = max(self.max_chunk, len(chunk))
            parts.append(chunk)
        self.blobs[digest] = b''.join(parts)

    def mount_blob(self, digest: str, source: t.Any) -> bool:
        self.calls.append(('mount_blob', digest))
        return False

    def writes(self) -> t.List[t.Tuple[str, str]]:
        return [c for c in self.calls if c[0] in ('put_manifest', 'write_blob')]


def add_image(store: FakeStore, payload: bytes, tag: t.Optional[str] = None) -> str:
    config = json.dumps({'architecture': 'amd64', 'os': 'linux'}).encode()
    store.blobs[digest_of(config)] = config
    store.blobs[digest_of(payload)] = payload
    raw = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
                      'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': digest_of(config), 'size': len(config)},
                      'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': digest_of(payload), 'size': len(payload)}]},
                     indent=3).encode()
    store.put_manifest(tag or digest_of(raw), raw, OCI_MANIFEST)
    store.calls.clear()
    return digest_of(raw)


def add_index(store: FakeStore, tag: str) -> t.Tuple[str, t.List[str]]:
    children = [add_image(store, b'amd64 layer'), add_image(store, b'arm64 layer')]
    entries = [{'mediaType': OCI_MANIFEST, 'digest': d, 'size': len(store.manifests[d][0]), 'platform': p}
               for d, p in zip(children, [{'os': 'linux', 'architecture': 'amd64'}, {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}])]
    raw = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': entries}, indent=3).encode()
    store.put_manifest(tag, raw, OCI_INDEX)
    store.calls.clear()
    return digest_of(raw), children


def test_image_copy_writes_blobs_then_manifest_with_exact_bytes():
    source, target = FakeStore('src'), FakeStore('dst')
    digest = add_image(source, b'x' * (CHUNK_SIZE * 2 + 5), 'v1')
    stats = CopyStats()
    copied = copy_image(source, target, 'v1', ['prod', 'stable'], stats=stats)
    assert copied.digest == digest
    assert [c[0] for c in target.writes()] == ['write_blob', 'write_blob', 'put_manifest', 'put_manifest']
    assert target.manifests['prod'] == source.manifests['v1']
    assert stats.copied_blobs == 2 and stats.copied_bytes == sum(len(b) for b in source.blobs.values()) and stats.manifests == 2
    assert target.max_chunk <= CHUNK_SIZE
    again = CopyStats()
    target.calls.clear()
    copy_image(source, target, 'v1', ['prod'], stats=again)
    assert again.existing_blobs == 2 and again.copied_blobs == 0
    assert [c[0] for c in target.writes()] == ['put_manifest']


def test_digest_mismatch_aborts_before_any_manifest_is_written():
    source, target = FakeStore('src'), FakeStore('dst')
    add_image(source, b'good bytes', 'v1')
    source.corrupt.add(digest_of(b'good bytes'))
    with pytest.raises(DigestMismatchError, match='does not match its digest'):
        copy_image(source, target, 'v1', ['prod'])
    assert not any(c[0] == 'put_manifest' for c in target.calls)
    assert digest_of(b'good bytes') not in target.blobs


def test_index_children_first_and_children_already_there_skipped():
    source, target = FakeStore('src'), FakeStore('dst')
    index_digest, children = add_index(source, 'v1')
    copied = copy_image(source, target, 'v1', ['v1'])
    puts = [c[1] for c in target.calls if c[0] == 'put_manifest']
    assert sorted(puts[:-1]) == sorted(children) and puts[-1] == 'v1'  # children (concurrently) before the index
    assert copied.digest == index_digest and copied.platforms == ('linux/amd64', 'linux/arm64/v8')
    target.calls.clear()
    copy_image(source, target, 'v1', ['v2'])
    assert [c[0] for c in target.calls] == ['manifest_digest', 'manifest_digest', 'put_manifest']


def test_check_mode_reads_but_never_writes_and_predicts():
    source, target = FakeStore('src'), FakeStore('dst')
    add_index(source, 'v1')
    stats = CopyStats()
    copy_image(source, target, 'v1', ['v1'], check_mode=True, stats=stats)
    assert target.writes() == [] and not target.manifests
    assert stats.copied_blobs == 3 and stats.manifests == 3  # the children share their config


@pytest.mark.parametrize('extra', [{'check_mode': True}, {'check_mode': False}, {'stats': CopyStats()}])
@pytest.mark.parametrize('copy', [copy_image, copy_referrers])
def test_a_context_owns_check_mode_and_stats(copy, extra):
    """Given a context, check_mode and stats are its own: passing either beside it is refused, not ignored, and nothing is read."""
    source, target = FakeStore('src'), FakeStore('dst')
    digest = add_image(source, b'payload', 'v1')
    with CopyContext(check_mode=False) as context:
        with pytest.raises(TypeError, match=r'^check_mode and stats are the CopyContext.s when a context is given \(this one has check_mode=False\)'):
            copy(source, target, 'v1' if copy is copy_image else digest, context=context, **extra)
    assert source.calls == [] and target.calls == []


def test_a_context_decides_check_mode_for_every_copy_in_it():
    source, target = FakeStore('src'), FakeStore('dst')
    add_image(source, b'payload', 'v1')
    with CopyContext(check_mode=True) as context:
        copy_image(source, target, 'v1', ['v1'], context=context)
    assert target.writes() == [] and context.stats.manifests == 1 and context.stats.copied_blobs == 2


def test_shared_blob_is_written_once_and_check_mode_predicts_the_real_run():
    """The two children of the index share their config: one write of it, and the same counts in check mode."""
    source, target = FakeStore('src'), FakeStore('dst')
    add_index(source, 'v1')
    planned = CopyStats()
    copy_image(source, target, 'v1', ['v1'], check_mode=True, stats=planned)
    done = CopyStats()
    copy_image(source, target, 'v1', ['v1'], stats=done)
    blob_writes = [c[1] for c in target.calls if c[0] == 'write_blob']
    assert sorted(blob_writes) == sorted(set(blob_writes)) and len(blob_writes) == 3
    assert len([c for c in source.calls if c[0] == 'open_blob']) == 3  # every distinct blob read once
    assert (planned.copied_blobs, planned.copied_bytes) == (done.copied_blobs, done.copied_bytes) == (3, sum(len(b) for b in source.blobs.values()))


def test_filtered_index_is_deterministic_and_names_its_source():
    source = FakeStore('src')
    index_digest, _children = add_index(source, 'v1')
    manifest = source.get_manifest('v1')
    wanted = [Platform.parse('linux/arm64'), Platform.parse('linux/arm64')]
    first, second = filter_platforms(manifest, wanted, 'v1'), filter_platforms(manifest, list(reversed(wanted)), 'v1')
    assert first.raw == second.raw and first.digest != index_digest
    assert filtered_from(first) == (index_digest, 'linux/arm64') and filtered_from(manifest) is None


@pytest.mark.parametrize('wanted, kept', [
    (['linux/amd64'], ['linux/amd64']),
    (['linux/arm64'], ['linux/arm64/v8']),
    (['linux/amd64', 'linux/arm64'], ['linux/amd64', 'linux/arm64/v8']),
])
def test_platform_filter(wanted, kept):
    source, target = FakeStore('src'), FakeStore('dst')
    index_digest, _children = add_index(source, 'v1')
    copied = copy_image(source, target, 'v1', ['v1'], platforms=[Platform.parse(p) for p in wanted])
    assert list(copied.platforms) == kept
    assert (copied.digest == index_digest) == (len(kept) == 2)
    assert digest_of(target.manifests['v1'][0]) == copied.digest


def test_platform_filter_without_match_names_what_there_is():
    source = FakeStore('src')
    add_index(source, 'v1')
    with pytest.raises(NotFoundError, match='linux/s390x.*linux/amd64, linux/arm64/v8'):
        filter_platforms(source.get_manifest('v1'), [Platform.parse('linux/s390x')], 'v1')


def test_failed_second_tag_names_tags_already_written():
    source, target = FakeStore('src'), FakeStore('dst')
    add_image(source, b'abc', 'v1')
    original = target.put_manifest

    def failing(reference, raw, media_type):
        if reference == 'b':
            raise NotFoundError('PUT manifest b failed')
        original(reference, raw, media_type)

    target.put_manifest = failing  # type: ignore[method-assign]
    with pytest.raises(NotFoundError, match=r'tags already written: a\)'):
        copy_image(source, target, 'v1', ['a', 'b'])


def test_referrers_of_a_store_that_cannot_list_them_are_none():
    source, target = FakeStore('src'), FakeStore('dst')
    assert copy_referrers(source, target, digest_of(b'x')) == []


def test_upload_body_keeps_its_chunks_and_length():
    """requests sends Content-Length from len(); http.client sends each chunk of an iterable (no read()) as it is."""
    chunks = [b'a' * CHUNK_SIZE, b'b' * 5]
    body = SizedChunks(iter(chunks), CHUNK_SIZE + 5)
    assert len(body) == CHUNK_SIZE + 5 and not hasattr(body, 'read')
    assert list(body) == chunks
