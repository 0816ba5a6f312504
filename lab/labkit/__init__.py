# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The overlaynet.vpn lab as a library, shared by lab/lab.py, the molecule scenarios, the
benches and the demo.

    podman    running commands on the controller and inside lab hosts
    images    lab images built from the recipes in lab/images.yml
    hosts     lab networks and hosts: start, stop, self-check, inventory
    guard     the egress guard: lab traffic never leaves the lab
    traffic   ping round-trip times, TCP exchanges, bulk transfers (iperf3), routes and
              addresses, the process serving a unix socket, PLAY RECAP parsing
    wireguard WireGuard readers (wg show dump, public keys, the userspace daemon)

Import it with lab/ on sys.path (lab.py, molecule/conftest.py and bench/ do).
"""
