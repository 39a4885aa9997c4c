# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""The copy engine: move one image (and what refers to it) from one ImageStore to another.

# API stable

Public API (used by ``registry_tag`` and ``registry_archive``):

- ``RegistryRepository(client, ref)``: the ImageStore for one repository on a registry.
- ``copy_image(source, target, reference, tags=(), *, manifest=None, platforms=None,
  check_mode=False, stats=None) -> CopiedImage``: copy the manifest ``reference`` (tag or
  digest in ``source``) with everything it names into ``target`` and put it under ``tags``
  (or, with no tags, under its digest). Walk: an index's children first (each child skipped
  when the target already has its digest, one HEAD), then the index; an image's config and
  layers first, concurrently (``WORKERS`` at a time; a blob the target has is skipped, one HEAD; then a mount is tried; else the
  blob streams ``source.open_blob`` -> ``verified()`` -> ``target.write_blob`` in chunks of
  ``CHUNK_SIZE``), then the manifest, always as its exact bytes. A digest mismatch raises
  DigestMismatchError before the manifest naming the blob is written. ``check_mode`` reads
  but never writes; ``stats`` then counts what would be mounted (a refused mount would be a
  copy) and copied.
- ``platforms``: a list of ``Platform``; when the manifest is an index only the children
  matching one of them are copied (plus buildx attestation manifests that annotate a kept
  child). When that drops children, a new index holding only the kept entries is written as
  new bytes (so a new digest, returned as ``CopiedImage.digest``); when it keeps them all the
  original bytes are written. A single-platform image is copied as it is. No child matching
  raises NotFoundError naming the platforms the index has.
- ``CopyStats``: ``mounted_blobs``, ``copied_blobs``, ``copied_bytes``, ``existing_blobs``,
  ``manifests`` (written); pass one object to several calls to add them up.
- ``list_referrers(store, digest)`` and ``copy_referrers(source, target, digest, ...)``:
  what refers to an image (OCI 1.1 referrers API, the ``sha256-<hex>`` tag fallback, cosign's
  ``.sig``/``.att``/``.sbom`` tags) for stores that implement ``ReferrerSource``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import typing as t

from ._client import RegistryClient
from ._errors import NotFoundError, RegistryError
from ._manifest import Manifest, Platform
from ._pool import bounded_map, in_background
from ._reference import ImageReference
from ._store import CHUNK_SIZE, ImageStore, SizedChunks, verified
from ._transport import body_chunks

# buildx attaches attestations to an index as children with this annotation naming the image they describe.
_ATTESTATION_OF = 'vnd.docker.reference.digest'
# Blobs of one image, and the children of an index, move concurrently (each blob streams in bounded chunks).
WORKERS = 4


@dataclasses.dataclass
class CopyStats:
    """What a copy did (in check mode: would do). One object may collect several copies."""

    mounted_blobs: int = 0
    copied_blobs: int = 0
    copied_bytes: int = 0
    existing_blobs: int = 0
    manifests: int = 0
    planned: t.Set[str] = dataclasses.field(default_factory=set, repr=False)  # check mode: blobs already counted
    lock: t.Any = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def plan(self, digest: str) -> bool:
        """Check mode: True the first time a blob is counted, so a blob shared by children counts once."""
        with self.lock:
            first = digest not in self.planned
            self.planned.add(digest)
            return first


@dataclasses.dataclass(frozen=True)
class CopiedImage:
    """The manifest now in the target: its digest (new when ``platforms`` filtered an index), type and bytes."""

    digest: str
    media_type: str
    raw: bytes
    platforms: t.Tuple[t.Optional[str], ...] = ()


