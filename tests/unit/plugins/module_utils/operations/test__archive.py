# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_archive's planning between real OCI layouts on disk: what an export writes and reports, when a
.tar already holds the images, which archived image an import means and where it goes, and the input it
refuses before any request. The registry side is proven against real registries in tests/live."""
from __future__ import annotations

import json
import os
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest
from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError, InvalidInputError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import OCI_INDEX, OCI_MANIFEST
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model._referrers import cosign_tag
from ansible_collections.oci.registry.plugins.module_utils.operations import _archive
from ansible_collections.oci.registry.plugins.module_utils.stores._layout import LayoutStore, OCILayout, blob_path
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

NAME = '127.0.0.1:5000/team/app'
CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json'


def blob(store: LayoutStore, data: bytes, media_type: str = 'application/vnd.oci.image.layer.v1.tar') -> t.Dict[str, t.Any]:
    store.write_blob(compute_digest(data), len(data), [data])
    return {'mediaType': media_type, 'digest': compute_digest(data), 'size': len(data)}


def put_manifest(store: LayoutStore, reference: t.Optional[str], document: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
    raw = json.dumps(document).encode()
    store.put_manifest(reference or compute_digest(raw), raw, document['mediaType'])
    return {'mediaType': document['mediaType'], 'digest': compute_digest(raw), 'size': len(raw)}


def image(store: LayoutStore, tag: t.Optional[str], layer: bytes, arch: str = 'amd64') -> t.Dict[str, t.Any]:
    config = blob(store, json.dumps({'os': 'linux', 'architecture': arch}).encode(), CONFIG_TYPE)
    return put_manifest(store, tag, {'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'config': config, 'layers': [blob(store, layer)]})


@pytest.fixture
def source(tmp_path) -> t.Iterator[t.Dict[str, t.Any]]:
    """A directory layout: v1 (one image, with a cosign signature tag), multi (an index of two), and a tag named sha256-release."""
    path = str(tmp_path / 'source')
    with OCILayout.for_writing(path) as layout:
        store = layout.store(NAME)
        v1 = image(store, 'v1', b'v1 layer')
        amd, arm = image(store, None, b'amd layer'), image(store, None, b'arm layer', 'arm64')
        multi = put_manifest(store, 'multi', {'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': [
            dict(amd, platform={'os': 'linux', 'architecture': 'amd64'}), dict(arm, platform={'os': 'linux', 'architecture': 'arm64'})]})
        signature = image(store, cosign_tag(v1['digest'], 'sig'), b'signature payload')
        release = image(store, 'sha256-release', b'a tag that only looks like a referrer tag')
    reader = OCILayout.for_reading(path)
    yield {'layout': reader, 'store': reader.store(NAME), 'v1': v1, 'multi': multi, 'signature': signature, 'release': release,
           'children': [amd, arm]}
    reader.close()


def planned(source: t.Dict[str, t.Any], *tags: str) -> t.List[t.Tuple[t.Any, t.Any, t.Any]]:
    store = source['store']
    return [(parse_image('%s:%s' % (NAME, tag)), store, store.get_manifest(tag)) for tag in tags]


def export(source: t.Dict[str, t.Any], path: str, tags: t.Sequence[str], referrers: bool = False) -> t.Dict[str, t.Any]:
    with OCILayout.for_writing(path) as layout:
        return _archive._export(layout, planned(source, *tags), referrers, False, path)


# Export

def test_export_reports_each_image_and_what_it_wrote(tmp_path, source) -> None:
    path = str(tmp_path / 'out.tar')
    result = export(source, path, ['v1', 'multi'])
    assert result['changed'] is True and result['path'] == path
    assert result['images'] == [
        {'reference': NAME + ':v1', 'digest': source['v1']['digest'], 'changed': True, 'platforms': []},
        {'reference': NAME + ':multi', 'digest': source['multi']['digest'], 'changed': True, 'platforms': ['linux/amd64', 'linux/arm64']},
    ]
    # v1: config + layer; multi: two configs + two layers, its amd64 config the very blob of v1's: written once
    assert result['blobs'] == 5 and result['bytes'] == sum(len(b) for b in (b'v1 layer', b'amd layer', b'arm layer')) + sum(
        len(json.dumps({'os': 'linux', 'architecture': a}).encode()) for a in ('amd64', 'arm64'))
    archived = OCILayout.for_reading(path)
    assert sorted((i['name'], i['digest']) for i in archived.images()) == sorted(
        [(NAME + ':v1', source['v1']['digest']), (NAME + ':multi', source['multi']['digest'])])
    archived.close()


def test_export_in_check_mode_writes_nothing_and_predicts_the_counts(tmp_path, source) -> None:
    """A blob two images share is one blob of the layout, in check mode as in the real run."""
    path = str(tmp_path / 'out.tar')
    planned_result = _archive._export(OCILayout.empty(path), planned(source, 'v1', 'multi'), False, True, path)
    assert not os.path.exists(path)
    assert planned_result == export(source, path, ['v1', 'multi'])


def test_export_with_referrers_takes_the_cosign_tag_along(tmp_path, source) -> None:
    path = str(tmp_path / 'out.tar')
    export(source, path, ['v1'], referrers=True)
    archived = OCILayout.for_reading(path)
    assert {i['tag'] for i in archived.images()} == {'v1', cosign_tag(source['v1']['digest'], 'sig')}
    archived.close()


# When a .tar already holds the images, nothing is written

def test_tar_holds_exactly_these_images(tmp_path, source) -> None:
    path = str(tmp_path / 'out.tar')
    assert _archive._tar_holds(path, planned(source, 'v1'), False) is False  # no file yet
    export(source, path, ['v1', 'multi'])
    assert _archive._tar_holds(path, planned(source, 'v1', 'multi'), False) is True
    assert _archive._tar_holds(path, planned(source, 'v1'), False) is False  # one image fewer asked
    assert _archive._tar_holds(path, planned(source, 'v1', 'multi', 'sha256-release'), False) is False


def test_tar_holds_leaves_only_real_referrer_tags_out(tmp_path, source) -> None:
    """With referrers, the archived cosign tag is not one of the images asked for; a user's tag that merely starts
    with sha256- is (it was left out too, and the archive then never matched: rewritten on every run)."""
    path = str(tmp_path / 'out.tar')
    export(source, path, ['v1', 'sha256-release'], referrers=True)
    assert _archive._tar_holds(path, planned(source, 'v1', 'sha256-release'), True) is True
    assert _archive._tar_holds(path, planned(source, 'v1'), True) is False


def test_tar_holds_is_false_for_a_file_that_is_no_archive(tmp_path, source) -> None:
    path = tmp_path / 'out.tar'
    path.write_bytes(b'not a tar')
    assert _archive._tar_holds(str(path), planned(source, 'v1'), False) is False


# Import: which archived image, and where it goes

@pytest.fixture
def archive(tmp_path, source) -> t.Iterator[OCILayout]:
    path = str(tmp_path / 'in.tar')
    export(source, path, ['v1', 'multi'])
    layout = OCILayout.for_reading(path)
    yield layout
    layout.close()


def test_import_targets_default_to_every_image_under_its_recorded_repository(archive) -> None:
    targets = _archive._import_targets(archive, None, 'registry.example.com:5000')
    assert [(a['tag'], str(ref)) for a, ref in targets] == [
        ('v1', 'registry.example.com:5000/team/app:v1'), ('multi', 'registry.example.com:5000/team/app:multi')]


def test_import_targets_by_tag_or_full_name_and_with_an_explicit_target(archive) -> None:
    targets = _archive._import_targets(archive, ['v1', {'source': NAME + ':multi', 'target': 'other.example.com/x/y:z'}], 'registry.example.com')
    assert [(a['tag'], str(ref)) for a, ref in targets] == [('v1', 'registry.example.com/team/app:v1'), ('multi', 'other.example.com/x/y:z')]


@pytest.mark.parametrize('images,registry,error,message', [
    (None, None, InvalidInputError, 'registry is required to import %s:v1 under its recorded repository' % NAME),
    ([{'source': 'v1', 'extra': 1}], 'r.example.com', InvalidInputError, 'images: each dict needs source (an archived image)'),
    ([5], 'r.example.com', InvalidInputError, 'images: give archived image names (strings) or dicts with source and target, got 5'),
    ([{'source': 'v1', 'target': 'r.example.com/x/y@sha256:' + 'a' * 64}], None, InvalidInputError,
     'images: target r.example.com/x/y@sha256:%s needs a tag' % ('a' * 64)),
    ([{'source': 'v1', 'target': 'r.example.com/x/Y:1'}], None, InvalidInputError, 'images target: invalid image reference'),
    (['v9'], 'r.example.com', NotFoundError, 'archive %%s has no image v9; it has: %s:multi, %s:v1' % (NAME, NAME)),
])
def test_import_targets_refused(archive, images, registry, error, message) -> None:
    with pytest.raises(error) as info:
        _archive._import_targets(archive, images, registry)
    assert str(info.value).startswith(message % archive.path if '%s' in message else message)


def test_an_archive_without_tagged_images_has_nothing_to_import(tmp_path) -> None:
    path = str(tmp_path / 'empty')
    with OCILayout.for_writing(path):
        pass
    layout = OCILayout.for_reading(path)
    with pytest.raises(NotFoundError, match='records no tagged image in its index.json: nothing to import'):
        _archive._import_targets(layout, None, 'r.example.com')


def test_verify_tree_names_the_corrupt_blob(tmp_path, source) -> None:
    path = str(tmp_path / 'in')
    export(source, path, ['multi'])
    layer = source['store'].get_manifest(source['children'][1]['digest']).blobs[-1]['digest']
    with open(os.path.join(path, blob_path(layer)), 'r+b') as handle:
        handle.write(b'X')
    layout = OCILayout.for_reading(path)
    manifest = layout.store(NAME).get_manifest('multi')
    with pytest.raises(DigestMismatchError, match='blob %s in image layout %s does not match its digest' % (layer, path)):
        _archive._verify_tree(layout, manifest, set())
    layout.close()


# Refused before any request

@pytest.mark.parametrize('images,platforms,message', [
    ([], None, 'images is required for state=exported'),
    (['127.0.0.1:9/team/app@sha256:' + 'a' * 64], None, 'images: 127.0.0.1:9/team/app@sha256:%s has no tag' % ('a' * 64)),
    (['127.0.0.1:9/team/app:1'], ['linux'], "platforms: invalid platform 'linux'"),
    (['127.0.0.1:9/Team/app:1'], None, 'images: invalid image reference'),
])
def test_export_input_refused_before_any_request(tmp_path, images, platforms, message) -> None:
    client = RegistryClient(ConnectionOptions(plain_http=True, retries=0, timeout=1))
    with pytest.raises(InvalidInputError) as info:
        _archive.export_images(client, str(tmp_path / 'out.tar'), images, platforms, False, False)
    assert str(info.value).startswith(message)
    assert list(client.log.records) == [] and os.listdir(str(tmp_path)) == []
