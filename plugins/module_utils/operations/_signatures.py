# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Finding, reading, verifying and writing an image's signatures on a registry.

Requests per image, read side (``read_signatures``), with L layers in the ``.sig`` manifest and
B bundle referrers, L + B capped at ``MAX_SIGNATURES``:

- ``GET /v2/<repo>/manifests/sha256-<hex>.sig`` (one; 404 when unsigned in that format), then one
  ``GET`` of each layer's payload blob: 1 + L;
- ``GET /v2/<repo>/referrers/<digest>``, and when the registry has no referrers API (404) one
  ``GET`` of the ``sha256-<hex>`` fallback tag, then per bundle its manifest and its one blob:
  1 (or 2) + 2B.

So an unsigned image costs 3 requests on a registry without the referrers API (2 with it), an
image with one signature in each format 6 (5). Manifests and payloads are read with caps
(``MAX_SIGNATURE_MANIFEST``, ``MAX_SIGNATURE_PAYLOAD``); a signature past a cap is a verdict
with a reason, not an error.
"""

from __future__ import annotations

import datetime
import json
import os
import typing as t
from dataclasses import dataclass

from ansible_collections.oci.registry.plugins.module_utils.model._digest import compute_digest
from ansible_collections.oci.registry.plugins.module_utils.model._errors import (
    DigestMismatchError, InvalidInputError, NotFoundError, RegistryError, ResponseTooLargeError,
)
from ansible_collections.oci.registry.plugins.module_utils.model._manifest import OCI_INDEX, OCI_MANIFEST, Manifest
from ansible_collections.oci.registry.plugins.module_utils.model._reference import ImageReference
from ansible_collections.oci.registry.plugins.module_utils.model._referrers import cosign_tag, fallback_tag
from ansible_collections.oci.registry.plugins.module_utils.model._signature import (
    BUNDLE, BUNDLE_ANNOTATIONS, BUNDLE_MEDIA_TYPE, BUNDLE_MEDIA_TYPES, MAX_SIGNATURES, MAX_SIGNATURE_MANIFEST,
    MAX_SIGNATURE_PAYLOAD, OCI_EMPTY, OCI_EMPTY_MEDIA_TYPE, PrivateKey, PublicKey, Rule, SIGNATURE_ANNOTATION, SIMPLE_SIGNING,
    SIMPLE_SIGNING_MEDIA_TYPE, Verdict, load_public_key, sign_bundle, sign_simple_signing, verify_bundle, verify_simple_signing,
)
from ansible_collections.oci.registry.plugins.module_utils.client._client import RegistryClient

REQUIRE = ('any', 'all')
MAX_KEY_FILE = 64 * 1024


# Options


def load_keys(values: t.Any, option: str = 'keys') -> t.Tuple[PublicKey, ...]:
    """Public keys from a list of file paths or PEM texts; each named by its path, or ``option[N]`` for PEM text."""
    if not values or not isinstance(values, (list, tuple)):
        raise InvalidInputError('%s is empty: give at least one public key, as a file path or PEM text (cosign.pub)' % option)
    keys = []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError('%s[%d] is empty: give a file path or PEM text' % (option, index))
        if '-----BEGIN' in value:
            keys.append(load_public_key(value, '%s[%d]' % (option, index)))
        else:
            keys.append(load_public_key(read_key_file(value, '%s[%d]' % (option, index)).decode('utf-8', 'replace'), value))
    return tuple(keys)


def read_key_file(path: str, option: str) -> bytes:
    """A key file's bytes (capped: a key is a few KiB); InvalidInputError naming the option when it cannot be read."""
    try:
        with open(os.path.expanduser(path), 'rb') as handle:
            data = handle.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise InvalidInputError('%s: cannot read the key file %s (%s)' % (option, path, exc.strerror or 'unreadable')) from None
    if len(data) > MAX_KEY_FILE:
        raise InvalidInputError('%s: %s is larger than %d bytes: not a key file' % (option, path, MAX_KEY_FILE))
    return data


