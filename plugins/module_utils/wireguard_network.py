# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Data shaping for the WireGuard role: validation, address allocation and per-host peer lists.
#
# Everything here is a pure function of the role's inputs:
#
# * ``networks``: the role variable ``wireguard_networks`` (list of dicts),
# * ``groups``: Ansible's ``groups`` magic variable (all inventory hosts, regardless of --limit),
# * ``inventory``: host name -> ``{"endpoint": ..., "networks": {...}}``, built by the role from the
#   host variables ``wireguard_endpoint`` and ``wireguard_host_networks``,
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

TOPOLOGIES = ('mesh', 'hub_and_spoke')
DEFAULT_LISTEN_PORT = 51820
DEFAULT_ROAD_WARRIOR_KEEPALIVE = 25
MIN_PRESHARED_KEY_SEED_LENGTH = 32
INTERFACE_NAME_MAX_LENGTH = 15  # IFNAMSIZ - 1
MTU_MIN = 1280
MTU_MAX = 9000
UINT32_MAX = 4294967295
PRESHARED_KEY_LABEL = 'overlaynet.vpn wireguard psk'

# Name-by-name hash probing gives up after this many rounds (only reachable in nearly full pools)
# and falls back to the next free slot upwards from the first choice, so allocation always ends.
ALLOCATION_ROUNDS = 256

NETWORK_KEYS = (
    'name', 'interface', 'topology', 'members_group', 'hubs_group', 'address_pools', 'listen_port', 'mtu',
    'persistent_keepalive', 'dns', 'table', 'fwmark', 'pre_up', 'post_up', 'pre_down', 'post_down',
    'preshared_keys', 'road_warriors',
)
HOOK_KEYS = ('pre_up', 'post_up', 'pre_down', 'post_down')
ROAD_WARRIOR_KEYS = ('name', 'addresses', 'public_key', 'allowed_ips', 'dns', 'persistent_keepalive')
HOST_NETWORK_KEYS = ('addresses', 'routed_networks', 'listen_port', 'endpoint')

_NETWORK_NAME_CHARS = frozenset('abcdefghijklmnopqrstuvwxyz0123456789_-')
_ROAD_WARRIOR_NAME_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-')
_HOSTNAME_LABEL_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-')


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

def _is_int(value):
    # bool is an int subclass; `listen_port: true` is a mistake, not port 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_list(value):
    return isinstance(value, (list, tuple))


def _is_mapping(value):
    return isinstance(value, dict)


def _as_list(value):
    if value is None:
        return []
    return list(value)


def _dedupe(items):
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def _type_name(value):
    return type(value).__name__


def _family(version):
    return 'IPv4' if version == 4 else 'IPv6'


def _host_route(address):
    """'10.77.0.5' or an ip_address -> '10.77.0.5/32'; IPv6 -> '/128'."""
    ip = ipaddress.ip_address(address)
    return '%s/%d' % (ip, ip.max_prefixlen)


def _normalize_prefix(text):
    return str(ipaddress.ip_network(text, strict=False))


def parse_host_address(text):
    """Parse '10.77.0.5' or '10.77.0.5/24' into (ip_address, prefix length or None).

    Raises ValueError for anything else.
    """
    if not isinstance(text, str):
        raise ValueError('not a string')
    if '/' in text:
        address_text, prefix_text = text.split('/', 1)
        ip = ipaddress.ip_address(address_text)
        if not prefix_text.isdigit() or int(prefix_text) > ip.max_prefixlen:
            raise ValueError('bad prefix length')
        return ip, int(prefix_text)
    return ipaddress.ip_address(text), None


def usable_range(pool):
    """(first usable address as int, number of usable addresses) of an ip_network.

    The network address is never handed out (for IPv6 it is the subnet-router anycast address),
    nor the IPv4 broadcast address.
    """
    first = int(pool.network_address) + 1
    if pool.version == 4:
        size = pool.num_addresses - 2
    else:
        size = pool.num_addresses - 1
    return first, max(size, 0)


def _is_usable(pool, ip):
    first, size = usable_range(pool)
    return first <= int(ip) < first + size


