# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_sync's plan as data: what each tag's action is and why, decided from reads alone.

A :class:`TagPlan` is frozen: applying the plan makes a new value (``with_outcome``), never edits the
planned one. Actions are :class:`Action` members and reasons :class:`Reason` values (a kind and the
text the user reads), so the run decides from kinds (``Reason.kind == RATE_LIMIT``), never from text.
The functions here are pure: the orchestration in ``_sync.py`` feeds them what the registries said.
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass, replace

from ansible_collections.oci.registry.plugins.module_utils.model._referrers import is_referrer_tag
from ._sync_model import Entry, Options


class Action(enum.Enum):
    """What happens (or happened) to one tag."""

    CREATED = 'created'
    UPDATED = 'updated'
    UNCHANGED = 'unchanged'
    SKIPPED = 'skipped'
    PRUNED = 'pruned'
    BLOCKED = 'blocked'
    FAILED = 'failed'


ACTIONS = tuple(action.value for action in Action)
CHANGES = frozenset((Action.CREATED, Action.UPDATED, Action.PRUNED))
PROBLEMS = frozenset((Action.FAILED, Action.BLOCKED))
COPIES = frozenset((Action.CREATED, Action.UPDATED))

# Reason kinds.
IMMUTABLE = 'immutable'  # unchanged without a compare: the target has the tag and it never moves
MISSING = 'missing'  # a named tag the source does not have
RATE_LIMIT = 'rate_limit'  # skipped for a later run: a source's pull allowance is at its floor, or it answered 429
STOPPED = 'stopped'  # skipped: an earlier failure stopped the run (keep_going is false)
PRUNE_MAX = 'prune_max'  # blocked: more tags would go than prune_max allows
REFUSED = 'refused'  # blocked: the delete planner's refusal (a kept tag shares the digest, an index uses it)
ERROR = 'error'  # failed: what the registry (or a pin) said
UNVERIFIED = 'unverified'  # blocked: the source image's signatures do not satisfy verify

STOPPED_TEXT = 'not attempted: an earlier failure stopped the sync (keep_going is false)'


@dataclass(frozen=True)
class Reason:
    """Why a tag has its action: ``kind`` for the code, ``text`` for the user."""

    kind: str
    text: str


@dataclass(frozen=True)
class TagPlan:
    """One tag of one entry (``tag`` None for the whole entry): its action, the digests seen, and why."""

    entry: Entry
    tag: t.Optional[str]
    action: t.Optional[Action] = None  # None until compared
    source_digest: t.Optional[str] = None
    target_digest: t.Optional[str] = None
    previous_digest: t.Optional[str] = None
    reason: t.Optional[Reason] = None

    def with_outcome(self, action: Action, reason: t.Optional[Reason] = None, **digests: t.Optional[str]) -> 'TagPlan':
        return replace(self, action=action, reason=reason, **digests)

    @property
    def rate_limited(self) -> bool:
        return self.action is Action.SKIPPED and self.reason is not None and self.reason.kind == RATE_LIMIT


@dataclass(frozen=True)
class Listing:
    """An entry's reads before any compare: the selected source tags, and the target's tags when needed."""

    entry: Entry
    selected: t.Tuple[str, ...] = ()
    target_tags: t.Optional[t.FrozenSet[str]] = None  # None when not read
    failed: t.Optional[TagPlan] = None
    probed: t.Tuple[t.Tuple[str, t.Optional[str]], ...] = ()  # (tag, the target's digest or None) already HEADed


@dataclass(frozen=True)
class PruneGroup:
    """Target tags to prune that point at one digest: deleting that digest takes them all, so they go together."""

    entry: Entry
    digest: t.Optional[str]
    tags: t.Tuple[str, ...]

    def planned(self) -> t.List[TagPlan]:
        return [TagPlan(self.entry, tag, Action.PRUNED, previous_digest=self.digest) for tag in self.tags]


@dataclass(frozen=True)
class Plan:
    """The whole run's decisions before any write: every compared tag, and the prunes by repository and digest."""

    tags: t.Tuple[TagPlan, ...]
    prunes: t.Tuple[PruneGroup, ...] = ()
    prune_results: t.Tuple[TagPlan, ...] = ()  # prune candidates decided without a delete: blocked, failed or skipped


