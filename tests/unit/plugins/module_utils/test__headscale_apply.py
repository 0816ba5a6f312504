# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# No headscale server runs here: the fake host below plays headscale.service (Type=simple) and the
# headscale CLI as the upstream sources read say they behave (see _headscale_apply's header), with
# the texts a headscale v0.29.3 printed for the same inputs (configtest and policy check run on a
# configuration in a temporary directory, no network) and, for 0.26, the texts its sources build.
# The last section runs the real binaries OVERLAYNET_HEADSCALE and OVERLAYNET_HEADSCALE_PREVIOUS name.

import json
import os
import re
import stat
import subprocess

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _systemd_service as systemd_service
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_apply import (
    HeadscaleServer,
    checker_error,
    configtest_argv,
    input_problems,
    needs_config_check,
    not_connected,
    parse_environment,
    plan_present,
    policy_check_argv,
    policy_checker,
    policy_path_warning,
    policy_text,
    run_module,
    secret_scrubber,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_policy import policy_text as render_policy
from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import SystemdService
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import Failed, FakeModule, FakeUnitHost

HEADSCALE = '/usr/bin/headscale'
SYSTEMCTL = '/usr/bin/systemctl'
UNIT = 'headscale.service'
SOCKET = '/var/run/headscale/headscale.sock'
LOG_TIME = '2026-07-21T10:00:00Z'
CLI_TIMEOUT = 5.0

# `headscale policy check --help` of v0.29.3, as printed.
HELP_0_29 = '''
\tCheck validates the policy against the server's live users and nodes,
\trunning any "tests" or "sshTests" block. By default the command is a
\tthin frontend for a gRPC call to a running headscale; pass --bypass-grpc-and-access-database-directly to
\topen the database directly when headscale is not running.

Usage:
  headscale policy check [flags]

Flags:
      --bypass-grpc-and-access-database-directly   Open the database directly (no gRPC, no running server) to resolve user \
references and to evaluate the policy's tests and sshTests blocks. Required when those checks are needed.
  -f, --file string                                Path to a policy file in HuJSON format
  -h, --help                                       help for check

Global Flags:
  -c, --config string   config file (default is /etc/headscale/config.yaml)
      --force           Disable prompts and forces the execution
  -o, --output string   Output format. Empty for human-readable, 'json', 'json-line' or 'yaml'
'''
# 0.26-0.28 (cmd/headscale/cli/policy.go, root.go): the command has only --file, and no global flags
# at all, since root.go's init returns before it registers them for `policy check`.
HELP_0_26 = '''Check the Policy file for errors

Usage:
  headscale policy check [flags]

Flags:
  -f, --file string   Path to a policy file in HuJSON format
  -h, --help          help for check
'''
# headscale 0.25 has no `policy check`: cobra shows the help of `policy`.
HELP_0_25 = '''Manage the Headscale ACL Policy

Usage:
  headscale policy [command]

Available Commands:
  get         Print the current ACL Policy
  set         Updates the ACL Policy
'''

CONFIG = '''server_url: https://hs.example.test
listen_addr: 0.0.0.0:443
grpc_listen_addr: 127.0.0.1:50443
noise:
  private_key_path: /var/lib/headscale/noise_private.key
prefixes:
  v4: 100.64.0.0/10
  v6: fd7a:115c:a1e0::/48
database:
  type: sqlite
  sqlite:
    path: /var/lib/headscale/db.sqlite
policy:
  mode: file
  path: {policy_path}
unix_socket: /var/run/headscale/headscale.sock
log:
  level: {level}
'''
POLICY = '{\n  "groups": {\n    "group:eng": [\n      "alice@"\n    ]\n  },\n  "acls": [\n    {\n      "action": "accept",\n' \
         '      "src": [\n        "group:eng"\n      ],\n      "dst": [\n        "*:*"\n      ]\n    }\n  ]\n}\n'
POLICY_V2 = POLICY.replace('"*:*"', '"*:22"')
# Refused by headscale's policy parser (every version), and an unparseable one.
UNDEFINED_GROUP = POLICY_V2.replace('"group:eng"\n      ]', '"group:nope"\n      ]')
TRUNCATED = '{"acls": [ {"action": "accept", '
OLD_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef'
# configtest passes it (Serve loads the TLS files, NewHeadscale does not); the daemon exits at start.
MISSING_CERTIFICATE = 'tls_cert_path: /nonexistent/headscale.crt\ntls_key_path: /nonexistent/headscale.key\n'
MUTATING = ('restart', 'reload', 'start', 'stop', 'enable', 'disable')


def config_for(policy_path, level='info', v4=None, extra=''):
    text = CONFIG.format(policy_path=policy_path if policy_path is not None else "''", level=level)
    if v4:
        text = text.replace('v4: 100.64.0.0/10', 'v4: %s' % v4)
    return text + extra


# ---------------------------------------------------------------------------------------------
# The decisions
# ---------------------------------------------------------------------------------------------

def test_plan_present_by_what_changed():
    # config_changed, policy_changed, restart, running
    assert plan_present(True, False, False, True) == 'replace'
    assert plan_present(True, True, False, True) == 'replace'
    assert plan_present(False, True, False, True) == 'reload'
    assert plan_present(False, True, True, True) == 'replace'
    assert plan_present(False, True, False, False) == 'replace'
    assert plan_present(False, False, True, True) == 'restart'
    assert plan_present(False, False, False, False) == 'restart'
    assert plan_present(False, False, False, True) == 'none'


def test_policy_checker_kind_from_its_help():
    assert policy_checker(HELP_0_29) == 'server'
    assert policy_checker(HELP_0_26) == 'file'
    assert policy_checker(HELP_0_25) is None and policy_checker('') is None and policy_checker(None) is None


def test_policy_check_argv_gives_0_26_no_global_flag():
    assert policy_check_argv(HEADSCALE, 'file', '/tmp/x/policy.json', '/etc/headscale/config.yaml') == [
        HEADSCALE, 'policy', 'check', '--file=/tmp/x/policy.json']
    assert policy_check_argv(HEADSCALE, 'server', '/tmp/x/policy.json', '/etc/headscale/config.yaml') == [
        HEADSCALE, 'policy', 'check', '--file=/tmp/x/policy.json', '--output', 'json', '--config=/etc/headscale/config.yaml']


def test_configtest_argv_asks_for_no_json():
    assert configtest_argv(HEADSCALE, '/tmp/x/config.yaml') == [HEADSCALE, 'configtest', '--config=/tmp/x/config.yaml']


def test_checker_error_of_0_29_keeps_the_error_line_only():
    # What v0.29.3 printed for configtest with the policy file it names missing.
    stderr = ('2026-11-30T10:02:59Z INF Opening database database=sqlite3 path=/tmp/hs-probe/lib/db.sqlite\n'
              'Error: configuration error: creating new headscale: init state: loading policy: open /tmp/hs-probe/missing.json: '
              'no such file or directory\n')
    assert checker_error(stderr) == ('Error: configuration error: creating new headscale: init state: loading policy: '
                                     'open /tmp/hs-probe/missing.json: no such file or directory')


def test_checker_error_of_0_26_keeps_the_fatal_line_without_time_and_colours():
    stderr = ('\x1b[90m2026-11-30T10:02:59Z\x1b[0m \x1b[32mINF\x1b[0m Opening database database=sqlite3\n'
              '\x1b[90m2026-11-30T10:02:59Z\x1b[0m \x1b[31mFTL\x1b[0m github.com/juanfont/headscale/cmd/headscale/cli/configtest.go:19 > '
              'Error initializing error="loading configuration: bad"\n')
    assert checker_error(stderr) == ('FTL github.com/juanfont/headscale/cmd/headscale/cli/configtest.go:19 > Error initializing '
                                     'error="loading configuration: bad"')


def test_checker_error_reads_json_and_plain_errors_and_hides_keys():
    assert checker_error('{\n\t"error": "rpc error: code = InvalidArgument desc = parsing policy: x"\n}\n') == (
        'rpc error: code = InvalidArgument desc = parsing policy: x')
    assert checker_error('Error parsing the policy file: parsing policy: x\n') == 'Error parsing the policy file: parsing policy: x'
    assert checker_error('something odd\n\n') == 'something odd'
    assert checker_error('Error: bad key %s\n' % OLD_KEY) == 'Error: bad key (key)'
    assert checker_error('') == ''


def test_not_connected_tells_a_missing_server_from_a_refused_policy():
    assert not_connected('connecting to headscale: connecting to %s: context deadline exceeded' % SOCKET)
    assert not not_connected('rpc error: code = InvalidArgument desc = parsing policy: x')


def test_configtest_runs_on_a_new_config_and_on_an_unchecked_policy():
    assert needs_config_check(True, False, False) and needs_config_check(True, True, True)
    assert needs_config_check(False, True, False)
    assert not needs_config_check(False, True, True) and not needs_config_check(False, False, False)


def test_policy_text_takes_a_text_or_the_mapping_ansible_made_of_one():
    assert policy_text(POLICY) == POLICY and policy_text(None) is None
    policy = {'groups': {'eng': ['alice']}, 'acls': [{'action': 'accept', 'src': ['group:eng'], 'dst': ['*:*']}]}
    rendered = render_policy(policy, ['alice'])
    # ansible-core before 2.19 turns the rendered text into the mapping it reads as; written back, it is the same text.
    assert policy_text(json.loads(rendered)) == rendered
    with pytest.raises(ValueError, match='policy: must be the text of the policy file'):
        policy_text(['acls'])


def test_input_problems_all_at_once():
    params = dict(config_path='/etc/headscale/x', policy_path='/etc/headscale/x', timeout=0, policy=[1], files=[], directories=[], users=None,
                  record='{}', record_path='record.json')
    problems = input_problems(params)
    assert len(problems) == 4 and problems[0].startswith('config_path and policy_path are the same file')
    assert problems[3] == "record_path: 'record.json' is not an absolute path"
    good = dict(config_path='/a', policy_path='/b', timeout=1, policy=None, files=[], directories=[], users=None, record=None, record_path=None)
    assert input_problems(good) == []


def test_policy_path_warning_when_the_config_names_no_policy_file():
    assert policy_path_warning(config_for('/etc/headscale/policy.json'), POLICY, '/etc/headscale/policy.json') is None
    assert policy_path_warning(config_for(None), None, '/etc/headscale/policy.json') is None
    assert policy_path_warning(config_for(None), POLICY, '/etc/headscale/policy.json').startswith(
        'the config does not name /etc/headscale/policy.json (policy.path)')


def test_parse_environment_reads_what_the_role_writes_and_plain_lines():
    text = ('# secrets of headscale\n\nHEADSCALE_DATABASE_POSTGRES_PASS="pa\\\\ss\\"word"\n'
            "HEADSCALE_OIDC_CLIENT_SECRET='s3cr3t'\nexport PLAIN=value with spaces\n; comment\nnot a line\n")
    assert parse_environment(text) == {'HEADSCALE_DATABASE_POSTGRES_PASS': 'pa\\ss"word', 'HEADSCALE_OIDC_CLIENT_SECRET': 's3cr3t',
                                       'PLAIN': 'value with spaces'}
    assert parse_environment(None) == {} and parse_environment('') == {}


def test_secret_scrubber_replaces_values_and_keys():
    scrub = secret_scrubber({'A': 'hunter2', 'B': 'hunter2-long', 'C': ''})
    assert scrub('pass hunter2-long, hunter2, key %s' % OLD_KEY) == 'pass (secret), (secret), key (key)'


# ---------------------------------------------------------------------------------------------
# SystemdService: several files put back together
# ---------------------------------------------------------------------------------------------

class PairModule(object):
    """A unit that starts only on a pair of files it accepts together."""

    def __init__(self, paths, good):
        self.check_mode = False
        self.paths = paths
        self.good = good
        self.active = False
        self.commands = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/bin/' + name

    def run_command(self, args, data=None, binary_data=False):
        self.commands.append(' '.join(args))
        if args[1] == 'restart':
            self.active = tuple(read_or_none(path) for path in self.paths) in self.good
        elif args[1] == 'stop':
            self.active = False
        elif args[1] == 'is-active':
            return (0 if self.active else 3), ('active\n' if self.active else 'failed\n'), ''
        return 0, '', ''

    def fail_json(self, msg, **kwargs):
        raise Failed(msg, kwargs)


def read_or_none(path):
    try:
        with open(path) as handle:
            return handle.read()
    except IOError:
        return None


def write(path, text):
    with open(path, 'w') as handle:
        handle.write(text)


def pair(tmp_path, config, policy):
    paths = (str(tmp_path / 'config.yaml'), str(tmp_path / 'policy.json'))
    for path, text in zip(paths, (config, policy)):
        if text is not None:
            write(path, text)
    return paths


def test_restart_or_restore_keeps_a_pair_the_daemon_takes(tmp_path):
    paths = pair(tmp_path, 'old\n', 'p1\n')
    module = PairModule(paths, good=[('new\n', 'p2\n')])
    service = SystemdService(module, 'x.service')
    previous = service.file_states(paths)
    service.put_file(paths[0], 'new\n', mode=0o644)
    service.put_file(paths[1], 'p2\n', mode=0o644)
    assert service.restart_or_restore(previous, ready=lambda: True, timeout=0.5) is True
    assert read_or_none(paths[0]) == 'new\n' and stat.S_IMODE(os.stat(paths[1]).st_mode) == 0o644


def test_restart_or_restore_puts_both_files_back_and_says_the_old_pair_serves(tmp_path):
    paths = pair(tmp_path, 'old\n', 'p1\n')
    module = PairModule(paths, good=[('old\n', 'p1\n')])
    service = SystemdService(module, 'x.service')
    previous = service.file_states(paths)
    service.put_file(paths[0], 'new\n')
    service.put_file(paths[1], 'p2\n')
    with pytest.raises(Failed) as failure:
        service.restart_or_restore(previous, ready=lambda: True, timeout=0.5, modes=dict.fromkeys(paths, 0o644),
                                   status=lambda: 'the unit is failed')
    assert failure.value.msg == ('x.service did not start with the new %s and %s (the unit is failed); the previous %s and %s are '
                                 'back and serve again' % (paths[0], paths[1], paths[0], paths[1]))
    assert (read_or_none(paths[0]), read_or_none(paths[1])) == ('old\n', 'p1\n') and module.active
    assert stat.S_IMODE(os.stat(paths[0]).st_mode) == 0o644


def test_restart_or_restore_removes_a_file_new_in_the_run(tmp_path):
    paths = pair(tmp_path, 'old\n', None)
    module = PairModule(paths, good=[('old\n', None)])
    service = SystemdService(module, 'x.service')
    previous = service.file_states(paths)
    service.put_file(paths[0], 'new\n')
    service.put_file(paths[1], 'p2\n')
    with pytest.raises(Failed) as failure:
        service.restart_or_restore(previous, ready=lambda: True, timeout=0.5)
    assert failure.value.msg.endswith('the previous %s is back (%s, new in this run, removed) and serves again' % (paths[0], paths[1]))
    assert not os.path.exists(paths[1])


def test_restart_or_restore_of_a_first_install_removes_everything_and_stops(tmp_path):
    paths = pair(tmp_path, None, None)
    module = PairModule(paths, good=[])
    service = SystemdService(module, 'x.service')
    previous = service.file_states(paths)
    service.put_file(paths[0], 'new\n')
    service.put_file(paths[1], 'p2\n')
    with pytest.raises(Failed) as failure:
        service.restart_or_restore(previous, ready=lambda: True, timeout=0.5)
    assert failure.value.msg.endswith('the files were removed and the unit stopped')
    assert not any(os.path.exists(path) for path in paths) and '/usr/bin/systemctl stop x.service' in module.commands


def test_restart_or_restore_when_the_old_pair_fails_too(tmp_path):
    paths = pair(tmp_path, 'old\n', 'p1\n')
    module = PairModule(paths, good=[])
    service = SystemdService(module, 'x.service')
    previous = service.file_states(paths)
    service.put_file(paths[0], 'new\n')
    with pytest.raises(Failed) as failure:
        service.restart_or_restore(previous, ready=lambda: True, timeout=0.5)
    assert failure.value.msg.endswith(', nor with the previous files, which are back in place')


def test_remove_path_removes_trees_files_and_nothing(tmp_path):
    service = SystemdService(PairModule((), ()), 'x.service')
    tree = tmp_path / 'lib'
    (tree / 'cache').mkdir(parents=True)
    (tree / 'cache' / 'db.sqlite').write_text('x')
    single = tmp_path / 'file'
    single.write_text('x')
    for path in (tree, single, tmp_path / 'never'):
        service.remove_path(str(path))
    assert not tree.exists() and not single.exists()


# ---------------------------------------------------------------------------------------------
# A fake host: headscale.service and the headscale CLI
# ---------------------------------------------------------------------------------------------

def go_json(value):
    return json.dumps(value, indent='\t')


class FakeHost(FakeUnitHost):
    """headscale.service (Type=simple, ExecReload=kill -HUP) with headscale 0.26 or 0.29 and its CLI.

    The daemon starts on the config and the policy file in place: systemctl restart returns at
    once with the unit active, then the daemon either exits (a config or policy it refuses) or
    answers on its socket a moment later. SIGHUP reads the policy file again; one it refuses is
    only logged. configtest refuses what the real one refuses (a bad prefix, a missing or bad
    policy file) but passes a TLS certificate that does not exist, which only `serve` loads (as
    v0.29.3 does). The CLI
    blocks CLI_TIMEOUT seconds before it gives up on a server that does not answer. The host is
    also the clock of the service's waits: time moves only when the module sleeps or the CLI waits."""

    DIE_DELAY = 0.2
    UP_DELAY = 0.6

    def __init__(self, tmp_path, version=(0, 29)):
        super(FakeHost, self).__init__()
        self.version = version
        self.config_path = str(tmp_path / 'etc' / 'headscale' / 'config.yaml')
        self.policy_path = str(tmp_path / 'etc' / 'headscale' / 'policy.json')
        self.commands = []
        self.active_state = 'inactive'
        self.up_at = self.dies_at = None
        self.running_config = self.running_policy = None
        self.log = []
        self.checked = []       # (command, path, text) of every checker run
        self.environments = []  # the environment added to each configtest
        self.postgres_password = 'Pg-Secret-1'
        self.state_created = False
        self.users = []         # the server's users, as `users list --output json` prints them

    # -- what headscale says about a config and a policy ---------------------------------------

    def policy_error(self, text):
        try:
            json.loads(text)
        except ValueError:
            return 'parsing policy: parsing HuJSON: hujson: line 1, column 33: parsing value: unexpected EOF'
        if 'group:nope' in text:
            if self.version >= (0, 29):
                return 'parsing policy: group not defined in policy: "group:nope"'
            return 'parsing policy: Group "group:nope" is not defined in the Policy, please define or remove the reference to it'
        return None

    @staticmethod
    def named_policy(config):
        match = re.search(r'^policy:\n  mode: file\n  path: (.*)$', config, re.M)
        path = match.group(1).strip() if match else ''
        return None if path in ('', "''") else path

    def server_error(self, config, environment=None):
        """Why NewHeadscale (configtest, and the start of serve) refuses config with the files in place and
        environment (the unit's, for serve), None when not."""
        if 'type: postgres' in config and (environment or {}).get('HEADSCALE_DATABASE_POSTGRES_PASS') != self.postgres_password:
            return ('creating new headscale: init state: init database: failed to connect to `user=headscale database=headscale`: '
                    '127.0.0.1:5432 (127.0.0.1): failed SASL auth: FATAL: password authentication failed for user "headscale" '
                    '(SQLSTATE 28P01)')
        match = re.search(r'v4: (\S+)', config)
        if match and not match.group(1).endswith('/10'):
            return ('loading configuration: parsing IPv4 prefix from config: netip.ParsePrefix("%s"): prefix length out of range'
                    % match.group(1))
        path = self.named_policy(config)
        if path is None:
            return None
        policy = read_or_none(path)
        if self.version >= (0, 29):
            if policy is None:
                return 'creating new headscale: init state: loading policy: open %s: no such file or directory' % path
            error = self.policy_error(policy)
            return 'creating new headscale: init state: initializing policy manager: %s' % error if error else None
        if policy is None:
            return 'creating new headscale: loading ACL policy: loading policy bytes: open %s: no such file or directory' % path
        error = self.policy_error(policy)
        return 'creating new headscale: loading ACL policy: creating policy manager: %s' % error if error else None

    # -- the daemon ------------------------------------------------------------------------------

    def start(self):
        config = read_or_none(self.config_path) or ''
        self.active_state, self.up_at, self.dies_at = 'active', None, None
        unit_environment = {'HEADSCALE_DATABASE_POSTGRES_PASS': self.postgres_password}
        if read_or_none(self.config_path) is None or self.server_error(config, unit_environment) or MISSING_CERTIFICATE in config:
            self.dies_at = self.now + self.DIE_DELAY
            return
        self.up_at = self.now + self.UP_DELAY
        self.running_config = config
        path = self.named_policy(config)
        self.running_policy = read_or_none(path) if path else None

    def stop(self):
        self.active_state, self.up_at, self.dies_at = 'inactive', None, None

    def advance(self):
        if self.dies_at is not None and self.now >= self.dies_at:
            self.active_state, self.dies_at = 'failed', None

    def answers(self):
        self.advance()
        return self.active_state == 'active' and self.up_at is not None and self.now >= self.up_at

    def sighup(self):
        path = self.named_policy(self.running_config or '')
        if path is None:
            return
        text = read_or_none(path)
        error = 'open %s: no such file or directory' % path if text is None else self.policy_error(text)
        if error:
            self.log.append('ERR reloading policy error="loading policy: %s"' % error)
        else:
            self.running_policy = text

    def mutations(self):
        return [command for command in self.commands if command.startswith(SYSTEMCTL) and command.split()[1] in MUTATING]

    def headscale_commands(self):
        return [command[len(HEADSCALE) + 1:] for command in self.commands if command.startswith(HEADSCALE + ' ')]

    # -- the fake run_command ------------------------------------------------------------------

    def run(self, args, environ=None):
        assert isinstance(args, list), 'commands must be argument lists'
        self.commands.append(' '.join(args))
        self.advance()
        if args[0] == SYSTEMCTL:
            return self.systemctl(args[1:])
        if args[0] == HEADSCALE:
            if args[1] == 'configtest':
                return self.configtest(args[2:], environ or {})
            assert not environ, 'only configtest opens the database'
            return self.headscale(args[1:])
        raise AssertionError('unexpected command %r' % (args,))

    def systemctl(self, rest):
        if rest == ['daemon-reload']:
            return 0, '', ''
        verb, unit = rest
        assert unit == UNIT
        answer = self.common_systemctl(verb)
        if answer is not None:
            return answer
        if verb == 'restart':
            self.stop()
            self.start()
            return 0, '', ''   # Type=simple: the job is done once the process is forked
        if verb == 'reload':
            if self.active_state != 'active':
                return 1, '', '%s is not active, cannot reload.\n' % UNIT
            self.sighup()
            return 0, '', ''
        raise AssertionError('unexpected systemctl %r' % (rest,))

    def not_answering(self):
        self.now += CLI_TIMEOUT  # the CLI's blocking dial gives up after cli.timeout
        if self.version >= (0, 29):
            return 1, '', go_json({'error': 'connecting to headscale: connecting to %s: context deadline exceeded' % SOCKET}) + '\n'
        return 255, '', ''

    def headscale(self, words):
        if words[:2] == ['users', 'list']:
            assert words[2:4] == ['--output', 'json'] and words[4].startswith('--config=')
            return (0, json.dumps(self.users or None) + '\n', '') if self.answers() else self.not_answering()
        if words[:2] == ['users', 'create']:
            assert words[-3:-1] == ['--output', 'json'] and words[-1].startswith('--config=')
            if not self.answers():
                return self.not_answering()
            self.users.append({'id': len(self.users) + 1, 'name': words[2]})
            return 0, json.dumps(self.users[-1]) + '\n', ''
        if words == ['policy', 'check', '--help']:
            return 0, HELP_0_29 if self.version >= (0, 29) else HELP_0_26, ''
        if words[:2] == ['policy', 'check']:
            return self.policy_check(words[2:])
        raise AssertionError('unexpected headscale %r' % (words,))

    def policy_check(self, flags):
        path = flags[0][len('--file='):]
        text = read_or_none(path)
        self.checked.append(('policy check', path, text))
        if self.version < (0, 29):
            if flags[1:]:
                return 1, '', 'Error: unknown flag: %s\nUsage:\n  headscale policy check [flags]\n' % flags[1].split('=')[0]
            error = self.policy_error(text)
            return (1, '', 'Error parsing the policy file: %s\n' % error) if error else (0, 'Policy is valid\n', '')
        assert flags[1:3] == ['--output', 'json'] and flags[3] == '--config=%s' % self.config_path
        if not self.answers():
            return self.not_answering()
        error = self.policy_error(text)
        if error:
            return 1, '', go_json({'error': 'rpc error: code = InvalidArgument desc = %s' % error}) + '\n'
        return 0, 'Policy is valid\n', ''

    def configtest(self, flags, environment):
        assert len(flags) == 1 and flags[0].startswith('--config=')
        path = flags[0][len('--config='):]
        config = read_or_none(path)
        self.checked.append(('configtest', path, config))
        self.environments.append(environment)
        self.state_created = True
        error = self.server_error(config, environment)
        log = '%s INF Opening database database=sqlite3 path=/var/lib/headscale/db.sqlite\n' % LOG_TIME
        if not error:
            return 0, '', log
        if self.version >= (0, 29):
            return 1, '', log + 'Error: configuration error: %s\n' % error
        return 1, '', log + ('%s FTL github.com/juanfont/headscale/cmd/headscale/cli/configtest.go:19 > Error initializing error="%s"\n'
                             % (LOG_TIME, error.replace('"', '\\"')))


def fake_host(monkeypatch, tmp_path, version=(0, 29)):
    host = FakeHost(tmp_path, version)
    monkeypatch.setattr(systemd_service, 'time', host)
    return host


@pytest.fixture
def host(tmp_path, monkeypatch):
    return fake_host(monkeypatch, tmp_path)


@pytest.fixture
def host_0_26(tmp_path, monkeypatch):
    return fake_host(monkeypatch, tmp_path, (0, 26))


def params_for(host, **extra):
    """The module's parameters with their defaults, a config and a policy, and extra."""
    params = dict(state='present', config=config_for(host.policy_path), config_path=host.config_path, policy=POLICY,
                  policy_path=host.policy_path, environment_file=None, executable=None, unit=UNIT, restart=False, daemon_reload=False, enabled=True,
                  timeout=30, remove_paths=[], files=[], directories=[], users=None, version='0.29.3',
                  record=None, record_path=None)
    params.update(extra)
    return params


def run(host, check_mode=False, diff=False, **extra):
    """(result, warnings) of a run that succeeds."""
    module = FakeModule(host, params_for(host, **extra), check_mode=check_mode, diff=diff)
    host.commands, host.checked = [], []
    result = run_module(module)
    return result, module.warnings


def run_fail(host, **extra):
    """The message of a run that fails."""
    module = FakeModule(host, params_for(host, **extra))
    host.commands, host.checked = [], []
    with pytest.raises(Failed) as failure:
        run_module(module)
    return failure.value.msg


def converged(host, **extra):
    run(host, **extra)
    host.commands, host.checked = [], []


# ---------------------------------------------------------------------------------------------
# state=present, headscale 0.29
# ---------------------------------------------------------------------------------------------

def test_first_install_checks_writes_starts_and_enables(host, tmp_path):
    result, warnings = run(host, diff=True)
    assert result == dict(changed=True, action='replace', changed_paths=[], diff=[
        dict(before_header=host.config_path, after_header=host.config_path, before='', after=config_for(host.policy_path)),
        dict(before_header=host.policy_path, after_header=host.policy_path, before='', after=POLICY)]) and warnings == []
    assert read_or_none(host.config_path) == config_for(host.policy_path) and read_or_none(host.policy_path) == POLICY
    for path in (host.config_path, host.policy_path):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(os.path.dirname(host.config_path)).st_mode) == 0o755
    # No server to ask yet: 0.29's policy check is left to configtest, which read the new config (a copy) with the new policy in place.
    assert host.headscale_commands()[:1] == ['policy check --help']
    (what, checked_path, checked_text), = host.checked
    assert what == 'configtest' and checked_text == config_for(host.policy_path)
    assert os.path.basename(checked_path) == 'config.yaml' and checked_path != host.config_path and not os.path.exists(checked_path)
    assert host.mutations() == ['%s restart %s' % (SYSTEMCTL, UNIT), '%s enable %s' % (SYSTEMCTL, UNIT)]
    assert host.running_policy == POLICY and host.answers()


