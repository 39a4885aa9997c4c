# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Where images live, seen one way: the store protocol the copy engine moves images between.

A store is one repository on a registry (``RegistryRepository``, in ``_copy.py``) or one OCI
image layout on disk (directory or ``.tar``, in ``_layout.py``). The copy engine (``_copy.py``)
only ever talks to this protocol, so ``registry_tag`` (registry -> registry) and
``registry_archive`` (registry -> layout, layout -> registry) share one walk: children before
indexes, blobs before the manifests that name them, blobs the target has are skipped, every
blob verified against its digest as it streams, every manifest written as its exact bytes.
"""

from __future__ import annotations

import hashlib
import typing as t

from ._errors import DigestMismatchError
from ._manifest import Manifest

# Blobs move in chunks of this size: memory stays bounded whatever the blob's size.
CHUNK_SIZE = 1024 * 1024

_HASHES = {'sha256': hashlib.sha256, 'sha512': hashlib.sha512}


class ImageStore(t.Protocol):
    """One place holding manifests (by tag or digest) and blobs (by digest)."""

    label: str  # for messages: 'registry 127.0.0.1:5000, repository team/app' or 'archive /tmp/release.tar'

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        """The digest a tag (or digest) points at, or None when it is missing. Registries: one HEAD."""

    def get_manifest(self, reference: str) -> Manifest:
        """A manifest's exact bytes; by digest they are verified. NotFoundError when missing."""

    def put_manifest(self, reference: str, raw: bytes, media_type: str) -> None:
        """Store exact manifest bytes under a tag or digest (every blob it names must be there first)."""

    def blob_exists(self, digest: str) -> bool:
        """Whether the store already holds this blob. Registries: one HEAD."""

    def open_blob(self, digest: str) -> t.ContextManager[t.Iterator[bytes]]:
        """A context manager yielding an iterator of the blob's chunks (not yet verified)."""

    def write_blob(self, digest: str, size: t.Optional[int], chunks: t.Iterable[bytes]) -> None:
        """Store a blob from chunks that the engine verifies as they pass (see ``verified``)."""

    def mount_blob(self, digest: str, source: 'ImageStore') -> bool:
        """Link a blob from ``source`` without copying bytes; False when that is not possible here."""


def verified(chunks: t.Iterable[bytes], digest: str, size: t.Optional[int], what: str) -> t.Iterator[bytes]:
    """Pass chunks through, hashing them; raise DigestMismatchError before the last chunk leaves.

    The last chunk is held back until the whole blob has been hashed, so a writer that consumes
    this iterator never receives the complete bytes of a blob that does not match its digest:
    an upload is aborted before it completes, a file is never finished.
    """
    algorithm = digest.split(':', 1)[0]
    if algorithm not in _HASHES:
        raise DigestMismatchError('cannot verify %s: unsupported digest algorithm %r' % (what, algorithm))
    hasher = _HASHES[algorithm]()
    total = 0
    pending: t.Optional[bytes] = None
    for chunk in chunks:
        if not chunk:
            continue
        if pending is not None:
            yield pending
        hasher.update(chunk)
        total += len(chunk)
        if size is not None and total > size:
            raise DigestMismatchError('%s is larger than the %d bytes its descriptor says' % (what, size))
        pending = chunk
    actual = '%s:%s' % (algorithm, hasher.hexdigest())
    if size is not None and total != size:
        raise DigestMismatchError('%s is %d bytes, not the %d bytes its descriptor says (truncated?)' % (what, total, size))
    if actual != digest:
        raise DigestMismatchError('%s does not match its digest: expected %s, the bytes hash to %s' % (what, digest, actual))
    if pending is not None:
        yield pending


class ChunkReader:
    """A file-like ``read(n)`` over an iterator of chunks: an upload body (requests sends ``Content-Length``
    from ``len()`` when the size is known and streams the rest) or a ``tarfile.addfile`` source.

    Readers ask for small blocks (8-16 KiB): the current chunk is sliced at an offset rather than
    re-copying the rest of a 1 MiB buffer on every read (that made a 256 MiB upload ~15x slower).
    """

    def __init__(self, chunks: t.Iterable[bytes], size: t.Optional[int] = None) -> None:
        self._chunks = iter(chunks)
        self._size = size
        self._buffer = b''
        self._offset = 0

    def __len__(self) -> int:
        if self._size is None:
            raise TypeError('the length of this chunk stream is not known')
        return self._size

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
