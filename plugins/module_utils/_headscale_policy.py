# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The ACL policy of the headscale role: the variable `headscale_policy`, checked before any host
# changes (check_policy) and rendered into the JSON file headscale 0.26 to 0.29 reads in file mode
# (`policy.mode: file`, `policy.path`; policy_document, policy_text).
#
# headscale_policy (on the headscale server host), snake_case keys in YAML:
#
#   headscale_policy:
#     groups:                      # group name -> users of headscale_users
#       eng: [alice, bob]
#     tag_owners:                  # tag name -> who may set it: users, group:NAME, tag:NAME (0.28+)
#       server: [group:ops]
#       router: [group:ops]
#       exit: [carol]
#     hosts:                       # alias -> IP address or CIDR prefix
#       lan1: 10.213.1.0/24
#     acls:                        # rules, in this order; traffic no rule accepts is denied
#       - action: accept           # required; headscale has no other action
#         src: [group:eng]
#         dst: ["tag:server:22,443", "lan1:*"]
#         proto: tcp               # optional: a name (tcp, udp, icmp, ...) or an IANA number
#     auto_approvers:
#       routes: {10.213.1.0/24: [tag:router]}
#       exit_node: [tag:exit]
#     ssh:                         # Tailscale SSH rules (optional)
#       - action: accept           # or check (0.29+), with an optional check_period (12h, always)
#         src: [group:ops]
#         dst: [tag:server]
#         users: [root, autogroup:nonroot]
#     randomize_client_port: true  # 0.29+ (before, a setting of config.yaml); default false
#
# Names are written without their prefix where they are defined (groups: eng, tag_owners: server)
# and with it where they are used (group:eng, tag:server). A user is written as its headscale
# name (alice; alice@ is accepted too) and rendered as headscale 0.26+ wants it: `alice@` (a name
# that already holds an "@", an e-mail address, is rendered as it is). A bare name in src/dst is a
# host alias when hosts defines it, else a user; a host alias named like a user is refused.
# Destinations are "target:ports", ports being *, 22, 80,443 or 1000-2000; IPv6 as
# "[fd00::1]:22" or "fd00::1:22", rendered without brackets (only 0.29 reads them).
#
# None (the default) means no policy file: the role leaves policy.path empty and headscale allows
# all traffic between nodes. A mapping always renders an "acls" list, so `{}` is a deny-all
# policy on every supported version: 0.26 denies all with a policy that has no rules, while
# 0.27+ allows all when the "acls" key is missing and denies all when it is an empty list.
#
# Versions: upstream accepted less in 0.26 than later. check_policy takes the headscale version
# the role installs; without one it checks for 0.26, so the file works on every supported
# version. What depends on it:
#   - autogroups: 0.26 knows autogroup:internet (ACL destinations) and autogroup:nonroot (SSH
#     users) only; 0.27 adds autogroup:member and autogroup:tagged (ACL and SSH sources and
#     destinations) and autogroup:self (ACL and SSH destinations); 0.29 adds
#     autogroup:danger-all (ACL sources).
#   - a tag as a tag owner: 0.28+ (tag ownership must not loop).
#   - SSH action check: 0.29+ (before, headscale treated it as accept).
#   - randomize_client_port: 0.29+ (0.27 and 0.28 refuse unknown keys in the policy file).
# Otherwise the strictest rule of the four versions applies everywhere: tag names as the
# Tailscale client checks them (a letter, then letters, digits, "-"); no "*" nor host alias as an
# SSH destination; an SSH destination user needs that user alone as source, and tagged sources
# reach no user-owned device by SSH; only users, groups, autogroup:member and "*" may be the
# source of a rule with autogroup:self as destination; protocols other than tcp, udp and sctp
# take ":*" only; ports 1-65535. Protocol names are those every version knows (ipv6-icmp and fc
# are 0.29 only: write 58 or 133); note that "icmp" is ICMPv4 and ICMPv6 before 0.29, ICMPv4
# only in 0.29. A rule without proto leaves the protocols to the client's default (TCP, UDP, ICMP)
# in 0.26 and 0.29, but covers TCP and UDP only in 0.27 and 0.28.
# Group names are stricter here than upstream (which wants only the prefix and no "@"): a letter,
# then letters, digits, ".", "_" or "-". SSH login users are root, Linux user names or
# autogroup:nonroot (0.29's localpart:*@domain is not offered).
#
# Upstream read (github.com/juanfont/headscale, tags v0.26.0, v0.26.1, v0.27.0, v0.28.0,
# v0.29.0, v0.29.2; v0.29.3 was not in the snapshot): hscontrol/policy/v2/types.go (aliases,
# autogroups per position, validate), utils.go (destination and port parsing), filter.go and
# policy.go (allow-all when there is no policy or no acls), hscontrol/util/dns.go
# (ValidateUsername), docs/ref/acls.md (v0.26.0), docs/ref/policy.md (v0.29.2), CHANGELOG.md;
# tailscale tailcfg/tailcfg.go CheckTag (tag names).