def initial_tags(listing: Listing) -> t.List[TagPlan]:
    """The entry's selected tags still to compare, and its named tags that the source lacks (failed now)."""
    if listing.failed is not None:
        return [listing.failed]
    entry = listing.entry
    present = set(listing.selected)
    missing = [tag for tag in entry.selection.names or {} if tag not in present and entry.selection.matches(tag)]
    return [TagPlan(entry, tag) for tag in listing.selected] + [
        TagPlan(entry, tag, Action.FAILED, reason=Reason(MISSING, 'tag %s is not in the source repository %s' % (tag, entry.source.name)))
        for tag in missing]


def immutable_unchanged(item: TagPlan, listing: Listing, options: Options) -> t.Optional[TagPlan]:
    """The tag unchanged without a compare, when the target has it and it matches ``immutable``; else None."""
    tag = t.cast(str, item.tag)
    if listing.target_tags is not None and tag in listing.target_tags and options.is_immutable(tag):
        return item.with_outcome(Action.UNCHANGED, Reason(IMMUTABLE, 'immutable: the target has this tag, so it is not compared'))
    return None


def pin_broken(item: TagPlan, source_digest: str) -> t.Optional[str]:
    """Why the source tag no longer holds its pin, or None."""
    pin = item.entry.selection.pin(t.cast(str, item.tag))
    if pin and pin != source_digest:
        return 'source tag %s:%s moved: it points at %s, not at the pinned %s' % (item.entry.source.name, item.tag, source_digest, pin)
    return None


def compared(item: TagPlan, source_digest: str, previous: t.Optional[str], same_filter: bool = False) -> TagPlan:
    """The action from the digests: unchanged when equal (or when the target's filtered index was made from this source)."""
    if previous == source_digest or (previous and same_filter):
        return item.with_outcome(Action.UNCHANGED, source_digest=source_digest, previous_digest=previous, target_digest=previous)
    # target_digest is the source's until a platform filter writes an index of its own (apply sets it)
    return item.with_outcome(Action.UPDATED if previous else Action.CREATED, source_digest=source_digest,
                             previous_digest=previous, target_digest=source_digest)


def prune_candidates(listing: Listing, tags: t.Iterable[TagPlan]) -> t.List[str]:
    """Target tags the selection matches that are not kept (selected, or reported for the entry).

    Never a tag that holds another image's signatures and attestations (the referrers fallback tag
    ``sha256-<hex>``, cosign's ``.sig``/``.att``/``.sbom``): those belong to that image.
    """
    entry = listing.entry
    if not entry.prune or listing.failed is not None or listing.target_tags is None:
        return []
    keep = set(listing.selected) | {item.tag for item in tags if item.entry is entry}
    return sorted(tag for tag in listing.target_tags
                  if tag not in keep and entry.selection.matches(tag) and not is_referrer_tag(tag))


def over_prune_max(entry: Entry, doomed: t.Sequence[str], prune_max: int) -> t.List[TagPlan]:
    """Every candidate blocked when there are more than ``prune_max`` of them (none pruned there); else []."""
    if len(doomed) <= prune_max:
        return []
    why = Reason(PRUNE_MAX, '%d tags of %s would be pruned, more than prune_max (%d): none pruned in this repository' % (
        len(doomed), entry.target.name, prune_max))
    return [TagPlan(entry, tag, Action.BLOCKED, reason=why) for tag in doomed]


def prune_groups(entry: Entry, found: t.Mapping[str, t.Tuple[bool, t.Optional[str]]]) -> t.Tuple[PruneGroup, ...]:
    """Candidates still on the target, grouped by the digest they point at (a tag gone since the listing is dropped)."""
    groups: t.Dict[t.Optional[str], t.List[str]] = {}
    for tag in sorted(found):
        exists, digest = found[tag]
        if exists:
            groups.setdefault(digest, []).append(tag)
    return tuple(PruneGroup(entry, digest, tuple(tags)) for digest, tags in groups.items())


def stopped(item: TagPlan) -> TagPlan:
    """Not attempted: an earlier failure stopped the run."""
    return item.with_outcome(Action.SKIPPED, Reason(STOPPED, STOPPED_TEXT))
