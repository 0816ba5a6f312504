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

from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_plan as plan_module
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import (
    allocate_addresses,
    allocation_notes,
    host_forwarding,
    host_plan,
    members_forwarding,
    host_preshared_keys,
    pair_preshared_key,
    peers_record,
    plan_allocation_notes,
    road_warrior_configs,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import is_wireguard_key
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import (
    KEY_A,
    KEY_B,
    MESH_HOSTS,
    SEED,
    first_choice,
    host_routes,
    hub_config,
    inventory_for,
    mesh_config,
    mesh_network,
    only,
    peers_by_name,
    public_keys_for,
)


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
    assert set(plan['peers'][0]) == {'name', 'managed', 'addresses', 'public_key', 'allowed_ips', 'endpoint', 'persistent_keepalive'}


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
        assert peers['laptop'] == {'name': 'laptop', 'managed': False, 'addresses': [by_name['laptop']['addresses'][0].split('/')[0]],
                                   'public_key': KEY_B, 'allowed_ips': host_routes(by_name['laptop']['addresses']),
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


def test_module_has_no_private_key_handling():
    assert not [name for name in dir(plan_module) if 'private' in name.lower()]


def test_forwarding_follows_the_families_of_forwarding_interfaces_and_names_hub_interfaces():
    networks, groups, inventory = hub_config(hubs=('hub1',))
    assert host_forwarding(networks, groups, inventory, 'hub1') == {'families': ['ipv4'], 'no_redirect_interfaces': ['wg1']}
    assert host_forwarding(networks, groups, inventory, 's1') == {'families': [], 'no_redirect_interfaces': []}
    networks[0]['address_pools'] = ['10.88.0.0/24', 'fd88::/64']
    assert host_forwarding(networks, groups, inventory, 'hub1')['families'] == ['ipv4', 'ipv6']


def test_a_spoke_routing_a_lan_forwards_but_is_no_hub():
    networks, groups, inventory = hub_config(hubs=('hub1',))
    inventory['s1']['networks'] = {'office': {'routed_networks': ['fd99::/64']}}
    assert host_forwarding(networks, groups, inventory, 's1') == {'families': ['ipv4', 'ipv6'], 'no_redirect_interfaces': []}


def test_preshared_keys_come_apart_from_the_plan():
    networks, groups, inventory = hub_config(hubs=('hub1',), road_warriors=[{'name': 'laptop', 'public_key': KEY_A}], preshared_keys=True)
    keys = public_keys_for(['hub1', 's1', 's2'], ['office'])  # s3 has no key yet
    plan = only(host_plan(networks, groups, inventory, 'hub1', keys))
    assert all('preshared_key' not in peer for peer in plan['peers'])
    psks = only(host_preshared_keys(networks, groups, inventory, 'hub1', keys, SEED))
    assert psks['interface'] == 'wg1'
    assert psks['peers'] == [{'public_key': KEY_A, 'preshared_key': pair_preshared_key(SEED, 'office', 'hub1', 'laptop')}] + [
        {'public_key': keys[spoke]['office'], 'preshared_key': pair_preshared_key(SEED, 'office', 'hub1', spoke)} for spoke in ('s1', 's2')]
    networks[0]['preshared_keys'] = False
    assert host_preshared_keys(networks, groups, inventory, 'hub1', keys, SEED) == [{'interface': 'wg1', 'peers': []}]


def test_peers_record_lists_managed_peers_as_must_answer_and_road_warriors_as_optional():
    networks, groups, inventory = hub_config(hubs=('hub1',), road_warriors=[{'name': 'laptop', 'public_key': KEY_A}])
    keys = public_keys_for(['hub1', 's1', 's2', 's3'], ['office'])
    plans = host_plan(networks, groups, inventory, 'hub1', keys)
    record = peers_record(plans)
    assert record['system'] == 'wireguard'
    by_peer = dict((peer['peer'], peer) for peer in record['peers'])
    assert sorted(by_peer) == ['laptop', 's1', 's2', 's3']
    assert by_peer['s1'] == {'system': 'wireguard', 'network': 'office', 'interface': 'wg1', 'peer': 's1', 'managed': True,
                             'addresses': peers_by_name(only(plans))['s1']['addresses'], 'must_answer': True,
                             'extras': {'wireguard_public_key': keys['s1']['office']}}
    assert '/' not in by_peer['s1']['addresses'][0]
    assert by_peer['laptop']['must_answer'] is False and by_peer['laptop']['managed'] is False


def test_preshared_keys_of_road_warriors_keyed_on_the_controller_reach_the_hub():
    networks, groups, inventory = hub_config(hubs=('hub1',), road_warriors=[{'name': 'laptop'}], preshared_keys=True)
    keys = public_keys_for(['hub1', 's1', 's2', 's3'], ['office'])
    psks = only(host_preshared_keys(networks, groups, inventory, 'hub1', keys, SEED, {'office': {'laptop': KEY_B}}))
    assert {'public_key': KEY_B, 'preshared_key': pair_preshared_key(SEED, 'office', 'hub1', 'laptop')} in psks['peers']


def test_forwarding_of_every_member_at_once_matches_each_host():
    networks, groups, inventory = hub_config(hubs=('hub1',))
    every = members_forwarding(networks, groups, inventory)
    assert sorted(every) == ['hub1', 's1', 's2', 's3']
    for host, forwarding in every.items():
        assert forwarding == host_forwarding(networks, groups, inventory, host)
