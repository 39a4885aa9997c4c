# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_search_info against real catalogs (a scratch registry of 320 repositories, the token registry),
and against a local server replaying Docker Hub's search API (Docker Hub is not reachable here). The installed module in a playbook is its ansible-test target,
tests/integration/targets/registry_search_info."""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_search_info as search_info
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, PermissionDeniedError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import VendorEndpoints

from harness.seed import clone_repository_on_disk, push_image
from replay import JsonReplay, serve

DEFAULTS = {'query': None, 'limit': None, 'page_size': 1000}
# 320 repositories: 300 under apps/, 20 under tools/, plus the one they were cloned from.
APPS = ['apps/svc-%03d' % i for i in range(300)]
TOOLS = ['tools/tool-%02d' % i for i in range(20)]


def run_search(client: RegistryClient, registry: str, **params: t.Any) -> t.Dict[str, t.Any]:
    return search_info.run(client, dict(DEFAULTS, registry=registry, **params), False)


@pytest.fixture(scope='module')
def catalog(harness: t.Any) -> t.Any:
    """A scratch registry holding only these repositories, so other tests' pushes do not change the counts."""
    registry = harness.add_registry('catalog', 'open')
    push_image(registry, 'seed/image', 'v1', content='catalog\n')
    clone_repository_on_disk(registry, 'seed/image', APPS + TOOLS)
    return registry


def test_whole_catalog_pages_by_100_and_keeps_order(catalog: t.Any) -> None:
    client = RegistryClient(ConnectionOptions(plain_http=True))
    result = run_search(client, catalog.host, page_size=100)
    assert result['source'] == 'catalog' and result['changed'] is False and result['registry'] == catalog.host
    names = [r['name'] for r in result['repositories']]
    assert names == sorted(APPS + TOOLS + ['seed/image'])
    assert result['repositories'][0] == {'name': 'apps/svc-000', 'repository': '%s/apps/svc-000' % catalog.host}
    assert client.log.count('GET', '/v2/_catalog') == 4  # 321 names, 100 per page


@pytest.mark.parametrize('params,expected,requests', [
    ({'query': 'TOOL-1', 'page_size': 100}, ['tools/tool-%02d' % i for i in range(10, 20)], 4),
    ({'query': 'apps/', 'limit': 5, 'page_size': 100}, APPS[:5], 1),  # limit reached on the first page: no more requests
    ({'query': 'svc-2', 'limit': 3, 'page_size': 100}, ['apps/svc-200', 'apps/svc-201', 'apps/svc-202'], 3),
    ({'query': 'no-such-name'}, [], 1),
    ({'limit': 2}, APPS[:2], 1),
])
def test_query_and_limit(catalog: t.Any, params: t.Dict[str, t.Any], expected: t.List[str], requests: int) -> None:
    client = RegistryClient(ConnectionOptions(plain_http=True))
    result = run_search(client, catalog.host, **params)
    assert [r['name'] for r in result['repositories']] == expected
    assert client.log.count('GET', '/v2/_catalog') == requests


def test_page_size_over_1000_falls_back(catalog: t.Any) -> None:
    """distribution answers 400 PAGINATION_NUMBER_INVALID to n > 1000: the client asks again with n=1000."""
    client = RegistryClient(ConnectionOptions(plain_http=True))
    result = run_search(client, catalog.host, page_size=5000)
    assert len(result['repositories']) == 321
    assert [(r.path, r.status) for r in client.log.records if r.path == '/v2/_catalog'] == [('/v2/_catalog', 400), ('/v2/_catalog', 200)]


def test_token_registry_catalog_for_admin_not_for_anonymous_or_reader(harness: t.Any) -> None:
    registry = harness.token
    admin = RegistryClient(ConnectionOptions(username='admin', password=registry.users['admin'], plain_http=True))
    names = [r['name'] for r in run_search(admin, registry.host, query='test/')['repositories']]
    assert {'test/oci-image', 'test/docker-image', 'test/multiarch', 'test/dockerlist'} <= set(names)
    with pytest.raises(PermissionDeniedError) as anonymous:  # distribution: 401 insufficient_scope
        run_search(RegistryClient(ConnectionOptions(plain_http=True, auth_method='none')), registry.host)
    message = str(anonymous.value)
    assert 'the catalog of registry %s (/v2/_catalog) is not available to these credentials' % registry.host in message
    assert 'no credentials were found' in message and 'registry:catalog:*' in message
    reader = RegistryClient(ConnectionOptions(username='reader', password=registry.users['reader'], plain_http=True))
    with pytest.raises(PermissionDeniedError, match='is not available to these credentials'):
        run_search(reader, registry.host)


