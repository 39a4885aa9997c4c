# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signature formats, keys, signing and verifying, without a registry.

Our own signer and verifier agree with each other here; agreement with independent
implementations (upstream skopeo, securesystemslib, published sigstore bundles) is proven in
tests/live/test_signatures.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from ansible_collections.oci.registry.plugins.module_utils.model import _signature as sig
from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError

DIGEST = compute_digest(b'the image manifest')
OTHER = compute_digest(b'another image manifest')
REPO = 'registry.example.com/team/app'


def public_pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def private_pem(key, passphrase=None) -> bytes:
    encryption = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def cosign_key_file(key, passphrase: str, label: bytes = b'ENCRYPTED SIGSTORE PRIVATE KEY', n: int = 32768) -> bytes:
    """An encrypted key file as cosign writes it (scrypt + NaCl secretbox around PKCS#8 DER)."""
    from nacl.secret import SecretBox
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    secret = hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=8, p=1, maxmem=128 * 1024 * 1024, dklen=32)
    ciphertext = SecretBox(secret).encrypt(der, nonce).ciphertext
    body = json.dumps({'kdf': {'name': 'scrypt', 'params': {'N': n, 'r': 8, 'p': 1}, 'salt': base64.b64encode(salt).decode()},
                       'cipher': {'name': 'nacl/secretbox', 'nonce': base64.b64encode(nonce).decode()},
                       'ciphertext': base64.b64encode(ciphertext).decode()}).encode()
    lines = [base64.b64encode(body)[i:i + 64] for i in range(0, len(base64.b64encode(body)), 64)]
    return b'-----BEGIN ' + label + b'-----\n' + b'\n'.join(lines) + b'\n-----END ' + label + b'-----\n'


KEYS = {
    'ecdsa-p256': lambda: ec.generate_private_key(ec.SECP256R1()),
    'ecdsa-p384': lambda: ec.generate_private_key(ec.SECP384R1()),
    'ecdsa-p521': lambda: ec.generate_private_key(ec.SECP521R1()),
    'rsa-2048': lambda: rsa.generate_private_key(65537, 2048),
    'ed25519': ed25519.Ed25519PrivateKey.generate,
}


@pytest.fixture(scope='module', params=sorted(KEYS))
def keypair(request):
    key = KEYS[request.param]()
    signer = sig.load_private_key(private_pem(key), None, 'test key')
    return request.param, key, signer, sig.load_public_key(public_pem(key), 'cosign.pub')


def test_simple_signing_payload_is_cosigns_bytes():
    assert sig.build_simple_signing(REPO, DIGEST) == (
        '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},'
        '"type":"cosign container image signature"},"optional":null}' % (REPO, DIGEST)).encode()
    claims = sig.parse_simple_signing(sig.build_simple_signing(REPO, DIGEST, {'build': '42'}))
    assert (claims.docker_reference, claims.digest, claims.type, claims.optional) == (REPO, DIGEST, sig.SIMPLE_SIGNING_TYPE, {'build': '42'})


def test_pae_is_the_dsse_specification_example():
    assert sig.pae('http://example.com/HelloWorld', b'hello world') == b'DSSEv1 29 http://example.com/HelloWorld 11 hello world'


def test_statement_names_the_image_as_subject_with_annotations():
    statement = json.loads(sig.build_statement(DIGEST, {'team': 'a'}))
    assert statement == {'_type': 'https://in-toto.io/Statement/v1', 'subject': [{'digest': {'sha256': DIGEST[7:]}, 'annotations': {'team': 'a'}}],
                         'predicateType': 'https://sigstore.dev/cosign/sign/v1', 'predicate': {}}
    predicate, subjects = sig.parse_statement(sig.build_statement(DIGEST))
    assert predicate == sig.COSIGN_SIGN_PREDICATE and subjects[0].digests == (DIGEST,)


def test_every_key_kind_signs_and_verifies_both_formats(keypair):
    kind, _key, signer, public = keypair
    assert public.kind == signer.public.kind == kind
    assert public.fingerprint == signer.public.fingerprint
    payload, signature = sig.sign_simple_signing(signer, REPO, DIGEST, {'a': 'b'})
    verdict = sig.verify_simple_signing(payload, signature, [public], DIGEST)
    assert verdict.as_dict() == {'format': 'simplesigning', 'valid': True, 'key': 'cosign.pub', 'digest': DIGEST,
                                 'docker_reference': REPO, 'annotations': {'a': 'b'}, 'reason': None}
    bundle = sig.sign_bundle(signer, DIGEST, {'a': 'b'})
    assert json.loads(bundle)['verificationMaterial'] == {'publicKey': {'hint': public.fingerprint}}
    verdict = sig.verify_bundle(bundle, [public], DIGEST)
    assert (verdict.valid, verdict.key, verdict.digest, verdict.annotations, verdict.format) == (True, 'cosign.pub', DIGEST, {'a': 'b'}, 'bundle')


