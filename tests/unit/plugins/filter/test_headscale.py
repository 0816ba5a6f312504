# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.overlaynet.vpn.plugins.filter.headscale import (
    headscale_users_unchanged,
    tailscale_key_requests,
    tailscale_lost_on_server,
    tailscale_must_join,
    tailscale_node_removals,
    tailscale_node_unchanged,
    tailscale_route_approvals,
)

# A joined node as the probe returns it (host_probe's tailscale_state).
STATE = dict(
    status=dict(backend_state='Running', have_node_key=True, tailscale_ips=['100.64.0.1', 'fd7a:115c:a1e0::1'],
                dns_name='ts1.tailnet.lab', hostname='ts1', tags=[], expired=False, approved_routes=[]),
    prefs=dict(login_server='https://hs1', hostname=None, advertise_tags=[], advertise_routes=[], advertise_exit_node=False,
               accept_routes=True, accept_dns=True, want_running=True, logged_out=False),
)
SETTINGS = dict(login_server='https://hs1', hostname=None, advertise_tags=[], key_tags=[], advertise_routes=[],
                advertise_exit_node=False, accept_routes=True, accept_dns=True)


def test_a_node_as_wanted_gets_the_module_result_without_the_module():
    result = tailscale_node_unchanged(STATE, SETTINGS)
    assert result['changed'] is False and result['needs_auth_key'] is False
    assert result['tailscale_ips'] == ['100.64.0.1', 'fd7a:115c:a1e0::1']


def test_the_module_runs_when_the_node_differs_or_was_not_read():
    assert tailscale_node_unchanged(STATE, dict(SETTINGS, accept_routes=False)) is None
    assert tailscale_node_unchanged(STATE, dict(SETTINGS, rejoin=True)) is None
    assert tailscale_node_unchanged(STATE, dict(SETTINGS, rejoin=False))['changed'] is False
    assert tailscale_node_unchanged(None, SETTINGS) is None


def test_users_are_kept_only_where_they_differ():
    existing = [dict(id=1, name='lab', display_name='', email='', provider=''), dict(id=2, name='ops', display_name='', email='', provider='')]
    assert headscale_users_unchanged(existing, ['lab', 'ops']) is True
    assert headscale_users_unchanged(existing, ['lab', {'name': 'ops', 'state': 'present'}]) is True
    assert headscale_users_unchanged(existing[:1], ['lab', 'ops']) is False
    assert headscale_users_unchanged(existing, ['lab', {'name': 'ops', 'state': 'absent'}]) is False
    # A display name headscale cannot change is a warning the module gives.
    assert headscale_users_unchanged(existing, [{'name': 'lab', 'display_name': 'Lab'}]) is False
    assert headscale_users_unchanged(None, ['lab']) is False


def test_route_approvals_read_the_servers_probes_from_hostvars():
    plan = {'state': 'present', 'server': 'hs1', 'server_version': '0.29.3', 'hostname': 'ts3', 'advertise_routes': ['10.213.1.0/24'],
            'advertise_exit_node': False, 'routes': ['10.213.1.0/24']}
    probe = {'tailscale_state': {'status': {'tailscale_ips': ['100.64.0.2']}, 'prefs': {}}}
    node = {'tailscale__plan': plan, 'tailscale__node_kept': {'skipped': True}, 'tailscale__probe': probe, 'other': 1}
    approved = {'id': 2, 'name': 'ts3', 'hostname': 'ts3', 'user_id': None, 'approved_routes': ['10.213.1.0/24'],
                'available_routes': ['10.213.1.0/24']}
    hostvars = {'hs1': {'headscale__probe': {'headscale_nodes': [approved]}}, 'ts3': node}
    assert tailscale_route_approvals([node], hostvars) == {}
    # A server that was not probed (not in this run), or whose probe could not read the nodes: approved by the module.
    for servers in ({}, {'hs1': {}}, {'hs1': {'headscale__probe': {'headscale_nodes': None}}}):
        assert list(tailscale_route_approvals([node], servers)) == ['hs1']
    assert list(tailscale_route_approvals([node])) == ['hs1']
    # A server whose database moved in this run has none of its nodes any more: the node's routes are approved again.
    hostvars['hs1']['headscale__database_moved'] = True
    assert list(tailscale_route_approvals([node], hostvars)) == ['hs1']


