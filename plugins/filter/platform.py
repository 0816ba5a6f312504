# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters of the shared platform: the firewall entry point's data, and checks of what a host's
# platform allows (kernel settings, containers) from a probe's readings, before any host
# changes. The sysctl logic lives in module_utils, shared with the module that fails with the
# same messages. Documentation: one sidecar file per filter next to this file.

import hashlib
import re

from ansible.errors import AnsibleFilterError

# module_utils are imported inside the filters (why: docs/dev/architecture.md, "Filter plugins").

# The platform role's firewall entry point (roles/platform/tasks/firewall.yml): where a role's
# forwarding settings and nftables table live, which sysctls it needs, and what its probe must
# read so that a converged host runs no module.
NFTABLES_DIR = '/etc/overlaynet/nftables'
NFTABLES_UNIT_FILE = '/etc/systemd/system/overlaynet-nftables@.service'
FAMILIES = ('ipv4', 'ipv6')
_OWNER = re.compile(r'^[a-z][a-z0-9_]{0,30}$')
# Where firewalld runs, its rules drop what the role's nftables table accepts (nftables runs every
# table's chains), so the role's ports and tunnels also get a firewalld policy and zone of its own.
# firewalld limits zone names to 17 characters and policy names to 18 (its iptables backend builds
# chain names from them), hence the short prefix (olnet: overlaynet) and the short names below.
FIREWALLD_UNIT = 'firewalld.service'
FIREWALLD_DIR = '/etc/firewalld'
FIREWALLD_PREFIX = 'olnet-'
FIREWALLD_SHORT_NAMES = {'openvpn_server': 'openvpn'}
FIREWALLD_ZONE_NAME_LIMIT = 17
FIREWALLD_POLICY_NAME_LIMIT = 18


