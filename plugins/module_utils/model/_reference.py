# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
from __future__ import annotations

# Image references: [registry[:port]/]path[:tag][@digest], parsed and normalized the way the
# docker CLI does (Docker Hub default, "library/" prefix), but validated strictly up front:
# distribution answers a bad name with a plain-text 404 and a bad digest with a 500, which
# tell the user nothing.

import ipaddress
import re
from dataclasses import dataclass, replace

# The digest grammar (supported algorithms, hex lengths) lives with hashing in _digest.py.
from ._digest import validate_digest
# Docker Hub's names are defined once, in _vendors.py (the only place that knows host names).
from ._vendors import DOCKER_HUB, canonical_registry, full_repository, is_docker_hub_registry, registry_api_host

MAX_NAME_LENGTH = 255
MAX_TAG_LENGTH = 128

_PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_HOST_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_PORT_RE = re.compile(r"[0-9]+")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# A bare 64-hex string is an image ID to docker, never a repository name (distribution/reference refuses it).
_IMAGE_ID_RE = re.compile(r"[a-f0-9]{64}")

_FORMAT_HELP = "expected [registry[:port]/]repository[:tag][@digest]"
_PATH_HELP = 'path components are [a-z0-9] separated by ".", "_", "__" or "-"'
_TAG_HELP = 'a tag is 1-128 characters of [A-Za-z0-9_.-] and cannot start with "." or "-"'


def _where(source: str | None) -> str:
    return f' in "{source}"' if source is not None else ""


def validate_tag(tag: str, source: str | None = None) -> str:
    """Return ``tag`` unchanged if it is a valid tag, else raise ValueError.

    ``source`` is the full input the tag came from, quoted in the message.
    """
    if not isinstance(tag, str):
        raise ValueError(f"invalid tag {tag!r}{_where(source)}: expected a string, got {type(tag).__name__}")
    if _TAG_RE.fullmatch(tag):
        return tag
    prefix = f'invalid tag "{tag}"{_where(source)}: '
    if not tag:
        raise ValueError(prefix + "the tag is empty; " + _TAG_HELP)
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(prefix + f"the tag is {len(tag)} characters long; " + _TAG_HELP)
    raise ValueError(prefix + _TAG_HELP)


def _fail(what: str, text: str, reason: str) -> ValueError:
    return ValueError(f'invalid {what} "{text}": {reason}')


def _is_registry(component: str) -> bool:
    # Like docker's normalizer, an upper-case first component can only be a host (repositories are lower-case).
    return ("." in component or ":" in component or component.lower() == "localhost" or component.startswith("[")
            or component != component.lower())


def _normalize_registry(component: str, what: str, text: str) -> str:
    """Validate ``host[:port]`` (host may be a bracketed IPv6 literal) and return it lower-cased."""
    lowered = component.lower()
    if lowered.startswith("["):
        end = lowered.find("]")
        if end < 0:
            raise _fail(what, text, f'registry "{component}" has an IPv6 address without the closing "]"')
        host, rest = lowered[:end + 1], lowered[end + 1:]
        if "%" in host or "." in host:  # distribution's grammar: hex groups only, no zone, no embedded IPv4 tail
            raise _fail(what, text, f'registry "{component}": "{host}" is not accepted: an IPv6 registry address is hex groups '
                                    'only, without a zone ("%...") or an embedded IPv4 tail')
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _fail(what, text, f'registry "{component}": "{host}" is not a valid IPv6 address') from None
    else:
        host, colon, port = lowered.partition(":")
        rest = colon + port
        if not all(_HOST_LABEL_RE.fullmatch(label) for label in host.split(".")):
            raise _fail(what, text, f'registry host "{component.partition(":")[0]}" is not a valid host name: '
                                    'labels of letters, digits and "-" separated by "."')
    if rest:
        port = rest[1:]
        if not rest.startswith(":") or not _PORT_RE.fullmatch(port):
            raise _fail(what, text, f'registry port "{rest[1:] if rest.startswith(":") else rest}" in "{component}" must be a number 1-65535')
        if not 1 <= int(port) <= 65535:
            raise _fail(what, text, f'registry port {port} in "{component}" is out of range 1-65535')
        rest = f":{int(port)}"
    if not _is_registry(host + rest):
        # A dot-less, port-less host is only a host because of its upper case ("Docker/docker"): keep that,
        # so the normalized form still names the same registry.
        return component
    return canonical_registry(host + rest)


