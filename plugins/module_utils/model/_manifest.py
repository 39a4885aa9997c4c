# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Media types, manifest and index models, platform matching and digests."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass

from ._digest import compute_digest
from ._errors import RegistryError

OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws'

INDEX_TYPES = frozenset((OCI_INDEX, DOCKER_LIST))
IMAGE_TYPES = frozenset((OCI_MANIFEST, DOCKER_MANIFEST))

# Every type we understand, index types first. Leaving out the OCI types makes distribution
# answer MANIFEST_UNKNOWN for OCI content; leaving out the list types makes some registries
# silently hand back one platform's manifest.
ACCEPT = ', '.join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

# The spec lets registries refuse manifests over 4 MiB; nothing legitimate is larger.
MAX_MANIFEST_SIZE = 4 * 1024 * 1024

_ARCH_DEFAULT_VARIANT = {'arm64': 'v8'}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: t.Optional[str] = None

    @classmethod
    def parse(cls, text: str) -> 'Platform':
        """Parse ``os/arch[/variant]`` (``linux/arm64/v8``). Raises ValueError with what is accepted."""
        parts = [part.strip() for part in text.split('/')] if isinstance(text, str) else []
        if len(parts) not in (2, 3) or not all(parts) or any(char.isspace() for part in parts for char in part):
            raise ValueError('invalid platform %r: use os/architecture[/variant], for example linux/amd64 or linux/arm64/v8' % (text,))
        return cls(parts[0].lower(), parts[1].lower(), parts[2].lower() if len(parts) == 3 else None)

    @classmethod
    def from_descriptor(cls, platform: t.Mapping[str, t.Any]) -> 'Platform':
        return cls(str(platform.get('os', '')), str(platform.get('architecture', '')), platform.get('variant') or None)

    def matches(self, other: 'Platform') -> bool:
        """True when ``other`` (a manifest's platform) satisfies this wanted platform.

        A wanted platform without variant matches any variant; ``arm64`` with no variant on
        either side counts as ``v8``, the variant arm64 images usually carry.
        """
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        if self.variant is None:
            return True
        default = _ARCH_DEFAULT_VARIANT.get(self.architecture)
        return (other.variant or default) == self.variant

    def __str__(self) -> str:
        return '/'.join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Manifest:
    """A manifest or index exactly as the registry sent it."""

    raw: bytes
    media_type: str
    digest: str
    data: t.Dict[str, t.Any]
    ratelimit: t.Optional[t.Dict[str, t.Any]] = None  # Docker Hub's pull-limit headers, when sent

    @classmethod
    def from_bytes(cls, raw: bytes, content_type: t.Optional[str], digest: t.Optional[str] = None,
                   ratelimit: t.Optional[t.Dict[str, t.Any]] = None) -> 'Manifest':
        try:
            data = json.loads(raw.decode('utf-8'))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RegistryError('the registry returned a manifest that is not valid JSON: %s' % exc)
        if not isinstance(data, dict):
            raise RegistryError('the registry returned a manifest that is not a JSON object')
        media_type = data.get('mediaType') or (content_type or '').split(';')[0].strip()
        if not media_type:
            media_type = OCI_INDEX if 'manifests' in data else OCI_MANIFEST
        return cls(raw, media_type, digest or compute_digest(raw), data, ratelimit)

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def children(self) -> t.List[t.Dict[str, t.Any]]:
        """Index entries as ``{digest, media_type, size, platform}`` with platform as ``os/arch[/variant]``."""
        result = []
        for entry in self.data.get('manifests') or []:
            plat = entry.get('platform')
            result.append({
                'digest': entry.get('digest'),
                'media_type': entry.get('mediaType'),
                'size': entry.get('size'),
                'platform': str(Platform.from_descriptor(plat)) if isinstance(plat, dict) else None,
            })
        return result

    def select_platform(self, wanted: Platform) -> t.Optional[str]:
        """Digest of the first child matching the wanted platform, or None."""
        for entry in self.data.get('manifests') or []:
            plat = entry.get('platform')
            if isinstance(plat, dict) and wanted.matches(Platform.from_descriptor(plat)):
                return entry.get('digest')
        return None

    @property
    def config_descriptor(self) -> t.Optional[t.Dict[str, t.Any]]:
        config = self.data.get('config')
        return config if isinstance(config, dict) and config.get('digest') else None

    @property
    def layers(self) -> t.List[t.Dict[str, t.Any]]:
        return [layer for layer in self.data.get('layers') or [] if isinstance(layer, dict)]

    @property
    def image_size(self) -> int:
        """Bytes of the config and every layer as the descriptors state them (what a pull of this image downloads)."""
        return sum(int(d.get('size') or 0) for d in [self.config_descriptor or {}] + self.layers)

    @property
    def blobs(self) -> t.List[t.Dict[str, t.Any]]:
        """Config and layers, each digest once; foreign layers (with ``urls``, not stored on registries) are left out."""
        seen: t.Set[str] = set()
        result = []
        for descriptor in [self.config_descriptor or {}] + self.layers:
            digest = descriptor.get('digest')
            if not digest or digest in seen or descriptor.get('urls'):
                continue
            seen.add(digest)
            result.append(descriptor)
        return result
