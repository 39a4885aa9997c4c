# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: reference
short_description: Split a container image reference into registry, repository, tag and digest
version_added: 0.1.0
author:
  - oci.registry contributors
description:
  - Parse an image reference C([registry[:port]/]repository[:tag][@digest]) with the same grammar the collection's
    modules use, and return its parts and its normalized form.
  - Unlike C(image.split(':')), this knows that C(localhost:5000/app) has no tag, that C(app@sha256:...) has a digest,
    that C(nginx) means C(docker.io/library/nginx), and that host names are case-insensitive.
  - An invalid reference fails the task with a message that names the value and says what is accepted.
    Use the P(oci.registry.reference#test) test to check a value without failing.
positional: _input
options:
  _input:
    description: The image reference to parse.
    type: str
    required: true
  default_tag:
    description:
      - The tag to assume when the reference has neither a tag nor a digest, as C(docker pull) does.
      - Set to V(null) to get RV(_value.tag=null) for such references instead.
    type: str
    default: latest
seealso:
  - plugin: oci.registry.reference
    plugin_type: test
  - ref: ansible_collections.oci.registry.docsite.guide_connecting
    description: How references are written and normalized.
"""

EXAMPLES = r"""
- name: Split a reference with a registry port and a digest
  ansible.builtin.debug:
    msg: "{{ image | oci.registry.reference }}"
  vars:
    image: "localhost:5000/team/app:1.4@sha256:{{ 'a' * 64 }}"
  # registry: localhost:5000, repository: team/app, tag: '1.4', digest: sha256:aaa...,
  # name: localhost:5000/team/app, normalized: localhost:5000/team/app:1.4@sha256:aaa...

- name: Docker Hub short names are expanded
  ansible.builtin.assert:
    that:
      - (image | oci.registry.reference).normalized == 'docker.io/library/nginx:latest'
      - (image | oci.registry.reference).repository == 'library/nginx'
  vars:
    image: nginx

- name: Keep the tag empty when none is given
  ansible.builtin.debug:
    msg: "{{ 'ghcr.io/org/app' | oci.registry.reference(default_tag=None) }}"

- name: The tags of several images, in a loop-free way
  ansible.builtin.debug:
    msg: "{{ images | map('oci.registry.reference') | map(attribute='tag') | list }}"
  vars:
    images:
      - registry.example.com/team/app:2.0
      - registry.example.com:8443/team/worker:2.0-rc.1
"""

RETURN = r"""
_value:
  description: The parts of the reference.
  type: dict
  contains:
    registry:
      description: Lower-case C(host[:port]) of the registry; C(docker.io) for Docker Hub.
      type: str
      sample: localhost:5000
    repository:
      description: The repository path without the registry; Docker Hub official images get C(library/).
      type: str
      sample: team/app
    tag:
      description: The tag, O(default_tag) when none is given and there is no digest, else V(null).
      type: str
      sample: "1.4"
    digest:
      description: The digest, or V(null) when the reference has none.
      type: str
      sample: sha256:6b3cb4dd0d4a6e5e8b4b2a2fd6c7e6d5c5c2b3e9a3c1f0e9d8c7b6a5f4e3d2c1
    name:
      description: C(registry/repository), the reference without tag and digest.
      type: str
      sample: localhost:5000/team/app
    normalized:
      description: The full normalized reference, as the modules return it.
      type: str
      sample: localhost:5000/team/app:1.4
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference


def parse_reference(text: t.Any, default_tag: str | None = "latest") -> dict[str, str | None]:
    """The filter: a dict of the parts of ``text``; AnsibleFilterError naming the value if it is invalid."""
    try:
        ref = ImageReference.parse(text, default_tag=default_tag or None)
    except ValueError as exc:
        raise AnsibleFilterError(f"oci.registry.reference: {exc}") from None
    return {
        "registry": ref.registry,
        "repository": ref.repository,
        "tag": ref.tag,
        "digest": ref.digest,
        "name": ref.name,
        "normalized": str(ref),
    }


class FilterModule:
    """oci.registry's reference filter."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"reference": parse_reference}