def is_wireguard_key(value):
    """True when value looks like a WireGuard key: standard base64 of exactly 32 bytes (44 chars, ends with '=')."""
    if not isinstance(value, str) or len(value) != 44 or not value.endswith('='):
        return False
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error is a ValueError
        return False
    # b64decode ignores non-zero padding bits; a canonical key re-encodes to itself.
    return len(raw) == 32 and base64.b64encode(raw).decode('ascii') == value


def format_endpoint(host, port):
    """'host:port', or '[v6]:port' for IPv6 literals (brackets given by the user are stripped first).

    Returns None when host is None or empty.
    """
    if host is None:
        return None
    host = str(host).strip()
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    if not host:
        return None
    if not _is_int(port) or not 1 <= port <= 65535:
        raise ValueError('port must be an integer between 1 and 65535, got %r' % (port,))
    try:
        is_ipv6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_ipv6 = False
    if is_ipv6:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def endpoint_problem(value):
    """None when value is an acceptable endpoint host (name, IPv4, IPv6 with or without brackets), else why not."""
    if not isinstance(value, str):
        return 'must be a string (a host name, an IPv4 or an IPv6 address), got %s' % _type_name(value)
    if any(char.isspace() for char in value):
        return '%r must not contain whitespace' % value
    if value.startswith('['):
        closing = value.find(']')
        if closing != -1 and value[closing + 1:].startswith(':'):
            return '%r must not contain a port (the port comes from listen_port)' % value
        if closing != len(value) - 1:
            return '%r is not a valid endpoint' % value
        try:
            if ipaddress.ip_address(value[1:-1]).version == 6:
                return None
        except ValueError:
            pass
        return '%r is not a valid IPv6 address' % value
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if value.count(':') == 1:
        if value.rsplit(':', 1)[1].isdigit():
            return '%r must not contain a port (the port comes from listen_port)' % value
        return '%r is not a valid endpoint' % value
    if ':' in value:
        return '%r is not a valid IPv6 address (write IPv6 endpoints without a port, brackets optional)' % value
    name = value[:-1] if value.endswith('.') else value
    if not name or len(name) > 253:
        return '%r is not a valid host name' % value
    labels = name.split('.')
    if all(label.isdigit() for label in labels):
        return '%r is not a valid IPv4 address' % value
    for label in labels:
        if not label or len(label) > 63 or not set(label) <= _HOSTNAME_LABEL_CHARS or label[0] == '-' or label[-1] == '-':
            return '%r is not a valid host name' % value
    return None


def interface_name_problem(value):
    """None when value is a valid Linux interface name (the kernel's dev_valid_name rules), else why not."""
    if not isinstance(value, str):
        return 'must be a string, got %s' % _type_name(value)
    if not 1 <= len(value) <= INTERFACE_NAME_MAX_LENGTH:
        return '%r must be 1 to %d characters long' % (value, INTERFACE_NAME_MAX_LENGTH)
    if value in ('.', '..'):
        return '%r is not a valid interface name' % value
    if '/' in value or ':' in value or any(char.isspace() for char in value):
        return '%r must not contain "/", ":" or whitespace' % value
    return None


# ---------------------------------------------------------------------------------------------
# Reading the inputs (defaults applied)
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
    settings['dns'] = _as_list(settings.get('dns'))
    settings.setdefault('table', None)
    settings.setdefault('fwmark', None)
    for key in HOOK_KEYS:
        settings[key] = _as_list(settings.get(key))
    settings['preshared_keys'] = bool(settings.get('preshared_keys'))
    settings['address_pools'] = _as_list(settings.get('address_pools'))
    settings['road_warriors'] = [road_warrior_settings(rw, settings['address_pools']) for rw in _as_list(settings.get('road_warriors'))]
    return settings


def road_warrior_settings(road_warrior, address_pools):
    """The road warrior dict with defaults filled in; allowed_ips defaults to the network's address_pools."""
    settings = dict(road_warrior)
    settings['addresses'] = _as_list(settings.get('addresses'))
    settings.setdefault('public_key', None)
    if settings.get('allowed_ips') is None:
        settings['allowed_ips'] = list(address_pools)
    settings['dns'] = _as_list(settings.get('dns'))
    if settings.get('persistent_keepalive') is None:
        settings['persistent_keepalive'] = DEFAULT_ROAD_WARRIOR_KEEPALIVE
    return settings