class RegistryRepository:
    """The ImageStore for one repository on a registry: every method is one RegistryClient call."""

    def __init__(self, client: RegistryClient, ref: ImageReference) -> None:
        self.client = client
        self.ref = ImageReference(ref.registry, ref.repository)
        self.label = 'registry %s, repository %s' % (ref.registry, ref.repository)
        self._sessions: t.Dict[str, t.Any] = {}  # digest -> Future of an upload URL (prepare_blob)

    @property
    def location(self) -> t.Tuple[str, str]:
        return (self.ref.registry, self.ref.repository)

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
        data: t.Any = SizedChunks(chunks, size) if size is not None else chunks
        if size is not None and size <= CHUNK_SIZE:
            # Small blobs go as one bytes body: http.client then sends headers and body in one write
            # (a separate body write is what Nagle's algorithm and delayed ACKs stall by ~40 ms).
            data = b''.join(chunks)
        session = self._sessions.pop(digest, None)
        url = session.result() if session is not None else self.client.start_upload(self.ref, digest)
        self.client.finish_upload(self.ref, digest, url, data)

    def prepare_blob(self, digest: str) -> None:
        """Open the upload session for a blob about to be written (POST), while the engine opens the source (GET)."""
        self._sessions[digest] = in_background(self.client.start_upload, self.ref, digest)

    def can_mount_from(self, source: t.Any) -> bool:
        """Mounting needs the source to be another repository on the same registry host."""
        return isinstance(source, RegistryRepository) and source.ref.registry == self.ref.registry and source.location != self.location

    def mount_blob(self, digest: str, source: t.Any) -> bool:
        if not self.can_mount_from(source):
            return False
        return self.client.mount_blob(self.ref, digest, source.ref.repository)

    def referrers(self, digest: str) -> t.List[t.Dict[str, t.Any]]:
        """Referrers of ``digest`` (API, else tag fallback) plus its cosign tags; see ``list_referrers``."""
        return self.client.referrers(self.ref, digest)


class ReferrerSource(t.Protocol):
    """A store that can say what refers to a manifest (RegistryRepository; optional for other stores)."""

    def referrers(self, digest: str) -> t.List[t.Dict[str, t.Any]]:
        """Dicts with ``digest``, ``kind`` (``referrer``, ``cosign``), ``tag`` (None, the fallback or cosign tag),
        ``artifact_type``, ``media_type``, ``annotations``."""


def _same_place(source: ImageStore, target: ImageStore) -> bool:
    return isinstance(source, RegistryRepository) and isinstance(target, RegistryRepository) and source.location == target.location


def _copy_blob(source: ImageStore, target: ImageStore, descriptor: t.Dict[str, t.Any], check_mode: bool, stats: CopyStats) -> None:
    digest = descriptor['digest']
    size = descriptor.get('size') if isinstance(descriptor.get('size'), int) else None
    if digest in stats.planned:
        return
    if target.blob_exists(digest):
        stats.add(existing_blobs=1)
        return
    if check_mode:
        if not stats.plan(digest):
            return
        mountable = getattr(target, 'can_mount_from', None)
        if mountable is not None and mountable(source):
            stats.add(mounted_blobs=1)
        else:
            stats.add(copied_blobs=1, copied_bytes=size or 0)
        return
    if target.mount_blob(digest, source):
        stats.add(mounted_blobs=1)
        return
    what = 'blob %s from %s' % (digest, source.label)
    counted: t.List[int] = [0]

    def counting(chunks: t.Iterable[bytes]) -> t.Iterator[bytes]:
        for chunk in chunks:
            counted[0] += len(chunk)
            yield chunk

    prepare = getattr(target, 'prepare_blob', None)
    if prepare is not None:
        prepare(digest)  # a registry target opens its upload session while the source answers: one round trip less
    with source.open_blob(digest) as chunks:
        target.write_blob(digest, size, counting(verified(chunks, digest, size, what)))
    stats.add(copied_blobs=1, copied_bytes=counted[0])


def _copy_tree(source: ImageStore, target: ImageStore, manifest: Manifest, check_mode: bool, stats: CopyStats) -> None:
    """Everything a manifest names, children and blobs first; not the manifest itself."""
    if manifest.is_index or 'manifests' in manifest.data:
        def copy_child(digest: str) -> None:
            if target.manifest_digest(digest) is not None:
                return
            child_manifest = source.get_manifest(digest)
            _copy_tree(source, target, child_manifest, check_mode, stats)
            _put(target, digest, child_manifest, check_mode, stats)
        bounded_map(copy_child, [child['digest'] for child in manifest.children if child['digest']], WORKERS)
        return
    bounded_map(lambda descriptor: _copy_blob(source, target, descriptor, check_mode, stats), manifest.blobs, WORKERS)


def _put(target: ImageStore, reference: str, manifest: Manifest, check_mode: bool, stats: CopyStats) -> None:
    if not check_mode:
        target.put_manifest(reference, manifest.raw, manifest.media_type)
    stats.add(manifests=1)


