# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_conf as wc
from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_runtime as wr
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import public_key_from_private
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_files import (
    CONF,
    PEER_A,
    PEER_B,
    PEER_C,
    PRIVATE,
    PSK_A,
    PSK_B,
    live_copy,
    new_key,
    parsed,
    runtime,
)


# ---------------------------------------------------------------------------------------------
# Desired state
# ---------------------------------------------------------------------------------------------

def test_desired_runtime():
    result = wr.desired_runtime(parsed(), PRIVATE + '\n', {PEER_A: PSK_A, PEER_C: PSK_B})
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
    result = wr.desired_runtime(conf, PRIVATE, {})
    assert result['listen_port'] is None
    assert result['fwmark'] is None
    assert result['peers'][PEER_A] == {'preshared_key': None, 'endpoint': None, 'allowed_ips': ['10.0.0.0/8', '2001:db8::/32'],
                                       'persistent_keepalive': 0}
    decimal = wr.desired_runtime(wc.parse_wg_quick('[Interface]\nFwMark = 51820\n'), PRIVATE, {})
    assert decimal['fwmark'] == 51820
    assert decimal['peers'] == {}


def test_desired_runtime_rejects_bad_private_key_without_echo():
    with pytest.raises(ValueError) as excinfo:
        wr.desired_runtime(parsed(), PRIVATE[:-3] + '=', {})
    assert 'the private key is not a valid WireGuard key' in str(excinfo.value)
    assert PRIVATE[:-3] not in str(excinfo.value)


def test_desired_runtime_rejects_allowed_ip_on_two_peers():
    conf = wc.parse_wg_quick('[Interface]\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.0/24\n'
                             '[Peer]\nPublicKey = %s\nAllowedIPs = 10.0.0.7/24\n' % (PEER_A, PEER_B))
    with pytest.raises(ValueError) as excinfo:
        wr.desired_runtime(conf, PRIVATE, {})
    assert 'AllowedIPs 10.0.0.0/24 is listed for two peers' in str(excinfo.value)


def test_desired_interface():
    result = wr.desired_interface(parsed())
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
    result = wr.desired_interface(wc.parse_wg_quick('[Interface]\nAddress = 10.0.0.1\n'))
    assert result['addresses'] == ['10.0.0.1/32']
    assert result['mtu'] is None
    assert result['table'] == 'auto'
    assert result['fwmark'] is None
    assert result['routes'] == []
    assert result['pre_up'] == result['post_down'] == []


def test_desired_interface_table_off_has_no_routes():
    result = wr.desired_interface(wc.parse_wg_quick(CONF.replace('Table = auto', 'Table = off')))
    assert result['table'] == 'off'
    assert result['routes'] == []


def test_desired_interface_other_table_routes_every_allowed_ip():
    result = wr.desired_interface(wc.parse_wg_quick(CONF.replace('Table = auto', 'Table = 1234')))
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
    assert wr.wg_quick_routes(addresses, allowed_ips, table) == expected


def test_desired_interface_refuses_save_config():
    with pytest.raises(ValueError) as excinfo:
        wr.desired_interface(wc.parse_wg_quick('[Interface]\nSaveConfig = true\n'))
    assert 'SaveConfig = true is not supported' in str(excinfo.value)
    assert wr.desired_interface(wc.parse_wg_quick('[Interface]\nSaveConfig = False\n'))['save_config'] is False


def fingerprint_of(text):
    return wr.interface_fingerprint(wr.desired_interface(wc.parse_wg_quick(text)))


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
    interface = wr.desired_interface(parsed())
    assert wr.interface_fingerprint(interface) == wr.interface_fingerprint(copy.deepcopy(interface))
    assert 'private_key' not in interface


# ---------------------------------------------------------------------------------------------
# assemble_runtime_config
# ---------------------------------------------------------------------------------------------

