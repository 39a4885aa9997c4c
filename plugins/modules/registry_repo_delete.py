#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_repo_delete
short_description: Delete tags, manifests or a whole repository on a registry, without collateral damage
version_added: 0.1.0
description:
  - Makes the named tags and digests of one repository absent, straight over the registry API (or the vendor API where the
    registry API cannot delete). Asking to delete what is already gone reports C(changed=false); naming nothing fails.
  - "Deleting a manifest by digest deletes B(every) tag that points at it. This module deletes what was asked and nothing else:
    when a tag can only be deleted through its digest and other tags point at the same digest, it fails and lists them in
    its message, unless O(force=true)."
  - "How a tag is deleted depends on the registry. Registries that support the OCI tag DELETE (distribution 3, Quay, Zot,
    GitLab) delete only that tag; the module learns whether they do from the answer to the first tag DELETE and remembers it
    for the rest of the task. Registries that delete by digest only (distribution 2.x answers 400 C(DIGEST_INVALID), Harbor
    400 C(UNSUPPORTED)) get the tag resolved to its digest, the other tags on that digest checked, and the manifest deleted by
    digest. Google Artifact Registry and GCR untag, then delete the manifest once no tag is left on it. Docker Hub deletes
    through its Hub API (C(hub.docker.com)) with a Hub token from O(username) and O(password) (or O(token))."
  - When a manifest deleted by digest is a multi-arch index, its children are deleted after it, unless a tag or another index
    left in the repository still uses them.
  - "A manifest that a tagged index left in the repository lists as a child (one platform of a multi-arch image) is not deleted
    by digest, whether named in O(digests) or reached through a tag on a registry that deletes by digest only: every user of
    that index would fail to pull that platform. The task fails naming the index, its tags and the child, unless O(force=true).
    Deleting the index too (naming its tags) is fine. Finding those indexes costs one GET per tagged index, and only when a
    manifest that is not itself an index is to be deleted by digest."
  - Deleting frees no storage by itself; blob garbage collection is the registry operator's job.
  - With token auth the C(delete) scope is asked for only for the DELETE requests; a user allowed to pull only fails with a
    permission error before anything is deleted.
author:
  - oci.registry maintainers (@oci-registry)
extends_documentation_fragment:
  - oci.registry._registry
  - oci.registry._attributes
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reports what would be deleted and sends no DELETE or PUT request.
      - A registry's support for the OCI tag DELETE can only be learned by sending one, so check mode predicts what a registry
        that deletes by digest only would do (collateral tags listed, refused without O(force)).
      - A child of an index that stays is refused (or, with O(force=true), reported in RV(msg)) in check mode as in a real run.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row with the same input, the second run reports no change.
    support: full
options:
  repository:
    description:
      - The repository, C([registry[:port]/]path) without tag or digest (C(registry.example.com/team/app)).
      - Without a registry it is on Docker Hub (C(team/app) is C(docker.io/team/app)).
    type: str
    required: true
    aliases: [name]
  tags:
    description:
      - Tags to delete. A tag that does not exist is already absent (listed in RV(already_absent)).
    type: list
    elements: str
    default: []
  digests:
    description:
      - Manifests to delete by digest (C(sha256:...)), with every tag that points at them.
      - Tags on such a digest that are not also listed in O(tags) are collateral tags and need O(force=true).
      - Not available on Docker Hub, whose API deletes tags and repositories only.
    type: list
    elements: str
    default: []
  all_tags:
    description:
      - Delete the whole repository; the only way to do so, and never combined with O(tags) or O(digests).
      - On a V2 registry every tag and every manifest they point at is deleted (indexes before their children); manifests
        no tag points at cannot be listed over the registry API and stay. Google also deletes untagged manifests. On Docker
        Hub the repository itself is deleted through the Hub API.
    type: bool
    default: false
  force:
    description:
      - Also delete the collateral tags, that is tags not named in O(tags) that point at a manifest which has to be
        deleted by digest. They are reported in RV(collateral_tags).
      - Also delete a manifest that a tagged index left in the repository lists as a child; RV(msg) names the index, which
        then fails to pull that platform.
      - B(Warning:) with O(force=true) deleting one tag can delete other tags that users still pull, for example C(latest)
        or a release tag on the same image. Run in check mode first and read RV(collateral_tags).
    type: bool
    default: false
notes:
  - A failure part way through names what was already deleted.
  - Blob storage is not reclaimed by deleting manifests; on distribution the operator runs C(registry garbage-collect).
seealso:
  - module: oci.registry.registry_tags_info
    description: List tags with their digests and creation dates, to choose what to delete.
  - module: oci.registry.registry_manifest_info
    description: Check what a tag points at before deleting it.
'''

EXAMPLES = r'''
- name: Delete one tag (fails, listing them, if other tags share its image on a registry that deletes by digest only)
  oci.registry.registry_repo_delete:
    repository: registry.example.com/team/app
    tags: [pr-1234]