@pytest.mark.parametrize('curve, hash_', [(ec.SECP384R1(), hashes.SHA384()), (ec.SECP384R1(), hashes.SHA256()),
                                          (ec.SECP521R1(), hashes.SHA512()), (ec.SECP521R1(), hashes.SHA256())])
def test_p384_and_p521_accept_the_curves_hash_and_sha256(curve, hash_):
    """cosign hashes P-384/P-521 with SHA-384/SHA-512, skopeo with SHA-256: both are accepted."""
    key = ec.generate_private_key(curve)
    payload = sig.build_simple_signing(REPO, DIGEST)
    signature = base64.b64encode(key.sign(payload, ec.ECDSA(hash_))).decode()
    assert sig.verify_simple_signing(payload, signature, [sig.load_public_key(public_pem(key), 'k')], DIGEST).valid


def test_p256_refuses_a_sha384_signature():
    key = ec.generate_private_key(ec.SECP256R1())
    payload = sig.build_simple_signing(REPO, DIGEST)
    signature = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA384()))).decode()
    assert not sig.verify_simple_signing(payload, signature, [sig.load_public_key(public_pem(key), 'k')], DIGEST).valid


@pytest.fixture(scope='module')
def p256():
    key = ec.generate_private_key(ec.SECP256R1())
    return sig.load_private_key(private_pem(key), None, 'signer'), sig.load_public_key(public_pem(key), 'right.pub')


def _altered(text: str) -> str:
    return text[:10] + ('A' if text[10] != 'A' else 'B') + text[11:]


def test_bad_simple_signatures_each_have_a_reason(p256):
    signer, public = p256
    wrong = sig.load_public_key(public_pem(ec.generate_private_key(ec.SECP256R1())), 'wrong.pub')
    payload, signature = sig.sign_simple_signing(signer, REPO, DIGEST)
    cases = {
        'wrong key': (payload, signature, [wrong], DIGEST, 'no key given verifies this signature (tried wrong.pub)'),
        'tampered payload': (payload.replace(b'team/app', b'team/ap2'), signature, [public], DIGEST, 'no key given verifies'),
        'another image': (payload, signature, [public], OTHER, 'signed for another image: the signature claims %s, this image is %s' % (DIGEST, OTHER)),
        'truncated base64': (payload, signature[:-3], [public], DIGEST, 'is not valid base64 (truncated or altered?)'),
        'no signature': (payload, None, [public], DIGEST, 'the signature annotation (dev.cosignproject.cosign/signature) is missing'),
        'no keys': (payload, signature, [], DIGEST, 'not verified: no keys given'),
        'not JSON': (b'\x00garbage', signature, [public], DIGEST, 'the payload is not JSON'),
        'other type': (payload.replace(b'cosign container image signature', b'atomic container signature'), signature, [public], DIGEST,
                       "the payload type is 'atomic container signature'"),
    }
    for name, (data, signature_text, keys, digest, reason) in cases.items():
        verdict = sig.verify_simple_signing(data, signature_text, keys, digest)
        assert not verdict.valid, name
        assert reason in verdict.reason, (name, verdict.reason)
    assert sig.verify_simple_signing(payload, signature, [wrong, public], DIGEST).key == 'right.pub'


def test_bad_bundles_each_have_a_reason(p256):
    signer, public = p256
    bundle = json.loads(sig.sign_bundle(signer, DIGEST))
    envelope = bundle['dsseEnvelope']
    other_statement = sig.build_statement(OTHER)
    cases = {
        'another image': (dict(bundle, dsseEnvelope=dict(envelope, payload=sig.encode_b64(other_statement), signatures=[
            {'sig': sig.encode_b64(signer.sign(sig.pae(sig.IN_TOTO_PAYLOAD_TYPE, other_statement)))}])), 'signed for another image'),
        'tampered statement': (dict(bundle, dsseEnvelope=dict(envelope, payload=sig.encode_b64(other_statement))), 'no key given verifies'),
        'truncated signature': (dict(bundle, dsseEnvelope=dict(envelope, signatures=[{'sig': envelope['signatures'][0]['sig'][:-2]}])),
                                'a DSSE signature is not valid base64'),
        'message signature': ({'mediaType': sig.BUNDLE_MEDIA_TYPE, 'messageSignature': {}}, 'holds no DSSE envelope'),
        'other payload type': (dict(bundle, dsseEnvelope=dict(envelope, payloadType='text/plain')), "the DSSE payload type is 'text/plain'"),
        'unknown media type': (dict(bundle, mediaType='application/json'), "unknown bundle media type 'application/json'"),
    }
    for name, (document, reason) in cases.items():
        verdict = sig.verify_bundle(json.dumps(document).encode(), [public], DIGEST)
        assert not verdict.valid, name
        assert reason in verdict.reason, (name, verdict.reason)


