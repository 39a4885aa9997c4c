#!/usr/bin/env bash
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build upstream skopeo (checked with v1.9.3) from a skopeo source tree, offline, with sigstore signing and
# verification (Debian's skopeo package has both disabled).
#
#   bash tests/utils/build_skopeo.sh SKOPEO_SOURCE_DIR
#
# A developer tool: CI cannot fetch skopeo's sources, so CI uses the committed vectors under
# tests/data/signatures/skopeo-1.9.3/ instead. Get the sources outside this repository, e.g. from a clone
# of https://github.com/containers/skopeo:
#
#   git -C skopeo archive v1.9.3 | tar -x -C /work/tools/skopeo-1.9.3
#   bash tests/utils/build_skopeo.sh /work/tools/skopeo-1.9.3
#
# Needs Go >= 1.17 (Debian 12's `golang-go`, 1.19, works: apt-get install -y golang-go). Builds with the
# vendored modules only (-mod=vendor, GOPROXY=off: no network), without cgo, with the tags of skopeo's own
# Makefile for builds without gpgme/btrfs/devicemapper headers. Writes SKOPEO_SOURCE_DIR/bin/skopeo and
# prints its version. Go's caches go to SKOPEO_SOURCE_DIR/.gocache and .gopath unless GOCACHE/GOPATH are
# set. Took 35 s and 101 s (a busy machine) on 2 cores with a cold cache.
set -euo pipefail

if [[ $# -ne 1 || ! -f ${1:-}/cmd/skopeo/main.go || ! -d ${1:-}/vendor ]]; then
    echo "usage: $0 SKOPEO_SOURCE_DIR (a skopeo source tree with cmd/skopeo/main.go and vendor/)" >&2
    exit 2
fi
command -v go >/dev/null || { echo "$0: no go on PATH: apt-get install -y golang-go" >&2; exit 1; }

SRC=$(cd "$1" && pwd)
TAGS="containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper"
cd "$SRC"
START=$SECONDS
env CGO_ENABLED=0 GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local \
    GOCACHE="${GOCACHE:-$SRC/.gocache}" GOPATH="${GOPATH:-$SRC/.gopath}" \
    go build -mod=vendor -tags "$TAGS" -o bin/skopeo ./cmd/skopeo
echo "built $SRC/bin/skopeo in $((SECONDS - START)) s with $(go version | cut -d' ' -f3)"
"$SRC/bin/skopeo" --version
