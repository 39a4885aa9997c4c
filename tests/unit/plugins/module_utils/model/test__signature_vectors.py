# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""model/_signature against data that other implementations made (tests/data/signatures, each with a README naming its source).

Without a registry: published sigstore bundles (sigstore-go, sigstore-js) and the key files that
upstream skopeo 1.9.3 signed with. The registry round trips of skopeo's and sigstore-js's image
signatures are in tests/live/test_signature_vectors.py.
"""

from __future__ import annotations

import base64
import json
import os

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model import _signature as sig
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, 'data', 'signatures')
KEYS = os.path.join(DATA, 'skopeo-1.9.3', 'keys')


def read(*parts: str) -> bytes:
    with open(os.path.join(DATA, *parts), 'rb') as handle:
        return handle.read()


def test_sigstore_go_published_bundle_verifies_and_names_its_package():
    """sigstore-go's examples/bundle-publish.json: a v0.1 bundle whose statement names an npm package by sha512."""
    raw = read('published', 'sigstore-go', 'bundle-publish.json')
    key = sig.load_public_key(read('published', 'sigstore-go', 'publish_key.pub').decode(), 'publish_key.pub')
    statement = json.loads(base64.b64decode(json.loads(raw)['dsseEnvelope']['payload']))
    digest = 'sha512:%s' % statement['subject'][0]['digest']['sha512']
    verdict = sig.verify_bundle(raw, [key], digest)
    assert (verdict.valid, verdict.key, verdict.digest, verdict.docker_reference) == (True, 'publish_key.pub', digest, 'pkg:npm/sigstore@1.3.0')
    other = sig.verify_bundle(raw, [key], 'sha256:' + 'a' * 64)
    assert not other.valid and other.reason.startswith('signed for another image: the signature claims %s' % digest)
    wrong_key = sig.load_public_key(read('published', 'sigstore-js', 'key-1.pub').decode(), 'key-1.pub')
    assert sig.verify_bundle(raw, [wrong_key], digest).reason == 'no key given verifies this signature (tried key-1.pub)'


def test_sigstore_js_published_envelope_pae_matches_and_is_no_image_signature():
    """sigstore-js's fixture signs 'hello, world!' as text/plain: our PAE is the bytes it signed, but it names no image."""
    raw = read('published', 'sigstore-js', 'withPublicKey.bundle.json')
    key = sig.load_public_key(read('published', 'sigstore-js', 'key-1.pub').decode(), 'key-1.pub')
    bundle = sig.parse_bundle(raw)
    assert key.verify(bundle.signatures[0], sig.pae(bundle.payload_type, bundle.payload))
    assert not key.verify(bundle.signatures[0], sig.pae(bundle.payload_type, bundle.payload + b'!'))
    verdict = sig.verify_bundle(raw, [key], 'sha256:' + 'a' * 64)
    assert not verdict.valid and verdict.reason == "the DSSE payload type is 'text/plain', not 'application/vnd.in-toto+json'"


PASSPHRASE = read('skopeo-1.9.3', 'keys', 'passphrase.txt').decode()


@pytest.mark.parametrize('name, public', [('p256', 'p256'), ('p384', 'p384'), ('p521', 'p521'), ('rsa2048', 'rsa2048'),
                                          ('p256-other', 'p256-other'), ('p256-sigstore-n65536', 'p256'), ('p256-cosign-n65536', 'p256')])
def test_skopeos_cosign_key_files_decrypt_to_their_public_keys(name, public):
    signer = sig.load_private_key(read('skopeo-1.9.3', 'keys', name + '.key'), PASSPHRASE, name)
    assert signer.public.fingerprint == sig.load_public_key(read('skopeo-1.9.3', 'keys', public + '.pub').decode(), 'pub').fingerprint


def test_skopeos_ed25519_key_file_is_refused_for_signing():
    with pytest.raises(InvalidInputError, match='Ed25519ph'):
        sig.load_private_key(read('skopeo-1.9.3', 'keys', 'ed25519.key'), PASSPHRASE, 'ed25519.key')


def test_sigstore_js_hints_are_our_fingerprints():
    hints = json.loads(read('sigstore-js-4.1.1', 'vectors.json'))['hints']
    for name, hint in hints.items():
        assert sig.load_public_key(read('skopeo-1.9.3', 'keys', name + '.pub').decode(), name).fingerprint == hint
