# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import json

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._allocation import allocate
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import (
    client_plan,
    merged_peers,
    peers_record,
    pki_options,
    pki_request,
    server_plan,
    subject_alt_name,
    tun_mtu_options,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.hostvars_fakes import UNDEFINED, LazyHostVars, undefined_error
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.openvpn_inputs import (
    PASSWORDS,
    base_inventory,
    by_name,
    connection,
    instance,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import first_choice

REMOVAL_KEYS = ['config_path', 'device', 'name', 'state', 'unit']


def plans_after(change, planner, host):
    hostvars, groups = base_inventory()
    change(hostvars, groups)
    return by_name(planner(hostvars, groups, host))


def unchanged(_hostvars, _groups):
    pass


# ---------------------------------------------------------------------------------------------
# Server plan
# ---------------------------------------------------------------------------------------------

def test_server_plan_of_an_instance():
    main = plans_after(unchanged, server_plan, 'vpn1')['main']
    clients = main.pop('clients')
    assert main == {
        'name': 'main', 'state': 'present', 'network': 'vpn1/main', 'device': 'ovpn-main', 'unit': 'openvpn-server@main',
        'config_path': '/etc/openvpn/server/main.conf', 'ccd_dir': '/etc/openvpn/server/main/ccd',
        'clients_allowed_path': '/etc/openvpn/server/main/clients.allowed', 'pki_dir': '/etc/openvpn/server/pki',
        'ca_path': '/etc/openvpn/server/pki/ca.crt', 'cert_path': '/etc/openvpn/server/pki/server.crt',
        'crl_path': '/etc/openvpn/server/pki/crl.pem',
        'crl_ahead_path': '/etc/openvpn/server/pki/crl-ahead.pem',
        'key_dir': '/etc/openvpn/server/keys',
        'tls_crypt_v2_verify_command': '/usr/local/lib/overlaynet/openvpn/tls-crypt-v2-verify /etc/openvpn/server/main/clients.allowed',
        'password_verify_command': '/usr/bin/python3 /usr/local/lib/overlaynet/openvpn/password-verify /etc/openvpn/server/users', 'proto': 'udp', 'port': 1194,
        'listen': {'address': '::', 'proto': 'udp6', 'dual_stack': True},
        'ipv4_pool': '10.8.0.0/24', 'server_ipv4': '10.8.0.1', 'ipv4_netmask': '255.255.255.0', 'ipv4_prefix': 24,
        'ipv6_pool': 'fd08::/64', 'server_ipv6': 'fd08::1', 'ipv6_prefix': 64,
        'push_routes': [{'network': '192.168.50.0/24', 'family': 'ipv4', 'address': '192.168.50.0', 'netmask': '255.255.255.0', 'prefix': 24}],
        'dns_servers': ['10.8.0.1'], 'search_domains': ['corp.example.org'], 'redirect_gateway': False, 'client_to_client': False,
        'masquerade': True, 'tls_crypt': 'v2', 'data_ciphers': ['AES-256-GCM', 'CHACHA20-POLY1305'], 'password_auth': True,
        'keepalive': [10, 60],
        'tun_mtu_options': [],
        'routes': [{'network': '192.168.10.0/24', 'family': 'ipv4', 'address': '192.168.10.0', 'netmask': '255.255.255.0', 'prefix': 24}],
        'firewall': {'ports': [{'proto': 'udp', 'port': 1194}], 'forward_interfaces': ['ovpn-main'], 'forwarding': ['ipv4', 'ipv6'],
                     'masquerade_interfaces': ['ovpn-main']},
        'allocation_notes': [],
    }
    assert [client['name'] for client in clients] == ['laptop-alice', 'site1', 'site2']
    laptop, site1, site2 = clients
    assert (laptop['managed'], laptop['host'], laptop['iroutes']) == (False, None, [])
    assert (site1['managed'], site1['host'], site1['ipv4']) == (True, 'site1', '10.8.0.10')
    assert site1['iroutes'] == main['routes']
    assert (site2['managed'], site2['host'], site2['iroutes']) == (True, 'site2', [])


def test_every_client_gets_the_first_choice_address_of_the_spec():
    clients = by_name(plans_after(unchanged, server_plan, 'vpn1')['main']['clients'])
    for name in ('laptop-alice', 'site2'):
        assert clients[name]['ipv4'] == str(first_choice('vpn1/main', '10.8.0.0/24', name))
    for name in ('laptop-alice', 'site1', 'site2'):
        assert clients[name]['ipv6'] == str(first_choice('vpn1/main', 'fd08::/64', name))


def test_addresses_match_the_shared_allocation():
    clients = by_name(plans_after(unchanged, server_plan, 'vpn1')['main']['clients'])
    expected, _notes = allocate(['10.8.0.0/24', 'fd08::/64'], ['site1', 'site2', 'laptop-alice', '@server'],
                                {'site1': ['10.8.0.10'], '@server': ['10.8.0.1', 'fd08::1']}, 'vpn1/main', 'instance vpn1/main')
    for name, client in clients.items():
        assert [client['ipv4'] + '/24', client['ipv6'] + '/64'] == expected[name]


def test_the_server_address_is_never_handed_out():
    def change(hostvars, _groups):
        instance(hostvars).update(ipv4_pool='10.8.0.0/29', ipv6_pool='fd08::/124', unmanaged_clients=['a', 'b', 'c'])
        connection(hostvars, 'site1').pop('address')
    main = plans_after(change, server_plan, 'vpn1')['main']
    ipv4 = [client['ipv4'] for client in main['clients']]
    ipv6 = [client['ipv6'] for client in main['clients']]
    assert len(ipv4) == 5 and len(set(ipv4)) == 5 and len(set(ipv6)) == 5
    assert '10.8.0.1' not in ipv4 and 'fd08::1' not in ipv6
    assert all(ipaddress.ip_address(address) in ipaddress.ip_network('10.8.0.0/29') for address in ipv4)


def test_addresses_do_not_depend_on_other_clients_or_inventory_order():
    before = by_name(plans_after(unchanged, server_plan, 'vpn1')['main']['clients'])

    def change(hostvars, groups):
        groups['openvpn_clients'].reverse()
        instance(hostvars)['unmanaged_clients'] = ['phone-bob', 'laptop-alice']
    after = by_name(plans_after(change, server_plan, 'vpn1')['main']['clients'])
    for name in before:
        assert after[name] == before[name]
    assert after['phone-bob']['ipv4'] == str(first_choice('vpn1/main', '10.8.0.0/24', 'phone-bob'))


def test_instances_are_sorted_and_the_tcp_instance_listens_on_tcp6():
    hostvars, groups = base_inventory()
    plans = server_plan(hostvars, groups, 'vpn1')
    assert [plan['name'] for plan in plans] == ['lab', 'main']
    lab = plans[0]
    assert lab['listen'] == {'address': '::', 'proto': 'tcp6-server', 'dual_stack': True}
    assert (lab['ipv6_pool'], lab['server_ipv6'], lab['ipv6_prefix']) == (None, None, None)
    assert lab['firewall'] == {'ports': [{'proto': 'tcp', 'port': 443}], 'forward_interfaces': ['ovpn-lab'], 'forwarding': ['ipv4'],
                               'masquerade_interfaces': []}
    assert [(client['name'], client['ipv6']) for client in lab['clients']] == [('site3', None)]


def test_routes_are_the_union_of_the_routed_networks_with_ipv6_routes():
    def change(hostvars, _groups):
        connection(hostvars, 'site2')['routed_networks'] = ['fd10:2::/64', '192.168.20.0/24']
    main = plans_after(change, server_plan, 'vpn1')['main']
    assert [route['network'] for route in main['routes']] == ['192.168.10.0/24', '192.168.20.0/24', 'fd10:2::/64']
    ipv6_route = main['routes'][2]
    assert ipv6_route == {'network': 'fd10:2::/64', 'family': 'ipv6', 'address': 'fd10:2::', 'netmask': None, 'prefix': 64}
    assert [route['network'] for route in by_name(main['clients'])['site2']['iroutes']] == ['192.168.20.0/24', 'fd10:2::/64']


def test_absent_instances_are_marked_for_removal():
    def change(hostvars, _groups):
        hostvars['vpn1']['openvpn_server_instances'].append({'name': 'old', 'state': 'absent'})
    old = plans_after(change, server_plan, 'vpn1')['old']
    assert old == {'name': 'old', 'state': 'absent', 'device': 'ovpn-old', 'unit': 'openvpn-server@old',
                   'config_path': '/etc/openvpn/server/old.conf'}


def test_an_absent_server_removes_every_instance():
    plans = plans_after(lambda hostvars, _groups: hostvars['vpn1'].update(openvpn_server_state='absent'), server_plan, 'vpn1')
    assert sorted(plans) == ['lab', 'main']
    assert all(sorted(plan) == REMOVAL_KEYS and plan['state'] == 'absent' for plan in plans.values())


def test_clients_leaving_are_dropped_from_the_server():
    def change(hostvars, _groups):
        hostvars['site2']['openvpn_client_state'] = 'absent'
        connection(hostvars, 'site1')['state'] = 'absent'
    main = plans_after(change, server_plan, 'vpn1')['main']
    assert [client['name'] for client in main['clients']] == ['laptop-alice']
    assert main['routes'] == []


def test_a_host_outside_the_group_has_no_server_plan():
    hostvars, groups = base_inventory()
    assert server_plan(hostvars, groups, 'site1') == []


def test_plans_refuse_an_invalid_inventory():
    hostvars, groups = base_inventory()
    instance(hostvars)['port'] = 0
    connection(hostvars, 'site2')['password'] = 'typo-password'
    for planner in (server_plan, client_plan, pki_request):
        with pytest.raises(ValueError) as caught:
            planner(hostvars, groups, 'vpn1')
        assert 'host vpn1: openvpn_server_instances[0].port' in str(caught.value)
        assert 'typo-password' not in str(caught.value)


def test_plans_hold_no_password():
    hostvars, groups = base_inventory()
    text = json.dumps([server_plan(hostvars, groups, 'vpn1'), client_plan(hostvars, groups, 'site1'), client_plan(hostvars, groups, 'site2'),
                       pki_request(hostvars, groups, 'vpn1')])
    assert not any(password in text for password in PASSWORDS.values())
    assert '"password"' not in text


def test_plans_read_hostvars_lazily_and_take_undefined_as_unset():
    hostvars, groups = base_inventory()
    hostvars['site3']['openvpn_client_state'] = undefined_error
    hostvars['site3']['unrelated'] = undefined_error
    assert server_plan(LazyHostVars(hostvars), groups, 'vpn1', UNDEFINED) == server_plan(base_inventory()[0], groups, 'vpn1')


# ---------------------------------------------------------------------------------------------
# Client plan
# ---------------------------------------------------------------------------------------------

def test_client_plan_of_a_managed_connection():
    hostvars, groups = base_inventory()
    plans = client_plan(hostvars, groups, 'site1')
    server_clients = by_name(by_name(server_plan(hostvars, groups, 'vpn1'))['main']['clients'])
    assert plans == [{
        'name': 'main', 'state': 'present', 'device': 'ovpnc-main', 'unit': 'openvpn-client@main', 'config_path': '/etc/openvpn/client/main.conf',
        'profile_file': None, 'pki_dir': '/etc/openvpn/client/main', 'key_path': '/etc/openvpn/client/pki/vpn1.key',
        'credentials_path': '/etc/openvpn/client/main/credentials',
        'username': 'site1', 'network': 'vpn1/main', 'server': 'vpn1', 'instance': 'main',
        'remote_address': 'vpn1.example.org', 'remote_port': 1194, 'proto': 'udp', 'tls_crypt': 'v2',
        'data_ciphers': ['AES-256-GCM', 'CHACHA20-POLY1305'], 'tun_mtu_options': [], 'password_auth': True,
        'ipv4': '10.8.0.10', 'ipv6': server_clients['site1']['ipv6'], 'server_ipv4': '10.8.0.1', 'server_ipv6': 'fd08::1',
        'routed_networks': ['192.168.10.0/24'],
    }]


def test_a_client_expects_the_address_its_server_pushes():
    hostvars, groups = base_inventory()
    server = by_name(server_plan(hostvars, groups, 'vpn1'))
    for host, instance_name in (('site2', 'main'), ('site3', 'lab')):
        plan = client_plan(hostvars, groups, host)[0]
        pushed = by_name(server[instance_name]['clients'])[host]
        assert (plan['ipv4'], plan['ipv6']) == (pushed['ipv4'], pushed['ipv6'])
        assert plan['server_ipv4'] == server[instance_name]['server_ipv4']
    lab = client_plan(hostvars, groups, 'site3')[0]
    assert (lab['name'], lab['proto'], lab['remote_port'], lab['tls_crypt'], lab['password_auth']) == ('lab', 'tcp', 443, 'v1', False)


def test_remote_address_defaults_and_ipv6_literals():
    plan = plans_after(lambda hostvars, _groups: hostvars['vpn1'].pop('ansible_host'), client_plan, 'site2')['main']
    assert plan['remote_address'] == 'vpn1'
    plan = plans_after(lambda hostvars, _groups: hostvars['vpn1'].update(openvpn_server_public_address='[2001:db8::1]'), client_plan, 'site2')['main']
    assert plan['remote_address'] == '2001:db8::1'


def test_client_connections_to_a_server_with_one_instance_and_named_connections():
    def change(hostvars, groups):
        hostvars['vpn2'] = {'openvpn_server_instances': [{'name': 'edge', 'ipv4_pool': '10.30.0.0/24', 'port': 1195}]}
        groups['openvpn_servers'].append('vpn2')
        hostvars['site3']['openvpn_client_connections'].append({'server': 'vpn2', 'name': 'backup', 'device': 'tun-backup'})
    plans = plans_after(change, client_plan, 'site3')
    assert sorted(plans) == ['backup', 'lab']
    backup = plans['backup']
    assert (backup['instance'], backup['device'], backup['unit'], backup['remote_address'], backup['remote_port']) == \
        ('edge', 'tun-backup', 'openvpn-client@backup', 'vpn2', 1195)


def test_client_connections_being_removed():
    def change(hostvars, _groups):
        instance(hostvars)['state'] = 'absent'
    assert plans_after(change, client_plan, 'site2')['main'] == {
        'name': 'main', 'state': 'absent', 'device': 'ovpnc-main', 'unit': 'openvpn-client@main', 'config_path': '/etc/openvpn/client/main.conf'}
    plans = plans_after(lambda hostvars, _groups: hostvars['site1'].update(openvpn_client_state='absent'), client_plan, 'site1')
    assert plans['main']['state'] == 'absent' and sorted(plans['main']) == REMOVAL_KEYS
    plans = plans_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'server': 'gone', 'name': 'old', 'state': 'absent'}), client_plan, 'site3')
    assert plans['old']['state'] == 'absent' and plans['lab']['state'] == 'present'