def test_assemble_runtime_config():
    text = wr.assemble_runtime_config(runtime())
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
    minimal = dict(wr.empty_runtime(), private_key=PRIVATE)
    assert wr.assemble_runtime_config(minimal) == '[Interface]\nPrivateKey = %s\n' % PRIVATE
    with pytest.raises(ValueError):
        wr.assemble_runtime_config(wr.empty_runtime())


def test_runtime_for_sync_keeps_live_port_and_fwmark_when_file_leaves_them_open():
    desired = runtime(listen_port=None, fwmark=None)
    live = live_copy(desired)
    live.update(listen_port=43211, fwmark=51820)
    merged = wr.runtime_for_sync(desired, live)
    assert merged['listen_port'] == 43211 and merged['fwmark'] == 51820
    assert desired['listen_port'] is None  # not modified in place
    fixed = wr.runtime_for_sync(runtime(), live)
    assert fixed['listen_port'] == 51820 and fixed['fwmark'] == 0x20
    assert wr.runtime_for_sync(desired, None)['listen_port'] is None


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
    assert wr.parse_wg_dump(text) == {
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
    result = wr.parse_wg_dump(dump_text(private_key='(none)', listen_port=0))
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
        wr.parse_wg_dump(text)
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
    assert wr.parse_ip_addr_json(text) == {'addresses': ['10.77.0.1/24', 'fd77::1/64', 'fe80::1/64'], 'mtu': 1420}
    assert wr.parse_ip_addr_json(json.dumps([{'ifname': 'wg0', 'mtu': 1280, 'addr_info': []}])) == {'addresses': [], 'mtu': 1280}
    for bad in ('not json', '[]', '{}'):
        with pytest.raises(ValueError):
            wr.parse_ip_addr_json(bad)


@pytest.mark.parametrize('text, expected', [
    (json.dumps([{'ifname': 'wg0', 'linkinfo': {'info_kind': 'wireguard'}}]), 'kernel'),
    (json.dumps([{'ifname': 'wg0', 'linkinfo': {'info_kind': 'tun', 'info_data': {'type': 'tun'}}}]), 'userspace'),
    (json.dumps([{'ifname': 'wg0', 'linkinfo': {'info_kind': 'dummy'}}]), None),
    (json.dumps([{'ifname': 'wg0'}]), None),
    ('[]', None),
    ('garbage', None),
])
def test_link_implementation(text, expected):
    assert wr.link_implementation(text) == expected


# ---------------------------------------------------------------------------------------------
# runtime_differences
# ---------------------------------------------------------------------------------------------

NO_DIFFERENCES = {'private_key_changed': False, 'listen_port': None, 'fwmark': None, 'peers_added': [], 'peers_removed': [],
                  'peers_changed': {}}


def test_runtime_differences_none():
    desired = runtime()
    assert wr.runtime_differences(desired, live_copy(desired)) == NO_DIFFERENCES
    assert not wr.has_runtime_differences(NO_DIFFERENCES)


def test_runtime_differences_against_empty_interface():
    differences = wr.runtime_differences(runtime(), None)
    assert differences == {'private_key_changed': True, 'listen_port': (None, 51820), 'fwmark': (None, 0x20),
                           'peers_added': sorted([PEER_A, PEER_B]), 'peers_removed': [], 'peers_changed': {}}
    assert wr.has_runtime_differences(differences)


def test_runtime_differences_private_key():
    desired = runtime()
    live = live_copy(desired)
    live['private_key'] = new_key()
    differences = wr.runtime_differences(desired, live)
    assert differences == dict(NO_DIFFERENCES, private_key_changed=True)
    assert live['private_key'] not in json.dumps(differences) and PRIVATE not in json.dumps(differences)
    live['private_key'] = None
    assert wr.runtime_differences(desired, live)['private_key_changed'] is True


def test_runtime_differences_listen_port_and_fwmark():
    desired = runtime()
    live = live_copy(desired)
    live.update(listen_port=40000, fwmark=None)
    assert wr.runtime_differences(desired, live) == dict(NO_DIFFERENCES, listen_port=(40000, 51820), fwmark=(None, 0x20))
    # Not set in the file: random port, fwmark left to wg-quick.
    open_desired = runtime(listen_port=None, fwmark=None)
    live.update(fwmark=51820)
    assert wr.runtime_differences(open_desired, live) == NO_DIFFERENCES


def test_runtime_differences_peers_added_removed():
    desired = runtime()
    live = live_copy(desired)
    del live['peers'][PEER_B]
    live['peers'][PEER_C] = {'preshared_key': None, 'endpoint': None, 'allowed_ips': [], 'persistent_keepalive': 0, 'latest_handshake': 0}
    assert wr.runtime_differences(desired, live) == dict(NO_DIFFERENCES, peers_added=[PEER_B], peers_removed=[PEER_C])


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
    differences = wr.runtime_differences(desired, live)
    assert differences == dict(NO_DIFFERENCES, peers_changed={PEER_A: [field]})
    assert PSK_A not in json.dumps(differences)
    if field == 'preshared_key' and live_value:
        assert live_value not in json.dumps(differences)


def test_runtime_differences_several_fields_in_fixed_order():
    desired = runtime()
    live = live_copy(desired)
    live['peers'][PEER_A].update(persistent_keepalive=0, preshared_key=None, allowed_ips=[], endpoint='203.0.113.1:1')
    assert wr.runtime_differences(desired, live)['peers_changed'] == {
        PEER_A: ['preshared_key', 'endpoint', 'allowed_ips', 'persistent_keepalive']}


def test_runtime_differences_allowed_ips_are_compared_normalised():
    desired = runtime()
    live = live_copy(desired)
    live['peers'][PEER_A]['allowed_ips'] = ['fd77:0::2/128', '192.168.10.0/24', '10.77.0.2/32']
    assert wr.runtime_differences(desired, live) == NO_DIFFERENCES


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
    assert wr.runtime_differences(desired, live)['peers_changed'] == expected


def test_runtime_differences_never_hold_secrets():
    desired = runtime()
    live = live_copy(desired)
    live['private_key'] = new_key()
    live['peers'][PEER_A]['preshared_key'] = new_key()
    dumped = json.dumps(wr.runtime_differences(desired, live))
    for secret in (PRIVATE, PSK_A, live['private_key'], live['peers'][PEER_A]['preshared_key']):
        assert secret not in dumped


# ---------------------------------------------------------------------------------------------
# plan_action
# ---------------------------------------------------------------------------------------------

DIFF = dict(NO_DIFFERENCES, peers_added=[PEER_C])
ADDRESSES = ['10.0.0.1/24']


def plan(service_active=True, link_exists=True, desired_fingerprint='f1', applied_fingerprint='f1', live_addresses=None,
         desired_addresses=None, live_mtu=1420, desired_mtu=1420, runtime_diff=None, force_restart=False):
    return wr.plan_action(service_active, link_exists, desired_fingerprint, applied_fingerprint,
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
    before, after = wr.render_diff(live, desired, {'addresses': ['10.77.0.1/24'], 'mtu': 1400}, wr.desired_interface(parsed()))
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
    interface = wr.desired_interface(wc.parse_wg_quick('[Interface]\nAddress = 10.0.0.1/24\n'))
    before, after = wr.render_diff(None, dict(wr.empty_runtime(), private_key=PRIVATE), None, interface)
    assert before == '(interface down)\n'
    assert 'mtu: automatic\n' in after and 'listen port: random\n' in after and 'fwmark: off\n' in after
    assert PRIVATE not in after


def test_runtime_secrets():
    desired = runtime()
    assert sorted(wr.runtime_secrets(desired, None)) == sorted([PRIVATE, PSK_A])
    assert wr.runtime_secrets(wr.empty_runtime()) == []
