#!/usr/bin/env bash
# Build the collection's docsite as antsibull-docs sets it up, with Sphinx warnings as errors.
#
#   bash tests/utils/docsite.sh [OUTDIR]
#
# Stages the collection tree (what git tracks, plus untracked files that are not ignored) into a
# temporary ansible_collections/, runs `antsibull-docs sphinx-init --use-current` for
# oci.registry there and the build.sh it writes: `antsibull-docs collection` renders every
# plugin, role and guide of docs/docsite/ to RST, then `sphinx-build -W --keep-going` makes the
# HTML. Any warning fails the build. With OUTDIR the built site is kept there (open
# OUTDIR/build/html/index.html; docs/build/ is ignored by git); without it everything goes.
#
# The build runs offline: the Sphinx configuration antsibull-docs writes fetches intersphinx
# inventories (Python, Jinja, Ansible) from the web. They are replaced by a local inventory of
# the few Ansible documentation labels the generated pages link to, so a link to anything else
# outside the collection still fails the build.
#
# Needs antsibull-docs, Sphinx and sphinx-ansible-theme on PATH (pinned in tests/requirements.txt;
# the venv of tests/run: `bash tests/run setup`, then
# PATH="$(bash tests/utils/venv.sh)/bin:$PATH").

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/utils/stage.sh
source "$HERE/stage.sh"

WORK=$(mktemp -d /tmp/oci-registry-docsite.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if [[ -n ${1:-} ]]; then
    mkdir -p "$1"
    OUT=$(cd "$1" && pwd)
    rm -rf "$OUT/build" "$OUT/rst"
else
    OUT=$WORK/site
    mkdir -p "$OUT"
fi
stage_collection "$WORK/collections/ansible_collections/oci/registry" "$SRC"

export ANSIBLE_COLLECTIONS_PATH=$WORK/collections ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_HOME=$WORK/ansible-home XDG_CACHE_HOME=$WORK/cache
unset ANSIBLE_CONFIG

antsibull-docs sphinx-init --use-current --dest-dir "$OUT" oci.registry >/dev/null

# Labels of the Ansible documentation that antsibull-docs' pages link to, with their pages.
python - "$OUT/ansible_devel.inv" <<'PY'
import sys
import zlib

labels = {
    'ansible_configuration_settings': ('reference_appendices/config.html#ansible-configuration-settings',
                                       'Ansible Configuration Settings'),
    'common_return_values': ('reference_appendices/common_return_values.html#common-return-values', 'Return Values'),
}
body = ''.join('%s std:label -1 %s %s\n' % (name, uri, title) for name, (uri, title) in sorted(labels.items()))
with open(sys.argv[1], 'wb') as handle:
    handle.write(b'# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
                 b'# The remainder of this file is compressed using zlib.\n')
    handle.write(zlib.compress(body.encode('utf-8')))
PY
cat >>"$OUT/conf.py" <<'EOF'

# Offline build (tests/utils/docsite.sh): Ansible's labels from a local inventory, nothing fetched.
intersphinx_mapping = {
    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '../ansible_devel.inv'),
}
EOF

grep -q -- ' -W ' "$OUT/build.sh" || { echo "docsite: build.sh of antsibull-docs no longer builds with -W" >&2; exit 1; }
LOG=$WORK/build.log
if ! bash "$OUT/build.sh" >"$LOG" 2>&1 || grep -qE 'WARNING|ERROR' "$LOG"; then
    cat "$LOG" >&2
    printf '\ndocsite: the build failed or warned:\n' >&2
    grep -E 'WARNING|ERROR' "$LOG" >&2 || true
    exit 1
fi
pages=$(find "$OUT/build/html" -name '*.html' | wc -l)
printf 'docsite: built %s HTML pages with no warning%s\n' "$pages" "${1:+ in $OUT/build/html}"