def test_client_plan_of_a_profile(tmp_path):
    profile = tmp_path / 'vendor.ovpn'
    profile.write_text('client\n')
    plans = plans_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'profile_file': str(profile), 'name': 'vendor', 'password': 'hunter2'}), client_plan, 'site3')
    vendor = plans['vendor']
    assert (vendor['profile_file'], vendor['server'], vendor['remote_address'], vendor['ipv4']) == (str(profile), None, None, None)
    assert (vendor['password_auth'], vendor['username'], vendor['data_ciphers']) == (True, 'site3', [])
    assert sorted(vendor) == sorted(plans['lab'])
    assert 'hunter2' not in json.dumps(vendor)


def test_a_host_outside_the_group_has_no_client_plan():
    hostvars, groups = base_inventory()
    assert client_plan(hostvars, groups, 'vpn1') == []


# ---------------------------------------------------------------------------------------------
# PKI request
# ---------------------------------------------------------------------------------------------

def test_pki_request_of_a_server():
    hostvars, groups = base_inventory()
    instance(hostvars, index=1).update(unmanaged_clients=['phone-bob', 'laptop-alice'], revoked_clients=['old-laptop', 'old-phone'],
                                       revoke_unlisted=True)
    assert pki_request(hostvars, groups, 'vpn1') == {
        'server': 'vpn1',
        'needed': True,
        'certificates': [{'name': 'vpn1', 'kind': 'server', 'subject_alt_names': ['DNS:vpn1.example.org']},
                         {'name': 'laptop-alice', 'kind': 'client'}, {'name': 'phone-bob', 'kind': 'client'}],
        'managed_clients': ['site1', 'site2', 'site3'],
        'unmanaged_clients': ['laptop-alice', 'phone-bob'],
        'revoke': ['old-laptop', 'old-phone'],
        'revoke_unlisted': True,
        'tls_crypt_v2': True,
        'tls_crypt': True,
    }


