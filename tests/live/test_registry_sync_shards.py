# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX shard recipe, simulated: examples/sync_shards.yml as 4 concurrent ansible-playbook processes against real registries.

AWX's job slicing gives slice job n (1-based) of ``count`` the inventory's hosts sorted by name, ``hosts[n-1::count]``,
passes no slice number, and shares no facts between slices: so each process here gets the shipped inventory
(examples/inventory/sync_shards.yml) limited to its stride, runs the shipped playbook, and writes its own report. The
source registry holds whole-registry material (repositories sharing layers, tags sharing a digest, repositories the
patterns leave out); the target's own /metrics count what was written. Checked: the union of the shards' plans is the
unsharded plan, no repository is planned or written by two shards, a rerun is all unchanged with no write, prune in
one shard touches none of another shard's repositories, and the merge playbook's summary adds up.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import typing as t

import pytest
import yaml

from conftest import BIN_DIR, COLLECTION_ROOT
from harness.seed import push_image

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, PermissionDeniedError
from ansible_collections.oci.registry.plugins.module_utils.operations._shards import shard_of
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.modules import registry_sync
from stress import module_params

SHARDS = 4
TEAM = ['team/app%02d' % n for n in range(12)]
TOOLS = ['tools/cli%d' % n for n in range(3)]
LEFT_OUT = ['team/legacy-old', 'other/thing']  # excluded, and not included
PLAYBOOK = os.path.join(COLLECTION_ROOT, 'examples', 'sync_shards.yml')
MERGE = os.path.join(COLLECTION_ROOT, 'examples', 'sync_shards_report.yml')
INVENTORY = os.path.join(COLLECTION_ROOT, 'examples', 'inventory', 'sync_shards.yml')


def awx_slices(inventory: str, count: int) -> t.List[t.List[str]]:
    """The hosts of each slice job, as AWX computes them: hosts sorted by name, slice n gets hosts[n-1::count]."""
    with open(inventory, encoding='utf-8') as handle:
        hosts = sorted(yaml.safe_load(handle)['mirror_shards']['hosts'])
    return [hosts[n - 1::count] for n in range(1, count + 1)]


@pytest.fixture(scope='module')
def registries(harness):
    source, target = harness.add_registry('shards-src'), harness.add_registry('shards-dst')
    for n, name in enumerate(TEAM):  # three base layers shared across repositories; 1.1 and latest one image
        base = 'shared base layer %d\n' % (n % 3)
        push_image(source, name, '1.0', content=base, labels={'build': name + '-1.0'})
        push_image(source, name, ['1.1', 'latest'], content=base, labels={'build': name + '-1.1'})
    for name in TOOLS + LEFT_OUT:
        push_image(source, name, '1.0', content='tools layer\n', labels={'build': name})
    return source, target


def spread_prefix(target_host: str) -> str:
    """A target_prefix under which every shard owns at least two repositories.

    The shard of a repository hashes its full target name, and the harness's port is new each run, so with 15
    repositories a shard could own none; the prefix is chosen (the first that spreads them) so that every run checks
    four working shards.
    """
    for prefix in ['mirror'] + ['mirror%d' % n for n in range(1, 200)]:
        owners = [shard_of('%s/%s/%s' % (target_host, prefix, name), SHARDS) for name in TEAM + TOOLS]
        if min(owners.count(index) for index in range(SHARDS)) >= 2:
            return prefix
    raise AssertionError('no prefix spreads the repositories over %d shards' % SHARDS)


@pytest.fixture(scope='module')
def recipe(ansible_env, registries, tmp_path_factory):
    return Recipe(ansible_env, registries[0], registries[1], str(tmp_path_factory.mktemp('reports')))


