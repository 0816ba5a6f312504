# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.headscale_routes's main() against the fake headscale CLI of test__headscale_cli
# (its outputs follow the upstream structs; see there). Waiting runs on a fake clock.

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _headscale_cli
from ansible_collections.overlaynet.vpn.plugins.modules import headscale_routes
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__headscale_cli import (
    ALICE,
    BOB,
    TAGGED_DEVICES,
    FakeHeadscale,
    node_json,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import FakeClock, call_main, install_fake_commands


def server_nodes(version=(0, 29, 2)):
    """site-router (id 3) announces 10.20.0.0/16 and fd00:20::/64, 10.20.0.0/16 approved; gw1 (id 4, tagged)
    announces both exit routes, none approved; laptop (id 5) announces nothing."""
    return [
        node_json(3, 'site-router', ALICE, version, approved=['10.20.0.0/16'], announced=['10.20.0.0/16', 'fd00:20::/64']),
        node_json(4, 'gw1', TAGGED_DEVICES, version, announced=['0.0.0.0/0', '::/0'], tags=['tag:exit']),
        node_json(5, 'laptop', BOB, version),
    ]


@pytest.fixture
def server(monkeypatch):
    """A headscale 0.29 server host with three nodes (see server_nodes)."""
    return installed(monkeypatch, FakeHeadscale(users=[ALICE, BOB], nodes=server_nodes()))


def installed(monkeypatch, fake, binary='/usr/bin/headscale'):
    install_fake_commands(monkeypatch, fake, {'headscale': binary})
    fake.clock = FakeClock()
    monkeypatch.setattr(_headscale_cli, 'time', fake.clock)
    return fake


def run(args, **kwargs):
    return call_main(headscale_routes.main, args, **kwargs)


def test_approves_only_what_differs_with_one_read(server):
    result = run(dict(nodes=[{'name': 'site-router', 'routes': ['10.20.0.0/16', 'fd00:20::/64']}, {'name': 'gw1', 'exit_node': True},
                             {'name': 'laptop', 'routes': []}]))
    assert result['changed'] is True and result['updated'] == ['site-router', 'gw1']
    assert result['nodes'] == {
        'site-router': dict(name='site-router', id=3, approved_routes=['10.20.0.0/16', 'fd00:20::/64'],
                            available_routes=['10.20.0.0/16', 'fd00:20::/64']),
        'gw1': dict(name='gw1', id=4, approved_routes=['0.0.0.0/0', '::/0'], available_routes=['0.0.0.0/0', '::/0']),
        'laptop': dict(name='laptop', id=5, approved_routes=[], available_routes=[]),
    }
    assert server.words() == ['nodes list --output json',
                              'nodes approve-routes --identifier=3 --routes=10.20.0.0/16,fd00:20::/64 --output json',
                              'nodes approve-routes --identifier=4 --routes=0.0.0.0/0,::/0 --output json']
    assert server.warnings == []


@pytest.mark.parametrize('version', [(0, 26, 1), (0, 27, 1), (0, 28, 0), (0, 29, 2)])
def test_a_second_run_changes_nothing(monkeypatch, version):
    fake = installed(monkeypatch, FakeHeadscale(version=version, users=[ALICE, BOB], nodes=server_nodes(version)))
    args = dict(nodes=[{'name': 'site-router', 'routes': ['fd00:20::/64', '10.20.0.0/16', '10.99.0.0/16']},
                       {'name': 'gw1', 'routes': ['::/0']}], version='%d.%d.%d' % version)
    assert run(args)['changed'] is True
    fake.commands = []
    result = run(args)
    assert result['changed'] is False and result['updated'] == []
    assert result['nodes']['site-router']['approved_routes'] == ['10.20.0.0/16', '10.99.0.0/16', 'fd00:20::/64']
    assert result['nodes']['gw1']['approved_routes'] == ['0.0.0.0/0', '::/0']
    assert fake.words() == ['nodes list --output json']


def test_an_empty_list_unapproves_every_route(server):
    result = run(dict(nodes=[{'name': 'site-router'}]), diff=True)
    assert result['changed'] is True and result['nodes']['site-router']['approved_routes'] == []
    assert server.words()[1:] == ['nodes approve-routes --identifier=3 --routes= --output json']
    assert result['diff'] == dict(before_header='headscale approved routes', after_header='headscale approved routes',
                                  before='site-router: 10.20.0.0/16\n', after='')


def test_check_mode_only_reads(server):
    result = run(dict(nodes=[{'name': 'site-router', 'routes': ['10.20.0.0/16', '192.168.7.0/24']}, {'name': 'gw1', 'exit_node': True},
                             {'name': 'nas'}, {'name': 'new-router', 'routes': ['10.40.0.0/16']}], wait_for_announce=60),
                 check_mode=True, diff=True)
    assert result['changed'] is True and result['updated'] == ['site-router', 'gw1', 'new-router']
    assert result['nodes']['site-router']['approved_routes'] == ['10.20.0.0/16', '192.168.7.0/24']
    assert result['nodes']['new-router'] == dict(name='new-router', id=None, approved_routes=['10.40.0.0/16'], available_routes=[])
    assert result['diff']['before'] == 'site-router: 10.20.0.0/16\n'
    assert result['diff']['after'] == ('site-router: 10.20.0.0/16\nsite-router: 192.168.7.0/24\ngw1: 0.0.0.0/0\ngw1: ::/0\n'
                                       'new-router: 10.40.0.0/16\n')
    assert server.mutations() == [] and server.words() == ['nodes list --output json'] and server.clock.sleeps == []
    assert server.warnings == ['headscale has no node nas yet; a run outside check mode fails unless it joins before',
                               'headscale has no node new-router yet; a run outside check mode fails unless it joins before']


def test_a_node_that_has_not_joined_fails_before_any_change(server):
    result = run(dict(nodes=[{'name': 'gw1', 'exit_node': True}, {'name': 'nas', 'routes': ['10.50.0.0/16']}]), fail=True)
    assert result['msg'] == 'headscale has no node nas (nodes: site-router, gw1, laptop); nothing was changed'
    assert server.mutations() == []


def test_nodes_are_found_by_host_name_when_no_given_name_matches(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(nodes=[node_json(6, 'box', ALICE), node_json(7, 'box-1', ALICE, hostname='box'),
                                                       node_json(8, 'office', ALICE, hostname='office-gw'),
                                                       node_json(9, 'nas-a', ALICE, hostname='nas'), node_json(10, 'nas-b', ALICE, hostname='nas')]))
    result = run(dict(nodes=[{'name': 'box', 'routes': ['10.6.0.0/16']}, {'name': 'office-gw', 'routes': ['10.8.0.0/16']}]))
    assert result['nodes']['box']['id'] == 6 and result['nodes']['office-gw']['id'] == 8
    result = run(dict(nodes=[{'name': 'office', 'routes': []}, {'name': 'nas', 'routes': ['10.9.0.0/16']}]), fail=True)
    assert result['msg'] == ('2 headscale nodes have the host name nas and none has it as given name (nas-a (id 9), nas-b (id 10)): '
                             'name the node by its given name, which is unique (headscale nodes list shows it); nothing was changed')
    assert len(fake.mutations()) == 2


def test_bad_input_fails_before_any_command(server):
    result = run(dict(nodes=[{'name': 'site-router', 'routes': ['10.20.0.1/16']}, {'name': 'site-router'}, {'name': 'gw1', 'exit_node': 'on'}],
                      version='0.30.0', wait_for_announce=7200), fail=True)
    assert result['msg'] == ('version: 0.30.0 is not supported (supported: 0.26.x, 0.27.x, 0.28.x, 0.29.x); '
                             'wait_for_announce: 7200 is out of range (0-3600); '
                             'nodes[0].routes: 10.20.0.1/16 has host bits set (did you mean 10.20.0.0/16?); '
                             'nodes[1]: site-router is listed already as nodes[0]; '
                             "nodes[2].exit_node: must be true or false, got 'on'")
    assert server.commands == []


def test_waits_for_the_routes_to_be_announced(server):
    # laptop announces its route before the third read.
    server.announcements[3] = (5, ['192.168.50.0/24'])
    result = run(dict(nodes=[{'name': 'laptop', 'routes': ['192.168.50.0/24']}, {'name': 'site-router', 'routes': ['10.20.0.0/16']}],
                      wait_for_announce=30))
    assert result['updated'] == ['laptop']
    assert result['nodes']['laptop'] == dict(name='laptop', id=5, approved_routes=['192.168.50.0/24'], available_routes=['192.168.50.0/24'])
    assert server.words() == ['nodes list --output json'] * 3 + ['nodes approve-routes --identifier=5 --routes=192.168.50.0/24 --output json']
    assert server.clock.sleeps == [1.0, 1.0] and server.warnings == []


def test_no_wait_when_the_routes_are_announced(server):
    run(dict(nodes=[{'name': 'gw1', 'exit_node': True}], wait_for_announce=30))
    assert server.clock.sleeps == [] and server.words()[0] == 'nodes list --output json' and len(server.commands) == 2


def test_routes_not_announced_in_time_are_approved_with_a_warning(server):
    result = run(dict(nodes=[{'name': 'site-router', 'routes': ['10.20.0.0/16', '10.30.0.0/16']}], wait_for_announce=3))
    assert result['changed'] is True and result['nodes']['site-router']['approved_routes'] == ['10.20.0.0/16', '10.30.0.0/16']
    assert sum(server.clock.sleeps) == 3 and server.words().count('nodes list --output json') == 4
    assert server.warnings == ['node site-router does not announce 10.30.0.0/16 after 3 seconds; approved all the same '
                               '(headscale serves a route once the node announces it)']


def test_without_waiting_unannounced_routes_are_approved_silently(server):
    result = run(dict(nodes=[{'name': 'laptop', 'exit_node': True}]))
    assert result['nodes']['laptop']['approved_routes'] == ['0.0.0.0/0', '::/0'] and server.warnings == []
    assert server.clock.sleeps == []


def test_a_node_gone_while_waiting_fails(server):
    original = server.nodes_list

    def nodes_list(words):
        answer = original(words)
        server.nodes = [node for node in server.nodes if node['id'] != 5]   # deleted after the first read
        return answer

    server.nodes_list = nodes_list
    result = run(dict(nodes=[{'name': 'laptop', 'routes': ['10.5.0.0/16']}], wait_for_announce=10), fail=True)
    assert result['msg'] == 'headscale has no node laptop (nodes: site-router, gw1); nothing was changed'
    assert server.mutations() == []


def test_a_failed_approval_names_what_was_done(server):
    calls = []
    original = server.nodes_approve_routes

    def approve(words):
        calls.append(words)
        return original(words) if len(calls) == 1 else server.error('setting approved routes: database is locked')

    server.nodes_approve_routes = approve
    result = run(dict(nodes=[{'name': 'site-router', 'routes': []}, {'name': 'gw1', 'exit_node': True}]), fail=True)
    assert result['msg'] == ('headscale nodes approve-routes for gw1 (id 4) failed (rc 1): setting approved routes: database is locked; '
                             'done before: set the approved routes of site-router')
    assert result['updated'] == ['site-router'] and result['rc'] == 1


def test_the_config_path_is_passed_to_every_command(server):
    run(dict(nodes=[{'name': 'gw1', 'exit_node': True}], config_path='/etc/headscale/other.yaml'))
    assert all(command[-1] == '--config=/etc/headscale/other.yaml' for command in server.commands) and len(server.commands) == 2


def test_a_server_that_is_down_fails_outside_check_mode(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(version=(0, 28, 0)))
    fake.down = True
    result = run(dict(nodes=[{'name': 'gw1', 'exit_node': True}], version='0.28.0'), fail=True)
    assert result['msg'].startswith('headscale nodes list failed (rc 255): no error output: headscale 0.28 prints nothing')


def test_check_mode_assumes_no_routes_while_the_server_is_not_up(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale())
    fake.down = True
    result = run(dict(nodes=[{'name': 'gw1', 'exit_node': True}]), check_mode=True)
    assert result['changed'] is True and result['nodes']['gw1']['id'] is None
    assert len(fake.warnings) == 1 and 'check mode assumes no nodes' in fake.warnings[0]


def test_check_mode_before_headscale_is_installed(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(), binary=None)
    result = run(dict(nodes=[{'name': 'gw1', 'exit_node': True}]), check_mode=True)
    assert result['updated'] == ['gw1'] and fake.commands == []
    assert fake.warnings == ['headscale is not installed; check mode assumes it has no nodes yet']


def test_without_headscale_a_real_run_fails(monkeypatch):
    installed(monkeypatch, FakeHeadscale(), binary=None)
    assert 'headscale' in run(dict(nodes=[{'name': 'gw1'}]), fail=True)['msg']
