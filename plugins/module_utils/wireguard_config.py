# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Pure functions behind overlaynet.vpn.wireguard_interface: read the secret-free wg-quick file
# and the key files, work out what the live interface should look like, compare it with what
# `wg show <iface> dump` and `ip -j addr show` report, and decide between start, restart,
# `wg syncconf` and nothing.
#
# The desired state is split in two: what `wg` can change on a running interface (keys,
# peers, listen port) and what only `wg-quick up` applies (addresses, MTU, DNS, table, hooks,
# routes). A change of the second part needs a restart; it is tracked by a fingerprint,
# because most of it (DNS, hooks, routes) cannot be read back from the system.
#
# Secrets: private and preshared keys pass through these functions but never into an
# exception message or into the output of runtime_differences / render_diff.

import hashlib
import ipaddress
import json
import re

from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import decode_key, public_key_from_private

ACTIONS = ('none', 'start', 'restart', 'sync')
PEER_FIELDS = ('preshared_key', 'endpoint', 'allowed_ips', 'persistent_keepalive')
HOOK_KEYS = ('PreUp', 'PostUp', 'PreDown', 'PostDown')

# Canonical spelling of every key wg-quick accepts, by lower-case name.
_INTERFACE_KEYS = dict((key.lower(), key) for key in (
    'Address', 'ListenPort', 'MTU', 'DNS', 'Table', 'FwMark', 'SaveConfig') + HOOK_KEYS)
_PEER_KEYS = dict((key.lower(), key) for key in ('PublicKey', 'AllowedIPs', 'Endpoint', 'PersistentKeepalive'))
_SECRET_KEYS = {
    'privatekey': 'PrivateKey does not belong in this file: the private key belongs in the key file',
    'presharedkey': 'PresharedKey does not belong in this file: preshared keys belong in the psk file',
}
# Keys that may repeat; their values accumulate. Hooks are whole commands, the others are lists.
_COMMA_LIST_KEYS = frozenset(('Address', 'DNS', 'AllowedIPs'))
_REPEATABLE_KEYS = _COMMA_LIST_KEYS | frozenset(HOOK_KEYS)

# A key name that is short and plain can be quoted in an error. A longer one may be a pasted
# key (base64 ends in '=', so a bare key line parses as "<43 characters> =").
_QUOTABLE_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_-]{0,23}$')
# Anything shaped like a WireGuard key, to scrub tool output of keys this code does not know.
_KEY_SHAPED = re.compile(r'[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=')

_DIGITS = re.compile(r'^[0-9]+$')
_HEX = re.compile(r'^0[xX][0-9a-fA-F]+$')

_LINK_LOCAL_V6 = ipaddress.ip_network('fe80::/10')


# ---------------------------------------------------------------------------------------------
# Value parsers shared by the file parser (which adds line numbers) and the desired-state builders
# ---------------------------------------------------------------------------------------------

def _parse_int(text, what, low, high):
    text = str(text).strip()
    if not _DIGITS.match(text):
        raise ValueError('%s must be an integer between %d and %d, got %r' % (what, low, high, text))
    value = int(text)
    if not low <= value <= high:
        raise ValueError('%s must be an integer between %d and %d, got %d' % (what, low, high, value))
    return value


def _parse_listen_port(text):
    """ListenPort text -> int, or None for 0 / absent (both mean a random port)."""
    if text is None:
        return None
    return _parse_int(text, 'ListenPort', 0, 65535) or None


def _parse_fwmark(text):
    """FwMark text (decimal, 0x hex or 'off') -> int, or None for off / 0 / absent."""
    if text is None:
        return None
    text = str(text).strip()
    if text.lower() == 'off':
        return None
    try:
        if _HEX.match(text):
            value = int(text[2:], 16)
        elif _DIGITS.match(text):
            value = int(text)
        else:
            raise ValueError(text)
    except ValueError:
        raise ValueError('FwMark must be off or an integer between 0 and 0xffffffff (decimal or 0x hex), got %r' % text)
    if value > 0xffffffff:
        raise ValueError('FwMark must be at most 0xffffffff, got %r' % text)
    return value or None


def _parse_keepalive(text):
    """PersistentKeepalive text -> int seconds, 0 for off / absent."""
    if text is None:
        return 0
    text = str(text).strip()
    if text.lower() == 'off':
        return 0
    return _parse_int(text, 'PersistentKeepalive', 0, 65535)


