# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""WireGuard readers for lab hosts: the peers of a live interface, its public key, and the
userspace daemon serving it. No private or preshared key is returned or kept, except by the
leak check's readers at the end (secrets_on_host, secrets_in_files), whose purpose is to
give a test every secret so it can assert that no output holds one."""
from __future__ import absolute_import, division, print_function

import os

from labkit import traffic
from labkit.podman import on, shell_quote

# Where wireguard-go (and wg, to reach it) keeps an interface's UAPI socket.
UAPI_SOCKET_TEMPLATE = "/var/run/wireguard/%s.sock"


def parse_dump(dump):
    """Peers from `wg show INTERFACE dump`: public key -> {'endpoint', 'allowed_ips' (sorted),
    'latest_handshake' (Unix time, 0 for never), 'rx', 'tx' (bytes)}. The first line
    describes the interface itself, private key included, and is skipped; so is each
    peer's preshared key."""
    peers = {}
    for line in dump.splitlines()[1:]:
        fields = line.split("\t")
        peers[fields[0]] = {
            "endpoint": fields[2],
            "allowed_ips": sorted(fields[3].split(",")) if fields[3] != "(none)" else [],
            "latest_handshake": int(fields[4]),
            "rx": int(fields[5]),
            "tx": int(fields[6]),
        }
    return peers


def peers(host, interface):
    """The peers of the host's live interface (see parse_dump)."""
    return parse_dump(on(host, "wg show %s dump" % shell_quote(interface)).stdout)


def public_key(host, interface):
    return on(host, "wg show %s public-key" % shell_quote(interface)).stdout.strip()


def uapi_socket(interface):
    return UAPI_SOCKET_TEMPLATE % interface


def userspace_daemon(host, interface):
    """The process serving the interface's UAPI socket: {'pid', 'exe', 'version'}, or None
    when no userspace daemon serves it (a kernel interface, or none at all)."""
    return traffic.unix_socket_process(host, uapi_socket(interface))


# --- the leak check: every secret, so that a test can assert no output holds one ----------

def parse_secrets(text, kind):
    """The secrets of a key file ('key': one key), a preshared key file ('psk': `PUBLIC PSK`
    lines) or a client file ('client': PrivateKey and PresharedKey values)."""
    secrets = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if kind == "key":
            secrets.add(line)
        elif kind == "psk":
            secrets.add(line.split()[-1])
        elif line.lower().replace(" ", "").startswith(("privatekey=", "presharedkey=")):
            secrets.add(line.split("=", 1)[1].strip())
    return secrets


def secrets_on_host(host, config_dir="/etc/wireguard"):
    """Every private and preshared key in the host's WireGuard key files."""
    secrets = set()
    listing = on(host, "ls %s/*.key %s/*.psk 2>/dev/null || true" % (config_dir, config_dir)).stdout.split()
    for path in listing:
        secrets |= parse_secrets(on(host, "cat %s" % shell_quote(path)).stdout, path.rsplit(".", 1)[1])
    return secrets


def secrets_in_files(directory):
    """Every private and preshared key in the controller's road-warrior files under directory
    (*.key and client *.conf files)."""
    secrets = set()
    for root, _dirs, files in os.walk(directory):
        for file_name in files:
            kind = {"key": "key", "conf": "client"}.get(file_name.rsplit(".", 1)[-1])
            if kind:
                with open(os.path.join(root, file_name)) as handle:
                    secrets |= parse_secrets(handle.read(), kind)
    return secrets
