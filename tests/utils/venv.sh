# shellcheck shell=bash
# The one place that names the venv of the test tools, which tests/run builds (`bash tests/run
# setup`) and demo/run, benchmarks/run-all and the helper scripts run from. Nothing else spells
# its path.
#
#   source tests/utils/venv.sh; VENV=$(oci_registry_venv)     in a script
#   bash tests/utils/venv.sh                                  prints it, e.g. for
#                                                             PATH="$(bash tests/utils/venv.sh)/bin:$PATH"
#
# OCI_REGISTRY_VENV when set, else ~/.cache/oci-registry-venv-<hash of tests/requirements.txt>:
# one venv per set of pins, so work trees with different pins on one machine do not rebuild each
# other's, and a change of pins never runs the tools of the old ones.

oci_registry_venv() {
    local repo
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    if [[ -n ${OCI_REGISTRY_VENV:-} ]]; then
        printf '%s\n' "$OCI_REGISTRY_VENV"
        return
    fi
    printf '%s/.cache/oci-registry-venv-%s\n' "$HOME" "$(sha256sum <"$repo/tests/requirements.txt" | cut -c1-12)"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    oci_registry_venv
fi
