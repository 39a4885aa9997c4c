#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_tags_info
short_description: List, filter and sort the tags of a repository on a container registry
version_added: 0.1.0
description:
  - Lists every tag of a repository straight from the registry over the OCI Distribution / Docker Registry HTTP API V2,
    following the registry's pages (C(Link) headers) until the end. No Docker daemon, nothing pulled.
  - Filters tags with regular expressions (O(match), O(exclude)), sorts them by name, version or creation time, and keeps
    the first O(limit). Named groups of O(match) come back per tag in RV(details), so structured tags
    (for example C(<datetime>-<user>-<hash>-<state>) from CI) can be read without further parsing.
  - Work happens in this order, so nothing is fetched that the answer does not need. List, filter,
    read creation times (only for O(sort=created)), sort, cut to O(limit), then resolve digests (only for O(digests=true)).
  - A missing repository is reported as RV(exists=false) with no tags, not as a failure. A repository whose tags
    were all deleted (the registry lists its C(tags) as V(null)) exists and has no tags.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
  - oci.registry._attributes.INFO_MODULE
options:
  repository:
    description:
      - The repository, C([registry[:port]/]repository), without tag or digest.
      - Without a registry the repository is on Docker Hub (C(nginx) is C(docker.io/library/nginx)).
    type: str
    required: true
    aliases: [name]
  match:
    description:
      - Keep only tags this Python regular expression finds (C(re.search), anywhere in the tag; anchor it with C(^) and C($)
        to match the whole tag).
      - Named groups (C((?P<name>...))) are returned per tag in RV(details), as strings (V(null) when the group did not take part).
        The names C(tag), C(digest) and C(created) are reserved.
      - An invalid expression fails the task with an error naming this option.
    type: str
  exclude:
    description:
      - Drop tags this Python regular expression finds (C(re.search)), after and regardless of O(match).
    type: str
  semver:
    description:
      - Keep only tags that are versions inside this range, after O(match) and O(exclude).
      - Comparators joined by spaces, all of which must hold, each an operator (C(>=), C(>), C(<=), C(<), C(=) or none for equal)
        and a version, for example C(>=1.26.0 <2.0.0). A partial version counts as its C(.0) (C(>=1.26) is C(>=1.26.0)).
        No C(~), C(^) or C(||).
      - Tags are read as for O(sort=semver) (an optional leading C(v), an optional pre-release); tags that are not versions
        (C(latest)) are never inside a range.
      - A pre-release tag (C(2.0.0-rc.1), C(1.27-alpine)) is kept only when a comparator names a pre-release of the same
        C(MAJOR.MINOR.PATCH), as npm's semver does. C(<2.0.0) does not keep C(2.0.0-rc.1); C(>=2.0.0-rc.1) does.
      - An invalid range fails the task with an error naming this option, before any request.
    type: str
  sort:
    description:
      - V(name) sorts by tag name (plain string order).
      - V(semver) sorts by version. Versions are C(MAJOR[.MINOR[.PATCH]][-PRERELEASE]) with an optional leading C(v) or C(V)
        (C(1.2.10) after C(1.2.9); C(1.2) ranks as C(1.2.0)); a pre-release comes before its release
        (C(2.0.0-rc.1) before C(2.0.0)) and pre-releases compare by semver 2.0 rules, so a suffix such as C(-alpine) counts as one.
        Tags that are not versions (C(latest), C(main)) come last in either order, by name.
      - V(created) sorts by the image's creation time, the C(created) field of its config; a multi-arch image uses its newest
        platform image. It costs one manifest GET per tag (on Docker Hub a GET counts against the pull limit) and one GET per
        distinct config, run concurrently (O(workers)). On Google registries (C(gcr.io), C(*.pkg.dev)) the times come from the
        tag listing itself, at no extra request. Tags without a known creation time come last in either order.
      - Ties keep name order.
    type: str
    choices: [name, semver, created]
    default: name
  order:
    description: V(asc) (oldest, lowest or A first) or V(desc) (newest, highest or Z first).
    type: str
    choices: [asc, desc]
    default: asc
  limit:
    description:
      - Return at most this many tags, the first ones after filtering and sorting (with O(order=desc), the newest or highest).
      - Digests (O(digests=true)) are only resolved for the tags returned.
    type: int
  digests:
    description:
      - Also resolve the digest each returned tag points at, with one HEAD request per tag, run concurrently (O(workers)).
        HEAD requests do not count against Docker Hub's pull limit.
      - With O(sort=created), or on Google registries, the digests are known anyway and no HEAD is sent.
    type: bool
    default: false
  workers:
    description: How many requests run at the same time for O(digests) and O(sort=created) (1 to 32).
    type: int
    default: 8
notes:
  - Registries list tags in no guaranteed order; the order returned is always the one O(sort) and O(order) ask for.
  - Request budget for a registry sending all tags in one page (distribution does) is one list request, plus with
    O(digests=true) one HEAD per returned tag, plus authentication (one ping, one token on token registries).
seealso:
  - module: oci.registry.registry_manifest_info
  - module: oci.registry.registry_search_info
