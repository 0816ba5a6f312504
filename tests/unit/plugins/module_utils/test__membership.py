# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import (
    group_hosts,
    member_hosts,
    members_by_network,
    network_hubs,
    network_members,
    without_hosts,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import hub_config


def test_hubs_are_members_even_outside_members_group():
    networks, groups, inventory = hub_config()
    assert 'hub1' not in groups['spokes']
    assert members_by_network(networks, groups) == {'office': ['hub1', 's1', 's2', 's3']}


def test_members_by_network_tolerates_invalid_entries():
    networks = [{'name': 'a'}, 'junk', {'interface': 'wg0'}, {'name': 'b', 'members_group': ['x'], 'hubs_group': 'h'}]
    groups = {'a': ['z', 'y'], 'h': ['hub']}
    assert members_by_network(networks, groups) == {'a': ['y', 'z'], 'b': ['hub']}
    assert members_by_network(None, groups) == {}


def test_group_hosts_ignores_what_is_not_a_host_list():
    groups = {'g': ['a', 1, None, 'b'], 'scalar': 'a', 'none': None}
    assert group_hosts(groups, 'g') == ['a', 'b']
    for name in ('scalar', 'none', 'missing', '', None, ['g']):
        assert group_hosts(groups, name) == []
    assert group_hosts(None, 'g') == []


def test_members_default_to_the_group_named_like_the_network():
    groups = {'mesh': ['b', 'a'], 'hubs': ['h', 'a']}
    assert network_members({'name': 'mesh'}, groups) == ['a', 'b']
    assert network_members({'name': 'other', 'members_group': 'mesh'}, groups) == ['a', 'b']
    assert network_members({'name': 'mesh', 'members_group': None, 'hubs_group': 'hubs'}, groups) == ['a', 'b', 'h']
    assert network_hubs({'name': 'mesh', 'hubs_group': 'hubs'}, groups) == ['a', 'h']
    assert network_hubs({'name': 'mesh'}, groups) == []


def test_membership_never_comes_from_play_hosts():
    # Only groups count: a host that is not in any group of the network is no member, whatever else is passed.
    groups = {'all': ['a', 'b', 'c'], 'mesh': ['a', 'b'], 'ungrouped': ['c']}
    assert members_by_network([{'name': 'mesh'}], groups) == {'mesh': ['a', 'b']}


def test_member_hosts_once_each_in_network_order():
    members = {'z': ['b', 'c'], 'a': ['a', 'b'], 'empty': []}
    assert member_hosts(members) == ['b', 'c', 'a']
    assert member_hosts({}) == []


def test_hosts_leaving_are_taken_out_of_every_group():
    groups = {'all': ['a', 'b', 'c'], 'mesh': ['a', 'b'], 'hubs': ['b'], 'empty': []}
    assert without_hosts(groups, ['b']) == {'all': ['a', 'c'], 'mesh': ['a'], 'hubs': [], 'empty': []}
    assert groups['mesh'] == ['a', 'b'], 'the input must not change'
