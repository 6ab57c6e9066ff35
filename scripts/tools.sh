#!/usr/bin/env bash
# Installs the external tools the test suite needs into <repo>/.bin.
#
#   scripts/tools.sh
#
# Idempotent: a tool already present at the pinned version is left alone, so
# a second run is instant. Currently installs:
#   versitygw  S3-compatible server (real SigV4, presigned URLs) used by the
#              pkg/blob tests; the first build takes about two minutes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/.bin"
GO=${GO:-go}

VERSITYGW_VERSION=v1.8.0

log() { echo "tools.sh: $*" >&2; }

mkdir -p "$bin"

# install NAME PACKAGE VERSION: go install PACKAGE@VERSION into .bin unless
# .bin/NAME exists and its embedded module version matches VERSION.
install() {
  local name=$1 pkg=$2 version=$3 have=""
  if [ -x "$bin/$name" ]; then
    have=$("$GO" version -m "$bin/$name" 2>/dev/null | awk '$1 == "mod" { print $3; exit }' || true)
    if [ "$have" = "$version" ]; then
      log "$name $version already installed in $bin"
      return 0
    fi
    log "$name in $bin is version '${have:-unknown}', want $version: reinstalling"
  fi
  log "installing $name $version into $bin (GOBIN=$bin $GO install $pkg@$version)"
  GOBIN="$bin" "$GO" install "$pkg@$version"
  log "installed $bin/$name"
}

install versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