def _parse_mtu(text):
    if text is None:
        return None
    return _parse_int(text, 'MTU', 68, 65535)


def _parse_save_config(text):
    if text is None:
        return False
    lowered = str(text).strip().lower()
    if lowered not in ('true', 'false'):
        raise ValueError('SaveConfig must be true or false, got %r' % text)
    return lowered == 'true'


def _interface_sort_key(interface):
    return (interface.version, interface.ip, interface.network.prefixlen)


def _network_sort_key(network):
    return (network.version, network.network_address, network.prefixlen)


def normalise_address(text):
    """'10.0.0.1/24' (host bits kept, prefix defaults to /32 or /128) -> canonical 'ip/prefix'."""
    try:
        interface = ipaddress.ip_interface(str(text).strip())
    except ValueError:
        raise ValueError('Address %r is not an IP address with an optional prefix length' % (text,))
    return str(interface)


def normalise_addresses(texts):
    """Sorted, de-duplicated canonical 'ip/prefix' strings."""
    interfaces = set(ipaddress.ip_interface(normalise_address(text)) for text in texts)
    return [str(interface) for interface in sorted(interfaces, key=_interface_sort_key)]


def normalise_network(text):
    """'10.0.0.5/24' -> '10.0.0.0/24' (host bits dropped, as the kernel stores allowed IPs)."""
    try:
        network = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        raise ValueError('AllowedIPs entry %r is not an IP network' % (text,))
    return str(network)


def normalise_networks(texts):
    """Sorted, de-duplicated canonical network strings."""
    networks = set(ipaddress.ip_network(normalise_network(text)) for text in texts)
    return [str(network) for network in sorted(networks, key=_network_sort_key)]


def split_endpoint(text):
    """'host:port' or '[v6]:port' -> (host, port). Raises ValueError (endpoints are not secret)."""
    text = str(text).strip()
    if text.startswith('['):
        closing = text.find(']')
        if closing == -1 or text[closing + 1:closing + 2] != ':':
            raise ValueError('Endpoint %r must be [IPv6 address]:port' % text)
        host, port_text = text[1:closing], text[closing + 2:]
    else:
        host, separator, port_text = text.rpartition(':')
        if not separator:
            raise ValueError('Endpoint %r must be host:port' % text)
        if ':' in host:
            raise ValueError('Endpoint %r: write IPv6 addresses in brackets, [address]:port' % text)
    if not host or any(char.isspace() for char in host):
        raise ValueError('Endpoint %r has no valid host' % text)
    return host, _parse_int(port_text, 'the port of Endpoint %r' % text, 1, 65535)


def ip_endpoint(text):
    """(ip_address, port) when text is an IP literal with a port, else None (a host name, or None)."""
    if text is None:
        return None
    try:
        host, port = split_endpoint(text)
        return ipaddress.ip_address(host), port
    except ValueError:
        return None


def _validate_key_value(canonical, value):
    """Check one wg-quick value; raise ValueError whose message is safe to show (no key material)."""
    if canonical == 'Address':
        for item in value:
            normalise_address(item)
    elif canonical == 'AllowedIPs':
        for item in value:
            normalise_network(item)
    elif canonical == 'ListenPort':
        _parse_listen_port(value)
    elif canonical == 'MTU':
        _parse_mtu(value)
    elif canonical == 'FwMark':
        _parse_fwmark(value)
    elif canonical == 'SaveConfig':
        _parse_save_config(value)
    elif canonical == 'PersistentKeepalive':
        _parse_keepalive(value)
    elif canonical == 'Endpoint':
        split_endpoint(value)
    elif canonical == 'PublicKey':
        try:
            decode_key(value)
        except ValueError as exc:
            raise ValueError('PublicKey is not a valid WireGuard key: %s' % exc)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def _split_list(canonical, value):
    # wg-quick splits Address and DNS on commas and whitespace; wg splits AllowedIPs on commas.
    if canonical == 'AllowedIPs':
        items = value.split(',')
    else:
        items = value.replace(',', ' ').split()
    return [item.strip() for item in items if item.strip()]


