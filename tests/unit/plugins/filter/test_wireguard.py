# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.overlaynet.vpn.plugins.filter.wireguard import FilterModule
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import host_plan, plan_allocation_notes, road_warrior_configs
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_validate import validate

SEED = 'x' * 40
NETWORKS = [{
    'name': 'office', 'interface': 'wg1', 'topology': 'hub_and_spoke', 'hubs_group': 'hubs', 'members_group': 'spokes',
    'address_pools': ['10.88.0.0/24', 'fd88::/64'], 'preshared_keys': True, 'road_warriors': [{'name': 'laptop'}],
}]
GROUPS = {'all': ['hub1', 's1', 's2'], 'hubs': ['hub1'], 'spokes': ['s1', 's2']}
INVENTORY = {
    'hub1': {'endpoint': '2001:db8::1', 'networks': {}},
    's1': {'endpoint': None, 'networks': {'office': {'addresses': ['10.88.0.10']}}},
    's2': {'endpoint': 's2.example.net', 'networks': {}},
}
PUBLIC_KEYS = {'hub1': {'office': 'A' * 43 + '='}}


@pytest.fixture
def filters():
    return FilterModule().filters()


def test_filter_names(filters):
    assert sorted(filters) == ['wireguard_active_groups', 'wireguard_allocation_notes', 'wireguard_endpoint', 'wireguard_forwarding',
                               'wireguard_inventory', 'wireguard_members', 'wireguard_members_forwarding', 'wireguard_peers_record',
                               'wireguard_plan', 'wireguard_preshared_keys', 'wireguard_psk_files', 'wireguard_psk_files_to_write',
                               'wireguard_road_warriors', 'wireguard_validate']


def test_wireguard_validate_is_wired(filters):
    assert filters['wireguard_validate'](NETWORKS, GROUPS, INVENTORY, SEED) == validate(NETWORKS, GROUPS, INVENTORY, SEED) == []
    errors = filters['wireguard_validate'](NETWORKS, GROUPS, INVENTORY)
    assert errors == validate(NETWORKS, GROUPS, INVENTORY)
    assert any('wireguard_preshared_key_seed' in error for error in errors)


def test_wireguard_plan_is_wired(filters):
    plan = filters['wireguard_plan'](NETWORKS, GROUPS, INVENTORY, 's2', PUBLIC_KEYS, SEED, None)
    assert plan == host_plan(NETWORKS, GROUPS, INVENTORY, 's2', PUBLIC_KEYS, SEED)
    assert plan[0]['peers'][0]['endpoint'] == '[2001:db8::1]:51820'
    assert plan[0]['peers'][0]['public_key'] == PUBLIC_KEYS['hub1']['office']


def test_wireguard_plan_turns_invalid_input_into_filter_error(filters):
    with pytest.raises(AnsibleFilterError, match='wireguard_preshared_key_seed'):
        filters['wireguard_plan'](NETWORKS, GROUPS, INVENTORY, 's2', PUBLIC_KEYS, 'too-short-a-seed')


def test_the_plan_without_a_seed_holds_no_preshared_key_and_the_keys_come_apart(filters):
    plan = filters['wireguard_plan'](NETWORKS, GROUPS, INVENTORY, 's2', PUBLIC_KEYS)
    assert all('preshared_key' not in peer for interface in plan for peer in interface['peers'])
    keys = filters['wireguard_preshared_keys'](NETWORKS, GROUPS, INVENTORY, 's2', PUBLIC_KEYS, SEED)
    with_seed = filters['wireguard_plan'](NETWORKS, GROUPS, INVENTORY, 's2', PUBLIC_KEYS, SEED)
    assert keys == [{'interface': interface['interface'],
                     'peers': [{'public_key': peer['public_key'], 'preshared_key': peer['preshared_key']}
                               for peer in interface['peers'] if peer['public_key']]} for interface in with_seed]
    assert keys[0]['peers'], 'the network has preshared keys'


def test_wireguard_road_warriors_is_wired(filters):
    rw_keys = {'office': {'laptop': 'B' * 43 + '='}}
    configs = filters['wireguard_road_warriors'](NETWORKS, GROUPS, INVENTORY, PUBLIC_KEYS, SEED, rw_keys)
    assert configs == road_warrior_configs(NETWORKS, GROUPS, INVENTORY, PUBLIC_KEYS, SEED, rw_keys)
    assert [config['name'] for config in configs] == ['laptop']
    with pytest.raises(AnsibleFilterError):
        filters['wireguard_road_warriors'](NETWORKS, GROUPS, INVENTORY, PUBLIC_KEYS)


def test_wireguard_members_and_allocation_notes_are_wired(filters):
    assert filters['wireguard_members'](NETWORKS, GROUPS) == {'office': ['hub1', 's1', 's2']}
    assert filters['wireguard_allocation_notes'](NETWORKS, GROUPS, INVENTORY) == plan_allocation_notes(NETWORKS, GROUPS, INVENTORY)
    with pytest.raises(AnsibleFilterError):
        filters['wireguard_allocation_notes'](NETWORKS, {}, INVENTORY)


