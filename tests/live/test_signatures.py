# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sign and registry_signature_info against a real registry (distribution 2.8, no referrers API).

Both formats are written and read back, bad signatures planted by hand must each give a clear
verdict, and what our signer writes is checked by an implementation that is not ours
(securesystemslib's DSSE verification). The referrers-API path, which no local registry has,
runs against an HTTP mock of an OCI 1.1 registry (test_referrers_api_path_with_a_mocked_oci_1_1_registry).
"""

from __future__ import annotations

import json
import typing as t

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model import _signature as sig
from ansible_collections.oci.registry.plugins.module_utils.operations import _signatures as ops
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.modules import registry_sign, registry_signature_info as signature_info

from harness.seed import PushClient, push_image


def pem_public(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def pem_private(key, passphrase: t.Optional[str] = None) -> str:
    encryption = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


@pytest.fixture(scope='module')
def team_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope='module')
def other_key():
    return ec.generate_private_key(ec.SECP256R1())


def client() -> RegistryClient:
    return RegistryClient(ConnectionOptions(plain_http=True))


def sign_params(images, key, **extra):
    params = {'images': images, 'key': None, 'key_content': pem_private(key) if key else None, 'passphrase': None, 'format': 'simplesigning',
              'annotations': None}
    params.update(extra)
    return params


def info_params(image, keys, **extra):
    params = {'image': image, 'keys': keys, 'require': 'any', 'min_count': 1, 'platforms': False}
    params.update(extra)
    return params


def fresh_image(harness, repository: str, content: t.Optional[str] = None) -> t.Tuple[str, str]:
    pushed = push_image(harness.open, repository, 'v1', content=content or '%s\n' % repository)
    return '%s/%s:v1' % (harness.open.host, repository), pushed['digest']


def calls(registry_client: RegistryClient, since: int = 0) -> t.List[t.Tuple[str, str, int]]:
    """(method, last path part, status) of each request after ``since``; manifests by tag or digest, blobs as 'blobs'."""
    result = []
    for record in registry_client.log.records[since:]:
        parts = record.path.split('?')[0].rstrip('/').split('/')
        what = parts[-1] if '/manifests/' in record.path or '/referrers/' in record.path else parts[-2] if '/blobs/' in record.path else parts[-1]
        result.append((record.method, 'referrers' if '/referrers/' in record.path else what, record.status))
    return result


@pytest.mark.parametrize('fmt', ['simplesigning', 'bundle'])
def test_sign_then_verify_then_unchanged_and_check_mode(harness, team_key, other_key, fmt):
    image, digest = fresh_image(harness, 'sig/roundtrip-%s' % fmt)
    preview = registry_sign.run(client(), sign_params([image], team_key, format=fmt, annotations={'build': '42'}), True)
    assert preview['changed'] and preview['results'][0]['action'] == 'created'
    pinned = '%s/sig/roundtrip-%s@%s' % (harness.open.host, fmt, digest)
    assert preview['diff']['before'] == {pinned: None}
    assert not signature_info.run(client(), info_params(image, [pem_public(team_key)]), False)['signatures']  # check mode wrote nothing

    signed = registry_sign.run(client(), sign_params([image], team_key, format=fmt, annotations={'build': '42'}), False)
    entry = signed['results'][0]
    assert (entry['action'], entry['digest'], entry['format'], signed['changed']) == ('created', digest, fmt, True)
    assert signed['diff']['after'] == {pinned: entry['location']}

    info = signature_info.run(client(), info_params(image, [pem_public(team_key)]), False)
    assert info['verified'] and info['reason'] is None and info['digest'] == digest
    assert [(s['format'], s['valid'], s['key'], s['digest'], s['annotations'], s['location']) for s in info['signatures']] == [
        (fmt, True, 'keys[0]', digest, {'build': '42'}, entry['location'])]

    again = registry_sign.run(client(), sign_params([image], team_key, format=fmt), False)
    assert not again['changed'] and again['results'][0]['action'] == 'unchanged' and again['results'][0]['location'] == entry['location']
    assert again['diff']['before'] == again['diff']['after']

    wrong = signature_info.run(client(), info_params(image, [pem_public(other_key)]), False)
    assert not wrong['verified']
    assert wrong['signatures'][0]['reason'] == 'no key given verifies this signature (tried keys[0])'
    assert wrong['reason'].startswith('0 valid signatures, 1 required (%s: no key given verifies' % fmt)


def test_a_second_key_adds_a_layer_and_require_all_needs_both(harness, team_key, other_key):
    image, _digest = fresh_image(harness, 'sig/two-keys')
    registry_sign.run(client(), sign_params([image], team_key), False)
    keys = [pem_public(team_key), pem_public(other_key)]
    assert not signature_info.run(client(), info_params(image, keys, require='all'), False)['verified']
    registry_sign.run(client(), sign_params([image], other_key), False)
    info = signature_info.run(client(), info_params(image, keys, require='all', min_count=2), False)
    assert info['verified'] and [s['key'] for s in info['signatures']] == ['keys[0]', 'keys[1]']
    assert not signature_info.run(client(), info_params(image, keys, min_count=3), False)['verified']


def test_bundle_on_a_registry_without_referrers_api_goes_to_the_fallback_tag(harness, team_key):
    image, digest = fresh_image(harness, 'sig/fallback')
    signed = registry_sign.run(client(), sign_params([image], team_key, format='bundle'), False)
    referrer_digest = signed['results'][0]['location'].split('@')[1]
    registry_client = client()
    index = registry_client.get_manifest(parse_image('%s/sig/fallback:%s' % (harness.open.host, digest.replace(':', '-'))))
    assert [(m['digest'], m['artifactType']) for m in index.data['manifests']] == [(referrer_digest, sig.BUNDLE_MEDIA_TYPE)]
    manifest = registry_client.get_manifest(parse_image('%s/sig/fallback@%s' % (harness.open.host, referrer_digest)))
    assert manifest.data['subject']['digest'] == digest and manifest.data['artifactType'] == sig.BUNDLE_MEDIA_TYPE
    assert manifest.data['annotations']['dev.sigstore.bundle.content'] == 'dsse-envelope'


def test_our_dsse_envelope_verifies_with_securesystemslib(harness, team_key):
    """An independent DSSE implementation (securesystemslib) accepts the envelope registry_sign wrote."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey
    image, digest = fresh_image(harness, 'sig/sslib')
    signed = registry_sign.run(client(), sign_params([image], team_key, format='bundle'), False)
    registry_client = client()
    ref = parse_image(image)
    manifest = registry_client.get_manifest(ref.with_digest(signed['results'][0]['location'].split('@')[1]))
    bundle = json.loads(registry_client.get_blob(ref, manifest.layers[0]['digest'], 1 << 20))
    key = SSlibKey.from_crypto(serialization.load_pem_public_key(pem_public(team_key).encode()), scheme='ecdsa-sha2-nistp256')
    # The key id is not signed (PAE covers type and payload); securesystemslib looks keys up by it.
    envelope = Envelope.from_dict(dict(bundle['dsseEnvelope'], signatures=[dict(s, keyid=key.keyid) for s in bundle['dsseEnvelope']['signatures']]))
    verified = envelope.verify([key], 1)
    assert key.keyid in verified
    statement = json.loads(envelope.pae().split(b' ', 4)[4])
    assert statement['subject'][0]['digest'] == {'sha256': digest.split(':')[1]}
    tampered = Envelope(envelope.payload.replace(digest.split(':')[1].encode(), b'0' * 64), envelope.payload_type, envelope.signatures)
    with pytest.raises(Exception):
        tampered.verify([key], 1)


# Bad input: each a clear verdict or one clear error, no exception text, nothing written

def writes(registry_client: RegistryClient) -> t.List[t.Tuple[str, str]]:
    return [(r.method, r.path) for r in registry_client.log.records if r.method not in ('GET', 'HEAD')]


def plant_sig(harness, repository: str, digest: str, layers: t.List[t.Dict[str, t.Any]], payloads: t.List[bytes], padding: int = 0) -> None:
    """Put a hand-made .sig manifest (and its payload blobs) at the image's signature tag."""
    push = PushClient(harness.open.url)
    try:
        for payload in payloads:
            push.upload_blob(repository, payload)
        config = b'{}'
        push.upload_blob(repository, config)
        manifest = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
                    'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': ops.compute_digest(config), 'size': 2},
                    'layers': layers}
        if padding:
            manifest['annotations'] = {'padding': 'x' * padding}
        push.put_manifest(repository, ops.signature_tag(digest), json.dumps(manifest).encode(), manifest['mediaType'])
    finally:
        push.close()