import ipaddress
import json
import re

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import host_name_problem, parse_cidr_list
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import (
    check_bool,
    check_known_keys,
    is_int,
    is_list,
    is_mapping,
    list_value,
    type_name,
)

VARIABLE = 'headscale_policy'
USERS_VARIABLE = 'headscale_users'
POLICY_KEYS = ('groups', 'tag_owners', 'hosts', 'acls', 'auto_approvers', 'ssh', 'randomize_client_port')
ACL_KEYS = ('action', 'src', 'dst', 'proto')
AUTO_APPROVER_KEYS = ('routes', 'exit_node')
SSH_KEYS = ('action', 'src', 'dst', 'users', 'check_period')
OLDEST_VERSION = (0, 26)
NEWEST_VERSION = (0, 29)

# Protocol names every supported version accepts; numbers 1-255 are accepted too.
PROTOCOLS = ('tcp', 'udp', 'sctp', 'icmp', 'igmp', 'ipv4', 'ip-in-ip', 'egp', 'igp', 'gre', 'esp', 'ah')
_PORTED_PROTOCOLS = frozenset(['tcp', 'udp', 'sctp', '6', '17', '132'])
# autogroup -> {where it may be used: first minor version (0.x) that accepts it there}
AUTOGROUPS = {
    'autogroup:danger-all': {'acl_src': 29},
    'autogroup:internet': {'acl_dst': 26},
    'autogroup:member': {'acl_src': 27, 'acl_dst': 27, 'ssh_src': 27, 'ssh_dst': 27},
    'autogroup:nonroot': {'ssh_users': 26},
    'autogroup:self': {'acl_dst': 27, 'ssh_dst': 27},
    'autogroup:tagged': {'acl_src': 27, 'acl_dst': 27, 'ssh_src': 27, 'ssh_dst': 27},
}
TAG_OWNER_TAGS_SINCE = 28
SSH_CHECK_SINCE = 29
RANDOMIZE_CLIENT_PORT_SINCE = 29

# Where a token is used: its name in messages and the kinds of token headscale reads there.
_POSITIONS = {
    'acl_src': ('an ACL source', ('wildcard', 'user', 'group', 'tag', 'host', 'ip', 'autogroup')),
    'acl_dst': ('an ACL destination', ('wildcard', 'user', 'group', 'tag', 'host', 'ip', 'autogroup')),
    'ssh_src': ('an SSH source', ('user', 'group', 'tag', 'autogroup')),
    'ssh_dst': ('an SSH destination', ('user', 'tag', 'autogroup')),
    'owner': ('a tag owner', ('user', 'group', 'tag')),
    'approver': ('an auto-approver', ('user', 'group', 'tag')),
}
_KIND_NAMES = {
    'user': 'a user', 'group': 'a group', 'tag': 'a tag', 'host': 'a host alias',
    'ip': 'an IP address or prefix', 'autogroup': 'an autogroup',
}
_KIND_PLURALS = {
    'wildcard': "'*'", 'user': 'users', 'group': 'groups', 'tag': 'tags', 'host': 'host aliases',
    'ip': 'IP addresses and prefixes', 'autogroup': 'autogroups',
}
_POSITION_PLURALS = {'acl_src': 'ACL sources', 'acl_dst': 'ACL destinations', 'ssh_src': 'SSH sources', 'ssh_dst': 'SSH destinations',
                     'ssh_users': 'SSH users'}

GROUP_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9._-]*$')
TAG_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9-]*$')
LOGIN_NAME = re.compile(r'^[a-z_][a-z0-9_.-]{0,31}$')
_PORT_TEXT = re.compile(r'^[0-9*,-]+$')
_PORT_ITEM = re.compile(r'^([0-9]+)(?:-([0-9]+))?$')
_DURATION = re.compile(r'^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$')
CHECK_PERIOD_MAX_SECONDS = 168 * 3600


