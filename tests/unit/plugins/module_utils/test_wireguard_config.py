# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import copy
import json
import os

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import wireguard_config as wc
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import public_key_from_private


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
    result = wc.desired_runtime(parsed(), PRIVATE, {PEER_A: PSK_A})
    result.update(changes)
    return result


def live_copy(desired):
    """A live runtime equal to desired, as parse_wg_dump would return it."""
    live = copy.deepcopy(desired)
    for peer in live['peers'].values():
        peer['latest_handshake'] = 0
    return live


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


# ---------------------------------------------------------------------------------------------
# Desired state
# ---------------------------------------------------------------------------------------------

def test_desired_runtime():
    result = wc.desired_runtime(parsed(), PRIVATE + '\n', {PEER_A: PSK_A, PEER_C: PSK_B})
    assert result == {
        'private_key': PRIVATE,
        'listen_port': 51820,
        'fwmark': 0x20,
        'peers': {
            PEER_A: {
                'preshared_key': PSK_A,
                'endpoint': '198.51.100.7:51820',
                'allowed_ips': ['10.77.0.2/32', '192.168.10.0/24', 'fd77::2/128'],
                'persistent_keepalive': 25,
            },
            PEER_B: {
                'preshared_key': None,
                'endpoint': 'vpn.example.net:51821',
                'allowed_ips': ['10.77.0.3/32'],
                'persistent_keepalive': 0,
            },
        },
    }
    # The psk of PEER_C, which the file does not define, creates no peer.
    assert PEER_C not in result['peers']


def test_desired_runtime_defaults_and_normalisation():
    conf = wc.parse_wg_quick('[Interface]\nListenPort = 0\nFwMark = off\n[Peer]\nPublicKey = %s\n'
                             'AllowedIPs = 10.1.2.3/8, 10.0.0.0/8, 2001:DB8::1/32\nPersistentKeepalive = off\n' % PEER_A)
    result = wc.desired_runtime(conf, PRIVATE, {})
    assert result['listen_port'] is None
    assert result['fwmark'] is None
    assert result['peers'][PEER_A] == {'preshared_key': None, 'endpoint': None, 'allowed_ips': ['10.0.0.0/8', '2001:db8::/32'],
                                       'persistent_keepalive': 0}
    decimal = wc.desired_runtime(wc.parse_wg_quick('[Interface]\nFwMark = 51820\n'), PRIVATE, {})
    assert decimal['fwmark'] == 51820
    assert decimal['peers'] == {}


def test_desired_runtime_rejects_bad_private_key_without_echo():
    with pytest.raises(ValueError) as excinfo:
        wc.desired_runtime(parsed(), PRIVATE[:-3] + '=', {})
    assert 'the private key is not a valid WireGuard key' in str(excinfo.value)
    assert PRIVATE[:-3] not in str(excinfo.value)


def test_desired_runtime_rejects_allowed_ip_on_two_peers():
    conf = wc.parse_wg_quick('[Interface]\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/24\n'
                             '[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.7/24\n' % (PEER_A, PEER_B))
    with pytest.raises(ValueError) as excinfo:
        wc.desired_runtime(conf, PRIVATE, {})
    assert 'AllowedIPs 10.0.0.0/24 is listed for two peers' in str(excinfo.value)


def test_desired_interface():
    result = wc.desired_interface(parsed())
    assert result == {
        'addresses': ['10.77.0.1/24', '10.78.0.1/16', 'fd77::1/64'],
        'mtu': 1420,
        'dns': ['10.77.0.53', 'example.internal'],
        'table': 'auto',
        'fwmark': 0x20,
        'save_config': False,
        'pre_up': ['echo pre'],
        'post_up': ['iptables -A FORWARD -i %i -j ACCEPT; echo a,b', 'echo second'],
        'pre_down': ['echo predown'],
        'post_down': ['echo down   # trailing comment'],
        # The other allowed IPs lie in 10.77.0.0/24 and fd77::/64, whose connected routes cover them.
        'routes': ['192.168.10.0/24'],
    }