def parse_wg_quick(text):
    """Parse a wg-quick file into {'interface': {Key: value or list}, 'peers': [{Key: value or list}]}.

    Follows wg-quick: everything from the first '#' on a line is a comment (except in the hooks,
    which get the whole rest of the line, as wg-quick passes it to bash), keys and section names
    are case-insensitive (returned in their canonical spelling), Address, DNS, AllowedIPs and the
    four hooks may repeat and accumulate (the first three are also comma-separated lists).
    Raises ValueError naming the line for anything wg-quick or wg would reject, and for
    PrivateKey / PresharedKey, whose values are never repeated in a message.
    """
    interface = None
    peers = []
    section = None  # None, 'interface' or 'peer'
    current = None
    section_line = 0
    peer_lines = {}
    for number, raw_line in enumerate(text.splitlines(), 1):
        line = raw_line.split('#', 1)[0].strip()
        if not line:
            continue
        if line.startswith('['):
            name = line.lower()
            if name == '[interface]':
                if interface is not None:
                    raise ValueError('line %d: a second [Interface] section' % number)
                interface = {}
                section, current = 'interface', interface
            elif name == '[peer]':
                _check_peer_complete(current if section == 'peer' else None, section_line)
                current = {}
                peers.append(current)
                section = 'peer'
            else:
                raise ValueError('line %d: unknown section (expected [Interface] or [Peer])' % number)
            section_line = number
            continue
        if '=' not in line:
            # Not quoted: a line without '=' may be a pasted secret.
            raise ValueError('line %d: expected "Key = Value"' % number)
        name, value = line.split('=', 1)
        name, value = name.strip(), value.strip()
        lowered = name.lower()
        if lowered in _SECRET_KEYS:
            raise ValueError('line %d: %s' % (number, _SECRET_KEYS[lowered]))
        if section is None:
            raise ValueError('line %d: a key outside of any section (expected [Interface] or [Peer] first)' % number)
        known = _INTERFACE_KEYS if section == 'interface' else _PEER_KEYS
        if lowered not in known:
            shown = repr(name) if _QUOTABLE_NAME.match(name) else '(name not shown)'
            raise ValueError('line %d: unknown key %s in the [%s] section' % (number, shown, 'Interface' if section == 'interface' else 'Peer'))
        canonical = known[lowered]
        if canonical in HOOK_KEYS:
            # wg-quick hands hooks to bash with the rest of the raw line, '#' and all.
            value = raw_line.split('=', 1)[1].strip()
        if canonical in _REPEATABLE_KEYS:
            items = _split_list(canonical, value) if canonical in _COMMA_LIST_KEYS else [value]
            try:
                _validate_key_value(canonical, items)
            except ValueError as exc:
                raise ValueError('line %d: %s' % (number, exc))
            current.setdefault(canonical, []).extend(items)
            continue
        if canonical in current:
            raise ValueError('line %d: %s is given a second time in this section' % (number, canonical))
        if not value:
            raise ValueError('line %d: %s has no value' % (number, canonical))
        try:
            _validate_key_value(canonical, value)
        except ValueError as exc:
            raise ValueError('line %d: %s' % (number, exc))
        if canonical == 'PublicKey':
            if value in peer_lines:
                raise ValueError('line %d: peer %s is already defined at line %d' % (number, value, peer_lines[value]))
            peer_lines[value] = number
        current[canonical] = value
    _check_peer_complete(current if section == 'peer' else None, section_line)
    if interface is None:
        raise ValueError('no [Interface] section')
    return {'interface': interface, 'peers': peers}


def _check_peer_complete(peer, line_number):
    if peer is not None and 'PublicKey' not in peer:
        raise ValueError('the [Peer] section at line %d has no PublicKey' % line_number)


def _canonical_key(text, what):
    try:
        decode_key(text)
    except ValueError as exc:
        raise ValueError('%s is not a valid WireGuard key: %s' % (what, exc))
    return text.strip()


