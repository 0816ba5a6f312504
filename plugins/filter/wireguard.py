# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters of the WireGuard role. The logic lives in module_utils/wireguard_network.py; these
# wrappers only turn ValueError into AnsibleFilterError. Documentation: one sidecar file per
# filter next to this file (wireguard_plan.yml, ...). This file deliberately has no
# DOCUMENTATION: ansible-doc would show it for every filter defined here instead of the sidecars.

from ansible.errors import AnsibleFilterError

from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_network import (
    format_endpoint,
    host_plan,
    members_by_network,
    plan_allocation_notes,
    road_warrior_configs,
    validate,
)


def wireguard_members(networks, groups):
    """Network name -> sorted member hosts (members_group and hubs_group): `wireguard_networks | wireguard_members(groups)`."""
    return members_by_network(networks, groups)


def wireguard_validate(networks, groups, inventory, preshared_key_seed=None):
    """List of problems of the configuration ([] when valid): `wireguard_networks | wireguard_validate(groups, inventory, seed)`."""
    return validate(networks, groups, inventory, preshared_key_seed)


def wireguard_plan(networks, groups, inventory, host, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """Interfaces and peers of one host: `wireguard_networks | wireguard_plan(groups, inventory, inventory_hostname, public_keys, ...)`."""
    try:
        return host_plan(networks, groups, inventory, host, public_keys, preshared_key_seed, road_warrior_public_keys)
    except ValueError as exc:
        raise AnsibleFilterError('wireguard_plan: %s' % exc)


def wireguard_road_warriors(networks, groups, inventory, public_keys, preshared_key_seed=None, road_warrior_public_keys=None):
    """Client configurations (no private keys) of every road warrior: `wireguard_networks | wireguard_road_warriors(groups, inventory, public_keys, ...)`."""
    try:
        return road_warrior_configs(networks, groups, inventory, public_keys, preshared_key_seed, road_warrior_public_keys)
    except ValueError as exc:
        raise AnsibleFilterError('wireguard_road_warriors: %s' % exc)


def wireguard_allocation_notes(networks, groups, inventory):
    """Names that did not get their first-choice address (their address may move): `wireguard_networks | wireguard_allocation_notes(groups, inventory)`."""
    try:
        return plan_allocation_notes(networks, groups, inventory)
    except ValueError as exc:
        raise AnsibleFilterError('wireguard_allocation_notes: %s' % exc)


def wireguard_endpoint(host, port):
    """'host:port', or '[v6]:port' for an IPv6 literal (brackets in host are stripped first); None for an empty host."""
    try:
        return format_endpoint(host, port)
    except ValueError as exc:
        raise AnsibleFilterError('wireguard_endpoint: %s' % exc)


class FilterModule(object):
    """WireGuard filters of overlaynet.vpn."""

    def filters(self):
        return {
            'wireguard_members': wireguard_members,
            'wireguard_validate': wireguard_validate,
            'wireguard_plan': wireguard_plan,
            'wireguard_road_warriors': wireguard_road_warriors,
            'wireguard_allocation_notes': wireguard_allocation_notes,
            'wireguard_endpoint': wireguard_endpoint,
        }