def test_desired_interface_defaults():
    result = wc.desired_interface(wc.parse_wg_quick('[Interface]\nAddress = 10.0.0.1\n'))
    assert result['addresses'] == ['10.0.0.1/32']
    assert result['mtu'] is None
    assert result['table'] == 'auto'
    assert result['fwmark'] is None
    assert result['routes'] == []
    assert result['pre_up'] == result['post_down'] == []


def test_desired_interface_table_off_has_no_routes():
    result = wc.desired_interface(wc.parse_wg_quick(CONF.replace('Table = auto', 'Table = off')))
    assert result['table'] == 'off'
    assert result['routes'] == []


def test_desired_interface_other_table_routes_every_allowed_ip():
    result = wc.desired_interface(wc.parse_wg_quick(CONF.replace('Table = auto', 'Table = 1234')))
    assert result['table'] == '1234'
    assert result['routes'] == ['10.77.0.2/32', '10.77.0.3/32', '192.168.10.0/24', 'fd77::2/128']


@pytest.mark.parametrize('addresses, allowed_ips, table, expected', [
    (['10.0.0.1/24'], ['10.0.0.2/32', '10.0.0.0/24', '10.0.1.0/24'], 'auto', ['10.0.1.0/24']),
    (['10.0.0.1/24'], ['10.0.0.0/16'], 'auto', ['10.0.0.0/16']),  # wider than the subnet: routed
    (['10.0.0.1/32'], ['10.0.0.2/32'], 'auto', ['10.0.0.2/32']),  # a /32 address has no connected subnet
    (['10.0.0.1/24'], ['0.0.0.0/0', '::/0'], 'auto', ['0.0.0.0/0', '::/0']),
    (['fd00::1/64', '10.0.0.1/8'], ['fd00::5/128', 'fd01::/64', '10.200.0.0/16'], 'auto', ['fd01::/64']),
    (['fd00::1/64'], ['10.0.0.0/8'], 'auto', ['10.0.0.0/8']),  # other family
    (['10.0.0.1/24'], ['10.0.0.2/32', '10.0.1.0/24'], '51000', ['10.0.0.2/32', '10.0.1.0/24']),
    (['10.0.0.1/24'], ['10.0.1.0/24'], 'off', []),
    ([], [], 'auto', []),
])
def test_wg_quick_routes(addresses, allowed_ips, table, expected):
    assert wc.wg_quick_routes(addresses, allowed_ips, table) == expected


def test_desired_interface_refuses_save_config():
    with pytest.raises(ValueError) as excinfo:
        wc.desired_interface(wc.parse_wg_quick('[Interface]\nSaveConfig = true\n'))
    assert 'SaveConfig = true is not supported' in str(excinfo.value)
    assert wc.desired_interface(wc.parse_wg_quick('[Interface]\nSaveConfig = False\n'))['save_config'] is False


def fingerprint_of(text):
    return wc.interface_fingerprint(wc.desired_interface(wc.parse_wg_quick(text)))


def test_fingerprint_is_stable_and_hex():
    first = fingerprint_of(CONF)
    assert first == fingerprint_of(CONF)
    assert len(first) == 64 and int(first, 16) >= 0
    # Reordered addresses and peers, other case and spacing: the same interface.
    reordered = CONF.replace('Address = 10.77.0.1/24\naddress = fd77::1/64 , 10.78.0.1/16',
                             'ADDRESS=10.78.0.1/16,fd77::1/64\nAddress = 10.77.0.1/24')
    assert fingerprint_of(reordered) == first


