# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib
import json
import typing as t

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._errors import DigestMismatchError, RegistryError
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    Manifest,
    Platform,
)
from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest, verify_digest

D_AMD64 = "sha256:" + "1" * 64
D_ARM64 = "sha256:" + "2" * 64
D_ARMV7 = "sha256:" + "3" * 64
D_ARMV6 = "sha256:" + "4" * 64
D_ATTEST = "sha256:" + "5" * 64
D_CONFIG = "sha256:" + "6" * 64
D_LAYER = "sha256:" + "7" * 64
EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
EMPTY_SHA512 = ("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")


def _entry(media_type: str, digest: str, platform: dict[str, str] | None) -> dict[str, t.Any]:
    entry: dict[str, t.Any] = {"mediaType": media_type, "digest": digest, "size": 1234}
    if platform is not None:
        entry["platform"] = platform
    return entry


# A buildx-style OCI index: two images, then an attestation manifest with platform unknown/unknown.
OCI_INDEX_DOC = {
    "schemaVersion": 2,
    "mediaType": OCI_INDEX,
    "manifests": [
        _entry(OCI_MANIFEST, D_AMD64, {"architecture": "amd64", "os": "linux"}),
        _entry(OCI_MANIFEST, D_ARM64, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
        _entry(OCI_MANIFEST, D_ATTEST, {"architecture": "unknown", "os": "unknown"}),
    ],
}
# A Docker manifest list as Docker Hub serves for official images (arm64 without a variant here).
DOCKER_LIST_DOC = {
    "schemaVersion": 2,
    "mediaType": DOCKER_LIST,
    "manifests": [
        _entry(DOCKER_MANIFEST, D_ARMV6, {"architecture": "arm", "os": "linux", "variant": "v6"}),
        _entry(DOCKER_MANIFEST, D_ARMV7, {"architecture": "arm", "os": "linux", "variant": "v7"}),
        _entry(DOCKER_MANIFEST, D_ARM64, {"architecture": "arm64", "os": "linux"}),
        _entry(DOCKER_MANIFEST, D_AMD64, {"architecture": "amd64", "os": "linux"}),
        _entry(DOCKER_MANIFEST, "sha256:" + "8" * 64, None),
    ],
}


def _image(media_type: str | None) -> dict[str, t.Any]:
    doc: dict[str, t.Any] = {
        "schemaVersion": 2,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D_CONFIG, "size": 1469},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D_LAYER, "size": 3623807}],
    }
    if media_type is not None:
        doc["mediaType"] = media_type
    return doc


def _raw(doc: t.Any) -> bytes:
    return json.dumps(doc, indent=3).encode("utf-8")


# --- Platform.parse ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("linux/amd64", Platform("linux", "amd64")),
    ("linux/arm64/v8", Platform("linux", "arm64", "v8")),
    ("Linux/ARM64/V8", Platform("linux", "arm64", "v8")),
    ("  linux/arm/v7  ", Platform("linux", "arm", "v7")),
    ("windows/amd64", Platform("windows", "amd64")),
])
def test_platform_parse(text: str, expected: Platform) -> None:
    assert Platform.parse(text) == expected


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "linux//v8", "linux/amd64/", "a/b/c/d", "", " ", "linux/ /v7", None, 42])
def test_platform_parse_invalid(text: t.Any) -> None:
    with pytest.raises(ValueError) as exc:
        Platform.parse(text)
    message = str(exc.value)
    assert repr(text) in message
    # The message says what is accepted.
    assert "os/architecture[/variant]" in message
    assert "linux/amd64" in message


@pytest.mark.parametrize("text", ["linux / amd64", "linux/ arm64 /v8"])
def test_platform_parse_keeps_no_inner_whitespace(text: str) -> None:
    # Either refused, or parsed to clean fields: a field holding spaces would never match any image.
    try:
        platform = Platform.parse(text)
    except ValueError:
        return
    assert all(part == part.strip() for part in (platform.os, platform.architecture, platform.variant or ""))


@pytest.mark.parametrize("platform, text", [
    (Platform("linux", "amd64"), "linux/amd64"),
    (Platform("linux", "arm64", "v8"), "linux/arm64/v8"),
])
def test_platform_str(platform: Platform, text: str) -> None:
    assert str(platform) == text
    assert Platform.parse(str(platform)) == platform


