# shellcheck shell=bash
# Helpers to stage the collection for ansible-test, sourced by tests/run (and demo scripts).
#
#   source tests/utils/stage.sh
#   stage_collection DEST [SRC]
#
# copies the files git knows about in SRC (default: the repository that holds this file):
# tracked files plus untracked files that are not ignored, as they are in the work tree,
# into DEST, which is created. DEST should be .../ansible_collections/oci/registry, outside
# the repository: ansible-test resolves symlinks and looks for an enclosing .git.

stage_collection() {
    local dest="${1:?usage: stage_collection DEST [SRC]}"
    local src="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

    mkdir -p "$dest"
    (
        cd "$src" || exit 1
        # Skip paths that are tracked but deleted in the work tree, and plain directories
        # (submodules): tar would fail on the first and copy too much of the second.
        git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' path; do
                if [[ -f "$path" || -L "$path" ]]; then
                    printf '%s\0' "$path"
                fi
            done |
            tar -cf - --null --no-recursion -T -
    ) | tar -xf - -C "$dest"
}
