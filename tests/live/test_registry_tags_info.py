# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tags_info in process against the harness's real registries,
and against a local server replaying Google's extended tags/list (no Google registry is reachable here).
The installed module in a playbook is its ansible-test target, tests/integration/targets/registry_tags_info."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_tags_info as tags_info
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import VendorEndpoints

from harness.seed import OCI_INDEX, OCI_MANIFEST, PushClient, link_tags_on_disk, push_image
from replay import JsonReplay, serve

DEFAULTS = {'match': None, 'exclude': None, 'semver': None, 'sort': 'name', 'order': 'asc', 'limit': None, 'digests': False, 'workers': 8}
VERSIONS = ['1.2.9', '1.2.10', 'v1.10.0', '1.9.0', '2.0.0-rc.1', '2.0.0', 'latest', 'main',
            '20240501T101500-alice-3f2a9c1-passed', '20240502T090000-bob-0badc0d-failed', '20240503T120000-carol-1234567-passed']


def run_tags(client: RegistryClient, repository: str, **params: t.Any) -> t.Dict[str, t.Any]:
    return tags_info.run(client, dict(DEFAULTS, repository=repository, **params), False)


@pytest.fixture(scope='module')
def versions(harness: t.Any) -> str:
    push_image(harness.open, 'tags/versions', VERSIONS, content='versions\n')
    return '%s/tags/versions' % harness.open.host


@pytest.mark.parametrize('params,expected', [
    ({'sort': 'semver', 'match': r'^v?\d+\.'}, ['1.2.9', '1.2.10', '1.9.0', 'v1.10.0', '2.0.0-rc.1', '2.0.0']),
    ({'sort': 'semver', 'order': 'desc', 'exclude': '^2024'}, ['2.0.0', '2.0.0-rc.1', 'v1.10.0', '1.9.0', '1.2.10', '1.2.9', 'latest', 'main']),
    ({'sort': 'semver', 'order': 'desc', 'match': r'^v?\d+\.\d+\.\d+$', 'limit': 1}, ['2.0.0']),
    ({'sort': 'name', 'match': '^[lm]'}, ['latest', 'main']),
    ({'sort': 'name', 'order': 'desc', 'limit': 2}, ['v1.10.0', 'main']),
    ({'match': '-passed$', 'order': 'desc'}, ['20240503T120000-carol-1234567-passed', '20240501T101500-alice-3f2a9c1-passed']),
    ({'semver': '>=1.2.10 <2.0.0', 'sort': 'semver'}, ['1.2.10', '1.9.0', 'v1.10.0']),
    ({'semver': '>=2.0.0-rc.1', 'sort': 'semver', 'order': 'desc'}, ['2.0.0', '2.0.0-rc.1']),
    ({'semver': '>=1.9 <3', 'sort': 'semver', 'order': 'desc', 'limit': 2}, ['2.0.0', 'v1.10.0']),
])
def test_filters_and_orders(harness: t.Any, versions: str, params: t.Dict[str, t.Any], expected: t.List[str]) -> None:
    result = run_tags(RegistryClient(ConnectionOptions(plain_http=True)), versions, **params)
    assert result['exists'] is True and result['changed'] is False
    assert result['tags'] == expected
    assert [d['tag'] for d in result['details']] == expected
    assert all(d['digest'] is None and d['created'] is None for d in result['details'])


def test_named_groups_come_back_per_tag(harness: t.Any, versions: str) -> None:
    pattern = r'^(?P<datetime>\d{8}T\d{6})-(?P<user>[a-z]+)-(?P<hash>[0-9a-f]{7})-(?P<state>passed|failed)$'
    result = run_tags(RegistryClient(ConnectionOptions(plain_http=True)), versions, match=pattern, exclude='failed', digests=True)
    digest = harness.open and result['details'][0]['digest']
    assert digest and digest.startswith('sha256:')
    assert result['details'] == [
        {'tag': '20240501T101500-alice-3f2a9c1-passed', 'digest': digest, 'created': None,
         'datetime': '20240501T101500', 'user': 'alice', 'hash': '3f2a9c1', 'state': 'passed'},
        {'tag': '20240503T120000-carol-1234567-passed', 'digest': digest, 'created': None,
         'datetime': '20240503T120000', 'user': 'carol', 'hash': '1234567', 'state': 'passed'},
    ]