def parse_private_key_file(text):
    """The key of a private key file (one base64 line). Errors never contain the file's content."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError('expected exactly one line holding the private key, found %d non-empty lines' % len(lines))
    return _canonical_key(lines[0], 'the private key')


def parse_psk_file(text):
    """Parse '<peer public key> <preshared key>' lines into {public key: preshared key}.

    '#' starts a comment, blank lines are ignored. Errors name the line only: a line may hold
    a preshared key (also in the first column, when the columns are swapped).
    """
    preshared_keys = {}
    seen_on = {}
    for number, raw_line in enumerate(text.splitlines(), 1):
        line = raw_line.split('#', 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 2:
            raise ValueError('line %d: expected "<peer public key> <preshared key>", found %d fields' % (number, len(fields)))
        public_key, preshared_key = fields
        try:
            decode_key(public_key)
        except ValueError:
            raise ValueError('line %d: the peer public key (first field) is not a valid WireGuard key' % number)
        try:
            decode_key(preshared_key)
        except ValueError:
            raise ValueError('line %d: the preshared key (second field) is not a valid WireGuard key' % number)
        if public_key in seen_on:
            raise ValueError('line %d: the same peer public key is already listed at line %d' % (number, seen_on[public_key]))
        seen_on[public_key] = number
        preshared_keys[public_key] = preshared_key
    return preshared_keys


# ---------------------------------------------------------------------------------------------
# Desired state
# ---------------------------------------------------------------------------------------------

def empty_runtime():
    """The runtime of an interface that does not exist."""
    return {'private_key': None, 'listen_port': None, 'fwmark': None, 'peers': {}}


def desired_runtime(conf, private_key, psks):
    """What `wg` controls on a live interface, from the parsed wg-quick file and the secrets.

    Preshared keys of peers the file does not define are ignored (as the boot-time loader does:
    a stale line must not create a peer). An allowed IP listed for two peers is an error, since
    WireGuard keeps it for one of them only and the interface could never match the file.
    """
    interface = conf.get('interface') or {}
    runtime = {
        'private_key': _canonical_key(private_key, 'the private key'),
        'listen_port': _parse_listen_port(interface.get('ListenPort')),
        'fwmark': _parse_fwmark(interface.get('FwMark')),
        'peers': {},
    }
    owner_of_network = {}
    for index, peer in enumerate(conf.get('peers') or [], 1):
        public_key = peer.get('PublicKey')
        if public_key is None:
            raise ValueError('peer %d has no PublicKey' % index)
        public_key = _canonical_key(public_key, 'the PublicKey of peer %d' % index)
        if public_key in runtime['peers']:
            raise ValueError('peer %s is defined twice' % public_key)
        allowed_ips = normalise_networks(peer.get('AllowedIPs') or [])
        for network in allowed_ips:
            if network in owner_of_network:
                raise ValueError('AllowedIPs %s is listed for two peers (%s and %s); WireGuard keeps it for one peer only'
                                 % (network, owner_of_network[network], public_key))
            owner_of_network[network] = public_key
        endpoint = peer.get('Endpoint')
        if endpoint is not None:
            split_endpoint(endpoint)
            endpoint = endpoint.strip()
        preshared_key = psks.get(public_key)
        runtime['peers'][public_key] = {
            'preshared_key': _canonical_key(preshared_key, 'the preshared key of a peer') if preshared_key is not None else None,
            'endpoint': endpoint,
            'allowed_ips': allowed_ips,
            'persistent_keepalive': _parse_keepalive(peer.get('PersistentKeepalive')),
        }
    return runtime


def wg_quick_routes(addresses, allowed_ips, table):
    """The routes `wg-quick up` adds for these allowed IPs, sorted.

    Table = off: none. Another table than auto: every allowed IP. Table = auto: every allowed IP
    except those inside a subnet of the interface's own addresses, since wg-quick skips an allowed
    IP that a route on the interface already matches (the connected routes exist by then), and a
    default route (/0), which it sets up with policy routing instead but still needs.
    """
    if table == 'off':
        return []
    networks = [ipaddress.ip_network(normalise_network(text)) for text in allowed_ips]
    if table == 'auto':
        connected = [ipaddress.ip_interface(normalise_address(text)).network for text in addresses]
        networks = [network for network in networks
                    if network.prefixlen == 0
                    or not any(network.version == subnet.version and network.subnet_of(subnet) for subnet in connected)]
    return normalise_networks([str(network) for network in networks])


def desired_interface(conf):
    """What only `wg-quick up` applies, so a change needs a restart.

    Includes the routes wg-quick adds for the peers' AllowedIPs (see wg_quick_routes), since it
    adds them at start only. Includes FwMark, since with a default route wg-quick builds its
    policy routing rules on the fwmark at start.
    """
    interface = conf.get('interface') or {}
    save_config = _parse_save_config(interface.get('SaveConfig'))
    if save_config:
        # wg-quick down would write the live configuration, private key included, into the file.
        raise ValueError('SaveConfig = true is not supported: wg-quick would write the private and preshared keys '
                         'into the configuration file when the interface goes down')
    table = interface.get('Table')
    table = 'auto' if table is None else str(table).strip()
    addresses = normalise_addresses(interface.get('Address') or [])
    allowed_ips = [network for peer in conf.get('peers') or [] for network in peer.get('AllowedIPs') or []]
    return {
        'addresses': addresses,
        'mtu': _parse_mtu(interface.get('MTU')),
        'dns': [str(item).strip() for item in interface.get('DNS') or []],
        'table': table,
        'fwmark': _parse_fwmark(interface.get('FwMark')),
        'save_config': save_config,
        'pre_up': list(interface.get('PreUp') or []),
        'post_up': list(interface.get('PostUp') or []),
        'pre_down': list(interface.get('PreDown') or []),
        'post_down': list(interface.get('PostDown') or []),
        'routes': wg_quick_routes(addresses, allowed_ips, table),
    }


def interface_fingerprint(desired_interface_dict):
    """sha256 hex of the canonical JSON of desired_interface()'s result."""
    canonical = json.dumps(desired_interface_dict, sort_keys=True, separators=(',', ':'), ensure_ascii=True)
    return hashlib.sha256(canonical.encode('ascii')).hexdigest()


