# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""registry_repo_delete: how tags, digests and whole repositories are deleted, per kind of registry.

The one place that chooses a strategy (``VendorEndpoints.delete_kind`` says which kind a host is):

- ``oci`` (registry API V2): the OCI tag DELETE where the registry supports it, learned from its
  first answer and remembered per host for the run (one probe at most). Where it deletes by digest
  only (distribution 2.x: 400 DIGEST_INVALID; Harbor: 400 UNSUPPORTED; 405), the tag is resolved to
  its digest and every other tag on that digest is a collateral tag: refused unless ``force``.
- ``google``: untag (DELETE by tag), then delete the manifest once no tag is left on it.
- ``docker_hub``: the Hub API, for single tags and whole repositories.

Everything is planned from reads first; check mode stops there, so it sends no DELETE or PUT.
A manifest deleted by digest that is an index takes its children along when nothing else left in
the repository (a tag or another index) uses them; indexes go before their children.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ._client import Descriptor, RegistryClient
from ._errors import InvalidInputError, NotFoundError, RegistryError, UnsupportedError
from ._manifest import INDEX_TYPES, Manifest
from ._reference import ImageReference
from ._vendors import GOOGLE_DANGLING_PARENT

GC_NOTE = ('the manifests are deleted; their blobs stay on the registry storage until the registry operator runs garbage collection '
           '(distribution: registry garbage-collect)')
CHECK_MODE_NOTE = ('check mode cannot learn whether registry %s deletes single tags without sending a DELETE, so it shows what a registry '
                   'that deletes by digest only (distribution 2.x, Harbor) would do')


class CollateralTagsError(RegistryError):
    kind = 'collateral_tags'


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


