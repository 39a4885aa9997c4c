#!/usr/bin/env bash
# Run Galaxy's own importer (galaxy-importer, the check Galaxy runs on upload) on the
# collection tarball, as `ansible-galaxy collection publish` would send it.
#
#   bash tests/utils/galaxy_import.sh [SRC]
#
# SRC is the collection tree (default: the repository holding this script). Its files are
# staged (what git tracks, plus untracked files that are not ignored) into a temporary
# directory, the tarball is built there with `ansible-galaxy collection build`, and
# `python -m galaxy_importer.main` runs on it with its ansible-lint step on and its
# ansible-test step off (`bash tests/run sanity` runs ansible-test on its own).
#
# Galaxy refuses a collection without `repository` in galaxy.yml. While the repository has no
# public address, the staged copy (never SRC) gets a placeholder when none is set; set the real
# one in galaxy.yml before publishing (README.md, "Publishing").
#
# Fails on any error or warning line of the importer (its own, ansible-doc's, ansible-lint's,
# Python's): a clean import has none. Needs galaxy-importer and ansible-core on PATH (the venv
# of tests/run: `bash tests/run setup`, then
# PATH="$(bash tests/utils/venv.sh)/bin:$PATH").

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "${1:-$HERE/../..}" && pwd)
PLACEHOLDER_REPOSITORY=https://example.invalid/oci/registry
# shellcheck source=tests/utils/stage.sh
source "$HERE/stage.sh"

WORK=$(mktemp -d /tmp/oci-registry-galaxy.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
COLL=$WORK/src/ansible_collections/oci/registry
stage_collection "$COLL" "$SRC"

# The roles claim the same oldest ansible-core as the collection; a placeholder repository only
# where galaxy.yml has none.
python - "$COLL" "$PLACEHOLDER_REPOSITORY" <<'PY'
import glob
import os
import re
import sys

import yaml

coll, placeholder = sys.argv[1:]
with open(os.path.join(coll, 'meta', 'runtime.yml'), encoding='utf-8') as handle:
    requires = yaml.safe_load(handle)['requires_ansible']
oldest = re.match(r'>=\s*(\d+\.\d+)', requires)
if not oldest:
    sys.exit('galaxy_import: cannot read the oldest ansible-core from requires_ansible %r in meta/runtime.yml' % requires)
for meta in sorted(glob.glob(os.path.join(coll, 'roles', '*', 'meta', 'main.yml'))):
    with open(meta, encoding='utf-8') as handle:
        claimed = str(yaml.safe_load(handle)['galaxy_info']['min_ansible_version'])
    if claimed != oldest.group(1):
        sys.exit('galaxy_import: %s claims min_ansible_version %s, meta/runtime.yml requires_ansible %r: make them agree'
                 % (os.path.relpath(meta, coll), claimed, requires))

path = os.path.join(coll, 'galaxy.yml')
with open(path, encoding='utf-8') as handle:
    galaxy = yaml.safe_load(handle)
if not galaxy.get('repository'):
    galaxy['repository'] = placeholder
    with open(path, 'w', encoding='utf-8') as handle:
        yaml.safe_dump(galaxy, handle, sort_keys=False)
    print('galaxy.yml has no repository: the staged copy uses %s' % placeholder)
PY

mkdir -p "$WORK/out" "$WORK/importer" "$WORK/home"
ansible-galaxy collection build "$COLL" --output-path "$WORK/out" >/dev/null
shopt -s nullglob
tarballs=("$WORK"/out/oci-registry-*.tar.gz)
shopt -u nullglob
[[ ${#tarballs[@]} -eq 1 ]] || { echo "galaxy_import: ansible-galaxy collection build made no single tarball" >&2; exit 1; }

cat >"$WORK/galaxy-importer.cfg" <<EOF
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
TMP_ROOT_DIR = $WORK/importer
ANSIBLE_LOCAL_TMP = $WORK/home/tmp
EOF

LOG=$WORK/importer.log
rc=0
(
    cd "$WORK"
    # Nothing of the caller's Ansible settings or home leaks into the import.
    unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH
    export GALAXY_IMPORTER_CONFIG=$WORK/galaxy-importer.cfg HOME=$WORK/home
    export ANSIBLE_HOME=$WORK/home/.ansible XDG_CACHE_HOME=$WORK/home/.cache
    python -m galaxy_importer.main "${tarballs[0]}"
) >"$LOG" 2>&1 || rc=$?

# The levels galaxy-importer logs, Ansible's [WARNING]/[ERROR], Python's warnings and tracebacks.
PROBLEMS='^(WARNING|ERROR|CRITICAL)\b|\[(WARNING|ERROR|DEPRECATION WARNING)\]|[A-Za-z]*Warning: |^Traceback '
if [[ $rc -ne 0 ]] || grep -qE "$PROBLEMS" "$LOG"; then
    cat "$LOG" >&2
    printf '\ngalaxy_import: galaxy-importer (exit %s) reported %s error or warning line(s):\n' \
        "$rc" "$(grep -cE "$PROBLEMS" "$LOG" || true)" >&2
    grep -E "$PROBLEMS" "$LOG" >&2 || true
    exit 1
fi
grep -E '^Importing with|^Importer processing completed' "$LOG"
printf 'galaxy_import: %s imported with 0 errors and 0 warnings\n' "$(basename "${tarballs[0]}")"
