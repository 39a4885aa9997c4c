# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The copy engine moves each distinct blob once per task, whatever shares it.

Images whose platforms share blobs (a common base layer, a shared config) are where copy
defects hid: children are copied concurrently, so without one record of in-flight blobs a
shared blob was uploaded once per child, one upload session was left open, and a real run
reported more copied blobs than check mode predicted. Each case here counts, on a scratch
registry's own /metrics, the upload sessions (POST) and uploads (PUT) the target answered.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_tag
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.operations._copy import CopyContext, copy_image
from ansible_collections.oci.registry.plugins.module_utils.stores._store import RegistryRepository
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

from conftest import connection_vars
from harness.seed import PushClient, sha256_digest

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar'


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


def client_for(registry, user=None):
    return RegistryClient(ConnectionOptions(**connection_vars(registry, user)))


@pytest.fixture(scope='module')
def scratch(harness):
    """A target registry of this file's own: its /metrics count only what these tests send."""
    return harness.add_registry('shared-blobs', 'open')


def upload_counts(registry):
    """(upload sessions opened, blob uploads completed, mounts) from the registry's /metrics."""
    sessions = puts = mounts = 0
    for line in registry.metrics().splitlines():
        match = re.match(r'registry_http_requests_total\{(.*)\} (\S+)$', line)
        if not match:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if labels.get('handler') == 'blob_upload' and labels.get('method') == 'post':
            if labels.get('code') == '201':  # a cross-repository mount: answered at once, no session
                mounts += int(float(match.group(2)))
            else:
                sessions += int(float(match.group(2)))
        if labels.get('handler') == 'blob_upload_chunk' and labels.get('method') == 'put':
            puts += int(float(match.group(2)))
    return sessions, puts, mounts


def blob(client, repository, data, media_type):
    return {'mediaType': media_type, 'digest': client.upload_blob(repository, data), 'size': len(data)}


def push_shared_index(registry, repository, tag, share_config):
    """An index of two platforms over one shared base layer (and, with ``share_config``, one shared config).

    Returns the index digest and the number of distinct blobs it names.
    """
    client = PushClient(registry.url, verify=registry.verify)
    base = blob(client, repository, b'shared base layer of ' + repository.encode(), OCI_LAYER)
    entries, distinct = [], {base['digest']}
    shared = blob(client, repository, json.dumps({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers'}}).encode(),
                  OCI_CONFIG)
    for arch in ('amd64', 'arm64'):
        config = shared if share_config else blob(client, repository, json.dumps({'architecture': arch, 'os': 'linux'}).encode(), OCI_CONFIG)
        own = blob(client, repository, ('layer of %s for %s' % (arch, repository)).encode(), OCI_LAYER)
        distinct.update({config['digest'], own['digest']})
        manifest = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'config': config, 'layers': [base, own]}).encode()
        digest = client.put_manifest(repository, sha256_digest(manifest), manifest, OCI_MANIFEST)
        entries.append({'mediaType': OCI_MANIFEST, 'digest': digest, 'size': len(manifest),
                        'platform': {'architecture': arch, 'os': 'linux'}})
    index = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': entries}).encode()
    client.put_manifest(repository, tag, index, OCI_INDEX)
    return sha256_digest(index), len(distinct)


@pytest.mark.parametrize('share_config', [False, True], ids=['shared-layer', 'shared-layer-and-config'])
def test_shared_blob_is_uploaded_once_and_check_mode_agrees(harness, scratch, share_config):
    repo = unique('shared/index')
    digest, distinct = push_shared_index(harness.open, repo, 'v1', share_config)
    source = '%s/%s:v1' % (harness.open.host, repo)
    params = {'source': source, 'tags': ['v1'], 'repository': '%s/%s' % (scratch.host, repo), 'overwrite': True,
              'referrers': False, 'source_auth': None}

    planned = registry_tag.run(client_for(scratch), params, True)
    sessions_before, puts_before, _mounts = upload_counts(scratch)
    done = registry_tag.run(client_for(scratch), params, False)
    sessions, puts, _mounts = upload_counts(scratch)

    assert done['digest'] == digest and done['changed']
    assert (sessions - sessions_before, puts - puts_before) == (distinct, distinct)  # one session and one PUT per distinct blob
    assert done['copied_blobs'] == distinct and done['mounted_blobs'] == 0
    assert planned['copied_blobs'] == done['copied_blobs'] and planned['copied_bytes'] == done['copied_bytes']


def test_common_base_across_repositories_is_uploaded_once(harness, scratch):
    """The same base layer in three repositories: uploaded to the target once, mounted into the two others."""
    base = b'one base layer shared by three repositories ' + uuid.uuid4().hex.encode()
    repos = [unique('shared/base%d' % n) for n in range(3)]
    push = PushClient(harness.open.url, verify=harness.open.verify)
    for n, repo in enumerate(repos):
        layer = blob(push, repo, base, OCI_LAYER)
        config = blob(push, repo, json.dumps({'architecture': 'amd64', 'os': 'linux', 'n': n}).encode(), OCI_CONFIG)
        manifest = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'config': config, 'layers': [layer]}).encode()
        push.put_manifest(repo, 'v1', manifest, OCI_MANIFEST)
    client, source_client = client_for(scratch), client_for(harness.open)

    def copy_all(check_mode):
        with CopyContext(workers=8, check_mode=check_mode) as context:
            for repo in repos:
                copy_image(RegistryRepository(source_client, parse_image('%s/%s:v1' % (harness.open.host, repo))),
                           RegistryRepository(client, parse_image('%s/%s' % (scratch.host, repo), default_tag=None)), 'v1', ['v1'],
                           context=context)
        return context.stats

    planned = copy_all(True)
    before = upload_counts(scratch)
    stats = copy_all(False)
    after = upload_counts(scratch)
    # 3 configs + 1 base uploaded (one session and one PUT each); the base mounted into the two other repositories.
    assert (stats.copied_blobs, stats.mounted_blobs) == (4, 2)
    assert tuple(a - b for a, b in zip(after, before)) == (4, 4, 2)
    assert (planned.copied_blobs, planned.mounted_blobs) == (stats.copied_blobs, stats.mounted_blobs)
