# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Inputs of the WireGuard role for the module_utils tests, and oracles computed independently of the code.

import base64
import copy
import hashlib
import ipaddress

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
