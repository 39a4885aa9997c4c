# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""RegistryClient against scripted HTTP answers.

The answers come from a stand-in HTTP proxy on 127.0.0.1 (``FakeHosts``: the client reaches the
made-up hosts through it, as through a corporate proxy, over real sockets and the real transport)
because the shapes checked here are vendor quirks the local distribution registry (the one the
integration harness starts) does not produce: a manifest HEAD without Docker-Content-Digest,
Docker Hub's rate-limit headers and token service, a relative or absolute Link header,
``tags: null``, and a registry serving bytes that do not match the digest asked for. The real
handshake, redirects and 429s are proven against real servers elsewhere.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import typing as t
from urllib.parse import urlsplit

import pytest

from harness.fake_hosts import FakeHosts

from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient, _ping, _smaller_page_size
from ansible_collections.oci.registry.plugins.module_utils.model._options import parse_image, parse_registry
from ansible_collections.oci.registry.plugins.module_utils.wire._auth import Authenticator
from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError, NotFoundError, RegistryError, UnsupportedError
from ansible_collections.oci.registry.plugins.module_utils.client._hub import HubAuth
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import ACCEPT, DOCKER_LIST, OCI_INDEX, OCI_MANIFEST
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.wire._connection import ConnectionOptions

BASE = "http://registry.example.com"
HUB = "http://registry-1.docker.io"
HUB_REALM = "http://auth.docker.io/token"
HUB_TOKEN = "hub-anonymous-token-for-unit-tests"

IMAGE = json.dumps({
    "schemaVersion": 2,
    "mediaType": OCI_MANIFEST,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "c" * 64, "size": 2},
    "layers": [],
}, indent=2).encode()
IMAGE_DIGEST = "sha256:" + hashlib.sha256(IMAGE).hexdigest()


