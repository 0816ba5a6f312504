# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe every WireGuard peer of this host through its tunnel and print JSON.

For each peer: its first host-route address (IPv4, else IPv6) from the live allowed IPs,
whether the route to it goes through the WireGuard interface, ping round-trip time, a TCP
echo exchange on the given port, and the age of the last handshake. Private keys in the
`wg show all dump` output are never kept.
"""
from __future__ import absolute_import, division, print_function

import glob
import json
import re
import socket
import subprocess
import sys
import time


def run(args):
    return subprocess.run(args, capture_output=True, text=True, check=False)


def peer_names():
    """Public key -> name, from the '# name' comment above each PublicKey in wg-quick files."""
    names = {}
    for path in glob.glob("/etc/wireguard/*.conf"):
        comment = None
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if line.startswith("# "):
                    comment = line[2:]
                elif line.lower().startswith("publickey") and comment:
                    names[line.split("=", 1)[1].strip()] = comment
    return names


def host_route(allowed_ips):
    for family_prefix in ("/32", "/128"):
        for network in allowed_ips:
            if network.endswith(family_prefix):
                return network.split("/")[0]
    return None


def ping(address):
    result = run(["ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "2", address])
    match = re.search(r"= [\d.]+/([\d.]+)/", result.stdout)
    return float(match.group(1)) if result.returncode == 0 and match else None


def tcp_echo(address, port):
    token = ("overlaynet-%s" % socket.gethostname()).encode()
    try:
        with socket.create_connection((address, port), timeout=3) as connection:
            connection.sendall(token)
            return connection.recv(256) == token
    except OSError:
        return False


def main():
    port = int(sys.argv[1])
    names = peer_names()
    now = int(time.time())
    dump = run(["wg", "show", "all", "dump"])
    peers = []
    for line in dump.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 9:
            continue  # interface lines (they carry the private key): skipped
        interface, public_key, _psk, endpoint, allowed, handshake = fields[:6]
        address = host_route(allowed.split(",") if allowed != "(none)" else [])
        route = json.loads(run(["ip", "-j", "route", "get", address]).stdout or "[{}]")[0] if address else {}
        through_tunnel = route.get("dev") == interface
        rtt = ping(address) if address and through_tunnel else None
        tcp = tcp_echo(address, port) if address and through_tunnel else False
        peers.append({
            "interface": interface,
            "peer": names.get(public_key, public_key[:10] + "..."),
            "address": address,
            "endpoint": None if endpoint == "(none)" else endpoint,
            "through_tunnel": through_tunnel,
            "ping_ms": rtt,
            "tcp": tcp,
            "handshake_age_s": now - int(handshake) if handshake != "0" else None,
            # A peer with no managed endpoint and no handshake (a road warrior that is not
            # connected) is reported but not counted as a failure.
            "ok": (rtt is not None and tcp) or (endpoint == "(none)" and handshake == "0"),
        })
    print(json.dumps({"host": socket.gethostname(), "peers": peers}))


if __name__ == "__main__":
    main()
