# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import endpoint_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_validate import check_host_settings, check_rotate_keys, validate
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.hostvars_fakes import UNDEFINED, LazyHostVars, undefined_error
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import (
    KEY_A,
    KEY_B,
    MESH_HOSTS,
    SEED,
    assert_error,
    hub_config,
    inventory_for,
    mesh_config,
    mesh_network,
)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def test_valid_four_host_mesh_has_no_errors():
    networks, groups, inventory = mesh_config()
    assert validate(networks, groups, inventory) == []


def test_valid_full_featured_configuration_has_no_errors():
    networks = [
        mesh_network(address_pools=['10.77.0.0/24', 'fd77:77::/64'], mtu=1420, dns=['10.77.0.1', 'fd77:77::1'], table='off',
                     fwmark=51820, post_up=['echo up'], persistent_keepalive=25, preshared_keys=True, hubs_group='hubs',
                     road_warriors=[{'name': 'laptop', 'public_key': KEY_A, 'allowed_ips': ['0.0.0.0/0', '::/0'], 'dns': ['1.1.1.1'],
                                     'addresses': ['10.77.0.200'], 'persistent_keepalive': 15}, {'name': 'phone.alice'}]),
        dict(hub_config()[0][0], table=1234),
        dict(hub_config()[0][0], name='office2', interface='wg2', listen_port=51822, table='1234'),
    ]
    groups = {'all': MESH_HOSTS + ['hub1', 's1', 's2', 's3'], 'mesh': MESH_HOSTS, 'hubs': ['hub1'], 'spokes': ['s1', 's2', 's3']}
    inventory = inventory_for(groups['all'])
    inventory['web1']['networks'] = {'mesh': {'addresses': ['10.77.0.10/24', 'fd77:77::10'], 'routed_networks': ['192.168.10.0/24'],
                                              'listen_port': 51900, 'endpoint': '[2001:db8::10]'}}
    inventory['hub1']['endpoint'] = '192.0.2.1'
    groups['hubs'] = ['hub1']
    groups['mesh'] = MESH_HOSTS + ['hub1']
    networks[0]['hubs_group'] = 'hubs'
    assert validate(networks, groups, inventory, SEED) == []


def test_validate_collects_all_problems():
    networks, groups, inventory = mesh_config()
    networks[0]['listen_port'] = 0
    networks[0]['mtu'] = 100
    inventory['web1']['endpoint'] = 'web1:22'
    inventory['db1']['networks'] = {'mesh': {'addresses': ['10.78.0.5']}}
    errors = validate(networks, groups, inventory)
    assert len(errors) == 4
    assert_error(errors, 'network mesh', 'wireguard_networks[0].listen_port')
    assert_error(errors, 'network mesh', 'wireguard_networks[0].mtu')
    assert_error(errors, 'host web1', 'wireguard_endpoint', 'port')
    assert 'host db1: wireguard_host_networks.mesh.addresses: 10.78.0.5 is outside the pool 10.77.0.0/24 of network mesh' in errors


def test_validate_rejects_non_list_networks():
    assert_error(validate({'name': 'mesh'}, {}, {}), 'all', 'wireguard_networks', 'list')