class Recipe:
    """Runs the shipped playbooks the way AWX would: one process per slice, side by side."""

    def __init__(self, env: t.Dict[str, str], source: t.Any, target: t.Any, report_dir: str) -> None:
        self.env = dict(env, OCI_REGISTRY_PLAIN_HTTP='true')  # both harness registries are plain HTTP; the playbook has no TLS options
        self.source, self.target, self.report_dir = source, target, report_dir
        self.prefix = spread_prefix(target.host)
        self.expected = {'%s/%s/%s' % (target.host, self.prefix, name) for name in TEAM + TOOLS}

    def extra(self, **more: t.Any) -> t.Dict[str, t.Any]:
        return dict({'mirror_source': self.source.host, 'mirror_target': self.target.host, 'mirror_include': ['team/**', 'tools/*'],
                     'mirror_exclude': ['team/legacy-*'], 'mirror_prefix': self.prefix, 'mirror_report_dir': self.report_dir,
                     'mirror_run': 'test'}, **more)

    def start(self, limit: t.List[str], check: bool = False, **extra: t.Any) -> subprocess.Popen:
        args = [os.path.join(BIN_DIR, 'ansible-playbook'), '-i', INVENTORY, PLAYBOOK, '--limit', ','.join(limit),
                '-e', json.dumps(self.extra(**extra))]
        if check:
            args.append('--check')
        return subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def slices(self, check: bool = False, only: t.Optional[t.List[int]] = None, **extra: t.Any) -> t.Dict[int, t.Dict[str, t.Any]]:
        """Every AWX slice as its own concurrent process; the reports they wrote, by shard index."""
        for old in glob.glob(os.path.join(self.report_dir, 'shard-*.json')):
            os.unlink(old)
        slices = awx_slices(INVENTORY, SHARDS)
        procs = [self.start(hosts, check, **extra) for n, hosts in enumerate(slices) if only is None or n in only]
        for proc in procs:
            out = proc.communicate(timeout=120)[0]
            assert proc.returncode == 0, out[-5000:]
        return self.reports()

    def reports(self) -> t.Dict[int, t.Dict[str, t.Any]]:
        found = {}
        for path in glob.glob(os.path.join(self.report_dir, 'shard-*.json')):
            with open(path, encoding='utf-8') as handle:
                report = json.load(handle)
            found[report['shard']['index']] = report
        return found

    def unsharded(self, check: bool = True, **extra: t.Any) -> t.Dict[str, t.Any]:
        """The same playbook as one process and one shard of one (extra vars win over the inventory's)."""
        for old in glob.glob(os.path.join(self.report_dir, 'shard-*.json')):
            os.unlink(old)
        proc = self.start(['shard-0'], check, shard_count=1, shard_index=0, **extra)
        out = proc.communicate(timeout=120)[0]
        assert proc.returncode == 0, out[-5000:]
        return self.reports()[0]


def plan(report: t.Dict[str, t.Any]) -> t.Set[t.Tuple[str, str, str]]:
    return {(r['target'], r['tag'], r['action']) for r in report['results']}


def repositories(report: t.Dict[str, t.Any]) -> t.Set[str]:
    return {r['target'] for r in report['results']}


def writes(registry: t.Any) -> t.Dict[str, int]:
    """Manifest PUTs, manifest DELETEs that deleted, and blob upload sessions, from the registry's own /metrics."""
    counts = {'manifest_put': 0, 'manifest_delete': 0, 'upload': 0}
    for line in registry.metrics().splitlines():
        if not line.startswith('registry_http_requests_total{'):
            continue
        value, lower = int(float(line.rsplit(' ', 1)[1])), line.lower()
        if 'handler="manifest"' in line and 'method="put"' in lower:
            counts['manifest_put'] += value
        if 'handler="manifest"' in line and 'method="delete"' in lower and 'code="202"' in line:  # done (a refused DELETE by tag is not)
            counts['manifest_delete'] += value
        if 'handler="blob_upload"' in line and 'method="post"' in lower:
            counts['upload'] += value
    return counts


