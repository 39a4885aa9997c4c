"""Check the harness with independent means: skopeo, plain requests, PyJWT and /proc."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

import jwt
import pytest
import requests
from cryptography import x509

from harness import ACCEPT, DOCKER_MANIFEST, FLAVOURS, Harness, Registry, libtrust_key_id, push_image, push_index

SEEDED_KEYS = ("oci_image", "docker_image", "oci_index", "docker_list")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def get_token(harness: Harness, user: Optional[str], scopes: list[str], **params: str) -> requests.Response:
    server = harness.token_server
    assert server is not None
    auth = (user, server.users[user]) if user else None
    return requests.get(server.realm, params=dict(params, service=server.service, scope=scopes), auth=auth, timeout=10)


def call(registry: Registry, path: str, method: str = "GET", token: Optional[str] = None,
         auth: Optional[tuple[str, str]] = None, **kwargs: Any) -> requests.Response:
    headers = kwargs.pop("headers", {"Accept": ACCEPT})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, registry.url + path, headers=headers, auth=auth, verify=registry.verify, timeout=10, **kwargs)


def admin_auth(harness: Harness, registry: Registry, repository: str) -> dict[str, Any]:
    """Credentials for call(): Basic for basic_tls, an admin token for the token registry, nothing for open."""
    if registry.auth == "basic":
        user = registry.admin_user
        assert user is not None
        return {"auth": (user, registry.users[user])}
    if registry.auth == "token":
        return {"token": get_token(harness, "admin", [f"repository:{repository}:pull"]).json()["token"]}
    return {}


def skopeo_raw(registry: Registry, reference: str, ca_dir: str) -> bytes:
    command = ["skopeo", "inspect", "--raw", "--retry-times", "0"]
    command += ["--cert-dir", ca_dir] if registry.scheme == "https" else ["--tls-verify=false"]
    if registry.users:
        user = registry.admin_user
        assert user is not None
        command += ["--creds", f"{user}:{registry.users[user]}"]
    else:
        command += ["--no-creds"]
    command.append(f"docker://{registry.host}/{reference}")
    return subprocess.run(command, check=True, capture_output=True, timeout=30).stdout


@pytest.fixture(scope="module")
def ca_dir(harness: Harness, tmp_path_factory: pytest.TempPathFactory) -> str:
    """skopeo --cert-dir reads *.crt as CAs and wants a .cert for every .key: give it the CA alone."""
    directory = tmp_path_factory.mktemp("skopeo-certs")
    assert harness.certs is not None
    shutil.copy(harness.certs.ca_cert, directory / "ca.crt")
    return str(directory)


def test_start_and_seed_are_quick(harness: Harness) -> None:
    assert set(harness.registries) == set(FLAVOURS)
    assert harness.timings["start"] < 10, harness.timings
    assert harness.timings["seed"] < 20, harness.timings


def test_ping_challenges(harness: Harness) -> None:
    assert call(harness.open, "/v2/").status_code == 200
    basic = call(harness.basic_tls, "/v2/")
    assert basic.status_code == 401
    assert basic.headers["WWW-Authenticate"].startswith("Basic realm=")
    token = call(harness.token, "/v2/")
    assert token.status_code == 401
    server = harness.token_server
    assert server is not None
    assert token.headers["WWW-Authenticate"] == f'Bearer realm="{server.realm}",service="{server.service}"'
    assert harness.basic_tls.url.startswith("https://127.0.0.1:") and harness.basic_tls.ca_cert


def test_passwords_need_escaping(harness: Harness) -> None:
    passwords = list(harness.basic_tls.users.values()) + list(harness.token.users.values())
    assert len(passwords) == 3 and len(set(passwords)) == 3
    for password in passwords:
        assert set("!@#%") <= set(password)


@pytest.mark.parametrize("name", FLAVOURS)
def test_skopeo_sees_seeded_digests(harness: Harness, seeded: dict[str, dict[str, Any]], ca_dir: str, name: str) -> None:
    registry = harness[name]
    entries = seeded[name]
    expected_keys = set(SEEDED_KEYS) | ({"public_image"} if name == "token" else set())
    assert set(entries) == expected_keys
    references = [(key, f"{entry['repository']}:{tag}") for key, entry in entries.items() for tag in entry["tags"]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        raw = list(pool.map(lambda item: skopeo_raw(registry, item[1], ca_dir), references))
    for (key, reference), data in zip(references, raw):
        entry = entries[key]
        assert sha256(data) == entry["digest"], reference
        assert len(data) == entry["size"]
        assert json.loads(data)["mediaType"] == entry["media_type"]


@pytest.mark.parametrize("name", FLAVOURS)
def test_manifests_configs_and_children(harness: Harness, seeded: dict[str, dict[str, Any]], name: str) -> None:
    registry = harness[name]
    for entry in seeded[name].values():
        repository = entry["repository"]
        auth = admin_auth(harness, registry, repository)
        response = call(registry, f"/v2/{repository}/manifests/{entry['digest']}", **auth)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == entry["media_type"]
        assert response.headers["Docker-Content-Digest"] == entry["digest"] == sha256(response.content)
        document = response.json()
        if "children" in entry:
            platforms = {}
            for child in document["manifests"]:
                platform = child["platform"]
                key = "/".join(filter(None, (platform["os"], platform["architecture"], platform.get("variant"))))
                platforms[key] = child["digest"]
                assert child["mediaType"] == entry["child_media_type"]
                child_response = call(registry, f"/v2/{repository}/manifests/{child['digest']}", **auth)
                assert sha256(child_response.content) == child["digest"]
                assert child_response.headers["Content-Type"] == entry["child_media_type"]
            assert platforms == entry["children"]
            assert set(platforms) == {"linux/amd64", "linux/arm64/v8"}
        else:
            assert document["config"]["digest"] == entry["config_digest"]
            blob = call(registry, f"/v2/{repository}/blobs/{entry['config_digest']}", **auth)
            assert blob.status_code == 200 and sha256(blob.content) == entry["config_digest"]
            config = blob.json()
            assert (config["os"], config["architecture"]) == ("linux", "amd64")
            assert config["created"].endswith("Z") and config["history"] and config["rootfs"]["type"] == "layers"
            assert config["config"]["Labels"]["org.opencontainers.image.title"] == repository


def test_oci_content_needs_oci_accept(harness: Harness, seeded: dict[str, dict[str, Any]]) -> None:
    """The distribution 2.8 quirk the collection must handle: no OCI type in Accept -> 404 for OCI content."""
    entry = seeded["open"]["oci_image"]
    response = call(harness.open, f"/v2/{entry['repository']}/manifests/v1", headers={"Accept": DOCKER_MANIFEST})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_anonymous_pull_only_public(harness: Harness, seeded: dict[str, dict[str, Any]]) -> None:
    public = seeded["token"]["public_image"]
    answer = get_token(harness, None, ["repository:public/hello:pull"], offline_token="true")
    assert answer.status_code == 200
    assert "refresh_token" not in answer.json()
    response = call(harness.token, "/v2/public/hello/manifests/v1", token=answer.json()["token"])
    assert response.status_code == 200 and sha256(response.content) == public["digest"]

    refused = get_token(harness, None, ["repository:test/oci-image:pull"])
    assert refused.status_code == 200  # a short grant is not an error at token time...
    claims = jwt.decode(refused.json()["token"], options={"verify_signature": False})
    assert claims["access"] == []
    response = call(harness.token, "/v2/test/oci-image/manifests/v1", token=refused.json()["token"])
    assert response.status_code == 401  # ...it shows up here, as 401 (not 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_reader_pulls_but_cannot_push(harness: Harness) -> None:
    answer = get_token(harness, "reader", ["repository:test/oci-image:pull,push"])
    assert answer.status_code == 200
    token = answer.json()["token"]
    access = jwt.decode(token, options={"verify_signature": False})["access"]
    assert access == [{"type": "repository", "name": "test/oci-image", "actions": ["pull"]}]
    assert call(harness.token, "/v2/test/oci-image/manifests/v1", token=token).status_code == 200
    push = call(harness.token, "/v2/test/oci-image/blobs/uploads/", method="POST", token=token)
    assert push.status_code == 401
    assert 'scope="repository:test/oci-image:pull,push",error="insufficient_scope"' in push.headers["WWW-Authenticate"]


def test_catalog_is_admin_only(harness: Harness) -> None:
    admin = get_token(harness, "admin", ["registry:catalog:*"]).json()["token"]
    listing = call(harness.token, "/v2/_catalog", token=admin)
    assert listing.status_code == 200
    assert "test/oci-image" in listing.json()["repositories"]
    reader = get_token(harness, "reader", ["registry:catalog:*"]).json()["token"]
    assert call(harness.token, "/v2/_catalog", token=reader).status_code == 401


def test_wrong_passwords_are_401(harness: Harness) -> None:
    server = harness.token_server
    assert server is not None
    answer = requests.get(server.realm, params={"service": server.service}, auth=("admin", "wrong"), timeout=10)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "UNAUTHORIZED"
    form = {"grant_type": "password", "username": "admin", "password": "wrong", "service": server.service, "client_id": "selftest"}
    assert requests.post(server.realm, data=form, timeout=10).status_code == 401
    registry = harness.basic_tls
    assert call(registry, "/v2/", auth=("alice", "wrong")).status_code == 401
    assert call(registry, "/v2/", auth=("alice", registry.users["alice"])).status_code == 200


def test_oauth2_post_and_refresh_tokens(harness: Harness) -> None:
    server = harness.token_server
    assert server is not None
    form = {"grant_type": "password", "username": "admin", "password": server.users["admin"], "service": server.service,
            "client_id": "selftest", "access_type": "offline", "scope": "repository:test/oci-image:pull registry:catalog:*"}
    answer = requests.post(server.realm, data=form, timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token"] == body["access_token"] and body["expires_in"] == 300 and body["issued_at"].endswith("Z")
    assert len(jwt.decode(body["token"], options={"verify_signature": False})["access"]) == 2
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "service": server.service,
               "client_id": "selftest", "scope": "repository:test/multiarch:pull"}
    refreshed = requests.post(server.realm, data=refresh, timeout=10)
    assert refreshed.status_code == 200
    token = refreshed.json()["token"]
    assert call(harness.token, "/v2/test/multiarch/manifests/v1", token=token).status_code == 200
    assert requests.post(server.realm, data=dict(refresh, refresh_token="bogus"), timeout=10).status_code == 401
    assert requests.post(server.realm, data=dict(refresh, client_id=""), timeout=10).status_code == 400
    offline = get_token(harness, "reader", ["repository:test/oci-image:pull"], offline_token="true").json()
    assert offline["refresh_token"]
    server.allow_post = False
    try:
        assert requests.post(server.realm, data=form, timeout=10).status_code == 404  # clients must fall back to GET
    finally:
        server.allow_post = True


def test_claim_overrides_make_tokens_the_registry_refuses(harness: Harness) -> None:
    """distribution allows 60 s of leeway on exp: an expired token needs exp well in the past."""
    server = harness.token_server
    assert server is not None
    for overrides in ({"exp": int(time.time()) - 120}, {"aud": [server.service]}, {"iss": "someone-else"}):
        server.claim_overrides = overrides
        try:
            token = get_token(harness, "admin", ["repository:test/oci-image:pull"]).json()["token"]
        finally:
            server.claim_overrides = {}
        refused = call(harness.token, "/v2/test/oci-image/manifests/v1", token=token)
        assert refused.status_code == 401, overrides
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_token_claims_and_signature(harness: Harness) -> None:
    server = harness.token_server
    assert server is not None
    token = get_token(harness, "admin", ["repository:test/oci-image:pull,push", "repository:test/oci-image:delete"]).json()["token"]
    with open(server.cert_path, "rb") as handle:
        public_key = x509.load_pem_x509_certificate(handle.read()).public_key()
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience=server.service, issuer=server.issuer)  # type: ignore[arg-type]
    assert claims["sub"] == "admin" and claims["exp"] - claims["iat"] == server.expires_in and claims["nbf"] <= claims["iat"]
    assert claims["jti"]
    assert claims["access"] == [{"type": "repository", "name": "test/oci-image", "actions": ["pull", "push", "delete"]}]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == libtrust_key_id(public_key)  # type: ignore[arg-type]
    assert len(header["kid"]) == 59 and header["kid"].count(":") == 11


def test_x5c_header_mode_is_accepted(harness: Harness) -> None:
    server = harness.token_server
    assert server is not None
    server.header_mode = "x5c"
    try:
        token = get_token(harness, "admin", ["repository:test/oci-image:pull"]).json()["token"]
    finally:
        server.header_mode = "kid"
    assert "x5c" in jwt.get_unverified_header(token)
    assert call(harness.token, "/v2/test/oci-image/manifests/v1", token=token).status_code == 200


def test_token_server_records_requests(harness: Harness) -> None:
    server = harness.token_server
    assert server is not None
    server.reset()
    get_token(harness, "reader", ["repository:test/oci-image:pull"])
    requests.get(server.realm, params={"service": server.service}, auth=("reader", "wrong"), timeout=10)
    requests.post(server.realm, data={"grant_type": "password"}, timeout=10)
    assert [(request.method, request.user) for request in server.requests] == [("GET", "reader"), ("GET", None), ("POST", None)]
    assert server.requests[0].path.startswith("/token?") and "scope=repository%3Atest%2Foci-image%3Apull" in server.requests[0].path
    assert server.request_count == 3 and server.grants[0]["access"][0]["actions"] == ["pull"]


def test_push_helpers_make_many_tags_cheaply(harness: Harness) -> None:
    registry = harness.open
    tags = [f"t{index:02d}" for index in range(20)]
    image = push_image(registry, "scratch/many-tags", tags, media_type="docker", labels={"purpose": "selftest"})
    listing = call(registry, "/v2/scratch/many-tags/tags/list").json()
    assert sorted(listing["tags"]) == tags
    assert image["media_type"] == DOCKER_MANIFEST and image["tags"] == tags
    index = push_index(registry.url, "scratch/index", "v2", platforms=[("linux", "amd64", None), ("linux", "arm", "v7")])
    assert set(index["children"]) == {"linux/amd64", "linux/arm/v7"}
    again = push_index(registry.url, "scratch/index", "v3", platforms=[("linux", "amd64", None), ("linux", "arm", "v7")])
    assert again["digest"] == index["digest"]  # deterministic content


def test_basic_push_with_explicit_credentials(harness: Harness) -> None:
    registry = harness.basic_tls
    image = push_image(registry.url, "scratch/explicit", "v1", username="alice", password=registry.users["alice"],
                       verify=registry.verify)
    response = call(registry, "/v2/scratch/explicit/manifests/v1", auth=("alice", registry.users["alice"]))
    assert sha256(response.content) == image["digest"]


def test_registry_metrics_count_requests(harness: Harness) -> None:
    before = harness.open.request_count()
    call(harness.open, "/v2/")
    assert harness.open.request_count() > before


def test_registry_log_records_each_request(harness: Harness) -> None:
    """The log the harness shows when a registry fails (log_tail) holds the requests it answered."""
    path = "/v2/selftest/log-%d/tags/list" % time.monotonic_ns()
    assert call(harness.open, path).status_code == 404
    deadline = time.monotonic() + 5
    while True:
        with open(harness.open.log_path, encoding="utf-8", errors="replace") as handle:
            if '"GET %s HTTP/1.1" 404' % path in handle.read():
                break
        assert time.monotonic() < deadline, "GET %s is not in %s" % (path, harness.open.log_path)
        time.sleep(0.1)
