# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import copy
import hashlib
import hmac
import ipaddress
import random

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import wireguard_network as wg
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_network import (
    allocate_addresses,
    allocation_notes,
    endpoint_problem,
    format_endpoint,
    host_plan,
    is_wireguard_key,
    members_by_network,
    pair_preshared_key,
    plan_allocation_notes,
    road_warrior_configs,
    validate,
)

SEED = 'correct horse battery staple, but longer than 32 chars'
MESH_HOSTS = ['web1', 'web2', 'db1', 'db2']
KEY_A = base64.b64encode(b'\x01' * 32).decode('ascii')
KEY_B = base64.b64encode(b'\x02' * 32).decode('ascii')


def make_key(name):
    return base64.b64encode(hashlib.sha256(name.encode('utf-8')).digest()).decode('ascii')


def mesh_network(**overrides):
    network = {'name': 'mesh', 'interface': 'wg0', 'address_pools': ['10.77.0.0/24']}
    network.update(overrides)
    return network


def inventory_for(hosts, networks=None):
    return dict((host, {'endpoint': '%s.example.net' % host, 'networks': copy.deepcopy(networks or {})}) for host in hosts)


def mesh_config(hosts=None):
    hosts = list(hosts or MESH_HOSTS)
    networks = [mesh_network()]
    groups = {'all': sorted(hosts), 'ungrouped': [], 'mesh': list(hosts)}
    return networks, groups, inventory_for(hosts)


def hub_config(hubs=('hub1',), spokes=('s1', 's2', 's3'), road_warriors=None, **overrides):
    network = {
        'name': 'office', 'interface': 'wg1', 'topology': 'hub_and_spoke', 'members_group': 'spokes',
        'hubs_group': 'hubs', 'address_pools': ['10.88.0.0/24'], 'listen_port': 51821, 'persistent_keepalive': 25,
    }
    if road_warriors is not None:
        network['road_warriors'] = road_warriors
    network.update(overrides)
    hosts = list(hubs) + list(spokes)
    groups = {'all': sorted(hosts), 'hubs': list(hubs), 'spokes': list(spokes)}
    return [network], groups, inventory_for(hosts)


def public_keys_for(hosts, network_names):
    return dict((host, dict((name, make_key(host + name)) for name in network_names)) for host in hosts)


def peers_by_name(interface):
    return dict((peer['name'], peer) for peer in interface['peers'])


def only(plans):
    assert len(plans) == 1
    return plans[0]


def first_choice(network_name, pool, name):
    """The spec's first-choice address, computed independently of the implementation."""
    pool = ipaddress.ip_network(pool)
    size = pool.num_addresses - (2 if pool.version == 4 else 1)
    digest = hashlib.sha256(('%s|%s|%s|0' % (network_name, pool, name)).encode('utf-8')).hexdigest()
    return ipaddress.ip_address(int(pool.network_address) + 1 + int(digest, 16) % size)


def host_routes(addresses):
    result = []
    for address in addresses:
        ip = ipaddress.ip_interface(address).ip
        result.append('%s/%d' % (ip, ip.max_prefixlen))
    return result


def assert_error(errors, *fragments):
    matching = [error for error in errors if all(fragment in error for fragment in fragments)]
    assert matching, 'no error contains %r; errors: %r' % (fragments, errors)
    return matching[0]


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
# Address allocation
# ---------------------------------------------------------------------------------------------

def test_allocation_uses_the_documented_hash_and_pool_prefix():
    networks, groups, inventory = mesh_config()
    addresses = allocate_addresses(networks[0], MESH_HOSTS, inventory)
    assert allocation_notes(networks[0], MESH_HOSTS, inventory) == []  # these names do not collide
    assert sorted(addresses) == sorted(MESH_HOSTS)
    for host in MESH_HOSTS:
        assert addresses[host] == ['%s/24' % first_choice('mesh', '10.77.0.0/24', host)]