def parse_rule(keys: t.Any, require: t.Any = 'any', min_count: t.Any = 1, option: str = 'keys', optional: bool = False) -> Rule:
    """The verification rule from the options, keys loaded (and cached) once; ``optional``: no keys is a rule nothing satisfies."""
    if require not in REQUIRE:
        raise InvalidInputError('require must be any or all, got %r' % (require,))
    if not isinstance(min_count, int) or min_count < 1:
        raise InvalidInputError('min_count must be a whole number of at least 1, got %r' % (min_count,))
    return Rule(load_keys(keys, option) if keys or not optional else (), require, min_count)


def parse_verify(value: t.Optional[t.Mapping[str, t.Any]], option: str = 'verify') -> t.Optional[Rule]:
    """The gate's ``verify: {keys, require, min_count}``; None when not set."""
    if not value:
        return None
    return parse_rule(value.get('keys'), value.get('require') or 'any', value.get('min_count') or 1, '%s.keys' % option)


# Reading


def signature_tag(digest: str) -> str:
    """cosign's tag for the simple-signing signatures of ``digest``: ``sha256-<hex>.sig``."""
    return cosign_tag(digest, 'sig')


@dataclass
class Budget:
    """Signatures still to be read for one image; past it a verdict says the rest were not read."""

    left: int = MAX_SIGNATURES

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


Found = t.Tuple[Verdict, t.Optional[str]]  # a verdict and where the signature is (tag or name@digest)


def read_signatures(client: RegistryClient, ref: ImageReference, digest: str, keys: t.Sequence[PublicKey]) -> t.List[Found]:
    """Every signature of ``digest`` in ``ref``'s repository, both formats, each verified against ``keys``."""
    ref = ref.with_digest(digest)
    budget = Budget()
    location = ref.with_tag(signature_tag(digest))
    manifest, why = _capped_manifest(client, location)
    found = [(Verdict(SIMPLE_SIGNING, reason=why), str(location))] if why else []
    found += _simple_signatures(client, ref, digest, keys, manifest, budget) + _bundle_signatures(client, ref, digest, keys, budget)
    if budget.left < 0:
        why = 'more than %d signatures: only the first %d were read' % (MAX_SIGNATURES, MAX_SIGNATURES)
        found.append((Verdict(SIMPLE_SIGNING, reason=why), None))
    return found


def _capped_manifest(client: RegistryClient, ref: ImageReference) -> t.Tuple[t.Optional[Manifest], t.Optional[str]]:
    """A signature manifest, or (None, why) when it is missing (why None) or too large to read."""
    try:
        return client.get_manifest(ref, cap=MAX_SIGNATURE_MANIFEST), None
    except NotFoundError:
        return None, None
    except ResponseTooLargeError:
        return None, 'the signature manifest %s is larger than %d bytes: not read' % (ref, MAX_SIGNATURE_MANIFEST)


def _payload(client: RegistryClient, ref: ImageReference, layer: t.Mapping[str, t.Any]) -> t.Tuple[t.Optional[bytes], t.Optional[str]]:
    """A signature layer's blob, or (None, why) when it is too large, missing or not what its digest says."""
    digest, size = layer.get('digest'), layer.get('size')
    if not isinstance(digest, str):
        return None, 'a signature layer names no digest'
    if isinstance(size, int) and size > MAX_SIGNATURE_PAYLOAD:
        return None, 'the signature payload %s is %d bytes, more than the %d allowed: not read' % (digest, size, MAX_SIGNATURE_PAYLOAD)
    try:
        return client.get_blob(ref, digest, MAX_SIGNATURE_PAYLOAD), None
    except ResponseTooLargeError:
        return None, 'the signature payload %s is larger than %d bytes: not read' % (digest, MAX_SIGNATURE_PAYLOAD)
    except NotFoundError:
        return None, 'the signature payload %s is missing from the repository' % digest
    except DigestMismatchError:
        return None, 'the signature payload %s does not match its digest' % digest


def _simple_signatures(client: RegistryClient, ref: ImageReference, digest: str, keys: t.Sequence[PublicKey],
                       manifest: t.Optional[Manifest], budget: Budget) -> t.List[Found]:
    """The layers of the ``.sig`` manifest (already read), each verified."""
    location = str(ref.with_tag(signature_tag(digest)))
    found: t.List[Found] = []
    for layer in manifest.layers if manifest else []:
        if not budget.take():
            break
        if layer.get('mediaType') != SIMPLE_SIGNING_MEDIA_TYPE:
            why = 'a layer of media type %r is not a simple-signing payload' % (layer.get('mediaType'),)
            found.append((Verdict(SIMPLE_SIGNING, reason=why), location))
            continue
        payload, why = _payload(client, ref, layer)
        annotations = layer.get('annotations') if isinstance(layer.get('annotations'), dict) else {}
        found.append((Verdict(SIMPLE_SIGNING, reason=why) if payload is None else verify_simple_signing(
            payload, annotations.get(SIGNATURE_ANNOTATION), keys, digest), location))
    return found


