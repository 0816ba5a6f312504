# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import stat
import subprocess

import pytest

from ansible.module_utils import basic

from ansible_collections.overlaynet.vpn.plugins.module_utils import _systemd_service as systemd_service
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_apply import (
    OpenVPNInstance,
    missing_files,
    name_problems,
    needs_stop,
    parse_properties,
    parser_problem,
    plan_present,
    run_module,
    scrub_key_material,
    status_summary,
    tunnel_problem,
    unit_phase,
)
from ansible_collections.overlaynet.vpn.plugins.modules import openvpn_instance
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import Failed, FakeModule, FakeUnitHost, call_main, patch_exits

SERVER_CONF = '''mode server
tls-server
dev ovpn-main
dev-type tun
proto udp
port 1194
topology subnet
ifconfig 10.8.0.1 255.255.255.0
push "topology subnet"
client-config-dir /etc/openvpn/server/main/ccd
ccd-exclusive
keepalive 10 60
ca /etc/openvpn/server/main/pki/ca.crt
cert /etc/openvpn/server/main/pki/server.crt
key /etc/openvpn/server/main/pki/server.key
crl-verify /etc/openvpn/server/main/pki/crl.pem
dh none
remote-cert-tls client
tls-version-min 1.2
data-ciphers AES-256-GCM:CHACHA20-POLY1305
tls-crypt /etc/openvpn/server/main/pki/tls-crypt.key
user nobody
group nogroup
persist-key
persist-tun
verb 3
'''
SERVER_CONF_V2 = SERVER_CONF.replace('keepalive 10 60', 'keepalive 10 120')
# The parser refuses this one; the daemon would refuse the next two only at start: one before
# READY=1 (options that contradict each other), one after it (a key it cannot load).
BAD_TOPOLOGY = SERVER_CONF.replace('topology subnet\n', 'topology bogus\n')
CONTRADICTING = SERVER_CONF + 'tls-client\n'
UNLOADABLE_KEY = SERVER_CONF.replace('pki/server.key', 'pki/broken.key')

CLIENT_CONF = '''client
dev ovpnc-office
dev-type tun
proto udp
remote 192.0.2.10 1194
nobind
remote-cert-tls server
ca /etc/openvpn/client/office/pki/ca.crt
cert /etc/openvpn/client/office/pki/client.crt
key /etc/openvpn/client/office/pki/client.key
verb 3
'''
CLIENT_CONF_V2 = CLIENT_CONF.replace('verb 3', 'verb 4')

PRIVATE_KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIOpenVPNunitTestKeyMaterial0123456789ab\n-----END PRIVATE KEY-----'
KEY_BODY = 'MC4CAQAwBQYDK2VwBCIEIOpenVPNunitTestKeyMaterial0123456789ab'
MUTATING = ('restart', 'start', 'stop', 'enable', 'disable')
UP = 'Initialization Sequence Completed'
PRE_CONNECTION = 'Pre-connection initialization successful'


# ---------------------------------------------------------------------------------------------
# The decisions
# ---------------------------------------------------------------------------------------------

def test_plan_present_replaces_a_new_text_and_restarts_only_when_asked_or_stopped():
    assert plan_present(None, 'a\n', False, False) == 'replace'
    assert plan_present('a\n', 'b\n', False, True) == 'replace'
    assert plan_present('a\n', 'b\n', True, True) == 'replace'
    assert plan_present('a\n', 'a\n', True, True) == 'restart'
    assert plan_present('a\n', 'a\n', False, False) == 'restart'
    assert plan_present('a\n', 'a\n', False, True) == 'none'


def test_parse_properties_keeps_equal_signs_in_values_and_drops_empty_ones():
    text = 'ActiveState=active\nSubState=running\nJob=\nStatusText=a=b\n\n'
    assert parse_properties(text) == {'ActiveState': 'active', 'SubState': 'running', 'StatusText': 'a=b'}


def test_a_queued_job_means_starting_whatever_the_old_process_shows():
    assert unit_phase({'ActiveState': 'active', 'SubState': 'running', 'Job': '4711'}) == 'starting'
    assert unit_phase({'ActiveState': 'failed', 'Job': '4711'}) == 'starting'


