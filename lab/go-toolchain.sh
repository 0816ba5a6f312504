#!/usr/bin/env bash
# Prints the path of a Go toolchain of at least the pinned version, for the Go-built test
# binaries (lab/build-go-binary.sh): `go` on PATH or /usr/local/go/bin/go when recent enough,
# else the pinned toolchain itself, fetched once from the Go module proxy (the module
# golang.org/toolchain, which is how Go distributes its releases to `GOTOOLCHAIN`), checked
# against its pinned SHA-256 and unpacked into CACHE_DIR/go/toolchain. So a fresh Debian 12
# machine, whose own golang (1.19) is too old, needs nothing installed by hand.
# Usage: lab/go-toolchain.sh CACHE_DIR
set -euo pipefail
cache_dir=${1:?usage: go-toolchain.sh CACHE_DIR}

pinned=1.26.8
declare -A zip_sha256=(
  [amd64]=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
)
proxy=${OVERLAYNET_GOPROXY:-https://proxy.golang.org}
toolchain_dir=$cache_dir/go/toolchain/go$pinned

at_least_pinned() {
  local have=$1
  [[ -n $have ]] && [[ $(printf '%s\n%s\n' "$pinned" "$have" | sort -V | head -n1) == "$pinned" ]]
}

print_recent_go() {
  local candidate have
  for candidate in "$@"; do
    [[ -n $candidate && -x $candidate ]] || continue
    have=$("$candidate" env GOVERSION 2>/dev/null || true)
    if at_least_pinned "${have#go}"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

print_recent_go "$(command -v go || true)" /usr/local/go/bin/go "$toolchain_dir/bin/go" && exit 0

# make -j runs several builds at once: one fetches, the others wait for it and take its result.
mkdir -p "$cache_dir/go"
exec 9>"$cache_dir/go/toolchain.lock"
flock 9
print_recent_go "$toolchain_dir/bin/go" && exit 0

arch=$(dpkg --print-architecture)
expected=${zip_sha256[$arch]:-}
if [[ -z $expected ]]; then
  echo "go-toolchain: no Go $pinned or newer here, and no pinned toolchain for $arch: install Go $pinned or newer" >&2
  exit 1
fi
version=v0.0.1-go$pinned.linux-$arch
echo "go-toolchain: fetching Go $pinned ($version) from $proxy" >&2
# Python, not curl and unzip (the set-up installs neither): download, check the SHA-256 before
# unpacking anything, unpack with the files' exec bits.
rm -rf "$toolchain_dir.tmp"
python3 - "$proxy/golang.org/toolchain/@v/$version.zip" "$expected" "$toolchain_dir.tmp" "golang.org/toolchain@$version/" <<'EOF'
import hashlib
import io
import os
import sys
import urllib.request
import zipfile

url, expected, target, prefix = sys.argv[1:]
with urllib.request.urlopen(url, timeout=300) as response:
    data = response.read()
actual = hashlib.sha256(data).hexdigest()
if actual != expected:
    sys.exit("go-toolchain: %s has SHA-256 %s, expected %s: refusing it" % (url, actual, expected))
with zipfile.ZipFile(io.BytesIO(data)) as bundle:
    for entry in bundle.infolist():
        if not entry.filename.startswith(prefix) or entry.is_dir():
            continue
        path = os.path.join(target, entry.filename[len(prefix):])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with bundle.open(entry) as source, open(path, "wb") as destination:
            destination.write(source.read())
        mode = (entry.external_attr >> 16) & 0o777
        os.chmod(path, mode or 0o644)
EOF
rm -rf "$toolchain_dir"
mv "$toolchain_dir.tmp" "$toolchain_dir"
"$toolchain_dir/bin/go" version >&2
echo "$toolchain_dir/bin/go"
