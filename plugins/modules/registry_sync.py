#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: registry_sync
short_description: Keep whole repositories in step between registries, at the lowest request cost
version_added: 0.1.0
description:
  - Mirrors the selected tags of source repositories (Docker Hub, GHCR, Quay, a vendor's registry) into target repositories,
    over the OCI Distribution / Docker Registry HTTP API V2, without a Docker daemon and without pulling to disk.
  - B(Plan, then apply.) Each entry's source tags are listed and selected (O(repositories[].tags)). Each selected tag
    then costs one HEAD on the target and one on the source, and the digests are compared. A tag whose digests are
    equal is unchanged, and nothing more is sent for it (no GET on either side, no PUT, an index included). Only then
    are the changed tags copied.
  - When the target lacks the first selected tag of an entry (a new repository, new tags), the target's tags are listed
    once, and every other tag the target lacks costs no HEAD on the target. Outside check mode, the source manifest of a
    tag the target lacks is read at once with the GET its copy needs anyway (one request instead of a HEAD and a GET),
    unless O(min_ratelimit_remaining) is set, where a HEAD first shows the rate gate the allowance without spending a
    pull.
  - A target repository that does not exist yet (its tag list answers C(NAME_UNKNOWN)) is written without asking first
    whether each blob and child manifest is there; a blob an interrupted push left there untagged is uploaded again.
  - HEAD requests do not count against Docker Hub's pull limit, so a no-op run spends no pulls.
  - Copies go through the same copy engine as M(oci.registry.registry_tag) - children before indexes, blobs before the
    manifests that name them, every manifest as its exact bytes, every streamed blob verified against its digest - with one
    record of blobs for the whole task. A blob already present in, or copied to, another target repository of the same
    registry is mounted from there, never uploaded twice, so a mirror of many images sharing a base layer uploads the
    base once per target registry. A tag is written only after everything it names is there.
  - B(Prune) (O(prune)) deletes target tags that the entry's selection matches but the source no longer has (or that fall
    outside O(repositories[].tags.limit)). It never touches a tag outside the selection, a C(sha256-<hex>) referrers tag
    or a cosign C(.sig)/C(.att)/C(.sbom) tag, and never more than O(prune_max) tags of one repository. On a registry that
    deletes by digest only (distribution 2.x, Harbor), a tag whose digest a kept tag shares is reported C(blocked), not
    deleted, by the same rule as M(oci.registry.registry_repo_delete).
  - B(Failures) of one entry or tag (a missing source repository, denied access, a pin that no longer holds) are recorded
    in RV(results) with their reason while the rest go on; the task then fails at the end, naming each. With
    O(keep_going=false) it stops at the first.
  - B(Rate limits.) C(RateLimit-Remaining), which Docker Hub sends on manifest requests, is read wherever a registry sends
    it and returned in RV(ratelimit). With O(min_ratelimit_remaining) no source manifest GET (the request that spends a pull)
    is sent that would take the source's allowance below the floor, and a source answering 429 has its copies stopped the
    same way; the work left is reported as C(skipped) with RV(partial=true) and a warning, and the task does not fail for it.
  - B(Whole registries.) An entry with O(repositories[].include) names a source registry instead of one repository; its
    repositories are listed (the registry's catalog, C(/v2/_catalog), page by page; on Docker Hub, which has no catalog, the
    Hub API's listing of each namespace the patterns start with), chosen by O(repositories[].include) and
    O(repositories[].exclude), and each is synced to the same path under O(repositories[].target_prefix) on the target
    registry, with the entry's tags, platforms, referrers and prune. A registry that refuses its catalog or has none fails the
    task before anything is written, with an error saying which. RV(catalog) says what listing cost.
  - B(Shards.) With O(shard), the task is one of O(shard.count) independent runs (AWX job slices, hosts of an inventory) -
    every run resolves the same repositories and keeps those whose target repository it owns - shard
    C(sha256(target repository\) % count), the UTF-8 bytes of the normalized name such as C(registry.example.com/mirror/team/app)
    hashed - so it plans, copies and prunes only those. The shards of one count cover every repository exactly once, and a
    repository keeps its shard as others come and go. RV(shard) says which shard ran and how many repositories it owned.
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
    details:
      - Returns the plan with the action of every tag, and what the copies would mount and copy, from reads only. No write
        request (POST, PUT, PATCH, DELETE) and no blob read is sent.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff maps each changed target C(repository:tag) to its digest before and after; a pruned tag's after is V(null).
  idempotent:
    description: When run twice in a row with the same input, the second run reports no change.
    support: full
options:
  repositories:
    description:
      - The repositories to keep in step, one entry per source and target pair.
    type: list
    elements: dict
    required: true
    suboptions:
      source:
        description:
          - The source repository, C([registry[:port]/]repository), without tag or digest (a tag or digest is refused; the
            tags go in O(repositories[].tags)). Without a registry it is on Docker Hub (C(nginx) is C(docker.io/library/nginx)).
          - With O(repositories[].include), the source registry, C(host[:port]) (C(docker.io) for Docker Hub).
        type: str
        required: true
      target:
        description:
          - The target repository, C(registry[:port]/repository), without tag or digest. It may be on another registry or the
            same one, but not the source repository itself.
          - With O(repositories[].include), the target registry, C(host[:port]).
        type: str
        required: true
      include:
        description:
          - Makes this a whole-registry entry - the repositories of the O(repositories[].source) registry whose path (C(team/app),
            without the registry) matches one of these globs. C(*) matches within one path component, C(**) across components,
            C(?) one character other than C(/); a pattern matches the whole path. V(["**"]) is every repository.
          - On Docker Hub every pattern starts with the namespace to list (a user or organization; C(library) holds the
            official images), for example V(bitnami/*) or V(library/nginx).
          - Repositories are listed by every run, so each shard spends the listing's requests (RV(catalog)).
        type: list
        elements: str
      exclude:
        description:
          - Leave out the repositories whose path matches one of these globs (the same syntax as O(repositories[].include)).
          - Only with O(repositories[].include). Not to be confused with O(repositories[].tags.exclude), a regular expression over tags.
        type: list
        elements: str
      target_prefix:
        description:
          - Where the chosen repositories go on the target registry - source C(team/app) becomes C(<target>/<target_prefix>/team/app)
            (leading and trailing C(/) do not matter). Without it, the same path.
          - When source and target are the same registry, the repositories under the prefix (the mirror itself) are never chosen
            as sources, and a prefix is required.
          - Only with O(repositories[].include).
        type: str
      tags:
        description:
          - Which source tags to sync; the same vocabulary as M(oci.registry.registry_tags_info). Without it, every tag.
          - Filters apply in this order - O(repositories[].tags.names), O(repositories[].tags.match),
            O(repositories[].tags.exclude), O(repositories[].tags.semver) - then the tags are sorted and cut to
            O(repositories[].tags.limit).
        type: dict
        suboptions:
          names:
            description:
              - Explicit tags. C(tag@sha256:<hex>) pins a tag to a digest, and that tag fails (the rest go on) when the
                source tag has moved away from it.
              - A named tag that the source does not have is reported C(failed).
            type: list
            elements: str
          match:
            description: Keep only tags this Python regular expression finds (C(re.search); anchor it with C(^) and C($)).
            type: str
          exclude:
            description: Drop tags this Python regular expression finds.
            type: str
          semver:
            description:
              - Keep only tags that are versions inside this range - comparators joined by spaces, all of which must hold,
                each an operator (C(>=), C(>), C(<=), C(<), C(=) or none) and a version, for example C(>=1.26.0 <2.0.0).
                A partial version counts as its C(.0). No C(~), C(^) or C(||).
              - A pre-release tag (C(2.0.0-rc.1), C(1.27-alpine)) is kept only when a comparator names a pre-release of the
                same C(MAJOR.MINOR.PATCH); tags that are not versions (C(latest)) are never inside a range.
            type: str
          sort:
            description:
              - How tags are ordered before O(repositories[].tags.limit). V(created) reads every selected tag's manifest and
                config (GET requests, which count against Docker Hub's pull limit).
            type: str
            choices: [name, semver, created]
            default: name
          order:
            description: V(asc) or V(desc) (with V(desc), O(repositories[].tags.limit) keeps the newest or highest).
            type: str
            choices: [asc, desc]
            default: asc
          limit:
            description: Sync at most this many tags, the first after sorting. With O(prune), target tags beyond it are pruned.
            type: int
      platforms:
        description: The entry's own O(platforms).
        type: list
        elements: str
      referrers:
        description: The entry's own O(referrers).
        type: bool
      prune:
        description: The entry's own O(prune).
        type: bool
  platforms:
    description:
      - Copy only these platforms of multi-arch images (C(os/architecture[/variant]), for example V(linux/amd64)), for every
        entry that does not set its own.
      - The target then gets a filtered index of its own, with deterministic bytes, so B(its digest differs from the source's).
        The index records in its annotations what it was made from (C(oci.registry.filter.source), the source index digest,
        and C(oci.registry.filter.platforms)), so a rerun knows it is unchanged from a HEAD on the source and one GET of
        the target index, without a GET on the source (on Docker Hub that would spend a pull).
      - A single-platform image is copied as it is.
    type: list
    elements: str
  referrers:
    description:
      - Also copy what refers to each image (signatures, SBOMs, attestations; OCI referrers and cosign tags), as
        M(oci.registry.registry_tag) does, for every entry that does not set its own.
      - This costs a referrers listing (and cosign tag HEADs) per tag, unchanged tags included.
    type: bool
    default: false
  prune:
    description:
      - Delete target tags that the entry's selection matches but the source no longer has (or that fall outside
        O(repositories[].tags.limit)), for every entry that does not set its own. See the description for what is never pruned.
      - Needs the target's tag list (one request per repository) and a HEAD per tag to prune.
    type: bool
    default: false
  prune_max:
    description:
      - The most tags pruned in one repository in one run. When more would be pruned, none are pruned there, each is reported
        C(blocked) with the count, and the task fails at the end (a source that lost its tags by mistake does not empty the mirror).
    type: int
    default: 10
  immutable:
    description:
      - Python regular expressions (C(re.search)) of tags that never change once published, for example C(^[0-9]+[.][0-9]+[.][0-9]+$) for release tags.
      - A matching tag that the target already has is reported unchanged without any source request (the target's tag list is
        read instead, one request per repository).
    type: list
    elements: str
    default: []
  workers:
    description:
      - How many tags are compared or copied at once, across all entries (1 to 32). Blob transfers run inside the same bound.
        Memory stays flat whatever the image sizes (blobs stream in 1 MiB chunks).
    type: int
    default: 8
  keep_going:
    description:
      - With V(true) a failing entry or tag is recorded and the rest go on; the task fails at the end naming each failure.
      - With V(false) nothing new starts after the first failure (work not attempted is reported C(skipped)).
    type: bool
    default: true
  shard:
    description:
      - Run only this shard's part of the sync - the repositories whose target repository C(sha256 % count) is O(shard.index)
        (see the description). Every shard of one run must get the same O(repositories) and O(shard.count).
      - Without it the task syncs every repository, as shard V(0) of V(1).
    type: dict
    suboptions:
      index:
        description: This shard's number, from V(0) to O(shard.count) minus one.
        type: int
        required: true
      count:
        description: How many shards the work is split into (V(1) to V(1024)).
        type: int
        required: true
  max_repositories:
    description:
      - The most repositories one task may sync, counted over all entries before sharding (each shard counts the same). When
        the O(repositories[].include) patterns choose more, listing stops there and the task fails with nothing written - a
        pattern broader than meant (V(["**"]) on a large registry) never starts a mirror of everything.
    type: int
    default: 1000
  min_ratelimit_remaining:
    description:
      - Keep at least this many pulls of a source registry's allowance (its C(RateLimit-Remaining) header); V(0) turns the
        check off. Copies that would go below it are left for a later run, reported C(skipped) with RV(partial=true) and a
        warning; the task does not fail for it.
      - Registries that send no C(RateLimit-Remaining) are never held back.
    type: int
    default: 0
notes:
  - A whole-registry entry costs one listing request per page of its registry's catalog (up to 1000 names a page on
    distribution) or per 1000 repositories of a Docker Hub namespace, plus authentication, in every shard.
  - Request cost of a no-op rerun per repository, on a registry sending all tags in one page - one tag-list request on the
    source (plus one on the target with O(prune) or O(immutable)), one HEAD per selected tag on each side, no manifest GET,
    no write; plus authentication (one ping, a token per repository on token registries).
  - Request cost of a first sync into a new target repository - the source's tag list, one HEAD and one tag list on the
    target, then per image one source manifest GET (per platform one more), per blob one source GET and two target
    requests (upload session and bytes; a blob already copied to another repository of the target is mounted, one
    request), per manifest one PUT; no other HEAD.
  - A tag copied while its source moved is copied at the digest the plan saw, never half of each.
seealso:
  - module: oci.registry.registry_tag
    description: Point tags at one image, in a repository or across registries.
  - module: oci.registry.registry_tags_info
    description: The same tag selection, read-only.
  - module: oci.registry.registry_repo_delete
    description: Delete tags and manifests with the same collateral rule that prune follows.
'''

EXAMPLES = r'''
- name: Mirror nginx 1.26 and later 1.x releases, and alpine's stable tags, into a private registry
  oci.registry.registry_sync:
    repositories:
      - source: docker.io/library/nginx
        target: registry.example.com/mirror/nginx
        tags:
          semver: '>=1.26.0 <2.0.0'
          exclude: '-(perl|otel)$'
      - source: docker.io/library/alpine
        target: registry.example.com/mirror/alpine
        tags:
          names: ['3.20', '3.21', latest]
    platforms: [linux/amd64, linux/arm64]
    immutable: ['^\d+\.\d+\.\d+$']
    min_ratelimit_remaining: 20
    username: mirror-bot
    password: "{{ mirror_password }}"
    source_auth:
      username: "{{ hub_user }}"
      password: "{{ hub_token }}"
  register: mirrored

- name: Say what moved
  ansible.builtin.debug:
    msg: "{{ mirrored.summary }} (partial: {{ mirrored.partial }})"

- name: Keep the ten newest releases of an internal image in a second registry, pruning older ones, with signatures
  oci.registry.registry_sync:
    repositories:
      - source: registry.example.com/team/app
        target: dr.example.net/team/app
        tags:
          semver: '>=1.0.0'
          sort: semver
          order: desc
          limit: 10
        prune: true
    referrers: true
    prune_max: 5

- name: Mirror every repository of a team on a vendor registry, except its test images, under mirror/vendor/
  oci.registry.registry_sync:
    repositories:
      - source: registry.vendor.example
        target: registry.example.com
        include: ['team/**', 'tools/*']
        exclude: ['team/*-test']
        target_prefix: mirror/vendor
        tags:
          semver: '>=1.0.0'
    max_repositories: 3000

- name: Shard 2 of 4 of a Docker Hub namespace mirror (one AWX job slice per shard, see examples/sync_shards.yml)
  oci.registry.registry_sync:
    repositories:
      - source: docker.io
        target: registry.example.com
        include: ['bitnami/*']
        target_prefix: hub
        tags:
          names: [latest]
    shard:
      index: 2
      count: 4
  register: shard_result

- name: Pin a release to the digest that was tested; the entry fails if the source tag has moved
  oci.registry.registry_sync:
    repositories:
      - source: ghcr.io/example/tool
        target: registry.example.com/mirror/tool
        tags:
          names: ['2.4.1@sha256:4f6ff1a1a5e6ab1d3a5e0a1f4c0b6d3f0a3c9e6f5a7b2d8e9c1f0a3b4c5d6e7f']
'''

RETURN = r'''
results:
  description: One entry per selected tag (and per pruned or blocked target tag), by entry, then tag.
  returned: always
  type: list
  elements: dict
  contains:
    source:
      description: The source repository.
      type: str
    target:
      description: The target repository.
      type: str
    tag:
      description: The tag; V(null) for a failure of the whole entry (a missing source repository).
      type: str
    action:
      description:
        - V(created), V(updated) (the target tag pointed elsewhere), V(unchanged), V(skipped) (not attempted - a rate limit,
          or an earlier failure with O(keep_going=false)), V(pruned), V(blocked) (a prune refused - O(prune_max), or a
          digest a kept tag shares) or V(failed).
      type: str
    source_digest:
      description: The source tag's digest (V(null) when not read, for an immutable tag the target has, or a pruned one).
      type: str
    target_digest:
      description:
        - The target tag's digest after the run (in check mode - what it would be). With O(platforms) it is the filtered
          index's digest, which differs from RV(results[].source_digest). V(null) after a prune.
      type: str
    previous_digest:
      description: The target tag's digest before the run, V(null) when it did not exist.
      type: str
    reason:
      description: Why a tag was skipped, blocked, failed, or unchanged without a compare; else V(null).
      type: str
  sample:
    - {"source": "docker.io/library/nginx", "target": "registry.example.com/mirror/nginx", "tag": "1.27.3", "action": "created",
       "source_digest": "sha256:0a399eb16751829e1af26fea27b20c3ec28d7ab1fb72182879dcae1cca21206a",
       "target_digest": "sha256:0a399eb16751829e1af26fea27b20c3ec28d7ab1fb72182879dcae1cca21206a", "previous_digest": null, "reason": null}
summary:
  description: How many results have each action (every action is present, zero when unused).
  returned: always
  type: dict
  sample: {"created": 1, "updated": 0, "unchanged": 13, "skipped": 0, "pruned": 0, "blocked": 0, "failed": 0}
partial:
  description: Whether a rate limit left work undone (the tags are reported V(skipped) and a warning says more).
  returned: always
  type: bool
  sample: false
mounted_blobs:
  description: Blobs mounted from another repository of the same registry (in check mode - that would be).
  returned: always
  type: int
  sample: 6
copied_blobs:
  description: Blobs streamed from a source to a target (in check mode - that would be).
  returned: always
  type: int
  sample: 3
copied_bytes:
  description: Bytes of the copied blobs.
  returned: always
  type: int
  sample: 31457280
requests:
  description: HTTP requests this task sent, per registry host and method (token requests count under the token server's host).
  returned: always
  type: dict
  sample: {"registry-1.docker.io": {"GET": 3, "HEAD": 28}, "registry.example.com": {"GET": 1, "HEAD": 14}}
ratelimit:
  description:
    - Per source registry that sent C(RateLimit-*) headers - C(limit), C(remaining) (the lowest seen), C(window_seconds), and
      C(stopped), why its copies were stopped (V(null) when they were not).
  returned: always
  type: dict
  sample: {"docker.io": {"limit": 200, "remaining": 187, "window_seconds": 21600, "stopped": null}}
shard:
  description:
    - Which shard ran - C(index) and C(count) (V(0) and V(1) without O(shard)) - C(repositories), how many repositories it
      owned and planned, and C(total_repositories), how many all shards have together.
  returned: always
  type: dict
  sample: {"index": 2, "count": 4, "repositories": 503, "total_repositories": 2000}
catalog:
  description:
    - Per source registry of a whole-registry entry, what listing its repositories cost - C(api) (V(catalog) or V(hub_api)),
      C(listed) (names read), C(matched) (repositories chosen) and C(requests) (sent to list them, authentication included).
      Empty without O(repositories[].include).
  returned: always
  type: dict
  sample: {"registry.vendor.example": {"api": "catalog", "listed": 2410, "matched": 2000, "requests": 5}}
diff:
  description: Per changed target C(repository:tag), the digest before and after (V(null) before a create and after a prune).
  returned: always
  type: dict
  sample:
    before: {"registry.example.com/mirror/nginx:1.27.3": null}
    after: {"registry.example.com/mirror/nginx:1.27.3": "sha256:0a399eb16751829e1af26fea27b20c3ec28d7ab1fb72182879dcae1cca21206a"}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.warnings import warn

from ansible_collections.oci.registry.plugins.module_utils import _startup  # pylint: disable=unused-import  # first: see there
from ansible_collections.oci.registry.plugins.module_utils.operations._sync import sync
from ansible_collections.oci.registry.plugins.module_utils.operations._sync_model import DEFAULTS, TAG_DEFAULTS
from ansible_collections.oci.registry.plugins.module_utils.operations._tags import ORDERS, SORTS
from ansible_collections.oci.registry.plugins.module_utils._module import (
    CONNECTION_SUBOPTIONS, VERIFY_OPTION, client_with_overrides, registry_argspec, require_cryptography, run_module, verify_gate)


def run(client, params, check_mode):
    gate = verify_gate(params.get('verify'))
    source_client = client_with_overrides(client, params['source_auth'], 'source_auth')
    verifier = (lambda ref, digest: gate(source_client, ref, digest)) if gate else None
    result = sync(source_client, client, params, check_mode, verifier)
    for message in result.pop('warnings'):
        warn(message)
    return result


def main():
    tags_suboptions = {
        'names': {'type': 'list', 'elements': 'str'},
        'match': {'type': 'str'},
        'exclude': {'type': 'str'},
        'semver': {'type': 'str'},
        'sort': {'type': 'str', 'default': TAG_DEFAULTS['sort'], 'choices': list(SORTS)},
        'order': {'type': 'str', 'default': TAG_DEFAULTS['order'], 'choices': list(ORDERS)},
        'limit': {'type': 'int'},
    }
    entry_suboptions = {
        'source': {'type': 'str', 'required': True},
        'target': {'type': 'str', 'required': True},
        'tags': {'type': 'dict', 'options': tags_suboptions},
        'platforms': {'type': 'list', 'elements': 'str'},
        'referrers': {'type': 'bool'},
        'prune': {'type': 'bool'},
        'include': {'type': 'list', 'elements': 'str'},
        'exclude': {'type': 'list', 'elements': 'str'},
        'target_prefix': {'type': 'str'},
    }
    module = AnsibleModule(
        argument_spec=registry_argspec(
            repositories={'type': 'list', 'elements': 'dict', 'required': True, 'options': entry_suboptions},
            platforms={'type': 'list', 'elements': 'str'},
            referrers={'type': 'bool', 'default': DEFAULTS['referrers']},
            prune={'type': 'bool', 'default': DEFAULTS['prune']},
            prune_max={'type': 'int', 'default': DEFAULTS['prune_max']},
            immutable={'type': 'list', 'elements': 'str', 'default': list(DEFAULTS['immutable'])},
            workers={'type': 'int', 'default': DEFAULTS['workers']},
            keep_going={'type': 'bool', 'default': DEFAULTS['keep_going']},
            min_ratelimit_remaining={'type': 'int', 'default': DEFAULTS['min_ratelimit_remaining']},
            source_auth={'type': 'dict', 'options': CONNECTION_SUBOPTIONS},
            verify=VERIFY_OPTION,
            shard={'type': 'dict', 'options': {'index': {'type': 'int', 'required': True}, 'count': {'type': 'int', 'required': True}}},
            max_repositories={'type': 'int', 'default': DEFAULTS['max_repositories']},
        ),
        supports_check_mode=True,
    )
    if module.params['verify']:
        require_cryptography(module)
    run_module(module, run)


if __name__ == '__main__':
    main()