@pytest.mark.parametrize('old, new', [
    ('Address = 10.77.0.1/24', 'Address = 10.77.0.9/24'),
    ('MTU = 1420', 'MTU = 1380'),
    ('DNS = 10.77.0.53, example.internal', 'DNS = example.internal, 10.77.0.53'),
    ('Table = auto', 'Table = 1234'),
    ('FwMark = 0x20', 'FwMark = 0x21'),
    ('PreUp = echo pre', 'PreUp = echo other'),
    ('PostUp = echo second', 'PostUp = echo third'),
    ('PreDown = echo predown', ''),
    ('PostDown = echo down', 'PostDown = echo down\nPostDown = echo more'),
    # Hook order matters.
    ('PostUp = iptables -A FORWARD -i %i -j ACCEPT; echo a,b\nPostUp = echo second',
     'PostUp = echo second\nPostUp = iptables -A FORWARD -i %i -j ACCEPT; echo a,b'),
    # Routes: an allowed IP outside the interface's subnets appears or disappears.
    ('AllowedIPs = 192.168.10.0/24', 'AllowedIPs = 192.168.10.0/24, 192.168.11.0/24'),
    ('AllowedIPs = 192.168.10.0/24', ''),
    ('ALLOWEDIPS = 10.77.0.3/32', 'ALLOWEDIPS = 10.77.0.3/32, 10.99.0.0/16'),
    # An address change that leaves an allowed IP without a covering subnet.
    ('address = fd77::1/64 , 10.78.0.1/16', 'address = fd77::1/128 , 10.78.0.1/16'),
])
def test_fingerprint_changes_with_what_wg_quick_applies(old, new):
    assert old in CONF
    assert fingerprint_of(CONF.replace(old, new)) != fingerprint_of(CONF)


@pytest.mark.parametrize('old, new', [
    ('Endpoint = 198.51.100.7:51820', 'Endpoint = 198.51.100.8:51999'),
    ('endpoint = vpn.example.net:51821', ''),
    ('PersistentKeepalive = 25', 'PersistentKeepalive = 10'),
    ('PersistentKeepalive = 25', ''),
    ('ListenPort = 51820', 'ListenPort = 51999'),
    # Allowed IPs inside the interface's subnets need no route: peers come and go without a restart.
    ('ALLOWEDIPS = 10.77.0.3/32', 'ALLOWEDIPS = 10.77.0.4/32, fd77::4/128'),
    ('[peer]\npublickey = %s\nALLOWEDIPS = 10.77.0.3/32\n' % PEER_B, '[peer]\npublickey = %s\nALLOWEDIPS = 10.77.0.3/32\n'
     '[Peer]\nPublicKey = %s\nAllowedIPs = 10.77.0.9/32\n' % (PEER_B, PEER_C)),
])
def test_fingerprint_ignores_what_wg_changes_in_place(old, new):
    text = CONF.replace(old, new)
    assert text != CONF
    assert fingerprint_of(text) == fingerprint_of(CONF)


def test_fingerprint_ignores_routes_moving_between_peers():
    # The union of the routes stays the same; which peer owns one is wg's business.
    text = CONF.replace('AllowedIPs = 192.168.10.0/24\n', '')
    text = text.replace('ALLOWEDIPS = 10.77.0.3/32', 'ALLOWEDIPS = 10.77.0.3/32, 192.168.10.0/24')
    assert text.count('192.168.10.0/24') == 1 and text != CONF
    assert fingerprint_of(text) == fingerprint_of(CONF)


def test_fingerprint_ignores_secrets():
    interface = wc.desired_interface(parsed())
    assert wc.interface_fingerprint(interface) == wc.interface_fingerprint(copy.deepcopy(interface))
    assert 'private_key' not in interface


# ---------------------------------------------------------------------------------------------
# assemble_runtime_config
# ---------------------------------------------------------------------------------------------

