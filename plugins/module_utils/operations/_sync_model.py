# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_sync's input: the options validated into values before any request.

Every default lives here once (:data:`DEFAULTS`, :data:`TAG_DEFAULTS`): the module's argspec reads
them, and so does :func:`parse` when it is called without the argspec (from a benchmark or a test).
A bad value fails with an InvalidInputError that names the option (``repositories[2].tags.semver``).

An entry names one repository (an :class:`Entry`), or a registry with ``include`` patterns (a
:class:`WholeRegistry`, which the run expands into one Entry per chosen repository before it plans).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, replace
from types import MappingProxyType

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Platform
from ansible_collections.oci.registry.plugins.module_utils.model._options import DEFAULTS as SHARED_DEFAULTS, check_workers, parse_platforms, parse_repository
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference, validate_digest, validate_tag
from ._repositories import DEFAULT_MAX_REPOSITORIES, RegistrySource, check_max_repositories, parse_registry_source
from ._shards import Shard
from ._tags import ORDERS, SORTS, SemverRange, check_limit, compile_pattern, select_tags

# Task-level options (an entry's own platforms, referrers and prune fall back to these): the shared
# defaults of model/_options, plus the two only sync has.
DEFAULTS: t.Mapping[str, t.Any] = MappingProxyType(dict(
    {name: SHARED_DEFAULTS[name] for name in ('referrers', 'prune', 'prune_max', 'workers', 'keep_going', 'min_ratelimit_remaining')},
    platforms=None, immutable=(), max_repositories=DEFAULT_MAX_REPOSITORIES))
# Options that only an entry with include patterns (a whole registry) takes.
REGISTRY_ONLY = ('exclude', 'target_prefix')
# An entry's ``tags`` selection.
TAG_DEFAULTS: t.Mapping[str, t.Any] = MappingProxyType({name: SHARED_DEFAULTS[name] for name in ('sort', 'order')})


def _option(params: t.Mapping[str, t.Any], name: str, defaults: t.Mapping[str, t.Any] = DEFAULTS) -> t.Any:
    value = params.get(name)
    return defaults[name] if value is None else value


@dataclass(frozen=True)
class Selection:
    """Which tags of a repository an entry keeps in step: the registry_tags_info vocabulary, plus pinned names."""

    names: t.Optional[t.Dict[str, t.Optional[str]]] = None  # tag -> the digest it is pinned to, or None
    match: t.Optional[t.Pattern[str]] = None
    exclude: t.Optional[t.Pattern[str]] = None
    semver: t.Optional[SemverRange] = None
    sort: str = TAG_DEFAULTS['sort']
    order: str = TAG_DEFAULTS['order']
    limit: t.Optional[int] = None

    @classmethod
    def parse(cls, value: t.Optional[t.Mapping[str, t.Any]], option: str) -> 'Selection':
        value = value or {}
        sort, order = _option(value, 'sort', TAG_DEFAULTS), _option(value, 'order', TAG_DEFAULTS)
        if sort not in SORTS or order not in ORDERS:
            raise InvalidInputError('%s.sort must be one of %s and %s.order one of %s' % (option, ', '.join(SORTS), option, ', '.join(ORDERS)))
        return cls(names=_parse_names(value.get('names'), '%s.names' % option),
                   match=compile_pattern(value.get('match'), '%s.match' % option),
                   exclude=compile_pattern(value.get('exclude'), '%s.exclude' % option),
                   semver=SemverRange.parse(value.get('semver'), '%s.semver' % option),
                   sort=sort, order=order, limit=check_limit(value.get('limit'), '%s.limit' % option))

    def select(self, tags: t.Iterable[str]) -> t.List[t.Dict[str, t.Any]]:
        """``select_tags`` entries for the tags the filters (names, match, exclude, semver) keep; sort and limit aside."""
        return [entry for entry in select_tags(tags, self.match, self.exclude, self.semver)
                if self.names is None or entry['tag'] in self.names]

    def matches(self, tag: str) -> bool:
        """Whether the filters keep ``tag``."""
        return bool(self.select([tag]))

    def pin(self, tag: str) -> t.Optional[str]:
        """The digest ``names`` pins ``tag`` to, or None."""
        return (self.names or {}).get(tag)


def _parse_names(names: t.Any, option: str) -> t.Optional[t.Dict[str, t.Optional[str]]]:
    if names is None:
        return None
    if not isinstance(names, list) or not names:
        raise InvalidInputError('%s must be a non-empty list of tags (tag or tag@sha256:<digest> to pin it); leave it out for every tag' % option)
    result: t.Dict[str, t.Optional[str]] = {}
    for name in names:
        tag, _sep, pin = str(name).partition('@')
        try:
            result[validate_tag(tag)] = validate_digest(pin) if pin else None
        except ValueError as exc:
            raise InvalidInputError('%s: %s' % (option, exc)) from None
    return result


