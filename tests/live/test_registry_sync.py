# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sync against the real registries: plan and apply, check mode, diff, reruns, prune, failures, request budgets.

Runs in-process through the module's argspec and run() (request budgets from the transport's RequestLog, writes
from the registries' own /metrics); one playbook through the installed collection; the fault proxy only for what
no local registry does on demand (Docker Hub's RateLimit headers and 429, a source failing part way).
"""

from __future__ import annotations

import json
import re
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.operations._sync import SyncFailedError
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_repository
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.modules import registry_sync

from conftest import assert_ok, connection_vars
from harness.fault_proxy import Fault, FaultProxy
from harness.seed import push_image, push_index
from stress import module_params, registry_writes

TAGS = ('1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', '2.0.0', 'latest', 'edge')


def sync(params: t.Dict[str, t.Any], check_mode: bool = False, client: t.Optional[RegistryClient] = None
         ) -> t.Tuple[t.Dict[str, t.Any], RegistryClient, t.Optional[str]]:
    """(result, client, failure message or None): run() after the real argspec, as run_module does."""
    validated = module_params(registry_sync, params)
    client = client or RegistryClient(ConnectionOptions.from_getter(validated.get))
    try:
        return registry_sync.run(client, validated, check_mode), client, None
    except SyncFailedError as exc:
        return exc.result, client, exc.message


def actions(result: t.Dict[str, t.Any]) -> t.Dict[str, str]:
    return {'%s:%s' % (r['target'].split('/', 1)[1], r['tag']): r['action'] for r in result['results']}


def seed_repo(registry: t.Any, repository: str, tags: t.Sequence[str] = TAGS, salt: str = '') -> t.Dict[str, str]:
    """Each tag its own small image (one shared base layer per repository); returns tag -> digest."""
    return {tag: push_image(registry, repository, tag, content='base %s\n' % repository,
                            labels={'tag': tag + salt}, verify=registry.verify)['digest'] for tag in tags}


def blob_uploads(registry: t.Any) -> t.Tuple[int, int]:
    """(upload sessions opened, blob PUTs accepted) from the registry's own /metrics."""
    sessions = puts = 0.0
    for line in registry.metrics().splitlines():
        if not line.startswith('registry_http_requests_total{'):
            continue
        value = float(line.rsplit(' ', 1)[1])
        if 'handler="blob_upload"' in line and 'method="post"' in line.lower() and 'code="202"' in line:
            sessions += value
        if 'handler="blob_upload_chunk"' in line and 'method="put"' in line.lower() and 'code="201"' in line:
            puts += value
    return int(sessions), int(puts)


def entry(source: t.Any, target: t.Any, repository: str, target_repository: t.Optional[str] = None, **extra: t.Any) -> t.Dict[str, t.Any]:
    return dict({'source': '%s/%s' % (source.host, repository), 'target': '%s/%s' % (target.host, target_repository or repository)}, **extra)


@pytest.fixture(scope='module')
def two_repos(harness):
    return {name: seed_repo(harness.open, name) for name in ('sync/alpha', 'sync/beta')}


def test_check_mode_then_sync_then_noop_rerun_open_to_basic_tls(harness, two_repos):
    target = harness.basic_tls
    params = dict(connection_vars(target, target.admin_user), source_auth={'plain_http': True},
                  repositories=[entry(harness.open, target, 'sync/alpha', 'mirror/alpha'), entry(harness.open, target, 'sync/beta', 'mirror/beta')])
    writes = registry_writes(target)
    planned, client, failure = sync(params, check_mode=True)
    assert failure is None and planned['changed'] is True
    assert planned['summary']['created'] == 14 and set(actions(planned).values()) == {'created'}
    assert registry_writes(target) == writes
    assert client.log.count('GET', '/blobs/') == 0 and not [r for r in client.log.records if r.method in ('PUT', 'POST', 'PATCH', 'DELETE')]
    assert planned['diff']['before']['%s/mirror/alpha:1.0.0' % target.host] is None

    done, done_client, failure = sync(params)
    assert failure is None and done['changed'] is True and done['summary']['created'] == 14
    # The target had neither repository: one HEAD each (the first tag's) missed, the tag lists answered NAME_UNKNOWN,
    # and nothing else was asked before writing; each tag's source manifest was read once, by a GET at plan time
    # that its copy then used.
    assert sorted(r.path for r in done_client.log.records if r.host == target.host and r.method == 'HEAD') == [
        '/v2/mirror/%s/manifests/%s' % (name, TAGS[0]) for name in ('alpha', 'beta')]
    tag_reads = [(r.method, r.path) for r in done_client.log.records if r.host == harness.open.host and '/manifests/' in r.path
                 and not r.path.rsplit('/', 1)[1].startswith('sha256:')]
    assert sorted(tag_reads) == sorted(('GET', '/v2/sync/%s/manifests/%s' % (name, tag)) for name in ('alpha', 'beta') for tag in TAGS)
    assert done['copied_blobs'] == planned['copied_blobs'] and done['mounted_blobs'] == planned['mounted_blobs']
    for result in done['results']:
        repo = 'sync/' + result['target'].rsplit('/', 1)[1]
        assert result['source_digest'] == result['target_digest'] == two_repos[repo][result['tag']]
    assert done['diff']['after']['%s/mirror/beta:edge' % target.host] == two_repos['sync/beta']['edge']

    again, client, failure = sync(params)
    assert failure is None and again['changed'] is False and again['summary']['unchanged'] == 14
    assert again['diff'] == {'before': {}, 'after': {}}
    source_log = [r for r in client.log.records if r.host == harness.open.host]
    target_log = [r for r in client.log.records if r.host == target.host]
    # Budget of a no-op rerun: per repository one source tag list, per tag one HEAD on each side, nothing else.
    assert sorted((r.method, r.path) for r in source_log if r.path != '/v2/') == sorted(
        [('GET', '/v2/sync/%s/tags/list' % name) for name in ('alpha', 'beta')]
        + [('HEAD', '/v2/sync/%s/manifests/%s' % (name, tag)) for name in ('alpha', 'beta') for tag in TAGS])
    assert sorted((r.method, r.path) for r in target_log if r.path != '/v2/') == sorted(
        ('HEAD', '/v2/mirror/%s/manifests/%s' % (name, tag)) for name in ('alpha', 'beta') for tag in TAGS)
    assert again['requests'][harness.open.host] == {'GET': 3, 'HEAD': 14}


def test_selection_semver_names_and_pin(harness, two_repos):
    source, target = harness.open, harness.open
    pinned = two_repos['sync/alpha']['1.0.0']
    params = dict(connection_vars(target), repositories=[
        entry(source, target, 'sync/alpha', 'sel/semver', tags={'semver': '>=1.1.0 <3', 'sort': 'semver', 'order': 'desc', 'limit': 2}),
        entry(source, target, 'sync/alpha', 'sel/names', tags={'names': ['1.0.0@%s' % pinned, 'edge@%s' % pinned, 'nope']}),
    ])
    result, _client, failure = sync(params)
    assert actions(result) == {'sel/semver:2.0.0': 'created', 'sel/semver:1.2.0': 'created',
                               'sel/names:1.0.0': 'created', 'sel/names:edge': 'failed', 'sel/names:nope': 'failed'}
    assert 'moved' in failure and 'not in the source' in failure and 'sel/names:edge' in failure
    reasons = {r['tag']: r['reason'] for r in result['results'] if r['action'] == 'failed'}
    assert pinned in reasons['edge'] and two_repos['sync/alpha']['edge'] in reasons['edge']


def test_immutable_rerun_sends_no_source_manifest_request(harness, two_repos):
    target = harness.open
    params = dict(connection_vars(target), immutable=[r'^\d+\.\d+\.\d+$'],
                  repositories=[entry(harness.open, target, 'sync/beta', 'immutable/beta')])
    assert sync(params)[2] is None
    again, client, failure = sync(params)
    assert failure is None and again['changed'] is False
    immutable = [tag for tag in TAGS if re.match(r'^\d+\.\d+\.\d+$', tag)]
    assert {r['tag'] for r in again['results'] if r['reason'] and 'immutable' in r['reason']} == set(immutable)
    paths = {r.path for r in client.log.records}
    for tag in immutable:
        assert '/v2/sync/beta/manifests/%s' % tag not in paths and '/v2/immutable/beta/manifests/%s' % tag not in paths
    assert client.log.count('GET', '/v2/immutable/beta/tags/list') == 1


def test_platform_filter_converges_without_source_get(harness):
    source, target = harness.open, harness.basic_tls
    index = push_index(source, 'sync/multi', ['v1', 'v2'], verify=source.verify)
    params = dict(connection_vars(target, target.admin_user), source_auth={'plain_http': True}, platforms=['linux/amd64'],
                  repositories=[entry(source, target, 'sync/multi', 'mirror/multi')])
    first, _client, failure = sync(params)
    assert failure is None and first['summary']['created'] == 2
    for result in first['results']:
        assert result['source_digest'] == index['digest'] and result['target_digest'] != index['digest']
    writes = registry_writes(target)
    again, client, failure = sync(params)
    assert failure is None and again['changed'] is False and again['summary']['unchanged'] == 2
    assert client.log.count('GET', '/manifests/') == 2  # one GET of the target's filtered index per tag
    assert not [r for r in client.log.records if r.host == source.host and r.method == 'GET' and '/manifests/' in r.path]
    assert registry_writes(target) == writes
    # another platform set is another filter: the tags are rewritten
    changed, _client, failure = sync(dict(params, platforms=['linux/arm64']))
    assert failure is None and changed['summary']['updated'] == 2


def test_shared_base_layer_is_uploaded_once_per_target_registry(harness):
    if 'synctarget' not in harness.registries:
        harness.add_registry('synctarget', 'open')
    target = harness['synctarget']
    for name in ('base/one', 'base/two', 'base/three'):
        push_image(harness.open, name, 'v1', content='one shared base layer\n', labels={'who': name}, verify=harness.open.verify)
    before = blob_uploads(target)
    params = dict(connection_vars(target), workers=4,
                  repositories=[entry(harness.open, target, name) for name in ('base/one', 'base/two', 'base/three')])
    result, _client, failure = sync(params)
    assert failure is None and result['summary']['created'] == 3
    sessions, puts = (now - then for now, then in zip(blob_uploads(target), before))
    # one shared layer and three configs: four uploads; the layer is mounted into the other two repositories
    assert (sessions, puts) == (4, 4) and result['copied_blobs'] == 4 and result['mounted_blobs'] == 2


def test_prune_within_the_selection_only(harness):
    source, target = harness.open, harness.open
    seed_repo(source, 'prune/src', ['1.0.0', '1.1.0', 'latest'])
    params = dict(connection_vars(target), prune=True,
                  repositories=[entry(source, target, 'prune/src', 'prune/dst', tags={'semver': '>=1.0.0'})])
    assert sync(params)[2] is None
    extra = seed_repo(target, 'prune/dst', ['0.9.0', '1.5.0', 'keep-me'], salt='-old')  # 0.9.0 is outside, 1.5.0 is gone from the source
    signature_tag = 'sha256-%s.sig' % ('ab' * 32)
    push_image(target, 'prune/dst', signature_tag, content='signature\n', verify=target.verify)
    planned, client, failure = sync(params, check_mode=True)
    assert failure is None and actions(planned)['prune/dst:1.5.0'] == 'pruned'
    assert not [r for r in client.log.records if r.method == 'DELETE']
    done, _client, failure = sync(params)
    assert failure is None and done['changed'] is True
    assert {k: v for k, v in actions(done).items() if v == 'pruned'} == {'prune/dst:1.5.0': 'pruned'}
    assert done['diff']['before']['%s/prune/dst:1.5.0' % target.host] == extra['1.5.0']
    assert done['diff']['after']['%s/prune/dst:1.5.0' % target.host] is None
    tags = set(RegistryClient(ConnectionOptions(plain_http=True)).list_tags(parse_repository('%s/prune/dst' % target.host)))
    assert {'0.9.0', 'keep-me', signature_tag, '1.0.0', '1.1.0'} <= tags and '1.5.0' not in tags
    assert sync(params)[0]['changed'] is False


def test_prune_max_and_collateral_block(harness):
    source, target = harness.open, harness.open
    seed_repo(source, 'prunemax/src', ['1.0.0'])
    seed_repo(target, 'prunemax/dst', ['1.1.0', '1.2.0', '1.3.0'], salt='-gone')
    params = dict(connection_vars(target), prune=True, prune_max=2,
                  repositories=[entry(source, target, 'prunemax/src', 'prunemax/dst')])
    result, _client, failure = sync(params)
    assert {tag: a for tag, a in actions(result).items() if tag != 'prunemax/dst:1.0.0'} == {
        'prunemax/dst:1.1.0': 'blocked', 'prunemax/dst:1.2.0': 'blocked', 'prunemax/dst:1.3.0': 'blocked'}
    assert 'prune_max' in failure and '3 tags' in failure
    # a gone tag sharing its digest with a kept tag: distribution deletes by digest only, so it is blocked
    push_image(source, 'collateral/src', '1.0.0', content='base collateral\n', verify=source.verify)
    params = dict(connection_vars(target), prune=True, repositories=[entry(source, target, 'collateral/src', 'collateral/dst')])
    assert sync(params)[2] is None
    client = RegistryClient(ConnectionOptions(plain_http=True))
    kept = client.get_manifest(parse_image('%s/collateral/dst:1.0.0' % target.host))
    client.put_manifest(parse_image('%s/collateral/dst:old' % target.host), kept.raw, kept.media_type)
    result, _client, failure = sync(params)
    assert actions(result) == {'collateral/dst:1.0.0': 'unchanged', 'collateral/dst:old': 'blocked'}
    assert '1.0.0' in failure and 'collateral/dst:old' in failure
    assert client.head_manifest(parse_image('%s/collateral/dst:old' % target.host)).digest == kept.digest


def test_prune_on_a_delete_disabled_target_fails_that_tag(harness):
    if 'nodelete' not in harness.registries:
        harness.add_registry('nodelete', 'open', delete_enabled=False)
    target = harness['nodelete']
    seed_repo(harness.open, 'nodel/src', ['1.0.0'])
    seed_repo(target, 'nodel/dst', ['0.1.0'], salt='-gone')
    params = dict(connection_vars(target), prune=True, repositories=[entry(harness.open, target, 'nodel/src', 'nodel/dst')])
    result, _client, failure = sync(params)
    assert actions(result) == {'nodel/dst:1.0.0': 'created', 'nodel/dst:0.1.0': 'failed'}
    assert 'delete' in failure and 'storage.delete.enabled' in failure


def test_keep_going_records_failures_and_goes_on(harness, two_repos):
    target = harness.open
    params = dict(connection_vars(target), repositories=[
        entry(harness.open, target, 'sync/missing', 'kg/missing'),
        entry(harness.open, target, 'sync/alpha', 'kg/alpha', tags={'names': ['1.0.0', 'latest']}),
    ])
    result, _client, failure = sync(params)
    assert actions(result) == {'kg/missing:None': 'failed', 'kg/alpha:1.0.0': 'created', 'kg/alpha:latest': 'created'}
    assert failure.startswith('1 of 3') and 'sync/missing' in failure and 'not found' in failure
    stopped, _client, failure = sync(dict(params, keep_going=False, workers=1, repositories=[
        params['repositories'][0], entry(harness.open, target, 'sync/alpha', 'kg/stopped', tags={'names': ['1.0.0']})]))
    assert actions(stopped) == {'kg/missing:None': 'failed', 'kg/stopped:1.0.0': 'skipped'}
    assert 'keep_going' in stopped['results'][1]['reason']


def test_token_source_with_source_auth_and_pull_only_target_refused(harness):
    token = harness.token
    target = harness.basic_tls
    params = dict(connection_vars(target, target.admin_user),
                  source_auth={'username': 'reader', 'password': token.users['reader'], 'plain_http': True},
                  repositories=[entry(token, target, 'test/oci-image', 'fromtoken/oci-image')])
    result, _client, failure = sync(params)
    assert failure is None and result['summary']['created'] == 2
    refused = dict(connection_vars(token, 'reader'), repositories=[entry(harness.open, token, 'sync/alpha', 'denied/alpha',
                                                                         tags={'names': ['1.0.0']})],
                   source_auth={'username': None})
    writes = registry_writes(token)
    result, _client, failure = sync(refused)
    assert actions(result) == {'denied/alpha:1.0.0': 'failed'} and ('denied' in failure.lower() or 'insufficient' in failure.lower())
    assert token.users['reader'] not in json.dumps(result) + failure
    assert registry_writes(token) == writes


@pytest.fixture()
def hub(harness):
    """A fault proxy in front of the open registry that behaves like Docker Hub's pull limit."""
    proxy = FaultProxy(harness.open.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def test_min_ratelimit_remaining_leaves_work_for_later(harness, hub, two_repos):
    hub.limit_pulls(remaining=7)
    target = harness.open
    params = {'plain_http': True, 'min_ratelimit_remaining': 5, 'workers': 1, 'retries': 0,
              'repositories': [{'source': '%s/sync/alpha' % hub.host, 'target': '%s/rl/alpha' % target.host}]}
    result, _client, failure = sync(params)
    assert failure is None and result['partial'] is True
    assert result['summary']['created'] == 2 and result['summary']['skipped'] == 5  # two pulls spent, five left for later
    assert result['ratelimit'][hub.host]['remaining'] == 5 and 'min_ratelimit_remaining' in result['ratelimit'][hub.host]['stopped']
    assert hub.count('HEAD', '/manifests/') == 7  # every tag compared: a HEAD costs no pull
    again, _client, failure = sync(params)  # still 5 left: nothing more is copied, the unchanged two stay unchanged
    assert again['summary'] == dict(again['summary'], unchanged=2, skipped=5)


def test_429_from_the_source_stops_its_copies(harness, hub, two_repos):
    hub.limit_pulls(remaining=1)
    params = {'plain_http': True, 'workers': 1, 'retries': 0,
              'repositories': [{'source': '%s/sync/beta' % hub.host, 'target': '%s/rl429/beta' % harness.open.host}]}
    result, _client, failure = sync(params)
    assert failure is None and result['partial'] is True
    assert result['summary']['created'] == 1 and result['summary']['skipped'] == 6
    assert '429' in result['ratelimit'][hub.host]['stopped']


def test_a_source_failing_part_way_leaves_no_half_written_tag(harness, hub, two_repos):
    hub.add(Fault.reset(), method='GET', path='/blobs/', count=None)
    params = {'plain_http': True, 'retries': 0, 'timeout': 2,
              'repositories': [{'source': '%s/sync/alpha' % hub.host, 'target': '%s/partway/alpha' % harness.open.host,
                                'tags': {'names': ['1.0.0']}},
                               {'source': '%s/sync/beta' % harness.open.host, 'target': '%s/partway/beta' % harness.open.host,
                                'tags': {'names': ['1.0.0']}}]}
    result, client, failure = sync(params)
    assert actions(result) == {'partway/alpha:1.0.0': 'failed', 'partway/beta:1.0.0': 'created'}
    assert 'partway/alpha:1.0.0' in failure
    assert not [r for r in client.log.records if r.method == 'PUT' and '/partway/alpha/manifests/' in r.path]


def test_through_the_installed_collection_with_check_and_diff(ansible, harness, two_repos):
    target = harness.open
    args = dict(connection_vars(target), repositories=[entry(harness.open, target, 'sync/alpha', 'play/alpha',
                                                             tags={'match': '^1\\.'})])
    tasks = '''
    - oci.registry.registry_sync: "{{ args }}"
      register: planned
      check_mode: true
      diff: true
    - oci.registry.registry_sync: "{{ args }}"
      register: done
    - oci.registry.registry_sync: "{{ args }}"
      register: again
    - ansible.builtin.assert:
        that:
          - planned is changed and planned.summary.created == 3
          - done is changed and done.summary.created == 3 and done.results | map(attribute='action') | unique == ['created']
          - again is not changed and again.summary.unchanged == 3
    '''
    run = ansible.playbook(tasks, {'args': args}, verbosity=0)
    assert_ok(run)
    assert 'play/alpha:1.0.0' in run.stdout