NETWORK_FIELD_CASES = [
    ('name missing', {'name': None}, ('all: wireguard_networks[0].name', 'required')),
    ('name uppercase', {'name': 'Mesh'}, ('all: wireguard_networks[0].name',)),
    ('name with space', {'name': 'my mesh'}, ('wireguard_networks[0].name',)),
    ('interface missing', {'interface': None}, ('network mesh', 'wireguard_networks[0].interface', 'required')),
    ('interface too long', {'interface': 'wg0123456789abcd'}, ('network mesh', 'wireguard_networks[0].interface', '15')),
    ('interface slash', {'interface': 'wg/0'}, ('network mesh', 'wireguard_networks[0].interface')),
    ('interface colon', {'interface': 'wg:0'}, ('network mesh', 'wireguard_networks[0].interface')),
    ('interface space', {'interface': 'wg 0'}, ('network mesh', 'wireguard_networks[0].interface')),
    ('interface dot', {'interface': '.'}, ('network mesh', 'wireguard_networks[0].interface')),
    ('interface dotdot', {'interface': '..'}, ('network mesh', 'wireguard_networks[0].interface')),
    ('interface empty', {'interface': ''}, ('network mesh', 'wireguard_networks[0].interface')),
    ('topology', {'topology': 'star'}, ('network mesh', 'wireguard_networks[0].topology', 'star')),
    ('port zero', {'listen_port': 0}, ('network mesh', 'wireguard_networks[0].listen_port')),
    ('port too big', {'listen_port': 65536}, ('network mesh', 'wireguard_networks[0].listen_port')),
    ('port string', {'listen_port': '51820'}, ('network mesh', 'wireguard_networks[0].listen_port')),
    ('port bool', {'listen_port': True}, ('network mesh', 'wireguard_networks[0].listen_port')),
    ('pools missing', {'address_pools': None}, ('network mesh', 'wireguard_networks[0].address_pools', 'required')),
    ('pools empty', {'address_pools': []}, ('network mesh', 'wireguard_networks[0].address_pools')),
    ('pools three', {'address_pools': ['10.1.0.0/24', 'fd01::/64', '10.2.0.0/24']}, ('network mesh', 'wireguard_networks[0].address_pools')),
    ('pools string', {'address_pools': '10.77.0.0/24'}, ('network mesh', 'wireguard_networks[0].address_pools')),
    ('pool host bits', {'address_pools': ['10.77.0.1/24']}, ('network mesh', 'wireguard_networks[0].address_pools', 'host bits')),
    ('pool v6 host bits', {'address_pools': ['fd77:77::1/64']}, ('network mesh', 'wireguard_networks[0].address_pools', 'host bits')),
    ('pool garbage', {'address_pools': ['10.77.0.0/33']}, ('network mesh', 'wireguard_networks[0].address_pools')),
    ('pool no prefix', {'address_pools': ['10.77.0.0']}, ('network mesh', 'wireguard_networks[0].address_pools')),
    ('two v4 pools', {'address_pools': ['10.77.0.0/24', '10.78.0.0/24']}, ('network mesh', 'wireguard_networks[0].address_pools', 'IPv4')),
    ('two v6 pools', {'address_pools': ['fd01::/64', 'fd02::/64']}, ('network mesh', 'wireguard_networks[0].address_pools', 'IPv6')),
    ('mtu low', {'mtu': 1279}, ('network mesh', 'wireguard_networks[0].mtu')),
    ('mtu high', {'mtu': 9001}, ('network mesh', 'wireguard_networks[0].mtu')),
    ('keepalive negative', {'persistent_keepalive': -1}, ('network mesh', 'wireguard_networks[0].persistent_keepalive')),
    ('keepalive high', {'persistent_keepalive': 65536}, ('network mesh', 'wireguard_networks[0].persistent_keepalive')),
    ('dns not ip', {'dns': ['dns.example.com']}, ('network mesh', 'wireguard_networks[0].dns')),
    ('dns not list', {'dns': '1.1.1.1'}, ('network mesh', 'wireguard_networks[0].dns')),
    ('table name', {'table': 'main'}, ('network mesh', 'wireguard_networks[0].table')),
    ('table zero', {'table': 0}, ('network mesh', 'wireguard_networks[0].table')),
    ('table too big', {'table': 4294967296}, ('network mesh', 'wireguard_networks[0].table')),
    ('fwmark string', {'fwmark': 'x'}, ('network mesh', 'wireguard_networks[0].fwmark')),
    ('fwmark negative', {'fwmark': -1}, ('network mesh', 'wireguard_networks[0].fwmark')),
    ('post_up string', {'post_up': 'echo hi'}, ('network mesh', 'wireguard_networks[0].post_up')),
    ('pre_down non-strings', {'pre_down': [1]}, ('network mesh', 'wireguard_networks[0].pre_down')),
    ('preshared_keys string', {'preshared_keys': 'yes'}, ('network mesh', 'wireguard_networks[0].preshared_keys')),
    ('unknown key', {'adress_pools': ['10.0.0.0/24']}, ('network mesh', 'wireguard_networks[0].adress_pools', 'unknown key')),
    ('road_warriors not list', {'road_warriors': {'name': 'x'}}, ('network mesh', 'wireguard_networks[0].road_warriors')),
]