def policy_version(version):
    """(0, minor) of the headscale version a policy is checked for: None means the oldest supported (0.26);
    '0.29.3', 'v0.29.3', (0, 29) or (0, 29, 3) name one. ValueError outside 0.26-0.29."""
    if version is None:
        return OLDEST_VERSION
    if isinstance(version, str):
        match = re.match(r'^v?([0-9]+)\.([0-9]+)(?:\.[0-9]+)?(?:[-+].*)?$', version.strip())
        parts = (int(match.group(1)), int(match.group(2))) if match else None
    elif isinstance(version, (list, tuple)) and len(version) >= 2 and all(is_int(part) for part in version):
        parts = (version[0], version[1])
    else:
        parts = None
    if parts is None or not OLDEST_VERSION <= parts <= NEWEST_VERSION:
        raise ValueError('headscale version %r: the policy check knows 0.%d to 0.%d' % (version, OLDEST_VERSION[1], NEWEST_VERSION[1]))
    return parts


def user_token(name):
    """How the policy names a user: 'alice' -> 'alice@' (headscale 0.26+ wants an "@"); 'alice@example.org' unchanged."""
    return name if '@' in name else name + '@'


class _Names(object):
    """What the policy defines, for resolving the tokens of its rules.

    groups, tags and hosts are None when their section is not a mapping: that is reported once, and any
    name then passes as defined rather than repeating the problem at every use.
    """

    def __init__(self, policy, users):
        self.users = [user for user in users or [] if isinstance(user, str)]
        self.user_set = frozenset(self.users)
        self.groups = _defined(policy.get('groups'))
        self.tags = _defined(policy.get('tag_owners'))
        self.hosts = _defined(policy.get('hosts'))

    def defines(self, names, name):
        return names is None or name in names

    def user(self, token):
        """The user a token names ('alice' or 'alice@'), or None."""
        if token in self.user_set:
            return token
        if token.endswith('@') and token[:-1] in self.user_set:
            return token[:-1]
        return None

    def users_text(self):
        return ', '.join(self.users) if self.users else 'none'


def _defined(section):
    """The names a section (a mapping) defines; an empty set when it is unset, None when it is not a mapping."""
    if section is None:
        return frozenset()
    if not is_mapping(section):
        return None
    return frozenset(key for key in section if isinstance(key, str))


def _ip_value(token):
    """ip_address or ip_network (host bits allowed here; checked later) of an IP token, else None."""
    try:
        if '/' in token:
            return ipaddress.ip_network(token, strict=False)
        return ipaddress.ip_address(token)
    except ValueError:
        return None


def _kind(token, names):
    """The kind of a src/dst/owner/approver token: wildcard, user, group, tag, host, ip, autogroup, or None (unknown)."""
    if token == '*':
        return 'wildcard'
    for prefix, kind in (('group:', 'group'), ('tag:', 'tag'), ('autogroup:', 'autogroup')):
        if token.startswith(prefix):
            return kind
    if _ip_value(token) is not None:
        return 'ip'
    if names.hosts is not None and token in names.hosts:
        return 'host'
    if names.user(token) is not None or '@' in token:
        return 'user'
    if names.hosts is None:
        return 'host'
    return None


def _render_token(token, names):
    kind = _kind(token, names)
    if kind == 'user':
        return user_token(names.user(token) or token)
    if kind == 'ip':
        return str(_ip_value(token))
    return token


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