def _validate_path(path: str, what: str, text: str) -> None:
    if path != path.lower():
        raise _fail(what, text, f'repository "{path}" must be lowercase: {_PATH_HELP}')
    for component in path.split("/"):
        if not _PATH_COMPONENT_RE.fullmatch(component):
            raise _fail(what, text, f'repository "{path}" has an invalid path component "{component}": {_PATH_HELP}, '
                                    'and start and end with a letter or digit')


def _refuse_whitespace_and_scheme(text: str, what: str, help_text: str) -> None:
    """What no name may hold, a reference or a registry: whitespace, a URL scheme."""
    if any(char.isspace() for char in text):
        raise _fail(what, text, f"the {what} contains whitespace; {help_text}")
    if "://" in text:
        scheme = _SCHEME_RE.match(text)
        shown = scheme.group(0) if scheme else text[:text.index("://") + 3]
        raise _fail(what, text, f'remove the scheme "{shown}"; {help_text}')


def _refuse_edge_slashes(name: str, what: str, text: str, help_text: str) -> None:
    """A leading or trailing "/" is refused, never stripped, in a reference and in a registry alike."""
    if name.startswith("/"):
        raise _fail(what, text, f'remove the leading "/"; {help_text}')
    if name.endswith("/"):
        raise _fail(what, text, f'remove the trailing "/"; {help_text}')


def _split(text: str, what: str, allow_tag_and_digest: bool) -> tuple[str, str, str | None, str | None]:
    """Split and validate ``text``; return (registry, repository, tag, digest), normalized."""
    if not isinstance(text, str):
        raise ValueError(f"invalid {what} {text!r}: expected a string, got {type(text).__name__}")
    help_text = _FORMAT_HELP if allow_tag_and_digest else "expected [registry[:port]/]repository"
    if not text:
        raise _fail(what, text, f"the {what} is empty; {help_text}")
    if _IMAGE_ID_RE.fullmatch(text):
        raise _fail(what, text, f"a 64-character hex string is an image ID, not a repository name; {help_text}")
    _refuse_whitespace_and_scheme(text, what, help_text)

    name, at, digest_text = text.partition("@")
    digest: str | None = None
    if at:
        if not allow_tag_and_digest:
            raise _fail(what, text, f'a repository cannot have a digest ("@{digest_text}"); {help_text}')
        digest = validate_digest(digest_text, text)
    tag: str | None = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
        if not allow_tag_and_digest:
            raise _fail(what, text, f'a repository cannot have a tag (":{tag}"); {help_text}')
        validate_tag(tag, text)

    if not name:
        raise _fail(what, text, f"the repository is missing; {help_text}")
    _refuse_edge_slashes(name, what, text, help_text)
    if "//" in name:
        raise _fail(what, text, f'"//" makes an empty path component; {help_text}')

    first, slash, rest = name.partition("/")
    if slash and _is_registry(first):
        registry, repository = _normalize_registry(first, what, text), rest
    else:
        registry, repository = DOCKER_HUB, name
    _validate_path(repository, what, text)
    repository = full_repository(registry, repository)
    if len(repository) > MAX_NAME_LENGTH:
        raise _fail(what, text, f'repository "{repository}" is {len(repository)} characters long; at most {MAX_NAME_LENGTH} are accepted')
    return registry, repository, tag, digest


_REGISTRY_HELP = f"expected host[:port], like registry.example.com:5000 or {DOCKER_HUB}"


def _split_registry(text: str) -> str:
    """Validate a registry on its own (``host[:port]``, no scheme, no path); return it normalized."""
    what = "registry"
    if not isinstance(text, str):
        raise ValueError(f"invalid registry {text!r}: expected a string, got {type(text).__name__}")
    if not text:
        raise _fail(what, text, f"the registry is empty; {_REGISTRY_HELP}")
    _refuse_whitespace_and_scheme(text, what, _REGISTRY_HELP)
    # "registry.example.com/" is refused, not stripped: every option that names a registry answers it alike.
    _refuse_edge_slashes(text, what, text, _REGISTRY_HELP)
    if "/" in text:
        raise _fail(what, text, f'a registry has no path ("{text[text.index("/"):]}"); {_REGISTRY_HELP}')
    if not _is_registry(text):
        raise _fail(what, text, f'a registry host has a "." or a ":port", or is localhost (Docker Hub is {DOCKER_HUB}); '
                                'a bare name is a Docker Hub repository, not a registry')
    return _normalize_registry(text, what, text)


