# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_sync's plan and its apply over an in-memory registry client that records every call.

The fake stands in for RegistryClient (the copy engine and the delete planner run for real on top
of it) because these tables need what no local registry does on demand: a pull allowance that runs
out, a 429, a listing that fails, and an exact record of every request a plan sends, asserted here
as the plan's values and the writes (none in check mode). tests/live/test_registry_sync.py runs the
same module against real registries.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.client._client import Descriptor, TagListing
from ansible_collections.oci.registry.plugins.module_utils.model._errors import NotFoundError, RateLimitedError, RegistryError, UnsupportedError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import OCI_INDEX, OCI_MANIFEST, Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.model._vendors import VENDOR_ENDPOINTS
from ansible_collections.oci.registry.plugins.module_utils.operations._copy import CopyContext, copy_image
from ansible_collections.oci.registry.plugins.module_utils.operations import _sync as sync_module
from ansible_collections.oci.registry.plugins.module_utils.operations._sync import Prefetched, Sync, sync
from ansible_collections.oci.registry.plugins.module_utils.operations._sync_model import parse
from ansible_collections.oci.registry.plugins.module_utils.stores._store import NewRepository, RegistryRepository
from ansible_collections.oci.registry.plugins.module_utils.operations._sync_plan import (
    ERROR, IMMUTABLE, MISSING, PRUNE_MAX, RATE_LIMIT, REFUSED, STOPPED, Action, PruneGroup,
)
from ansible_collections.oci.registry.plugins.module_utils.operations._sync_result import SyncFailedError
from ansible_collections.oci.registry.plugins.module_utils.wire._transport import RequestLog

SRC, DST = 'src.test', 'dst.test'
WRITES = ('PUT', 'POST', 'PATCH', 'DELETE')


def digest_of(data: bytes) -> str:
    return 'sha256:' + hashlib.sha256(data).hexdigest()


class Repo:
    def __init__(self) -> None:
        self.tags: t.Dict[str, str] = {}
        self.manifests: t.Dict[str, t.Tuple[bytes, str]] = {}
        self.blobs: t.Dict[str, bytes] = {}


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def iter_content(self, size: int) -> t.Iterator[bytes]:
        return iter([self.data[i:i + size] for i in range(0, len(self.data), size)])

    def close(self) -> None:
        pass


