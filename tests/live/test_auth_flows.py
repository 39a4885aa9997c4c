# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Token flows, token expiry, the lookup's errors and proxies, against the harness's real registries and token server."""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
import types
import urllib.request

import pytest
import requests

from ansible_collections.oci.registry.plugins.module_utils.wire import _auth
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

from conftest import assert_ok


def offline_token(harness, user='reader'):
    """A refresh (identity) token from the token server, as `docker login` stores in identitytoken."""
    server = harness.token_server
    response = requests.get(server.realm, params={'service': server.service, 'offline_token': 'true', 'client_id': 'test'},
                            auth=(user, server.users[user]), timeout=10)
    response.raise_for_status()
    return response.json()['refresh_token']


def registry_token(harness, repository, user='reader'):
    server = harness.token_server
    response = requests.get(server.realm, params={'service': server.service, 'scope': 'repository:%s:pull' % repository},
                            auth=(user, server.users[user]), timeout=10)
    response.raise_for_status()
    return response.json()['token']


def test_ready_bearer_token_is_sent_as_is(harness):
    client = RegistryClient(ConnectionOptions(token=registry_token(harness, 'test/oci-image'), plain_http=True))
    found = client.resolve(parse_image('%s/test/oci-image:v1' % harness.token.host))
    assert found.digest == harness.seeded['token']['oci_image']['digest']
    # no token request at all: ping, then the HEAD with the given token
    assert [(r.method, r.path, r.status) for r in client.log.records] == [
        ('GET', '/v2/', 401), ('HEAD', '/v2/test/oci-image/manifests/v1', 200)]


@pytest.mark.parametrize('allow_post', [True, False], ids=['oauth2-post', 'get-fallback-on-404'])
def test_identity_token_option_is_exchanged_at_the_realm(harness, allow_post):
    server = harness.token_server
    server.allow_post = allow_post
    try:
        client = RegistryClient(ConnectionOptions(token=offline_token(harness), plain_http=True))
        ref = parse_image('%s/test/oci-image:v1' % harness.token.host)
        if allow_post:
            assert client.resolve(ref).digest == harness.seeded['token']['oci_image']['digest']
            calls = [(r.method, r.path, r.status) for r in client.log.records]
            # the token is first tried as a bearer token, refused, then exchanged with an OAuth2 POST
            assert calls == [('GET', '/v2/', 401), ('HEAD', '/v2/test/oci-image/manifests/v1', 401),
                             ('POST', '/token', 200), ('HEAD', '/v2/test/oci-image/manifests/v1', 200)]
        else:
            # No OAuth2 endpoint: the fallback GET has no username/password to send, so it is anonymous,
            # which the token registry refuses for a private repository.
            with pytest.raises(Exception) as info:
                client.resolve(ref)
            assert 'HTTP 401' in str(info.value)
            assert ('POST', '/token', 404) in [(r.method, r.path, r.status) for r in client.log.records]
            assert ('GET', '/token', 200) in [(r.method, r.path, r.status) for r in client.log.records]
    finally:
        server.allow_post = True


def test_docker_config_identitytoken(ansible, harness, tmp_path):
    config = tmp_path / 'config.json'
    config.write_text(json.dumps({'auths': {harness.token.host: {'identitytoken': offline_token(harness)}}}))
    tasks = '''
    - oci.registry.registry_manifest_info:
        image: "{{ host }}/test/multiarch:v1"
        plain_http: true
        docker_config: "{{ config }}"
      register: result
    - ansible.builtin.assert:
        that: result.digest == digest
    '''
    assert_ok(ansible.playbook(tasks, {'host': harness.token.host, 'config': str(config),
                                       'digest': harness.seeded['token']['oci_index']['digest']}))


def test_expired_token_is_renewed_once(harness, monkeypatch):
    client = RegistryClient(ConnectionOptions(username='reader', password=harness.token.users['reader'], plain_http=True))
    ref = parse_image('%s/test/oci-image:v1' % harness.token.host)
    client.resolve(ref)
    client.resolve(ref)
    assert client.log.count('GET', '/token') == 1
    # Move only the client's clock past expires_in (the token server in this process keeps real time).
    clock = _auth.time.time() + harness.token_server.expires_in + 1
    monkeypatch.setattr(_auth, 'time', types.SimpleNamespace(time=lambda: clock))
    before = len(client.log)
    client.resolve(ref)
    assert [(r.method, r.path) for r in client.log.records[before:]] == [('GET', '/token'), ('HEAD', '/v2/test/oci-image/manifests/v1')]


def test_lookup_names_the_missing_term(ansible, harness):
    host = harness.open.host
    tasks = '''
    - ansible.builtin.debug:
        msg: "{{ query('oci.registry.digest', host ~ '/test/oci-image:v1', host ~ '/test/oci-image:gone', plain_http=true) }}"
    '''
    result = ansible.playbook(tasks, {'host': host})
    assert result.rc != 0
    assert "term '%s/test/oci-image:gone': image %s/test/oci-image:gone not found" % (host, host) in result.output


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A minimal forward proxy for plain HTTP: records each request line and relays it."""

    seen: list = []

    def _relay(self):
        self.seen.append((self.command, self.path))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ('proxy-connection', 'connection', 'host')}
        request = urllib.request.Request(self.path, method=self.command, headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as upstream:
                status, reply_headers, body = upstream.status, upstream.headers, upstream.read()
        except urllib.error.HTTPError as exc:
            status, reply_headers, body = exc.code, exc.headers, exc.read()
        self.send_response(status)
        for key, value in reply_headers.items():
            if key.lower() not in ('transfer-encoding', 'connection', 'content-length'):
                self.send_header(key, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    do_GET = do_HEAD = _relay

    def log_message(self, *args):  # keep the test output clean
        pass


def test_http_proxy_variables_are_honoured(harness, monkeypatch):
    proxy = socketserver.ThreadingTCPServer(('127.0.0.1', 0), _Proxy)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    _Proxy.seen = []
    try:
        for name in ('NO_PROXY', 'no_proxy'):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv('HTTP_PROXY', 'http://127.0.0.1:%d' % proxy.server_address[1])
        client = RegistryClient(ConnectionOptions(plain_http=True))
        found = client.resolve(parse_image('%s/test/oci-image:v1' % harness.open.host))
        assert found.digest == harness.seeded['open']['oci_image']['digest']
        assert ('HEAD', 'http://%s/v2/test/oci-image/manifests/v1' % harness.open.host) in _Proxy.seen
        monkeypatch.setenv('NO_PROXY', '127.0.0.1')
        seen = len(_Proxy.seen)
        RegistryClient(ConnectionOptions(plain_http=True)).resolve(parse_image('%s/test/oci-image:v1' % harness.open.host))
        assert len(_Proxy.seen) == seen  # NO_PROXY bypasses it
    finally:
        proxy.shutdown()
        proxy.server_close()