def test_created_order_uses_config_dates_and_newest_child_of_an_index(harness: t.Any) -> None:
    registry = harness.open
    repository = 'tags/created'
    dates = {'mid': '2023-06-01T00:00:00Z', 'old': '2021-01-01T12:00:00.123456789Z', 'new': '2024-03-01T08:00:00+01:00'}
    pushed = {tag: push_image(registry, repository, tag, created=when, content=tag) for tag, when in dates.items()}
    # An index over two images of different dates: its created is its newest child's.
    children = [push_image(registry, repository, None, platform=platform, created=when, content='child %s' % when)
                for platform, when in ((('linux', 'amd64', None), '2022-01-01T00:00:00Z'), (('linux', 'arm64', 'v8'), '2023-01-01T00:00:00Z'))]
    index = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': [
        {'mediaType': OCI_MANIFEST, 'digest': c['digest'], 'size': c['size'],
         'platform': dict(zip(('os', 'architecture', 'variant'), c['platform'].split('/')))} for c in children]}).encode()
    index_digest = PushClient(registry.url).put_manifest(repository, 'multi', index, OCI_INDEX)
    client = RegistryClient(ConnectionOptions(plain_http=True))
    result = run_tags(client, '%s/%s' % (registry.host, repository), sort='created')
    assert result['tags'] == ['old', 'multi', 'mid', 'new']
    by_tag = {d['tag']: d for d in result['details']}
    assert by_tag['old']['created'] == '2021-01-01T12:00:00Z'
    assert by_tag['new']['created'] == '2024-03-01T07:00:00Z'
    assert by_tag['multi'] == {'tag': 'multi', 'digest': index_digest, 'created': '2023-01-01T00:00:00Z'}
    assert all(by_tag[tag]['digest'] == pushed[tag]['digest'] for tag in dates)
    newest = run_tags(client, '%s/%s' % (registry.host, repository), sort='created', order='desc', limit=1)
    assert newest['tags'] == ['new']


def test_many_tags_in_one_list_request(harness: t.Any) -> None:
    registry = harness.open
    pushed = push_image(registry, 'tags/many', 'seed', content='many\n')
    link_tags_on_disk(registry, 'tags/many', pushed['digest'], ['1.0.%d' % i for i in range(2500)])
    client = RegistryClient(ConnectionOptions(plain_http=True))
    result = run_tags(client, '%s/tags/many' % registry.host, sort='semver', order='desc', limit=3)
    assert result['tags'] == ['1.0.2499', '1.0.2498', '1.0.2497']  # 1.0.2499 after 1.0.999: numbers, not strings
    assert client.log.count('GET', '/tags/list') == 1
    everything = run_tags(client, '%s/tags/many' % registry.host, sort='semver')['tags']
    assert len(everything) == 2501 and everything[-1] == 'seed' and everything[999:1001] == ['1.0.999', '1.0.1000']


def test_missing_repository_and_emptied_repository(harness: t.Any) -> None:
    registry = harness.open
    client = RegistryClient(ConnectionOptions(plain_http=True))
    missing = run_tags(client, '%s/tags/no-such-repository' % registry.host)
    assert missing == {'changed': False, 'repository': '%s/tags/no-such-repository' % registry.host, 'exists': False, 'tags': [], 'details': []}
    pushed = push_image(registry, 'tags/emptied', 'only', content='emptied\n')
    PushClient(registry.url).request('DELETE', '/v2/tags/emptied/manifests/%s' % pushed['digest'], '', (202,))
    emptied = run_tags(client, '%s/tags/emptied' % registry.host)
    assert emptied['exists'] is True and emptied['tags'] == []