class _Checker(object):
    def __init__(self, errors, host, policy, users, minor):
        self.errors = errors
        self.prefix = 'host %s: %s' % (host, VARIABLE)
        self.policy = policy
        self.names = _Names(policy, users)
        self.minor = minor

    def error(self, path, message):
        self.errors.append('%s%s: %s' % (self.prefix, path, message))

    def needs(self, path, what, since):
        """False (and a message) when what needs headscale 0.<since> and the policy is checked for an older one."""
        if self.minor >= since:
            return True
        self.error(path, '%s needs headscale 0.%d or later (the policy is checked for 0.%d)' % (what, since, self.minor))
        return False

    def mapping(self, path, value, what):
        """value as a dict ({} for None); {} and a message when it is not a mapping."""
        if value is None:
            return {}
        if not is_mapping(value):
            self.error(path, 'must be a mapping of %s, got %s' % (what, type_name(value)))
            return {}
        return value

    def items(self, path, value, what):
        """(path of the entry, entry) of a list; [] and a message when it is not a list."""
        return [('%s[%d]' % (path, index), item) for index, item in enumerate(list_value(self.errors, self.prefix + path, value, what))]

    def duplicates(self, entries):
        """entries: (path, key); '<path>: <key> is listed twice' for every repeated key."""
        seen = set()
        for path, key in entries:
            if key in seen:
                self.error(path, '%s is listed twice' % key)
            seen.add(key)

    # -- tokens -------------------------------------------------------------------------------

    def token(self, path, token, position):
        """The kind of a valid token used at position, or None (reported)."""
        label, allowed = _POSITIONS[position]
        if not isinstance(token, str) or not token.strip():
            self.error(path, 'must be a non-empty string, got %r' % (token,))
            return None
        if token != token.strip():
            self.error(path, '%r has leading or trailing spaces' % token)
            return None
        kind = _kind(token, self.names)
        if kind is None:
            self.error(path, '%r is not a user of %s (%s), a host alias of %s.hosts, a group:, tag: or autogroup: name, '
                             "an IP address, a CIDR prefix or '*'" % (token, USERS_VARIABLE, self.names.users_text(), VARIABLE))
            return None
        if kind not in allowed:
            shown = token if kind == 'wildcard' else '%s (%s)' % (token, _KIND_NAMES[kind])
            self.error(path, '%s cannot be used as %s (allowed there: %s)' % (shown, label, ', '.join(_KIND_PLURALS[item] for item in allowed)))
            return None
        checks = {'user': self.user, 'group': self.group, 'tag': self.tag, 'ip': self.address, 'autogroup': self.autogroup}
        check = checks.get(kind)          # '*' and host aliases need nothing more
        return kind if check is None or check(path, token, position) else None

    def user(self, path, token, position):
        if self.names.user(token) is None:
            self.error(path, '%r is not a user of %s (%s)' % (token, USERS_VARIABLE, self.names.users_text()))
            return False
        return True

    def group(self, path, token, position):
        if not self.names.defines(self.names.groups, token[len('group:'):]):
            self.error(path, '%s is not defined in %s.groups' % (token, VARIABLE))
            return False
        return True

    def tag(self, path, token, position):
        if not self.names.defines(self.names.tags, token[len('tag:'):]):
            self.error(path, '%s is not defined in %s.tag_owners' % (token, VARIABLE))
            return False
        if position == 'owner':
            return self.needs(path, 'a tag as a tag owner (%s)' % token, TAG_OWNER_TAGS_SINCE)
        return True

    def address(self, path, token, position):
        if '/' in token:
            return bool(parse_cidr_list(self.errors, self.prefix + path, [token]))
        return True

    def autogroup(self, path, token, position):
        places = AUTOGROUPS.get(token)
        if places is None:
            self.error(path, '%r is not an autogroup headscale supports (%s)' % (token, ', '.join(sorted(AUTOGROUPS))))
            return False
        if position not in places:
            self.error(path, '%s cannot be used in %s (only in: %s)'
                       % (token, _POSITION_PLURALS[position], ', '.join(_POSITION_PLURALS[place] for place in sorted(places))))
            return False
        return self.needs(path, '%s in %s' % (token, _POSITION_PLURALS[position]), places[position])

    def token_list(self, path, value, position, what):
        """(path, kind, token) of the valid tokens of a required, non-empty list; duplicates reported."""
        if value is None or (is_list(value) and not value):
            self.error(path, 'required, a non-empty list of %s' % what)
            return []
        valid = []
        entries = self.items(path, value, what)
        for item_path, token in entries:
            kind = self.token(item_path, token, position)
            if kind is not None:
                valid.append((item_path, kind, token))
        self.duplicates([(item_path, _render_token(token, self.names)) for item_path, token in entries if isinstance(token, str)])
        return valid

    # -- sections -----------------------------------------------------------------------------

    def check(self):
        check_known_keys(self.errors, self.prefix, self.policy, POLICY_KEYS)
        self.groups()
        self.tag_owners()
        self.hosts()
        self.acls()
        self.auto_approvers()
        self.ssh()
        self.randomize_client_port(self.policy.get('randomize_client_port'))

    def defined_name(self, path, name, prefix, pattern, rule):
        """True when a name defined under groups or tag_owners is valid."""
        if isinstance(name, str) and name.startswith(prefix):
            self.error(path, '%r: write the name without the %r prefix (%s)' % (name, prefix, name[len(prefix):]))
            return False
        if not isinstance(name, str) or not pattern.match(name):
            self.error(path, '%r is not a valid %s name (%s)' % (name, prefix[:-1], rule))
            return False
        return True

    def groups(self):
        groups = self.mapping('.groups', self.policy.get('groups'), 'group name to user names')
        for name in sorted(groups, key=str):
            if not self.defined_name('.groups', name, 'group:', GROUP_NAME, 'a letter, then letters, digits, ".", "_" or "-"'):
                continue
            path = '.groups.%s' % name
            members = []
            for item_path, member in self.items(path, groups[name], 'user names'):
                if isinstance(member, str) and member.startswith('group:'):
                    self.error(item_path, '%s: a group cannot hold a group (headscale refuses nested groups)' % member)
                elif not isinstance(member, str) or self.names.user(member) is None:
                    self.error(item_path, '%r is not a user of %s (%s)' % (member, USERS_VARIABLE, self.names.users_text()))
                else:
                    members.append((item_path, self.names.user(member)))
            self.duplicates(members)

    def tag_owners(self):
        owners = self.mapping('.tag_owners', self.policy.get('tag_owners'), 'tag name to owners')
        owned_by = {}
        for name in sorted(owners, key=str):
            if not self.defined_name('.tag_owners', name, 'tag:', TAG_NAME, 'a letter, then letters, digits or "-"'):
                continue
            path = '.tag_owners.%s' % name
            entries = self.items(path, owners[name], 'owners (users, group:NAME, tag:NAME)')
            owned_by[name] = []
            for item_path, owner in entries:
                kind = self.token(item_path, owner, 'owner')
                if kind == 'tag':
                    owned_by[name].append(owner[len('tag:'):])
            self.duplicates([(item_path, _render_token(owner, self.names)) for item_path, owner in entries if isinstance(owner, str)])
        self.tag_loops(owned_by)

    def tag_loops(self, owned_by):
        """A tag that owns itself through other tags: headscale 0.28+ refuses the policy."""
        reported = set()
        for start in sorted(owned_by):
            chain = None if start in reported else self.loop_from(start, owned_by, [start])
            if chain:
                self.error('.tag_owners.%s' % start, 'tag:%s owns itself (%s)' % (start, ' -> '.join('tag:' + tag for tag in chain)))
                reported.update(chain)

    def loop_from(self, start, owned_by, chain):
        for owner in owned_by.get(chain[-1], []):
            if owner == start:
                return chain + [owner]
            if owner not in chain:
                found = self.loop_from(start, owned_by, chain + [owner])
                if found:
                    return found
        return None

    def hosts(self):
        hosts = self.mapping('.hosts', self.policy.get('hosts'), 'host alias to IP address or CIDR prefix')
        for name in sorted(hosts, key=str):
            problem = host_name_problem(name)
            if problem:
                self.error('.hosts', problem)
                continue
            path = '.hosts.%s' % name
            if name in self.names.user_set:
                self.error(path, '%s is also a user of %s: a bare name in src or dst would mean either; rename the host alias'
                           % (name, USERS_VARIABLE))
            value = hosts[name]
            if isinstance(value, str) and '/' in value:
                parse_cidr_list(self.errors, self.prefix + path, [value])
            elif not isinstance(value, str) or _ip_value(value) is None:
                self.error(path, '%r is not an IP address or CIDR prefix' % (value,))

    def action(self, path, value, choices, what):
        if value is None:
            self.error(path, 'required (%s)' % ' or '.join(choices))
            return None
        if value not in choices:
            self.error(path, '%r is not supported: %s' % (value, what))
            return None
        return value

    def acls(self):
        rules = []
        for path, rule in self.items('.acls', self.policy.get('acls'), 'rules'):
            if not is_mapping(rule):
                self.error(path, 'must be a mapping (%s), got %s' % (', '.join(ACL_KEYS), type_name(rule)))
                continue
            known = len(self.errors)
            check_known_keys(self.errors, self.prefix + path, rule, ACL_KEYS)
            self.action(path + '.action', rule.get('action'), ('accept',),
                        'headscale rules only accept; traffic that no rule accepts is denied')
            sources = self.token_list(path + '.src', rule.get('src'), 'acl_src', 'sources')
            proto = self.protocol(path + '.proto', rule.get('proto'))
            destinations = self.destinations(path + '.dst', rule.get('dst'), proto)
            if 'autogroup:self' in destinations:
                for item_path, kind, token in sources:
                    if kind not in ('user', 'group', 'wildcard') and token != 'autogroup:member':
                        self.error(item_path, "%r cannot be the source of a rule with autogroup:self as destination "
                                              "(only users, groups, autogroup:member and '*' can)" % token)
            if len(self.errors) == known:
                rules.append((path, rule))
        self.same_rules(rules, '.acls', _render_acl)

    def same_rules(self, rules, section, render):
        """'<path>: the same rule as <first>' for every valid rule written twice."""
        first = {}
        for path, rule in rules:
            key = json.dumps(render(rule, self.names), sort_keys=True)
            if key in first:
                self.error(path, 'the same rule as %s%s' % (section[1:], first[key]))
            else:
                first[key] = path[len(section):]

    def protocol(self, path, value):
        """The protocol as rendered ('tcp', '6'), None when unset or invalid."""
        if value is None:
            return None
        if is_int(value) and 1 <= value <= 255:
            return str(value)
        if isinstance(value, str) and (value in PROTOCOLS or re.match(r'^[1-9][0-9]{0,2}$', value) and int(value) <= 255):
            return value
        self.error(path, '%r is not a protocol every supported headscale knows (%s, or an IANA number 1-255)' % (value, ', '.join(PROTOCOLS)))
        return None

    def destinations(self, path, value, proto):
        """The targets of the valid destinations of a rule."""
        if value is None or (is_list(value) and not value):
            self.error(path, "required, a non-empty list of destinations ('target:ports')")
            return []
        valid = []
        rendered = []
        for item_path, text in self.items(path, value, "destinations ('target:ports')"):
            parsed = self.destination(item_path, text, proto)
            if parsed is not None:
                target, ports = parsed
                valid.append(target)
                rendered.append((item_path, '%s:%s' % (_render_token(target, self.names), ports)))
        self.duplicates(rendered)
        return valid

    def destination(self, path, text, proto):
        """(target, canonical ports) of a valid destination, else None (reported)."""
        if not isinstance(text, str) or not text:
            self.error(path, "must be a string 'target:ports', got %r" % (text,))
            return None
        split = _split_destination(text)
        # 'tag:server' splits into 'tag' and 'server': a prefix without its name, so no ports were written.
        if split is None or (split[0] in ('group', 'tag', 'autogroup') and not _PORT_TEXT.match(split[1])):
            self.error(path, "%r has no port part (add ':*', ':22', ':80,443' or ':1000-2000')" % text)
            return None
        target, ports_text, bracketed = split
        if bracketed and not (_ip_value(target) is not None and _ip_value(target).version == 6):
            self.error(path, '%r: square brackets only go around IPv6 addresses' % text)
            return None
        if target.endswith(':'):
            self.error(path, '%r: write an IPv6 destination as [address]:ports or address:ports' % text)
            return None
        ports, problem = _parse_ports(ports_text)
        if problem:
            self.error(path, '%r: %s' % (text, problem))
            return None
        if self.token(path, target, 'acl_dst') is None:
            return None
        if proto is not None and proto not in _PORTED_PROTOCOLS and ports != '*':
            self.error(path, "%r: protocol %s has no ports; write the destination with ':*'" % (text, proto))
            return None
        return target, ports

    def auto_approvers(self):
        approvers = self.mapping('.auto_approvers', self.policy.get('auto_approvers'), 'routes and exit_node')
        check_known_keys(self.errors, self.prefix + '.auto_approvers', approvers, AUTO_APPROVER_KEYS)
        routes = self.mapping('.auto_approvers.routes', approvers.get('routes'), 'CIDR prefix to approvers')
        seen = {}
        for prefix in sorted(routes, key=str):
            path = '.auto_approvers.routes[%s]' % prefix
            networks = parse_cidr_list(self.errors, self.prefix + '.auto_approvers.routes', [prefix])
            if networks:
                if networks[0] in seen:
                    self.error(path, 'the same prefix as %s' % seen[networks[0]])
                seen.setdefault(networks[0], prefix)
            self.approver_list(path, routes[prefix])
        self.approver_list('.auto_approvers.exit_node', approvers.get('exit_node'))

    def approver_list(self, path, value):
        entries = self.items(path, value, 'approvers (users, group:NAME, tag:NAME)')
        for item_path, approver in entries:
            self.token(item_path, approver, 'approver')
        self.duplicates([(item_path, _render_token(approver, self.names)) for item_path, approver in entries if isinstance(approver, str)])

    def ssh(self):
        rules = []
        for path, rule in self.items('.ssh', self.policy.get('ssh'), 'SSH rules'):
            if not is_mapping(rule):
                self.error(path, 'must be a mapping (%s), got %s' % (', '.join(SSH_KEYS), type_name(rule)))
                continue
            known = len(self.errors)
            check_known_keys(self.errors, self.prefix + path, rule, SSH_KEYS)
            action = self.action(path + '.action', rule.get('action'), ('accept', 'check'), 'SSH rules accept or check')
            if action == 'check':
                self.needs(path + '.action', 'the SSH action check', SSH_CHECK_SINCE)
            self.check_period(path + '.check_period', rule.get('check_period'), action)
            sources = self.token_list(path + '.src', rule.get('src'), 'ssh_src', 'sources')
            destinations = self.token_list(path + '.dst', rule.get('dst'), 'ssh_dst', 'destinations')
            self.login_users(path + '.users', rule.get('users'))
            self.ssh_reach(sources, destinations)
            if len(self.errors) == known:
                rules.append((path, rule))
        self.same_rules(rules, '.ssh', _render_ssh)

    def randomize_client_port(self, value):
        path = '.randomize_client_port'
        if value is None or not check_bool(self.errors, self.prefix + path, value) or not value:
            return
        if self.minor < RANDOMIZE_CLIENT_PORT_SINCE:
            self.error(path, 'needs headscale 0.%d or later (the policy is checked for 0.%d); before, it is the server setting '
                             'randomize_client_port of config.yaml' % (RANDOMIZE_CLIENT_PORT_SINCE, self.minor))

    def check_period(self, path, value, action):
        if value is None:
            return
        if action != 'check':
            self.error(path, 'only goes with action check')
            return
        if value == 'always':
            return
        match = _DURATION.match(value) if isinstance(value, str) and value else None
        if not match:
            self.error(path, '%r must be always or a duration such as 12h, 30m or 1h30m' % (value,))
            return
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        if hours * 3600 + minutes * 60 + seconds > CHECK_PERIOD_MAX_SECONDS:
            self.error(path, '%s is more than the maximum, 168h' % value)

    def login_users(self, path, value):
        if value is None or (is_list(value) and not value):
            self.error(path, 'required, a non-empty list of login names (root, a Linux user name or autogroup:nonroot)')
            return
        entries = self.items(path, value, 'login names')
        for item_path, login in entries:
            if isinstance(login, str) and login.startswith('autogroup:'):
                if login in AUTOGROUPS:
                    self.autogroup(item_path, login, 'ssh_users')
                else:
                    self.error(item_path, '%r is not an autogroup headscale supports (%s)' % (login, ', '.join(sorted(AUTOGROUPS))))
            elif not isinstance(login, str) or not LOGIN_NAME.match(login):
                self.error(item_path, '%r is not a login name (root, a Linux user name or autogroup:nonroot)' % (login,))
        self.duplicates([(item_path, login) for item_path, login in entries if isinstance(login, str)])

    def ssh_reach(self, sources, destinations):
        """What upstream (0.28+) refuses: tagged sources to user-owned devices, a user destination for other sources."""
        tagged = [token for _path, kind, token in sources if kind == 'tag' or token == 'autogroup:tagged']
        source_users = set(self.names.user(token) for _path, kind, token in sources if kind == 'user')
        for path, kind, token in destinations:
            if tagged and (kind == 'user' or token in ('autogroup:member', 'autogroup:self')):
                self.error(path, '%s: tagged sources (%s) cannot reach user-owned devices by SSH; use tags or autogroup:tagged as destinations'
                           % (token, ', '.join(tagged)))
            elif kind == 'user' and (len(sources) != 1 or source_users != set([self.names.user(token)])):
                self.error(path, '%s: a user as SSH destination needs that user alone as source; use autogroup:self for "users to their own devices"'
                           % token)


