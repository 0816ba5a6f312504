# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# What each WireGuard host and road warrior gets: its addresses, its interfaces and their
# peers, and the preshared key of every pair. Pure functions of the role's inputs (see
# _wireguard_inventory) and of:
#
# * ``public_keys``: host name -> network name -> public key (or None while unknown),
# * ``preshared_key_seed``: the user's secret ``wireguard_preshared_key_seed`` (or None).
#
# No function takes the list of hosts of the current play, so the plan of a host never depends on
# --limit or on which hosts happen to run; only unknown public keys show up as None.
# No function handles private keys; preshared keys only appear in the peer entries of the two hosts
# of a pair, never in error messages.

import base64
import hashlib
import hmac
import ipaddress

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import format_endpoint, host_routes, normalise_network
from ansible_collections.overlaynet.vpn.plugins.module_utils._allocation import allocate
from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import network_hubs, network_members
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import as_list, dedupe, is_mapping
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_inventory import (
    host_endpoint,
    host_listen_port,
    host_network_settings,
    host_routed_networks,
    network_settings,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_validate import raise_if_invalid

PRESHARED_KEY_LABEL = 'overlaynet.vpn wireguard psk'


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------

def _allocate(network, members, inventory):
    network = network_settings(network)
    explicit = {}
    for host in members:
        explicit[host] = as_list(host_network_settings(inventory, host, network['name']).get('addresses'))
    for road_warrior in network['road_warriors']:
        explicit[road_warrior['name']] = as_list(road_warrior.get('addresses'))
    addresses, notes = allocate(network['address_pools'], list(explicit), explicit, network['name'], 'network %s' % network['name'])
    return addresses, [dict(network=network['name'], **note) for note in notes]


def allocate_addresses(network, members, inventory):
    """Addresses of every member host and road warrior of a network: name -> ['ip/prefix', ...].

    One address per pool (in address_pools order), from _allocation.allocate with the network
    name as salt. Explicit addresses are a host's ``wireguard_host_networks[<network>].addresses``
    and a road warrior's ``addresses``. Raises ValueError when the input is invalid (use
    validate() first) or a pool is too small.
    """
    return _allocate(network, members, inventory)[0]


def allocation_notes(network, members, inventory):
    """Names of the network that did not get their first-choice slot (see _allocation.allocate).

    A list of dicts sorted by pool then name: {network, pool, name, address, first_choice,
    taken_by (the name holding the first-choice slot), attempts, message}. The role shows the
    messages as warnings: these addresses may move when taken_by is removed.
    """
    return _allocate(network, members, inventory)[1]


def plan_allocation_notes(networks, groups, inventory):
    """allocation_notes() of every network, in wireguard_networks order (the preshared key seed plays no part)."""
    raise_if_invalid(networks, groups, inventory, check_seed=False)
    notes = []
    for network in networks:
        settings = network_settings(network)
        notes.extend(allocation_notes(settings, network_members(settings, groups), inventory))
    return notes


# ---------------------------------------------------------------------------------------------
# Preshared keys
# ---------------------------------------------------------------------------------------------

def pair_preshared_key(seed, network, a, b):
    """The preshared key of peers a and b in a network: base64(HMAC-SHA256(seed, label|network|min|max)).

    Symmetric in a and b, so both ends derive the same key without exchanging it; different for
    every pair and every network. 32 bytes -> 44 characters of base64.
    """
    if not isinstance(seed, str) or not seed:
        raise ValueError('wireguard_preshared_key_seed must be a non-empty string')
    if a == b:
        raise ValueError('a preshared key needs two different peers')
    low, high = min(a, b), max(a, b)
    message = '%s|%s|%s|%s' % (PRESHARED_KEY_LABEL, network, low, high)
    digest = hmac.new(seed.encode('utf-8'), message.encode('utf-8'), hashlib.sha256).digest()
    return base64.b64encode(digest).decode('ascii')


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------

def _public_key(public_keys, host, network_name):
    keys = public_keys.get(host) if is_mapping(public_keys) else None
    key = keys.get(network_name) if is_mapping(keys) else None
    return key or None


def _road_warrior_public_key(road_warrior, road_warrior_public_keys, network_name):
    if road_warrior.get('public_key'):
        return road_warrior['public_key']
    keys = road_warrior_public_keys.get(network_name) if is_mapping(road_warrior_public_keys) else None
    key = keys.get(road_warrior['name']) if is_mapping(keys) else None
    return key or None


def _interface_plan(network, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys):
    network_name = network['name']
    topology = network['topology']
    members = network_members(network, groups)
    hubs = network_hubs(network, groups)
    primary_hub = hubs[0] if hubs else None
    road_warriors = sorted(network['road_warriors'], key=lambda rw: rw['name'])
    addresses = allocate_addresses(network, members, inventory)
    routed = dict((member, host_routed_networks(inventory, member, network_name)) for member in members)
    is_hub = host in hubs

    def preshared_key(peer):
        return pair_preshared_key(preshared_key_seed, network_name, host, peer)

    if topology == 'hub_and_spoke' and not is_hub:
        managed_peers = [hub for hub in hubs if hub != host]
    else:
        managed_peers = [member for member in members if member != host]

    peers = []
    for peer in managed_peers:
        allowed_ips = host_routes(addresses[peer]) + routed[peer]
        if peer == primary_hub and not is_hub:
            if topology == 'hub_and_spoke':
                # Spokes reach everything else in the network through the primary hub.
                allowed_ips += [str(ipaddress.ip_network(pool)) for pool in network['address_pools']]
                for other in members:
                    if other not in hubs and other != host:
                        allowed_ips += routed[other]
            else:
                for road_warrior in road_warriors:
                    allowed_ips += host_routes(addresses[road_warrior['name']])
        entry = {
            'name': peer,
            'managed': True,
            'addresses': _bare_addresses(addresses[peer]),
            'public_key': _public_key(public_keys, peer, network_name),
            'allowed_ips': dedupe(allowed_ips),
            'endpoint': format_endpoint(host_endpoint(inventory, peer, network_name), host_listen_port(network, inventory, peer)),
            'persistent_keepalive': network['persistent_keepalive'],
        }
        if network['preshared_keys'] and preshared_key_seed is not None:
            entry['preshared_key'] = preshared_key(peer)
        peers.append(entry)

    if is_hub:
        for road_warrior in road_warriors:
            entry = {
                'name': road_warrior['name'],
                'managed': False,
                'addresses': _bare_addresses(addresses[road_warrior['name']]),
                'public_key': _road_warrior_public_key(road_warrior, road_warrior_public_keys, network_name),
                'allowed_ips': dedupe(host_routes(addresses[road_warrior['name']])),
                'endpoint': None,
                'persistent_keepalive': 0,
            }
            if network['preshared_keys'] and preshared_key_seed is not None:
                entry['preshared_key'] = preshared_key(road_warrior['name'])
            peers.append(entry)
    peers.sort(key=lambda entry: entry['name'])

    if is_hub:
        role = 'hub'
    elif topology == 'hub_and_spoke':
        role = 'spoke'
    else:
        role = 'member'
    forwarding = bool(
        (is_hub and (topology == 'hub_and_spoke' or road_warriors))
        or routed[host]
    )
    return {
        'network': network_name,
        'interface': network['interface'],
        'topology': topology,
        'role': role,
        'addresses': addresses[host],
        'listen_port': host_listen_port(network, inventory, host),
        'mtu': network['mtu'],
        'dns': list(network['dns']),
        'table': network['table'],
        'fwmark': network['fwmark'],
        'pre_up': list(network['pre_up']),
        'post_up': list(network['post_up']),
        'pre_down': list(network['pre_down']),
        'post_down': list(network['post_down']),
        'forwarding': forwarding,
        'peers': peers,
    }


def _bare_addresses(addresses):
    """'10.77.0.5/24' -> '10.77.0.5': where a peer answers inside the tunnel."""
    return [address.split('/', 1)[0] for address in addresses]


def host_plan(networks, groups, inventory, host, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """The WireGuard interfaces of one host: one dict per network it is a member of, sorted by interface.

    See the wireguard_plan filter documentation for the layout. Peers carry their preshared
    key only when preshared_key_seed is given (the role keeps the keys out of the plan it
    loops over: see host_preshared_keys). Raises ValueError listing every problem when
    validate() finds any. A host that is in no network gets [].
    """
    raise_if_invalid(networks, groups, inventory, preshared_key_seed, check_seed=preshared_key_seed is not None)
    return _host_plans(networks, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys)


def _host_plans(networks, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys):
    """host_plan() of a configuration already validated."""
    plans = []
    for network in networks:
        settings = network_settings(network)
        if host in network_members(settings, groups):
            plans.append(_interface_plan(settings, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys))
    plans.sort(key=lambda plan: plan['interface'])
    return plans


def host_preshared_keys(networks, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys=None):
    """[{'interface', 'peers': [{'public_key', 'preshared_key'}]}] for every interface of the host:
    what its preshared key file holds (peers without a known public key left out; [] for an
    interface of a network without preshared keys). The only result here that holds secrets."""
    result = []
    for plan in host_plan(networks, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys):
        peers = [dict(public_key=peer['public_key'], preshared_key=peer['preshared_key'])
                 for peer in plan['peers'] if peer['public_key'] and peer.get('preshared_key')]
        result.append(dict(interface=plan['interface'], peers=peers))
    return result


def host_forwarding(networks, groups, inventory, host):
    """What the host forwards: {'families': ['ipv4', 'ipv6'] (those of its forwarding interfaces'
    addresses and routed networks), 'no_redirect_interfaces': the hub interfaces, which forward
    between their own peers and must not send ICMP redirects}."""
    raise_if_invalid(networks, groups, inventory, None, check_seed=False)
    return _host_forwarding(networks, groups, inventory, host)


def members_forwarding(networks, groups, inventory):
    """host_forwarding() of every member of every network, validated once: host -> result."""
    raise_if_invalid(networks, groups, inventory, None, check_seed=False)
    members = set(host for network in networks for host in network_members(network_settings(network), groups))
    return dict((host, _host_forwarding(networks, groups, inventory, host)) for host in sorted(members))


def _host_forwarding(networks, groups, inventory, host):
    families = set()
    no_redirect = []
    for plan in _host_plans(networks, groups, inventory, host, {}, None, None):
        if not plan['forwarding']:
            continue
        prefixes = plan['addresses'] + host_routed_networks(inventory, host, plan['network'])
        families |= set('ipv%d' % ipaddress.ip_network(prefix, strict=False).version for prefix in prefixes)
        if plan['role'] == 'hub':
            no_redirect.append(plan['interface'])
    return {'families': sorted(families), 'no_redirect_interfaces': sorted(no_redirect)}


def peers_record(plans):
    """The peers of a host's plan as the connectivity report reads them
    (/var/lib/overlaynet/peers/wireguard.json): managed peers must answer, road warriors may be offline."""
    peers = []
    for plan in plans:
        for peer in plan['peers']:
            peers.append({
                'system': 'wireguard',
                'network': plan['network'],
                'interface': plan['interface'],
                'peer': peer['name'],
                'managed': peer['managed'],
                'addresses': list(peer['addresses']),
                'must_answer': peer['managed'],
                'extras': {'wireguard_public_key': peer['public_key']},
            })
    return {'system': 'wireguard', 'peers': peers}


def road_warrior_configs(networks, groups, inventory, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """One client configuration (without private key) per road warrior of every network.

    Networks in wireguard_networks order, road warriors sorted by name. Each: {network, name,
    addresses, dns, mtu, peers}; peers are the network's hubs sorted by name: {name, public_key,
    endpoint, allowed_ips (primary hub: the road warrior's allowed_ips; other hubs: their own host
    routes), persistent_keepalive (the road warrior's), preshared_key (only with preshared_keys)}.
    Raises ValueError listing every problem when validate() finds any.
    """
    raise_if_invalid(networks, groups, inventory, preshared_key_seed)
    configs = []
    for network in networks:
        settings = network_settings(network)
        if not settings['road_warriors']:
            continue
        network_name = settings['name']
        members = network_members(settings, groups)
        hubs = network_hubs(settings, groups)
        addresses = allocate_addresses(settings, members, inventory)
        for road_warrior in sorted(settings['road_warriors'], key=lambda rw: rw['name']):
            peers = []
            for hub in hubs:
                if hub == hubs[0]:
                    allowed_ips = [normalise_network(prefix) for prefix in road_warrior['allowed_ips']]
                else:
                    allowed_ips = host_routes(addresses[hub])
                entry = {
                    'name': hub,
                    'public_key': _public_key(public_keys, hub, network_name),
                    'endpoint': format_endpoint(host_endpoint(inventory, hub, network_name), host_listen_port(settings, inventory, hub)),
                    'allowed_ips': dedupe(allowed_ips),
                    'persistent_keepalive': road_warrior['persistent_keepalive'],
                }
                if settings['preshared_keys']:
                    entry['preshared_key'] = pair_preshared_key(preshared_key_seed, network_name, road_warrior['name'], hub)
                peers.append(entry)
            configs.append({
                'network': network_name,
                'name': road_warrior['name'],
                'addresses': addresses[road_warrior['name']],
                'dns': list(road_warrior['dns']),
                'mtu': settings['mtu'],
                'peers': peers,
            })
    return configs