class FakeClient:
    """RegistryClient's methods that sync, the copy engine and the delete planner call, over dicts; every call is logged
    as the HTTP request it stands for. Deletes behave as distribution's: by digest only, a tag DELETE is refused."""

    vendors = VENDOR_ENDPOINTS

    def __init__(self) -> None:
        self.repos: t.Dict[t.Tuple[str, str], Repo] = {}
        self.log = RequestLog()
        self.pulls: t.Dict[str, int] = {}  # host -> pulls left (manifest GETs); a host not here has no limit
        self.failing: t.Dict[t.Tuple[str, str], RegistryError] = {}  # (method, path part) -> error

    # test helpers

    def repo(self, host: str, name: str) -> Repo:
        return self.repos.setdefault((host, name), Repo())

    def push(self, host: str, name: str, tags: t.Sequence[str], content: str) -> str:
        repo = self.repo(host, name)
        config, layer = json.dumps({'content': content}).encode(), ('layer ' + content).encode()
        repo.blobs.update({digest_of(config): config, digest_of(layer): layer})
        raw = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
                          'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': digest_of(config), 'size': len(config)},
                          'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': digest_of(layer), 'size': len(layer)}]},
                         sort_keys=True).encode()
        return self._tag(repo, raw, OCI_MANIFEST, tags)

    def push_index(self, host: str, name: str, tags: t.Sequence[str], children: t.Sequence[str]) -> str:
        repo = self.repo(host, name)
        raw = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': [
            {'mediaType': OCI_MANIFEST, 'digest': child, 'size': len(repo.manifests[child][0]),
             'platform': {'os': 'linux', 'architecture': arch}} for child, arch in zip(children, ('amd64', 'arm64'))]}).encode()
        return self._tag(repo, raw, OCI_INDEX, tags)

    @staticmethod
    def _tag(repo: Repo, raw: bytes, media_type: str, tags: t.Sequence[str]) -> str:
        repo.manifests[digest_of(raw)] = (raw, media_type)
        repo.tags.update({tag: digest_of(raw) for tag in tags})
        return digest_of(raw)

    def requests(self, method: t.Optional[str] = None, host: t.Optional[str] = None) -> t.List[t.Tuple[str, str]]:
        return [(r.method, r.path) for r in self.log.records if (method is None or r.method == method) and (host is None or r.host == host)]

    def writes(self) -> t.List[t.Tuple[str, str]]:
        return [(r.method, r.path) for r in self.log.records if r.method in WRITES]

    # the client's calls

    def _call(self, method: str, ref: ImageReference, path: str) -> Repo:
        url = 'https://%s/v2/%s/%s' % (ref.api_host, ref.repository, path)
        self.log.add(method, url, 200)
        for (fail_method, part), error in self.failing.items():
            if fail_method == method and part in url:
                raise error
        return self.repos.get((ref.api_host, ref.repository)) or Repo()

    def _ratelimit(self, host: str, spend: bool, url: str) -> t.Optional[t.Dict[str, t.Any]]:
        if host not in self.pulls:
            return None
        if spend:
            if self.pulls[host] <= 0:
                raise RateLimitedError('registry %s answered 429 Too Many Requests' % host, status=429, url=url)
            self.pulls[host] -= 1
        return {'limit': 100, 'remaining': self.pulls[host], 'window_seconds': 21600, 'source': None}

    def _find(self, repo: Repo, ref: ImageReference, reference: str) -> str:
        digest = repo.tags.get(reference, reference if reference in repo.manifests else None)
        if digest is None:
            raise NotFoundError('image %s@%s not found' % (ref.name, reference), status=404)
        return digest

    def list_tags_detailed(self, ref: ImageReference, page_size: t.Optional[int] = None) -> TagListing:
        return TagListing(self.list_tags(ref), {})

    def list_tags(self, ref: ImageReference, page_size: t.Optional[int] = None) -> t.List[str]:
        if (ref.api_host, ref.repository) not in self.repos:
            self._call('GET', ref, 'tags/list')
            raise NotFoundError('repository name not known to registry', status=404, codes=['NAME_UNKNOWN'])
        return sorted(self._call('GET', ref, 'tags/list').tags)

    def head_manifest(self, ref: ImageReference) -> Descriptor:
        repo = self._call('HEAD', ref, 'manifests/%s' % ref.reference)
        digest = self._find(repo, ref, ref.reference)
        raw, media_type = repo.manifests[digest]
        return Descriptor(digest, media_type, len(raw), self._ratelimit(ref.api_host, False, ''))

    def get_manifest(self, ref: ImageReference, reference: t.Optional[str] = None) -> Manifest:
        reference = reference or ref.reference
        url = 'https://%s/v2/%s/manifests/%s' % (ref.api_host, ref.repository, reference)
        repo = self._call('GET', ref, 'manifests/%s' % reference)
        ratelimit = self._ratelimit(ref.api_host, True, url)
        raw, media_type = repo.manifests[self._find(repo, ref, reference)]
        return Manifest.from_bytes(raw, media_type, ratelimit=ratelimit)

    def put_manifest(self, ref: ImageReference, raw: bytes, media_type: str) -> str:
        self._call('PUT', ref, 'manifests/%s' % ref.reference)
        self._tag(self.repo(ref.api_host, ref.repository), raw, media_type, [ref.tag] if ref.tag else [])
        return digest_of(raw)

    def delete_manifest(self, ref: ImageReference) -> bool:
        repo = self._call('DELETE', ref, 'manifests/%s' % ref.reference)
        if ref.digest not in repo.manifests:
            return False
        del repo.manifests[ref.digest]
        repo.tags = {tag: digest for tag, digest in repo.tags.items() if digest != ref.digest}
        return True

    def delete_tag(self, ref: ImageReference, tag: str) -> bool:
        self._call('DELETE', ref, 'manifests/%s' % tag)
        raise UnsupportedError('registry %s does not delete tags by name' % ref.registry, status=400, codes=['DIGEST_INVALID'])

    def blob_exists(self, ref: ImageReference, digest: str) -> bool:
        return digest in self._call('HEAD', ref, 'blobs/%s' % digest).blobs

    def open_blob(self, ref: ImageReference, digest: str) -> Body:
        return Body(self._call('GET', ref, 'blobs/%s' % digest).blobs[digest])

    def mount_blob(self, target: ImageReference, digest: str, source_repository: str) -> bool:
        self._call('POST', target, 'blobs/uploads/?mount=%s' % digest)
        found = self.repos.get((target.api_host, source_repository))
        if found is None or digest not in found.blobs:
            return False
        self.repo(target.api_host, target.repository).blobs[digest] = found.blobs[digest]
        return True

    def start_upload(self, target: ImageReference, digest: str) -> str:
        self._call('POST', target, 'blobs/uploads/')
        return 'upload'

    def finish_upload(self, target: ImageReference, digest: str, url: str, data: t.Any, size: t.Optional[int] = None) -> None:
        self._call('PUT', target, 'blobs/uploads/upload?digest=%s' % digest)
        self.repo(target.api_host, target.repository).blobs[digest] = data if isinstance(data, bytes) else b''.join(data)

    def cancel_upload(self, target: ImageReference, url: str) -> None:
        self._call('DELETE', target, 'blobs/uploads/upload')

    def referrers(self, ref: ImageReference, digest: str) -> t.List[t.Dict[str, t.Any]]:
        self._call('GET', ref, 'referrers/%s' % digest)
        return []


