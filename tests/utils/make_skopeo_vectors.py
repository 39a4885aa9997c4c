# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the signature test vectors of tests/data/signatures/skopeo-1.9.3/ with upstream skopeo.

    python tests/utils/make_skopeo_vectors.py --skopeo /work/tools/skopeo-1.9.3/bin/skopeo \\
        --registry 127.0.0.1:PORT --out tests/data/signatures/skopeo-1.9.3

A developer tool, not run by CI (CI has neither upstream skopeo nor the network to build it; the tests
use the committed output). Needs `cryptography`, `PyNaCl` and `requests`, an upstream skopeo 1.9.3
(tests/utils/build_skopeo.sh) and an empty plain-HTTP registry, e.g.
`cd tests && python -m harness up --dir DIR --flavour open --no-seed`.

What it does, in order (each step is described with its exact skopeo command in the README it writes
next to vectors.json):
  1. keys/: cosign-format private keys (PEM `ENCRYPTED COSIGN PRIVATE KEY`, scrypt N=32768 r=8 p=1,
     nacl/secretbox, PKCS#8 inside; the only form skopeo 1.9.3 reads), their public keys, the
     passphrase; plus the P-256 key wrapped the way cosign 2 writes it (`ENCRYPTED SIGSTORE PRIVATE
     KEY`, N=65536) to record that skopeo 1.9.3 refuses it. Kept when they already exist.
  2. image/: an OCI layout with a tiny single-platform image (`single`) and a two-platform index
     (`index`), gzip layers of a few bytes. Kept when it already exists.
  3. skopeo copy --sign-by-sigstore-private-key from the layout into the registry, one repository per
     vector; then reads back every `sha256-<hex>.sig` manifest, its config and payload blobs.
  4. the negative vectors (tampered payload, signature of another digest, signature moved to another
     repository, a cosign-style P-384/SHA-384 signature, no signature), pushed with plain HTTP.
  5. asks skopeo (tests/utils/skopeo_check.py) to verify each vector with its key, and with a wrong key,
     and records skopeo's verdict and message in vectors.json.

Every blob it read or wrote is stored once under blobs/sha256/<hex> (the exact bytes).

    python tests/utils/make_skopeo_vectors.py --registry HOST:PORT --out DIR --push-only PREFIX --skopeo -

pushes the committed vectors instead (each image and its `.sig` manifests, exact bytes) to PREFIX/<repo>:v1,
e.g. to check them again with tests/utils/skopeo_check.py (their docker-reference still names the capture
registry: use `--identity exact-repository=127.0.0.1:41627/signatures/<name>`).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from typing import Any, Optional

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from nacl.secret import SecretBox

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skopeo_check  # noqa: E402  pylint: disable=wrong-import-position

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX, "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])
PASSPHRASE = b"oci.registry test key, not secret"
KEYS = {
    "p256": "ECDSA P-256",
    "p384": "ECDSA P-384",
    "p521": "ECDSA P-521",
    "ed25519": "Ed25519",
    "rsa2048": "RSA 2048 PKCS#1 v1.5",
}


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Store:
    """blobs/sha256/<hex> under the output directory."""

    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def path(self, digest: str) -> str:
        return os.path.join("blobs", "sha256", digest.split(":", 1)[1])

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        with open(os.path.join(self.root, self.path(digest)), "wb") as handle:
            handle.write(data)
        return digest

    def get(self, digest: str) -> bytes:
        with open(os.path.join(self.root, self.path(digest)), "rb") as handle:
            return handle.read()


# --- keys -------------------------------------------------------------------------------------------

def encrypt_key(der: bytes, label: str, n: int) -> bytes:
    """A cosign private key file: PEM of {"kdf": scrypt, "cipher": nacl/secretbox, "ciphertext"}."""
    salt, nonce = os.urandom(32), os.urandom(24)
    box_key = hashlib.scrypt(PASSPHRASE, salt=salt, n=n, r=8, p=1, dklen=32, maxmem=256 * 1024 * 1024)
    ciphertext = SecretBox(box_key).encrypt(der, nonce).ciphertext
    body = {
        "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    encoded = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
    lines = [encoded[i:i + 64] for i in range(0, len(encoded), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def new_private_key(name: str) -> Any:
    if name.startswith("p"):
        curve = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}[name]
        return ec.generate_private_key(curve)
    if name == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_keys(out: str) -> None:
    directory = os.path.join(out, "keys")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "passphrase.txt"), "wb") as handle:
        handle.write(PASSPHRASE)
    for name in list(KEYS) + ["p256-other"]:
        if os.path.exists(os.path.join(directory, f"{name}.key")):
            continue
        key = new_private_key(name.split("-", maxsplit=1)[0])
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        with open(os.path.join(directory, f"{name}.key"), "wb") as handle:
            handle.write(encrypt_key(der, "ENCRYPTED COSIGN PRIVATE KEY", 32768))
        with open(os.path.join(directory, f"{name}.pub"), "wb") as handle:
            handle.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
        if name == "p256":
            with open(os.path.join(directory, "p256-sigstore-n65536.key"), "wb") as handle:
                handle.write(encrypt_key(der, "ENCRYPTED SIGSTORE PRIVATE KEY", 65536))
            with open(os.path.join(directory, "p256-cosign-n65536.key"), "wb") as handle:
                handle.write(encrypt_key(der, "ENCRYPTED COSIGN PRIVATE KEY", 65536))


def load_private_key(out: str, name: str) -> Any:
    """Decrypt keys/<name>.key (the reverse of encrypt_key)."""
    with open(os.path.join(out, "keys", f"{name}.key"), "rb") as handle:
        pem = handle.read().decode()
    body = json.loads(base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----"))))
    params = body["kdf"]["params"]
    box_key = hashlib.scrypt(PASSPHRASE, salt=base64.b64decode(body["kdf"]["salt"]), n=params["N"], r=params["r"],
                             p=params["p"], dklen=32, maxmem=256 * 1024 * 1024)
    der = SecretBox(box_key).decrypt(base64.b64decode(body["ciphertext"]), base64.b64decode(body["cipher"]["nonce"]))
    return serialization.load_der_private_key(der, password=None)


# --- the image --------------------------------------------------------------------------------------

def tiny_layer(name: str, content: bytes) -> tuple[bytes, bytes]:
    """(gzip blob, uncompressed tar) holding one file, reproducible bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), tar_bytes


def image_manifest(store: Store, arch: str, content: bytes) -> bytes:
    layer, tar_bytes = tiny_layer("hello.txt", content)
    config = {
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(tar_bytes)]},
    }
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": store.put(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": store.put(layer), "size": len(layer)}],
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def make_layout(out: str) -> None:
    """image/: an OCI layout with `single` (linux/amd64) and `index` (linux/amd64 + linux/arm64)."""
    layout = os.path.join(out, "image")
    if os.path.exists(os.path.join(layout, "index.json")):
        return
    store = Store(layout)
    single = image_manifest(store, "amd64", b"hello from oci.registry signature tests\n")
    children = []
    for arch in ("amd64", "arm64"):
        child = image_manifest(store, arch, f"hello {arch}\n".encode())
        children.append({"mediaType": OCI_MANIFEST, "digest": store.put(child), "size": len(child),
                         "platform": {"architecture": arch, "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children},
                       separators=(",", ":")).encode()
    top = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": store.put(single), "size": len(single),
         "annotations": {"org.opencontainers.image.ref.name": "single"}},
        {"mediaType": OCI_INDEX, "digest": store.put(index), "size": len(index),
         "annotations": {"org.opencontainers.image.ref.name": "index"}},
    ]}
    with open(os.path.join(layout, "oci-layout"), "w", encoding="utf-8") as handle:
        handle.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(layout, "index.json"), "w", encoding="utf-8") as handle:
        json.dump(top, handle, indent=2)


# --- registry -----------------------------------------------------------------------------------------

class Registry:
    """Plain HTTP calls to the capture registry."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.base = f"http://{host}/v2"
        self.session = requests.Session()

    def manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        response = self.session.get(f"{self.base}/{repository}/manifests/{reference}", headers={"Accept": ACCEPT},
                                    timeout=30)
        response.raise_for_status()
        return response.content, response.headers["Content-Type"]

    def blob(self, repository: str, digest: str) -> bytes:
        response = self.session.get(f"{self.base}/{repository}/blobs/{digest}", timeout=30)
        response.raise_for_status()
        if sha256(response.content) != digest:
            raise RuntimeError(f"blob {digest} of {repository} does not match its digest")
        return response.content

    def put_blob(self, repository: str, data: bytes) -> None:
        start = self.session.post(f"{self.base}/{repository}/blobs/uploads/", timeout=30)
        start.raise_for_status()
        location = start.headers["Location"]
        if location.startswith("/"):
            location = f"http://{self.host}{location}"
        separator = "&" if "?" in location else "?"
        done = self.session.put(f"{location}{separator}digest={sha256(data)}", data=data,
                                headers={"Content-Type": "application/octet-stream"}, timeout=30)
        done.raise_for_status()

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> None:
        response = self.session.put(f"{self.base}/{repository}/manifests/{reference}", data=data,
                                    headers={"Content-Type": media_type}, timeout=30)
        response.raise_for_status()


def sig_tag(digest: str) -> str:
    return digest.replace(":", "-", 1) + ".sig"


# --- skopeo -------------------------------------------------------------------------------------------

class Skopeo:
    """Runs skopeo with a policy that accepts anything and sigstore attachments on; records each command."""

    def __init__(self, binary: str, out: str, work: str) -> None:
        self.binary, self.out, self.work = binary, out, work
        self.policy = os.path.join(work, "policy-accept.json")
        with open(self.policy, "w", encoding="utf-8") as handle:
            json.dump({"default": [{"type": "insecureAcceptAnything"}]}, handle)
        self.registries_d = skopeo_check.write_config(work, os.devnull, {"type": "matchRepository"})[1]
        self.commands: list[str] = []

    def copy(self, source: str, dest: str, key: Optional[str], *extra: str) -> subprocess.CompletedProcess[str]:
        args = ["copy", "--dest-tls-verify=false", *extra]
        if key:
            args += ["--sign-by-sigstore-private-key", f"keys/{key}.key", "--sign-passphrase-file", "keys/passphrase.txt"]
        args += [source, dest]
        self.commands.append("skopeo --policy policy-accept.json --registries.d registries.d " + " ".join(args))
        env = dict(os.environ, HOME=self.work)
        return subprocess.run([self.binary, "--policy", self.policy, "--registries.d", self.registries_d, *args],
                              cwd=self.out, capture_output=True, text=True, env=env, check=False)

    def sign(self, source: str, dest: str, key: str, *extra: str) -> None:
        result = self.copy(source, dest, key, *extra)
        if result.returncode != 0:
            raise RuntimeError(f"skopeo copy to {dest} failed: {result.stderr}")


def capture_sig(registry: Registry, store: Store, repository: str, digest: str) -> dict[str, Any]:
    """Read `sha256-<hex>.sig` of digest in repository; store its manifest, config and layers."""
    raw, media_type = registry.manifest(repository, sig_tag(digest))
    manifest = json.loads(raw)
    store.put(registry.blob(repository, manifest["config"]["digest"]))
    layers = []
    for layer in manifest["layers"]:
        payload = registry.blob(repository, layer["digest"])
        store.put(payload)
        layers.append({"payload": store.path(layer["digest"]), "media_type": layer["mediaType"],
                       "annotations": layer.get("annotations", {}), "payload_text": payload.decode()})
    return {"tag": sig_tag(digest), "manifest_digest": store.put(raw), "manifest": store.path(sha256(raw)),
            "media_type": media_type, "config": store.path(manifest["config"]["digest"]), "layers": layers}


def push_sig(registry: Registry, store: Store, repository: str, digest: str, payloads: list[tuple[bytes, str]]) -> None:
    """Write a `.sig` manifest the way skopeo does (OCI manifest, OCI config with diff_ids), our payloads."""
    layers = []
    for payload, signature in payloads:
        registry.put_blob(repository, payload)
        store.put(payload)
        layers.append({"mediaType": SIMPLESIGNING, "digest": sha256(payload), "size": len(payload),
                       "annotations": {SIGNATURE_ANNOTATION: signature}})
    config = json.dumps({"architecture": "", "os": "", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}},
                        separators=(",", ":")).encode()
    registry.put_blob(repository, config)
    store.put(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
                           "layers": layers}, separators=(",", ":")).encode()
    registry.put_manifest(repository, sig_tag(digest), manifest, OCI_MANIFEST)