def test_readiness_waits_for_the_socket_not_only_for_the_unit(host):
    start = host.now
    run(host)
    assert host.now - start >= FakeHost.UP_DELAY
    assert max(host.sleeps) == systemd_service.WAIT_POLL_SECONDS
    assert host.headscale_commands()[-1] == 'users list --output json --config=%s' % host.config_path


def test_a_converged_server_costs_reads_only(host):
    converged(host)
    result, warnings = run(host, diff=True)
    assert result == dict(changed=False, action='none', changed_paths=[]) and warnings == []
    assert host.mutations() == [] and host.headscale_commands() == []


def test_a_new_policy_alone_is_checked_by_the_server_and_reloaded(host):
    converged(host)
    result, _warnings = run(host, policy=POLICY_V2, diff=True)
    assert result['action'] == 'reload' and result['changed']
    assert result['diff'] == [dict(before_header=host.policy_path, after_header=host.policy_path, before=POLICY, after=POLICY_V2)]
    (what, checked_path, checked_text), = host.checked
    assert what == 'policy check' and checked_text == POLICY_V2 and checked_path != host.policy_path
    assert host.mutations() == ['%s reload %s' % (SYSTEMCTL, UNIT)]
    assert host.running_policy == POLICY_V2


def test_a_policy_the_server_refuses_is_never_written(host):
    converged(host)
    message = run_fail(host, policy=UNDEFINED_GROUP)
    assert message == ('headscale policy check refuses the new %s; nothing was changed: rpc error: code = InvalidArgument desc = '
                       'parsing policy: group not defined in policy: "group:nope"' % host.policy_path)
    assert read_or_none(host.policy_path) == POLICY and host.mutations() == []


