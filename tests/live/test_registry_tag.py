# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tag against the harness's real registries: in-process run() for the many cases and their
request counts, the installed collection through playbooks and ad-hoc commands end to end, and
skopeo as an independent client to cross-check digests. The installed module's contract (check mode with diff,
promotion, unchanged rerun, a refusal) is its ansible-test target, tests/integration/targets/registry_tag."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_manifest_info as manifest_info
from ansible_collections.oci.registry.plugins.modules import registry_tag

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError, PermissionDeniedError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

from conftest import connection_vars
from harness.seed import PushClient, push_image, push_index, sha256_digest

WRITES = ('POST', 'PUT', 'PATCH', 'DELETE')
OCI_EMPTY = 'application/vnd.oci.empty.v1+json'


def params(source, tags, **extra):
    base = {'source': source, 'tags': tags, 'repository': None, 'overwrite': True, 'referrers': False, 'source_auth': None}
    base.update(extra)
    return base


def client_for(registry, user=None):
    return RegistryClient(ConnectionOptions(**connection_vars(registry, user)))


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


def writes(client, since=0):
    return [(r.method, r.path) for r in client.log.records[since:] if r.method in WRITES]


def skopeo_raw(registry, reference, user=None):
    args = ['skopeo', 'inspect', '--raw']
    if registry.scheme == 'http' or registry.ca_cert:
        args.append('--tls-verify=false')
    if user:
        args += ['--creds', '%s:%s' % (user, registry.users[user])]
    proc = subprocess.run(args + ['docker://%s/%s' % (registry.host, reference)], capture_output=True, check=True, timeout=60)
    return proc.stdout


def test_same_repository_retag_rerun_and_check_mode(harness):
    """Retag: ping + HEAD target, GET source, PUT; rerun: GET + HEAD, no write; check mode: no write at all."""
    registry = harness.open
    repo = unique('tag/same')
    pushed = push_image(registry, repo, 'v1', content=repo)
    client = client_for(registry)
    source = '%s/%s:v1' % (registry.host, repo)
    preview = registry_tag.run(client, params(source, ['prod']), True)
    assert preview['changed'] and writes(client) == []
    assert preview['diff'] == {'before': {'prod': None}, 'after': {'prod': pushed['digest']}}
    before = len(client.log)
    result = registry_tag.run(client, params(source, ['prod']), False)
    assert [(r.method, r.path.rsplit('/', 1)[-1]) for r in client.log.records[before:]] == [('GET', 'v1'), ('HEAD', 'prod'), ('PUT', 'prod')]
    assert result['changed'] and result['results'] == [
        {'target': '%s/%s:prod' % (registry.host, repo), 'previous_digest': None, 'digest': pushed['digest'], 'changed': True}]
    assert result['mounted_blobs'] == result['copied_blobs'] == 0
    before = len(client.log)
    again = registry_tag.run(client, params(source, ['prod']), False)
    assert not again['changed'] and writes(client, before) == [] and len(client.log) - before == 2
    assert skopeo_raw(registry, '%s:prod' % repo) == skopeo_raw(registry, '%s:v1' % repo)


def test_moving_latest_with_diff_and_overwrite_false(harness):
    registry = harness.open
    repo = unique('tag/move')
    old = push_image(registry, repo, ['old', 'latest'], content='old')
    new = push_image(registry, repo, 'new', content='new')
    client = client_for(registry)
    kept = registry_tag.run(client, params('%s/%s:new' % (registry.host, repo), ['latest', 'fresh'], overwrite=False), False)
    assert kept['changed']  # fresh was created
    latest, fresh = kept['results']
    assert latest['changed'] is False and latest['digest'] == old['digest'] and 'overwrite is false' in latest['skipped']
    assert fresh['changed'] and fresh['digest'] == new['digest']
    moved = registry_tag.run(client, params('%s/%s:new' % (registry.host, repo), ['latest']), False)
    assert moved['diff'] == {'before': {'latest': old['digest']}, 'after': {'latest': new['digest']}}
    assert client.resolve(parse_image('%s/%s:latest' % (registry.host, repo))).digest == new['digest']