@pytest.fixture
def rsps(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[FakeHosts]:
    """Every host the client contacts is answered by one stand-in proxy; each scripted answer must be asked for."""
    with FakeHosts() as hosts:
        for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "https_proxy", "HTTPS_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("http_proxy", hosts.url)
        yield hosts
        hosts.assert_all_asked()


def _client(**options: t.Any) -> RegistryClient:
    options.setdefault("auth_method", "none")
    options.setdefault("retries", 0)
    options.setdefault("plain_http", True)
    return RegistryClient(ConnectionOptions(**options))


def _calls(mock: FakeHosts) -> list[tuple[str, str, str]]:
    result = []
    for call in mock.calls:
        parts = urlsplit(call.request.url)
        result.append((call.request.method, parts.netloc, parts.path))
    return result


def _open_registry(mock: FakeHosts, base: str = BASE) -> None:
    mock.get(base + "/v2/", json={})


def _hub_token(mock: FakeHosts, scope: str) -> None:
    mock.get(HUB + "/v2/", status=401, json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
             headers={"WWW-Authenticate": 'Bearer realm="%s",service="registry.docker.io"' % HUB_REALM})
    mock.get(HUB_REALM, query={"service": "registry.docker.io", "scope": scope},
             json={"token": HUB_TOKEN, "access_token": HUB_TOKEN, "expires_in": 300, "issued_at": "2024-01-01T00:00:00Z"})


# --- manifests --------------------------------------------------------------------------------

def test_head_without_digest_header_falls_back_to_get(rsps: FakeHosts) -> None:
    _open_registry(rsps)
    rsps.head(BASE + "/v2/team/app/manifests/1.0", content_type=OCI_MANIFEST)  # no Docker-Content-Digest
    rsps.get(BASE + "/v2/team/app/manifests/1.0", body=IMAGE, content_type=OCI_MANIFEST)
    client = _client()
    descriptor = client.head_manifest(parse_image("registry.example.com/team/app:1.0"))
    assert descriptor.digest == IMAGE_DIGEST
    assert descriptor.media_type == OCI_MANIFEST
    assert descriptor.size == len(IMAGE)
    assert _calls(rsps) == [("GET", "registry.example.com", "/v2/"), ("HEAD", "registry.example.com", "/v2/team/app/manifests/1.0"),
                            ("GET", "registry.example.com", "/v2/team/app/manifests/1.0")]
    assert [c.request.headers["Accept"] for c in rsps.calls[1:]] == [ACCEPT, ACCEPT]
    assert client.log.count("GET", "/manifests/") == 1


def test_head_with_digest_header_does_not_get(rsps: FakeHosts) -> None:
    _open_registry(rsps)
    rsps.head(BASE + "/v2/team/app/manifests/1.0", content_type=OCI_INDEX + "; charset=utf-8",
              headers={"Docker-Content-Digest": IMAGE_DIGEST, "Content-Length": "1234"})
    descriptor = _client().head_manifest(parse_image("registry.example.com/team/app:1.0"))
    assert (descriptor.digest, descriptor.media_type, descriptor.size, descriptor.ratelimit) == (IMAGE_DIGEST, OCI_INDEX, 1234, None)
    assert [c[0] for c in _calls(rsps)] == ["GET", "HEAD"]


def test_get_by_digest_verifies_bytes(rsps: FakeHosts) -> None:
    asked = "sha256:" + hashlib.sha256(b"other bytes").hexdigest()
    _open_registry(rsps)
    # The header repeats the digest asked for: only hashing the bytes shows they are not it.
    rsps.get(BASE + "/v2/team/app/manifests/" + asked, body=IMAGE, content_type=OCI_MANIFEST, headers={"Docker-Content-Digest": asked})
    with pytest.raises(DigestMismatchError) as exc:
        _client().get_manifest(parse_image("registry.example.com/team/app@" + asked))
    assert asked in str(exc.value)
    assert IMAGE_DIGEST in str(exc.value)


def test_get_by_digest_accepts_matching_bytes(rsps: FakeHosts) -> None:
    _open_registry(rsps)
    rsps.get(BASE + "/v2/team/app/manifests/" + IMAGE_DIGEST, body=IMAGE, content_type="application/json")
    manifest = _client().get_manifest(parse_image("registry.example.com/team/app@" + IMAGE_DIGEST))
    assert (manifest.digest, manifest.raw, manifest.media_type) == (IMAGE_DIGEST, IMAGE, OCI_MANIFEST)
    assert manifest.config_descriptor is not None


def test_get_by_tag_with_lying_digest_header(rsps: FakeHosts) -> None:
    _open_registry(rsps)
    rsps.get(BASE + "/v2/team/app/manifests/1.0", body=IMAGE, content_type=OCI_MANIFEST, headers={"Docker-Content-Digest": "sha256:" + "0" * 64})
    with pytest.raises(RegistryError) as exc:
        _client().get_manifest(parse_image("registry.example.com/team/app:1.0"))
    assert IMAGE_DIGEST in str(exc.value) and "sha256:" + "0" * 64 in str(exc.value)


@pytest.mark.parametrize("code", ["MANIFEST_UNKNOWN", "NAME_UNKNOWN"])
def test_missing_manifest(rsps: FakeHosts, code: str) -> None:
    _open_registry(rsps)
    rsps.get(BASE + "/v2/team/app/manifests/9.9", status=404, json={"errors": [{"code": code, "message": "unknown"}]})
    with pytest.raises(NotFoundError) as exc:
        _client().get_manifest(parse_image("registry.example.com/team/app:9.9"))
    assert str(exc.value) == ("image registry.example.com/team/app:9.9 not found on registry registry.example.com: "
                              "no such tag, digest or repository (%s)" % code)
    assert exc.value.codes == (code,)


def test_no_referrers_of_a_bare_repository_on_a_registry_without_the_api(rsps: FakeHosts) -> None:
    """A store's reference has no tag or digest; a missing fallback tag is no referrers, not a ValueError from naming it."""
    _open_registry(rsps)
    digest = "sha256:" + "a" * 64
    rsps.get(BASE + "/v2/team/app/referrers/" + digest, status=404, body="404 page not found")
    rsps.get(BASE + "/v2/team/app/manifests/sha256-" + "a" * 64, status=404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "x"}]})
    assert _client().list_referrers(ImageReference("registry.example.com", "team/app"), digest) == []
    with pytest.raises(NotFoundError, match="image registry.example.com/team/app:sha256-a{64} not found"):
        _client().get_manifest(ImageReference("registry.example.com", "team/app"), "sha256-" + "a" * 64)


# HEAD response headers -> the ratelimit the client reports
RATELIMITS = [
    ({"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600", "docker-ratelimit-source": "203.0.113.7"},
     {"limit": 100, "remaining": 76, "window_seconds": 21600, "source": "203.0.113.7"}),
    ({"RateLimit-Limit": "200;w=21600", "RateLimit-Remaining": "0;w=21600"},
     {"limit": 200, "remaining": 0, "window_seconds": 21600, "source": None}),
    ({}, None),
]