@pytest.mark.parametrize('overrides, fragments', [case[1:] for case in NETWORK_FIELD_CASES], ids=[case[0] for case in NETWORK_FIELD_CASES])
def test_validate_network_fields(overrides, fragments):
    networks, groups, inventory = mesh_config()
    networks[0].update(overrides)
    if networks[0]['name'] is None:
        del networks[0]['name']
    if networks[0].get('interface', 'x') is None:
        del networks[0]['interface']
    if 'address_pools' in overrides and overrides['address_pools'] is None:
        del networks[0]['address_pools']
    assert_error(validate(networks, groups, inventory), *fragments)


@pytest.mark.parametrize('table', [None, 'off', 'auto', 1, 4294967295, '1234'])
def test_validate_accepts_table_values(table):
    networks, groups, inventory = mesh_config()
    networks[0]['table'] = table
    assert validate(networks, groups, inventory) == []


def test_duplicate_network_names():
    networks, groups, inventory = mesh_config()
    networks.append(mesh_network(interface='wg9', listen_port=51829))
    assert_error(validate(networks, groups, inventory), 'network mesh', 'wireguard_networks[1].name', 'twice', 'wireguard_networks[0]')


def test_missing_members_group():
    networks, groups, inventory = mesh_config()
    networks[0]['members_group'] = 'nope'
    assert_error(validate(networks, groups, inventory), 'network mesh', 'wireguard_networks[0].members_group', "'nope'", 'does not exist')


def test_missing_default_members_group():
    networks, groups, inventory = mesh_config()
    networks[0]['name'] = 'other'
    assert_error(validate(networks, groups, inventory), 'network other', 'wireguard_networks[0].members_group', "'other'")


def test_missing_hubs_group():
    networks, groups, inventory = hub_config()
    networks[0]['hubs_group'] = 'nohubs'
    assert_error(validate(networks, groups, inventory), 'network office', 'wireguard_networks[0].hubs_group', "'nohubs'", 'does not exist')


def test_hub_and_spoke_without_hubs_group():
    networks, groups, inventory = hub_config()
    del networks[0]['hubs_group']
    assert_error(validate(networks, groups, inventory), 'network office', 'wireguard_networks[0].hubs_group', 'hub_and_spoke')


def test_hub_and_spoke_with_empty_hubs_group():
    networks, groups, inventory = hub_config()
    groups['hubs'] = []
    assert_error(validate(networks, groups, inventory), 'network office', 'wireguard_networks[0].hubs_group', 'no hosts')


def test_road_warriors_without_hubs():
    networks, groups, inventory = mesh_config()
    networks[0]['road_warriors'] = [{'name': 'laptop'}]
    assert_error(validate(networks, groups, inventory), 'network mesh', 'wireguard_networks[0].hubs_group', 'road_warriors')


def test_road_warriors_with_empty_hubs_group():
    networks, groups, inventory = mesh_config()
    networks[0].update(road_warriors=[{'name': 'laptop'}], hubs_group='hubs')
    groups['hubs'] = []
    assert_error(validate(networks, groups, inventory), 'network mesh', 'wireguard_networks[0].hubs_group', 'road_warriors')


def test_same_interface_on_one_host():
    networks, groups, inventory = mesh_config()
    networks.append({'name': 'backup', 'interface': 'wg0', 'listen_port': 51830, 'address_pools': ['10.99.0.0/24']})
    groups['backup'] = ['web1', 'other']
    inventory.update(inventory_for(['other']))
    errors = validate(networks, groups, inventory)
    assert_error(errors, 'host web1', 'wireguard_networks[1].interface', 'wg0', 'mesh')
    assert not [error for error in errors if 'host other' in error]
    assert not [error for error in errors if 'host web2' in error]


def test_same_interface_on_disjoint_hosts_is_fine():
    networks, groups, inventory = mesh_config()
    networks.append({'name': 'backup', 'interface': 'wg0', 'address_pools': ['10.99.0.0/24']})
    groups['backup'] = ['other1', 'other2']
    inventory.update(inventory_for(['other1', 'other2']))
    assert validate(networks, groups, inventory) == []


def test_same_listen_port_on_one_host():
    networks, groups, inventory = mesh_config()
    networks.append({'name': 'backup', 'interface': 'wg9', 'address_pools': ['10.99.0.0/24']})
    groups['backup'] = ['web2']
    assert_error(validate(networks, groups, inventory), 'host web2', 'wireguard_networks[1].listen_port', '51820')
    inventory['web2']['networks'] = {'backup': {'listen_port': 51999}}
    assert validate(networks, groups, inventory) == []


