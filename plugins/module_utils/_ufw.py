# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ufw rules of one role, tagged with a comment of its own ("overlaynet.vpn <role>"): the rules a role wants,
the tagged rules ufw holds (read from the files ufw keeps them in, so that the probe tells whether anything
differs without running ufw), and the ufw commands that add or delete one rule. Standard library only.

A rule is named by a key: 'udp/51820' or 'tcp/443' (the port open to the host), 'in/wg0' (traffic coming in
through the tunnel to the host), 'route/wg0' (traffic forwarded from the tunnel). Replies are let through by
ufw's own rules for established connections.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import os
import re

CONF_FILE = '/etc/ufw/ufw.conf'
DEFAULTS_FILE = '/etc/default/ufw'
RULES_FILE = '/etc/ufw/user.rules'
RULES6_FILE = '/etc/ufw/user6.rules'
COMMENT_PREFIX = 'overlaynet.vpn '
PROTOCOLS = ('udp', 'tcp')
# ### tuple ### ACTION PROTO DPORT DST SPORT SRC DIRECTION[_INTERFACE] [comment=HEX]
_TUPLE = re.compile(r'^### tuple ### (?P<action>\S+) (?P<proto>\S+) (?P<dport>\S+) (?P<dst>\S+) (?P<sport>\S+) (?P<src>\S+)'
                    r' (?P<direction>\S+)(?: comment=(?P<comment>[0-9a-f]*))?\s*$')
_ANYWHERE = ('0.0.0.0/0', '::/0')


def comment_of(owner):
    """The comment that marks the rules of one role."""
    return COMMENT_PREFIX + owner


def wanted_rules(udp_ports, tcp_ports, interfaces):
    """The sorted keys of the rules for the ports and tunnel interfaces of a role."""
    keys = set('udp/%d' % int(port) for port in udp_ports or [])
    keys.update('tcp/%d' % int(port) for port in tcp_ports or [])
    for interface in interfaces or []:
        keys.update(['in/%s' % interface, 'route/%s' % interface])
    return sorted(keys)


def rule_arguments(key):
    """(arguments that add the rule, arguments that delete it) of ufw for a key."""
    kind, separator, value = key.partition('/')
    if not separator or not value:
        raise ValueError('not a rule key: %r' % key)
    if kind in PROTOCOLS:
        return ['allow', '%s/%s' % (value, kind)], ['delete', 'allow', '%s/%s' % (value, kind)]
    if kind == 'in':
        return ['allow', 'in', 'on', value], ['delete', 'allow', 'in', 'on', value]
    if kind == 'route':
        return ['route', 'allow', 'in', 'on', value], ['route', 'delete', 'allow', 'in', 'on', value]
    raise ValueError('not a rule key: %r' % key)


def _key_of_tuple(fields):
    """The key of a parsed tuple line, or None for a rule no role of ours makes (a source, a deny, ...)."""
    if fields['dst'] not in _ANYWHERE or fields['src'] not in _ANYWHERE or fields['sport'] != 'any':
        return None
    direction, dummy, interface = fields['direction'].partition('_')
    if direction != 'in':
        return None
    if fields['action'] == 'allow' and not interface and fields['proto'] in PROTOCOLS and fields['dport'].isdigit():
        return '%s/%s' % (fields['proto'], fields['dport'])
    if fields['proto'] == 'any' and fields['dport'] == 'any' and interface:
        if fields['action'] == 'allow':
            return 'in/%s' % interface
        if fields['action'] == 'route:allow':
            return 'route/%s' % interface
    return None


def split_rules(text, comment):
    """(keys of the rules tagged with comment, keys of the same rules without it: yours, or another role's) in the text
    of a ufw rules file, read once. Only rules with the shape of a rule a role makes count: a tagged rule that no role
    makes (edited by hand into a deny, a source, ...) is in neither. ufw holds one rule per key and family, so adding
    the role's where another's exists would only take over its comment."""
    hex_comment = binascii.hexlify(comment.encode('utf-8')).decode('ascii')
    tagged, others = set(), set()
    for line in (text or '').splitlines():
        match = _TUPLE.match(line.strip())
        key = _key_of_tuple(match.groupdict()) if match else None
        if key is not None:
            (tagged if match.group('comment') == hex_comment else others).add(key)
    return tagged, others


def _read(path, root):
    try:
        with open(os.path.join(root, path.lstrip('/')), 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None


def _setting(text, name):
    """The value of NAME=value in a shell-style settings file (quotes removed), or None."""
    for line in (text or '').splitlines():
        key, separator, value = line.strip().partition('=')
        if separator and key == name:
            return value.strip().strip('"\'')
    return None


def read_ufw(comment, root='/'):
    """What ufw holds for one role: {'installed', 'enabled' (ENABLED=yes: ufw loads its rules at boot and on
    `ufw enable`), 'rules' (sorted keys present for every address family ufw handles), 'partial_rules' (sorted keys
    present for one family only), 'other_rules' (sorted keys that rules without the role's comment hold for every
    family)}."""
    conf = _read(CONF_FILE, root)
    rules_text = _read(RULES_FILE, root)
    if conf is None or rules_text is None:
        return dict(installed=False, enabled=False, rules=[], partial_rules=[], other_rules=[])
    keys, others = split_rules(rules_text, comment)
    if (_setting(_read(DEFAULTS_FILE, root), 'IPV6') or 'yes').lower() == 'yes':
        keys6, others6 = split_rules(_read(RULES6_FILE, root), comment)
        present, partial = keys & keys6, keys ^ keys6
        others &= others6
    else:
        present, partial = keys, set()
    return dict(installed=True, enabled=(_setting(conf, 'ENABLED') or '').lower() == 'yes',
                rules=sorted(present), partial_rules=sorted(partial), other_rules=sorted(others))


def rules_to_change(wanted, current):
    """(keys to add, keys to delete): wanted and current are keys; a key present for one family only (partial) is
    added again, which ufw completes. A key that a rule of yours (or of another role) holds in every family is
    not added: the port is open already, and the rule stays its owner's, never deleted with the role's."""
    wanted, present = set(wanted), set(current['rules'])
    to_add = wanted - present - set(current.get('other_rules') or [])
    return sorted(to_add), sorted((present | set(current['partial_rules'])) - wanted)