def test_allocation_is_deterministic_for_shuffled_input():
    hosts = ['host%02d' % number for number in range(40)]
    network = mesh_network(hubs_group='mesh', road_warriors=[{'name': 'rw%d' % number} for number in range(10)])
    inventory = inventory_for(hosts)
    expected = allocate_addresses(network, hosts, inventory)
    expected_notes = allocation_notes(network, hosts, inventory)
    rng = random.Random(7)
    for _round in range(5):
        shuffled_hosts = list(hosts)
        rng.shuffle(shuffled_hosts)
        shuffled_network = copy.deepcopy(network)
        rng.shuffle(shuffled_network['road_warriors'])
        assert allocate_addresses(shuffled_network, shuffled_hosts, dict(reversed(list(inventory.items())))) == expected
        assert allocation_notes(shuffled_network, shuffled_hosts, inventory) == expected_notes
    all_addresses = [address for values in expected.values() for address in values]
    assert len(set(all_addresses)) == 50


def test_plan_does_not_depend_on_group_order():
    networks, groups, inventory = mesh_config()
    plan = host_plan(networks, groups, inventory, 'web1', {})
    groups['mesh'] = list(reversed(groups['mesh']))
    assert host_plan(networks, groups, inventory, 'web1', {}) == plan


def test_adding_and_removing_a_host_keeps_other_addresses():
    network = mesh_network()
    four = ['web1', 'web2', 'db1', 'db2']
    five = four + ['cache1']
    assert allocation_notes(network, five, inventory_for(five)) == []
    before = allocate_addresses(network, four, inventory_for(four))
    after = allocate_addresses(network, five, inventory_for(five))
    assert set(after) == set(five)
    for host in four:
        assert after[host] == before[host]
    three = ['web1', 'db1', 'db2']
    removed = allocate_addresses(network, three, inventory_for(three))
    for host in three:
        assert removed[host] == before[host]


def _colliding_pair(network_name, pool):
    by_slot = {}
    for number in range(200):
        name = 'h%03d' % number
        by_slot.setdefault(first_choice(network_name, pool, name), []).append(name)
        if len(by_slot[first_choice(network_name, pool, name)]) == 2:
            return by_slot[first_choice(network_name, pool, name)]
    raise AssertionError('no collision found')


def test_collision_in_small_pool_is_resolved_and_reported():
    winner, loser = _colliding_pair('tiny', '10.66.0.0/29')
    network = {'name': 'tiny', 'interface': 'wg5', 'address_pools': ['10.66.0.0/29']}
    members = [loser, winner]
    addresses = allocate_addresses(network, members, inventory_for(members))
    wanted = '%s/29' % first_choice('tiny', '10.66.0.0/29', winner)
    assert addresses[winner] == [wanted]
    assert addresses[loser] != [wanted]
    assert ipaddress.ip_interface(addresses[loser][0]).ip in ipaddress.ip_network('10.66.0.0/29')
    notes = allocation_notes(network, members, inventory_for(members))
    assert len(notes) == 1
    note = notes[0]
    assert (note['name'], note['taken_by'], note['first_choice'], note['address'], note['pool']) == \
        (loser, winner, wanted, addresses[loser][0], '10.66.0.0/29')
    assert note['attempts'] >= 2
    assert loser in note['message'] and winner in note['message']
    # Once the colliding name is gone, the loser moves to its first choice: the move the note warns about.
    assert allocate_addresses(network, [loser], inventory_for([loser]))[loser] == [wanted]


def test_full_small_pool_uses_every_usable_address():
    hosts = ['n%d' % number for number in range(6)]
    network = {'name': 'full', 'interface': 'wg5', 'address_pools': ['10.66.0.0/29']}
    addresses = allocate_addresses(network, hosts, inventory_for(hosts))
    assert sorted(values[0] for values in addresses.values()) == ['10.66.0.%d/29' % last for last in range(1, 7)]


def test_ipv4_network_and_broadcast_addresses_are_never_allocated():
    hosts = ['a', 'b']
    network = {'name': 'p2p', 'interface': 'wg5', 'address_pools': ['10.66.0.0/30']}
    addresses = allocate_addresses(network, hosts, inventory_for(hosts))
    assert sorted(values[0] for values in addresses.values()) == ['10.66.0.1/30', '10.66.0.2/30']
    with pytest.raises(ValueError, match='too few'):
        allocate_addresses(network, ['a', 'b', 'c'], inventory_for(['a', 'b', 'c']))


