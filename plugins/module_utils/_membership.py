# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Who belongs to a network, from inventory groups only.
#
# `groups` is Ansible's magic variable: every inventory host, whatever --limit says. Membership
# never comes from the hosts of the current play, so a host's peers do not depend on which
# hosts happen to run. A network names its groups with `members_group` (default: the network's
# name) and `hubs_group`; hubs are members too.

from ansible_collections.overlaynet.vpn.plugins.module_utils._values import dedupe, is_list, is_mapping


def group_hosts(groups, group_name):
    """The host names of a group ([] for a missing group or a name that is not a string)."""
    if not isinstance(group_name, str) or not group_name or not is_mapping(groups):
        return []
    hosts = groups.get(group_name)
    if not is_list(hosts):
        return []
    return [host for host in hosts if isinstance(host, str)]


def network_hubs(network, groups):
    """Sorted hosts of the network's hubs_group ([] without one). The first is the primary hub."""
    return sorted(set(group_hosts(groups, network.get('hubs_group'))))


def network_members(network, groups):
    """Sorted members of a network: hosts of members_group (default: the network name) and of hubs_group."""
    members_group = network.get('members_group')
    if members_group is None:
        members_group = network.get('name')
    return sorted(set(group_hosts(groups, members_group)) | set(network_hubs(network, groups)))


def members_by_network(networks, groups):
    """Network name -> sorted member hosts, for every network that has a name.

    Tolerates invalid entries (skipped), so that it can run before the networks are validated.
    """
    members = {}
    if not is_list(networks):
        return members
    for network in networks:
        if is_mapping(network) and isinstance(network.get('name'), str):
            members[network['name']] = network_members(network, groups)
    return members


def member_hosts(members):
    """Every host of members_by_network()'s result once, in network order, then sorted within a network."""
    return dedupe(host for hosts in members.values() for host in hosts)


def without_hosts(groups, hosts):
    """groups with the given hosts taken out of every group (hosts a role must treat as gone)."""
    leaving = set(hosts)
    return dict((name, [host for host in members if host not in leaving]) for name, members in groups.items())
