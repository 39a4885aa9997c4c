# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make tests/data/signatures/sigstore-js-4.1.1/: keyed sigstore bundles (v0.3, DSSE) written by sigstore-js.

    NODE_PATH=DIR/node_modules python tests/utils/make_sigstore_js_vectors.py [--out tests/data/signatures/sigstore-js-4.1.1]

A developer tool, not run by CI. Needs node, the npm packages named in tests/utils/sigstore_js_bundle.js
(installed in DIR), `cryptography` and `PyNaCl`. It decrypts the cosign keys of skopeo-1.9.3/keys/ into
temporary PKCS#8 files, has `sigstore_js_bundle.js sign` write one bundle per case over the statement cosign
writes for the image `single` (or the index) of skopeo-1.9.3/image/, with cosign's key hint
(base64 of the SHA-256 of the public key's DER), then has `sigstore_js_bundle.js verify` check each one
with each case's key and digest, and writes the verdicts to vectors.json.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Optional

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_skopeo_vectors import load_private_key  # noqa: E402  pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "signatures")
SKOPEO = os.path.join(DATA, "skopeo-1.9.3")
SINGLE = "sha256:2e1f5e3138fe56c9d049432f579f374ab526ebcc053e47cd3ed51957f15ed817"
INDEX = "sha256:c13b02ba38afca69de5ad16577a6c1aaea0e8ea00980fb0aed5d802591792a37"
# name: (key, digest signed, --hash or None for cosign's choice)
BUNDLES = {
    "single-p256": ("p256", SINGLE, None),
    "single-p384": ("p384", SINGLE, None),
    "single-p384-sha256": ("p384", SINGLE, "sha256"),
    "single-ed25519": ("ed25519", SINGLE, None),
    "single-rsa2048": ("rsa2048", SINGLE, None),
    "index-p256": ("p256", INDEX, None),
}
# name, bundle, key, digest to require, what it proves
CHECKS = [
    ("p256", "single-p256", "p256", SINGLE, "a keyed v0.3 DSSE bundle verifies with its P-256 key and names the image"),
    ("p384-sha384", "single-p384", "p384", SINGLE, "P-384 over SHA-384 (cosign's choice for P-384)"),
    ("p384-sha256", "single-p384-sha256", "p384", SINGLE, "P-384 over SHA-256 (skopeo's choice)"),
    ("ed25519", "single-ed25519", "ed25519", SINGLE, "plain Ed25519 over the PAE"),
    ("rsa2048", "single-rsa2048", "rsa2048", SINGLE, "RSA PKCS#1 v1.5 SHA-256 over the PAE"),
    ("index", "index-p256", "p256", INDEX, "the index's own digest as subject"),
    ("other-key", "single-p256", "p256-other", SINGLE, "another P-256 key is refused"),
    ("other-digest", "index-p256", "p256", SINGLE, "a valid bundle whose subject is another digest is refused"),
]


def node(script_args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", os.path.join(HERE, "sigstore_js_bundle.js"), *script_args], capture_output=True,
                          text=True, check=False)


def write_keys(work: str) -> dict[str, str]:
    hints = {}
    for name in sorted({case[0] for case in BUNDLES.values()}):
        key = load_private_key(SKOPEO, name)
        with open(os.path.join(work, f"{name}.pem"), "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        hints[name] = base64.b64encode(hashlib.sha256(der).digest()).decode()
    return hints


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", default=os.path.join(DATA, "sigstore-js-4.1.1"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sigstore-js-") as work:
        hints = write_keys(work)
        for name, (key, digest, hash_name) in BUNDLES.items():
            extra = ["--hash", hash_name] if hash_name else []
            made = node(["sign", "--key", os.path.join(work, f"{key}.pem"), "--hint", hints[key], "--digest", digest,
                         *extra])
            if made.returncode != 0:
                raise RuntimeError(f"sign {name}: {made.stderr}")
            with open(os.path.join(args.out, f"{name}.bundle.json"), "w", encoding="utf-8") as handle:
                handle.write(made.stdout)
    results: list[dict[str, Any]] = []
    for name, bundle, key, digest, proves in CHECKS:
        checked = node(["verify", "--key", os.path.join(SKOPEO, "keys", f"{key}.pub"), "--bundle",
                        os.path.join(args.out, f"{bundle}.bundle.json"), "--digest", digest])
        verdict = json.loads(checked.stdout)
        results.append({"name": name, "proves": proves, "bundle": f"{bundle}.bundle.json",
                        "public_key": f"../skopeo-1.9.3/keys/{key}.pub", "digest": digest,
                        "sigstore_js": {"result": verdict["result"], "message": verdict.get("message", "")}})
        print(f"{name}: {verdict['result']} {verdict.get('message', '')}")
    document = {"tool": "@sigstore/sign 4.1.1, @sigstore/verify 3.1.1, @sigstore/bundle 4.0.0, node "
                        + subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip(),
                "hints": hints, "bundles": {name: {"key": key, "digest": digest, "hash": hash_name or "default"}
                                            for name, (key, digest, hash_name) in BUNDLES.items()},
                "checks": results}
    with open(os.path.join(args.out, "vectors.json"), "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