def _split_destination(text):
    """(target, ports text, bracketed) of 'target:ports' split at the last ':'; '[v6]:ports' and '[v6]/len:ports' lose
    their brackets; None when there is no port part."""
    if text.startswith('['):
        closing = text.find(']')
        if closing == -1:
            return None
        target_tail, separator, ports = text[closing + 1:].rpartition(':')
        if not separator or (target_tail and not target_tail.startswith('/')):
            return None
        return text[1:closing] + target_tail, ports, True
    target, separator, ports = text.rpartition(':')
    if not separator or not target:
        return None
    return target, ports, False


def _parse_ports(text):
    """(canonical ports text, None) or (None, problem) for '*', '22', '80,443', '1000-2000'."""
    if text == '*':
        return text, None
    items = []
    for item in text.split(','):
        match = _PORT_ITEM.match(item)
        if not match:
            return None, "the ports must be '*' or ports and ranges separated by commas, such as 22, 80,443 or 1000-2000 (got %r)" % text
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        for port in (first, last):
            if not 1 <= port <= 65535:
                return None, "port %d is out of range (1-65535; '*' means every port)" % port
        if first > last:
            return None, 'the range %s is reversed' % item
        items.append(str(first) if first == last else '%d-%d' % (first, last))
    return ','.join(items), None


