# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_tag's input checks and plan, over a real OCI layout as the target store (no registry needed)."""
from __future__ import annotations

import json
import threading
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import OCI_MANIFEST
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.operations._tagging import (
    OVERWRITE_REFUSED, parse_tags, parse_target, plan_tags, target_digests,
)
from ansible_collections.oci.registry.plugins.module_utils.stores._layout import LayoutStore, OCILayout
from ansible_collections.oci.registry.plugins.module_utils.stores._store import ImageStore

NAME = '127.0.0.1:5000/team/app'


def put_image(store: LayoutStore, tag: str, layer: bytes) -> str:
    """An image under ``tag`` in a layout store; returns its digest."""
    config = b'{"os":"linux","architecture":"amd64"}'
    for blob in (config, layer):
        store.write_blob(compute_digest(blob), len(blob), [blob])
    raw = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
                      'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': compute_digest(config), 'size': len(config)},
                      'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': compute_digest(layer), 'size': len(layer)}]}
                     ).encode()
    store.put_manifest(tag, raw, OCI_MANIFEST)
    return compute_digest(raw)


@pytest.fixture
def target(tmp_path) -> t.Iterator[LayoutStore]:
    with OCILayout.for_writing(str(tmp_path / 'layout')) as layout:
        yield layout.store(NAME)


class NoLookups(ImageStore):
    """A target that must not be asked: every tag is already known."""

    label = 'no lookups'

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        raise AssertionError('looked up %s although it was known' % reference)


# parse_tags

def test_tags_are_validated_and_kept_once_in_order() -> None:
    assert parse_tags(['prod', 'v1.0', 'prod', 'stable']) == ['prod', 'v1.0', 'stable']


@pytest.mark.parametrize('tags,message', [
    ([], 'tags is empty: give at least one tag name'),
    (None, 'tags is empty'),
    (['sha256:' + 'a' * 64], 'tags: "sha256:%s" is a digest, not a tag' % ('a' * 64)),
    (['sha512:abc'], 'tags: "sha512:abc" is a digest, not a tag'),  # a digest prefix is enough to say so
    (['@sha256:abc'], 'tags: "@sha256:abc" is a digest, not a tag'),
    (['team/app'], 'tags: "team/app" is a reference, not a tag name; put the target repository in repository'),
    (['app:1.0'], 'tags: "app:1.0" is a reference, not a tag name'),
    (['-bad'], 'tags: invalid tag "-bad"'),
    (['x' * 129], 'tags: invalid tag'),
])
def test_tags_refused_with_what_to_do(tags: t.Any, message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_tags(tags)
    assert str(info.value).startswith(message)


# parse_target

def test_target_defaults_to_the_source_repository_without_its_tag() -> None:
    source = parse_image('127.0.0.1:5000/team/app:1.0')
    target = parse_target(None, source)
    assert (target.name, target.tag, target.digest) == (NAME, None, None)
    assert parse_target('', source).name == NAME


def test_target_option_is_a_repository() -> None:
    source = parse_image('nginx:1.27')
    assert parse_target('registry.example.com:5000/mirror/nginx', source).name == 'registry.example.com:5000/mirror/nginx'
    with pytest.raises(InvalidInputError, match=r'^repository: invalid repository "mirror/nginx:1.27": a repository cannot have a tag'):
        parse_target('mirror/nginx:1.27', source)


# plan_tags

def test_plan_says_what_each_tag_points_at_and_whether_to_write(target: LayoutStore) -> None:
    same = put_image(target, 'same', b'one')
    other = put_image(target, 'other', b'two')
    plan = plan_tags(target, NAME, ['same', 'other', 'new'], same, overwrite=True)
    assert plan == [
        {'tag': 'same', 'target': NAME + ':same', 'previous_digest': same, 'digest': same, 'changed': False},
        {'tag': 'other', 'target': NAME + ':other', 'previous_digest': other, 'digest': same, 'changed': True},
        {'tag': 'new', 'target': NAME + ':new', 'previous_digest': None, 'digest': same, 'changed': True},
    ]


def test_plan_without_overwrite_keeps_a_tag_on_another_image(target: LayoutStore) -> None:
    wanted = put_image(target, 'same', b'one')
    other = put_image(target, 'other', b'two')
    plan = plan_tags(target, NAME, ['other', 'new'], wanted, overwrite=False)
    assert plan[0] == {'tag': 'other', 'target': NAME + ':other', 'previous_digest': other, 'digest': other, 'changed': False,
                       'skipped': OVERWRITE_REFUSED}
    assert plan[1]['changed'] is True and 'skipped' not in plan[1]


def test_plan_uses_what_is_known_and_looks_up_the_rest(target: LayoutStore) -> None:
    digest = put_image(target, 'v1', b'one')
    assert [e['changed'] for e in plan_tags(NoLookups(), NAME, ['a', 'b'], digest, True, known={'a': digest, 'b': None})] == [False, True]
    assert plan_tags(target, NAME, ['v1', 'v2'], digest, True, known={'v2': None})[0]['changed'] is False  # v1 looked up


# target_digests

def test_target_digests_reads_the_source_beside_the_lookups(target: LayoutStore) -> None:
    digest = put_image(target, 'v1', b'one')
    source_thread: t.List[str] = []

    def read_source() -> str:
        source_thread.append(threading.current_thread().name)
        return 'the source manifest'

    found, known = target_digests(target, ['v1', 'v2'], read_source)
    assert (found, known) == ('the source manifest', {'v1': digest, 'v2': None})
    assert source_thread and source_thread[0] != threading.current_thread().name


class FailingTarget(ImageStore):
    label = 'failing target'

    def manifest_digest(self, reference: str) -> t.Optional[str]:
        raise RegistryError('target refused')


def test_a_source_error_comes_first_even_when_the_target_fails_too() -> None:
    def read_source() -> str:
        raise NotFoundError('source missing')

    with pytest.raises(NotFoundError, match='source missing'):
        target_digests(FailingTarget(), ['v1'], read_source)
    with pytest.raises(RegistryError, match='target refused'):
        target_digests(FailingTarget(), ['v1'], lambda: 'fine')
