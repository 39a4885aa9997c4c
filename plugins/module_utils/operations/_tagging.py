# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_tag's input checks and plan: which tags to write, which to leave, what each pointed at."""

from __future__ import annotations

import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._digest import has_algorithm_prefix
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_repository, parsed
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference, validate_tag
from ansible_collections.oci.registry.plugins.module_utils.stores._store import ImageStore
from ._pool import in_background

T = t.TypeVar('T')

OVERWRITE_REFUSED = 'tag exists and points at another image, and overwrite is false'


def parse_tags(tags: t.Any) -> t.List[str]:
    """The tag names, validated; duplicates dropped (first kept). InvalidInputError naming the bad one."""
    if not tags:
        raise InvalidInputError('tags is empty: give at least one tag name to point at the source, for example [prod]')
    result: t.List[str] = []
    for tag in tags:
        if has_algorithm_prefix(tag) or (isinstance(tag, str) and tag.startswith('@')):
            raise InvalidInputError('tags: "%s" is a digest, not a tag; a manifest keeps its digest wherever it is copied, '
                                    'so give tag names only (the digest is returned as digest)' % tag)
        if isinstance(tag, str) and ('/' in tag or ':' in tag):
            raise InvalidInputError('tags: "%s" is a reference, not a tag name; put the target repository in repository '
                                    'and the tag names in tags' % tag)
        parsed('tags', validate_tag, tag)
        if tag not in result:
            result.append(tag)
    return result


def parse_target(repository: t.Optional[str], source: ImageReference) -> ImageReference:
    """The target repository: the option's (tag or digest refused), else the source's."""
    if not repository:
        return ImageReference(source.registry, source.repository)
    return parse_repository(repository)


def plan_tags(target: ImageStore, name: str, tags: t.Sequence[str], digest: str, overwrite: bool,
              known: t.Optional[t.Mapping[str, t.Optional[str]]] = None) -> t.List[t.Dict[str, t.Any]]:
    """One HEAD per tag of ``target`` (named ``name`` in results); each entry says what the tag points at and whether to write it.

    ``known``: what each tag points at, already looked up (``target_digests``); no HEAD is sent for those.
    """
    plan = []
    for tag in tags:
        previous = known[tag] if known is not None and tag in known else target.manifest_digest(tag)
        entry: t.Dict[str, t.Any] = {'tag': tag, 'target': '%s:%s' % (name, tag), 'previous_digest': previous}
        if previous == digest:
            entry.update(digest=digest, changed=False)
        elif previous is not None and not overwrite:
            entry.update(digest=previous, changed=False, skipped=OVERWRITE_REFUSED)
        else:
            entry.update(digest=digest, changed=True)
        plan.append(entry)
    return plan


def target_digests(target: ImageStore, tags: t.Sequence[str], read_source: t.Callable[[], T]) -> t.Tuple[T, t.Dict[str, t.Optional[str]]]:
    """``read_source()`` on another thread while each tag of ``target`` is looked up (one HEAD each), for a target on
    another registry host: the two hosts' first round trips (ping, GET source / HEAD target) overlap. A source error
    is raised first, as when they run one after the other."""
    pending = in_background(read_source)
    try:
        known = {tag: target.manifest_digest(tag) for tag in tags}
    except RegistryError:
        pending.result()
        raise
    return pending.result(), known