def test_ipv6_network_address_is_never_allocated():
    hosts = ['a', 'b', 'c']
    network = {'name': 'v6', 'interface': 'wg5', 'address_pools': ['fd00:1::/126']}
    addresses = allocate_addresses(network, hosts, inventory_for(hosts))
    assert sorted(values[0] for values in addresses.values()) == ['fd00:1::1/126', 'fd00:1::2/126', 'fd00:1::3/126']


def test_explicit_addresses_win_and_are_reserved():
    network = mesh_network()
    hosts = ['web1', 'web2', 'db1']
    taken = first_choice('mesh', '10.77.0.0/24', 'web2')
    inventory = inventory_for(hosts)
    inventory['db1']['networks'] = {'mesh': {'addresses': [str(taken)]}}
    addresses = allocate_addresses(network, hosts, inventory)
    assert addresses['db1'] == ['%s/24' % taken]
    assert addresses['web2'] != ['%s/24' % taken]
    notes = allocation_notes(network, hosts, inventory)
    assert [(note['name'], note['taken_by']) for note in notes] == [('web2', 'db1')]


def test_explicit_address_with_prefix_is_normalized():
    hosts = ['web1']
    inventory = inventory_for(hosts)
    inventory['web1']['networks'] = {'mesh': {'addresses': ['10.77.0.9/24']}}
    assert allocate_addresses(mesh_network(), hosts, inventory) == {'web1': ['10.77.0.9/24']}


def test_road_warrior_explicit_address_is_reserved():
    network = mesh_network(hubs_group='mesh', road_warriors=[{'name': 'laptop', 'addresses': ['10.77.0.250']}, {'name': 'phone'}])
    addresses = allocate_addresses(network, ['web1'], inventory_for(['web1']))
    assert addresses['laptop'] == ['10.77.0.250/24']
    assert addresses['phone'] == ['%s/24' % first_choice('mesh', '10.77.0.0/24', 'phone')]
    assert set(addresses) == {'web1', 'laptop', 'phone'}


def test_ipv6_only_allocation():
    hosts = ['web1', 'web2']
    network = mesh_network(address_pools=['fd77:0077::/64'])
    addresses = allocate_addresses(network, hosts, inventory_for(hosts))
    for host in hosts:
        assert addresses[host] == ['%s/64' % first_choice('mesh', 'fd77:77::/64', host)]
        assert ipaddress.ip_interface(addresses[host][0]).network == ipaddress.ip_network('fd77:77::/64')


def test_dual_stack_allocation_follows_pool_order_and_mixes_explicit_and_hashed():
    hosts = ['web1', 'web2']
    inventory = inventory_for(hosts)
    inventory['web1']['networks'] = {'mesh': {'addresses': ['fd77:77::1']}}
    network = mesh_network(address_pools=['10.77.0.0/24', 'fd77:77::/64'])
    addresses = allocate_addresses(network, hosts, inventory)
    assert addresses['web1'] == ['%s/24' % first_choice('mesh', '10.77.0.0/24', 'web1'), 'fd77:77::1/64']
    assert addresses['web2'] == ['%s/24' % first_choice('mesh', '10.77.0.0/24', 'web2'), '%s/64' % first_choice('mesh', 'fd77:77::/64', 'web2')]
    reversed_pools = mesh_network(address_pools=['fd77:77::/64', '10.77.0.0/24'])
    assert allocate_addresses(reversed_pools, hosts, inventory)['web1'] == ['fd77:77::1/64', '%s/24' % first_choice('mesh', '10.77.0.0/24', 'web1')]


def test_allocation_depends_on_network_name():
    hosts = ['web1', 'web2', 'db1']
    a = allocate_addresses(mesh_network(), hosts, inventory_for(hosts))
    b = allocate_addresses(mesh_network(name='other'), hosts, inventory_for(hosts))
    assert a != b


def test_plan_allocation_notes_covers_every_network():
    winner, loser = _colliding_pair('tiny', '10.66.0.0/29')
    networks = [{'name': 'tiny', 'interface': 'wg5', 'address_pools': ['10.66.0.0/29']}]
    groups = {'tiny': [winner, loser]}
    inventory = inventory_for([winner, loser])
    assert [note['name'] for note in plan_allocation_notes(networks, groups, inventory)] == [loser]