HOST_CASES = [
    ('unknown network', {'nope': {}}, ('host web1: wireguard_host_networks.nope', 'unknown network')),
    ('networks not a mapping', ['mesh'], ('host web1: wireguard_host_networks', 'mapping')),
    ('entry not a mapping', {'mesh': ['10.77.0.5']}, ('host web1: wireguard_host_networks.mesh', 'mapping')),
    ('unknown key', {'mesh': {'address': ['10.77.0.5']}}, ('host web1: wireguard_host_networks.mesh.address', 'unknown key')),
    ('address garbage', {'mesh': {'addresses': ['10.77.0.x']}}, ('host web1: wireguard_host_networks.mesh.addresses', 'not an IP')),
    ('addresses not a list', {'mesh': {'addresses': '10.77.0.5'}}, ('host web1: wireguard_host_networks.mesh.addresses', 'list')),
    ('address outside pool', {'mesh': {'addresses': ['10.78.0.5']}},
     ('host web1: wireguard_host_networks.mesh.addresses: 10.78.0.5 is outside the pool 10.77.0.0/24 of network mesh',)),
    ('address prefix differs', {'mesh': {'addresses': ['10.77.0.5/16']}}, ('host web1: wireguard_host_networks.mesh.addresses', '/16', '/24')),
    ('address bad prefix', {'mesh': {'addresses': ['10.77.0.5/40']}}, ('host web1: wireguard_host_networks.mesh.addresses', 'not an IP')),
    ('network address', {'mesh': {'addresses': ['10.77.0.0']}}, ('host web1: wireguard_host_networks.mesh.addresses', 'network address')),
    ('broadcast address', {'mesh': {'addresses': ['10.77.0.255']}}, ('host web1: wireguard_host_networks.mesh.addresses', 'broadcast')),
    ('two IPv4 addresses', {'mesh': {'addresses': ['10.77.0.5', '10.77.0.6']}}, ('host web1: wireguard_host_networks.mesh.addresses', 'two IPv4')),
    ('IPv6 without IPv6 pool', {'mesh': {'addresses': ['fd77::5']}}, ('host web1: wireguard_host_networks.mesh.addresses', 'no IPv6 pool')),
    ('routed garbage', {'mesh': {'routed_networks': ['192.168.1.0/33']}}, ('host web1: wireguard_host_networks.mesh.routed_networks',)),
    ('routed host bits', {'mesh': {'routed_networks': ['192.168.1.1/24']}}, ('host web1: wireguard_host_networks.mesh.routed_networks', 'host bits')),
    ('routed no prefix', {'mesh': {'routed_networks': ['192.168.1.1']}}, ('host web1: wireguard_host_networks.mesh.routed_networks',)),
    ('routed overlaps pool', {'mesh': {'routed_networks': ['10.77.0.128/25']}},
     ('host web1: wireguard_host_networks.mesh.routed_networks', 'overlaps the pool 10.77.0.0/24')),
    ('routed contains pool', {'mesh': {'routed_networks': ['10.0.0.0/8']}}, ('host web1: wireguard_host_networks.mesh.routed_networks', 'overlaps')),
    ('listen_port override', {'mesh': {'listen_port': 70000}}, ('host web1: wireguard_host_networks.mesh.listen_port',)),
    ('endpoint override with port', {'mesh': {'endpoint': 'vpn.example.net:51820'}}, ('host web1: wireguard_host_networks.mesh.endpoint', 'port')),
]


@pytest.mark.parametrize('host_networks, fragments', [case[1:] for case in HOST_CASES], ids=[case[0] for case in HOST_CASES])
def test_validate_host_networks(host_networks, fragments):
    networks, groups, inventory = mesh_config()
    inventory['web1']['networks'] = host_networks
    errors = validate(networks, groups, inventory)
    assert_error(errors, *fragments)
    assert not [error for error in errors if 'host web2' in error]


def test_duplicate_explicit_addresses_name_both_hosts():
    networks, groups, inventory = mesh_config()
    inventory['web1']['networks'] = {'mesh': {'addresses': ['10.77.0.5']}}
    inventory['web2']['networks'] = {'mesh': {'addresses': ['10.77.0.5/24']}}
    assert_error(validate(networks, groups, inventory), 'host web2', 'wireguard_host_networks.mesh.addresses', '10.77.0.5', 'host web1')


