# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_repo_delete on Docker Hub and on Google, against a local http.server on 127.0.0.1.

Docker Hub's API (hub.docker.com) and Google's registries (gcr.io, *-docker.pkg.dev) cannot be
reached from the test machines and no local registry behaves like them, so these tests replay the
shapes those services are documented to send, from a small server: Hub's
``POST /v2/auth/token`` JWT, tag GET/DELETE, paged tag list and repository DELETE; Google's
extended ``tags/list`` (``manifest`` map), untag by tag DELETE, and its refusal to delete a digest
that still has tags (GOOGLE_MANIFEST_DANGLING_TAG) or an index child whose index is still there
(GOOGLE_MANIFEST_DANGLING_PARENT_IMAGE). The server is pointed at through the one vendor
seam, ``_vendors.VendorEndpoints`` (Hub API URL and the hosts that count as Google's).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.oci.registry.plugins.modules import registry_repo_delete as repo_delete
from ansible_collections.oci.registry.plugins.module_utils.model import _vendors
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.operations._delete import CollateralTagsError
from ansible_collections.oci.registry.plugins.module_utils.model._errors import AuthenticationError, InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import OCI_INDEX, OCI_MANIFEST
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

HUB_USER, HUB_SECRET, HUB_JWT = 'hubuser', 'dckr_pat_hub-secret-for-tests', 'hub-jwt-for-tests-0123456789'


def digest(data: bytes) -> str:
    return 'sha256:' + hashlib.sha256(data).hexdigest()


class Fake(ThreadingHTTPServer):
    """Holds the vendor state and every request seen as (method, path)."""

    def __init__(self) -> None:
        super().__init__(('127.0.0.1', 0), Handler)
        self.seen: t.List[t.Tuple[str, str]] = []
        self.hub_tags: t.Dict[str, t.Dict[str, t.Dict[str, t.Any]]] = {}  # repo -> tag -> Hub tag entry
        self.google: t.Dict[str, t.Dict[str, t.Dict[str, t.Any]]] = {}  # repo -> digest -> {raw, media_type, tags}

    @property
    def url(self) -> str:
        return 'http://127.0.0.1:%d' % self.server_address[1]


class Handler(BaseHTTPRequestHandler):
    server: Fake

    def log_message(self, *args: t.Any) -> None:
        pass

    def reply(self, status: int, body: t.Any = None, headers: t.Optional[t.Dict[str, str]] = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b''
        self.send_response(status)
        for key, value in (headers or {'Content-Type': 'application/json'}).items():
            self.send_header(key, value)
        self.send_header('Content-Length', str(len(raw)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(raw)

    def handle_any(self) -> None:
        self.server.seen.append((self.command, self.path))
        if self.path.startswith('/v2/auth/token') or self.path.startswith('/v2/repositories/'):
            return self.hub()
        return self.google()

    do_GET = do_HEAD = do_POST = do_DELETE = handle_any  # noqa: N815

    # Docker Hub API
    def hub(self) -> None:
        if self.command == 'POST':
            body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
            if body != {'identifier': HUB_USER, 'secret': HUB_SECRET}:
                return self.reply(401, {'detail': 'Incorrect authentication credentials'})
            return self.reply(200, {'access_token': HUB_JWT})
        if self.headers.get('Authorization') != 'Bearer ' + HUB_JWT:
            return self.reply(401, {'detail': 'authentication required'})
        match = re.match(r'^/v2/repositories/([^/]+/[^/]+)/(?:tags/([^/?]*)/?)?(?:\?(.*))?$', self.path)
        repo, tag, query = match.group(1), match.group(2), match.group(3) or ''
        tags = self.server.hub_tags.get(repo)
        if tags is None:
            return self.reply(404, {'message': 'object not found', 'errinfo': {}})
        if tag is None and self.command == 'DELETE':
            del self.server.hub_tags[repo]
            return self.reply(202, b'')
        if tag == '':  # list, two per page
            page = int(re.search(r'page=(\d+)', query).group(1)) if 'page=' in query else 1
            names = sorted(tags)
            more = len(names) > page * 2
            return self.reply(200, {'count': len(names), 'previous': None, 'results': [tags[n] for n in names[(page - 1) * 2:page * 2]],
                                    'next': '%s/v2/repositories/%s/tags/?page_size=100&page=%d' % (self.server.url, repo, page + 1) if more else None})
        if tag not in tags:
            return self.reply(404, {'message': 'object not found', 'errinfo': {}})
        if self.command == 'DELETE':
            del tags[tag]
            return self.reply(204, b'')
        return self.reply(200, tags[tag])

    # Google registry API
    def google(self) -> None:
        if self.path == '/v2/':
            return self.reply(200, {})
        match = re.match(r'^/v2/(.+)/(tags/list|manifests/([^/?]+))', self.path)
        repo, ref = match.group(1), match.group(3)
        manifests = self.server.google.get(repo, {})
        if ref is None:
            listing = {d: {'mediaType': m['media_type'], 'tag': m['tags'], 'imageSizeBytes': '1024', 'timeCreatedMs': '1700000000000',
                           'timeUploadedMs': '1700000000000'} for d, m in manifests.items()}
            return self.reply(200, {'name': repo, 'child': [], 'tags': sorted(t for m in manifests.values() for t in m['tags']),
                                    'manifest': listing})
        if self.command == 'GET':
            entry = manifests.get(ref) or next((m for m in manifests.values() if ref in m['tags']), None)
            if entry is None:
                return self.reply(404, {'errors': [{'code': 'MANIFEST_UNKNOWN', 'message': 'manifest unknown'}]})
            return self.reply(200, entry['raw'], {'Content-Type': entry['media_type'], 'Docker-Content-Digest': digest(entry['raw'])})
        if not ref.startswith('sha256:'):  # untag
            holder = next((m for m in manifests.values() if ref in m['tags']), None)
            if holder is None:
                return self.reply(404, {'errors': [{'code': 'MANIFEST_UNKNOWN', 'message': 'manifest unknown'}]})
            holder['tags'].remove(ref)
            return self.reply(202, b'')
        if ref not in manifests:
            return self.reply(404, {'errors': [{'code': 'MANIFEST_UNKNOWN', 'message': 'manifest unknown'}]})
        if manifests[ref]['tags']:
            return self.reply(400, {'errors': [{'code': _vendors.GOOGLE_DANGLING_TAG,
                                                'message': 'Manifest is still referenced by tag: %s' % manifests[ref]['tags'][0]}]})
        if any(ref in m['raw'].decode() for d, m in manifests.items() if d != ref):
            return self.reply(400, {'errors': [{'code': _vendors.GOOGLE_DANGLING_PARENT, 'message': 'Manifest is still referenced by a parent'}]})
        del manifests[ref]
        return self.reply(202, b'')


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[Fake]:
    server = Fake()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(RegistryClient, 'vendors', _vendors.VendorEndpoints(
        hub_api_url=server.url, google_hosts=frozenset({'127.0.0.1:%d' % server.server_address[1]})))
    yield server
    server.shutdown()
    server.server_close()


def hub_params(**kwargs: t.Any) -> t.Dict[str, t.Any]:
    values = {'repository': 'docker.io/team/app', 'tags': [], 'digests': [], 'all_tags': False, 'force': False}
    values.update(kwargs)
    return values


def hub_client(secret: str = HUB_SECRET) -> RegistryClient:
    return RegistryClient(ConnectionOptions(username=HUB_USER, password=secret, auth_method='password'))


def hub_tag(name: str, dig: str) -> t.Dict[str, t.Any]:
    return {'name': name, 'digest': dig, 'last_updated': '2024-01-02T03:04:05Z', 'full_size': 1024, 'tag_status': 'active',
            'images': [{'architecture': 'amd64', 'os': 'linux', 'variant': None, 'digest': dig, 'size': 1024}]}


def test_hub_deletes_one_tag_through_its_api(fake: Fake) -> None:
    fake.hub_tags['team/app'] = {'v1': hub_tag('v1', 'sha256:' + '1' * 64), 'latest': hub_tag('latest', 'sha256:' + '1' * 64)}
    client = hub_client()
    result = repo_delete.run(client, hub_params(tags=['v1', 'gone']), False)
    assert result['deleted'] == [{'tag': 'v1', 'digest': 'sha256:' + '1' * 64}] and result['already_absent'] == ['gone']
    assert result['collateral_tags'] == [] and sorted(fake.hub_tags['team/app']) == ['latest']  # Hub deletes only the tag
    assert fake.seen == [('POST', '/v2/auth/token'), ('GET', '/v2/repositories/team/app/tags/v1/'),
                         ('GET', '/v2/repositories/team/app/tags/gone/'), ('DELETE', '/v2/repositories/team/app/tags/v1/')]
    assert all(r.host == fake.url.split('//')[1] for r in client.log.records)  # nothing went to registry-1.docker.io
    rerun = repo_delete.run(hub_client(), hub_params(tags=['v1']), False)
    assert rerun['changed'] is False and [m for m, _p in fake.seen].count('DELETE') == 1


def test_hub_check_mode_and_whole_repository(fake: Fake) -> None:
    fake.hub_tags['team/app'] = {n: hub_tag(n, 'sha256:' + c * 64) for n, c in (('a', '1'), ('b', '2'), ('c', '3'))}
    checked = repo_delete.run(hub_client(), hub_params(all_tags=True), True)
    assert checked['changed'] and [d['tag'] for d in checked['deleted']] == ['a', 'b', 'c']  # listed over two pages
    assert 'DELETE' not in [m for m, _p in fake.seen]
    result = repo_delete.run(hub_client(), hub_params(all_tags=True), False)
    assert result['changed'] and 'team/app' not in fake.hub_tags
    assert fake.seen[-1] == ('DELETE', '/v2/repositories/team/app/')
    assert repo_delete.run(hub_client(), hub_params(all_tags=True), False)['changed'] is False


@pytest.mark.parametrize('kwargs,error,message', [
    ({'tags': ['v1']}, AuthenticationError, 'Docker Hub API login'),
    ({'digests': ['sha256:' + '1' * 64]}, InvalidInputError, 'tags and whole repositories only'),
])
def test_hub_refusals(fake: Fake, kwargs: t.Dict[str, t.Any], error: t.Type[Exception], message: str) -> None:
    fake.hub_tags['team/app'] = {'v1': hub_tag('v1', 'sha256:' + '1' * 64)}
    with pytest.raises(error, match=message) as info:
        repo_delete.run(hub_client('wrong-password'), hub_params(**kwargs), False)
    assert 'wrong-password' not in str(info.value) and HUB_JWT not in str(info.value)
    assert 'v1' in fake.hub_tags['team/app']


def google_seed(fake: Fake, repo: str) -> t.Dict[str, str]:
    """An image with tags v1+latest, an image with tag v2, and an index (tag multi) over two children."""
    def image(text: str) -> bytes:
        return json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'config': {'digest': digest(text.encode())}, 'layers': []}).encode()
    one, two, child_a, child_b = image('one'), image('two'), image('a'), image('b')
    index = json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': [
        {'mediaType': OCI_MANIFEST, 'digest': digest(c), 'size': len(c), 'platform': {'os': 'linux', 'architecture': a}}
        for c, a in ((child_a, 'amd64'), (child_b, 'arm64'))]}).encode()
    fake.google[repo] = {digest(raw): {'raw': raw, 'media_type': mt, 'tags': list(tags)} for raw, mt, tags in (
        (one, OCI_MANIFEST, ('v1', 'latest')), (two, OCI_MANIFEST, ('v2',)), (index, OCI_INDEX, ('multi',)),
        (child_a, OCI_MANIFEST, ()), (child_b, OCI_MANIFEST, ()))}
    return {'one': digest(one), 'two': digest(two), 'index': digest(index), 'a': digest(child_a), 'b': digest(child_b)}


