# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_archive's two directions over the copy engine: registry -> OCI layout, layout -> registry.

Both plan first (read manifests, filter platforms, and on import verify every archived blob),
so bad input fails before anything is written; then ``copy_image`` moves each image.
"""

from __future__ import annotations

import os
import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image, parse_platforms, parse_registry
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.model._referrers import is_referrer_tag
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.stores._layout import INDEX_FILE, LayoutStore, OCILayout, is_tar_path, split_name
from ansible_collections.oci.registry.plugins.module_utils.stores._store import ImageStore, RegistryRepository
from ._copy import CopyContext, CopyStats, copy_image, copy_referrers, filter_platforms


class _Plan(t.NamedTuple):
    source: ImageStore
    target: ImageStore
    reference: str  # tag or digest in the source
    tag: str  # tag in the target
    manifest: Manifest  # after the platforms filter
    shown: str  # the reference reported back


def _result(shown: t.List[t.Tuple[str, Manifest]], changed: t.List[bool], stats: CopyStats, path: str) -> t.Dict[str, t.Any]:
    """The module's result: ``shown`` is each image's reported reference and manifest."""
    images = [{'reference': reference, 'digest': manifest.digest, 'changed': flag,
               'platforms': [c['platform'] for c in manifest.children]} for (reference, manifest), flag in zip(shown, changed)]
    return {'changed': any(changed), 'images': images, 'blobs': stats.copied_blobs + stats.mounted_blobs, 'bytes': stats.copied_bytes,
            'path': path}


def _copy(plan: _Plan, referrers: bool, context: CopyContext) -> bool:
    """Copy one planned image (and its referrers); True when anything was (or would be) written."""
    stats = context.stats
    before = (stats.copied_blobs, stats.mounted_blobs, stats.manifests)
    changed = plan.target.manifest_digest(plan.tag) != plan.manifest.digest
    if changed:
        copy_image(plan.source, plan.target, plan.reference, [plan.tag], manifest=plan.manifest, context=context)
    if referrers:
        changed = any(r['changed'] for r in copy_referrers(plan.source, plan.target, plan.manifest.digest, context=context)) or changed
    return changed or before != (stats.copied_blobs, stats.mounted_blobs, stats.manifests)


def _copy_all(plans: t.List[_Plan], referrers: bool, check_mode: bool) -> t.Tuple[t.List[bool], CopyStats]:
    """Copy every planned image in one CopyContext: a blob that several images share moves once."""
    with CopyContext(check_mode=check_mode) as context:
        return [_copy(plan, referrers, context) for plan in plans], context.stats


# Export


_Planned = t.List[t.Tuple[ImageReference, ImageStore, Manifest]]  # per image: reference, source store, manifest to write


def export_images(client: RegistryClient, path: str, images: t.Optional[t.List[t.Any]], platforms: t.Optional[t.List[str]],
                  referrers: bool, check_mode: bool) -> t.Dict[str, t.Any]:
    planned = _export_sources(client, images, platforms)
    if is_tar_path(path) and _tar_holds(path, planned, referrers):
        # the archive is already right: report every image unchanged and write nothing
        return _result([('%s:%s' % (ref.name, ref.tag), manifest) for ref, _source, manifest in planned], [False] * len(planned),
                       CopyStats(), path)
    if check_mode:
        # plan against what a real run would start from: a .tar starts empty, a directory keeps what it holds
        existing = not is_tar_path(path) and os.path.isfile(os.path.join(path, INDEX_FILE))
        return _export(OCILayout.for_reading(path) if existing else OCILayout.empty(path), planned, referrers, True, path)
    with OCILayout.for_writing(path) as layout:
        return _export(layout, planned, referrers, False, path)


def _export_sources(client: RegistryClient, images: t.Optional[t.List[t.Any]], platforms: t.Optional[t.List[str]]) -> _Planned:
    """Read every source manifest (platforms filtered) before anything is written."""
    if not images:
        raise InvalidInputError('images is required for state=exported: list the references to write, like registry.example.com/team/app:1.0')
    wanted = parse_platforms(platforms)
    sources = []
    for text in images:
        ref = parse_image(text, 'images')
        if not ref.tag:
            raise InvalidInputError('images: %s has no tag; the archive records each image under its tag, so give one (repository:tag@digest pins it)' % ref)
        if ref not in sources:
            sources.append(ref)
    planned = []
    for ref in sources:
        source = RegistryRepository(client, ref)
        manifest = filter_platforms(source.get_manifest(ref.reference), wanted, str(ref))
        planned.append((ref, source, manifest))
    return planned


def _export(layout: OCILayout, planned: _Planned, referrers: bool, check_mode: bool, path: str) -> t.Dict[str, t.Any]:
    plans = [_Plan(source, layout.store(ref.name), ref.reference, t.cast(str, ref.tag), manifest, '%s:%s' % (ref.name, ref.tag))
             for ref, source, manifest in planned]
    try:
        changed, stats = _copy_all(plans, referrers, check_mode)
    finally:
        if not layout.writable:
            layout.close()
    if layout.writable and layout.is_tar:
        changed = [True] * len(plans)  # a .tar is rewritten whole
    return _result([(plan.shown, plan.manifest) for plan in plans], changed, stats, path)


def _tar_holds(path: str, planned: _Planned, referrers: bool) -> bool:
    """Whether the .tar at ``path`` records exactly these images at these digests (and their referrers): then nothing is written.

    Blobs are not re-hashed here: an archive is renamed into place only once complete, and import verifies every blob.
    """
    if not os.path.isfile(path):
        return False
    try:
        layout = OCILayout.for_reading(path)
    except (InvalidInputError, NotFoundError):
        return False
    try:
        recorded = {(i['name'], i['digest']) for i in layout.images() if not (referrers and is_referrer_tag(i['tag']))}
        if recorded != {('%s:%s' % (ref.name, ref.tag), manifest.digest) for ref, _source, manifest in planned}:
            return False
        plans = [_Plan(source, layout.store(ref.name), ref.reference, t.cast(str, ref.tag), manifest, '') for ref, source, manifest in planned]
        return not any(_copy_all(plans, referrers, True)[0])
    finally:
        layout.close()


# Import


def _archived(layout: OCILayout, text: str) -> t.Dict[str, t.Any]:
    """The archived image a string names: its tag, its recorded full reference, or its ref.name."""
    found = [i for i in layout.images() if text in (i['name'], i['tag'], i['ref_name'])]
    if len({(i['name'], i['digest']) for i in found}) > 1:
        raise InvalidInputError('%s holds several images named %s (%s): use the full recorded reference' % (
            layout.label, text, ', '.join(sorted(str(i['name']) for i in found))))
    if not found:
        raise NotFoundError('%s has no image %s; it has: %s' % (layout.label, text, ', '.join(
            sorted(i['name'] or i['tag'] for i in layout.images())) or 'no images'), codes=['MANIFEST_UNKNOWN'])
    return found[0]


def _import_targets(layout: OCILayout, images: t.Optional[t.List[t.Any]], registry: t.Optional[str]) -> t.List[t.Tuple[t.Dict[str, t.Any], ImageReference]]:
    items = images if images else [i['name'] or i['tag'] for i in layout.images()]
    if not items:
        raise NotFoundError('%s records no tagged image in its index.json: nothing to import' % layout.label)
    result = []
    for item in items:
        target_text = None
        if isinstance(item, dict):
            unknown = set(item) - {'source', 'target'}
            if unknown or not isinstance(item.get('source'), str):
                raise InvalidInputError('images: each dict needs source (an archived image) and may have target (a full reference), got %r' % (item,))
            item, target_text = item['source'], item.get('target')
        if not isinstance(item, str):
            raise InvalidInputError('images: give archived image names (strings) or dicts with source and target, got %r' % (item,))
        archived = _archived(layout, item)
        if target_text is None:
            if not registry:
                raise InvalidInputError('registry is required to import %s under its recorded repository (or give images with a target)' % item)
            if not archived['name']:
                raise InvalidInputError('%s records no repository for %s (only the tag): give images: [{source: %s, target: host/repository:tag}]'
                                        % (layout.label, item, item))
            repository = parse_image(archived['name'], 'the archived name').repository
            target_text = '%s/%s:%s' % (parse_registry(registry).registry, repository, archived['tag'])
        target = parse_image(target_text, 'images target')
        if not target.tag:
            raise InvalidInputError('images: target %s needs a tag' % target_text)
        result.append((archived, target))
    return result


def _verify_tree(layout: OCILayout, manifest: Manifest, seen: t.Set[str]) -> None:
    """Read every child manifest and hash every blob an archived image names: DigestMismatchError names the bad one."""
    for child in manifest.children:
        if child['digest'] and child['digest'] not in seen:
            seen.add(child['digest'])
            _verify_tree(layout, Manifest.from_bytes(layout.read_blob(child['digest']), child['media_type'], child['digest']), seen)
    for blob in manifest.blobs:
        if blob['digest'] not in seen:
            seen.add(blob['digest'])
            layout.check_blob(blob['digest'], blob.get('size') if isinstance(blob.get('size'), int) else None)


def import_images(client: RegistryClient, path: str, images: t.Optional[t.List[t.Any]], registry: t.Optional[str],
                  platforms: t.Optional[t.List[str]], referrers: bool, check_mode: bool) -> t.Dict[str, t.Any]:
    wanted = parse_platforms(platforms)
    layout = OCILayout.for_reading(path)
    try:
        plans: t.List[_Plan] = []
        seen: t.Set[str] = set()
        for archived, target in _import_targets(layout, images, registry):
            source: LayoutStore = layout.store(split_name(archived['name'])[0] if archived['name'] else None)
            reference = archived['tag']
            manifest = filter_platforms(source.get_manifest(reference), wanted, '%s in %s' % (archived['name'] or reference, layout.label))
            _verify_tree(layout, manifest, seen)
            plans.append(_Plan(source, RegistryRepository(client, target), reference, t.cast(str, target.tag), manifest, str(target)))
        changed, stats = _copy_all(plans, referrers, check_mode)
    finally:
        layout.close()
    return _result([(plan.shown, plan.manifest) for plan in plans], changed, stats, path)
