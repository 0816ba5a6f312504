# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.tailscale_node's main() against the fake tailscale CLI of test__tailscale_node
# (its outputs and its up/set/logout follow the upstream sources; see there). The pre-auth key is
# a secret: besides what the module does, these tests check that it appears nowhere.

import json
import os

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _tailscale_node
from ansible_collections.overlaynet.vpn.plugins.modules import tailscale_node
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__tailscale_node import (
    FORWARDING_WARNING,
    HS,
    HS_KEY,
    KEY_FILE,
    NOT_RUNNING,
    OTHER,
    TIMEOUT_ERROR,
    Control,
    FakeTailscale,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, install_fake_commands

READS = ['status --json --peers=false', 'debug prefs']
SYSTEMCTL = '/usr/bin/systemctl'
UNIT = 'tailscaled.service'
WEB1 = dict(login_server=HS, hostname='web1', advertise_tags=['tag:server'])


@pytest.fixture(autouse=True)
def host_dns(tmp_path, monkeypatch):
    """The host's resolv.conf as a logout finds it once tailscaled handed DNS back long ago (not this machine's)."""
    resolv_conf = tmp_path / 'resolv.conf'
    resolv_conf.write_text('nameserver 10.213.0.1\n')
    os.utime(str(resolv_conf), (0, 0))
    monkeypatch.setattr(_tailscale_node, 'RESOLV_CONF', str(resolv_conf))
    monkeypatch.setattr(_tailscale_node, 'CONTROL_RETRY_SECONDS', 0)


@pytest.fixture
def key_file(tmp_path):
    """A key file as a play writes it; the fake CLI reads it, the module only checks that it is a file."""
    path = tmp_path / 'tailscale-key'
    path.write_text(HS_KEY + '\n')
    path.chmod(0o600)
    return str(path)


def join_words(key_file):
    return ('up --reset --login-server=https://hs.example.org --auth-key=file:%s --hostname=web1 --advertise-tags=tag:server '
            '--advertise-routes= --advertise-exit-node=false --accept-routes=false --accept-dns=true --timeout=60s' % key_file)


def installed(monkeypatch, fake, binary='/usr/bin/tailscale'):
    return install_fake_commands(monkeypatch, fake, {'tailscale': binary, 'systemctl': SYSTEMCTL})


def new_node(monkeypatch, keys=(HS_KEY,), **control):
    """A node whose tailscaled runs and has never logged in; headscale at HS has keys."""
    return installed(monkeypatch, FakeTailscale([Control(HS, keys=keys, **control)]))


def run(args, **kwargs):
    result = call_main(tailscale_node.main, args, **kwargs)
    assert HS_KEY not in json.dumps(result), 'the key is in no return value and no message'
    return result


def test_a_new_node_without_a_key_asks_for_one(monkeypatch):
    fake = new_node(monkeypatch)
    result = run(WEB1)
    assert result['changed'] is False and result['needs_auth_key'] is True and result['join_reason'] == 'not logged in'
    assert result['backend_state'] == 'NeedsLogin' and result['tailscale_ips'] == [] and result['dns_name'] is None
    assert fake.words() == READS and fake.warnings == []


def test_check_mode_says_a_join_would_happen(monkeypatch):
    fake = new_node(monkeypatch)
    result = run(WEB1, check_mode=True, diff=True)
    assert result['changed'] is True and result['needs_auth_key'] is True
    assert result['settings']['login_server'] == HS and result['settings']['advertise_tags'] == ['tag:server']
    assert result['diff']['before'].startswith('login_server: null\nhostname: null\n')
    assert result['diff']['after'].startswith('login_server: https://hs.example.org\nhostname: web1\nadvertise_tags: [tag:server]\n')
    assert fake.mutations() == []


def test_a_new_node_joins_with_the_key(monkeypatch, key_file):
    fake = new_node(monkeypatch)
    result = run(dict(WEB1, auth_key_file=key_file), diff=True)
    assert result['changed'] is True and result['needs_auth_key'] is False and result['join_reason'] == 'not logged in'
    assert fake.words() == READS + [join_words(key_file)] + READS
    assert result['backend_state'] == 'Running' and result['tailscale_ips'] == ['100.64.0.5', 'fd7a:115c:a1e0::5']
    assert result['dns_name'] == 'web1.tailnet.example.org' and result['hostname'] == 'web1' and result['tags'] == ['tag:server']
    assert result['settings'] == dict(login_server=HS, hostname='web1', advertise_tags=['tag:server'], advertise_routes=[],
                                      advertise_exit_node=False, accept_routes=False, accept_dns=True)
    assert result['diff']['after'].startswith('login_server: https://hs.example.org\n')
    # The next run finds it as wanted: the key file may be gone by then.
    result = run(dict(WEB1, auth_key_file='/nonexistent/key'))
    assert result['changed'] is False and result['join_reason'] is None and fake.words()[-2:] == READS


def test_a_key_given_as_an_option_reaches_the_cli_in_a_private_file_removed_after_the_join(monkeypatch, tmp_path):
    fake = new_node(monkeypatch)
    seen = []
    read_file = fake.read_file

    def read_key_file(path):
        seen.append((path, oct(os.stat(path).st_mode & 0o777), oct(os.stat(os.path.dirname(path)).st_mode & 0o777)))
        return read_file(path)
    fake.read_file = read_key_file
    result = run(dict(WEB1, auth_key=HS_KEY + '\n', _ansible_remote_tmp=str(tmp_path)))
    assert result['changed'] is True and result['join_reason'] == 'not logged in' and result['backend_state'] == 'Running'
    (path, file_mode, directory_mode), = seen
    assert file_mode == '0o600' and directory_mode == '0o700'
    assert fake.mutations() == [join_words(path)] and not os.path.exists(path)


def test_a_key_file_of_the_module_is_removed_after_a_failed_join(monkeypatch, tmp_path):
    fake = new_node(monkeypatch, keys=())
    result = run(dict(WEB1, auth_key=HS_KEY, _ansible_remote_tmp=str(tmp_path)), fail=True)
    assert 'invalid key' in result['msg'] or 'failed' in result['msg']
    path = fake.mutations()[0].split('--auth-key=file:')[1].split()[0]
    assert not os.path.exists(path)


def test_the_key_is_one_option_or_the_other(monkeypatch, key_file):
    fake = new_node(monkeypatch)
    assert 'mutually exclusive' in run(dict(WEB1, auth_key=HS_KEY, auth_key_file=key_file), fail=True)['msg']
    assert run(dict(WEB1, auth_key='two words'), fail=True)['msg'].startswith('auth_key: must be one pre-auth key')
    assert fake.mutations() == []


def test_a_converged_node_costs_two_reads(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined(tags=['tag:server'], hostname='web1', routes=['10.1.0.0/16']))
    result = run(dict(WEB1, advertise_routes=['10.1.0.0/16'], login_server=HS + ':443/'), diff=True)
    assert result['changed'] is False and result['needs_auth_key'] is False and 'diff' not in result
    assert fake.words() == READS


def systemctl_calls(fake):
    return [' '.join(command[1:]) for command in fake.commands if command[0] == SYSTEMCTL]


def test_a_stopped_daemon_is_started_before_the_join(monkeypatch, key_file):
    fake = new_node(monkeypatch)
    fake.daemon_down = True
    fake.unit_enabled = False
    result = run(dict(WEB1, auth_key_file=key_file, unit=UNIT, daemon_reload=True))
    assert result['changed'] is True and result['service_action'] == 'start' and result['join_reason'] == 'not logged in'
    assert systemctl_calls(fake) == ['daemon-reload', 'is-enabled ' + UNIT, 'enable ' + UNIT, 'is-active ' + UNIT, 'start ' + UNIT]
    assert fake.words() == READS + [join_words(key_file)] + READS
    again = run(dict(WEB1, auth_key_file=key_file, unit=UNIT))
    assert again['changed'] is False and again['service_action'] == 'none'


def test_restart_asked_restarts_a_converged_node_and_is_a_change(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined(tags=['tag:server'], hostname='web1'))
    result = run(dict(WEB1, unit=UNIT, restart=True))
    assert result['changed'] is True and result['service_action'] == 'restart' and result['needs_auth_key'] is False
    assert systemctl_calls(fake)[-1] == 'restart ' + UNIT and fake.words() == READS


def test_check_mode_says_a_stopped_daemon_would_start_and_starts_nothing(monkeypatch):
    fake = new_node(monkeypatch)
    fake.daemon_down = True
    result = run(dict(WEB1, unit=UNIT, daemon_reload=True), check_mode=True)
    assert result['changed'] is True and result['service_action'] == 'start' and result['needs_auth_key'] is True
    assert systemctl_calls(fake) == ['is-enabled ' + UNIT, 'is-active ' + UNIT] and fake.daemon_down


def test_restart_and_daemon_reload_need_the_unit(monkeypatch):
    fake = new_node(monkeypatch)
    result = run(dict(WEB1, restart=True, daemon_reload=True), fail=True)
    assert 'restart: needs unit' in result['msg'] and 'daemon_reload: needs unit' in result['msg'] and fake.commands == []


def test_differing_settings_are_set_alone(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined(tags=['tag:server'], hostname='old', routes=['10.1.0.0/16'], exit_node=True))
    result = run(dict(WEB1, advertise_routes=['10.2.0.0/16'], advertise_exit_node=True, accept_dns=False), diff=True)
    assert fake.mutations() == ['set --hostname=web1 --advertise-routes=10.2.0.0/16 --accept-dns=false']
    assert result['changed'] is True and result['settings']['advertise_routes'] == ['10.2.0.0/16']
    assert result['settings']['advertise_exit_node'] is True and result['settings']['hostname'] == 'web1'
    assert result['diff'] == dict(
        before_header='tailscale settings', after_header='tailscale settings',
        before='login_server: https://hs.example.org\nhostname: old\nadvertise_tags: [tag:server]\nadvertise_routes: [10.1.0.0/16]\n'
               'advertise_exit_node: true\naccept_routes: false\naccept_dns: true\n',
        after='login_server: https://hs.example.org\nhostname: web1\nadvertise_tags: [tag:server]\nadvertise_routes: [10.2.0.0/16]\n'
              'advertise_exit_node: true\naccept_routes: false\naccept_dns: false\n')


def test_routes_are_cleared_and_an_unset_hostname_is_left_alone(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined(hostname='kept', routes=['10.1.0.0/16'], exit_node=True))
    result = run(dict(login_server=HS))
    assert fake.mutations() == ['set --advertise-routes= --advertise-exit-node=false']
    assert result['settings']['advertise_routes'] == [] and result['settings']['hostname'] == 'kept'


def test_check_mode_predicts_the_settings(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined())
    result = run(dict(login_server=HS, accept_routes=True), check_mode=True, diff=True)
    assert result['changed'] is True and result['settings']['accept_routes'] is True
    assert 'accept_routes: true' in result['diff']['after'] and fake.mutations() == []


def test_set_warnings_are_passed_on(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined())
    fake.ip_forwarding = False
    run(dict(login_server=HS, advertise_routes=['192.168.10.0/24']))
    assert fake.warnings == ['tailscale set: ' + FORWARDING_WARNING]


def test_a_node_of_another_server_is_logged_in_anew(monkeypatch, key_file):
    fake = installed(monkeypatch, FakeTailscale([Control(HS, keys=[HS_KEY])]).joined(url=OTHER))
    result = run(dict(login_server=HS))
    assert result['needs_auth_key'] is True and result['join_reason'] == 'logged in to %s, not %s' % (OTHER, HS)
    assert fake.mutations() == []
    result = run(dict(login_server=HS, auth_key_file=key_file))
    assert fake.mutations() == ['up --reset --login-server=https://hs.example.org --auth-key=file:%s --force-reauth --advertise-tags= '
                                '--advertise-routes= --advertise-exit-node=false --accept-routes=false --accept-dns=true --timeout=60s'
                                % key_file]
    assert result['changed'] is True and result['settings']['login_server'] == HS and result['backend_state'] == 'Running'


def test_a_node_its_server_no_longer_has_logs_in_anew_with_a_new_node_key(monkeypatch, key_file):
    """tailscaled keeps showing a node its server deleted as running; only the caller (the role reads the server's
    nodes) can tell, with rejoin."""
    fake = installed(monkeypatch, FakeTailscale([Control(HS, keys=[HS_KEY])]).joined(hostname='web1'))
    assert run(dict(login_server=HS, hostname='web1'))['changed'] is False
    result = run(dict(login_server=HS, hostname='web1', rejoin=True), check_mode=True)
    assert result['needs_auth_key'] is True and result['join_reason'] == 'its control server no longer has it (rejoin)'
    result = run(dict(login_server=HS, hostname='web1', rejoin=True, auth_key_file=key_file))
    assert result['changed'] is True and result['join_reason'] == 'its control server no longer has it (rejoin)'
    assert fake.mutations()[0].startswith('up --reset --login-server=https://hs.example.org --auth-key=file:%s --force-reauth '
                                          '--hostname=web1 ' % key_file)


def test_rejoin_on_a_node_that_is_not_logged_in_is_a_plain_join(monkeypatch, key_file):
    fake = installed(monkeypatch, FakeTailscale([Control(HS, keys=[HS_KEY])]))
    result = run(dict(login_server=HS, rejoin=True, auth_key_file=key_file))
    assert result['changed'] is True and result['join_reason'] == 'not logged in'
    assert '--force-reauth' not in fake.mutations()[0]


def test_other_tags_take_a_login_on_the_same_server(monkeypatch, key_file):
    fake = installed(monkeypatch, FakeTailscale([Control(HS, keys=[HS_KEY])]).joined(tags=['tag:old']))
    result = run(dict(login_server=HS, advertise_tags=['tag:new'], auth_key_file=key_file))
    assert result['changed'] is True and result['tags'] == ['tag:new']
    assert result['join_reason'] == 'advertise_tags differ (tag:old now; tags are sent at login)'
    assert '--force-reauth' not in fake.mutations()[0] and '--advertise-tags=tag:new' in fake.mutations()[0]


def test_a_stopped_node_starts_with_its_node_key(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined(hostname='web1').stopped())
    result = run(dict(login_server=HS, hostname='web1', accept_dns=False))
    assert fake.mutations() == ['up --reset --login-server=https://hs.example.org --hostname=web1 --advertise-tags= --advertise-routes= '
                                '--advertise-exit-node=false --accept-routes=false --accept-dns=false --timeout=60s']
    assert result['changed'] is True and result['backend_state'] == 'Running' and result['needs_auth_key'] is False
    assert result['join_reason'] is None and result['settings']['accept_dns'] is False


def test_an_unset_hostname_is_kept_by_up(monkeypatch, key_file):
    fake = installed(monkeypatch, FakeTailscale([Control(HS, keys=[HS_KEY])]).joined(hostname='by-hand', tags=['tag:old']))
    result = run(dict(login_server=HS, advertise_tags=['tag:new'], auth_key_file=key_file))
    assert '--hostname=by-hand' in fake.mutations()[0].split(' ') and result['settings']['hostname'] == 'by-hand'
    fake.stopped()
    run(dict(login_server=HS, advertise_tags=['tag:new']))
    assert '--hostname=by-hand' in fake.mutations()[1].split(' ')


def test_a_stopped_node_the_server_forgot_says_a_key_is_needed(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined().stopped())
    fake.controls[HS].expired = True
    result = run(dict(login_server=HS, timeout=5), fail=True)
    assert result['msg'].startswith('tailscale up failed (rc 1): To authenticate, visit:; https://hs.example.org/register/AbCdEf123; ')
    assert result['msg'].endswith('; the control server wants this node to log in again (its node key expired, or the node was removed '
                                  'there): run the module with a new pre-auth key (auth_key or auth_key_file) (logged in but stopped)')
    assert result['join_reason'] is None
    # The next run finds it asking for a login, and asks for a key.
    result = run(dict(login_server=HS))
    assert result['needs_auth_key'] is True and result['join_reason'].startswith('the control server wants it to log in again')


def test_an_untrusted_server_fails_with_what_to_check(monkeypatch, key_file):
    new_node(monkeypatch, trusted=False)
    result = run(dict(login_server=HS, auth_key_file=key_file, timeout=30), fail=True)
    assert result['msg'].startswith('tailscale up failed (rc 1): %s; tailscaled did not reach the Running state within 30s. '
                                    'Check that this host reaches https://hs.example.org over HTTPS and trusts the CA' % TIMEOUT_ERROR)
    assert 'x509: certificate signed by unknown authority' in result['msg'] and result['msg'].endswith('(not logged in)')
    assert result['join_reason'] == 'not logged in' and result['rc'] == 1


def test_a_spent_key_is_reported_without_it(monkeypatch, key_file):
    fake = new_node(monkeypatch, keys=())
    result = run(dict(login_server=HS, auth_key_file=key_file), fail=True)
    assert result['msg'] == 'tailscale up failed (rc 1): backend error: invalid key: authkey expired or already used (not logged in)'
    assert fake.state == 'NeedsLogin'


def test_a_missing_key_file_fails_before_the_join(monkeypatch):
    fake = new_node(monkeypatch)
    result = run(dict(login_server=HS, auth_key_file='/nonexistent/key'), fail=True)
    assert result['msg'] == ('auth_key_file: /nonexistent/key is no file (it must hold the pre-auth key to join with); '
                             'nothing was changed')
    assert fake.mutations() == []


def test_over_tailscale_ssh_a_new_login_is_refused_with_a_reason(monkeypatch, key_file):
    fake = installed(monkeypatch, FakeTailscale([Control(HS, keys=[HS_KEY])]).joined(url=OTHER))
    fake.ssh_over_tailscale = True
    result = run(dict(login_server=HS, auth_key_file=key_file), fail=True)
    assert result['msg'].startswith('tailscale up failed (rc 1): aborted, no changes made; tailscale asked for a confirmation')


def test_logout(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined(hostname='web1'))
    result = run(dict(state='absent'), check_mode=True)
    assert result['changed'] is True and fake.mutations() == []
    assert result['logged_out_node_key'] == 'nodekey:' + 'ab' * 32
    assert result['settings'] == dict(login_server=None, hostname=None, advertise_tags=[], advertise_routes=[], advertise_exit_node=False,
                                      accept_routes=False, accept_dns=True)
    result = run(dict(state='absent'), diff=True)
    # The host's DNS comes back before the logout resolves the control server's name.
    assert result['changed'] is True and fake.mutations() == ['set --accept-dns=false', 'logout']
    assert result['backend_state'] == 'NeedsLogin' and result['tailscale_ips'] == [] and result['settings']['login_server'] is None
    assert result['diff']['before'].startswith('login_server: https://hs.example.org\nhostname: web1\n') and result['diff']['after'] == ''
    # The key of the node that logged out: its server keeps the node's entry, which a play deletes by this key.
    assert result['logged_out_node_key'] == 'nodekey:' + 'ab' * 32
    result = run(dict(state='absent', login_server='https://ignored.example.org'))
    assert result['changed'] is False and fake.mutations() == ['set --accept-dns=false', 'logout']
    assert result['logged_out_node_key'] is None


def test_a_logout_that_reached_only_the_node_says_so(monkeypatch):
    """A logout that could not reach the control server may have logged the node out locally first; the
    next try then finds no node key. That ends the retries with a warning instead of a failure."""
    fake = installed(monkeypatch, FakeTailscale().joined(hostname='web1'))
    unreachable = 'fetch control key: failed to resolve "hs.example.org": no DNS fallback candidates remain'
    local_logout = fake.logout

    def logout_without_control(flags):
        if not fake.node_key:
            return 1, '', 'no nodekey to log out\n'
        local_logout(flags)
        return 1, '', '500 Internal Server Error: %s\n' % unreachable
    fake.logout = logout_without_control
    result = run(dict(state='absent'))
    assert result['changed'] is True and result['backend_state'] == 'NeedsLogin'
    assert fake.mutations() == ['set --accept-dns=false', 'logout', 'logout']
    assert len(fake.warnings) == 1 and fake.warnings[0].startswith('the node is logged out locally, but its control server did not expire')
    assert unreachable in fake.warnings[0]


def test_a_logout_the_server_refuses_because_it_deleted_the_node_ends_logged_out_locally(monkeypatch):
    """Seen with headscale 0.29.3 after `headscale nodes delete`: the logout is answered with an error, tailscaled
    drops its node key all the same, and a second try finds none."""
    fake = installed(monkeypatch, FakeTailscale().joined(hostname='web1'))
    local_logout = fake.logout

    def logout_of_a_deleted_node(flags):
        if not fake.node_key:
            return 1, '', 'no nodekey to log out\n'
        local_logout(flags)
        return 1, '', '500 Internal Server Error: authkey already used\n'
    fake.logout = logout_of_a_deleted_node
    result = run(dict(state='absent'))
    assert result['changed'] is True and result['backend_state'] == 'NeedsLogin'
    assert result['logged_out_node_key'] == 'nodekey:' + 'ab' * 32
    assert fake.mutations() == ['set --accept-dns=false', 'logout', 'logout']
    assert len(fake.warnings) == 1 and 'authkey already used' in fake.warnings[0]


def test_a_refused_logout_that_keeps_the_node_key_fails(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale().joined(hostname='web1'))
    fake.logout = lambda flags: (1, '', '500 Internal Server Error: database is locked\n')
    result = run(dict(state='absent'), fail=True)
    assert result['msg'].startswith('tailscale logout failed (rc 1): 500 Internal Server Error: database is locked')
    assert fake.mutations() == ['set --accept-dns=false', 'logout', 'logout']


def test_bad_options_fail_before_any_command(monkeypatch):
    fake = new_node(monkeypatch)
    result = run(dict(login_server='http://hs.example.org', advertise_tags=['Server'], advertise_routes=['10.0.0.1/8'], hostname='a.b'),
                 fail=True)
    assert result['msg'].startswith("login_server: 'http://hs.example.org' is not an https URL")
    assert "advertise_tags[0]: 'Server' is not a tag" in result['msg'] and "hostname: 'a.b' is not a DNS label" in result['msg']
    assert 'advertise_routes: 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)' in result['msg']
    assert fake.commands == []
    assert 'login_server' in run(dict(hostname='web1'), fail=True)['msg'] and fake.commands == []


def test_socket_and_executable_are_used(monkeypatch, tmp_path):
    fake = installed(monkeypatch, FakeTailscale().joined(), binary=None)
    executable = tmp_path / 'tailscale'
    executable.write_text('#!/bin/sh\nexit 1\n')
    executable.chmod(0o755)
    run(dict(login_server=HS, accept_dns=False, executable=str(executable), socket='/run/ts/tailscaled.sock'))
    assert [command[:2] for command in fake.commands] == [[str(executable), '--socket=/run/ts/tailscaled.sock']] * 5
    executable.chmod(0o644)
    assert run(dict(login_server=HS, executable=str(executable)), fail=True)['msg'] == 'executable: %s is no executable file' % executable
    assert len(fake.commands) == 5


def test_a_stopped_daemon_fails_outside_check_mode(monkeypatch):
    fake = new_node(monkeypatch)
    fake.daemon_down = True
    result = run(dict(login_server=HS), fail=True)
    assert result['msg'].startswith('tailscale status --json failed (rc 1): %s; is tailscaled running' % NOT_RUNNING)
    result = run(dict(login_server=HS), check_mode=True)
    assert result['changed'] is True and result['needs_auth_key'] is True
    assert len(fake.warnings) == 1 and 'check mode assumes a node that has not joined' in fake.warnings[0]


def test_check_mode_before_tailscale_is_installed(monkeypatch):
    fake = installed(monkeypatch, FakeTailscale(), binary=None)
    result = run(dict(login_server=HS, auth_key_file=KEY_FILE), check_mode=True)
    assert result['changed'] is True and result['needs_auth_key'] is False and result['join_reason'] == 'not logged in'
    assert fake.commands == [] and fake.warnings == ['tailscale is not installed; check mode assumes a node that has not joined']
    result = run(dict(state='absent'), check_mode=True)
    assert result['changed'] is False


def test_without_tailscale_a_real_run_fails(monkeypatch):
    installed(monkeypatch, FakeTailscale(), binary=None)
    assert 'tailscale' in run(dict(login_server=HS), fail=True)['msg']