def test_node_removals_read_the_logout_results():
    plan = {'state': 'absent', 'server': 'hs1', 'server_version': '0.29.3', 'hostname': 'ts2'}
    key = 'nodekey:' + 'ab' * 32
    node = {'tailscale__plan': plan, 'tailscale__logged_out': {'changed': True, 'logged_out_node_key': key}, 'other': 1}
    assert tailscale_node_removals([node]) == {'hs1': {'version': '0.29.3', 'nodes': [{'node_key': key}]}}
    assert tailscale_node_removals([{'tailscale__plan': plan}]) == {}


def test_key_requests_read_the_facts_of_each_node():
    plan = {'state': 'present', 'server': 'hs1', 'server_version': '0.29.3', 'user': 'alice', 'tags': [], 'key_expiration': '1h'}
    started = {'files': {'/var/lib/tailscale': {'exists': True}}}
    node = {'inventory_hostname': 'ts1', 'tailscale__plan': plan, 'tailscale__probe': started,
            'tailscale__node_kept': {'needs_auth_key': True}, 'other': 1}
    assert tailscale_key_requests([node], '/var/lib/tailscale', False) == {
        'hs1': {'version': '0.29.3', 'keys': [{'name': 'ts1', 'user': 'alice', 'tags': [], 'expiration': '1h'}]}}
    assert tailscale_key_requests([dict(node, tailscale__node_kept={'skipped': True})], '/var/lib/tailscale', False) == {}


@pytest.mark.parametrize('state, started, kept, check_mode, expected', [
    ('present', False, {'skipped': True}, False, True),     # never started tailscaled: no node key yet
    ('present', True, {'needs_auth_key': True}, False, True),
    ('present', True, {'needs_auth_key': False}, False, False),
    ('present', True, {}, False, False),                    # the join steps did not run: the probe read it as wanted
    ('present', False, {}, True, False),                    # check mode only reports the join
    ('installed', False, {}, False, False),
    ('absent', True, {'needs_auth_key': True}, False, False),
])
def test_must_join(state, started, kept, check_mode, expected):
    probe = {'files': {'/var/lib/tailscale': {'exists': started}}}
    assert tailscale_must_join({'state': state}, probe, kept, '/var/lib/tailscale', check_mode) is expected


def test_lost_on_server_reads_the_servers_probe_from_hostvars():
    state = dict(STATE, status=dict(STATE['status'], node_key='nodekey:' + 'ab' * 32))
    other = {'id': 1, 'node_key': 'nodekey:' + 'cd' * 32}
    hostvars = {'hs1': {'headscale__probe': {'headscale_nodes': [other]}}}
    assert tailscale_lost_on_server(state, hostvars, 'hs1') is True
    hostvars['hs1']['headscale__probe']['headscale_nodes'].append({'id': 2, 'node_key': 'nodekey:' + 'ab' * 32})
    assert tailscale_lost_on_server(state, hostvars, 'hs1') is False
    for servers, server in (({}, 'hs1'), ({'hs1': {}}, 'hs1'), (hostvars, None)):
        assert tailscale_lost_on_server(state, servers, server) is False
    assert tailscale_lost_on_server(None, hostvars, 'hs1') is False
    # The server's database moved to another one in this run: headscale starts there without the node.
    hostvars['hs1']['headscale__database_moved'] = True
    assert tailscale_lost_on_server(state, hostvars, 'hs1') is True
    hostvars['hs1']['headscale__database_moved'] = False
    assert tailscale_lost_on_server(state, hostvars, 'hs1') is False
