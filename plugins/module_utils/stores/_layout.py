# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""OCI image layouts on disk (a directory, or a ``.tar`` of one) as image stores.

An ``OCILayout`` is the whole layout: ``oci-layout``, ``index.json`` and ``blobs/<alg>/<hex>``.
``OCILayout.store(name)`` is the ``ImageStore`` view of one repository in it, the way the copy
engine sees a registry repository: tags are ``index.json`` entries whose
``org.opencontainers.image.ref.name`` is the tag (what ``skopeo copy oci-archive:FILE:TAG``
looks for) and whose ``io.containerd.image.name`` is the full reference (what containerd and
nerdctl write); manifests by digest and blobs are files under ``blobs/``.

Open one with a named constructor: ``OCILayout.for_reading(path)`` (import, and the rerun check
of an export), ``OCILayout.for_writing(path)`` (export) or ``OCILayout.empty(path)`` (what check
mode plans an export against: no file is read or written).

Directories are written in place: each blob streams to a temp file beside its final name and
is renamed once the verifying stream has ended, so a blob file is always complete; blobs
already there are skipped. A ``.tar`` (``.tar.gz`` / ``.tgz``: the same tar through one gzip
stream) is written to a temp file in the same directory and renamed over ``path`` only by
``commit()``; members are appended one at a time, so memory stays bounded either way.
Reading a ``.tar`` streams members from the file; nothing is extracted and no blob is held in
memory (a compressed one is decompressed again from its start whenever a read goes backwards).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tarfile
import tempfile
import threading
import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._digest import check_chunks, compute_digest, validate_digest, verify_digest
from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError, InvalidInputError, NotFoundError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import MAX_MANIFEST_SIZE, Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._referrers import cosign_suffix, describe, describe_cosign
from ._store import CHUNK_SIZE, ImageStore

REF_NAME = 'org.opencontainers.image.ref.name'
CONTAINERD_NAME = 'io.containerd.image.name'
LAYOUT_FILE = 'oci-layout'
INDEX_FILE = 'index.json'
LAYOUT_VERSION = {'imageLayoutVersion': '1.0.0'}
_EMPTY_INDEX = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': []}
GZIP_SUFFIXES = ('.tar.gz', '.tgz')
# gzip's own default: layers are mostly compressed already, so higher levels cost time and save little.
GZIP_LEVEL = 6


def is_tar_path(path: str) -> bool:
    """A path names a tar archive, plain or gzip-compressed (else a directory layout)."""
    return path.lower().endswith(('.tar',) + GZIP_SUFFIXES)


def is_gzip_path(path: str) -> bool:
    return path.lower().endswith(GZIP_SUFFIXES)


def blob_path(digest: str) -> str:
    try:
        algorithm, _sep, encoded = validate_digest(digest).partition(':')
    except ValueError as exc:
        raise InvalidInputError('the image layout names a blob by an %s' % exc) from None
    return 'blobs/%s/%s' % (algorithm, encoded)


def split_name(name: str) -> t.Tuple[str, t.Optional[str]]:
    """``host/team/app:1.0`` -> (``host/team/app``, ``1.0``); a name without tag gives (name, None)."""
    slash = name.rfind('/')
    colon = name.rfind(':')
    if colon > slash:
        return name[:colon], name[colon + 1:]
    return name, None