def test_assemble_runtime_config():
    text = wc.assemble_runtime_config(runtime())
    first, second = sorted([PEER_A, PEER_B])
    assert text.endswith('\n') and not text.endswith('\n\n')
    blocks = text[:-1].split('\n\n')
    assert blocks[0] == '[Interface]\nPrivateKey = %s\nListenPort = 51820\nFwMark = 0x20' % PRIVATE
    peer_blocks = dict((block.split('\n')[1], block) for block in blocks[1:])
    assert [block.split('\n')[1] for block in blocks[1:]] == ['PublicKey = %s' % first, 'PublicKey = %s' % second]
    assert peer_blocks['PublicKey = %s' % PEER_A] == (
        '[Peer]\nPublicKey = %s\nPresharedKey = %s\nEndpoint = 198.51.100.7:51820\n'
        'AllowedIPs = 10.77.0.2/32, 192.168.10.0/24, fd77::2/128\nPersistentKeepalive = 25' % (PEER_A, PSK_A))
    assert peer_blocks['PublicKey = %s' % PEER_B] == (
        '[Peer]\nPublicKey = %s\nEndpoint = vpn.example.net:51821\nAllowedIPs = 10.77.0.3/32' % PEER_B)


def test_assemble_runtime_config_minimal_and_errors():
    minimal = dict(wc.empty_runtime(), private_key=PRIVATE)
    assert wc.assemble_runtime_config(minimal) == '[Interface]\nPrivateKey = %s\n' % PRIVATE
    with pytest.raises(ValueError):
        wc.assemble_runtime_config(wc.empty_runtime())


def test_runtime_for_sync_keeps_live_port_and_fwmark_when_file_leaves_them_open():
    desired = runtime(listen_port=None, fwmark=None)
    live = live_copy(desired)
    live.update(listen_port=43211, fwmark=51820)
    merged = wc.runtime_for_sync(desired, live)
    assert merged['listen_port'] == 43211 and merged['fwmark'] == 51820
    assert desired['listen_port'] is None  # not modified in place
    fixed = wc.runtime_for_sync(runtime(), live)
    assert fixed['listen_port'] == 51820 and fixed['fwmark'] == 0x20
    assert wc.runtime_for_sync(desired, None)['listen_port'] is None


# ---------------------------------------------------------------------------------------------
# Live state
# ---------------------------------------------------------------------------------------------

def dump_text(*peer_lines, **interface):
    head = '\t'.join([interface.get('private_key', PRIVATE), public_key_from_private(PRIVATE),
                      str(interface.get('listen_port', 51820)), interface.get('fwmark', 'off')])
    return '\n'.join([head] + ['\t'.join(fields) for fields in peer_lines]) + '\n'


def test_parse_wg_dump():
    text = dump_text(
        [PEER_A, PSK_A, '198.51.100.7:51820', '10.77.0.2/32,fd77::2/128,192.168.10.0/24', '1767225600', '100', '200', '25'],
        [PEER_B, '(none)', '(none)', '(none)', '0', '0', '0', 'off'],
        [PEER_C, '(none)', '[2001:db8::7]:51820', '10.9.0.0/16', '0', '0', '0', 'off'],
        fwmark='0xca6c',
    )
    assert wc.parse_wg_dump(text) == {
        'private_key': PRIVATE,
        'listen_port': 51820,
        'fwmark': 0xca6c,
        'peers': {
            PEER_A: {'preshared_key': PSK_A, 'endpoint': '198.51.100.7:51820',
                     'allowed_ips': ['10.77.0.2/32', '192.168.10.0/24', 'fd77::2/128'], 'persistent_keepalive': 25,
                     'latest_handshake': 1767225600},
            PEER_B: {'preshared_key': None, 'endpoint': None, 'allowed_ips': [], 'persistent_keepalive': 0, 'latest_handshake': 0},
            PEER_C: {'preshared_key': None, 'endpoint': '[2001:db8::7]:51820', 'allowed_ips': ['10.9.0.0/16'],
                     'persistent_keepalive': 0, 'latest_handshake': 0},
        },
    }


def test_parse_wg_dump_interface_without_key_or_peers():
    result = wc.parse_wg_dump(dump_text(private_key='(none)', listen_port=0))
    assert result == {'private_key': None, 'listen_port': None, 'fwmark': None, 'peers': {}}


