# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.oci.registry.plugins.module_utils.model._vendors import DOCKER_HUB, DOCKER_HUB_API_HOST
from ansible_collections.oci.registry.plugins.module_utils.model._reference import (
    ImageReference,
    RegistryName,
    validate_digest,
    validate_tag,
)

SHA256 = "sha256:" + "0123456789abcdef" * 4
SHA256_B = "sha256:" + "a" * 64
SHA512 = "sha512:" + "0123456789abcdef" * 8
LONG_TAG = "t" * 128
LONG_PATH = "/".join(["a" * 50] * 5)  # 254 characters

# input, registry, repository, tag, digest, str()
VALID = [
    ("nginx", "docker.io", "library/nginx", "latest", None, "docker.io/library/nginx:latest"),
    ("nginx:1.27", "docker.io", "library/nginx", "1.27", None, "docker.io/library/nginx:1.27"),
    ("nginx@" + SHA256, "docker.io", "library/nginx", None, SHA256, "docker.io/library/nginx@" + SHA256),
    ("nginx:1.27@" + SHA256, "docker.io", "library/nginx", "1.27", SHA256, "docker.io/library/nginx:1.27@" + SHA256),
    ("library/nginx", "docker.io", "library/nginx", "latest", None, "docker.io/library/nginx:latest"),
    ("bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", None, "docker.io/bitnami/redis:7.2"),
    ("docker.io/nginx", "docker.io", "library/nginx", "latest", None, "docker.io/library/nginx:latest"),
    ("docker.io/library/nginx:1", "docker.io", "library/nginx", "1", None, "docker.io/library/nginx:1"),
    ("index.docker.io/nginx", "docker.io", "library/nginx", "latest", None, "docker.io/library/nginx:latest"),
    ("registry-1.docker.io/bitnami/redis", "docker.io", "bitnami/redis", "latest", None, "docker.io/bitnami/redis:latest"),
    ("Docker.IO/nginx", "docker.io", "library/nginx", "latest", None, "docker.io/library/nginx:latest"),
    ("docker.io:443/nginx", "docker.io:443", "nginx", "latest", None, "docker.io:443/nginx:latest"),
    ("ghcr.io/owner/app:v1.2.3", "ghcr.io", "owner/app", "v1.2.3", None, "ghcr.io/owner/app:v1.2.3"),
    ("GHCR.IO/owner/app", "ghcr.io", "owner/app", "latest", None, "ghcr.io/owner/app:latest"),
    ("ghcr.io/app", "ghcr.io", "app", "latest", None, "ghcr.io/app:latest"),
    ("quay.io/a/b/c/d:x", "quay.io", "a/b/c/d", "x", None, "quay.io/a/b/c/d:x"),
    ("localhost/app", "localhost", "app", "latest", None, "localhost/app:latest"),
    ("LocalHost/app", "localhost", "app", "latest", None, "localhost/app:latest"),
    ("localhost:5000/app:dev", "localhost:5000", "app", "dev", None, "localhost:5000/app:dev"),
    ("localhost:5000/app@" + SHA512, "localhost:5000", "app", None, SHA512, "localhost:5000/app@" + SHA512),
    ("127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", "latest", None, "127.0.0.1:5000/team/app:latest"),
    ("127.0.0.1/app", "127.0.0.1", "app", "latest", None, "127.0.0.1/app:latest"),
    ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None, "[::1]:5000/app:1"),
    ("[::1]/app", "[::1]", "app", "latest", None, "[::1]/app:latest"),
    ("[FE80::1]:443/x/y", "[fe80::1]:443", "x/y", "latest", None, "[fe80::1]:443/x/y:latest"),
    ("myregistry:5000/app", "myregistry:5000", "app", "latest", None, "myregistry:5000/app:latest"),
    ("registry.example.com:05000/app", "registry.example.com:5000", "app", "latest", None, "registry.example.com:5000/app:latest"),
    ("my-registry.example.com/a_b/c__d/e-f/g--h/i.j", "my-registry.example.com", "a_b/c__d/e-f/g--h/i.j", "latest", None,
     "my-registry.example.com/a_b/c__d/e-f/g--h/i.j:latest"),
    ("example.com:65535/app", "example.com:65535", "app", "latest", None, "example.com:65535/app:latest"),
    ("example.com:1/app", "example.com:1", "app", "latest", None, "example.com:1/app:latest"),
    ("ghcr.io/x/y:TAG_Upper", "ghcr.io", "x/y", "TAG_Upper", None, "ghcr.io/x/y:TAG_Upper"),
    ("ghcr.io/x/y:_underscore", "ghcr.io", "x/y", "_underscore", None, "ghcr.io/x/y:_underscore"),
    ("ghcr.io/x/y:1.0-rc.1_b", "ghcr.io", "x/y", "1.0-rc.1_b", None, "ghcr.io/x/y:1.0-rc.1_b"),
    ("app:" + LONG_TAG, "docker.io", "library/app", LONG_TAG, None, "docker.io/library/app:" + LONG_TAG),
    ("ghcr.io/x/y@" + SHA256_B, "ghcr.io", "x/y", None, SHA256_B, "ghcr.io/x/y@" + SHA256_B),
    ("ghcr.io/x/y:t@" + SHA512, "ghcr.io", "x/y", "t", SHA512, "ghcr.io/x/y:t@" + SHA512),
    ("a", "docker.io", "library/a", "latest", None, "docker.io/library/a:latest"),
    ("0", "docker.io", "library/0", "latest", None, "docker.io/library/0:latest"),
    ("ghcr.io", "docker.io", "library/ghcr.io", "latest", None, "docker.io/library/ghcr.io:latest"),
    ("localhost:5000", "docker.io", "library/localhost", "5000", None, "docker.io/library/localhost:5000"),
    ("foo.bar/baz", "foo.bar", "baz", "latest", None, "foo.bar/baz:latest"),
    ("sub-1.sub2.example.org/ns/img:1", "sub-1.sub2.example.org", "ns/img", "1", None, "sub-1.sub2.example.org/ns/img:1"),
    ("example.com/" + LONG_PATH, "example.com", LONG_PATH, "latest", None, "example.com/" + LONG_PATH + ":latest"),
    ("my.registry/a.b.c", "my.registry", "a.b.c", "latest", None, "my.registry/a.b.c:latest"),
    # An upper-case first component is a host, as docker's normalizer has it.
    ("Docker/docker", "Docker", "docker", "latest", None, "Docker/docker:latest"),
    ("Myhost/team/app:1", "Myhost", "team/app", "1", None, "Myhost/team/app:1"),
    ("Myhost:5000/app", "myhost:5000", "app", "latest", None, "myhost:5000/app:latest"),
    ("a" * 64 + ":tag", "docker.io", "library/" + "a" * 64, "tag", None, "docker.io/library/" + "a" * 64 + ":tag"),
    ("ghcr.io/" + "a" * 64, "ghcr.io", "a" * 64, "latest", None, "ghcr.io/" + "a" * 64 + ":latest"),
]


