# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private plugin_utils file of oci.registry: do not use it from other collections.
"""The promote role's verdict: registry_tag's results and the read-back digests -> promote_result (pure, no Ansible imports)."""

from __future__ import annotations

import typing as t


def _results(value: t.Any, what: str) -> t.List[t.Mapping[str, t.Any]]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, t.Mapping) for item in value):
        raise ValueError('%s must be the results list of a registered loop, not %r' % (what, type(value).__name__))
    return list(value)


def verdict(tagged: t.Any, read_back: t.Any) -> t.Dict[str, t.Any]:
    """``changed``, ``moved`` (targets written, or to be written in check mode) and ``images`` with ``verified`` per target.

    ``read_back`` has one result per target, in the order of the images and of their tags (a loop over
    ``tagged | subelements('results')``). ``verified`` is true when the target was read back with its source's digest,
    false when it was read back with another one, and None when it was not read (skipped: in check mode a target that
    would change has not moved yet).
    """
    images, reads = _results(tagged, 'the registry_tag results'), _results(read_back, 'the read-back results')
    targets = sum(len(image.get('results') or []) for image in images)
    if targets != len(reads):
        raise ValueError('%d targets were tagged but %d were read back: the read-back loop must run over every target of every '
                         'image, in order (subelements of results)' % (targets, len(reads)))
    rows, moved, position = [], [], 0
    for image in images:
        target_rows = []
        for tag in image.get('results') or []:
            read = reads[position]
            position += 1
            verified = None if read.get('skipped') else read.get('digest') == image.get('digest')
            target_rows.append({'target': tag.get('target'), 'previous_digest': tag.get('previous_digest'), 'digest': tag.get('digest'),
                                'changed': tag.get('changed'), 'verified': verified})
            if tag.get('changed'):
                moved.append(tag.get('target'))
        rows.append({'source': image.get('source'), 'digest': image.get('digest'), 'targets': target_rows,
                     'referrers': image.get('referrers') or []})
    return {'changed': bool(moved), 'moved': moved, 'images': rows}