def google_params(fake: Fake, **kwargs: t.Any) -> t.Dict[str, t.Any]:
    values = {'repository': '127.0.0.1:%d/proj/app' % fake.server_address[1], 'tags': [], 'digests': [], 'all_tags': False, 'force': False}
    values.update(kwargs)
    return values


def google_client() -> RegistryClient:
    return RegistryClient(ConnectionOptions(plain_http=True, auth_method='none'))


def test_google_untags_and_deletes_the_manifest_only_when_no_tag_is_left(fake: Fake) -> None:
    d = google_seed(fake, 'proj/app')
    result = repo_delete.run(google_client(), google_params(fake, tags=['v1', 'v2']), False)
    # v1 untagged, its manifest kept for latest; v2 untagged and its manifest deleted after
    assert result['deleted'] == [{'tag': 'v1', 'digest': d['one']}, {'tag': 'v2', 'digest': d['two']}]
    assert result['deleted_manifests'] == [d['two']] and result['collateral_tags'] == []
    assert fake.google['proj/app'][d['one']]['tags'] == ['latest'] and d['two'] not in fake.google['proj/app']
    deletes = [p.rsplit('/', 1)[-1] for m, p in fake.seen if m == 'DELETE']
    assert deletes == ['v1', 'v2', d['two']]
    assert [m for m, p in fake.seen if 'tags/list' in p] == ['GET']  # one list gives every tag and digest