@pytest.mark.parametrize("text, registry, repository, tag, digest, normalized", VALID)
def test_parse_valid(text: str, registry: str, repository: str, tag: str | None, digest: str | None, normalized: str) -> None:
    ref = ImageReference.parse(text)
    assert ref.registry == registry
    assert ref.repository == repository
    assert ref.tag == tag
    assert ref.digest == digest
    assert str(ref) == normalized
    assert ref.name == f"{registry}/{repository}"
    # The normalized form parses to the same reference.
    assert ImageReference.parse(str(ref)) == ref


# input, expected substring of the error message
INVALID = [
    ("", 'invalid image reference "": the image reference is empty'),
    (" nginx", "contains whitespace"),
    ("nginx :1", "contains whitespace"),
    ("nginx\t", "contains whitespace"),
    ("https://ghcr.io/x", 'remove the scheme "https://"'),
    ("oci://ghcr.io/x", 'remove the scheme "oci://"'),
    ("Nginx:1.0", 'invalid image reference "Nginx:1.0": repository "Nginx" must be lowercase: '
                  'path components are [a-z0-9] separated by ".", "_", "__" or "-"'),
    ("ghcr.io/Owner/app", 'repository "Owner/app" must be lowercase'),
    ("repo:-bad", 'invalid tag "-bad" in "repo:-bad": a tag is 1-128 characters of [A-Za-z0-9_.-] and cannot start with "." or "-"'),
    ("repo:.bad", 'invalid tag ".bad" in "repo:.bad"'),
    ("repo:", 'invalid tag "" in "repo:": the tag is empty'),
    ("repo:" + "t" * 129, "the tag is 129 characters long"),
    ("repo:a+b", 'invalid tag "a+b"'),
    ("repo@sha256:abc", 'invalid digest "sha256:abc" in "repo@sha256:abc": sha256 digests are 64 lowercase hex characters'),
    ("repo@" + SHA256.upper().replace("SHA256", "sha256"), "sha256 digests are 64 lowercase hex characters"),
    ("repo@sha512:" + "a" * 64, "sha512 digests are 128 lowercase hex characters"),
    ("repo@md5:" + "a" * 32, 'unsupported algorithm "md5"; only sha256 and sha512 digests are supported'),
    ("repo@sha256+b64:abc", "only sha256 and sha512 digests are supported"),
    ("repo@SHA256:" + "a" * 64, 'malformed algorithm "SHA256"'),
    ("repo@" + "a" * 64, 'a digest is "algorithm:hex"'),
    ("repo@", 'invalid digest ""'),
    ("repo@" + SHA256 + "@" + SHA256, "sha256 digests are 64 lowercase hex characters"),
    ("ghcr.io/x/", 'remove the trailing "/"'),
    ("ghcr.io/", 'remove the trailing "/"'),
    ("/nginx", 'remove the leading "/"'),
    ("ghcr.io//x", '"//" makes an empty path component'),
    ("a//b", '"//" makes an empty path component'),
    (":tag", "the repository is missing"),
    ("@" + SHA256, "the repository is missing"),
    ("ghcr.io:0/x", "registry port 0 in \"ghcr.io:0\" is out of range 1-65535"),
    ("ghcr.io:65536/x", "registry port 65536 in \"ghcr.io:65536\" is out of range 1-65535"),
    ("ghcr.io:/x", 'registry port "" in "ghcr.io:" must be a number 1-65535'),
    ("ghcr.io:http/x", 'registry port "http" in "ghcr.io:http" must be a number 1-65535'),
    ("ghcr.io:1:2/x", 'registry port "1:2"'),
    ("-bad.example.com/x", 'registry host "-bad.example.com" is not a valid host name'),
    ("bad..example.com/x", 'registry host "bad..example.com" is not a valid host name'),
    ("my_reg.example.com/x", 'registry host "my_reg.example.com" is not a valid host name'),
    ("[::1/x", 'without the closing "]"'),
    ("[nothex]:5000/x", '"[nothex]" is not a valid IPv6 address'),
    ("[::1]5000/x", 'registry port "5000"'),
    ("ghcr.io/-x", 'repository "-x" has an invalid path component "-x"'),
    ("ghcr.io/x_", 'has an invalid path component "x_"'),
    ("ghcr.io/a___b", 'has an invalid path component "a___b"'),
    ("ghcr.io/a..b", 'has an invalid path component "a..b"'),
    ("ghcr.io/a/b!c", 'has an invalid path component "b!c"'),
    ("example.com/" + "/".join(["a" * 50] * 5) + "ab", "is 256 characters long; at most 255 are accepted"),
    ("n" * 250, 'repository "library/' + "n" * 250 + '" is 258 characters long'),
    # distribution/reference's test vectors for IPv6 hosts and image IDs.
    ("[fe80::1%eth0]:5000/x", 'without a zone ("%...")'),
    ("[fe80::1%25eth0]/x", "without a zone"),
    ("[::ffff:192.168.1.1]:5000/x", "or an embedded IPv4 tail"),
    ("a" * 64, "is an image ID, not a repository name"),
    ("0123456789abcdef" * 4, "is an image ID"),
    ("Docker/Docker", 'repository "Docker" must be lowercase'),
    ("Docker_x/app", 'registry host "Docker_x" is not a valid host name'),
]


