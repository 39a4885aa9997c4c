# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_repo_delete against the harness's real distribution 2.8 registries.

distribution 2.8 deletes by digest only (DELETE by tag -> 400 DIGEST_INVALID), so these tests
exercise the collateral check: the module must delete what was asked and nothing else. Every
test pushes its own repository. Most cases run in process through ``run(client, params,
check_mode)`` (fast, exact RequestLog); a few run the installed collection with ansible-playbook.
"""

from __future__ import annotations

import uuid

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_repo_delete as repo_delete

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.operations._delete import CollateralTagsError
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, PermissionDeniedError, RegistryError, UnsupportedError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

from conftest import assert_ok, connection_vars
from harness.seed import push_image, push_index


def fresh(prefix):
    return 'del/%s-%s' % (prefix, uuid.uuid4().hex[:8])


def client_for(registry, user=None):
    opts = connection_vars(registry, user)
    return RegistryClient(ConnectionOptions(**opts))


def params(registry, repository, **kwargs):
    values = {'repository': '%s/%s' % (registry.host, repository), 'tags': [], 'digests': [], 'all_tags': False, 'force': False}
    values.update(kwargs)
    return values


def tags_of(registry, repository, user=None):
    client = client_for(registry, user)
    try:
        return sorted(client.list_tags(parse_image('%s/%s' % (registry.host, repository), default_tag=None)))
    except Exception:  # pylint: disable=broad-except
        return None


def digest_of(registry, repository, reference):
    ref = parse_image('%s/%s%s%s' % (registry.host, repository, '@' if ':' in reference else ':', reference))
    return client_for(registry).resolve(ref).digest


def exists(registry, repository, reference):
    try:
        digest_of(registry, repository, reference)
    except Exception:  # pylint: disable=broad-except
        return False
    return True


def deletes(client):
    return [(r.path.rsplit('/', 1)[-1], r.status) for r in client.log.records if r.method == 'DELETE']


def test_unique_tag_is_deleted_and_siblings_stay(harness):
    registry, repo = harness.open, fresh('unique')
    gone = push_image(registry, repo, 'pr-1', content='pr-1\n')
    kept = push_image(registry, repo, ['v1', 'latest'], content='release\n')
    client = client_for(registry)
    result = repo_delete.run(client, params(registry, repo, tags=['pr-1']), False)
    assert result['changed'] is True
    assert result['deleted'] == [{'tag': 'pr-1', 'digest': gone['digest']}]
    assert result['deleted_manifests'] == [gone['digest']] and result['collateral_tags'] == []
    assert result['diff'] == {'before': {'pr-1': gone['digest']}, 'after': {}}
    # distribution 2.8: the tag DELETE is refused (400), then the digest goes
    assert deletes(client) == [('pr-1', 400), (gone['digest'], 202)]
    assert tags_of(registry, repo) == ['latest', 'v1']
    assert digest_of(registry, repo, 'v1') == kept['digest']

    again = client_for(registry)
    rerun = repo_delete.run(again, params(registry, repo, tags=['pr-1']), False)
    assert rerun['changed'] is False and rerun['deleted'] == [] and rerun['already_absent'] == ['pr-1']
    assert again.log.count('DELETE') == 0 and again.log.count('PUT') == 0


def test_collateral_tags_are_refused_and_listed(harness):
    registry, repo = harness.open, fresh('collateral')
    image = push_image(registry, repo, ['v1', 'latest', 'stable'])
    client = client_for(registry)
    with pytest.raises(CollateralTagsError) as info:
        repo_delete.run(client, params(registry, repo, tags=['v1']), False)
    message = str(info.value)
    assert 'latest, stable' in message and 'force: true' in message and 'nothing was deleted' in message
    assert 'DIGEST_INVALID' in message  # why the tag cannot be deleted alone
    assert deletes(client) == [('v1', 400)]  # the one probe; no digest DELETE
    assert tags_of(registry, repo) == ['latest', 'stable', 'v1']
    assert digest_of(registry, repo, 'latest') == image['digest']


def test_force_deletes_and_reports_collateral_tags(harness):
    registry, repo = harness.open, fresh('force')
    image = push_image(registry, repo, ['v1', 'latest', 'stable'])
    other = push_image(registry, repo, 'v2', content='v2\n')
    result = repo_delete.run(client_for(registry), params(registry, repo, tags=['v1'], force=True), False)
    assert result['changed'] and result['collateral_tags'] == ['latest', 'stable']
    assert sorted(d['tag'] for d in result['deleted']) == ['latest', 'stable', 'v1']
    assert {d['digest'] for d in result['deleted']} == {image['digest']}
    assert tags_of(registry, repo) == ['v2'] and digest_of(registry, repo, 'v2') == other['digest']


def test_check_mode_sends_no_delete(harness):
    registry, repo = harness.open, fresh('check')
    image = push_image(registry, repo, ['v1', 'latest'])
    before = registry.request_count('DELETE')
    client = client_for(registry)
    result = repo_delete.run(client, params(registry, repo, tags=['v1'], force=True), True)
    assert result['changed'] and result['collateral_tags'] == ['latest']
    assert result['diff']['before'] == {'v1': image['digest'], 'latest': image['digest']}
    assert 'check mode cannot learn' in result['msg']
    assert client.log.count('DELETE') == 0 and client.log.count('PUT') == 0
    with pytest.raises(CollateralTagsError):  # without force, check mode refuses as the real run would
        repo_delete.run(client_for(registry), params(registry, repo, tags=['v1']), True)
    assert registry.request_count('DELETE') == before
    assert tags_of(registry, repo) == ['latest', 'v1']


def test_delete_by_digest(harness):
    registry, repo = harness.open, fresh('digest')
    untagged = push_image(registry, repo, None, content='untagged\n')
    tagged = push_image(registry, repo, ['a', 'b'], content='tagged\n')
    result = repo_delete.run(client_for(registry), params(registry, repo, digests=[untagged['digest']]), False)
    assert result['deleted'] == [{'tag': None, 'digest': untagged['digest']}]
    assert result['diff']['before'] == {'@' + untagged['digest']: untagged['digest']}
    assert not exists(registry, repo, untagged['digest'])
    with pytest.raises(CollateralTagsError, match='a, b'):
        repo_delete.run(client_for(registry), params(registry, repo, digests=[tagged['digest']]), False)
    # naming the tags too makes them wanted, not collateral
    named = repo_delete.run(client_for(registry), params(registry, repo, digests=[tagged['digest']], tags=['a', 'b']), False)
    assert named['collateral_tags'] == [] and named['deleted_manifests'] == [tagged['digest']]
    assert tags_of(registry, repo) == []
    rerun = repo_delete.run(client_for(registry), params(registry, repo, digests=[tagged['digest']]), False)
    assert rerun['changed'] is False and rerun['already_absent'] == [tagged['digest']]


def test_multi_arch_index_goes_before_its_unused_children(harness):
    registry, repo = harness.open, fresh('index')
    index = push_index(registry, repo, 'v1')
    amd64, arm64 = index['children']['linux/amd64'], index['children']['linux/arm64/v8']
    # the amd64 child has a tag of its own: it has another user and stays
    assert push_image(registry, repo, 'amd64', platform=('linux', 'amd64', None))['digest'] == amd64
    client = client_for(registry)
    result = repo_delete.run(client, params(registry, repo, tags=['v1']), False)
    assert result['deleted'] == [{'tag': 'v1', 'digest': index['digest']}, {'tag': None, 'digest': arm64}]
    assert result['deleted_manifests'] == [index['digest'], arm64]
    assert deletes(client) == [('v1', 400), (index['digest'], 202), (arm64, 202)]
    assert digest_of(registry, repo, 'amd64') == amd64
    assert not exists(registry, repo, arm64)


def test_child_of_an_index_that_stays_is_refused(harness):
    """A platform child named by digest, while an index that lists it keeps its tags: deleting the child would break
    the index for everyone pulling that platform, so it is refused (in check mode too), naming the index and its tags."""
    registry, repo = harness.open, fresh('child')
    index = push_index(registry, repo, ['v1', 'latest'])
    amd64 = index['children']['linux/amd64']
    for check_mode in (True, False):
        client = client_for(registry)
        with pytest.raises(RegistryError) as info:
            repo_delete.run(client, params(registry, repo, digests=[amd64]), check_mode)
        message = str(info.value)
        assert info.value.kind == 'index_child', message
        assert amd64 in message and index['digest'] in message and 'latest, v1' in message, message
        assert 'force: true' in message and 'nothing was deleted' in message
        assert deletes(client) == []
    assert exists(registry, repo, amd64) and tags_of(registry, repo) == ['latest', 'v1']
    planned = repo_delete.run(client_for(registry), params(registry, repo, digests=[amd64], force=True), True)
    assert planned['deleted'] == [{'tag': None, 'digest': amd64}] and planned['diff']['before'] == {'@' + amd64: amd64}
    assert index['digest'] in planned['msg'] and exists(registry, repo, amd64)
    client = client_for(registry)
    forced = repo_delete.run(client, params(registry, repo, digests=[amd64], force=True), False)
    assert forced['deleted'] == planned['deleted'] and forced['deleted_manifests'] == [amd64]
    assert index['digest'] in forced['msg'] and 'v1' in forced['msg']
    assert deletes(client) == [(amd64, 202)]
    assert not exists(registry, repo, amd64) and digest_of(registry, repo, 'v1') == index['digest']


def test_child_named_through_its_own_tag_is_refused_while_its_index_stays(harness):
    """distribution deletes a tag through its digest: a tag on a platform child would take the child out of its index."""
    registry, repo = harness.open, fresh('childtag')
    index = push_index(registry, repo, 'v1')
    arm64 = index['children']['linux/arm64/v8']
    assert push_image(registry, repo, 'arm', platform=('linux', 'arm64', 'v8'))['digest'] == arm64
    with pytest.raises(RegistryError) as info:
        repo_delete.run(client_for(registry), params(registry, repo, tags=['arm']), False)
    assert info.value.kind == 'index_child' and index['digest'] in str(info.value) and 'v1' in str(info.value)
    assert digest_of(registry, repo, 'arm') == arm64
    # deleting the index as well is no breakage: the index goes first, then the child
    both = repo_delete.run(client_for(registry), params(registry, repo, tags=['arm', 'v1']), False)
    assert both['deleted_manifests'][0] == index['digest'] and set(both['deleted_manifests']) == {index['digest']} | set(index['children'].values())


def test_whole_repository(harness):
    registry, repo = harness.open, fresh('whole')
    index = push_index(registry, repo, ['v1', 'latest'])
    image = push_image(registry, repo, ['v2', 'old'], content='v2\n')
    with pytest.raises(InvalidInputError, match='all_tags'):
        repo_delete.run(client_for(registry), params(registry, repo, all_tags=True, tags=['v2']), False)
    client = client_for(registry)
    result = repo_delete.run(client, params(registry, repo, all_tags=True), False)
    assert sorted(d['tag'] or '-' for d in result['deleted']) == ['-', '-', 'latest', 'old', 'v1', 'v2']
    assert result['deleted_manifests'][0] == index['digest']  # the index before its children
    assert set(result['deleted_manifests']) == {index['digest'], image['digest']} | set(index['children'].values())
    assert 'garbage collection' in result['msg']
    assert tags_of(registry, repo) == []  # distribution lists tags: null afterwards
    rerun = repo_delete.run(client_for(registry), params(registry, repo, all_tags=True), False)
    assert rerun['changed'] is False and rerun['already_absent'] == ['%s/%s' % (registry.host, repo)]


def test_deletes_disabled_is_a_clear_405(harness):
    registry = harness.registries.get('nodelete') or harness.add_registry('nodelete', 'open', delete_enabled=False)
    repo = fresh('disabled')
    push_image(registry, repo, 'v1')
    with pytest.raises(UnsupportedError) as info:
        repo_delete.run(client_for(registry), params(registry, repo, tags=['v1']), False)
    assert 'deletes are disabled' in str(info.value) and 'storage.delete.enabled' in str(info.value)
    assert 'nothing was deleted' in str(info.value)
    assert tags_of(registry, repo) == ['v1']


def test_pull_only_token_user_is_denied_and_nothing_is_deleted(harness):
    registry, repo = harness.token, fresh('reader')
    push_image(registry, repo, ['v1', 'v2'])
    with pytest.raises(PermissionDeniedError) as info:
        repo_delete.run(client_for(registry, 'reader'), params(registry, repo, tags=['v1']), False)
    assert 'insufficient scope' in str(info.value) and 'nothing was deleted' in str(info.value)
    assert registry.users['reader'] not in str(info.value)
    assert tags_of(registry, repo, 'admin') == ['v1', 'v2']


def test_admin_asks_for_delete_scope_only_for_the_delete(harness):
    registry, repo = harness.token, fresh('scope')
    image = push_image(registry, repo, 'v1')
    before = len(harness.token_server.grants)
    result = repo_delete.run(client_for(registry, 'admin'), params(registry, repo, tags=['v1']), False)
    assert result['deleted'] == [{'tag': 'v1', 'digest': image['digest']}]
    scopes = [g['scopes'] for g in harness.token_server.grants[before:]]
    assert scopes == [['repository:%s:pull' % repo], ['repository:%s:delete' % repo]]


def test_missing_repository_and_tag_are_already_absent(harness):
    registry, repo = harness.open, fresh('missing')
    client = client_for(registry)
    result = repo_delete.run(client, params(registry, repo, tags=['v1'], digests=['sha256:' + 'a' * 64]), False)
    assert result['changed'] is False and result['already_absent'] == ['v1', 'sha256:' + 'a' * 64]
    assert client.log.count('DELETE') == 0
    whole = repo_delete.run(client_for(registry), params(registry, repo, all_tags=True), False)
    assert whole['changed'] is False


@pytest.mark.parametrize('kwargs,message', [
    ({}, 'nothing to delete'),
    ({'tags': ['-bad']}, 'tags:'),
    ({'digests': ['sha256:abc']}, 'digests:'),
    ({'repository': 'x/y:v1'}, 'repository:'),
])
def test_bad_input_is_refused(harness, kwargs, message):
    values = params(harness.open, 'del/any')
    values.update(kwargs)
    with pytest.raises(InvalidInputError, match=message):
        repo_delete.run(client_for(harness.open), values, False)


PLAYBOOK = '''
- name: Check mode with diff
  oci.registry.registry_repo_delete: "{{ conn | combine({'repository': repo, 'tags': ['pr-1']}) }}"
  check_mode: true
  diff: true
  register: checked
- name: Delete
  oci.registry.registry_repo_delete: "{{ conn | combine({'repository': repo, 'tags': ['pr-1']}) }}"
  register: deleted
- name: Rerun
  oci.registry.registry_repo_delete: "{{ conn | combine({'repository': repo, 'tags': ['pr-1']}) }}"
  register: rerun
- name: Collateral refusal
  oci.registry.registry_repo_delete: "{{ conn | combine({'repository': repo, 'tags': ['v1']}) }}"
  register: refused
  ignore_errors: true
- ansible.builtin.assert:
    that:
      - "checked is changed and checked.deleted == [{'tag': 'pr-1', 'digest': pr_digest}]"
      - deleted is changed and deleted.deleted == checked.deleted and deleted.deleted_manifests == [pr_digest]
      - rerun is not changed and rerun.already_absent == ['pr-1']
      - refused is failed and refused.error_kind == 'collateral_tags'
      - "'latest' in refused.msg and 'Traceback' not in (refused.module_stderr | default(''))"
'''


def test_playbook_on_tls_htpasswd_registry(ansible, harness):
    registry, repo = harness.basic_tls, fresh('playbook')
    pr = push_image(registry, repo, 'pr-1', content='pr\n', verify=registry.verify)
    push_image(registry, repo, ['v1', 'latest'], verify=registry.verify)
    before = registry.request_count('DELETE')
    run = ansible.playbook(PLAYBOOK, {'conn': connection_vars(registry, 'alice'), 'repo': '%s/%s' % (registry.host, repo),
                                      'pr_digest': pr['digest']})
    assert_ok(run)
    # pr-1: one refused tag DELETE and one digest DELETE; v1: one refused tag DELETE. Check mode and rerun: none.
    assert registry.request_count('DELETE') - before == 3
    assert registry.users['alice'] not in run.output
    assert tags_of(registry, repo, 'alice') == ['latest', 'v1']