# ---------------------------------------------------------------------------------------------
# Mesh plans
# ---------------------------------------------------------------------------------------------

def test_mesh_plan_is_symmetric():
    networks, groups, inventory = mesh_config()
    keys = public_keys_for(MESH_HOSTS, ['mesh'])
    plans = dict((host, only(host_plan(networks, groups, inventory, host, keys))) for host in MESH_HOSTS)
    for host, plan in plans.items():
        assert plan['role'] == 'member'
        assert plan['forwarding'] is False
        assert plan['interface'] == 'wg0'
        assert plan['listen_port'] == 51820
        assert [peer['name'] for peer in plan['peers']] == sorted(other for other in MESH_HOSTS if other != host)
        for peer in plan['peers']:
            other = plans[peer['name']]
            assert host in peers_by_name(other)
            assert peer['allowed_ips'] == host_routes(other['addresses'])
            assert peer['public_key'] == keys[peer['name']]['mesh']
            assert peer['endpoint'] == '%s.example.net:51820' % peer['name']
            assert peer['persistent_keepalive'] == 0
            assert 'preshared_key' not in peer
    all_addresses = [plan['addresses'][0] for plan in plans.values()]
    assert len(set(all_addresses)) == 4


def test_plan_carries_interface_settings():
    networks, groups, inventory = mesh_config()
    networks[0].update(mtu=1420, dns=['10.77.0.1'], table='off', fwmark=7, pre_up=['a'], post_up=['b'], pre_down=['c'], post_down=['d'],
                       persistent_keepalive=25)
    plan = only(host_plan(networks, groups, inventory, 'web1', {}))
    assert (plan['mtu'], plan['dns'], plan['table'], plan['fwmark']) == (1420, ['10.77.0.1'], 'off', 7)
    assert (plan['pre_up'], plan['post_up'], plan['pre_down'], plan['post_down']) == (['a'], ['b'], ['c'], ['d'])
    assert plan['topology'] == 'mesh' and plan['network'] == 'mesh'
    assert set(peer['persistent_keepalive'] for peer in plan['peers']) == {25}


def test_plan_defaults():
    networks, groups, inventory = mesh_config()
    plan = only(host_plan(networks, groups, inventory, 'web1', {}))
    assert (plan['mtu'], plan['dns'], plan['table'], plan['fwmark']) == (None, [], None, None)
    assert (plan['pre_up'], plan['post_up'], plan['pre_down'], plan['post_down']) == ([], [], [], [])
    assert set(plan) == {'network', 'interface', 'topology', 'role', 'addresses', 'listen_port', 'mtu', 'dns', 'table', 'fwmark',
                         'pre_up', 'post_up', 'pre_down', 'post_down', 'forwarding', 'peers'}
    assert set(plan['peers'][0]) == {'name', 'public_key', 'allowed_ips', 'endpoint', 'persistent_keepalive'}


def test_listen_port_and_endpoint_overrides():
    networks, groups, inventory = mesh_config()
    inventory['web2']['networks'] = {'mesh': {'listen_port': 40000, 'endpoint': '198.51.100.7'}}
    assert only(host_plan(networks, groups, inventory, 'web2', {}))['listen_port'] == 40000
    peer = peers_by_name(only(host_plan(networks, groups, inventory, 'web1', {})))['web2']
    assert peer['endpoint'] == '198.51.100.7:40000'


def test_ipv6_endpoints_are_bracketed():
    networks, groups, inventory = mesh_config()
    inventory['web2']['endpoint'] = '2001:db8::2'
    inventory['db1']['endpoint'] = '[2001:db8::3]'
    peers = peers_by_name(only(host_plan(networks, groups, inventory, 'web1', {})))
    assert peers['web2']['endpoint'] == '[2001:db8::2]:51820'
    assert peers['db1']['endpoint'] == '[2001:db8::3]:51820'
    assert peers['db2']['endpoint'] == 'db2.example.net:51820'