def test_unit_phase_after_the_job():
    assert unit_phase({'ActiveState': 'active', 'SubState': 'running'}) == 'running'
    assert unit_phase({'ActiveState': 'reloading'}) == 'running'
    assert unit_phase({'ActiveState': 'failed', 'SubState': 'failed'}) == 'stopped'
    assert unit_phase({'ActiveState': 'inactive', 'SubState': 'dead'}) == 'stopped'
    assert unit_phase({}) == 'stopped'
    # Restart=on-failure (Debian's server unit): the daemon exited, systemd starts it again later.
    assert unit_phase({'ActiveState': 'activating', 'SubState': 'auto-restart'}) == 'stopped'
    assert unit_phase({'ActiveState': 'deactivating', 'SubState': 'stop-sigterm'}) == 'starting'


def test_tunnel_up_needs_the_active_unit_the_daemons_word_and_the_device():
    up = {'ActiveState': 'active', 'StatusText': UP}
    assert tunnel_problem(up, True, 'ovpn-main') is None and tunnel_problem(up, None) is None
    assert tunnel_problem(up, False, 'ovpn-main') == 'device ovpn-main does not exist'
    assert tunnel_problem({'ActiveState': 'active', 'StatusText': PRE_CONNECTION}, True) == 'status "%s"' % PRE_CONNECTION
    assert tunnel_problem({'ActiveState': 'active'}, None) == 'status ""'
    assert tunnel_problem({'ActiveState': 'failed', 'StatusText': UP}, True) == 'the unit is failed'
    assert tunnel_problem({}, None) == 'the unit is unknown'
    assert tunnel_problem({'ActiveState': 'active', 'StatusText': 'Failed to start up: %s With Errors' % UP}, True) is not None


def test_needs_stop_for_everything_but_a_stopped_unit():
    assert needs_stop({'ActiveState': 'active'}) and needs_stop({'ActiveState': 'activating', 'SubState': 'auto-restart'})
    assert not needs_stop({'ActiveState': 'inactive'}) and not needs_stop({'ActiveState': 'failed'}) and not needs_stop({})


def test_parser_problem_keeps_the_error_lines():
    output = 'Options error: --topology must be net30, p2p, or subnet\nUse --help for more information.\n'
    assert parser_problem(output) == 'Options error: --topology must be net30, p2p, or subnet'
    assert parser_problem('something odd\n\n') == 'something odd'


def test_name_problems_lists_every_problem():
    assert name_problems('main', 'ovpn-main') == [] and name_problems('main', None) == []
    problems = name_problems('Main/../x', 'a device name too long')
    assert len(problems) == 2 and problems[0].startswith('name: ') and problems[1].startswith('device: ')


def test_missing_files_in_order(tmp_path):
    present = tmp_path / 'ca.crt'
    present.write_text('x')
    assert missing_files([str(tmp_path / 'b'), str(present), str(tmp_path / 'a')]) == [str(tmp_path / 'b'), str(tmp_path / 'a')]


def test_scrub_key_material_removes_whole_and_cut_pem_blocks():
    text = 'before\n%s\nafter\n-----BEGIN OpenVPN Static key V1-----\n0123abcd' % PRIVATE_KEY_PEM
    scrubbed = scrub_key_material(text)
    assert KEY_BODY not in scrubbed and '0123abcd' not in scrubbed
    assert scrubbed.startswith('before\n(secret)\nafter\n(secret)')


def test_status_summary():
    summary = status_summary({'ActiveState': 'failed', 'SubState': 'failed', 'Result': 'exit-code', 'StatusText': PRE_CONNECTION},
                             '\n'.join('line %d' % number for number in range(15)))
    assert summary.startswith('failed (failed, result exit-code), status "%s"; last log lines: line 5 |' % PRE_CONNECTION)
    assert summary.endswith('line 14') and 'line 4 ' not in summary
    assert status_summary({}, None) == 'unknown (unknown, result unknown)'


# ---------------------------------------------------------------------------------------------
# A fake host: a Debian OpenVPN unit on systemd, openvpn's parser, ip, journalctl
# ---------------------------------------------------------------------------------------------