@pytest.mark.parametrize('params,message', [
    ({'registry': 'myhost'}, 'registry: invalid registry "myhost": a registry host has a "." or a ":port"'),
    ({'registry': 'docker.io', 'query': ''}, 'query is required on Docker Hub'),
    ({'registry': '127.0.0.1:1', 'limit': 0}, 'limit must be 1 or more'),
    ({'registry': '127.0.0.1:1', 'page_size': 0}, 'page_size must be 1 or more'),
])
def test_bad_input_fails_before_any_request(params: t.Dict[str, t.Any], message: str) -> None:
    client = RegistryClient(ConnectionOptions(plain_http=True))
    with pytest.raises(InvalidInputError, match=message):
        search_info.run(client, dict(DEFAULTS, **params), False)
    assert len(client.log) == 0


class HubSearchReplay(JsonReplay):
    """Answers GET /v1/search?q=&n=&page= in the documented shape of Docker Hub's search API
    (moby's registry/search_session.go and api/types/registry/search.go), 150 results in all."""

    TOTAL = 150

    def answer(self, path: str) -> t.Tuple[int, t.Any]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        size, page = int(query['n'][0]), int(query['page'][0])
        names = ['nginx'] + ['user%03d/%s-app' % (i, query['q'][0]) for i in range(1, self.TOTAL)]
        chunk = names[(page - 1) * size:page * size]
        return (200 if parts.path == '/v1/search' else 404), {
            'num_pages': -(-self.TOTAL // size), 'num_results': self.TOTAL, 'page_size': size, 'page': page, 'query': query['q'][0],
            'results': [{'name': name, 'description': 'about %s' % name, 'star_count': 100 - i, 'is_official': name == 'nginx',
                         'is_automated': False} for i, name in enumerate(chunk)],
        }


@pytest.fixture
def hub_client() -> t.Iterator[RegistryClient]:
    """A client whose Docker Hub search URL is the local replay server (the VendorEndpoints seam)."""
    with serve(HubSearchReplay) as host:
        client = RegistryClient(ConnectionOptions())
        client.vendors = VendorEndpoints(hub_search_url='http://%s/v1/search' % host)
        yield client


@pytest.mark.parametrize('limit,count,pages', [(None, 25, [('25', '1')]), (3, 3, [('3', '1')]),
                                               (120, 120, [('100', '1'), ('100', '2')]), (1000, 150, [('100', '1'), ('100', '2')])])
def test_docker_hub_search_pages_until_limit(hub_client: RegistryClient, limit: t.Optional[int], count: int,
                                             pages: t.List[t.Tuple[str, str]]) -> None:
    """Docker Hub cannot be reached here: a local server replays its search API's documented answers."""
    result = run_search(hub_client, 'docker.io', query='web', limit=limit)
    assert result['source'] == 'hub_search' and result['registry'] == 'docker.io'
    assert len(result['repositories']) == count
    assert result['repositories'][0] == {'name': 'nginx', 'repository': 'docker.io/library/nginx', 'description': 'about nginx',
                                         'star_count': 100, 'is_official': True, 'is_automated': False}
    assert result['repositories'][1]['repository'] == 'docker.io/user001/web-app'
    queries = [parse_qs(urlsplit(path).query) for path in HubSearchReplay.requests]
    assert [(q['n'][0], q['page'][0]) for q in queries] == pages
    assert all(q['q'] == ['web'] for q in queries)
    assert [r.host for r in hub_client.log.records] == ['127.0.0.1:%s' % hub_client.vendors.hub_search_url.split(':')[2].split('/')[0]] * len(pages)
