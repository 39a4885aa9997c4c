# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Where images live, seen one way: the store protocol the copy engine moves images between.

A store is one repository on a registry (``RegistryRepository``, below) or one OCI image
layout on disk (directory or ``.tar``: ``LayoutStore`` in ``_layout.py``, beside the layout
format it reads and writes). Both derive from ``ImageStore``, which declares the optional
capabilities (mounting, referrers) with defaults. The copy engine (``_copy.py``)
only ever talks to this protocol, so ``registry_tag`` (registry -> registry) and
``registry_archive`` (registry -> layout, layout -> registry) share one walk: children before
indexes, blobs before the manifests that name them, blobs the target has are skipped, every
blob verified against its digest as it streams, every manifest written as its exact bytes.
"""

from __future__ import annotations

import contextlib
import threading
import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.wire._transport import body_chunks
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient

# Blobs move in chunks of this size: memory stays bounded whatever the blob's size.
CHUNK_SIZE = 1024 * 1024


class ImageStore:
    """One place holding manifests (by tag or digest) and blobs (by digest).

    Subclasses implement the required methods; the optional capabilities have defaults that
    say "not possible here", so the copy engine never has to probe for them.
    """

    label: str = ''  # for messages: 'registry 127.0.0.1:5000, repository team/app' or 'archive /tmp/release.tar'

    @property
    def location(self) -> t.Tuple[t.Any, ...]:
        """Identifies where this store's blobs live: two stores with one location hold the same blobs."""
        return ('store', id(self))

    @property
    def mount_scope(self) -> t.Optional[t.Tuple[str, ...]]:
        """Stores with the same mount scope can link blobs between them (one registry host); None: never."""
        return None

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        """The digest a tag (or digest) points at, or None when it is missing. Registries: one HEAD."""
        raise NotImplementedError

    def get_manifest(self, reference: str) -> Manifest:
        """A manifest's exact bytes; by digest they are verified. NotFoundError when missing."""
        raise NotImplementedError

    def put_manifest(self, reference: str, raw: bytes, media_type: str) -> None:
        """Store exact manifest bytes under a tag or digest (every blob it names must be there first)."""
        raise NotImplementedError

    def blob_exists(self, digest: str) -> bool:
        """Whether the store already holds this blob. Registries: one HEAD."""
        raise NotImplementedError

    def open_blob(self, digest: str) -> t.ContextManager[t.Iterator[bytes]]:
        """A context manager yielding an iterator of the blob's chunks (not yet verified)."""
        raise NotImplementedError

    def write_blob(self, digest: str, size: t.Optional[int], chunks: t.Iterable[bytes]) -> None:
        """Store a blob from chunks that the engine verifies as they pass (see ``_digest.verified``)."""
        raise NotImplementedError

    def can_mount_from(self, source: 'ImageStore') -> bool:
        """Whether ``mount_blob`` from ``source`` can work: another location within the same mount scope."""
        return self.mount_scope is not None and source.mount_scope == self.mount_scope and source.location != self.location

    def mount_blob(self, digest: str, source: 'ImageStore') -> bool:
        """Link a blob from ``source`` without copying bytes; False when that is not possible here."""
        return False

    def referrers(self, digest: str) -> t.List[t.Dict[str, t.Any]]:
        """What refers to ``digest``: dicts with ``digest``, ``kind`` (``referrer``, ``cosign``), ``tag`` (None, the
        fallback or cosign tag), ``artifact_type``, ``media_type``, ``annotations``. [] for a store that cannot tell."""
        return []


