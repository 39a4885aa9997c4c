# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_repo_delete: one planner over one strategy per kind of registry.

The planner (``RepositoryDeleter``) decides what goes and refuses damage; a strategy says how its
kind of registry reads tags and deletes (``VendorEndpoints.delete_kind`` says which kind a host is,
``STRATEGIES`` maps it to its class):

- ``oci`` (registry API V2, ``DistributionDeletes``): the OCI tag DELETE where the registry supports
  it, learned from its first answer (one probe at most). Where it deletes by digest only
  (distribution 2.x: 400 DIGEST_INVALID; Harbor: 400 UNSUPPORTED; 405), the tag is resolved to its
  digest and the manifest is deleted by digest.
- ``google`` (``GoogleDeletes``): untag (DELETE by tag), then delete the manifest once no tag is
  left on it; its tag list names every manifest with its tags and media type.
- ``docker_hub`` (``DockerHubDeletes``): the Hub API, for single tags and whole repositories.

Everything is planned from reads first; check mode stops there, so it sends no DELETE or PUT.
Before a manifest is deleted by digest the planner refuses, unless ``force``, two kinds of damage:
other tags on the same digest (collateral tags), and an index that stays while it lists the
manifest as a child (every user of that index would fail to pull that platform). A manifest
deleted by digest that is an index takes its children along when nothing else left in the
repository (a tag or another index) uses them; indexes go before their children.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.oci.registry.plugins.module_utils.model._errors import InvalidInputError, NotFoundError, RegistryError, UnsupportedError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import INDEX_TYPES, Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import GOOGLE_DANGLING_PARENT
from ansible_collections.oci.registry.plugins.module_utils.client._client import Descriptor, RegistryClient

GC_NOTE = ('the manifests are deleted; their blobs stay on the registry storage until the registry operator runs garbage collection '
           '(distribution: registry garbage-collect)')
CHECK_MODE_NOTE = ('check mode cannot learn whether registry %s deletes single tags without sending a DELETE, so it shows what a registry '
                   'that deletes by digest only (distribution 2.x, Harbor) would do')


class CollateralTagsError(RegistryError):
    kind = 'collateral_tags'


class IndexChildError(RegistryError):
    """Deleting a manifest that an index left in the repository lists as a child."""

    kind = 'index_child'


@dataclass
class Outcome:
    """What was (or, in check mode, would be) deleted."""

    deleted: t.List[t.Dict[str, t.Optional[str]]] = field(default_factory=list)
    manifests: t.List[str] = field(default_factory=list)
    collateral: t.List[str] = field(default_factory=list)
    absent: t.List[str] = field(default_factory=list)
    notes: t.List[str] = field(default_factory=list)
    repository_deleted: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.deleted) or self.repository_deleted

    def diff(self) -> t.Dict[str, t.Dict[str, str]]:
        """before/after as tag -> digest; a manifest deleted without any tag shows as ``@digest``."""
        before = {str(d['tag'] or '@' + str(d['digest'])): str(d['digest']) for d in self.deleted}
        return {'before': before, 'after': {}}


# Strategies: how each kind of registry reads a repository's tags and deletes