def _bundle_signatures(client: RegistryClient, ref: ImageReference, digest: str, keys: t.Sequence[PublicKey],
                       budget: Budget) -> t.List[Found]:
    """The bundle referrers of ``digest`` (referrers API or fallback tag), each read and verified."""
    found: t.List[Found] = []
    for referrer in client.list_referrers(ref, digest):
        if referrer.get('artifact_type') not in BUNDLE_MEDIA_TYPES or not budget.take():
            continue
        manifest, why = _capped_manifest(client, ref.with_digest(referrer['digest']))
        layers = [layer for layer in manifest.layers if layer.get('mediaType') in BUNDLE_MEDIA_TYPES] if manifest else []
        if manifest is not None and not layers:
            why = 'the bundle referrer has no bundle layer'
        raw, why = _payload(client, ref, layers[0]) if layers else (None, why or 'the bundle referrer is missing')
        verdict = Verdict(BUNDLE, reason=why) if raw is None else verify_bundle(raw, keys, digest)
        found.append((verdict, '%s@%s' % (ref.name, referrer['digest'])))
    return found


# Verifying an image (the info module and the gate)


def verify_image(client: RegistryClient, ref: ImageReference, digest: str, rule: Rule) -> t.Dict[str, t.Any]:
    """``{digest, verified, reason, signatures}`` for one manifest digest; each signature with its ``location``."""
    found = read_signatures(client, ref, digest, rule.keys)
    verified, reason = rule.judge([verdict for verdict, _location in found])
    return {'digest': digest, 'verified': verified, 'reason': reason,
            'signatures': [dict(verdict.as_dict(), location=location) for verdict, location in found]}


def check_image(client: RegistryClient, ref: ImageReference, digest: str, rule: t.Optional[Rule]) -> t.Optional[str]:
    """The gate: None when ``digest`` satisfies ``rule`` (or there is no rule), else why it does not."""
    if rule is None:
        return None
    report = verify_image(client, ref, digest, rule)
    return None if report['verified'] else 'signature verification failed for %s@%s: %s' % (ref.name, digest, report['reason'])


# Signing


def sign_image(client: RegistryClient, ref: ImageReference, key: PrivateKey, fmt: str,
               annotations: t.Optional[t.Mapping[str, t.Any]], check_mode: bool) -> t.Dict[str, t.Any]:
    """Sign ``ref``'s digest unless a valid signature by ``key`` in ``fmt`` is already there (``unchanged``)."""
    head = client.head_manifest(ref)
    digest = head.digest
    result = {'image': str(ref), 'digest': digest, 'format': fmt, 'action': 'unchanged', 'changed': False}
    location = ref.with_tag(signature_tag(digest))
    existing: t.Optional[Manifest] = None
    if fmt == SIMPLE_SIGNING:
        existing, why = _capped_manifest(client, location)
        if why:
            raise RegistryError('cannot add a signature to %s: %s' % (ref, why))
        found = _simple_signatures(client, ref, digest, [key.public], existing, Budget())
    else:
        found = _bundle_signatures(client, ref, digest, [key.public], Budget())
    signed = [where for verdict, where in found if verdict.valid]
    if signed:
        return dict(result, location=signed[0])
    result.update(action='created', changed=True, location=str(location) if fmt == SIMPLE_SIGNING else None)
    if check_mode:
        return result
    if fmt == SIMPLE_SIGNING:
        result['location'] = write_simple_signature(client, ref, digest, key, annotations, existing)
    else:
        size = head.size if head.size is not None else client.get_manifest(ref.with_digest(digest)).size
        result['location'] = write_bundle(client, ref, {'mediaType': head.media_type, 'digest': digest, 'size': size}, key, annotations)
    return result


# Writing