def _group_hosts(groups, group_name):
    if not isinstance(group_name, str) or not group_name or not _is_mapping(groups):
        return []
    hosts = groups.get(group_name)
    if not _is_list(hosts):
        return []
    return [host for host in hosts if isinstance(host, str)]


def network_hubs(network, groups):
    """Sorted hosts of the network's hubs_group ([] without one). The first is the primary hub."""
    return sorted(set(_group_hosts(groups, network.get('hubs_group'))))


def network_members(network, groups):
    """Sorted members of a network: hosts of members_group (default: the network name) and of hubs_group."""
    members_group = network.get('members_group')
    if members_group is None:
        members_group = network.get('name')
    return sorted(set(_group_hosts(groups, members_group)) | set(network_hubs(network, groups)))


def members_by_network(networks, groups):
    """Network name -> sorted member hosts, for every network that has a name.

    Tolerates invalid entries (skipped) because the role calls it before validate().
    """
    members = {}
    if not _is_list(networks):
        return members
    for network in networks:
        if _is_mapping(network) and isinstance(network.get('name'), str):
            members[network['name']] = network_members(network, groups)
    return members


def _host_data(inventory, host):
    data = inventory.get(host) if _is_mapping(inventory) else None
    return data if _is_mapping(data) else {}


def host_network_settings(inventory, host, network_name):
    """wireguard_host_networks[network_name] of a host ({} when absent)."""
    networks = _host_data(inventory, host).get('networks')
    if not _is_mapping(networks):
        return {}
    settings = networks.get(network_name)
    return settings if _is_mapping(settings) else {}


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
    return [_normalize_prefix(prefix) for prefix in _as_list(host_network_settings(inventory, host, network_name).get('routed_networks'))]


# ---------------------------------------------------------------------------------------------
# Address allocation
# ---------------------------------------------------------------------------------------------

def _candidate_slot(network_name, pool, name, attempt, size):
    digest = hashlib.sha256(('%s|%s|%s|%d' % (network_name, pool, name, attempt)).encode('utf-8')).hexdigest()
    return int(digest, 16) % size


def _explicit_addresses(network, members, inventory):
    """name -> list of explicitly configured addresses (strings) for members and road warriors."""
    explicit = {}
    for host in members:
        explicit[host] = _as_list(host_network_settings(inventory, host, network['name']).get('addresses'))
    for road_warrior in network['road_warriors']:
        explicit[road_warrior['name']] = _as_list(road_warrior.get('addresses'))
    return explicit


