# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private plugin_utils file of oci.registry: do not use it from other collections.
"""The retention policy: which tags of one repository go, which stay, and why (pure, no Ansible imports).

Deleting a tag is planned as a registry that deletes by digest only does it (distribution 2.x, Harbor):
every tag on the same image goes with it. That is the worst case, so the plan is safe on every registry:
- a protected tag is never deleted, and a candidate on the same image as a protected tag is ``blocked``;
- a candidate on the same image as another tag that stays (kept by the rules, outside ``match``, or
  without a creation time) is ``blocked`` too, unless ``force``: then those tags go with it.
"""

from __future__ import annotations

import datetime
import math
import typing as t
from dataclasses import dataclass

from ansible_collections.oci.registry.plugins.module_utils.model._options import compile_regex
from ansible_collections.oci.registry.plugins.module_utils.model._referrers import is_referrer_tag
from ansible_collections.oci.registry.plugins.module_utils.operations._tags import parse_created, sort_details

KEEP, DELETE, BLOCKED = 'keep', 'delete', 'blocked'
DAY = 86400.0
# The filter's own words for a pattern it cannot use (the checks are model._options.compile_regex's).
PATTERN_MESSAGES = {
    'type': '%(option)s: %(text)r is not a regular expression (a string)',
    'syntax': '%(option)s: %(text)r is not a valid Python regular expression: %(reason)s',
    'reserved': '%(option)s: the named groups %(groups)s are reserved',
}


@dataclass(frozen=True)
class Policy:
    """The rules of one retention run, validated."""

    keep: t.Optional[int]
    max_age_days: t.Optional[float]
    match: t.Optional[t.Pattern[str]]
    protect: t.Tuple[t.Pattern[str], ...]
    force: bool
    now: float  # epoch seconds

    @classmethod
    def build(cls, keep: t.Any = None, max_age_days: t.Any = None, match: t.Any = None, protect: t.Any = None,
              force: t.Any = False, now: t.Any = None) -> 'Policy':
        """ValueError naming the option when a value is unusable."""
        if keep is None and max_age_days is None:
            raise ValueError('set keep (keep the N newest tags), max_age_days (delete tags older than D days) or both; '
                             'with neither there is no rule to apply')
        keep = _number(keep, int, 'keep must be a whole number of tags, 0 or more')
        max_age_days = _number(max_age_days, float, 'max_age_days must be a number of days, 0 or more')
        if not isinstance(force, bool):
            raise ValueError('force must be true or false, not %r' % (force,))
        if isinstance(protect, str) or not isinstance(protect, (list, tuple, type(None))):
            raise ValueError('protect must be a list of regular expressions, not %r' % (protect,))
        return cls(keep=keep, max_age_days=max_age_days,
                   match=None if match is None else _compile(match, 'match'),
                   protect=tuple(_compile(pattern, 'protect') for pattern in protect or ()), force=force, now=_epoch(now))

    def protected_by(self, tag: str) -> t.Optional[str]:
        return next((pattern.pattern for pattern in self.protect if pattern.search(tag)), None)


def _number(value: t.Any, kind: t.Callable[[t.Any], t.Any], message: str) -> t.Any:
    """None, or ``value`` as ``kind`` (a string of digits too, as extra vars from a survey are); ValueError otherwise."""
    if value is None:
        return None
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float)):
            raise ValueError(value)
        number = kind(value)
    except (TypeError, ValueError):
        number = -1
    if math.isnan(number) or number < 0:
        raise ValueError('%s, not %r' % (message, value))
    return number


def _compile(pattern: t.Any, option: str) -> t.Pattern[str]:
    return compile_regex(pattern, option, messages=PATTERN_MESSAGES, error=ValueError)


def _epoch(now: t.Any) -> float:
    """``now`` as epoch seconds: None (the current time), a datetime (naive means UTC), epoch seconds or RFC 3339."""
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc).timestamp()
    if isinstance(now, datetime.datetime):
        return (now if now.tzinfo else now.replace(tzinfo=datetime.timezone.utc)).timestamp()
    if isinstance(now, (int, float)) and not isinstance(now, bool):
        return float(now)
    parsed = parse_created(now)
    if parsed is None:
        raise ValueError('now must be a datetime, epoch seconds or an RFC 3339 time such as 2024-05-01T12:00:00Z, not %r' % (now,))
    return parsed


