# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signatures made by implementations that are not ours, verified by registry_signature_info on a real registry.

The data is in tests/data/signatures (see its README for how each vector was made):

- skopeo-1.9.3/: images and their ``sha256-<hex>.sig`` signatures written by upstream skopeo 1.9.3,
  with skopeo's own verdicts. Each repository is pushed byte for byte into the harness's open
  registry, and the module's verdict must be the cosign rule's (``expected.valid``), which is
  skopeo's except where skopeo also checks the identity or skips the index's own signature.
- sigstore-js-4.1.1/: keyed v0.3 DSSE bundles written by @sigstore/sign for the same images. Each
  is pushed as cosign pushes a bundle (an OCI 1.1 referrer, listed in the ``sha256-<hex>``
  fallback tag because distribution 2.8 has no referrers API); the manifest around it is ours,
  the bundle bytes are sigstore-js's.
"""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.modules import registry_sign, registry_signature_info as signature_info

from harness.seed import PushClient

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data', 'signatures')
SKOPEO = os.path.join(DATA, 'skopeo-1.9.3')
SIGSTORE_JS = os.path.join(DATA, 'sigstore-js-4.1.1')
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json'


def load(path: str) -> t.Any:
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def raw(path: str) -> bytes:
    with open(path, 'rb') as handle:
        return handle.read()


VECTORS = load(os.path.join(SKOPEO, 'vectors.json'))
BUNDLES = load(os.path.join(SIGSTORE_JS, 'vectors.json'))


def push_layout_image(push: PushClient, repository: str, digest: str, tag: t.Optional[str]) -> None:
    """Push an image of the vectors' OCI layout (children and blobs first), exact bytes."""
    data = raw(os.path.join(SKOPEO, 'image', 'blobs', 'sha256', digest.split(':')[1]))
    document = json.loads(data)
    if document['mediaType'] == OCI_INDEX:
        for child in document['manifests']:
            push_layout_image(push, repository, child['digest'], None)
    else:
        for descriptor in [document['config']] + document['layers']:
            push.upload_blob(repository, raw(os.path.join(SKOPEO, 'image', 'blobs', 'sha256', descriptor['digest'].split(':')[1])))
    push.put_manifest(repository, tag or digest, data, document['mediaType'])


def push_skopeo_repository(push: PushClient, prefix: str, name: str) -> str:
    """A vectors.json repository under ``prefix``: its image at :v1 and each .sig manifest with its blobs; returns the repository."""
    entry = VECTORS['repositories'][name]
    repository = '%s/%s' % (prefix, name)
    push_layout_image(push, repository, entry['image_digest'], entry['tag'])
    for signature in entry['signatures'].values():
        push.upload_blob(repository, raw(os.path.join(SKOPEO, signature['config'])))
        for layer in signature['layers']:
            push.upload_blob(repository, raw(os.path.join(SKOPEO, layer['payload'])))
        push.put_manifest(repository, signature['tag'], raw(os.path.join(SKOPEO, signature['manifest'])), signature['media_type'])
    return repository


@pytest.fixture(scope='module')
def skopeo_registry(harness):
    """Every repository of the skopeo vectors pushed once into the open registry, under vectors/."""
    push = PushClient(harness.open.url)
    try:
        for name in VECTORS['repositories']:
            push_skopeo_repository(push, 'vectors', name)
    finally:
        push.close()
    return harness.open


def info(registry, repository: str, key: str, **extra) -> t.Dict[str, t.Any]:
    params = {'image': '%s/%s:v1' % (registry.host, repository), 'keys': [key], 'require': 'any', 'min_count': 1, 'platforms': False}
    params.update(extra)
    return signature_info.run(RegistryClient(ConnectionOptions(plain_http=True)), params, False)


@pytest.mark.parametrize('vector', VECTORS['vectors'], ids=[v['name'] for v in VECTORS['vectors']])
def test_skopeo_signatures_get_the_cosign_verdict(skopeo_registry, vector):
    result = info(skopeo_registry, 'vectors/%s' % vector['repository'], os.path.join(SKOPEO, vector['public_key']))
    assert result['digest'] == vector['image_digest']
    assert result['verified'] is vector['expected']['valid'], (result['reason'], vector['expected'])
    if vector['expected']['valid']:
        assert any(s['valid'] and s['key'] == os.path.join(SKOPEO, vector['public_key']) for s in result['signatures'])
    for signature in result['signatures']:  # never a signature for another digest
        assert not signature['valid'] or signature['digest'] == vector['image_digest']


def test_skopeo_payload_claims_are_reported(skopeo_registry):
    result = info(skopeo_registry, 'vectors/signatures/identity', os.path.join(SKOPEO, 'keys', 'p256.pub'))
    assert [(s['docker_reference'], s['annotations'].get('creator')) for s in result['signatures']] == [
        ('registry.example/signatures/tiny:v1', 'containers/image 5.22.1')]
    wrong = info(skopeo_registry, 'vectors/signatures/wrong-digest', os.path.join(SKOPEO, 'keys', 'p256.pub'))
    assert wrong['signatures'][0]['reason'] == (
        'signed for another image: the signature claims sha256:eac7d0446ad369e3d22947395b39804b1616de095c89c9c0292adade1aeea73a, '
        'this image is sha256:2e1f5e3138fe56c9d049432f579f374ab526ebcc053e47cd3ed51957f15ed817')
    tampered = info(skopeo_registry, 'vectors/signatures/tampered', os.path.join(SKOPEO, 'keys', 'p256.pub'))
    assert tampered['signatures'][0]['reason'].startswith('no key given verifies this signature')
    unsigned = info(skopeo_registry, 'vectors/signatures/unsigned', os.path.join(SKOPEO, 'keys', 'p256.pub'))
    assert unsigned['signatures'] == [] and 'the image has no signatures, in either format' in unsigned['reason']


