#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_manifest_info
short_description: Read the manifest, digest and config of a container image on a registry
version_added: 0.1.0
description:
  - Resolves an image reference (C(registry/repository:tag) or C(@digest)) to its digest and reads its manifest
    straight from the registry over the OCI Distribution / Docker Registry HTTP API V2. No Docker daemon, nothing pulled to disk.
  - Works with OCI and Docker manifests and with multi-arch indexes (OCI image index, Docker manifest list).
  - A missing tag or repository is reported as RV(exists=false), not as a failure; authentication, TLS and network
    problems fail the task with a message that says what to change.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
  - oci.registry._attributes.INFO_MODULE
options:
  image:
    description:
      - The image, in docker reference form C([registry[:port]/]repository[:tag][@digest]).
      - Without a registry the image is on Docker Hub (C(nginx) is C(docker.io/library/nginx)); without a tag or digest, C(latest) is used.
      - With both a tag and a digest, the digest is what is read.
    type: str
    required: true
    aliases: [name]
  platform:
    description:
      - For a multi-arch image, the platform to select, as C(os/architecture[/variant]) (V(linux/amd64), V(linux/arm64/v8)).
      - V(linux/arm64) matches an C(arm64) child with or without variant V(v8).
      - The child's digest is returned as RV(platform_digest), its manifest as RV(platform_manifest); RV(digest) stays the index digest.
      - For a single-platform image, the image's config must match the platform, else the task fails.
    type: str
  config:
    description:
      - Also read the image config (environment, entrypoint, labels, history, created date) and return it as RV(config).
      - For a multi-arch image this needs O(platform).
    type: bool
    default: false
  referrers:
    description:
      - Also list what refers to the image (signatures, SBOMs, attestations) and return it as RV(referrers).
      - OCI 1.1 referrers come from the referrers API, or from the C(sha256-<hex>) fallback tag when the registry does not
        have that API; cosign's C(sha256-<hex>.sig), C(.att) and C(.sbom) tags are listed too.
      - Costs one request for the listing (two when the fallback is used) and three HEAD requests for the cosign tags.
    type: bool
    default: false
seealso:
  - plugin: oci.registry.digest
    plugin_type: lookup
    description: Resolve many references to digests at once, on the controller.
'''

EXAMPLES = r'''
- name: Read the manifest of an image
  oci.registry.registry_manifest_info:
    image: registry.example.com/team/app:1.4.2
  register: app

- name: Pin the image by digest in a later task
  ansible.builtin.debug:
    msg: "Deploying {{ app.reference }}"
  when: app.exists

- name: Select the arm64 image of a multi-arch tag and read its config
  oci.registry.registry_manifest_info:
    image: docker.io/library/nginx:1.27
    platform: linux/arm64
    config: true
  register: nginx

- name: Show the platform digest and the image's entrypoint
  ansible.builtin.debug:
    msg: "{{ nginx.platform_digest }} runs {{ nginx.config.config.Entrypoint }}"

- name: Fail clearly when a required image is missing
  oci.registry.registry_manifest_info:
    image: registry.example.com/team/app:{{ app_version }}
  register: wanted
  failed_when: not wanted.exists

- name: A self-hosted registry with its own CA, credentials from Ansible Vault
  oci.registry.registry_manifest_info:
    image: registry.internal:5000/base/debian:12
    ca_cert: /etc/pki/registry-ca.pem
    username: deploy
    password: "{{ vault_registry_password }}"
'''

RETURN = r'''
exists:
  description: Whether the image exists. V(false) for a missing tag, digest or repository.
  returned: always
  type: bool
  sample: true
reference:
  description: The normalized reference pinned to its digest, C(registry/repository@digest).
  returned: when exists
  type: str
  sample: docker.io/library/nginx@sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
image:
  description: The normalized reference that was asked for.
  returned: always
  type: str
  sample: docker.io/library/nginx:1.27
digest:
  description: Digest of the manifest the reference points at (for a multi-arch image, the index digest).
  returned: when exists
  type: str
  sample: sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f
media_type:
  description: Media type of that manifest.
  returned: when exists
  type: str
  sample: application/vnd.oci.image.index.v1+json