def _blob(client: RegistryClient, ref: ImageReference, data: bytes) -> t.Dict[str, t.Any]:
    """Upload a small blob (POST + PUT) and return its descriptor's digest and size."""
    digest = compute_digest(data)
    client.upload_blob(ref, digest, data, len(data))
    return {'digest': digest, 'size': len(data)}


def _json(document: t.Mapping[str, t.Any]) -> bytes:
    return json.dumps(document, separators=(',', ':')).encode('utf-8')


def _sig_config(layers: t.Sequence[t.Mapping[str, t.Any]]) -> bytes:
    """The config cosign writes for a ``.sig`` manifest: an empty image whose rootfs lists the payloads."""
    return _json({'architecture': '', 'created': '0001-01-01T00:00:00Z', 'history': [{'created': '0001-01-01T00:00:00Z'}], 'os': '',
                  'rootfs': {'type': 'layers', 'diff_ids': [layer['digest'] for layer in layers]}, 'config': {}})


def write_simple_signature(client: RegistryClient, ref: ImageReference, digest: str, key: PrivateKey,
                           annotations: t.Optional[t.Mapping[str, t.Any]], existing: t.Optional[Manifest]) -> str:
    """Add one signature layer to ``sha256-<hex>.sig`` (kept layers first, as cosign appends); returns the tag written."""
    payload, signature = sign_simple_signing(key, ref.name, digest, annotations)
    layer = dict(_blob(client, ref, payload), mediaType=SIMPLE_SIGNING_MEDIA_TYPE, annotations={SIGNATURE_ANNOTATION: signature})
    layer = {k: layer[k] for k in ('mediaType', 'size', 'digest', 'annotations')}
    layers = (existing.layers if existing else []) + [layer]
    config = _blob(client, ref, _sig_config(layers))
    manifest = {'schemaVersion': 2, 'mediaType': OCI_MANIFEST,
                'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'size': config['size'], 'digest': config['digest']},
                'layers': layers}
    location = ref.with_tag(signature_tag(digest))
    client.put_manifest(location, _json(manifest), OCI_MANIFEST)
    return str(location)


def write_bundle(client: RegistryClient, ref: ImageReference, subject: t.Mapping[str, t.Any], key: PrivateKey,
                 annotations: t.Optional[t.Mapping[str, t.Any]]) -> str:
    """Push a bundle as an OCI 1.1 referrer of ``subject`` (``digest``, ``mediaType``, ``size``); returns ``name@digest``.

    When the registry does not index the subject itself (no ``OCI-Subject`` answer), the
    referrer is added to the ``sha256-<hex>`` fallback tag index, as the OCI spec asks of clients.
    """
    bundle = _blob(client, ref, sign_bundle(key, subject['digest'], annotations))
    empty = _blob(client, ref, OCI_EMPTY)
    created = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    manifest_annotations = dict(BUNDLE_ANNOTATIONS, **{'org.opencontainers.image.created': created})
    manifest = {'schemaVersion': 2, 'mediaType': OCI_MANIFEST, 'artifactType': BUNDLE_MEDIA_TYPE,
                'config': dict(empty, mediaType=OCI_EMPTY_MEDIA_TYPE), 'layers': [dict(bundle, mediaType=BUNDLE_MEDIA_TYPE)],
                'subject': dict(subject), 'annotations': manifest_annotations}
    raw = _json(manifest)
    if not client.put_referrer(ref, raw, OCI_MANIFEST):
        _add_to_fallback(client, ref, subject['digest'], {
            'mediaType': OCI_MANIFEST, 'digest': compute_digest(raw), 'size': len(raw), 'artifactType': BUNDLE_MEDIA_TYPE,
            'annotations': manifest_annotations})
    return '%s@%s' % (ref.name, compute_digest(raw))


def _add_to_fallback(client: RegistryClient, ref: ImageReference, digest: str, descriptor: t.Dict[str, t.Any]) -> None:
    tag = ref.with_tag(fallback_tag(digest))
    try:
        index = client.get_manifest(tag).data
    except NotFoundError:
        index = {'schemaVersion': 2, 'mediaType': OCI_INDEX, 'manifests': []}
    entries = [m for m in index.get('manifests') or [] if isinstance(m, dict) and m.get('digest') != descriptor['digest']]
    client.put_manifest(tag, _json(dict(index, manifests=entries + [descriptor])), OCI_INDEX)