def check_policy(errors, host, policy, users, version=None):
    """Append to errors every problem of headscale_policy on host, each 'host <host>: headscale_policy.<path>: ...'.

    users: the user names the role creates (headscale_users); version: the headscale version the policy is for
    (see policy_version; None checks for 0.26, which every supported version reads). None (no policy) is valid.
    """
    minor = policy_version(version)[1]
    if policy is None:
        return
    if not is_mapping(policy):
        errors.append('host %s: %s: must be a mapping (keys: %s) or null (no policy file: headscale allows all traffic), got %s'
                      % (host, VARIABLE, ', '.join(POLICY_KEYS), type_name(policy)))
        return
    _Checker(errors, host, policy, users, minor).check()


# ---------------------------------------------------------------------------------------------
# Rendering (of a policy check_policy accepted)
# ---------------------------------------------------------------------------------------------

def _render_dst(text, names):
    target, ports, _bracketed = _split_destination(text)
    return '%s:%s' % (_render_token(target, names), _parse_ports(ports)[0])


def _render_acl(rule, names):
    rendered = {'action': rule['action'], 'src': [_render_token(token, names) for token in rule['src']],
                'dst': [_render_dst(text, names) for text in rule['dst']]}
    if rule.get('proto') is not None:
        rendered['proto'] = str(rule['proto'])
    return rendered