def test_a_refused_config_puts_the_new_policy_back(host):
    converged(host)
    message = run_fail(host, config=config_for(host.policy_path, v4='100.64.0.0/99'), policy=POLICY_V2)
    assert message == ('headscale configtest refuses the new %s with the new %s; nothing was changed: Error: configuration error: '
                       'loading configuration: parsing IPv4 prefix from config: netip.ParsePrefix("100.64.0.0/99"): prefix length out of '
                       'range' % (host.config_path, host.policy_path))
    assert 'INF' not in message
    assert read_or_none(host.policy_path) == POLICY and read_or_none(host.config_path) == config_for(host.policy_path)
    assert host.mutations() == []
    assert [what for what, _path, _text in host.checked] == ['policy check', 'configtest']


def test_configtest_reads_the_policy_the_config_names(host):
    converged(host)
    # 0.29 with the server stopped: only configtest can check the policy, once it is in place.
    host.stop()
    message = run_fail(host, policy=UNDEFINED_GROUP)
    assert message.startswith('headscale configtest refuses %s with the new %s; nothing was changed: Error: configuration error: '
                              'creating new headscale: init state: initializing policy manager: parsing policy: group not defined'
                              % (host.config_path, host.policy_path))
    assert read_or_none(host.policy_path) == POLICY and host.mutations() == []


