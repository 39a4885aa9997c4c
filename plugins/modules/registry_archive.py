#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_archive
short_description: Export images from a registry to an OCI image layout archive, and import them into a registry
version_added: 0.1.0
description:
  - Moves container images through a file, for air-gapped transfer, straight over the OCI Distribution / Docker Registry
    HTTP API V2, with no Docker daemon and no CLI binaries.
  - O(state=exported) writes the images to an OCI image layout (C(oci-layout), C(index.json), C(blobs/sha256/...)),
    as a C(.tar) file, a gzip-compressed C(.tar.gz) / C(.tgz) file, or a directory. Each image is recorded in C(index.json) with its tag as
    C(org.opencontainers.image.ref.name) (so C(skopeo copy oci-archive:FILE:TAG) finds it) and its full reference
    as C(io.containerd.image.name) (as containerd and nerdctl write it).
  - O(state=imported) pushes images of such a layout (also one written by skopeo, crane, regctl or nerdctl) to a registry
    with the same digests.
  - Multi-arch images (OCI image index, Docker manifest list) keep every child, children before the index. Manifests are
    copied as their exact bytes, so digests never change (unless O(platforms) leaves out children of an index).
  - Blobs stream in chunks with bounded memory and are verified against their digests as they move. A C(.tar) is written
    to a temp file in the same directory and renamed over O(path) only when complete; blobs already in a directory
    layout are skipped. On import every blob of the archive is verified before anything is pushed, so a corrupt archive
    pushes nothing; blobs the registry already has are skipped.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
options:
  state:
    description:
      - V(exported) writes O(images) from their registries into O(path).
      - V(imported) pushes images from O(path) to a registry.
    type: str
    choices: [exported, imported]
    required: true
  path:
    description:
      - The OCI image layout. A name ending in C(.tar) is a tar archive, one ending in C(.tar.gz) or C(.tgz) (any case) is the
        same tar compressed as one gzip stream; anything else is a directory layout. Export writes what the name says and
        import reads either kind of tar.
      - On export a C(.tar) is replaced as a whole and then holds exactly O(images); a directory keeps the images
        it has and gets O(images) added (an image already there under the same reference is repointed).
    type: path
    required: true
  images:
    description:
      - For O(state=exported), the images to export, as C([registry[:port]/]repository:tag[@digest]). Each needs a tag, since
        the archive records images under their tags.
      - For O(state=imported), which archived images go where. Each item is either a string naming an archived image (its
        tag or its recorded full reference), pushed under its recorded repository on O(registry); or a dict with
        C(source) (the archived image, as in the string form) and C(target) (the full reference to push it to).
      - For O(state=imported) the default is every image of the archive, under its recorded repository on O(registry).
    type: list
    elements: raw
  registry:
    description:
      - For O(state=imported), the registry (C(host[:port])) to push to. Images keep the repository path and tag recorded
        in the archive (C(io.containerd.image.name)).
      - Not needed when every item of O(images) has a C(target).
    type: str
  platforms:
    description:
      - Only these platforms of multi-arch images, as C(os/architecture[/variant]) (V(linux/amd64), V(linux/arm64/v8)).
        Default is every platform.
      - An index that loses children this way is written as a new index listing only the kept children, so its digest
        changes; children and single-platform images keep theirs. Buildx attestations of kept children are kept.
      - A platform that an index does not have fails the task before anything is written.
    type: list
    elements: str
  referrers:
    description:
      - Also move what refers to each image (OCI referrers such as signatures and SBOMs, and cosign C(.sig)/C(.att)/C(.sbom) tags).
      - Referrers are stored in the archive's C(index.json) without a tag and are found again through their subject on import.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the registry and the archive and reports what would be written or pushed; writes no file and sends no write.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row with the same input, the second run reports no change.
    support: full
    details:
      - Importing images the registry already has is V(changed=false) with one HEAD per image.
      - Exporting into a directory layout that holds everything, or into a C(.tar) (or C(.tar.gz), C(.tgz)) that holds exactly
        these images at the same digests, is V(changed=false) and writes nothing.
