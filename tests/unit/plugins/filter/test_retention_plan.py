# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The retention_plan filter: the retention policy as tables (listing + policy -> action per tag)."""
from __future__ import annotations

import datetime
import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.retention_plan import FilterModule

retention_plan = FilterModule().filters()['retention_plan']

NOW = '2024-06-01T00:00:00Z'
RELEASE = r'^v?[0-9]+\.[0-9]+\.[0-9]+$'


def _ago(days):
    when = datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc) - datetime.timedelta(days=days)
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def _listing(*entries):
    """(tag, image, days old or None): tags with the same image share one digest (and so one created time)."""
    return [{'tag': tag, 'digest': 'sha256:' + image * 64 if image else None, 'created': None if days is None else _ago(days)}
            for tag, image, days in entries]


def _actions(rows):
    return [(row['tag'], row['action']) for row in rows]


# name, listing, policy, expected (tag, action) rows in order
TABLES = [
    ('keep N: the newest candidates stay, the rest go, newest first',
     _listing(('b-1', 'a', 40), ('b-3', 'c', 10), ('b-2', 'b', 20), ('b-4', 'd', 5)), {'keep': 2},
     [('b-4', 'keep'), ('b-3', 'keep'), ('b-2', 'delete'), ('b-1', 'delete')]),
    ('keep 0 with an age: only the age counts',
     _listing(('b-1', 'a', 40), ('b-2', 'b', 20)), {'keep': 0, 'max_age_days': 30},
     [('b-2', 'keep'), ('b-1', 'delete')]),
    ('max age only: strictly older goes',
     _listing(('b-1', 'a', 40), ('b-2', 'b', 30), ('b-3', 'c', 29.9)), {'max_age_days': 30},
     [('b-3', 'keep'), ('b-2', 'keep'), ('b-1', 'delete')]),
    ('keep N and max age: both must agree',
     _listing(('b-1', 'a', 40), ('b-2', 'b', 20), ('b-3', 'c', 10)), {'keep': 1, 'max_age_days': 30},
     [('b-3', 'keep'), ('b-2', 'keep'), ('b-1', 'delete')]),
    ('match: other tags get no row and are not ranked',
     _listing(('pr-1', 'a', 90), ('main-1', 'b', 1), ('pr-2', 'c', 5)), {'keep': 1, 'match': '^pr-'},
     [('pr-2', 'keep'), ('pr-1', 'delete')]),
    ('protect: never a candidate, not ranked',
     _listing(('latest', 'a', 1), ('1.0.0', 'b', 400), ('b-1', 'c', 300), ('b-2', 'd', 2)), {'keep': 1, 'protect': ['^latest$', RELEASE]},
     [('latest', 'keep'), ('b-2', 'keep'), ('b-1', 'delete'), ('1.0.0', 'keep')]),
    ('missing created: kept, last, not ranked',
     _listing(('b-1', 'a', None), ('b-2', 'b', 50), ('b-3', 'c', 40)), {'keep': 1},
     [('b-3', 'keep'), ('b-2', 'delete'), ('b-1', 'keep')]),
    ('ties in created: by tag name',
     _listing(('b-z', 'a', 50), ('b-a', 'b', 50), ('b-m', 'c', 50)), {'keep': 1},
     [('b-a', 'keep'), ('b-m', 'delete'), ('b-z', 'delete')]),
    ('shared with a protected tag: blocked',
     _listing(('1.2.3', 'a', 200), ('build-old', 'a', 200), ('build-new', 'b', 1)), {'keep': 1, 'protect': [RELEASE]},
     [('build-new', 'keep'), ('1.2.3', 'keep'), ('build-old', 'blocked')]),
    ('shared with a protected tag: blocked with force too',
     _listing(('1.2.3', 'a', 200), ('build-old', 'a', 200), ('build-new', 'b', 1)), {'keep': 1, 'protect': [RELEASE], 'force': True},
     [('build-new', 'keep'), ('1.2.3', 'keep'), ('build-old', 'blocked')]),
    ('shared with a protected tag outside match: blocked with force',
     _listing(('latest', 'a', 200), ('pr-1', 'a', 200), ('pr-2', 'b', 1)),
     {'keep': 1, 'match': '^pr-', 'protect': ['^latest$'], 'force': True},
     [('pr-2', 'keep'), ('pr-1', 'blocked')]),
    ('shared with an unprotected tag outside match: blocked without force',
     _listing(('main', 'a', 200), ('pr-1', 'a', 200), ('pr-2', 'b', 1)), {'keep': 1, 'match': '^pr-'},
     [('pr-2', 'keep'), ('pr-1', 'blocked')]),
    ('shared with an unprotected tag outside match: goes with force, the tag as collateral',
     _listing(('main', 'a', 200), ('pr-1', 'a', 200), ('pr-2', 'b', 1)), {'keep': 1, 'match': '^pr-', 'force': True},
     [('pr-2', 'keep'), ('pr-1', 'delete')]),
    ('shared with a kept candidate (tie): blocked without force',
     _listing(('b-a', 'a', 50), ('b-b', 'a', 50), ('b-old', 'b', 90)), {'keep': 1},
     [('b-a', 'keep'), ('b-b', 'blocked'), ('b-old', 'delete')]),
    ('shared with a kept candidate (tie): both go with force',
     _listing(('b-a', 'a', 50), ('b-b', 'a', 50), ('b-old', 'b', 90)), {'keep': 1, 'force': True},
     [('b-a', 'delete'), ('b-b', 'delete'), ('b-old', 'delete')]),
    ('two candidates on one image: they go together, nothing blocked',
     _listing(('b-1', 'a', 90), ('b-2', 'a', 90), ('b-3', 'b', 1)), {'keep': 1},
     [('b-3', 'keep'), ('b-1', 'delete'), ('b-2', 'delete')]),
    ('no digest: nothing is shared',
     _listing(('b-1', None, 90), ('b-2', None, 90)), {'max_age_days': 30},
     [('b-1', 'delete'), ('b-2', 'delete')]),
]