class FakeHost(FakeUnitHost):
    """One openvpn-server@ or openvpn-client@ unit as openvpn 2.6 behaves under systemd.

    The daemon sends READY=1 after its option checks (a text with contradicting options never
    gets there), then loads its keys (an unloadable key makes it exit a moment after the unit
    became active), then brings its tunnel up: a server at once, a client when its server answers.
    A queued job (`--no-block restart`) runs a moment later; until then the old process shows.
    The host is also the time of the service's waits: it moves only when the module sleeps."""

    JOB_DELAY = 0.4
    SERVER_UP_DELAY = 0.4
    CONNECT_DELAY = 1.0
    KEY_FAILURE_DELAY = 0.1

    def __init__(self, kind, config_path, device):
        super(FakeHost, self).__init__()
        self.kind = kind
        self.config_path = config_path
        self.device = device
        self.unit = 'openvpn-%s@%s.service' % (kind, 'main' if kind == 'server' else 'office')
        self.server_reachable = True
        self.commands = []
        self.checked = []
        self.stop()
        self.result = 'success'

    # -- the daemon --------------------------------------------------------------------------------

    def stop(self):
        self.active_state, self.sub_state, self.status_text = 'inactive', 'dead', ''
        self.link = False
        self.job_at = self.up_at = self.dies_at = None

    def start(self):
        """Start the daemon on the file in place; False when it exits before READY=1."""
        with open(self.config_path) as handle:
            text = handle.read()
        if 'tls-client' in text and 'tls-server' in text:
            self.exited()
            return False
        self.active_state, self.sub_state, self.status_text = 'active', 'running', PRE_CONNECTION
        if 'broken.key' in text:
            self.dies_at = self.now + self.KEY_FAILURE_DELAY
        elif self.kind == 'server':
            self.up_at = self.now + self.SERVER_UP_DELAY
        elif self.server_reachable:
            self.up_at = self.now + self.CONNECT_DELAY
        return True

    def exited(self):
        self.stop()
        self.result = 'exit-code'
        # Debian's server unit has Restart=on-failure; its client unit has none.
        if self.kind == 'server':
            self.active_state, self.sub_state = 'activating', 'auto-restart'
        else:
            self.active_state, self.sub_state = 'failed', 'failed'

    def advance(self):
        now = self.now
        if self.job_at is not None and now >= self.job_at:
            self.stop()
            self.start()
        if self.dies_at is not None and now >= self.dies_at:
            self.exited()
        if self.up_at is not None and now >= self.up_at:
            self.status_text, self.link, self.up_at = UP, True, None

    def properties(self):
        lines = ['ActiveState=' + self.active_state, 'SubState=' + self.sub_state, 'Result=' + self.result,
                 'Job=4711' if self.job_at is not None else 'Job=', 'StatusText=' + self.status_text]
        return '\n'.join(lines) + '\n'

    def mutations(self):
        return [command for command in self.commands if command.split()[0].endswith('systemctl') and
                any(verb in command.split()[1:3] for verb in MUTATING)]

    # -- the fake run_command ------------------------------------------------------------------------

    def run(self, args, environ=None):
        assert isinstance(args, list), 'commands must be argument lists'
        assert not environ, 'the apply step adds no environment to a command'
        self.commands.append(' '.join(args))
        self.advance()
        program, rest = os.path.basename(args[0]), args[1:]
        if program == 'systemctl':
            return self.systemctl(rest)
        if program == 'ip' and rest[:3] == ['link', 'show', 'dev']:
            if self.link and rest[3] == self.device:
                return 0, '9: %s: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500\n' % self.device, ''
            return 1, '', 'Device "%s" does not exist.\n' % rest[3]
        if program == 'openvpn' and rest[0] == '--config' and rest[2:] == ['--show-curves']:
            with open(rest[1]) as handle:
                text = handle.read()
            self.checked.append((rest[1], text))
            if 'topology bogus' in text:
                return 1, 'Options error: --topology must be net30, p2p, or subnet\nUse --help for more information.\n', ''
            return 0, 'Available Elliptic curves/groups:\nsecp384r1\n', ''
        if program == 'journalctl':
            return 0, 'Cannot load private key file broken.key\n%s\nExiting due to fatal error\n' % PRIVATE_KEY_PEM, ''
        raise AssertionError('unexpected command %r' % (args,))

    def systemctl(self, rest):
        if rest[0] == 'show':
            assert rest[-1] == self.unit
            return 0, self.properties(), ''
        if rest[0] == '--no-block':
            assert rest[1:] == ['restart', self.unit]
            self.job_at = self.now + self.JOB_DELAY
            return 0, '', ''
        verb, unit = rest
        assert unit == self.unit
        answer = self.common_systemctl(verb)
        if answer is not None:
            return answer
        if verb == 'restart':
            # A blocking restart returns when the daemon sent READY=1 or exited before it.
            self.stop()
            if self.start():
                return 0, '', ''
            return 1, '', 'Job for %s failed because the control process exited with error code.\n' % self.unit
        raise AssertionError('unexpected systemctl %r' % (rest,))


