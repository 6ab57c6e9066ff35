#!/usr/bin/env bash
# Installs the external tools the test suite needs into <repo>/.bin.
#
#   scripts/tools.sh
#
# Idempotent: a tool already present at the pinned version is left alone, so
# a second run is instant. Currently installs:
#   versitygw  S3-compatible server (real SigV4, presigned URLs) used by the
#              pkg/blob tests; the first build takes about two minutes.
#   helm       the Helm CLI (pinned, go install) that deploy/helm's tests run:
#              helm lint and helm template of the chart; the first build
#              takes a few minutes.
#   pdftotext  from the Debian package poppler-utils (apt-get, when missing):
#              the export tests read the PDF exports back with it.
#   wrk        from the Debian package wrk (apt-get, when missing): make bench
#              loads the API with it from a process of its own.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/.bin"
GO=${GO:-go}

VERSITYGW_VERSION=v1.8.0
HELM_VERSION=v4.3.2

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
install helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION"

# apt_install BINARY PACKAGE: apt-get install PACKAGE unless BINARY is on the
# PATH (like scripts/pg.sh does for PostgreSQL).
apt_install() {
  local binary=$1 package=$2
  if command -v "$binary" >/dev/null 2>&1; then
    log "$binary already installed"
    return 0
  fi
  log "$binary not found; installing the Debian package '$package'"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >&2 \
    || { $sudo apt-get update -q >&2 && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" >&2; }
}

apt_install pdftotext poppler-utils
apt_install wrk wrk