@pytest.mark.parametrize('text, expected', [
    ('', 'printed nothing'),
    ('a\tb\tc\n', 'line 1 has 3 fields'),
    ('%s\tpub\tport\toff\n' % PRIVATE, 'line 1 has an unexpected'),
    (dump_text([PEER_A, PSK_A, '(none)', '(none)', '0', '0', '0']), 'line 2 has 7 fields'),
    (dump_text([PEER_A, PSK_A, '(none)', '(none)', 'never', '0', '0', 'off']), 'line 2 has an unexpected value'),
])
def test_parse_wg_dump_errors_do_not_echo_keys(text, expected):
    with pytest.raises(ValueError) as excinfo:
        wc.parse_wg_dump(text)
    assert expected in str(excinfo.value)
    assert PRIVATE not in str(excinfo.value) and PSK_A not in str(excinfo.value)


def test_parse_ip_addr_json():
    text = json.dumps([{
        'ifindex': 7, 'ifname': 'wg0', 'mtu': 1420, 'link_type': 'none',
        'addr_info': [
            {'family': 'inet6', 'local': 'FD77::1', 'prefixlen': 64, 'scope': 'global'},
            {'family': 'inet', 'local': '10.77.0.1', 'prefixlen': 24, 'scope': 'global'},
            {'family': 'inet6', 'local': 'fe80::1', 'prefixlen': 64, 'scope': 'link'},
        ],
    }])
    assert wc.parse_ip_addr_json(text) == {'addresses': ['10.77.0.1/24', 'fd77::1/64', 'fe80::1/64'], 'mtu': 1420}
    assert wc.parse_ip_addr_json(json.dumps([{'ifname': 'wg0', 'mtu': 1280, 'addr_info': []}])) == {'addresses': [], 'mtu': 1280}
    for bad in ('not json', '[]', '{}'):
        with pytest.raises(ValueError):
            wc.parse_ip_addr_json(bad)


@pytest.mark.parametrize('text, expected', [
    (json.dumps([{'ifname': 'wg0', 'linkinfo': {'info_kind': 'wireguard'}}]), 'kernel'),
    (json.dumps([{'ifname': 'wg0', 'linkinfo': {'info_kind': 'tun', 'info_data': {'type': 'tun'}}}]), 'userspace'),
    (json.dumps([{'ifname': 'wg0', 'linkinfo': {'info_kind': 'dummy'}}]), None),
    (json.dumps([{'ifname': 'wg0'}]), None),
    ('[]', None),
    ('garbage', None),
])
def test_link_implementation(text, expected):
    assert wc.link_implementation(text) == expected


def test_addresses_differ():
    assert not wc.addresses_differ(['10.0.0.1/24', 'fd00::1/64'], ['fd00::1/64', '10.0.0.1/24'])
    assert not wc.addresses_differ(['10.0.0.1/32'], ['10.0.0.1'])
    assert not wc.addresses_differ(['10.0.0.1/24', 'fe80::5/64'], ['10.0.0.1/24'])  # kernel link-local ignored
    assert wc.addresses_differ(['10.0.0.1/24'], ['10.0.0.1/24', 'fe80::5/64'])  # ...unless configured
    assert wc.addresses_differ(['10.0.0.1/24'], ['10.0.0.1/25'])
    assert wc.addresses_differ(['10.0.0.1/24', '10.0.0.2/24'], ['10.0.0.1/24'])
    assert wc.addresses_differ([], ['10.0.0.1/24'])
    assert not wc.addresses_differ(None, [])


# ---------------------------------------------------------------------------------------------
# runtime_differences
# ---------------------------------------------------------------------------------------------

NO_DIFFERENCES = {'private_key_changed': False, 'listen_port': None, 'fwmark': None, 'peers_added': [], 'peers_removed': [],
                  'peers_changed': {}}