def fake_host(monkeypatch, *args):
    host = FakeHost(*args)
    # The shared service driver does the bounded waiting.
    monkeypatch.setattr(systemd_service, 'time', host)
    return host


@pytest.fixture
def server(tmp_path, monkeypatch):
    return fake_host(monkeypatch, 'server', str(tmp_path / 'server' / 'main.conf'), 'ovpn-main')


@pytest.fixture
def client(tmp_path, monkeypatch):
    return fake_host(monkeypatch, 'client', str(tmp_path / 'client' / 'office.conf'), 'ovpnc-office')


def params_for(host, **extra):
    """The module's parameters with their defaults, the host's unit and config, and extra."""
    params = dict(state='present', name='main' if host.kind == 'server' else 'office', kind=host.kind, config_path=host.config_path,
                  device=host.device, config=SERVER_CONF if host.kind == 'server' else CLIENT_CONF, restart=False, enabled=True,
                  remove_paths=[], required_files=[])
    params.update(extra)
    return params


def assert_no_key_material(*texts):
    dumped = json.dumps(texts)
    assert KEY_BODY not in dumped and 'BEGIN PRIVATE KEY' not in dumped


def run(host, check_mode=False, diff=False, **extra):
    """(result, warnings) of a module run that succeeds."""
    module = FakeModule(host, params_for(host, **extra), check_mode=check_mode, diff=diff)
    host.commands = []
    result = run_module(module)
    assert_no_key_material(result, module.warnings)
    return result, module.warnings


def run_fail(host, **extra):
    """The message of a module run that fails."""
    module = FakeModule(host, params_for(host, **extra))
    host.commands = []
    with pytest.raises(Failed) as failure:
        run_module(module)
    assert_no_key_material(failure.value.msg, failure.value.result, module.warnings)
    return failure.value.msg


def converged(host, **extra):
    """Bring host to its first config, as a first run does, and drop what it recorded."""
    run(host, **extra)
    host.commands = []
    host.checked = []


def read(path):
    with open(path) as handle:
        return handle.read()


# ---------------------------------------------------------------------------------------------
# A server instance
# ---------------------------------------------------------------------------------------------

def test_first_run_checks_writes_starts_and_enables(server):
    result, warnings = run(server, diff=True)
    assert result['changed'] and result['restarted'] and result['connected'] and warnings == []
    assert result['unit'] == 'openvpn-server@main.service'
    assert read(server.config_path) == SERVER_CONF
    assert stat.S_IMODE(os.stat(server.config_path).st_mode) == 0o600
    # The parser read a copy of the new text under the same name, never the file in place.
    (checked_path, checked_text), = server.checked
    assert checked_text == SERVER_CONF and os.path.basename(checked_path) == 'main.conf' and checked_path != server.config_path
    assert not os.path.exists(checked_path)
    assert server.mutations() == ['/usr/bin/systemctl restart openvpn-server@main.service',
                                  '/usr/bin/systemctl enable openvpn-server@main.service']
    assert result['diff']['before'] == '' and result['diff']['after'] == SERVER_CONF


def test_readiness_waits_for_the_tunnel_not_only_for_the_unit(server):
    start = server.now
    run(server)
    # The unit was active at once; the device and the daemon's word came SERVER_UP_DELAY later.
    assert server.now - start >= FakeHost.SERVER_UP_DELAY
    assert any(command.startswith('/usr/bin/ip link show dev ovpn-main') for command in server.commands)


def test_converged_instance_costs_reads_only(server):
    converged(server)
    result, warnings = run(server, diff=True)
    assert not result['changed'] and not result['restarted'] and result['connected'] and warnings == []
    assert server.mutations() == [] and server.checked == [] and 'diff' not in result


