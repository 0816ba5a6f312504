# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Every check of the WireGuard role's inputs, run once before any host changes: the networks,
# the per-host inventory data, the hosts' other settings (imported private keys, the userspace
# daemon's source) and the hosts named for key rotation. See _wireguard_inventory for the inputs.
#
# validate() returns every problem at once. Each message starts with 'host <name>',
# 'network <name>' or 'all' and names the variable to fix. Secrets (the preshared key seed,
# imported private keys, a private key pasted as a public key) are never echoed.

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import (
    check_ip_list,
    endpoint_problem,
    family_name,
    interface_name_problem,
    is_usable,
    parse_cidr_list,
    parse_host_address,
    usable_range,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._install_source import install_settings, install_source_problems
from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import group_hosts, member_hosts, members_by_network
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import check_int, check_known_keys, is_int, is_list, is_mapping, type_name
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_inventory import (
    DEFAULT_LISTEN_PORT,
    HOOK_KEYS,
    USERSPACE_PREFIX,
    host_endpoint,
    host_listen_port,
    host_network_settings,
    host_settings,
    hosts_with_network_settings,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import is_wireguard_key

TOPOLOGIES = ('mesh', 'hub_and_spoke')
MIN_PRESHARED_KEY_SEED_LENGTH = 32
MTU_MIN = 1280
MTU_MAX = 9000
UINT32_MAX = 4294967295

NETWORK_KEYS = (
    'name', 'interface', 'topology', 'members_group', 'hubs_group', 'address_pools', 'listen_port', 'mtu',
    'persistent_keepalive', 'dns', 'table', 'fwmark', 'pre_up', 'post_up', 'pre_down', 'post_down',
    'preshared_keys', 'road_warriors',
)
ROAD_WARRIOR_KEYS = ('name', 'addresses', 'public_key', 'allowed_ips', 'dns', 'persistent_keepalive')
HOST_NETWORK_KEYS = ('addresses', 'routed_networks', 'listen_port', 'endpoint')

_NETWORK_NAME_CHARS = frozenset('abcdefghijklmnopqrstuvwxyz0123456789_-')
_ROAD_WARRIOR_NAME_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-')


class _NetworkInfo(object):
    """What the cross-network and per-host checks need to know about one network entry."""

    def __init__(self, index):
        self.index = index
        self.path = 'wireguard_networks[%d]' % index
        self.name = None
        self.label = 'all'
        self.interface = None
        self.topology = 'mesh'
        self.listen_port = DEFAULT_LISTEN_PORT
        self.pools = []                  # valid ip_network objects
        self.pools_valid = False         # every pool parsed, families distinct
        self.members = []
        self.hubs = []
        self.road_warriors = []          # (index, settings) with a valid, unique name
        self.preshared_keys = False


def _parse_addresses(errors, where, value, info, owner_label):
    """Validate explicit addresses of one host or road warrior against the network's pools.

    Returns the valid ip_address objects (at most one per family).
    """
    if value is None:
        return []
    if not is_list(value):
        errors.append('%s: must be a list of IP addresses, got %s' % (where, type_name(value)))
        return []
    found = {}
    for item in value:
        try:
            ip, prefix_length = parse_host_address(item)
        except ValueError:
            errors.append('%s: %r is not an IP address (with or without prefix length)' % (where, item))
            continue
        if not info.pools_valid:
            continue
        pool = None
        for candidate in info.pools:
            if candidate.version == ip.version:
                pool = candidate
        if pool is None:
            errors.append('%s: %s is an %s address but network %s has no %s pool' % (where, ip, family_name(ip.version), info.name, family_name(ip.version)))
            continue
        if ip not in pool:
            errors.append('%s: %s is outside the pool %s of network %s' % (where, ip, pool, info.name))
            continue
        if prefix_length is not None and prefix_length != pool.prefixlen:
            errors.append('%s: %s has prefix length /%d but the pool %s of network %s is a /%d (write %s or %s/%d)'
                          % (where, item, prefix_length, pool, info.name, pool.prefixlen, ip, ip, pool.prefixlen))
            continue
        if not is_usable(pool, ip):
            kind = 'network' if ip == pool.network_address else 'broadcast'
            errors.append('%s: %s is the %s address of the pool %s of network %s' % (where, ip, kind, pool, info.name))
            continue
        if ip.version in found:
            errors.append('%s: %s has two %s addresses (%s and %s) but one per pool is allowed'
                          % (where, owner_label, family_name(ip.version), found[ip.version], ip))
            continue
        found[ip.version] = ip
    return list(found.values())


def _validate_network_fields(index, network, groups, errors):
    info = _NetworkInfo(index)
    path = info.path
    if not is_mapping(network):
        errors.append('all: %s: must be a mapping (a network), got %s' % (path, type_name(network)))
        return None

    name = network.get('name')
    if name is None:
        errors.append('all: %s.name: required' % path)
    elif not isinstance(name, str) or not name or not set(name) <= _NETWORK_NAME_CHARS:
        errors.append('all: %s.name: %r must be made of a-z, 0-9, "_" and "-"' % (path, name))
    else:
        info.name = name
        info.label = 'network %s' % name

    def error(field, message):
        errors.append('%s: %s.%s: %s' % (info.label, path, field, message))

    check_known_keys(errors, '%s: %s' % (info.label, path), network, NETWORK_KEYS)

    interface = network.get('interface')
    if interface is None:
        error('interface', 'required')
    else:
        problem = interface_name_problem(interface)
        if problem:
            error('interface', problem)
        else:
            info.interface = interface

    topology = network.get('topology')
    if topology is None:
        topology = 'mesh'
    if topology not in TOPOLOGIES:
        error('topology', '%r must be one of %s' % (topology, ', '.join(TOPOLOGIES)))
    else:
        info.topology = topology

    members_group = network.get('members_group')
    if members_group is None:
        if info.name is not None:
            if info.name not in groups:
                error('members_group', "group '%s' (the default: the network name) does not exist in the inventory" % info.name)
            info.members = group_hosts(groups, info.name)
    elif not isinstance(members_group, str) or not members_group:
        error('members_group', 'must be a group name, got %r' % (members_group,))
    else:
        if members_group not in groups:
            error('members_group', "group '%s' does not exist in the inventory" % members_group)
        info.members = group_hosts(groups, members_group)

    hubs_group = network.get('hubs_group')
    if hubs_group is not None:
        if not isinstance(hubs_group, str) or not hubs_group:
            error('hubs_group', 'must be a group name or null, got %r' % (hubs_group,))
            hubs_group = None
        elif hubs_group not in groups:
            error('hubs_group', "group '%s' does not exist in the inventory" % hubs_group)
            hubs_group = None
        else:
            info.hubs = sorted(set(group_hosts(groups, hubs_group)))
    info.members = sorted(set(info.members) | set(info.hubs))

    pools_value = network.get('address_pools')
    if pools_value is None:
        error('address_pools', 'required (one or two CIDR prefixes, at most one IPv4 and one IPv6)')
    elif not is_list(pools_value) or not 1 <= len(pools_value) <= 2:
        error('address_pools', 'must be a list of one or two CIDR prefixes (at most one IPv4 and one IPv6)')
    else:
        pool_errors = []
        pools = parse_cidr_list(pool_errors, '%s: %s.address_pools' % (info.label, path), pools_value)
        errors.extend(pool_errors)
        if len(pools) == 2 and pools[0].version == pools[1].version:
            error('address_pools', 'two %s pools (%s, %s); give at most one IPv4 and one IPv6 pool' % (family_name(pools[0].version), pools[0], pools[1]))
        elif not pool_errors:
            info.pools = pools
            info.pools_valid = True

    listen_port = network.get('listen_port')
    if listen_port is not None and check_int(errors, '%s: %s.listen_port' % (info.label, path), listen_port, 1, 65535):
        info.listen_port = listen_port
    check_int(errors, '%s: %s.mtu' % (info.label, path), network.get('mtu'), MTU_MIN, MTU_MAX, allow_none=True)
    check_int(errors, '%s: %s.persistent_keepalive' % (info.label, path), network.get('persistent_keepalive'), 0, 65535, allow_none=True)
    check_ip_list(errors, '%s: %s.dns' % (info.label, path), network.get('dns'))

    table = network.get('table')
    if table is not None and table not in ('off', 'auto'):
        # The role's argument spec types table as str, so '1234' is as valid as 1234.
        number = int(table) if isinstance(table, str) and table.isdigit() else table
        if not is_int(number) or not 1 <= number <= UINT32_MAX:
            error('table', "%r must be null, 'off', 'auto' or a routing table number (1-%d)" % (table, UINT32_MAX))
    check_int(errors, '%s: %s.fwmark' % (info.label, path), network.get('fwmark'), 0, UINT32_MAX, allow_none=True)

    for key in HOOK_KEYS:
        value = network.get(key)
        if value is not None and (not is_list(value) or not all(isinstance(item, str) for item in value)):
            error(key, 'must be a list of strings (commands)')

    preshared_keys = network.get('preshared_keys')
    if preshared_keys is not None and not isinstance(preshared_keys, bool):
        error('preshared_keys', 'must be true or false, got %r' % (preshared_keys,))
    else:
        info.preshared_keys = bool(preshared_keys)

    if info.topology == 'hub_and_spoke' and not info.hubs:
        if network.get('hubs_group') is None:
            error('hubs_group', 'required for topology hub_and_spoke')
        elif hubs_group is not None:
            error('hubs_group', "group '%s' has no hosts; topology hub_and_spoke needs at least one hub" % hubs_group)
    return info


def _validate_road_warriors(info, network, groups, all_hosts, errors):
    value = network.get('road_warriors')
    if value is None:
        return
    path = '%s.road_warriors' % info.path
    if not is_list(value):
        errors.append('%s: %s: must be a list, got %s' % (info.label, path, type_name(value)))
        return
    if value and not info.hubs:
        hubs_group = network.get('hubs_group')
        reason = None
        if hubs_group is None:
            reason = 'required'
        elif isinstance(hubs_group, str) and hubs_group in groups:
            reason = "group '%s' has no hosts; at least one hub is needed" % hubs_group
        # A hubs_group naming a missing group is already reported by _validate_network_fields.
        if reason:
            errors.append('%s: %s.hubs_group: %s because road_warriors is not empty (road warriors connect to the hubs)' % (info.label, info.path, reason))
    seen = {}
    for rw_index, road_warrior in enumerate(value):
        where = '%s[%d]' % (path, rw_index)
        if not is_mapping(road_warrior):
            errors.append('%s: %s: must be a mapping, got %s' % (info.label, where, type_name(road_warrior)))
            continue
        name = road_warrior.get('name')
        name_ok = isinstance(name, str) and bool(name) and set(name) <= _ROAD_WARRIOR_NAME_CHARS
        if name is None:
            errors.append('%s: %s.name: required' % (info.label, where))
        elif not name_ok:
            errors.append('%s: %s.name: %r must be made of A-Z, a-z, 0-9, "_", "." and "-"' % (info.label, where, name))
        else:
            where = '%s (road warrior %s)' % (where, name)
            if name in seen:
                errors.append('%s: %s.name: road warrior %s is defined twice in the network (also at %s[%d])' % (info.label, where, name, path, seen[name]))
                name_ok = False
            elif name in all_hosts:
                errors.append('%s: %s.name: road warrior %s has the name of an inventory host' % (info.label, where, name))
                name_ok = False
            else:
                seen[name] = rw_index

        def error(field, message):
            errors.append('%s: %s.%s: %s' % (info.label, where, field, message))

        check_known_keys(errors, '%s: %s' % (info.label, where), road_warrior, ROAD_WARRIOR_KEYS)
        public_key = road_warrior.get('public_key')
        if public_key not in (None, '') and not is_wireguard_key(public_key):
            # The value is not echoed: a private key pasted by mistake must not end up in a log.
            error('public_key', 'is not a WireGuard public key (standard base64 of 32 bytes: 44 characters ending with "=")')
        parse_cidr_list(errors, '%s: %s.allowed_ips' % (info.label, where), road_warrior.get('allowed_ips'))
        check_ip_list(errors, '%s: %s.dns' % (info.label, where), road_warrior.get('dns'))
        check_int(errors, '%s: %s.persistent_keepalive' % (info.label, where), road_warrior.get('persistent_keepalive'), 0, 65535, allow_none=True)
        if name_ok:
            info.road_warriors.append((rw_index, road_warrior, where))


def _validate_host_entries(network_infos, inventory, errors):
    """Syntax of every host's wireguard_endpoint and wireguard_host_networks entries."""
    by_name = dict((info.name, info) for info in network_infos if info.name is not None)
    for host in sorted(inventory):
        data = inventory[host]
        if not is_mapping(data):
            errors.append('host %s: wireguard_host_networks: host data must be a mapping, got %s' % (host, type_name(data)))
            continue
        endpoint = data.get('endpoint')
        if endpoint is not None and endpoint != '':
            problem = endpoint_problem(endpoint)
            if problem:
                errors.append('host %s: wireguard_endpoint: %s' % (host, problem))
        networks = data.get('networks')
        if networks is None:
            continue
        if not is_mapping(networks):
            errors.append('host %s: wireguard_host_networks: must be a mapping of network name to settings, got %s' % (host, type_name(networks)))
            continue
        for network_name in sorted(networks, key=str):
            where = 'host %s: wireguard_host_networks.%s' % (host, network_name)
            if network_name not in by_name:
                errors.append('%s: unknown network %s (networks in wireguard_networks: %s)'
                              % (where, network_name, ', '.join(sorted(by_name)) or 'none'))
                continue
            settings = networks[network_name]
            if settings is None:
                continue
            if not is_mapping(settings):
                errors.append('%s: must be a mapping, got %s' % (where, type_name(settings)))
                continue
            check_known_keys(errors, where, settings, HOST_NETWORK_KEYS)
            check_int(errors, '%s.listen_port' % where, settings.get('listen_port'), 1, 65535, allow_none=True)
            endpoint = settings.get('endpoint')
            if endpoint is not None and endpoint != '':
                problem = endpoint_problem(endpoint)
                if problem:
                    errors.append('%s.endpoint: %s' % (where, problem))


def _validate_network_hosts(info, inventory, errors):
    """Addresses, routed networks and endpoints of a network's members and road warriors."""
    owners = {}   # ip -> label of its owner
    routed_owners = {}
    for host in sorted(set(info.members) | set(hosts_with_network_settings(inventory, info.name))):
        settings = host_network_settings(inventory, host, info.name)
        where = 'host %s: wireguard_host_networks.%s' % (host, info.name)
        addresses = _parse_addresses(errors, '%s.addresses' % where, settings.get('addresses'), info, 'host %s' % host)
        routed = parse_cidr_list(errors, '%s.routed_networks' % where, settings.get('routed_networks'))
        if host not in info.members:
            continue  # settings for a non-member are checked for syntax only: they are not used
        for ip in addresses:
            if ip in owners:
                errors.append('%s.addresses: %s is also assigned to %s' % (where, ip, owners[ip]))
            else:
                owners[ip] = 'host %s' % host
        for prefix in routed:
            for pool in info.pools:
                if prefix.version == pool.version and prefix.overlaps(pool):
                    errors.append('%s.routed_networks: %s overlaps the pool %s of network %s' % (where, prefix, pool, info.name))
            if prefix in routed_owners:
                errors.append('%s.routed_networks: %s is also routed behind host %s (a prefix can sit behind one peer only)'
                              % (where, prefix, routed_owners[prefix]))
            else:
                routed_owners[prefix] = host

    for host in info.members:
        is_hub = host in info.hubs
        if host_endpoint(inventory, host, info.name) is not None:
            continue
        if is_hub:
            errors.append('host %s: wireguard_endpoint: hub %s of network %s has no endpoint; set wireguard_endpoint or wireguard_host_networks.%s.endpoint'
                          % (host, host, info.name, info.name))
        elif info.topology == 'mesh':
            errors.append('host %s: wireguard_endpoint: member %s of mesh network %s has no endpoint (every mesh member needs one); '
                          'set wireguard_endpoint or wireguard_host_networks.%s.endpoint' % (host, host, info.name, info.name))

    for rw_index, road_warrior, where in info.road_warriors:
        addresses = _parse_addresses(errors, '%s: %s.addresses' % (info.label, where), road_warrior.get('addresses'), info,
                                     'road warrior %s' % road_warrior['name'])
        for ip in addresses:
            if ip in owners:
                errors.append('%s: %s.addresses: %s is also assigned to %s' % (info.label, where, ip, owners[ip]))
            else:
                owners[ip] = 'road warrior %s' % road_warrior['name']

    if info.pools_valid:
        needed = len(set(info.members) | set(rw['name'] for _index, rw, _where in info.road_warriors))
        for pool in info.pools:
            size = usable_range(pool)[1]
            if needed > size:
                errors.append('%s: %s.address_pools: pool %s has %d usable addresses, too few for the %d members and road warriors of network %s'
                              % (info.label, info.path, pool, size, needed, info.name))


def _validate_shared_resources(network_infos, inventory, errors):
    """Per host: two networks must not share an interface name or a UDP listen port."""
    memberships = {}
    for info in network_infos:
        if info.name is None:
            continue
        for host in info.members:
            memberships.setdefault(host, []).append(info)
    for host in sorted(memberships):
        interfaces = {}
        ports = {}
        for info in memberships[host]:
            if info.interface is not None:
                if info.interface in interfaces:
                    other = interfaces[info.interface]
                    errors.append('host %s: %s.interface: %s is also the interface of network %s (%s); host %s is a member of both'
                                  % (host, info.path, info.interface, other.name, other.path, host))
                else:
                    interfaces[info.interface] = info
            port = host_listen_port({'name': info.name, 'listen_port': info.listen_port}, inventory, host)
            if is_int(port):
                if port in ports:
                    other = ports[port]
                    errors.append('host %s: %s.listen_port: networks %s and %s both listen on UDP port %d on this host; '
                                  'set a different listen_port (or wireguard_host_networks.%s.listen_port)'
                                  % (host, info.path, other.name, info.name, port, info.name))
                else:
                    ports[port] = info


def validate(networks, groups, inventory, preshared_key_seed=None, hostvars=None, rotate_keys=None, undefined=()):
    """Every problem of the WireGuard configuration, as a list of messages ([] when valid).

    networks, groups, inventory: see _wireguard_inventory. With hostvars (Ansible's, or host ->
    variables), the members' wireguard_private_keys and userspace daemon settings are checked
    too (see check_host_settings); with rotate_keys (wireguard_rotate_keys), that it names
    members only. undefined: see read_host_variables.

    Each message starts with 'host <name>', 'network <name>' or 'all' and names the variable
    (wireguard_networks[<i>].<key>, wireguard_host_networks.<network>.<key>, wireguard_endpoint,
    wireguard_preshared_key_seed, wireguard_private_keys.<network>, wireguard_userspace_<setting>,
    wireguard_rotate_keys). Secrets are never echoed.
    """
    errors = _collect_errors(networks, groups, inventory, preshared_key_seed, check_seed=True)
    members = members_by_network(networks, groups)
    if hostvars is not None:
        errors.extend(check_host_settings(members, host_settings(networks, groups, hostvars, undefined)))
    if rotate_keys is not None:
        errors.extend(check_rotate_keys(members, rotate_keys))
    return errors


def check_host_settings(members, settings):
    """Problems of the members' imported private keys and userspace daemon settings.

    members: members_by_network()'s result; settings: host_settings()'s result. A private key
    is checked by shape only (the format wg genkey prints, optionally followed by one newline
    as a vault value made from its output holds), and never quoted.
    """
    errors = []
    for host in member_hosts(members):
        private_keys = settings.get(host, {}).get('wireguard_private_keys', {})
        if not is_mapping(private_keys):
            errors.append('host %s: wireguard_private_keys: must be a mapping of network name to private key, got %s' % (host, type_name(private_keys)))
            continue
        for network, key in private_keys.items():
            if host not in members.get(network, []):
                errors.append('host %s: wireguard_private_keys.%s: not a network of this host' % (host, network))
            elif not (isinstance(key, str) and is_wireguard_key(key[:-1] if key.endswith('\n') else key)):
                errors.append('host %s: wireguard_private_keys.%s: not a WireGuard private key (44 characters of base64, as wg genkey prints)'
                              % (host, network))
    for host in member_hosts(members):
        errors.extend(install_source_problems(USERSPACE_PREFIX, host, install_settings(USERSPACE_PREFIX, settings.get(host, {}))))
    return errors


def check_rotate_keys(members, rotate_keys):
    """Problems of wireguard_rotate_keys: every host it names must be a member of a network."""
    if not is_list(rotate_keys):
        return ['all: wireguard_rotate_keys: must be a list of host names, got %s' % type_name(rotate_keys)]
    hosts = set(member_hosts(members))
    return ['all: wireguard_rotate_keys: %s is not a member of any WireGuard network' % host for host in rotate_keys if host not in hosts]


def _collect_errors(networks, groups, inventory, preshared_key_seed, check_seed):
    errors = []
    if not is_list(networks):
        return ['all: wireguard_networks: must be a list of networks, got %s' % type_name(networks)]
    if not is_mapping(groups):
        errors.append('all: groups: must be a mapping of group name to hosts, got %s' % type_name(groups))
        groups = {}
    if inventory is None:
        inventory = {}
    if not is_mapping(inventory):
        errors.append('all: wireguard_host_networks: the per-host data must be a mapping of host name to data, got %s' % type_name(inventory))
        inventory = {}

    all_hosts = set(inventory)
    for hosts in groups.values():
        if is_list(hosts):
            all_hosts.update(host for host in hosts if isinstance(host, str))

    network_infos = []
    first_index_by_name = {}
    for index, network in enumerate(networks):
        info = _validate_network_fields(index, network, groups, errors)
        if info is None:
            continue
        if info.name is not None:
            if info.name in first_index_by_name:
                errors.append('network %s: %s.name: network %s is defined twice (also wireguard_networks[%d])'
                              % (info.name, info.path, info.name, first_index_by_name[info.name]))
                continue
            first_index_by_name[info.name] = index
        _validate_road_warriors(info, network, groups, all_hosts, errors)
        network_infos.append(info)

    _validate_host_entries(network_infos, inventory, errors)
    for info in network_infos:
        if info.name is not None:
            _validate_network_hosts(info, inventory, errors)
    _validate_shared_resources(network_infos, inventory, errors)

    psk_networks = [info.name or info.path for info in network_infos if info.preshared_keys]
    if psk_networks and check_seed:
        if preshared_key_seed is None or preshared_key_seed == '':
            errors.append('all: wireguard_preshared_key_seed: required because network(s) %s set preshared_keys: true' % ', '.join(psk_networks))
        elif not isinstance(preshared_key_seed, str):
            errors.append('all: wireguard_preshared_key_seed: must be a string, got %s' % type_name(preshared_key_seed))
        elif len(preshared_key_seed) < MIN_PRESHARED_KEY_SEED_LENGTH:
            errors.append('all: wireguard_preshared_key_seed: is shorter than %d characters; use a long random secret (e.g. openssl rand -base64 48)'
                          % MIN_PRESHARED_KEY_SEED_LENGTH)
    return errors


def raise_if_invalid(networks, groups, inventory, preshared_key_seed=None, check_seed=True):
    """Raise ValueError listing every problem of the networks and the inventory data, if there are any.

    check_seed=False leaves out the preshared key seed, for callers that derive no preshared keys.
    """
    errors = _collect_errors(networks, groups, inventory, preshared_key_seed, check_seed)
    if errors:
        raise ValueError('invalid WireGuard configuration:\n- ' + '\n- '.join(errors))