@pytest.mark.parametrize("text, message", INVALID)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        ImageReference.parse(text)
    assert message in str(excinfo.value)


@pytest.mark.parametrize("value", [None, 1, b"nginx"])
def test_parse_not_a_string(value: object) -> None:
    with pytest.raises(ValueError, match="expected a string"):
        ImageReference.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text, default_tag, tag, digest", [
    ("nginx", None, None, None),
    ("nginx", "stable", "stable", None),
    ("nginx:1", None, "1", None),
    ("nginx:1", "stable", "1", None),
    ("nginx@" + SHA256, "stable", None, SHA256),
])
def test_parse_default_tag(text: str, default_tag: str | None, tag: str | None, digest: str | None) -> None:
    ref = ImageReference.parse(text, default_tag=default_tag)
    assert (ref.tag, ref.digest) == (tag, digest)


def test_parse_invalid_default_tag() -> None:
    with pytest.raises(ValueError, match='invalid tag "-x"'):
        ImageReference.parse("nginx", default_tag="-x")


@pytest.mark.parametrize("text, registry, repository, normalized", [
    ("nginx", "docker.io", "library/nginx", "docker.io/library/nginx"),
    ("bitnami/redis", "docker.io", "bitnami/redis", "docker.io/bitnami/redis"),
    ("index.docker.io/nginx", "docker.io", "library/nginx", "docker.io/library/nginx"),
    ("ghcr.io/owner/app", "ghcr.io", "owner/app", "ghcr.io/owner/app"),
    ("localhost:5000/app", "localhost:5000", "app", "localhost:5000/app"),
    ("[::1]:5000/app", "[::1]:5000", "app", "[::1]:5000/app"),
])
def test_parse_repository_valid(text: str, registry: str, repository: str, normalized: str) -> None:
    ref = ImageReference.parse_repository(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, None, None)
    assert str(ref) == normalized