def test_a_config_refused_only_at_start_rolls_back_both_files(host):
    converged(host)
    message = run_fail(host, config=config_for(host.policy_path, extra=MISSING_CERTIFICATE), policy=POLICY_V2)
    assert message == ('%s did not start with the new %s and %s (the unit is failed; journalctl -u %s tells why); the previous %s and %s '
                       'are back and serve again' % (UNIT, host.config_path, host.policy_path, UNIT, host.config_path, host.policy_path))
    assert read_or_none(host.config_path) == config_for(host.policy_path) and read_or_none(host.policy_path) == POLICY
    assert host.answers() and host.running_policy == POLICY
    assert host.mutations() == ['%s restart %s' % (SYSTEMCTL, UNIT)] * 2


def test_the_record_waits_for_a_server_that_runs_the_new_config(host, tmp_path):
    path = str(tmp_path / 'state' / 'record.json')
    record = dict(record='{"database": "postgres"}\n', record_path=path)
    converged(host)
    run_fail(host, config=config_for(host.policy_path, v4='100.64.0.0/99'), **record)
    run_fail(host, config=config_for(host.policy_path, extra=MISSING_CERTIFICATE), **record)
    assert read_or_none(path) is None
    preview, _warnings = run(host, check_mode=True, diff=True, config=config_for(host.policy_path, level='debug'), **record)
    assert preview['changed_paths'] == [path] and read_or_none(path) is None
    assert [item['after_header'] for item in preview['diff']] == [host.config_path, path]
    result, _warnings = run(host, config=config_for(host.policy_path, level='debug'), **record)
    assert result['action'] == 'replace' and result['changed_paths'] == [path] and read_or_none(path) == record['record']
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    again, _warnings = run(host, config=config_for(host.policy_path, level='debug'), **record)
    assert again == dict(changed=False, action='none', changed_paths=[])


