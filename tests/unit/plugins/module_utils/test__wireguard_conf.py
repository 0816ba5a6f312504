# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_conf as wc
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_files import PEER_A, PEER_B, PRIVATE, PSK_A, PSK_B, new_key, parsed


# ---------------------------------------------------------------------------------------------
# parse_wg_quick
# ---------------------------------------------------------------------------------------------

def test_parse_interface_section():
    interface = parsed()['interface']
    assert interface['Address'] == ['10.77.0.1/24', 'fd77::1/64', '10.78.0.1/16']
    assert interface['ListenPort'] == '51820'
    assert interface['MTU'] == '1420'
    assert interface['DNS'] == ['10.77.0.53', 'example.internal']
    assert interface['Table'] == 'auto'
    assert interface['FwMark'] == '0x20'
    assert interface['PreUp'] == ['echo pre']
    # Hooks are whole commands: not split on commas, and repeated lines accumulate in order.
    assert interface['PostUp'] == ['iptables -A FORWARD -i %i -j ACCEPT; echo a,b', 'echo second']
    assert interface['PreDown'] == ['echo predown']
    # Hooks get the rest of the raw line, as wg-quick hands it to bash.
    assert interface['PostDown'] == ['echo down   # trailing comment']


def test_parse_peers_case_insensitive_and_accumulating():
    peers = parsed()['peers']
    assert len(peers) == 2
    assert peers[0] == {
        'PublicKey': PEER_A,
        'AllowedIPs': ['10.77.0.2/32', 'fd77::2/128', '192.168.10.0/24'],
        'Endpoint': '198.51.100.7:51820',
        'PersistentKeepalive': '25',
    }
    assert peers[1] == {'PublicKey': PEER_B, 'AllowedIPs': ['10.77.0.3/32'], 'Endpoint': 'vpn.example.net:51821'}


def test_parse_minimal_and_empty_allowed_ips():
    conf = wc.parse_wg_quick('[Interface]\n[Peer]\nPublicKey = %s\nAllowedIPs =\n' % PEER_A)
    assert conf == {'interface': {}, 'peers': [{'PublicKey': PEER_A, 'AllowedIPs': []}]}


def test_parse_crlf_and_indentation():
    conf = wc.parse_wg_quick('[Interface]\r\n   ListenPort=51000   \r\n\t[Peer]\r\nPublicKey=%s\r\n' % PEER_A)
    assert conf['interface'] == {'ListenPort': '51000'}
    assert conf['peers'] == [{'PublicKey': PEER_A}]


@pytest.mark.parametrize('text, expected', [
    ('ListenPort = 1\n[Interface]\n', 'line 1: a key outside of any section'),
    ('[Interface]\n[Peers]\n', 'line 2: unknown section'),
    ('[Interface]\nListenPort 51820\n', 'line 2: expected "Key = Value"'),
    ('[Interface]\nFoo = bar\n', "line 2: unknown key 'Foo' in the [Interface] section"),
    ('[Interface]\n[Peer]\nPublicKey = %s\nAddress = 10.0.0.1\n' % PEER_A, "line 4: unknown key 'Address' in the [Peer] section"),
    ('[Interface]\nListenPort = 1\nListenPort = 2\n', 'line 3: ListenPort is given a second time'),
    ('[Interface]\nListenPort = 70000\n', 'line 2: ListenPort must be an integer between 0 and 65535'),
    ('[Interface]\nListenPort = abc\n', 'line 2: ListenPort must be an integer'),
    ('[Interface]\nMTU =\n', 'line 2: MTU has no value'),
    ('[Interface]\nMTU = 20\n', 'line 2: MTU must be an integer between 68 and 65535'),
    ('[Interface]\nFwMark = 0xZZ\n', 'line 2: FwMark must be off or an integer'),
    ('[Interface]\nFwMark = 0x100000000\n', 'line 2: FwMark must be at most 0xffffffff'),
    ('[Interface]\nSaveConfig = maybe\n', 'line 2: SaveConfig must be true or false'),
    ('[Interface]\nAddress = 10.0.0.300/24\n', "line 2: Address '10.0.0.300/24' is not an IP address"),
    ('[Interface]\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/33\n' % PEER_A, "line 4: AllowedIPs entry '10.0.0.0/33' is not an IP network"),
    ('[Interface]\n[Peer]\nPublicKey = %s\nEndpoint = 198.51.100.7\n' % PEER_A, 'line 4: Endpoint'),
    ('[Interface]\n[Peer]\nPublicKey = %s\nEndpoint = fd00::1:51820\n' % PEER_A, 'write IPv6 addresses in brackets'),
    ('[Interface]\n[Peer]\nPublicKey = %s\nEndpoint = 198.51.100.7:0\n' % PEER_A, 'line 4: the port of Endpoint'),
    ('[Interface]\n[Peer]\nPublicKey = %s\nPersistentKeepalive = 70000\n' % PEER_A, 'line 4: PersistentKeepalive must be'),
    ('[Interface]\n[Peer]\nPublicKey = notakey\n', 'line 3: PublicKey is not a valid WireGuard key'),
    ('[Interface]\n[Peer]\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = %s\n' % PEER_A, 'the [Peer] section at line 2 has no PublicKey'),
    ('[Interface]\n[Peer]\nAllowedIPs = 10.0.0.0/8\n', 'the [Peer] section at line 2 has no PublicKey'),
    ('[Interface]\n[Peer]\nPublicKey = %s\n[Peer]\nPublicKey = %s\n' % (PEER_A, PEER_A), 'line 5: peer %s is already defined at line 3' % PEER_A),
    ('[Interface]\n[Interface]\n', 'line 2: a second [Interface] section'),
    ('[Peer]\nPublicKey = %s\n' % PEER_A, 'no [Interface] section'),
    ('# only a comment\n', 'no [Interface] section'),
])
def test_parse_errors(text, expected):
    with pytest.raises(ValueError) as excinfo:
        wc.parse_wg_quick(text)
    assert expected in str(excinfo.value)