def _allocate(network, members, inventory):
    network = network_settings(network)
    network_name = network['name']
    pools = [ipaddress.ip_network(pool) for pool in network['address_pools']]
    explicit = _explicit_addresses(network, members, inventory)
    names = sorted(explicit)
    addresses = dict((name, []) for name in names)
    notes = []
    for name in names:
        for text in explicit[name]:
            ip = parse_host_address(text)[0]
            if not any(ip.version == pool.version for pool in pools):
                raise ValueError('network %s: address %s of %s matches no pool' % (network_name, ip, name))

    for pool in pools:
        pool_text = str(pool)
        taken = {}      # int address -> name holding it
        assigned = {}   # name -> int address
        for name in names:
            for text in explicit[name]:
                ip, prefix_length = parse_host_address(text)
                if ip.version != pool.version:
                    continue
                if ip not in pool or not _is_usable(pool, ip):
                    raise ValueError('network %s: address %s of %s is not a usable address of pool %s' % (network_name, ip, name, pool_text))
                if name in assigned:
                    raise ValueError('network %s: %s has more than one %s address' % (network_name, name, _family(pool.version)))
                if int(ip) in taken:
                    raise ValueError('network %s: address %s is given to both %s and %s' % (network_name, ip, taken[int(ip)], name))
                taken[int(ip)] = name
                assigned[name] = int(ip)

        first, size = usable_range(pool)
        pending = [name for name in names if name not in assigned]
        if len(pending) > size - len(taken):
            raise ValueError('network %s: pool %s has %d usable addresses, too few for %d members and road warriors'
                             % (network_name, pool_text, size, len(names)))

        # Round-based probing: every name tries its attempt-0 slot before anyone tries attempt 1, so a
        # name that got its first choice can only lose it to a name wanting that very slot first.
        first_choice = {}
        attempts = {}
        for attempt in range(ALLOCATION_ROUNDS):
            if not pending:
                break
            still_pending = []
            for name in pending:
                candidate = first + _candidate_slot(network_name, pool_text, name, attempt, size)
                if attempt == 0:
                    first_choice[name] = candidate
                if candidate in taken:
                    still_pending.append(name)
                else:
                    taken[candidate] = name
                    assigned[name] = candidate
                    attempts[name] = attempt
            pending = still_pending
        for name in pending:
            candidate = first_choice[name]
            while candidate in taken:
                candidate = first + (candidate - first + 1) % size
            taken[candidate] = name
            assigned[name] = candidate
            attempts[name] = ALLOCATION_ROUNDS

        for name in names:
            addresses[name].append('%s/%d' % (ipaddress.ip_address(assigned[name]), pool.prefixlen))
        for name in sorted(attempts):
            if attempts[name] == 0:
                continue
            wanted = ipaddress.ip_address(first_choice[name])
            holder = taken[first_choice[name]]
            got = ipaddress.ip_address(assigned[name])
            notes.append({
                'network': network_name,
                'pool': pool_text,
                'name': name,
                'address': '%s/%d' % (got, pool.prefixlen),
                'first_choice': '%s/%d' % (wanted, pool.prefixlen),
                'taken_by': holder,
                'attempts': attempts[name] + 1,
                'message': ('network %s: %s got %s instead of its first choice %s (held by %s); its address may change '
                            'when %s or other members are removed or added; pin it with an explicit address to keep it'
                            % (network_name, name, got, wanted, holder, holder)),
            })
    return addresses, notes


def allocate_addresses(network, members, inventory):
    """Addresses of every member host and road warrior of a network: name -> ['ip/prefix', ...].

    One address per pool (in address_pools order), with the pool's prefix length so that the
    interface gets the route to the whole pool, e.g. '10.77.0.23/24', 'fd77:77::3a1f:9c2e:1b/64'.

    Rules, per pool:

    1. Explicit addresses win and are reserved before anything is hashed: a host's
       ``wireguard_host_networks[<network>].addresses`` and a road warrior's ``addresses`` (the
       address of the pool's family; given with or without prefix).
    2. Everyone else gets slot ``int(sha256("<network name>|<pool>|<name>|<attempt>")) mod U`` of
       the U usable addresses (the network address, and for IPv4 the broadcast address, are never
       used), ``<pool>`` being the pool in normalized form (``str(ipaddress.ip_network(pool))``).
       Probing goes in rounds: in round ``attempt`` (0, 1, 2, ...) every name still without an
       address tries its slot for that attempt, in sorted name order; a slot already held is
       skipped. After ALLOCATION_ROUNDS rounds (only reachable in nearly full pools) the remaining
       names take the next free slot upwards from their first choice, wrapping around.

    Stability, precisely:

    * The result depends only on the network name, the pools, the set of names and the explicit
      addresses; not on the order of members, groups or road warriors.
    * A name that got its first choice (attempt 0) keeps its address when any other name is removed.
      It also keeps it when names are added, unless an added name has the same first-choice slot
      and sorts before it, or an added explicit address claims it.
    * A name that did not get its first choice (see allocation_notes) depends on the names holding
      the slots it tried: its address may move when those names (the one holding its first choice
      in particular) are removed, and when names are added or removed that change which of the
      slots it tried are free. Pin such names with an explicit address if the address must not move.

    Raises ValueError when the input is invalid (use validate() first) or a pool is too small.
    """
    return _allocate(network, members, inventory)[0]


def allocation_notes(network, members, inventory):
    """Names of the network that did not get their first-choice slot (see allocate_addresses).

    A list of dicts sorted by pool then name: {network, pool, name, address, first_choice,
    taken_by (the name holding the first-choice slot), attempts, message}. The role shows the
    messages as warnings: these addresses may move when taken_by is removed.
    """
    return _allocate(network, members, inventory)[1]


