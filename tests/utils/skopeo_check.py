# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask upstream skopeo whether an image's sigstore (cosign `.sig`) signatures verify with a public key.

    python tests/utils/skopeo_check.py --skopeo /work/tools/skopeo-1.9.3/bin/skopeo \\
        --key cosign.pub [--insecure] [--cert-dir DIR] [--creds USER:PASSWORD] [--all] \\
        [--identity matchRepository|matchRepoDigestOrExact|matchExact|exact-repository=REPO] \\
        [--json] REFERENCE [REFERENCE ...]

A developer tool, not run by CI (CI has no upstream skopeo: tests/utils/build_skopeo.sh builds one from a
skopeo source tree). For each REFERENCE (`host/repo:tag` or `host/repo@sha256:...`, no transport prefix)
it writes a policy.json whose only accepted images are those signed by the key:

    {"default": [{"type": "reject"}], "transports": {"docker": {"": [
        {"type": "sigstoreSigned", "keyPath": KEY, "signedIdentity": {"type": "matchRepository"}}]}}}

and a registries.d with `default-docker: {use-sigstore-attachments: true}` (without it skopeo never reads
`sha256-<hex>.sig`), then runs `skopeo --policy P --registries.d D copy [--all] docker://REFERENCE dir:TMP`.
skopeo checks the policy before it reads any layer, so a rejected image costs only its manifests and
signatures; an accepted one is copied to a temporary directory that is removed afterwards.

It prints one line per reference: `ok REFERENCE`, `rejected REFERENCE: <skopeo's message>` (the policy
refused the image: missing, wrong or tampered signature, other key, other identity), or `error
REFERENCE: <message>` (skopeo could not get as far as the policy: network, auth, missing image, or a
skopeo built without sigstore support such as Debian's, which answers every check with "Debian-local
change: sigstore disabled"). Exit status: 0 when every reference is ok, 1 when any is rejected, 2 on an
error. With --json it prints a JSON list of {"reference", "result", "message"} instead.

Only the first image of a multi-arch index that matches this machine is checked unless --all is given;
with --all skopeo checks the signature of every instance. skopeo's copy never checks the signature of
the index manifest itself, only those of the images in it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Optional

DEBIAN_DISABLED = "Debian-local change: sigstore disabled"
IDENTITIES = ("matchRepository", "matchRepoDigestOrExact", "matchExact")


def signed_identity(spec: str) -> dict[str, str]:
    """The policy's signedIdentity object for an --identity value."""
    if spec in IDENTITIES:
        return {"type": spec}
    if spec.startswith("exact-repository="):
        return {"type": "exactRepository", "dockerRepository": spec.split("=", 1)[1]}
    raise ValueError(f"unknown --identity {spec!r}: use one of {', '.join(IDENTITIES)} or exact-repository=REPO")


def write_config(directory: str, key_path: str, identity: dict[str, str]) -> tuple[str, str]:
    """Write policy.json and registries.d/ into directory; return their paths."""
    policy_path = os.path.join(directory, "policy.json")
    requirement = {"type": "sigstoreSigned", "keyPath": os.path.abspath(key_path), "signedIdentity": identity}
    policy = {"default": [{"type": "reject"}], "transports": {"docker": {"": [requirement]}}}
    with open(policy_path, "w", encoding="utf-8") as handle:
        json.dump(policy, handle, indent=2)
    registries_d = os.path.join(directory, "registries.d")
    os.makedirs(registries_d, exist_ok=True)
    with open(os.path.join(registries_d, "sigstore.yaml"), "w", encoding="utf-8") as handle:
        handle.write("default-docker:\n  use-sigstore-attachments: true\n")
    return policy_path, registries_d


def last_message(stderr: str) -> str:
    """skopeo's final error: the msg of its last logrus line (time="..." level=fatal msg="...")."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    message = lines[-1] if lines else ""
    marker = 'msg="'
    if message.startswith("time=") and marker in message:
        message = message.split(marker, 1)[1]
        message = message[:-1] if message.endswith('"') else message
        message = message.replace('\\"', '"')
    return message


def classify(returncode: int, stderr: str) -> tuple[str, str]:
    """(result, message) from skopeo's exit status and standard error."""
    message = last_message(stderr)
    if returncode == 0:
        return "ok", ""
    if DEBIAN_DISABLED in stderr:
        return "error", f"this skopeo cannot verify sigstore signatures ({DEBIAN_DISABLED}): {message}"
    if "Source image rejected" in stderr:
        return "rejected", message
    return "error", message or f"skopeo exited with {returncode}"


def check(skopeo: str, reference: str, key_path: str, *, insecure: bool = False, cert_dir: Optional[str] = None,
          creds: Optional[str] = None, all_images: bool = False, identity: str = "matchRepository",
          timeout: float = 300.0) -> dict[str, str]:
    """Run skopeo's policy check on one reference; return {"reference", "result", "message"}."""
    work = tempfile.mkdtemp(prefix="skopeo-check-")
    try:
        policy_path, registries_d = write_config(work, key_path, signed_identity(identity))
        command = [skopeo, "--policy", policy_path, "--registries.d", registries_d, "copy"]
        if all_images:
            command.append("--all")
        if insecure:
            command.append("--src-tls-verify=false")
        if cert_dir:
            command.append(f"--src-cert-dir={cert_dir}")
        if creds:
            command.append(f"--src-creds={creds}")
        command += [f"docker://{reference}", f"dir:{os.path.join(work, 'image')}"]
        env = dict(os.environ, HOME=work)  # no auth file or containers.conf of the caller's
        process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
        result, message = classify(process.returncode, process.stderr)
        return {"reference": reference, "result": result, "message": message}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="verify sigstore signatures with upstream skopeo")
    parser.add_argument("--skopeo", required=True, help="an upstream skopeo binary (not Debian's)")
    parser.add_argument("--key", required=True, help="PEM public key file")
    parser.add_argument("--insecure", action="store_true", help="plain HTTP or unverified TLS (--src-tls-verify=false)")
    parser.add_argument("--cert-dir", help="directory with the registry's CA certificate (*.crt)")
    parser.add_argument("--creds", help="USER:PASSWORD for the registry (not printed)")
    parser.add_argument("--all", action="store_true", help="check every image of a multi-arch index")
    parser.add_argument("--identity", default="matchRepository",
                        help="signedIdentity: matchRepository (default), matchRepoDigestOrExact, matchExact, "
                        "exact-repository=REPO")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    parser.add_argument("references", nargs="+", metavar="REFERENCE")
    args = parser.parse_args(argv)
    try:
        signed_identity(args.identity)
    except ValueError as error:
        parser.error(str(error))
    if not os.path.isfile(args.key):
        parser.error(f"--key {args.key}: no such file")
    results: list[dict[str, Any]] = []
    for reference in args.references:
        results.append(check(args.skopeo, reference.removeprefix("docker://"), args.key, insecure=args.insecure,
                             cert_dir=args.cert_dir, creds=args.creds, all_images=args.all, identity=args.identity))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for item in results:
            suffix = f": {item['message']}" if item["message"] else ""
            print(f"{item['result']} {item['reference']}{suffix}")
    outcomes = {item["result"] for item in results}
    if "error" in outcomes:
        return 2
    return 1 if "rejected" in outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