def test_cross_repository_mounts_every_blob(harness):
    registry = harness.token
    repo = unique('tag/mount')
    pushed = push_image(registry, repo + '/src', 'v1', content=repo)
    client = client_for(registry, 'admin')
    result = registry_tag.run(client, params('%s/%s/src:v1' % (registry.host, repo), ['1.0', 'stable'],
                                             repository='%s/%s/dst' % (registry.host, repo)), False)
    assert result['mounted_blobs'] == 2 and result['copied_blobs'] == 0 and result['copied_bytes'] == 0
    posts = [r.path for r in client.log.records if r.method == 'POST']
    assert len(posts) == 2 and not any(r.method == 'PATCH' or (r.method == 'PUT' and '/blobs/' in r.path) for r in client.log.records)
    assert [r['digest'] for r in result['results']] == [pushed['digest']] * 2
    before = len(client.log)
    again = registry_tag.run(client, params('%s/%s/src:v1' % (registry.host, repo), ['1.0', 'stable'],
                                            repository='%s/%s/dst' % (registry.host, repo)), False)
    assert not again['changed'] and writes(client, before) == [] and len(client.log) - before == 3


@pytest.mark.parametrize('kind', ['oci', 'docker'])
def test_multi_arch_cross_repository(harness, kind):
    registry = harness.open
    repo = unique('tag/multi-' + kind)
    pushed = push_index(registry, repo + '/src', 'v1', media_type=kind)
    client = client_for(registry)
    result = registry_tag.run(client, params('%s/%s/src:v1' % (registry.host, repo), ['v1'], repository='%s/%s/dst' % (registry.host, repo)), False)
    assert result['digest'] == pushed['digest'] and result['mounted_blobs'] == 4  # a config and a layer per platform
    puts = [r.path.rsplit('/', 1)[-1] for r in client.log.records if r.method == 'PUT' and '/manifests/' in r.path]
    assert sorted(puts[:-1]) == sorted(pushed['children'].values()) and puts[-1] == 'v1'  # children before the index
    assert skopeo_raw(registry, '%s/dst:v1' % repo) == skopeo_raw(registry, '%s/src:v1' % repo)


def test_cross_registry_open_to_token_with_equal_digests(harness):
    source, target = harness.open, harness.token
    repo = unique('tag/xreg')
    pushed = push_index(source, repo, 'v1')
    client = client_for(target, 'admin')  # the task's options are the target's; the open source needs none
    result = registry_tag.run(client, params('%s/%s:v1' % (source.host, repo), ['v1'], repository='%s/%s' % (target.host, repo)), False)
    assert result['changed'] and result['digest'] == pushed['digest']
    assert result['mounted_blobs'] == 0 and result['copied_blobs'] == 4 and result['copied_bytes'] > 0
    assert skopeo_raw(target, '%s:v1' % repo, 'admin') == skopeo_raw(source, '%s:v1' % repo)
    for child in pushed['children'].values():
        assert skopeo_raw(target, '%s@%s' % (repo, child), 'admin') == skopeo_raw(source, '%s@%s' % (repo, child))


@pytest.mark.parametrize('direction', ['tls_to_token', 'token_to_tls'])
def test_cross_registry_with_source_auth(harness, direction):
    """Different credentials and TLS settings per side: the task's options for the target, source_auth for the source."""
    tls, token = harness.basic_tls, harness.token
    source, source_user, target, target_user = (tls, 'alice', token, 'admin') if direction == 'tls_to_token' else (token, 'reader', tls, 'alice')
    repo = unique('tag/' + direction.replace('_', '-'))
    pushed = push_image(source, repo, 'v1', content=repo, verify=source.verify)
    client = client_for(target, target_user)
    result = registry_tag.run(client, params('%s/%s:v1' % (source.host, repo), ['v1'], repository='%s/%s' % (target.host, repo),
                                             source_auth=connection_vars(source, source_user)), False)
    assert result['copied_blobs'] == 2 and result['digest'] == pushed['digest']
    assert client.resolve(parse_image('%s/%s:v1' % (target.host, repo))).digest == pushed['digest']
    assert {r.host for r in client.log.records} >= {source.host, target.host}


