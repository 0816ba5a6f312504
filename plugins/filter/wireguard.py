# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters of the WireGuard role. The logic lives in module_utils (_wireguard_inventory,
# _wireguard_validate, _wireguard_plan, ...); these wrappers only turn ValueError into
# AnsibleFilterError and tell the readers of hostvars which error means "undefined".
# Documentation: one sidecar file per filter next to this file (wireguard_plan.yml, ...). This
# file deliberately has no DOCUMENTATION: ansible-doc would show it for every filter defined
# here instead of the sidecars.

import hashlib

from ansible_collections.overlaynet.vpn.plugins.plugin_utils._filters import UNDEFINED as _UNDEFINED, filter_error as _filter_error
# module_utils are imported inside the filters (why: docs/dev/architecture.md, "Filter plugins").


def wireguard_members(networks, groups):
    """Network name -> sorted member hosts (members_group and hubs_group): `wireguard_networks | wireguard_members(groups)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import members_by_network
    return members_by_network(networks, groups)


def wireguard_active_groups(groups, networks, hostvars):
    """groups without the members whose wireguard_state is absent (being decommissioned): every
    other filter gets these groups, so their peers drop them in the same run."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import without_hosts
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_inventory import decommissioned_hosts
    return without_hosts(groups, decommissioned_hosts(networks, groups, hostvars, _UNDEFINED))


def wireguard_inventory(networks, groups, hostvars):
    """Endpoint and wireguard_host_networks of every member, role defaults applied: `wireguard_networks | wireguard_inventory(groups, hostvars)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_inventory import host_inventory
    return host_inventory(networks, groups, hostvars, _UNDEFINED)


def wireguard_validate(networks, groups, inventory, preshared_key_seed=None, hostvars=None, rotate_keys=None):
    """List of problems of the configuration ([] when valid):
    `wireguard_networks | wireguard_validate(groups, inventory, seed, hostvars, wireguard_rotate_keys)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_validate import validate
    return validate(networks, groups, inventory, preshared_key_seed, hostvars, rotate_keys, _UNDEFINED)


def wireguard_plan(networks, groups, inventory, host, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """Interfaces and peers of one host: `wireguard_networks | wireguard_plan(groups, inventory, inventory_hostname, public_keys, ...)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import host_plan
    return _filter_error('wireguard_plan', host_plan, networks, groups, inventory, host, public_keys, preshared_key_seed,
                         road_warrior_public_keys)


def wireguard_preshared_keys(networks, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys=None):
    """Per interface of the host, its peers' public and preshared keys (the .psk file): secrets, keep under no_log."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import host_preshared_keys
    return _filter_error('wireguard_preshared_keys', host_preshared_keys, networks, groups, inventory, host, public_keys,
                         preshared_key_seed, road_warrior_public_keys)


def wireguard_psk_files_to_write(preshared_keys, probed_files, config_dir):
    """Interfaces whose preshared key file must be (re)written: its text differs from the file
    the probe read (an interface that has and had none is left alone). Compares checksums only."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_conf import render_psk_file
    to_write = []
    for entry in preshared_keys:
        path = '%s/%s.psk' % (config_dir, entry['interface'])
        probed = (probed_files or {}).get(path) or {}
        if not entry['peers'] and not probed.get('exists'):
            continue
        if hashlib.sha256(render_psk_file(entry['peers']).encode('utf-8')).hexdigest() != probed.get('sha256'):
            to_write.append(entry['interface'])
    return to_write


def wireguard_psk_files(preshared_keys, config_dir):
    """The preshared key files of wireguard_preshared_keys' entries, as overlaynet.vpn.rendered_files
    takes them (mode 0600). Secrets: keep under no_log."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_conf import render_psk_file
    return [dict(path='%s/%s.psk' % (config_dir, entry['interface']), content=render_psk_file(entry['peers']), mode='0600')
            for entry in preshared_keys]


def wireguard_forwarding(networks, groups, inventory, host):
    """Address families the host forwards and its hub interfaces: `wireguard_networks | wireguard_forwarding(groups, inventory, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import host_forwarding
    return _filter_error('wireguard_forwarding', host_forwarding, networks, groups, inventory, host)


def wireguard_members_forwarding(networks, groups, inventory):
    """wireguard_forwarding of every member at once (one validation): host -> {families, no_redirect_interfaces}."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import members_forwarding
    return _filter_error('wireguard_members_forwarding', members_forwarding, networks, groups, inventory)


def wireguard_peers_record(plan):
    """The peers of a host's plan for the connectivity report: `wireguard__plan | wireguard_peers_record`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import peers_record
    return peers_record(plan)


def wireguard_road_warriors(networks, groups, inventory, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """Client configurations (no private keys) of every road warrior: `wireguard_networks | wireguard_road_warriors(groups, inventory, public_keys, ...)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import road_warrior_configs
    return _filter_error('wireguard_road_warriors', road_warrior_configs, networks, groups, inventory, public_keys, preshared_key_seed,
                         road_warrior_public_keys)


def wireguard_allocation_notes(networks, groups, inventory):
    """Names that did not get their first-choice address (their address may move): `wireguard_networks | wireguard_allocation_notes(groups, inventory)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_plan import plan_allocation_notes
    return _filter_error('wireguard_allocation_notes', plan_allocation_notes, networks, groups, inventory)


def wireguard_endpoint(host, port):
    """'host:port', or '[v6]:port' for an IPv6 literal (brackets in host are stripped first); None for an empty host."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import format_endpoint
    return _filter_error('wireguard_endpoint', format_endpoint, host, port)


class FilterModule(object):
    """WireGuard filters of overlaynet.vpn."""

    def filters(self):
        return {
            'wireguard_members': wireguard_members,
            'wireguard_active_groups': wireguard_active_groups,
            'wireguard_preshared_keys': wireguard_preshared_keys,
            'wireguard_forwarding': wireguard_forwarding,
            'wireguard_members_forwarding': wireguard_members_forwarding,
            'wireguard_peers_record': wireguard_peers_record,
            'wireguard_psk_files': wireguard_psk_files,
            'wireguard_psk_files_to_write': wireguard_psk_files_to_write,
            'wireguard_inventory': wireguard_inventory,
            'wireguard_validate': wireguard_validate,
            'wireguard_plan': wireguard_plan,
            'wireguard_road_warriors': wireguard_road_warriors,
            'wireguard_allocation_notes': wireguard_allocation_notes,
            'wireguard_endpoint': wireguard_endpoint,
        }
