"""Push small, deterministic images and indexes with plain Registry API V2 calls (own Basic/Bearer handling)."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union
from urllib.parse import urljoin

import requests

if TYPE_CHECKING:
    from .registry import Registry

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
# distribution 2.8 answers 404 for OCI content unless the OCI types are accepted too.
ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))

FORMATS = {
    "oci": {"manifest": OCI_MANIFEST, "config": OCI_CONFIG, "layer": OCI_LAYER, "index": OCI_INDEX},
    "docker": {"manifest": DOCKER_MANIFEST, "config": DOCKER_CONFIG, "layer": DOCKER_LAYER, "index": DOCKER_LIST},
}
DEFAULT_CREATED = "2024-01-02T03:04:05Z"
DEFAULT_PLATFORMS = (("linux", "amd64", None), ("linux", "arm64", "v8"))

Tags = Union[str, Sequence[str], None]


class PushError(RuntimeError):
    """The registry or its token server refused a seeding call."""


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def platform_key(platform: tuple[str, str, Optional[str]]) -> str:
    """("linux", "arm64", "v8") -> "linux/arm64/v8"."""
    return "/".join(part for part in platform if part)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="x",service="y"` -> ("bearer", {"realm": "x", "service": "y"})."""
    scheme, rest = (header.strip().split(" ", 1) + [""])[:2]
    params = {key.lower(): quoted if quoted else bare for key, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', rest)}
    return scheme.lower(), params


class PushClient:
    """A minimal V2 client for seeding: learns the auth scheme from GET /v2/, then uses Basic or Bearer tokens."""

    def __init__(self, url: str, username: Optional[str] = None, password: Optional[str] = None,
                 verify: Union[bool, str] = True, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.verify = verify
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies, netrc or CA bundle from the environment
        self._scheme: Optional[str] = None
        self._challenge: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self._uploaded: set[tuple[str, str]] = set()

    def close(self) -> None:
        self.session.close()

    def _ping(self) -> None:
        response = self.session.get(f"{self.url}/v2/", verify=self.verify, timeout=self.timeout)
        if response.status_code == 200:
            self._scheme = "none"
        elif response.status_code == 401:
            self._scheme, self._challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        else:
            raise PushError(f"GET {self.url}/v2/ answered {response.status_code}")

    def _basic(self) -> str:
        if self.username is None:
            raise PushError(f"{self.url} wants Basic auth and no username was given")
        raw = f"{self.username}:{self.password or ''}".encode("utf-8")
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def token(self, scope: str, refresh: bool = False) -> str:
        """A bearer token for one scope, such as repository:test/x:pull,push (cached)."""
        if scope in self._tokens and not refresh:
            return self._tokens[scope]
        headers = {"Authorization": self._basic()} if self.username is not None else {}
        params = {"scope": scope}
        if "service" in self._challenge:
            params["service"] = self._challenge["service"]
        response = self.session.get(self._challenge["realm"], params=params, headers=headers, verify=self.verify, timeout=self.timeout)
        if response.status_code != 200:
            raise PushError(f"token request for {scope} answered {response.status_code}: {response.text[:200]}")
        body = response.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise PushError(f"token response for {scope} has no token")
        self._tokens[scope] = str(token)
        return self._tokens[scope]

    def _auth_headers(self, scope: str, refresh: bool = False) -> dict[str, str]:
        if self._scheme is None:
            self._ping()
        if self._scheme == "basic":
            return {"Authorization": self._basic()}
        if self._scheme == "bearer":
            return {"Authorization": "Bearer " + self.token(scope, refresh)}
        return {}

    def request(self, method: str, url: str, scope: str, expected: tuple[int, ...], **kwargs: Any) -> requests.Response:
        """One call with auth; a 401 refreshes a bearer token once. url may be a path below the registry."""
        if not url.startswith(("http://", "https://")):
            url = self.url + url
        extra = kwargs.pop("headers", {})
        response = self._send(method, url, dict(extra, **self._auth_headers(scope)), kwargs)
        if response.status_code == 401 and self._scheme == "bearer":
            response = self._send(method, url, dict(extra, **self._auth_headers(scope, refresh=True)), kwargs)
        if response.status_code not in expected:
            raise PushError(f"{method} {url} answered {response.status_code}: {response.text[:300]}")
        return response

    def _send(self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> requests.Response:
        return self.session.request(method, url, headers=headers, verify=self.verify, timeout=self.timeout,
                                    allow_redirects=False, **kwargs)

    def upload_blob(self, repository: str, data: bytes) -> str:
        """Monolithic upload (POST, then PUT ?digest=); returns the digest. Skips blobs this client already pushed there."""
        digest = sha256_digest(data)
        if (repository, digest) in self._uploaded:
            return digest
        scope = f"repository:{repository}:pull,push"
        started = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope, (202,))
        location = urljoin(self.url + "/", started.headers["Location"])
        location += ("&" if "?" in location else "?") + "digest=" + digest
        self.request("PUT", location, scope, (201,), data=data, headers={"Content-Type": "application/octet-stream"})
        self._uploaded.add((repository, digest))
        return digest

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        """PUT the exact bytes under a tag or digest; returns (and checks) the digest."""
        digest = sha256_digest(data)
        response = self.request("PUT", f"/v2/{repository}/manifests/{reference}", f"repository:{repository}:pull,push", (201,),
                                data=data, headers={"Content-Type": media_type})
        answered = response.headers.get("Docker-Content-Digest")
        if answered and answered != digest:
            raise PushError(f"registry computed {answered} for a manifest whose bytes hash to {digest}")
        return digest

    def get_manifest(self, repository: str, reference: str) -> requests.Response:
        return self.request("GET", f"/v2/{repository}/manifests/{reference}", f"repository:{repository}:pull", (200,),
                            headers={"Accept": ACCEPT})


def _client_for(target: Union[str, PushClient, Registry], username: Optional[str], password: Optional[str],
                verify: Union[bool, str]) -> PushClient:
    if isinstance(target, PushClient):
        return target
    if isinstance(target, str):
        return PushClient(target, username, password, verify)
    user = username or target.admin_user
    secret = password if password is not None else (target.users.get(user) if user else None)
    return PushClient(target.url, user, secret, target.verify if verify is True else verify)


def _tag_list(tag: Tags) -> list[str]:
    if tag is None:
        return []
    if isinstance(tag, str):
        return [tag]
    return list(tag)


def make_layer(text: str) -> tuple[bytes, str]:
    """A deterministic tar.gz holding hello.txt; returns (compressed bytes, diff_id of the tar)."""
    payload = text.encode("utf-8")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256_digest(tar_bytes)


def make_config(platform: tuple[str, str, Optional[str]], diff_id: str, created: str, labels: dict[str, str]) -> bytes:
    os_name, architecture, variant = platform
    config: dict[str, Any] = {"architecture": architecture, "os": os_name}
    if variant:
        config["variant"] = variant
    config.update({
        "created": created,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"], "Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": "COPY hello.txt / # oci.registry test harness"}],
    })
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _descriptor(media_type: str, data: bytes, digest: str) -> dict[str, Any]:
    return {"mediaType": media_type, "size": len(data), "digest": digest}


def _manifest_bytes(document: dict[str, Any]) -> bytes:
    # Indented like docker's own output: a client that re-serialises instead of keeping raw bytes changes the digest.
    return json.dumps(document, indent=3).encode("utf-8")


def push_image(target: Union[str, PushClient, Registry], repository: str, tag: Tags = "latest", *,
               platform: tuple[str, str, Optional[str]] = ("linux", "amd64", None), media_type: str = "oci",
               labels: Optional[dict[str, str]] = None, created: str = DEFAULT_CREATED, content: Optional[str] = None,
               username: Optional[str] = None, password: Optional[str] = None, verify: Union[bool, str] = True) -> dict[str, Any]:
    """Push a one-layer image and put its manifest under every tag given (none: by digest only).

    target: a registry URL (with username/password/verify), a Registry (its admin user unless given) or a PushClient.
    media_type: "oci" or "docker" (or the full manifest media type).
    """
    kind = "docker" if media_type in ("docker", DOCKER_MANIFEST) else "oci"
    types = FORMATS[kind]
    client = _client_for(target, username, password, verify)
    layer, diff_id = make_layer(content if content is not None else f"hello from {platform_key(platform)}\n")
    image_labels = {"org.opencontainers.image.title": repository, "org.example.platform": platform_key(platform)}
    image_labels.update(labels or {})
    config = make_config(platform, diff_id, created, image_labels)
    layer_digest = client.upload_blob(repository, layer)
    config_digest = client.upload_blob(repository, config)
    manifest = _manifest_bytes({
        "schemaVersion": 2,
        "mediaType": types["manifest"],
        "config": _descriptor(types["config"], config, config_digest),
        "layers": [_descriptor(types["layer"], layer, layer_digest)],
    })
    tags = _tag_list(tag)
    digest = sha256_digest(manifest)
    for reference in tags or [digest]:
        client.put_manifest(repository, reference, manifest, types["manifest"])
    return {
        "repository": repository, "tag": tags[0] if tags else None, "tags": tags, "digest": digest,
        "media_type": types["manifest"], "config_digest": config_digest, "layers": [layer_digest],
        "platform": platform_key(platform), "size": len(manifest),
    }


def push_index(target: Union[str, PushClient, Registry], repository: str, tag: Tags = "latest", *,
               platforms: Sequence[tuple[str, str, Optional[str]]] = DEFAULT_PLATFORMS, media_type: str = "oci",
               labels: Optional[dict[str, str]] = None, created: str = DEFAULT_CREATED,
               username: Optional[str] = None, password: Optional[str] = None, verify: Union[bool, str] = True) -> dict[str, Any]:
    """Push one image per platform (by digest) and an OCI index ("oci") or Docker manifest list ("docker") over them."""
    kind = "docker" if media_type in ("docker", DOCKER_LIST, DOCKER_MANIFEST) else "oci"
    types = FORMATS[kind]
    client = _client_for(target, username, password, verify)
    children: dict[str, str] = {}
    entries = []
    for platform in platforms:
        child = push_image(client, repository, None, platform=platform, media_type=kind, labels=labels, created=created)
        children[child["platform"]] = child["digest"]
        os_name, architecture, variant = platform
        entry_platform = {"architecture": architecture, "os": os_name}
        if variant:
            entry_platform["variant"] = variant
        entries.append({"mediaType": types["manifest"], "size": child["size"], "digest": child["digest"], "platform": entry_platform})
    index = _manifest_bytes({"schemaVersion": 2, "mediaType": types["index"], "manifests": entries})
    tags = _tag_list(tag)
    digest = sha256_digest(index)
    for reference in tags or [digest]:
        client.put_manifest(repository, reference, index, types["index"])
    return {
        "repository": repository, "tag": tags[0] if tags else None, "tags": tags, "digest": digest,
        "media_type": types["index"], "children": children, "child_media_type": types["manifest"], "size": len(index),
    }


def seed_all(registry: Registry, username: Optional[str] = None, password: Optional[str] = None) -> dict[str, dict[str, Any]]:
    """Push the standard content; returns {"oci_image", "docker_image", "oci_index", "docker_list"[, "public_image"]}."""
    client = _client_for(registry, username, password, True)
    try:
        seeded = {
            "oci_image": push_image(client, "test/oci-image", ["v1", "latest"], media_type="oci"),
            "docker_image": push_image(client, "test/docker-image", "v1", media_type="docker"),
            "oci_index": push_index(client, "test/multiarch", "v1", media_type="oci"),
            "docker_list": push_index(client, "test/dockerlist", "v1", media_type="docker"),
        }
        if registry.auth == "token":
            seeded["public_image"] = push_image(client, "public/hello", "v1", media_type="oci")
    finally:
        client.close()
    return seeded


def seed_registries(registries: Sequence[Registry]) -> dict[str, dict[str, dict[str, Any]]]:
    """seed_all() several registries in parallel; returns {registry name: seed_all result}."""
    with ThreadPoolExecutor(max_workers=max(1, len(registries))) as pool:
        futures = [(registry.name, pool.submit(seed_all, registry)) for registry in registries]
        return {name: future.result() for name, future in futures}


# Many tags and many repositories, fast (registry_tags_info, registry_search_info)

def link_tags_on_disk(registry: Registry, repository: str, digest: str, tags: Sequence[str]) -> None:
    """Tag an existing manifest many times by writing distribution's tag links straight into the registry's storage.

    The same files a manifest PUT by tag writes (filesystem driver layout of distribution 2.x), for thousands of
    tags in milliseconds instead of thousands of PUTs. Only for a registry started by this harness, and only for
    tags that did not exist before (the registry caches nothing about them).
    """
    algorithm, hex_digest = digest.split(":", 1)
    base = os.path.join(registry.root_dir, "data", "docker", "registry", "v2", "repositories", repository, "_manifests", "tags")
    if not os.path.isdir(base):
        raise PushError(f"{repository} has no tags on disk at {base}: push one first")
    for tag in tags:
        for directory in (os.path.join(base, tag, "current"), os.path.join(base, tag, "index", algorithm, hex_digest)):
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, "link"), "w", encoding="ascii") as handle:
                handle.write(digest)


def clone_repository_on_disk(registry: Registry, source: str, repositories: Sequence[str]) -> None:
    """Make many repositories with the same content by copying ``source``'s storage tree (links only, no blob data).

    Each copy is what pushing the same image there (mounts plus manifest PUTs) would have written, in a fraction of the
    time. Only for a registry started by this harness, and only for new repository names.
    """
    root = os.path.join(registry.root_dir, "data", "docker", "registry", "v2", "repositories")
    for repository in repositories:
        shutil.copytree(os.path.join(root, source), os.path.join(root, repository), ignore=shutil.ignore_patterns("_uploads"))