def push_signed(registry, repo):
    """An image, a cosign-style signature tag, and an OCI referrer (artifact with subject) listed in the fallback tag.

    distribution 2.8 has no referrers API, so the test pushes the sha256-<hex> index the way OCI 1.1 clients do.
    """
    image = push_image(registry, repo, 'v1', content=repo)
    client = PushClient(registry.url, registry.admin_user, registry.admin_password, registry.verify)
    empty = client.upload_blob(repo, b'{}')
    payload = client.upload_blob(repo, b'{"sbom": "' + repo.encode() + b'"}')
    subject = {'mediaType': image['media_type'], 'digest': image['digest'], 'size': image['size']}
    artifact = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'artifactType': 'application/spdx+json',
                           'config': {'mediaType': OCI_EMPTY, 'digest': empty, 'size': 2},
                           'layers': [{'mediaType': 'application/spdx+json', 'digest': payload, 'size': len(repo) + 12}],
                           'subject': subject, 'annotations': {'org.example.kind': 'sbom'}}).encode()
    artifact_digest = client.put_manifest(repo, sha256_digest(artifact), artifact, 'application/vnd.oci.image.manifest.v1+json')
    fallback = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': [{
        'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': artifact_digest, 'size': len(artifact),
        'artifactType': 'application/spdx+json', 'annotations': {'org.example.kind': 'sbom'}}]}).encode()
    client.put_manifest(repo, image['digest'].replace(':', '-'), fallback, 'application/vnd.oci.image.index.v1+json')
    signature = push_image(client, repo, image['digest'].replace(':', '-') + '.sig', content='signature of ' + image['digest'])
    client.close()
    return image, artifact_digest, signature


def test_referrers_copied_and_listed(harness):
    registry = harness.token
    repo = unique('tag/signed')
    image, artifact_digest, signature = push_signed(registry, repo + '/src')
    client = client_for(registry, 'admin')
    listed = manifest_info.run(client, {'image': '%s/%s/src:v1' % (registry.host, repo), 'platform': None, 'config': False, 'referrers': True}, False)
    assert {(r['kind'], r['digest'], r['artifact_type']) for r in listed['referrers']} == {
        ('referrer', artifact_digest, 'application/spdx+json'), ('cosign', signature['digest'], 'cosign/sig')}
    args = params('%s/%s/src:v1' % (registry.host, repo), ['v1'], repository='%s/%s/dst' % (registry.host, repo), referrers=True)
    preview = registry_tag.run(client, args, True)
    assert preview['changed'] and all(r['changed'] for r in preview['referrers']) and writes(client) == []
    result = registry_tag.run(client, args, False)
    assert sorted(r['digest'] for r in result['referrers']) == sorted([artifact_digest, signature['digest']])
    copied = manifest_info.run(client, {'image': '%s/%s/dst:v1' % (registry.host, repo), 'platform': None, 'config': False, 'referrers': True}, False)
    assert sorted((r['kind'], r['digest']) for r in copied['referrers']) == sorted((r['kind'], r['digest']) for r in listed['referrers'])
    before = len(client.log)
    again = registry_tag.run(client, args, False)
    assert not again['changed'] and writes(client, before) == []


def test_pull_only_user_is_denied_and_nothing_is_written(harness):
    registry = harness.token
    repo = unique('tag/denied')
    push_image(registry, repo, 'v1', content=repo)
    client = client_for(registry, 'reader')
    with pytest.raises(PermissionDeniedError) as info:
        registry_tag.run(client, params('%s/%s:v1' % (registry.host, repo), ['prod'], repository='%s/%s-copy' % (registry.host, repo)), False)
    assert '%s/%s-copy:prod' % (registry.host, repo) in str(info.value) and 'insufficient scope' in str(info.value)
    assert registry.users['reader'] not in str(info.value)
    with pytest.raises(NotFoundError):
        client_for(registry, 'admin').resolve(parse_image('%s/%s-copy:prod' % (registry.host, repo)))


@pytest.mark.parametrize('source, tags, repository, message', [
    ('{host}/test/oci-image:v1', [], None, 'tags is empty'),
    ('{host}/test/oci-image:v1', ['ok', 'bad tag'], None, 'invalid tag "bad tag"'),
    ('{host}/test/oci-image:v1', ['sha256:' + 'a' * 64], None, 'is a digest, not a tag'),
    ('{host}/test/oci-image:v1', ['other/repo:1'], None, 'is a reference, not a tag name'),
    ('{host}/test/oci-image:v1', ['x'], '{host}/test/repo:tag', 'a repository cannot have a tag'),
    ('{host}/Test/oci-image:v1', ['x'], None, 'must be lowercase'),
])
def test_bad_input_is_refused_before_any_request(harness, source, tags, repository, message):
    client = client_for(harness.open)
    host = harness.open.host
    with pytest.raises(InvalidInputError, match=message):
        registry_tag.run(client, params(source.format(host=host), tags, repository=repository and repository.format(host=host)), False)
    assert len(client.log) == 0


def test_missing_source_is_a_clear_error_and_nothing_is_written(harness):
    client = client_for(harness.open)
    with pytest.raises(NotFoundError, match='test/oci-image:no-such-tag not found'):
        registry_tag.run(client, params('%s/test/oci-image:no-such-tag' % harness.open.host, ['x']), False)
    assert writes(client) == []
