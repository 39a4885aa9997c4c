# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_archive against the harness's real registries, cross-checked with skopeo. The installed module's
export / import / rerun / check mode contract is its ansible-test target, tests/integration/targets/registry_archive."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import uuid

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_archive
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

from harness.seed import push_image, push_index


def client():
    return RegistryClient(ConnectionOptions(plain_http=True))


def params(**kwargs):
    base = {'state': 'exported', 'path': None, 'images': None, 'registry': None, 'platforms': None, 'referrers': False}
    base.update(kwargs)
    return base


@pytest.fixture(scope='module')
def target(harness):
    return harness.add_registry('archive_target', 'open')


@pytest.fixture
def repo():
    return 'archive/%s' % uuid.uuid4().hex[:8]


def skopeo(*args):
    return subprocess.run(['skopeo'] + list(args), capture_output=True, text=True, check=True, timeout=120).stdout


@pytest.mark.parametrize('kind', ['oci_image', 'oci_index', 'docker_list', 'docker_image'])
@pytest.mark.parametrize('filename', ['release.tar', 'layout'])
def test_round_trip_keeps_every_digest(harness, target, tmp_path, repo, kind, filename):
    seeded = harness.seeded['open'][kind]
    source = '%s/%s:%s' % (harness.open.host, seeded['repository'], seeded['tag'])
    path = str(tmp_path / filename)
    exported = registry_archive.run(client(), params(path=path, images=[source]), False)
    assert exported['changed'] and exported['images'][0]['digest'] == seeded['digest']
    assert exported['images'][0]['reference'] == source
    again = registry_archive.run(client(), params(path=path, images=[source]), False)
    assert not again['changed'] and again['blobs'] == 0
    # the .tar goes under its recorded repository, the directory (same content) to a new one
    wanted = '%s/%s:%s' % (target.host, seeded['repository'] if filename.endswith('.tar') else repo, seeded['tag'])
    images = None if filename.endswith('.tar') else [{'source': source, 'target': wanted}]
    imported = registry_archive.run(client(), params(state='imported', path=path, registry=target.host, images=images), False)
    assert imported['changed'] and imported['images'][0]['reference'] == wanted
    on_target = client().get_manifest(parse_image(imported['images'][0]['reference']))
    assert on_target.digest == seeded['digest']
    for child in on_target.children:
        assert client().get_manifest(parse_image('%s/%s@%s' % (target.host, seeded['repository'], child['digest']))).digest == child['digest']
    puts = target.request_count('PUT')
    rerun = registry_archive.run(client(), params(state='imported', path=path, registry=target.host, images=images), False)
    assert not rerun['changed'] and rerun['blobs'] == 0 and target.request_count('PUT') == puts


@pytest.mark.parametrize('filename', ['release.tar.gz', 'release.TGZ'])
def test_gzip_name_gets_a_gzip_stream_and_reads_back(harness, target, tmp_path, repo, filename):
    """A .tar.gz / .tgz path holds a real gzip stream, a rerun writes nothing, and import keeps every digest."""
    seeded = harness.seeded['open']['oci_index']
    source = '%s/%s:%s' % (harness.open.host, seeded['repository'], seeded['tag'])
    path = str(tmp_path / filename)
    exported = registry_archive.run(client(), params(path=path, images=[source]), False)
    assert exported['changed'] and exported['images'][0]['digest'] == seeded['digest']
    with open(path, 'rb') as handle:
        assert handle.read(2) == b'\x1f\x8b'  # the gzip magic number
    with tarfile.open(path, 'r:gz') as archive:
        names = archive.getnames()
    assert names[0] == 'oci-layout' and names[-1] == 'index.json'
    assert 'blobs/sha256/%s' % seeded['children']['linux/amd64'].split(':')[1] in names
    assert not [n for n in os.listdir(str(tmp_path)) if n.endswith('.tmp')]
    before = os.stat(path)
    again = registry_archive.run(client(), params(path=path, images=[source]), False)
    assert not again['changed'] and again['blobs'] == 0
    assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    wanted = '%s/%s:%s' % (target.host, repo, seeded['tag'])
    imported = registry_archive.run(client(), params(state='imported', path=path, images=[{'source': source, 'target': wanted}]), False)
    assert imported['changed'] and imported['images'][0]['digest'] == seeded['digest']
    on_target = client().get_manifest(parse_image(wanted))
    assert on_target.digest == seeded['digest']
    for child in on_target.children:
        assert client().get_manifest(parse_image('%s/%s@%s' % (target.host, repo, child['digest']))).digest == child['digest']


def test_gzip_export_without_change_plans_nothing_in_check_mode(harness, tmp_path):
    """Check mode against an up-to-date .tar.gz predicts no change; against a new path it predicts every blob."""
    seeded = harness.seeded['open']['oci_image']
    source = '%s/%s:%s' % (harness.open.host, seeded['repository'], seeded['tag'])
    path = str(tmp_path / 'one.tgz')
    planned = registry_archive.run(client(), params(path=path, images=[source]), True)
    assert planned['changed'] and planned['blobs'] == 2 and not os.path.exists(path)
    registry_archive.run(client(), params(path=path, images=[source]), False)
    assert not registry_archive.run(client(), params(path=path, images=[source]), True)['changed']