def test_the_parser_refuses_a_bad_option_and_the_file_in_place_stays(server):
    converged(server)
    message = run_fail(server, config=BAD_TOPOLOGY)
    assert 'refused by its checker' in message and '--topology must be net30, p2p, or subnet' in message
    assert 'Use --help' not in message
    assert read(server.config_path) == SERVER_CONF and server.mutations() == []


def test_a_missing_required_file_fails_before_anything_changes(server, tmp_path):
    converged(server)
    present = tmp_path / 'ca.crt'
    present.write_text('certificate\n')
    missing = str(tmp_path / 'server.key')
    message = run_fail(server, config=SERVER_CONF_V2, required_files=[str(present), missing])
    assert missing in message and str(present) not in message
    assert read(server.config_path) == SERVER_CONF
    assert server.mutations() == [] and server.checked == []


def test_a_config_refused_at_start_is_rolled_back_and_the_old_one_serves(server):
    converged(server)
    message = run_fail(server, config=CONTRADICTING)
    assert 'did not start with the new %s; the previous file is back and serves again' % server.config_path in message
    assert read(server.config_path) == SERVER_CONF
    assert server.active_state == 'active' and server.status_text == UP and server.link
    assert len(server.checked) == 1, 'the parser accepted it: only the start could tell'


def test_a_key_refused_after_ready_is_rolled_back_too(server):
    converged(server)
    message = run_fail(server, config=UNLOADABLE_KEY)
    assert 'the previous file is back and serves again' in message
    assert read(server.config_path) == SERVER_CONF and server.link


def test_without_a_device_the_daemons_word_still_tells_a_refused_key(server):
    converged(server, device=None)
    message = run_fail(server, config=UNLOADABLE_KEY, device=None)
    assert 'the previous file is back and serves again' in message
    assert not any(' link ' in command for command in server.commands)


def test_a_first_config_refused_at_start_is_removed(server):
    message = run_fail(server, config=CONTRADICTING)
    assert 'the file was removed and the unit stopped' in message
    assert not os.path.exists(server.config_path)


def test_restart_with_an_unchanged_text(server):
    converged(server)
    result, _warnings = run(server, restart=True)
    assert result['changed'] and result['restarted'] and result['connected']
    assert server.mutations() == ['/usr/bin/systemctl restart openvpn-server@main.service']
    assert server.checked == []


def test_a_restart_that_does_not_come_up_fails_with_the_units_status(server):
    converged(server)
    # A key rewritten on disk that the daemon cannot load: the text is the same, nothing to roll back.
    with open(server.config_path, 'w') as handle:
        handle.write(UNLOADABLE_KEY)
    message = run_fail(server, config=UNLOADABLE_KEY, restart=True)
    assert message.startswith('openvpn-server@main.service did not start with %s: activating (auto-restart, result exit-code)'
                              % server.config_path)
    assert 'last log lines: Cannot load private key file broken.key | (secret) | Exiting due to fatal error' in message


def test_a_stopped_unit_with_its_text_in_place_is_started(server):
    converged(server)
    server.stop()
    result, _warnings = run(server)
    assert result['changed'] and result['restarted'] and result['connected']


def test_a_running_server_without_its_tunnel_is_reported(server):
    converged(server)
    server.link = False
    result, warnings = run(server)
    assert not result['changed'] and not result['connected']
    assert warnings == ['openvpn-server@main.service runs, but its tunnel is not up (device ovpn-main does not exist)']


def test_check_mode_previews_without_touching_anything(server, tmp_path):
    converged(server)
    result, warnings = run(server, check_mode=True, diff=True, config=SERVER_CONF_V2,
                           required_files=[str(tmp_path / 'not-yet.key')])
    assert result['changed'] and result['restarted'] and result['connected']
    assert result['diff']['before'] == SERVER_CONF and result['diff']['after'] == SERVER_CONF_V2
    assert read(server.config_path) == SERVER_CONF and server.mutations() == [] and server.checked == []
    assert len(warnings) == 1 and 'not-yet.key missing' in warnings[0]


def test_check_mode_restart_is_only_announced(server):
    converged(server)
    result, _warnings = run(server, check_mode=True, restart=True)
    assert result['changed'] and result['restarted'] and server.mutations() == []


