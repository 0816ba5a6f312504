# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Where a host is reached, for every system: IP addresses with and without prefix, pools and
# their usable range, CIDR lists, endpoints (host and port) and Linux interface names.
#
# Parsers raise ValueError; `what` names the value in the message (a file's key name, say),
# so that a caller's messages name what the user wrote. The check_* and parse_*_list functions
# append to a list of messages instead, for validators that report every problem at once.

import ipaddress

from ansible_collections.overlaynet.vpn.plugins.module_utils._values import is_int, is_list, parse_int, type_name

INTERFACE_NAME_MAX_LENGTH = 15  # IFNAMSIZ - 1

_HOSTNAME_LABEL_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-')
_LINK_LOCAL_V6 = ipaddress.ip_network('fe80::/10')


def family_name(version):
    return 'IPv4' if version == 4 else 'IPv6'


# ---------------------------------------------------------------------------------------------
# Addresses and prefixes
# ---------------------------------------------------------------------------------------------

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


def host_route(address):
    """'10.77.0.5' or an ip_address -> '10.77.0.5/32'; IPv6 -> '/128'."""
    ip = ipaddress.ip_address(address)
    return '%s/%d' % (ip, ip.max_prefixlen)


def host_routes(addresses):
    """['10.77.0.5/24', 'fd77::5/64'] -> ['10.77.0.5/32', 'fd77::5/128']."""
    return [host_route(address.split('/', 1)[0]) for address in addresses]


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


def is_usable(pool, ip):
    first, size = usable_range(pool)
    return first <= int(ip) < first + size


def _interface_sort_key(interface):
    return (interface.version, interface.ip, interface.network.prefixlen)


def _network_sort_key(network):
    return (network.version, network.network_address, network.prefixlen)


def _parse_ip(parse, text, problem):
    try:
        return parse(str(text).strip())
    except ValueError:
        raise ValueError(problem)


def normalise_address(text, what='address'):
    """'10.0.0.1/24' (host bits kept, prefix defaults to /32 or /128) -> canonical 'ip/prefix'."""
    return str(_parse_ip(ipaddress.ip_interface, text, '%s %r is not an IP address with an optional prefix length' % (what, text)))


def normalise_addresses(texts, what='address'):
    """Sorted, de-duplicated canonical 'ip/prefix' strings."""
    interfaces = set(ipaddress.ip_interface(normalise_address(text, what)) for text in texts)
    return [str(interface) for interface in sorted(interfaces, key=_interface_sort_key)]


def normalise_network(text, what='network'):
    """'10.0.0.5/24' -> '10.0.0.0/24' (host bits dropped, as the kernel stores routes)."""
    return str(_parse_ip(lambda value: ipaddress.ip_network(value, strict=False), text, '%s %r is not an IP network' % (what, text)))


def normalise_networks(texts, what='network'):
    """Sorted, de-duplicated canonical network strings."""
    networks = set(ipaddress.ip_network(normalise_network(text, what)) for text in texts)
    return [str(network) for network in sorted(networks, key=_network_sort_key)]


def addresses_differ(live_addresses, desired_addresses):
    """Compare address lists as sets; IPv6 link-local addresses the desired list does not hold are ignored
    (the kernel adds one to every interface that has a link-layer address)."""
    desired = set(normalise_addresses(desired_addresses or []))
    live = set()
    for address in normalise_addresses(live_addresses or []):
        if address not in desired and ipaddress.ip_interface(address).ip in _LINK_LOCAL_V6:
            continue
        live.add(address)
    return live != desired


def check_ip_list(errors, where, value):
    """Append a message to errors for a value that is not a list of IP addresses (None is fine)."""
    if value is None:
        return
    if not is_list(value):
        errors.append('%s: must be a list of IP addresses, got %s' % (where, type_name(value)))
        return
    for item in value:
        try:
            if not isinstance(item, str):
                raise ValueError()
            ipaddress.ip_address(item)
        except ValueError:
            errors.append('%s: %r is not an IP address' % (where, item))


def parse_cidr_list(errors, where, value):
    """Valid prefixes of a list of CIDR strings (host bits must be zero); messages in errors for the rest."""
    if value is None:
        return []
    if not is_list(value):
        errors.append('%s: must be a list of CIDR prefixes, got %s' % (where, type_name(value)))
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