class OCILayout:
    """One OCI image layout; open it with ``for_reading``, ``for_writing`` or ``empty``."""

    _READ, _WRITE, _EMPTY = 'read', 'write', 'empty'

    def __init__(self, path: str, mode: str) -> None:
        self.path = path
        self.mode = mode
        self.is_tar = is_tar_path(path)
        self.is_gzip = is_gzip_path(path)
        self.label = '%s %s' % ('archive' if self.is_tar else 'image layout', path)
        self.entries: t.List[t.Dict[str, t.Any]] = []
        self.blobs_written = 0
        self.bytes_written = 0
        self._index_changed = False
        self._tar: t.Optional[tarfile.TarFile] = None
        self._members: t.Dict[str, tarfile.TarInfo] = {}
        self._tar_blobs: t.Set[str] = set()  # blobs added to a .tar by this task
        self._temp: t.Optional[str] = None
        self._streams: t.List[t.IO[bytes]] = []  # under a .tar being written: the gzip stream, the temp file
        # The copy engine reads and writes several blobs at once: appends to a .tar are serialised, and
        # members of a compressed .tar (one shared decompressing stream) are read one call at a time.
        self._lock = threading.Lock()

    @classmethod
    def for_reading(cls, path: str) -> 'OCILayout':
        """An existing layout, read only; NotFoundError or InvalidInputError when it is missing or not a layout."""
        layout = cls(path, cls._READ)
        layout._open_for_reading()
        return layout

    @classmethod
    def for_writing(cls, path: str) -> 'OCILayout':
        """A layout to add images to: a directory keeps what it holds; a .tar starts empty in a temp file."""
        layout = cls(path, cls._WRITE)
        if layout.is_tar:
            layout._start_tar()
        else:
            os.makedirs(path, exist_ok=True)
            if os.path.exists(os.path.join(path, INDEX_FILE)):
                layout._load_index()
        return layout

    @classmethod
    def empty(cls, path: str) -> 'OCILayout':
        """An empty layout that reads and writes no file: what check mode plans an export against."""
        return cls(path, cls._EMPTY)

    @property
    def writable(self) -> bool:
        return self.mode == self._WRITE

    # Opening

    def _open_for_reading(self) -> None:
        if not os.path.exists(self.path):
            raise NotFoundError('%s does not exist: give the path of an OCI image layout (a .tar or a directory)' % self.label)
        if self.is_tar:
            try:
                self._tar = tarfile.open(self.path, 'r:*')  # pylint: disable=consider-using-with
                for member in self._tar.getmembers():
                    name = os.path.normpath(member.name).lstrip('/')
                    if member.isfile() or member.islnk() or member.issym():
                        self._members[name] = member
            except (tarfile.TarError, OSError) as exc:
                # tarfile lists each compression it tried on a line of its own: one line for the user
                raise InvalidInputError('%s is not a readable tar file: %s' % (self.label, ' '.join(str(exc).split()))) from None
        elif not os.path.isdir(self.path):
            raise InvalidInputError('%s is neither a directory nor a .tar file' % self.label)
        self._load_index()

    def _load_index(self) -> None:
        try:
            layout = json.loads(self._read_small(LAYOUT_FILE, 4096))
            index = json.loads(self._read_small(INDEX_FILE, MAX_MANIFEST_SIZE))
        except NotFoundError:
            raise InvalidInputError('%s is not an OCI image layout: it has no oci-layout or no index.json file' % self.label) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInputError('%s has an oci-layout or index.json that is not JSON: %s' % (self.label, exc)) from None
        if not isinstance(layout, dict) or not isinstance(index, dict) or not isinstance(index.get('manifests') or [], list):
            raise InvalidInputError('%s is not an OCI image layout: unexpected oci-layout or index.json content' % self.label)
        self.entries = [e for e in index.get('manifests') or [] if isinstance(e, dict) and isinstance(e.get('digest'), str)]

    def _read_small(self, name: str, cap: int) -> bytes:
        with self._open_file(name) as handle:
            data = handle.read(cap + 1)
        if len(data) > cap:
            raise InvalidInputError('%s: %s is larger than %d bytes' % (self.label, name, cap))
        return data

    def _open_file(self, name: str) -> t.IO[bytes]:
        if self._tar is not None:
            member = self._members.get(name)
            for _hop in range(8):  # a link names another member
                if member is None or not (member.islnk() or member.issym()):
                    break
                target = member.linkname if member.islnk() else os.path.join(os.path.dirname(member.name), member.linkname)
                member = self._members.get(os.path.normpath(target).lstrip('/'))
            if member is None or not member.isreg():
                raise NotFoundError('%s has no %s' % (self.label, name))
            if isinstance(self._tar.fileobj, io.BufferedReader) and not member.issparse():
                # An uncompressed member is one byte range of the file: read it through a handle of its own.
                return _MemberFile(self.path, member.offset_data, member.size)
            handle = self._tar.extractfile(member)
            if handle is None:
                raise NotFoundError('%s has no %s' % (self.label, name))
            return t.cast(t.IO[bytes], _LockedReader(handle, self._lock))
        try:
            return open(os.path.join(self.path, name), 'rb')  # pylint: disable=consider-using-with
        except FileNotFoundError:
            raise NotFoundError('%s has no %s' % (self.label, name)) from None

    def _start_tar(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise InvalidInputError('cannot write %s: directory %s does not exist' % (self.label, directory))
        handle, self._temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(self.path), suffix='.tmp', dir=directory)
        stream: t.IO[bytes] = os.fdopen(handle, 'wb')
        self._streams.append(stream)
        if self.is_gzip:
            # No file name and no time in the gzip header: the same images give the same bytes.
            stream = gzip.GzipFile(filename='', mode='wb', fileobj=stream, compresslevel=GZIP_LEVEL, mtime=0)
            self._streams.insert(0, stream)
        self._tar = tarfile.open(fileobj=stream, mode='w', format=tarfile.PAX_FORMAT)  # pylint: disable=consider-using-with
        data = json.dumps(LAYOUT_VERSION).encode('utf-8')
        self._add_member(LAYOUT_FILE, len(data), ChunkReader([data]))

    # Blobs

    def has_blob(self, digest: str) -> bool:
        name = blob_path(digest)
        if not self.is_tar:
            return os.path.isfile(os.path.join(self.path, name))
        if self.mode == self._READ:
            return name in self._members
        # A .tar being written starts empty (it replaces ``path`` whole), and so does an empty plan:
        # it holds only the blobs this task has added.
        return digest in self._tar_blobs

    @contextlib.contextmanager
    def open_blob(self, digest: str) -> t.Iterator[t.Iterator[bytes]]:
        """Yield the blob's chunks (unverified), streamed from the file or the tar member."""
        if self.writable and self.is_tar:
            raise RegistryError('%s is being written; it cannot be read in the same task' % self.label)
        try:
            handle = self._open_file(blob_path(digest))
        except NotFoundError:
            raise NotFoundError('%s is missing blob %s' % (self.label, digest), codes=['BLOB_UNKNOWN']) from None
        with handle:
            yield iter(lambda: handle.read(CHUNK_SIZE), b'')

    def read_blob(self, digest: str, cap: int = MAX_MANIFEST_SIZE) -> bytes:
        """A small blob (manifest, config), verified against its digest."""
        try:
            data = self._read_small(blob_path(digest), cap)
        except NotFoundError:
            raise NotFoundError('%s is missing blob %s' % (self.label, digest), codes=['BLOB_UNKNOWN']) from None
        verify_digest(data, digest, 'blob %s in %s' % (digest, self.label))
        return data

    def check_blob(self, digest: str, size: t.Optional[int] = None) -> int:
        """Hash a blob in the layout; DigestMismatchError naming it when it is corrupt. Returns its size."""
        with self.open_blob(digest) as chunks:
            return check_chunks(chunks, digest, size, 'blob %s in %s' % (digest, self.label))

    def write_blob(self, digest: str, size: t.Optional[int], chunks: t.Iterable[bytes]) -> None:
        """Store a blob from a (verifying) chunk stream; skipped when the layout holds it already."""
        if self.has_blob(digest):
            for _chunk in chunks:  # a directory blob present already: nothing to write
                break
            return
        name = blob_path(digest)
        if self.is_tar:
            with self._lock:  # one member at a time; a blob another worker has just added is not added twice
                if digest in self._tar_blobs:
                    return
                if size is None:
                    data = b''.join(chunks)
                    size, chunks = len(data), [data]
                self._add_member(name, size, ChunkReader(chunks))
                self._tar_blobs.add(digest)
        else:
            self._write_file(name, chunks)
            size = size if size is not None else os.path.getsize(os.path.join(self.path, name))
        with self._lock:
            self.blobs_written += 1
            self.bytes_written += size

    def _add_member(self, name: str, size: int, reader: ChunkReader) -> None:
        if self._tar is None:
            raise AssertionError('the tar archive is not open')
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        self._tar.addfile(info, reader)
        reader.drain()

    def _write_file(self, name: str, chunks: t.Iterable[bytes]) -> None:
        final = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(final), suffix='.tmp', dir=os.path.dirname(final))
        try:
            with os.fdopen(handle, 'wb') as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(temp, final)
        except BaseException:
            os.unlink(temp)
            raise

    # Images (index.json)

    def find(self, name: t.Optional[str], reference: str) -> t.Optional[t.Dict[str, t.Any]]:
        """The index.json entry for tag ``reference`` of repository ``name``, or for a bare tag or full reference.

        A full reference matches ``io.containerd.image.name`` or a ``ref.name`` holding one; a tag
        matches ``ref.name`` in entries of this repository or of none. Two entries with the same
        bare tag from different repositories are ambiguous: InvalidInputError.
        """
        full = '%s:%s' % (name, reference) if name else reference
        for entry in self.entries if name or '/' in reference else ():
            annotations = entry.get('annotations') or {}
            if full in (annotations.get(CONTAINERD_NAME), annotations.get(REF_NAME)):
                return entry
        found = []
        for entry in self.entries:
            annotations = entry.get('annotations') or {}
            if annotations.get(REF_NAME) == reference and (name is None or annotations.get(CONTAINERD_NAME) in (None, full)):
                found.append(entry)
        if len(found) > 1 and len({e['digest'] for e in found}) > 1:
            raise InvalidInputError('%s holds several images tagged %s (%s): name the one you mean by its full reference' % (
                self.label, reference, ', '.join(sorted(str((e.get('annotations') or {}).get(CONTAINERD_NAME)) for e in found))))
        return found[0] if found else None

    def images(self) -> t.List[t.Dict[str, t.Any]]:
        """Every tagged image recorded in index.json: ``name`` (full reference or None), ``tag``, ``digest``, ``media_type``."""
        result = []
        for entry in self.entries:
            annotations = entry.get('annotations') or {}
            ref_name = annotations.get(REF_NAME)
            full = annotations.get(CONTAINERD_NAME) or (ref_name if ref_name and split_name(ref_name)[1] and '/' in ref_name else None)
            tag = split_name(full)[1] if full else ref_name
            if tag is None:
                continue  # a referrer, listed for its subject
            result.append({'name': full, 'tag': tag, 'ref_name': ref_name, 'digest': entry['digest'],
                           'media_type': entry.get('mediaType'), 'size': entry.get('size')})
        return result

    def record(self, name: str, tag: str, digest: str, media_type: str, size: int) -> None:
        """Point ``name:tag`` at a manifest in index.json (replacing that name's previous entry)."""
        full = '%s:%s' % (name, tag)
        entry = {'mediaType': media_type, 'digest': digest, 'size': size, 'annotations': {REF_NAME: tag, CONTAINERD_NAME: full}}
        kept = [e for e in self.entries if (e.get('annotations') or {}).get(CONTAINERD_NAME) != full]
        if kept + [entry] != self.entries:
            self.entries = kept + [entry]
            self._index_changed = True

    def record_untagged(self, digest: str, media_type: str, size: int) -> None:
        """List a manifest in index.json without a name (referrers: found again through their subject)."""
        if not any(e['digest'] == digest for e in self.entries):
            self.entries.append({'mediaType': media_type, 'digest': digest, 'size': size})
            self._index_changed = True

    @property
    def changed(self) -> bool:
        return self.is_tar or bool(self.blobs_written) or self._index_changed

    def store(self, name: str) -> 'LayoutStore':
        return LayoutStore(self, name)

    # Finishing

    def commit(self) -> None:
        """Write index.json (and oci-layout); a .tar is closed and renamed over ``path``."""
        if not self.writable:
            self.close()
            return
        data = json.dumps(dict(_EMPTY_INDEX, manifests=self.entries), indent=2).encode('utf-8')
        if self.is_tar:
            self._add_member(INDEX_FILE, len(data), ChunkReader([data]))
            if self._tar is None or self._temp is None:
                raise AssertionError('the tar archive is not open')
            self._tar.close()
            self._close_streams()  # the gzip trailer, then the file
            os.chmod(self._temp, 0o644)
            os.replace(self._temp, self.path)
            self._tar, self._temp = None, None
            return
        if not os.path.exists(os.path.join(self.path, LAYOUT_FILE)):
            self._write_file(LAYOUT_FILE, [json.dumps(LAYOUT_VERSION).encode('utf-8')])
        if self._index_changed or not os.path.exists(os.path.join(self.path, INDEX_FILE)):
            self._write_file(INDEX_FILE, [data])

    def close(self) -> None:
        """Release the layout; an unfinished .tar is removed, ``path`` stays as it was."""
        if self._tar is not None:
            self._tar.close()
            self._tar = None
        self._close_streams()
        if self._temp is not None:
            if os.path.exists(self._temp):
                os.unlink(self._temp)
            self._temp = None

    def _close_streams(self) -> None:
        while self._streams:
            self._streams.pop(0).close()

    def __enter__(self) -> 'OCILayout':
        return self

    def __exit__(self, exc_type: t.Any, *_rest: t.Any) -> None:
        if exc_type is None:
            self.commit()
        self.close()