def filter_platforms(manifest: Manifest, platforms: t.Sequence[Platform], what: str) -> Manifest:
    """The index restricted to children of these platforms (new bytes), or the manifest itself when nothing is dropped."""
    if not manifest.is_index or not platforms:
        return manifest
    entries = [e for e in manifest.data.get('manifests') or [] if isinstance(e, dict)]
    kept = [e for e in entries if isinstance(e.get('platform'), dict)
            and any(p.matches(Platform.from_descriptor(e['platform'])) for p in platforms)
            and (e.get('annotations') or {}).get(_ATTESTATION_OF) is None]
    if not kept:
        raise NotFoundError('%s has no image for platform %s; it has: %s' % (
            what, ', '.join(str(p) for p in platforms), ', '.join(c['platform'] or '(unspecified)' for c in manifest.children) or 'no children'),
            codes=['PLATFORM_UNKNOWN'])
    digests = {e.get('digest') for e in kept}
    kept += [e for e in entries if (e.get('annotations') or {}).get(_ATTESTATION_OF) in digests]
    kept = [e for e in entries if any(e is k for k in kept)]  # original order
    if len(kept) == len(entries):
        return manifest
    raw = json.dumps(dict(manifest.data, manifests=kept), indent=3).encode('utf-8')
    return Manifest.from_bytes(raw, manifest.media_type)


def copy_image(source: ImageStore, target: ImageStore, reference: str, tags: t.Sequence[str] = (), *,
               manifest: t.Optional[Manifest] = None, platforms: t.Optional[t.Sequence[Platform]] = None,
               check_mode: bool = False, stats: t.Optional[CopyStats] = None) -> CopiedImage:
    """Copy ``reference`` (a tag or digest of ``source``) into ``target`` under ``tags`` (none: under its digest).

    ``manifest`` is the source manifest when the caller has already read it (saves a GET).
    See the module docstring for the walk, ``platforms`` and ``check_mode``. Raises
    RegistryError subclasses; when putting several tags fails part way, the message says
    which tags were already written.
    """
    stats = stats if stats is not None else CopyStats()
    manifest = manifest if manifest is not None else source.get_manifest(reference)
    manifest = filter_platforms(manifest, platforms or (), '%s (%s)' % (reference, source.label))
    if not _same_place(source, target):
        _copy_tree(source, target, manifest, check_mode, stats)
    written: t.List[str] = []
    for name in list(tags) or [manifest.digest]:
        try:
            _put(target, name, manifest, check_mode, stats)
        except RegistryError as exc:
            if not written:
                raise
            raise annotated(exc, '%s (tags already written: %s)' % (exc.msg, ', '.join(written))) from None
        written.append(name)
    return CopiedImage(manifest.digest, manifest.media_type, manifest.raw, tuple(c['platform'] for c in manifest.children))


def annotated(exc: RegistryError, msg: str) -> RegistryError:
    """The same kind of error with a message that says more (what was being done, what was already written)."""
    return exc.with_message(msg)


def list_referrers(store: t.Any, digest: str) -> t.List[t.Dict[str, t.Any]]:
    """What refers to ``digest`` in ``store``: [] for a store that cannot tell (not a ``ReferrerSource``)."""
    lister = getattr(store, 'referrers', None)
    return lister(digest) if lister is not None else []


def copy_referrers(source: ImageStore, target: ImageStore, digest: str, *, check_mode: bool = False,
                   stats: t.Optional[CopyStats] = None) -> t.List[t.Dict[str, t.Any]]:
    """Copy every referrer of ``digest`` (after the image itself); returns them, each with ``changed``.

    OCI referrers are copied by digest; when the source only had the ``sha256-<hex>`` fallback
    tag, that tag (an index of the referrers) is copied too, so registries without the
    referrers API list them on the target as well. Cosign tags are copied as tags.
    """
    stats = stats if stats is not None else CopyStats()
    result = []
    fallback_tags = set()
    for referrer in list_referrers(source, digest):
        reference = referrer['tag'] if referrer['kind'] == 'cosign' else referrer['digest']
        changed = target.manifest_digest(reference) != referrer['digest']
        if changed:
            copy_image(source, target, referrer['digest'], [referrer['tag']] if referrer['kind'] == 'cosign' else (),
                       check_mode=check_mode, stats=stats)
        if referrer['kind'] == 'referrer' and referrer.get('tag'):
            fallback_tags.add(referrer['tag'])
        result.append(dict(referrer, changed=changed))
    for tag in sorted(fallback_tags):
        index_digest = source.manifest_digest(tag)
        if index_digest and target.manifest_digest(tag) != index_digest:
            copy_image(source, target, tag, [tag], check_mode=check_mode, stats=stats)
            for item in result:
                if item.get('tag') == tag:
                    item['changed'] = True
    return result
