# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: sync_report
short_description: Merge the reports of registry_sync shards into one summary
version_added: 0.1.0
author:
  - oci.registry contributors
description:
  - Takes the reports of the shards of one sharded M(oci.registry.registry_sync) run (each the module's registered
    result, which carries C(shard), written to a JSON file per shard) and returns one summary - counts per action,
    every failed or blocked tag with its shard, which shards are missing, failed, partial (a rate limit left work for the
    next run) or reported twice, the lowest C(RateLimit-Remaining) seen per source registry and which shards a rate limit
    stopped, and the requests all shards sent.
  - A report without C(shard) (a task that failed before it could say) counts as shard 0 of 1 unless O(count) is more than
    1; combine the result with the shard it ran as when writing reports, as the collection's C(examples/sync_shards.yml) does.
  - A report with C(failed) and no failed result (bad input, a catalog that could not be listed) is one failure of its shard,
    with the task's message as the reason.
positional: _input
options:
  _input:
    description: The shard reports, one dict per shard (a single dict is one report).
    type: list
    elements: dict
    required: true
  count:
    description:
      - How many shards there are. Without it, the count the reports name; give it so that a run where some shards wrote no
        report at all still lists them as missing.
    type: int
  run:
    description:
      - Keep only the reports whose C(run) is this (reports without C(run) are kept); the shards of the others are listed in
        C(shards.stale) and, unless this run reported them too, in C(shards.missing).
      - Without it, reports of more than one C(run) are an error naming the shards of each, so that a report left from an
        earlier run is never counted as this run's.
    type: str
seealso:
  - module: oci.registry.registry_sync
"""

EXAMPLES = r"""
- name: Read every shard's report
  ansible.builtin.slurp:
    src: "{{ item }}"
  loop: "{{ query('ansible.builtin.fileglob', '/srv/mirror-reports/shard-*.json') }}"
  register: reports

- name: Merge them
  ansible.builtin.set_fact:
    mirror_report: "{{ reports.results | map(attribute='content') | map('b64decode') | map('from_json') | oci.registry.sync_report(count=4) }}"

- name: Fail when a shard failed or did not report
  ansible.builtin.assert:
    that: mirror_report.ok
    fail_msg: "missing {{ mirror_report.shards.missing }}, failures {{ mirror_report.failures }}"
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    ok:
      description: Every shard reported once and no tag failed or was blocked (a partial shard is still ok).
      type: bool
      sample: true
    complete:
      description: RV(_value.ok) and no shard was partial - the mirror is fully in step.
      type: bool
      sample: false
    changed:
      description: Whether any shard changed something.
      type: bool
      sample: true
    shards:
      description:
        - C(count), and the shard indexes C(reported), C(missing), C(duplicated), C(failed), C(partial) and C(stale) (reports
          of another O(run), left out).
      type: dict
      sample: {"count": 4, "reported": [0, 1, 2, 3], "missing": [], "duplicated": [], "failed": [], "partial": [2], "stale": []}
    repositories:
      description: Repositories the reporting shards owned in all (V(null) when no report says).
      type: int
      sample: 2000
    summary:
      description: How many results of all shards have each action (every action present).
      type: dict
      sample: {"created": 12, "updated": 1, "unchanged": 5920, "skipped": 40, "pruned": 0, "blocked": 0, "failed": 0}
    failures:
      description: Every C(failed) or C(blocked) result with its C(shard), C(target), C(tag), C(action) and C(reason).
      type: list
      elements: dict
      sample: []
    rate_limit_stops:
      description: Per shard and source registry whose copies a rate limit stopped - C(shard), C(registry), C(stopped) (why), C(remaining).
      type: list
      elements: dict
      sample:
        - {"shard": 2, "registry": "docker.io", "remaining": 20,
           "stopped": "RateLimit-Remaining of registry docker.io is 20, and min_ratelimit_remaining is 20"}
    ratelimit:
      description: Per source registry, the lowest C(remaining) any shard saw, C(limit), C(window_seconds) and C(stopped_shards).
      type: dict
      sample: {"docker.io": {"limit": 200, "remaining": 20, "window_seconds": 21600, "stopped_shards": [2]}}
    requests:
      description: Requests all shards sent, per host and method.
      type: dict
      sample: {"registry-1.docker.io": {"GET": 40, "HEAD": 6000}}
    per_shard:
      description:
        - One row per report, by shard - C(index), C(host) (when the report names one), C(repositories), C(summary),
          C(changed), C(failed), C(partial), C(requests) (sent in all) and C(catalog_requests) (spent listing repositories).
      type: list
      elements: dict
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.plugin_utils._sync_report import merge


def sync_report(reports: t.Any, count: t.Optional[int] = None, run: t.Optional[str] = None) -> t.Dict[str, t.Any]:
    """The filter: one summary; AnsibleFilterError when the reports cannot belong to one run."""
    try:
        return merge(reports, count, run)
    except ValueError as exc:
        raise AnsibleFilterError('oci.registry.sync_report: %s' % exc) from None


class FilterModule:
    """oci.registry's sync_report filter."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        return {'sync_report': sync_report}