def params(*entries: t.Dict[str, t.Any], **extra: t.Any) -> t.Dict[str, t.Any]:
    return dict({'repositories': list(entries)}, **extra)


def entry(name: str = 'app', target: t.Optional[str] = None, **extra: t.Any) -> t.Dict[str, t.Any]:
    return dict({'source': '%s/%s' % (SRC, name), 'target': '%s/%s' % (DST, target or name)}, **extra)


def run(client: FakeClient, task: t.Dict[str, t.Any], check_mode: bool = False) -> t.Tuple[t.Dict[str, t.Any], t.Optional[str]]:
    """(result, failure message or None), as the module gets them."""
    try:
        return sync(client, client, task, check_mode), None
    except SyncFailedError as exc:
        return exc.result, exc.message


def actions(result: t.Dict[str, t.Any]) -> t.Dict[t.Optional[str], str]:
    return {r['tag']: r['action'] for r in result['results']}


def planned(client: FakeClient, task: t.Dict[str, t.Any], check_mode: bool = True) -> t.Tuple[Sync, t.Any]:
    entries, options = parse(task)
    runner = Sync(client, client, options, check_mode)
    return runner, runner.plan(entries)


@pytest.fixture
def client() -> FakeClient:
    fake = FakeClient()
    for tag in ('1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1', '2.0.0', 'latest', 'edge'):
        fake.push(SRC, 'app', [tag], tag)
    return fake


SELECTIONS = [
    (None, ['1.0.0', '1.1.0', '1.2.0', '2.0.0', '2.0.0-rc.1', 'edge', 'latest']),
    ({'match': r'^1\.'}, ['1.0.0', '1.1.0', '1.2.0']),
    ({'exclude': r'^\d'}, ['edge', 'latest']),
    ({'semver': '>=1.1.0 <3'}, ['1.1.0', '1.2.0', '2.0.0']),
    ({'semver': '>=2.0.0-rc.1'}, ['2.0.0', '2.0.0-rc.1']),
    ({'semver': '>=1.0.0', 'sort': 'semver', 'order': 'desc', 'limit': 2}, ['1.2.0', '2.0.0']),
    ({'names': ['edge', '1.0.0']}, ['1.0.0', 'edge']),
    ({'names': ['edge', 'latest'], 'match': '^e'}, ['edge']),
]


@pytest.mark.parametrize('tags,selected', SELECTIONS)
def test_tag_selection(client: FakeClient, tags: t.Optional[t.Dict[str, t.Any]], selected: t.List[str]) -> None:
    _runner, plan = planned(client, params(entry(tags=tags)))
    assert sorted(item.tag for item in plan.tags) == selected
    assert {item.action for item in plan.tags} == {Action.CREATED}
    assert not plan.prunes and not plan.prune_results
    assert client.writes() == [] and client.requests('GET', SRC) == [('GET', '/v2/app/tags/list')]
    # the target does not have the repository: the first tag's HEAD misses, so one tag list (NAME_UNKNOWN) instead of
    # a HEAD for every other tag
    target = client.requests(host=DST)
    assert sorted(method for method, _path in target) == (['GET', 'HEAD'] if len(selected) > 1 else ['HEAD'])
    assert [path.rsplit('/', 1)[1] for method, path in target if method == 'HEAD'][0] in selected