def test_a_first_install_refused_at_start_is_removed_and_stopped(host):
    message = run_fail(host, config=config_for(host.policy_path, extra=MISSING_CERTIFICATE))
    assert message.endswith('the files were removed and the unit stopped')
    assert read_or_none(host.config_path) is None and read_or_none(host.policy_path) is None and host.active_state == 'inactive'


def test_the_wait_is_bounded_and_never_a_blind_sleep(host):
    converged(host)
    start = host.now
    run_fail(host, config=config_for(host.policy_path, extra=MISSING_CERTIFICATE), timeout=3)
    # Two bounded waits (the new files, the old ones), each at most timeout plus one CLI timeout.
    assert host.now - start <= 2 * (3 + CLI_TIMEOUT) + 1
    assert max(host.sleeps) == systemd_service.WAIT_POLL_SECONDS


def test_a_new_config_with_the_same_policy_restarts(host):
    converged(host)
    result, _warnings = run(host, config=config_for(host.policy_path, level='debug'), diff=True)
    assert result['action'] == 'replace' and [item['before_header'] for item in result['diff']] == [host.config_path]
    assert [what for what, _path, _text in host.checked] == ['configtest']
    assert host.mutations() == ['%s restart %s' % (SYSTEMCTL, UNIT)]


def test_restart_when_asked_with_the_same_files(host):
    converged(host)
    result, _warnings = run(host, restart=True)
    assert result == dict(changed=True, action='restart', changed_paths=[]) and host.checked == []
    assert host.mutations() == ['%s restart %s' % (SYSTEMCTL, UNIT)]


