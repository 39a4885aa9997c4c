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

import typing as t

from ._digest import verified  # noqa: F401 pylint: disable=unused-import  # re-exported for the copy engine
from ._errors import DigestMismatchError
from ._manifest import Manifest

# Blobs move in chunks of this size: memory stays bounded whatever the blob's size.
CHUNK_SIZE = 1024 * 1024


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
        """Store a blob from chunks that the engine verifies as they pass (see ``_digest.verified``)."""

    def mount_blob(self, digest: str, source: 'ImageStore') -> bool:
        """Link a blob from ``source`` without copying bytes; False when that is not possible here."""


class SizedChunks:
    """An upload body: the blob's chunks as they are, with their total length.

    requests sends ``Content-Length`` from ``len()`` (no chunked encoding), and a body without
    ``read()`` goes out one ``sendall`` per chunk (``CHUNK_SIZE``) instead of one per 16 KiB block
    that urllib3 reads from a file-like body: 64x fewer calls and copies for the same bytes.
    """

    def __init__(self, chunks: t.Iterable[bytes], size: int) -> None:
        self._chunks = chunks
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(self._chunks)


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