@pytest.mark.parametrize("headers, expected", RATELIMITS)
def test_docker_hub_ratelimit(rsps: FakeHosts, headers: dict[str, str], expected: dict[str, t.Any] | None) -> None:
    _hub_token(rsps, "repository:library/nginx:pull")
    rsps.head(HUB + "/v2/library/nginx/manifests/1.27", content_type=DOCKER_LIST, headers=dict(headers, **{"Docker-Content-Digest": IMAGE_DIGEST}))
    descriptor = _client().head_manifest(parse_image("nginx:1.27"))
    assert descriptor.digest == IMAGE_DIGEST
    assert descriptor.media_type == DOCKER_LIST
    assert descriptor.ratelimit == expected
    # Anonymous: the token request carries no credentials; the HEAD carries the token.
    assert "Authorization" not in rsps.calls[1].request.headers
    assert rsps.calls[2].request.headers["Authorization"] == "Bearer " + HUB_TOKEN


# --- listing ----------------------------------------------------------------------------------

# pages of tags/list: (query of the request, tags in the body, Link of the response)
TAG_PAGES = [
    # distribution 2.8 after deleting the last tag.
    ([({}, None, None)], []),
    ([({}, ["1.0", "latest"], None)], ["1.0", "latest"]),
    # A relative Link, a page shorter than the others in the middle, then "tags": null.
    ([({}, ["b", "a"], '</v2/team/app/tags/list?last=b&n=2>; rel="next"'),
      ({"last": "b", "n": "2"}, ["c"], '</v2/team/app/tags/list?last=c&n=2>; rel="next"'),
      ({"last": "c", "n": "2"}, None, None)], ["b", "a", "c"]),
]


@pytest.mark.parametrize("pages, expected", TAG_PAGES)
def test_list_tags(rsps: FakeHosts, pages: list[tuple[dict[str, str], list[str] | None, str | None]],
                   expected: list[str]) -> None:
    _open_registry(rsps)
    for query, tags, link in pages:
        rsps.get(BASE + "/v2/team/app/tags/list", query=query,
                 json={"name": "team/app", "tags": tags}, headers={"Link": link} if link else {})
    assert _client().list_tags(parse_image("registry.example.com/team/app")) == expected
    assert len(rsps.calls) == 1 + len(pages)


def test_list_tags_filters_as_the_detailed_listing(rsps: FakeHosts) -> None:
    """Both listings are one: an entry that is not a string (a broken registry) is dropped by both."""
    _open_registry(rsps)
    rsps.get(BASE + "/v2/team/app/tags/list", json={"name": "team/app", "tags": ["v1", 7, None, "v2"]})
    client, ref = _client(), parse_image("registry.example.com/team/app")
    assert client.list_tags(ref) == client.list_tags_detailed(ref).tags == ["v1", "v2"]


def test_catalog_follows_absolute_link(rsps: FakeHosts) -> None:
    rsps.get(BASE + "/v2/", status=401, headers={"WWW-Authenticate": 'Bearer realm="http://auth.example.com/token",service="registry.example.com"'})
    rsps.get("http://auth.example.com/token",
             query={"service": "registry.example.com", "scope": "registry:catalog:*"}, json={"token": "catalog-token-1"})
    rsps.get(BASE + "/v2/_catalog", query={"n": "1000"}, json={"repositories": ["a/one", "a/two"]},
             headers={"Link": '<http://registry.example.com/v2/_catalog?n=1000>; rel="prev", '
                              '<http://registry.example.com/v2/_catalog?last=a%2Ftwo&n=1000>; rel="next"'})
    rsps.get(BASE + "/v2/_catalog", query={"last": "a/two", "n": "1000"}, json={"repositories": ["b/three"]})
    assert list(_client().iter_catalog(parse_registry("registry.example.com"))) == ["a/one", "a/two", "b/three"]
    assert [c.request.headers.get("Authorization") for c in rsps.calls[2:]] == ["Bearer catalog-token-1"] * 2


