# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signatures on a registry WITH the OCI 1.1 referrers API.

Why a stand-in registry: the registry the harness runs (Debian's distribution 2.8) has no referrers
API, so the live suites (tests/live/test_signatures.py) only show the ``sha256-<hex>`` fallback tag.
This in-memory registry, served over real sockets on 127.0.0.1, answers ``GET /v2/<repo>/referrers/<digest>`` from the ``subject`` of the
manifests pushed to it and sends ``OCI-Subject`` on such a PUT, as an OCI 1.1 registry does; the
tests check that our reader uses that API (and never the fallback tag) and that our writer then
leaves the fallback tag alone.
"""

from __future__ import annotations

import json
import re
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.model import _signature as sig
from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest
from ansible_collections.oci.registry.plugins.module_utils.operations import _signatures as ops
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
OCI_INDEX = 'application/vnd.oci.image.index.v1+json'


class _Request(t.NamedTuple):
    method: str
    path_url: str
    headers: t.Mapping[str, str]
    body: bytes


class OCI11Registry:
    """Manifests, blobs, uploads and the referrers API of one in-memory registry."""

    def __init__(self) -> None:
        self.manifests: t.Dict[t.Tuple[str, str], t.Tuple[bytes, str]] = {}
        self.blobs: t.Dict[str, bytes] = {}
        self.seen: t.List[t.Tuple[str, str]] = []
        self.host = ''
        name = r'([a-z0-9/._-]+)'
        self.routes: t.List[t.Tuple[t.Tuple[str, ...], t.Pattern[str], t.Callable[[_Request], t.Tuple[int, t.Dict[str, str], bytes]]]] = [
            (('GET', 'HEAD', 'PUT'), re.compile(r'/v2/%s/manifests/([^/?]+)$' % name), self.manifest),
            (('GET', 'HEAD'), re.compile(r'/v2/%s/blobs/(sha256:[0-9a-f]{64})$' % name), self.blob),
            (('POST',), re.compile(r'/v2/%s/blobs/uploads/$' % name), self.start_upload),
            (('PUT',), re.compile(r'/v2/%s/blobs/uploads/session\?digest=.*' % name), self.finish_upload),
            (('GET',), re.compile(r'/v2/%s/referrers/(sha256:[0-9a-f]{64})$' % name), self.referrers),
        ]

    def answer(self, request: _Request) -> t.Tuple[int, t.Dict[str, str], bytes]:
        if request.path_url == '/v2/':
            return 200, {}, b'{}'
        for methods, pattern, handler in self.routes:
            if request.method in methods and pattern.match(request.path_url):
                return handler(request)
        return 404, {}, b'{"errors":[{"code":"UNSUPPORTED","message":"no route"}]}'

    def _parts(self, request: t.Any) -> t.List[str]:
        path = request.path_url.split('?')[0]
        self.seen.append((request.method, path))
        return path.split('/')

    def manifest(self, request: t.Any) -> t.Tuple[int, t.Dict[str, str], bytes]:
        parts = self._parts(request)
        repository, reference = '/'.join(parts[2:-2]), parts[-1]
        if request.method == 'PUT':
            body = request.body
            digest = compute_digest(body)
            self.manifests[(repository, reference)] = self.manifests[(repository, digest)] = (body, request.headers['Content-Type'])
            subject = json.loads(body).get('subject')
            return 201, dict({'Docker-Content-Digest': digest}, **({'OCI-Subject': subject['digest']} if subject else {})), b''
        if (repository, reference) not in self.manifests:
            return 404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
        body, media_type = self.manifests[(repository, reference)]
        headers = {'Content-Type': media_type, 'Docker-Content-Digest': compute_digest(body), 'Content-Length': str(len(body))}
        return 200, headers, body if request.method == 'GET' else b''

    def blob(self, request: t.Any) -> t.Tuple[int, t.Dict[str, str], bytes]:
        digest = self._parts(request)[-1]
        if digest not in self.blobs:
            return 404, {}, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}'
        return 200, {'Content-Length': str(len(self.blobs[digest]))}, self.blobs[digest] if request.method == 'GET' else b''

    def start_upload(self, request: t.Any) -> t.Tuple[int, t.Dict[str, str], bytes]:
        parts = self._parts(request)
        return 202, {'Location': '/v2/%s/blobs/uploads/session' % '/'.join(parts[2:-3])}, b''

    def finish_upload(self, request: t.Any) -> t.Tuple[int, t.Dict[str, str], bytes]:
        self._parts(request)
        body = request.body
        self.blobs[compute_digest(body)] = body
        return 201, {}, b''

    def referrers(self, request: t.Any) -> t.Tuple[int, t.Dict[str, str], bytes]:
        parts = self._parts(request)
        repository, digest = '/'.join(parts[2:-2]), parts[-1]
        entries = []
        for (repo, reference), (body, media_type) in self.manifests.items():
            document = json.loads(body)
            if repo == repository and reference.startswith('sha256:') and (document.get('subject') or {}).get('digest') == digest:
                entries.append({'mediaType': media_type, 'digest': reference, 'size': len(body),
                                'artifactType': document.get('artifactType'), 'annotations': document.get('annotations') or {}})
        return 200, {'Content-Type': OCI_INDEX}, json.dumps({'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': entries}).encode()


def _handler(registry: OCI11Registry) -> t.Type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def _serve(self) -> None:
            body = b''
            if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
                while True:
                    size = int(self.rfile.readline().split(b';')[0], 16)
                    chunk = self.rfile.read(size + 2)[:size]
                    if not size:
                        break
                    body += chunk
            elif self.headers.get('Content-Length'):
                body = self.rfile.read(int(self.headers['Content-Length']))
            status, headers, payload = registry.answer(_Request(self.command, self.path, self.headers, body))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if 'Content-Length' not in headers:
                self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(payload)

        do_GET = do_HEAD = do_PUT = do_POST = _serve

        def log_message(self, format: str, *args: t.Any) -> None:  # pylint: disable=redefined-builtin
            pass

    return Handler


@pytest.fixture
def registry() -> t.Iterator[OCI11Registry]:
    state = OCI11Registry()
    server = ThreadingHTTPServer(('127.0.0.1', 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.host = '127.0.0.1:%d' % server.server_address[1]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _image(registry: OCI11Registry) -> t.Tuple[str, str]:
    config = b'{"architecture":"amd64","os":"linux"}'
    registry.blobs[compute_digest(config)] = config
    manifest = json.dumps({'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'layers': [],
                           'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': compute_digest(config),
                                      'size': len(config)}}).encode()
    registry.manifests[('team/app', 'v1')] = registry.manifests[('team/app', compute_digest(manifest))] = (manifest, OCI_MANIFEST)
    return '%s/team/app:v1' % registry.host, compute_digest(manifest)


def _keys() -> t.Tuple[sig.PrivateKey, sig.PublicKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return sig.load_private_key(private, None, 'key'), sig.load_public_key(public, 'cosign.pub')


def test_bundle_written_and_read_through_the_referrers_api(registry: OCI11Registry) -> None:
    image, digest = _image(registry)
    signer, public = _keys()
    client = RegistryClient(ConnectionOptions(plain_http=True))
    ref = parse_image(image)
    written = ops.sign_image(client, ref, signer, sig.BUNDLE, {'build': '7'}, False)
    assert written['action'] == 'created'
    assert ('team/app', digest.replace(':', '-')) not in registry.manifests  # OCI-Subject answered: no fallback tag written

    registry.seen.clear()
    report = ops.verify_image(client, ref, digest, sig.Rule((public,)))
    assert report['verified'] and report['signatures'][0]['location'] == written['location']
    assert report['signatures'][0]['annotations'] == {'build': '7'}
    assert [method for method, _path in registry.seen] == ['GET'] * 4
    assert [path.split('/')[-2] for _m, path in registry.seen] == ['manifests', 'referrers', 'manifests', 'blobs']
    assert not any(path.endswith('/manifests/%s' % digest.replace(':', '-')) for _m, path in registry.seen)  # the API, not the fallback

    registry.seen.clear()
    again = ops.sign_image(client, ref, signer, sig.BUNDLE, None, False)
    assert again['action'] == 'unchanged' and not any(method in ('PUT', 'POST') for method, _path in registry.seen)


def test_unsigned_image_costs_two_requests_with_the_referrers_api(registry: OCI11Registry) -> None:
    image, digest = _image(registry)
    client = RegistryClient(ConnectionOptions(plain_http=True))
    assert ops.read_signatures(client, parse_image(image), digest, ()) == []
    assert [(m, p.split('/')[-2]) for m, p in registry.seen] == [('GET', 'manifests'), ('GET', 'referrers')]
