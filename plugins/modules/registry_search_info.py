#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_search_info
short_description: Find repositories on a container registry
version_added: 0.1.0
description:
  - On Docker Hub, asks Docker Hub's search API (the one C(docker search) uses) for repositories matching O(query),
    with their description, stars and official flag. RV(source) is V(hub_search).
  - On every other registry, pages through the registry's catalog (C(/v2/_catalog)) and keeps the repository names that
    contain O(query). RV(source) is V(catalog). Paging stops as soon as O(limit) repositories are found.
  - The catalog is often restricted. A registry that refuses it (401 or 403; for example a token registry whose user lacks
    C(registry:catalog:*)) fails the task with an error saying the catalog is not available to these credentials; one that
    has none (404 or 405, for example GHCR) with an error saying the registry offers no catalog.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
  - oci.registry._attributes.INFO_MODULE
options:
  registry:
    description:
      - The registry host, C(host[:port]), such as V(registry.example.com), V(127.0.0.1:5000) or V(docker.io) (Docker Hub).
      - Docker Hub is recognized by any of its names (V(docker.io), V(index.docker.io), V(registry-1.docker.io)).
      - No scheme, no path and no trailing C(/), as in every option that names a registry.
    type: str
    default: docker.io
  query:
    description:
      - On Docker Hub, the search term, as C(docker search) takes it (required there).
      - On other registries, a case-insensitive substring of the repository name (V(team/) finds every repository under C(team/)).
        It is not a regular expression; filter RV(repositories) further with Jinja (C(select('search', ...))) if needed.
      - Empty or unset on other registries, every repository is returned.
    type: str
  limit:
    description:
      - Return at most this many repositories; paging stops as soon as they are found.
      - Unset, every matching repository of a catalog is returned; on Docker Hub, whose search matches very many, 25
        (the C(docker search) default).
    type: int
  page_size:
    description:
      - How many names to ask for per catalog page (C(n)). The distribution registry refuses more than 1000 (400
        C(PAGINATION_NUMBER_INVALID)); the module then asks again with 1000, then 100, then the registry's own page size.
      - On Docker Hub, the search API's page size is O(limit) up to 100.
    type: int
    default: 1000
notes:
  - Request budget on a catalog is one request per page of O(page_size) names (distribution sends at most 1000 per page),
    plus authentication (one ping, and one token on token registries). On Docker Hub, one request per page of up to
    100 results, and the search API needs no credentials.
seealso:
  - module: oci.registry.registry_tags_info
'''

EXAMPLES = r'''
- name: Find official nginx images on Docker Hub
  oci.registry.registry_search_info:
    query: nginx
    limit: 5
  register: hub

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.repository }}: {{ item.description }} ({{ item.star_count }} stars)"
  loop: "{{ hub.repositories | selectattr('is_official') }}"

- name: Every repository of a team on a self-hosted registry (needs catalog access)
  oci.registry.registry_search_info:
    registry: registry.example.com
    query: team/
    username: admin
    password: "{{ vault_registry_admin_password }}"
  register: team

- name: Find the newest release tag of each of them
  oci.registry.registry_tags_info:
    repository: "{{ item.repository }}"
    match: '^v?\d+\.\d+\.\d+$'
    sort: semver
    order: desc
    limit: 1
    username: admin
    password: "{{ vault_registry_admin_password }}"
  loop: "{{ team.repositories }}"
  register: newest
'''

RETURN = r'''
source:
  description: Where the names came from, V(hub_search) (Docker Hub's search API) or V(catalog) (the registry's C(/v2/_catalog)).
  returned: always
  type: str
  sample: catalog
registry:
  description: The normalized registry host.
  returned: always
  type: str
  sample: registry.example.com
repositories:
  description: The repositories found, in the order the registry gave them.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The repository name as the registry gave it (C(team/app); on Docker Hub C(nginx) for official images).
      type: str
    repository:
      description: The normalized C(registry/repository), ready for O(oci.registry.registry_tags_info#module:repository).
      type: str
    description:
      description: The repository's short description (Docker Hub only).
      type: str
    star_count:
      description: Its stars (Docker Hub only).
      type: int
    is_official:
      description: Whether it is a Docker official image (Docker Hub only).
      type: bool
    is_automated:
      description: Docker Hub's deprecated automated-build flag, always V(false) nowadays (Docker Hub only).
      type: bool
  sample:
    - {"name": "nginx", "repository": "docker.io/library/nginx", "description": "Official build of Nginx.", "star_count": 20000,
       "is_official": true, "is_automated": false}
    - {"name": "team/app", "repository": "registry.example.com/team/app"}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_registry
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import DOCKER_HUB
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, run_module

HUB_DEFAULT_LIMIT = 25


def run(client, params, check_mode):
    registry = parse_registry(params['registry'])
    query, limit = params['query'] or '', params['limit']
    if limit is not None and limit < 1:
        raise InvalidInputError('limit must be 1 or more (leave it unset for every match), got %s' % limit)
    if params['page_size'] < 1:
        raise InvalidInputError('page_size must be 1 or more, got %s' % params['page_size'])
    result = {'changed': False, 'registry': registry.registry}
    if client.vendors.is_docker_hub(registry.registry):
        if not query:
            raise InvalidInputError('query is required on Docker Hub: it has no catalog, only a search API that needs a search term')
        found = client.search_docker_hub(registry, query, limit or HUB_DEFAULT_LIMIT)
        repositories = [dict(entry, repository=_normalized(registry, entry['name'])) for entry in found]
        return dict(result, source='hub_search', repositories=repositories)
    repositories = []
    wanted = query.lower()
    for name in client.iter_catalog(registry, params['page_size']):
        if wanted in name.lower():
            repositories.append({'name': name, 'repository': '%s/%s' % (registry.registry, name)})
            if limit and len(repositories) >= limit:
                break
    return dict(result, source='catalog', repositories=repositories)


def _normalized(registry, name):
    try:
        return ImageReference.parse_repository('%s/%s' % (registry.registry, name)).name
    except ValueError:
        return '%s/%s' % (registry.registry, name)


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            registry={'type': 'str', 'default': DOCKER_HUB},
            query={'type': 'str'},
            limit={'type': 'int'},
            page_size={'type': 'int', 'default': 1000},
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
