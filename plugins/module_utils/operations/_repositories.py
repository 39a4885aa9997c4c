# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Whole-registry sources: the repositories a registry's catalog offers, chosen by include / exclude patterns.

Patterns are globs over the repository path (``team/app``, no registry): ``*`` is any run of characters
within one path component, ``**`` any run across components (``/`` included), ``?`` one character other
than ``/``; everything else stands for itself, and a pattern matches the whole path. Globs rather than
regular expressions because repository names are paths and ``team/*`` against ``team/**`` says whether
sub-paths count, where a regular expression needs anchors and escaped dots to say the same.

Each chosen repository is mirrored to ``<target registry>/<target_prefix>/<path>``. On Docker Hub, which
has no catalog, every include pattern starts with the namespace (user or organization) to list.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference, RegistryName
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient

DEFAULT_MAX_REPOSITORIES = 1000
_GLOB_TEXT = re.compile(r'^[a-z0-9._/*?-]+$')
_GLOB_PART = re.compile(r'\*\*|\*|\?|[^*?]+')


def glob_regex(pattern: str, option: str) -> t.Pattern[str]:
    """The regular expression of one repository glob; InvalidInputError for characters no repository path has."""
    if not isinstance(pattern, str) or not pattern or not _GLOB_TEXT.match(pattern) or pattern.startswith('/') or pattern.endswith('/'):
        raise InvalidInputError('%s: %r is not a repository pattern: lowercase letters, digits, ".", "_", "-" and "/" between '
                                'path components, with "*" (within a component), "**" (across components) and "?"' % (option, pattern))
    parts = {'**': '.*', '*': '[^/]*', '?': '[^/]'}
    return re.compile(''.join(parts.get(part, re.escape(part)) for part in _GLOB_PART.findall(pattern)) + r'\Z')


@dataclass(frozen=True)
class RepositoryPatterns:
    """``include`` and ``exclude`` globs: a path is chosen when an include pattern matches it and no exclude pattern does."""

    include: t.Tuple[str, ...]
    exclude: t.Tuple[str, ...] = ()
    compiled: t.Tuple[t.Tuple[t.Pattern[str], ...], t.Tuple[t.Pattern[str], ...]] = field(default=((), ()), compare=False, repr=False)

    @classmethod
    def parse(cls, include: t.Any, exclude: t.Any, where: str) -> 'RepositoryPatterns':
        if not isinstance(include, list) or not include:
            raise InvalidInputError('%s.include must list at least one repository pattern (["**"] for every repository)' % where)
        if exclude is not None and not isinstance(exclude, list):
            raise InvalidInputError('%s.exclude must be a list of repository patterns' % where)
        exclude = exclude or []
        compiled = (tuple(glob_regex(p, '%s.include[%d]' % (where, i)) for i, p in enumerate(include)),
                    tuple(glob_regex(p, '%s.exclude[%d]' % (where, i)) for i, p in enumerate(exclude)))
        return cls(tuple(include), tuple(exclude), compiled)

    def matches(self, path: str) -> bool:
        include, exclude = self.compiled
        return any(p.match(path) for p in include) and not any(p.match(path) for p in exclude)

    def namespaces(self, where: str) -> t.List[str]:
        """The first path component of every include pattern, for registries listed per namespace (Docker Hub)."""
        found: t.List[str] = []
        for number, pattern in enumerate(self.include):
            first = pattern.split('/', 1)[0]
            if '/' not in pattern or '*' in first or '?' in first:
                raise InvalidInputError('%s.include[%d]: %r - Docker Hub has no catalog and lists repositories per namespace, so every '
                                        'include pattern starts with a user or organization, such as bitnami/* or library/*' % (
                                            where, number, pattern))
            if first not in found:
                found.append(first)
        return found


@dataclass(frozen=True)
class RegistrySource:
    """One whole-registry entry of registry_sync: a source registry, its patterns, and where the chosen repositories go."""

    number: int
    source: RegistryName
    target: RegistryName
    prefix: str
    patterns: RepositoryPatterns

    @property
    def where(self) -> str:
        return 'repositories[%d]' % self.number

    def target_of(self, path: str) -> ImageReference:
        """The target repository of the source repository ``path``."""
        full = '%s/%s' % (self.target.registry, '%s/%s' % (self.prefix, path) if self.prefix else path)
        try:
            return ImageReference.parse_repository(full)
        except ValueError as exc:
            raise InvalidInputError('%s: the target of %s/%s would be %s, which is not a repository name: %s' % (
                self.where, self.source.registry, path, full, exc)) from None

    def own_mirror(self, path: str) -> bool:
        """Whether ``path`` is one of this entry's own targets (source and target registry the same): never a source."""
        return self.source.registry == self.target.registry and (not self.prefix or path.startswith(self.prefix + '/'))


def _registry(value: t.Any, option: str) -> RegistryName:
    try:
        return RegistryName.parse(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidInputError('%s: %s (an entry with include patterns names registries, host[:port], and puts repository '
                                'paths in include, such as team/*)' % (option, exc)) from None


def parse_registry_source(number: int, value: t.Mapping[str, t.Any]) -> RegistrySource:
    """A whole-registry entry (one with ``include``) validated; InvalidInputError names the option."""
    where = 'repositories[%d]' % number
    source, target = _registry(value.get('source'), where + '.source'), _registry(value.get('target'), where + '.target')
    prefix = str(value.get('target_prefix') or '').strip('/')
    if prefix:
        try:
            ImageReference.parse_repository('%s/%s' % (target.registry, prefix))
        except ValueError as exc:
            raise InvalidInputError('%s.target_prefix: %r is not a repository path (%s)' % (where, value.get('target_prefix'), exc)) from None
    for number_, pattern in enumerate(value.get('include') or []):
        if isinstance(pattern, str) and pattern.split('/', 1)[0] in (source.registry, value.get('source')):
            raise InvalidInputError('%s.include[%d]: %r names the registry; patterns are repository paths on %s, such as %s' % (
                where, number_, pattern, source.registry, pattern.split('/', 1)[-1]))
    if source.registry == target.registry and not prefix:
        raise InvalidInputError('%s: source and target are the same registry (%s) and there is no target_prefix: every repository '
                                'would be its own mirror' % (where, source.registry))
    return RegistrySource(number, source, target, prefix, RepositoryPatterns.parse(value.get('include'), value.get('exclude'), where))


@dataclass
class Listing:
    """What listing one registry cost and found, for the ``catalog`` result key."""

    api: str  # 'catalog' or 'hub_api'
    listed: int = 0
    matched: int = 0
    requests: int = 0

    def report(self) -> t.Dict[str, t.Any]:
        return {'api': self.api, 'listed': self.listed, 'matched': self.matched, 'requests': self.requests}


class TooManyRepositoriesError(InvalidInputError):
    """The include patterns choose more repositories than max_repositories allows: nothing is planned."""


def expand(client: RegistryClient, sources: t.Sequence[RegistrySource], cap: int, already: int = 0
           ) -> t.Tuple[t.List[t.Tuple[RegistrySource, str]], t.Dict[str, Listing]]:
    """Every (entry, source repository path) the entries choose, in entry then path order, and each registry's listing cost.

    Each registry is listed once for all its entries (per namespace on Docker Hub). Listing stops as soon as
    more than ``cap`` repositories are chosen in all (``already`` counts the explicit entries), with
    TooManyRepositoriesError.
    """
    chosen: t.List[t.Tuple[RegistrySource, str]] = []
    listings: t.Dict[str, Listing] = {}
    for registry in _in_order(s.source.registry for s in sources):
        mine = [s for s in sources if s.source.registry == registry]
        listings[registry] = _list_registry(client, mine, chosen, cap - already, cap)
    chosen.sort(key=lambda pair: (pair[0].number, pair[1]))
    return chosen, listings


def _list_registry(client: RegistryClient, mine: t.List[RegistrySource], chosen: t.List[t.Tuple[RegistrySource, str]], room: int,
                   cap: int) -> Listing:
    """List one registry for the entries ``mine`` that name it, appending what they choose to ``chosen``."""
    hub = client.vendors.is_docker_hub(mine[0].source.registry)
    namespaces = sorted({ns for s in mine for ns in s.patterns.namespaces(s.where)}) if hub else None
    listing = Listing('hub_api' if hub else 'catalog')
    start = len(client.log)
    try:
        for path in client.iter_repositories(mine[0].source, namespaces):
            listing.listed += 1
            for source in mine:
                if source.patterns.matches(path) and not source.own_mirror(path):
                    listing.matched += 1
                    chosen.append((source, path))
                    if len(chosen) > room:
                        raise TooManyRepositoriesError(
                            'more than max_repositories (%d) repositories to sync, reached while listing registry %s for %s: narrow '
                            'include / exclude, or raise max_repositories; nothing was synced' % (
                                cap, source.source.registry, source.where))
    except TooManyRepositoriesError:
        raise
    except RegistryError as exc:
        where = ' and '.join(s.where for s in mine)
        raise exc.with_message('%s: cannot list the repositories of registry %s: %s' % (where, mine[0].source.registry, exc.msg)) from None
    finally:
        listing.requests = len(client.log) - start
    return listing


def _in_order(values: t.Iterable[str]) -> t.List[str]:
    seen: t.List[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def check_max_repositories(value: t.Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError('max_repositories must be 1 or more (the most repositories one task syncs), got %r' % (value,))
    return value