@pytest.mark.parametrize('host, expected', [('vpn.example.net', 'vpn.example.net:51820'), ('fd00::1', '[fd00::1]:51820'),
                                            ('[fd00::1]', '[fd00::1]:51820'), ('192.0.2.7', '192.0.2.7:51820')])
def test_wireguard_endpoint(filters, host, expected):
    assert filters['wireguard_endpoint'](host, 51820) == expected


def test_wireguard_endpoint_bad_port(filters):
    with pytest.raises(AnsibleFilterError):
        filters['wireguard_endpoint']('vpn.example.net', 70000)


# ---------------------------------------------------------------------------------------------
# wireguard_inventory and the host checks of wireguard_validate, through Ansible's own hostvars
# ---------------------------------------------------------------------------------------------

HOSTVARS_INVENTORY = '''
all:
  vars:
    wireguard_endpoint: "{{ inventory_hostname }}.example.net"
  children:
    office:
      hosts:
        hub1: {wireguard_endpoint: "{{ ansible_host }}", ansible_host: 192.0.2.1}
        s1: {wireguard_endpoint: "{{ no_such_variable }}", ansible_host: 192.0.2.2}
        s2:
          wireguard_endpoint: "{{ no_such_variable }}"
          wireguard_host_networks: {office: {addresses: [10.88.0.10]}}
          wireguard_private_keys: {office: not-a-key-but-maybe-a-secret}
          wireguard_userspace_source: url
          wireguard_userspace_url: "https://example.org/{{ inventory_hostname }}/wireguard-go"
'''


@pytest.fixture
def hostvars(tmp_path):
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    path = tmp_path / 'inventory.yml'
    path.write_text(HOSTVARS_INVENTORY)
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(path)])
    return HostVars(inventory, VariableManager(loader=loader, inventory=inventory), loader)


def test_wireguard_inventory_reads_hostvars_with_the_role_defaults(filters, hostvars):
    networks = [dict(NETWORKS[0], members_group='office', hubs_group=None, topology='mesh', road_warriors=[], preshared_keys=False)]
    groups = {'all': ['hub1', 's1', 's2'], 'office': ['hub1', 's1', 's2']}
    inventory = filters['wireguard_inventory'](networks, groups, hostvars)
    assert inventory == {
        'hub1': {'endpoint': '192.0.2.1', 'networks': {}},
        # A setting that templates to something undefined is unset, as with Jinja's default().
        's1': {'endpoint': '192.0.2.2', 'networks': {}},
        's2': {'endpoint': 's2', 'networks': {'office': {'addresses': ['10.88.0.10']}}},
    }
    errors = filters['wireguard_validate'](networks, groups, inventory, None, hostvars, ['s1', 'laptop'])
    assert errors == [
        'host s2: wireguard_private_keys.office: not a WireGuard private key (44 characters of base64, as wg genkey prints)',
        'host s2: wireguard_userspace_checksum: must be sha256: and 64 hex digits (wireguard_userspace_source: url)',
        'all: wireguard_rotate_keys: laptop is not a member of any WireGuard network',
    ]
    assert 'not-a-key-but-maybe-a-secret' not in ' '.join(errors)


def test_wireguard_inventory_treats_a_jinja_undefined_as_unset(filters):
    # In a template (ansible-core 2.19), reading a hostvars value that templates to something undefined gives a Jinja Undefined.
    from jinja2 import Undefined

    hostvars = {'hub1': {'wireguard_endpoint': Undefined(), 'ansible_host': Undefined()}, 's1': {'wireguard_host_networks': Undefined()}}
    inventory = filters['wireguard_inventory'](NETWORKS, GROUPS, hostvars)
    assert inventory['hub1'] == {'endpoint': 'hub1', 'networks': {}}
    assert inventory['s1'] == {'endpoint': 's1', 'networks': {}}


def test_preshared_key_files_are_written_only_where_they_differ(filters):
    keys = filters['wireguard_preshared_keys'](NETWORKS, GROUPS, INVENTORY, 's2', PUBLIC_KEYS, SEED)
    files = filters['wireguard_psk_files'](keys, '/etc/wireguard')
    assert [entry['path'] for entry in files] == ['/etc/wireguard/%s.psk' % entry['interface'] for entry in keys]
    assert all(entry['mode'] == '0600' for entry in files)
    interface = keys[0]['interface']
    assert filters['wireguard_psk_files_to_write'](keys, {}, '/etc/wireguard') == [interface]
    probed = {files[0]['path']: {'exists': True, 'sha256': hashlib.sha256(files[0]['content'].encode()).hexdigest()}}
    assert filters['wireguard_psk_files_to_write'](keys, probed, '/etc/wireguard') == []
    assert filters['wireguard_psk_files_to_write']([{'interface': 'wg9', 'peers': []}], {}, '/etc/wireguard') == []
