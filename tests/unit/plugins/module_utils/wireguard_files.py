# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# A wg-quick file and keys for the tests of _wireguard_conf and _wireguard_runtime.

import base64
import copy
import os

from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_conf as wc
from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_runtime as wr


def new_key():
    return base64.b64encode(os.urandom(32)).decode('ascii')


PRIVATE = new_key()
PEER_A = new_key()
PEER_B = new_key()
PEER_C = new_key()
PSK_A = new_key()
PSK_B = new_key()

CONF = '''# Network mesh, this host is a hub.
[Interface]
Address = 10.77.0.1/24
address = fd77::1/64 , 10.78.0.1/16
ListenPort = 51820
MTU = 1420
DNS = 10.77.0.53, example.internal
Table = auto
FwMark = 0x20
PreUp = echo pre
PostUp = iptables -A FORWARD -i %%i -j ACCEPT; echo a,b
PostUp = echo second
PreDown = echo predown
PostDown = echo down   # trailing comment

[Peer]
# peer-a
PublicKey = %(a)s
AllowedIPs = 10.77.0.2/32, fd77::2/128
AllowedIPs = 192.168.10.0/24
Endpoint = 198.51.100.7:51820
PersistentKeepalive = 25

[peer]
publickey = %(b)s
ALLOWEDIPS = 10.77.0.3/32
endpoint = vpn.example.net:51821
''' % {'a': PEER_A, 'b': PEER_B}


def parsed():
    return wc.parse_wg_quick(CONF)


def runtime(**changes):
    result = wr.desired_runtime(parsed(), PRIVATE, {PEER_A: PSK_A})
    result.update(changes)
    return result


def live_copy(desired):
    """A live runtime equal to desired, as parse_wg_dump would return it."""
    live = copy.deepcopy(desired)
    for peer in live['peers'].values():
        peer['latest_handshake'] = 0
    return live