@pytest.mark.parametrize('make, message', [
    (lambda: public_pem(ec.generate_private_key(ec.SECP256K1())), 'an ECDSA key on curve secp256k1 is not supported'),
    (lambda: public_pem(rsa.generate_private_key(65537, 1024)), 'an RSA key of 1024 bits is too weak'),
    (lambda: public_pem(dsa.generate_private_key(2048)), 'is not a supported signing key'),
    (lambda: public_pem(ed448.Ed448PrivateKey.generate()), 'is not a supported signing key'),
    (lambda: private_pem(ec.generate_private_key(ec.SECP256R1())).decode(), 'is a private key: give the public key'),
    (lambda: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', 'keyless (certificate) verification is not supported'),
    (lambda: 'not a key at all', 'is not a PEM public key'),
    (lambda: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n', 'is not a PEM public key'),
])
def test_unusable_public_keys_are_refused_with_a_clear_message(make, message):
    with pytest.raises(InvalidInputError) as caught:
        sig.load_public_key(make(), 'keys[0]')
    assert message in str(caught.value) and str(caught.value).startswith('keys[0]')


def test_public_key_parse_is_cached():
    pem = public_pem(ec.generate_private_key(ec.SECP256R1()))
    assert sig.load_public_key(pem, 'a') is sig.load_public_key(pem, 'a')


def test_private_keys_pkcs8_encrypted_and_plain():
    key = ec.generate_private_key(ec.SECP256R1())
    expected = sig.load_public_key(public_pem(key), 'k').fingerprint
    assert sig.load_private_key(private_pem(key, 'pass phrase'), 'pass phrase', 'key').public.fingerprint == expected
    assert sig.load_private_key(private_pem(key), 'unneeded', 'key').public.fingerprint == expected
    for passphrase, message in ((None, 'key is encrypted: set passphrase'), ('wrong', 'the passphrase does not decrypt it')):
        with pytest.raises(InvalidInputError) as caught:
            sig.load_private_key(private_pem(key, 'pass phrase'), passphrase, 'key')
        assert message in str(caught.value) and 'pass phrase' not in str(caught.value)
    with pytest.raises(InvalidInputError, match='it is not a PEM private key'):
        sig.load_private_key(b'-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', None, 'key')


@pytest.mark.parametrize('label', sig.COSIGN_KEY_LABELS)
def test_cosign_key_files_decrypt(label):
    key = ec.generate_private_key(ec.SECP256R1())
    signer = sig.load_private_key(cosign_key_file(key, 'cosign pass', label), 'cosign pass', 'cosign.key')
    assert signer.public.fingerprint == sig.load_public_key(public_pem(key), 'k').fingerprint
    for passphrase, message in (('wrong', 'cannot be decrypted: the passphrase does not decrypt it'), (None, 'set passphrase')):
        with pytest.raises(InvalidInputError, match=message):
            sig.load_private_key(cosign_key_file(key, 'cosign pass', label), passphrase, 'cosign.key')


def test_cosign_ed25519_key_file_is_refused_as_ed25519ph():
    with pytest.raises(InvalidInputError, match='Ed25519ph'):
        sig.load_private_key(cosign_key_file(ed25519.Ed25519PrivateKey.generate(), 'p'), 'p', 'cosign.key')


def test_cosign_key_file_without_pynacl_names_it(monkeypatch):
    monkeypatch.setattr(sig, 'HAS_NACL', False)
    with pytest.raises(InvalidInputError, match=r'needs the PyNaCl Python library .*pip install PyNaCl'):
        sig.load_private_key(cosign_key_file(ec.generate_private_key(ec.SECP256R1()), 'p'), 'p', 'cosign.key')


def test_cosign_key_file_with_hostile_scrypt_parameters_is_refused():
    body = json.dumps({'kdf': {'name': 'scrypt', 'params': {'N': 1 << 30, 'r': 8, 'p': 1}, 'salt': 'AAAA'},
                       'cipher': {'name': 'nacl/secretbox', 'nonce': 'AAAA'}, 'ciphertext': 'AAAA'}).encode()
    pem = b'-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n' + base64.b64encode(body) + b'\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n'
    with pytest.raises(InvalidInputError, match='is not a readable cosign key file'):
        sig.load_private_key(pem, 'p', 'cosign.key')


def test_rule_any_all_and_minimum_count():
    a, b = (sig.load_public_key(public_pem(ec.generate_private_key(ec.SECP256R1())), name) for name in ('a.pub', 'b.pub'))
    by_a = sig.Verdict('simplesigning', valid=True, key='a.pub')
    failed = sig.Verdict('bundle', reason='no key given verifies this signature (tried a.pub, b.pub)')
    assert sig.Rule((a, b)).judge([by_a, failed]) == (True, None)
    assert sig.Rule((a, b), 'all').judge([by_a, failed]) == (
        False, 'no valid signature by b.pub (bundle: no key given verifies this signature (tried a.pub, b.pub))')
    assert sig.Rule((a, b), 'any', 2).judge([by_a]) == (False, '1 valid signature, 2 required')
    assert sig.Rule((a,)).judge([]) == (False, '0 valid signatures, 1 required (the image has no signatures, in either format)')