def test_runtime_differences_none():
    desired = runtime()
    assert wc.runtime_differences(desired, live_copy(desired)) == NO_DIFFERENCES
    assert not wc.has_runtime_differences(NO_DIFFERENCES)


def test_runtime_differences_against_empty_interface():
    differences = wc.runtime_differences(runtime(), None)
    assert differences == {'private_key_changed': True, 'listen_port': (None, 51820), 'fwmark': (None, 0x20),
                           'peers_added': sorted([PEER_A, PEER_B]), 'peers_removed': [], 'peers_changed': {}}
    assert wc.has_runtime_differences(differences)


def test_runtime_differences_private_key():
    desired = runtime()
    live = live_copy(desired)
    live['private_key'] = new_key()
    differences = wc.runtime_differences(desired, live)
    assert differences == dict(NO_DIFFERENCES, private_key_changed=True)
    assert live['private_key'] not in json.dumps(differences) and PRIVATE not in json.dumps(differences)
    live['private_key'] = None
    assert wc.runtime_differences(desired, live)['private_key_changed'] is True


def test_runtime_differences_listen_port_and_fwmark():
    desired = runtime()
    live = live_copy(desired)
    live.update(listen_port=40000, fwmark=None)
    assert wc.runtime_differences(desired, live) == dict(NO_DIFFERENCES, listen_port=(40000, 51820), fwmark=(None, 0x20))
    # Not set in the file: random port, fwmark left to wg-quick.
    open_desired = runtime(listen_port=None, fwmark=None)
    live.update(fwmark=51820)
    assert wc.runtime_differences(open_desired, live) == NO_DIFFERENCES


def test_runtime_differences_peers_added_removed():
    desired = runtime()
    live = live_copy(desired)
    del live['peers'][PEER_B]
    live['peers'][PEER_C] = {'preshared_key': None, 'endpoint': None, 'allowed_ips': [], 'persistent_keepalive': 0, 'latest_handshake': 0}
    assert wc.runtime_differences(desired, live) == dict(NO_DIFFERENCES, peers_added=[PEER_B], peers_removed=[PEER_C])


@pytest.mark.parametrize('field, live_value', [
    ('preshared_key', None),
    ('preshared_key', 'other'),
    ('allowed_ips', ['10.77.0.2/32']),
    ('allowed_ips', []),
    ('persistent_keepalive', 0),
    ('persistent_keepalive', 26),
    ('endpoint', '198.51.100.8:51820'),
    ('endpoint', '198.51.100.7:51821'),
    ('endpoint', None),
])
def test_runtime_differences_peer_fields(field, live_value):
    desired = runtime()
    live = live_copy(desired)
    if live_value == 'other':
        live_value = new_key()
    live['peers'][PEER_A][field] = live_value
    differences = wc.runtime_differences(desired, live)
    assert differences == dict(NO_DIFFERENCES, peers_changed={PEER_A: [field]})
    assert PSK_A not in json.dumps(differences)
    if field == 'preshared_key' and live_value:
        assert live_value not in json.dumps(differences)


def test_runtime_differences_several_fields_in_fixed_order():
    desired = runtime()
    live = live_copy(desired)
    live['peers'][PEER_A].update(persistent_keepalive=0, preshared_key=None, allowed_ips=[], endpoint='203.0.113.1:1')
    assert wc.runtime_differences(desired, live)['peers_changed'] == {
        PEER_A: ['preshared_key', 'endpoint', 'allowed_ips', 'persistent_keepalive']}


def test_runtime_differences_allowed_ips_are_compared_normalised():
    desired = runtime()
    live = live_copy(desired)
    live['peers'][PEER_A]['allowed_ips'] = ['fd77:0::2/128', '192.168.10.0/24', '10.77.0.2/32']
    assert wc.runtime_differences(desired, live) == NO_DIFFERENCES


