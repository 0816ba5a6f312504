#!/usr/bin/env bash
# Builds the pinned wireguard-go from its Go module with the machine's Go toolchain and
# copies it to OUTPUT. The module and build caches live in CACHE_DIR, so a rebuild on the
# same machine takes seconds and never needs the network again.
# Usage: lab/build-wireguard-go.sh VERSION OUTPUT CACHE_DIR
set -euo pipefail
version=${1:?usage: build-wireguard-go.sh VERSION OUTPUT CACHE_DIR}
output=${2:?usage: build-wireguard-go.sh VERSION OUTPUT CACHE_DIR}
cache_dir=${3:?usage: build-wireguard-go.sh VERSION OUTPUT CACHE_DIR}

go=$(command -v go || true)
[[ -n $go ]] || go=/usr/local/go/bin/go
[[ -x $go ]] || { echo "build-wireguard-go: no Go toolchain (go on PATH or /usr/local/go/bin/go)" >&2; exit 1; }

gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
# The module proxy refuses version lists: the version is an exact pseudo-version, never @latest.
# GOTOOLCHAIN=local: build with the installed Go instead of downloading another one.
# -trimpath and an empty build ID make the binary depend on the sources only.
GOBIN=$gobin GOMODCACHE=$cache_dir/go/mod GOCACHE=$cache_dir/go/build GOFLAGS=-modcacherw \
  CGO_ENABLED=0 GOTOOLCHAIN=local \
  "$go" install -trimpath -ldflags=-buildid= "golang.zx2c4.com/wireguard@$version"
mkdir -p "$(dirname "$output")"
install -m 0755 "$gobin/wireguard" "$output.tmp"
mv -f "$output.tmp" "$output"
echo "build-wireguard-go: $output ($("$output" --version | head -n1))" >&2