def runtime_for_sync(desired, live):
    """desired, with the listen port and fwmark the interface has where the file leaves them open.

    `wg syncconf` sets every interface field: an absent ListenPort would move the interface to a
    new random port, an absent FwMark would clear the fwmark wg-quick sets for a default route.
    """
    merged = dict(desired)
    if live is not None:
        if merged['listen_port'] is None:
            merged['listen_port'] = live.get('listen_port')
        if merged['fwmark'] is None:
            merged['fwmark'] = live.get('fwmark')
    return merged


def assemble_runtime_config(runtime):
    """The wg(8) setconf text for runtime. It holds the private key: pass it on stdin only."""
    if not runtime.get('private_key'):
        raise ValueError('the runtime configuration has no private key')
    lines = ['[Interface]', 'PrivateKey = %s' % runtime['private_key']]
    if runtime.get('listen_port') is not None:
        lines.append('ListenPort = %d' % runtime['listen_port'])
    if runtime.get('fwmark') is not None:
        lines.append('FwMark = 0x%x' % runtime['fwmark'])
    for public_key in sorted(runtime['peers']):
        peer = runtime['peers'][public_key]
        lines.extend(['', '[Peer]', 'PublicKey = %s' % public_key])
        if peer.get('preshared_key'):
            lines.append('PresharedKey = %s' % peer['preshared_key'])
        if peer.get('endpoint'):
            lines.append('Endpoint = %s' % peer['endpoint'])
        if peer.get('allowed_ips'):
            lines.append('AllowedIPs = %s' % ', '.join(peer['allowed_ips']))
        if peer.get('persistent_keepalive'):
            lines.append('PersistentKeepalive = %d' % peer['persistent_keepalive'])
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------------------------------------
# Live state
# ---------------------------------------------------------------------------------------------

def _none_if(text, none_word):
    return None if text == none_word else text


