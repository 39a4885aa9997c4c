# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_tag's input checks and plan: which tags to write, which to leave, what each pointed at."""

from __future__ import annotations

import typing as t

from ._errors import InvalidInputError
from ._reference import ImageReference, validate_tag
from ._store import ImageStore

OVERWRITE_REFUSED = 'tag exists and points at another image, and overwrite is false'


def parse_tags(tags: t.Any) -> t.List[str]:
    """The tag names, validated; duplicates dropped (first kept). InvalidInputError naming the bad one."""
    if not tags:
        raise InvalidInputError('tags is empty: give at least one tag name to point at the source, for example [prod]')
    result: t.List[str] = []
    for tag in tags:
        if isinstance(tag, str) and (tag.startswith(('sha256:', 'sha512:')) or tag.startswith('@')):
            raise InvalidInputError('tags: "%s" is a digest, not a tag; a manifest keeps its digest wherever it is copied, '
                                    'so give tag names only (the digest is returned as digest)' % tag)
        if isinstance(tag, str) and ('/' in tag or ':' in tag):
            raise InvalidInputError('tags: "%s" is a reference, not a tag name; put the target repository in repository '
                                    'and the tag names in tags' % tag)
        try:
            validate_tag(tag)
        except ValueError as exc:
            raise InvalidInputError('tags: %s' % exc) from None
        if tag not in result:
            result.append(tag)
    return result


def parse_target(repository: t.Optional[str], source: ImageReference) -> ImageReference:
    """The target repository: the option's (tag or digest refused), else the source's."""
    if not repository:
        return ImageReference(source.registry, source.repository)
    try:
        return ImageReference.parse_repository(repository)
    except ValueError as exc:
        raise InvalidInputError('repository: %s' % exc) from None


def plan_tags(target: ImageStore, name: str, tags: t.Sequence[str], digest: str, overwrite: bool) -> t.List[t.Dict[str, t.Any]]:
    """One HEAD per tag of ``target`` (named ``name`` in results); each entry says what the tag points at and whether to write it."""
    plan = []
    for tag in tags:
        previous = target.manifest_digest(tag)
        entry: t.Dict[str, t.Any] = {'tag': tag, 'target': '%s:%s' % (name, tag), 'previous_digest': previous}
        if previous == digest:
            entry.update(digest=digest, changed=False)
        elif previous is not None and not overwrite:
            entry.update(digest=previous, changed=False, skipped=OVERWRITE_REFUSED)
        else:
            entry.update(digest=digest, changed=True)
        plan.append(entry)
    return plan