def test_pki_options_sign_the_requests_at_hand_and_keep_the_others():
    hostvars, groups = base_inventory()
    hostvars['vpn1']['openvpn_server__csr'] = 'CSR-vpn1'
    hostvars['site1']['openvpn_client__csrs'] = {'vpn1': 'CSR-site1', 'other': 'CSR-other'}
    hostvars['site2']['openvpn_client__csrs'] = {'other': 'CSR-other'}
    options = pki_options(hostvars, groups, 'vpn1')
    unmanaged = [{'name': name, 'kind': 'client'} for name in pki_request(hostvars, groups, 'vpn1')['unmanaged_clients']]
    assert options['certificates'] == (
        [{'name': 'vpn1', 'kind': 'server', 'subject_alt_names': ['DNS:vpn1.example.org'], 'csr': 'CSR-vpn1'}]
        + unmanaged + [{'name': 'site1', 'kind': 'client', 'csr': 'CSR-site1'}])
    assert options['keep'] == ['site2', 'site3']
    del hostvars['vpn1']['openvpn_server__csr']
    assert 'vpn1' in pki_options(hostvars, groups, 'vpn1')['keep']


def test_pki_request_counts_present_instances_only():
    hostvars, groups = base_inventory()
    instance(hostvars)['state'] = 'absent'
    request = pki_request(hostvars, groups, 'vpn1')
    assert (request['managed_clients'], request['unmanaged_clients'], request['revoke'], request['tls_crypt_v2']) == (['site3'], [], [], False)
    hostvars['vpn1']['openvpn_server_state'] = 'absent'
    request = pki_request(hostvars, groups, 'vpn1')
    assert (request['needed'], request['certificates'], request['managed_clients'], request['revoke_unlisted']) == (False, [], [], False)