def test_duplicate_address_host_and_road_warrior():
    networks, groups, inventory = mesh_config()
    networks[0].update(hubs_group='mesh', road_warriors=[{'name': 'laptop', 'addresses': ['10.77.0.5']}])
    inventory['web1']['networks'] = {'mesh': {'addresses': ['10.77.0.5']}}
    assert_error(validate(networks, groups, inventory), 'network mesh', 'wireguard_networks[0].road_warriors[0]', 'laptop', 'addresses',
                 '10.77.0.5', 'host web1')


def test_duplicate_address_between_road_warriors():
    networks, groups, inventory = mesh_config()
    networks[0].update(hubs_group='mesh', road_warriors=[{'name': 'a', 'addresses': ['10.77.0.5']}, {'name': 'b', 'addresses': ['10.77.0.5']}])
    assert_error(validate(networks, groups, inventory), 'road warrior b', 'addresses', '10.77.0.5', 'road warrior a')


def test_same_routed_network_behind_two_hosts():
    networks, groups, inventory = mesh_config()
    inventory['web1']['networks'] = {'mesh': {'routed_networks': ['192.168.1.0/24']}}
    inventory['web2']['networks'] = {'mesh': {'routed_networks': ['192.168.1.0/24']}}
    assert_error(validate(networks, groups, inventory), 'host web2', 'wireguard_host_networks.mesh.routed_networks', '192.168.1.0/24', 'web1')


def test_settings_of_non_member_are_checked_for_syntax_only():
    networks, groups, inventory = mesh_config()
    inventory.update(inventory_for(['outsider']))
    inventory['outsider']['networks'] = {'mesh': {'addresses': ['10.77.0.5']}}
    inventory['web1']['networks'] = {'mesh': {'addresses': ['10.77.0.5']}}
    assert validate(networks, groups, inventory) == []
    inventory['outsider']['networks'] = {'mesh': {'addresses': ['10.78.0.5']}}
    assert_error(validate(networks, groups, inventory), 'host outsider', 'wireguard_host_networks.mesh.addresses', 'outside the pool')


def test_hub_without_endpoint():
    networks, groups, inventory = hub_config()
    inventory['hub1']['endpoint'] = None
    errors = validate(networks, groups, inventory)
    assert_error(errors, 'host hub1', 'wireguard_endpoint', 'hub')
    inventory['hub1']['endpoint'] = ''
    assert_error(validate(networks, groups, inventory), 'host hub1', 'wireguard_endpoint', 'hub')


def test_hub_with_only_a_per_network_endpoint_is_fine():
    networks, groups, inventory = hub_config()
    inventory['hub1']['endpoint'] = None
    inventory['hub1']['networks'] = {'office': {'endpoint': 'vpn.example.net'}}
    assert validate(networks, groups, inventory) == []


def test_spokes_need_no_endpoint():
    networks, groups, inventory = hub_config()
    for spoke in ('s1', 's2', 's3'):
        inventory[spoke]['endpoint'] = None
    assert validate(networks, groups, inventory) == []


def test_mesh_member_without_endpoint():
    networks, groups, inventory = mesh_config()
    inventory['db2']['endpoint'] = None
    assert_error(validate(networks, groups, inventory), 'host db2', 'wireguard_endpoint', 'mesh')


def test_mesh_member_missing_from_inventory_data_has_no_endpoint():
    networks, groups, inventory = mesh_config()
    del inventory['db2']
    assert_error(validate(networks, groups, inventory), 'host db2', 'wireguard_endpoint')


@pytest.mark.parametrize('endpoint', ['vpn.example.net', 'vpn', 'vpn.example.net.', '192.0.2.1', '2001:db8::1', '[2001:db8::1]', 'my_host-1.lan'])
def test_valid_endpoints(endpoint):
    assert endpoint_problem(endpoint) is None
    networks, groups, inventory = mesh_config()
    inventory['web1']['endpoint'] = endpoint
    assert validate(networks, groups, inventory) == []


@pytest.mark.parametrize('endpoint, word', [
    ('vpn.example.net:51820', 'port'),
    ('192.0.2.1:51820', 'port'),
    ('[2001:db8::1]:51820', 'port'),
    ('vpn example.net', 'whitespace'),
    (' vpn.example.net', 'whitespace'),
    ('vpn..example.net', 'host name'),
    ('-vpn.example.net', 'host name'),
    ('vpn/example', 'host name'),
    ('300.1.2.3', 'IPv4'),
    ('1.2.3', 'IPv4'),
    ('[192.0.2.1]', 'IPv6'),
    ('[2001:db8::1', 'endpoint'),
    ('2001:db8::zz', 'IPv6'),
    (51820, 'string'),
])
def test_invalid_endpoints(endpoint, word):
    networks, groups, inventory = mesh_config()
    inventory['web1']['endpoint'] = endpoint
    assert_error(validate(networks, groups, inventory), 'host web1: wireguard_endpoint', word)


