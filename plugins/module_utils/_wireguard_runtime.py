# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The live side of overlaynet.vpn.wireguard_interface: what the interface should look like
# (from the parsed files, see _wireguard_conf), what `wg show <iface> dump` and
# `ip -j addr show` say it looks like, how the two differ, and whether that calls for a start,
# a restart, `wg syncconf` or nothing.
#
# The desired state is split in two: what `wg` can change on a running interface (keys,
# peers, listen port) and what only `wg-quick up` applies (addresses, MTU, DNS, table, hooks,
# routes). A change of the second part needs a restart; it is tracked by a fingerprint,
# because most of it (DNS, hooks, routes) cannot be read back from the system.
#
# Secrets: private and preshared keys pass through these functions but never into an
# exception message or into the output of runtime_differences / render_diff.

import ipaddress
import json

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import (
    addresses_differ,
    ip_endpoint,
    normalise_address,
    normalise_addresses,
    normalise_network,
    normalise_networks,
    split_endpoint,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import fingerprint
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_conf import (
    canonical_key,
    parse_fwmark,
    parse_keepalive,
    parse_listen_port,
    parse_mtu,
    parse_save_config,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import public_key_from_private

ACTIONS = ('none', 'start', 'restart', 'sync')
PEER_FIELDS = ('preshared_key', 'endpoint', 'allowed_ips', 'persistent_keepalive')


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
        'private_key': canonical_key(private_key, 'the private key'),
        'listen_port': parse_listen_port(interface.get('ListenPort')),
        'fwmark': parse_fwmark(interface.get('FwMark')),
        'peers': {},
    }
    owner_of_network = {}
    for index, peer in enumerate(conf.get('peers') or [], 1):
        public_key = peer.get('PublicKey')
        if public_key is None:
            raise ValueError('peer %d has no PublicKey' % index)
        public_key = canonical_key(public_key, 'the PublicKey of peer %d' % index)
        if public_key in runtime['peers']:
            raise ValueError('peer %s is defined twice' % public_key)
        allowed_ips = normalise_networks(peer.get('AllowedIPs') or [], 'AllowedIPs entry')
        for network in allowed_ips:
            if network in owner_of_network:
                raise ValueError('AllowedIPs %s is listed for two peers (%s and %s); WireGuard keeps it for one peer only'
                                 % (network, owner_of_network[network], public_key))
            owner_of_network[network] = public_key
        endpoint = peer.get('Endpoint')
        if endpoint is not None:
            split_endpoint(endpoint, 'Endpoint')
            endpoint = endpoint.strip()
        preshared_key = psks.get(public_key)
        runtime['peers'][public_key] = {
            'preshared_key': canonical_key(preshared_key, 'the preshared key of a peer') if preshared_key is not None else None,
            'endpoint': endpoint,
            'allowed_ips': allowed_ips,
            'persistent_keepalive': parse_keepalive(peer.get('PersistentKeepalive')),
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
    networks = [ipaddress.ip_network(normalise_network(text, 'AllowedIPs entry')) for text in allowed_ips]
    if table == 'auto':
        connected = [ipaddress.ip_interface(normalise_address(text, 'Address')).network for text in addresses]
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
    save_config = parse_save_config(interface.get('SaveConfig'))
    if save_config:
        # wg-quick down would write the live configuration, private key included, into the file.
        raise ValueError('SaveConfig = true is not supported: wg-quick would write the private and preshared keys '
                         'into the configuration file when the interface goes down')
    table = interface.get('Table')
    table = 'auto' if table is None else str(table).strip()
    addresses = normalise_addresses(interface.get('Address') or [], 'Address')
    allowed_ips = [network for peer in conf.get('peers') or [] for network in peer.get('AllowedIPs') or []]
    return {
        'addresses': addresses,
        'mtu': parse_mtu(interface.get('MTU')),
        'dns': [str(item).strip() for item in interface.get('DNS') or []],
        'table': table,
        'fwmark': parse_fwmark(interface.get('FwMark')),
        'save_config': save_config,
        'pre_up': list(interface.get('PreUp') or []),
        'post_up': list(interface.get('PostUp') or []),
        'pre_down': list(interface.get('PreDown') or []),
        'post_down': list(interface.get('PostDown') or []),
        'routes': wg_quick_routes(addresses, allowed_ips, table),
    }


def interface_fingerprint(desired_interface_dict):
    """The applied-state fingerprint (sha256 of the canonical JSON) of desired_interface()'s result."""
    return fingerprint(desired_interface_dict)


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
    return {'addresses': normalise_addresses(addresses, 'Address'), 'mtu': link.get('mtu')}


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
# Reporting without secrets
# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# Converged: what the apply step records, so that the next run's probe can tell that nothing
# moved and the apply step need not run
# ---------------------------------------------------------------------------------------------

def live_state_digest(runtime, link, implementation, daemon_exe, active):
    """Fingerprint of the live interface as it matters for convergence: the unit's state, the
    implementation and the binary serving it, addresses, MTU, keys, port, fwmark and peers
    (latest handshakes and traffic counters left out). Keys only enter the hash."""
    live_runtime = None
    if runtime is not None:
        live_runtime = {
            'private_key': runtime.get('private_key'),
            'listen_port': runtime.get('listen_port'),
            'fwmark': runtime.get('fwmark'),
            'peers': dict((public_key, dict((field, peer.get(field)) for field in
                                            ('preshared_key', 'endpoint', 'allowed_ips', 'persistent_keepalive')))
                          for public_key, peer in (runtime.get('peers') or {}).items()),
        }
    return fingerprint({
        'active': bool(active),
        'implementation': implementation,
        'daemon': daemon_exe,
        'addresses': link['addresses'] if link else None,
        'mtu': link['mtu'] if link else None,
        'runtime': live_runtime,
    })


def daemon_exe_text(daemon):
    """The binary a userspace daemon runs, marked when it was replaced on disk (None without one)."""
    if daemon is None:
        return None
    return daemon['exe'] + (' (deleted)' if daemon['deleted'] else '')


def apply_inputs_digest(config_sha256, public_key, psk_sha256, userspace_binary, userspace_binary_sha256, unit):
    """Fingerprint of what the apply step was given: the wg-quick file's checksum, the public key
    of the private key file, the preshared key file's checksum (None without one), the userspace
    binary and its checksum (None for any implementation), and the unit."""
    return fingerprint({
        'config': config_sha256,
        'public_key': public_key,
        'psk': psk_sha256,
        'userspace_binary': userspace_binary,
        'userspace_binary_sha256': userspace_binary_sha256,
        'unit': unit,
    })


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