def plan_allocation_notes(networks, groups, inventory):
    """allocation_notes() of every network, in wireguard_networks order (the preshared key seed plays no part)."""
    _raise_if_invalid(networks, groups, inventory, check_seed=False)
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
# Validation
# ---------------------------------------------------------------------------------------------

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


def _check_int(errors, where, value, low, high, allow_none=False):
    if value is None and allow_none:
        return True
    if not _is_int(value):
        errors.append('%s: must be an integer between %d and %d, got %r' % (where, low, high, value))
        return False
    if not low <= value <= high:
        errors.append('%s: %d is out of range (%d-%d)' % (where, value, low, high))
        return False
    return True


def _check_ip_list(errors, where, value):
    if value is None:
        return
    if not _is_list(value):
        errors.append('%s: must be a list of IP addresses, got %s' % (where, _type_name(value)))
        return
    for item in value:
        try:
            if not isinstance(item, str):
                raise ValueError()
            ipaddress.ip_address(item)
        except ValueError:
            errors.append('%s: %r is not an IP address' % (where, item))


def _parse_cidr_list(errors, where, value):
    """Valid prefixes of a list of CIDR strings (host bits must be zero); errors for the rest."""
    if value is None:
        return []
    if not _is_list(value):
        errors.append('%s: must be a list of CIDR prefixes, got %s' % (where, _type_name(value)))
        return []
    prefixes = []
    for item in value:
        if not isinstance(item, str) or '/' not in item:
            errors.append('%s: %r is not a CIDR prefix (address/length)' % (where, item))
            continue
        try:
            prefixes.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            if 'host bits set' in str(exc):
                errors.append('%s: %s has host bits set (did you mean %s?)' % (where, item, ipaddress.ip_network(item, strict=False)))
            else:
                errors.append('%s: %r is not a CIDR prefix' % (where, item))
    return prefixes


def _parse_addresses(errors, where, value, info, owner_label):
    """Validate explicit addresses of one host or road warrior against the network's pools.

    Returns the valid ip_address objects (at most one per family).
    """
    if value is None:
        return []
    if not _is_list(value):
        errors.append('%s: must be a list of IP addresses, got %s' % (where, _type_name(value)))
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
            errors.append('%s: %s is an %s address but network %s has no %s pool' % (where, ip, _family(ip.version), info.name, _family(ip.version)))
            continue
        if ip not in pool:
            errors.append('%s: %s is outside the pool %s of network %s' % (where, ip, pool, info.name))
            continue
        if prefix_length is not None and prefix_length != pool.prefixlen:
            errors.append('%s: %s has prefix length /%d but the pool %s of network %s is a /%d (write %s or %s/%d)'
                          % (where, item, prefix_length, pool, info.name, pool.prefixlen, ip, ip, pool.prefixlen))
            continue
        if not _is_usable(pool, ip):
            kind = 'network' if ip == pool.network_address else 'broadcast'
            errors.append('%s: %s is the %s address of the pool %s of network %s' % (where, ip, kind, pool, info.name))
            continue
        if ip.version in found:
            errors.append('%s: %s has two %s addresses (%s and %s) but one per pool is allowed'
                          % (where, owner_label, _family(ip.version), found[ip.version], ip))
            continue
        found[ip.version] = ip
    return list(found.values())


