# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_sync's result: the applied plan as the module returns it (results, summary, diff, warnings, requests).

Everything here reads the plan's values (actions, reason kinds, the gates' stops); no message text is
parsed back. A run with failed or blocked results raises :class:`SyncFailedError` with the whole result.
"""

from __future__ import annotations

import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._errors import RegistryError
from ansible_collections.oci.registry.plugins.module_utils.wire._ratelimit import RateGate
from ._copy import CopyStats
from ._sync_plan import ACTIONS, CHANGES, PROBLEMS, Action, TagPlan

if t.TYPE_CHECKING:
    from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient

# How many failures the task's message names (the rest are counted, and all are in results).
NAMED_FAILURES = 10


def result_row(item: TagPlan) -> t.Dict[str, t.Any]:
    return {'source': item.entry.source.name, 'target': item.entry.target.name, 'tag': item.tag,
            'action': item.action.value if item.action else None,
            'source_digest': item.source_digest, 'target_digest': item.target_digest,
            'previous_digest': item.previous_digest, 'reason': item.reason.text if item.reason else None}


def diff(items: t.Sequence[TagPlan]) -> t.Dict[str, t.Dict[str, t.Optional[str]]]:
    """Per changed target ``repository:tag``: the digest before, and after (None after a prune)."""
    changed = [i for i in items if i.action in CHANGES]
    keys = ['%s:%s' % (i.entry.target.name, i.tag) for i in changed]
    return {'before': dict(zip(keys, (i.previous_digest for i in changed))),
            'after': dict(zip(keys, (None if i.action is Action.PRUNED else i.target_digest for i in changed)))}


def shape_result(items: t.Sequence[TagPlan], stats: CopyStats, gates: t.Sequence[RateGate], referrers_changed: int,
                 client: 'RegistryClient') -> t.Dict[str, t.Any]:
    """The module's return value (``warnings`` included, for the module to pass on)."""
    items = sorted(items, key=lambda i: (i.entry.number, i.entry.target.name, i.tag or ''))
    return {
        'changed': any(i.action in CHANGES for i in items) or referrers_changed > 0,
        'results': [result_row(i) for i in items],
        'summary': {action: sum(1 for i in items if i.action is not None and i.action.value == action) for action in ACTIONS},
        'partial': any(i.rate_limited for i in items),
        'mounted_blobs': stats.mounted_blobs, 'copied_blobs': stats.copied_blobs, 'copied_bytes': stats.copied_bytes,
        'requests': request_counts(client),
        'ratelimit': {gate.registry: gate.report() for gate in gates if gate.remaining is not None or gate.stopped},
        'diff': diff(items),
        'warnings': warnings(items, gates),
    }


def warnings(items: t.Sequence[TagPlan], gates: t.Sequence[RateGate]) -> t.List[str]:
    """One warning per source registry whose rate limit left work undone."""
    found = []
    for gate in gates:
        left = [i for i in items if i.rate_limited and i.entry.source.registry == gate.registry]
        if left:
            when = ' (the limit counts over a window of %d seconds)' % gate.window_seconds if gate.window_seconds else ''
            found.append('%d tags from registry %s were left for a later run: %s%s; the rest of the sync went on' % (
                len(left), gate.registry, gate.stopped.text if gate.stopped else 'rate limited', when))
    return found


def request_counts(client: 'RegistryClient') -> t.Dict[str, t.Dict[str, int]]:
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

    @classmethod
    def raise_for(cls, result: t.Dict[str, t.Any]) -> None:
        """Raise when any result failed or was blocked, naming the first few."""
        problems = [r for r in result['results'] if Action(r['action']) in PROBLEMS]
        if not problems:
            return
        named = '; '.join('%s%s: %s %s' % (r['target'], ':%s' % r['tag'] if r['tag'] else '', r['action'], r['reason'])
                          for r in problems[:NAMED_FAILURES])
        more = ' (and %d more)' % (len(problems) - NAMED_FAILURES) if len(problems) > NAMED_FAILURES else ''
        raise cls('%d of %d results failed or were blocked: %s%s' % (len(problems), len(result['results']), named, more), result)
