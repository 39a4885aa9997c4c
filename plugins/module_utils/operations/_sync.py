# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_sync: keep the selected tags of repositories in step between registries.

Plan, then apply. Every entry's tags are listed and every selected tag gets its action from reads
alone: one HEAD on the source and one on the target, digests compared (with a platform filter, at
most one GET of the target's filtered index, which records what it was made from). Check mode
stops after the plan and the copy engine's dry walk: no write, no blob read. Then changed tags are
copied through the copy engine (one CopyContext for the task, so a blob already in or copied to one
target repository is mounted into the others of that registry), and target tags the selection
matches but the source no longer has are pruned with the delete planner's collateral rule.

Failures are per tag or per entry and never stop the others unless ``keep_going`` is false; rate
limits (``RateLimit-Remaining`` under a floor, or a 429) stop only the copies from that registry and
leave the work reported as ``partial``.
"""

from __future__ import annotations

import re
import threading
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError, RateLimitedError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Manifest, Platform
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference, validate_digest, validate_tag
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.stores._store import RegistryRepository
from ._copy import CopyContext, copy_image, copy_referrers, filtered_from, platform_key
from ._delete import CollateralTagsError, IndexChildError, RepositoryDeleter
from ._pool import bounded_map, check_workers
from ._tags import ORDERS, SORTS, SemverRange, check_limit, compile_pattern, rank_tags, select_tags

ACTIONS = ('created', 'updated', 'unchanged', 'skipped', 'pruned', 'blocked', 'failed')
CHANGES = frozenset(('created', 'updated', 'pruned'))
PROBLEMS = frozenset(('failed', 'blocked'))
# Tags that belong to another image's signatures and attestations (the referrers fallback tag
# sha256-<hex>, cosign's sha256-<hex>.sig/.att/.sbom): prune never touches them.
REFERRER_TAG = re.compile(r'^sha(256|512)-[0-9a-f]{64,128}(\.[A-Za-z0-9_-]+)?$')
STOPPED = 'not attempted: an earlier failure stopped the sync (keep_going is false)'


@dataclass(frozen=True)
class Selection:
    """Which tags of a repository an entry keeps in step: the registry_tags_info vocabulary, plus pinned names."""

    names: t.Optional[t.Dict[str, t.Optional[str]]] = None  # tag -> the digest it is pinned to, or None
    match: t.Optional[t.Pattern[str]] = None
    exclude: t.Optional[t.Pattern[str]] = None
    semver: t.Optional[SemverRange] = None
    sort: str = 'name'
    order: str = 'asc'
    limit: t.Optional[int] = None

    @classmethod
    def parse(cls, value: t.Optional[t.Mapping[str, t.Any]], option: str) -> 'Selection':
        value = value or {}
        if value.get('sort', 'name') not in (None,) + SORTS or value.get('order', 'asc') not in (None,) + ORDERS:
            raise InvalidInputError('%s.sort must be one of %s and %s.order one of %s' % (option, ', '.join(SORTS), option, ', '.join(ORDERS)))
        return cls(names=_parse_names(value.get('names'), '%s.names' % option),
                   match=compile_pattern(value.get('match'), '%s.match' % option),
                   exclude=compile_pattern(value.get('exclude'), '%s.exclude' % option),
                   semver=SemverRange.parse(value.get('semver'), '%s.semver' % option),
                   sort=value.get('sort') or 'name', order=value.get('order') or 'asc',
                   limit=check_limit(value.get('limit'), '%s.limit' % option))

    def select(self, tags: t.Iterable[str]) -> t.List[t.Dict[str, t.Any]]:
        """``select_tags`` entries for the tags the filters (names, match, exclude, semver) keep; sort and limit aside."""
        return [entry for entry in select_tags(tags, self.match, self.exclude, self.semver)
                if self.names is None or entry['tag'] in self.names]

    def matches(self, tag: str) -> bool:
        """Whether the filters keep ``tag``."""
        return bool(self.select([tag]))


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
    """One validated item of ``repositories``."""

    number: int
    source: ImageReference
    target: ImageReference
    selection: Selection
    platforms: t.Tuple[Platform, ...]
    referrers: bool
    prune: bool


def _repository(value: t.Any, option: str) -> ImageReference:
    if not isinstance(value, str) or not value:
        raise InvalidInputError('%s is required: a repository such as registry.example.com/team/app (no tag)' % option)
    try:
        return ImageReference.parse_repository(value)
    except ValueError as exc:
        raise InvalidInputError('%s: %s (a repository, without tag or digest: the tags to sync go in tags)' % (option, exc)) from None


def _platforms(values: t.Any, option: str) -> t.Tuple[Platform, ...]:
    try:
        return tuple(Platform.parse(value) for value in values or ())
    except ValueError as exc:
        raise InvalidInputError('%s: %s' % (option, exc)) from None


def parse_entries(params: t.Mapping[str, t.Any]) -> t.List[Entry]:
    """Every entry validated before any request; InvalidInputError names the option (``repositories[2].tags.semver``)."""
    entries = params.get('repositories') or []
    if not entries:
        raise InvalidInputError('repositories is empty: give at least one {source, target} entry')
    defaults = (_platforms(params.get('platforms'), 'platforms'), bool(params.get('referrers')), bool(params.get('prune')))
    result = []
    for number, value in enumerate(entries):
        where = 'repositories[%d]' % number
        if not isinstance(value, dict):
            raise InvalidInputError('%s must be a dict with source and target, got %r' % (where, value))
        source, target = _repository(value.get('source'), where + '.source'), _repository(value.get('target'), where + '.target')
        if (source.api_host, source.repository) == (target.api_host, target.repository):
            raise InvalidInputError('%s: source and target are the same repository (%s)' % (where, source.name))
        own = value.get('platforms')
        result.append(Entry(number, source, target, Selection.parse(value.get('tags'), where + '.tags'),
                            defaults[0] if own is None else _platforms(own, where + '.platforms'),
                            defaults[1] if value.get('referrers') is None else bool(value['referrers']),
                            defaults[2] if value.get('prune') is None else bool(value['prune'])))
    return result


# Asked before a tag is copied: why the source image must not be copied (the tag becomes blocked), or None.
Verifier = t.Callable[[ImageReference, str], t.Optional[str]]


@dataclass(frozen=True)
class Options:
    """Task-level settings of a sync run."""

    workers: int = 8
    keep_going: bool = True
    immutable: t.Tuple[t.Pattern[str], ...] = ()
    prune_max: int = 10
    min_ratelimit_remaining: int = 0

    @classmethod
    def parse(cls, params: t.Mapping[str, t.Any]) -> 'Options':
        workers, prune_max, floor = check_workers(params.get('workers', 8)), params.get('prune_max', 10), params.get('min_ratelimit_remaining', 0)
        if prune_max < 0:
            raise InvalidInputError('prune_max must be 0 or more (the most tags pruned in one repository), got %s' % prune_max)
        if floor < 0:
            raise InvalidInputError('min_ratelimit_remaining must be 0 (off) or more, got %s' % floor)
        immutable = tuple(t.cast(t.Pattern[str], compile_pattern(text, 'immutable[%d]' % i))
                          for i, text in enumerate(params.get('immutable') or []) if text)
        return cls(workers, bool(params.get('keep_going', True)), immutable, prune_max, floor)


@dataclass
class Item:
    """One tag of one entry: what the plan found, then what was done."""

    entry: Entry
    tag: t.Optional[str]
    action: str = ''
    source_digest: t.Optional[str] = None
    target_digest: t.Optional[str] = None
    previous_digest: t.Optional[str] = None
    reason: t.Optional[str] = None

    def result(self) -> t.Dict[str, t.Any]:
        return {'source': self.entry.source.name, 'target': self.entry.target.name, 'tag': self.tag, 'action': self.action,
                'source_digest': self.source_digest, 'target_digest': self.target_digest,
                'previous_digest': self.previous_digest, 'reason': self.reason}


class RateLimitStop(RegistryError):
    """A copy was not started (or not finished) to keep a registry's pull allowance above the floor, or after its 429."""

    kind = 'rate_limited'


@dataclass
class RateGate:
    """The pull allowance of one source registry, as its ``RateLimit-*`` headers tell it, and the floor to keep."""

    registry: str
    floor: int
    limit: t.Optional[int] = None
    remaining: t.Optional[int] = None
    window_seconds: t.Optional[int] = None
    in_flight: int = 0
    stopped: t.Optional[str] = None
    lock: t.Any = field(default_factory=threading.Lock, repr=False)

    def observe(self, ratelimit: t.Optional[t.Mapping[str, t.Any]]) -> None:
        if not ratelimit or ratelimit.get('remaining') is None:
            return
        with self.lock:
            self.remaining = ratelimit['remaining'] if self.remaining is None else min(self.remaining, ratelimit['remaining'])
            self.limit = ratelimit.get('limit') or self.limit
            self.window_seconds = ratelimit.get('window_seconds') or self.window_seconds

    def admit(self) -> None:
        """Before a manifest GET (the request that spends a pull): refuse it when it would take the allowance below the floor."""
        with self.lock:
            if self.stopped is None and self.floor and self.remaining is not None and self.remaining - self.in_flight - 1 < self.floor:
                self.stopped = 'RateLimit-Remaining of registry %s is %d, and min_ratelimit_remaining is %d' % (
                    self.registry, self.remaining, self.floor)
            if self.stopped is not None:
                raise RateLimitStop('copy not started: %s' % self.stopped)
            self.in_flight += 1

    def release(self, ratelimit: t.Optional[t.Mapping[str, t.Any]]) -> None:
        with self.lock:
            self.in_flight -= 1
        self.observe(ratelimit)

    def stop(self, why: str) -> None:
        with self.lock:
            self.stopped = self.stopped or why

    def report(self) -> t.Dict[str, t.Any]:
        return {'limit': self.limit, 'remaining': self.remaining, 'window_seconds': self.window_seconds, 'stopped': self.stopped}


class GatedRepository(RegistryRepository):
    """A source repository whose manifest GETs pass its registry's RateGate first."""

    def __init__(self, client: RegistryClient, ref: ImageReference, gate: RateGate) -> None:
        super().__init__(client, ref)
        self.gate = gate

    def get_manifest(self, reference: str) -> Manifest:
        self.gate.admit()
        manifest: t.Optional[Manifest] = None
        try:
            manifest = super().get_manifest(reference)
            return manifest
        finally:
            self.gate.release(manifest.ratelimit if manifest is not None else None)


@dataclass
class Listing:
    """An entry's reads before any compare: the selected source tags, and the target's tags when needed."""

    entry: Entry
    selected: t.List[str] = field(default_factory=list)
    target_tags: t.Optional[t.Set[str]] = None
    failed: t.Optional[Item] = None


class Sync:
    """One registry_sync task: ``run(entries)`` plans, applies (unless check mode) and returns the result."""

    def __init__(self, target_client: RegistryClient, source_client: RegistryClient, options: Options, check_mode: bool,
                 verifier: t.Optional[Verifier] = None) -> None:
        self.target_client, self.source_client = target_client, source_client
        self.verifier = verifier
        self.options, self.check_mode = options, check_mode
        self.gates: t.Dict[str, RateGate] = {}
        self.stores: t.Dict[t.Tuple[str, str], RegistryRepository] = {}
        self.halted = threading.Event()  # keep_going is false and something failed
        self.lock = threading.Lock()
        self.referrers_changed = 0

    # Stores and gates, one per repository and per source registry host

    def gate(self, ref: ImageReference) -> RateGate:
        with self.lock:
            return self._gate_unlocked(ref)

    def source(self, entry: Entry) -> RegistryRepository:
        key = ('source', '%s/%s' % (entry.source.api_host, entry.source.repository))
        with self.lock:
            if key not in self.stores:
                self.stores[key] = GatedRepository(self.source_client, entry.source, self._gate_unlocked(entry.source))
            return self.stores[key]

    def _gate_unlocked(self, ref: ImageReference) -> RateGate:
        if ref.api_host not in self.gates:
            self.gates[ref.api_host] = RateGate(ref.registry, self.options.min_ratelimit_remaining)
        return self.gates[ref.api_host]

    def target(self, entry: Entry) -> RegistryRepository:
        key = ('target', '%s/%s' % (entry.target.api_host, entry.target.repository))
        with self.lock:
            if key not in self.stores:
                self.stores[key] = RegistryRepository(self.target_client, entry.target)
            return self.stores[key]

    # Plan

    def list_entry(self, entry: Entry) -> Listing:
        """The source's tag list (and the target's, when pruning or when immutable tags may skip the compare)."""
        listing = Listing(entry)
        try:
            try:
                found = self.source_client.list_tags_detailed(entry.source)
            except NotFoundError as exc:
                raise exc.with_message('source repository %s not found (%s)' % (entry.source.name, exc.msg)) from None
            selected = entry.selection.select(found.tags)
            ranked, _digests, _created = rank_tags(self.source_client, entry.source, found, selected, entry.selection.sort,
                                                   entry.selection.order, entry.selection.limit, 1)
            listing.selected = [s['tag'] for s in ranked]
            if entry.prune or self.options.immutable:
                listing.target_tags = self._target_tags(entry)
        except RegistryError as exc:
            listing.failed = self.fail(Item(entry, None), exc)
        return listing

    def _target_tags(self, entry: Entry) -> t.Set[str]:
        try:
            return set(self.target_client.list_tags(entry.target))
        except NotFoundError:
            return set()

    def plan(self, listings: t.List[Listing]) -> t.List[Item]:
        """Every selected tag with its action, from HEADs (``workers`` at once across all entries)."""
        items: t.List[Item] = []
        for listing in listings:
            if listing.failed is not None:
                items.append(listing.failed)
                continue
            names = listing.entry.selection.names or {}
            present = set(listing.selected)
            items.extend(Item(listing.entry, tag) for tag in listing.selected)
            items.extend(Item(listing.entry, tag, 'failed', reason='tag %s is not in the source repository %s' % (tag, listing.entry.source.name))
                         for tag in names if tag not in present and listing.entry.selection.matches(tag))
        by_entry = {id(listing.entry): listing for listing in listings}
        bounded_map(lambda item: self.compare(item, by_entry[id(item.entry)]), [i for i in items if not i.action], self.options.workers)
        return items

    def compare(self, item: Item, listing: Listing) -> None:
        entry, tag = item.entry, t.cast(str, item.tag)
        if self.halted.is_set():
            item.action, item.reason = 'skipped', STOPPED
            return
        try:
            if listing.target_tags is not None and tag in listing.target_tags and any(p.search(tag) for p in self.options.immutable):
                item.action, item.reason = 'unchanged', 'immutable: the target has this tag, so it is not compared'
                return
            self._compare_digests(item, entry, tag)
        except RegistryError as exc:
            self.fail(item, exc)

    def _compare_digests(self, item: Item, entry: Entry, tag: str) -> None:
        head = self.source_client.head_manifest(entry.source.with_tag(tag))
        self.gate(entry.source).observe(head.ratelimit)
        item.source_digest = head.digest
        pin = (entry.selection.names or {}).get(tag)
        if pin and pin != head.digest:
            raise RegistryError('source tag %s:%s moved: it points at %s, not at the pinned %s' % (entry.source.name, tag, head.digest, pin),
                                codes=['PIN_MISMATCH'])
        item.previous_digest = self.target(entry).manifest_digest(tag)
        if item.previous_digest == head.digest or (item.previous_digest and entry.platforms and self._filtered_from_same(item, entry)):
            item.action, item.target_digest = 'unchanged', item.previous_digest
        else:
            item.action = 'updated' if item.previous_digest else 'created'
            item.target_digest = head.digest  # until a platform filter writes its own index (apply sets it)

    def _filtered_from_same(self, item: Item, entry: Entry) -> bool:
        """Whether the target's index was filtered from this very source index for these platforms: one GET on the target."""
        made_from = filtered_from(self.target(entry).get_manifest(t.cast(str, item.previous_digest)))
        return made_from == (item.source_digest, platform_key(entry.platforms))

    # Apply

    def apply(self, items: t.List[Item], context: CopyContext) -> None:
        to_copy = [i for i in items if i.action in ('created', 'updated')]
        bounded_map(lambda item: self.copy(item, context), to_copy, self.options.workers)
        with_referrers = [i for i in items if i.entry.referrers and i.action == 'unchanged' and i.source_digest]
        bounded_map(lambda item: self.copy_referrers(item, context), with_referrers, self.options.workers)

    def copy(self, item: Item, context: CopyContext) -> None:
        entry = item.entry
        if self.halted.is_set():
            item.action, item.reason = 'skipped', STOPPED
            return
        try:
            blocked = self.verifier(entry.source, t.cast(str, item.source_digest)) if self.verifier else None
            if blocked:
                item.action, item.reason = 'blocked', blocked
                return
            copied = copy_image(self.source(entry), self.target(entry), t.cast(str, item.source_digest), [t.cast(str, item.tag)],
                                platforms=entry.platforms or None, context=context)
            item.target_digest = copied.digest
            if entry.referrers:
                self.copy_referrers(item, context)
        except RegistryError as exc:
            self.fail(item, exc)

    def copy_referrers(self, item: Item, context: CopyContext) -> None:
        try:
            found = copy_referrers(self.source(item.entry), self.target(item.entry), t.cast(str, item.source_digest), context=context)
        except RegistryError as exc:
            self.fail(item, exc)
            return
        with self.lock:
            self.referrers_changed += sum(1 for r in found if r.get('changed'))

    def fail(self, item: Item, exc: RegistryError) -> Item:
        """Record why a tag (or an entry) was not synced: a rate limit skips it (partial), anything else fails it."""
        if isinstance(exc, RateLimitStop) or (isinstance(exc, RateLimitedError) and self._from_source(item.entry, exc)):
            if not isinstance(exc, RateLimitStop):
                self.gate(item.entry.source).stop('registry %s answered 429 Too Many Requests' % item.entry.source.registry)
            item.action, item.reason = 'skipped', 'rate limit: %s' % exc.msg
            return item
        item.action, item.reason = 'failed', exc.message
        if not self.options.keep_going:
            self.halted.set()
        return item

    @staticmethod
    def _from_source(entry: Entry, exc: RegistryError) -> bool:
        return not exc.url or urlsplit(exc.url).netloc in ('', entry.source.api_host)

    # Prune

    def prune(self, listing: Listing, items: t.List[Item]) -> t.List[Item]:
        """Target tags the selection matches that the source no longer has (or that fall outside limit)."""
        entry = listing.entry
        if not entry.prune or listing.failed is not None or listing.target_tags is None or self.halted.is_set():
            return []
        keep = set(listing.selected) | {i.tag for i in items if i.entry is entry}
        doomed = sorted(tag for tag in listing.target_tags
                        if tag not in keep and entry.selection.matches(tag) and not REFERRER_TAG.match(tag))
        if len(doomed) > self.options.prune_max:
            why = '%d tags of %s would be pruned, more than prune_max (%d): none pruned in this repository' % (
                len(doomed), entry.target.name, self.options.prune_max)
            return [Item(entry, tag, 'blocked', reason=why) for tag in doomed]
        deleter = RepositoryDeleter(self.target_client, entry.target, force=False, check_mode=self.check_mode)
        pruned: t.List[Item] = []
        try:
            groups: t.Dict[t.Optional[str], t.List[str]] = {}
            for tag in doomed:  # tags on one digest go together: deleting that digest takes them all
                exists, digest = deleter.find_tag(tag)
                if exists:  # else gone since the listing
                    groups.setdefault(digest, []).append(tag)
        except RegistryError as exc:
            return [self.fail(Item(entry, tag), exc) for tag in doomed]
        for digest, tags in groups.items():
            pruned.extend(self._prune_group(deleter, entry, digest, tags))
        return pruned

    def _prune_group(self, deleter: RepositoryDeleter, entry: Entry, digest: t.Optional[str], tags: t.List[str]) -> t.List[Item]:
        group = [Item(entry, tag, previous_digest=digest) for tag in tags]
        try:
            deleter.delete(tags, [])
        except (CollateralTagsError, IndexChildError) as exc:  # the same refusals as registry_repo_delete's: kept, reported
            for item in group:
                item.action, item.target_digest, item.reason = 'blocked', digest, exc.msg
            return group
        except RegistryError as exc:
            return [self.fail(item, exc) for item in group]
        deleted = {d['tag'] for d in deleter.out.deleted}
        for item in group:
            item.action = 'pruned' if item.tag in deleted else 'unchanged'
        return group

    # The whole run

    def run(self, entries: t.List[Entry]) -> t.Dict[str, t.Any]:
        listings = bounded_map(self.list_entry, entries, self.options.workers)
        items = self.plan(listings)
        with CopyContext(workers=self.options.workers, check_mode=self.check_mode) as context:
            self.apply(items, context)
            stats = context.stats
        for listing in listings:
            items.extend(self.prune(listing, items))
        return self.result(items, stats)

    def result(self, items: t.List[Item], stats: t.Any) -> t.Dict[str, t.Any]:
        items = sorted(items, key=lambda i: (i.entry.number, i.tag or ''))
        summary = {action: sum(1 for i in items if i.action == action) for action in ACTIONS}
        changed = [i for i in items if i.action in CHANGES]
        diff_key = ['%s:%s' % (i.entry.target.name, i.tag) for i in changed]
        partial = any(i.action == 'skipped' and (i.reason or '').startswith('rate limit') for i in items)
        return {
            'changed': bool(changed) or self.referrers_changed > 0, 'results': [i.result() for i in items], 'summary': summary,
            'partial': partial, 'mounted_blobs': stats.mounted_blobs, 'copied_blobs': stats.copied_blobs,
            'copied_bytes': stats.copied_bytes, 'requests': request_counts(self.target_client),
            'ratelimit': {gate.registry: gate.report() for gate in self.gates.values() if gate.remaining is not None or gate.stopped},
            'diff': {'before': dict(zip(diff_key, (i.previous_digest for i in changed))),
                     'after': dict(zip(diff_key, (None if i.action == 'pruned' else i.target_digest for i in changed)))},
            'warnings': self.warnings(items),
        }

    def warnings(self, items: t.List[Item]) -> t.List[str]:
        """One warning per source registry whose rate limit left work undone."""
        found = []
        for gate in self.gates.values():
            left = [i for i in items if i.action == 'skipped' and (i.reason or '').startswith('rate limit') and i.entry.source.registry == gate.registry]
            if left:
                when = ' (the limit counts over a window of %d seconds)' % gate.window_seconds if gate.window_seconds else ''
                found.append('%d tags from registry %s were left for a later run: %s%s; the rest of the sync went on' % (
                    len(left), gate.registry, gate.stopped or 'rate limited', when))
        return found


def request_counts(client: RegistryClient) -> t.Dict[str, t.Dict[str, int]]:
    """Requests this task sent, per registry host and method (source and target clients share one log)."""
    counts: t.Dict[str, t.Dict[str, int]] = {}
    for record in list(client.log.records):
        per_host = counts.setdefault(record.host, {})
        per_host[record.method] = per_host.get(record.method, 0) + 1
    return counts


class SyncFailedError(RegistryError):
    """Some tags or entries failed or were blocked: the task fails, with the whole result attached."""

    kind = 'sync_failed'

    def __init__(self, msg: str, result: t.Dict[str, t.Any]) -> None:
        super().__init__(msg)
        self.result = result

    def details(self) -> t.Dict[str, t.Any]:
        return dict(super().details(), **{k: v for k, v in self.result.items() if k not in ('warnings', 'failed', 'msg')})


def sync(target_client: RegistryClient, source_client: RegistryClient, params: t.Mapping[str, t.Any], check_mode: bool,
         verifier: t.Optional[Verifier] = None) -> t.Dict[str, t.Any]:
    """registry_sync's whole task: validate everything, then plan and apply; SyncFailedError names each failure.

    ``verifier(source, digest)``: why an image must not be copied (its tag is then ``blocked``), or None to copy it.
    """
    entries, options = parse_entries(params), Options.parse(params)
    result = Sync(target_client, source_client, options, check_mode, verifier).run(entries)
    problems = [r for r in result['results'] if r['action'] in PROBLEMS]
    if problems:
        named = '; '.join('%s%s: %s %s' % (r['target'], ':%s' % r['tag'] if r['tag'] else '', r['action'], r['reason']) for r in problems[:10])
        more = ' (and %d more)' % (len(problems) - 10) if len(problems) > 10 else ''
        raise SyncFailedError('%d of %d results failed or were blocked: %s%s' % (len(problems), len(result['results']), named, more), result)
    return result