def _validate_network_fields(index, network, groups, errors):
    info = _NetworkInfo(index)
    path = info.path
    if not _is_mapping(network):
        errors.append('all: %s: must be a mapping (a network), got %s' % (path, _type_name(network)))
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

    for key in sorted(network):
        if key not in NETWORK_KEYS:
            error(key, 'unknown key (known keys: %s)' % ', '.join(NETWORK_KEYS))

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
            info.members = _group_hosts(groups, info.name)
    elif not isinstance(members_group, str) or not members_group:
        error('members_group', 'must be a group name, got %r' % (members_group,))
    else:
        if members_group not in groups:
            error('members_group', "group '%s' does not exist in the inventory" % members_group)
        info.members = _group_hosts(groups, members_group)

    hubs_group = network.get('hubs_group')
    if hubs_group is not None:
        if not isinstance(hubs_group, str) or not hubs_group:
            error('hubs_group', 'must be a group name or null, got %r' % (hubs_group,))
            hubs_group = None
        elif hubs_group not in groups:
            error('hubs_group', "group '%s' does not exist in the inventory" % hubs_group)
            hubs_group = None
        else:
            info.hubs = sorted(set(_group_hosts(groups, hubs_group)))
    info.members = sorted(set(info.members) | set(info.hubs))

    pools_value = network.get('address_pools')
    if pools_value is None:
        error('address_pools', 'required (one or two CIDR prefixes, at most one IPv4 and one IPv6)')
    elif not _is_list(pools_value) or not 1 <= len(pools_value) <= 2:
        error('address_pools', 'must be a list of one or two CIDR prefixes (at most one IPv4 and one IPv6)')
    else:
        pool_errors = []
        pools = _parse_cidr_list(pool_errors, '%s: %s.address_pools' % (info.label, path), pools_value)
        errors.extend(pool_errors)
        if len(pools) == 2 and pools[0].version == pools[1].version:
            error('address_pools', 'two %s pools (%s, %s); give at most one IPv4 and one IPv6 pool' % (_family(pools[0].version), pools[0], pools[1]))
        elif not pool_errors:
            info.pools = pools
            info.pools_valid = True

    listen_port = network.get('listen_port')
    if listen_port is not None and _check_int(errors, '%s: %s.listen_port' % (info.label, path), listen_port, 1, 65535):
        info.listen_port = listen_port
    _check_int(errors, '%s: %s.mtu' % (info.label, path), network.get('mtu'), MTU_MIN, MTU_MAX, allow_none=True)
    _check_int(errors, '%s: %s.persistent_keepalive' % (info.label, path), network.get('persistent_keepalive'), 0, 65535, allow_none=True)
    _check_ip_list(errors, '%s: %s.dns' % (info.label, path), network.get('dns'))

    table = network.get('table')
    if table is not None and table not in ('off', 'auto'):
        # The role's argument spec types table as str, so '1234' is as valid as 1234.
        number = int(table) if isinstance(table, str) and table.isdigit() else table
        if not _is_int(number) or not 1 <= number <= UINT32_MAX:
            error('table', "%r must be null, 'off', 'auto' or a routing table number (1-%d)" % (table, UINT32_MAX))
    _check_int(errors, '%s: %s.fwmark' % (info.label, path), network.get('fwmark'), 0, UINT32_MAX, allow_none=True)

    for key in HOOK_KEYS:
        value = network.get(key)
        if value is not None and (not _is_list(value) or not all(isinstance(item, str) for item in value)):
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
    if not _is_list(value):
        errors.append('%s: %s: must be a list, got %s' % (info.label, path, _type_name(value)))
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
        if not _is_mapping(road_warrior):
            errors.append('%s: %s: must be a mapping, got %s' % (info.label, where, _type_name(road_warrior)))
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

        for key in sorted(road_warrior):
            if key not in ROAD_WARRIOR_KEYS:
                error(key, 'unknown key (known keys: %s)' % ', '.join(ROAD_WARRIOR_KEYS))
        public_key = road_warrior.get('public_key')
        if public_key not in (None, '') and not is_wireguard_key(public_key):
            # The value is not echoed: a private key pasted by mistake must not end up in a log.
            error('public_key', 'is not a WireGuard public key (standard base64 of 32 bytes: 44 characters ending with "=")')
        _parse_cidr_list(errors, '%s: %s.allowed_ips' % (info.label, where), road_warrior.get('allowed_ips'))
        _check_ip_list(errors, '%s: %s.dns' % (info.label, where), road_warrior.get('dns'))
        _check_int(errors, '%s: %s.persistent_keepalive' % (info.label, where), road_warrior.get('persistent_keepalive'), 0, 65535, allow_none=True)
        if name_ok:
            info.road_warriors.append((rw_index, road_warrior, where))