def test_skopeo_reads_our_archive_and_we_import_skopeos(harness, target, tmp_path, repo):
    seeded = harness.seeded['open']['oci_index']
    source = '%s/%s:%s' % (harness.open.host, seeded['repository'], seeded['tag'])
    ours = str(tmp_path / 'ours.tar')
    registry_archive.run(client(), params(path=ours, images=[source]), False)
    inspected = json.loads(skopeo('inspect', '--raw', 'oci-archive:%s:%s' % (ours, seeded['tag'])))
    assert inspected['manifests'][0]['digest'] == seeded['children']['linux/amd64']
    copied_dir = str(tmp_path / 'copied')
    skopeo('copy', '--all', '--preserve-digests', 'oci-archive:%s:%s' % (ours, seeded['tag']), 'oci:%s:x' % copied_dir)
    with open(os.path.join(copied_dir, 'index.json'), encoding='utf-8') as handle:
        assert json.load(handle)['manifests'][0]['digest'] == seeded['digest']
    theirs = str(tmp_path / 'theirs.tar')
    skopeo('copy', '--all', '--src-tls-verify=false', 'docker://%s' % source, 'oci-archive:%s:v9' % theirs)
    wanted = [{'source': 'v9', 'target': '%s/%s:v9' % (target.host, repo)}]
    imported = registry_archive.run(client(), params(state='imported', path=theirs, images=wanted), False)
    assert imported['images'][0]['digest'] == seeded['digest']
    assert client().head_manifest(parse_image('%s/%s:v9' % (target.host, repo))).digest == seeded['digest']


def test_partial_platform_export(harness, tmp_path):
    seeded = harness.seeded['open']['oci_index']
    source = '%s/%s:%s' % (harness.open.host, seeded['repository'], seeded['tag'])
    path = str(tmp_path / 'arm.tar')
    result = registry_archive.run(client(), params(path=path, images=[source], platforms=['linux/arm64']), False)
    assert result['images'][0]['platforms'] == ['linux/arm64/v8'] and result['images'][0]['digest'] != seeded['digest']
    raw = json.loads(skopeo('inspect', '--raw', 'oci-archive:%s:%s' % (path, seeded['tag'])))
    assert [m['digest'] for m in raw['manifests']] == [seeded['children']['linux/arm64/v8']]
    with pytest.raises(NotFoundError, match='linux/s390x'):
        registry_archive.run(client(), params(path=str(tmp_path / 'none.tar'), images=[source], platforms=['linux/s390x']), False)
    assert not os.path.exists(str(tmp_path / 'none.tar'))


def test_check_mode_writes_nothing(harness, target, tmp_path, repo):
    seeded = push_index(harness.open, repo, 'v1')
    source = '%s/%s:v1' % (harness.open.host, repo)
    path = str(tmp_path / 'layout')
    planned = registry_archive.run(client(), params(path=path, images=[source]), True)
    assert planned['changed'] and planned['blobs'] == 4 and not os.path.exists(path)
    registry_archive.run(client(), params(path=path, images=[source]), False)
    puts = target.request_count('PUT') + target.request_count('POST')
    planned = registry_archive.run(client(), params(state='imported', path=path, registry=target.host), True)
    assert planned['changed'] and planned['blobs'] == 4 and planned['images'][0]['digest'] == seeded['digest']
    assert target.request_count('PUT') + target.request_count('POST') == puts


def test_corrupt_blob_is_named_and_nothing_is_pushed(harness, target, tmp_path, repo):
    seeded = push_image(harness.open, repo, 'v1', content='to be corrupted\n')
    path = str(tmp_path / 'layout')
    registry_archive.run(client(), params(path=path, images=['%s/%s:v1' % (harness.open.host, repo)]), False)
    layer = seeded['layers'][0]
    with open(os.path.join(path, 'blobs', 'sha256', layer.split(':')[1]), 'r+b') as handle:
        handle.write(b'\0')
    puts = target.request_count('PUT')
    with pytest.raises(DigestMismatchError, match=layer):
        registry_archive.run(client(), params(state='imported', path=path, registry=target.host), False)
    assert target.request_count('PUT') == puts


@pytest.mark.parametrize('options, message', [
    ({'path': '/nonexistent/x.tar'}, 'does not exist'),
    ({'images': ['nope']}, 'has no image nope'),
    ({'images': [{'source': 'v1'}], 'registry': None}, 'registry is required'),
    # the registry grammar of every option that names one: refused before anything is pushed
    ({'registry': 'registry.example.com/'}, 'registry: invalid registry "registry.example.com/": remove the trailing "/"'),
])
def test_bad_import_input(harness, target, tmp_path, repo, options, message):
    push_image(harness.open, repo, 'v1')
    path = str(tmp_path / 'a.tar')
    registry_archive.run(client(), params(path=path, images=['%s/%s:v1' % (harness.open.host, repo)]), False)
    args = params(state='imported', path=path, registry=target.host)
    args.update(options)
    with pytest.raises(Exception, match=message):
        registry_archive.run(client(), args, False)
