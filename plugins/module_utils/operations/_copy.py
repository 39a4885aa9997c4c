# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""The copy engine: move one image (and what refers to it) from one ImageStore to another.

Public API (used by ``registry_tag``, ``registry_archive`` and ``registry_sync``):

- ``CopyContext(workers, check_mode, stats)``: one per task. It owns the one bounded pool that
  blob work runs on and the task's record of blobs (target location, digest) -> Future, so
  every distinct blob is looked at, read and written at most once per task, whichever image,
  platform or tag names it, and check mode takes the same decisions as a real run. Within one
  mount scope (a registry host), a blob already present in, or copied to, one repository is
  mounted from there into the next repository that needs it. Use it as a context manager.
- ``copy_image(source, target, reference, tags=(), *, manifest=None, platforms=None,
  check_mode=None, stats=None, context=None) -> CopiedImage``: copy the manifest
  ``reference`` (tag or digest in ``source``) with everything it names into ``target`` and put
  it under ``tags`` (or, with no tags, under its digest). Walk: an index's children first (each
  skipped when the target already has its digest, one HEAD), then the index; an image's config
  and layers first, on the context's pool (a blob the target has is skipped after one HEAD;
  then a mount is tried; else it streams ``source.open_blob`` -> ``verified()`` ->
  ``target.write_blob`` in chunks of ``CHUNK_SIZE``), then the manifest, always as its exact
  bytes. A digest mismatch raises DigestMismatchError before the manifest naming the blob is
  written. Without ``context`` the call makes its own from ``check_mode`` and ``stats``; with
  one, those two are the context's, and passing either as well is a TypeError.
- ``platforms``: a list of ``Platform``; when the manifest is an index only the children
  matching one of them are copied (plus buildx attestation manifests that annotate a kept
  child). When that drops children, a new index holding only the kept entries is written as
  new, deterministic bytes (so a new digest, returned as ``CopiedImage.digest``) that record
  what they were made from (``filtered_from``); when it keeps them all the original bytes
  are written. A single-platform image is copied as it is. No child matching raises
  NotFoundError naming the platforms the index has.
- ``CopyStats``: ``mounted_blobs``, ``copied_blobs``, ``copied_bytes``, ``existing_blobs``,
  ``manifests`` (written); one object may collect several copies.
