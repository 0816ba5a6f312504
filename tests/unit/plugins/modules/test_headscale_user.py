# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.headscale_user's main() against the fake headscale CLI of test__headscale_cli
# (its outputs follow the upstream structs; see there).

import pytest

from ansible_collections.overlaynet.vpn.plugins.modules import headscale_user
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__headscale_cli import (
    ALICE,
    BOB,
    OIDC_ALICE,
    TAGGED_DEVICES,
    FakeHeadscale,
    node_json,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, install_fake_commands


@pytest.fixture
def server(monkeypatch):
    """A headscale 0.29 server host with alice (id 1) and bob (id 2)."""
    return installed(monkeypatch, FakeHeadscale(users=[ALICE, BOB]))


def installed(monkeypatch, fake, binary='/usr/bin/headscale'):
    return install_fake_commands(monkeypatch, fake, {'headscale': binary})


def run(args, **kwargs):
    return call_main(headscale_user.main, args, **kwargs)


def test_creates_only_the_missing_users_with_one_read(server):
    result = run(dict(users=['alice', {'name': 'carol', 'display_name': 'Carol Example', 'email': 'carol@example.org'}]))
    assert result['changed'] is True
    assert result['created'] == ['carol'] and result['removed'] == []
    assert result['users'] == {
        'alice': dict(id=1, name='alice', display_name='', email=''),
        'carol': dict(id=3, name='carol', display_name='Carol Example', email='carol@example.org'),
    }
    assert server.words() == ['users list --output json',
                              'users create carol --display-name=Carol Example --email=carol@example.org --output json']


def test_a_converged_server_costs_one_read(server):
    result = run(dict(users=['alice', 'bob', {'name': 'dave', 'state': 'absent'}]))
    assert result['changed'] is False and result['created'] == [] and result['removed'] == []
    assert result['users']['bob']['id'] == 2
    assert server.words() == ['users list --output json'] and server.warnings == []


def test_removes_an_existing_user_without_a_prompt(server):
    result = run(dict(users=[{'name': 'bob', 'state': 'absent'}]), diff=True)
    assert result['changed'] is True and result['removed'] == ['bob'] and result['users'] == {}
    assert server.words() == ['users list --output json', 'nodes list --output json',
                              'users destroy --identifier=2 --force --output json']
    assert result['diff'] == dict(before_header='headscale users', after_header='headscale users', before='alice\nbob\n', after='alice\n')


def test_check_mode_only_reads(server):
    result = run(dict(users=[{'name': 'carol', 'email': 'carol@example.org'}, {'name': 'bob', 'state': 'absent'}]), check_mode=True, diff=True)
    assert result['changed'] is True and result['created'] == ['carol'] and result['removed'] == ['bob']
    assert result['users'] == {'carol': dict(id=None, name='carol', display_name='', email='carol@example.org')}
    assert result['diff']['after'] == 'alice\ncarol\n'
    assert server.mutations() == [] and server.words() == ['users list --output json', 'nodes list --output json']


def test_a_user_with_nodes_is_not_removed_and_nothing_changes(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(users=[ALICE, BOB], nodes=[
        node_json(4, 'db1', BOB), node_json(5, 'db2', BOB), node_json(6, 'web1', ALICE)]))
    for check_mode in (False, True):
        result = run(dict(users=['carol', {'name': 'bob', 'state': 'absent'}]), check_mode=check_mode, fail=True)
        assert result['msg'] == ('headscale deletes no user that still owns nodes: bob owns db1 (id 4), db2 (id 5); delete those nodes first '
                                 '(headscale nodes delete --identifier ID --force) or keep the user; nothing was changed')
    assert fake.mutations() == []


def test_a_refusal_by_headscale_names_what_was_done(monkeypatch):
    # 0.28 counts the tagged nodes a user registered, which nodes list shows under tagged-devices.
    fake = installed(monkeypatch, FakeHeadscale(version=(0, 28, 0), users=[ALICE, BOB], nodes=[node_json(7, 'router', TAGGED_DEVICES)]))
    fake.override[('users', 'destroy')] = fake.error('rpc error: code = Unknown desc = user not empty: node(s) found')
    result = run(dict(users=['carol', {'name': 'bob', 'state': 'absent'}], version='0.28.0'), fail=True)
    assert result['msg'].startswith('headscale users destroy for bob (id 2) failed (rc 1): rpc error: code = Unknown desc = '
                                    'user not empty: node(s) found; headscale deletes no user')
    assert result['msg'].endswith('; done before: created carol')
    assert result['created'] == ['carol'] and result['removed'] == []


def test_removing_a_user_from_0_28_warns_about_every_key(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(version=(0, 28, 0), users=[ALICE, BOB]))
    run(dict(users=[{'name': 'bob', 'state': 'absent'}], version='0.28.0'))
    assert fake.warnings == ['headscale 0.28 deletes every pre-auth key of the server, of all users, when it deletes a user '
                             '(registered nodes stay); mint new keys for nodes yet to join']


def test_a_name_two_users_have_fails_before_any_change(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(users=[ALICE, BOB, OIDC_ALICE]))
    result = run(dict(users=['carol', {'name': 'alice', 'state': 'absent'}]), fail=True)
    assert result['msg'].startswith('2 headscale users are called alice (ids 1, 3 (oidc))') and result['msg'].endswith('nothing was changed')
    assert fake.mutations() == []


def test_display_names_of_existing_users_are_only_warned_about(server):
    result = run(dict(users=[{'name': 'bob', 'display_name': 'Robert'}]))
    assert result['changed'] is False and result['users']['bob']['display_name'] == 'Bob Example'
    assert server.warnings == ["headscale user bob has display_name 'Bob Example', not 'Robert': headscale sets it only when it creates a user "
                               "(remove and re-create the user to change it)"]


def test_bad_input_fails_before_any_command(server):
    result = run(dict(users=['1x', 'alice', 'alice', {'name': 'x'}], version='0.30.1'), fail=True)
    assert result['msg'].startswith('version: 0.30.1 is not supported')
    assert "users[0].name: '1x': a headscale user name starts with a letter" in result['msg']
    assert 'users[2]: alice is listed already as users[1]' in result['msg']
    assert "users[3].name: 'x': a headscale user name has at least 2 characters" in result['msg']
    assert server.commands == []


def test_the_config_path_is_passed_to_every_command(server):
    run(dict(users=['carol'], config_path='/etc/headscale/other.yaml'))
    assert all(command[-1] == '--config=/etc/headscale/other.yaml' for command in server.commands) and len(server.commands) == 2


def test_a_server_that_is_down_fails_outside_check_mode(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(version=(0, 26, 1)))
    fake.down = True
    result = run(dict(users=['alice'], version='0.26.1'), fail=True)
    assert result['msg'].startswith('headscale users list failed (rc 255): no error output: headscale 0.26 prints nothing')
    assert result['rc'] == 255


def test_check_mode_assumes_no_users_while_the_server_is_not_up(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale())
    fake.down = True
    result = run(dict(users=['alice', {'name': 'bob', 'state': 'absent'}]), check_mode=True)
    assert result['changed'] is True and result['created'] == ['alice'] and result['removed'] == []
    assert len(fake.warnings) == 1 and 'check mode assumes no users' in fake.warnings[0]


def test_check_mode_before_headscale_is_installed(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(), binary=None)
    result = run(dict(users=['alice']), check_mode=True)
    assert result['created'] == ['alice'] and fake.commands == []
    assert fake.warnings == ['headscale is not installed; check mode assumes it has no users yet']


def test_without_headscale_a_real_run_fails(monkeypatch):
    installed(monkeypatch, FakeHeadscale(), binary=None)
    assert 'headscale' in run(dict(users=['alice']), fail=True)['msg']