class ChunkReader:
    """A file-like ``read(n)`` over an iterator of chunks, for ``tarfile.addfile``.

    Readers ask for small blocks (8-16 KiB): the current chunk is sliced at an offset rather than
    re-copying the rest of a 1 MiB buffer on every read.
    """

    def __init__(self, chunks: t.Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b''
        self._offset = 0

    def read(self, amount: int = -1) -> bytes:
        parts = []
        while amount != 0:
            if self._offset >= len(self._buffer):
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._buffer, self._offset = chunk, 0
            end = len(self._buffer) if amount < 0 else min(len(self._buffer), self._offset + amount)
            parts.append(self._buffer[self._offset:end])
            amount = amount if amount < 0 else amount - (end - self._offset)
            self._offset = end
        return b''.join(parts)

    def drain(self) -> None:
        """Run the iterator to its end, so a verifying stream makes its final checks."""
        for _chunk in self._chunks:
            raise DigestMismatchError('a blob sent more bytes than its descriptor says')


class _MemberFile(io.RawIOBase):
    """One uncompressed tar member read straight from the archive file: ``size`` bytes at ``offset``."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        super().__init__()
        self._file = open(path, 'rb')  # pylint: disable=consider-using-with
        self._file.seek(offset)
        self._left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        amount = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(amount) if amount else b''
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


class _LockedReader:
    """A member of a compressed .tar: every read holds the layout's lock (the members share one stream)."""

    def __init__(self, handle: t.IO[bytes], lock: t.Any) -> None:
        self._handle = handle
        self._lock = lock

    def read(self, size: int = -1) -> bytes:
        with self._lock:
            return self._handle.read(size)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> '_LockedReader':
        return self

    def __exit__(self, *_exc: t.Any) -> None:
        self.close()


class LayoutStore(ImageStore):
    """The ImageStore of one repository (``name``, a full reference without tag) inside a layout."""

    def __init__(self, layout: OCILayout, name: t.Optional[str]) -> None:
        self.layout = layout
        self.name = name
        self.label = layout.label if not name else '%s (%s)' % (layout.label, name)

    @property
    def location(self) -> t.Tuple[t.Any, ...]:
        """Every repository of one layout keeps its blobs in the layout's one blobs/ directory."""
        return ('layout', id(self.layout))

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        if ':' in reference:
            return reference if self.layout.has_blob(reference) else None
        entry = self.layout.find(self.name, reference)
        return entry['digest'] if entry else None

    def get_manifest(self, reference: str) -> Manifest:
        digest = self.manifest_digest(reference)
        if digest is None:
            raise NotFoundError('%s has no image %s' % (self.label, reference), codes=['MANIFEST_UNKNOWN'])
        entry = self.layout.find(self.name, reference) if ':' not in reference else None
        raw = self.layout.read_blob(digest)
        return Manifest.from_bytes(raw, entry.get('mediaType') if entry else None, digest)

    def put_manifest(self, reference: str, raw: bytes, media_type: str) -> None:
        if ':' in reference:  # by digest: the bytes must be that digest
            verify_digest(raw, reference, 'manifest %s for %s' % (reference, self.label))
        digest = reference if ':' in reference else compute_digest(raw)
        self.layout.write_blob(digest, len(raw), [raw])
        if ':' not in reference:
            if not self.name:
                raise InvalidInputError('%s: cannot record tag %s without a repository name' % (self.label, reference))
            self.layout.record(self.name, reference, digest, media_type, len(raw))
        elif b'"subject"' in raw:  # a referrer (signature, SBOM): listed untagged, so referrers() finds it
            self.layout.record_untagged(digest, media_type, len(raw))

    def referrers(self, digest: str) -> t.List[t.Dict[str, t.Any]]:
        """Untagged index.json entries whose ``subject`` is ``digest``, and cosign tags of it (``ReferrerSource``)."""
        found = []
        for entry in self.layout.entries:
            annotations = entry.get('annotations') or {}
            tag = annotations.get(REF_NAME)
            if tag is None:
                data = Manifest.from_bytes(self.layout.read_blob(entry['digest']), entry.get('mediaType'), entry['digest']).data
                if (data.get('subject') or {}).get('digest') == digest:
                    found.append(describe(entry['digest'], 'referrer', None, data.get('artifactType'), entry.get('mediaType'),
                                          data.get('annotations')))
                continue
            suffix = cosign_suffix(tag, digest)
            if suffix is not None and self.layout.find(self.name, tag) is entry:
                found.append(describe_cosign(entry['digest'], tag, suffix, entry.get('mediaType')))
        return found

    def blob_exists(self, digest: str) -> bool:
        return self.layout.has_blob(digest)

    def open_blob(self, digest: str) -> t.ContextManager[t.Iterator[bytes]]:
        return self.layout.open_blob(digest)

    def write_blob(self, digest: str, size: t.Optional[int], chunks: t.Iterable[bytes]) -> None:
        self.layout.write_blob(digest, size, chunks)

    def mount_blob(self, digest: str, source: ImageStore) -> bool:
        return False