@pytest.mark.parametrize('name, top, platforms', [
    ('index', True, True),  # skopeo copy --all signed the index and each instance
    ('index-no-top-sig', False, True),  # skopeo's way of checking (instances only) passes, cosign's (the index) does not
    ('index-top-sig-only', True, False),  # cosign sign without --recursive
])
def test_skopeo_index_signatures_per_platform(skopeo_registry, name, top, platforms):
    result = info(skopeo_registry, 'vectors/signatures/%s' % name, os.path.join(SKOPEO, 'keys', 'p256.pub'), platforms=True)
    assert [p['platform'] for p in result['platforms']] == ['linux/amd64', 'linux/arm64']
    assert all(p['verified'] is platforms for p in result['platforms'])
    assert result['verified'] is (top and platforms)
    if top and not platforms:
        assert result['reason'].startswith('platform linux/amd64 (sha256:eac7d0446ad369e3d22947395b39804b1616de095c89c9c0292adade1aeea73a): ')


def test_skopeo_cosign_key_files_sign_and_our_signature_sits_beside_skopeos(harness, tmp_path):
    """Our signer reads skopeo's key files (ENCRYPTED COSIGN PRIVATE KEY, scrypt N=32768) and cosign 2's N=65536 label."""
    push = PushClient(harness.open.url)
    try:
        repository = push_skopeo_repository(push, 'vectors-sign', 'signatures/p256')
    finally:
        push.close()
    passphrase = raw(os.path.join(SKOPEO, 'keys', 'passphrase.txt')).decode()
    image = '%s/%s:v1' % (harness.open.host, repository)
    client = RegistryClient(ConnectionOptions(plain_http=True))
    params = {'images': [image], 'key': os.path.join(SKOPEO, 'keys', 'p256.key'), 'key_content': None, 'passphrase': passphrase,
              'format': 'simplesigning', 'annotations': None}
    assert registry_sign.run(client, params, False)['results'][0]['action'] == 'unchanged'  # skopeo's signature by the same key counts
    for key_file in ('p256-other.key', 'p256-sigstore-n65536.key'):
        result = registry_sign.run(client, dict(params, key=os.path.join(SKOPEO, 'keys', key_file)), False)
        assert result['results'][0]['action'] == ('created' if key_file == 'p256-other.key' else 'unchanged')
    verdicts = info(harness.open, repository, os.path.join(SKOPEO, 'keys', 'p256-other.pub'))['signatures']
    assert [s['valid'] for s in verdicts] == [False, True]  # skopeo's layer kept first, ours appended


def push_bundle_referrer(push: PushClient, repository: str, subject: t.Mapping[str, t.Any], bundle: bytes) -> str:
    """Push a bundle as cosign does (referrer manifest, empty config) and list it in the fallback tag; returns its digest."""
    push.upload_blob(repository, bundle)
    push.upload_blob(repository, b'{}')
    manifest = json.dumps({
        'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'artifactType': BUNDLE,
        'config': {'mediaType': 'application/vnd.oci.empty.v1+json', 'digest': compute_digest(b'{}'), 'size': 2},
        'layers': [{'mediaType': BUNDLE, 'digest': compute_digest(bundle), 'size': len(bundle)}],
        'subject': dict(subject), 'annotations': {'dev.sigstore.bundle.content': 'dsse-envelope'}}).encode()
    digest = compute_digest(manifest)
    push.put_manifest(repository, digest, manifest, OCI_MANIFEST)
    index = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': [
        {'mediaType': OCI_MANIFEST, 'digest': digest, 'size': len(manifest), 'artifactType': BUNDLE}]}).encode()
    push.put_manifest(repository, subject['digest'].replace(':', '-'), index, OCI_INDEX)
    return digest


CHECKS = BUNDLES['checks']


@pytest.mark.parametrize('check', CHECKS, ids=[c['name'] for c in CHECKS])
def test_sigstore_js_bundles_as_referrers(harness, check):
    """Each sigstore-js bundle as the referrer of the image whose digest the check requires; valid exactly when
    the key is the signer's and the statement names that image (P-384 over SHA-384 or SHA-256 both valid)."""
    image_name = 'single' if check['digest'] == VECTORS['images']['single']['digest'] else 'index'
    repository = 'bundles/%s' % check['name']
    push = PushClient(harness.open.url)
    try:
        push_layout_image(push, repository, check['digest'], 'v1')
        subject = {'mediaType': OCI_INDEX if image_name == 'index' else OCI_MANIFEST, 'digest': check['digest'],
                   'size': len(raw(os.path.join(SKOPEO, 'image', 'blobs', 'sha256', check['digest'].split(':')[1])))}
        referrer = push_bundle_referrer(push, repository, subject, raw(os.path.join(SIGSTORE_JS, check['bundle'])))
    finally:
        push.close()
    key = os.path.normpath(os.path.join(SIGSTORE_JS, check['public_key']))
    result = info(harness.open, repository, key)
    bundle_subject = BUNDLES['bundles'][check['bundle'].replace('.bundle.json', '')]
    signer = os.path.normpath(os.path.join(SKOPEO, 'keys', '%s.pub' % bundle_subject['key']))
    expected = key == signer and bundle_subject['digest'] == check['digest']
    assert result['verified'] is expected, result['reason']
    (signature,) = result['signatures']
    assert (signature['format'], signature['location']) == ('bundle', '%s/%s@%s' % (harness.open.host, repository, referrer))
    if key == signer and not expected:
        assert signature['reason'].startswith('signed for another image: the signature claims %s' % bundle_subject['digest'])