class DeleteStrategy:
    """Reads and deletes on one kind of registry (the registry API V2 here); the planner never tests the kind.

    Reads are cached for the run: a tag is HEADed once, a manifest GET once.
    """

    deletes_digests = True  # manifests can be deleted by digest
    untags_first = False  # a manifest's tags must go before it (the registry refuses a tagged digest)
    drops_untagged = False  # a manifest a tag delete leaves without tags goes too
    deletes_repository = False  # the whole repository goes in one call
    # whether DELETE by tag removes only that tag: None until the registry's first answer says
    tag_delete: t.Optional[bool] = None

    def __init__(self, client: RegistryClient, repo: ImageReference) -> None:
        self.client, self.repo = client, repo
        self.refusal: t.Optional[UnsupportedError] = None  # the registry's answer to the tag DELETE probe, when it refused
        self._heads: t.Dict[str, t.Optional[Descriptor]] = {}
        self._manifests: t.Dict[str, t.Optional[Manifest]] = {}
        self._tags: t.Optional[t.Dict[str, str]] = None

    def find_tag(self, tag: str) -> t.Tuple[bool, t.Optional[str]]:
        """(exists, digest) of one tag: one HEAD."""
        if tag not in self._heads:
            try:
                self._heads[tag] = self.client.head_manifest(self.repo.with_tag(tag))
            except NotFoundError:
                self._heads[tag] = None
        head = self._heads[tag]
        return head is not None, head.digest if head else None

    def tags(self) -> t.Dict[str, str]:
        """Every tag of the repository -> its digest: the tag list, then one HEAD per tag."""
        if self._tags is None:
            try:
                names = sorted(set(self.client.list_tags(self.repo)))
            except NotFoundError:
                names = []
            found = {name: self.find_tag(name)[1] for name in names}
            self._tags = {name: digest for name, digest in found.items() if digest}
        return self._tags

    def manifest(self, digest: str) -> t.Optional[Manifest]:
        if digest not in self._manifests:
            try:
                self._manifests[digest] = self.client.get_manifest(self.repo.with_digest(digest))
            except NotFoundError:
                self._manifests[digest] = None
        return self._manifests[digest]

    def exists(self, digest: str) -> bool:
        return self.manifest(digest) is not None

    def media_type(self, digest: str) -> t.Optional[str]:
        """The media type of a manifest when a read already told it (no request)."""
        known = [h.media_type for h in self._heads.values() if h and h.digest == digest and h.media_type]
        return known[0] if known else None

    def untagged(self) -> t.List[str]:
        """Manifests no tag points at that deleting the whole repository takes too (none can be listed here)."""
        return []

    def probe_tag_delete(self, tag: str) -> bool:
        """Send the first DELETE by tag, and learn from the answer whether the registry deletes single tags."""
        try:
            deleted = self.client.delete_tag(self.repo, tag)
        except UnsupportedError as exc:
            self.tag_delete, self.refusal = False, exc
            return False
        self.tag_delete = True
        return deleted

    def delete_tag(self, tag: str) -> bool:
        return self.client.delete_tag(self.repo, tag)

    def delete_manifest(self, digest: str) -> bool:
        return self.client.delete_manifest(self.repo.with_digest(digest))

    def delete_repository(self) -> bool:
        raise AssertionError('%s deletes a repository manifest by manifest' % type(self).__name__)

    def child_kept(self, exc: RegistryError) -> bool:
        """Whether a refused child DELETE means another index still uses it (then it is kept, not a failure)."""
        return False


class DistributionDeletes(DeleteStrategy):
    """A registry API V2 registry: distribution, Harbor, Quay, Zot, GitLab, GHCR..."""


class GoogleDeletes(DeleteStrategy):
    """Artifact Registry and GCR: DELETE by tag untags; a digest goes once no tag and no index holds it."""

    untags_first = True  # else Google answers GOOGLE_MANIFEST_DANGLING_TAG
    drops_untagged = True
    tag_delete = True

    def __init__(self, client: RegistryClient, repo: ImageReference) -> None:
        super().__init__(client, repo)
        self._listing: t.Optional[t.Dict[str, t.Dict[str, t.Any]]] = None

    def listing(self) -> t.Dict[str, t.Dict[str, t.Any]]:
        """Every manifest, tagged or not, with its tags and media type: Google's tag list names them all."""
        if self._listing is None:
            self._listing = self.client.google(self.repo).manifests()
        return self._listing

    def find_tag(self, tag: str) -> t.Tuple[bool, t.Optional[str]]:
        digest = self.tags().get(tag)
        return digest is not None, digest

    def tags(self) -> t.Dict[str, str]:
        if self._tags is None:
            self._tags = {tag: digest for digest, entry in self.listing().items() for tag in entry['tags']}
        return self._tags

    def exists(self, digest: str) -> bool:
        return digest in self.listing()

    def media_type(self, digest: str) -> t.Optional[str]:
        entry = self.listing().get(digest)
        return entry['media_type'] if entry else None

    def untagged(self) -> t.List[str]:
        return list(self.listing())

    def child_kept(self, exc: RegistryError) -> bool:
        return GOOGLE_DANGLING_PARENT in exc.codes