def _check_details(details: t.Any) -> t.List[t.Dict[str, t.Any]]:
    """The listing of registry_tags_info (``details``): a list of dicts with a unique ``tag``, its ``digest`` and ``created``."""
    if not isinstance(details, (list, tuple)):
        raise ValueError('the input must be the details list of oci.registry.registry_tags_info, not %r' % (type(details).__name__,))
    seen: t.Set[str] = set()
    for detail in details:
        if not isinstance(detail, t.Mapping) or not isinstance(detail.get('tag'), str):
            raise ValueError('each entry of the input needs a tag (and its digest and created), not %r' % (detail,))
        if detail['tag'] in seen:
            raise ValueError('tag %s is listed twice' % detail['tag'])
        seen.add(detail['tag'])
    return [dict(detail) for detail in details]


def plan(details: t.Any, policy: Policy) -> t.List[t.Dict[str, t.Any]]:
    """One row per tag that ``policy.match`` finds, newest first: tag, digest, created, age_days, rank, action, reason, collateral.

    Tags outside ``match`` get no row, but their digests count: a candidate on the same image as one of them is blocked
    (or, with force, takes it along as a collateral tag).
    """
    listed = _check_details(details)
    created = {d['tag']: parse_created(d.get('created')) for d in listed}
    # Tags that hold another image's signatures, SBOMs or referrers (sha256-<hex>, sha256-<hex>.sig) are never
    # candidates: they go when their image goes, not by age or count.
    rows = [_rule(detail, created[detail['tag']], policy) for detail in listed
            if not is_referrer_tag(detail['tag']) and (policy.match is None or policy.match.search(detail['tag']))]
    ordered = sort_details(rows, 'created', 'desc', created)
    rank = 0
    for row in ordered:
        if row['action'] is None:
            rank += 1
            _rank(row, rank, policy)
    _share_images(ordered, listed, policy)
    return ordered


def _rule(detail: t.Mapping[str, t.Any], when: t.Optional[float], policy: Policy) -> t.Dict[str, t.Any]:
    """A row before ranking: kept when protected or of unknown age, else left to the count and age rules (action None)."""
    age = None if when is None else round((policy.now - when) / DAY, 1)
    row = {'tag': detail['tag'], 'digest': detail.get('digest'), 'created': detail.get('created'), 'age_days': age, 'rank': None,
           'action': None, 'reason': '', 'collateral': [], '_age': None if when is None else (policy.now - when) / DAY}
    protected = policy.protected_by(detail['tag'])
    if protected is not None:
        row.update(action=KEEP, reason='protected by ' + protected)
    elif when is None:
        row.update(action=KEEP, reason='creation time unknown')
    return row


def _rank(row: t.Dict[str, t.Any], rank: int, policy: Policy) -> None:
    """The count and age rules: a candidate goes when it is beyond the newest ``keep`` and older than ``max_age_days``."""
    beyond = policy.keep is None or rank > policy.keep
    old = policy.max_age_days is None or row['_age'] > policy.max_age_days
    why = []
    if policy.keep is not None:
        why.append('%s the %d newest (#%d)' % ('not among' if beyond else 'among', policy.keep, rank))
    if policy.max_age_days is not None:
        why.append('%s %g days' % ('older than' if old else 'not older than', policy.max_age_days))
    row.update(rank=rank, action=DELETE if beyond and old else KEEP, reason=', '.join(why))


def _share_images(rows: t.List[t.Dict[str, t.Any]], listed: t.List[t.Dict[str, t.Any]], policy: Policy) -> None:
    """Tags on one image go together or not at all: block candidates that would take a tag that stays, unless forced."""
    on_image: t.Dict[str, t.List[str]] = {}
    for detail in listed:
        if detail.get('digest'):
            on_image.setdefault(detail['digest'], []).append(detail['tag'])
    by_tag = {row['tag']: row for row in rows}
    for digest, tags in on_image.items():
        going = [tag for tag in tags if tag in by_tag and by_tag[tag]['action'] == DELETE]
        staying = sorted(tag for tag in tags if tag not in going)
        if not going or not staying:
            continue
        protected = [tag for tag in staying if policy.protected_by(tag) is not None]
        if protected or not policy.force:
            why = ('same image as protected tag %s' % ', '.join(protected) if protected else
                   'same image as kept tag %s (force deletes both)' % ', '.join(staying))
            for tag in going:
                by_tag[tag].update(action=BLOCKED, reason='%s; %s' % (by_tag[tag]['reason'], why))
            continue
        for tag in staying:  # forced: the listed ones say so in their own row, the others are collateral
            if tag in by_tag:
                by_tag[tag].update(action=DELETE, reason='%s; same image as %s, which goes (force)' % (
                    by_tag[tag]['reason'], ', '.join(going)))
        collateral = [tag for tag in staying if tag not in by_tag]
        for tag in tags:
            if tag in by_tag:
                by_tag[tag]['collateral'] = collateral
    for row in rows:
        del row['_age']