def _validate_host_entries(network_infos, inventory, errors):
    """Syntax of every host's wireguard_endpoint and wireguard_host_networks entries."""
    by_name = dict((info.name, info) for info in network_infos if info.name is not None)
    for host in sorted(inventory):
        data = inventory[host]
        if not _is_mapping(data):
            errors.append('host %s: wireguard_host_networks: host data must be a mapping, got %s' % (host, _type_name(data)))
            continue
        endpoint = data.get('endpoint')
        if endpoint is not None and endpoint != '':
            problem = endpoint_problem(endpoint)
            if problem:
                errors.append('host %s: wireguard_endpoint: %s' % (host, problem))
        networks = data.get('networks')
        if networks is None:
            continue
        if not _is_mapping(networks):
            errors.append('host %s: wireguard_host_networks: must be a mapping of network name to settings, got %s' % (host, _type_name(networks)))
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
            if not _is_mapping(settings):
                errors.append('%s: must be a mapping, got %s' % (where, _type_name(settings)))
                continue
            for key in sorted(settings, key=str):
                if key not in HOST_NETWORK_KEYS:
                    errors.append('%s.%s: unknown key (known keys: %s)' % (where, key, ', '.join(HOST_NETWORK_KEYS)))
            _check_int(errors, '%s.listen_port' % where, settings.get('listen_port'), 1, 65535, allow_none=True)
            endpoint = settings.get('endpoint')
            if endpoint is not None and endpoint != '':
                problem = endpoint_problem(endpoint)
                if problem:
                    errors.append('%s.endpoint: %s' % (where, problem))


def _validate_network_hosts(info, inventory, errors):
    """Addresses, routed networks and endpoints of a network's members and road warriors."""
    owners = {}   # ip -> label of its owner
    routed_owners = {}
    configured_hosts = [host for host in inventory if _is_mapping(_host_data(inventory, host).get('networks'))
                        and _is_mapping(_host_data(inventory, host)['networks'].get(info.name))]
    for host in sorted(set(info.members) | set(configured_hosts)):
        settings = host_network_settings(inventory, host, info.name)
        where = 'host %s: wireguard_host_networks.%s' % (host, info.name)
        addresses = _parse_addresses(errors, '%s.addresses' % where, settings.get('addresses'), info, 'host %s' % host)
        routed = _parse_cidr_list(errors, '%s.routed_networks' % where, settings.get('routed_networks'))
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
            if _is_int(port):
                if port in ports:
                    other = ports[port]
                    errors.append('host %s: %s.listen_port: networks %s and %s both listen on UDP port %d on this host; '
                                  'set a different listen_port (or wireguard_host_networks.%s.listen_port)'
                                  % (host, info.path, other.name, info.name, port, info.name))
                else:
                    ports[port] = info


def validate(networks, groups, inventory, preshared_key_seed=None):
    """Every problem of the WireGuard configuration, as a list of messages ([] when valid).

    Each message starts with 'host <name>', 'network <name>' or 'all' and names the variable
    (wireguard_networks[<i>].<key>, wireguard_host_networks.<network>.<key>, wireguard_endpoint,
    wireguard_preshared_key_seed). Secrets are never echoed.
    """
    return _collect_errors(networks, groups, inventory, preshared_key_seed, check_seed=True)


def _collect_errors(networks, groups, inventory, preshared_key_seed, check_seed):
    errors = []
    if not _is_list(networks):
        return ['all: wireguard_networks: must be a list of networks, got %s' % _type_name(networks)]
    if not _is_mapping(groups):
        errors.append('all: groups: must be a mapping of group name to hosts, got %s' % _type_name(groups))
        groups = {}
    if inventory is None:
        inventory = {}
    if not _is_mapping(inventory):
        errors.append('all: wireguard_host_networks: the per-host data must be a mapping of host name to data, got %s' % _type_name(inventory))
        inventory = {}

    all_hosts = set(inventory)
    for hosts in groups.values():
        if _is_list(hosts):
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
            errors.append('all: wireguard_preshared_key_seed: must be a string, got %s' % _type_name(preshared_key_seed))
        elif len(preshared_key_seed) < MIN_PRESHARED_KEY_SEED_LENGTH:
            errors.append('all: wireguard_preshared_key_seed: is shorter than %d characters; use a long random secret (e.g. openssl rand -base64 48)'
                          % MIN_PRESHARED_KEY_SEED_LENGTH)
    return errors