def test_enabled_false_disables_the_unit(server):
    converged(server)
    result, _warnings = run(server, enabled=False)
    assert result['changed'] and not result['restarted']
    assert server.mutations() == ['/usr/bin/systemctl disable openvpn-server@main.service']


def test_diff_hides_inline_keys(server):
    config = SERVER_CONF + '<key>\n%s\n</key>\n' % PRIVATE_KEY_PEM
    result, _warnings = run(server, check_mode=True, diff=True, config=config)
    assert '<key>\n(secret)\n</key>' in result['diff']['after']


# ---------------------------------------------------------------------------------------------
# A client connection
# ---------------------------------------------------------------------------------------------

def test_client_is_restarted_without_blocking_and_connects(client):
    result, warnings = run(client)
    assert result['changed'] and result['restarted'] and result['connected'] and warnings == []
    assert result['unit'] == 'openvpn-client@office.service'
    assert client.mutations() == ['/usr/bin/systemctl --no-block restart openvpn-client@office.service',
                                  '/usr/bin/systemctl enable openvpn-client@office.service']


def test_a_client_whose_server_is_down_keeps_its_new_text_with_a_warning(client):
    converged(client)
    client.server_reachable = False
    start = client.now
    result, warnings = run(client, config=CLIENT_CONF_V2)
    assert result['changed'] and result['restarted'] and not result['connected']
    assert warnings == ['openvpn-client@office.service has not reached its server yet (status "%s")' % PRE_CONNECTION]
    assert read(client.config_path) == CLIENT_CONF_V2
    # Bounded by the service's wait, in polls, never one long sleep.
    assert systemd_service.WAIT_TIMEOUT_SECONDS <= client.now - start <= systemd_service.WAIT_TIMEOUT_SECONDS + 1
    assert max(client.sleeps) == systemd_service.WAIT_POLL_SECONDS


def test_the_old_client_process_is_not_taken_for_the_new_one(client):
    converged(client)
    # Until the queued job runs, the old connected process shows: active, tunnel up.
    message = run_fail(client, config=CLIENT_CONF + 'tls-server\ntls-client\n')
    assert 'the previous file is back and serves again' in message
    assert read(client.config_path) == CLIENT_CONF and client.status_text == UP


def test_a_client_rolled_back_while_its_server_is_down(client):
    converged(client)
    client.server_reachable = False
    message = run_fail(client, config=CLIENT_CONF + 'tls-server\ntls-client\n')
    assert 'the previous file is back and the unit runs on it, not ready yet' in message
    assert read(client.config_path) == CLIENT_CONF


def test_a_client_restart_that_fails_reports_the_unit(client):
    converged(client)
    with open(client.config_path, 'w') as handle:
        handle.write(UNLOADABLE_KEY.replace('mode server\ntls-server\n', 'client\n'))
    message = run_fail(client, config=read(client.config_path), restart=True)
    assert message.startswith('openvpn-client@office.service did not start with %s: failed (failed, result exit-code)' % client.config_path)


def test_a_converged_client_not_connected_is_left_alone_with_a_warning(client):
    converged(client)
    client.stop()
    client.server_reachable = False
    client.start()
    result, warnings = run(client)
    assert not result['changed'] and not result['connected'] and client.mutations() == []
    assert warnings == ['openvpn-client@office.service has not reached its server yet (status "%s")' % PRE_CONNECTION]


def test_client_without_device_is_connected_on_the_daemons_word(client):
    result, _warnings = run(client, device=None)
    assert result['connected'] and not any(' link ' in command for command in client.commands)


# ---------------------------------------------------------------------------------------------
# state=absent
# ---------------------------------------------------------------------------------------------

def test_absent_stops_disables_and_removes(server, tmp_path):
    converged(server)
    ccd = tmp_path / 'server' / 'main' / 'ccd'
    ccd.mkdir(parents=True)
    (ccd / 'alice').write_text('ifconfig-push 10.8.0.2 255.255.255.0\n')
    gone = str(tmp_path / 'never-there')
    preview, _warnings = run(server, check_mode=True, diff=True, state='absent', remove_paths=[str(tmp_path / 'server' / 'main'), gone])
    assert preview['changed'] and preview['diff']['before'] == SERVER_CONF and preview['diff']['after'] == ''
    assert os.path.exists(server.config_path) and server.mutations() == []
    result, _warnings = run(server, state='absent', remove_paths=[str(tmp_path / 'server' / 'main'), gone])
    assert result == dict(changed=True, restarted=False, connected=False, unit='openvpn-server@main.service')
    assert server.mutations() == ['/usr/bin/systemctl stop openvpn-server@main.service',
                                  '/usr/bin/systemctl disable openvpn-server@main.service']
    assert not os.path.exists(server.config_path) and not (tmp_path / 'server' / 'main').exists()
    again, _warnings = run(server, state='absent', remove_paths=[str(tmp_path / 'server' / 'main')])
    assert not again['changed'] and server.mutations() == []


