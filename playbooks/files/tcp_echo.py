# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TCP echo server on every address (IPv4 and IPv6) for a bounded time: argv port, seconds."""
from __future__ import absolute_import, division, print_function

import socket
import sys
import time

port, lifetime = int(sys.argv[1]), float(sys.argv[2])
server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
server.bind(("::", port))
server.listen(16)
deadline = time.monotonic() + lifetime
while time.monotonic() < deadline:
    server.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        connection = server.accept()[0]
    except socket.timeout:
        break
    connection.settimeout(5)
    try:
        connection.sendall(connection.recv(256))
    except OSError:
        pass
    connection.close()