ROAD_WARRIOR_CASES = [
    ('name missing', {'name': None}, ('wireguard_networks[0].road_warriors[0].name', 'required')),
    ('name invalid', {'name': 'my laptop'}, ('wireguard_networks[0].road_warriors[0].name',)),
    ('name clashes with host', {'name': 'web2'}, ('wireguard_networks[0].road_warriors[0]', 'web2', 'inventory host')),
    ('public key short', {'public_key': 'abc='}, ('road warrior laptop', 'public_key')),
    ('public key not base64', {'public_key': '!' * 43 + '='}, ('road warrior laptop', 'public_key')),
    ('public key 33 bytes', {'public_key': base64.b64encode(b'x' * 33).decode() + '='}, ('road warrior laptop', 'public_key')),
    ('public key non canonical', {'public_key': KEY_A[:42] + 'F='}, ('road warrior laptop', 'public_key')),
    ('allowed_ips garbage', {'allowed_ips': ['everything']}, ('road warrior laptop', 'allowed_ips')),
    ('allowed_ips host bits', {'allowed_ips': ['10.77.0.1/24']}, ('road warrior laptop', 'allowed_ips', 'host bits')),
    ('allowed_ips not list', {'allowed_ips': '0.0.0.0/0'}, ('road warrior laptop', 'allowed_ips')),
    ('address outside pool', {'addresses': ['10.99.0.1']}, ('road warrior laptop', 'addresses', 'outside the pool')),
    ('address wrong prefix', {'addresses': ['10.77.0.9/32']}, ('road warrior laptop', 'addresses', '/32')),
    ('dns', {'dns': ['resolver']}, ('road warrior laptop', 'dns')),
    ('keepalive', {'persistent_keepalive': 'often'}, ('road warrior laptop', 'persistent_keepalive')),
    ('unknown key', {'publickey': KEY_A}, ('road warrior laptop', 'publickey', 'unknown key')),
]


@pytest.mark.parametrize('fields, fragments', [case[1:] for case in ROAD_WARRIOR_CASES], ids=[case[0] for case in ROAD_WARRIOR_CASES])
def test_validate_road_warriors(fields, fragments):
    networks, groups, inventory = mesh_config()
    road_warrior = {'name': 'laptop'}
    road_warrior.update(fields)
    if road_warrior['name'] is None:
        del road_warrior['name']
    networks[0].update(hubs_group='mesh', road_warriors=[road_warrior])
    assert_error(validate(networks, groups, inventory), 'network mesh', *fragments)


def test_road_warrior_public_key_is_not_echoed():
    networks, groups, inventory = mesh_config()
    secret_looking = 'PRIVATE-KEY-PASTED-BY-MISTAKE'
    networks[0].update(hubs_group='mesh', road_warriors=[{'name': 'laptop', 'public_key': secret_looking}])
    errors = validate(networks, groups, inventory)
    assert_error(errors, 'road warrior laptop', 'public_key')
    assert secret_looking not in ' '.join(errors)


def test_duplicate_road_warrior_names():
    networks, groups, inventory = mesh_config()
    networks[0].update(hubs_group='mesh', road_warriors=[{'name': 'laptop'}, {'name': 'laptop'}])
    assert_error(validate(networks, groups, inventory), 'network mesh', 'wireguard_networks[0].road_warriors[1]', 'twice')


def test_same_road_warrior_name_in_two_networks_is_fine():
    networks, groups, inventory = mesh_config()
    networks[0].update(hubs_group='mesh', road_warriors=[{'name': 'laptop'}])
    networks.append({'name': 'other', 'interface': 'wg1', 'listen_port': 51821, 'address_pools': ['10.99.0.0/24'], 'members_group': 'mesh',
                     'hubs_group': 'mesh', 'road_warriors': [{'name': 'laptop'}]})
    assert validate(networks, groups, inventory) == []


