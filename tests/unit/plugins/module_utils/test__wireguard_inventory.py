# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_inventory import (
    decommissioned_hosts,
    host_endpoint,
    host_inventory,
    host_listen_port,
    host_routed_networks,
    host_settings,
    hosts_with_network_settings,
    network_settings,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.hostvars_fakes import UNDEFINED, LazyHostVars, UndefinedValue, undefined_error
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import KEY_A

NETWORKS = [{'name': 'mesh', 'interface': 'wg0', 'address_pools': ['10.77.0.0/24']},
            {'name': 'office', 'interface': 'wg1', 'topology': 'hub_and_spoke', 'hubs_group': 'hubs', 'members_group': 'spokes',
             'address_pools': ['10.88.0.0/24']}]
GROUPS = {'all': ['a', 'b', 'c', 'hub', 's1', 'outsider'], 'mesh': ['c', 'a', 'b'], 'hubs': ['hub'], 'spokes': ['s1', 'a']}
USERSPACE_DEFAULTS = {'wireguard_userspace_source': 'package', 'wireguard_userspace_file': '', 'wireguard_userspace_url': '',
                      'wireguard_userspace_checksum': '', 'wireguard_userspace_binary': ''}


def test_inventory_applies_the_role_defaults():
    hostvars = {
        'a': {'ansible_host': '192.0.2.1', 'wireguard_host_networks': {'mesh': {'addresses': ['10.77.0.5']}}},
        'b': {'ansible_host': '192.0.2.2', 'wireguard_endpoint': 'b.example.net'},
        'c': {},
        'hub': {'wireguard_endpoint': None},
        's1': {'wireguard_endpoint': ''},
        'outsider': {'wireguard_endpoint': 'never.read'},
    }
    inventory = host_inventory(NETWORKS, GROUPS, hostvars)
    assert inventory == {
        'a': {'endpoint': '192.0.2.1', 'networks': {'mesh': {'addresses': ['10.77.0.5']}}},
        'b': {'endpoint': 'b.example.net', 'networks': {}},
        'c': {'endpoint': 'c', 'networks': {}},
        'hub': {'endpoint': None, 'networks': {}},
        's1': {'endpoint': '', 'networks': {}},
    }
    # Members in the order of members_by_network: networks in order, hosts sorted within each.
    assert list(inventory) == ['a', 'b', 'c', 'hub', 's1']


def test_inventory_reads_lazy_hostvars_name_by_name():
    hostvars = LazyHostVars({
        'a': {'ansible_host': lambda: '192.0.2.1', 'wireguard_endpoint': undefined_error, 'secret': undefined_error},
        'b': {'wireguard_endpoint': UndefinedValue, 'ansible_host': UndefinedValue},
        'c': {'wireguard_endpoint': lambda: 'c.example.net', 'wireguard_private_keys': {'mesh': KEY_A}},
        'hub': {}, 's1': {}, 'outsider': {},
    })
    inventory = host_inventory(NETWORKS, GROUPS, hostvars, UNDEFINED)
    assert [inventory[host]['endpoint'] for host in ('a', 'b', 'c')] == ['192.0.2.1', 'b', 'c.example.net']
    assert set(name for _host, name in hostvars.names_read()) == {'ansible_host', 'wireguard_endpoint'}
    assert 'outsider' not in [host for host, _name in hostvars.names_read()]


def test_inventory_holds_no_private_keys():
    hostvars = {'a': {'wireguard_private_keys': {'mesh': KEY_A}}}
    assert KEY_A not in repr(host_inventory(NETWORKS, GROUPS, hostvars))


def test_host_settings_apply_the_role_defaults():
    hostvars = {'a': {'wireguard_private_keys': {'mesh': KEY_A}, 'wireguard_userspace_source': 'file', 'wireguard_userspace_file': '/x'},
                'outsider': {'wireguard_userspace_source': 'url'}}
    settings = host_settings(NETWORKS, GROUPS, hostvars)
    assert sorted(settings) == ['a', 'b', 'c', 'hub', 's1']
    assert settings['a'] == dict(USERSPACE_DEFAULTS, wireguard_private_keys={'mesh': KEY_A}, wireguard_userspace_source='file',
                                 wireguard_userspace_file='/x')
    assert settings['b'] == dict(USERSPACE_DEFAULTS, wireguard_private_keys={})


def test_network_settings_defaults():
    settings = network_settings({'name': 'mesh', 'interface': 'wg0', 'address_pools': ['10.77.0.0/24'], 'road_warriors': [{'name': 'laptop'}]})
    assert (settings['topology'], settings['members_group'], settings['listen_port'], settings['persistent_keepalive']) == ('mesh', 'mesh', 51820, 0)
    assert (settings['dns'], settings['pre_up'], settings['preshared_keys']) == ([], [], False)
    assert settings['road_warriors'] == [{'name': 'laptop', 'addresses': [], 'public_key': None, 'allowed_ips': ['10.77.0.0/24'], 'dns': [],
                                          'persistent_keepalive': 25}]


def test_reading_the_inventory_back():
    inventory = {
        'a': {'endpoint': 'a.example.net', 'networks': {'mesh': {'endpoint': '198.51.100.1', 'listen_port': 40000,
                                                                 'routed_networks': ['192.168.1.7/24']}}},
        'b': {'endpoint': '', 'networks': {'mesh': None}},
        'c': 'junk',
    }
    assert host_endpoint(inventory, 'a', 'mesh') == '198.51.100.1'
    assert host_endpoint(inventory, 'a', 'other') == 'a.example.net'
    assert host_endpoint(inventory, 'b', 'mesh') is None and host_endpoint(inventory, 'c', 'mesh') is None
    assert host_listen_port({'name': 'mesh', 'listen_port': 51821}, inventory, 'a') == 40000
    assert host_listen_port({'name': 'mesh', 'listen_port': 51821}, inventory, 'b') == 51821
    assert host_listen_port({'name': 'mesh'}, inventory, 'b') == 51820
    assert host_routed_networks(inventory, 'a', 'mesh') == ['192.168.1.0/24']
    assert hosts_with_network_settings(inventory, 'mesh') == ['a']


def test_members_set_to_absent_are_decommissioned_and_outsiders_are_not_read():
    hostvars = LazyHostVars({
        'a': {'wireguard_state': lambda: 'absent'}, 'b': {'wireguard_state': lambda: 'present'},
        'c': {'wireguard_state': UndefinedValue}, 'hub': {}, 's1': {'wireguard_state': lambda: 'absent'},
        'outsider': {'wireguard_state': lambda: 'absent'},
    })
    assert decommissioned_hosts(NETWORKS, GROUPS, hostvars, UNDEFINED) == ['a', 's1']
    assert 'outsider' not in [host for host, _name in hostvars.names_read()]