def copy_manifest(registry: Registry, source_repo: str, dest_repo: str, reference: str, tag: str) -> None:
    """Copy one non-index manifest and its blobs between repositories."""
    raw, media_type = registry.manifest(source_repo, reference)
    manifest = json.loads(raw)
    for descriptor in [manifest["config"]] + manifest["layers"]:
        registry.put_blob(dest_repo, registry.blob(source_repo, descriptor["digest"]))
    registry.put_manifest(dest_repo, tag, raw, media_type)


# --- checks -------------------------------------------------------------------------------------------

def public_key(out: str, key: str) -> Any:
    with open(os.path.join(out, "keys", f"{key}.pub"), "rb") as handle:
        return serialization.load_pem_public_key(handle.read())


def verifying_hash(key: Any, payload: bytes, signature: bytes) -> Optional[str]:
    """Which hash makes the signature verify with this key: "sha256", "sha384", "sha512", "ed25519" or None."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        try:
            key.verify(signature, payload)
            return "ed25519"
        except Exception:  # pylint: disable=broad-exception-caught
            return None
    for name, algorithm in (("sha256", hashes.SHA256()), ("sha384", hashes.SHA384()), ("sha512", hashes.SHA512())):
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(signature, payload, padding.PKCS1v15(), algorithm)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, payload, ec.ECDSA(algorithm))
            else:
                return None
            return name
        except Exception:  # pylint: disable=broad-exception-caught
            continue
    return None


def expectation(out: str, store: Store, sig: Optional[dict[str, Any]], key: str, digest: str,
                repository: str) -> dict[str, Any]:
    """Our own reading of one signature set against a key: what a cosign-style verifier should conclude."""
    if sig is None:
        return {"valid": False, "why": "no signature", "layers": []}
    layers = []
    for layer in sig["layers"]:
        payload = store.get("sha256:" + os.path.basename(layer["payload"]))
        body = json.loads(payload)
        signature = base64.b64decode(layer["annotations"].get(SIGNATURE_ANNOTATION, ""))
        reference = body["critical"]["identity"]["docker-reference"]
        layers.append({
            "verifies_with": verifying_hash(public_key(out, key), payload, signature),
            "digest_matches": body["critical"]["image"]["docker-manifest-digest"] == digest,
            "reference_repository_matches": reference.split("@")[0].rsplit(":", 1)[0].endswith("/" + repository),
        })
    good = [item for item in layers if item["verifies_with"] and item["digest_matches"]]
    if good:
        why = f"{len(good)} of {len(layers)} signature(s) verify over the payload and name the image's digest"
    elif any(item["verifies_with"] for item in layers):
        why = "the signature verifies but its payload names another digest"
    else:
        why = "no signature verifies with this key over the payload bytes"
    return {"valid": bool(good), "why": why, "layers": layers}


def verify(skopeo: str, key_path: str, reference: str, **kwargs: Any) -> dict[str, str]:
    result = skopeo_check.check(skopeo, reference, key_path, insecure=True, **kwargs)
    return {"result": result["result"], "message": result["message"]}


# --- the vectors ----------------------------------------------------------------------------------------

class Maker:
    """Pushes, signs and captures every repository; collects vectors.json."""

    def __init__(self, skopeo: Skopeo, registry: Registry, store: Store, out: str) -> None:
        self.skopeo, self.registry, self.store, self.out = skopeo, registry, store, out
        self.host = registry.host
        with open(os.path.join(out, "image", "index.json"), encoding="utf-8") as handle:
            refs = json.load(handle)["manifests"]
        self.images = {item["annotations"]["org.opencontainers.image.ref.name"]: item["digest"] for item in refs}
        self.repositories: dict[str, dict[str, Any]] = {}
        self.vectors: list[dict[str, Any]] = []

    def children(self, image: str) -> list[str]:
        raw = Store(os.path.join(self.out, "image")).get(self.images[image])
        return [item["digest"] for item in json.loads(raw).get("manifests", [])]

    def record(self, repository: str, image: str, how: str, tag: str = "v1") -> None:
        """Capture the `.sig` of the image (and of each instance of an index) in repository."""
        digests = [self.images[image]] + self.children(image)
        sigs = {}
        for digest in digests:
            try:
                sigs[digest] = capture_sig(self.registry, self.store, repository, digest)
            except requests.HTTPError as error:
                if error.response is None or error.response.status_code != 404:
                    raise
        self.repositories[repository] = {"tag": tag, "image": image, "image_digest": self.images[image],
                                         "how": how, "commands": list(self.skopeo.commands), "signatures": sigs}
        self.skopeo.commands.clear()

    def vector(self, name: str, repository: str, key: str, proves: str, *, identity: str = "matchRepository",
               all_images: bool = False) -> None:
        entry = self.repositories[repository]
        digest = entry["image_digest"]
        reference = f"{self.host}/{repository}:{entry['tag']}"
        expected = expectation(self.out, self.store, entry["signatures"].get(digest), key, digest, repository)
        observed = verify(self.skopeo.binary, os.path.join(self.out, "keys", f"{key}.pub"), reference,
                          identity=identity, all_images=all_images)
        self.vectors.append({
            "name": name, "proves": proves, "format": "simplesigning-tag", "repository": repository,
            "reference": reference, "image": entry["image"], "image_digest": digest,
            "public_key": f"keys/{key}.pub", "expected": expected,
            "skopeo": dict(observed, policy={"type": "sigstoreSigned", "keyPath": f"keys/{key}.pub",
                                             "signedIdentity": skopeo_check.signed_identity(identity)},
                           all=all_images),
        })
        print(f"{name}: expected valid={expected['valid']}, skopeo {observed['result']} {observed['message']}")

    def sign_each_key(self) -> None:
        for key in KEYS:
            repository = f"signatures/{key}"
            self.skopeo.sign("oci:image:single", f"docker://{self.host}/{repository}:v1", key)
            self.record(repository, "single", f"skopeo copy signed with keys/{key}.key")
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/signatures/multi:v1", "p256")
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/signatures/multi:v1", "p384")
        self.record("signatures/multi", "single", "skopeo copy twice, signed with keys/p256.key then keys/p384.key: "
                    "one .sig manifest with two layers")
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/signatures/identity:v1", "p256",
                         "--sign-identity", "registry.example/signatures/tiny:v1")
        self.record("signatures/identity", "single", "skopeo copy --sign-identity registry.example/signatures/tiny:v1")
        self.skopeo.sign("oci:image:index", f"docker://{self.host}/signatures/index:v1", "p256", "--all")
        self.record("signatures/index", "index", "skopeo copy --all of the two-platform index, signed with keys/p256.key")

    def index_variants(self) -> None:
        """The same signed index twice more: once without the index's .sig, once without the instances'."""
        for repository, drop in (("signatures/index-no-top-sig", "top"), ("signatures/index-top-sig-only", "children")):
            self.skopeo.sign("oci:image:index", f"docker://{self.host}/{repository}:v1", "p256", "--all")
            doomed = [self.images["index"]] if drop == "top" else self.children("index")
            for digest in doomed:
                raw = self.registry.manifest(repository, sig_tag(digest))[0]
                response = self.registry.session.delete(
                    f"{self.registry.base}/{repository}/manifests/{sha256(raw)}", timeout=30)
                response.raise_for_status()
            self.record(repository, "index", f"skopeo copy --all signed with keys/p256.key, then the {drop} "
                        ".sig manifest(s) deleted with DELETE /v2/<name>/manifests/<digest>")

    def negatives(self) -> None:
        single = self.images["single"]
        # A skopeo signature whose payload bytes are then changed (timestamp + 1): same digest, same reference.
        repository = "signatures/tampered"
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/{repository}:v1", "p256")
        original = capture_sig(self.registry, self.store, repository, single)
        layer = original["layers"][0]
        payload = json.loads(layer["payload_text"])
        payload["optional"]["timestamp"] += 1
        tampered = json.dumps(payload, separators=(",", ":")).encode()
        push_sig(self.registry, self.store, repository, single, [(tampered, layer["annotations"][SIGNATURE_ANNOTATION])])
        self.record(repository, "single", "skopeo copy signed with keys/p256.key, then the .sig replaced by one whose "
                    "payload has optional.timestamp + 1 and the original signature annotation "
                    f"(original .sig manifest {original['manifest_digest']})")
        # A valid signature of another image (an index instance) at this image's .sig tag, same repository.
        repository = "signatures/wrong-digest"
        self.skopeo.sign("oci:image:index", f"docker://{self.host}/{repository}:index", "p256", "--all")
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/{repository}:v1", None, "--remove-signatures")
        amd64 = self.children("index")[0]
        raw, media_type = self.registry.manifest(repository, sig_tag(amd64))
        self.registry.put_manifest(repository, sig_tag(single), raw, media_type)
        self.record(repository, "single", f"{repository}:index signed by skopeo copy --all with keys/p256.key; its "
                    f"linux/amd64 instance's .sig manifest then put at {sig_tag(single)} (the tag of :v1's digest)")
        # The p256 vector's .sig copied verbatim into another repository holding the same image.
        repository = "signatures/moved"
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/{repository}:v1", None)
        copy_manifest(self.registry, "signatures/p256", repository, sig_tag(single), sig_tag(single))
        self.record(repository, "single", "the image pushed unsigned, then signatures/p256's .sig manifest and blobs "
                    "copied here verbatim (docker-reference names signatures/p256:v1)")
        # cosign's convention for P-384: ECDSA over SHA-384; made here with `cryptography`, payload in skopeo's form.
        repository = "signatures/p384-sha384"
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/{repository}:v1", None)
        body = {"critical": {"identity": {"docker-reference": f"{self.host}/{repository}:v1"},
                             "image": {"docker-manifest-digest": single},
                             "type": "cosign container image signature"},
                "optional": {"creator": "oci.registry make_skopeo_vectors.py"}}
        payload_bytes = json.dumps(body, separators=(",", ":")).encode()
        signature = load_private_key(self.out, "p384").sign(payload_bytes, ec.ECDSA(hashes.SHA384()))
        push_sig(self.registry, self.store, repository, single, [(payload_bytes, base64.b64encode(signature).decode())])
        self.record(repository, "single", "made with Python (cryptography), not skopeo: payload in skopeo's layout "
                    "signed with keys/p384.key as ECDSA P-384 over SHA-384 (cosign's hash for P-384)")
        self.skopeo.sign("oci:image:single", f"docker://{self.host}/signatures/unsigned:v1", None)
        self.record("signatures/unsigned", "single", "skopeo copy without signing")

    def refused_keys(self) -> list[dict[str, str]]:
        refused = []
        for key in ("p256-sigstore-n65536", "p256-cosign-n65536"):
            result = self.skopeo.copy("oci:image:single", f"docker://{self.host}/signatures/refused:v1", key)
            refused.append({"private_key": f"keys/{key}.key", "exit_status": result.returncode,
                            "message": skopeo_check.last_message(result.stderr), "command": self.skopeo.commands[-1]})
        self.skopeo.commands.clear()
        return refused

    def check_all(self) -> None:
        for key in KEYS:
            self.vector(key, f"signatures/{key}", key, f"skopeo 1.9.3 signs with a {KEYS[key]} key and verifies it")
        self.vector("p256-other-key", "signatures/p256", "p256-other", "a P-256 signature does not verify with "
                    "another P-256 key")
        self.vector("p256-with-p384-key", "signatures/p256", "p384", "a P-256 signature does not verify with a "
                    "P-384 key")
        self.vector("multi-p256", "signatures/multi", "p256", "two signatures in one .sig: the first layer's key "
                    "is accepted")
        self.vector("multi-p384", "signatures/multi", "p384", "two signatures in one .sig: the second layer's "
                    "key is accepted too (any layer may verify)")
        self.vector("multi-ed25519", "signatures/multi", "ed25519", "neither of the two layers verifies with a "
                    "third key")
        self.vector("identity-match-repository", "signatures/identity", "p256", "a signature whose "
                    "docker-reference (--sign-identity) names another repository is refused by matchRepository")
        self.vector("identity-exact-repository", "signatures/identity", "p256", "the same signature passes when "
                    "the policy names the signed repository", identity="exact-repository=registry.example/signatures/tiny")
        self.vector("index-all", "signatures/index", "p256", "skopeo copy --all signs the index and each instance; "
                    "verification with --all checks each instance's .sig", all_images=True)
        self.vector("index-no-top-sig", "signatures/index-no-top-sig", "p256", "skopeo accepts an index whose "
                    "own .sig is missing: it only checks the instances' signatures", all_images=True)
        self.vector("index-top-sig-only", "signatures/index-top-sig-only", "p256", "skopeo refuses an index "
                    "signed only at the top (cosign's default): it needs each instance's signature",
                    all_images=True)
        self.vector("tampered-payload", "signatures/tampered", "p256", "changing one byte of the payload breaks "
                    "the signature")
        self.vector("wrong-digest", "signatures/wrong-digest", "p256", "a valid signature whose payload names "
                    "another digest is refused")
        self.vector("moved-repository", "signatures/moved", "p256", "a valid signature for the same digest signed "
                    "for another repository: refused by skopeo's matchRepository, accepted by cosign's rule")
        self.vector("p384-sha384", "signatures/p384-sha384", "p384", "cosign's P-384 convention (SHA-384) is "
                    "refused by skopeo 1.9.3, which hashes with SHA-256 for every curve")
        self.vector("unsigned", "signatures/unsigned", "p256", "an image without a .sig is refused")


def push_image(registry: Registry, layout: Store, repository: str, digest: str, tag: Optional[str] = None) -> None:
    """Push one manifest of image/ (an index: its instances first) with its blobs."""
    raw = layout.get(digest)
    manifest = json.loads(raw)
    for child in manifest.get("manifests", []):
        push_image(registry, layout, repository, child["digest"])
    for descriptor in [manifest["config"]] + manifest["layers"] if "config" in manifest else []:
        registry.put_blob(repository, layout.get(descriptor["digest"]))
    registry.put_manifest(repository, tag or digest, raw, manifest["mediaType"])


def push_vectors(registry: Registry, out: str, prefix: str) -> None:
    """Push every repository of vectors.json, image and `.sig` manifests, under prefix/ (the committed bytes)."""
    store, layout = Store(out), Store(os.path.join(out, "image"))
    with open(os.path.join(out, "vectors.json"), encoding="utf-8") as handle:
        document = json.load(handle)
    for repository, entry in document["repositories"].items():
        target = f"{prefix}/{repository}"
        push_image(registry, layout, target, document["images"][entry["image"]]["digest"], entry["tag"])
        for sig in entry["signatures"].values():
            raw = store.get(sig["manifest_digest"])
            manifest = json.loads(raw)
            for descriptor in [manifest["config"]] + manifest["layers"]:
                registry.put_blob(target, store.get(descriptor["digest"]))
            registry.put_manifest(target, sig["tag"], raw, sig["media_type"])
        print(f"pushed {registry.host}/{target}:{entry['tag']} and {len(entry['signatures'])} .sig manifest(s)")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--skopeo", required=True, help="upstream skopeo 1.9.3 binary")
    parser.add_argument("--registry", required=True, help="HOST:PORT of an empty plain-HTTP registry")
    parser.add_argument("--out", required=True, help="output directory (tests/data/signatures/skopeo-1.9.3)")
    parser.add_argument("--push-only", metavar="PREFIX",
                        help="make nothing: push the vectors already in --out to the registry under PREFIX/")
    args = parser.parse_args(argv)
    out = os.path.abspath(args.out)
    if args.push_only:
        push_vectors(Registry(args.registry), out, args.push_only)
        return 0
    os.makedirs(out, exist_ok=True)
    make_keys(out)
    make_layout(out)
    version = subprocess.run([args.skopeo, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="skopeo-vectors-") as work:
        maker = Maker(Skopeo(args.skopeo, out, work), Registry(args.registry), Store(out), out)
        maker.sign_each_key()
        maker.index_variants()
        maker.negatives()
        refused = maker.refused_keys()
        maker.check_all()
    for sigs in maker.repositories.values():
        for sig in sigs["signatures"].values():
            for layer in sig["layers"]:
                del layer["payload_text"]
    document = {
        "tool": version, "registry_at_capture": args.registry, "passphrase_file": "keys/passphrase.txt",
        "keys": {name: {"private": f"keys/{name}.key", "public": f"keys/{name}.pub", "type": kind}
                 for name, kind in dict(KEYS, **{"p256-other": "ECDSA P-256"}).items()},
        "images": {name: {"digest": digest, "layout": "image", "ref_name": name} for name, digest in maker.images.items()},
        "repositories": maker.repositories, "vectors": maker.vectors, "signing_refused": refused,
    }
    with open(os.path.join(out, "vectors.json"), "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
