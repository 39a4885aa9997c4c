#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_tag
short_description: Point tags at an existing image, in the same repository, another repository or another registry
version_added: 0.1.0
description:
  - Promotes an image to other tags without pulling it to disk and without a Docker daemon, over the OCI Distribution /
    Docker Registry HTTP API V2.
  - In the same repository only the manifest is written, as its exact bytes, so every tag has the source's digest.
  - To another repository on the same registry, the config and layer blobs are mounted (no bytes move); when the registry
    refuses a mount, the blob is streamed instead.
  - To another registry, blobs stream from the source to the target in chunks (memory stays bounded whatever their size),
    are verified against their digests as they pass, and are skipped when the target already has them. A digest mismatch
    aborts before any manifest is written.
  - Multi-arch images (OCI image index, Docker manifest list) are copied child by child, children before the index. Every
    manifest keeps its exact bytes, so digests are the same on both sides.
  - Tags that already point at the source's digest are left alone; a rerun only reads (HEAD requests) and reports no change.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._registry.source_auth
  - oci.registry._registry.verify
  - oci.registry._attributes
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the registries as a real run would and sends no write request (no POST, PUT, PATCH or DELETE).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff maps each tag to the digest it pointed at before and after.
  idempotent:
    description: When run twice in a row with the same input, the second run reports no change.
    support: full
options:
  source:
    description:
      - The image to tag, C([registry[:port]/]repository[:tag][@digest]). With a digest, that exact manifest is used.
      - Without a registry the image is on Docker Hub; without a tag or digest, C(latest) is used.
    type: str
    required: true
  tags:
    description:
      - The tags to point at the source image, in O(repository). Tag names only (V(prod), V(1.4.2)), not references or digests.
    type: list
    elements: str
    required: true
  repository:
    description:
      - The target repository, C([registry[:port]/]repository), without tag or digest. Defaults to the source's repository.
      - It may name another registry; without a registry part it means Docker Hub, like every reference, so give the
        registry host for a private registry (V(registry.example.com/release/app)).
    type: str
  overwrite:
    description:
      - Whether a tag that already points at another image is moved to the source image.
      - With V(false) such a tag is left alone and the task does not fail; its entry in RV(results) has C(changed=false)
        and a C(skipped) reason, and a warning names it. Tags that are missing are still created.
    type: bool
    default: true
  referrers:
    description:
      - Also copy what refers to the image, so a signed image stays verifiable after promotion to another repository or
        registry.
      - OCI 1.1 referrers (signatures, SBOMs, attestations with a C(subject)) are listed with the referrers API, or from the
        C(sha256-<hex>) fallback tag when the registry does not have that API (which is then copied too); cosign's
        C(sha256-<hex>.sig), C(.att) and C(.sbom) tags are copied as tags.
      - Referrers of the children of a multi-arch image are not copied.
    type: bool
    default: false
seealso:
  - module: oci.registry.registry_manifest_info
    description: Read an image's digest, platforms and referrers.
'''

EXAMPLES = r'''
- name: Promote a tested build to prod in the same repository
  oci.registry.registry_tag:
    source: registry.example.com/team/app:1.4.2
    tags: [prod]

- name: Release a build by digest under several tags of another repository (blobs are mounted, not copied)
  oci.registry.registry_tag:
    source: registry.example.com/build/app@sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
    repository: registry.example.com/release/app
    tags: ["1.4.2", "1.4", latest]

- name: Publish from an internal registry to a public one, with other credentials for the source
  oci.registry.registry_tag:
    source: registry.internal:5000/team/app:1.4.2
    repository: ghcr.io/example/app
    tags: ["1.4.2"]
    username: example-bot
    password: "{{ ghcr_token }}"
    source_auth:
      username: ci
      password: "{{ internal_registry_password }}"
      ca_cert: /etc/pki/internal-ca.pem

- name: Promote a signed image with its signatures, SBOMs and attestations
  oci.registry.registry_tag:
    source: registry.example.com/staging/app:1.4.2
    repository: registry.example.com/prod/app
    tags: ["1.4.2"]
    referrers: true
  register: promoted

- name: Show what was copied with it
  ansible.builtin.debug:
    msg: "{{ promoted.referrers | map(attribute='artifact_type') | list }}"

- name: Create release tags but never move one that exists
  oci.registry.registry_tag:
    source: registry.example.com/team/app:{{ build_id }}
    tags: ["{{ version }}"]
    overwrite: false
'''

RETURN = r'''
digest:
  description: Digest of the source image (for a multi-arch image, the index digest); every written tag points at it.
  returned: always
  type: str
  sample: sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
source:
  description: The normalized source reference.
  returned: always
  type: str
  sample: registry.example.com/team/app:1.4.2
results:
  description: One entry per tag of O(tags), in order.
  returned: always
  type: list
  elements: dict
  contains:
    target:
      description: The normalized target reference.
      type: str
      sample: registry.example.com/team/app:prod
    previous_digest:
      description: The digest the tag pointed at before, V(null) when it did not exist.
      type: str
      sample: sha256:9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
    digest:
      description: The digest the tag points at now (in check mode, would point at).
      type: str
      sample: sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
    changed:
      description: Whether the tag was (or in check mode would be) written.
      type: bool
      sample: true
    skipped:
      description: Why a tag was left alone although it points elsewhere (O(overwrite=false)); absent otherwise.
      type: str
      sample: tag exists and points at another image, and overwrite is false
  sample: [{"target": "registry.example.com/team/app:prod", "previous_digest": null, "digest": "sha256:4f6f...", "changed": true}]
