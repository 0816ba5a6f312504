# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The egress guard: lab traffic never leaves the lab.

Daemons under test reach for the internet by themselves (bootstrap DNS, STUN, relays, log
servers, cloud metadata), and a VPN server forwards tunnel traffic for unknown addresses out
of its default route. A host nftables table drops, in prerouting before conntrack and NAT
(priority -300), every packet that arrives from a lab bridge for an address outside the lab's
own subnets (IPv6: also link-local and multicast are allowed), and counts what it dropped.
Loaded whenever lab hosts start; `lab.py guard` prints the counter, and the lab self-check
proves the guard with a packet to a documentation address (TEST-NET-1), never a real one.
"""
from __future__ import absolute_import, division, print_function

import json

from labkit.podman import LabError, run

TABLE = "overlaynet_lab_guard"
COUNTER = "egress_dropped"
# RFC 5737 TEST-NET-1: never routed on the internet, so a guard failure cannot reach anyone.
PROBE_ADDRESS = "192.0.2.1"
IPV6_ALWAYS_ALLOWED = ("fe80::/10", "ff00::/8")


def ruleset(bridges, ipv4_subnets, ipv6_subnets):
    """The guard table as an nft script; replacing it keeps the counter only across loads of
    the same table object, so it is created once and its rules flushed on reloads."""
    bridge_set = ", ".join(json.dumps(name) for name in sorted(bridges))
    ipv4 = ", ".join(sorted(ipv4_subnets))
    ipv6 = ", ".join(sorted(ipv6_subnets) + list(IPV6_ALWAYS_ALLOWED))
    return "\n".join([
        "table inet %s {" % TABLE,
        "\tcounter %s {" % COUNTER,
        "\t}",
        "\tchain prerouting {",
        "\t\ttype filter hook prerouting priority -300; policy accept;",
        "\t}",
        "}",
        "flush chain inet %s prerouting" % TABLE,
        "table inet %s {" % TABLE,
        "\tchain prerouting {",
        "\t\tiifname { %s } meta nfproto ipv4 ip daddr != { %s } counter name %s drop" % (bridge_set, ipv4, COUNTER),
        "\t\tiifname { %s } meta nfproto ipv6 ip6 daddr != { %s } counter name %s drop" % (bridge_set, ipv6, COUNTER),
        "\t}",
        "}",
        "",
    ])


def load(bridges, ipv4_subnets, ipv6_subnets):
    if not bridges:
        return
    result = run(["nft", "-f", "-"], check=False, input_text=ruleset(bridges, ipv4_subnets, ipv6_subnets))
    if result.returncode != 0:
        raise LabError("cannot load the egress guard (nftables table inet %s): %s\n"
                       "Is the nftables package installed (lab/setup-host.sh installs it)?"
                       % (TABLE, result.stderr.strip()))


def dropped_packets():
    """Packets the guard has dropped since it was loaded, or None when it is not loaded."""
    result = run(["nft", "-j", "list", "counter", "inet", TABLE, COUNTER], check=False)
    if result.returncode != 0:
        return None
    for item in json.loads(result.stdout).get("nftables", []):
        if "counter" in item:
            return int(item["counter"]["packets"])
    return None
