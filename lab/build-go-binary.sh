#!/usr/bin/env bash
# Builds one command of a pinned Go module with the machine's Go toolchain (lab/go-toolchain.sh
# finds or fetches it) and copies it to OUTPUT. The module and build caches live in CACHE_DIR,
# so a rebuild on the same machine takes seconds and never needs the network again.
#
# The module is downloaded and built inside a writable copy of itself, not with `go install
# MODULE/CMD@VERSION`: that refuses modules whose go.mod has replace directives (headscale's
# has), and the module proxy here refuses version lists, so VERSION is always exact.
#
# Usage: lab/build-go-binary.sh MODULE VERSION PACKAGE OUTPUT CACHE_DIR [LDFLAGS]
#   e.g. lab/build-go-binary.sh github.com/juanfont/headscale v0.29.3 ./cmd/headscale OUT CACHE \
#          "-X github.com/juanfont/headscale/hscontrol/types.Version=v0.29.3"
set -euo pipefail
usage="usage: build-go-binary.sh MODULE VERSION PACKAGE OUTPUT CACHE_DIR [LDFLAGS]"
module=${1:?$usage}
version=${2:?$usage}
package=${3:?$usage}
output=${4:?$usage}
cache_dir=${5:?$usage}
ldflags=${6:-}

go=$("$(dirname "$0")/go-toolchain.sh" "$cache_dir")

# GOTOOLCHAIN=local: build with this toolchain, never download another one mid-build.
# GOFLAGS=-modcacherw: the module cache stays removable. -trimpath and an empty build ID make
# the binary depend on the sources only.
export GOMODCACHE=$cache_dir/go/mod GOCACHE=$cache_dir/go/build GOFLAGS=-modcacherw CGO_ENABLED=0 GOTOOLCHAIN=local

source_dir=$("$go" mod download -json "$module@$version" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT
cp -r "$source_dir/." "$work_dir/"
chmod -R u+w "$work_dir"
mkdir -p "$(dirname "$output")"
(cd "$work_dir" && "$go" build -trimpath -ldflags "-buildid= $ldflags" -o "$output.tmp" "$package")
mv -f "$output.tmp" "$output"
echo "build-go-binary: $output ($module $version $package)" >&2