def test_routed_networks_are_appended_and_enable_forwarding():
    networks, groups, inventory = mesh_config()
    inventory['db1']['networks'] = {'mesh': {'routed_networks': ['192.168.10.0/24', '2001:db8:10::/48']}}
    db1 = only(host_plan(networks, groups, inventory, 'db1', {}))
    assert db1['forwarding'] is True
    peer = peers_by_name(only(host_plan(networks, groups, inventory, 'web1', {})))['db1']
    assert peer['allowed_ips'] == host_routes(db1['addresses']) + ['192.168.10.0/24', '2001:db8:10::/48']


def test_dual_stack_peer_routes():
    networks, groups, inventory = mesh_config()
    networks[0]['address_pools'] = ['10.77.0.0/24', 'fd77:77::/64']
    web2 = only(host_plan(networks, groups, inventory, 'web2', {}))
    assert [ipaddress.ip_interface(address).version for address in web2['addresses']] == [4, 6]
    peer = peers_by_name(only(host_plan(networks, groups, inventory, 'web1', {})))['web2']
    assert peer['allowed_ips'][0].endswith('/32') and peer['allowed_ips'][1].endswith('/128')
    assert peer['allowed_ips'] == host_routes(web2['addresses'])


def test_host_in_no_network_gets_empty_plan():
    networks, groups, inventory = mesh_config()
    assert host_plan(networks, groups, inventory, 'stranger', {}) == []


def test_interfaces_sorted_by_interface_name():
    networks, groups, inventory = mesh_config()
    networks[0]['interface'] = 'wg1'
    networks.append({'name': 'backup', 'interface': 'wg0', 'listen_port': 51830, 'address_pools': ['10.99.0.0/24'], 'members_group': 'mesh'})
    plans = host_plan(networks, groups, inventory, 'web1', {})
    assert [(plan['interface'], plan['network']) for plan in plans] == [('wg0', 'backup'), ('wg1', 'mesh')]


def test_plan_rejects_invalid_input_without_leaking_the_seed():
    networks, groups, inventory = mesh_config()
    networks[0]['preshared_keys'] = True
    with pytest.raises(ValueError) as caught:
        host_plan(networks, groups, inventory, 'web1', {}, preshared_key_seed='tooshort-secret')
    assert 'wireguard_preshared_key_seed' in str(caught.value)
    assert 'tooshort-secret' not in str(caught.value)


def test_plan_does_not_depend_on_which_hosts_have_public_keys():
    networks, groups, inventory = mesh_config()
    networks[0]['preshared_keys'] = True
    all_keys = public_keys_for(MESH_HOSTS, ['mesh'])
    full = host_plan(networks, groups, inventory, 'web1', all_keys, SEED)
    play_subset = dict((host, all_keys[host]) for host in ['web1', 'db2'])
    partial = host_plan(networks, groups, inventory, 'web1', play_subset, SEED)
    assert [peer['public_key'] for peer in partial[0]['peers']] == [None, all_keys['db2']['mesh'], None]
    for plan in (full, partial):
        for peer in plan[0]['peers']:
            peer['public_key'] = None
    assert partial == full


# ---------------------------------------------------------------------------------------------
# Hub and spoke
# ---------------------------------------------------------------------------------------------

def test_hub_and_spoke_single_hub():
    networks, groups, inventory = hub_config()
    inventory['s2']['networks'] = {'office': {'routed_networks': ['192.168.2.0/24']}}
    inventory['s3']['networks'] = {'office': {'routed_networks': ['192.168.3.0/24']}}
    plans = dict((host, only(host_plan(networks, groups, inventory, host, {}))) for host in ['hub1', 's1', 's2', 's3'])
    hub = plans['hub1']
    assert hub['role'] == 'hub' and hub['forwarding'] is True and hub['listen_port'] == 51821
    assert [peer['name'] for peer in hub['peers']] == ['s1', 's2', 's3']
    assert peers_by_name(hub)['s2']['allowed_ips'] == host_routes(plans['s2']['addresses']) + ['192.168.2.0/24']
    assert peers_by_name(hub)['s1']['allowed_ips'] == host_routes(plans['s1']['addresses'])
    s1 = plans['s1']
    assert s1['role'] == 'spoke' and s1['forwarding'] is False
    assert [peer['name'] for peer in s1['peers']] == ['hub1']
    assert s1['peers'][0]['allowed_ips'] == host_routes(hub['addresses']) + ['10.88.0.0/24', '192.168.2.0/24', '192.168.3.0/24']
    assert s1['peers'][0]['endpoint'] == 'hub1.example.net:51821'
    assert s1['peers'][0]['persistent_keepalive'] == 25
    s2_hub = only(plans['s2']['peers'])
    assert s2_hub['allowed_ips'] == host_routes(hub['addresses']) + ['10.88.0.0/24', '192.168.3.0/24']
    assert plans['s2']['forwarding'] is True