def test_restart_instead_of_reload_when_asked(host):
    converged(host)
    result, _warnings = run(host, policy=POLICY_V2, restart=True)
    assert result['action'] == 'replace' and host.mutations() == ['%s restart %s' % (SYSTEMCTL, UNIT)]


def test_a_stopped_unit_with_its_files_in_place_is_started(host):
    converged(host)
    host.stop()
    result, _warnings = run(host)
    assert result['action'] == 'restart' and host.answers()


def test_a_restart_that_does_not_come_up_fails_with_the_units_state(host):
    converged(host)
    write(host.config_path, config_for(host.policy_path, extra=MISSING_CERTIFICATE))
    message = run_fail(host, config=config_for(host.policy_path, extra=MISSING_CERTIFICATE), restart=True, timeout=2)
    assert message == '%s did not start with %s: the unit is failed; journalctl -u %s tells why' % (UNIT, host.config_path, UNIT)


def test_a_server_that_does_not_answer_after_a_reload(host):
    converged(host)

    def hang():
        host.up_at = host.now + 3600

    original = host.sighup
    host.sighup = lambda: (original(), hang())
    message = run_fail(host, policy=POLICY_V2, timeout=2)
    assert message == ('%s does not answer after the reload for the new %s: its unix socket (%s by default) does not answer: '
                       'connecting to headscale: connecting to %s: context deadline exceeded' % (UNIT, host.policy_path, SOCKET, SOCKET))


def test_removing_the_policy_checks_the_config_without_it(host):
    converged(host)
    # The config still names the file: configtest refuses, the file comes back.
    message = run_fail(host, policy=None)
    assert message.startswith('headscale configtest refuses %s without %s; nothing was changed: Error: configuration error: creating new '
                              'headscale: init state: loading policy: open %s: no such file or directory'
                              % (host.config_path, host.policy_path, host.policy_path))
    assert read_or_none(host.policy_path) == POLICY
    # With a config that names none, the file goes and the server restarts without a policy.
    result, warnings = run(host, config=config_for(None), policy=None, diff=True)
    assert result['action'] == 'replace' and warnings == []
    assert result['diff'][1] == dict(before_header=host.policy_path, after_header='%s (absent)' % host.policy_path, before=POLICY, after='')
    assert not os.path.exists(host.policy_path) and host.running_policy is None


