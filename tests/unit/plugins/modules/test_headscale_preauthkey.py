# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.headscale_preauthkey's main() against the fake headscale CLI of
# test__headscale_cli (its outputs follow the upstream structs; see there). The key is a secret:
# besides what the module does, these tests check where the key appears.

import json

import pytest

from ansible_collections.overlaynet.vpn.plugins.modules import headscale_preauthkey
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__headscale_cli import (
    ALICE,
    BOB,
    LEGACY_KEY,
    NEW_KEY,
    FakeHeadscale,
    go_json,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, install_fake_commands, module_args


def installed(monkeypatch, fake, binary='/usr/bin/headscale', exits=True):
    return install_fake_commands(monkeypatch, fake, {'headscale': binary}, exits=exits)


@pytest.fixture
def server(monkeypatch):
    """A headscale 0.29 server host with alice (id 1) and bob (id 2)."""
    return installed(monkeypatch, FakeHeadscale(users=[ALICE, BOB]))


def run(args, **kwargs):
    return call_main(headscale_preauthkey.main, args, **kwargs)


def assert_key_only_in_its_field(result, *keys):
    rest = json.dumps(dict((name, value) for name, value in result.items() if name != 'key'))
    for key in keys:
        assert key not in rest
    assert 'hskey-auth-' not in rest


def test_mints_a_key_for_a_user_by_name(server):
    result = run(dict(user='bob', expiration='30m'))
    assert result['changed'] is True
    assert result['key'] == NEW_KEY
    assert result == dict(changed=True, key=NEW_KEY, id=1, user='bob', user_id=2, reusable=False, ephemeral=False, tags=[],
                          expiration='2025-11-30T11:53:20Z')
    assert server.words() == ['users list --output json', 'preauthkeys create --user=2 --expiration=30m --output json']
    assert_key_only_in_its_field(result, NEW_KEY)


def test_every_run_mints_a_new_key(server):
    run(dict(user='alice'))
    run(dict(user='alice'))
    assert len(server.keys) == 2


def test_reusable_ephemeral_and_tags(server):
    result = run(dict(user='alice', reusable=True, ephemeral=True, tags=['tag:web', 'tag:db', 'tag:web'], expiration='2h'))
    assert result['reusable'] and result['ephemeral'] and result['tags'] == ['tag:db', 'tag:web']
    assert server.words()[-1] == 'preauthkeys create --user=1 --expiration=2h --reusable --ephemeral --tags=tag:db,tag:web --output json'


def test_a_key_with_tags_only_needs_no_user_from_0_28(server):
    result = run(dict(tags=['tag:server']))
    assert result['user'] is None and result['user_id'] is None and result['key'] == NEW_KEY
    assert server.words() == ['preauthkeys create --expiration=1h --tags=tag:server --output json']


def test_before_0_28_a_key_needs_a_user(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(version=(0, 27, 0), users=[ALICE]))
    result = run(dict(tags=['tag:server'], version='0.27.0'), fail=True)
    assert result['msg'] == 'user: required with headscale 0.27.0 (a key without a user, tags only, needs 0.28 or later)'
    assert fake.commands == []


def test_a_0_26_key(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(version=(0, 26, 1), users=[ALICE]))
    result = run(dict(user='alice', version='0.26.1'))
    assert result['key'] == LEGACY_KEY and result['user_id'] == 1
    assert fake.words()[-1] == 'preauthkeys create --user=1 --expiration=1h --output json'
    assert_key_only_in_its_field(result, LEGACY_KEY)


def test_check_mode_mints_nothing_and_returns_no_key(server):
    result = run(dict(user='alice'), check_mode=True)
    assert result['changed'] is True and 'key' not in result and result['id'] is None and result['user_id'] == 1
    assert server.mutations() == [] and server.keys == []


def test_check_mode_with_a_user_created_by_an_earlier_task(server):
    result = run(dict(user='carol'), check_mode=True)
    assert result['changed'] is True and 'key' not in result and result['user_id'] is None
    assert server.warnings == ['headscale has no user carol yet; a run outside check mode fails unless an earlier task creates it']


def test_an_unknown_user_fails(server):
    result = run(dict(user='carol'), fail=True)
    assert result['msg'] == 'headscale has no user carol (users: alice, bob)'
    assert server.mutations() == []


def test_bad_options_fail_before_any_command(server):
    result = run(dict(user='alice', expiration='1.5h', tags=['Server']), fail=True)
    assert result['msg'].startswith("tags[0]: 'Server' is not a tag") and "expiration: '1.5h' is not a duration" in result['msg']
    assert server.commands == []


def test_no_key_in_a_failure_message(server):
    # Should headscale ever quote a key in its error, the module does not pass it on.
    server.override[('preauthkeys', 'create')] = (1, '', go_json({'error': 'creating preauthkey: conflict with %s and %s' % (NEW_KEY, LEGACY_KEY)}))
    result = run(dict(user='alice'), fail=True)
    assert result['msg'] == 'headscale preauthkeys create failed (rc 1): creating preauthkey: conflict with (key) and (key)'
    assert_key_only_in_its_field(result, NEW_KEY, LEGACY_KEY)
    assert 'key' not in result


def test_no_key_when_the_output_cannot_be_read(server):
    server.override[('preauthkeys', 'create')] = (0, 'Key: %s\n' % NEW_KEY, 'warning: %s\n' % NEW_KEY)
    result = run(dict(user='alice'), fail=True)
    assert 'cannot be read' in result['msg']
    assert_key_only_in_its_field(result, NEW_KEY)
    assert 'key' not in result


def test_a_server_that_is_down(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(version=(0, 28, 0), users=[ALICE]))
    fake.down = True
    result = run(dict(user='alice', version='0.28.0'), fail=True)
    assert result['msg'].startswith('headscale users list failed (rc 255): no error output')


def test_the_real_exit_puts_the_key_only_into_its_field(monkeypatch, capsys):
    # AnsibleModule's own exit_json: what Ansible receives, invocation included.
    fake = installed(monkeypatch, FakeHeadscale(users=[ALICE]), exits=False)
    with module_args(dict(user='alice')):
        with pytest.raises(SystemExit):
            headscale_preauthkey.main()
    result = json.loads(capsys.readouterr().out)
    assert result['key'] == NEW_KEY and result['invocation']['module_args']['user'] == 'alice'
    assert_key_only_in_its_field(result, NEW_KEY)
    assert len(fake.keys) == 1


def test_check_mode_before_headscale_is_installed(monkeypatch):
    fake = installed(monkeypatch, FakeHeadscale(), binary=None)
    result = run(dict(user='alice'), check_mode=True)
    assert result['changed'] is True and 'key' not in result and result['user_id'] is None and fake.commands == []
    assert fake.warnings == ['headscale is not installed; check mode assumes it has no users yet']


def test_several_keys_in_one_run(server):
    result = run(dict(expiration='30m', keys=[dict(name='web1', user='alice', tags=['tag:web']),
                                              dict(name='db1', user='bob', expiration='2h', reusable=True),
                                              dict(name='tagged', tags=['tag:db'])]))
    assert result['changed'] is True and 'key' not in result and sorted(result['keys']) == ['db1', 'tagged', 'web1']
    assert result['keys']['web1'] == dict(key=NEW_KEY, id=1, user='alice', user_id=1, reusable=False, ephemeral=False,
                                          tags=['tag:web'], expiration='2025-11-30T11:53:20Z')
    assert result['keys']['db1']['key'] == NEW_KEY[:-2] + '02' and result['keys']['db1']['reusable'] is True
    assert result['keys']['tagged']['user'] is None and result['keys']['tagged']['key'] == NEW_KEY[:-2] + '03'
    # One read of the users for all keys.
    assert server.words() == ['users list --output json',
                              'preauthkeys create --user=1 --expiration=30m --tags=tag:web --output json',
                              'preauthkeys create --user=2 --expiration=2h --reusable --output json',
                              'preauthkeys create --expiration=30m --tags=tag:db --output json']


def test_several_keys_without_users_read_no_users(server):
    result = run(dict(tags=['tag:node'], keys=[dict(name='a'), dict(name='b')]))
    assert [key['tags'] for key in result['keys'].values()] == [['tag:node'], ['tag:node']]
    assert server.words() == ['preauthkeys create --expiration=1h --tags=tag:node --output json'] * 2


def test_every_problem_of_several_keys_before_any_command(server):
    result = run(dict(keys=[dict(name='a', user='alice', expiration='soon'), dict(name='a', tags=['Web']), dict(name='')]), fail=True)
    assert "keys[0] (a): expiration: 'soon' is not a duration" in result['msg']
    assert "keys[1] (a): tags[0]: 'Web' is not a tag" in result['msg']
    assert 'keys[1] (a): name: given twice (a key per name)' in result['msg']
    assert 'keys[2] (): user: required unless tags are given' in result['msg'] and 'keys[2] (): name: must not be empty' in result['msg']
    assert server.commands == []


def test_several_keys_in_check_mode(server):
    result = run(dict(keys=[dict(name='a', user='alice'), dict(name='b', user='carol')]), check_mode=True)
    assert result['keys'] == dict(a=dict(id=None, user='alice', user_id=1, reusable=False, ephemeral=False, tags=[], expiration=None),
                                  b=dict(id=None, user='carol', user_id=None, reusable=False, ephemeral=False, tags=[], expiration=None))
    assert server.mutations() == [] and 'hskey' not in json.dumps(result)


def test_an_unknown_user_of_one_key_mints_none(server):
    result = run(dict(keys=[dict(name='a', user='alice'), dict(name='b', user='carol')]), fail=True)
    assert result['msg'] == 'headscale has no user carol (users: alice, bob)' and server.keys == []


def test_a_failure_part_way_says_how_many_keys_were_minted(server, monkeypatch):
    create = server.preauthkeys_create

    def create_one_then_fail(words):
        if server.keys:
            return 1, '', go_json({'error': 'database is locked'})
        return create(words)
    monkeypatch.setattr(server, 'preauthkeys_create', create_one_then_fail)
    result = run(dict(user='alice', keys=[dict(name='a'), dict(name='b')]), fail=True)
    assert result['msg'] == ('headscale preauthkeys create failed (rc 1): database is locked '
                             '(keys minted before it in this run: 1; unused, they expire)')
    assert 'keys' not in result and 'hskey' not in json.dumps(result) and len(server.keys) == 1


def test_the_real_exit_hides_no_key_of_several_in_other_fields(monkeypatch, capsys):
    installed(monkeypatch, FakeHeadscale(users=[ALICE]), exits=False)
    with module_args(dict(user='alice', keys=[dict(name='a'), dict(name='b')])):
        with pytest.raises(SystemExit):
            headscale_preauthkey.main()
    result = json.loads(capsys.readouterr().out)
    assert [result['keys'][name]['key'] for name in ('a', 'b')] == [NEW_KEY, NEW_KEY[:-2] + '02']
    assert 'hskey' not in json.dumps(result['invocation'])
