# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tag filtering, version and date ordering of the listing modules."""
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.operations._pool import bounded_map
from ansible_collections.oci.registry.plugins.module_utils.operations._tags import (
    SemverRange, compile_pattern, format_created, parse_created, select_tags, semver_key, sort_details,
)


@pytest.mark.parametrize('tags,order,expected', [
    (['1.2.9', '1.2.10', '1.10.0', '1.9.0'], 'asc', ['1.2.9', '1.2.10', '1.9.0', '1.10.0']),
    (['v2.0.0', '1.0.0', 'v1.5.0'], 'asc', ['1.0.0', 'v1.5.0', 'v2.0.0']),
    (['2.0.0', '2.0.0-rc.1', '2.0.0-beta', '2.0.0-rc.10', '2.0.0-rc.2'], 'asc',
     ['2.0.0-beta', '2.0.0-rc.1', '2.0.0-rc.2', '2.0.0-rc.10', '2.0.0']),
    (['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'],
     'asc', ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0']),
    (['latest', '1.2.3', 'main', '0.9'], 'asc', ['0.9', '1.2.3', 'latest', 'main']),
    (['latest', '1.2.3', 'main', '0.9'], 'desc', ['1.2.3', '0.9', 'latest', 'main']),
    (['1.27', '1.27.1', '1.26.3', '1'], 'desc', ['1.27.1', '1.27', '1.26.3', '1']),
    (['01.2.3', '1.2.3'], 'asc', ['1.2.3', '01.2.3']),  # a leading zero is not a version
])
def test_semver_order(tags: list[str], order: str, expected: list[str]) -> None:
    assert [d['tag'] for d in sort_details([{'tag': tag} for tag in tags], 'semver', order)] == expected


@pytest.mark.parametrize('tag,is_version', [
    ('1.2.3', True), ('v1.2.3', True), ('V1', True), ('1.2.3-rc.1', True), ('1.27-alpine', True),
    ('latest', False), ('v', False), ('1.2.3.4', False), ('1..2', False), ('sha256-abc', False),
])
def test_semver_key_recognizes_versions(tag: str, is_version: bool) -> None:
    assert (semver_key(tag) is not None) == is_version


@pytest.mark.parametrize('order,expected', [('asc', ['a', 'b', 'c']), ('desc', ['c', 'b', 'a'])])
def test_name_order(order: str, expected: list[str]) -> None:
    assert [d['tag'] for d in sort_details([{'tag': 'b'}, {'tag': 'c'}, {'tag': 'a'}], 'name', order)] == expected


@pytest.mark.parametrize('order,expected', [('asc', ['old', 'new', 'unknown']), ('desc', ['new', 'old', 'unknown'])])
def test_created_order_puts_unknown_last(order: str, expected: list[str]) -> None:
    created = {'old': 100.0, 'new': 200.0, 'unknown': None}
    details = [{'tag': 'unknown'}, {'tag': 'new'}, {'tag': 'old'}]
    assert [d['tag'] for d in sort_details(details, 'created', order, created)] == expected


@pytest.mark.parametrize('text,epoch', [
    ('2024-01-02T03:04:05Z', 1704164645.0),
    ('2024-01-02T03:04:05.5Z', 1704164645.5),
    ('2024-01-02T03:04:05.123456789Z', 1704164645.123456789),
    ('2024-01-02T04:04:05+01:00', 1704164645.0),
    ('2024-01-01T22:04:05-05:00', 1704164645.0),
    ('2024-01-02T03:04:05', 1704164645.0),
    ('not a date', None), ('2024-13-02T03:04:05Z', None), (None, None), (12, None),
])
def test_parse_created(text: t.Any, epoch: t.Optional[float]) -> None:
    assert parse_created(text) == pytest.approx(epoch) if epoch is not None else parse_created(text) is None


@pytest.mark.parametrize('epoch,text', [(1704164645.9, '2024-01-02T03:04:05Z'), (0.0, '1970-01-01T00:00:00Z'), (None, None)])
def test_format_created(epoch: t.Optional[float], text: t.Optional[str]) -> None:
    assert format_created(epoch) == text


CI_TAG = r'^(?P<datetime>\d{8}T\d{6})-(?P<user>[a-z]+)-(?P<hash>[0-9a-f]{7})-(?P<state>passed|failed)$'


@pytest.mark.parametrize('match,exclude,expected', [
    (None, None, [{'tag': '20240501T101500-alice-3f2a9c1-passed'}, {'tag': '20240502T090000-bob-0badc0d-failed'},
                  {'tag': 'latest'}, {'tag': 'v1.0.0'}]),
    (CI_TAG, None, [
        {'tag': '20240501T101500-alice-3f2a9c1-passed', 'datetime': '20240501T101500', 'user': 'alice', 'hash': '3f2a9c1', 'state': 'passed'},
        {'tag': '20240502T090000-bob-0badc0d-failed', 'datetime': '20240502T090000', 'user': 'bob', 'hash': '0badc0d', 'state': 'failed'}]),
    (CI_TAG, '-failed$', [
        {'tag': '20240501T101500-alice-3f2a9c1-passed', 'datetime': '20240501T101500', 'user': 'alice', 'hash': '3f2a9c1', 'state': 'passed'}]),
    (None, '^2024', [{'tag': 'latest'}, {'tag': 'v1.0.0'}]),
    ('v(?P<major>\\d+)(?:\\.(?P<minor>\\d+))?', None, [{'tag': 'v1.0.0', 'major': '1', 'minor': '0'}]),
    ('^v2', None, []),
])
def test_select_tags(match: t.Optional[str], exclude: t.Optional[str], expected: list[dict[str, str]]) -> None:
    tags = ['20240501T101500-alice-3f2a9c1-passed', '20240502T090000-bob-0badc0d-failed', 'latest', 'v1.0.0', 'latest']
    assert select_tags(tags, compile_pattern(match, 'match'), compile_pattern(exclude, 'exclude')) == expected


@pytest.mark.parametrize('pattern,option,message', [
    ('v(1', 'match', 'match is not a valid regular expression (missing ), unterminated subpattern'),
    ('[', 'exclude', 'exclude is not a valid regular expression'),
    ('(?P<tag>.*)', 'match', 'match: the named group tag clashes'),
    ('(?P<created>.*)-(?P<digest>x)', 'match', 'named group created, digest clashes'),
])
def test_bad_pattern_names_option(pattern: str, option: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        compile_pattern(pattern, option)
    assert message in str(info.value)


@pytest.mark.parametrize('workers', [1, 4, 100])
def test_bounded_map_keeps_order(workers: int) -> None:
    assert bounded_map(lambda x: x * 2, list(range(50)), workers) == [x * 2 for x in range(50)]


def test_bounded_map_raises_first_failure_in_item_order() -> None:
    def fail_on_odd(x: int) -> int:
        if x % 2:
            raise ValueError('item %d' % x)
        return x
    with pytest.raises(ValueError, match='item 1'):
        bounded_map(fail_on_odd, list(range(10)), 4)


SEMVER_TAGS = ['1.25.9', '1.26.0', '1.26.1', 'v1.27', '1.27-alpine', '2.0.0-rc.1', '2.0.0', '2.1.0-rc.1', 'latest', '1.26']


@pytest.mark.parametrize('text,expected', [
    ('>=1.26.0 <2.0.0', ['1.26.0', '1.26.1', 'v1.27', '1.26']),
    ('>=1.26 <2', ['1.26.0', '1.26.1', 'v1.27', '1.26']),
    ('>1.26.0 <=2.0.0', ['1.26.1', 'v1.27', '2.0.0']),
    ('=1.26.0', ['1.26.0', '1.26']),
    ('1.26.1', ['1.26.1']),
    ('<1.26.0', ['1.25.9']),
    # a pre-release only when a comparator names one of the same version
    ('>=2.0.0-rc.1', ['2.0.0-rc.1', '2.0.0']),
    ('>=2.0.0-rc.1 <2.0.0', ['2.0.0-rc.1']),
    ('>=1.27.0-a <1.28.0', ['v1.27', '1.27-alpine']),
    ('>=2.0.0', ['2.0.0']),
])
def test_semver_range_selects(text: str, expected: list[str]) -> None:
    semver = SemverRange.parse(text)
    assert [d['tag'] for d in select_tags(SEMVER_TAGS, None, None, semver)] == expected


@pytest.mark.parametrize('text', ['>=1.26.0 <two', '>>1', '~1.2', '^1.2.3', '>=', '1.2.3.4', 'latest', '>= 1.2'])
def test_semver_range_refuses_with_the_option_name(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        SemverRange.parse(text, 'repositories[0].tags.semver')
    assert 'repositories[0].tags.semver' in str(info.value) and 'comparator' in str(info.value)


@pytest.mark.parametrize('text', [None, '', '   '])
def test_empty_semver_range_is_none(text: t.Optional[str]) -> None:
    assert SemverRange.parse(text) is None
