# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_sync: keep the selected tags of repositories in step between registries.

Plan, then apply. The plan (``_sync_plan.py``) comes from reads alone: every entry's tags are listed,
every selected tag gets its action from one HEAD on the target and one read of the source (with a
platform filter, at most one GET of the target's filtered index, which records what it was made from),
and the target tags to prune are found and grouped by digest. The source read is a HEAD, except for a
tag the target lacks outside check mode: its copy will GET that manifest anyway, so the plan GETs it
instead of a HEAD and keeps it for the copy (up to ``PREFETCH_BYTES`` of manifests; past that, a HEAD
again), which saves one request per new tag. Under a rate floor (``min_ratelimit_remaining``) the
source read stays a HEAD: it tells the gate the allowance before any pull is spent. Then changed tags are copied through the copy
engine (one CopyContext for the task, so a blob already in or copied to one target repository is
mounted into the others of that registry), and the planned prunes go through the delete planner with
its collateral rule. Check mode applies the same plan with the copy engine's and the delete planner's
dry walks: no write, no blob read.

Failures are per tag or per entry and never stop the others unless ``keep_going`` is false; rate
limits (``RateLimit-Remaining`` under a floor, or a 429) stop only the copies from that registry and
leave the work reported as ``partial``.
"""

from __future__ import annotations

import threading
import typing as t
from dataclasses import replace
from urllib.parse import urlsplit

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError, RateLimitedError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.wire._ratelimit import RateGate, RateLimitStop
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.stores._store import NewRepository, RegistryRepository
from ._copy import CopyContext, copy_image, copy_referrers, filtered_from, platform_key
from ._pool import bounded_map
from ._repositories import Listing as CatalogListing, expand
from ._shards import Shard
from ._sync_model import Entry, Options, WholeRegistry, parse
from ._sync_plan import (
    COPIES, ERROR, RATE_LIMIT, REFUSED, UNVERIFIED, Action, Listing, Plan, PruneGroup, Reason, TagPlan,
    compared, immutable_unchanged, initial_tags, over_prune_max, pin_broken, prune_candidates, prune_groups, stopped,
)
from ._sync_result import SyncFailedError, shape_result
from ._tags import rank_tags

if t.TYPE_CHECKING:
    from ._delete import RepositoryDeleter

# Asked before a tag is copied: why the source image must not be copied (the tag becomes blocked), or None.
Verifier = t.Callable[[ImageReference, str], t.Optional[str]]
# Source manifests the plan keeps for their copies, at most this many bytes of them at once (a few thousand
# manifests): a first sync of more new tags reads the rest with a HEAD at plan time and a GET in the copy.
PREFETCH_BYTES = 8 * 1024 * 1024


class Prefetched:
    """Source manifests read at plan time for the copies to come, by source repository and digest, within a byte budget."""

    def __init__(self, budget: t.Optional[int] = None) -> None:
        self.left = PREFETCH_BYTES if budget is None else budget
        self.lock = threading.Lock()
        self.manifests: t.Dict[t.Tuple[str, str, str], Manifest] = {}

    def room(self) -> bool:
        with self.lock:
            return self.left > 0

    def keep(self, source: ImageReference, manifest: Manifest) -> None:
        with self.lock:
            key = (source.api_host, source.repository, manifest.digest)
            if key not in self.manifests:
                self.manifests[key] = manifest
                self.left -= len(manifest.raw)

    def take(self, source: ImageReference, digest: str) -> t.Optional[Manifest]:
        """The kept manifest, handed over once (a second tag of the same digest reads it again): its bytes free up."""
        with self.lock:
            manifest = self.manifests.pop((source.api_host, source.repository, digest), None)
            if manifest is not None:
                self.left += len(manifest.raw)
            return manifest


class GatedRepository(RegistryRepository):
    """A source repository whose manifest GETs (the requests that spend a pull) pass its registry's RateGate first."""

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


class Sync:
    """One registry_sync task: ``plan(entries)`` reads, ``run(entries)`` plans, applies (check mode: dry) and shapes the result."""

    def __init__(self, source_client: RegistryClient, target_client: RegistryClient, options: Options, check_mode: bool,
                 verifier: t.Optional[Verifier] = None) -> None:
        self.source_client, self.target_client = source_client, target_client
        self.verifier = verifier
        self.options, self.check_mode = options, check_mode
        self.gates: t.Dict[str, RateGate] = {}
        self.stores: t.Dict[t.Tuple[str, str], RegistryRepository] = {}
        self.deleters: t.Dict[t.Tuple[int, str], 'RepositoryDeleter'] = {}  # per entry and target, kept from the prune plan to its apply
        self.halted = threading.Event()  # keep_going is false and something failed
        self.lock = threading.Lock()
        self.verdicts: t.Dict[t.Tuple[str, str], t.List[t.Any]] = {}  # (source, digest) -> [lock, asked, refusal]
        self.referrers_changed = 0
        self.prefetched = Prefetched()
        self.new_targets: t.Set[t.Tuple[str, str]] = set()  # target repositories whose tag list answered NAME_UNKNOWN
        # Not in check mode (it spends no pull), nor under a rate floor: the plan's HEADs tell the gate the
        # allowance for free before the first pull, where a GET would spend one unseen.
        self.prefetch = not check_mode and not options.min_ratelimit_remaining

    # Stores and gates, one per repository and per source registry host

    def gate(self, ref: ImageReference) -> RateGate:
        with self.lock:
            return self._gate_unlocked(ref)

    def _gate_unlocked(self, ref: ImageReference) -> RateGate:
        if ref.api_host not in self.gates:
            self.gates[ref.api_host] = RateGate(ref.registry, self.options.min_ratelimit_remaining)
        return self.gates[ref.api_host]

    def source(self, entry: Entry) -> RegistryRepository:
        key = _store_key('source', entry.source)
        with self.lock:
            if key not in self.stores:
                self.stores[key] = GatedRepository(self.source_client, entry.source, self._gate_unlocked(entry.source))
            return self.stores[key]

    def target(self, entry: Entry) -> RegistryRepository:
        key = _store_key('target', entry.target)
        with self.lock:
            if key not in self.stores:
                store = NewRepository if key in self.new_targets else RegistryRepository
                self.stores[key] = store(self.target_client, entry.target)
            return self.stores[key]

    # Plan: reads only

    def plan(self, entries: t.Sequence[Entry]) -> Plan:
        """Every entry's listing, every selected tag compared (``workers`` at once across all entries), then the prunes."""
        listings = bounded_map(self.list_entry, list(entries), self.options.workers)
        tags = self.compare_all(listings)
        groups: t.List[PruneGroup] = []
        decided: t.List[TagPlan] = []
        for listing in listings:
            found, done = self.plan_prune(listing, tags)
            groups.extend(found)
            decided.extend(done)
        return Plan(tuple(tags), tuple(groups), tuple(decided))

    def list_entry(self, entry: Entry) -> Listing:
        """The source's tag list, and the target's when prune or immutable need it.

        Otherwise, with more than one tag selected, the first one is HEADed on the target at once: when the
        target has it (a mirror in step) the other tags are HEADed as usual; when it lacks it (a new repository,
        a first sync) the target's tags are listed, and every other tag the target lacks costs no HEAD.
        """
        try:
            try:
                found = self.source_client.list_tags_detailed(entry.source)
            except NotFoundError as exc:
                raise exc.with_message('source repository %s not found (%s)' % (entry.source.name, exc.msg)) from None
            selection = entry.selection
            ranked, _digests, _created = rank_tags(self.source_client, entry.source, found, selection.select(found.tags),
                                                   selection.sort, selection.order, selection.limit, 1)
            selected = tuple(s['tag'] for s in ranked)
            if entry.prune or self.options.immutable:
                return Listing(entry, selected, self._target_tags(entry, True))
            probed = self._probe(entry, selected[0]) if len(selected) > 1 else ()
            target_tags = self._target_tags(entry, False) if probed and probed[0][1] is None else None
            return Listing(entry, selected, target_tags, probed=probed)
        except RegistryError as exc:
            return Listing(entry, failed=self.fail(TagPlan(entry, None), exc))

    def _probe(self, entry: Entry, tag: str) -> t.Tuple[t.Tuple[str, t.Optional[str]], ...]:
        """((tag, the target's digest or None),) from one HEAD; () when the HEAD fails (the compare meets that error)."""
        try:
            return ((tag, self.target_client.head_manifest(entry.target.with_tag(tag)).digest),)
        except NotFoundError:
            return ((tag, None),)
        except RegistryError:
            return ()

    def _target_tags(self, entry: Entry, required: bool) -> t.Optional[t.FrozenSet[str]]:
        """The target's tags; none for a repository it does not have (remembered as new: see NewRepository).

        Unless prune or immutable need the list, a failure to read it only means a HEAD per tag (None).
        """
        try:
            return frozenset(self.target_client.list_tags(entry.target))
        except NotFoundError as exc:
            if 'NAME_UNKNOWN' in exc.codes:
                with self.lock:
                    self.new_targets.add(_store_key('target', entry.target))
            return frozenset()
        except RegistryError:
            if required:
                raise
            return None

    def compare_all(self, listings: t.Sequence[Listing]) -> t.List[TagPlan]:
        items = [item for listing in listings for item in initial_tags(listing)]
        # by the entry itself: the repositories a whole-registry entry expands to share its number
        by_entry = {id(listing.entry): listing for listing in listings}
        todo = [item for item in items if item.action is None]
        done = iter(bounded_map(lambda item: self.compare(item, by_entry[id(item.entry)]), todo, self.options.workers))
        return [next(done) if item.action is None else item for item in items]

    def compare(self, item: TagPlan, listing: Listing) -> TagPlan:
        """One tag's action: immutable and on the target, or from a HEAD on each side."""
        if self.halted.is_set():
            return stopped(item)
        try:
            return immutable_unchanged(item, listing, self.options) or self._compare_digests(item, listing)
        except RegistryError as exc:
            return self.fail(item, exc)

    def _compare_digests(self, item: TagPlan, listing: Listing) -> TagPlan:
        """The target's digest of the tag (a HEAD, unless its tag list lacks it), then the source's; a failure reports
        the digests read so far."""
        entry, tag = item.entry, t.cast(str, item.tag)
        try:
            probed = dict(listing.probed)
            listed_absent = listing.target_tags is not None and tag not in listing.target_tags
            if tag in probed:
                previous = probed[tag]
            else:
                previous = None if listed_absent else self.target(entry).manifest_digest(tag)
            item = replace(item, previous_digest=previous)
            digest = self._source_digest(entry, tag, prefetch=previous is None and self.prefetch)
            item = replace(item, source_digest=digest)
            broken = pin_broken(item, digest)
            if broken:
                raise RegistryError(broken, codes=['PIN_MISMATCH'])
            same = bool(previous and previous != digest and entry.platforms and self._filtered_from_same(item, digest))
            return compared(item, digest, previous, same)
        except RegistryError as exc:
            return self.fail(item, exc)

    def _source_digest(self, entry: Entry, tag: str, prefetch: bool) -> str:
        """A HEAD on the source tag; with ``prefetch`` (its copy will read the manifest) a GET, kept for that copy.

        The GET goes through the registry's RateGate, as the copy's would: it spends the same one pull.
        """
        if prefetch and self.prefetched.room():
            manifest = self.source(entry).get_manifest(tag)
            self.prefetched.keep(entry.source, manifest)
            return manifest.digest
        head = self.source_client.head_manifest(entry.source.with_tag(tag))
        self.gate(entry.source).observe(head.ratelimit)
        return head.digest

    def _filtered_from_same(self, item: TagPlan, source_digest: str) -> bool:
        """Whether the target's index was filtered from this very source index for these platforms: one GET on the target."""
        made_from = filtered_from(self.target(item.entry).get_manifest(t.cast(str, item.previous_digest)))
        return made_from == (source_digest, platform_key(item.entry.platforms))

    def plan_prune(self, listing: Listing, tags: t.Sequence[TagPlan]) -> t.Tuple[t.Tuple[PruneGroup, ...], t.List[TagPlan]]:
        """(groups to delete, candidates decided now): over prune_max all are blocked; else one HEAD per candidate."""
        entry = listing.entry
        doomed = prune_candidates(listing, tags)
        if not doomed:
            return (), []
        if self.halted.is_set():
            return (), [stopped(TagPlan(entry, tag)) for tag in doomed]
        blocked = over_prune_max(entry, doomed, self.options.prune_max)
        if blocked:
            return (), blocked
        deleter = _delete().RepositoryDeleter(self.target_client, entry.target, force=False, check_mode=self.check_mode)
        try:
            found = {tag: deleter.find_tag(tag) for tag in doomed}
        except RegistryError as exc:
            return (), [self.fail(TagPlan(entry, tag), exc) for tag in doomed]
        self.deleters[(entry.number, entry.target.name)] = deleter
        return prune_groups(entry, found), []

    # Apply: the copy engine and the delete planner, dry in check mode

    def apply(self, plan: Plan, context: CopyContext) -> t.List[TagPlan]:
        """The compared tags after their copies (and referrers), in plan order."""
        results = list(plan.tags)
        self._apply_each(results, [n for n, item in enumerate(results) if item.action in COPIES], lambda item: self.copy(item, context))
        unchanged = [n for n, item in enumerate(results) if item.entry.referrers and item.action is Action.UNCHANGED and item.source_digest]
        self._apply_each(results, unchanged, lambda item: self.copy_referrers(item, context))
        return results

    def _apply_each(self, results: t.List[TagPlan], positions: t.List[int], work: t.Callable[[TagPlan], TagPlan]) -> None:
        for position, done in zip(positions, bounded_map(work, [results[n] for n in positions], self.options.workers)):
            results[position] = done

    def copy(self, item: TagPlan, context: CopyContext) -> TagPlan:
        entry = item.entry
        if self.halted.is_set():
            return stopped(item)
        digest = t.cast(str, item.source_digest)
        manifest = self.prefetched.take(entry.source, digest)
        try:
            refused = self.refusal(entry.source, digest)
            if refused:
                return item.with_outcome(Action.BLOCKED, Reason(UNVERIFIED, refused))
            copied = copy_image(self.source(entry), self.target(entry), digest, [t.cast(str, item.tag)], manifest=manifest,
                                platforms=entry.platforms or None, context=context)
        except RegistryError as exc:
            return self.fail(item, exc)
        item = replace(item, target_digest=copied.digest)
        return self.copy_referrers(item, context) if entry.referrers else item

    def refusal(self, source: ImageReference, digest: str) -> t.Optional[str]:
        """The verifier's answer for one source image, asked once per task however many tags point at it."""
        if self.verifier is None:
            return None
        with self.lock:
            verdict = self.verdicts.setdefault((source.name, digest), [threading.Lock(), False, None])
        with verdict[0]:
            if not verdict[1]:
                verdict[2], verdict[1] = self.verifier(source, digest), True
        return t.cast(t.Optional[str], verdict[2])

    def copy_referrers(self, item: TagPlan, context: CopyContext) -> TagPlan:
        try:
            found = copy_referrers(self.source(item.entry), self.target(item.entry), t.cast(str, item.source_digest), context=context)
        except RegistryError as exc:
            return self.fail(item, exc)
        with self.lock:
            self.referrers_changed += sum(1 for r in found if r.get('changed'))
        return item

    def prune(self, plan: Plan) -> t.List[TagPlan]:
        """The planned prunes carried out, after the copies; candidates decided at plan time as they were."""
        results = list(plan.prune_results)
        for group in plan.prunes:
            results.extend(self.prune_group(group))
        return results

    def prune_group(self, group: PruneGroup) -> t.List[TagPlan]:
        planned = group.planned()
        if self.halted.is_set():
            return [stopped(item) for item in planned]
        deleter = self.deleters[(group.entry.number, group.entry.target.name)]
        refusals = (_delete().CollateralTagsError, _delete().IndexChildError)
        try:
            deleter.delete(list(group.tags), [])
        except refusals as exc:  # the same refusals as registry_repo_delete's: kept, reported
            return [item.with_outcome(Action.BLOCKED, Reason(REFUSED, exc.msg), target_digest=group.digest) for item in planned]
        except RegistryError as exc:
            return [self.fail(item, exc) for item in planned]
        deleted = {d['tag'] for d in deleter.out.deleted}
        return [item if item.tag in deleted else item.with_outcome(Action.UNCHANGED) for item in planned]

    # Failures

    def fail(self, item: TagPlan, exc: RegistryError) -> TagPlan:
        """Why a tag (or an entry) was not synced: a rate limit skips it (partial), anything else fails it."""
        if isinstance(exc, RateLimitStop) or (isinstance(exc, RateLimitedError) and self._from_source(item.entry, exc)):
            if not isinstance(exc, RateLimitStop):
                self.gate(item.entry.source).refused()
            return item.with_outcome(Action.SKIPPED, Reason(RATE_LIMIT, 'rate limit: %s' % exc.msg))
        if not self.options.keep_going:
            self.halted.set()
        return item.with_outcome(Action.FAILED, Reason(ERROR, exc.message))

    @staticmethod
    def _from_source(entry: Entry, exc: RegistryError) -> bool:
        return not exc.url or urlsplit(exc.url).netloc in ('', entry.source.api_host)

    # The whole run

    def run(self, entries: t.Sequence[Entry]) -> t.Dict[str, t.Any]:
        plan = self.plan(entries)
        with CopyContext(workers=self.options.workers, check_mode=self.check_mode) as context:
            results = self.apply(plan, context)
            stats = context.stats
        results.extend(self.prune(plan))
        return shape_result(results, stats, list(self.gates.values()), self.referrers_changed, self.target_client)


def resolve(source_client: RegistryClient, entries: t.Sequence[t.Union[Entry, WholeRegistry]], options: Options
            ) -> t.Tuple[t.List[Entry], t.Dict[str, CatalogListing]]:
    """Every repository entry, with each whole-registry entry expanded from its registry's listing (max_repositories at most)."""
    explicit = [e for e in entries if isinstance(e, Entry)]
    wholes = [e for e in entries if isinstance(e, WholeRegistry)]
    if not wholes:
        return explicit, {}
    if len(explicit) > options.max_repositories:
        raise expand_cap_error(len(explicit), options.max_repositories)
    by_number = {whole.source.number: whole for whole in wholes}
    chosen, listings = expand(source_client, [whole.source for whole in wholes], options.max_repositories, len(explicit))
    expanded = [by_number[source.number].entry(path) for source, path in chosen]
    return sorted(explicit + expanded, key=lambda e: (e.number, e.target.name)), listings


def expand_cap_error(count: int, cap: int) -> InvalidInputError:
    return InvalidInputError('%d repositories to sync, more than max_repositories (%d): raise max_repositories; nothing was synced' % (count, cap))


def sync(source_client: RegistryClient, target_client: RegistryClient, params: t.Mapping[str, t.Any], check_mode: bool,
         verifier: t.Optional[Verifier] = None) -> t.Dict[str, t.Any]:
    """registry_sync's whole task: validate everything, resolve the repositories, keep this shard's, plan and apply.

    ``verifier(source, digest)``: why an image must not be copied (its tag is then ``blocked``), or None to copy it.

    SyncFailedError names each failure. Every shard resolves the same repositories (the same listing) and keeps
    those whose target repository it owns, so it plans, copies and prunes only those.
    """
    entries, options = parse(params)
    resolved, listings = resolve(source_client, entries, options)
    shard = options.shard or Shard()
    owned = [entry for entry in resolved if shard.owns(entry.target.name)] if shard.count > 1 else resolved
    result = Sync(source_client, target_client, options, check_mode, verifier).run(owned)
    result['shard'] = shard.report(len(owned), len(resolved))
    result['catalog'] = {registry: listing.report() for registry, listing in listings.items()}
    SyncFailedError.raise_for(result)
    return result


def _store_key(side: str, ref: ImageReference) -> t.Tuple[str, str]:
    """The key of one repository's store (and of its being new on the target): the side, then host/repository."""
    return (side, '%s/%s' % (ref.api_host, ref.repository))


def _delete() -> t.Any:
    """The delete planner, loaded when a sync prunes: a sync that only copies starts without it."""
    from . import _delete as delete  # pylint: disable=import-outside-toplevel
    return delete