def test_pki_request_for_a_host_outside_the_servers_fails():
    hostvars, groups = base_inventory()
    with pytest.raises(ValueError, match='^host site1 is not in group openvpn_servers$'):
        pki_request(hostvars, groups, 'site1')


@pytest.mark.parametrize('address, expected', [
    ('vpn.example.org', 'DNS:vpn.example.org'),
    ('vpn.example.org.', 'DNS:vpn.example.org'),
    ('192.0.2.7', 'IP:192.0.2.7'),
    ('2001:db8::7', 'IP:2001:db8::7'),
    ('[2001:DB8::7]', 'IP:2001:db8::7'),
])
def test_subject_alt_name(address, expected):
    assert subject_alt_name(address) == expected


# ---------------------------------------------------------------------------------------------
# Peers for the connectivity report
# ---------------------------------------------------------------------------------------------

def test_server_peers_record():
    hostvars, groups = base_inventory()
    hostvars['vpn1']['openvpn_server_instances'].append({'name': 'old', 'state': 'absent'})
    plans = server_plan(hostvars, groups, 'vpn1')
    record = peers_record(plans, 'server')
    main = by_name(by_name(plans)['main']['clients'])
    assert record['system'] == 'openvpn'
    assert [(peer['network'], peer['peer'], peer['managed'], peer['must_answer']) for peer in record['peers']] == [
        ('vpn1/lab', 'site3', True, True),
        ('vpn1/main', 'laptop-alice', False, False),
        ('vpn1/main', 'site1', True, True),
        ('vpn1/main', 'site2', True, True),
    ]
    site1 = record['peers'][2]
    assert site1 == {'system': 'openvpn', 'network': 'vpn1/main', 'interface': 'ovpn-main', 'peer': 'site1', 'managed': True,
                     'addresses': [main['site1']['ipv4'], main['site1']['ipv6']], 'must_answer': True,
                     'extras': {'openvpn_common_name': 'site1', 'openvpn_role': 'server'}}
    assert record['peers'][0]['addresses'] == [by_name(by_name(plans)['lab']['clients'])['site3']['ipv4']]


