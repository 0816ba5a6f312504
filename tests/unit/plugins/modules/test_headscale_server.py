# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.headscale_server's main() against the fake host of test__headscale_apply:
# headscale.service and the headscale CLI, answered in-process (see there).

import json
import os

import pytest

from ansible.module_utils import basic

from ansible_collections.overlaynet.vpn.plugins.modules import headscale_server
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__headscale_apply import (
    HEADSCALE,
    POLICY,
    SYSTEMCTL,
    UNIT,
    config_for,
    fake_host,
    read_or_none,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, install_fake_commands


def installed(monkeypatch, tmp_path, version=(0, 29), binary=HEADSCALE):
    host = install_fake_commands(monkeypatch, fake_host(monkeypatch, tmp_path, version), {'systemctl': SYSTEMCTL, 'headscale': binary})
    # The fake host also sees the environment a command gets: configtest must get the database password.
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, args, **kwargs: host.run(args, kwargs.get('environ_update')))
    return host


@pytest.fixture
def host(monkeypatch, tmp_path):
    return installed(monkeypatch, tmp_path)


def args_for(host, **extra):
    args = dict(config=config_for(host.policy_path), config_path=host.config_path, policy=POLICY, policy_path=host.policy_path)
    args.update(extra)
    return args


def run(host, **kwargs):
    extra = kwargs.pop('args', {})
    host.commands = []
    return call_main(headscale_server.main, args_for(host, **extra), **kwargs)


def test_first_run_with_the_defaults_of_unit_and_executable(host):
    result = run(host, diff=True)
    assert result['changed'] is True and result['action'] == 'replace'
    assert [item['after_header'] for item in result['diff']] == [host.config_path, host.policy_path]
    assert read_or_none(host.config_path) == config_for(host.policy_path) and read_or_none(host.policy_path) == POLICY
    assert host.mutations() == ['%s restart %s' % (SYSTEMCTL, UNIT), '%s enable %s' % (SYSTEMCTL, UNIT)]
    assert host.headscale_commands()[-1] == 'users list --output json --config=%s' % host.config_path
    again = run(host, diff=True)
    assert again == dict(changed=False, action='none', changed_paths=[])


def test_daemon_reload_comes_before_the_restart_and_not_in_check_mode(host):
    run(host, args=dict(daemon_reload=True), check_mode=True)
    assert host.commands.count('%s daemon-reload' % SYSTEMCTL) == 0
    run(host, args=dict(daemon_reload=True))
    reload_index = host.commands.index('%s daemon-reload' % SYSTEMCTL)
    assert reload_index < host.commands.index('%s restart %s' % (SYSTEMCTL, UNIT))
    run(host)
    assert '%s daemon-reload' % SYSTEMCTL not in host.commands


def test_check_mode_needs_no_headscale_yet(monkeypatch, tmp_path):
    host = installed(monkeypatch, tmp_path, binary=None)
    result = run(host, check_mode=True, diff=True)
    assert result['changed'] is True and result['action'] == 'replace' and len(result['diff']) == 2
    assert host.mutations() == [] and host.headscale_commands() == [] and not os.path.exists(host.config_path)


def test_a_run_without_headscale_fails_before_any_change(monkeypatch, tmp_path):
    host = installed(monkeypatch, tmp_path, binary=None)
    result = run(host, fail=True)
    assert result['msg'] == 'Failed to find required executable "headscale"'
    assert host.mutations() == [] and not os.path.exists(host.config_path)


def test_config_is_required_when_present(host):
    result = call_main(headscale_server.main, dict(policy=POLICY), fail=True)
    assert 'config' in result['msg'] and host.commands == []


def test_bad_options_fail_before_any_command(host):
    result = run(host, args=dict(policy_path=host.config_path, timeout=0), fail=True)
    assert result['msg'].startswith('config_path and policy_path are the same file')
    assert 'timeout: must be 1 second or more, got 0' in result['msg'] and host.commands == []


def test_a_policy_ansible_turned_into_a_mapping_is_written_as_json(host):
    result = run(host, args=dict(policy=json.loads(POLICY)))
    assert result['changed'] and read_or_none(host.policy_path) == POLICY


