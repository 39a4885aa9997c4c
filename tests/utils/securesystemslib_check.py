# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the committed signature data of tests/data/signatures/ with securesystemslib, an implementation not ours.

    python tests/utils/securesystemslib_check.py [--data tests/data/signatures]

A developer tool (needs `securesystemslib` and `cryptography`; written against securesystemslib 1.6.0). It
prints one line per check, `PASS`/`FAIL` with what was expected, and exits 1 when any check did not give
the expected answer:

  - published/: each keyed DSSE envelope verifies with its public key (`Envelope.from_dict`,
    `Envelope.verify([key], 1)`), fails with the other published key and with a changed payload, and the
    in-toto subject of sigstore-go's bundle-publish.json is the sha512 npm publishes for sigstore@1.3.0;
  - skopeo-1.9.3/: each signature layer of vectors.json against the vector's public key with
    `SSlibKey.verify_signature` over the payload blob's exact bytes. securesystemslib ties the hash to the
    curve (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512), so skopeo's P-384 and P-521 signatures, which are
    over SHA-256, are expected to fail here while they pass in skopeo;
  - sigstore-js-4.1.1/: each bundle's DSSE envelope against the keys of vectors.json's checks (the subject
    digest is sigstore-js's check, not repeated here).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from typing import Any, Optional

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError
from securesystemslib.signer import Signature, SSlibKey

# `npm view sigstore@1.3.0 dist.integrity` (registry.npmjs.org), the artifact bundle-publish.json's statement names.
NPM_SIGSTORE_1_3_0_INTEGRITY = (
    "sha512-dhdv+jOAi1RgLHw13lxumk3rlgZtumUz9QrCNPTx9MazUnUV3BfAb74oYAMPQQ7uaeogB5vTosbz3POzKbEHUQ==")
PUBLISHED = {
    "sigstore-go": ("sigstore-go/bundle-publish.json", "sigstore-go/publish_key.pub"),
    "sigstore-js": ("sigstore-js/withPublicKey.bundle.json", "sigstore-js/key-1.pub"),
}


def load_key(path: str, keyid: str) -> SSlibKey:
    """An SSlibKey with the given keyid (securesystemslib only tries keys whose keyid equals the signature's)."""
    with open(path, "rb") as handle:
        public = serialization.load_pem_public_key(handle.read())
    scheme: Optional[str] = None
    if isinstance(public, ec.EllipticCurvePublicKey):
        scheme = {"secp256r1": "ecdsa-sha2-nistp256", "secp384r1": "ecdsa-sha2-nistp384",
                  "secp521r1": "ecdsa-sha2-nistp521"}[public.curve.name]
    elif isinstance(public, rsa.RSAPublicKey):
        scheme = "rsa-pkcs1v15-sha256"  # cosign's and skopeo's RSA; securesystemslib's default is PSS
    key = SSlibKey.from_crypto(public, keyid="placeholder", scheme=scheme)
    return SSlibKey(keyid, key.keytype, key.scheme, key.keyval)


def dsse_verifies(envelope_dict: dict[str, Any], key_path: str) -> bool:
    envelope = Envelope.from_dict(json.loads(json.dumps(envelope_dict)))
    keyid = next(iter(envelope.signatures))
    try:
        envelope.verify([load_key(key_path, keyid)], 1)
        return True
    except VerificationError:
        return False


def report(results: list[bool], name: str, got: bool, want: bool) -> None:
    results.append(got == want)
    print(f"{'PASS' if got == want else 'FAIL'} {name}: {'verifies' if got else 'rejected'}"
          f" (expected {'verifies' if want else 'rejected'})")


def check_published(data: str, results: list[bool]) -> None:
    root = os.path.join(data, "published")
    for name, (bundle_path, key_path) in PUBLISHED.items():
        with open(os.path.join(root, bundle_path), encoding="utf-8") as handle:
            envelope = json.load(handle)["dsseEnvelope"]
        report(results, f"{bundle_path} with {key_path}", dsse_verifies(envelope, os.path.join(root, key_path)), True)
        other = [item[1] for key, item in PUBLISHED.items() if key != name][0]
        report(results, f"{bundle_path} with {other}", dsse_verifies(envelope, os.path.join(root, other)), False)
        payload = base64.b64decode(envelope["payload"])
        changed = dict(envelope, payload=base64.b64encode(payload.replace(b"1", b"2", 1) if b"1" in payload
                                                          else payload + b" ").decode())
        report(results, f"{bundle_path} payload changed", dsse_verifies(changed, os.path.join(root, key_path)), False)
        for sig in envelope["signatures"]:
            pae = Envelope.from_dict(json.loads(json.dumps(envelope))).pae()
            payload_type = envelope["payloadType"].encode()
            own = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)
            report(results, f"{bundle_path} PAE equals the DSSE spec's (keyid {sig['keyid']!r})", pae == own, True)
    with open(os.path.join(root, PUBLISHED["sigstore-go"][0]), encoding="utf-8") as handle:
        statement = json.loads(base64.b64decode(json.load(handle)["dsseEnvelope"]["payload"]))
    digest = statement["subject"][0]["digest"]["sha512"]
    integrity = "sha512-" + base64.b64encode(bytes.fromhex(digest)).decode()
    report(results, "bundle-publish.json subject sha512 is npm's integrity of sigstore@1.3.0",
           integrity == NPM_SIGSTORE_1_3_0_INTEGRITY, True)


