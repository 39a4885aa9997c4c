# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private plugin_utils file of oci.registry: do not use it from other collections.
"""registry_sync shard reports -> one summary (pure, no Ansible imports): the sync_report filter's logic."""

from __future__ import annotations

import typing as t

ACTIONS = ('created', 'updated', 'unchanged', 'skipped', 'pruned', 'blocked', 'failed')
PROBLEMS = ('failed', 'blocked')


def _shard_of(report: t.Mapping[str, t.Any], position: int, count: t.Optional[int]) -> t.Tuple[int, int]:
    shard = report.get('shard')
    if not isinstance(shard, t.Mapping):
        if count == 1:  # an unsharded run is shard 0 of 1
            return 0, 1
        raise ValueError('report %d has no shard {index, count}: write registry_sync\'s result combined with the shard it ran as' % position)
    index, found = shard.get('index'), shard.get('count')
    if not isinstance(index, int) or not isinstance(found, int) or isinstance(index, bool) or not 0 <= index < found:
        raise ValueError('report %d has shard %r: index must be 0 to count - 1' % (position, dict(shard)))
    return index, found


def _reports(value: t.Any) -> t.List[t.Mapping[str, t.Any]]:
    if isinstance(value, t.Mapping):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, t.Mapping) for item in value):
        raise ValueError('the input must be a list of registry_sync reports (dicts), not %s' % type(value).__name__)
    return list(value)


def _count(reports: t.List[t.Mapping[str, t.Any]], expected: t.Optional[int]) -> int:
    counts = sorted({r['shard'].get('count') for r in reports if isinstance(r.get('shard'), t.Mapping)})
    if expected is not None:
        counts = sorted(set(counts) | {expected})
    if len(counts) > 1:
        raise ValueError('the reports disagree on the shard count (%s): they come from different runs or settings' % (
            ', '.join(str(c) for c in counts)))
    if not counts:
        raise ValueError('no report names its shard and no shard count was given: pass count=N')
    if not isinstance(counts[0], int) or isinstance(counts[0], bool) or counts[0] < 1:
        raise ValueError('the shard count must be 1 or more, got %r' % (counts[0],))
    return counts[0]


def _failures(index: int, report: t.Mapping[str, t.Any]) -> t.List[t.Dict[str, t.Any]]:
    rows = [{'shard': index, 'target': r.get('target'), 'tag': r.get('tag'), 'action': r.get('action'), 'reason': r.get('reason')}
            for r in report.get('results') or [] if isinstance(r, t.Mapping) and r.get('action') in PROBLEMS]
    if report.get('failed') and not rows:  # the task failed before any result: bad input, a catalog it could not list
        rows.append({'shard': index, 'target': None, 'tag': None, 'action': 'failed', 'reason': report.get('msg') or 'the task failed'})
    return rows


def _add_requests(total: t.Dict[str, t.Dict[str, int]], requests: t.Any) -> int:
    sent = 0
    for host, methods in (requests or {}).items() if isinstance(requests, t.Mapping) else ():
        for method, number in (methods or {}).items() if isinstance(methods, t.Mapping) else ():
            if isinstance(number, int):
                per_host = total.setdefault(host, {})
                per_host[method] = per_host.get(method, 0) + number
                sent += number
    return sent


def _ratelimits(index: int, report: t.Mapping[str, t.Any], merged: t.Dict[str, t.Dict[str, t.Any]], stops: t.List[t.Dict[str, t.Any]]) -> None:
    for registry, seen in (report.get('ratelimit') or {}).items() if isinstance(report.get('ratelimit'), t.Mapping) else ():
        if not isinstance(seen, t.Mapping):
            continue
        row = merged.setdefault(registry, {'limit': None, 'remaining': None, 'window_seconds': None, 'stopped_shards': []})
        if isinstance(seen.get('remaining'), int):
            row['remaining'] = seen['remaining'] if row['remaining'] is None else min(row['remaining'], seen['remaining'])
        row['limit'] = seen.get('limit') or row['limit']
        row['window_seconds'] = seen.get('window_seconds') or row['window_seconds']
        if seen.get('stopped'):
            row['stopped_shards'].append(index)
            stops.append({'shard': index, 'registry': registry, 'stopped': seen['stopped'], 'remaining': seen.get('remaining')})