def _raise_if_invalid(networks, groups, inventory, preshared_key_seed=None, check_seed=True):
    errors = _collect_errors(networks, groups, inventory, preshared_key_seed, check_seed)
    if errors:
        raise ValueError('invalid WireGuard configuration:\n- ' + '\n- '.join(errors))


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------

def _public_key(public_keys, host, network_name):
    keys = public_keys.get(host) if _is_mapping(public_keys) else None
    key = keys.get(network_name) if _is_mapping(keys) else None
    return key or None


def _road_warrior_public_key(road_warrior, road_warrior_public_keys, network_name):
    if road_warrior.get('public_key'):
        return road_warrior['public_key']
    keys = road_warrior_public_keys.get(network_name) if _is_mapping(road_warrior_public_keys) else None
    key = keys.get(road_warrior['name']) if _is_mapping(keys) else None
    return key or None


def _host_routes(addresses):
    return [_host_route(address.split('/', 1)[0]) for address in addresses]


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
        allowed_ips = _host_routes(addresses[peer]) + routed[peer]
        if peer == primary_hub and not is_hub:
            if topology == 'hub_and_spoke':
                # Spokes reach everything else in the network through the primary hub.
                allowed_ips += [str(ipaddress.ip_network(pool)) for pool in network['address_pools']]
                for other in members:
                    if other not in hubs and other != host:
                        allowed_ips += routed[other]
            else:
                for road_warrior in road_warriors:
                    allowed_ips += _host_routes(addresses[road_warrior['name']])
        entry = {
            'name': peer,
            'public_key': _public_key(public_keys, peer, network_name),
            'allowed_ips': _dedupe(allowed_ips),
            'endpoint': format_endpoint(host_endpoint(inventory, peer, network_name), host_listen_port(network, inventory, peer)),
            'persistent_keepalive': network['persistent_keepalive'],
        }
        if network['preshared_keys']:
            entry['preshared_key'] = preshared_key(peer)
        peers.append(entry)

    if is_hub:
        for road_warrior in road_warriors:
            entry = {
                'name': road_warrior['name'],
                'public_key': _road_warrior_public_key(road_warrior, road_warrior_public_keys, network_name),
                'allowed_ips': _dedupe(_host_routes(addresses[road_warrior['name']])),
                'endpoint': None,
                'persistent_keepalive': 0,
            }
            if network['preshared_keys']:
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


def host_plan(networks, groups, inventory, host, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """The WireGuard interfaces of one host: one dict per network it is a member of, sorted by interface.

    See the wireguard_plan filter documentation for the layout. Raises ValueError listing every
    problem when validate() finds any. A host that is in no network gets [].
    """
    _raise_if_invalid(networks, groups, inventory, preshared_key_seed)
    plans = []
    for network in networks:
        settings = network_settings(network)
        if host in network_members(settings, groups):
            plans.append(_interface_plan(settings, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys))
    plans.sort(key=lambda plan: plan['interface'])
    return plans


def road_warrior_configs(networks, groups, inventory, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """One client configuration (without private key) per road warrior of every network.

    Networks in wireguard_networks order, road warriors sorted by name. Each: {network, name,
    addresses, dns, mtu, peers}; peers are the network's hubs sorted by name: {name, public_key,
    endpoint, allowed_ips (primary hub: the road warrior's allowed_ips; other hubs: their own host
    routes), persistent_keepalive (the road warrior's), preshared_key (only with preshared_keys)}.
    Raises ValueError listing every problem when validate() finds any.
    """
    _raise_if_invalid(networks, groups, inventory, preshared_key_seed)
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
                    allowed_ips = [_normalize_prefix(prefix) for prefix in road_warrior['allowed_ips']]
                else:
                    allowed_ips = _host_routes(addresses[hub])
                entry = {
                    'name': hub,
                    'public_key': _public_key(public_keys, hub, network_name),
                    'endpoint': format_endpoint(host_endpoint(inventory, hub, network_name), host_listen_port(settings, inventory, hub)),
                    'allowed_ips': _dedupe(allowed_ips),
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
