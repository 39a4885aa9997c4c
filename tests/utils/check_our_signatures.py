# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sign images with registry_sign and ask independent verifiers whether they accept the signatures.

    PYTHONPATH=<stage root>:<stage>/tests python tests/utils/check_our_signatures.py --registry HOST:PORT \\
        --skopeo /path/to/upstream/skopeo [--sigstore-js NODE_PATH]

A developer tool, not run by CI (CI has neither upstream skopeo nor sigstore-js). Run from a staged
tree (tests/run's KEEP_STAGE=1) against an open registry (``python -m harness up --flavour open``).
For each key of tests/data/signatures/skopeo-1.9.3/keys it pushes a fresh image, signs it with
registry_sign in the simple-signing format (the key as a PKCS#8 PEM and as skopeo's cosign key file)
and runs tests/utils/skopeo_check.py on it; with --sigstore-js it also signs in the bundle format and
runs tests/utils/sigstore_js_bundle.js verify on the bundle layer. It prints one line per check.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import serialization

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model._signature import _decrypt_cosign_key as decrypt_cosign_key
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions
from ansible_collections.oci.registry.plugins.modules import registry_sign
from harness.seed import push_image

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(os.path.dirname(HERE), 'data', 'signatures', 'skopeo-1.9.3', 'keys')


def pkcs8(name: str, passphrase: str) -> str:
    """The key of skopeo's key file as PKCS#8 PEM (an Ed25519 one too, which registry_sign refuses in a cosign key file)."""
    with open(os.path.join(KEYS, name + '.key'), 'rb') as handle:
        key = serialization.load_der_private_key(decrypt_cosign_key(handle.read(), passphrase, name), None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def sign(image: str, fmt: str, key_content: str = None, key: str = None, passphrase: str = None) -> dict:
    client = RegistryClient(ConnectionOptions(plain_http=True))
    params = {'images': [image], 'key': key, 'key_content': key_content, 'passphrase': passphrase, 'format': fmt, 'annotations': None}
    return registry_sign.run(client, params, False)['results'][0]


def skopeo(args: argparse.Namespace, image: str, name: str) -> str:
    proc = subprocess.run([sys.executable, os.path.join(HERE, 'skopeo_check.py'), '--skopeo', args.skopeo, '--insecure',
                           '--key', os.path.join(KEYS, name + '.pub'), image], capture_output=True, text=True, check=False)
    return (proc.stdout + proc.stderr).strip()


def sigstore_js(args: argparse.Namespace, image: str, location: str, name: str) -> str:
    client = RegistryClient(ConnectionOptions(plain_http=True))
    ref = parse_image(image)
    manifest = client.get_manifest(ref.with_digest(location.split('@')[1]))
    bundle = client.get_blob(ref, manifest.layers[0]['digest'], 1 << 20)
    digest = manifest.data['subject']['digest']
    with tempfile.NamedTemporaryFile('wb', suffix='.json', delete=False) as handle:
        handle.write(bundle)
    env = dict(os.environ, NODE_PATH=args.sigstore_js)
    proc = subprocess.run(['node', os.path.join(HERE, 'sigstore_js_bundle.js'), 'verify', '--key', os.path.join(KEYS, name + '.pub'),
                           '--bundle', handle.name, '--digest', digest], capture_output=True, text=True, check=False, env=env)
    os.unlink(handle.name)
    return 'rc=%d %s' % (proc.returncode, (proc.stdout + proc.stderr).strip())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--registry', required=True)
    parser.add_argument('--skopeo', required=True)
    parser.add_argument('--sigstore-js')
    args = parser.parse_args()
    with open(os.path.join(KEYS, 'passphrase.txt'), encoding='utf-8') as handle:
        passphrase = handle.read()
    for name in ('p256', 'p384', 'p521', 'rsa2048', 'ed25519'):
        repository = 'ours/%s' % name
        pushed = push_image('http://%s' % args.registry, repository, 'v1', content='ours %s\n' % name)
        image = '%s/%s:v1' % (args.registry, repository)
        result = sign(image, 'simplesigning', key_content=pkcs8(name, passphrase))
        print(json.dumps({'key': name, 'format': 'simplesigning', 'digest': pushed['digest'], 'action': result['action'],
                          'skopeo': skopeo(args, image, name)}))
        if name != 'ed25519':  # a cosign key file with an Ed25519 key is refused: cosign reads it as Ed25519ph
            file_image = '%s/%s-keyfile:v1' % (args.registry, repository)
            push_image('http://%s' % args.registry, repository + '-keyfile', 'v1', content='ours keyfile %s\n' % name)
            sign(file_image, 'simplesigning', key=os.path.join(KEYS, name + '.key'), passphrase=passphrase)
            print(json.dumps({'key': name + ' (cosign key file)', 'format': 'simplesigning', 'skopeo': skopeo(args, file_image, name)}))
        if args.sigstore_js:
            bundle = sign(image, 'bundle', key_content=pkcs8(name, passphrase))
            print(json.dumps({'key': name, 'format': 'bundle', 'sigstore_js': sigstore_js(args, image, bundle['location'], name)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