@pytest.mark.parametrize('line, section, message', [
    ('PrivateKey = %s', '[Interface]', 'the private key belongs in the key file'),
    ('privatekey=%s', '[Interface]', 'the private key belongs in the key file'),
    ('PresharedKey = %s', '[Peer]\nPublicKey = ' + PEER_A, 'preshared keys belong in the psk file'),
    # Even before any section: the secret check comes first.
    ('PrivateKey = %s', '', 'the private key belongs in the key file'),
])
def test_parse_rejects_secrets_without_echoing_them(line, section, message):
    secret = new_key()
    text = '%s\n%s\n' % (section, line % secret) if section else (line % secret) + '\n[Interface]\n'
    with pytest.raises(ValueError) as excinfo:
        wc.parse_wg_quick(text)
    assert message in str(excinfo.value)
    assert 'line' in str(excinfo.value)
    assert secret not in str(excinfo.value)
    assert secret[:20] not in str(excinfo.value)


def test_parse_bare_pasted_key_line_is_not_echoed():
    # A bare key ends in '=', so it looks like "<43 chars> =" to a key = value parser.
    secret = new_key()
    with pytest.raises(ValueError) as excinfo:
        wc.parse_wg_quick('[Interface]\n%s\n' % secret)
    assert 'line 2: unknown key (name not shown)' in str(excinfo.value)
    assert secret[:-1] not in str(excinfo.value)
    assert secret[:16] not in str(excinfo.value)


def test_parse_hooks_keep_hash_and_equals_like_wg_quick():
    conf = wc.parse_wg_quick('[Interface]\nPostUp = echo "a#b" x=y\nMTU = 1400 # comment\n')
    assert conf['interface'] == {'PostUp': ['echo "a#b" x=y'], 'MTU': '1400'}


# ---------------------------------------------------------------------------------------------
# Key files
# ---------------------------------------------------------------------------------------------

def test_parse_private_key_file():
    assert wc.parse_private_key_file(PRIVATE + '\n') == PRIVATE
    assert wc.parse_private_key_file('\n  %s  \n\n' % PRIVATE) == PRIVATE


@pytest.mark.parametrize('text', ['', '\n', 'short\n', PRIVATE[:-2] + '==\n', PRIVATE + '\n' + PRIVATE + '\n', PRIVATE + 'x\n'])
def test_parse_private_key_file_errors_do_not_echo(text):
    with pytest.raises(ValueError) as excinfo:
        wc.parse_private_key_file(text)
    assert PRIVATE[:10] not in str(excinfo.value)


def test_parse_psk_file():
    text = '# Managed by Ansible\n\n%s %s\n   %s\t%s   # comment\n' % (PEER_A, PSK_A, PEER_B, PSK_B)
    assert wc.parse_psk_file(text) == {PEER_A: PSK_A, PEER_B: PSK_B}
    assert wc.parse_psk_file('') == {}
    assert wc.parse_psk_file('# nothing\n\n') == {}


@pytest.mark.parametrize('line_template, expected', [
    ('{a}', 'line 2: expected "<peer public key> <preshared key>", found 1 fields'),
    ('{a} {psk} extra', 'found 3 fields'),
    ('{a} {short}', 'line 2: the preshared key (second field) is not a valid WireGuard key'),
    ('notakey {psk}', 'line 2: the peer public key (first field) is not a valid WireGuard key'),
    ('{psk} notakey', 'line 2: the preshared key (second field) is not a valid'),
    ('{psk} {a}', None),  # swapped columns are two valid keys: accepted, nothing echoed anyway
])
def test_parse_psk_file_errors_never_echo_the_psk(line_template, expected):
    psk = new_key()
    line = line_template.format(a=PEER_A, psk=psk, short=psk[:-4] + '=')
    text = '# header\n' + line + '\n'
    if expected is None:
        assert wc.parse_psk_file(text) == {psk: PEER_A}
        return
    with pytest.raises(ValueError) as excinfo:
        wc.parse_psk_file(text)
    assert expected in str(excinfo.value)
    assert psk[:-4] not in str(excinfo.value)
    assert PEER_A not in str(excinfo.value)


def test_parse_psk_file_duplicate_peer():
    with pytest.raises(ValueError) as excinfo:
        wc.parse_psk_file('%s %s\n%s %s\n' % (PEER_A, PSK_A, PEER_A, PSK_B))
    assert 'line 2: the same peer public key is already listed at line 1' in str(excinfo.value)
    assert PSK_A not in str(excinfo.value) and PSK_B not in str(excinfo.value)