class DockerHubDeletes(DeleteStrategy):
    """Docker Hub: its Hub API deletes single tags and whole repositories, never manifests by digest."""

    deletes_digests = False
    deletes_repository = True
    tag_delete = True

    def find_tag(self, tag: str) -> t.Tuple[bool, t.Optional[str]]:
        return self.client.docker_hub(self.repo).tag(tag)

    def tags(self) -> t.Dict[str, str]:
        if self._tags is None:
            self._tags = self.client.docker_hub(self.repo).tags()
        return self._tags

    def delete_tag(self, tag: str) -> bool:
        return self.client.docker_hub(self.repo).delete_tag(tag)

    def delete_repository(self) -> bool:
        return self.client.docker_hub(self.repo).delete_repository()


STRATEGIES: t.Dict[str, t.Type[DeleteStrategy]] = {'oci': DistributionDeletes, 'google': GoogleDeletes, 'docker_hub': DockerHubDeletes}


# The planner


class RepositoryDeleter:
    """Deletes named tags and digests, or every tag, of one repository, refusing damage that was not asked for."""

    def __init__(self, client: RegistryClient, repo: ImageReference, force: bool, check_mode: bool) -> None:
        self.repo, self.force, self.check_mode = repo, force, check_mode
        self.kind = STRATEGIES[client.vendors.delete_kind(repo.registry)](client, repo)
        self.out = Outcome()

    def is_index(self, digest: str) -> bool:
        media_type = self.kind.media_type(digest)
        if media_type:
            return media_type in INDEX_TYPES
        found = self.kind.manifest(digest)
        return bool(found and found.is_index)

    def children(self, digest: str) -> t.List[str]:
        found = self.kind.manifest(digest) if self.is_index(digest) else None
        return [str(c['digest']) for c in found.children if c['digest']] if found else []

    def find_tag(self, tag: str) -> t.Tuple[bool, t.Optional[str]]:
        """(exists, digest) of one tag, as this registry kind finds it (the answer is kept for the delete)."""
        return self.kind.find_tag(tag)

    # Planning and deleting

    def delete(self, tags: t.List[str], digests: t.List[str]) -> Outcome:
        if digests and not self.kind.deletes_digests:
            raise InvalidInputError('Docker Hub deletes tags and whole repositories only (through its Hub API), not manifests by digest: '
                                    'name the tags in tags, or set all_tags: true')
        present = {}
        for tag in tags:
            exists, digest = self.kind.find_tag(tag)
            if exists:
                present[tag] = digest
            else:
                self.out.absent.append(tag)
        named = [digest for digest in digests if self.kind.exists(digest)]
        self.out.absent.extend(digest for digest in digests if digest not in named)
        self._refuse(named, set(present))  # before anything is deleted
        if self._deletes_tags(present):
            for tag, digest in present.items():
                self._delete_tag(tag, digest)
            targets = named + self._left_untagged(present, named)
        else:  # every tag goes through its digest
            targets = named + [d for d in dict.fromkeys(present.values()) if d and d not in named]
            self._refuse(targets, set(present))
        keep = set(self.kind.tags()) - set(present) - set(self.out.collateral) if targets else set()
        self._delete_manifests(targets, keep)
        return self.out

    def delete_all(self) -> Outcome:
        """Every tag and the manifests they point at (where the registry deletes repositories: the repository itself)."""
        tags = self.kind.tags()
        if self.kind.deletes_repository:
            self.out.deleted = [{'tag': tag, 'digest': digest} for tag, digest in sorted(tags.items())]
            self.out.repository_deleted = bool(tags) if self.check_mode else self._send(self.kind.delete_repository)
            if not self.out.repository_deleted:
                self.out.absent.append(self.repo.name)
            return self.out
        targets = list(dict.fromkeys(tags[tag] for tag in sorted(tags)))
        targets += [d for d in self.kind.untagged() if d not in targets]
        if not targets:
            self.out.absent.append(self.repo.name)
            return self.out
        self._delete_manifests(targets, keep_tags=set())
        self.out.notes.append(GC_NOTE)
        return self.out

    def _deletes_tags(self, present: t.Dict[str, t.Optional[str]]) -> bool:
        """Whether DELETE by tag removes only the tag; learned from the first tag DELETE (that DELETE is the real one)."""
        if self.kind.tag_delete is None and present:
            if self.check_mode:
                self.out.notes.append(CHECK_MODE_NOTE % self.repo.registry)
                return False
            tag, digest = next(iter(present.items()))
            if self._send(lambda: self.kind.probe_tag_delete(tag)):
                self._record_tag(tag, digest)
        return bool(self.kind.tag_delete)

    def _left_untagged(self, present: t.Dict[str, t.Optional[str]], named: t.List[str]) -> t.List[str]:
        """Manifests the tag deletes left without a tag, where the registry drops those too; an index that stays keeps its children."""
        if not self.kind.drops_untagged:
            return []
        left = {d for tag, d in self.kind.tags().items() if tag not in present}
        follow = [d for d in dict.fromkeys(present.values()) if d and d not in left and d not in named]
        listed = {child for children in self._parents(follow, named + follow).values() for child in children}
        return [d for d in follow if d not in listed]

    # Refusals

    def _refuse(self, digests: t.List[str], named_tags: t.Set[str]) -> None:
        """Damage that deleting these digests would do beyond what was named: refused unless force, else reported."""
        if digests:
            self._refuse_collateral(digests, named_tags)
            self._refuse_index_children(digests)

    def _refuse_collateral(self, digests: t.List[str], named_tags: t.Set[str]) -> None:
        """Tags that deleting these digests would take along."""
        tags = self.kind.tags()
        found = [tag for tag in sorted(tags) if tags[tag] in digests and tag not in named_tags]
        if found and not self.force:
            why = ' (the registry deletes by digest only: %s)' % self.kind.refusal.msg if self.kind.refusal is not None else ''
            raise CollateralTagsError(
                'deleting %s in %s would also delete the tags %s, which point at the same manifest%s; nothing was deleted' % (
                    ', '.join(sorted(set(digests) & set(tags.values())) or digests), self.repo.name, ', '.join(found), why),
                codes=['COLLATERAL_TAGS'],
                hint='set force: true to delete them too, or delete only by tag on a registry that supports tag deletion')
        self.out.collateral.extend(tag for tag in found if tag not in self.out.collateral)

    def _refuse_index_children(self, digests: t.List[str]) -> None:
        """Indexes that stay in the repository while they list one of these digests: every user of the index would lose it."""
        parents = self._parents(digests, digests)
        if not parents:
            return
        tags = self.kind.tags()
        what = '; '.join('index %s (tags %s) lists %s' % (index, ', '.join(sorted(tag for tag in tags if tags[tag] == index)), ', '.join(lost))
                         for index, lost in sorted(parents.items()))
        if not self.force:
            raise IndexChildError(
                'deleting %s in %s would break an index that stays: %s; nothing was deleted' % (
                    ', '.join(sorted({child for lost in parents.values() for child in lost})), self.repo.name, what),
                codes=['INDEX_CHILD'],
                hint='delete the index too (name its tags), or set force: true to delete the child anyway: '
                     'pulling that platform through the index then fails')
        note = 'force: true deletes manifests that an index left in the repository lists: %s; pulling them through it fails' % what
        if note not in self.out.notes:
            self.out.notes.append(note)

    def _parents(self, digests: t.List[str], going: t.List[str]) -> t.Dict[str, t.List[str]]:
        """Tagged indexes not in ``going`` -> the ``digests`` each lists. GETs an index only when a non-index manifest is at stake."""
        leaves = [d for d in digests if not self.is_index(d)]
        if not leaves:
            return {}
        tags = self.kind.tags()
        found = {}
        for index in sorted(set(tags.values()) - set(going)):
            lost = [child for child in self.children(index) if child in leaves] if self.is_index(index) else []
            if lost:
                found[index] = lost
        return found

    # Deleting

    def _delete_manifests(self, targets: t.List[str], keep_tags: t.Set[str]) -> None:
        """Delete manifests by digest, indexes first, then index children nothing left in the repository uses."""
        if not targets:
            return
        ordered = sorted(dict.fromkeys(targets), key=lambda d: not self.is_index(d))
        tags = self.kind.tags()
        candidates = [c for d in ordered for c in self.children(d) if c not in ordered]
        if candidates:
            kept = {tags[tag] for tag in keep_tags}
            for digest in sorted(kept):
                kept.update(self.children(digest))
            candidates = [c for c in dict.fromkeys(candidates) if c not in kept]
        for digest in ordered + candidates:
            on_it = [tag for tag in sorted(tags) if tags[tag] == digest and tag not in keep_tags]
            if self.kind.untags_first:
                for tag in on_it:
                    self._delete_tag(tag, digest)
            if not self._delete_digest(digest, digest in candidates):
                continue
            self.out.manifests.append(digest)
            for tag in on_it:
                self._record_tag(tag, digest)
            if not on_it and not any(d['digest'] == digest for d in self.out.deleted):
                self.out.deleted.append({'tag': None, 'digest': digest})

    def _delete_tag(self, tag: str, digest: t.Optional[str]) -> None:
        if any(d['tag'] == tag for d in self.out.deleted):
            return  # deleted already (the probe, or an untag before its manifest)
        if self.check_mode or self._send(lambda: self.kind.delete_tag(tag)):
            self._record_tag(tag, digest)

    def _delete_digest(self, digest: str, child: bool) -> bool:
        if self.check_mode:
            return True
        try:
            return self.kind.delete_manifest(digest)
        except UnsupportedError as exc:
            if exc.status != 405:
                raise self._partial(exc) from None
            raise self._partial(exc.with_message(
                'registry %s refuses to delete manifests in %s (HTTP 405 %s): deletes are disabled on it' % (
                    self.repo.registry, self.repo.name, '/'.join(exc.codes)),
                hint='on a distribution registry set storage.delete.enabled: true (or REGISTRY_STORAGE_DELETE_ENABLED=true); '
                     'GHCR and Docker Hub do not delete through the registry API')) from None
        except RegistryError as exc:
            if child and self.kind.child_kept(exc):
                return False  # another index still uses it: kept
            raise self._partial(exc) from None

    def _record_tag(self, tag: str, digest: t.Optional[str]) -> None:
        if not any(d['tag'] == tag for d in self.out.deleted):
            self.out.deleted.append({'tag': tag, 'digest': digest})

    def _send(self, action: t.Callable[[], bool]) -> bool:
        """Run one DELETE; a failure says what was already deleted."""
        try:
            return action()
        except RegistryError as exc:
            raise self._partial(exc) from None

    def _partial(self, exc: RegistryError) -> RegistryError:
        done = ', '.join('%s (%s)' % (d['tag'], d['digest']) if d['tag'] else str(d['digest']) for d in self.out.deleted)
        return exc.with_message('%s; %s' % (exc.msg, 'already deleted before this failure: %s' % done if done else 'nothing was deleted'))