@dataclass(frozen=True)
class RegistryName:
    """A registry on its own, for registry-level calls (ping, catalog, search, credential checks).

    ``registry`` is the normalized ``host[:port]`` of the same grammar as an ImageReference's
    registry (``docker.io`` for Docker Hub); build it with :meth:`parse`.
    """

    registry: str

    @classmethod
    def parse(cls, text: str) -> RegistryName:
        """Parse ``host[:port]``; a scheme, a path or a trailing "/" is refused. Raises ValueError naming what is wrong."""
        return cls(_split_registry(text))

    @property
    def host(self) -> str:
        """The host without the port (an IPv6 literal keeps its brackets)."""
        if self.registry.startswith("["):
            return self.registry[:self.registry.index("]") + 1]
        return self.registry.partition(":")[0]

    @property
    def port(self) -> int | None:
        rest = self.registry[len(self.host):]
        return int(rest[1:]) if rest.startswith(":") else None

    @property
    def is_docker_hub(self) -> bool:
        return is_docker_hub_registry(self.registry)

    @property
    def api_host(self) -> str:
        """The host[:port] that serves ``/v2/`` (``registry-1.docker.io`` for Docker Hub)."""
        return registry_api_host(self.registry)

    def __str__(self) -> str:
        return self.registry


@dataclass(frozen=True)
class ImageReference:
    """A normalized image reference; build it with :meth:`parse` or :meth:`parse_repository`.

    ``registry`` is lower-case ``host[:port]`` (``docker.io`` for Docker Hub), ``repository``
    the path without the registry (``library/nginx``). ``tag`` and ``digest`` are validated on
    construction; ``registry`` and ``repository`` are only validated by the parsers.
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        if self.tag is not None:
            validate_tag(self.tag)
        if self.digest is not None:
            validate_digest(self.digest)

    @classmethod
    def parse(cls, text: str, default_tag: str | None = "latest") -> ImageReference:
        """Parse ``[registry[:port]/]path[:tag][@digest]``.

        ``default_tag`` is used only when neither a tag nor a digest is given; pass None to keep
        ``tag`` None. Raises ValueError naming the part that is wrong.
        """
        registry, repository, tag, digest = _split(text, "image reference", allow_tag_and_digest=True)
        if tag is None and digest is None and default_tag is not None:
            tag = validate_tag(default_tag)
        return cls(registry, repository, tag, digest)

    @classmethod
    def parse_repository(cls, text: str) -> ImageReference:
        """Parse ``[registry[:port]/]path``; a tag or digest is refused. ``tag`` and ``digest`` are None."""
        registry, repository, _tag, _digest = _split(text, "repository", allow_tag_and_digest=False)
        return cls(registry, repository)

    @classmethod
    def normalize(cls, text: str, default_tag: str | None = "latest") -> str:
        """Return the normalized string form of ``text`` (``nginx`` -> ``docker.io/library/nginx:latest``)."""
        return str(cls.parse(text, default_tag=default_tag))

    @property
    def registry_name(self) -> RegistryName:
        """The registry this reference is on, for registry-level calls."""
        return RegistryName(self.registry)

    @property
    def is_docker_hub(self) -> bool:
        return self.registry_name.is_docker_hub

    @property
    def api_host(self) -> str:
        """The host[:port] that serves ``/v2/`` (``registry-1.docker.io`` for Docker Hub)."""
        return self.registry_name.api_host

    @property
    def name(self) -> str:
        """``registry/repository``, e.g. ``docker.io/library/nginx``."""
        return f"{self.registry}/{self.repository}"

    @property
    def reference(self) -> str:
        """What goes into ``/v2/<repository>/manifests/<reference>``: the digest if set, else the tag."""
        if self.digest is not None:
            return self.digest
        if self.tag is not None:
            return self.tag
        raise ValueError(f'"{self}" has neither a tag nor a digest')

    def with_digest(self, digest: str) -> ImageReference:
        """Return a copy pinned to ``digest``; the tag is kept (``name:tag@digest``)."""
        return replace(self, digest=validate_digest(digest))

    def with_tag(self, tag: str) -> ImageReference:
        """Return a copy with ``tag`` and no digest, so that :attr:`reference` is the new tag."""
        return replace(self, tag=validate_tag(tag), digest=None)

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


__all__ = (
    "MAX_NAME_LENGTH",
    "MAX_TAG_LENGTH",
    "ImageReference",
    "RegistryName",
    "validate_digest",
    "validate_tag",
)
