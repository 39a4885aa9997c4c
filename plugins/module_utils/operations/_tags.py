# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Tag listing logic of registry_tags_info and registry_search_info: filters, orders, created dates.

Pure functions (no HTTP) except :class:`CreatedResolver`, which asks a RegistryClient for the
manifests and configs it needs, each distinct digest once, safely from many threads.
"""

from __future__ import annotations

import datetime
import re
import threading
import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._options import compile_pattern as compile_option_pattern
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ._pool import bounded_map

if t.TYPE_CHECKING:
    from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient, TagListing

SORTS = ('name', 'semver', 'created')
ORDERS = ('asc', 'desc')
RESERVED_GROUPS = frozenset(('tag', 'digest', 'created'))
# Configs that carry a created date; other artifacts (signatures, SBOMs) have none.
IMAGE_CONFIG_TYPES = frozenset(('application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json'))

# MAJOR[.MINOR[.PATCH]] with an optional leading v and an optional pre-release after "-"
# (a tag cannot hold "+", so build metadata never appears).
_SEMVER = re.compile(r'^[vV]?(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?(?:\.(0|[1-9][0-9]*))?(?:-([0-9A-Za-z.-]+))?$')
_RFC3339 = re.compile(r'^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?$')


def compile_pattern(text: t.Optional[str], option: str) -> t.Optional[t.Pattern[str]]:
    """A tag filter (``match``, ``exclude``): the one compiler, refusing named groups that would overwrite a key of details."""
    return compile_option_pattern(text, option, RESERVED_GROUPS)


def check_limit(limit: t.Optional[int], option: str = 'limit') -> t.Optional[int]:
    """``limit`` itself when it is unset or 1 or more; else InvalidInputError naming the option."""
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InvalidInputError('%s must be 1 or more (leave it unset for every tag), got %s' % (option, limit))
    return limit


def select_tags(tags: t.Iterable[str], match: t.Optional[t.Pattern[str]], exclude: t.Optional[t.Pattern[str]],
                semver: t.Optional['SemverRange'] = None) -> t.List[t.Dict[str, t.Any]]:
    """``{'tag': ..., **named groups}`` for each tag that ``match`` finds, ``exclude`` does not (re.search, anywhere)
    and that is a version inside ``semver`` when a range is given."""
    selected = []
    for tag in dict.fromkeys(tags):  # a registry may repeat a tag across pages
        if exclude is not None and exclude.search(tag):
            continue
        if semver is not None and not semver.contains(tag):
            continue
        found = match.search(tag) if match is not None else None
        if match is not None and found is None:
            continue
        entry: t.Dict[str, t.Any] = {'tag': tag}
        if found is not None:
            entry.update(found.groupdict())
        selected.append(entry)
    return selected


def _prerelease_key(text: str) -> t.Tuple[t.Tuple[int, int, str], ...]:
    """Semver 2.0 precedence of pre-release identifiers: numeric ones numerically and before alphanumeric ones."""
    return tuple((0, int(part), '') if part.isdigit() else (1, 0, part) for part in text.split('.'))


def semver_key(tag: str) -> t.Optional[t.Tuple[t.Any, ...]]:
    """Sort key of a version tag, or None when the tag is not one. A release sorts after its pre-releases."""
    found = _SEMVER.match(tag)
    if not found:
        return None
    major, minor, patch, pre = found.groups()
    release = (int(major), int(minor or 0), int(patch or 0))
    # (1,) after (0, ...) puts the release after every pre-release of the same version.
    return release + (((1,),) if pre is None else ((0,) + _prerelease_key(pre),))


_COMPARATOR = re.compile(r'^(>=|<=|>|<|=)?(.+)$')
_COMPARE = {
    '>=': lambda a, b: a >= b, '<=': lambda a, b: a <= b, '>': lambda a, b: a > b, '<': lambda a, b: a < b, '=': lambda a, b: a == b,
}


class SemverRange:
    """A version range: comparators (``>=``, ``>``, ``<=``, ``<``, ``=`` or none for equal) joined by spaces, all must hold.

    ``>=1.26.0 <2.0.0`` keeps 1.26.0 up to, not including, 2.0.0; a partial version counts as its
    ``.0`` (``>=1.26`` is ``>=1.26.0``). Tags are read as by ``semver_key`` (a leading ``v``, an
    optional pre-release). A pre-release tag is inside the range only when a comparator names a
    pre-release of the same MAJOR.MINOR.PATCH (as npm's node-semver does): ``>=2.0.0-rc.1`` lets
    in ``2.0.0-rc.2`` but not ``2.1.0-rc.1``, and ``<2.0.0`` never lets in ``2.0.0-rc.1``.
    """

    def __init__(self, text: str, comparators: t.List[t.Tuple[str, t.Tuple[t.Any, ...]]]) -> None:
        self.text = text
        self.comparators = comparators
        self._prerelease_bases = {key[:3] for _op, key in comparators if key[3] != (1,)}

    @classmethod
    def parse(cls, text: t.Any, option: str = 'semver') -> t.Optional['SemverRange']:
        """The range, None for an empty one, or InvalidInputError naming the option and the comparator that is wrong."""
        if text is None or (isinstance(text, str) and not text.strip()):
            return None
        if not isinstance(text, str):
            raise InvalidInputError('%s must be a version range such as ">=1.26.0 <2.0.0", got %r' % (option, text))
        comparators = []
        for part in text.split():
            found = _COMPARATOR.match(part)
            key = semver_key(found.group(2)) if found else None
            if found is None or key is None:
                raise InvalidInputError(
                    '%s: %r is not a comparator; write an operator (>=, >, <=, <, = or none) followed by a version such as '
                    '1.26.0, 1.26 or 2.0.0-rc.1, and join comparators with spaces, for example ">=1.26.0 <2.0.0" (got %r)'
                    % (option, part, text))
            comparators.append((found.group(1) or '=', key))
        return cls(text, comparators)

    def contains(self, tag: str) -> bool:
        """Whether ``tag`` is a version inside the range; a tag that is not a version never is."""
        key = semver_key(tag)
        if key is None:
            return False
        if key[3] != (1,) and key[:3] not in self._prerelease_bases:
            return False
        return all(_COMPARE[op](key, bound) for op, bound in self.comparators)


def parse_created(value: t.Any) -> t.Optional[float]:
    """Epoch seconds of an RFC 3339 time (the image config's ``created``: nanoseconds, ``Z`` or an offset), or None."""
    if not isinstance(value, str):
        return None
    found = _RFC3339.match(value.strip())
    if not found:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = found.groups()
    try:
        when = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    offset = 0 if zulu or not sign else (int(off_h) * 3600 + int(off_m) * 60) * (1 if sign == '+' else -1)
    return when.timestamp() - offset + (float('0.' + fraction) if fraction else 0.0)


def format_created(epoch: t.Optional[float]) -> t.Optional[str]:
    """UTC ``YYYY-MM-DDTHH:MM:SSZ``: one form for every source, so that string comparison orders dates."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def sort_details(details: t.List[t.Dict[str, t.Any]], sort: str, order: str,
                 created: t.Optional[t.Mapping[str, t.Optional[float]]] = None) -> t.List[t.Dict[str, t.Any]]:
    """Order details by tag name, version or created time; tags without a version or a date come last in either order."""
    reverse = order == 'desc'
    by_name = sorted(details, key=lambda d: d['tag'])
    if sort == 'name':
        return list(reversed(by_name)) if reverse else by_name
    if sort == 'semver':
        keyed = [(semver_key(d['tag']), d) for d in by_name]
    else:
        keyed = [((created or {}).get(d['tag']), d) for d in by_name]
    ranked = sorted([item for item in keyed if item[0] is not None], key=lambda item: item[0], reverse=reverse)
    return [d for _key, d in ranked] + [d for key, d in keyed if key is None]


def rank_tags(client: 'RegistryClient', ref: ImageReference, listing: 'TagListing', selected: t.List[t.Dict[str, t.Any]],
              sort: str, order: str, limit: t.Optional[int], workers: int
              ) -> t.Tuple[t.List[t.Dict[str, t.Any]], t.Dict[str, str], t.Dict[str, t.Optional[float]]]:
    """Selected tags sorted and cut to ``limit``, with the digests and created times learned on the way.

    Created times are read only for ``sort='created'`` (manifest and config GETs, ``workers`` at once),
    and only for tags the listing did not already describe (Google's listing does).
    """
    digests = {tag: digest for tag, (digest, _created) in listing.known.items()}
    created = {tag: when for tag, (_digest, when) in listing.known.items()}
    if sort == 'created':
        unknown = [entry['tag'] for entry in selected if entry['tag'] not in listing.known]
        for tag, (digest, when) in zip(unknown, bounded_map(CreatedResolver(client, ref).resolve, unknown, workers)):
            digests[tag], created[tag] = digest, when
    return sort_details(selected, sort, order, created)[:limit], digests, created


class CreatedResolver:
    """A tag's digest and created time: its config's ``created``, or for an index its newest child's.

    Every distinct manifest and config is fetched once, however many tags share it and however
    many threads ask at the same time (the first asks, the others wait for its answer).
    Children without a platform (attestations) and non-image configs have no created time.
    """

    def __init__(self, client: 'RegistryClient', ref: ImageReference) -> None:
        self.client = client
        self.ref = ref
        self._lock = threading.Lock()
        self._created: t.Dict[str, '_Once'] = {}  # manifest digest -> its created time, once known

    def resolve(self, tag: str) -> t.Tuple[str, t.Optional[float]]:
        manifest = self.client.get_manifest(self.ref.with_tag(tag))
        return manifest.digest, self._created_of(manifest)

    def _created_of(self, manifest: Manifest) -> t.Optional[float]:
        with self._lock:
            once = self._created.get(manifest.digest)
            owner = once is None
            if once is None:
                once = self._created[manifest.digest] = _Once()
        if not owner:
            return once.wait()
        try:
            once.value = self._compute(manifest)
        except BaseException as exc:
            once.error = exc
            raise
        finally:
            once.done.set()
        return once.value

    def _compute(self, manifest: Manifest) -> t.Optional[float]:
        if manifest.is_index:
            children = [c['digest'] for c in manifest.children if c['digest'] and c['platform'] not in (None, 'unknown/unknown')]
            known = [when for when in (self._created_of(self.client.get_manifest(self.ref, digest)) for digest in children)
                     if when is not None]
            return max(known) if known else None
        if (manifest.config_descriptor or {}).get('mediaType') in IMAGE_CONFIG_TYPES:
            return parse_created(self.client.get_config(self.ref, manifest).get('created'))
        return None


class _Once:
    """One computation's result, for the threads waiting on it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: t.Optional[float] = None
        self.error: t.Optional[BaseException] = None

    def wait(self) -> t.Optional[float]:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value
