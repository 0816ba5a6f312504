# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The files overlaynet.vpn.wireguard_interface reads: the secret-free wg-quick file, the private
# key file and the preshared key file, and the parsers of single wg-quick values that the
# desired-state builders (_wireguard_runtime) share.
#
# Secrets: the key files hold private and preshared keys, and a wg-quick file may hold one by
# mistake; no error message repeats a line that may hold one.

import re

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import normalise_address, normalise_network, split_endpoint
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import parse_int
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import decode_key

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

_DIGITS = re.compile(r'^[0-9]+$')
_HEX = re.compile(r'^0[xX][0-9a-fA-F]+$')


# ---------------------------------------------------------------------------------------------
# Values; the file parser adds the line number to their errors
# ---------------------------------------------------------------------------------------------

def parse_listen_port(text):
    """ListenPort text -> int, or None for 0 / absent (both mean a random port)."""
    if text is None:
        return None
    return parse_int(text, 'ListenPort', 0, 65535) or None


def parse_fwmark(text):
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


def parse_keepalive(text):
    """PersistentKeepalive text -> int seconds, 0 for off / absent."""
    if text is None:
        return 0
    text = str(text).strip()
    if text.lower() == 'off':
        return 0
    return parse_int(text, 'PersistentKeepalive', 0, 65535)


def parse_mtu(text):
    if text is None:
        return None
    return parse_int(text, 'MTU', 68, 65535)


def parse_save_config(text):
    if text is None:
        return False
    lowered = str(text).strip().lower()
    if lowered not in ('true', 'false'):
        raise ValueError('SaveConfig must be true or false, got %r' % text)
    return lowered == 'true'


def _validate_key_value(canonical, value):
    """Check one wg-quick value; raise ValueError whose message is safe to show (no key material)."""
    if canonical == 'Address':
        for item in value:
            normalise_address(item, 'Address')
    elif canonical == 'AllowedIPs':
        for item in value:
            normalise_network(item, 'AllowedIPs entry')
    elif canonical == 'ListenPort':
        parse_listen_port(value)
    elif canonical == 'MTU':
        parse_mtu(value)
    elif canonical == 'FwMark':
        parse_fwmark(value)
    elif canonical == 'SaveConfig':
        parse_save_config(value)
    elif canonical == 'PersistentKeepalive':
        parse_keepalive(value)
    elif canonical == 'Endpoint':
        split_endpoint(value, 'Endpoint')
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


def canonical_key(text, what):
    """text without surrounding whitespace when it is a WireGuard key; ValueError naming what (never the text) otherwise."""
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
    return canonical_key(lines[0], 'the private key')


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


PSK_FILE_HEADER = '# Managed by Ansible (overlaynet.vpn.wireguard): peer public key, preshared key.'


def render_psk_file(peers):
    """The preshared key file parse_psk_file reads, from [{'public_key', 'preshared_key'}]. It
    holds secrets: the caller keeps it out of every output."""
    lines = [PSK_FILE_HEADER]
    lines.extend('%s %s' % (peer['public_key'], peer['preshared_key']) for peer in peers)
    return '\n'.join(lines) + '\n'
