# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole-registry sources: globs, entry checks, target names, and the expansion over a listing with its cap, as tables.

The expansion is fed by a stand-in client whose listing is a Python list: what is tested here is the choice (patterns,
the mirror's own repositories, the cap and where listing stops), not HTTP; the real catalog is listed in
tests/live/test_registry_sync_shards.py.
"""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import VendorEndpoints
from ansible_collections.oci.registry.plugins.module_utils.operations._repositories import (
    RepositoryPatterns, TooManyRepositoriesError, check_max_repositories, expand, glob_regex, parse_registry_source,
)


@pytest.mark.parametrize('pattern,matches,misses', [
    ('team/*', ['team/app', 'team/a.b-c_d'], ['team/app/sub', 'team', 'other/app']),
    ('team/**', ['team/app', 'team/app/sub/deeper'], ['team', 'teams/app']),
    ('**', ['a', 'a/b/c'], []),
    ('*/nginx', ['library/nginx', 'bitnami/nginx'], ['nginx', 'a/b/nginx', 'library/nginx-x']),
    ('app-?', ['app-1', 'app-x'], ['app-', 'app-10', 'app-/']),
    ('a.b/c', ['a.b/c'], ['aXb/c']),  # a dot is a dot
    ('**/cache', ['x/cache', 'x/y/cache'], ['cache', 'x/cached']),
])
def test_glob(pattern: str, matches: t.List[str], misses: t.List[str]) -> None:
    regex = glob_regex(pattern, 'include[0]')
    assert [name for name in matches if regex.match(name)] == matches
    assert [name for name in misses if regex.match(name)] == []


@pytest.mark.parametrize('pattern', ['', 'Team/*', '/team', 'team/', '^team/.*$', 'team/[ab]', 'a b', 7, None])
def test_glob_refuses(pattern: t.Any) -> None:
    with pytest.raises(InvalidInputError, match=r'^include\[0\]: .* is not a repository pattern'):
        glob_regex(pattern, 'include[0]')


def test_include_then_exclude() -> None:
    patterns = RepositoryPatterns.parse(['team/**', 'tools/*'], ['team/*-test', 'team/legacy/**'], 'repositories[0]')
    names = ['team/app', 'team/app-test', 'team/legacy/x', 'team/new/x', 'tools/a', 'tools/a/b', 'other/a']
    assert [n for n in names if patterns.matches(n)] == ['team/app', 'team/new/x', 'tools/a']


@pytest.mark.parametrize('include,exclude,words', [
    (None, None, ['repositories[0].include must list at least one repository pattern', '["**"]']),
    ([], None, ['include must list at least one']),
    (['**'], 'team/*', ['repositories[0].exclude must be a list']),
    (['**'], ['ok/*', 'Bad'], [r"repositories[0].exclude[1]: 'Bad' is not a repository pattern"]),
])
def test_patterns_refused(include: t.Any, exclude: t.Any, words: t.List[str]) -> None:
    with pytest.raises(InvalidInputError) as info:
        RepositoryPatterns.parse(include, exclude, 'repositories[0]')
    for word in words:
        assert word in info.value.msg


@pytest.mark.parametrize('include,namespaces', [
    (['bitnami/*'], ['bitnami']),
    (['library/nginx', 'library/alpine', 'bitnami/**'], ['library', 'bitnami']),
])
def test_docker_hub_namespaces(include: t.List[str], namespaces: t.List[str]) -> None:
    assert RepositoryPatterns.parse(include, None, 'repositories[0]').namespaces('repositories[0]') == namespaces


@pytest.mark.parametrize('include', [['**'], ['*/nginx'], ['nginx'], ['bit?ami/x']])
def test_docker_hub_needs_a_namespace_first(include: t.List[str]) -> None:
    with pytest.raises(InvalidInputError, match=r'Docker Hub has no catalog and lists repositories per namespace'):
        RepositoryPatterns.parse(include, None, 'repositories[0]').namespaces('repositories[0]')


ENTRY = {'source': 'registry.example.com', 'target': 'mirror.example.com:5000', 'include': ['**']}


@pytest.mark.parametrize('extra,path,target', [
    ({}, 'team/app', 'mirror.example.com:5000/team/app'),
    ({'target_prefix': 'hub'}, 'team/app', 'mirror.example.com:5000/hub/team/app'),
    ({'target_prefix': '/vendor/x/'}, 'app', 'mirror.example.com:5000/vendor/x/app'),
])
def test_target_names(extra: t.Dict[str, t.Any], path: str, target: str) -> None:
    assert parse_registry_source(0, dict(ENTRY, **extra)).target_of(path).name == target


@pytest.mark.parametrize('entry,words', [
    (dict(ENTRY, source='registry.example.com/team'), ['repositories[3].source:', 'names registries, host[:port]', 'include']),
    (dict(ENTRY, source=None), ['repositories[3].source:']),
    (dict(ENTRY, target='https://mirror.example.com'), ['repositories[3].target:']),
    (dict(ENTRY, target_prefix='Hub'), ["repositories[3].target_prefix: 'Hub' is not a repository path"]),
    (dict(ENTRY, target='registry.example.com'), ['source and target are the same registry', 'no target_prefix']),
    (dict(ENTRY, include=['registry.example.com/team/*']),
     ["repositories[3].include[0]: 'registry.example.com/team/*' names the registry", 'such as team/*']),
    (dict(ENTRY, source='docker.io', include=['docker.io/library/*']), ['names the registry']),
])
def test_entry_refused(entry: t.Dict[str, t.Any], words: t.List[str]) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_registry_source(3, entry)
    for word in words:
        assert word in info.value.msg


class FakeListing:
    """Stands in for RegistryClient: the repositories of each registry as a list, one log record per name listed."""

    vendors = VendorEndpoints()

    def __init__(self, catalogs: t.Dict[str, t.List[str]], fail: t.Optional[Exception] = None) -> None:
        self.catalogs, self.fail, self.log, self.asked = catalogs, fail, [], []

    def iter_repositories(self, registry: t.Any, namespaces: t.Optional[t.List[str]] = None) -> t.Iterator[str]:
        self.asked.append((registry.registry, namespaces))
        if self.fail:
            raise self.fail
        for name in self.catalogs[registry.registry]:
            self.log.append(name)
            yield name


def _sources(*entries: t.Dict[str, t.Any]):
    return [parse_registry_source(number, entry) for number, entry in enumerate(entries)]


def test_expand_lists_each_registry_once_and_keeps_entry_order() -> None:
    client = FakeListing({'registry.example.com': ['b/two', 'a/one', 'c/three', 'b/four'], 'docker.io': ['library/alpine', 'bitnami/redis']})
    sources = _sources(dict(ENTRY, include=['b/*']), dict(ENTRY, source='docker.io', include=['library/*', 'bitnami/*'], exclude=['bitnami/*']),
                       dict(ENTRY, include=['a/*', 'c/*'], target_prefix='second'))
    chosen, listings = expand(t.cast(t.Any, client), sources, cap=10)
    assert [(s.number, path, s.target_of(path).name) for s, path in chosen] == [
        (0, 'b/four', 'mirror.example.com:5000/b/four'), (0, 'b/two', 'mirror.example.com:5000/b/two'),
        (1, 'library/alpine', 'mirror.example.com:5000/library/alpine'),
        (2, 'a/one', 'mirror.example.com:5000/second/a/one'), (2, 'c/three', 'mirror.example.com:5000/second/c/three')]
    assert client.asked == [('registry.example.com', None), ('docker.io', ['bitnami', 'library'])]
    assert {name: listing.report() for name, listing in listings.items()} == {
        'registry.example.com': {'api': 'catalog', 'listed': 4, 'matched': 4, 'requests': 4},
        'docker.io': {'api': 'hub_api', 'listed': 2, 'matched': 1, 'requests': 2}}


def test_expand_skips_the_mirror_itself_on_one_registry() -> None:
    client = FakeListing({'registry.example.com': ['team/app', 'mirror/team/app', 'mirrors/x']})
    chosen, _listings = expand(t.cast(t.Any, client), _sources(dict(ENTRY, target='registry.example.com', target_prefix='mirror')), cap=10)
    assert [path for _s, path in chosen] == ['mirrors/x', 'team/app']


def test_expand_stops_listing_past_the_cap() -> None:
    client = FakeListing({'registry.example.com': ['r/%04d' % i for i in range(5000)]})
    with pytest.raises(TooManyRepositoriesError) as info:
        expand(t.cast(t.Any, client), _sources(ENTRY), cap=100, already=10)
    assert len(client.log) == 91  # stopped at the 91st chosen repository, not after 5000
    assert info.value.msg.startswith('more than max_repositories (100) repositories to sync, reached while listing registry '
                                     'registry.example.com for repositories[0]')
    assert 'nothing was synced' in info.value.msg


def test_expand_names_the_entries_when_listing_fails() -> None:
    client = FakeListing({}, fail=NotFoundError('Docker Hub has no namespace nobody (HTTP 404)'))
    with pytest.raises(NotFoundError) as info:
        expand(t.cast(t.Any, client), _sources(dict(ENTRY, source='docker.io', include=['nobody/*']),
                                               dict(ENTRY, source='docker.io', include=['nobody/x'])), cap=10)
    assert info.value.msg == ('repositories[0] and repositories[1]: cannot list the repositories of registry docker.io: '
                              'Docker Hub has no namespace nobody (HTTP 404)')


@pytest.mark.parametrize('value,ok', [(1, True), (5000, True), (0, False), (-3, False), (True, False), ('10', False), (None, False)])
def test_check_max_repositories(value: t.Any, ok: bool) -> None:
    if ok:
        assert check_max_repositories(value) == value
    else:
        with pytest.raises(InvalidInputError, match='max_repositories must be 1 or more'):
            check_max_repositories(value)
