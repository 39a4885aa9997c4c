# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Referrers: what points at an image (signatures, SBOMs, attestations), and the tags that hold them.

Two conventions keep them beside their image:

- OCI 1.1: a manifest whose ``subject`` is the image. The referrers API lists it; a registry without
  that API keeps the list as an index under the fallback tag ``<algorithm>-<hex>`` of the subject's
  digest (the distribution spec's referrers tag schema, whose hex is cut to 64 characters, so a
  sha512 subject's tag is ``sha512-`` and the first 64 of its 128 hex characters).
- cosign: tags named after that fallback tag plus a suffix, ``sha256-<hex>.sig``, ``.att`` and ``.sbom``.

Every place that names, recognises or describes a referrer goes through here: the client lists
them, the layout store finds them in an archive, archive and sync leave their tags alone.
"""

from __future__ import annotations

import re
import typing as t

from ._digest import HEX_LENGTHS

# cosign stores signatures, attestations and SBOMs under these suffixes of the fallback tag.
COSIGN_SUFFIXES = ('sig', 'att', 'sbom')
# The referrers tag schema keeps at most this many hex characters of the subject's digest.
FALLBACK_HEX = 64
KINDS = ('referrer', 'cosign')

_FALLBACK_TAG = re.compile(r'(%s)-[0-9a-f]{%d}' % ('|'.join(sorted(HEX_LENGTHS)), FALLBACK_HEX))
_SUFFIX = re.compile(r'[A-Za-z0-9_-]+')


def fallback_tag(digest: str) -> str:
    """The tag whose index lists ``digest``'s referrers where the registry has no referrers API (``sha256-<hex>``)."""
    algorithm, _sep, encoded = digest.partition(':')
    return '%s-%s' % (algorithm, encoded[:FALLBACK_HEX])


def cosign_tag(digest: str, suffix: str) -> str:
    """cosign's tag for ``digest``'s signature (``sig``), attestation (``att``) or SBOM (``sbom``)."""
    return '%s.%s' % (fallback_tag(digest), suffix)


def cosign_suffix(tag: str, digest: str) -> t.Optional[str]:
    """The suffix of ``tag`` when it is a cosign-style tag of ``digest`` (``sha256-<hex>.<suffix>``), else None."""
    prefix = fallback_tag(digest) + '.'
    return tag[len(prefix):] if tag.startswith(prefix) and _SUFFIX.fullmatch(tag[len(prefix):]) else None


def is_fallback_tag(tag: str) -> bool:
    """Whether ``tag`` is a referrers fallback tag: ``sha256-`` or ``sha512-`` and exactly 64 lowercase hex characters."""
    return bool(_FALLBACK_TAG.fullmatch(tag))


def is_referrer_tag(tag: str) -> bool:
    """Whether ``tag`` holds another image's referrers: a fallback tag, or one with a suffix (cosign's ``.sig``, ...).

    Such tags belong to the image their digest names, not to the repository's own tags: archive
    reports and sync prune leave them alone.
    """
    fallback, dot, suffix = tag.partition('.')
    return is_fallback_tag(fallback) and (not dot or bool(_SUFFIX.fullmatch(suffix)))


def describe(digest: str, kind: str, tag: t.Optional[str] = None, artifact_type: t.Optional[str] = None,
             media_type: t.Optional[str] = None, annotations: t.Optional[t.Mapping[str, t.Any]] = None,
             size: t.Optional[int] = None) -> t.Dict[str, t.Any]:
    """One referrer as every store lists it (the ``referrers`` return value).

    ``kind`` is ``referrer`` (an OCI 1.1 subject; ``tag`` is the fallback tag it was listed in, or
    None when the referrers API listed it) or ``cosign`` (``tag`` is the cosign tag,
    ``artifact_type`` ``cosign/<suffix>``, no media type: the tag is not read).
    """
    if kind not in KINDS:
        raise ValueError('a referrer is of kind %s, not %r' % (' or '.join(KINDS), kind))
    return {'digest': digest, 'kind': kind, 'tag': tag, 'artifact_type': artifact_type, 'media_type': media_type,
            'annotations': dict(annotations) if isinstance(annotations, t.Mapping) else {}, 'size': size}


def describe_cosign(digest: str, tag: str, suffix: str, media_type: t.Optional[str] = None) -> t.Dict[str, t.Any]:
    """A cosign tag as a referrer: ``artifact_type`` ``cosign/<suffix>``."""
    return describe(digest, 'cosign', tag, 'cosign/%s' % suffix, media_type)


def from_index(index: t.Mapping[str, t.Any], tag: t.Optional[str] = None) -> t.List[t.Dict[str, t.Any]]:
    """The referrers an index lists (a referrers API answer, or the index under the fallback ``tag``)."""
    return [describe(entry['digest'], 'referrer', tag, entry.get('artifactType'), entry.get('mediaType'), entry.get('annotations'),
                     entry.get('size'))
            for entry in index.get('manifests') or [] if isinstance(entry, dict) and entry.get('digest')]