def test_named_tags_missing_or_moved_fail_and_the_rest_go_on(client: FakeClient) -> None:
    edge = client.repo(SRC, 'app').tags['edge']
    pinned = client.repo(SRC, 'app').tags['1.0.0']
    result, failure = run(client, params(entry(tags={'names': ['1.0.0@%s' % pinned, 'edge@%s' % pinned, 'nope']})))
    assert actions(result) == {'1.0.0': 'created', 'edge': 'failed', 'nope': 'failed'}
    rows = {r['tag']: r for r in result['results']}
    assert rows['edge']['source_digest'] == edge and pinned in rows['edge']['reason'] and 'moved' in rows['edge']['reason']
    assert rows['nope']['reason'] == 'tag nope is not in the source repository %s/app' % SRC
    assert failure is not None and failure.startswith('2 of 3 results failed or were blocked: ')
    _runner, plan = planned(client, params(entry('app', 'other', tags={'names': ['nope']})))
    assert [(i.action, i.reason.kind if i.reason else None) for i in plan.tags] == [(Action.FAILED, MISSING)]


@pytest.mark.parametrize('target_state,action,previous', [
    ('same', Action.UNCHANGED, 'source'),
    ('other', Action.UPDATED, 'other'),
    ('none', Action.CREATED, None),
])
def test_digests_equal_or_different(client: FakeClient, target_state: str, action: Action, previous: t.Optional[str]) -> None:
    source = client.repo(SRC, 'app').tags['1.0.0']
    other = client.push(DST, 'app', ['unrelated'], 'unrelated')
    if target_state == 'same':
        client.push(DST, 'app', ['1.0.0'], '1.0.0')
    elif target_state == 'other':
        client.repo(DST, 'app').tags['1.0.0'] = other
    _runner, plan = planned(client, params(entry(tags={'names': ['1.0.0']})))
    [item] = plan.tags
    expected_previous = {'source': source, 'other': other, None: None}[previous]
    assert (item.action, item.source_digest, item.previous_digest, item.target_digest) == (
        action, source, expected_previous, expected_previous if action is Action.UNCHANGED else source)
    # one HEAD on each side, nothing else but the source's tag list
    assert client.requests() == [('GET', '/v2/app/tags/list'), ('HEAD', '/v2/app/manifests/1.0.0'), ('HEAD', '/v2/app/manifests/1.0.0')]


def test_a_new_tag_is_read_once_the_plan_gets_the_manifest_its_copy_uses(client: FakeClient) -> None:
    """Outside check mode a tag the target lacks costs one source GET at plan time and none in its copy."""
    result, failure = run(client, params(entry(tags={'names': ['1.0.0', 'edge']})))
    assert failure is None and actions(result) == {'1.0.0': 'created', 'edge': 'created'}
    reads = sorted(r for r in client.requests(host=SRC) if '/blobs/' not in r[1])
    assert reads == [('GET', '/v2/app/manifests/1.0.0'), ('GET', '/v2/app/manifests/edge'), ('GET', '/v2/app/tags/list')]
    # the target has no such repository: after the first tag's HEAD misses, its tag list answers NAME_UNKNOWN, and no
    # other HEAD follows, for a tag, a manifest or a blob
    assert client.requests('HEAD', DST) == [('HEAD', '/v2/app/manifests/1.0.0')] and client.requests('GET', DST) == [('GET', '/v2/app/tags/list')]
    assert sorted(client.repo(DST, 'app').tags) == ['1.0.0', 'edge']


def test_repositories_of_one_whole_registry_entry_are_compared_each_against_its_own_target(client: FakeClient) -> None:
    """The repositories a whole-registry entry expands to share its number: each tag must meet its own target's digest."""
    client.push(SRC, 'other', ['1.0.0', 'edge'], 'other image')
    client.push(DST, 'app', ['1.0.0', 'edge'], '1.0.0')
    client.push(DST, 'other', ['1.0.0', 'edge'], 'other image')
    entries, options = parse(params(entry(tags={'names': ['1.0.0', 'edge']}), entry('other', tags={'names': ['1.0.0', 'edge']})))
    entries = [dataclasses.replace(e, number=0) for e in entries]
    plan = Sync(client, client, options, True).plan(entries)
    assert {(i.entry.source.repository, i.tag): (i.action, i.previous_digest) for i in plan.tags} == {
        ('app', '1.0.0'): (Action.UNCHANGED, client.repo(DST, 'app').tags['1.0.0']),
        ('app', 'edge'): (Action.UPDATED, client.repo(DST, 'app').tags['edge']),
        ('other', '1.0.0'): (Action.UNCHANGED, client.repo(DST, 'other').tags['1.0.0']),
        ('other', 'edge'): (Action.UNCHANGED, client.repo(DST, 'other').tags['edge'])}