# --- Platform.matches -------------------------------------------------------------------------

# wanted, the manifest's platform (os, architecture, variant), expected
MATCHES = [
    ("linux/amd64", ("linux", "amd64", None), True),
    ("linux/arm64", ("linux", "arm64", "v8"), True),
    ("linux/arm64", ("linux", "arm64", None), True),
    ("linux/arm64/v8", ("linux", "arm64", None), True),
    ("linux/arm64/v8", ("linux", "arm64", "v8"), True),
    ("linux/arm/v7", ("linux", "arm", "v7"), True),
    ("linux/arm/v7", ("linux", "arm", "v6"), False),
    ("linux/arm/v6", ("linux", "arm", "v7"), False),
    ("linux/arm/v7", ("linux", "arm", None), False),
    ("linux/arm", ("linux", "arm", "v6"), True),
    ("linux/amd64", ("windows", "amd64", None), False),
    ("windows/amd64", ("linux", "amd64", None), False),
    ("linux/amd64", ("linux", "arm64", "v8"), False),
    ("linux/arm64", ("linux", "arm", "v8"), False),
    ("linux/amd64", ("unknown", "unknown", None), False),
]


@pytest.mark.parametrize("wanted, other, expected", MATCHES)
def test_platform_matches(wanted: str, other: tuple[str, str, str | None], expected: bool) -> None:
    assert Platform.parse(wanted).matches(Platform(*other)) is expected


# --- Manifest.from_bytes ----------------------------------------------------------------------

def test_oci_index() -> None:
    raw = _raw(OCI_INDEX_DOC)
    manifest = Manifest.from_bytes(raw, OCI_INDEX)
    assert manifest.media_type == OCI_INDEX
    assert manifest.is_index
    assert manifest.raw == raw
    assert manifest.size == len(raw)
    assert manifest.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert manifest.config_descriptor is None
    assert manifest.layers == []
    assert manifest.children == [
        {"digest": D_AMD64, "media_type": OCI_MANIFEST, "size": 1234, "platform": "linux/amd64"},
        {"digest": D_ARM64, "media_type": OCI_MANIFEST, "size": 1234, "platform": "linux/arm64/v8"},
        {"digest": D_ATTEST, "media_type": OCI_MANIFEST, "size": 1234, "platform": "unknown/unknown"},
    ]


def test_docker_list() -> None:
    manifest = Manifest.from_bytes(_raw(DOCKER_LIST_DOC), DOCKER_LIST)
    assert manifest.media_type == DOCKER_LIST
    assert manifest.is_index
    assert [c["platform"] for c in manifest.children] == ["linux/arm/v6", "linux/arm/v7", "linux/arm64", "linux/amd64", None]
    assert {c["media_type"] for c in manifest.children} == {DOCKER_MANIFEST}


# document, wanted platform, expected digest
SELECT = [
    (OCI_INDEX_DOC, "linux/amd64", D_AMD64),
    (OCI_INDEX_DOC, "linux/arm64", D_ARM64),
    (OCI_INDEX_DOC, "linux/arm64/v8", D_ARM64),
    (OCI_INDEX_DOC, "linux/arm/v7", None),
    (OCI_INDEX_DOC, "windows/amd64", None),
    (DOCKER_LIST_DOC, "linux/arm64/v8", D_ARM64),
    (DOCKER_LIST_DOC, "linux/arm64", D_ARM64),
    (DOCKER_LIST_DOC, "linux/arm/v7", D_ARMV7),
    (DOCKER_LIST_DOC, "linux/arm/v6", D_ARMV6),
    (DOCKER_LIST_DOC, "linux/arm", D_ARMV6),  # no variant asked: the first arm child
    (DOCKER_LIST_DOC, "linux/amd64", D_AMD64),
    (DOCKER_LIST_DOC, "linux/s390x", None),
]


@pytest.mark.parametrize("doc, wanted, expected", SELECT)
def test_select_platform(doc: dict[str, t.Any], wanted: str, expected: str | None) -> None:
    manifest = Manifest.from_bytes(_raw(doc), None)
    assert manifest.select_platform(Platform.parse(wanted)) == expected


