# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Filters of the headscale and tailscale roles. The logic lives in module_utils
# (_headscale_inventory, _headscale_config, _headscale_policy); these wrappers turn ValueError into
# AnsibleFilterError and tell the readers of hostvars which error means "undefined".
# Documentation: one sidecar file per filter next to this file (headscale_validate.yml, ...).

from ansible_collections.overlaynet.vpn.plugins.plugin_utils._filters import UNDEFINED as _UNDEFINED, filter_error as _filter_error
# module_utils are imported inside the filters (why: docs/dev/architecture.md, "Filter plugins").


def headscale_validate(hostvars, groups):
    """Every problem of the tailnet's servers and nodes ([] when valid): `hostvars | headscale_validate(groups)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import validate
    return validate(hostvars, groups, _UNDEFINED)


def headscale_server_plan(hostvars, groups, host):
    """What the headscale role renders on host: `hostvars | headscale_server_plan(groups, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import server_plan
    return _filter_error('headscale_server_plan', server_plan, hostvars, groups, host, _UNDEFINED)


def headscale_cas_to_make(hostvars, groups, hosts):
    """The CAs the play's servers sign their certificates with that the controller lacks:
    `hostvars | headscale_cas_to_make(groups, ansible_play_hosts)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import cas_to_make
    return _filter_error('headscale_cas_to_make', cas_to_make, hostvars, groups, list(hosts), _UNDEFINED)


def headscale_environment(hostvars, host):
    """The secret EnvironmentFile text of the headscale service ('' when none): only for a no_log task."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import environment_text
    return _filter_error('headscale_environment', environment_text, hostvars, host, _UNDEFINED)


def headscale_upgrade_problem(installed, wanted):
    """'' when headscale `installed` (version text) may be replaced by `wanted`, else why not: `old | headscale_upgrade_problem(new)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_config import upgrade_problem, version_problem
    if version_problem(installed) or version_problem(wanted):
        return ''
    return upgrade_problem(installed, wanted) or ''


def headscale_users_unchanged(existing, users):
    """Whether overlaynet.vpn.headscale_user with users would change nothing on a server the probe read (headscale_users):
    `probe.headscale_users | headscale_users_unchanged(users)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import users_unchanged
    return users_unchanged(users, existing)


def tailscale_node_plan(hostvars, groups, host):
    """What the tailscale role does on host: `hostvars | tailscale_node_plan(groups, inventory_hostname)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import node_plan
    return _filter_error('tailscale_node_plan', node_plan, hostvars, groups, host, _UNDEFINED)


def tailscale_peers_records(hostvars, groups, hosts):
    """Each node's peers for the connectivity report, by host: `hostvars | tailscale_peers_records(groups, ansible_play_hosts)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import peers_records
    return _filter_error('tailscale_peers_records', peers_records, hostvars, groups, list(hosts), _UNDEFINED)


def _facts_of(nodes, names):
    """The variables named of each host's variables in nodes, as plain dicts: Ansible's per-host variables are not
    always a Mapping, and the planners read only these."""
    return [dict((name, variables[name]) for name in names if name in variables) for variables in nodes]


def _server_nodes(hostvars, server):
    """The nodes a headscale server of this run has, as its probe read them at the start of the run (None when it was not
    probed); none at all where its database moved to another one in this run (headscale__database_moved), which
    headscale starts without nodes."""
    variables = hostvars[server] if hostvars is not None and server in hostvars else None
    if not variables:
        return None
    if variables.get('headscale__database_moved'):
        return []
    probe = variables.get('headscale__probe')
    return probe.get('headscale_nodes') if probe else None


def tailscale_route_approvals(nodes, hostvars=None):
    """Routes the servers must approve:
    `ansible_play_hosts | map('extract', hostvars) | selectattr('tailscale__plan', 'defined') | tailscale_route_approvals(hostvars)`;
    hostvars gives each server's nodes as its probe read them (headscale__probe.headscale_nodes)."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import route_approvals
    facts = _facts_of(nodes, ('tailscale__plan', 'tailscale__node_joined', 'tailscale__node_kept', 'tailscale__probe'))
    servers = set(fact['tailscale__plan'].get('server') for fact in facts if 'tailscale__plan' in fact) - set([None])
    return route_approvals(facts, dict((server, _server_nodes(hostvars, server)) for server in servers))


def tailscale_node_removals(nodes):
    """The node entries the servers must delete for the nodes that logged out in this run:
    `ansible_play_hosts | map('extract', hostvars) | selectattr('tailscale__plan', 'defined') | tailscale_node_removals`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import node_removals
    return node_removals(_facts_of(nodes, ('tailscale__plan', 'tailscale__logged_out')))


def tailscale_key_requests(nodes, state_dir, check_mode):
    """The pre-auth keys each headscale server mints for the play's nodes that must join:
    `ansible_play_hosts | map('extract', hostvars) | selectattr('tailscale__plan', 'defined')
    | tailscale_key_requests(tailscale__state_dir, ansible_check_mode)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_inventory import key_requests
    facts = _facts_of(nodes, ('inventory_hostname', 'tailscale__plan', 'tailscale__probe', 'tailscale__node_kept'))
    return key_requests(facts, state_dir, bool(check_mode))


def tailscale_must_join(plan, probe, node_kept, state_dir, check_mode):
    """Whether the node joins with a pre-auth key in this run:
    `tailscale__plan | tailscale_must_join(tailscale__probe, tailscale__node_kept | default({}), tailscale__state_dir, ansible_check_mode)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._tailnet_names import must_join
    return must_join(plan, probe, node_kept, state_dir, bool(check_mode))


def tailscale_lost_on_server(state, hostvars, server):
    """Whether the node's server (probed in this run) no longer has the node the probe read (tailscale_state):
    `probe.tailscale_state | tailscale_lost_on_server(hostvars, server)`; false when either was not read."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._tailnet_names import lost_on_server
    if not state or server is None:
        return False
    return lost_on_server(state.get('status'), _server_nodes(hostvars, server))


def tailscale_node_unchanged(state, settings):
    """overlaynet.vpn.tailscale_node's result for a node the probe read (tailscale_state) that is as settings (that
    module's options) want it; None when the module must run: `probe.tailscale_state | tailscale_node_unchanged(settings)`."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._tailscale_node import unchanged_result
    if not state:
        return None
    return unchanged_result(state['status'], state['prefs'], dict(settings))


class FilterModule(object):
    def filters(self):
        return {
            'headscale_validate': headscale_validate,
            'headscale_cas_to_make': headscale_cas_to_make,
            'headscale_server_plan': headscale_server_plan,
            'headscale_environment': headscale_environment,
            'headscale_upgrade_problem': headscale_upgrade_problem,
            'headscale_users_unchanged': headscale_users_unchanged,
            'tailscale_lost_on_server': tailscale_lost_on_server,
            'tailscale_node_plan': tailscale_node_plan,
            'tailscale_node_removals': tailscale_node_removals,
            'tailscale_key_requests': tailscale_key_requests,
            'tailscale_must_join': tailscale_must_join,
            'tailscale_node_unchanged': tailscale_node_unchanged,
            'tailscale_peers_records': tailscale_peers_records,
            'tailscale_route_approvals': tailscale_route_approvals,
        }
