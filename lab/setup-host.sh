#!/usr/bin/env bash
# Prepares a Debian 12 machine (as root) for the lab, the demo, the tests and the benches:
# host packages, podman's settings for the lab and a pinned Python venv. Idempotent and quick
# when nothing is missing.
# Usage: lab/setup-host.sh VENV_DIR
set -euo pipefail
venv_dir=${1:?usage: setup-host.sh VENV_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)

# Every package by name: apt runs with --no-install-recommends, so nothing may come from a
# recommendation or from whatever this machine happens to have.
packages=(
  # Lab hosts: podman with runc (crun fails on this kernel's cgroup setup), the netavark
  # network backend and its DNS server aardvark-dns (only a recommendation: without it lab
  # hosts cannot resolve each other), uidmap for podman's user namespaces.
  podman runc uidmap netavark aardvark-dns
  # The lab's egress guard (a host nftables table) and the bridge NAT netavark sets up.
  nftables iptables
  # The lab image (mmdebstrap; dpkg-deb builds a variant's stand-in package).
  mmdebstrap dpkg-dev ca-certificates
  # Road-warrior QR codes, the tool venv, the sanity tree copy (and ansible-test's shellcheck),
  # git and make themselves.
  qrencode python3-venv rsync shellcheck git make
  # OpenVPN on the controller: the unit tests prove the tls-crypt-v2 keys and the PKI against
  # the real binary and openssl, and the PKI bench measures easy-rsa as its baseline.
  openvpn openssl easy-rsa
)
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

# Podman for the lab: runc (see above), and netavark named explicitly (podman otherwise picks
# CNI where CNI is installed or was used before). CNI's DNS plugin answers a host on several
# networks for its first network only; aardvark-dns answers for every network it is on.
podman_conf=/etc/containers/containers.conf.d/50-overlaynet-lab.conf
podman_settings='# Written by overlaynet.vpn lab/setup-host.sh: the lab hosts need these.
[engine]
runtime = "runc"

[network]
network_backend = "netavark"
'
if [[ ! -f $podman_conf ]] || [[ "$(cat "$podman_conf")" != "${podman_settings%$'\n'}" ]]; then
  echo "setup: writing $podman_conf" >&2
  # Lab hosts and networks made under other settings would be orphaned by a backend change.
  if command -v podman >/dev/null; then
    podman rm -f -t 0 --filter label=io.overlaynet.lab=1 >/dev/null 2>&1 || true
    podman network ls -q --filter label=io.overlaynet.lab=1 2>/dev/null | xargs -r podman network rm -f >/dev/null 2>&1 || true
  fi
  install -d -m 0755 "$(dirname "$podman_conf")"
  printf '%s' "$podman_settings" > "$podman_conf"
fi

# Every lab host runs systemd, which holds about six inotify instances, all counted against
# root here: the kernel's default of 128 per user stops systemd from booting in about the 22nd
# host (a bench starts 33). Raised, never lowered, and kept across reboots.
sysctl_conf=/etc/sysctl.d/50-overlaynet-lab.conf
declare -A wanted_sysctls=([fs.inotify.max_user_instances]=1024 [fs.inotify.max_user_watches]=524288)
sysctl_lines=""
for key in fs.inotify.max_user_instances fs.inotify.max_user_watches; do
  current=$(sysctl -n "$key")
  value=$(( current > wanted_sysctls[$key] ? current : wanted_sysctls[$key] ))
  sysctl_lines+="$key = $value"$'\n'
  if (( current < value )); then
    echo "setup: $key $current -> $value" >&2
    sysctl -q -w "$key=$value"
  fi
done
sysctl_settings="# Written by overlaynet.vpn lab/setup-host.sh: systemd in every lab host needs inotify instances.
$sysctl_lines"
if [[ ! -f $sysctl_conf ]] || [[ "$(cat "$sysctl_conf")" != "${sysctl_settings%$'\n'}" ]]; then
  printf '%s' "$sysctl_settings" > "$sysctl_conf"
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
