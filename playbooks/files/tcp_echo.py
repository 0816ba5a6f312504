# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TCP echo server on every address (IPv4 and IPv6) for a bounded time: argv port, seconds.

Every connection is answered in a thread of its own, since all the peers of a host probe it
at once. Under systemd (`systemd-run -p Type=notify`) it reports READY=1 once it listens, so
the command that starts it returns only when connections are accepted.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import socket
import sys
import threading
import time


def echo(connection):
    connection.settimeout(5)
    try:
        connection.sendall(connection.recv(256))
    except OSError:
        pass
    finally:
        connection.close()


def notify_ready():
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract socket namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.sendto(b"READY=1", address)


def main():
    port, lifetime = int(sys.argv[1]), float(sys.argv[2])
    server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    server.bind(("::", port))
    server.listen(128)
    notify_ready()
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        server.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            connection = server.accept()[0]
        except socket.timeout:
            break
        threading.Thread(target=echo, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
