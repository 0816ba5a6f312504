# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_inventory import (
    client_settings,
    client_variables,
    connection_settings,
    default_device,
    instance_settings,
    inventory_settings,
    network_name,
    read_clients,
    read_servers,
    server_settings,
    server_variables,
    sole_instance,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.hostvars_fakes import UNDEFINED, LazyHostVars, UndefinedValue, undefined_error
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.openvpn_inputs import PASSWORDS, base_inventory


def test_server_variables_defaults():
    assert server_variables({'vpn1': {}}, 'vpn1') == {
        'openvpn_server_instances': [], 'openvpn_server_public_address': 'vpn1', 'openvpn_server_users': {}, 'openvpn_server_state': 'present',
        'openvpn_server_crl_validity_days': 180, 'openvpn_server_crl_renew_before_days': 90, 'openvpn_server_crl_signed_ahead': 3,
    }
    assert server_variables({}, 'gone')['openvpn_server_public_address'] == 'gone'


def test_server_public_address_defaults_to_ansible_host_also_when_null():
    assert server_variables({'vpn1': {'ansible_host': '192.0.2.1'}}, 'vpn1')['openvpn_server_public_address'] == '192.0.2.1'
    hostvars = {'vpn1': {'ansible_host': '192.0.2.1', 'openvpn_server_public_address': None}}
    assert server_variables(hostvars, 'vpn1')['openvpn_server_public_address'] == '192.0.2.1'
    hostvars = {'vpn1': {'ansible_host': '192.0.2.1', 'openvpn_server_public_address': 'vpn.example.org'}}
    assert server_variables(hostvars, 'vpn1')['openvpn_server_public_address'] == 'vpn.example.org'


def test_server_variables_read_only_what_they_need():
    hostvars = LazyHostVars({'vpn1': {'openvpn_server_public_address': 'vpn.example.org', 'ansible_host': undefined_error,
                                      'unrelated': undefined_error}})
    server_variables(hostvars, 'vpn1', UNDEFINED)
    assert hostvars.names_read() == [('vpn1', 'openvpn_server_public_address')]


def test_undefined_values_count_as_unset():
    hostvars = LazyHostVars({'vpn1': {'openvpn_server_instances': undefined_error, 'openvpn_server_state': UndefinedValue,
                                      'ansible_host': undefined_error}})
    variables = server_variables(hostvars, 'vpn1', UNDEFINED)
    assert variables['openvpn_server_instances'] == []
    assert variables['openvpn_server_state'] == 'present'
    assert variables['openvpn_server_public_address'] == 'vpn1'


def test_client_variables_defaults():
    assert client_variables({'c1': {}}, 'c1') == {'openvpn_client_connections': [], 'openvpn_client_state': 'present'}
    assert client_variables({'c1': {'openvpn_client_state': 'absent'}}, 'c1')['openvpn_client_state'] == 'absent'


def test_read_servers_and_clients_take_the_group_hosts_sorted():
    hostvars, groups = base_inventory()
    groups['openvpn_clients'] = ['site3', 'site1', 'site1']
    assert list(read_servers(hostvars, groups)) == ['vpn1']
    assert list(read_clients(hostvars, groups)) == ['site1', 'site3']
    assert read_servers(hostvars, {}) == {} and read_clients(hostvars, {'openvpn_clients': 'site1'}) == {}
    assert read_clients(hostvars, groups)['site1']['openvpn_client_connections'][0]['password'] == PASSWORDS['site1']


def test_default_device_is_cut_to_fifteen_characters():
    assert default_device('ovpn-', 'main') == 'ovpn-main'
    assert default_device('ovpnc-', 'abcdefghijklmno') == 'ovpnc-abcdefghi'
    assert len(default_device('ovpn-', 'abcdefghijklmno')) == 15
    assert network_name('vpn1', 'main') == 'vpn1/main'


def test_instance_settings_fill_every_default():
    settings = instance_settings({'name': 'main', 'ipv4_pool': '10.8.0.0/24', 'masquerade': None})
    assert settings == {
        'name': 'main', 'device': 'ovpn-main', 'proto': 'udp', 'port': 1194, 'ipv4_pool': '10.8.0.0/24', 'ipv6_pool': None,
        'push_routes': [], 'dns_servers': [], 'search_domains': [], 'unmanaged_clients': [], 'revoked_clients': [],
        'redirect_gateway': False, 'client_to_client': False, 'password_auth': False, 'revoke_unlisted': False, 'masquerade': True,
        'tls_crypt': 'v2', 'data_ciphers': ['AES-256-GCM', 'CHACHA20-POLY1305'], 'keepalive': [10, 60], 'tun_mtu': None, 'state': 'present',
    }


def test_instance_settings_keep_given_values_and_follow_the_server_state():
    settings = instance_settings({'name': 'lab', 'device': 'tun7', 'proto': 'tcp', 'port': 443, 'masquerade': False, 'keepalive': [5, 30]})
    assert (settings['device'], settings['proto'], settings['port'], settings['masquerade'], settings['keepalive']) == ('tun7', 'tcp', 443, False, [5, 30])
    assert instance_settings({'name': 'lab'}, 'absent')['state'] == 'absent'
    assert instance_settings({'name': 'lab', 'state': 'absent'})['state'] == 'absent'


def test_sole_instance():
    assert sole_instance(['main']) == 'main'
    assert sole_instance([]) is None and sole_instance(['a', 'b']) is None


def test_connection_settings_defaults_and_no_password():
    settings = connection_settings({'server': 'vpn1', 'password': 'secret'}, 'site1', 'present', ['main'])
    assert settings == {
        'server': 'vpn1', 'instance': 'main', 'name': 'main', 'device': 'ovpnc-main', 'profile_file': None, 'username': 'site1',
        'password_given': True, 'address': None, 'routed_networks': [], 'state': 'present',
    }
    settings = connection_settings({'server': 'vpn1', 'instance': 'lab', 'name': 'office', 'username': 'bob'}, 'site1', 'absent', ['main', 'lab'])
    assert (settings['instance'], settings['name'], settings['device'], settings['username'], settings['password_given'], settings['state']) == \
        ('lab', 'office', 'ovpnc-office', 'bob', False, 'absent')


def test_connection_settings_of_a_profile_have_no_instance():
    settings = connection_settings({'profile_file': '/tmp/x.ovpn', 'name': 'vendor'}, 'site1', 'present', [])
    assert (settings['server'], settings['instance'], settings['name'], settings['device']) == (None, None, 'vendor', 'ovpnc-vendor')


def test_inventory_settings_hold_no_password():
    hostvars, groups = base_inventory()
    servers, clients = inventory_settings(read_servers(hostvars, groups), read_clients(hostvars, groups))
    assert servers['vpn1'] == server_settings('vpn1', server_variables(hostvars, 'vpn1'))
    assert servers['vpn1']['public_address'] == 'vpn1.example.org'
    assert [instance['name'] for instance in servers['vpn1']['instances']] == ['main', 'lab']
    assert clients['site1'] == client_settings('site1', client_variables(hostvars, 'site1'), servers)
    assert clients['site1']['connections'][0]['password_given'] is True
    text = repr((servers, clients))
    assert 'password' not in text.replace('password_given', '').replace('password_auth', '')
    assert not any(password in text for password in PASSWORDS.values())