def _shard_row(index: int, report: t.Mapping[str, t.Any], failures: int, sent: int) -> t.Dict[str, t.Any]:
    shard = report.get('shard') if isinstance(report.get('shard'), t.Mapping) else {}
    summary = report.get('summary') if isinstance(report.get('summary'), t.Mapping) else {}
    return {'index': index, 'host': report.get('host'), 'repositories': shard.get('repositories'),
            'summary': {action: summary.get(action, 0) for action in ACTIONS}, 'changed': bool(report.get('changed')),
            'failed': bool(report.get('failed')) or failures > 0, 'partial': bool(report.get('partial')), 'requests': sent,
            'catalog_requests': sum(c.get('requests', 0) for c in (report.get('catalog') or {}).values() if isinstance(c, t.Mapping))}


def _current(reports: t.List[t.Mapping[str, t.Any]], run: t.Optional[str]) -> t.Tuple[t.List[t.Mapping[str, t.Any]], t.List[t.Any]]:
    """The reports of this run, and the shards of reports left from another run (``run`` given); ValueError for a mix without it."""
    if run is None:
        runs: t.Dict[str, t.List[t.Any]] = {}
        for report in reports:
            if report.get('run') is not None:
                runs.setdefault(str(report['run']), []).append((report.get('shard') or {}).get('index'))
        if len(runs) > 1:
            raise ValueError('the reports come from different runs (%s): remove the old reports, or pass run= to keep only one run' % (
                '; '.join('run %s: shards %s' % (name, ', '.join(str(i) for i in indexes)) for name, indexes in sorted(runs.items()))))
        return reports, []
    kept = [r for r in reports if r.get('run') is None or str(r['run']) == str(run)]
    return kept, sorted((r.get('shard') or {}).get('index') for r in reports if r.get('run') is not None and str(r['run']) != str(run))


def merge(value: t.Any, count: t.Optional[int] = None, run: t.Optional[str] = None) -> t.Dict[str, t.Any]:
    """One summary of registry_sync shard reports; ValueError when they cannot belong to one run."""
    reports, stale = _current(_reports(value), run)
    count = _count(reports, count) if reports or count is not None else 1
    summary = {action: 0 for action in ACTIONS}
    requests: t.Dict[str, t.Dict[str, int]] = {}
    ratelimit: t.Dict[str, t.Dict[str, t.Any]] = {}
    failures: t.List[t.Dict[str, t.Any]] = []
    stops: t.List[t.Dict[str, t.Any]] = []
    rows: t.List[t.Dict[str, t.Any]] = []
    for position, report in enumerate(reports):
        index, _count_seen = _shard_of(report, position, count)
        found = _failures(index, report)
        failures.extend(found)
        for action in ACTIONS:
            number = (report.get('summary') or {}).get(action, 0) if isinstance(report.get('summary'), t.Mapping) else 0
            summary[action] += number if isinstance(number, int) else 0
        rows.append(_shard_row(index, report, len(found), _add_requests(requests, report.get('requests'))))
        _ratelimits(index, report, ratelimit, stops)
    merged = _verdict(count, rows, summary, failures, stops, requests, ratelimit)
    merged['shards']['stale'] = stale
    return merged


def _verdict(count: int, rows: t.List[t.Dict[str, t.Any]], summary: t.Dict[str, int], failures: t.List[t.Dict[str, t.Any]],
             stops: t.List[t.Dict[str, t.Any]], requests: t.Dict[str, t.Dict[str, int]],
             ratelimit: t.Dict[str, t.Dict[str, t.Any]]) -> t.Dict[str, t.Any]:
    indexes = [row['index'] for row in rows]
    missing = [i for i in range(count) if i not in indexes]
    duplicated = sorted({i for i in indexes if indexes.count(i) > 1})
    partial = sorted({row['index'] for row in rows if row['partial']})
    failed = sorted({row['index'] for row in rows if row['failed']})
    owned = [row['repositories'] for row in rows if isinstance(row['repositories'], int)]
    return {
        'ok': not (missing or duplicated or failures), 'complete': not (missing or duplicated or failures or partial),
        'changed': any(row['changed'] for row in rows),
        'shards': {'count': count, 'reported': sorted(set(indexes)), 'missing': missing, 'duplicated': duplicated,
                   'failed': failed, 'partial': partial},
        'repositories': sum(owned) if owned else None, 'summary': summary, 'failures': failures, 'rate_limit_stops': stops,
        'ratelimit': ratelimit, 'requests': requests, 'per_shard': sorted(rows, key=lambda row: row['index']),
    }
