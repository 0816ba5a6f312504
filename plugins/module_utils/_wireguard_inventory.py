# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The WireGuard role's inputs, read with the role's defaults:
#
# * ``networks``: the role variable ``wireguard_networks`` (list of dicts); network_settings()
#   fills in the optional keys,
# * ``inventory``: host name -> ``{"endpoint": ..., "networks": {...}}`` for every member host,
#   built by host_inventory() from each host's ``wireguard_endpoint`` and
#   ``wireguard_host_networks``; the host_* functions read it back,
# * host settings that only the checks need (imported private keys, the userspace daemon's
#   source), read by host_settings(). They stay out of ``inventory``, which the role keeps as
#   a fact: a fact must not hold private keys.
#
# Every host's data comes from `hostvars`, which does not show role defaults: the defaults
# below are the role's (roles/wireguard/defaults/main.yml), applied here.

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import normalise_network
from ansible_collections.overlaynet.vpn.plugins.module_utils._hostvars import read_host_variables
from ansible_collections.overlaynet.vpn.plugins.module_utils._install_source import setting_variables
from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import member_hosts, members_by_network
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import as_list, is_mapping

DEFAULT_LISTEN_PORT = 51820
DEFAULT_ROAD_WARRIOR_KEEPALIVE = 25
HOOK_KEYS = ('pre_up', 'post_up', 'pre_down', 'post_down')
USERSPACE_PREFIX = 'wireguard_userspace'


# ---------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------

def network_settings(network):
    """The network dict with defaults filled in for absent (or null) optional keys."""
    settings = dict(network)
    if settings.get('topology') is None:
        settings['topology'] = 'mesh'
    if settings.get('members_group') is None:
        settings['members_group'] = settings.get('name')
    settings.setdefault('hubs_group', None)
    if settings.get('listen_port') is None:
        settings['listen_port'] = DEFAULT_LISTEN_PORT
    settings.setdefault('mtu', None)
    if settings.get('persistent_keepalive') is None:
        settings['persistent_keepalive'] = 0
    settings['dns'] = as_list(settings.get('dns'))
    settings.setdefault('table', None)
    settings.setdefault('fwmark', None)
    for key in HOOK_KEYS:
        settings[key] = as_list(settings.get(key))
    settings['preshared_keys'] = bool(settings.get('preshared_keys'))
    settings['address_pools'] = as_list(settings.get('address_pools'))
    settings['road_warriors'] = [road_warrior_settings(rw, settings['address_pools']) for rw in as_list(settings.get('road_warriors'))]
    return settings


def road_warrior_settings(road_warrior, address_pools):
    """The road warrior dict with defaults filled in; allowed_ips defaults to the network's address_pools."""
    settings = dict(road_warrior)
    settings['addresses'] = as_list(settings.get('addresses'))
    settings.setdefault('public_key', None)
    if settings.get('allowed_ips') is None:
        settings['allowed_ips'] = list(address_pools)
    settings['dns'] = as_list(settings.get('dns'))
    if settings.get('persistent_keepalive') is None:
        settings['persistent_keepalive'] = DEFAULT_ROAD_WARRIOR_KEEPALIVE
    return settings


# ---------------------------------------------------------------------------------------------
# Hosts: reading hostvars
# ---------------------------------------------------------------------------------------------

def _member_hosts(networks, groups):
    return member_hosts(members_by_network(networks, groups))


def host_inventory(networks, groups, hostvars, undefined=()):
    """Host name -> {'endpoint': ..., 'networks': {...}} for every member of every network.

    endpoint: wireguard_endpoint, else ansible_host, else the inventory name (the role's
    default); networks: wireguard_host_networks, else {}. Hosts in the order of
    members_by_network. See read_host_variables for hostvars and undefined.
    """
    inventory = {}
    for host in _member_hosts(networks, groups):
        variables = read_host_variables(hostvars, host, {'ansible_host': host, 'wireguard_host_networks': {}}, undefined)
        endpoint = read_host_variables(hostvars, host, {'wireguard_endpoint': variables['ansible_host']}, undefined)['wireguard_endpoint']
        inventory[host] = {'endpoint': endpoint, 'networks': variables['wireguard_host_networks']}
    return inventory


def decommissioned_hosts(networks, groups, hostvars, undefined=()):
    """Sorted members of any network whose wireguard_state is absent (see read_host_variables)."""
    return sorted(host for host in _member_hosts(networks, groups)
                  if read_host_variables(hostvars, host, {'wireguard_state': 'present'}, undefined)['wireguard_state'] == 'absent')


def host_settings(networks, groups, hostvars, undefined=()):
    """Host name -> {variable: value} of the settings only the checks read, for every member.

    wireguard_private_keys ({} by default) and the userspace daemon's install settings
    (wireguard_userspace_source, _file, _url, _checksum, _binary; see _install_source). The
    result holds private keys: it must never be stored or shown.
    """
    defaults = setting_variables(USERSPACE_PREFIX)
    defaults['wireguard_private_keys'] = {}
    return dict((host, read_host_variables(hostvars, host, defaults, undefined)) for host in _member_hosts(networks, groups))


# ---------------------------------------------------------------------------------------------
# Hosts: reading the inventory data back
# ---------------------------------------------------------------------------------------------

def _host_data(inventory, host):
    data = inventory.get(host) if is_mapping(inventory) else None
    return data if is_mapping(data) else {}


def host_network_settings(inventory, host, network_name):
    """wireguard_host_networks[network_name] of a host ({} when absent)."""
    networks = _host_data(inventory, host).get('networks')
    if not is_mapping(networks):
        return {}
    settings = networks.get(network_name)
    return settings if is_mapping(settings) else {}


def host_endpoint(inventory, host, network_name):
    """Where peers reach a host in a network: the per-network override, else wireguard_endpoint; None if unset."""
    endpoint = host_network_settings(inventory, host, network_name).get('endpoint')
    if endpoint is None or endpoint == '':
        endpoint = _host_data(inventory, host).get('endpoint')
    if endpoint is None or endpoint == '':
        return None
    return endpoint


def host_listen_port(network, inventory, host):
    port = host_network_settings(inventory, host, network['name']).get('listen_port')
    if port is None:
        port = network.get('listen_port')
    if port is None:
        port = DEFAULT_LISTEN_PORT
    return port


def host_routed_networks(inventory, host, network_name):
    return [normalise_network(prefix) for prefix in as_list(host_network_settings(inventory, host, network_name).get('routed_networks'))]


def hosts_with_network_settings(inventory, network_name):
    """Hosts of inventory that have a wireguard_host_networks entry for the network (members or not)."""
    return [host for host in inventory if is_mapping(_host_data(inventory, host).get('networks'))
            and is_mapping(_host_data(inventory, host)['networks'].get(network_name))]
