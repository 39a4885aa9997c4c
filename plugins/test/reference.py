# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: reference
short_description: Whether a string is a valid container image reference
version_added: 0.1.0
author:
  - oci.registry contributors
description:
  - True when the value is a string of the form C([registry[:port]/]repository[:tag][@digest]) that the collection's
    modules accept, false for anything else (including non-strings). It never fails.
  - Use the P(oci.registry.reference#filter) filter to split a valid reference into its parts.
positional: _input
options:
  _input:
    description: The value to check.
    type: raw
    required: true
seealso:
  - plugin: oci.registry.reference
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse bad image names before touching any registry
  ansible.builtin.assert:
    that: image is oci.registry.reference
    fail_msg: "{{ image }} is not an image reference: [registry[:port]/]repository[:tag][@digest]"
  vars:
    image: registry.example.com:5000/team/app:1.4

- name: Keep only the valid references of a list
  ansible.builtin.debug:
    msg: "{{ candidates | select('oci.registry.reference') | list }}"
  vars:
    candidates:
      - ghcr.io/org/app:2.0
      - https://ghcr.io/org/app   # a URL, not a reference
      - Team/App                  # upper case is not allowed in a repository
"""

RETURN = r"""
_value:
  description: Whether the value is a valid image reference.
  type: bool
"""

import typing as t

from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference


def is_reference(value: t.Any) -> bool:
    """The test: True if ``value`` parses with the collection's reference grammar."""
    try:
        ImageReference.parse(value)
    except ValueError:
        return False
    return True


class TestModule:
    """oci.registry's reference test."""

    def tests(self) -> dict[str, t.Callable[..., bool]]:
        return {"reference": is_reference}