def test_a_refused_policy_fails_with_the_checkers_words(host):
    run(host)
    result = run(host, args=dict(policy=POLICY.replace('"group:eng"\n      ]', '"group:nope"\n      ]')), fail=True)
    assert result['msg'].startswith('headscale policy check refuses the new %s; nothing was changed: rpc error: code = InvalidArgument'
                                    % host.policy_path)
    assert read_or_none(host.policy_path) == POLICY


def test_absent_in_check_mode_and_for_real(host, tmp_path):
    run(host)
    lib = tmp_path / 'lib'
    lib.mkdir()
    preview = call_main(headscale_server.main, dict(state='absent', config_path=host.config_path, policy_path=host.policy_path,
                                                    remove_paths=[str(lib)]), check_mode=True)
    assert preview == dict(changed=True, action='remove') and lib.exists()
    result = call_main(headscale_server.main, dict(state='absent', config_path=host.config_path, policy_path=host.policy_path,
                                                   remove_paths=[str(lib)]))
    assert result == dict(changed=True, action='remove') and not lib.exists() and not os.path.exists(host.config_path)
    assert host.active_state == 'inactive' and not host.enabled


def test_0_26_first_run(monkeypatch, tmp_path):
    host = installed(monkeypatch, tmp_path, (0, 26))
    result = run(host)
    assert result == dict(changed=True, action='replace', changed_paths=[])
    assert [what for what, _path, _text in host.checked] == ['policy check', 'configtest']


def test_the_environment_file_reaches_configtest(host, tmp_path):
    environment_file = tmp_path / 'headscale.env'
    environment_file.write_text('HEADSCALE_DATABASE_POSTGRES_PASS="%s"\n' % host.postgres_password)
    postgres = config_for(host.policy_path).replace('type: sqlite', 'type: postgres')
    result = run(host, args=dict(config=postgres, environment_file=str(environment_file)))
    assert result['action'] == 'replace' and host.environments == [{'HEADSCALE_DATABASE_POSTGRES_PASS': host.postgres_password}]


def test_files_are_written_before_the_daemon_reload_and_the_restart_and_diffed_first(host, tmp_path):
    unit_file = str(tmp_path / 'systemd' / 'headscale.service')
    files = [dict(path=unit_file, content='[Service]\n')]
    preview = run(host, args=dict(files=files, daemon_reload=True), check_mode=True, diff=True)
    assert preview['changed_paths'] == [unit_file] and not os.path.exists(unit_file)
    assert [item['after_header'] for item in preview['diff']] == [unit_file, host.config_path, host.policy_path]
    result = run(host, args=dict(files=files, daemon_reload=True), diff=True)
    assert result['changed_paths'] == [unit_file] and read_or_none(unit_file) == '[Service]\n'
    assert result['diff'][0] == dict(before_header=unit_file, after_header=unit_file, before='', after='[Service]\n')
    assert run(host, args=dict(files=files)) == dict(changed=False, action='none', changed_paths=[])


def test_users_are_kept_once_the_server_is_up(host):
    result = run(host, args=dict(users=['alice', {'name': 'bob', 'state': 'absent'}]), diff=True)
    assert result['action'] == 'replace' and result['created_users'] == ['alice'] and result['removed_users'] == []
    assert result['users'] == {'alice': dict(id=1, name='alice', display_name='', email='')}
    assert result['diff'][-1]['after'] == 'alice\n'
    commands = host.headscale_commands()
    assert commands.index('users create alice --output json --config=%s' % host.config_path) > commands.index(
        'users list --output json --config=%s' % host.config_path)
    again = run(host, args=dict(users=['alice']))
    assert again['changed'] is False and again['created_users'] == [] and again['users']['alice']['id'] == 1


def test_bad_users_and_files_fail_before_any_command(host):
    result = run(host, args=dict(users=[{'name': 'Bad Name'}], version='0.25.0', files=[dict(path='relative', content='')]), fail=True)
    assert 'users[0]' in result['msg'] and 'version: 0.25.0' in result['msg'] and "files[0].path: 'relative'" in result['msg']
    assert host.commands == [] and not os.path.exists(host.config_path)