@pytest.mark.parametrize('desired_endpoint, live_endpoint, differs', [
    # A host name is never a difference: the live side only knows a resolved, roaming address.
    ('vpn.example.net:51821', '198.51.100.99:40000', False),
    ('vpn.example.net:51821', None, False),
    (None, '198.51.100.99:40000', False),
    # IP literals with a port are compared, IPv6 in canonical form.
    ('198.51.100.7:51820', '198.51.100.7:51820', False),
    ('198.51.100.7:51820', '198.51.100.7:40000', True),
    ('198.51.100.7:51820', None, True),
    ('[2001:DB8:0::7]:51820', '[2001:db8::7]:51820', False),
    ('[2001:db8::7]:51820', '[2001:db8::8]:51820', True),
    ('[2001:db8::7]:51820', '198.51.100.7:51820', True),
])
def test_runtime_differences_endpoint_rule(desired_endpoint, live_endpoint, differs):
    desired = runtime()
    desired['peers'][PEER_B]['endpoint'] = desired_endpoint
    live = live_copy(desired)
    live['peers'][PEER_B]['endpoint'] = live_endpoint
    expected = {PEER_B: ['endpoint']} if differs else {}
    assert wc.runtime_differences(desired, live)['peers_changed'] == expected


def test_runtime_differences_never_hold_secrets():
    desired = runtime()
    live = live_copy(desired)
    live['private_key'] = new_key()
    live['peers'][PEER_A]['preshared_key'] = new_key()
    dumped = json.dumps(wc.runtime_differences(desired, live))
    for secret in (PRIVATE, PSK_A, live['private_key'], live['peers'][PEER_A]['preshared_key']):
        assert secret not in dumped


# ---------------------------------------------------------------------------------------------
# plan_action
# ---------------------------------------------------------------------------------------------

DIFF = dict(NO_DIFFERENCES, peers_added=[PEER_C])
ADDRESSES = ['10.0.0.1/24']


def plan(service_active=True, link_exists=True, desired_fingerprint='f1', applied_fingerprint='f1', live_addresses=None,
         desired_addresses=None, live_mtu=1420, desired_mtu=1420, runtime_diff=None, force_restart=False):
    return wc.plan_action(service_active, link_exists, desired_fingerprint, applied_fingerprint,
                          ADDRESSES if live_addresses is None else live_addresses,
                          ADDRESSES if desired_addresses is None else desired_addresses,
                          live_mtu, desired_mtu, NO_DIFFERENCES if runtime_diff is None else runtime_diff, force_restart)


@pytest.mark.parametrize('kwargs, expected', [
    ({}, 'none'),
    # start: link missing or service inactive, whatever else is true.
    ({'link_exists': False, 'live_addresses': None, 'live_mtu': None}, 'start'),
    ({'service_active': False}, 'start'),
    ({'service_active': False, 'link_exists': False, 'force_restart': True, 'runtime_diff': DIFF}, 'start'),
    ({'service_active': False, 'applied_fingerprint': 'old'}, 'start'),
    # restart: forced, recorded fingerprint differs, or drift of addresses / MTU.
    ({'force_restart': True}, 'restart'),
    ({'applied_fingerprint': 'old'}, 'restart'),
    ({'applied_fingerprint': 'old', 'runtime_diff': DIFF}, 'restart'),
    ({'live_addresses': ['10.0.0.2/24']}, 'restart'),
    ({'live_addresses': []}, 'restart'),
    ({'live_mtu': 1380}, 'restart'),
    ({'live_mtu': 1380, 'runtime_diff': DIFF}, 'restart'),
    # Unknown fingerprint: only what is observable decides.
    ({'applied_fingerprint': None}, 'none'),
    ({'applied_fingerprint': None, 'runtime_diff': DIFF}, 'sync'),
    ({'applied_fingerprint': None, 'live_addresses': ['10.0.0.9/24']}, 'restart'),
    ({'applied_fingerprint': None, 'live_mtu': 1300}, 'restart'),
    # MTU None: automatic, never compared.
    ({'desired_mtu': None, 'live_mtu': 1300}, 'none'),
    ({'desired_mtu': None, 'live_mtu': 1300, 'runtime_diff': DIFF}, 'sync'),
    # Address lists compare as normalised sets.
    ({'live_addresses': ['fd00::1/64', '10.0.0.1/24'], 'desired_addresses': ['10.0.0.1/24', 'FD00:0::1/64']}, 'none'),
    # sync: only the runtime differs.
    ({'runtime_diff': DIFF}, 'sync'),
    ({'runtime_diff': dict(NO_DIFFERENCES, private_key_changed=True)}, 'sync'),
    ({'runtime_diff': dict(NO_DIFFERENCES, listen_port=(1, 2))}, 'sync'),
    ({'runtime_diff': dict(NO_DIFFERENCES, peers_removed=[PEER_A])}, 'sync'),
    ({'runtime_diff': dict(NO_DIFFERENCES, peers_changed={PEER_A: ['endpoint']})}, 'sync'),
])
def test_plan_action(kwargs, expected):
    assert plan(**kwargs) == expected


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