def _render_ssh(rule, names):
    rendered = {'action': rule['action'], 'src': [_render_token(token, names) for token in rule['src']],
                'dst': [_render_token(token, names) for token in rule['dst']], 'users': list(rule['users'])}
    if rule.get('check_period') is not None:
        rendered['checkPeriod'] = rule['check_period']
    return rendered


def _network_key(text):
    network = ipaddress.ip_network(text)
    return (network.version, network.network_address, network.prefixlen)


def policy_document(policy, users):
    """The JSON document (a dict) headscale reads for a policy check_policy accepted; None for no policy.

    Keys as headscale's policy v2 spells them, in a fixed order (groups, tagOwners, hosts, acls, ssh, autoApprovers,
    randomizeClientPort when true);
    mappings sorted by name, lists (rules, sources, destinations, members) in the order written. "acls" is always
    present, so that {} denies all traffic on every supported version.
    """
    if policy is None:
        return None
    names = _Names(policy, users)
    document = {}
    groups = policy.get('groups') or {}
    if groups:
        document['groups'] = dict(('group:' + name, [user_token(names.user(member)) for member in groups[name] or []])
                                  for name in sorted(groups))
    tag_owners = policy.get('tag_owners') or {}
    if tag_owners:
        document['tagOwners'] = dict(('tag:' + name, [_render_token(owner, names) for owner in tag_owners[name] or []])
                                     for name in sorted(tag_owners))
    hosts = policy.get('hosts') or {}
    if hosts:
        document['hosts'] = dict((name, str(_ip_value(hosts[name]))) for name in sorted(hosts))
    document['acls'] = [_render_acl(rule, names) for rule in policy.get('acls') or []]
    if policy.get('ssh'):
        document['ssh'] = [_render_ssh(rule, names) for rule in policy['ssh']]
    approvers = policy.get('auto_approvers') or {}
    auto_approvers = {}
    routes = approvers.get('routes') or {}
    if routes:
        auto_approvers['routes'] = dict((str(ipaddress.ip_network(prefix)), [_render_token(token, names) for token in routes[prefix] or []])
                                        for prefix in sorted(routes, key=_network_key))
    if approvers.get('exit_node'):
        auto_approvers['exitNode'] = [_render_token(token, names) for token in approvers['exit_node']]
    if auto_approvers:
        document['autoApprovers'] = auto_approvers
    if policy.get('randomize_client_port'):
        document['randomizeClientPort'] = True
    return document


def policy_text(policy, users):
    """The policy file's text (JSON, 2-space indent, a final newline), byte-identical for the same input; None for no policy.

    Keys are not sorted by json: policy_document's order keeps the rules as written.
    """
    document = policy_document(policy, users)
    if document is None:
        return None
    return json.dumps(document, indent=2, sort_keys=False) + '\n'
