# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync_report filter: registry_sync shard reports -> one summary, as tables."""
from __future__ import annotations

import typing as t

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.filter.sync_report import FilterModule

sync_report = FilterModule().filters()['sync_report']

ZERO = {'created': 0, 'updated': 0, 'unchanged': 0, 'skipped': 0, 'pruned': 0, 'blocked': 0, 'failed': 0}


def _report(index: int, count: int = 4, owned: int = 3, partial: bool = False, task_failed: bool = False, ratelimit: t.Any = None,
            **actions: int) -> t.Dict[str, t.Any]:
    results = []
    for action, number in actions.items():
        results += [{'target': 'm.example.com/r%d-%s-%d' % (index, action, i), 'tag': 'v%d' % i, 'action': action,
                     'reason': 'why %s' % action if action in ('failed', 'blocked', 'skipped') else None} for i in range(number)]
    report = {'changed': bool(actions.get('created') or actions.get('updated') or actions.get('pruned')), 'results': results,
              'summary': dict(ZERO, **actions), 'partial': partial, 'ratelimit': ratelimit or {},
              'requests': {'m.example.com': {'HEAD': 2 * owned, 'GET': 1}}, 'catalog': {'src.example.com': {'api': 'catalog', 'requests': 2}},
              'shard': {'index': index, 'count': count, 'repositories': owned, 'total_repositories': 12}, 'host': 'shard-%02d' % index}
    if task_failed:
        report.update(failed=True, msg='%d of %d results failed or were blocked' % (actions.get('failed', 0), len(results)))
    return report


def test_four_clean_shards() -> None:
    reports = [_report(i, unchanged=5, created=i) for i in (2, 0, 3, 1)]
    merged = sync_report(reports)
    assert merged['ok'] and merged['complete'] and merged['changed']
    assert merged['shards'] == {'count': 4, 'reported': [0, 1, 2, 3], 'missing': [], 'duplicated': [], 'failed': [], 'partial': [],
                                'stale': []}
    assert merged['summary'] == dict(ZERO, unchanged=20, created=6)
    assert merged['repositories'] == 12 and merged['failures'] == [] and merged['rate_limit_stops'] == []
    assert merged['requests'] == {'m.example.com': {'HEAD': 24, 'GET': 4}}
    assert [(row['index'], row['host'], row['requests'], row['catalog_requests']) for row in merged['per_shard']] == [
        (i, 'shard-%02d' % i, 7, 2) for i in range(4)]


@pytest.mark.parametrize('reports,count,ok,complete,shards', [
    ([_report(0), _report(1), _report(3)], None, False, False, {'missing': [2]}),
    ([_report(0), _report(1)], 3, False, False, {'missing': [2]}),  # the reports' count is set to 3 below
    ([_report(0, 1)], None, True, True, {'missing': [], 'count': 1}),
    ([_report(0), _report(1), _report(2), _report(2), _report(3)], None, False, False, {'duplicated': [2]}),
    ([_report(0), _report(1, partial=True), _report(2), _report(3)], None, True, False, {'partial': [1]}),
    ([_report(0), _report(1, task_failed=True, unchanged=1), _report(2), _report(3)], None, False, False, {'failed': [1]}),
    ([], 2, False, False, {'missing': [0, 1], 'reported': []}),
], ids=['missing', 'missing-by-count', 'one-shard', 'duplicated', 'partial-is-ok-not-complete', 'task-failed', 'nothing'])
def test_shard_states(reports: t.List[t.Dict[str, t.Any]], count: t.Optional[int], ok: bool, complete: bool, shards: t.Dict[str, t.Any]) -> None:
    if count == 3:
        for report in reports:
            report['shard']['count'] = 3
    merged = sync_report(reports, count=count)
    assert (merged['ok'], merged['complete']) == (ok, complete)
    for key, value in shards.items():
        assert merged['shards'][key] == value


