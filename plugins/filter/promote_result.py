# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: promote_result
short_description: Join promoted tags with their read-back digests and say which targets are verified
version_added: 0.1.0
author:
  - oci.registry contributors
description:
  - Takes the registered results of a loop of M(oci.registry.registry_tag) over images, and the registered results of a
    loop of M(oci.registry.registry_manifest_info) that reads every target back, and returns one summary with, per
    target, whether it now has its source's digest.
  - This is how the P(oci.registry.promote#role) role builds its C(promote_result) fact.
  - A target is V(true) (C(verified)) when it was read back with its source's digest, V(false) when it was read back with
    another one, and V(null) when it was not read back (a skipped read-back, as in check mode for a target that would
    change and so has not moved yet).
positional: _input, read_back
options:
  _input:
    description:
      - The C(results) of the registered M(oci.registry.registry_tag) loop, one per image.
    type: list
    elements: dict
    required: true
  read_back:
    description:
      - The C(results) of the registered M(oci.registry.registry_manifest_info) loop, one per target, in the order of the
        images and of their tags, as a loop over C(tagged.results | subelements('results')) gives them.
    type: list
    elements: dict
    required: true
seealso:
  - module: oci.registry.registry_tag
  - module: oci.registry.registry_manifest_info
  - plugin: oci.registry.promote
    plugin_type: role
"""

EXAMPLES = r"""
- name: Promote
  oci.registry.registry_tag:
    source: "{{ item.source }}"
    tags: "{{ item.tags }}"
  loop:
    - source: registry.example.com/team/app:1.4.2-rc.1
      tags: ["1.4.2", latest]
  register: tagged

- name: Read every target back
  oci.registry.registry_manifest_info:
    image: "{{ item.1.target }}"
  loop: "{{ tagged.results | subelements('results') }}"
  when: not (ansible_check_mode and item.1.changed)
  register: read_back

- name: Fail unless every target has its source's digest
  ansible.builtin.assert:
    that: summary.images | map(attribute='targets') | flatten | selectattr('verified', 'false') | list | length == 0
  vars:
    summary: "{{ tagged.results | oci.registry.promote_result(read_back.results) }}"
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    changed:
      description: Whether any target was (or in check mode would be) written.
      type: bool
      sample: true
    moved:
      description: The target references that were (or in check mode would be) written, in order.
      type: list
      elements: str
      sample: [registry.example.com/team/app:1.4.2]
    images:
      description: One entry per image.
      type: list
      elements: dict
      contains:
        source:
          description: The normalized source reference.
          type: str
          sample: registry.example.com/team/app:1.4.2-rc.1
        digest:
          description: The source's digest.
          type: str
          sample: sha256:6b3cb4dd0d4a6e5e8b4b2a2fd6c7e6d5c5c2b3e9a3c1f0e9d8c7b6a5f4e3d2c1
        referrers:
          description: The referrers M(oci.registry.registry_tag) considered for the image.
          type: list
          elements: dict
          sample: []
        targets:
          description: One entry per target.
          type: list
          elements: dict
          contains:
            target:
              description: The target reference.
              type: str
              sample: registry.example.com/team/app:1.4.2
            previous_digest:
              description: Its digest before, or V(null) when it did not exist.
              type: str
              sample: null
            digest:
              description: The digest it points at now (in check mode, would point at).
              type: str
              sample: sha256:6b3cb4dd0d4a6e5e8b4b2a2fd6c7e6d5c5c2b3e9a3c1f0e9d8c7b6a5f4e3d2c1
            changed:
              description: Whether it was (or in check mode would be) written.
              type: bool
              sample: true
            verified:
              description: V(true) when read back with the source's digest, V(false) with another one, V(null) when not read.
              type: bool
              sample: true
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.plugin_utils._promote import verdict


def promote_result(tagged: t.Any, read_back: t.Any) -> t.Dict[str, t.Any]:
    """The filter: the summary; AnsibleFilterError when the two lists do not fit together."""
    try:
        return verdict(tagged, read_back)
    except ValueError as exc:
        raise AnsibleFilterError('oci.registry.promote_result: %s' % exc) from None


class FilterModule:
    """oci.registry's promote_result filter."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        return {'promote_result': promote_result}
