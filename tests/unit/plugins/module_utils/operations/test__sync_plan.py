# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sync's plan decisions as pure functions over values: compare, prune candidates, prune_max, groups."""
from __future__ import annotations

import dataclasses
import re
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.operations._sync_model import Options, parse
from ansible_collections.oci.registry.plugins.module_utils.operations._sync_plan import (
    ACTIONS, IMMUTABLE, MISSING, PRUNE_MAX, STOPPED, Action, Listing, PruneGroup, Reason, TagPlan, compared, immutable_unchanged,
    initial_tags, over_prune_max, pin_broken, prune_candidates, prune_groups, stopped,
)

A, B = 'sha256:' + 'a' * 64, 'sha256:' + 'b' * 64


def entry(tags: t.Optional[t.Dict[str, t.Any]] = None, prune: bool = True) -> t.Any:
    [value], _options = parse({'repositories': [{'source': 'src.test/app', 'target': 'dst.test/app', 'tags': tags, 'prune': prune}]})
    return value


def test_actions_are_the_documented_values() -> None:
    assert ACTIONS == ('created', 'updated', 'unchanged', 'skipped', 'pruned', 'blocked', 'failed')


@pytest.mark.parametrize('previous,same_filter,action,target', [
    (None, False, Action.CREATED, A),
    (A, False, Action.UNCHANGED, A),
    (B, False, Action.UPDATED, A),
    (B, True, Action.UNCHANGED, B),  # the target's filtered index was made from this source index
])
def test_compared(previous: t.Optional[str], same_filter: bool, action: Action, target: str) -> None:
    item = TagPlan(entry(), '1.0')
    done = compared(item, A, previous, same_filter)
    assert (done.action, done.source_digest, done.previous_digest, done.target_digest, done.reason) == (action, A, previous, target, None)
    assert item.action is None  # frozen: the planned value is a new one
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(item, 'action', Action.CREATED)


def test_pin_and_immutable() -> None:
    pinned = entry({'names': ['1.0@' + A, '2.0']})
    assert pin_broken(TagPlan(pinned, '1.0'), A) is None and pin_broken(TagPlan(pinned, '2.0'), B) is None
    assert 'moved: it points at %s, not at the pinned %s' % (B, A) in t.cast(str, pin_broken(TagPlan(pinned, '1.0'), B))
    options = Options(immutable=(re.compile(r'^\d+\.\d+$'),))
    listing = Listing(pinned, ('1.0', '2.0'), frozenset({'1.0'}))
    assert t.cast(Reason, t.cast(TagPlan, immutable_unchanged(TagPlan(pinned, '1.0'), listing, options)).reason).kind == IMMUTABLE
    assert immutable_unchanged(TagPlan(pinned, '2.0'), listing, options) is None  # not on the target
    assert immutable_unchanged(TagPlan(pinned, '1.0'), dataclasses.replace(listing, target_tags=None), options) is None


def test_named_tags_the_source_lacks_fail_at_once() -> None:
    named = entry({'names': ['1.0', 'gone', 'also-gone'], 'exclude': '^also'})
    items = initial_tags(Listing(named, ('1.0',)))
    assert [(i.tag, i.action, i.reason.kind if i.reason else None) for i in items] == [('1.0', None, None), ('gone', Action.FAILED, MISSING)]


SIG = 'sha256-%s.sig' % ('c' * 64)


@pytest.mark.parametrize('target_tags,selected,expected', [
    ({'1.0', '0.9', 'x'}, ('1.0',), ['0.9']),  # x is outside the selection
    ({'1.0', '0.9', 'sha256-' + 'c' * 64, SIG}, ('1.0',), ['0.9']),  # referrer tags are another image's
    ({'sha256-' + 'c' * 100}, (), ['sha256-' + 'c' * 100]),  # 100 hex is no sha256 fallback tag: a tag like any other
    ({'1.0'}, ('1.0',), []),
])
def test_prune_candidates(target_tags: t.Set[str], selected: t.Tuple[str, ...], expected: t.List[str]) -> None:
    selection = {'exclude': '^x$'}
    assert prune_candidates(Listing(entry(selection), selected, frozenset(target_tags)), []) == expected
    assert prune_candidates(Listing(entry(selection, prune=False), selected, frozenset(target_tags)), []) == []
    failed = TagPlan(entry(selection), None, Action.FAILED)
    assert prune_candidates(Listing(entry(selection), selected, frozenset(target_tags), failed), []) == []


def test_a_tag_reported_for_the_entry_is_kept() -> None:
    value = entry()
    assert prune_candidates(Listing(value, (), frozenset({'a', 'b'})), [TagPlan(value, 'a', Action.FAILED)]) == ['b']


@pytest.mark.parametrize('count,prune_max,blocked', [(3, 2, 3), (3, 3, 0), (1, 0, 1), (0, 0, 0)])
def test_over_prune_max(count: int, prune_max: int, blocked: int) -> None:
    doomed = ['t%d' % n for n in range(count)]
    found = over_prune_max(entry(), doomed, prune_max)
    assert len(found) == blocked and all(i.action is Action.BLOCKED and t.cast(Reason, i.reason).kind == PRUNE_MAX for i in found)
    if blocked:
        assert t.cast(Reason, found[0].reason).text == '%d tags of dst.test/app would be pruned, more than prune_max (%d): none pruned in this repository' % (
            count, prune_max)


def test_prune_groups_by_digest_and_drops_tags_gone_since_the_listing() -> None:
    value = entry()
    groups = prune_groups(value, {'b': (True, A), 'a': (True, B), 'c': (True, A), 'gone': (False, None)})
    assert groups == (PruneGroup(value, B, ('a',)), PruneGroup(value, A, ('b', 'c')))
    assert [(i.tag, i.action, i.previous_digest) for i in groups[1].planned()] == [('b', Action.PRUNED, A), ('c', Action.PRUNED, A)]


def test_stopped_is_a_kind() -> None:
    done = stopped(TagPlan(entry(), '1.0', Action.CREATED, A))
    assert done.action is Action.SKIPPED and t.cast(Reason, done.reason).kind == STOPPED and 'keep_going is false' in t.cast(Reason, done.reason).text
    assert not done.rate_limited and done.source_digest == A