def test_a_policy_the_config_does_not_name_is_warned_about(host):
    _result, warnings = run(host, config=config_for(None))
    assert warnings == ['the config does not name %s (policy.path): headscale reads no policy file it is not told about, and allows '
                        'all traffic without one' % host.policy_path]


def test_check_mode_reads_only(host):
    converged(host)
    result, _warnings = run(host, check_mode=True, diff=True, config=config_for(host.policy_path, level='debug'), policy=POLICY_V2)
    assert result['changed'] and result['action'] == 'replace' and len(result['diff']) == 2
    assert read_or_none(host.policy_path) == POLICY and host.mutations() == [] and host.headscale_commands() == []
    result, _warnings = run(host, check_mode=True, policy=POLICY_V2)
    assert result['action'] == 'reload' and host.mutations() == []


def test_enabled_false_disables_only(host):
    converged(host)
    result, _warnings = run(host, enabled=False)
    assert result == dict(changed=True, action='none', changed_paths=[])
    assert host.mutations() == ['%s disable %s' % (SYSTEMCTL, UNIT)]


def test_messages_hide_keys_in_checker_output(host):
    converged(host)
    host.policy_error = lambda text: 'parsing policy: bad token %s' % OLD_KEY if text == POLICY_V2 else None
    message = run_fail(host, policy=POLICY_V2)
    assert OLD_KEY not in message and 'bad token (key)' in message


def test_configtest_gets_the_units_secret_environment(host, tmp_path):
    environment_file = tmp_path / 'headscale.env'
    environment_file.write_text('HEADSCALE_DATABASE_POSTGRES_PASS="%s"\n' % host.postgres_password)
    postgres = config_for(host.policy_path).replace('type: sqlite', 'type: postgres')
    result, _warnings = run(host, config=postgres, environment_file=str(environment_file))
    assert result['action'] == 'replace' and host.environments == [{'HEADSCALE_DATABASE_POSTGRES_PASS': host.postgres_password}]
    # Without it, configtest cannot log in, as the server could not without the unit's environment.
    message = run_fail(host, config=postgres + '# changed\n')
    assert 'password authentication failed for user "headscale"' in message and read_or_none(host.config_path) == postgres


def test_secret_values_never_reach_a_message(host, tmp_path):
    converged(host)
    environment_file = tmp_path / 'headscale.env'
    environment_file.write_text('HEADSCALE_DATABASE_POSTGRES_PASS="%s"\n' % host.postgres_password)
    original = host.server_error

    def echoing(config, environment=None):
        error = original(config, environment)
        return '%s (dsn password=%s)' % (error, (environment or {}).get('HEADSCALE_DATABASE_POSTGRES_PASS')) if error else None

    host.server_error = echoing
    message = run_fail(host, config=config_for(host.policy_path, v4='100.64.0.0/99'), environment_file=str(environment_file))
    assert host.postgres_password not in message and 'password=(secret)' in message


# ---------------------------------------------------------------------------------------------
# state=present, headscale 0.26 to 0.28
# ---------------------------------------------------------------------------------------------

def test_0_26_checks_the_policy_file_alone_before_the_server_runs(host_0_26):
    result, _warnings = run(host_0_26)
    assert result['action'] == 'replace'
    assert [what for what, _path, _text in host_0_26.checked] == ['policy check', 'configtest']
    check = [command for command in host_0_26.headscale_commands() if command.startswith('policy check --file=')]
    assert len(check) == 1 and '--output' not in check[0] and '--config' not in check[0]


def test_0_26_refused_policy_quotes_its_parser(host_0_26):
    converged(host_0_26)
    message = run_fail(host_0_26, policy=UNDEFINED_GROUP)
    assert message == ('headscale policy check refuses the new %s; nothing was changed: Error parsing the policy file: parsing policy: '
                       'Group "group:nope" is not defined in the Policy, please define or remove the reference to it' % host_0_26.policy_path)


def test_0_26_refused_config_quotes_the_fatal_log_line(host_0_26):
    converged(host_0_26)
    message = run_fail(host_0_26, config=config_for(host_0_26.policy_path, v4='100.64.0.0/99'))
    assert message.startswith('headscale configtest refuses the new %s; nothing was changed: FTL github.com/juanfont/headscale/cmd/headscale/'
                              'cli/configtest.go:19 > Error initializing error="loading configuration: parsing IPv4 prefix'
                              % host_0_26.config_path)
    assert 'INF' not in message


def test_0_26_policy_alone_reloads_after_the_offline_check(host_0_26):
    converged(host_0_26)
    result, _warnings = run(host_0_26, policy=POLICY_V2)
    assert result['action'] == 'reload' and [what for what, _path, _text in host_0_26.checked] == ['policy check']
    assert host_0_26.running_policy == POLICY_V2


def test_a_silent_0_26_server_is_reported_as_not_answering(host_0_26):
    converged(host_0_26)
    write(host_0_26.config_path, config_for(host_0_26.policy_path, extra=MISSING_CERTIFICATE))
    host_0_26.stop()
    message = run_fail(host_0_26, config=config_for(host_0_26.policy_path, extra=MISSING_CERTIFICATE), timeout=1)
    assert message.startswith('%s did not start with %s: the unit is failed' % (UNIT, host_0_26.config_path))


# ---------------------------------------------------------------------------------------------
# state=absent
# ---------------------------------------------------------------------------------------------