def parse_wg_dump(text):
    """Parse `wg show <iface> dump` into desired_runtime()'s shape, plus latest_handshake per peer.

    latest_handshake is the epoch second of the last handshake, 0 when there was none.
    The output holds the private key and preshared keys, so errors name the line only.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError('wg show dump printed nothing')
    fields = lines[0].split('\t')
    if len(fields) != 4:
        raise ValueError('wg show dump: line 1 has %d fields, expected 4' % len(fields))
    private_key, _public_key, listen_port, fwmark = [field.strip() for field in fields]
    try:
        runtime = {
            'private_key': _none_if(private_key, '(none)'),
            'listen_port': int(listen_port) or None,
            'fwmark': None if fwmark == 'off' else (int(fwmark, 0) or None),
            'peers': {},
        }
    except ValueError:
        raise ValueError('wg show dump: line 1 has an unexpected listen port or fwmark')
    for number, line in enumerate(lines[1:], 2):
        fields = [field.strip() for field in line.split('\t')]
        if len(fields) != 8:
            raise ValueError('wg show dump: line %d has %d fields, expected 8' % (number, len(fields)))
        public_key, preshared_key, endpoint, allowed_ips, latest_handshake, _rx, _tx, keepalive = fields
        try:
            runtime['peers'][public_key] = {
                'preshared_key': _none_if(preshared_key, '(none)'),
                'endpoint': _none_if(endpoint, '(none)'),
                'allowed_ips': [] if allowed_ips == '(none)' else normalise_networks(allowed_ips.split(',')),
                'persistent_keepalive': 0 if keepalive == 'off' else int(keepalive),
                'latest_handshake': int(latest_handshake),
            }
        except ValueError:
            raise ValueError('wg show dump: line %d has an unexpected value' % number)
    return runtime


def parse_ip_addr_json(text):
    """{'addresses': ['ip/prefix', ...] sorted, 'mtu': int or None} from `ip -j addr show dev <iface>`."""
    try:
        links = json.loads(text)
    except ValueError:
        raise ValueError('ip -j addr show printed something that is not JSON')
    if not isinstance(links, list) or not links or not isinstance(links[0], dict):
        raise ValueError('ip -j addr show printed no link')
    link = links[0]
    addresses = []
    for info in link.get('addr_info') or []:
        if info.get('family') in ('inet', 'inet6') and info.get('local') is not None:
            addresses.append('%s/%s' % (info['local'], info.get('prefixlen')))
    return {'addresses': normalise_addresses(addresses), 'mtu': link.get('mtu')}


def link_implementation(text):
    """'kernel' for a wireguard link, 'userspace' for a tun device, None otherwise, from `ip -d -j link show`."""
    try:
        links = json.loads(text)
    except ValueError:
        return None
    if not isinstance(links, list) or not links or not isinstance(links[0], dict):
        return None
    kind = (links[0].get('linkinfo') or {}).get('info_kind')
    return {'wireguard': 'kernel', 'tun': 'userspace'}.get(kind)


def addresses_differ(live_addresses, desired_addresses):
    """Compare address lists as sets; IPv6 link-local addresses the file does not list are ignored."""
    desired = set(normalise_addresses(desired_addresses or []))
    live = set()
    for address in normalise_addresses(live_addresses or []):
        if address not in desired and ipaddress.ip_interface(address).ip in _LINK_LOCAL_V6:
            continue
        live.add(address)
    return live != desired


# ---------------------------------------------------------------------------------------------
# Comparing and planning
# ---------------------------------------------------------------------------------------------

def _endpoints_differ(desired_endpoint, live_endpoint):
    desired_ip_endpoint = ip_endpoint(desired_endpoint)
    if desired_ip_endpoint is None:
        # A host name resolves to whatever it resolves to today, and peers roam: not comparable.
        return False
    return desired_ip_endpoint != ip_endpoint(live_endpoint)


def runtime_differences(desired, live):
    """Describe how live differs from desired, without any key material but public keys."""
    live = live or empty_runtime()
    listen_port = None
    if desired['listen_port'] is not None and desired['listen_port'] != live.get('listen_port'):
        listen_port = (live.get('listen_port'), desired['listen_port'])
    fwmark = None
    # No FwMark in the file leaves the fwmark to wg-quick (it sets one for a default route).
    if desired['fwmark'] is not None and desired['fwmark'] != live.get('fwmark'):
        fwmark = (live.get('fwmark'), desired['fwmark'])
    desired_peers = desired['peers']
    live_peers = live.get('peers') or {}
    peers_changed = {}
    for public_key in sorted(set(desired_peers) & set(live_peers)):
        want, have = desired_peers[public_key], live_peers[public_key]
        fields = []
        if want.get('preshared_key') != have.get('preshared_key'):
            fields.append('preshared_key')
        if _endpoints_differ(want.get('endpoint'), have.get('endpoint')):
            fields.append('endpoint')
        if normalise_networks(want.get('allowed_ips') or []) != normalise_networks(have.get('allowed_ips') or []):
            fields.append('allowed_ips')
        if (want.get('persistent_keepalive') or 0) != (have.get('persistent_keepalive') or 0):
            fields.append('persistent_keepalive')
        if fields:
            peers_changed[public_key] = fields
    return {
        'private_key_changed': desired['private_key'] != live.get('private_key'),
        'listen_port': listen_port,
        'fwmark': fwmark,
        'peers_added': sorted(set(desired_peers) - set(live_peers)),
        'peers_removed': sorted(set(live_peers) - set(desired_peers)),
        'peers_changed': peers_changed,
    }


def has_runtime_differences(differences):
    return bool(differences['private_key_changed'] or differences['listen_port'] or differences['fwmark']
                or differences['peers_added'] or differences['peers_removed'] or differences['peers_changed'])


def plan_action(service_active, link_exists, desired_fingerprint, applied_fingerprint, live_addresses, desired_addresses,
                live_mtu, desired_mtu, runtime_diff, force_restart):
    """One of 'start', 'restart', 'sync' or 'none'.

    applied_fingerprint is the fingerprint recorded at the last start or restart; None (unknown)
    lets only what can be observed (addresses, MTU) decide on a restart. desired_mtu None means
    wg-quick picks the MTU, so it is not compared.
    """
    if not link_exists or not service_active:
        return 'start'
    if force_restart:
        return 'restart'
    if applied_fingerprint is not None and applied_fingerprint != desired_fingerprint:
        return 'restart'
    if addresses_differ(live_addresses, desired_addresses):
        return 'restart'
    if desired_mtu is not None and live_mtu != desired_mtu:
        return 'restart'
    if has_runtime_differences(runtime_diff):
        return 'sync'
    return 'none'


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------

def scrub_secrets(text, secrets, public_keys=()):
    """Replace every known secret in text by '(secret)', and any other key-shaped word that is not
    a known public key by '(key)': tool messages may quote keys."""
    text = text or ''
    for secret in secrets:
        if secret:
            text = text.replace(secret, '(secret)')
    known_public = set(public_keys)
    return _KEY_SHAPED.sub(lambda match: match.group(0) if match.group(0) in known_public else '(key)', text)


def runtime_secrets(*runtimes):
    """The private and preshared keys held in runtime dicts (for scrub_secrets)."""
    secrets = []
    for runtime in runtimes:
        if not runtime:
            continue
        secrets.append(runtime.get('private_key'))
        secrets.extend(peer.get('preshared_key') for peer in (runtime.get('peers') or {}).values())
    return [secret for secret in secrets if secret]


def _render_side(runtime, interface):
    if runtime is None and interface is None:
        return '(interface down)\n'
    lines = []
    if interface is not None:
        lines.append('addresses: %s' % (', '.join(interface.get('addresses') or []) or '(none)'))
        mtu = interface.get('mtu')
        lines.append('mtu: %s' % ('automatic' if mtu is None else mtu))
    if runtime is not None:
        private_key = runtime.get('private_key')
        try:
            public_key = public_key_from_private(private_key) if private_key else '(no private key)'
        except ValueError:
            public_key = '(invalid private key)'
        lines.append('public key: %s' % public_key)
        listen_port = runtime.get('listen_port')
        lines.append('listen port: %s' % ('random' if listen_port is None else listen_port))
        fwmark = runtime.get('fwmark')
        lines.append('fwmark: %s' % ('off' if fwmark is None else '0x%x' % fwmark))
        for peer_key in sorted(runtime.get('peers') or {}):
            peer = runtime['peers'][peer_key]
            lines.append('peer %s' % peer_key)
            lines.append('  allowed ips: %s' % (', '.join(peer.get('allowed_ips') or []) or '(none)'))
            lines.append('  endpoint: %s' % (peer.get('endpoint') or '(none)'))
            keepalive = peer.get('persistent_keepalive') or 0
            lines.append('  persistent keepalive: %s' % (keepalive or 'off'))
            lines.append('  preshared key: %s' % ('yes' if peer.get('preshared_key') else 'no'))
    return '\n'.join(lines) + '\n'


def render_diff(before_runtime, after_runtime, before_iface, after_iface):
    """(before_text, after_text): peers by public key, addresses and MTU; no secret key material.

    The interface's key is shown by its public key. A *_runtime of None and a *_iface of None
    together mean the interface does not exist.
    """
    return _render_side(before_runtime, before_iface), _render_side(after_runtime, after_iface)
