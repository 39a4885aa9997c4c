# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Google's registries (gcr.io, Artifact Registry): what their extended ``tags/list`` tells.

Google's ``tags/list`` answer carries, beside ``tags``, a ``manifest`` map of every manifest
in the repository, tagged or not, with its tags and times. Listing tags reads it at no extra
request; ``RegistryClient.google(ref)`` hands out a :class:`GoogleRepository` for the rest, reading
through the client's pager. This file does not import the client (the client imports it on
first use, when a registry is Google's).
Which hosts are Google's is decided in ``_vendors.py``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.wire._auth import repository_scope

# The client's pager: (where, path, scopes, operation) -> each page's JSON object, following Link headers.
Pager = t.Callable[[ImageReference, str, t.List[str], str], t.Iterator[t.Dict[str, t.Any]]]


def google_manifests(data: t.Any) -> t.Dict[str, t.Dict[str, t.Any]]:
    """Google's extended ``tags/list``: ``{digest: {media_type, tags, created}}`` for every manifest, tagged or not.

    ``created`` is epoch seconds or None: ``timeCreatedMs`` is the image's own creation time
    (Google sends ``"0"`` when unknown), ``timeUploadedMs`` the push time, used when the first is
    missing. Both are strings of milliseconds.
    """
    result: t.Dict[str, t.Dict[str, t.Any]] = {}
    manifests = data.get('manifest') if isinstance(data, dict) else None
    if not isinstance(manifests, dict):
        return result
    for digest, entry in manifests.items():
        if not isinstance(entry, dict):
            continue
        created: t.Optional[float] = None
        for key in ('timeCreatedMs', 'timeUploadedMs'):
            value = str(entry.get(key) or '').strip()
            if value.isdigit() and int(value) > 0:
                created = int(value) / 1000.0
                break
        result[str(digest)] = {'media_type': entry.get('mediaType') or '', 'created': created,
                               'tags': [tag for tag in entry.get('tag') or [] if isinstance(tag, str)]}
    return result


def google_tag_details(data: t.Any) -> t.Dict[str, t.Tuple[str, t.Optional[float]]]:
    """Google's ``tags/list`` ``manifest`` map as ``{tag: (digest, created epoch seconds or None)}``."""
    return {tag: (digest, entry['created']) for digest, entry in google_manifests(data).items() for tag in entry['tags']}


class GoogleRepository:
    """One repository on a Google registry, read through the client's pager (same auth, same request log)."""

    def __init__(self, pages: Pager, ref: ImageReference) -> None:
        self.pages = pages
        self.ref = ref

    def manifests(self) -> t.Dict[str, t.Dict[str, t.Any]]:
        """Every manifest of the repository with its media type, tags and created time ({} when the repository is missing)."""
        found: t.Dict[str, t.Dict[str, t.Any]] = {}
        try:
            for data in self.pages(self.ref, '/v2/%s/tags/list' % self.ref.repository, [repository_scope(self.ref.repository, 'pull')],
                                   'list manifests of %s' % self.ref.name):
                found.update(google_manifests(data))
        except NotFoundError:
            return {}
        return found