def test_hub_and_spoke_two_hubs():
    networks, groups, inventory = hub_config(hubs=('hub2', 'hub1'))
    inventory['hub2']['networks'] = {'office': {'routed_networks': ['172.16.2.0/24']}}
    plans = dict((host, only(host_plan(networks, groups, inventory, host, {}))) for host in ['hub1', 'hub2', 's1', 's2', 's3'])
    for hub in ('hub1', 'hub2'):
        assert plans[hub]['role'] == 'hub' and plans[hub]['forwarding'] is True
        assert [peer['name'] for peer in plans[hub]['peers']] == sorted({'hub1', 'hub2', 's1', 's2', 's3'} - {hub})
    assert peers_by_name(plans['hub1'])['hub2']['allowed_ips'] == host_routes(plans['hub2']['addresses']) + ['172.16.2.0/24']
    spoke_peers = peers_by_name(plans['s1'])
    assert sorted(spoke_peers) == ['hub1', 'hub2']
    assert spoke_peers['hub1']['allowed_ips'] == host_routes(plans['hub1']['addresses']) + ['10.88.0.0/24']
    assert spoke_peers['hub2']['allowed_ips'] == host_routes(plans['hub2']['addresses']) + ['172.16.2.0/24']
    assert spoke_peers['hub2']['endpoint'] == 'hub2.example.net:51821'


def test_hub_and_spoke_spoke_endpoints_reach_hubs_when_set():
    networks, groups, inventory = hub_config()
    inventory['s1']['endpoint'] = None
    hub = only(host_plan(networks, groups, inventory, 'hub1', {}))
    assert peers_by_name(hub)['s1']['endpoint'] is None
    assert peers_by_name(hub)['s2']['endpoint'] == 's2.example.net:51821'


def test_hubs_are_members_even_outside_members_group():
    networks, groups, inventory = hub_config()
    assert 'hub1' not in groups['spokes']
    assert members_by_network(networks, groups) == {'office': ['hub1', 's1', 's2', 's3']}


# ---------------------------------------------------------------------------------------------
# Road warriors
# ---------------------------------------------------------------------------------------------

def test_road_warriors_in_hub_and_spoke():
    road_warriors = [{'name': 'phone', 'public_key': KEY_A},
                     {'name': 'laptop', 'allowed_ips': ['0.0.0.0/0'], 'dns': ['10.88.0.1'], 'persistent_keepalive': 10}]
    networks, groups, inventory = hub_config(hubs=('hub1', 'hub2'), road_warriors=road_warriors, mtu=1380)
    rw_keys = {'office': {'laptop': KEY_B}}
    keys = public_keys_for(['hub1', 'hub2', 's1', 's2', 's3'], ['office'])
    hub1 = only(host_plan(networks, groups, inventory, 'hub1', keys, None, rw_keys))
    hub2 = only(host_plan(networks, groups, inventory, 'hub2', keys, None, rw_keys))
    spoke = only(host_plan(networks, groups, inventory, 's1', keys, None, rw_keys))
    configs = road_warrior_configs(networks, groups, inventory, keys, None, rw_keys)
    assert [(config['network'], config['name']) for config in configs] == [('office', 'laptop'), ('office', 'phone')]
    by_name = dict((config['name'], config) for config in configs)
    for hub in (hub1, hub2):
        peers = peers_by_name(hub)
        assert peers['laptop'] == {'name': 'laptop', 'public_key': KEY_B, 'allowed_ips': host_routes(by_name['laptop']['addresses']),
                                   'endpoint': None, 'persistent_keepalive': 0}
        assert peers['phone']['public_key'] == KEY_A
        assert peers['phone']['allowed_ips'] == host_routes(by_name['phone']['addresses'])
    assert sorted(peers_by_name(spoke)) == ['hub1', 'hub2']
    laptop = by_name['laptop']
    assert laptop['dns'] == ['10.88.0.1'] and laptop['mtu'] == 1380
    assert laptop['addresses'][0].endswith('/24')
    assert [peer['name'] for peer in laptop['peers']] == ['hub1', 'hub2']
    primary, secondary = laptop['peers']
    assert primary == {'name': 'hub1', 'public_key': keys['hub1']['office'], 'endpoint': 'hub1.example.net:51821',
                       'allowed_ips': ['0.0.0.0/0'], 'persistent_keepalive': 10}
    assert secondary['allowed_ips'] == host_routes(hub2['addresses'])
    assert by_name['phone']['peers'][0]['allowed_ips'] == ['10.88.0.0/24']
    assert by_name['phone']['peers'][0]['persistent_keepalive'] == 25
    assert by_name['phone']['dns'] == []