def test_failures_name_their_shard() -> None:
    merged = sync_report([_report(0, 2, task_failed=True, failed=1, blocked=1, unchanged=2), _report(1, 2, skipped=1)], count=2)
    assert merged['failures'] == [
        {'shard': 0, 'target': 'm.example.com/r0-failed-0', 'tag': 'v0', 'action': 'failed', 'reason': 'why failed'},
        {'shard': 0, 'target': 'm.example.com/r0-blocked-0', 'tag': 'v0', 'action': 'blocked', 'reason': 'why blocked'}]
    assert merged['shards']['failed'] == [0] and not merged['ok']
    assert merged['summary'] == dict(ZERO, failed=1, blocked=1, unchanged=2, skipped=1)


def test_a_task_that_failed_before_any_result() -> None:
    early = {'failed': True, 'msg': 'repositories[0]: cannot list the repositories of registry src.example.com: ...',
             'shard': {'index': 1, 'count': 2}}
    merged = sync_report([_report(0, 2, unchanged=1), early])
    assert merged['failures'] == [{'shard': 1, 'target': None, 'tag': None, 'action': 'failed', 'reason': early['msg']}]
    assert merged['repositories'] == 3 and merged['per_shard'][1]['repositories'] is None


def test_rate_limit_stops() -> None:
    hub = {'docker.io': {'limit': 200, 'remaining': 20, 'window_seconds': 21600, 'stopped': 'RateLimit-Remaining of registry docker.io is 20'}}
    calm = {'docker.io': {'limit': 200, 'remaining': 64, 'window_seconds': 21600, 'stopped': None}}
    merged = sync_report([_report(0, 2, partial=True, ratelimit=hub, skipped=3), _report(1, 2, ratelimit=calm)])
    assert merged['rate_limit_stops'] == [{'shard': 0, 'registry': 'docker.io', 'stopped': hub['docker.io']['stopped'], 'remaining': 20}]
    assert merged['ratelimit'] == {'docker.io': {'limit': 200, 'remaining': 20, 'window_seconds': 21600, 'stopped_shards': [0]}}
    assert merged['ok'] and not merged['complete'] and merged['shards']['partial'] == [0]


@pytest.mark.parametrize('reports,count,words', [
    ('nope', None, ['list of registry_sync reports', 'str']),
    ([_report(0, 4), _report(1, 3)], None, ['disagree on the shard count (3, 4)']),
    ([_report(0, 4)], 2, ['disagree on the shard count (2, 4)']),
    ([{'summary': {}}, _report(1, 2)], None, ['report 0 has no shard']),
    ([{'shard': {'index': 5, 'count': 2}}], None, ['report 0 has shard', 'index must be 0 to count - 1']),
    ([{'summary': {}}], None, ['no report names its shard', 'count=N']),
    ([], 0, ['the shard count must be 1 or more']),
])
def test_bad_input(reports: t.Any, count: t.Optional[int], words: t.List[str]) -> None:
    with pytest.raises(AnsibleFilterError) as info:
        sync_report(reports, count=count)
    assert str(info.value).startswith('oci.registry.sync_report: ')
    for word in words:
        assert word in str(info.value)


def _runs(*pairs: t.Tuple[int, str]) -> t.List[t.Dict[str, t.Any]]:
    return [dict(_report(index, 3, unchanged=1), run=run) for index, run in pairs]


def test_a_report_left_from_another_run_is_stale_with_run() -> None:
    merged = sync_report(_runs((0, '41'), (1, '42'), (2, '42')), run='42')
    assert merged['shards']['stale'] == [0] and merged['shards']['missing'] == [0] and not merged['ok']
    assert merged['summary']['unchanged'] == 2


def test_reports_of_two_runs_without_run_are_refused() -> None:
    with pytest.raises(AnsibleFilterError, match=r'different runs \(run 41: shards 0; run 42: shards 1, 2\)'):
        sync_report(_runs((0, '41'), (1, '42'), (2, '42')))