def test_a_host_that_is_server_and_client_keeps_the_peers_of_both_roles():
    hostvars, groups = base_inventory()
    wireguard_peer = {'system': 'wireguard', 'network': 'mesh', 'peer': 'other'}
    server_peers = merged_peers([wireguard_peer], server_plan(hostvars, groups, 'vpn1'), 'server')
    both = merged_peers(server_peers, client_plan(hostvars, groups, 'site3'), 'client')
    assert both[0] == wireguard_peer
    assert [peer['extras']['openvpn_role'] for peer in both[1:]] == ['server'] * (len(server_peers) - 1) + ['client']
    # A second run of a role replaces its own entries only.
    assert merged_peers(both, server_plan(hostvars, groups, 'vpn1'), 'server') == [wireguard_peer] + both[-1:] + server_peers[1:]
    assert merged_peers(None, [], 'client') == []


def test_client_peers_record_pairs_with_the_server(tmp_path):
    profile = tmp_path / 'vendor.ovpn'
    profile.write_text('client\n')
    hostvars, groups = base_inventory()
    hostvars['site3']['openvpn_client_connections'] += [{'profile_file': str(profile), 'name': 'vendor'},
                                                        {'server': 'gone', 'name': 'old', 'state': 'absent'}]
    record = peers_record(client_plan(hostvars, groups, 'site3'), 'client')
    assert record == {'system': 'openvpn', 'peers': [{
        'system': 'openvpn', 'network': 'vpn1/lab', 'interface': 'ovpnc-lab', 'peer': 'vpn1', 'managed': True, 'addresses': ['10.9.0.1'],
        'must_answer': True, 'extras': {'openvpn_common_name': 'vpn1', 'openvpn_role': 'client'}}]}
    server_side = [peer for peer in peers_record(server_plan(hostvars, groups, 'vpn1'), 'server')['peers'] if peer['peer'] == 'site3']
    assert [peer['network'] for peer in server_side] == [record['peers'][0]['network']]
    site1 = peers_record(client_plan(hostvars, groups, 'site1'), 'client')['peers'][0]
    assert site1['addresses'] == ['10.8.0.1', 'fd08::1']


def test_peers_record_refuses_an_unknown_role():
    with pytest.raises(ValueError, match="role must be one of server, client, got 'hub'"):
        peers_record([], 'hub')
    assert peers_record([], 'client') == {'system': 'openvpn', 'peers': []}


def test_an_absent_connection_may_name_anything_as_its_server():
    plans = plans_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'server': ['not', 'a', 'host'], 'name': 'old', 'state': 'absent'}), client_plan, 'site3')
    assert plans['old'] == {'name': 'old', 'state': 'absent', 'device': 'ovpnc-old', 'unit': 'openvpn-client@old',
                            'config_path': '/etc/openvpn/client/old.conf'}


@pytest.mark.parametrize('tun_mtu, options', [
    (None, []),
    (1400, ['tun-mtu 1400']),
    (1500, ['tun-mtu 1500']),
    (9000, ['tun-mtu 9000', 'mssfix 0']),
])
def test_tun_mtu_options(tun_mtu, options):
    assert tun_mtu_options(tun_mtu) == options