@pytest.mark.parametrize('name,listing,policy,expected', TABLES, ids=[table[0] for table in TABLES])
def test_actions(name, listing, policy, expected):
    assert _actions(retention_plan(listing, now=NOW, **policy)) == expected


def test_protected_tags_are_never_deleted_whatever_the_policy():
    """Every combination of the tables, with force: no protected tag ever has a delete row or is anyone's collateral."""
    for _name, listing, policy, _expected in TABLES:
        protect = policy.get('protect', []) + ['^b-a$', '^main$']
        rows = retention_plan(listing, now=NOW, **dict(policy, protect=protect, force=True))
        going = {row['tag'] for row in rows if row['action'] == 'delete'} | {tag for row in rows for tag in row['collateral']}
        assert not [tag for tag in going if any(re.search(p, tag) for p in protect)], _name


def test_signature_and_referrer_tags_are_never_planned():
    """cosign's sha256-<hex>.sig and the referrers fallback tag belong to another image: no policy plans them."""
    listing = _listing(('v1', 'a', 40), ('sha256-' + 'a' * 64 + '.sig', 'b', 50), ('sha256-' + 'a' * 64, 'c', 50), ('v2', 'd', 1))
    for policy in ({'keep': 1}, {'max_age_days': 0}, {'keep': 0, 'force': True}):
        assert [row['tag'] for row in retention_plan(listing, now=NOW, **policy)] == ['v2', 'v1'], policy


def test_rows_carry_reason_rank_and_age():
    rows = {row['tag']: row for row in retention_plan(
        _listing(('latest', 'a', 1), ('b-1', 'b', 100.04), ('b-2', 'c', 10), ('b-0', 'd', None), ('1.2.3', 'e', 200), ('b-old', 'e', 200)),
        keep=1, max_age_days=30, protect=['^latest$', RELEASE], now=NOW)}
    assert rows['latest'] == {'tag': 'latest', 'digest': 'sha256:' + 'a' * 64, 'created': _ago(1), 'age_days': 1.0, 'rank': None,
                              'action': 'keep', 'reason': 'protected by ^latest$', 'collateral': []}
    assert (rows['b-2']['rank'], rows['b-2']['reason']) == (1, 'among the 1 newest (#1), not older than 30 days')
    assert (rows['b-1']['rank'], rows['b-1']['age_days']) == (2, 100.0)
    assert rows['b-1']['reason'] == 'not among the 1 newest (#2), older than 30 days'
    assert (rows['b-0']['rank'], rows['b-0']['age_days'], rows['b-0']['reason']) == (None, None, 'creation time unknown')
    assert rows['b-old']['action'] == 'blocked' and rows['b-old']['rank'] == 3
    assert rows['b-old']['reason'] == 'not among the 1 newest (#3), older than 30 days; same image as protected tag 1.2.3'