def test_a_new_repository_answers_from_what_the_task_wrote(client: FakeClient) -> None:
    source = RegistryRepository(client, ImageReference.parse('%s/app' % SRC))
    target = NewRepository(client, ImageReference.parse('%s/fresh' % DST))
    digest = client.repo(SRC, 'app').tags['1.0.0']
    blobs = sorted(client.repo(SRC, 'app').blobs)
    assert target.manifest_digest('1.0.0') is None and target.manifest_digest(digest) is None
    assert not any(target.blob_exists(blob) for blob in blobs) and client.requests(host=DST) == []
    copy_image(source, target, '1.0.0', ['1.0.0'])
    assert target.manifest_digest('1.0.0') == digest and target.manifest_digest(digest) == digest
    written = set(client.repo(DST, 'fresh').blobs)
    assert written and all(target.blob_exists(blob) for blob in written)
    assert client.requests('HEAD', DST) == []  # every answer came from the record, and the copy asked nothing first
    assert client.repo(DST, 'fresh').tags == {'1.0.0': digest}


def test_a_target_missing_the_first_tag_is_listed_and_asked_only_about_the_tags_it_has(client: FakeClient) -> None:
    client.push(DST, 'app', ['edge'], 'edge')
    task = params(entry(tags={'names': ['1.0.0', 'edge', 'latest']}))
    result, failure = run(client, task)
    assert failure is None and actions(result) == {'1.0.0': 'created', 'edge': 'unchanged', 'latest': 'created'}
    target_manifest_heads = sorted(path for _method, path in client.requests('HEAD', DST) if '/manifests/' in path)
    assert target_manifest_heads == ['/v2/app/manifests/1.0.0', '/v2/app/manifests/edge']  # latest is not in the tag list: no HEAD
    assert client.requests('GET', DST) == [('GET', '/v2/app/tags/list')]
    assert [path for _method, path in client.requests('HEAD', DST) if '/blobs/' in path]  # an existing repository: blobs are asked about
    client.log.records.clear()
    result, failure = run(client, task)  # in step: the first tag's HEAD finds it, so a HEAD per tag and no listing
    assert actions(result) == {'1.0.0': 'unchanged', 'edge': 'unchanged', 'latest': 'unchanged'}
    assert sorted(client.requests(host=DST)) == [('HEAD', '/v2/app/manifests/%s' % tag) for tag in ('1.0.0', 'edge', 'latest')]


def test_check_mode_and_a_tag_the_target_has_read_the_source_with_a_head(client: FakeClient) -> None:
    client.repo(DST, 'app').tags['1.0.0'] = client.push(DST, 'app', ['unrelated'], 'unrelated')
    run(client, params(entry(tags={'names': ['1.0.0', 'edge']})), check_mode=True)
    by_tag = [r for r in client.requests(host=SRC) if r[1].endswith(('/1.0.0', '/edge'))]
    assert sorted(by_tag) == [('HEAD', '/v2/app/manifests/1.0.0'), ('HEAD', '/v2/app/manifests/edge')]  # the dry copies read by digest
    client.log.records.clear()
    result, _failure = run(client, params(entry(tags={'names': ['1.0.0']})))
    assert actions(result) == {'1.0.0': 'updated'}  # the target had the tag: HEAD in the plan, GET in the copy
    digest = client.repo(SRC, 'app').tags['1.0.0']
    assert [r for r in client.requests(host=SRC) if 'manifests' in r[1]] == [('HEAD', '/v2/app/manifests/1.0.0'), ('GET', '/v2/app/manifests/%s' % digest)]


def test_tags_sharing_a_digest_and_the_byte_budget(client: FakeClient) -> None:
    shared = client.push(SRC, 'app', ['stable', 'current'], 'one image, two tags')
    result, _failure = run(client, params(entry(tags={'names': ['stable', 'current']})))
    assert actions(result) == {'stable': 'created', 'current': 'created'}
    assert client.repo(DST, 'app').tags == {'stable': shared, 'current': shared}
    kept = Prefetched(budget=1)
    assert kept.room()
    manifest = client.get_manifest(ImageReference.parse('%s/app:stable' % SRC))
    kept.keep(ImageReference.parse('%s/app' % SRC), manifest)
    kept.keep(ImageReference.parse('%s/app' % SRC), manifest)  # a second tag of the same digest is not counted twice
    assert not kept.room() and kept.left == 1 - len(manifest.raw)
    assert kept.take(ImageReference.parse('%s/app' % SRC), shared) is manifest and kept.left == 1 and kept.room()
    assert kept.take(ImageReference.parse('%s/app' % SRC), shared) is None  # handed over once


