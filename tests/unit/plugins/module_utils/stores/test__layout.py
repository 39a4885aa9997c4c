# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OCI image layout store: directory and .tar, written through a verifying stream and read back."""
from __future__ import annotations

import contextlib
import json
import os
import tarfile
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError, InvalidInputError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.stores._layout import CONTAINERD_NAME, REF_NAME, ChunkReader, OCILayout, split_name
from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import OCI_INDEX, OCI_MANIFEST
from ansible_collections.oci.registry.plugins.module_utils.model._digest import verified
from ansible_collections.oci.registry.plugins.module_utils.stores._store import CHUNK_SIZE

NAME = '127.0.0.1:5000/team/app'


class FakeSource:
    """An in-memory store: blobs and manifests by digest, tags to digests; can hand out corrupt bytes."""

    label = 'fake source'

    def __init__(self) -> None:
        self.blobs: t.Dict[str, bytes] = {}
        self.tags: t.Dict[str, str] = {}
        self.types: t.Dict[str, str] = {}
        self.corrupt: t.Set[str] = set()
        self.opened: t.List[str] = []

    def add_blob(self, data: bytes) -> t.Dict[str, t.Any]:
        digest = compute_digest(data)
        self.blobs[digest] = data
        return {'mediaType': 'application/octet-stream', 'digest': digest, 'size': len(data)}

    def add_image(self, tag: t.Optional[str], layer: bytes, config: bytes = b'{"os":"linux","architecture":"amd64"}') -> t.Dict[str, t.Any]:
        manifest = {'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'config': self.add_blob(config), 'layers': [self.add_blob(layer)]}
        return self._add_manifest(tag, manifest, OCI_MANIFEST)

    def add_index(self, tag: str, children: t.List[t.Dict[str, t.Any]]) -> t.Dict[str, t.Any]:
        return self._add_manifest(tag, {'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': children}, OCI_INDEX)

    def _add_manifest(self, tag: t.Optional[str], manifest: t.Dict[str, t.Any], media_type: str) -> t.Dict[str, t.Any]:
        raw = json.dumps(manifest, indent=3).encode('utf-8')  # not canonical JSON: exact bytes must survive
        descriptor = self.add_blob(raw)
        descriptor['mediaType'] = media_type
        self.types[descriptor['digest']] = media_type
        if tag:
            self.tags[tag] = descriptor['digest']
        return descriptor

    @contextlib.contextmanager
    def open_blob(self, digest: str) -> t.Iterator[t.Iterator[bytes]]:
        self.opened.append(digest)
        data = self.blobs[digest]
        if digest in self.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 1])
        yield iter([data[i:i + 7] for i in range(0, len(data), 7)])


def put_image(source: FakeSource, tag: str, target: t.Any) -> None:
    """Children before indexes, blobs before manifests, each blob through verified() (what the copy engine does)."""
    def put(digest: str) -> None:
        data = json.loads(source.blobs[digest])
        for child in data.get('manifests') or []:
            put(child['digest'])
        for blob in [data.get('config')] + (data.get('layers') or []):
            if blob and not target.blob_exists(blob['digest']):
                with source.open_blob(blob['digest']) as chunks:
                    target.write_blob(blob['digest'], blob['size'], verified(chunks, blob['digest'], blob['size'], 'blob %s' % blob['digest']))
        target.put_manifest(digest, source.blobs[digest], source.types[digest])

    put(source.tags[tag])
    digest = source.tags[tag]
    target.put_manifest(tag, source.blobs[digest], source.types[digest])


@pytest.fixture
def source() -> FakeSource:
    fake = FakeSource()
    amd = fake.add_image(None, b'amd64 layer' * 100)
    arm = fake.add_image(None, b'arm64 layer' * 100, b'{"os":"linux","architecture":"arm64"}')
    fake.add_index('multi', [dict(amd, platform={'os': 'linux', 'architecture': 'amd64'}),
                             dict(arm, platform={'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'})])
    fake.add_image('single', b'single layer')
    return fake