@pytest.mark.parametrize("media_type", [OCI_MANIFEST, DOCKER_MANIFEST])
def test_image_manifest(media_type: str) -> None:
    raw = _raw(_image(media_type))
    manifest = Manifest.from_bytes(raw, media_type)
    assert manifest.media_type == media_type
    assert not manifest.is_index
    assert manifest.children == []
    assert manifest.select_platform(Platform.parse("linux/amd64")) is None
    assert manifest.config_descriptor == {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D_CONFIG, "size": 1469}
    assert [layer["digest"] for layer in manifest.layers] == [D_LAYER]


def test_config_descriptor_without_digest_is_none() -> None:
    doc = _image(OCI_MANIFEST)
    doc["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2}
    assert Manifest.from_bytes(_raw(doc), OCI_MANIFEST).config_descriptor is None


# body, Content-Type header, expected media type
MEDIA_TYPES = [
    # The body's mediaType wins over the header.
    (_image(DOCKER_MANIFEST), OCI_MANIFEST, DOCKER_MANIFEST),
    (OCI_INDEX_DOC, "application/json", OCI_INDEX),
    # No mediaType in the body (optional in OCI): the header, without parameters.
    (_image(None), OCI_MANIFEST, OCI_MANIFEST),
    (_image(None), DOCKER_MANIFEST + "; charset=utf-8", DOCKER_MANIFEST),
    ({"schemaVersion": 2, "manifests": []}, DOCKER_LIST, DOCKER_LIST),
    # Neither: guessed from the shape.
    (_image(None), None, OCI_MANIFEST),
    (_image(None), "", OCI_MANIFEST),
    ({"schemaVersion": 2, "manifests": []}, None, OCI_INDEX),
]


@pytest.mark.parametrize("doc, content_type, expected", MEDIA_TYPES)
def test_media_type(doc: dict[str, t.Any], content_type: str | None, expected: str) -> None:
    assert Manifest.from_bytes(_raw(doc), content_type).media_type == expected


def test_digest_given_is_kept() -> None:
    raw = _raw(_image(OCI_MANIFEST))
    assert Manifest.from_bytes(raw, OCI_MANIFEST).digest == compute_digest(raw)
    assert Manifest.from_bytes(raw, OCI_MANIFEST, digest=D_AMD64).digest == D_AMD64


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe{}", b"[1, 2]", b'"a string"', b"null"])
def test_from_bytes_invalid(raw: bytes) -> None:
    with pytest.raises(RegistryError, match="manifest that is not"):
        Manifest.from_bytes(raw, OCI_MANIFEST)


# --- digests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, algorithm, expected", [
    (b"", "sha256", EMPTY_SHA256),
    (b"", "sha512", EMPTY_SHA512),
    (b"abc", "sha256", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abc", "sha512", "sha512:" + hashlib.sha512(b"abc").hexdigest()),
])
def test_compute_digest(data: bytes, algorithm: str, expected: str) -> None:
    assert compute_digest(data, algorithm) == expected
    verify_digest(data, expected)


def test_compute_digest_defaults_to_sha256() -> None:
    assert compute_digest(b"") == EMPTY_SHA256


@pytest.mark.parametrize("data, expected", [
    (b"abc", EMPTY_SHA256),
    (b"abc", EMPTY_SHA512),
    (b"", "sha256:" + "0" * 64),
    (b"{}", compute_digest(b"{ }")),
])
def test_verify_digest_mismatch(data: bytes, expected: str) -> None:
    with pytest.raises(DigestMismatchError) as exc:
        verify_digest(data, expected, "manifest r.example/a@x")
    message = str(exc.value)
    assert "manifest r.example/a@x" in message
    assert expected in message
    assert compute_digest(data, expected.split(":")[0]) in message
    assert exc.value.details()["error_kind"] == "digest_mismatch"


@pytest.mark.parametrize("expected", ["md5:900150983cd24fb0d6963f7d28e17f72", "abc", "sha384:" + "0" * 96])
def test_verify_digest_unsupported_algorithm(expected: str) -> None:
    with pytest.raises(DigestMismatchError, match="unsupported digest algorithm"):
        verify_digest(b"abc", expected)
