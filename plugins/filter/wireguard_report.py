# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type


def wireguard_report_table(probes):
    """Markdown table of WireGuard probe results, one row per host, interface and peer.

    probes: list of {"host": name, "peers": [{interface, peer, address, through_tunnel,
    ping_ms, tcp, handshake_age_s, ok}]} as printed by playbooks/files/wireguard_probe.py.
    """
    header = ["host", "interface", "peer", "tunnel address", "ICMP", "RTT ms", "TCP", "handshake age s"]
    rows = []
    failed = 0
    for probe in sorted(probes, key=lambda item: item["host"]):
        for peer in sorted(probe["peers"], key=lambda item: (item["interface"], item["peer"])):
            failed += 0 if peer["ok"] else 1
            rows.append([
                probe["host"],
                peer["interface"],
                peer["peer"],
                peer["address"] or "-",
                "yes" if peer["ping_ms"] is not None else "no",
                "%.2f" % peer["ping_ms"] if peer["ping_ms"] is not None else "-",
                "yes" if peer["tcp"] else "no",
                str(peer["handshake_age_s"]) if peer["handshake_age_s"] is not None else "never",
            ])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    lines.append("%d peer links checked, %d without traffic through the tunnel" % (len(rows), failed))
    return "\n".join(lines)


class FilterModule(object):
    def filters(self):
        return {"wireguard_report_table": wireguard_report_table}