def overlapping_networks(networks):
    """(i, j) for every pair of ip_networks of the list, i < j, that overlap (the same family; one inside the other or equal).

    For checks that name both owners: the caller keeps who owns each network in a list of the same order.
    """
    return [(first, second)
            for first in range(len(networks))
            for second in range(first + 1, len(networks))
            if networks[first].version == networks[second].version and networks[first].overlaps(networks[second])]


# ---------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------

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
    if not is_int(port) or not 1 <= port <= 65535:
        raise ValueError('port must be an integer between 1 and 65535, got %r' % (port,))
    try:
        is_ipv6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_ipv6 = False
    if is_ipv6:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def split_endpoint(text, what='endpoint'):
    """'host:port' or '[v6]:port' -> (host, port). Raises ValueError (endpoints are not secret)."""
    text = str(text).strip()
    if text.startswith('['):
        closing = text.find(']')
        if closing == -1 or text[closing + 1:closing + 2] != ':':
            raise ValueError('%s %r must be [IPv6 address]:port' % (what, text))
        host, port_text = text[1:closing], text[closing + 2:]
    else:
        host, separator, port_text = text.rpartition(':')
        if not separator:
            raise ValueError('%s %r must be host:port' % (what, text))
        if ':' in host:
            raise ValueError('%s %r: write IPv6 addresses in brackets, [address]:port' % (what, text))
    if not host or any(char.isspace() for char in host):
        raise ValueError('%s %r has no valid host' % (what, text))
    return host, parse_int(port_text, 'the port of %s %r' % (what, text), 1, 65535)


def ip_endpoint(text):
    """(ip_address, port) when text is an IP literal with a port, else None (a host name, or None)."""
    if text is None:
        return None
    try:
        host, port = split_endpoint(text)
        return ipaddress.ip_address(host), port
    except ValueError:
        return None


def endpoint_problem(value, port_setting='listen_port'):
    """None when value is an acceptable endpoint host (name, IPv4, IPv6 with or without brackets), else why not.

    port_setting: the setting the port comes from, named when value holds a port.
    """
    if not isinstance(value, str):
        return 'must be a string (a host name, an IPv4 or an IPv6 address), got %s' % type_name(value)
    if any(char.isspace() for char in value):
        return '%r must not contain whitespace' % value
    if value.startswith('['):
        closing = value.find(']')
        if closing != -1 and value[closing + 1:].startswith(':'):
            return '%r must not contain a port (the port comes from %s)' % (value, port_setting)
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
            return '%r must not contain a port (the port comes from %s)' % (value, port_setting)
        return '%r is not a valid endpoint' % value
    if ':' in value:
        return '%r is not a valid IPv6 address (write IPv6 endpoints without a port, brackets optional)' % value
    if all(label.isdigit() for label in (value[:-1] if value.endswith('.') else value).split('.')):
        return '%r is not a valid IPv4 address' % value
    return host_name_problem(value)


def host_name_problem(value):
    """None when value is a DNS host name (labels of letters, digits, "_" and "-", an optional final dot), else why not.

    A name whose labels are all numbers (an IPv4 address, valid or not) is not a host name.
    """
    if not isinstance(value, str):
        return 'must be a string (a host name), got %s' % type_name(value)
    name = value[:-1] if value.endswith('.') else value
    if not name or len(name) > 253:
        return '%r is not a valid host name' % value
    labels = name.split('.')
    if all(label.isdigit() for label in labels):
        return '%r is not a host name (its labels are all numbers)' % value
    for label in labels:
        if not label or len(label) > 63 or not set(label) <= _HOSTNAME_LABEL_CHARS or label[0] == '-' or label[-1] == '-':
            return '%r is not a valid host name' % value
    return None


# ---------------------------------------------------------------------------------------------
# Interface names
# ---------------------------------------------------------------------------------------------

def interface_name_problem(value):
    """None when value is a valid Linux interface name (the kernel's dev_valid_name rules), else why not."""
    if not isinstance(value, str):
        return 'must be a string, got %s' % type_name(value)
    if not 1 <= len(value) <= INTERFACE_NAME_MAX_LENGTH:
        return '%r must be 1 to %d characters long' % (value, INTERFACE_NAME_MAX_LENGTH)
    if value in ('.', '..'):
        return '%r is not a valid interface name' % value
    if '/' in value or ':' in value or any(char.isspace() for char in value):
        return '%r must not contain "/", ":" or whitespace' % value
    return None
