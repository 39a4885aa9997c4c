# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault injection: a flaky registry in front of the real ones, and what each plugin makes of it.

A fault proxy (tests/harness/fault_proxy.py) sits between the client and a real harness registry, because no real
registry answers 429, resets a connection, cuts a body or redirects to object storage on demand. For each fault and
plugin the outcome is asserted: retried and succeeded within a request budget, or one clear error naming the fault;
never a write the plugin did not report, never Authorization on the redirect host. Waits are short (timeout 1 s,
Retry-After 1 s).
"""

from __future__ import annotations

import json
import time

import pytest

from ansible.plugins.loader import lookup_loader

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.modules import registry_archive as archive
from ansible_collections.oci.registry.plugins.modules import registry_login as login
from ansible_collections.oci.registry.plugins.modules import registry_manifest_info as manifest_info
from ansible_collections.oci.registry.plugins.modules import registry_repo_delete as repo_delete
from ansible_collections.oci.registry.plugins.modules import registry_search_info as search_info
from ansible_collections.oci.registry.plugins.modules import registry_tag as tag
from ansible_collections.oci.registry.plugins.modules import registry_tags_info as tags_info
from ansible_collections.oci.registry.plugins.plugin_utils import _lookup

from conftest import assert_ok
from harness.fault_proxy import Fault
from harness.seed import push_image
from stress import FAST, assert_one_line, clean, proxies, run_lookup, run_module  # noqa: F401  pylint: disable=unused-import

MANIFEST = r'/v2/test/oci-image/manifests/v1$'
BLOB = r'/v2/test/oci-image/blobs/'


def manifest_info_case(host, **extra):
    params = dict(FAST, image='%s/test/oci-image:v1' % host, plain_http=True)
    params.update(extra)
    return run_module(manifest_info, params)


def lookup_case(host, **extra):
    options = dict(FAST, plain_http=True)
    options.update(extra)
    return run_lookup(['%s/test/oci-image:v1' % host, '%s/test/oci-image:latest' % host], **options)


# (fault id, fault, method of the faulted request, how many times)
RECOVERABLE = [
    ('429-retry-after-seconds', lambda: Fault.status(429, retry_after='1'), 1),
    ('429-retry-after-http-date', lambda: Fault.status(429, retry_after=Fault.retry_after_date(1.5)), 1),
    ('503-burst', lambda: Fault.status(503), 2),
    ('connection-reset', Fault.reset, 1),
    ('stall-past-timeout', lambda: Fault.stall(1.6), 1),
]


@pytest.mark.parametrize('fault_id,fault,times', RECOVERABLE, ids=[r[0] for r in RECOVERABLE])
def test_manifest_info_retries_and_succeeds_within_budget(harness, clean, fault_id, fault, times):
    proxy = clean.open
    proxy.add(fault(), method='GET', path=MANIFEST, count=times)
    started = time.monotonic()
    kind, result, client = manifest_info_case(proxy.host)
    elapsed = time.monotonic() - started
    assert kind == 'ok', result
    assert result['digest'] == harness.seeded['open']['oci_image']['digest']
    # exactly the faulted attempts plus one good one reached the registry side for the manifest
    assert proxy.count('GET', MANIFEST) == times + 1
    assert client.log.count('GET', '/manifests/') == times + 1
    assert not proxy.writes()
    if fault_id.startswith('429'):
        assert elapsed >= 0.4, 'Retry-After was not honoured (%.2f s)' % elapsed
    assert elapsed < 5


@pytest.mark.parametrize('fault_id,fault,times', RECOVERABLE, ids=[r[0] for r in RECOVERABLE])
def test_lookup_retries_and_succeeds_within_budget(harness, clean, fault_id, fault, times):
    proxy = clean.open
    proxy.add(fault(), method='HEAD', path=MANIFEST, count=times)
    kind, result = lookup_case(proxy.host)
    assert kind == 'ok', result
    assert result == [harness.seeded['open']['oci_image']['digest']] * 2
    assert proxy.count('HEAD', MANIFEST) == times + 1
    assert proxy.count('HEAD') == times + 2
    assert not proxy.writes()


# (fault id, fault, error text the message must carry)
PERSISTENT = [
    ('429', lambda: Fault.status(429, retry_after='0'), ['HTTP 429', 'rate limit']),
    ('503', lambda: Fault.status(503), ['HTTP 503']),
    ('connection-reset', Fault.reset, ['registry', 'connect']),
    ('stall-past-timeout', lambda: Fault.stall(1.3), ['did not answer within 1.0 seconds', 'raise timeout']),
]


@pytest.mark.parametrize('fault_id,fault,needles', PERSISTENT, ids=[p[0] for p in PERSISTENT])
def test_persistent_fault_is_one_clear_error(clean, fault_id, fault, needles):
    proxy = clean.open
    proxy.add(fault(), path=MANIFEST, count=None)
    kind, message, client = manifest_info_case(proxy.host, retries=1)
    assert kind == 'error'
    assert_one_line(message, *needles)
    assert proxy.count('GET', MANIFEST) == 2  # the request and its one retry
    assert 'HTTPConnectionPool' not in message  # urllib3's nested reprs are not for users
    kind, message = lookup_case(proxy.host, retries=0)
    assert kind == 'error'
    assert_one_line(message, *needles)
    assert "term '%s/test/oci-image:" % proxy.host in message
    assert not proxy.writes()


def test_truncated_manifest_body(clean):
    """A body cut off mid-way is reported as such (urllib3 retries only what fails before the body is read)."""
    proxy = clean.open
    proxy.add(Fault.truncate(20), method='GET', path=MANIFEST, count=1)
    kind, message, _client = manifest_info_case(proxy.host)
    assert kind == 'error'
    assert_one_line(message, 'manifest of', 'was cut off before its end', '20 bytes read', 'run again')
    assert proxy.count('GET', MANIFEST) == 1
    assert not proxy.writes()


def test_expired_token_mid_run_is_renewed_once(harness, clean):
    """The token registry says the token expired on one request: one new token, the request again, done."""
    proxy = clean.token
    user = {'username': 'reader', 'password': harness.token.users['reader']}
    kind, first, client = manifest_info_case(proxy.host, **user)
    assert kind == 'ok', first
    tokens = clean.token_server.count('GET', '/token')
    proxy.add(Fault.expire_token(), method='GET', path=MANIFEST, count=1)
    result = manifest_info.run(client, {'image': '%s/test/oci-image:v1' % proxy.host, 'platform': None, 'config': False}, False)
    assert result['digest'] == first['digest'] == harness.seeded['token']['oci_image']['digest']
    assert clean.token_server.count('GET', '/token') == tokens + 1
    assert [(s.method, s.status) for s in proxy.seen if s.path.endswith('/manifests/v1')][-2:] == [('GET', 401), ('GET', 200)]


def test_token_always_expired_fails_clearly(harness, clean):
    proxy = clean.token
    proxy.add(Fault.expire_token(), path=MANIFEST, count=None)
    kind, message, client = manifest_info_case(proxy.host, username='reader', password=harness.token.users['reader'])
    assert kind == 'error'
    assert_one_line(message, 'HTTP 401')
    assert client.log.count('GET', '/token') == 2  # the first token and one renewal, then no loop
    kind, message = lookup_case(proxy.host, username='reader', password=harness.token.users['reader'])
    assert_one_line(message, 'HTTP 401')


def test_token_server_503_burst_is_retried(harness, clean):
    clean.token_server.add(Fault.status(503), method='GET', path='/token', count=2)
    kind, result = lookup_case(clean.token.host, username='reader', password=harness.token.users['reader'])
    assert kind == 'ok', result
    assert clean.token_server.count('GET', '/token') == 3


def test_token_server_down_names_the_token_request(harness, clean):
    clean.token_server.add(Fault.reset(), path='/token', count=None)
    kind, message = lookup_case(clean.token.host, username='reader', password=harness.token.users['reader'], retries=0)
    assert kind == 'error'
    assert_one_line(message, 'token request')
    assert harness.token.users['reader'] not in message


def test_missing_digest_header_falls_back_to_hashing_the_manifest(harness, clean):
    proxy = clean.open
    proxy.add(Fault.drop_header('Docker-Content-Digest'), method='HEAD', path=r'/manifests/', count=None)
    kind, result = lookup_case(proxy.host)
    assert kind == 'ok', result
    assert result == [harness.seeded['open']['oci_image']['digest']] * 2
    assert proxy.count('HEAD') == 2 and proxy.count('GET', r'/manifests/') == 2  # one GET per term, no more


def test_manifest_info_without_digest_header_computes_it(harness, clean):
    clean.open.add(Fault.drop_header('Docker-Content-Digest'), path=r'/manifests/', count=None)
    kind, result, _client = manifest_info_case(clean.open.host)
    assert kind == 'ok', result
    assert result['digest'] == harness.seeded['open']['oci_image']['digest']


@pytest.mark.parametrize('by_digest', [False, True], ids=['by-tag', 'by-digest'])
def test_manifest_bytes_not_matching_the_digest(harness, clean, by_digest):
    proxy = clean.open
    digest = harness.seeded['open']['oci_image']['digest']
    proxy.add(Fault.corrupt(), method='GET', path=r'/manifests/', count=None)
    image = '%s/test/oci-image%s' % (proxy.host, '@' + digest if by_digest else ':v1')
    kind, message, _client = run_module(manifest_info, dict(FAST, image=image, plain_http=True))
    assert kind == 'error'
    assert_one_line(message, 'hash')
    assert not proxy.writes()


def test_config_blob_not_matching_its_digest(clean):
    clean.open.add(Fault.corrupt(), method='GET', path=BLOB, count=None)
    kind, message, _client = manifest_info_case(clean.open.host, config=True)
    assert kind == 'error'
    assert_one_line(message, 'blob', 'sha256:')


@pytest.mark.parametrize('registry', ['open', 'token'])
def test_blob_redirect_to_storage_gets_no_authorization(harness, clean, registry):
    proxy = getattr(clean, registry)
    user = {'username': 'reader', 'password': harness.token.users['reader']} if registry == 'token' else {}
    proxy.add(Fault.redirect(clean.storage), method='GET', path=BLOB, count=None)
    before = len(clean.storage.requests)
    kind, result, client = manifest_info_case(proxy.host, config=True, **user)
    assert kind == 'ok', result
    assert result['config']['architecture'] == 'amd64'
    assert len(clean.storage.requests) == before + 1
    assert clean.storage.authorization_seen == []
    redirected = [s for s in proxy.seen if s.fault == 'redirect']
    assert len(redirected) == 1 and redirected[0].authorization == (registry == 'token')
    assert ('GET', clean.storage.host) in [(r.method, r.host) for r in client.log.records]


def test_through_ansible_playbook(ansible, harness, clean):
    """The same faults end to end: a 429 and a storage redirect are survived, a hopeless 503 fails in one line."""
    proxy = clean.open
    proxy.add(Fault.status(429, retry_after='1'), method='GET', path=MANIFEST, count=1)
    proxy.add(Fault.redirect(clean.storage), method='GET', path=BLOB, count=None)
    proxy.add(Fault.status(503), method='HEAD', path=r'/manifests/latest$', count=None)
    tasks = '''
    - oci.registry.registry_manifest_info:
        image: "{{ host }}/test/oci-image:v1"
        plain_http: true
        config: true
        timeout: 1
      register: info
    - ansible.builtin.assert:
        that: info.digest == digest and info.config.architecture == 'amd64'
    - ansible.builtin.debug:
        msg: "{{ lookup('oci.registry.digest', host ~ '/test/oci-image:latest', plain_http=true, retries=1, timeout=1) }}"
      register: hopeless
      ignore_errors: true
    - ansible.builtin.assert:
        that: hopeless is failed and 'HTTP 503' in hopeless.msg
    '''
    run = ansible.playbook(tasks, {'host': proxy.host, 'digest': harness.seeded['open']['oci_image']['digest']})
    assert_ok(run)
    assert 'Traceback' not in run.output
    assert clean.storage.authorization_seen == []
    assert proxy.count('GET', MANIFEST) == 2 and proxy.count('HEAD', r'/manifests/latest$') == 2
    assert not proxy.writes()


def test_concurrent_requests_refused_with_one_expired_token_renew_it_once(harness, clean, monkeypatch):
    """16 lookups in flight with a token the registry has just expired: one new token, not one per thread."""
    user = {'username': 'reader', 'password': harness.token.users['reader'], 'plain_http': True, 'workers': 16}
    refs = ['%s/test/oci-image:v1' % clean.token.host] * 32
    digest = harness.seeded['token']['oci_image']['digest']
    client = RegistryClient(ConnectionOptions(username='reader', password=harness.token.users['reader'], plain_http=True))
    monkeypatch.setattr(_lookup.RegistryLookupBase, 'registry_client', lambda self: client)  # one client for both runs
    lookup = lookup_loader.get('oci.registry.digest')
    assert lookup.run(refs[:1], variables={}, **user) == [digest]
    tokens = clean.token_server.count('GET', '/token')
    clean.token.revoke()
    assert lookup.run(refs, variables={}, **user) == [digest] * 32
    refused = clean.token.count(fault='expire_token')
    assert refused >= 1
    assert clean.token_server.count('GET', '/token') == tokens + 1
    assert client.log.count('HEAD') == 1 + 32 + refused


# registry_repo_delete: reads are retried, writes never are, and a failure names what was already deleted.

def _delete_case(harness, proxy, name, check_mode=False, **extra):
    """Two images (a, b) with one tag each in a fresh repository; delete both through the proxy."""
    repo = 'faults/%s' % name
    first = push_image(harness.open, repo, 'a', content='a of %s\n' % name)['digest']
    second = push_image(harness.open, repo, 'b', content='b of %s\n' % name)['digest']
    params = dict(FAST, repository='%s/%s' % (proxy.host, repo), tags=['a', 'b'], plain_http=True)
    params.update(extra)
    kind, result, client = run_module(repo_delete, params, check_mode=check_mode)
    return kind, result, client, repo, first, second


def _tags_left(harness, repo):
    client = RegistryClient(ConnectionOptions(plain_http=True))
    return sorted(client.list_tags(parse_image('%s/%s' % (harness.open.host, repo))))


def test_delete_retries_reads_then_deletes(harness, clean):
    clean.open.add(Fault.status(429, retry_after='1'), method='HEAD', path=r'/manifests/a$', count=1)
    clean.open.add(Fault.status(503), method='GET', path=r'/tags/list', count=1)
    kind, result, _client, repo, first, second = _delete_case(harness, clean.open, 'retry-reads')
    assert kind == 'ok', result
    assert sorted((d['tag'], d['digest']) for d in result['deleted']) == [('a', first), ('b', second)]
    assert _tags_left(harness, repo) == []


def test_delete_503_on_the_write_is_not_retried_and_nothing_is_deleted(harness, clean):
    clean.open.add(Fault.status(503), method='DELETE', count=None)
    kind, message, _client, repo, _first, _second = _delete_case(harness, clean.open, 'write-503')
    assert kind == 'error'
    assert_one_line(message, 'HTTP 503', 'nothing was deleted')
    assert clean.open.count('DELETE') == 1  # a DELETE is never retried
    assert _tags_left(harness, repo) == ['a', 'b']


def test_delete_reset_mid_way_reports_what_was_deleted(harness, clean):
    """The fault names the second digest, so the images are pushed first and the rule added before the delete."""
    repo = 'faults/reset-mid-way'
    first = push_image(harness.open, repo, 'a', content='a of reset\n')['digest']
    second = push_image(harness.open, repo, 'b', content='b of reset\n')['digest']
    clean.open.add(Fault.reset(), method='DELETE', path='/manifests/%s$' % second, count=None)
    kind, message, _client = run_module(repo_delete, dict(FAST, repository='%s/%s' % (clean.open.host, repo), tags=['a', 'b'],
                                                          plain_http=True))
    assert kind == 'error'
    assert_one_line(message, 'already deleted before this failure: a (%s)' % first)
    assert _tags_left(harness, repo) == ['b']


def test_delete_check_mode_under_faults_sends_no_write(harness, clean):
    clean.open.add(Fault.status(429, retry_after='0'), method='HEAD', count=2)
    kind, result, _client, repo, _first, _second = _delete_case(harness, clean.open, 'check-mode', check_mode=True)
    assert kind == 'ok', result
    assert result['changed'] is True and len(result['deleted']) == 2
    assert clean.open.writes() == []
    assert _tags_left(harness, repo) == ['a', 'b']


# registry_login: the auth file is written only after the registry accepted the credentials.

def test_login_retries_a_503_burst_then_writes_the_file(harness, clean, tmp_path):
    clean.token.add(Fault.status(503), method='GET', path=r'^/v2/$', count=2)
    auth_file = tmp_path / 'auth.json'
    kind, result, _client = run_module(login, dict(FAST, registry=clean.token.host, username='reader', password=harness.token.users['reader'],
                                                   plain_http=True, auth_file=str(auth_file)))
    assert kind == 'ok', result
    assert result['changed'] is True and result['verified'] is True
    assert clean.token.host in json.loads(auth_file.read_text())['auths']


@pytest.mark.parametrize('fault', [Fault.reset, lambda: Fault.stall(1.3)], ids=['reset', 'stall'])
def test_login_with_the_token_server_failing_leaves_no_file(harness, clean, tmp_path, fault):
    clean.token_server.add(fault(), path='/token', count=None)
    auth_file = tmp_path / 'auth.json'
    kind, message, _client = run_module(login, dict(FAST, registry=clean.token.host, username='reader', password=harness.token.users['reader'],
                                                    plain_http=True, auth_file=str(auth_file), retries=0))
    assert kind == 'error'
    assert_one_line(message, 'token request')
    assert harness.token.users['reader'] not in message
    assert not auth_file.exists()


# registry_tag: reads are retried, the manifest PUT is not, and a cross-registry copy sends no credentials to storage.

def _tag_params(source, tags, **extra):
    return dict(FAST, source=source, tags=tags, plain_http=True, **extra)


def test_tag_retries_reads_and_writes_once(harness, clean):
    clean.open.add(Fault.status(503), method='GET', path=MANIFEST, count=2)
    kind, result, _client = run_module(tag, _tag_params('%s/test/oci-image:v1' % clean.open.host, ['faults-retried']))
    assert kind == 'ok', result
    assert result['digest'] == harness.seeded['open']['oci_image']['digest']
    assert clean.open.count('PUT', r'/manifests/faults-retried$') == 1


def test_tag_503_on_the_manifest_put_leaves_no_tag(harness, clean):
    clean.open.add(Fault.status(503), method='PUT', path=r'/manifests/faults-refused$', count=None)
    kind, message, _client = run_module(tag, _tag_params('%s/test/oci-image:v1' % clean.open.host, ['faults-refused']))
    assert kind == 'error'
    assert_one_line(message, 'HTTP 503')
    assert clean.open.count('PUT') == 1  # never retried
    assert 'faults-refused' not in _tags_left(harness, 'test/oci-image')


def test_cross_registry_copy_with_redirected_source_blobs(harness, clean):
    """Source on the token registry (its blobs redirected to storage), target on the open one."""
    clean.token.add(Fault.redirect(clean.storage), method='GET', path=r'/blobs/', count=None)
    source_auth = {'username': 'reader', 'password': harness.token.users['reader'], 'plain_http': True}
    kind, result, _client = run_module(tag, _tag_params('%s/test/oci-image:v1' % clean.token.host, ['from-token'],
                                                        repository='%s/faults/copied' % clean.open.host, source_auth=source_auth))
    assert kind == 'ok', result
    assert result['digest'] == harness.seeded['token']['oci_image']['digest']
    assert clean.token.count('GET', r'/blobs/', fault='redirect') >= 2  # config and layer
    assert clean.storage.authorization_seen == []


# registry_archive: a broken download leaves no archive behind.

@pytest.mark.parametrize('fault,needle', [(lambda: Fault.truncate(5), 'cut off'), (Fault.corrupt, 'sha256:')], ids=['truncated', 'corrupt'])
def test_archive_export_with_a_broken_blob_leaves_no_file(clean, tmp_path, fault, needle):
    clean.open.add(fault(), method='GET', path=BLOB, count=None)
    path = tmp_path / 'out.tar'
    kind, message, _client = run_module(archive, dict(FAST, state='exported', path=str(path), images=['%s/test/oci-image:v1' % clean.open.host],
                                                      plain_http=True))
    assert kind == 'error'
    assert_one_line(message, needle)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file either


# registry_tags_info and registry_search_info: listing survives a flaky registry, or says which listing failed.

def test_tags_info_with_digests_survives_503_and_a_reset(harness, clean):
    digest = push_image(harness.open, 'faults/tags', ['latest', 'v1'], content='tags under faults\n')['digest']
    clean.open.add(Fault.status(503), method='GET', path=r'/tags/list', count=2)
    clean.open.add(Fault.reset(), method='HEAD', path=r'/manifests/latest$', count=1)
    kind, result, _client = run_module(tags_info, dict(FAST, repository='%s/faults/tags' % clean.open.host, digests=True,
                                                       plain_http=True))
    assert kind == 'ok', result
    assert result['tags'] == ['latest', 'v1']
    assert {d['digest'] for d in result['details']} == {digest}
    assert clean.open.count('GET', r'/tags/list') == 3


@pytest.mark.parametrize('module,params,needle', [
    (lambda: tags_info, lambda host: {'repository': '%s/test/oci-image' % host}, 'list tags'),
    (lambda: search_info, lambda host: {'registry': host}, 'list repositories'),
], ids=['tags_info', 'search_info'])
def test_listing_that_keeps_failing_names_the_listing(clean, module, params, needle):
    clean.open.add(Fault.status(503), method='GET', path=r'/(tags/list|_catalog)', count=None)
    kind, message, _client = run_module(module(), dict(FAST, plain_http=True, retries=1, **params(clean.open.host)))
    assert kind == 'error'
    assert_one_line(message, needle, 'HTTP 503')
    assert not clean.open.writes()