def test_past_the_byte_budget_the_plan_heads_again(client: FakeClient, monkeypatch: t.Any) -> None:
    monkeypatch.setattr(sync_module, 'PREFETCH_BYTES', 1)
    result, failure = run(client, params(entry(tags={'names': ['1.0.0', 'edge']}), workers=1))
    assert failure is None and actions(result) == {'1.0.0': 'created', 'edge': 'created'}
    manifest_reads = [r for r in client.requests(host=SRC) if 'manifests' in r[1]]
    # the first new tag fills the budget: the second is read with a HEAD in the plan and a GET (by digest) in its copy
    assert [method for method, _path in manifest_reads] == ['GET', 'HEAD', 'GET']


def test_the_verify_gate_asks_once_per_image_and_blocks_every_tag_on_it(client: FakeClient) -> None:
    shared = client.push(SRC, 'app', ['stable', 'current'], 'one image, two tags')
    asked: t.List[t.Tuple[str, str]] = []

    def verifier(source: t.Any, digest: str) -> t.Optional[str]:
        asked.append((source.name, digest))
        return 'no valid signature' if digest == shared else None

    entries, options = parse(params(entry(tags={'names': ['stable', 'current', '1.0.0']})))
    result = Sync(client, client, options, False, verifier).run(entries)
    rows = {r['tag']: r for r in result['results']}
    assert {tag: row['action'] for tag, row in rows.items()} == {'stable': 'blocked', 'current': 'blocked', '1.0.0': 'created'}
    assert rows['stable']['reason'] == rows['current']['reason'] == 'no valid signature'
    assert sorted(asked) == sorted({(SRC + '/app', shared), (SRC + '/app', client.repo(SRC, 'app').tags['1.0.0'])})
    assert not [path for _method, path in client.writes() if path.endswith(('/stable', '/current'))]


def test_check_mode_sends_no_write_and_the_run_does_what_it_planned(client: FakeClient) -> None:
    client.push(DST, 'app', ['1.0.0'], '1.0.0')
    client.push(DST, 'app', ['1.1.0'], 'moved')
    client.push(DST, 'app', ['0.9.0'], 'gone upstream')
    task = params(entry(tags={'semver': '>=0.1.0 <2'}, prune=True))
    preview, failure = run(client, task, check_mode=True)
    assert failure is None and client.writes() == []
    assert not [p for m, p in client.requests('GET') if '/blobs/' in p]
    assert actions(preview) == {'0.9.0': 'pruned', '1.0.0': 'unchanged', '1.1.0': 'updated', '1.2.0': 'created'}
    done, failure = run(client, task)
    assert failure is None and done['results'] == preview['results'] and done['diff'] == preview['diff']
    assert done['copied_blobs'] == preview['copied_blobs'] == 4 and done['summary'] == preview['summary']
    assert sorted(client.repo(DST, 'app').tags) == ['1.0.0', '1.1.0', '1.2.0']
    again, failure = run(client, task)
    assert failure is None and again['changed'] is False and set(actions(again).values()) == {'unchanged'}


def test_immutable_tag_on_the_target_is_not_compared(client: FakeClient) -> None:
    client.push(DST, 'app', ['1.0.0'], 'whatever the target has')
    _runner, plan = planned(client, params(entry(tags={'match': r'^1\.[01]\.0$'}), immutable=[r'^\d+\.\d+\.\d+$']))
    by_tag = {item.tag: item for item in plan.tags}
    assert by_tag['1.0.0'].action is Action.UNCHANGED and by_tag['1.0.0'].reason is not None
    assert by_tag['1.0.0'].reason.kind == IMMUTABLE and by_tag['1.0.0'].source_digest is None
    assert by_tag['1.1.0'].action is Action.CREATED  # immutable, but the target lacks it: compared and copied
    assert ('HEAD', '/v2/app/manifests/1.0.0') not in client.requests()
    assert client.requests('GET', DST) == [('GET', '/v2/app/tags/list')]


