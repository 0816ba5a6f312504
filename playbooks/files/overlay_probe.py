# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe every overlay peer of this host through its tunnel and print one JSON object.

Usage: overlay_probe.py PORT [HOST]. The peers are those the roles list in
/var/lib/overlaynet/peers/<system>.json (the environment variable OVERLAYNET_PEERS_DIR names
another directory), each file {"system", "peers": [{system, network, interface, peer,
addresses (tunnel addresses, no prefix), managed and must_answer (default true), extras
(WireGuard: wireguard_public_key; Tailscale: tailscale_hostname), resolve}]}.

A peer whose addresses the control server hands out (Tailscale) is listed without them and with
resolve {"tailscale": CLI}: its addresses are read now from `CLI status --json`, the peer whose
HostName is its tailscale_hostname; a peer this node does not know is reported with the reason.

For each peer and each of its tunnel addresses: the device the route to it leaves through
(it must be the peer's interface), the ping round-trip time, and a TCP echo exchange with
the report's listener (tcp_echo.py) on PORT; plus what each system adds (WireGuard: the age
of the last handshake). All addresses are checked at once, each within a few seconds.
Prints {"host": HOST (default: this host's name), "peers": [...], "errors": [...]}.
Python 3 standard library only: it runs on the managed host.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import json
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

PEERS_DIR = "/var/lib/overlaynet/peers"
COMMAND_TIMEOUT_S = 5
TCP_TIMEOUT_S = 2
MAX_THREADS = 64
REQUIRED_PEER_KEYS = ("system", "network", "interface", "peer", "addresses")


def run(args):
    """The standard output of a command; empty when it is missing, fails to start or hangs."""
    try:
        return subprocess.run(args, capture_output=True, text=True, check=False, timeout=COMMAND_TIMEOUT_S).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def peer_problem(entry):
    """Why a peer entry of a peers file cannot be probed; None when it can."""
    if not isinstance(entry, dict):
        return "a peer is not an object"
    missing = [key for key in REQUIRED_PEER_KEYS if key not in entry]
    if missing:
        return "peer %s has no %s" % (entry.get("peer", "?"), ", ".join(missing))
    if not isinstance(entry["addresses"], list) or not all(isinstance(address, str) for address in entry["addresses"]):
        return "peer %s: addresses is not a list of strings" % entry["peer"]
    if not isinstance(entry.get("extras", {}), dict):
        return "peer %s: extras is not an object" % entry["peer"]
    if not isinstance(entry.get("resolve", {}), dict):
        return "peer %s: resolve is not an object" % entry["peer"]
    return None


def read_peer_files(directory):
    """Every usable peer listed in directory/*.json, and one message per file or peer that is not."""
    peers, errors = [], []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        try:
            with open(path) as handle:
                content = json.load(handle)
        except (OSError, ValueError) as error:
            errors.append("%s: %s" % (path, error))
            continue
        entries = content.get("peers") if isinstance(content, dict) else None
        if not isinstance(entries, list):
            errors.append("%s: no list of peers" % path)
            continue
        for entry in entries:
            problem = peer_problem(entry)
            if problem:
                errors.append("%s: %s" % (path, problem))
            else:
                peers.append(entry)
    return peers, errors


def address_family(address):
    return "ipv6" if ":" in address else "ipv4"


def route_device(route_json):
    """The device of the route in `ip -j route get` output; None when there is no route."""
    try:
        routes = json.loads(route_json)
    except ValueError:
        return None
    if isinstance(routes, list) and routes and isinstance(routes[0], dict):
        return routes[0].get("dev")
    return None


def ping_average_ms(ping_output):
    """Average round-trip time from the summary line of iputils or busybox ping; None without replies."""
    match = re.search(r"= [\d.]+/([\d.]+)/", ping_output)
    return float(match.group(1)) if match else None


def handshake_ages(latest_handshakes, now):
    """(interface, public key) -> seconds since the last handshake (None: never).

    Reads `wg show all latest-handshakes` (interface, public key, time): unlike `wg show
    dump`, its output carries no private or preshared key, so none ever reaches this process.
    """
    ages = {}
    for line in latest_handshakes.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[2].isdigit():
            interface, public_key, timestamp = fields
            ages[(interface, public_key)] = now - int(timestamp) if timestamp != "0" else None
    return ages


def wireguard_extras(peers):
    """Handshake age of each WireGuard peer, from one `wg` call for every interface."""
    ages = handshake_ages(run(["wg", "show", "all", "latest-handshakes"]), int(time.time()))
    return [{"handshake_age_s": ages.get((peer["interface"], peer.get("extras", {}).get("wireguard_public_key")))}
            for peer in peers]


# Per system: a function from that system's peers to one extras dict per peer, in order.
SYSTEM_EXTRAS = {"wireguard": wireguard_extras}


def tailscale_peer_addresses(status_json):
    """HostName -> tailnet addresses of each peer in `tailscale status --json` output; {} when unreadable."""
    try:
        status = json.loads(status_json)
    except ValueError:
        return {}
    peers = status.get("Peer") if isinstance(status, dict) else None
    addresses = {}
    for peer in (peers or {}).values():
        if isinstance(peer, dict) and peer.get("HostName") and isinstance(peer.get("TailscaleIPs"), list):
            addresses[peer["HostName"]] = [address for address in peer["TailscaleIPs"] if isinstance(address, str)]
    return addresses


def resolve_addresses(peers):
    """The peers with the addresses of those listed with resolve filled in from live state, and for each peer the
    reason it could not be resolved (None for the others). One status call per Tailscale CLI."""
    statuses = {}
    resolved, problems = [], []
    for peer in peers:
        cli = peer.get("resolve", {}).get("tailscale")
        if not cli:
            resolved.append(peer)
            problems.append(None)
            continue
        if cli not in statuses:
            statuses[cli] = tailscale_peer_addresses(run([cli, "status", "--json"]))
        addresses = statuses[cli].get(peer.get("extras", {}).get("tailscale_hostname"))
        resolved.append(dict(peer, addresses=addresses or []))
        problems.append(None if addresses else "not among this node's tailnet peers (%s status)" % cli)
    return resolved, problems


def unresolved_check(problem):
    """The check of a peer whose addresses could not be resolved: nothing was sent."""
    return {"address": "-", "family": None, "route_device": None, "through_tunnel": False, "ping_ms": None, "tcp": False,
            "problem": problem}


def ping(address):
    family = "-6" if address_family(address) == "ipv6" else "-4"
    return ping_average_ms(run(["ping", family, "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", address]))


def tcp_echo(address, port, token):
    """True when the listener on address sends token back."""
    try:
        with socket.create_connection((address, port), timeout=TCP_TIMEOUT_S) as connection:
            connection.sendall(token)
            answer = b""
            while len(answer) < len(token):
                chunk = connection.recv(256)
                if not chunk:
                    break
                answer += chunk
            return answer == token
    except OSError:
        return False


def check_address(host, interface, address, port):
    device = route_device(run(["ip", "-j", "route", "get", address]))
    through_tunnel = device == interface
    token = ("overlaynet-report %s %s" % (host, address)).encode()
    return {
        "address": address,
        "family": address_family(address),
        "route_device": device,
        "through_tunnel": through_tunnel,
        # Checked only through the tunnel: an answer by another path proves nothing.
        "ping_ms": ping(address) if through_tunnel else None,
        "tcp": tcp_echo(address, port, token) if through_tunnel else False,
    }


def probe(host, directory, port):
    peers, errors = read_peer_files(directory)
    peers, problems = resolve_addresses(peers)
    checks = [(index, address) for index, peer in enumerate(peers) for address in peer["addresses"]]
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_THREADS, len(checks)))) as pool:
        futures = [(index, pool.submit(check_address, host, peers[index]["interface"], address, port))
                   for index, address in checks]
        extras = [{} for _peer in peers]
        for system, extras_of in SYSTEM_EXTRAS.items():
            indexes = [index for index, peer in enumerate(peers) if peer["system"] == system]
            if not indexes:
                continue
            for index, peer_extras in zip(indexes, extras_of([peers[index] for index in indexes])):
                extras[index] = peer_extras
        results = [dict(peer, managed=peer.get("managed", True), must_answer=peer.get("must_answer", True),
                        extras=extras[index], addresses=[]) for index, peer in enumerate(peers)]
        for index, future in futures:
            results[index]["addresses"].append(future.result())
        for index, problem in enumerate(problems):
            if problem:
                results[index]["addresses"].append(unresolved_check(problem))
    return {"host": host, "peers": results, "errors": errors}


def main():
    port = int(sys.argv[1])
    host = sys.argv[2] if len(sys.argv) > 2 else socket.gethostname()
    directory = os.environ.get("OVERLAYNET_PEERS_DIR", PEERS_DIR)
    print(json.dumps(probe(host, directory, port), sort_keys=True))


if __name__ == "__main__":
    main()