@dataclass(frozen=True)
class Entry:
    """One validated item of ``repositories``: what to copy from where to where."""

    number: int
    source: ImageReference
    target: ImageReference
    selection: Selection
    platforms: t.Tuple[Platform, ...]
    referrers: bool
    prune: bool


@dataclass(frozen=True)
class Options:
    """Task-level settings of a sync run."""

    workers: int = DEFAULTS['workers']
    keep_going: bool = DEFAULTS['keep_going']
    immutable: t.Tuple[t.Pattern[str], ...] = ()
    prune_max: int = DEFAULTS['prune_max']
    min_ratelimit_remaining: int = DEFAULTS['min_ratelimit_remaining']
    max_repositories: int = DEFAULTS['max_repositories']
    shard: t.Optional[Shard] = None

    @classmethod
    def parse(cls, params: t.Mapping[str, t.Any]) -> 'Options':
        workers, prune_max = check_workers(_option(params, 'workers')), _option(params, 'prune_max')
        floor = _option(params, 'min_ratelimit_remaining')
        if prune_max < 0:
            raise InvalidInputError('prune_max must be 0 or more (the most tags pruned in one repository), got %s' % prune_max)
        if floor < 0:
            raise InvalidInputError('min_ratelimit_remaining must be 0 (off) or more, got %s' % floor)
        immutable = tuple(t.cast(t.Pattern[str], compile_pattern(text, 'immutable[%d]' % i))
                          for i, text in enumerate(_option(params, 'immutable')) if text)
        return cls(workers, bool(_option(params, 'keep_going')), immutable, prune_max, floor,
                   check_max_repositories(_option(params, 'max_repositories')), Shard.parse(params.get('shard')))

    def is_immutable(self, tag: str) -> bool:
        return any(pattern.search(tag) for pattern in self.immutable)


def _repository(value: t.Any, option: str) -> ImageReference:
    return parse_repository(value, option, missing='is required: a repository such as registry.example.com/team/app (no tag)',
                            hint='a repository, without tag or digest: the tags to sync go in tags')


@dataclass(frozen=True)
class WholeRegistry:
    """An entry with ``include`` patterns: a source registry's chosen repositories, each synced as its own Entry."""

    source: RegistrySource
    template: Entry  # the selection, platforms, referrers and prune every chosen repository gets

    def entry(self, path: str) -> Entry:
        """The Entry of the source repository ``path`` (a name the registry listed)."""
        return replace(self.template, source=ImageReference(self.source.source.registry, path), target=self.source.target_of(path))


def _entry(number: int, value: t.Any, defaults: t.Mapping[str, t.Any]) -> t.Union[Entry, WholeRegistry]:
    where = 'repositories[%d]' % number
    if not isinstance(value, dict):
        raise InvalidInputError('%s must be a dict with source and target, got %r' % (where, value))
    whole = value.get('include') is not None
    if whole:
        registry = parse_registry_source(number, value)
        source, target = ImageReference(registry.source.registry, ''), ImageReference(registry.target.registry, '')  # per repository later
    else:
        wrong = [name for name in REGISTRY_ONLY if value.get(name) is not None]
        if wrong:
            raise InvalidInputError('%s.%s: only an entry with include patterns (a whole registry) takes it; this entry names '
                                    'one repository' % (where, wrong[0]))
        source, target = _repository(value.get('source'), where + '.source'), _repository(value.get('target'), where + '.target')
        if (source.api_host, source.repository) == (target.api_host, target.repository):
            raise InvalidInputError('%s: source and target are the same repository (%s)' % (where, source.name))
    own = value.get('platforms')
    entry = Entry(number, source, target, Selection.parse(value.get('tags'), where + '.tags'),
                  defaults['platforms'] if own is None else parse_platforms(own, where + '.platforms'),
                  bool(_option(value, 'referrers', defaults)), bool(_option(value, 'prune', defaults)))
    return WholeRegistry(registry, entry) if whole else entry


def parse_entries(params: t.Mapping[str, t.Any]) -> t.List[t.Union[Entry, WholeRegistry]]:
    """Every entry validated before any request; InvalidInputError names the option (``repositories[2].tags.semver``)."""
    entries = params.get('repositories') or []
    if not entries:
        raise InvalidInputError('repositories is empty: give at least one {source, target} entry')
    defaults = {'platforms': parse_platforms(params.get('platforms'), 'platforms'),
                'referrers': bool(_option(params, 'referrers')), 'prune': bool(_option(params, 'prune'))}
    return [_entry(number, value, defaults) for number, value in enumerate(entries)]


def parse(params: t.Mapping[str, t.Any]) -> t.Tuple[t.List[t.Union[Entry, WholeRegistry]], Options]:
    """The whole input of a sync task, validated: the entries, then the task-level options."""
    return parse_entries(params), Options.parse(params)