notes:
  - A C(.tar) is not compressed. A C(.tar.gz) or C(.tgz) is written through gzip (level 6) as it goes, with the same bounded
    memory; since layers are mostly compressed already it is rarely much smaller, and it costs CPU time on export.
  - A compressed archive has no random access, so reading one (import, and the check that makes an unchanged export rerun
    write nothing) decompresses it from the start again whenever a read goes backwards; for large archives prefer C(.tar).
seealso:
  - module: oci.registry.registry_tag
    description: Copy images between registries directly when both are reachable.
  - name: OCI image layout specification
    description: The on-disk format written and read here.
    link: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
'''

EXAMPLES = r'''
# Mirror a release into an air-gapped network: export where the source registry is reachable,
# carry the file across, import on the other side (examples/archive_transfer.yml in the
# collection has both sides as plays).
- name: Write the release images to one archive
  oci.registry.registry_archive:
    state: exported
    path: /srv/transfer/release-1.4.2.tar
    images:
      - registry.example.com/team/app:1.4.2
      - registry.example.com/team/worker:1.4.2
    platforms: [linux/amd64, linux/arm64]
    referrers: true
  register: exported

- name: Show what the archive holds
  ansible.builtin.debug:
    msg: "{{ exported.images | map(attribute='reference') | list }}: {{ exported.blobs }} blobs, {{ exported.bytes }} bytes"

- name: Push every image of the archive under its repository on the internal registry
  oci.registry.registry_archive:
    state: imported
    path: /srv/transfer/release-1.4.2.tar
    registry: registry.internal:5000
    ca_cert: /etc/pki/registry-ca.pem
    username: mirror
    password: "{{ vault_mirror_password }}"
  register: imported

- name: Pin the deployment to the imported digest
  ansible.builtin.debug:
    msg: "{{ imported.images[0].reference }}@{{ imported.images[0].digest }}"

- name: Import one image of an archive written by skopeo under a new name
  oci.registry.registry_archive:
    state: imported
    path: /tmp/nginx.tar
    images:
      - source: "1.27"
        target: registry.internal:5000/base/nginx:1.27

- name: Keep a directory layout in sync (reruns only add what is new)
  oci.registry.registry_archive:
    state: exported
    path: /srv/mirror/layout
    images: "{{ wanted_images }}"
'''

RETURN = r'''
images:
  description: Every image exported or imported.
  returned: always
  type: list
  elements: dict
  contains:
    reference:
      description: For export, the image as recorded in the archive; for import, the target it was pushed to.
      type: str
      sample: registry.internal:5000/team/app:1.4.2
    digest:
      description: The digest of the manifest (or index) now in the archive or on the registry.
      type: str
      sample: sha256:9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
    platforms:
      description: The platforms of a multi-arch image (C(null) for children without one, such as attestations); empty for a single-platform image.
      type: list
      elements: str
      sample: [linux/amd64, linux/arm64/v8]
    changed:
      description: Whether this image was (or in check mode would be) written.
      type: bool
      sample: true
  sample: [{"reference": "registry.internal:5000/team/app:1.4.2", "digest": "sha256:9a1b...", "platforms": ["linux/amd64"], "changed": true}]
blobs:
  description: Number of blobs (configs and layers) written to the archive or pushed to the registry (in check mode, that would be).
  returned: always
  type: int
  sample: 12
bytes:
  description: Bytes of those blobs.
  returned: always
  type: int
  sample: 73400320
path:
  description: The archive or layout.
  returned: always
  type: str
  sample: /srv/transfer/release-1.4.2.tar
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.operations._archive import export_images, import_images
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, run_module


def run(client, params, check_mode):
    if params['state'] == 'exported':
        return export_images(client, params['path'], params['images'], params['platforms'], params['referrers'], check_mode)
    return import_images(client, params['path'], params['images'], params['registry'], params['platforms'], params['referrers'], check_mode)


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            state={'type': 'str', 'required': True, 'choices': ['exported', 'imported']},
            path={'type': 'path', 'required': True},
            images={'type': 'list', 'elements': 'raw'},
            registry={'type': 'str'},
            platforms={'type': 'list', 'elements': 'str'},
            referrers={'type': 'bool', 'default': False},
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