def test_absent_stops_disables_and_removes(host, tmp_path):
    converged(host)
    lib = tmp_path / 'var' / 'lib' / 'headscale'
    lib.mkdir(parents=True)
    (lib / 'db.sqlite').write_text('x')
    preview, _warnings = run(host, check_mode=True, diff=True, state='absent', remove_paths=[str(lib)])
    assert preview['changed'] and preview['action'] == 'remove'
    assert [item['before'] for item in preview['diff']] == [config_for(host.policy_path), POLICY]
    assert [item['after_header'] for item in preview['diff']] == ['%s (absent)' % host.config_path, '%s (absent)' % host.policy_path]
    assert os.path.exists(host.config_path) and host.mutations() == []
    result, _warnings = run(host, state='absent', remove_paths=[str(lib), str(tmp_path / 'never')])
    assert result == dict(changed=True, action='remove')
    assert host.mutations() == ['%s stop %s' % (SYSTEMCTL, UNIT), '%s disable %s' % (SYSTEMCTL, UNIT)]
    assert not os.path.exists(host.config_path) and not os.path.exists(host.policy_path) and not lib.exists()
    assert host.headscale_commands() == []
    again, _warnings = run(host, state='absent', remove_paths=[str(lib)])
    assert again == dict(changed=False, action='none') and host.mutations() == []


def test_absent_stops_a_unit_that_is_starting(host):
    converged(host)
    host.active_state = 'activating'
    run(host, state='absent')
    assert '%s stop %s' % (SYSTEMCTL, UNIT) in host.mutations()


# ---------------------------------------------------------------------------------------------
# The checkers against the real binaries (make headscale and make headscale-previous build them)
# ---------------------------------------------------------------------------------------------

# The pinned release and the minor release before it, with the kind of
# `policy check` each has: 0.29 asks the running server, 0.28 parses the file alone.
REAL_HEADSCALES = [
    pytest.param((os.environ.get('OVERLAYNET_HEADSCALE', ''), 'server'), id='current'),
    pytest.param((os.environ.get('OVERLAYNET_HEADSCALE_PREVIOUS', ''), 'file'), id='previous'),
]
# `make unit` builds the binaries first and sets OVERLAYNET_REQUIRE_BINARIES, so that there a missing binary fails
# these tests instead of skipping them; a bare pytest run skips them.
REQUIRE_BINARIES = bool(os.environ.get('OVERLAYNET_REQUIRE_BINARIES'))


# Nothing that reaches the network: no DERP map URL, no OIDC, no update check; everything in tmp.
REAL_CONFIG = '''server_url: https://hs.example.test
listen_addr: 127.0.0.1:18080
metrics_listen_addr: 127.0.0.1:19090
grpc_listen_addr: 127.0.0.1:15044
noise:
  private_key_path: {tmp}/lib/noise_private.key
prefixes:
  v4: {v4}
  v6: fd7a:115c:a1e0::/48
derp:
  server:
    enabled: true
    region_id: 999
    region_code: headscale
    region_name: Headscale Embedded DERP
    stun_listen_addr: 127.0.0.1:13478
    private_key_path: {tmp}/lib/derp_server_private.key
  urls: []
  paths: []
  auto_update_enabled: false
disable_check_updates: true
database:
  type: sqlite
  sqlite:
    path: {tmp}/lib/db.sqlite
policy:
  mode: file
  path: {tmp}/policy.json
dns:
  magic_dns: true
  base_domain: tailnet.example.test
  override_local_dns: false
  nameservers:
    global: []
unix_socket: {tmp}/run/headscale.sock
logtail:
  enabled: false
'''


class RealModule(object):
    check_mode = False

    def __init__(self, tmp_path, executable):
        self.params = dict(state='present', unit=UNIT, config_path=str(tmp_path / 'config.yaml'), policy_path=str(tmp_path / 'policy.json'),
                           config=None, policy=None, timeout=5, executable=executable, environment_file=None)
        self.warnings = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/bin/' + name

    def run_command(self, args, data=None, binary_data=False, environ_update=None):
        completed = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False,
                                   env=dict(os.environ, HOME=os.path.dirname(self.params['config_path']), **(environ_update or {})))
        return completed.returncode, completed.stdout.decode(), completed.stderr.decode()

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, msg, **kwargs):
        raise Failed(msg, kwargs)


@pytest.fixture(params=REAL_HEADSCALES)
def real_binary(request):
    """(path, kind of policy check) of one real headscale."""
    executable, policy_checker = request.param
    if not REQUIRE_BINARIES and not os.access(executable, os.X_OK):
        pytest.skip('no headscale binary built for this release (make headscale / headscale-previous build them)')
    return executable, policy_checker


@pytest.fixture
def real(tmp_path, real_binary):
    (tmp_path / 'run').mkdir()
    (tmp_path / 'policy.json').write_text(POLICY)
    return HeadscaleServer(RealModule(tmp_path, real_binary[0]))


def real_config(tmp_path, v4='100.64.0.0/10'):
    return REAL_CONFIG.format(tmp=str(tmp_path), v4=v4)


def test_real_configtest_accepts_a_good_pair_and_quotes_a_bad_prefix(real, tmp_path):
    assert real.service.check_text('config.yaml', real_config(tmp_path), real.config_problem) is None
    # Only serve loads the TLS files: configtest cannot see a missing certificate (the restart with rollback does).
    assert real.service.check_text('config.yaml', real_config(tmp_path) + MISSING_CERTIFICATE, real.config_problem) is None
    problem = real.service.check_text('config.yaml', real_config(tmp_path, v4='100.64.0.0/99'), real.config_problem)
    assert 'parsing IPv4 prefix from config' in problem and 'prefix length out of range' in problem and 'INF' not in problem


def test_real_configtest_reads_the_named_policy_file(real, tmp_path):
    (tmp_path / 'policy.json').write_text(UNDEFINED_GROUP)
    problem = real.service.check_text('config.yaml', real_config(tmp_path), real.config_problem)
    assert 'group' in problem and 'nope' in problem
    (tmp_path / 'policy.json').unlink()
    problem = real.service.check_text('config.yaml', real_config(tmp_path), real.config_problem)
    assert 'no such file or directory' in problem


def test_real_policy_check_kind_and_its_answer_without_a_server(real, real_binary, tmp_path):
    kind = real.policy_checker()
    assert kind == real_binary[1]
    if kind == 'file':
        real.policy = UNDEFINED_GROUP
        problem, checked = real.policy_problem(running=True)
        assert checked and 'nope' in problem
        return
    real.config_path = str(tmp_path / 'config.yaml')
    write(real.config_path, real_config(tmp_path))
    real.policy = UNDEFINED_GROUP
    # No server listens on the socket: the check gives up after the CLI timeout, and configtest takes over.
    assert real.policy_problem(running=True) == (None, False)