manifest:
  description: The manifest (or index) as JSON.
  returned: when exists
  type: dict
  sample: {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
size:
  description: Size in bytes of the manifest document itself.
  returned: when exists
  type: int
  sample: 1609
image_size:
  description:
    - Total size in bytes of the config and layers (compressed, as stored) of the single-platform image,
      that is the image itself or the child selected with O(platform).
    - V(null) for a multi-arch image without O(platform).
  returned: when exists
  type: int
  sample: 68157440
is_index:
  description: Whether the reference is a multi-arch index or manifest list.
  returned: when exists
  type: bool
  sample: true
platforms:
  description: The children of a multi-arch image (empty list for a single-platform image).
  returned: when exists
  type: list
  elements: dict
  contains:
    digest:
      description: Digest of the child manifest.
      type: str
    media_type:
      description: Media type of the child manifest.
      type: str
    size:
      description: Size of the child manifest in bytes.
      type: int
    platform:
      description: The child's platform as C(os/architecture[/variant]), or V(null) when it names none (attestations).
      type: str
  sample: [{"digest": "sha256:...", "media_type": "application/vnd.oci.image.manifest.v1+json", "size": 1234, "platform": "linux/arm64/v8"}]
platform_digest:
  description: Digest of the child manifest for O(platform) (the digest itself for a matching single-platform image).
  returned: when O(platform) is set and the image exists
  type: str
  sample: sha256:9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
platform_manifest:
  description: The manifest of the child selected with O(platform).
  returned: when O(platform) is set and the image exists
  type: dict
  sample: {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {}, "layers": []}
config:
  description: The image config (C(architecture), C(os), C(config), C(rootfs), C(history), C(created), ...).
  returned: when O(config=true) and the image exists
  type: dict
  sample: {"architecture": "arm64", "os": "linux", "config": {"Entrypoint": ["/docker-entrypoint.sh"]}}
ratelimit:
  description: Docker Hub's pull rate limit as reported by the registry, V(null) when the registry sends none.
  returned: when exists
  type: dict
  sample: {"limit": 100, "remaining": 76, "window_seconds": 21600, "source": "203.0.113.7"}
referrers:
  description: What refers to the image (the same list M(oci.registry.registry_tag) copies with O(referrers=true)).
  returned: when O(referrers=true) and the image exists
  type: list
  elements: dict
  contains:
    digest:
      description: Digest of the referring manifest.
      type: str
    artifact_type:
      description: Its artifact type; C(cosign/sig), C(cosign/att) or C(cosign/sbom) for cosign tags.
      type: str
    media_type:
      description: Its media type (V(null) for cosign tags, which are not read).
      type: str
    annotations:
      description: Its annotations.
      type: dict
    kind:
      description: V(referrer) (OCI 1.1 subject) or V(cosign) (a cosign tag).
      type: str
    tag:
      description: The cosign tag or the C(sha256-<hex>) fallback tag it was listed in; V(null) when listed by the referrers API.
      type: str
  sample: [{"digest": "sha256:77aa...", "artifact_type": "application/spdx+json", "kind": "referrer", "tag": null, "annotations": {}}]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image, parse_platform
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, run_module


def run(client, params, check_mode):
    ref = parse_image(params['image'])
    platform = parse_platform(params['platform'])
    result = {'changed': False, 'image': str(ref)}
    try:
        found = client.resolve(ref, platform=platform, content=True)
    except NotFoundError as exc:
        if 'PLATFORM_UNKNOWN' in exc.codes:
            raise
        return dict(result, exists=False)
    manifest = found.manifest
    image = found.image_manifest
    if params['config'] and image is None:
        raise InvalidInputError('%s is a multi-arch image (%s): set platform to choose whose config to read' % (
            ref, ', '.join(c['platform'] or '?' for c in manifest.children)))
    result.update(
        exists=True, digest=found.digest, reference='%s@%s' % (ref.name, found.digest), media_type=manifest.media_type,
        manifest=manifest.data, size=manifest.size, is_index=manifest.is_index, platforms=manifest.children,
        image_size=image.image_size if image else None,
        ratelimit=found.ratelimit,
    )
    if platform is not None:
        result.update(platform_digest=found.platform_digest, platform_manifest=image.data)
    if params.get('referrers'):
        result['referrers'] = client.referrers(ref, found.digest)
    if params['config']:
        result['config'] = found.config if found.config is not None else client.get_config(ref, image)
    return result


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            image={'type': 'str', 'required': True, 'aliases': ['name']},
            platform={'type': 'str'},
            config={'type': 'bool', 'default': False},
            referrers={'type': 'bool', 'default': False},
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