@pytest.mark.parametrize('filename', ['layout', 'release.tar', 'release.tar.gz', 'release.tgz'])
def test_round_trip_keeps_exact_bytes_and_records_both_names(tmp_path, source, filename):
    path = str(tmp_path / filename)
    with OCILayout.for_writing(path) as layout:
        for tag in ('multi', 'single'):
            put_image(source, tag, layout.store(NAME))
    reader = OCILayout.for_reading(path)
    assert sorted((i['name'], i['tag'], i['digest']) for i in reader.images()) == sorted(
        ('%s:%s' % (NAME, tag), tag, source.tags[tag]) for tag in ('multi', 'single'))
    for entry in reader.entries:
        assert entry['annotations'][REF_NAME] == entry['annotations'][CONTAINERD_NAME].rsplit(':', 1)[1]
    store = reader.store(NAME)
    for tag in ('multi', 'single'):
        assert store.manifest_digest(tag) == source.tags[tag]
        assert store.get_manifest(tag).raw == source.blobs[source.tags[tag]]
    for digest, data in source.blobs.items():
        assert store.blob_exists(digest)
        with store.open_blob(digest) as chunks:
            assert b''.join(chunks) == data
    assert reader.store(None).manifest_digest('multi') == source.tags['multi']  # bare tag, as skopeo asks
    assert reader.store('%s' % NAME).manifest_digest('missing') is None
    assert reader.store('127.0.0.1:5000/other').manifest_digest('multi') is None  # another repository's tag
    reader.close()


@pytest.mark.parametrize('filename', ['release.tar', 'release.tgz'])
def test_tar_is_only_renamed_into_place_when_complete(tmp_path, source, filename):
    path = str(tmp_path / filename)
    with open(path, 'wb') as old:
        old.write(b'previous archive')
    source.corrupt.add(source.blobs and json.loads(source.blobs[source.tags['single']])['layers'][0]['digest'])
    with pytest.raises(DigestMismatchError):
        with OCILayout.for_writing(path) as layout:
            put_image(source, 'multi', layout.store(NAME))
            put_image(source, 'single', layout.store(NAME))
    with open(path, 'rb') as old:
        assert old.read() == b'previous archive'
    assert os.listdir(str(tmp_path)) == [filename]  # the temp file is gone


def test_tar_members_are_streamed_not_extracted(tmp_path, source):
    big = bytes(range(256)) * (3 * CHUNK_SIZE // 256 + 5)
    source.add_image('big', big)
    path = str(tmp_path / 'big.tar')
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'big', layout.store(NAME))
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert names[0] == 'oci-layout' and names[-1] == 'index.json'
    assert 'blobs/sha256/' + compute_digest(big).split(':')[1] in names
    reader = OCILayout.for_reading(path)
    digest = compute_digest(big)
    with reader.store(NAME).open_blob(digest) as chunks:
        sizes = [len(chunk) for chunk in chunks]
    assert max(sizes) <= CHUNK_SIZE and sum(sizes) == len(big)
    assert reader.check_blob(digest, len(big)) == len(big)
    reader.close()


def test_directory_rerun_writes_nothing(tmp_path, source):
    path = str(tmp_path / 'layout')
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'multi', layout.store(NAME))
    assert layout.changed and layout.blobs_written == 7  # 2 configs, 2 layers, 2 child manifests, 1 index
    index_mtime = os.stat(os.path.join(path, 'index.json')).st_mtime_ns
    source.opened.clear()
    with OCILayout.for_writing(path) as again:
        put_image(source, 'multi', again.store(NAME))
    assert not again.changed and again.blobs_written == 0 and source.opened == []
    assert os.stat(os.path.join(path, 'index.json')).st_mtime_ns == index_mtime


def test_directory_keeps_other_images_and_moves_a_retagged_one(tmp_path, source):
    path = str(tmp_path / 'layout')
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'multi', layout.store(NAME))
        put_image(source, 'single', layout.store('127.0.0.1:5000/team/other'))
    source.tags['multi'] = source.tags['single']
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'multi', layout.store(NAME))
    assert layout.changed and layout.blobs_written == 0
    images = {i['name']: i['digest'] for i in OCILayout.for_reading(path).images()}
    assert images == {NAME + ':multi': source.tags['single'], '127.0.0.1:5000/team/other:single': source.tags['single']}


def test_corrupt_blob_in_directory_is_never_finished(tmp_path, source):
    path = str(tmp_path / 'layout')
    layer = json.loads(source.blobs[source.tags['single']])['layers'][0]['digest']
    source.corrupt.add(layer)
    with pytest.raises(DigestMismatchError, match=layer):
        with OCILayout.for_writing(path) as layout:
            put_image(source, 'single', layout.store(NAME))
    assert not os.path.exists(os.path.join(path, 'blobs', 'sha256', layer.split(':')[1]))
    assert not [n for n in os.listdir(os.path.join(path, 'blobs', 'sha256')) if n.endswith('.tmp')]