def test_road_warriors_in_mesh_route_through_primary_hub():
    networks, groups, inventory = mesh_config()
    groups['hubs'] = ['web2', 'web1']
    networks[0].update(hubs_group='hubs', road_warriors=[{'name': 'laptop'}, {'name': 'phone'}])
    plans = dict((host, only(host_plan(networks, groups, inventory, host, {}))) for host in MESH_HOSTS)
    rw = dict((config['name'], config) for config in road_warrior_configs(networks, groups, inventory, {}))
    rw_routes = host_routes(rw['laptop']['addresses']) + host_routes(rw['phone']['addresses'])
    for host in ('db1', 'db2'):
        peers = peers_by_name(plans[host])
        assert plans[host]['role'] == 'member' and plans[host]['forwarding'] is False
        assert sorted(peers) == sorted(set(MESH_HOSTS) - {host})
        assert peers['web1']['allowed_ips'] == host_routes(plans['web1']['addresses']) + rw_routes
        assert peers['web2']['allowed_ips'] == host_routes(plans['web2']['addresses'])
    web2_peers = peers_by_name(plans['web2'])
    assert web2_peers['web1']['allowed_ips'] == host_routes(plans['web1']['addresses'])
    for hub in ('web1', 'web2'):
        assert plans[hub]['role'] == 'hub' and plans[hub]['forwarding'] is True
        peers = peers_by_name(plans[hub])
        assert peers['laptop']['allowed_ips'] == host_routes(rw['laptop']['addresses'])
        assert peers['laptop']['endpoint'] is None and peers['laptop']['persistent_keepalive'] == 0
        assert peers['laptop']['public_key'] is None
    assert [peer['name'] for peer in rw['laptop']['peers']] == ['web1', 'web2']
    assert rw['laptop']['peers'][0]['allowed_ips'] == ['10.77.0.0/24']
    assert rw['laptop']['peers'][1]['allowed_ips'] == host_routes(plans['web2']['addresses'])


def test_mesh_with_hubs_but_no_road_warriors_needs_no_forwarding():
    networks, groups, inventory = mesh_config()
    networks[0]['hubs_group'] = 'hubs'
    groups['hubs'] = ['web1']
    web1 = only(host_plan(networks, groups, inventory, 'web1', {}))
    assert web1['role'] == 'hub' and web1['forwarding'] is False
    db1 = peers_by_name(only(host_plan(networks, groups, inventory, 'db1', {})))
    assert db1['web1']['allowed_ips'] == host_routes(web1['addresses'])


def test_road_warrior_configs_empty_without_road_warriors():
    networks, groups, inventory = mesh_config()
    assert road_warrior_configs(networks, groups, inventory, {}) == []


# ---------------------------------------------------------------------------------------------
# Preshared keys
# ---------------------------------------------------------------------------------------------

def test_pair_preshared_key_matches_the_spec():
    expected = base64.b64encode(hmac.new(SEED.encode(), b'overlaynet.vpn wireguard psk|mesh|db1|web1', hashlib.sha256).digest()).decode()
    assert pair_preshared_key(SEED, 'mesh', 'web1', 'db1') == expected
    assert pair_preshared_key(SEED, 'mesh', 'db1', 'web1') == expected
    assert is_wireguard_key(expected)
    assert pair_preshared_key(SEED, 'other', 'web1', 'db1') != expected
    assert pair_preshared_key(SEED + 'x', 'mesh', 'web1', 'db1') != expected
    with pytest.raises(ValueError):
        pair_preshared_key(None, 'mesh', 'a', 'b')
    with pytest.raises(ValueError):
        pair_preshared_key(SEED, 'mesh', 'a', 'a')