def test_absent_stops_a_unit_that_waits_to_be_started_again(server):
    converged(server)
    server.exited()
    run(server, state='absent')
    assert '/usr/bin/systemctl stop openvpn-server@main.service' in server.mutations()


# ---------------------------------------------------------------------------------------------
# The module itself: argument spec and main()
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def module_host(server, monkeypatch):
    patch_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, args, **kwargs: server.run(args))
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: '/usr/bin/' + name)
    return server


def test_main_requires_config_when_present(module_host):
    result = call_main(openvpn_instance.main, dict(name='main', kind='server', config_path=module_host.config_path), fail=True)
    assert 'config' in result['msg']


def test_main_refuses_a_bad_name_before_any_command(module_host):
    result = call_main(openvpn_instance.main, dict(name='../main', kind='server', config_path=module_host.config_path,
                                                   config=SERVER_CONF), fail=True)
    assert result['msg'].startswith('name: ') and module_host.commands == []


def test_main_runs_in_check_mode(module_host):
    result = call_main(openvpn_instance.main, dict(name='main', kind='server', config_path=module_host.config_path,
                                                   config=SERVER_CONF, device='ovpn-main'), check_mode=True, diff=True)
    assert result['changed'] and result['restarted'] and not result['connected']
    assert result['diff']['after'] == SERVER_CONF and not os.path.exists(module_host.config_path)


# ---------------------------------------------------------------------------------------------
# The checker against the real openvpn binary. The set-up installs it: its absence is a failure.
# ---------------------------------------------------------------------------------------------

OPENVPN_SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/usr/local/sbin', '/sbin'])


class RealOpenVPNModule(object):
    def __init__(self, openvpn):
        self.openvpn = openvpn
        self.params = dict(name='main', kind='server', config_path='/etc/openvpn/server/main.conf', device=None)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.openvpn if name == 'openvpn' else '/usr/bin/' + name

    def run_command(self, args, data=None, binary_data=False):
        completed = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, check=False)
        return completed.returncode, completed.stdout.decode(), completed.stderr.decode()


@pytest.fixture(scope='module')
def real_instance():
    binary = shutil.which('openvpn', path=OPENVPN_SEARCH_PATH)
    if binary is None:
        pytest.fail('the openvpn binary is not installed (the project set-up installs it): its parser cannot be checked')
    return OpenVPNInstance(RealOpenVPNModule(binary))


def check_with_real_openvpn(instance, tmp_path, text):
    path = tmp_path / 'main.conf'
    path.write_text(text)
    return instance.config_problem(str(path))


def test_real_parser_accepts_a_server_config_without_opening_its_files(real_instance, tmp_path):
    # None of the key files exist here.
    assert check_with_real_openvpn(real_instance, tmp_path, SERVER_CONF) is None


def test_real_parser_refuses_a_bad_topology(real_instance, tmp_path):
    problem = check_with_real_openvpn(real_instance, tmp_path, BAD_TOPOLOGY)
    assert problem == ('openvpn refuses the configuration of openvpn-server@main.service: '
                       'Options error: --topology must be net30, p2p, or subnet')


def test_real_parser_refuses_an_unknown_option(real_instance, tmp_path):
    problem = check_with_real_openvpn(real_instance, tmp_path, SERVER_CONF + 'bogus-option 1\n')
    assert 'Unrecognized option or missing or extra parameter(s)' in problem and 'bogus-option' in problem


def test_real_parser_leaves_contradicting_options_to_the_start(real_instance, tmp_path):
    # Why a changed config is restarted with rollback: only the daemon's start refuses this one.
    assert check_with_real_openvpn(real_instance, tmp_path, CONTRADICTING) is None
