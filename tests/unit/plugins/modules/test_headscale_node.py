# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.headscale_node's main() against the fake headscale CLI of test__headscale_cli.

import pytest

from ansible_collections.overlaynet.vpn.plugins.modules import headscale_node
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__headscale_cli import ALICE, BOB, FakeHeadscale, node_json
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, install_fake_commands


def node_key(node_id):
    return 'nodekey:%064x' % node_id


def server_nodes(version=(0, 29, 2)):
    """laptop (id 3), ts2 (id 4, expired after a logout) and two nodes with the host name build (ids 5, 6; given names
    build and build-x1)."""
    return [node_json(3, 'laptop', ALICE, version), node_json(4, 'ts2', BOB, version),
            node_json(5, 'build', BOB, version), node_json(6, 'build-x1', BOB, version, hostname='build')]


def installed(monkeypatch, fake, binary='/usr/bin/headscale'):
    install_fake_commands(monkeypatch, fake, {'headscale': binary})
    return fake


@pytest.fixture
def server(monkeypatch):
    return installed(monkeypatch, FakeHeadscale(users=[ALICE, BOB], nodes=server_nodes()))


def run(args, **kwargs):
    return call_main(headscale_node.main, args, **kwargs)


def remaining(fake):
    return [node['id'] for node in fake.nodes]


@pytest.mark.parametrize('version', [(0, 26, 1), (0, 27, 1), (0, 28, 0), (0, 29, 2)])
def test_deletes_the_node_of_a_key_with_one_read_and_a_second_run_changes_nothing(monkeypatch, version):
    fake = installed(monkeypatch, FakeHeadscale(version=version, users=[ALICE, BOB], nodes=server_nodes(version)))
    args = dict(nodes=[{'node_key': node_key(4)}], version='%d.%d.%d' % version)
    result = run(args, diff=True)
    assert result['changed'] is True and result['deleted'] == [dict(id=4, name='ts2')]
    assert result['diff'] == dict(before_header='headscale nodes', after_header='headscale nodes', before='ts2 (id 4)\n', after='')
    assert fake.words() == ['nodes list --output json', 'nodes delete --identifier=4 --force --output json']
    assert remaining(fake) == [3, 5, 6]
    fake.commands = []
    result = run(args, diff=True)
    assert result['changed'] is False and result['deleted'] == [] and 'diff' not in result
    assert fake.words() == ['nodes list --output json']


def test_nodes_are_found_by_given_name_first_then_by_host_name(server):
    result = run(dict(nodes=[{'name': 'build'}, {'name': 'laptop'}]))
    assert result['deleted'] == [dict(id=3, name='laptop'), dict(id=5, name='build')]
    assert remaining(server) == [4, 6]
    # build-x1 is now the only node with the host name build.
    assert run(dict(nodes=[{'name': 'build'}]))['deleted'] == [dict(id=6, name='build-x1')]


def test_a_host_name_several_nodes_have_fails_before_any_change(monkeypatch):
    nodes = [node_json(5, 'build-a', BOB, hostname='build'), node_json(6, 'build-b', BOB, hostname='build')]
    fake = installed(monkeypatch, FakeHeadscale(users=[BOB], nodes=nodes))
    result = run(dict(nodes=[{'node_key': node_key(5)}, {'name': 'build'}]), fail=True)
    assert '2 headscale nodes have the host name build' in result['msg'] and result['msg'].endswith('nothing was changed')
    assert remaining(fake) == [5, 6]


def test_a_node_named_twice_is_deleted_once(server):
    result = run(dict(nodes=[{'name': 'ts2'}, {'node_key': node_key(4)}]))
    assert result['deleted'] == [dict(id=4, name='ts2')]
    assert server.words().count('nodes delete --identifier=4 --force --output json') == 1


def test_check_mode_only_reads(server):
    result = run(dict(nodes=[{'node_key': node_key(4)}, {'name': 'gone'}]), check_mode=True, diff=True)
    assert result['changed'] is True and result['deleted'] == [dict(id=4, name='ts2')]
    assert result['diff']['before'] == 'ts2 (id 4)\n'
    assert server.words() == ['nodes list --output json'] and remaining(server) == [3, 4, 5, 6]


def test_bad_input_fails_before_any_command(server):
    result = run(dict(nodes=[{'name': 'a', 'node_key': node_key(1)}, {}, {'node_key': 'nodekey:12'}, {'name': ''},
                             {'name': 'ts2', 'routes': []}, {'name': 'ts2'}], version='0.25.0'), fail=True)
    for text in ('version: ', 'nodes[0]: give either name or node_key', 'nodes[1]: give either name or node_key',
                 'nodes[2].node_key: must be a node key', 'nodes[3].name: must be the name', 'nodes[4].routes: unknown key',
                 'nodes[5]: ts2 is listed already as nodes[4]'):
        assert text in result['msg'], (text, result['msg'])
    assert server.commands == []


def test_a_failed_delete_names_what_was_done(server):
    server.override[('nodes', 'delete')] = server.error('permission denied')
    result = run(dict(nodes=[{'name': 'ts2'}]), fail=True)
    assert result['msg'].startswith('headscale nodes delete for ts2 (id 4) failed (rc 1)')
    assert result['msg'].endswith('nothing was changed') and result['deleted'] == []


def test_check_mode_before_headscale_is_installed(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(), binary=None)
    result = run(dict(nodes=[{'name': 'ts2'}]), check_mode=True)
    assert result['changed'] is False and fake.commands == []
    assert fake.warnings == ['headscale is not installed; check mode assumes it has no nodes yet']


def test_a_server_that_is_down_fails_outside_check_mode(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(nodes=server_nodes()))
    fake.down = True
    assert run(dict(nodes=[{'name': 'ts2'}]), fail=True)['msg'].startswith('headscale nodes list failed')
