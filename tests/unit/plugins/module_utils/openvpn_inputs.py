# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Inputs of the OpenVPN roles for the module_utils and filter tests: hostvars as Ansible shows
# them (no role defaults) and groups.

PASSWORDS = {'site1': 'pw-site1-Xq7!', 'site2': 'pw-site2-Zr9?'}


def base_inventory():
    """A valid inventory: server vpn1 with instance main (password_auth, an IPv6 pool, a laptop, a revoked phone)
    and instance lab; clients site1 (fixed address, routed network) and site2 on main, site3 on lab."""
    hostvars = {
        'vpn1': {
            'ansible_host': 'vpn1.example.org',
            'openvpn_server_instances': [
                {'name': 'main', 'ipv4_pool': '10.8.0.0/24', 'ipv6_pool': 'fd08::/64', 'push_routes': ['192.168.50.0/24'],
                 'dns_servers': ['10.8.0.1'], 'search_domains': ['corp.example.org'], 'password_auth': True,
                 'unmanaged_clients': ['laptop-alice'], 'revoked_clients': ['old-phone']},
                {'name': 'lab', 'proto': 'tcp', 'port': 443, 'ipv4_pool': '10.9.0.0/24', 'masquerade': False, 'tls_crypt': 'v1'},
            ],
            'openvpn_server_users': dict(PASSWORDS),
        },
        'site1': {'openvpn_client_connections': [{'server': 'vpn1', 'instance': 'main', 'password': PASSWORDS['site1'],
                                                  'address': '10.8.0.10', 'routed_networks': ['192.168.10.0/24']}]},
        'site2': {'openvpn_client_connections': [{'server': 'vpn1', 'instance': 'main', 'password': PASSWORDS['site2']}]},
        'site3': {'openvpn_client_connections': [{'server': 'vpn1', 'instance': 'lab'}]},
    }
    groups = {'all': ['site1', 'site2', 'site3', 'vpn1'], 'openvpn_servers': ['vpn1'], 'openvpn_clients': ['site1', 'site2', 'site3']}
    return hostvars, groups


def instance(hostvars, host='vpn1', index=0):
    return hostvars[host]['openvpn_server_instances'][index]


def connection(hostvars, host, index=0):
    return hostvars[host]['openvpn_client_connections'][index]


def by_name(entries):
    return dict((entry['name'], entry) for entry in entries)