- name: Delete a manifest by digest, and any tags on it
  oci.registry.registry_repo_delete:
    repository: registry.example.com/team/app
    digests:
      - sha256:0f2c0c5d3e1b8c7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19087
    force: true

- name: Find tags older than 30 days
  oci.registry.registry_tags_info:
    repository: registry.example.com/team/app
    exclude: '^(latest|stable|v\d+\.\d+\.\d+)$'
    sort: created
    digests: true
  register: app_tags

- name: Delete them (show what would go with --check --diff first)
  oci.registry.registry_repo_delete:
    repository: registry.example.com/team/app
    tags: "{{ app_tags.details
              | selectattr('created', 'lt', (now(utc=true) - timedelta(days=30)).strftime('%Y-%m-%dT%H:%M:%SZ'))
              | map(attribute='tag') | list }}"
  when: app_tags.details | length > 0

- name: Delete a whole repository
  oci.registry.registry_repo_delete:
    repository: registry.example.com/team/old-app
    all_tags: true

- name: Delete a tag on Docker Hub through the Hub API
  oci.registry.registry_repo_delete:
    repository: docker.io/myorg/app
    tags: [nightly-2024-01-01]
    username: myorg-bot
    password: "{{ vault_dockerhub_token }}"
'''

RETURN = r'''
repository:
  description: The normalized repository.
  returned: always
  type: str
  sample: registry.example.com/team/app
deleted:
  description:
    - What was deleted (in check mode, what would be), in order. One entry per tag; a manifest deleted without any tag on
      it (a digest, an index child) has RV(deleted[].tag=null).
    - On Docker Hub RV(deleted[].digest) is the digest the Hub API reports for the tag, V(null) when it reports none.
  returned: always
  type: list
  elements: dict
  contains:
    tag:
      description: The tag, or V(null) for an untagged manifest.
      type: str
    digest:
      description: The manifest digest the tag pointed at.
      type: str
  sample: [{"tag": "pr-1234", "digest": "sha256:0f2c0c5d3e1b8c7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19087"}]
deleted_manifests:
  description: Digests of the manifests deleted by digest (empty when the registry only untagged).
  returned: always
  type: list
  elements: str
  sample: ["sha256:0f2c0c5d3e1b8c7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a19087"]
collateral_tags:
  description: Tags deleted (or that would be) although not named, because they point at a manifest deleted by digest.
  returned: always
  type: list
  elements: str
  sample: [latest]
already_absent:
  description: Named tags and digests (or, with O(all_tags), the repository) that were already gone.
  returned: always
  type: list
  elements: str
  sample: [pr-1200]
diff:
  description: Tags (and, as C(@digest), untagged manifests) before and after, each mapped to its digest.
  returned: always
  type: dict
  sample: {"before": {"pr-1234": "sha256:0f2c...9087"}, "after": {}}
msg:
  description: A note on what the result means, such as that blob storage is reclaimed only by garbage collection, or which
    index lost a child that O(force=true) deleted.
  returned: when there is a note
  type: str
  sample: the manifests are deleted; their blobs stay on the registry storage until the registry operator runs garbage collection
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_names, parse_repository
from ansible_collections.oci.registry.plugins.module_utils.model._reference import validate_digest, validate_tag
from ansible_collections.oci.registry.plugins.module_utils.operations._delete import RepositoryDeleter
from ansible_collections.oci.registry.plugins.module_utils._module import registry_argspec, run_module


def run(client, params, check_mode):
    repo = parse_repository(params['repository'])
    tags = parse_names(params['tags'], 'tags', validate_tag)
    digests = parse_names(params['digests'], 'digests', validate_digest)
    if params['all_tags'] and (tags or digests):
        raise InvalidInputError('all_tags: true deletes the whole repository %s and cannot be combined with tags or digests' % repo.name)
    if not (params['all_tags'] or tags or digests):
        raise InvalidInputError('nothing to delete in %s: name tags or digests, or set all_tags: true to delete the whole repository' % repo.name)
    deleter = RepositoryDeleter(client, repo, params['force'], check_mode)
    out = deleter.delete_all() if params['all_tags'] else deleter.delete(tags, digests)
    result = {
        'changed': out.changed, 'repository': repo.name, 'deleted': out.deleted, 'deleted_manifests': out.manifests,
        'collateral_tags': out.collateral, 'already_absent': out.absent, 'diff': out.diff(),
    }
    if out.notes:
        result['msg'] = '; '.join(out.notes)
    return result


def main():
    module = AnsibleModule(
        argument_spec=registry_argspec(
            repository={'type': 'str', 'required': True, 'aliases': ['name']},
            tags={'type': 'list', 'elements': 'str', 'default': []},
            digests={'type': 'list', 'elements': 'str', 'default': []},
            all_tags={'type': 'bool', 'default': False},
            force={'type': 'bool', 'default': False},
        ),
        supports_check_mode=True,
    )
    run_module(module, run)


if __name__ == '__main__':
    main()
