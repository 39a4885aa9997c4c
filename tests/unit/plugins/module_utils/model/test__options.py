# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Option parsing in one place: each parser names the option, and each caller keeps its own wording."""
from __future__ import annotations

import re
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import Platform
from ansible_collections.oci.registry.plugins.module_utils.model._options import (
    DEFAULTS, MAX_WORKERS, check_workers, compile_pattern, compile_regex, parse_image, parse_names, parse_platform,
    parse_platforms, parse_registry, parse_repository,
)
from ansible_collections.oci.registry.plugins.module_utils.model._reference import validate_digest, validate_tag

DIGEST = 'sha256:' + 'a' * 64


@pytest.mark.parametrize('text,name', [
    ('nginx', 'docker.io/library/nginx'), ('127.0.0.1:5000/team/app', '127.0.0.1:5000/team/app'),
])
def test_parse_repository(text: str, name: str) -> None:
    assert parse_repository(text).name == name


@pytest.mark.parametrize('text,message', [
    ('team/app:1.0', 'repository: invalid repository "team/app:1.0": a repository cannot have a tag'),
    ('Team/App', 'repository: invalid repository "Team/App"'),
    (5, 'repository must be a string like registry.example.com/team/app, got 5'),
    ('', 'repository: invalid repository "": the repository is empty'),
])
def test_parse_repository_refuses(text: t.Any, message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_repository(text)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize('value', [None, '', 7])
def test_parse_repository_missing_has_the_callers_words(value: t.Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_repository(value, 'repositories[1].source', missing='is required: a repository (no tag)')
    assert str(info.value) == 'repositories[1].source is required: a repository (no tag)'


def test_parse_repository_hint_follows_the_grammar_error() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_repository('a/b:1', 'repositories[0].target', hint='the tags go in tags')
    assert str(info.value).startswith('repositories[0].target: invalid repository "a/b:1"')
    assert str(info.value).endswith(' (the tags go in tags)')


def test_parse_image_names_the_option() -> None:
    assert parse_image('nginx').name == 'docker.io/library/nginx' and parse_image('nginx').tag == 'latest'
    assert parse_image('nginx', default_tag=None).tag is None
    with pytest.raises(InvalidInputError, match=r'^images target: invalid image reference "a//b"'):
        parse_image('a//b', 'images target')
    with pytest.raises(InvalidInputError, match=r'^source must be a string like registry.example.com/team/app:1.0, got None$'):
        parse_image(None, 'source')


def test_parse_registry_names_the_option() -> None:
    assert parse_registry('127.0.0.1:5000').registry == '127.0.0.1:5000'
    with pytest.raises(InvalidInputError, match=r'^registry: invalid registry "https://x.example"'):
        parse_registry('https://x.example')


@pytest.mark.parametrize('values,expected', [
    (None, ()), ([], ()), (['linux/amd64', '', None, 'linux/arm64/v8'], (Platform('linux', 'amd64'), Platform('linux', 'arm64', 'v8'))),
])
def test_parse_platforms(values: t.Any, expected: t.Tuple[Platform, ...]) -> None:
    assert parse_platforms(values) == expected


def test_parse_platforms_names_the_option() -> None:
    assert parse_platform('') is None and parse_platform(None) is None
    with pytest.raises(InvalidInputError, match=r"^repositories\[0\]\.platforms: invalid platform 'linux'"):
        parse_platforms(['linux/amd64', 'linux'], 'repositories[0].platforms')


def test_parse_names_validates_and_keeps_the_first_of_each() -> None:
    assert parse_names(['b', 'a', 'b'], 'tags', validate_tag) == ['b', 'a']
    assert parse_names([DIGEST, DIGEST], 'digests', validate_digest) == [DIGEST]
    with pytest.raises(InvalidInputError, match=r'^digests: invalid digest "sha256:1"'):
        parse_names(['sha256:1'], 'digests', validate_digest)


@pytest.mark.parametrize('workers', [1, 8, MAX_WORKERS])
def test_workers_in_range(workers: int) -> None:
    assert check_workers(workers) == workers


@pytest.mark.parametrize('workers', [0, MAX_WORKERS + 1, True, '4', None])
def test_workers_out_of_range(workers: t.Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_workers(workers, 'lookup workers')
    assert str(info.value) == 'lookup workers must be between 1 and %d, got %s' % (MAX_WORKERS, workers)


def test_defaults_are_in_range() -> None:
    assert check_workers(DEFAULTS['workers']) == DEFAULTS['workers']
    assert DEFAULTS['prune_max'] >= 0 and DEFAULTS['min_ratelimit_remaining'] >= 0


@pytest.mark.parametrize('text,message', [
    ('v(1', "match is not a valid regular expression (missing ), unterminated subpattern at position 1): 'v(1'"),
    (['x'], "match must be a regular expression (a string), got ['x']"),
    ('(?P<tag>x)', 'match: the named group tag clashes with a key of details; rename it (reserved: digest, tag)'),
])
def test_compile_regex_default_words(text: t.Any, message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        compile_regex(text, 'match', frozenset(('tag', 'digest')))
    assert str(info.value) == message


def test_compile_regex_with_a_callers_words_and_error() -> None:
    words = {'type': '%(option)s: %(text)r is no string', 'syntax': '%(option)s: %(text)r: %(reason)s', 'reserved': 'unused'}
    with pytest.raises(ValueError) as info:
        compile_regex('(', 'protect', messages=words, error=ValueError)
    assert not isinstance(info.value, InvalidInputError)
    assert str(info.value) == "protect: '(': missing ), unterminated subpattern at position 0"
    with pytest.raises(ValueError, match=r"^protect: 3 is no string$"):
        compile_regex(3, 'protect', messages=words, error=ValueError)


def test_compile_pattern_unset_is_no_filter() -> None:
    assert compile_pattern(None, 'match') is None and compile_pattern('', 'match') is None
    assert compile_pattern('^v', 'match') == re.compile('^v')