def firewall_paths(owner):
    """Files, unit and table of one role's firewall settings."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._ufw import comment_of
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise AnsibleFilterError('firewall_paths: owner must be a role name (lower-case letters, digits, _), got %r' % (owner,))
    firewalld_zone = FIREWALLD_PREFIX + FIREWALLD_SHORT_NAMES.get(owner, owner)
    firewalld_policy = firewalld_zone + '-in'
    if len(firewalld_zone) > FIREWALLD_ZONE_NAME_LIMIT or len(firewalld_policy) > FIREWALLD_POLICY_NAME_LIMIT:
        raise AnsibleFilterError('firewall_paths: owner %r makes firewalld names longer than firewalld takes (%s, %s):'
                                 ' give it a short name in FIREWALLD_SHORT_NAMES' % (owner, firewalld_zone, firewalld_policy))
    return {
        'sysctl_file': '/etc/sysctl.d/60-overlaynet-%s.conf' % owner,
        'nftables_dir': NFTABLES_DIR,
        'nftables_file': '%s/%s.nft' % (NFTABLES_DIR, owner),
        'nftables_table': 'overlaynet_%s' % owner,
        'nftables_unit': 'overlaynet-nftables@%s.service' % owner,
        'nftables_unit_file': NFTABLES_UNIT_FILE,
        'firewalld_unit': FIREWALLD_UNIT,
        'firewalld_zone': firewalld_zone,
        'firewalld_zone_file': '%s/zones/%s.xml' % (FIREWALLD_DIR, firewalld_zone),
        'firewalld_policy': firewalld_policy,
        'firewalld_policy_file': '%s/policies/%s.xml' % (FIREWALLD_DIR, firewalld_policy),
        'ufw_comment': comment_of(owner),
    }


def forwarding_sysctls(families, no_redirect_interfaces=()):
    """The sysctls forwarding needs: {'settings': persisted and live, 'live_settings': live only
    (per-interface keys, which exist only while the interface does), 'all': both}.

    A host that forwards between peers of one interface (a hub) would send ICMP redirects
    telling a spoke to reach another spoke directly; IPv4 sends them when either `all` or the
    interface's own setting allows it, so all, default (inherited by interfaces created later)
    and each such existing interface get send_redirects = 0.
    """
    families = list(families or [])
    unknown = [family for family in families if family not in FAMILIES]
    if unknown:
        raise AnsibleFilterError('forwarding_sysctls: unknown address families %s (known: ipv4, ipv6)' % unknown)
    settings = {}
    live_settings = {}
    if 'ipv4' in families:
        settings['net.ipv4.ip_forward'] = '1'
        if no_redirect_interfaces:
            settings['net.ipv4.conf.all.send_redirects'] = '0'
            settings['net.ipv4.conf.default.send_redirects'] = '0'
            for interface in sorted(set(no_redirect_interfaces)):
                live_settings['net.ipv4.conf.%s.send_redirects' % interface] = '0'
    if 'ipv6' in families:
        settings['net.ipv6.conf.all.forwarding'] = '1'
    merged = dict(settings)
    merged.update(live_settings)
    return {'settings': settings, 'live_settings': live_settings, 'all': merged}


def firewall_probe_request(owner, interfaces=()):
    """What overlaynet.vpn.host_probe must read for the firewall entry point: {'files', 'sysctls', 'active_units'}."""
    paths = firewall_paths(owner)
    every_family = forwarding_sysctls(FAMILIES, interfaces)['all']
    return {
        'files': [paths['sysctl_file'], paths['nftables_dir'], paths['nftables_file'], paths['nftables_unit_file'],
                  paths['firewalld_zone_file'], paths['firewalld_policy_file']],
        'sysctls': sorted(every_family),
        'active_units': [paths['firewalld_unit']],
        'ufw_comment': paths['ufw_comment'],
    }


def sysctls_match(live_values, wanted):
    """True when every wanted sysctl has its value live. Keys the host does not have (None:
    an interface that does not exist yet) are left out: it inherits the default when created."""
    live_values = live_values or {}
    for key, value in (wanted or {}).items():
        live = live_values.get(key)
        if live is None:
            continue
        if ' '.join(str(live).split()) != ' '.join(str(value).split()):
            return False
    return True


def sysctls_to_check(forwarding, live_values):
    """The sysctls of forwarding_sysctls() a host must already have or be able to write:
    every persisted one, and the per-interface ones of interfaces that exist (an interface
    created later inherits the default)."""
    live_values = live_values or {}
    wanted = dict(forwarding['settings'])
    for key, value in forwarding['live_settings'].items():
        if live_values.get(key) is not None:
            wanted[key] = value
    return wanted


def files_to_write(files, probed_files):
    """Paths of the files ([{path, content, ...}], as overlaynet.vpn.rendered_files takes them)
    whose content differs from the file the probe read (its SHA-256) or that it did not find."""
    probed_files = probed_files or {}
    to_write = []
    for entry in files:
        probed = probed_files.get(entry['path']) or {}
        if hashlib.sha256(entry['content'].encode('utf-8')).hexdigest() != probed.get('sha256'):
            to_write.append(entry['path'])
    return to_write


def ufw_rules_to_change(probed_ufw, wanted, udp_ports=(), tcp_ports=(), interfaces=()):
    """{'add': keys, 'delete': keys} of the role's ufw rules (module_utils._ufw) against what the probe read (its
    ufw result); wanted false: every rule of the role goes."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._ufw import rules_to_change, wanted_rules
    probed_ufw = probed_ufw or {}
    current = {'rules': probed_ufw.get('rules') or [], 'partial_rules': probed_ufw.get('partial_rules') or [],
               'other_rules': probed_ufw.get('other_rules') or []}
    try:
        rules = wanted_rules(udp_ports, tcp_ports, interfaces) if wanted else []
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('ufw_rules_to_change: %s' % exc)
    to_add, to_delete = rules_to_change(rules, current)
    return {'add': to_add, 'delete': to_delete}


def sysctl_problems(live_values, writable, wanted, host):
    """Messages for the wanted kernel settings a host lacks and cannot set ([] when none):
    `probed_values | sysctl_problems(probed_writable, wanted, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._sysctl import settings_problems
    if not isinstance(wanted, dict) or not isinstance(live_values, dict):
        raise AnsibleFilterError('sysctl_problems: the live values and the wanted settings must be dictionaries')
    try:
        return settings_problems(live_values, writable, wanted, host)
    except ValueError as exc:
        raise AnsibleFilterError('sysctl_problems: %s' % exc)


class FilterModule(object):
    """Platform checks of overlaynet.vpn."""

    def filters(self):
        return {
            'sysctl_problems': sysctl_problems,
            'files_to_write': files_to_write,
            'firewall_paths': firewall_paths,
            'forwarding_sysctls': forwarding_sysctls,
            'firewall_probe_request': firewall_probe_request,
            'sysctls_match': sysctls_match,
            'sysctls_to_check': sysctls_to_check,
            'ufw_rules_to_change': ufw_rules_to_change,
        }