def layer_verifies(directory: str, layer: dict[str, Any], key_path: str) -> bool:
    with open(os.path.join(directory, layer["payload"]), "rb") as handle:
        payload = handle.read()
    signature = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
    key = load_key(os.path.join(directory, key_path), "k")
    try:
        key.verify_signature(Signature("k", signature.hex()), payload)
        return True
    except (UnverifiedSignatureError, VerificationError):
        return False


def check_skopeo(data: str, results: list[bool]) -> None:
    directory = os.path.join(data, "skopeo-1.9.3")
    with open(os.path.join(directory, "vectors.json"), encoding="utf-8") as handle:
        vectors = json.load(handle)
    for vector in vectors["vectors"]:
        sigs = vectors["repositories"][vector["repository"]]["signatures"]
        sig = sigs.get(vector["image_digest"])
        for index, layer in enumerate(sig["layers"] if sig else []):
            # What our own check (make_skopeo_vectors.py, `cryptography`) found, and the one hash sslib uses.
            found = vector["expected"]["layers"][index]["verifies_with"]
            scheme_hash = {"p384": "sha384", "p521": "sha512"}.get(vector["public_key"][5:9], found)
            want = found is not None and found == scheme_hash
            report(results, f"skopeo {vector['name']} layer {index} ({found or 'no'} signature) with "
                   f"{vector['public_key']}", layer_verifies(directory, layer, vector["public_key"]), want)


def check_sigstore_js(data: str, results: list[bool]) -> None:
    """The bundles sigstore-js wrote: securesystemslib's hash per curve decides, as for the skopeo layers."""
    directory = os.path.join(data, "sigstore-js-4.1.1")
    with open(os.path.join(directory, "vectors.json"), encoding="utf-8") as handle:
        vectors = json.load(handle)
    for check in vectors["checks"]:
        bundle = vectors["bundles"][check["bundle"].split(".")[0]]
        with open(os.path.join(directory, check["bundle"]), encoding="utf-8") as handle:
            envelope = json.load(handle)["dsseEnvelope"]
        own_key = check["public_key"].endswith(f"/{bundle['key']}.pub")
        want = own_key and bundle["hash"] != "sha256"  # P-384 over SHA-256 is not a securesystemslib scheme
        report(results, f"sigstore-js {check['bundle']} with {os.path.basename(check['public_key'])}",
               dsse_verifies(envelope, os.path.join(directory, check["public_key"])), want)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="check tests/data/signatures with securesystemslib")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                                       "signatures"))
    args = parser.parse_args(argv)
    results: list[bool] = []
    check_published(args.data, results)
    check_skopeo(args.data, results)
    check_sigstore_js(args.data, results)
    print(f"{sum(results)} of {len(results)} checks gave the expected answer")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