def layer_for(payload: bytes, signature: str) -> t.Dict[str, t.Any]:
    return {'mediaType': sig.SIMPLE_SIGNING_MEDIA_TYPE, 'digest': ops.compute_digest(payload), 'size': len(payload),
            'annotations': {sig.SIGNATURE_ANNOTATION: signature}}


def test_planted_bad_signatures_each_get_a_clear_verdict(harness, team_key):
    signer = sig.load_private_key(pem_private(team_key).encode(), None, 'k')
    image, digest = fresh_image(harness, 'sig/bad-layers')
    _other_image, other_digest = fresh_image(harness, 'sig/bad-layers-other')
    good_payload, good_signature = sig.sign_simple_signing(signer, 'x/y', digest)
    other_payload, other_signature = sig.sign_simple_signing(signer, 'x/y', other_digest)
    tampered = good_payload.replace(b'"x/y"', b'"x/z"')
    layers = [layer_for(other_payload, other_signature), layer_for(tampered, good_signature), layer_for(good_payload, good_signature[:-3]),
              {'mediaType': 'application/octet-stream', 'digest': ops.compute_digest(b'x'), 'size': 1},
              dict(layer_for(b'{}', good_signature), size=10 * 1024 * 1024)]
    plant_sig(harness, 'sig/bad-layers', digest, layers, [other_payload, tampered, good_payload, b'x'])
    result = signature_info.run(client(), info_params(image, [pem_public(team_key)]), False)
    assert not result['verified']
    assert [s['reason'] for s in result['signatures']] == [
        'signed for another image: the signature claims %s, this image is %s' % (other_digest, digest),
        'no key given verifies this signature (tried keys[0])',
        'the signature annotation (dev.cosignproject.cosign/signature) is not valid base64 (truncated or altered?)',
        "a layer of media type 'application/octet-stream' is not a simple-signing payload",
        'the signature payload %s is 10485760 bytes, more than the 262144 allowed: not read' % ops.compute_digest(b'{}'),
    ]
    assert result['signatures'][0]['key'] == 'keys[0]' and result['signatures'][0]['digest'] == other_digest