def test_preshared_keys_without_seed():
    networks, groups, inventory = mesh_config()
    networks[0]['preshared_keys'] = True
    assert_error(validate(networks, groups, inventory), 'all: wireguard_preshared_key_seed', 'mesh')
    assert_error(validate(networks, groups, inventory, ''), 'all: wireguard_preshared_key_seed')
    assert validate(networks, groups, inventory, SEED) == []


def test_short_seed_is_rejected_without_echo():
    networks, groups, inventory = mesh_config()
    networks[0]['preshared_keys'] = True
    errors = validate(networks, groups, inventory, 'hunter2-secret')
    assert_error(errors, 'all: wireguard_preshared_key_seed', '32')
    assert 'hunter2-secret' not in ' '.join(errors)


def test_seed_not_needed_without_preshared_keys():
    networks, groups, inventory = mesh_config()
    assert validate(networks, groups, inventory, 'short') == []


def test_pool_too_small():
    hosts = ['h%d' % number for number in range(7)]
    networks, groups, inventory = mesh_config(hosts)
    networks[0]['address_pools'] = ['10.77.0.0/29']
    assert_error(validate(networks, groups, inventory), 'network mesh', 'wireguard_networks[0].address_pools', '10.77.0.0/29', '6 usable', '7')
    networks[0]['address_pools'] = ['10.77.0.0/28']
    assert validate(networks, groups, inventory) == []


def test_pool_too_small_counts_road_warriors():
    hosts = ['h%d' % number for number in range(5)]
    networks, groups, inventory = mesh_config(hosts)
    networks[0].update(address_pools=['10.77.0.0/29'], hubs_group='mesh', road_warriors=[{'name': 'rw1'}])
    assert validate(networks, groups, inventory) == []
    networks[0]['road_warriors'].append({'name': 'rw2'})
    assert_error(validate(networks, groups, inventory), 'wireguard_networks[0].address_pools', 'too few')


def test_network_entry_not_a_mapping():
    networks, groups, inventory = mesh_config()
    networks.append('mesh2')
    assert_error(validate(networks, groups, inventory), 'all: wireguard_networks[1]', 'mapping')


# ---------------------------------------------------------------------------------------------
# Host settings: imported private keys, the userspace daemon's source
# ---------------------------------------------------------------------------------------------

NOT_A_KEY = 'not-a-key-but-maybe-a-secret'
PRIVATE_KEY_PROBLEM = 'not a WireGuard private key (44 characters of base64, as wg genkey prints)'


def two_network_config():
    networks, groups, inventory = mesh_config()
    networks.append({'name': 'backup', 'interface': 'wg1', 'listen_port': 51821, 'address_pools': ['10.99.0.0/24']})
    groups['backup'] = ['web1']
    return networks, groups, inventory


def test_host_settings_are_checked_only_with_hostvars():
    networks, groups, inventory = mesh_config()
    hostvars = {'web1': {'wireguard_private_keys': {'mesh': NOT_A_KEY}}}
    assert validate(networks, groups, inventory) == []
    assert validate(networks, groups, inventory, hostvars=hostvars) == ['host web1: wireguard_private_keys.mesh: %s' % PRIVATE_KEY_PROBLEM]


@pytest.mark.parametrize('key', [KEY_A, KEY_A + '\n'])
def test_imported_private_keys_of_the_shape_wg_genkey_prints_are_fine(key):
    networks, groups, inventory = two_network_config()
    hostvars = {'web1': {'wireguard_private_keys': {'mesh': key, 'backup': KEY_B}}, 'web2': {'wireguard_private_keys': {}}}
    assert validate(networks, groups, inventory, hostvars=hostvars) == []


@pytest.mark.parametrize('key', [NOT_A_KEY, ' ' + KEY_A, KEY_A + '\n\n', KEY_A[:42] + 'F=', KEY_A[:-1], 12345, None, ['x']])
def test_malformed_imported_private_key_is_refused_without_echo(key):
    networks, groups, inventory = mesh_config()
    errors = validate(networks, groups, inventory, hostvars={'db2': {'wireguard_private_keys': {'mesh': key}}})
    assert errors == ['host db2: wireguard_private_keys.mesh: %s' % PRIVATE_KEY_PROBLEM]
    if isinstance(key, str):
        assert key.strip() not in ' '.join(errors)