@pytest.mark.parametrize('tags,prune,pruned', [
    ({'match': r'^1\.'}, False, []),  # prune off: the target's extra tags stay
    ({'match': r'^1\.'}, True, ['1.5.0']),  # 0.9.0 and keep-me are outside the selection
    ({'match': r'^\d'}, True, ['0.9.0', '1.5.0']),
    ({'semver': '>=1.0.0', 'sort': 'semver', 'order': 'desc', 'limit': 2}, True, ['1.0.0', '1.1.0', '1.5.0']),  # beyond limit too
])
def test_prune_within_the_selection_planned_before_apply(client: FakeClient, tags: t.Dict[str, t.Any], prune: bool, pruned: t.List[str]) -> None:
    for tag in ('0.9.0', '1.0.0', '1.1.0', '1.5.0', 'keep-me'):
        client.push(DST, 'app', [tag], 'target ' + tag)
    client.push(DST, 'app', ['sha256-%s' % ('ab' * 32), 'sha256-%s.sig' % ('cd' * 32)], 'signature')
    runner, plan = planned(client, params(entry(tags=tags, prune=prune)), check_mode=False)
    assert client.writes() == []  # the plan is made of reads, prunes included
    assert sorted(tag for group in plan.prunes for tag in group.tags) == pruned
    assert all(isinstance(group, PruneGroup) and group.digest for group in plan.prunes)
    result = runner.run(parse(params(entry(tags=tags, prune=prune)))[0])
    assert sorted(tag for tag, action in actions(result).items() if action == 'pruned') == pruned
    assert sorted(set(client.repo(DST, 'app').tags) & set(pruned)) == []
    assert ('sha256-%s.sig' % ('cd' * 32)) in client.repo(DST, 'app').tags


@pytest.mark.parametrize('prune_max,expected', [(2, 'blocked'), (3, 'pruned')])
def test_prune_max(client: FakeClient, prune_max: int, expected: str) -> None:
    for tag in ('3.0.0', '3.1.0', '3.2.0'):
        client.push(DST, 'app', [tag], 'gone ' + tag)
    task = params(entry(tags={'match': r'^3\.'}, prune=True), prune_max=prune_max)
    _runner, plan = planned(client, task)
    if expected == 'blocked':
        assert not plan.prunes and {(i.action, i.reason.kind) for i in plan.prune_results} == {(Action.BLOCKED, PRUNE_MAX)}
    result, failure = run(client, task)
    assert actions(result) == {'3.0.0': expected, '3.1.0': expected, '3.2.0': expected}
    if expected == 'blocked':
        assert failure is not None and '3 tags of %s/app would be pruned, more than prune_max (2)' % DST in failure
        assert client.writes() == [] and ('HEAD', '/v2/app/manifests/3.0.0') not in client.requests(host=DST)
    else:
        assert failure is None and not set(client.repo(DST, 'app').tags) & {'3.0.0', '3.1.0', '3.2.0'}


def test_prune_blocked_by_a_kept_tag_on_the_digest_or_an_index_that_stays(client: FakeClient) -> None:
    shared = client.push(DST, 'app', ['old', 'keep-me'], 'shared')  # deleting old's digest would take keep-me
    child = client.push(DST, 'app', ['child-old'], 'child')
    client.push_index(DST, 'app', ['multi'], [child])  # an index outside the selection lists child-old's manifest
    task = params(entry(tags={'match': '^(old|child-old|1.0.0)$'}, prune=True))
    result, failure = run(client, task)
    rows = {r['tag']: r for r in result['results']}
    assert {tag: row['action'] for tag, row in rows.items()} == {'1.0.0': 'created', 'child-old': 'blocked', 'old': 'blocked'}
    assert 'keep-me' in rows['old']['reason'] and rows['old']['target_digest'] == shared
    assert 'would break an index that stays' in rows['child-old']['reason']
    assert failure is not None and failure.startswith('2 of 3 results failed or were blocked')
    assert not [path for method, path in client.writes() if method == 'DELETE' and '/manifests/sha256:' in path]  # only the tag DELETE probe
    assert {'old', 'keep-me', 'child-old', 'multi'} <= set(client.repo(DST, 'app').tags)
    runner, plan = planned(client, task)
    results = runner.prune(plan)
    assert {r.reason.kind for r in results if r.reason} == {REFUSED}