def test_preshared_keys_identical_on_both_ends_and_unique_per_pair():
    networks, groups, inventory = mesh_config()
    networks[0]['preshared_keys'] = True
    plans = dict((host, only(host_plan(networks, groups, inventory, host, {}, SEED))) for host in MESH_HOSTS)
    seen = {}
    for host, plan in plans.items():
        for peer in plan['peers']:
            other_end = peers_by_name(plans[peer['name']])[host]
            assert peer['preshared_key'] == other_end['preshared_key']
            assert peer['preshared_key'] == pair_preshared_key(SEED, 'mesh', host, peer['name'])
            seen[frozenset((host, peer['name']))] = peer['preshared_key']
    assert len(seen) == 6
    assert len(set(seen.values())) == 6


def test_preshared_keys_only_when_enabled():
    networks, groups, inventory = mesh_config()
    for host in MESH_HOSTS:
        for peer in only(host_plan(networks, groups, inventory, host, {}, SEED))['peers']:
            assert 'preshared_key' not in peer


def test_preshared_keys_of_road_warriors_match_the_hubs():
    networks, groups, inventory = hub_config(hubs=('hub1', 'hub2'), road_warriors=[{'name': 'laptop'}], preshared_keys=True)
    configs = road_warrior_configs(networks, groups, inventory, {}, SEED)
    laptop = only(configs)
    for hub_peer in laptop['peers']:
        hub_plan = only(host_plan(networks, groups, inventory, hub_peer['name'], {}, SEED))
        assert peers_by_name(hub_plan)['laptop']['preshared_key'] == hub_peer['preshared_key']
    assert laptop['peers'][0]['preshared_key'] != laptop['peers'][1]['preshared_key']
    spoke = only(host_plan(networks, groups, inventory, 's1', {}, SEED))
    assert all('laptop' != peer['name'] for peer in spoke['peers'])
    keys_seen_by_spoke = set(peer['preshared_key'] for peer in spoke['peers'])
    assert not keys_seen_by_spoke & set(peer['preshared_key'] for peer in laptop['peers'])


def test_road_warrior_configs_without_preshared_keys():
    networks, groups, inventory = hub_config(road_warriors=[{'name': 'laptop'}])
    assert 'preshared_key' not in only(road_warrior_configs(networks, groups, inventory, {}))['peers'][0]


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('host, port, expected', [
    ('vpn.example.net', 51820, 'vpn.example.net:51820'),
    ('192.0.2.1', 1, '192.0.2.1:1'),
    ('2001:db8::1', 51820, '[2001:db8::1]:51820'),
    ('[2001:db8::1]', 51820, '[2001:db8::1]:51820'),
    (None, 51820, None),
    ('', 51820, None),
])
def test_format_endpoint(host, port, expected):
    assert format_endpoint(host, port) == expected


def test_format_endpoint_rejects_bad_port():
    with pytest.raises(ValueError):
        format_endpoint('vpn', 0)
    with pytest.raises(ValueError):
        format_endpoint('vpn', '51820')


def test_is_wireguard_key():
    assert is_wireguard_key(KEY_A)
    assert not is_wireguard_key(KEY_A[:-1])
    assert not is_wireguard_key(None)
    assert not is_wireguard_key(base64.b64encode(b'x' * 31).decode() + '==')


def test_members_by_network_tolerates_invalid_entries():
    networks = [{'name': 'a'}, 'junk', {'interface': 'wg0'}, {'name': 'b', 'members_group': ['x'], 'hubs_group': 'h'}]
    groups = {'a': ['z', 'y'], 'h': ['hub']}
    assert members_by_network(networks, groups) == {'a': ['y', 'z'], 'b': ['hub']}
    assert members_by_network(None, groups) == {}


def test_module_has_no_private_key_handling():
    assert not [name for name in dir(wg) if 'private' in name.lower()]
