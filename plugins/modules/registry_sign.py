#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_sign
short_description: Sign container images on a registry with a private key, as cosign does
version_added: 0.1.0
description:
  - Signs image digests with a private key and writes the signature to the image's repository, in a format cosign, skopeo and
    podman read. No cosign binary, no Docker daemon.
  - "O(format=simplesigning): a layer added to the C(sha256-<hex>.sig) tag (cosign 1 and 2, skopeo, podman and
    M(oci.registry.registry_signature_info) verify it)."
  - "O(format=bundle): a sigstore bundle v0.3 pushed as an OCI 1.1 referrer of the image, as cosign 3 does by default; on a
    registry without the referrers API it is also added to the C(sha256-<hex>) fallback tag index. skopeo and podman cannot read
    this format yet."
  - Idempotent per image and format. When a valid signature by the same key already names the image's digest, nothing is written and
    the image is V(unchanged).
  - "Keyed signing only: no transparency log entry and no certificate. Verify with C(cosign verify --key cosign.pub
    --insecure-ignore-tlog) or M(oci.registry.registry_signature_info)."
  - Nothing of the key or the passphrase appears in results, errors or logs.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the existing signatures as a real run would and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff maps each image digest to where its signature by this key is, before and after.
  idempotent:
    description: When run twice in a row with the same input, the second run reports no change.
    support: full
requirements:
  - cryptography (on the host that runs the module)
  - PyNaCl, only for cosign's encrypted key files
options:
  images:
    description:
      - The images to sign, as C([registry[:port]/]repository[:tag][@digest]). A tag is resolved to its digest and the digest is
        signed (for a multi-arch image, the index's digest).
    type: list
    elements: str
    required: true
  key:
    description:
      - Path of the private key file on the host that runs the module.
      - A PEM private key (PKCS#8 C(PRIVATE KEY) or C(ENCRYPTED PRIVATE KEY), also SEC1 C(EC PRIVATE KEY) and PKCS#1
        C(RSA PRIVATE KEY)), or a cosign key file (C(ENCRYPTED SIGSTORE PRIVATE KEY) or C(ENCRYPTED COSIGN PRIVATE KEY), which needs
        PyNaCl).
      - "Key types: ECDSA P-256 (recommended: every verifier reads it), P-384 and P-521 (signed with the curve's own hash as cosign
        does), RSA of at least 2048 bits, Ed25519 from a PKCS#8 file (plain Ed25519, as skopeo uses). Ed25519 keys in cosign key
        files are refused: cosign expects Ed25519ph from them."
      - Exactly one of O(key) and O(key_content).
    type: path
  key_content:
    description:
      - The private key's PEM text itself, for example from Ansible Vault or an AWX credential.
    type: str
  passphrase:
    description:
      - The passphrase of an encrypted key (cosign's C(COSIGN_PASSWORD)).
    type: str
  format:
    description:
      - The signature format to write.
    type: str
    choices: [simplesigning, bundle]
    default: simplesigning
  annotations:
    description:
      - Extra claims signed with the image, as string keys and values. They go into the simple-signing payload's C(optional)
        part, or onto the in-toto subject of a bundle (where cosign puts C(-a key=value)).
    type: dict
seealso:
  - module: oci.registry.registry_signature_info
    description: List and verify the signatures written here.
'''

EXAMPLES = r'''
- name: Sign the build's images with the team key from Ansible Vault
  oci.registry.registry_sign:
    images:
      - registry.example.com/team/app:1.4.2
      - registry.example.com/team/worker:1.4.2
    key_content: "{{ vault_cosign_private_key }}"
    passphrase: "{{ vault_cosign_password }}"
    annotations:
      build: "{{ build_number }}"
  register: signed

- name: Sign in cosign 3's bundle format with a cosign key file
  oci.registry.registry_sign:
    images: [registry.example.com/team/app@sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f]
    key: /etc/pki/cosign/cosign.key
    passphrase: "{{ vault_cosign_password }}"
    format: bundle
'''

RETURN = r'''
results:
  description: One entry per image.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The image as asked for, normalized.
      type: str
    digest:
      description: The digest that is signed.
      type: str
    format:
      description: The format written, as O(format).
      type: str
    action:
      description: V(created) (signed now, or in check mode would be) or V(unchanged) (a valid signature by this key was there).
      type: str
    changed:
      description: Whether the image was (or would be) signed.
      type: bool
    location:
      description:
        - Where the signature is, the C(.sig) tag or the bundle referrer's C(name@digest).
        - V(null) in check mode for a bundle not written yet, as its digest depends on the time of signing.
      type: str
  sample: [{"image": "registry.example.com/team/app:1.4.2", "digest": "sha256:4f6f...", "format": "simplesigning",
            "action": "created", "changed": true, "location": "registry.example.com/team/app:sha256-4f6f....sig"}]
key_fingerprint:
  description: The signing key's public fingerprint (base64 of the SHA-256 of its public key, sigstore's key hint); never the key.
  returned: always
  type: str
  sample: jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA=
diff:
  description: Each image digest and where its signature by this key is, before and after (V(null) for none).
  returned: always
  type: dict
  sample: {"before": {"registry.example.com/team/app@sha256:4f6f...": null},
           "after": {"registry.example.com/team/app@sha256:4f6f...": "registry.example.com/team/app:sha256-4f6f....sig"}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, register_secret
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model._signature import FORMATS, load_private_key
from ansible_collections.oci.registry.plugins.module_utils.operations._signatures import read_key_file, sign_image
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, require_cryptography, run_module


def _annotations(value):
    if not value:
        return None
    bad = [k for k, v in value.items() if not isinstance(v, str)]
    if bad:
        raise InvalidInputError('annotations: values must be strings (as cosign -a key=value); quote the value of %s' % ', '.join(sorted(bad)))
    return value


def run(client, params, check_mode):
    refs = [parse_image(image, 'images') for image in params['images'] or []]
    if not refs:
        raise InvalidInputError('images is empty: give at least one image to sign')
    annotations = _annotations(params['annotations'])
    if params['key_content']:
        pem = params['key_content'].encode('utf-8')
    else:
        pem = read_key_file(params['key'], 'key')
    key = load_private_key(pem, params['passphrase'], 'key_content' if params['key_content'] else 'key %s' % params['key'])
    results = [sign_image(client, ref, key, params['format'], annotations, check_mode) for ref in refs]
    pinned = ['%s@%s' % (parse_image(r['image']).name, r['digest']) for r in results]
    return {
        'changed': any(r['changed'] for r in results), 'results': results, 'key_fingerprint': key.public.fingerprint,
        'diff': {'before': {p: (r['location'] if not r['changed'] else None) for p, r in zip(pinned, results)},
                 'after': {p: r['location'] for p, r in zip(pinned, results)}},
    }


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            images={'type': 'list', 'elements': 'str', 'required': True},
            key={'type': 'path', 'no_log': False},
            key_content={'type': 'str', 'no_log': True},
            passphrase={'type': 'str', 'no_log': True},
            format={'type': 'str', 'default': 'simplesigning', 'choices': list(FORMATS)},
            annotations={'type': 'dict'},
        ),
        mutually_exclusive=[('key', 'key_content')],
        required_one_of=[('key', 'key_content')],
        supports_check_mode=True,
    )
    require_cryptography(module)
    register_secret(module.params['passphrase'])
    run_module(module, run)


if __name__ == '__main__':
    main()