class RepositoryDeleter:
    """Deletes named tags and digests, or every tag, of one repository."""

    def __init__(self, client: RegistryClient, repo: ImageReference, force: bool, check_mode: bool) -> None:
        self.client, self.repo, self.force, self.check_mode = client, repo, force, check_mode
        self.kind = client.vendors.delete_kind(repo.registry)
        self.out = Outcome()
        self._heads: t.Dict[str, t.Optional[Descriptor]] = {}
        self._manifests: t.Dict[str, t.Optional[Manifest]] = {}
        self._tags: t.Optional[t.Dict[str, str]] = None
        self._google: t.Optional[t.Dict[str, t.Dict[str, t.Any]]] = None
        self._tag_delete: t.Dict[str, bool] = {}  # per registry host, learned from its answer to the first tag DELETE
        self._probe: t.Optional[UnsupportedError] = None

    # Reads

    def tag_digest(self, tag: str) -> t.Optional[str]:
        if self.kind == 'google':
            return self.all_tags().get(tag)
        if tag not in self._heads:
            try:
                self._heads[tag] = self.client.head_manifest(self.repo.with_tag(tag))
            except NotFoundError:
                self._heads[tag] = None
        head = self._heads[tag]
        return head.digest if head else None

    def all_tags(self) -> t.Dict[str, str]:
        """Every tag of the repository -> its digest (one HEAD per tag; one list on Google)."""
        if self._tags is None:
            if self.kind == 'google':
                self._google = self.client.google(self.repo).manifests()
                self._tags = {tag: digest for digest, entry in self._google.items() for tag in entry['tags']}
            else:
                try:
                    names = sorted(set(self.client.list_tags(self.repo)))
                except NotFoundError:
                    names = []
                found = {name: self.tag_digest(name) for name in names}
                self._tags = {name: digest for name, digest in found.items() if digest}
        return self._tags

    def manifest(self, digest: str) -> t.Optional[Manifest]:
        if digest not in self._manifests:
            try:
                self._manifests[digest] = self.client.get_manifest(self.repo.with_digest(digest))
            except NotFoundError:
                self._manifests[digest] = None
        return self._manifests[digest]

    def is_index(self, digest: str) -> bool:
        known = [h.media_type for h in self._heads.values() if h and h.digest == digest and h.media_type]
        if self._google is not None and digest in self._google:
            known.append(self._google[digest]['media_type'])
        if known:
            return known[0] in INDEX_TYPES
        found = self.manifest(digest)
        return bool(found and found.is_index)

    def children(self, digest: str) -> t.List[str]:
        found = self.manifest(digest) if self.is_index(digest) else None
        return [str(c['digest']) for c in found.children if c['digest']] if found else []

    # Planning and deleting

    def delete(self, tags: t.List[str], digests: t.List[str]) -> Outcome:
        if self.kind == 'docker_hub':
            return self._hub_tags(tags, digests)
        present = {}
        for tag in tags:
            digest = self.tag_digest(tag)
            if digest:
                present[tag] = digest
            else:
                self.out.absent.append(tag)
        named = []
        for digest in digests:
            if self._exists(digest):
                named.append(digest)
            else:
                self.out.absent.append(digest)
        self._refuse_collateral(named, set(present))  # before anything is deleted
        by_tag = self._supports_tag_delete(present)
        if by_tag:
            for tag, digest in present.items():
                self._delete_tag(tag, digest)
            targets = named
            if self.kind == 'google':  # untagged now: the manifest goes too, unless another tag still holds it
                left = {d for tag, d in self.all_tags().items() if tag not in present}
                targets = named + [d for d in dict.fromkeys(present.values()) if d not in left and d not in named]
        else:
            targets = named + [d for d in dict.fromkeys(present.values()) if d not in named]
            self._refuse_collateral(targets, set(present))
        self._delete_manifests(targets, keep_tags=set(self.all_tags()) - set(present) - set(self.out.collateral) if targets else set())
        return self.out

    def delete_all(self) -> Outcome:
        """Every tag and the manifests they point at (Docker Hub: the repository itself)."""
        if self.kind == 'docker_hub':
            tags = self.client.docker_hub(self.repo).tags()
            self.out.deleted = [{'tag': tag, 'digest': digest} for tag, digest in sorted(tags.items())]
            self.out.repository_deleted = bool(tags) if self.check_mode else self._send(lambda: self.client.docker_hub(self.repo).delete_repository())
            if not self.out.repository_deleted:
                self.out.absent.append(self.repo.name)
            return self.out
        tags = self.all_tags()
        targets = list(dict.fromkeys(tags[tag] for tag in sorted(tags)))
        if self._google:  # Google also lists untagged manifests: they go too
            targets += [d for d in self._google if d not in targets]
        if not targets:
            self.out.absent.append(self.repo.name)
            return self.out
        self._delete_manifests(targets, keep_tags=set())
        self.out.notes.append(GC_NOTE)
        return self.out

    def _exists(self, digest: str) -> bool:
        if self.kind == 'google':
            self.all_tags()
            return digest in (self._google or {})
        return self.manifest(digest) is not None

    def _supports_tag_delete(self, present: t.Dict[str, str]) -> bool:
        """Google untags by tag; an OCI registry is asked once, with the first tag (that DELETE is the real one)."""
        if self.kind == 'google':
            return True
        host = self.repo.api_host
        if host not in self._tag_delete and present:
            if self.check_mode:
                self.out.notes.append(CHECK_MODE_NOTE % self.repo.registry)
                return False
            tag, digest = next(iter(present.items()))
            try:
                deleted = self.client.delete_tag(self.repo, tag)
            except UnsupportedError as exc:
                self._tag_delete[host], self._probe = False, exc
            except RegistryError as exc:
                raise self._partial(exc) from None
            else:
                self._tag_delete[host] = True
                if deleted:
                    self._record_tag(tag, digest)
        return self._tag_delete.get(host, False)

    def _refuse_collateral(self, digests: t.List[str], named_tags: t.Set[str]) -> None:
        """Tags that deleting these digests would take along: refused unless force, else reported."""
        if not digests:
            return
        tags = self.all_tags()
        found = [tag for tag in sorted(tags) if tags[tag] in digests and tag not in named_tags]
        if found and not self.force:
            why = ''
            if self._probe is not None:
                why = ' (the registry deletes by digest only: %s)' % self._probe.msg
            raise CollateralTagsError(
                'deleting %s in %s would also delete the tags %s, which point at the same manifest%s; nothing was deleted' % (
                    ', '.join(sorted(set(digests) & set(tags.values())) or digests), self.repo.name, ', '.join(found), why),
                codes=['COLLATERAL_TAGS'],
                hint='set force: true to delete them too, or delete only by tag on a registry that supports tag deletion')
        self.out.collateral.extend(tag for tag in found if tag not in self.out.collateral)

    def _delete_manifests(self, targets: t.List[str], keep_tags: t.Set[str]) -> None:
        """Delete manifests by digest, indexes first, then index children nothing left in the repository uses."""
        if not targets:
            return
        ordered = sorted(dict.fromkeys(targets), key=lambda d: not self.is_index(d))
        tags = self.all_tags()
        candidates = [c for d in ordered for c in self.children(d) if c not in ordered]
        if candidates:
            kept = {tags[tag] for tag in keep_tags}
            for digest in sorted(kept):
                kept.update(self.children(digest))
            candidates = [c for c in dict.fromkeys(candidates) if c not in kept]
        for digest in ordered + candidates:
            on_it = [tag for tag in sorted(tags) if tags[tag] == digest and tag not in keep_tags]
            if self.kind == 'google':  # untag first, or Google answers GOOGLE_MANIFEST_DANGLING_TAG
                for tag in on_it:
                    if not any(d['tag'] == tag for d in self.out.deleted):
                        self._delete_tag(tag, digest)
            if not self._delete_digest(digest, digest in candidates):
                continue
            self.out.manifests.append(digest)
            for tag in on_it:
                self._record_tag(tag, digest)
            if not on_it and not any(d['digest'] == digest for d in self.out.deleted):
                self.out.deleted.append({'tag': None, 'digest': digest})

    def _delete_tag(self, tag: str, digest: str) -> None:
        if self.check_mode or self._send(lambda: self.client.delete_tag(self.repo, tag)):
            self._record_tag(tag, digest)

    def _delete_digest(self, digest: str, child: bool) -> bool:
        if self.check_mode:
            return True
        ref = self.repo.with_digest(digest)
        try:
            return self.client.delete_manifest(ref)
        except UnsupportedError as exc:
            if exc.status != 405:
                raise self._partial(exc) from None
            raise self._partial(UnsupportedError(
                'registry %s refuses to delete manifests in %s (HTTP 405 %s): deletes are disabled on it' % (
                    self.repo.registry, self.repo.name, '/'.join(exc.codes)), status=405, codes=exc.codes, url=exc.url,
                hint='on a distribution registry set storage.delete.enabled: true (or REGISTRY_STORAGE_DELETE_ENABLED=true); '
                     'GHCR and Docker Hub do not delete through the registry API')) from None
        except RegistryError as exc:
            if child and GOOGLE_DANGLING_PARENT in exc.codes:
                return False  # another index still uses it: kept
            raise self._partial(exc) from None

    def _record_tag(self, tag: str, digest: str) -> None:
        if not any(d['tag'] == tag for d in self.out.deleted):
            self.out.deleted.append({'tag': tag, 'digest': digest})

    def _send(self, action: t.Callable[[], bool]) -> bool:
        """Run one tag DELETE; a failure says what was already deleted."""
        try:
            return action()
        except RegistryError as exc:
            raise self._partial(exc) from None

    def _partial(self, exc: RegistryError) -> RegistryError:
        done = ', '.join('%s (%s)' % (d['tag'], d['digest']) if d['tag'] else str(d['digest']) for d in self.out.deleted)
        return exc.with_message('%s; %s' % (exc.msg, 'already deleted before this failure: %s' % done if done else 'nothing was deleted'))

    def _hub_tags(self, tags: t.List[str], digests: t.List[str]) -> Outcome:
        if digests:
            raise InvalidInputError('Docker Hub deletes tags and whole repositories only (through its Hub API), not manifests by digest: '
                                    'name the tags in tags, or set all_tags: true')
        present = {}
        for tag in tags:
            exists, digest = self.client.docker_hub(self.repo).tag(tag)
            if exists:
                present[tag] = digest
            else:
                self.out.absent.append(tag)
        for tag, digest in present.items():
            if self.check_mode or self._send(lambda tag=tag: self.client.docker_hub(self.repo).delete_tag(tag)):  # type: ignore[misc]
                self.out.deleted.append({'tag': tag, 'digest': digest})
        return self.out


def parse_names(values: t.Sequence[t.Any], option: str, validate: t.Callable[[str], str]) -> t.List[str]:
    """Validated, de-duplicated tags or digests, in the order given; InvalidInputError names the option and the value."""
    result = []
    for value in values or []:
        try:
            result.append(validate(str(value)))
        except ValueError as exc:
            raise InvalidInputError('%s: %s' % (option, exc)) from None
    return list(dict.fromkeys(result))
