# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: retention_plan
short_description: Decide which tags of a repository go under a retention policy, and why
version_added: 0.1.0
author:
  - oci.registry contributors
description:
  - Takes the RV(oci.registry.registry_tags_info#module:details) of one repository and a retention policy, and returns one
    row per tag that O(match) finds, newest first, with the decision (V(keep), V(delete) or V(blocked)) and the reason.
    It sends no request; delete the rows whose action is V(delete) with M(oci.registry.registry_repo_delete).
  - This is the policy of the P(oci.registry.retention#role) role.
  - A tag goes only when all of these hold. It does not match any of O(protect). Its creation time is known. It is not
    among the O(keep) newest candidates (when O(keep) is set). It is older than O(max_age_days) days (when that is set).
  - Tags on one image go together on registries that delete by digest only (distribution 2.x, Harbor), so the plan is
    made as such a registry would delete. A tag that would go but shares its image with a protected tag is V(blocked)
    and stays, with or without O(force). One that shares its image with another tag that stays (kept by the rules, not
    found by O(match), or of unknown age) is V(blocked) too, unless O(force) is set; then those tags go with it.
  - Tags that O(match) does not find get no row, but they count for the rule above, so list every tag of the
    repository (no C(match) on M(oci.registry.registry_tags_info)).
positional: _input
options:
  _input:
    description:
      - The RV(oci.registry.registry_tags_info#module:details) list of one repository, each with C(tag), C(digest) and
        C(created) (an RFC 3339 time, or V(null) when unknown). Its order does not matter.
    type: list
    elements: dict
    required: true
  keep:
    description:
      - Keep this many of the newest candidate tags (found by O(match), not protected), whatever their age.
      - V(null) means no count rule; then O(max_age_days) must be set.
    type: int
  max_age_days:
    description:
      - Only tags whose image is older than this many days (from its C(created) time) may go.
      - V(null) means no age rule; then O(keep) must be set.
    type: float
  match:
    description:
      - Only tags this Python regular expression finds (C(re.search)) are considered; V(null) considers every tag.
    type: str
  protect:
    description:
      - Tags any of these Python regular expressions finds (C(re.search)) are never deleted.
    type: list
    elements: str
    default: []
  force:
    description:
      - Let a tag that goes take along the unprotected tags on the same image (they are then deleted too). Protected
        tags are never taken along.
    type: bool
    default: false
  now:
    description:
      - The time ages are measured from, as a datetime, epoch seconds or an RFC 3339 string. V(null) means now.
    type: raw
seealso:
  - module: oci.registry.registry_tags_info
  - module: oci.registry.registry_repo_delete
  - plugin: oci.registry.retention
    plugin_type: role
"""

EXAMPLES = r"""
- name: List every tag of the repository with its digest and creation time
  oci.registry.registry_tags_info:
    repository: registry.example.com/team/app
    sort: created
    order: desc
  register: listing

- name: Decide, keeping the 10 newest builds and every release
  ansible.builtin.set_fact:
    plan: "{{ listing.details | oci.registry.retention_plan(keep=10, match='^build-', protect=['^v?[0-9]+[.][0-9]+[.][0-9]+$']) }}"

- name: Show the tags that stay because they share an image with a protected tag
  ansible.builtin.debug:
    msg: "{{ plan | selectattr('action', 'eq', 'blocked') | map(attribute='reason') | list }}"

- name: Delete the tags that go
  oci.registry.registry_repo_delete:
    repository: registry.example.com/team/app
    tags: "{{ plan | selectattr('action', 'eq', 'delete') | map(attribute='tag') | list }}"
    # true only when the plan itself takes collateral tags along (only possible with force=true)
    force: "{{ plan | map(attribute='collateral') | flatten | length > 0 }}"
"""

RETURN = r"""
_value:
  description: One row per tag that O(match) finds, newest first; tags without a creation time come last.
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
      sample: build-41
    digest:
      description: The digest it points at, as listed.
      type: str
      sample: sha256:6b3cb4dd0d4a6e5e8b4b2a2fd6c7e6d5c5c2b3e9a3c1f0e9d8c7b6a5f4e3d2c1
    created:
      description: The creation time of its image, as listed, or V(null).
      type: str
      sample: "2024-03-01T10:00:00Z"
    age_days:
      description: Its age in days from O(now), rounded to one decimal, or V(null) when the creation time is unknown.
      type: float
      sample: 92.5
    rank:
      description: Its place among the candidates (neither protected nor of unknown age), newest first from 1, or V(null).
      type: int
      sample: 12
    action:
      description:
        - V(keep), V(delete), or V(blocked) (it would go by the rules, but shares its image with a tag that stays, named in
          RV(_value[].reason); it is kept).
      type: str
      choices: [keep, delete, blocked]
      sample: delete
    reason:
      description: Why, in words.
      type: str
      sample: not among the 10 newest (#12), older than 30 days
    collateral:
      description:
        - For a V(delete) with O(force), the tags O(match) does not find that go with it because they share its image
          (listed tags that go along have a V(delete) row of their own). Empty otherwise.
      type: list
      elements: str
      sample: []
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.oci.registry.plugins.plugin_utils._retention import Policy, plan


def retention_plan(details: t.Any, keep: t.Any = None, max_age_days: t.Any = None, match: t.Any = None, protect: t.Any = None,
                   force: t.Any = False, now: t.Any = None) -> t.List[t.Dict[str, t.Any]]:
    """The filter: the plan rows; AnsibleFilterError naming the option when an input is unusable."""
    try:
        return plan(details, Policy.build(keep=keep, max_age_days=max_age_days, match=match, protect=protect, force=force, now=now))
    except ValueError as exc:
        raise AnsibleFilterError('oci.registry.retention_plan: %s' % exc) from None


class FilterModule:
    """oci.registry's retention_plan filter."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        return {'retention_plan': retention_plan}
