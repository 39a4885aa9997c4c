# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Request budgets: the exact requests each module and the lookup send, against the real token registry.

Measured in-process from the transport's RequestLog (exact method, path and status), and
from the outside, for the lookup run by ansible-playbook, with the registry's own /metrics
and the token server's request list.
"""

from __future__ import annotations

import pytest

from ansible.plugins.loader import lookup_loader

from ansible_collections.oci.registry.plugins.modules import registry_manifest_info as manifest_info
from ansible_collections.oci.registry.plugins.modules import registry_search_info as search_info
from ansible_collections.oci.registry.plugins.modules import registry_tags_info as tags_info

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model._errors import PermissionDeniedError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.plugin_utils import _lookup

from conftest import assert_ok, seed_tags


def reader_client(harness):
    return RegistryClient(ConnectionOptions(username='reader', password=harness.token.users['reader'], plain_http=True))


def test_first_digest_costs_ping_token_head_then_one_head_each(harness):
    client = reader_client(harness)
    seeded = harness.seeded['token']
    host = harness.token.host
    first = client.resolve(parse_image('%s/test/oci-image:v1' % host))
    assert first.digest == seeded['oci_image']['digest']
    assert [(r.method, r.path, r.status) for r in client.log.records] == [
        ('GET', '/v2/', 401), ('GET', '/token', 200), ('HEAD', '/v2/test/oci-image/manifests/v1', 200)]
    for ref in ('%s/test/oci-image:latest' % host, '%s/test/oci-image@%s' % (host, seeded['oci_image']['digest']), '%s/test/oci-image:v1' % host):
        before = len(client.log)
        assert client.resolve(parse_image(ref)).digest == seeded['oci_image']['digest']
        assert [(r.method, r.status) for r in client.log.records[before:]] == [('HEAD', 200)], ref


def test_write_scope_escalates_with_one_new_token(harness):
    """A push after a pull needs a token with push: exactly one more token request, then the write."""
    client = RegistryClient(ConnectionOptions(username='admin', password=harness.token.users['admin'], plain_http=True))
    ref = parse_image('%s/budget/escalate:v1' % harness.token.host)
    source = client.get_manifest(parse_image('%s/test/oci-image:v1' % harness.token.host))
    for layer in [source.config_descriptor] + source.layers:
        assert client.mount_blob(ref, layer['digest'], 'test/oci-image')
    before = len(client.log)
    client.put_manifest(ref, source.raw, source.media_type)
    assert [(r.method, r.path.split('/')[-1], r.status) for r in client.log.records[before:]] == [('PUT', 'v1', 201)]
    assert client.resolve(ref).digest == source.digest


def test_reader_cannot_write_and_is_told_why(harness):
    client = reader_client(harness)
    ref = parse_image('%s/test/oci-image:copy' % harness.token.host)
    source = client.get_manifest(parse_image('%s/test/oci-image:v1' % harness.token.host))
    with pytest.raises(PermissionDeniedError) as info:
        client.put_manifest(ref, source.raw, source.media_type)
    assert 'insufficient scope' in str(info.value)
    assert harness.token.users['reader'] not in str(info.value)


def test_lookup_with_twenty_terms_in_process(harness, monkeypatch):
    refs = seed_tags(harness.token, 'budget/twenty', 20)
    clients = []
    original = _lookup.RegistryLookupBase.registry_client

    def capture(self):
        client = original(self)
        clients.append(client)
        return client

    monkeypatch.setattr(_lookup.RegistryLookupBase, 'registry_client', capture)
    lookup = lookup_loader.get('oci.registry.digest')
    digests = lookup.run(refs, variables={}, username='reader', password=harness.token.users['reader'], plain_http=True)
    assert len(digests) == 20 and len(set(digests)) == 1 and digests[0].startswith('sha256:')
    log = clients[0].log
    assert len(log) <= 22, log.records
    assert [r.path for r in log.records].count('/v2/') == 1
    assert log.count('GET', '/token') == 1
    assert log.count('HEAD') == 20


def test_lookup_with_twenty_terms_seen_from_the_registry(ansible, harness):
    refs = seed_tags(harness.token, 'budget/outside', 20)
    registry_before = harness.token.request_count()
    tokens_before = len(harness.token_server.requests)
    tasks = '''
    - ansible.builtin.set_fact:
        digests: "{{ query('oci.registry.digest', *refs, username='reader', password=pw, plain_http=true) }}"
    - ansible.builtin.assert:
        that: digests | length == 20 and digests | unique | length == 1
    '''
    assert_ok(ansible.playbook(tasks, {'refs': refs, 'pw': harness.token.users['reader']}))
    assert len(harness.token_server.requests) - tokens_before == 1
    # ping + 20 HEAD at the registry (the token request went to the token server)
    assert harness.token.request_count() - registry_before <= 21


def test_manifest_info_platform_and_config_of_single_image_reads_config_once(harness):
    """The platform check of a single-platform image reads its config; config: true reuses it."""
    client = RegistryClient(ConnectionOptions(plain_http=True))
    params = {'image': '%s/test/oci-image:v1' % harness.open.host, 'platform': 'linux/amd64', 'config': True}
    result = manifest_info.run(client, params, False)
    assert result['config']['architecture'] == 'amd64'
    assert result['platform_digest'] == result['digest'] == harness.seeded['open']['oci_image']['digest']
    assert [(r.method, r.path.split('/')[-2]) for r in client.log.records] == [
        ('GET', 'v2'), ('GET', 'manifests'), ('GET', 'blobs')]


# registry_repo_delete

def test_repo_delete_two_tags_cost_one_tag_probe(harness):
    """distribution 2.8 refuses DELETE by tag: learned once per host, then every tag goes by digest.

    Two unique tags in a repository of four: ping, 2 HEAD, 1 refused tag DELETE, the tag list,
    2 HEAD for the other tags, 2 digest DELETE.
    """
    from ansible_collections.oci.registry.plugins.modules import registry_repo_delete as repo_delete
    from harness.seed import push_image

    registry, repo = harness.open, 'budget/delete-two'
    first = push_image(registry, repo, 'pr-1', content='pr-1\n')
    second = push_image(registry, repo, 'pr-2', content='pr-2\n')
    push_image(registry, repo, ['v1', 'latest'], content='release\n')
    client = RegistryClient(ConnectionOptions(plain_http=True))
    params = {'repository': '%s/%s' % (registry.host, repo), 'tags': ['pr-1', 'pr-2'], 'digests': [], 'all_tags': False, 'force': False}
    result = repo_delete.run(client, params, False)
    assert result['deleted_manifests'] == [first['digest'], second['digest']]
    assert [(r.method, r.path.rsplit('/', 1)[-1], r.status) for r in client.log.records] == [
        ('GET', '', 200), ('HEAD', 'pr-1', 200), ('HEAD', 'pr-2', 200), ('DELETE', 'pr-1', 400), ('GET', 'list', 200),
        ('HEAD', 'latest', 200), ('HEAD', 'v1', 200), ('DELETE', first['digest'], 202), ('DELETE', second['digest'], 202)]


def test_repo_delete_on_token_registry_asks_delete_scope_once(harness):
    """One pull token for the reads, one delete token for the DELETEs; a rerun reads only (ping, token, HEAD)."""
    from ansible_collections.oci.registry.plugins.modules import registry_repo_delete as repo_delete
    from harness.seed import push_image

    registry, repo = harness.token, 'budget/delete-token'
    push_image(registry, repo, 'pr-1', content='pr-1\n')
    params = {'repository': '%s/%s' % (registry.host, repo), 'tags': ['pr-1'], 'digests': [], 'all_tags': False, 'force': False}
    admin = ConnectionOptions(username='admin', password=registry.users['admin'], plain_http=True)
    client = RegistryClient(admin)
    assert repo_delete.run(client, params, False)['changed']
    assert [(r.method, r.path.rsplit('/', 1)[-1], r.status) for r in client.log.records] == [
        ('GET', '', 401), ('GET', 'token', 200), ('HEAD', 'pr-1', 200), ('GET', 'token', 200), ('DELETE', 'pr-1', 400),
        ('GET', 'list', 200), ('DELETE', client.log.records[-1].path.rsplit('/', 1)[-1], 202)]
    assert client.log.records[-1].path.endswith('sha256:' + client.log.records[-1].path.rsplit(':', 1)[-1])
    rerun = RegistryClient(admin)
    assert repo_delete.run(rerun, params, False)['changed'] is False
    assert [(r.method, r.status) for r in rerun.log.records] == [('GET', 401), ('GET', 200), ('HEAD', 404)]


def test_repo_delete_finds_index_parents_with_one_get_per_tagged_index(harness):
    """Before a manifest goes by digest, the indexes that stay are read for their children: the tags are listed and
    HEADed as for the collateral check, and only a tagged index is GET (once), and only when a non-index manifest is at
    stake. A refused child costs no DELETE; deleting an index costs no extra read."""
    from ansible_collections.oci.registry.plugins.modules import registry_repo_delete as repo_delete
    from ansible_collections.oci.registry.plugins.module_utils.operations._delete import IndexChildError
    from harness.seed import push_image, push_index

    registry, repo = harness.open, 'budget/delete-child'
    index = push_index(registry, repo, 'v1')
    solo = push_image(registry, repo, 'solo', content='solo\n')
    amd64 = index['children']['linux/amd64']
    params = {'repository': '%s/%s' % (registry.host, repo), 'tags': [], 'digests': [amd64], 'all_tags': False, 'force': False}

    def calls(client):
        return [(r.method, r.path.rsplit('/', 1)[-1], r.status) for r in client.log.records]

    client = RegistryClient(ConnectionOptions(plain_http=True))
    with pytest.raises(IndexChildError):
        repo_delete.run(client, params, False)
    assert calls(client) == [('GET', '', 200), ('GET', amd64, 200), ('GET', 'list', 200), ('HEAD', 'solo', 200), ('HEAD', 'v1', 200),
                             ('GET', index['digest'], 200)]
    client = RegistryClient(ConnectionOptions(plain_http=True))
    repo_delete.run(client, dict(params, digests=[], tags=['solo']), False)
    assert calls(client) == [('GET', '', 200), ('HEAD', 'solo', 200), ('DELETE', 'solo', 400), ('GET', 'list', 200), ('HEAD', 'v1', 200),
                             ('GET', index['digest'], 200), ('DELETE', solo['digest'], 202)]
    client = RegistryClient(ConnectionOptions(plain_http=True))
    result = repo_delete.run(client, dict(params, digests=[], tags=['v1']), False)
    assert len(result['deleted_manifests']) == 3
    reads = [c for c in calls(client) if c[0] != 'DELETE']
    assert reads == [('GET', '', 200), ('HEAD', 'v1', 200), ('GET', 'list', 200), ('GET', index['digest'], 200)]  # the GET finds its children


# registry_tag

def _tag_params(source, tags, **extra):
    base = {'source': source, 'tags': tags, 'repository': None, 'overwrite': True, 'referrers': False, 'source_auth': None}
    base.update(extra)
    return base


def _calls(client, since):
    return [(r.method, r.path.rsplit('/', 1)[-1] if '/manifests/' in r.path else r.path.split('/')[-2], r.status)
            for r in client.log.records[since:]]


def test_registry_tag_same_repository_budget(harness):
    """Authenticated: a retag is GET source, HEAD target, PUT; a rerun is GET source + one HEAD per tag, no write."""
    from ansible_collections.oci.registry.plugins.modules import registry_tag
    client = RegistryClient(ConnectionOptions(username='admin', password=harness.token.users['admin'], plain_http=True))
    seed_tags(harness.token, 'budget/retag', 1)
    source = '%s/budget/retag:t00' % harness.token.host
    client.resolve(parse_image(source))  # authenticate first: ping + token
    client.put_manifest(parse_image('%s/budget/retag:warm' % harness.token.host), client.get_manifest(parse_image(source)).raw,
                        'application/vnd.oci.image.manifest.v1+json')  # and hold a push token
    before = len(client.log)
    registry_tag.run(client, _tag_params(source, ['prod']), False)
    assert _calls(client, before) == [('GET', 't00', 200), ('HEAD', 'prod', 404), ('PUT', 'prod', 201)]
    before = len(client.log)
    result = registry_tag.run(client, _tag_params(source, ['prod', 'warm', 't00']), False)
    assert not result['changed']
    assert _calls(client, before) == [('GET', 't00', 200), ('HEAD', 'prod', 200), ('HEAD', 'warm', 200), ('HEAD', 't00', 200)]
    before = len(client.log)
    by_digest = registry_tag.run(client, _tag_params('%s/budget/retag@%s' % (harness.token.host, result['digest']), ['prod']), False)
    assert not by_digest['changed'] and _calls(client, before) == [('HEAD', 'prod', 200)]


def test_registry_tag_cross_repository_budget(harness):
    """One image to another repository: GET source, HEAD tag, HEAD + mount per blob, PUT; nothing uploaded."""
    from ansible_collections.oci.registry.plugins.modules import registry_tag
    client = RegistryClient(ConnectionOptions(username='admin', password=harness.token.users['admin'], plain_http=True))
    seed_tags(harness.token, 'budget/mount-src', 1)
    before = len(client.log)
    registry_tag.run(client, _tag_params('%s/budget/mount-src:t00' % harness.token.host, ['v1'],
                                         repository='%s/budget/mount-dst' % harness.token.host), False)
    calls = [(m, p) for (m, p, _s), r in zip(_calls(client, before), client.log.records[before:]) if r.path not in ('/v2/', '/token')]
    assert calls[:2] == [('GET', 't00'), ('HEAD', 'v1')] and calls[-1] == ('PUT', 'v1')
    assert sorted(calls[2:-1]) == [('HEAD', 'blobs')] * 2 + [('POST', 'uploads')] * 2  # the two blobs move concurrently
    # pull on the source, pull on the target (its tag HEAD), then one token for the mount (push target + pull source) that the PUT reuses
    assert client.log.count('GET', '/token') == 3


# registry_archive

def test_archive_export_and_import_budgets(harness, tmp_path):
    """Export of one image: one GET per manifest and blob. Import: HEAD the tag, HEAD each blob, upload (POST + PUT)
    each, PUT the manifest. A rerun of the import is one HEAD per image."""
    from ansible_collections.oci.registry.plugins.modules import registry_archive  # pylint: disable=import-outside-toplevel
    from harness.seed import push_image  # pylint: disable=import-outside-toplevel
    registry = harness.token
    admin = ConnectionOptions(username='admin', password=registry.users['admin'], plain_http=True)
    push_image(registry, 'budget/archive-src', 'v1', content='archive budget\n', verify=registry.verify)
    path = str(tmp_path / 'a.tar')
    base = {'state': 'exported', 'path': path, 'images': ['%s/budget/archive-src:v1' % registry.host], 'registry': None,
            'platforms': None, 'referrers': False}
    client = RegistryClient(admin)
    registry_archive.run(client, base, False)
    assert [(r.method, r.path.rsplit('/', 2)[-2], r.status) for r in client.log.records if r.path != '/token'] == [
        ('GET', 'v2', 401), ('GET', 'manifests', 200), ('GET', 'blobs', 200), ('GET', 'blobs', 200)]
    imp = dict(base, state='imported', images=[{'source': 'v1', 'target': '%s/budget/archive-dst:v1' % registry.host}])
    client = RegistryClient(admin)
    registry_archive.run(client, imp, False)
    calls = [(r.method, r.path.split('/')[-2] if '/uploads/' not in r.path else 'uploads', r.status)
             for r in client.log.records if r.path not in ('/token', '/v2/')]
    # Blobs copy concurrently, so their requests interleave: the first and last requests are fixed, the middle is counted.
    assert calls[0] == ('HEAD', 'manifests', 404) and calls[-1] == ('PUT', 'manifests', 201)
    assert sorted(calls[1:-1]) == sorted([('HEAD', 'blobs', 404), ('POST', 'uploads', 202), ('PUT', 'uploads', 201)] * 2)
    client = RegistryClient(admin)
    assert not registry_archive.run(client, imp, False)['changed']
    assert [(r.method, r.status) for r in client.log.records if r.path not in ('/token', '/v2/')] == [('HEAD', 200)]


# registry_tags_info and registry_search_info

def _tags_params(repository, **params):
    return dict({'match': None, 'exclude': None, 'semver': None, 'sort': 'name', 'order': 'asc', 'limit': None, 'digests': False, 'workers': 8},
                repository=repository, **params)


def test_tags_with_digests_cost_one_list_and_one_head_per_tag(harness):
    seed_tags(harness.token, 'budget/tags-digests', 40)
    client = reader_client(harness)
    result = tags_info.run(client, _tags_params('%s/budget/tags-digests' % harness.token.host, digests=True), False)
    assert len(result['tags']) == 40 and len({d['digest'] for d in result['details']}) == 1
    assert [(r.method, r.path, r.status) for r in client.log.records[:3]] == [
        ('GET', '/v2/', 401), ('GET', '/token', 200), ('GET', '/v2/budget/tags-digests/tags/list', 200)]
    assert [(r.method, r.status) for r in client.log.records[3:]] == [('HEAD', 200)] * 40


def test_tags_limit_and_filter_before_digests(harness):
    """Only the tags returned are resolved: match and limit cut the HEADs to 3."""
    seed_tags(harness.token, 'budget/tags-limit', 30)
    client = reader_client(harness)
    result = tags_info.run(client, _tags_params('%s/budget/tags-limit' % harness.token.host, match='^t1', order='desc', limit=3,
                                                digests=True), False)
    assert result['tags'] == ['t19', 't18', 't17']
    assert client.log.count('GET', '/tags/list') == 1 and client.log.count('HEAD') == 3 and len(client.log) == 6


def test_tags_sorted_by_created_read_each_manifest_and_each_config_once(harness):
    """One manifest GET per tag (it names the digest) and one config GET per distinct image, even from 8 threads at once."""
    seed_tags(harness.token, 'budget/tags-created', 24)
    client = reader_client(harness)
    result = tags_info.run(client, _tags_params('%s/budget/tags-created' % harness.token.host, sort='created', digests=True), False)
    assert len(result['tags']) == 24 and len({d['created'] for d in result['details']}) == 1
    assert client.log.count('GET', '/tags/list') == 1
    assert client.log.count('GET', '/manifests/') == 24
    assert client.log.count('GET', '/blobs/') == 1
    assert client.log.count('HEAD') == 0  # the digests came with the manifests
    assert len(client.log) == 2 + 1 + 24 + 1


def test_search_catalog_with_limit_stops_after_the_first_page(harness):
    client = RegistryClient(ConnectionOptions(username='admin', password=harness.token.users['admin'], plain_http=True))
    result = search_info.run(client, {'registry': harness.token.host, 'query': 'test/', 'limit': 2, 'page_size': 100}, False)
    assert len(result['repositories']) == 2 and result['source'] == 'catalog'
    assert [(r.method, r.path, r.status) for r in client.log.records] == [
        ('GET', '/v2/', 401), ('GET', '/token', 200), ('GET', '/v2/_catalog', 200)]


# registry_signature_info and registry_sign (the gate's verify costs what verify_image costs per image)

def _signature_calls(client, since=0):
    return [(r.method, r.path.split('/')[-2] if '/blobs/' in r.path or '/referrers/' in r.path else r.path.rsplit('/', 1)[-1][:7], r.status)
            for r in client.log.records[since:] if r.path != '/v2/']


def test_signature_budgets_per_image_without_referrers_api(harness, tmp_path):
    """Unsigned: 3 GETs after the HEAD (.sig, referrers API 404, fallback tag 404). Signed in both formats: 7 GETs
    (.sig + its payload, referrers 404 + fallback tag, the bundle referrer + its blob). A signed rerun reads, never writes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from ansible_collections.oci.registry.plugins.modules import registry_sign, registry_signature_info
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    seed_tags(harness.open, 'budget/signed', 1)
    image = '%s/budget/signed:t00' % harness.open.host
    info_params = {'image': image, 'keys': [public], 'require': 'any', 'min_count': 1, 'platforms': False}
    client = RegistryClient(ConnectionOptions(plain_http=True))
    assert not registry_signature_info.run(client, info_params, False)['verified']
    assert _signature_calls(client) == [
        ('HEAD', 't00', 200), ('GET', 'sha256-', 404), ('GET', 'referrers', 404), ('GET', 'sha256-', 404)]
    sign_params = {'images': [image], 'key': None, 'key_content': private, 'passphrase': None, 'annotations': None}
    for fmt in ('simplesigning', 'bundle'):
        registry_sign.run(client, dict(sign_params, format=fmt), False)
    before = len(client.log)
    assert registry_signature_info.run(client, info_params, False)['verified']
    assert [(m, p) for m, p, s in _signature_calls(client, before)] == [
        ('HEAD', 't00'), ('GET', 'sha256-'), ('GET', 'blobs'), ('GET', 'referrers'), ('GET', 'sha256-'), ('GET', 'sha256:'), ('GET', 'blobs')]
    for fmt, reads in (('simplesigning', 3), ('bundle', 5)):
        before = len(client.log)
        assert registry_sign.run(client, dict(sign_params, format=fmt), False)['results'][0]['action'] == 'unchanged'
        calls = _signature_calls(client, before)
        assert len(calls) == reads and {m for m, _p, _s in calls} == {'HEAD', 'GET'}, calls
