# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.overlaynet.vpn.plugins.filter.wireguard_report import wireguard_report_table


def peer(name, ok=True):
    return {"interface": "wg0", "peer": name, "address": "10.77.0.9", "through_tunnel": ok,
            "ping_ms": 0.25 if ok else None, "tcp": ok, "handshake_age_s": 3 if ok else None, "ok": ok}


def test_table_lists_every_link_sorted_and_counts_failures():
    table = wireguard_report_table([
        {"host": "b", "peers": [peer("a", ok=False)]},
        {"host": "a", "peers": [peer("c"), peer("b")]},
    ])
    lines = table.splitlines()
    assert lines[2].startswith("| a | wg0 | b | 10.77.0.9 | yes | 0.25 | yes | 3 |")
    assert lines[3].startswith("| a | wg0 | c |")
    assert lines[4] == "| b | wg0 | a | 10.77.0.9 | no | - | no | never |"
    assert lines[-1] == "3 peer links checked, 1 without traffic through the tunnel"


def test_empty_report():
    assert wireguard_report_table([]).splitlines()[-1] == "0 peer links checked, 0 without traffic through the tunnel"