@pytest.mark.parametrize('floor,pulls,created,skipped', [
    (5, 7, 2, 5),  # two pulls down to the floor, the rest left for a later run
    (5, 5, 0, 7),
    (0, 3, 3, 4),  # no floor: the 429 after the third pull stops the rest
])
def test_rate_floor_stops_copies_as_a_typed_reason(client: FakeClient, floor: int, pulls: int, created: int, skipped: int) -> None:
    client.pulls[SRC] = pulls
    result, failure = run(client, params(entry(), min_ratelimit_remaining=floor, workers=1))
    assert failure is None and result['partial'] is True
    assert (result['summary']['created'], result['summary']['skipped']) == (created, skipped)
    # every tag compared: under a floor by a HEAD, which spends no pull and shows the gate the allowance; without
    # one, the plan GETs the manifests the copies need (each spends the pull its copy would have)
    assert len(client.requests('HEAD', SRC)) == (7 if floor else 0)
    gate = result['ratelimit'][SRC]
    if floor:
        assert gate['remaining'] == floor and 'min_ratelimit_remaining is %d' % floor in gate['stopped']
    else:
        assert gate['stopped'] == 'registry %s answered 429 Too Many Requests' % SRC
    assert all(r['reason'].startswith('rate limit: ') for r in result['results'] if r['action'] == 'skipped')
    [warning] = result['warnings']
    assert warning.startswith('%d tags from registry %s were left for a later run' % (skipped, SRC)) and '21600 seconds' in warning


def test_a_skip_reads_its_kind_not_its_text(client: FakeClient) -> None:
    """A failure whose message starts like a rate-limit reason is still a failure, and the run is not partial."""
    for method in ('HEAD', 'GET'):  # the plan reads a tag the target lacks with a GET, in check mode with a HEAD
        client.failing[(method, '/manifests/edge')] = RegistryError('rate limit: a message that only looks like one')
    result, failure = run(client, params(entry(tags={'names': ['edge', 'latest']})))
    assert actions(result) == {'edge': 'failed', 'latest': 'created'} and result['partial'] is False
    assert failure is not None and result['warnings'] == []
    runner, plan = planned(client, params(entry(tags={'names': ['edge']})))
    assert [i.reason.kind for i in plan.tags if i.reason] == [ERROR]
    client.pulls[SRC] = 0  # the next manifest GET is answered 429
    runner, plan = planned(client, params(entry('app', 'fresh', tags={'names': ['latest']})))
    with CopyContext(workers=1, check_mode=True) as context:
        [skipped] = runner.apply(plan, context)
    assert skipped.action is Action.SKIPPED and skipped.reason is not None and skipped.reason.kind == RATE_LIMIT and skipped.rate_limited


@pytest.mark.parametrize('keep_going,second', [(True, 'created'), (False, 'skipped')])
def test_keep_going(client: FakeClient, keep_going: bool, second: str) -> None:
    client.push(DST, 'kept', ['0.1.0'], 'to prune')
    task = params(entry('missing', 'never'), entry('app', 'kept', tags={'semver': '<1.1.0'}, prune=True), keep_going=keep_going, workers=1)
    result, failure = run(client, task)
    rows = [(r['target'].split('/', 1)[1], r['tag'], r['action']) for r in result['results']]
    expected_prune = 'pruned' if keep_going else 'skipped'
    assert rows == [('never', None, 'failed'), ('kept', '0.1.0', expected_prune), ('kept', '1.0.0', second)]
    assert failure is not None and 'source repository %s/missing not found' % SRC in failure
    if not keep_going:
        reasons = {r['tag']: r['reason'] for r in result['results'][1:]}
        assert set(reasons.values()) == {'not attempted: an earlier failure stopped the sync (keep_going is false)'}
        assert client.writes() == [] and ('HEAD', '/v2/app/manifests/1.0.0') not in client.requests()
        _runner, plan = planned(client, task)
        assert {i.reason.kind for i in plan.tags + plan.prune_results if i.tag} == {STOPPED}


def test_source_before_target_everywhere(client: FakeClient) -> None:
    source, target = FakeClient(), FakeClient()
    source.repos, target.repos = client.repos, client.repos
    result = sync(source, target, params(entry(tags={'names': ['1.0.0']})), False)
    assert result['summary']['created'] == 1
    assert {r.host for r in source.log.records} == {SRC} and {r.host for r in target.log.records} == {DST}
