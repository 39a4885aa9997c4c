"""Test harness for oci.registry: real distribution registries, a token server and seeded content on loopback."""
from __future__ import annotations

from .certs import CertPaths, make_certs
from .registry import FLAVOURS, Harness, Registry, RegistryError, start_registry, stop_processes
from .seed import (
    ACCEPT, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, PushClient, PushError, push_image, push_index,
    seed_all, seed_registries, sha256_digest,
)
from .token_server import TokenServer, default_policy, libtrust_key_id, make_password

__all__ = [
    "ACCEPT", "DOCKER_LIST", "DOCKER_MANIFEST", "FLAVOURS", "OCI_INDEX", "OCI_MANIFEST",
    "CertPaths", "Harness", "PushClient", "PushError", "Registry", "RegistryError", "TokenServer",
    "default_policy", "libtrust_key_id", "make_certs", "make_password", "push_image", "push_index",
    "seed_all", "seed_registries", "sha256_digest", "start_registry", "stop_processes",
]