def test_private_key_for_a_network_the_host_is_not_in():
    networks, groups, inventory = two_network_config()
    hostvars = {'web2': {'wireguard_private_keys': {'backup': KEY_A, 'nonet': NOT_A_KEY, 'mesh': KEY_B}}}
    errors = validate(networks, groups, inventory, hostvars=hostvars)
    assert errors == ['host web2: wireguard_private_keys.backup: not a network of this host',
                      'host web2: wireguard_private_keys.nonet: not a network of this host']
    for secret in (KEY_A, KEY_B, NOT_A_KEY):
        assert secret not in ' '.join(errors)


def test_private_keys_must_be_a_mapping():
    networks, groups, inventory = mesh_config()
    errors = validate(networks, groups, inventory, hostvars={'web1': {'wireguard_private_keys': [KEY_A]}})
    assert errors == ['host web1: wireguard_private_keys: must be a mapping of network name to private key, got list']
    assert KEY_A not in ' '.join(errors)


def test_settings_of_hosts_outside_every_network_are_not_read():
    networks, groups, inventory = mesh_config()
    groups['others'] = ['outsider']
    hostvars = LazyHostVars({'outsider': {'wireguard_private_keys': undefined_error}, 'web1': {}, 'web2': {}, 'db1': {}, 'db2': {}})
    assert validate(networks, groups, inventory, hostvars=hostvars, undefined=UNDEFINED) == []
    assert 'outsider' not in [host for host, _name in hostvars.names_read()]


def test_userspace_daemon_source_of_every_member(tmp_path):
    daemon = tmp_path / 'wireguard-go'
    daemon.write_text('binary')
    networks, groups, inventory = mesh_config()
    hostvars = {
        'web1': {'wireguard_userspace_source': 'file', 'wireguard_userspace_file': str(daemon)},
        'web2': {'wireguard_userspace_source': 'file', 'wireguard_userspace_file': str(tmp_path / 'missing')},
        'db1': {'wireguard_userspace_source': 'url', 'wireguard_userspace_url': 'https://example.org/wg', 'wireguard_userspace_checksum': 'sha256:1'},
        'db2': {'wireguard_userspace_binary': 'sbin/wireguard-go'},
    }
    assert validate(networks, groups, inventory, hostvars=hostvars) == [
        'host db1: wireguard_userspace_checksum: must be sha256: and 64 hex digits (wireguard_userspace_source: url)',
        'host db2: wireguard_userspace_binary: sbin/wireguard-go is not an absolute path',
        'host web2: wireguard_userspace_file: %s is not a file on the controller (wireguard_userspace_source: file)' % (tmp_path / 'missing'),
    ]


def test_rotate_keys_must_name_members():
    networks, groups, inventory = mesh_config()
    groups['others'] = ['outsider']
    assert validate(networks, groups, inventory, rotate_keys=['web1', 'db2']) == []
    assert validate(networks, groups, inventory, rotate_keys=['web1', 'nosuchhost', 'outsider']) == [
        'all: wireguard_rotate_keys: nosuchhost is not a member of any WireGuard network',
        'all: wireguard_rotate_keys: outsider is not a member of any WireGuard network',
    ]
    assert validate(networks, groups, inventory, rotate_keys='web1') == ['all: wireguard_rotate_keys: must be a list of host names, got str']


def test_one_call_reports_networks_then_keys_then_daemon_sources_then_rotation():
    networks, groups, inventory = mesh_config()
    networks[0]['mtu'] = 100
    hostvars = {'web1': {'wireguard_private_keys': {'mesh': NOT_A_KEY}, 'wireguard_userspace_source': 'url'}}
    errors = validate(networks, groups, inventory, SEED, hostvars, ['nosuchhost'])
    assert [error.split(': ')[1] for error in errors] == ['wireguard_networks[0].mtu', 'wireguard_private_keys.mesh', 'wireguard_userspace_url',
                                                          'wireguard_rotate_keys']
    assert NOT_A_KEY not in ' '.join(errors)


def test_check_functions_take_members_and_settings():
    members = {'mesh': ['a', 'b']}
    settings = {'a': {'wireguard_private_keys': {'mesh': NOT_A_KEY}}, 'b': {'wireguard_private_keys': {}}}
    assert check_host_settings(members, settings) == ['host a: wireguard_private_keys.mesh: %s' % PRIVATE_KEY_PROBLEM]
    assert check_rotate_keys(members, ['b', 'c']) == ['all: wireguard_rotate_keys: c is not a member of any WireGuard network']
