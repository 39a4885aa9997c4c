#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_signature_info
short_description: List a container image's cosign signatures and verify them against public keys
version_added: 0.1.0
description:
  - Lists the signatures of an image straight from the registry, in both formats cosign writes, and verifies each against
    the public keys given. Nothing is written.
  - "Simple signing (cosign 1 and 2, skopeo): the tag C(sha256-<hex>.sig) in the image's repository, one signature per layer."
  - "Sigstore bundle (cosign 3's default): an OCI 1.1 referrer of the image holding a DSSE envelope around an in-toto statement;
    found through the referrers API, or the C(sha256-<hex>) fallback tag on registries without that API."
  - A signature is valid only when one of O(keys) verifies it B(and) the digest it claims is the image's own digest; a signature
    for another image never counts.
  - "Keyed verification only, without a transparency log and without keyless certificates: this is what
    C(cosign verify --key cosign.pub --insecure-ignore-tlog) checks."
  - Costs per image, on a registry without the referrers API, one GET of the C(.sig) manifest, one GET of the referrers API and
    one of the fallback tag, plus one GET per simple-signing layer and two per bundle (3 requests for an unsigned image). At most
    32 signatures are read per image.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
  - oci.registry._attributes.INFO_MODULE
requirements:
  - cryptography (on the host that runs the module)
options:
  image:
    description:
      - The image, in docker reference form C([registry[:port]/]repository[:tag][@digest]); a tag is resolved to its digest first.
    type: str
    required: true
  keys:
    description:
      - Public keys to verify with, each a file path or the PEM text itself (C(-----BEGIN PUBLIC KEY-----)).
      - "Supported: ECDSA P-256 (cosign's default), P-384 and P-521 (hashed with the curve's own hash as cosign does, or SHA-256 as
        skopeo does), RSA (PKCS#1 v1.5 with SHA-256, at least 2048 bits) and plain Ed25519 (skopeo). Ed25519 keys made by cosign sign
        as Ed25519ph, which is not supported."
      - Without keys the signatures are listed, none is verified, and RV(verified) is V(false).
    type: list
    elements: str
  require:
    description:
      - V(any) accepts valid signatures by any of O(keys); V(all) needs a valid signature by each of them.
    type: str
    choices: [any, all]
    default: any
  min_count:
    description:
      - The number of valid signatures needed (in either format).
    type: int
    default: 1
  platforms:
    description:
      - For a multi-arch image, also verify each platform's manifest (cosign signs them with C(--recursive)), returned as
        RV(platforms); RV(verified) then needs the index and every platform verified.
    type: bool
    default: false
seealso:
  - module: oci.registry.registry_sign
    description: Sign images in the same formats.
  - module: oci.registry.registry_tag
    description: Its O(oci.registry.registry_tag#module:verify) option refuses to promote an image that is not signed.
'''

EXAMPLES = r'''
- name: Verify an image against the team's key
  oci.registry.registry_signature_info:
    image: registry.example.com/team/app:1.4.2
    keys: [/etc/pki/cosign/team.pub]
  register: signed

- name: Stop unless it is signed
  ansible.builtin.assert:
    that: signed.verified
    fail_msg: "{{ signed.reason }}"

- name: Two keys must both have signed, the key text from a variable, every platform too
  oci.registry.registry_signature_info:
    image: registry.example.com/team/app@sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
    keys:
      - "{{ build_signing_public_key }}"
      - /etc/pki/cosign/release.pub
    require: all
    platforms: true
'''

RETURN = r'''
image:
  description: The normalized reference that was asked for.
  returned: always
  type: str
  sample: registry.example.com/team/app:1.4.2
digest:
  description: The digest the signatures must name.
  returned: always
  type: str
  sample: sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
reference:
  description: The image pinned to its digest.
  returned: always
  type: str
  sample: registry.example.com/team/app@sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
verified:
  description: Whether the signatures satisfy O(keys), O(require) and O(min_count) (and, with O(platforms), every platform's do).
  returned: always
  type: bool
  sample: true
reason:
  description: Why RV(verified) is V(false), naming the keys and formats that failed; V(null) when verified.
  returned: always
  type: str
  sample: "0 valid signatures, 1 required (simplesigning: no key given verifies this signature (tried /etc/pki/cosign/team.pub))"
signatures:
  description: Every signature found for the image's digest, in both formats, each with its verdict.
  returned: always
  type: list
  elements: dict
  contains:
    format:
      description: V(simplesigning) (a layer of the C(.sig) tag) or V(bundle) (a sigstore bundle referrer).
      type: str
    valid:
      description: Whether a key verified it and it names this image's digest.
      type: bool
    key:
      description: The key that verified the signature (its file path, or C(keys[N]) for PEM text); V(null) when none did.
      type: str
    digest:
      description: The digest the signed content claims.
      type: str
    docker_reference:
      description: The repository the simple-signing payload names (the in-toto subject name for a bundle, often V(null)).
      type: str
    annotations:
      description: The payload's C(optional) part (simple signing) or the subject's annotations (bundle).
      type: dict
    reason:
      description: Why the signature is not valid; V(null) when it is.
      type: str
    location:
      description: Where it is, the C(.sig) tag or the referrer's C(name@digest).
      type: str
  sample: [{"format": "simplesigning", "valid": true, "key": "/etc/pki/cosign/team.pub", "digest": "sha256:4f6f...",
            "docker_reference": "registry.example.com/team/app", "annotations": {"build": "1234"}, "reason": null,
            "location": "registry.example.com/team/app:sha256-4f6f....sig"}]
platforms:
  description: With O(platforms) and a multi-arch image, each platform's manifest and its verdict.
  returned: when O(platforms=true) and the image is an index
  type: list
  elements: dict
  contains:
    platform:
      description: The child's platform, C(os/architecture[/variant]).
      type: str
    digest:
      description: The child's digest.
      type: str
    verified:
      description: Whether its signatures satisfy the rule.
      type: bool
    reason:
      description: Why not.
      type: str
    signatures:
      description: Its signatures, as RV(signatures).
      type: list
      elements: dict
  sample: [{"platform": "linux/amd64", "digest": "sha256:9a1b...", "verified": true, "reason": null, "signatures": []}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.operations._signatures import parse_rule, verify_image
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, require_cryptography, run_module


def run(client, params, check_mode):
    ref = parse_image(params['image'])
    rule = parse_rule(params['keys'], params['require'], params['min_count'], optional=True)
    found = client.resolve(ref, content=params['platforms'])
    report = verify_image(client, ref, found.digest, rule)
    result = dict(report, changed=False, image=str(ref), reference='%s@%s' % (ref.name, found.digest))
    if params['platforms'] and found.manifest is not None and found.manifest.is_index:
        result['platforms'] = [dict(verify_image(client, ref, child['digest'], rule), platform=child['platform'])
                               for child in found.manifest.children if child['digest']]
        failed = [p for p in result['platforms'] if not p['verified']]
        if result['verified'] and failed:
            result.update(verified=False, reason='platform %s (%s): %s' % (failed[0]['platform'], failed[0]['digest'], failed[0]['reason']))
    return result


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            image={'type': 'str', 'required': True},
            keys={'type': 'list', 'elements': 'str', 'no_log': False},
            require={'type': 'str', 'default': 'any', 'choices': ['any', 'all']},
            min_count={'type': 'int', 'default': 1},
            platforms={'type': 'bool', 'default': False},
        ),
        supports_check_mode=True,
    )
    require_cryptography(module)
    run_module(module, run)


if __name__ == '__main__':
    main()