def test_force_reports_collateral_and_why():
    listing = _listing(('main', 'a', 200), ('pr-1', 'a', 200), ('pr-2', 'b', 1))
    rows = {row['tag']: row for row in retention_plan(listing, keep=1, match='^pr-', force=True, now=NOW)}
    assert rows['pr-1']['collateral'] == ['main'] and rows['pr-2']['collateral'] == []
    blocked = {row['tag']: row for row in retention_plan(listing, keep=1, match='^pr-', now=NOW)}
    assert blocked['pr-1']['reason'].endswith('; same image as kept tag main (force deletes both)')
    assert blocked['pr-1']['collateral'] == []
    tie = {row['tag']: row for row in retention_plan(_listing(('b-a', 'a', 50), ('b-b', 'a', 50)), keep=1, force=True, now=NOW)}
    assert tie['b-a']['reason'] == 'among the 1 newest (#1); same image as b-b, which goes (force)'
    assert tie['b-a']['collateral'] == tie['b-b']['collateral'] == []  # both are named: the delete module sees no collateral


@pytest.mark.parametrize('now', [NOW, datetime.datetime(2024, 6, 1), datetime.datetime(2024, 6, 1, tzinfo=datetime.timezone.utc),
                                 1717200000, '2024-06-01T02:00:00+02:00'])
def test_now_forms(now):
    assert retention_plan(_listing(('b-1', 'a', 30.5)), max_age_days=30, now=now)[0]['age_days'] == 30.5


def test_now_defaults_to_the_current_time():
    recent = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)
    rows = retention_plan([{'tag': 'b', 'digest': None, 'created': recent.strftime('%Y-%m-%dT%H:%M:%SZ')}], max_age_days=1)
    assert rows[0]['action'] == 'delete' and 1.9 < rows[0]['age_days'] < 2.1


def test_numbers_as_strings_from_extra_vars():
    rows = retention_plan(_listing(('b-1', 'a', 40), ('b-2', 'b', 20)), keep='1', max_age_days='30', now=NOW)
    assert _actions(rows) == [('b-2', 'keep'), ('b-1', 'delete')]


@pytest.mark.parametrize('listing,policy,words', [
    ([], {}, ['set keep', 'max_age_days']),
    ([], {'keep': -1}, ['keep must be a whole number', '-1']),
    ([], {'keep': 1.5}, ['keep must be a whole number']),
    ([], {'keep': True}, ['keep must be a whole number']),
    ([], {'keep': 'many'}, ["'many'"]),
    ([], {'max_age_days': float('nan')}, ['max_age_days must be a number']),
    ([], {'keep': 1, 'match': '('}, ['match', 'not a valid Python regular expression']),
    ([], {'keep': 1, 'protect': '^latest$'}, ['protect must be a list']),
    ([], {'keep': 1, 'protect': ['ok', '[']}, ['protect', "'['"]),
    ([], {'keep': 1, 'force': 'yes'}, ['force must be true or false']),
    ([], {'keep': 1, 'now': 'yesterday'}, ['now must be', 'RFC 3339']),
    ({'tag': 'x'}, {'keep': 1}, ['details list of oci.registry.registry_tags_info']),
    (['x'], {'keep': 1}, ['each entry of the input needs a tag']),
    ([{'tag': 'a'}, {'tag': 'a'}], {'keep': 1}, ['tag a is listed twice']),
])
def test_bad_input(listing, policy, words):
    with pytest.raises(AnsibleFilterError) as info:
        retention_plan(listing, **policy)
    assert str(info.value).startswith('oci.registry.retention_plan: ')
    for word in words:
        assert word in str(info.value)