def test_a_too_large_signature_manifest_is_a_verdict_and_blocks_signing(harness, team_key):
    image, digest = fresh_image(harness, 'sig/huge')
    plant_sig(harness, 'sig/huge', digest, [], [], padding=300 * 1024)
    result = signature_info.run(client(), info_params(image, [pem_public(team_key)]), False)
    assert not result['verified']
    assert result['signatures'][0]['reason'] == ('the signature manifest %s/sig/huge:%s is larger than 262144 bytes: not read'
                                                 % (harness.open.host, ops.signature_tag(digest)))
    registry_client = client()
    with pytest.raises(Exception) as caught:
        registry_sign.run(registry_client, sign_params([image], team_key), False)
    assert 'cannot add a signature to %s: the signature manifest' % image in str(caught.value)
    assert writes(registry_client) == []


@pytest.mark.parametrize('make, message', [
    (lambda: pem_public(ec.generate_private_key(ec.SECP256K1())), 'keys[0]: an ECDSA key on curve secp256k1 is not supported'),
    (lambda: pem_private(ec.generate_private_key(ec.SECP256R1())), 'keys[0] is a private key'),
    (lambda: '/nonexistent/cosign.pub', 'keys[0]: cannot read the key file /nonexistent/cosign.pub (No such file or directory)'),
])
def test_unusable_verification_keys_fail_before_any_request(harness, make, message):
    registry_client = client()
    with pytest.raises(InvalidInputError) as caught:
        signature_info.run(registry_client, info_params('%s/test/oci-image:v1' % harness.open.host, [make()]), False)
    assert str(caught.value).startswith(message) and 'Traceback' not in str(caught.value)
    assert len(registry_client.log) == 0