def target_tags(registry: t.Any, repository: str) -> t.List[str]:
    from harness.seed import PushClient  # pylint: disable=import-outside-toplevel
    client = PushClient(registry.url)
    try:
        response = client.request('GET', '%s/v2/%s/tags/list' % (registry.url, repository), 'repository:%s:pull' % repository, (200,))
        return sorted(response.json().get('tags') or [])
    finally:
        client.close()


def test_awx_slices_of_the_shipped_inventory():
    assert awx_slices(INVENTORY, 4) == [['shard-0'], ['shard-1'], ['shard-2'], ['shard-3']]
    assert awx_slices(INVENTORY, 3) == [['shard-0', 'shard-3'], ['shard-1'], ['shard-2']]


@pytest.fixture(scope='module')
def runs(recipe, registries):
    """The recipe's phases once, in order: the unsharded plan, the shards' plans, the sync, the rerun (with the registry's writes)."""
    target = registries[1]
    found: t.Dict[str, t.Any] = {'whole': recipe.unsharded()}
    found['before'] = writes(target)
    found['checked'] = recipe.slices(check=True)
    found['after_check'] = writes(target)
    found['synced'] = recipe.slices()
    found['after_sync'] = writes(target)
    found['rerun'] = recipe.slices()
    found['after_rerun'] = writes(target)
    return found


def test_union_of_the_shards_is_the_unsharded_plan(runs, recipe, registries):
    source = registries[0]
    whole, checked = runs['whole'], runs['checked']
    assert repositories(whole) == recipe.expected
    assert whole['shard'] == {'index': 0, 'count': 1, 'repositories': 15, 'total_repositories': 15}
    # the listing's cost: the ping and one catalog page (17 names; distribution sends up to 1000 a page)
    assert whole['catalog'] == {source.host: {'api': 'catalog', 'listed': 17, 'matched': 15, 'requests': 2}}
    assert {action for _target, _tag, action in plan(whole)} == {'created'}
    assert sorted(checked) == [0, 1, 2, 3]
    assert set().union(*(plan(r) for r in checked.values())) == plan(whole)
    owned = {index: repositories(report) for index, report in checked.items()}
    assert sum(len(names) for names in owned.values()) == 15  # no repository in two shards
    for index, names in owned.items():
        assert all(shard_of(name, SHARDS) == index for name in names)
        assert checked[index]['shard'] == {'index': index, 'count': 4, 'repositories': len(names), 'total_repositories': 15}
    assert runs['after_check'] == runs['before']  # check mode wrote nothing


def test_every_tag_is_written_once_over_all_shards(runs):
    synced, before, after = runs['synced'], runs['before'], runs['after_sync']
    assert set().union(*(plan(r) for r in synced.values())) == plan(runs['whole'])
    assert after['manifest_put'] - before['manifest_put'] == len(plan(runs['whole'])) == 12 * 3 + 3
    assert after['manifest_delete'] == before['manifest_delete']
    for index, report in synced.items():
        assert repositories(report) == repositories(runs['checked'][index])


def test_a_rerun_is_all_unchanged_and_writes_nothing(runs):
    assert {action for r in runs['rerun'].values() for _t, _tag, action in plan(r)} == {'unchanged'}
    assert runs['after_rerun'] == runs['after_sync']