@pytest.mark.parametrize('filename', ['layout', 'release.tar'])
def test_corrupt_blob_on_disk_is_named(tmp_path, source, filename):
    path = str(tmp_path / filename)
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'single', layout.store(NAME))
    layer = json.loads(source.blobs[source.tags['single']])['layers'][0]['digest']
    if filename == 'layout':
        with open(os.path.join(path, 'blobs', 'sha256', layer.split(':')[1]), 'r+b') as handle:
            handle.write(b'X')
    else:
        data = open(path, 'rb').read()  # pylint: disable=consider-using-with
        with open(path, 'wb') as handle:
            handle.write(data.replace(b'single layer', b'Single layer'))
    reader = OCILayout.for_reading(path)
    with pytest.raises(DigestMismatchError, match='blob %s in .* does not match its digest' % layer):
        reader.check_blob(layer, len(b'single layer'))
    reader.close()


def test_manifest_bytes_are_verified_on_read(tmp_path, source):
    path = str(tmp_path / 'layout')
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'single', layout.store(NAME))
    digest = source.tags['single']
    with open(os.path.join(path, 'blobs', 'sha256', digest.split(':')[1]), 'ab') as handle:
        handle.write(b' ')
    with pytest.raises(DigestMismatchError, match=digest):
        OCILayout.for_reading(path).store(NAME).get_manifest('single')


@pytest.mark.parametrize('setup, message', [
    (lambda p: None, 'does not exist'),
    (os.makedirs, 'not an OCI image layout'),
    (lambda p: open(p + '/index.json', 'w').write('{') if os.makedirs(p) is None else None, 'not an OCI image layout'),  # pylint: disable=consider-using-with
])
def test_bad_layouts_are_named(tmp_path, setup, message):
    path = str(tmp_path / 'layout')
    setup(path)
    with pytest.raises((InvalidInputError, NotFoundError), match=message):
        OCILayout.for_reading(path)


def test_not_a_tar(tmp_path):
    path = tmp_path / 'junk.tar'
    path.write_bytes(b'this is not a tar file' * 100)
    with pytest.raises(InvalidInputError, match='not a readable tar file'):
        OCILayout.for_reading(str(path))


def test_skopeo_style_index_resolves_by_bare_tag_and_ambiguity_is_refused(tmp_path, source):
    path = str(tmp_path / 'layout')
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'single', layout.store(NAME))
        put_image(source, 'multi', layout.store(NAME))
    index_file = os.path.join(path, 'index.json')
    index = json.load(open(index_file))  # pylint: disable=consider-using-with
    for entry in index['manifests']:
        del entry['annotations'][CONTAINERD_NAME]  # what skopeo writes
    index['manifests'].append(dict(index['manifests'][0], annotations={REF_NAME: 'multi'}))
    json.dump(index, open(index_file, 'w'))  # pylint: disable=consider-using-with
    reader = OCILayout.for_reading(path)
    assert reader.store(None).manifest_digest('single') == source.tags['single']
    assert reader.images()[0] == {'name': None, 'tag': 'single', 'ref_name': 'single', 'digest': source.tags['single'],
                                  'media_type': OCI_MANIFEST, 'size': len(source.blobs[source.tags['single']])}
    with pytest.raises(InvalidInputError, match='several images tagged multi'):
        reader.store(None).manifest_digest('multi')


@pytest.mark.parametrize('name, expected', [
    ('127.0.0.1:5000/team/app:1.0', ('127.0.0.1:5000/team/app', '1.0')),
    ('127.0.0.1:5000/team/app', ('127.0.0.1:5000/team/app', None)),
    ('docker.io/library/nginx:1.27', ('docker.io/library/nginx', '1.27')),
])
def test_split_name(name, expected):
    assert split_name(name) == expected


def _slow_chunks(data: bytes, pieces: int, barrier: t.Any) -> t.Iterator[bytes]:
    """Chunks that wait for the other writers between pieces, so unserialised tar appends would interleave."""
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        with contextlib.suppress(Exception):
            barrier.wait(timeout=0.2)
        yield data[start:start + step]