diff:
  description: Each tag of O(tags) and the digest it points at, before and after.
  returned: always
  type: dict
  sample: {"before": {"prod": "sha256:9a1b..."}, "after": {"prod": "sha256:4f6f..."}}
mounted_blobs:
  description: Number of blobs mounted from the source repository (same registry), in check mode that would be.
  returned: always
  type: int
  sample: 3
copied_blobs:
  description: Number of blobs streamed from the source to the target, in check mode that would be.
  returned: always
  type: int
  sample: 0
copied_bytes:
  description: Bytes of the blobs streamed, in check mode that would be.
  returned: always
  type: int
  sample: 0
referrers:
  description: What refers to the image and was considered with O(referrers=true); empty list otherwise.
  returned: always
  type: list
  elements: dict
  contains:
    digest:
      description: Digest of the referring manifest.
      type: str
    artifact_type:
      description: Its artifact type (C(application/vnd.dev.cosign.artifact.sig.v1+json), ...); C(cosign/sig), C(cosign/att)
        or C(cosign/sbom) for cosign tags.
      type: str
    kind:
      description: V(referrer) (OCI 1.1 subject) or V(cosign) (a cosign tag).
      type: str
    tag:
      description: The cosign tag, or the C(sha256-<hex>) fallback tag the referrer was listed in; V(null) when listed by the API.
      type: str
    annotations:
      description: Its annotations.
      type: dict
    changed:
      description: Whether it was (or in check mode would be) copied.
      type: bool
  sample: [{"digest": "sha256:77aa...", "artifact_type": "cosign/sig", "kind": "cosign", "tag": "sha256-4f6f....sig", "changed": true}]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.warnings import warn

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._errors import RegistryError, VerificationFailedError
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.stores._store import RegistryRepository
from ansible_collections.oci.registry.plugins.module_utils.operations._copy import CopyContext, copy_image, copy_referrers
from ansible_collections.oci.registry.plugins.module_utils.operations._tagging import parse_tags, parse_target, plan_tags, target_digests
from ansible_collections.oci.registry.plugins.module_utils._module import (
    CONNECTION_SUBOPTIONS, VERIFY_OPTION, client_with_overrides, registry_argspec, require_cryptography, run_module, verify_gate)


def run(client, params, check_mode):
    source_ref = parse_image(params['source'], 'source')
    tags = parse_tags(params['tags'])
    gate = verify_gate(params.get('verify'))
    target_ref = parse_target(params['repository'], source_ref)
    source = RegistryRepository(client_with_overrides(client, params['source_auth'], 'source_auth'), source_ref)
    target = RegistryRepository(client, target_ref)
    known = None
    if source_ref.digest:
        manifest = None
    elif source_ref.api_host != target_ref.api_host:
        manifest, known = target_digests(target, tags, lambda: source.get_manifest(source_ref.reference))
    else:
        manifest = source.get_manifest(source_ref.reference)
    digest = source_ref.digest or manifest.digest
    refused = gate(source.client, source_ref, digest) if gate else None
    if refused:
        raise VerificationFailedError(refused)
    results = plan_tags(target, target_ref.name, tags, digest, params['overwrite'], known)
    to_write = [r['tag'] for r in results if r['changed']]
    try:
        with CopyContext(check_mode=check_mode) as context:
            if to_write:
                copy_image(source, target, digest, to_write, manifest=manifest, context=context)
            referrers = copy_referrers(source, target, digest, context=context) if params['referrers'] else []
    except RegistryError as exc:
        raise exc.with_message('tagging %s as %s failed: %s' % (source_ref, ', '.join('%s:%s' % (target_ref.name, tag) for tag in to_write), exc.msg))
    for skipped in (r for r in results if r.get('skipped')):
        warn('%s was left alone: %s' % (skipped['target'], skipped['skipped']))
    return {
        'changed': bool(to_write) or any(r['changed'] for r in referrers), 'digest': digest, 'source': str(source_ref),
        'results': [{k: v for k, v in r.items() if k != 'tag'} for r in results],
        'diff': {'before': {r['tag']: r['previous_digest'] for r in results}, 'after': {r['tag']: r['digest'] for r in results}},
        'mounted_blobs': context.stats.mounted_blobs, 'copied_blobs': context.stats.copied_blobs, 'copied_bytes': context.stats.copied_bytes,
        'referrers': referrers,
    }


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            source={'type': 'str', 'required': True},
            tags={'type': 'list', 'elements': 'str', 'required': True},
            repository={'type': 'str'},
            overwrite={'type': 'bool', 'default': True},
            referrers={'type': 'bool', 'default': False},
            source_auth={'type': 'dict', 'options': CONNECTION_SUBOPTIONS},
            verify=VERIFY_OPTION,
        ),
        supports_check_mode=True,
    )
    if module.params['verify']:
        require_cryptography(module)
    run_module(module, run)


if __name__ == '__main__':
    main()
