#!/usr/bin/env bash
# Prepares a Debian 12 machine (as root) for the lab, the demo and the tests:
# host packages and a pinned Python venv. Idempotent and quick when nothing is missing.
# Usage: lab/setup-host.sh VENV_DIR
set -euo pipefail
venv_dir=${1:?usage: setup-host.sh VENV_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)

# Controller-side needs: podman (+ runc, crun fails here) for lab hosts, mmdebstrap for
# the lab image, qrencode for road-warrior QR codes, python3-venv for the tool venv.
packages=(podman runc uidmap mmdebstrap qrencode python3-venv rsync git make)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv is keyed by the hash of the requirements (see Makefile). It is marked complete
# only after every package installed, so an interrupted install is redone, not trusted.
if [[ ! -e "$venv_dir/.complete" ]]; then
  echo "setup: creating $venv_dir" >&2
  rm -rf "$venv_dir"
  python3 -m venv "$venv_dir"
  "$venv_dir/bin/pip" install -q --upgrade pip
  "$venv_dir/bin/pip" install -q -r "$here/requirements-dev.txt"
  touch "$venv_dir/.complete"
fi
