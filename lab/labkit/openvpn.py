# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenVPN readers for lab hosts: the data-channel settings a daemon logged (cipher, socket
buffers, tun MTU), plus writing a file into a host. No key is read or kept: configs name key files, they never hold them.

The parse_* functions are pure and unit-testable; the rest run commands in a host with
`podman exec` (labkit.podman).
"""
from __future__ import absolute_import, division, print_function

import re

from labkit.podman import on, podman, shell_quote

# "Data Channel: cipher 'AES-256-GCM', peer-id: 0" (2.6; 2.5 logged "Data Channel: using ...").
DATA_CHANNEL_CIPHER = re.compile(r"Data Channel: cipher '([^']+)'")
# "Socket Buffers: R=[212992->524288] S=[212992->524288]": before -> after the daemon's setsockopt.
SOCKET_BUFFERS = re.compile(r"Socket Buffers: R=\[\d+->(\d+)\] S=\[\d+->(\d+)\]")
# "net_iface_mtu_set: mtu 1500 for ovpn-bench"
TUN_MTU = re.compile(r"net_iface_mtu_set: mtu (\d+) for ")
# The transport and address family: "UDPv6 link remote: [AF_INET6]...", "TCPv4_CLIENT link remote: ...".
LINK_REMOTE = re.compile(r"(UDPv4|UDPv6|TCPv4_CLIENT|TCPv6_CLIENT|TCP_CLIENT|UDP) link remote: (\S+)")
READY_LINE = "Initialization Sequence Completed"


# --- parsers (pure) --------------------------------------------------------------------------

def parse_data_channel(log):
    """What a daemon's log says about its data channel: {'cipher', 'rcvbuf', 'sndbuf',
    'tun_mtu', 'link'}; the last value logged wins (a reconnection logs them again); None
    for what it did not log."""
    def last(pattern, group=1):
        matches = list(pattern.finditer(log))
        return matches[-1].group(group) if matches else None

    rcvbuf, sndbuf = last(SOCKET_BUFFERS, 1), last(SOCKET_BUFFERS, 2)
    tun_mtu = last(TUN_MTU)
    return {
        "cipher": last(DATA_CHANNEL_CIPHER),
        "rcvbuf": int(rcvbuf) if rcvbuf else None,
        "sndbuf": int(sndbuf) if sndbuf else None,
        "tun_mtu": int(tun_mtu) if tun_mtu else None,
        "link": last(LINK_REMOTE),
    }


# --- hosts -----------------------------------------------------------------------------------

def unit_log(host, unit):
    """The journal of the unit's current run only (its invocation id), so that a transient
    unit started again under the same name shows nothing of its previous runs."""
    invocation = on(host, "systemctl show --property InvocationID --value %s" % shell_quote(unit)).stdout.strip()
    if not invocation:
        return ""
    return on(host, "journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=%s" % shell_quote(invocation),
              check=False).stdout


def data_channel(host, unit):
    """parse_data_channel of the unit's current run."""
    return parse_data_channel(unit_log(host, unit))


def initialized(host, unit):
    """Whether the unit's current run has logged OpenVPN's 'Initialization Sequence Completed'."""
    return READY_LINE in unit_log(host, unit)


def put_file(host, path, text, mode="0600"):
    """Write text to path in the host (directory made 0700 when missing), mode set before
    any byte is written."""
    podman("exec", "-i", host, "sh", "-c",
           "umask 077 && mkdir -p \"$(dirname %s)\" && cat > %s && chmod %s %s"
           % (shell_quote(path), shell_quote(path), shell_quote(mode), shell_quote(path)),
           input_text=text)