def test_google_digest_with_tags_needs_force_then_untags_first(fake: Fake) -> None:
    d = google_seed(fake, 'proj/app')
    with pytest.raises(CollateralTagsError, match='latest, v1'):
        repo_delete.run(google_client(), google_params(fake, digests=[d['one']]), False)
    assert 'DELETE' not in [m for m, _p in fake.seen]
    result = repo_delete.run(google_client(), google_params(fake, digests=[d['one']], force=True), False)
    assert result['collateral_tags'] == ['latest', 'v1'] and d['one'] not in fake.google['proj/app']
    assert [p.rsplit('/', 1)[-1] for m, p in fake.seen if m == 'DELETE'] == ['latest', 'v1', d['one']]


def test_google_index_before_children_and_whole_repository(fake: Fake) -> None:
    d = google_seed(fake, 'proj/app')
    result = repo_delete.run(google_client(), google_params(fake, tags=['multi']), False)
    assert result['deleted_manifests'] == [d['index'], d['a'], d['b']]
    assert [p.rsplit('/', 1)[-1] for m, p in fake.seen if m == 'DELETE'] == ['multi', d['index'], d['a'], d['b']]
    whole = repo_delete.run(google_client(), google_params(fake, all_tags=True), False)
    assert sorted(whole['deleted_manifests']) == sorted([d['one'], d['two']]) and fake.google['proj/app'] == {}