def test_merge_playbook_sums_the_shards(runs, recipe, ansible_env):
    def merge(**extra: t.Any) -> subprocess.CompletedProcess:
        return subprocess.run([os.path.join(BIN_DIR, 'ansible-playbook'), MERGE, '-e', json.dumps(
            dict({'mirror_report_dir': recipe.report_dir, 'mirror_shard_count': SHARDS}, **extra))],
            env=ansible_env, capture_output=True, text=True, check=False)

    proc = merge(mirror_run='test')
    assert proc.returncode == 0, proc.stdout[-4000:]
    with open(os.path.join(recipe.report_dir, 'summary.json'), encoding='utf-8') as handle:
        summary = json.load(handle)
    assert summary['ok'] and summary['complete'] and summary['shards']['missing'] == [] and not summary['changed']
    assert summary['repositories'] == 15 and summary['summary']['unchanged'] == 39
    assert sum(sum(m.values()) for m in summary['requests'].values()) == sum(row['requests'] for row in summary['per_shard']) > 0
    assert all(row['catalog_requests'] >= 1 for row in summary['per_shard'])  # every shard lists the catalog itself

    # A shard that did not run this time: its report is gone, the merge says so and fails.
    os.unlink(os.path.join(recipe.report_dir, 'shard-2.json'))
    proc = merge()
    assert proc.returncode != 0 and 'missing shards [2]' in proc.stdout, proc.stdout[-4000:]


def test_prune_in_one_shard_touches_only_its_own_repositories(runs, recipe, registries):
    target = registries[1]
    extra = {}  # a target-only tag in one repository of every shard
    for index, report in sorted(runs['checked'].items()):
        name = sorted(repositories(report))[0].split('/', 1)[1]
        push_image(target, name, '0.9', content='only on the mirror\n', labels={'shard': str(index)})
        extra[index] = name
    before = writes(target)
    pruned = recipe.slices(only=[1], mirror_prune=True)
    assert sorted(pruned) == [1]
    assert [(r['target'], r['tag']) for r in pruned[1]['results'] if r['action'] == 'pruned'] == [('%s/%s' % (target.host, extra[1]), '0.9')]
    for index, name in extra.items():
        assert ('0.9' in target_tags(target, name)) is (index != 1), (index, name)
    assert writes(target)['manifest_delete'] - before['manifest_delete'] == 1


def run_module(client: RegistryClient, params: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
    return registry_sync.run(client, module_params(registry_sync, params), False)


def test_a_catalog_the_credentials_may_not_list_fails_before_any_write(harness, registries):
    """The token registry grants registry:catalog:* to admin only: a reader's whole-registry entry fails, naming the entry."""
    source, target = harness.token, registries[1]
    client = RegistryClient(ConnectionOptions(username='reader', password=source.users['reader'], plain_http=True))
    params = {'repositories': [{'source': source.host, 'target': target.host, 'include': ['test/**'], 'target_prefix': 'denied'}],
              'source_auth': {'username': 'reader', 'password': source.users['reader']}, 'plain_http': True}
    with pytest.raises(PermissionDeniedError) as info:
        run_module(client, params)
    assert info.value.msg.startswith('repositories[0]: cannot list the repositories of registry %s: the catalog of registry %s '
                                     '(/v2/_catalog) is not available to these credentials' % (source.host, source.host))
    assert target.host not in {r.host for r in client.log.records}  # nothing sent to the target
    assert client.log.records and not [r for r in client.log.records if r.method != 'GET']


@pytest.mark.parametrize('extra,message', [
    ({'shard': {'index': 4, 'count': 4}}, 'shard.index must be from 0 to 3 (shard.count - 1; shards are numbered from 0), got 4'),
    ({'shard': {'index': 0, 'count': 0}}, 'shard.count must be a whole number of shards from 1 to 1024, got 0'),
    ({'max_repositories': 0}, 'max_repositories must be 1 or more'),
    ({'max_repositories': 3}, 'more than max_repositories (3) repositories to sync, reached while listing registry'),
])
def test_refused_before_any_write(registries, extra, message):
    source, target = registries
    client = RegistryClient(ConnectionOptions(plain_http=True, auth_method='none'))
    params = dict({'repositories': [{'source': source.host, 'target': target.host, 'include': ['team/**'], 'target_prefix': 'refused'}],
                   'plain_http': True}, **extra)
    with pytest.raises(InvalidInputError) as info:
        run_module(client, params)
    assert message in info.value.msg
    assert not [r for r in client.log.records if r.host == target.host or r.method != 'GET']