@pytest.mark.parametrize('params,message', [
    ({'match': '(?P<user>'}, 'match is not a valid regular expression'),
    ({'exclude': '*latest'}, 'exclude is not a valid regular expression'),
    ({'limit': 0}, 'limit must be 1 or more'),
    ({'workers': 0}, 'workers must be between 1 and 32'),
])
def test_bad_input_fails_before_any_request(params: t.Dict[str, t.Any], message: str) -> None:
    client = RegistryClient(ConnectionOptions(plain_http=True))
    with pytest.raises(InvalidInputError, match=message.replace('(', r'\(')):
        run_tags(client, '127.0.0.1:1/any/repo', **params)
    assert len(client.log) == 0


class GoogleReplay(JsonReplay):
    """Answers GET /v2/ and GET /v2/team/app/tags/list with the shape of Google's extended listing (go-containerregistry's pkg/v1/google/list.go)."""

    LISTING = {
        'name': 'team/app', 'child': [],
        'tags': ['v1', 'v2', 'v3', 'latest', 'v0'],
        'manifest': {
            'sha256:' + '1' * 64: {'imageSizeBytes': '1024', 'layerId': '', 'mediaType': OCI_MANIFEST, 'tag': ['v1'],
                                   'timeCreatedMs': '1700000000000', 'timeUploadedMs': '1700000100000'},
            'sha256:' + '2' * 64: {'imageSizeBytes': '1024', 'mediaType': OCI_MANIFEST, 'tag': ['v2', 'latest'],
                                   'timeCreatedMs': '1710000000000', 'timeUploadedMs': '1710000100000'},
            'sha256:' + '3' * 64: {'imageSizeBytes': '1024', 'mediaType': OCI_MANIFEST, 'tag': ['v3'],
                                   'timeCreatedMs': '0', 'timeUploadedMs': '1720000000000'},
            'sha256:' + '0' * 64: {'imageSizeBytes': '1024', 'mediaType': OCI_MANIFEST, 'tag': ['v0'],
                                   'timeCreatedMs': '1600000000000', 'timeUploadedMs': '1600000000000'},
        },
    }

    def answer(self, path: str) -> t.Tuple[int, t.Any]:
        if path == '/v2/':
            return 200, {}
        return (200, self.LISTING) if path == '/v2/team/app/tags/list' else (404, {})


@pytest.fixture
def google_replay() -> t.Iterator[str]:
    with serve(GoogleReplay) as host:
        yield host


def test_google_manifest_map_gives_created_and_digests_without_more_requests(google_replay: str) -> None:
    """No Google registry is reachable here: a local server replays the documented shape of its tags/list
    (go-containerregistry pkg/v1/google/list.go), and the client is pointed at it through VendorEndpoints."""
    client = RegistryClient(ConnectionOptions(plain_http=True))
    client.vendors = VendorEndpoints(google_hosts=frozenset({google_replay}))
    result = run_tags(client, '%s/team/app' % google_replay, sort='created', order='desc', digests=True)
    assert result['tags'] == ['v3', 'latest', 'v2', 'v1', 'v0']  # v3: no created time, so its upload time counts
    assert result['details'][0] == {'tag': 'v3', 'digest': 'sha256:' + '3' * 64, 'created': '2024-07-03T09:46:40Z'}
    assert result['details'][1]['digest'] == 'sha256:' + '2' * 64 and result['details'][1]['created'] == '2024-03-09T16:00:00Z'
    assert GoogleReplay.requests == ['/v2/', '/v2/team/app/tags/list']
    # Without the seam the same server is just a registry: no map is read, so nothing is known.
    plain = run_tags(RegistryClient(ConnectionOptions(plain_http=True)), '%s/team/app' % google_replay)
    assert all(d['digest'] is None and d['created'] is None for d in plain['details'])
