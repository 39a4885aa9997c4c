# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker Hub's search answer (moby's registry/search_session.go shape) and its repository listing."""
from __future__ import annotations

import json
import typing as t

import pytest
from harness.fake_hosts import FakeHosts

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_registry
from ansible_collections.oci.registry.plugins.module_utils.client._hub import (
    hub_namespace_path, hub_search_query, parse_hub_repositories, parse_hub_search,
)
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import VendorEndpoints
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions


@pytest.mark.parametrize('data,results,pages', [
    ({'num_pages': 3, 'results': [{'name': 'nginx', 'description': 'd', 'star_count': 5, 'is_official': True, 'is_automated': False}]},
     [{'name': 'nginx', 'description': 'd', 'star_count': 5, 'is_official': True, 'is_automated': False}], 3),
    ({'results': [{'name': 'a/b'}, {'description': 'no name'}, 'junk']},
     [{'name': 'a/b', 'description': None, 'star_count': None, 'is_official': None, 'is_automated': None}], 0),
    ([], [], 0), ({'results': None, 'num_pages': '2'}, [], 0),
])
def test_parse_hub_search(data: t.Any, results: t.List[t.Dict[str, t.Any]], pages: int) -> None:
    assert parse_hub_search(data) == (results, pages)


@pytest.mark.parametrize('size,page,n', [(25, 1, 25), (1000, 2, 100), (0, 1, 1)])
def test_hub_search_query_caps_page_size(size: int, page: int, n: int) -> None:
    assert hub_search_query('web', size, page) == [('q', 'web'), ('n', n), ('page', page)]


# Docker Hub's repository listing (the Hub API's listNamespaceRepositories: GET /v2/namespaces/{namespace}/repositories,
# {count, next, previous, results: [{name, namespace, ...}]}, anonymous for public repositories). hub.docker.com cannot be
# reached from the test machines and no local server speaks this API, so its documented answers are replayed by a
# local stand-in (harness.fake_hosts) put where the client looks for the Hub API; what is checked is what the client
# makes of them: names, paging by `next`, auth only when credentials exist.

HUB_API = 'https://hub.docker.com'


def _page(names: t.List[str], following: t.Optional[str], namespace: str = 'bitnami') -> t.Dict[str, t.Any]:
    return {'count': 3, 'next': following, 'previous': None,
            'results': [{'name': name, 'namespace': namespace, 'repository_type': 'image', 'status': 1, 'is_private': False}
                        for name in names]}


@pytest.mark.parametrize('data,names,following', [
    (_page(['nginx', 'redis'], HUB_API + '/v2/namespaces/bitnami/repositories?page=2&page_size=2'),
     ['bitnami/nginx', 'bitnami/redis'], HUB_API + '/v2/namespaces/bitnami/repositories?page=2&page_size=2'),
    ({'results': [{'name': ''}, {'nothing': 1}, 'junk', {'name': 'ok'}], 'next': ''}, ['bitnami/ok'], None),
    ([], [], None), ({'results': None, 'next': None}, [], None),
])
def test_parse_hub_repositories(data: t.Any, names: t.List[str], following: t.Optional[str]) -> None:
    assert parse_hub_repositories(data, 'bitnami') == (names, following)


def test_hub_namespace_path_asks_for_the_largest_page_sorted_by_name() -> None:
    assert hub_namespace_path('library') == '/v2/namespaces/library/repositories?page_size=1000&ordering=name'


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[FakeHosts]:
    """The Hub API answered from 127.0.0.1 through the vendor seam; every scripted answer must be asked for."""
    with FakeHosts() as hosts:
        monkeypatch.setattr(RegistryClient, 'vendors', VendorEndpoints(hub_api_url=hosts.url))
        yield hosts
        hosts.assert_all_asked()


def _client(**options: t.Any) -> RegistryClient:
    options.setdefault('retries', 0)
    return RegistryClient(ConnectionOptions(**options))


def test_namespace_listing_anonymous_follows_next(hub: FakeHosts, monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any) -> None:
    monkeypatch.setenv('DOCKER_CONFIG', str(tmp_path))  # no auth file: anonymous
    path = '/v2/namespaces/bitnami/repositories'
    hub.get(path, query={'page_size': '1000', 'ordering': 'name'},
            json=_page(['nginx', 'redis'], hub.url + path + '?page=2&page_size=1000&ordering=name'))
    hub.get(path, query={'page': '2', 'page_size': '1000', 'ordering': 'name'}, json=_page(['zookeeper'], None))
    hub.get('/v2/namespaces/library/repositories', json=_page(['alpine'], None, 'library'))
    client = _client(auth_method='none')
    names = list(client.iter_repositories(parse_registry('docker.io'), ['bitnami', 'library']))
    assert names == ['bitnami/nginx', 'bitnami/redis', 'bitnami/zookeeper', 'library/alpine']
    assert [call.request.headers.get('Authorization') for call in hub.calls] == [None, None, None]
    assert len(client.log) == 3  # one request per page, no ping, no token


def test_namespace_listing_with_credentials_logs_in_once(hub: FakeHosts) -> None:
    hub.post('/v2/auth/token', json={'access_token': 'hub-jwt-1'})
    hub.get('/v2/namespaces/team/repositories', json=_page(['private-app'], None, 'team'))
    client = _client(auth_method='password', username='hubuser', password='hub-pat-1')
    assert list(client.iter_repositories(parse_registry('docker.io'), ['team'])) == ['team/private-app']
    assert json.loads(hub.calls[0].request.body) == {'identifier': 'hubuser', 'secret': 'hub-pat-1'}
    assert hub.calls[1].request.headers['Authorization'] == 'Bearer hub-jwt-1'
    assert len(hub.calls) == 2


def test_namespace_listing_of_an_unknown_namespace(hub: FakeHosts) -> None:
    hub.get('/v2/namespaces/nobody/repositories', status=404, json={'message': 'not found', 'errinfo': None})
    with pytest.raises(NotFoundError) as info:
        list(_client(auth_method='none').iter_repositories(parse_registry('docker.io'), ['nobody']))
    assert info.value.msg.startswith('Docker Hub has no namespace nobody (')
    assert 'user or organization' in (info.value.hint or '')


def test_docker_hub_needs_namespaces() -> None:
    with pytest.raises(InvalidInputError, match='Docker Hub has no catalog: its repositories are listed per namespace'):
        list(_client(auth_method='none').iter_repositories(parse_registry('docker.io')))