@pytest.mark.parametrize("text, message", [
    ("nginx:1.27", 'invalid repository "nginx:1.27": a repository cannot have a tag (":1.27")'),
    ("ghcr.io/x@" + SHA256, 'invalid repository "ghcr.io/x@' + SHA256 + '": a repository cannot have a digest'),
    ("localhost:5000", 'a repository cannot have a tag (":5000")'),
    ("", 'invalid repository "": the repository is empty'),
    ("https://ghcr.io/x", 'remove the scheme "https://"'),
    ("ghcr.io/X", 'repository "X" must be lowercase'),
])
def test_parse_repository_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        ImageReference.parse_repository(text)
    assert message in str(excinfo.value)


@pytest.mark.parametrize("text, api_host, is_docker_hub", [
    ("nginx", DOCKER_HUB_API_HOST, True),
    ("index.docker.io/library/nginx", DOCKER_HUB_API_HOST, True),
    ("ghcr.io/x", "ghcr.io", False),
    ("localhost:5000/x", "localhost:5000", False),
    ("docker.io:443/x", "docker.io:443", False),
])
def test_api_host(text: str, api_host: str, is_docker_hub: bool) -> None:
    ref = ImageReference.parse(text)
    assert ref.api_host == api_host
    assert ref.is_docker_hub is is_docker_hub
    assert (ref.registry == DOCKER_HUB) is is_docker_hub


def test_reference() -> None:
    assert ImageReference.parse("nginx:1.27").reference == "1.27"
    assert ImageReference.parse("nginx@" + SHA256).reference == SHA256
    assert ImageReference.parse("nginx:1.27@" + SHA256).reference == SHA256
    with pytest.raises(ValueError, match="has neither a tag nor a digest"):
        ImageReference.parse_repository("nginx").reference


def test_with_digest_and_tag() -> None:
    ref = ImageReference.parse("ghcr.io/x/y:1")
    pinned = ref.with_digest(SHA256)
    assert str(pinned) == "ghcr.io/x/y:1@" + SHA256
    assert pinned.reference == SHA256
    retagged = pinned.with_tag("2")
    assert str(retagged) == "ghcr.io/x/y:2"
    assert retagged.reference == "2"
    assert ref == ImageReference.parse("ghcr.io/x/y:1")  # frozen: the original is untouched
    with pytest.raises(ValueError, match="sha256 digests are 64 lowercase hex characters"):
        ref.with_digest("sha256:xyz")
    with pytest.raises(ValueError, match='invalid tag "-x"'):
        ref.with_tag("-x")


def test_frozen_and_hashable() -> None:
    ref = ImageReference.parse("nginx")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]
    assert {ref, ImageReference.parse("docker.io/library/nginx:latest")} == {ref}


def test_constructor_validates_tag_and_digest() -> None:
    assert str(ImageReference("ghcr.io", "x", "1")) == "ghcr.io/x:1"
    with pytest.raises(ValueError, match="invalid tag"):
        ImageReference("ghcr.io", "x", tag="")
    with pytest.raises(ValueError, match="invalid digest"):
        ImageReference("ghcr.io", "x", digest="sha256:0")


def test_normalize() -> None:
    assert ImageReference.normalize("nginx") == "docker.io/library/nginx:latest"
    assert ImageReference.normalize("nginx", default_tag=None) == "docker.io/library/nginx"