- ``copy_referrers(source, target, digest, ...)``: copy what refers to an image (OCI 1.1
  referrers, the ``sha256-<hex>`` tag fallback, cosign's ``.sig``/``.att``/``.sbom`` tags).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
import typing as t
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from ansible_collections.oci.registry.plugins.module_utils.model._digest import verified
from ansible_collections.oci.registry.plugins.module_utils.model._errors import NotFoundError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Manifest, Platform
from ansible_collections.oci.registry.plugins.module_utils.stores._store import ImageStore
from ._pool import DEFAULT_WORKERS, MAX_WORKERS, bounded_map

# buildx attaches attestations to an index as children with this annotation naming the image they describe.
_ATTESTATION_OF = 'vnd.docker.reference.digest'
# A platform-filtered index says what it was made from, so a later run can tell it is current
# from the source's digest alone (a HEAD) instead of reading the source index again.
FILTER_SOURCE = 'oci.registry.filter.source'
FILTER_PLATFORMS = 'oci.registry.filter.platforms'
# Children of one index are walked this many at a time (their blobs go to the context's pool).
CHILD_WORKERS = 4


@dataclasses.dataclass
class CopyStats:
    """What a copy did (in check mode: would do). One object may collect several copies."""

    mounted_blobs: int = 0
    copied_blobs: int = 0
    copied_bytes: int = 0
    existing_blobs: int = 0
    manifests: int = 0
    lock: t.Any = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class CopyContext:
    """One task's copy state: the bounded blob pool and the record of every blob moved or found.

    Blob work runs only on this pool and never waits on other work, so it cannot deadlock; the
    image walks (callers' threads) wait on blob futures. A blob needed in a second repository of
    the same mount scope starts only when the first repository's move of it has finished, and
    is then mounted from there.
    """

    def __init__(self, workers: int = DEFAULT_WORKERS, check_mode: bool = False, stats: t.Optional[CopyStats] = None) -> None:
        self.check_mode = check_mode
        self.stats = stats if stats is not None else CopyStats()
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(workers, MAX_WORKERS)))
        self._lock = threading.Lock()
        self._blobs: t.Dict[t.Tuple[t.Any, ...], 'Future[None]'] = {}
        self._homes: t.Dict[t.Tuple[t.Any, ...], t.Tuple[ImageStore, 'Future[None]']] = {}
        self._manifests: t.Dict[t.Tuple[t.Any, ...], 'Future[None]'] = {}

    def __enter__(self) -> 'CopyContext':
        return self

    def __exit__(self, exc_type: t.Any, *_rest: t.Any) -> None:
        self.close(cancel=exc_type is not None)

    def close(self, cancel: bool = False) -> None:
        """Wait for the pool to finish; with ``cancel`` blob work not yet started is dropped."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)

    def blob(self, source: ImageStore, target: ImageStore, descriptor: t.Dict[str, t.Any]) -> 'Future[None]':
        """The one Future that puts this blob into ``target`` (scheduled on first request, shared after)."""
        digest = descriptor['digest']
        with self._lock:
            future = self._blobs.get((target.location, digest))
            if future is not None:
                return future
            future = Future()
            self._blobs[(target.location, digest)] = future
            home = self._homes.get((target.mount_scope, digest)) if target.mount_scope is not None else None
            if target.mount_scope is not None and home is None:
                self._homes[(target.mount_scope, digest)] = (target, future)

        def start(_done: t.Any = None) -> None:
            mount_from = home[0] if home is not None and home[1].exception() is None else None
            try:
                self._pool.submit(self._run, future, source, target, descriptor, mount_from)
            except RuntimeError as exc:  # the pool was shut down after a failure elsewhere
                future.set_exception(exc)

        if home is None:
            start()
        else:
            home[1].add_done_callback(start)
        return future

    def manifest_once(self, target: ImageStore, digest: str, work: t.Callable[[], None]) -> None:
        """Run ``work`` (copy a child manifest with its blobs) once per target location and digest, in this thread."""
        with self._lock:
            future = self._manifests.get((target.location, digest))
            mine = future is None
            if mine:
                future = self._manifests[(target.location, digest)] = Future()
        if not mine:
            t.cast('Future[None]', future).result()
            return
        try:
            work()
        except BaseException as exc:
            t.cast('Future[None]', future).set_exception(exc)
            raise
        t.cast('Future[None]', future).set_result(None)

    def _run(self, future: 'Future[None]', source: ImageStore, target: ImageStore, descriptor: t.Dict[str, t.Any],
             mount_from: t.Optional[ImageStore]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            _move_blob(self, source, target, descriptor, mount_from)
        except BaseException as exc:  # pylint: disable=broad-exception-caught
            future.set_exception(exc)
        else:
            future.set_result(None)


def _move_blob(context: CopyContext, source: ImageStore, target: ImageStore, descriptor: t.Dict[str, t.Any],
               mount_from: t.Optional[ImageStore]) -> None:
    """Skip (target has it), mount (from the task's earlier copy, else from the source) or stream one blob."""
    digest = descriptor['digest']
    size = descriptor.get('size') if isinstance(descriptor.get('size'), int) else None
    stats = context.stats
    if target.blob_exists(digest):
        stats.add(existing_blobs=1)
        return
    for origin in (mount_from, source):
        if origin is not None and target.can_mount_from(origin) and (context.check_mode or target.mount_blob(digest, origin)):
            stats.add(mounted_blobs=1)
            return
    if context.check_mode:
        stats.add(copied_blobs=1, copied_bytes=size or 0)
        return
    what = 'blob %s from %s' % (digest, source.label)
    counted: t.List[int] = [0]

    def counting(chunks: t.Iterable[bytes]) -> t.Iterator[bytes]:
        for chunk in chunks:
            counted[0] += len(chunk)
            yield chunk

    with source.open_blob(digest) as chunks:
        target.write_blob(digest, size, counting(verified(chunks, digest, size, what)))
    stats.add(copied_blobs=1, copied_bytes=counted[0])


def _wait_all(futures: t.Sequence['Future[None]']) -> None:
    """Wait for every future, or for the first failure, and raise it."""
    done, _pending = wait(futures, return_when=FIRST_EXCEPTION)
    for future in futures:
        if future in done and future.exception() is not None:
            raise t.cast(BaseException, future.exception())


@dataclasses.dataclass(frozen=True)
class CopiedImage:
    """The manifest now in the target: its digest (new when ``platforms`` filtered an index), type and bytes."""

    digest: str
    media_type: str
    raw: bytes
    platforms: t.Tuple[t.Optional[str], ...] = ()


def _same_place(source: ImageStore, target: ImageStore) -> bool:
    return source.mount_scope is not None and source.location == target.location


def _copy_tree(source: ImageStore, target: ImageStore, manifest: Manifest, context: CopyContext) -> None:
    """Everything a manifest names, children and blobs first; not the manifest itself."""
    if manifest.is_index or 'manifests' in manifest.data:  # by shape too: an index served under another media type
        def copy_child(digest: str) -> None:
            def work() -> None:
                if target.manifest_digest(digest) is not None:
                    return
                child_manifest = source.get_manifest(digest)
                _copy_tree(source, target, child_manifest, context)
                _put(target, digest, child_manifest, context)
            context.manifest_once(target, digest, work)
        bounded_map(copy_child, [child['digest'] for child in manifest.children if child['digest']], CHILD_WORKERS)
        return
    _wait_all([context.blob(source, target, descriptor) for descriptor in manifest.blobs])


def _put(target: ImageStore, reference: str, manifest: Manifest, context: CopyContext) -> None:
    if not context.check_mode:
        target.put_manifest(reference, manifest.raw, manifest.media_type)
    context.stats.add(manifests=1)


def filter_platforms(manifest: Manifest, platforms: t.Sequence[Platform], what: str) -> Manifest:
    """The index restricted to children of these platforms (new bytes), or the manifest itself when nothing is dropped.

    The new index is deterministic (same source, same platforms: same bytes) and its annotations
    name the source index and the platforms asked for (``filtered_from``).
    """
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
    annotations = dict(manifest.data.get('annotations') or {})
    annotations.update({FILTER_SOURCE: manifest.digest, FILTER_PLATFORMS: platform_key(platforms)})
    raw = json.dumps(dict(manifest.data, manifests=kept, annotations=annotations), indent=3).encode('utf-8')
    return Manifest.from_bytes(raw, manifest.media_type)


def platform_key(platforms: t.Sequence[Platform]) -> str:
    """The platforms of a filter as one stable string: normalized, sorted, comma-joined."""
    return ','.join(sorted({str(p) for p in platforms}))


def filtered_from(manifest: Manifest) -> t.Optional[t.Tuple[str, str]]:
    """(source index digest, ``platform_key``) for an index that ``filter_platforms`` wrote, else None."""
    annotations = manifest.data.get('annotations') if manifest.is_index else None
    if not isinstance(annotations, dict):
        return None
    source, platforms = annotations.get(FILTER_SOURCE), annotations.get(FILTER_PLATFORMS)
    return (source, platforms) if isinstance(source, str) and isinstance(platforms, str) else None


def _task_context(check_mode: t.Optional[bool], stats: t.Optional[CopyStats],
                  context: t.Optional[CopyContext]) -> t.ContextManager[CopyContext]:
    """The context a copy runs in: the caller's, or its own made from ``check_mode`` and ``stats``; never both.

    A caller's context decides check mode and collects the stats for the whole task, so a
    ``check_mode`` or ``stats`` given beside it could only be ignored: that is refused instead.
    """
    if context is None:
        return CopyContext(check_mode=bool(check_mode), stats=stats)
    if check_mode is not None or stats is not None:
        raise TypeError('check_mode and stats are the CopyContext\'s when a context is given (this one has check_mode=%s); '
                        'pass them to CopyContext, not beside it' % context.check_mode)
    return contextlib.nullcontext(context)


def copy_image(source: ImageStore, target: ImageStore, reference: str, tags: t.Sequence[str] = (), *,
               manifest: t.Optional[Manifest] = None, platforms: t.Optional[t.Sequence[Platform]] = None,
               check_mode: t.Optional[bool] = None, stats: t.Optional[CopyStats] = None,
               context: t.Optional[CopyContext] = None) -> CopiedImage:
    """Copy ``reference`` (a tag or digest of ``source``) into ``target`` under ``tags`` (none: under its digest).

    ``manifest`` is the source manifest when the caller has already read it (saves a GET).
    See the module docstring for the walk, ``platforms`` and ``context``. Raises
    RegistryError subclasses; when putting several tags fails part way, the message says
    which tags were already written.
    """
    with _task_context(check_mode, stats, context) as task:
        manifest = manifest if manifest is not None else source.get_manifest(reference)
        manifest = filter_platforms(manifest, platforms or (), '%s (%s)' % (reference, source.label))
        if not _same_place(source, target):
            _copy_tree(source, target, manifest, task)
        written: t.List[str] = []
        for name in list(tags) or [manifest.digest]:
            try:
                _put(target, name, manifest, task)
            except RegistryError as exc:
                if not written:
                    raise
                raise exc.with_message('%s (tags already written: %s)' % (exc.msg, ', '.join(written))) from None
            written.append(name)
        return CopiedImage(manifest.digest, manifest.media_type, manifest.raw, tuple(c['platform'] for c in manifest.children))


def copy_referrers(source: ImageStore, target: ImageStore, digest: str, *, check_mode: t.Optional[bool] = None,
                   stats: t.Optional[CopyStats] = None, context: t.Optional[CopyContext] = None) -> t.List[t.Dict[str, t.Any]]:
    """Copy every referrer of ``digest`` (after the image itself); returns them, each with ``changed``.

    OCI referrers are copied by digest; when the source only had the ``sha256-<hex>`` fallback
    tag, that tag (an index of the referrers) is copied too, so registries without the
    referrers API list them on the target as well. Cosign tags are copied as tags.
    """
    with _task_context(check_mode, stats, context) as task:
        result = []
        fallback_tags = set()
        for referrer in source.referrers(digest):
            reference = referrer['tag'] if referrer['kind'] == 'cosign' else referrer['digest']
            changed = target.manifest_digest(reference) != referrer['digest']
            if changed:
                copy_image(source, target, referrer['digest'], [referrer['tag']] if referrer['kind'] == 'cosign' else (), context=task)
            if referrer['kind'] == 'referrer' and referrer.get('tag'):
                fallback_tags.add(referrer['tag'])
            result.append(dict(referrer, changed=changed))
        for tag in sorted(fallback_tags):
            index_digest = source.manifest_digest(tag)
            if index_digest and target.manifest_digest(tag) != index_digest:
                copy_image(source, target, tag, [tag], context=task)
                for item in result:
                    if item.get('tag') == tag:
                        item['changed'] = True
        return result