@pytest.mark.parametrize('key_text, passphrase, message', [
    (lambda: pem_private(ec.generate_private_key(ec.SECP256R1()), 'right horse'), 'wrong battery',
     'key_content cannot be read: the passphrase does not decrypt it'),
    (lambda: pem_private(ec.generate_private_key(ec.SECP256R1()), 'right horse'), None, 'key_content is encrypted: set passphrase'),
    (lambda: pem_private(ed25519.Ed25519PrivateKey.generate()).replace('PRIVATE', 'PUBLIC'), None, 'key_content cannot be read'),
    (lambda: pem_public(ec.generate_private_key(ec.SECP256R1())), None, 'key_content cannot be read: it is not a PEM private key'),
])
def test_unusable_signing_keys_fail_clearly_and_write_nothing(harness, key_text, passphrase, message):
    image, _digest = fresh_image(harness, 'sig/refused')
    registry_client = client()
    text = key_text()
    with pytest.raises(InvalidInputError) as caught:
        registry_sign.run(registry_client, dict(sign_params([image], None, key_content=text, passphrase=passphrase)), False)
    assert str(caught.value).startswith(message)
    assert (passphrase or 'right horse') not in str(caught.value)
    assert not any(line in str(caught.value) for line in text.splitlines()[1:-1])  # nothing of the key
    assert writes(registry_client) == []


# The gate: registry_tag refuses, registry_sync blocks, the promote role passes verify through

def test_registry_tag_verify_refuses_unsigned_and_writes_nothing_then_promotes_signed(harness, team_key, other_key):
    from ansible_collections.oci.registry.plugins.modules import registry_tag
    from ansible_collections.oci.registry.plugins.module_utils.model._errors import VerificationFailedError
    image, digest = fresh_image(harness, 'sig/gate-tag')
    params = {'source': image, 'tags': ['prod'], 'repository': '%s/sig/gate-prod' % harness.open.host, 'overwrite': True,
              'referrers': True, 'source_auth': None, 'verify': {'keys': [pem_public(team_key)], 'require': 'any', 'min_count': 1}}
    registry_sign.run(client(), sign_params([image], other_key), False)  # signed, but not by the trusted key
    for check_mode in (True, False):
        registry_client = client()
        with pytest.raises(VerificationFailedError) as caught:
            registry_tag.run(registry_client, params, check_mode)
        assert str(caught.value) == (
            'signature verification failed for %s/sig/gate-tag@%s: 0 valid signatures, 1 required '
            '(simplesigning: no key given verifies this signature (tried verify.keys[0]))' % (harness.open.host, digest))
        assert writes(registry_client) == []
    registry_sign.run(client(), sign_params([image], team_key, format='bundle'), False)
    promoted = registry_tag.run(client(), params, False)
    assert promoted['changed'] and promoted['digest'] == digest
    copied = signature_info.run(client(), info_params('%s/sig/gate-prod:prod' % harness.open.host, [pem_public(team_key)]), False)
    assert copied['verified']  # the signatures came along (referrers: true) and verify on the target


def test_registry_sync_verify_blocks_the_unsigned_tag_and_copies_the_signed(harness, team_key):
    from ansible_collections.oci.registry.plugins.modules import registry_sync
    from ansible_collections.oci.registry.plugins.module_utils.operations._sync import SyncFailedError
    push_image(harness.open, 'sig/gate-sync', ['signed', 'unsigned-tag'], content='one\n')
    push_image(harness.open, 'sig/gate-sync', ['unsigned-tag'], content='two\n')
    registry_sign.run(client(), sign_params(['%s/sig/gate-sync:signed' % harness.open.host], team_key), False)
    params = {'repositories': [{'source': '%s/sig/gate-sync' % harness.open.host, 'target': '%s/sig/gate-sync-mirror' % harness.open.host,
                                'tags': None, 'platforms': None, 'referrers': None, 'prune': None}],
              'platforms': None, 'referrers': True, 'prune': False, 'prune_max': 10, 'immutable': [], 'workers': 2, 'keep_going': True,
              'min_ratelimit_remaining': 0, 'source_auth': None, 'verify': {'keys': [pem_public(team_key)], 'require': 'any', 'min_count': 1}}
    with pytest.raises(SyncFailedError) as caught:
        registry_sync.run(client(), params, False)
    results = {r['tag']: r for r in caught.value.result['results']}
    assert results['signed']['action'] == 'created'
    assert results['unsigned-tag']['action'] == 'blocked'
    assert results['unsigned-tag']['reason'] == ('signature verification failed for %s/sig/gate-sync@%s: 0 valid signatures, 1 required '
                                                 '(the image has no signatures, in either format)'
                                                 % (harness.open.host, results['unsigned-tag']['source_digest']))
    mirror = client()
    tags = mirror.list_tags(parse_image('%s/sig/gate-sync-mirror' % harness.open.host))
    assert sorted(tags) == sorted(['signed', ops.signature_tag(results['signed']['source_digest'])])  # with its signature, not the unsigned tag