@pytest.mark.parametrize("tag", ["latest", "1", "_", "A", "v1.2.3-rc.1_b", LONG_TAG])
def test_validate_tag_valid(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag, message", [
    ("", 'invalid tag "": the tag is empty'),
    ("-x", 'invalid tag "-x": a tag is 1-128 characters'),
    (".x", 'cannot start with "." or "-"'),
    ("a/b", 'invalid tag "a/b"'),
    ("a:b", 'invalid tag "a:b"'),
    ("t" * 129, "the tag is 129 characters long"),
    (None, "expected a string, got NoneType"),
])
def test_validate_tag_invalid(tag: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        validate_tag(tag)
    assert message in str(excinfo.value)


def test_validate_tag_source() -> None:
    with pytest.raises(ValueError, match='invalid tag "-x" in "img:-x"'):
        validate_tag("-x", source="img:-x")


@pytest.mark.parametrize("digest", [SHA256, SHA256_B, SHA512])
def test_validate_digest_valid(digest: str) -> None:
    assert validate_digest(digest) == digest


@pytest.mark.parametrize("digest, message", [
    ("", 'a digest is "algorithm:hex"'),
    ("sha256", 'a digest is "algorithm:hex"'),
    ("sha256:", "sha256 digests are 64 lowercase hex characters (got 0 characters)"),
    ("sha256:" + "A" * 64, "sha256 digests are 64 lowercase hex characters"),
    ("sha256:" + "g" * 64, "sha256 digests are 64 lowercase hex characters"),
    ("sha256:" + "a" * 65, "(got 65 characters)"),
    ("sha512:" + "a" * 127, "sha512 digests are 128 lowercase hex characters"),
    ("sha384:" + "a" * 96, 'unsupported algorithm "sha384"; only sha256 and sha512 digests are supported'),
    ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", "only sha256 and sha512 digests are supported"),
    (":" + "a" * 64, 'malformed algorithm ""'),
    ("sha-:" + "a" * 64, 'malformed algorithm "sha-"'),
    (None, "expected a string, got NoneType"),
])
def test_validate_digest_invalid(digest: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        validate_digest(digest)
    assert message in str(excinfo.value)


# --- a registry on its own: the same host grammar, for every option that names a registry ----

# input, normalized, host, port, api_host
REGISTRIES = [
    ("quay.io", "quay.io", "quay.io", None, "quay.io"),
    ("Registry.Example.com:5000", "registry.example.com:5000", "registry.example.com", 5000, "registry.example.com:5000"),
    ("registry.example.com:0443", "registry.example.com:443", "registry.example.com", 443, "registry.example.com:443"),
    ("docker.io", DOCKER_HUB, DOCKER_HUB, None, DOCKER_HUB_API_HOST),
    ("index.docker.io", DOCKER_HUB, DOCKER_HUB, None, DOCKER_HUB_API_HOST),
    ("registry-1.docker.io", DOCKER_HUB, DOCKER_HUB, None, DOCKER_HUB_API_HOST),
    ("localhost", "localhost", "localhost", None, "localhost"),
    ("localhost:5000", "localhost:5000", "localhost", 5000, "localhost:5000"),
    ("127.0.0.1:5000", "127.0.0.1:5000", "127.0.0.1", 5000, "127.0.0.1:5000"),
    ("[::1]:5000", "[::1]:5000", "[::1]", 5000, "[::1]:5000"),
    ("[::1]", "[::1]", "[::1]", None, "[::1]"),
]


@pytest.mark.parametrize("text, normalized, host, port, api_host", REGISTRIES)
def test_registry_name(text: str, normalized: str, host: str, port: int | None, api_host: str) -> None:
    registry = RegistryName.parse(text)
    assert (registry.registry, str(registry), registry.host, registry.port, registry.api_host) == (normalized, normalized, host, port, api_host)
    # The same grammar as an image reference's registry part.
    assert ImageReference.parse(text + "/team/app").registry_name == registry


@pytest.mark.parametrize("text, message", [
    ("registry.example.com/", 'invalid registry "registry.example.com/": remove the trailing "/"'),
    ("localhost:5000/", 'remove the trailing "/"'),
    ("/quay.io", 'remove the leading "/"'),
    ("quay.io/org", 'a registry has no path ("/org")'),
    ("https://quay.io", 'remove the scheme "https://"'),
    ("myhost", 'a registry host has a "." or a ":port", or is localhost'),
    ("", "the registry is empty"),
    ("quay .io", "contains whitespace"),
    ("bad_host.io", 'registry host "bad_host.io" is not a valid host name'),
    ("host.io:99999", "out of range 1-65535"),
    ("host.io:port", 'registry port "port"'),
    ("[fe80::1%eth0]:5000", "without a zone"),
    (None, "expected a string, got NoneType"),
])
def test_registry_name_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        RegistryName.parse(text)
    assert message in str(excinfo.value)