def test_render_diff():
    desired = runtime()
    live = live_copy(desired)
    live['private_key'] = new_key()
    live['peers'][PEER_A]['preshared_key'] = new_key()
    del live['peers'][PEER_B]
    before, after = wc.render_diff(live, desired, {'addresses': ['10.77.0.1/24'], 'mtu': 1400}, wc.desired_interface(parsed()))
    for secret in (PRIVATE, PSK_A, live['private_key'], live['peers'][PEER_A]['preshared_key']):
        assert secret not in before and secret not in after
    assert 'addresses: 10.77.0.1/24\nmtu: 1400\npublic key: %s\n' % public_key_from_private(live['private_key']) in before
    assert 'addresses: 10.77.0.1/24, 10.78.0.1/16, fd77::1/64\nmtu: 1420\npublic key: %s\n' % public_key_from_private(PRIVATE) in after
    assert 'listen port: 51820\nfwmark: 0x20\n' in after
    assert ('peer %s\n  allowed ips: 10.77.0.2/32, 192.168.10.0/24, fd77::2/128\n  endpoint: 198.51.100.7:51820\n'
            '  persistent keepalive: 25\n  preshared key: yes\n' % PEER_A) in after
    assert 'peer %s\n  allowed ips: 10.77.0.3/32\n  endpoint: vpn.example.net:51821\n  persistent keepalive: off\n' % PEER_B in after
    assert PEER_B not in before


def test_render_diff_interface_down_and_automatic_mtu():
    interface = wc.desired_interface(wc.parse_wg_quick('[Interface]\nAddress = 10.0.0.1/24\n'))
    before, after = wc.render_diff(None, dict(wc.empty_runtime(), private_key=PRIVATE), None, interface)
    assert before == '(interface down)\n'
    assert 'mtu: automatic\n' in after and 'listen port: random\n' in after and 'fwmark: off\n' in after
    assert PRIVATE not in after


def test_scrub_secrets():
    other = new_key()
    text = 'Key is not the correct length or format: `%s`; peer %s; psk %s; unknown %s' % (PRIVATE, PEER_A, PSK_A, other)
    cleaned = wc.scrub_secrets(text, [PRIVATE, PSK_A, None], [PEER_A])
    assert PRIVATE not in cleaned and PSK_A not in cleaned and other not in cleaned
    assert PEER_A in cleaned
    assert cleaned.count('(secret)') == 2 and '(key)' in cleaned
    assert wc.scrub_secrets(None, [PRIVATE]) == ''


def test_runtime_secrets():
    desired = runtime()
    assert sorted(wc.runtime_secrets(desired, None)) == sorted([PRIVATE, PSK_A])
    assert wc.runtime_secrets(wc.empty_runtime()) == []
