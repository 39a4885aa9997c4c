# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# This is a private module_utils file of oci.registry: do not use it from other collections.
"""Container image signatures as cosign writes them: the two formats, keys, signing and verifying.

Pure: bytes and text in, bytes and verdicts out. Reading key files and talking to registries
happen in the layers above.

- Simple signing (cosign 1-2, skopeo): the tag ``sha256-<hex>.sig`` holds a manifest whose layers
  are JSON payloads naming the image digest; each layer's annotation
  ``dev.cosignproject.cosign/signature`` is the base64 of a DER signature over the payload's exact bytes.
- Sigstore bundle v0.3 (cosign 3's default): an OCI 1.1 referrer of the image whose one layer is a
  bundle; its DSSE envelope wraps an in-toto statement whose subject is the image digest, and the
  signature is over DSSE's pre-authentication encoding (PAE) of the statement.

Keyed verification only (a public key the user holds; no transparency log, no certificates): what
``cosign verify --key K --insecure-ignore-tlog`` checks.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import traceback
import typing as t
from dataclasses import dataclass, field

from ._digest import raw_hash, scrypt_key, validate_digest
from ._errors import InvalidInputError

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR: t.Optional[str] = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

try:
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox
except ImportError:
    HAS_NACL = False
else:
    HAS_NACL = True

SIMPLE_SIGNING = 'simplesigning'
BUNDLE = 'bundle'
FORMATS = (SIMPLE_SIGNING, BUNDLE)

SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json'
SIMPLE_SIGNING_TYPE = 'cosign container image signature'
SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature'
BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'
# Older bundle versions carry the same DSSE envelope; they are read, never written.
BUNDLE_MEDIA_TYPES = (BUNDLE_MEDIA_TYPE, 'application/vnd.dev.sigstore.bundle+json;version=0.3',
                      'application/vnd.dev.sigstore.bundle+json;version=0.2', 'application/vnd.dev.sigstore.bundle+json;version=0.1')
IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'
STATEMENT_TYPES = ('https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1')
COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1'
BUNDLE_ANNOTATIONS = {'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE}
OCI_EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json'
OCI_EMPTY = b'{}'

# Caps on what a registry may hand the verifier: cosign's manifests and payloads are a few KiB.
MAX_SIGNATURE_MANIFEST = 256 * 1024
MAX_SIGNATURE_PAYLOAD = 256 * 1024
# Signatures read per image (layers of the .sig manifest plus bundle referrers); the rest is reported, not read.
MAX_SIGNATURES = 32
MIN_RSA_BITS = 2048

COSIGN_KEY_LABELS = (b'ENCRYPTED SIGSTORE PRIVATE KEY', b'ENCRYPTED COSIGN PRIVATE KEY')
ED25519PH_HELP = ('cosign signs with Ed25519 keys as Ed25519ph (pre-hashed), which this collection cannot produce or check; '
                  'use an ECDSA P-256 key (cosign generate-key-pair makes one)')


class SignatureFormatError(ValueError):
    """A signature, payload or bundle that cannot be read; the message says what is wrong with it."""


# Keys


@dataclass(frozen=True)
class PublicKey:
    """A public key to verify with: its name (file path or ``keys[N]``), kind, and fingerprint (sigstore's key hint)."""

    name: str
    kind: str
    fingerprint: str
    key: t.Any = field(repr=False, compare=False)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's over ``data``; ECDSA P-384/P-521 accept the curve's hash (cosign) and SHA-256 (skopeo)."""
        for scheme in _schemes(self.key):
            try:
                self.key.verify(signature, data, *scheme)
                return True
            except (InvalidSignature, ValueError):
                continue
        return False


def _schemes(key: t.Any) -> t.List[t.Tuple[t.Any, ...]]:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return [()]
    if isinstance(key, rsa.RSAPublicKey):
        return [(padding.PKCS1v15(), hashes.SHA256())]
    curve_hash = {'secp384r1': hashes.SHA384, 'secp521r1': hashes.SHA512}.get(key.curve.name)
    return [(ec.ECDSA(h()),) for h in ([curve_hash] if curve_hash else []) + [hashes.SHA256]]


def _key_kind(key: t.Any, name: str) -> str:
    """``ecdsa-p256``, ``rsa-3072``, ``ed25519``...; InvalidInputError naming ``name`` for any other key."""
    curves = {'secp256r1': 'ecdsa-p256', 'secp384r1': 'ecdsa-p384', 'secp521r1': 'ecdsa-p521'}
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        if key.curve.name in curves:
            return curves[key.curve.name]
        raise InvalidInputError('%s: an ECDSA key on curve %s is not supported; use P-256, P-384 or P-521' % (name, key.curve.name))
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidInputError('%s: an RSA key of %d bits is too weak; use at least %d bits' % (name, key.key_size, MIN_RSA_BITS))
        return 'rsa-%d' % key.key_size
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return 'ed25519'
    raise InvalidInputError('%s: a %s is not a supported signing key; use ECDSA (P-256, P-384, P-521), RSA (PKCS#1 v1.5, SHA-256) '
                            'or Ed25519' % (name, type(key).__name__.lstrip('_')))


def fingerprint(key: t.Any) -> str:
    """Base64 of the sha256 of the key's DER SubjectPublicKeyInfo: sigstore's ``publicKey.hint``."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw_hash(der)).decode('ascii')


@functools.lru_cache(maxsize=64)
def load_public_key(pem: str, name: str) -> PublicKey:
    """Parse a PEM public key once per run (cached by its text); InvalidInputError naming ``name`` when it is not one we verify with."""
    text = pem.strip() if isinstance(pem, str) else ''
    if 'PRIVATE KEY' in text:
        raise InvalidInputError('%s is a private key: give the public key (cosign.pub), never the private key, to verify' % name)
    if 'BEGIN CERTIFICATE' in text:
        raise InvalidInputError('%s is a certificate: keyless (certificate) verification is not supported; give the PEM public key' % name)
    try:
        key = serialization.load_pem_public_key(text.encode('utf-8'))
    except UnsupportedAlgorithm:
        raise InvalidInputError('%s: the key type is not supported; use ECDSA (P-256, P-384, P-521), RSA or Ed25519' % name) from None
    except ValueError:
        raise InvalidInputError('%s is not a PEM public key ("-----BEGIN PUBLIC KEY-----" ...): give a file path or the PEM text' % name) from None
    return PublicKey(name, _key_kind(key, name), fingerprint(key), key)


@dataclass(frozen=True)
class PrivateKey:
    """A key to sign with, and its public half (to find signatures it already made)."""

    public: PublicKey
    key: t.Any = field(repr=False, compare=False)

    def sign(self, data: bytes) -> bytes:
        """Sign as cosign does: ECDSA with the curve's hash (SHA-256 for P-256), RSA PKCS#1 v1.5 SHA-256, plain Ed25519."""
        return t.cast(bytes, self.key.sign(data, *_schemes(self.key.public_key())[0]))


def load_private_key(pem: bytes, passphrase: t.Optional[str], name: str) -> PrivateKey:
    """A PEM private key (PKCS#8, optionally encrypted; SEC1 and PKCS#1 too) or a cosign encrypted key file.

    Errors name ``name`` and never hold key material or the passphrase.
    """
    if any(label in pem for label in COSIGN_KEY_LABELS):
        try:
            key = serialization.load_der_private_key(_decrypt_cosign_key(pem, passphrase, name), None)
        except (ValueError, UnsupportedAlgorithm):
            raise InvalidInputError('%s: the cosign key file decrypts to no supported private key' % name) from None
        if isinstance(key, ed25519.Ed25519PrivateKey):
            raise InvalidInputError('%s: an Ed25519 cosign key: %s' % (name, ED25519PH_HELP))
    else:
        key = _load_pem_private_key(pem, passphrase, name)
    public = key.public_key()
    return PrivateKey(PublicKey(name, _key_kind(key, name), fingerprint(public), public), key)


def _load_pem_private_key(pem: bytes, passphrase: t.Optional[str], name: str) -> t.Any:
    password = passphrase.encode('utf-8') if passphrase else None
    try:
        return serialization.load_pem_private_key(pem, password)
    except TypeError:
        if password is None:
            raise InvalidInputError('%s is encrypted: set passphrase' % name) from None
        return _load_pem_private_key(pem, None, name)  # not encrypted: the passphrase is not needed
    except UnsupportedAlgorithm:
        raise InvalidInputError('%s: the key type is not supported; use ECDSA (P-256, P-384, P-521), RSA or Ed25519' % name) from None
    except ValueError:
        what = 'the passphrase does not decrypt it' if password is not None else 'it is not a PEM private key'
        raise InvalidInputError('%s cannot be read: %s (PKCS#8 "PRIVATE KEY", "ENCRYPTED PRIVATE KEY" or a cosign key file)'
                                % (name, what)) from None


def _decrypt_cosign_key(pem: bytes, passphrase: t.Optional[str], name: str) -> bytes:
    """The PKCS#8 DER inside a cosign key file: scrypt derives a key from the passphrase, NaCl secretbox decrypts."""
    if not HAS_NACL:
        raise InvalidInputError('%s is a cosign key file, which needs the PyNaCl Python library on the host that runs the module '
                                '(pip install PyNaCl); or convert the key to PKCS#8 PEM' % name)
    try:
        body = json.loads(base64.b64decode(b''.join(line for line in pem.strip().splitlines() if not line.startswith(b'-----'))))
        kdf, cipher = body['kdf'], body['cipher']
        params = kdf['params']
        if kdf.get('name') != 'scrypt' or cipher.get('name') != 'nacl/secretbox':
            raise ValueError('kdf %s, cipher %s' % (kdf.get('name'), cipher.get('name')))
        salt, nonce, ciphertext = (base64.b64decode(v, validate=True) for v in (kdf['salt'], cipher['nonce'], body['ciphertext']))
        secret = scrypt_key((passphrase or '').encode('utf-8'), salt, int(params['N']), int(params['r']), int(params['p']))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidInputError('%s is not a readable cosign key file (scrypt + nacl/secretbox JSON inside the PEM)' % name) from None
    try:
        return bytes(SecretBox(secret).decrypt(ciphertext, nonce))
    except (CryptoError, ValueError, TypeError):
        hint = 'set passphrase' if not passphrase else 'the passphrase does not decrypt it'
        raise InvalidInputError('%s cannot be decrypted: %s' % (name, hint)) from None


# Simple signing


@dataclass(frozen=True)
class SimpleSigningPayload:
    docker_reference: t.Optional[str]
    digest: t.Optional[str]
    type: t.Optional[str]
    optional: t.Dict[str, t.Any]


def build_simple_signing(docker_reference: str, digest: str, optional: t.Optional[t.Mapping[str, t.Any]] = None) -> bytes:
    """The payload cosign signs for ``digest``, in cosign's key order; ``optional`` null when there is nothing in it."""
    document = {
        'critical': {'identity': {'docker-reference': docker_reference}, 'image': {'docker-manifest-digest': validate_digest(digest)},
                     'type': SIMPLE_SIGNING_TYPE},
        'optional': dict(optional) if optional else None,
    }
    return json.dumps(document, separators=(',', ':')).encode('utf-8')


def parse_simple_signing(raw: bytes) -> SimpleSigningPayload:
    """Read a payload's claims; SignatureFormatError when it is not the simple-signing JSON."""
    document = _json_object(raw, 'the payload')
    critical = document.get('critical')
    if not isinstance(critical, dict):
        raise SignatureFormatError('the payload has no "critical" section: not a simple-signing payload')
    identity, image = critical.get('identity'), critical.get('image')
    optional = document.get('optional')
    return SimpleSigningPayload(
        _text(identity.get('docker-reference')) if isinstance(identity, dict) else None,
        _text(image.get('docker-manifest-digest')) if isinstance(image, dict) else None,
        _text(critical.get('type')), optional if isinstance(optional, dict) else {})


def _json_object(raw: bytes, what: str) -> t.Dict[str, t.Any]:
    try:
        document = json.loads(raw.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        raise SignatureFormatError('%s is not JSON' % what) from None
    if not isinstance(document, dict):
        raise SignatureFormatError('%s is not a JSON object' % what)
    return document


def _text(value: t.Any) -> t.Optional[str]:
    return value if isinstance(value, str) else None


def decode_b64(value: t.Any, what: str) -> bytes:
    """Strict base64 (padding and alphabet checked): a truncated or altered value is an error, not other bytes."""
    if not isinstance(value, str) or not value:
        raise SignatureFormatError('%s is missing' % what)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureFormatError('%s is not valid base64 (truncated or altered?)' % what) from None


def encode_b64(data: bytes) -> str:
    return base64.b64encode(data).decode('ascii')


# DSSE, in-toto and the sigstore bundle


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE's pre-authentication encoding, the bytes a DSSE signature is over."""
    kind = payload_type.encode('utf-8')
    return b'DSSEv1 %d %s %d %s' % (len(kind), kind, len(body), body)


def build_statement(digest: str, annotations: t.Optional[t.Mapping[str, t.Any]] = None) -> bytes:
    """The in-toto statement ``cosign sign`` wraps: the image digest as subject, annotations on the subject."""
    algorithm, _sep, encoded = validate_digest(digest).partition(':')
    subject: t.Dict[str, t.Any] = {'digest': {algorithm: encoded}}
    if annotations:
        subject['annotations'] = dict(annotations)
    document = {'_type': STATEMENT_TYPES[0], 'subject': [subject], 'predicateType': COSIGN_SIGN_PREDICATE, 'predicate': {}}
    return json.dumps(document, separators=(',', ':')).encode('utf-8')


@dataclass(frozen=True)
class Subject:
    name: t.Optional[str]
    digests: t.Tuple[str, ...]
    annotations: t.Dict[str, t.Any]


def parse_statement(raw: bytes) -> t.Tuple[str, t.List[Subject]]:
    """The predicate type and subjects (each with its digests as ``algorithm:hex``) of an in-toto statement."""
    document = _json_object(raw, 'the DSSE payload')
    if document.get('_type') not in STATEMENT_TYPES:
        raise SignatureFormatError('the DSSE payload is not an in-toto statement (_type %r)' % (document.get('_type'),))
    subjects = []
    for entry in document.get('subject') or []:
        if isinstance(entry, dict) and isinstance(entry.get('digest'), dict):
            digests = tuple('%s:%s' % (k, v) for k, v in sorted(entry['digest'].items()) if isinstance(v, str))
            annotations = entry.get('annotations')
            subjects.append(Subject(_text(entry.get('name')), digests, annotations if isinstance(annotations, dict) else {}))
    if not subjects:
        raise SignatureFormatError('the in-toto statement names no subject digest')
    return _text(document.get('predicateType')) or '', subjects


@dataclass(frozen=True)
class Bundle:
    media_type: str
    hint: t.Optional[str]
    payload_type: str
    payload: bytes
    signatures: t.Tuple[bytes, ...]


def build_bundle(payload: bytes, signature: bytes, hint: str) -> bytes:
    """A sigstore bundle v0.3 with a DSSE envelope and a public-key hint, no transparency log entry (keyed signing)."""
    document = {
        'mediaType': BUNDLE_MEDIA_TYPE,
        'verificationMaterial': {'publicKey': {'hint': hint}},
        'dsseEnvelope': {'payload': encode_b64(payload), 'payloadType': IN_TOTO_PAYLOAD_TYPE, 'signatures': [{'sig': encode_b64(signature)}]},
    }
    return json.dumps(document, separators=(',', ':')).encode('utf-8')


def parse_bundle(raw: bytes) -> Bundle:
    """A bundle's DSSE envelope; SignatureFormatError for anything else (a message-signature bundle signs a blob, not an image)."""
    document = _json_object(raw, 'the bundle')
    media_type = _text(document.get('mediaType')) or ''
    if media_type not in BUNDLE_MEDIA_TYPES:
        raise SignatureFormatError('unknown bundle media type %r' % media_type)
    envelope = document.get('dsseEnvelope')
    if not isinstance(envelope, dict):
        raise SignatureFormatError('the bundle holds no DSSE envelope (a message signature signs a file, not an image)')
    material = document.get('verificationMaterial')
    public = material.get('publicKey') if isinstance(material, dict) else None
    signatures = tuple(decode_b64(s.get('sig'), 'a DSSE signature') for s in envelope.get('signatures') or [] if isinstance(s, dict))
    if not signatures:
        raise SignatureFormatError('the DSSE envelope holds no signature')
    return Bundle(media_type, _text(public.get('hint')) if isinstance(public, dict) else None, _text(envelope.get('payloadType')) or '',
                  decode_b64(envelope.get('payload'), 'the DSSE payload'), signatures)


# Signing


def sign_simple_signing(key: PrivateKey, docker_reference: str, digest: str,
                        optional: t.Optional[t.Mapping[str, t.Any]] = None) -> t.Tuple[bytes, str]:
    """The payload and the base64 signature over it (the layer blob and its annotation)."""
    payload = build_simple_signing(docker_reference, digest, optional)
    return payload, encode_b64(key.sign(payload))


def sign_bundle(key: PrivateKey, digest: str, annotations: t.Optional[t.Mapping[str, t.Any]] = None) -> bytes:
    """A bundle signing ``digest``: DSSE over the in-toto statement, the key's fingerprint as hint."""
    statement = build_statement(digest, annotations)
    return build_bundle(statement, key.sign(pae(IN_TOTO_PAYLOAD_TYPE, statement)), key.public.fingerprint)


# Verifying


@dataclass
class Verdict:
    """One signature's verdict, as modules return it."""

    format: str
    valid: bool = False
    key: t.Optional[str] = None
    digest: t.Optional[str] = None
    docker_reference: t.Optional[str] = None
    annotations: t.Dict[str, t.Any] = field(default_factory=dict)
    reason: t.Optional[str] = None

    def as_dict(self) -> t.Dict[str, t.Any]:
        return {'format': self.format, 'valid': self.valid, 'key': self.key, 'digest': self.digest,
                'docker_reference': self.docker_reference, 'annotations': self.annotations, 'reason': self.reason}


def _signer(keys: t.Sequence[PublicKey], signatures: t.Sequence[bytes], data: bytes) -> t.Optional[PublicKey]:
    for key in keys:
        if any(key.verify(signature, data) for signature in signatures):
            return key
    return None


def _no_key_reason(keys: t.Sequence[PublicKey]) -> str:
    if not keys:
        return 'not verified: no keys given'
    reason = 'no key given verifies this signature (tried %s)' % ', '.join(k.name for k in keys)
    if any(k.kind == 'ed25519' for k in keys):
        reason += '; an Ed25519 signature made by cosign is Ed25519ph, which is not supported'
    return reason


def verify_simple_signing(payload: bytes, signature: t.Any, keys: t.Sequence[PublicKey], digest: str) -> Verdict:
    """Verify one ``.sig`` layer: its signature by one of ``keys`` over the payload's bytes, which must claim ``digest``."""
    verdict = Verdict(SIMPLE_SIGNING)
    try:
        claims = parse_simple_signing(payload)
        verdict.digest, verdict.docker_reference, verdict.annotations = claims.digest, claims.docker_reference, claims.optional
        if claims.type != SIMPLE_SIGNING_TYPE:
            raise SignatureFormatError('the payload type is %r, not %r' % (claims.type, SIMPLE_SIGNING_TYPE))
        raw_signature = decode_b64(signature, 'the signature annotation (%s)' % SIGNATURE_ANNOTATION)
    except SignatureFormatError as exc:
        verdict.reason = str(exc)
        return verdict
    key = _signer(keys, [raw_signature], payload)
    return _conclude(verdict, key, keys, [claims.digest] if claims.digest else [], digest)


def verify_bundle(raw: bytes, keys: t.Sequence[PublicKey], digest: str) -> Verdict:
    """Verify a sigstore bundle: a DSSE signature by one of ``keys`` over PAE(statement), whose subject must be ``digest``."""
    verdict = Verdict(BUNDLE)
    try:
        bundle = parse_bundle(raw)
        if bundle.payload_type != IN_TOTO_PAYLOAD_TYPE:
            raise SignatureFormatError('the DSSE payload type is %r, not %r' % (bundle.payload_type, IN_TOTO_PAYLOAD_TYPE))
        _predicate, subjects = parse_statement(bundle.payload)
    except SignatureFormatError as exc:
        verdict.reason = str(exc)
        return verdict
    matching = [s for s in subjects if digest in s.digests]
    chosen = matching[0] if matching else subjects[0]
    verdict.digest = digest if matching else (chosen.digests[0] if chosen.digests else None)
    verdict.docker_reference, verdict.annotations = chosen.name, chosen.annotations
    ordered = sorted(keys, key=lambda k: k.fingerprint != bundle.hint)  # the hinted key first
    key = _signer(ordered, bundle.signatures, pae(bundle.payload_type, bundle.payload))
    return _conclude(verdict, key, keys, [d for s in subjects for d in s.digests], digest)


def _conclude(verdict: Verdict, key: t.Optional[PublicKey], keys: t.Sequence[PublicKey], claimed: t.Sequence[str], digest: str) -> Verdict:
    """Valid only when a key verified the signature and the signed content names this very image."""
    verdict.key = key.name if key else None
    if key is None:
        verdict.reason = _no_key_reason(keys)
    elif digest not in claimed:
        verdict.reason = 'signed for another image: the signature claims %s, this image is %s' % (
            ', '.join(claimed) or 'no digest', digest)
    else:
        verdict.valid = True
    return verdict


# The rule


@dataclass(frozen=True)
class Rule:
    """``require``: ``any`` (valid signatures by any of the keys) or ``all`` (each key signed); at least ``min_count`` valid ones."""

    keys: t.Tuple[PublicKey, ...]
    require: str = 'any'
    min_count: int = 1

    def judge(self, verdicts: t.Sequence[Verdict]) -> t.Tuple[bool, t.Optional[str]]:
        """Whether ``verdicts`` satisfy the rule, and if not, why (naming the keys and formats that failed)."""
        valid = [v for v in verdicts if v.valid]
        if self.require == 'all':
            missing = [k.name for k in self.keys if not any(v.key == k.name for v in valid)]
            if missing:
                return False, 'no valid signature by %s%s' % (', '.join(missing), _failures(verdicts))
        if len(valid) < self.min_count:
            return False, '%d valid signature%s, %d required%s' % (
                len(valid), '' if len(valid) == 1 else 's', self.min_count, _failures(verdicts))
        return True, None


def _failures(verdicts: t.Sequence[Verdict]) -> str:
    if not verdicts:
        return ' (the image has no signatures, in either format)'
    failed = ['%s: %s' % (v.format, v.reason) for v in verdicts if not v.valid and v.reason]
    if not failed:
        return ''
    return ' (%s%s)' % ('; '.join(failed[:3]), '; ...' if len(failed) > 3 else '')