@pytest.mark.parametrize('filename', ['a.tar', 'a.tar.gz'])
def test_concurrent_blob_writes_and_reads_keep_every_member_whole(tmp_path, filename):
    """The copy engine writes (export) and reads (import) several blobs at once: a .tar must come out whole and read back exact."""
    import threading  # pylint: disable=import-outside-toplevel
    from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel
    blobs = [os.urandom(3 * 1024 + n) for n in range(4)] + [b'x']
    path = str(tmp_path / filename)
    barrier = threading.Barrier(len(blobs))
    with OCILayout.for_writing(path) as layout:
        with ThreadPoolExecutor(len(blobs)) as pool:
            futures = [pool.submit(layout.write_blob, compute_digest(b), len(b), _slow_chunks(b, 4, barrier)) for b in blobs]
        for future in futures:
            future.result()
    with tarfile.open(path) as archive:
        assert len([n for n in archive.getnames() if n.startswith('blobs/')]) == len(blobs)
    with open(path, 'rb') as written:  # a .tar.gz is one gzip stream, so its members share one decompressing stream
        assert (written.read(2) == b'\x1f\x8b') is filename.endswith('.gz')
    reader = OCILayout.for_reading(path)
    try:
        def read(data: bytes) -> bytes:
            with reader.open_blob(compute_digest(data)) as chunks:
                return b''.join(chunks)
        with ThreadPoolExecutor(len(blobs)) as pool:
            assert list(pool.map(read, blobs * 3)) == blobs * 3
    finally:
        reader.close()


@pytest.mark.parametrize('filename', ['release.tar', 'release.tar.gz', 'RELEASE.TGZ'])
def test_same_images_give_the_same_archive_bytes(tmp_path, source, filename):
    """No time and no temp file name in the archive (tar members, gzip header): an export is reproducible."""
    digests = []
    for attempt in ('one', 'two'):
        os.makedirs(str(tmp_path / attempt))
        path = str(tmp_path / attempt / filename)
        with OCILayout.for_writing(path) as layout:
            put_image(source, 'multi', layout.store(NAME))
        with open(path, 'rb') as handle:
            digests.append(compute_digest(handle.read()))
    assert digests[0] == digests[1]
    with open(path, 'rb') as handle:
        assert (handle.read(2) == b'\x1f\x8b') is (filename.lower() != 'release.tar')


@pytest.mark.parametrize('filename', ['plan.tar', 'plan.tgz', 'plan'])
def test_empty_layout_touches_no_file_and_holds_nothing(tmp_path, source, filename):
    path = str(tmp_path / filename)
    layout = OCILayout.empty(path)
    store = layout.store(NAME)
    assert not layout.writable and store.manifest_digest('single') is None
    assert not store.blob_exists(source.tags['single'])
    layout.commit()
    assert os.listdir(str(tmp_path)) == []


def test_a_tar_being_written_holds_only_what_this_task_added(tmp_path, source):
    """The old archive at the path is replaced whole, so its blobs do not count as present."""
    path = str(tmp_path / 'release.tar')
    with OCILayout.for_writing(path) as layout:
        put_image(source, 'single', layout.store(NAME))
    with OCILayout.for_writing(path) as layout:
        assert not layout.has_blob(source.tags['single'])
        put_image(source, 'single', layout.store(NAME))
        assert layout.has_blob(source.tags['single'])
    assert OCILayout.for_reading(path).has_blob(source.tags['single'])


def test_a_bad_blob_digest_in_an_index_is_named(tmp_path):
    layout = OCILayout.empty(str(tmp_path / 'x.tar'))
    with pytest.raises(InvalidInputError, match='sha256 digests are 64 lowercase hex characters'):
        layout.has_blob('sha256:../../etc/passwd')


@pytest.mark.parametrize('sizes, reads', [([3, 3, 3], [4, 4, 4]), ([10], [-1]), ([1, 1], [5, 5])])
def test_chunk_reader_reads_the_stream_in_order(sizes, reads):
    chunks = [bytes([65 + i]) * n for i, n in enumerate(sizes)]
    reader = ChunkReader(iter(chunks))
    assert b''.join(reader.read(n) for n in reads) == b''.join(chunks)[:sum(n if n >= 0 else sum(sizes) for n in reads)]