class RegistryRepository(ImageStore):
    """The ImageStore for one repository on a registry: every method is one RegistryClient call."""

    def __init__(self, client: RegistryClient, ref: ImageReference) -> None:
        self.client = client
        self.ref = ImageReference(ref.registry, ref.repository)
        self.label = 'registry %s, repository %s' % (ref.registry, ref.repository)

    @property
    def location(self) -> t.Tuple[t.Any, ...]:
        return ('registry', self.ref.registry, self.ref.repository)

    @property
    def mount_scope(self) -> t.Optional[t.Tuple[str, ...]]:
        return ('registry', self.ref.registry)

    def at(self, reference: str) -> ImageReference:
        """This repository at a tag or digest."""
        if ':' in reference:
            return ImageReference(self.ref.registry, self.ref.repository, digest=reference)
        return ImageReference(self.ref.registry, self.ref.repository, tag=reference)

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        try:
            return self.client.head_manifest(self.at(reference)).digest
        except NotFoundError:
            return None

    def get_manifest(self, reference: str) -> Manifest:
        return self.client.get_manifest(self.at(reference))

    def put_manifest(self, reference: str, raw: bytes, media_type: str) -> None:
        self.client.put_manifest(self.at(reference), raw, media_type)

    def blob_exists(self, digest: str) -> bool:
        return self.client.blob_exists(self.ref, digest)

    @contextlib.contextmanager
    def open_blob(self, digest: str) -> t.Iterator[t.Iterator[bytes]]:
        response = self.client.open_blob(self.ref, digest)
        try:
            yield body_chunks(response, CHUNK_SIZE, 'blob %s of %s' % (digest, self.ref.name))
        finally:
            response.close()

    def write_blob(self, digest: str, size: t.Optional[int], chunks: t.Iterable[bytes]) -> None:
        """One upload session (POST), then the bytes (PUT); a session whose PUT fails is cancelled, never left open."""
        data: t.Any = SizedChunks(chunks, size) if size is not None else chunks
        if size is not None and size <= CHUNK_SIZE:
            # Small blobs go as one bytes body: http.client then sends headers and body in one write
            # (a separate body write is what Nagle's algorithm and delayed ACKs stall by ~40 ms).
            data = b''.join(chunks)
        url = self.client.start_upload(self.ref, digest)
        try:
            self.client.finish_upload(self.ref, digest, url, data)
        except BaseException:
            self.client.cancel_upload(self.ref, url)
            raise

    def mount_blob(self, digest: str, source: ImageStore) -> bool:
        if not self.can_mount_from(source):
            return False
        return self.client.mount_blob(self.ref, digest, t.cast(RegistryRepository, source).ref.repository)

    def referrers(self, digest: str) -> t.List[t.Dict[str, t.Any]]:
        return self.client.referrers(self.ref, digest)


class NewRepository(RegistryRepository):
    """A registry repository that did not exist when the task listed it (its tag list answered NAME_UNKNOWN).

    It holds what this task writes into it, so whether a manifest or blob is there is answered from
    that record, without a request: a first copy into a new repository sends no HEAD for the
    blobs and child manifests it is about to write. A blob that an interrupted push left there
    without a tag is written again, which is harmless.
    """

    def __init__(self, client: RegistryClient, ref: ImageReference) -> None:
        super().__init__(client, ref)
        self._lock = threading.Lock()
        self._manifests: t.Dict[str, str] = {}  # tag or digest written -> digest
        self._blobs: t.Set[str] = set()

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        with self._lock:
            return self._manifests.get(reference)

    def put_manifest(self, reference: str, raw: bytes, media_type: str) -> None:
        digest = self.client.put_manifest(self.at(reference), raw, media_type)
        with self._lock:
            self._manifests[reference] = self._manifests[digest] = digest

    def blob_exists(self, digest: str) -> bool:
        with self._lock:
            return digest in self._blobs

    def write_blob(self, digest: str, size: t.Optional[int], chunks: t.Iterable[bytes]) -> None:
        super().write_blob(digest, size, chunks)
        with self._lock:
            self._blobs.add(digest)

    def mount_blob(self, digest: str, source: ImageStore) -> bool:
        mounted = super().mount_blob(digest, source)
        if mounted:
            with self._lock:
                self._blobs.add(digest)
        return mounted


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