def test_catalog_link_to_another_host_gets_no_credentials(rsps: FakeHosts) -> None:
    # A Link (like a Location) may point at another host; the registry's credentials stay on the registry.
    rsps.get(BASE + "/v2/", status=401, headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'})
    rsps.get(BASE + "/v2/_catalog", json={"repositories": ["a"]},
             headers={"Link": '<http://mirror.example.net/v2/_catalog?last=a&n=1000>; rel="next"'})
    rsps.get("http://mirror.example.net/v2/_catalog", json={"repositories": ["b"]})
    client = _client(auth_method="password", username="alice", password="alice-password-1")
    assert list(client.iter_catalog(parse_registry("registry.example.com"))) == ["a", "b"]
    assert rsps.calls[1].request.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:alice-password-1").decode()
    assert "Authorization" not in rsps.calls[2].request.headers


def test_list_body_not_json(rsps: FakeHosts) -> None:
    _open_registry(rsps)
    rsps.get(BASE + "/v2/team/app/tags/list", body="<html>proxy login</html>", content_type="text/html")
    with pytest.raises(RegistryError, match="list tags of registry.example.com/team/app: registry registry.example.com returned a body that is not JSON"):
        _client().list_tags(parse_image("registry.example.com/team/app"))


@pytest.mark.parametrize('size,smaller', [(5000, 1000), (1001, 1000), (1000, 100), (101, 100), (100, 0), (0, None), (None, None)])
def test_smaller_page_size(size: t.Optional[int], smaller: t.Optional[int]) -> None:
    assert _smaller_page_size(size) == smaller


def test_transports_are_built_in_one_place_with_their_auth() -> None:
    """Each host gets one Transport, built with its base URL and its auth: the registry's Authenticator, the Hub API's JWT."""
    client = _client(username="hubuser", password="pw-hub", auth_method="password", plain_http=False)
    ref = parse_image("docker.io/team/app")
    registry = client.transport(ref)
    assert (registry.base_url, registry.api_host, registry.registry) == ("https://registry-1.docker.io", "registry-1.docker.io", "docker.io")
    assert isinstance(registry.auth, Authenticator)
    assert client.transport(parse_registry("index.docker.io")) is registry  # a registry-level call shares it
    hub = client.docker_hub(ref).transport
    assert (hub.base_url, hub.api_host, hub.registry) == ("https://hub.docker.com", "hub.docker.com", "Docker Hub API")
    assert isinstance(hub.auth, HubAuth) and hub.auth.credentials_for(None).username == "hubuser"
    assert client.docker_hub(parse_image("docker.io/team/other")).transport is hub
    plain = _client(plain_http=True).transport(parse_registry("127.0.0.1:5000"))
    assert plain.base_url == "http://127.0.0.1:5000"
    assert client.log.records == []  # building sends nothing


class _SchemeOnlyAuth:
    """A RequestAuth that is not the registry's Authenticator: ping must still learn its scheme through the protocol."""

    def apply(self, headers: dict[str, str], scopes: t.Sequence[str], operation: str) -> None:
        pass

    def refresh(self, response: t.Any, scopes: t.Sequence[str], operation: str) -> bool:
        return False

    def credentials_for(self, repository: str | None) -> None:
        return None

    def scheme(self) -> str | None:
        return "basic"


def test_ping_asks_any_request_auth_for_its_scheme() -> None:
    client = _client()
    transport = client._transport(None, BASE, "registry.example.com", lambda _transport: _SchemeOnlyAuth())
    assert _ping(transport) == "basic"
    assert client.log.records == []


# What a read-only module loads at start-up never includes these: the copy engine and stores, the
# delete planner, archive and sync, auth-file writing, the auth-file reader (loaded when a registry
# first asks for credentials), the Google vendor file (loaded for Google hosts), requests and google-auth.
NOT_AT_START = ('._copy', '._store', '._layout', '._delete', '._archive', '._sync', '._authwrite', '._authfile', '._google')


@pytest.mark.parametrize("module", ["registry_manifest_info", "registry_tags_info", "registry_search_info"])
def test_read_only_modules_load_only_what_they_use(module: str) -> None:
    code = ("import sys; import ansible_collections.oci.registry.plugins.modules.%s; "
            "print(sorted(m for m in sys.modules if m.endswith(%r) or m.split('.')[0] in ('requests', 'google')))" % (module, NOT_AT_START))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("status,body,codes", [
    # GHCR-like registries answer 404 to the catalog; a registry built without it, 405 or UNSUPPORTED. The local
    # distribution registry always serves /v2/_catalog, so these answers are replayed.
    (404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]}, "HTTP 404 NOT_FOUND"),
    (404, "404 page not found\n", "HTTP 404)"),
    (405, {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]}, "HTTP 405 UNSUPPORTED"),
])
def test_catalog_missing_says_the_registry_has_none(rsps: FakeHosts, status: int, body: t.Any, codes: str) -> None:
    _open_registry(rsps)
    rsps.get(BASE + "/v2/_catalog", status=status, **({"json": body} if isinstance(body, dict) else {"body": body}))
    with pytest.raises(UnsupportedError) as info:
        list(_client().iter_repositories(parse_registry("registry.example.com")))
    assert info.value.msg.startswith("registry registry.example.com offers no catalog (/v2/_catalog answered %s" % codes)
    assert info.value.hint == "name the repositories one by one instead"