'''

EXAMPLES = r'''
- name: Find the newest release of an image (versions only, no pre-releases)
  oci.registry.registry_tags_info:
    repository: registry.example.com/team/app
    match: '^v?\d+\.\d+\.\d+$'
    sort: semver
    order: desc
    limit: 1
    digests: true
  register: newest

- name: Deploy it pinned by digest
  ansible.builtin.debug:
    msg: "deploy registry.example.com/team/app@{{ newest.details[0].digest }} ({{ newest.tags[0] }})"
  when: newest.tags | length > 0

- name: The newest three 1.x releases from 1.26 on
  oci.registry.registry_tags_info:
    repository: registry.example.com/team/app
    semver: '>=1.26.0 <2.0.0'
    sort: semver
    order: desc
    limit: 3
  register: recent

- name: Read CI build tags such as 20240501T101500-alice-3f2a9c1-passed
  oci.registry.registry_tags_info:
    repository: registry.example.com/team/app
    match: '^(?P<datetime>\d{8}T\d{6})-(?P<user>[a-z0-9]+)-(?P<hash>[0-9a-f]{7,40})-(?P<state>passed|failed)$'
    exclude: '-failed$'
    sort: name
    order: desc
  register: builds

- name: Show who built the newest passing build
  ansible.builtin.debug:
    msg: "{{ builds.details[0].tag }} was built by {{ builds.details[0].user }} from {{ builds.details[0].hash }}"
  when: builds.details | length > 0

- name: List tags created before a date, oldest first, for cleanup
  oci.registry.registry_tags_info:
    repository: registry.example.com/team/app
    exclude: '^(latest|stable|main)$'
    sort: created
    digests: true
  register: by_age

- name: The tags to delete (created is UTC, YYYY-MM-DDTHH:MM:SSZ, so strings compare as dates)
  ansible.builtin.set_fact:
    old_tags: "{{ by_age.details | rejectattr('created', 'none') | selectattr('created', 'lt', '2024-06-01') | map(attribute='tag') | list }}"

'''

RETURN = r'''
exists:
  description: Whether the repository exists. V(false) when the registry answers that it does not (C(NAME_UNKNOWN), 404).
  returned: always
  type: bool
  sample: true
repository:
  description: The normalized repository, C(registry/repository).
  returned: always
  type: str
  sample: registry.example.com/team/app
tags:
  description: The tag names, filtered, sorted and cut to O(limit).
  returned: always
  type: list
  elements: str
  sample: ["2.1.0", "2.0.1", "2.0.0", "2.0.0-rc.1"]
details:
  description: One entry per tag of RV(tags), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
    digest:
      description:
        - The digest the tag points at, with O(digests=true), O(sort=created) or on Google registries; else V(null).
      type: str
    created:
      description:
        - When the image was created, UTC, C(YYYY-MM-DDTHH:MM:SSZ), with O(sort=created) or on Google registries; else V(null).
        - V(null) also for an image whose config has no C(created).
      type: str
  sample:
    - {"tag": "20240501T101500-alice-3f2a9c1-passed", "digest": "sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f",
       "created": "2024-05-01T10:15:00Z", "datetime": "20240501T101500", "user": "alice", "hash": "3f2a9c1", "state": "passed"}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._errors import NotFoundError
from ansible_collections.oci.registry.plugins.module_utils.model._options import DEFAULTS, check_workers, parse_repository
from ansible_collections.oci.registry.plugins.module_utils.operations._pool import bounded_map
from ansible_collections.oci.registry.plugins.module_utils.operations._tags import (
    ORDERS, SORTS, SemverRange, check_limit, compile_pattern, format_created, rank_tags, select_tags,
)
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, run_module


def run(client, params, check_mode):
    ref = parse_repository(params['repository'])
    match, exclude = compile_pattern(params['match'], 'match'), compile_pattern(params['exclude'], 'exclude')
    semver = SemverRange.parse(params['semver'], 'semver')
    limit, workers = check_limit(params['limit']), check_workers(params['workers'])
    result = {'changed': False, 'repository': ref.name}
    try:
        listing = client.list_tags_detailed(ref)
    except NotFoundError:
        return dict(result, exists=False, tags=[], details=[])
    selected = select_tags(listing.tags, match, exclude, semver)
    selected, digests, created = rank_tags(client, ref, listing, selected, params['sort'], params['order'], limit, workers)
    if params['digests']:
        unknown = [entry['tag'] for entry in selected if entry['tag'] not in digests]
        digests.update(zip(unknown, bounded_map(lambda tag: client.head_manifest(ref.with_tag(tag)).digest, unknown, workers)))
    details = [dict({'tag': e['tag'], 'digest': digests.get(e['tag']), 'created': format_created(created.get(e['tag']))}, **e)
               for e in selected]
    return dict(result, exists=True, tags=[entry['tag'] for entry in details], details=details)


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            repository={'type': 'str', 'required': True, 'aliases': ['name']},
            match={'type': 'str'},
            exclude={'type': 'str'},
            semver={'type': 'str'},
            sort={'type': 'str', 'default': DEFAULTS['sort'], 'choices': list(SORTS)},
            order={'type': 'str', 'default': DEFAULTS['order'], 'choices': list(ORDERS)},
            limit={'type': 'int'},
            digests={'type': 'bool', 'default': False},
            workers={'type': 'int', 'default': DEFAULTS['workers']},
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
