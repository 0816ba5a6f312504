# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The apply step of overlaynet.vpn.headscale_server: headscale 0.26 to 0.29 on its config.yaml
# and its policy file, run by our own unit headscale.service (Type=simple, as user headscale,
# ExecReload=/bin/kill -HUP $MAINPID). The unit is driven through the shared SystemdService;
# what is headscale's own is here: its two checkers, when the server counts as up, and reload
# versus restart. The decisions are the pure functions at the top.
#
# Upstream read (github.com/juanfont/headscale at v0.25.0, v0.26.0, v0.27.0, v0.28.0, v0.29.0,
# v0.29.2, and the v0.29.3 module source): cmd/headscale/cli/{root,policy,configtest,version,
# utils}.go, cmd/headscale/headscale.go, hscontrol/app.go (NewHeadscale, the signal handler),
# hscontrol/state/state.go, hscontrol/db/policy.go, hscontrol/grpcv1.go (CheckPolicy),
# hscontrol/policy/v2/policy.go, hscontrol/util/file.go. Checked against a headscale v0.29.3
# built from its module (configtest and policy check on a configuration in a temporary
# directory, without network).
#
# `headscale policy check -f FILE` exists from 0.26.0 on (0.25 has only get and set), and checks
# differently:
# - 0.26 to 0.28 parse the file alone (NewPolicyManager without users or nodes: structure, groups,
#   tags, hosts; a user the server does not know is no error). The command reads no config: root.go
#   returns from its init before it registers --config, --output and --force whenever the
#   arguments hold "policy" and "check", so none of those may be given (cobra: unknown flag). A
#   refused file: rc 1, "Error parsing the policy file: ..." on stderr.
# - 0.29 asks the running server (gRPC CheckPolicy over the unix socket of the config: the same
#   parse plus the server's users and nodes and the policy's tests blocks). Without a server it
#   fails after the CLI timeout (5 s) with "connecting to headscale: ...". Its flag
#   --bypass-grpc-and-access-database-directly (renamed on upstream's main) opens the database
#   itself, after asking to confirm that no server runs: not used, configtest covers that case.
# Which kind a binary has is read from `policy check --help` (0.29 lists a --bypass-... flag), not
# from `headscale version`: from 0.27 on that reports the version of Go's build info, "dev" for a
# binary built outside a tagged checkout (the -X .../types.Version stamp of 0.26 is gone), as our
# lab's builds are.
#
# `headscale configtest --config FILE` (a flag of the root command; -c for short) builds the server
# as `serve` does without opening any listener (NewHeadscale): it loads the config, creates the
# noise key (and the DERP key) when missing, opens, creates and migrates the database, and loads the
# policy file the config's policy.path names (a missing or refused file fails it). 0.26 to 0.28
# report through log.Fatal: "<time> FTL .../configtest.go:19 > Error initializing error=..." on
# stderr, nothing at all under --output json (hence not given); 0.29: "Error: configuration error:
# ..." after its log lines. It misses what `serve` does afterwards: load the TLS certificate and
# key (v0.29.3's configtest passes a tls_cert_path that does not exist), open the listeners (a port
# in use), and run as the unit's user (a file it cannot read): hence the restart with rollback.
#
# A relative path in the config is taken from the config file's directory
# (util.AbsolutePathFromConfigPath); the checks read copies in a private temporary directory, so
# the config must use absolute paths (the role's does).
#
# SIGHUP (`systemctl reload`) makes headscale read its policy file again when the running config
# names one (0.26: loadPolicyManager and SetPolicy; 0.29: state.ReloadPolicy); a policy it refuses
# then is only logged and the old one stays in force. That is why a new policy is checked before
# it is put in place. Nothing else of config.yaml is read again: any change there needs a restart.
#
# Secrets: none in either file, so both show in the diff. The role keeps them in the unit's
# EnvironmentFile (the postgres password as HEADSCALE_DATABASE_POSTGRES_PASS, which headscale reads
# for database.postgres.pass): configtest opens the database as the server does, so it gets the
# variables of that file too (environment_file), and their values are replaced in every message.
# Messages quote the checkers' stderr (with anything that looks like a pre-auth key replaced, as
# _headscale_cli does), never a command's stdout.

import json
import os
import re

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._files import FileWriteError, file_problems, plan_files, write_planned_files
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import (
    ERROR_LINES,
    EXECUTABLE,
    cli_error,
    command,
    list_users_argv,
    normalize_users,
    run_users,
    scrub_keys,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_config import UNIX_SOCKET, version_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._secrets import scrub_secrets
from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import (
    SystemdService,
    existing_paths,
    needs_stop,
    removal_diff,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import is_mapping, type_name
from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import read_text_or_none

UNIT = 'headscale.service'
POLICY_PATH = '/etc/headscale/policy.json'
DEFAULT_TIMEOUT = 30
# Both files hold no secret, and the daemon (user headscale) must read them: root's, readable by all.
FILE_MODE = 0o644
DIRECTORY_MODE = 0o755
ACTIONS = ('none', 'reload', 'restart', 'replace', 'remove')
# A flag `policy check --help` lists from 0.29 on, when the check asks the running server.
SERVER_CHECK_FLAG = '--bypass-'
NOT_CONNECTED = 'connecting to headscale'

ANSI_ESCAPE = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
LOG_TIME = re.compile(r'^\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:?\d\d)?\s+')
# zerolog's console lines of levels fatal, error and panic, and cobra's "Error: ..." line.
ERROR_LINE = re.compile(r'^(?:(?:FTL|ERR|PNC)\b|Error\b)')
ENVIRONMENT_LINE = re.compile(r'^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$')


# -- decisions ---------------------------------------------------------------------------------

def plan_present(config_changed, policy_changed, restart, running):
    """What state=present does:
    'replace' - a new config, or a new policy the daemon must start on (restart asked, unit not
               running): the files go in place and the unit is restarted, both rolled back together;
    'reload'  - only the policy is new and the unit runs: SIGHUP, headscale reads the policy again;
    'restart' - the same files, restarted because asked to or because the unit does not run;
    'none'."""
    if config_changed or (policy_changed and (restart or not running)):
        return 'replace'
    if policy_changed:
        return 'reload'
    if restart or not running:
        return 'restart'
    return 'none'


def policy_checker(help_text):
    """How this headscale's `policy check` checks a file, from `policy check --help`: 'server'
    (0.29+: asks the running server), 'file' (0.26-0.28: parses the file alone) or None (no such
    command, headscale before 0.26)."""
    text = help_text or ''
    if 'policy check' not in text:
        return None
    return 'server' if SERVER_CHECK_FLAG in text else 'file'


def policy_check_argv(executable, kind, path, config_path):
    """argv of `policy check` on path. 'server' needs the config for the unix socket and gets --output json
    (its error as JSON, no log lines); 'file' takes neither (0.26-0.28 refuse both flags for this command)."""
    words = ['policy', 'check', '--file=%s' % path]
    if kind == 'server':
        return command(executable, words, config_path)
    return [executable] + words


def configtest_argv(executable, path):
    # No --output json: 0.26-0.28 would then report a refused config with nothing at all.
    return [executable, 'configtest', '--config=%s' % path]


def checker_error(stderr):
    """What a checker said on stderr: the "error" of its JSON, else its error lines (zerolog's FTL/ERR lines,
    cobra's "Error: ..."; every line when none is marked) without colours and times; keys replaced, '' when silent."""
    text = ANSI_ESCAPE.sub('', stderr or '').strip()
    if text.startswith('{'):
        return cli_error(text)
    lines = [LOG_TIME.sub('', line.strip()) for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if ERROR_LINE.match(line)]
    return scrub_keys('; '.join((errors or lines)[-ERROR_LINES:]))


def not_connected(error):
    """Whether a 0.29 `policy check` failed for want of a server, not because of the policy."""
    return error.startswith(NOT_CONNECTED)


def needs_config_check(config_changed, policy_changed, policy_checked):
    """Whether configtest runs: on a new config, and on a new policy file (or one removed) that `policy check`
    did not check, since configtest reads the policy file the config names."""
    return config_changed or (policy_changed and not policy_checked)


def policy_text(value):
    """The policy file's text from the `policy` option: a text as it is, None for no policy file.

    A mapping is written as JSON indented by 2, with a final newline: ansible-core before 2.19 turns a
    templated text that reads as a Python literal (JSON without true, false or null) into a mapping,
    and this gives back the text it came from when it was rendered so (as _headscale_policy.policy_text does).
    """
    if value is None or isinstance(value, str):
        return value
    if is_mapping(value):
        return json.dumps(value, indent=2) + '\n'
    raise ValueError('policy: must be the text of the policy file (JSON), got %s' % type_name(value))


def input_problems(params):
    problems = []
    if params['config_path'] == params['policy_path']:
        problems.append('config_path and policy_path are the same file, %s' % params['config_path'])
    if params['timeout'] < 1:
        problems.append('timeout: must be 1 second or more, got %d' % params['timeout'])
    try:
        policy_text(params['policy'])
    except ValueError as error:
        problems.append(str(error))
    problems += file_problems(params['files'], params['directories'])
    if params['record'] is not None and not os.path.isabs(params['record_path'] or ''):
        problems.append('record_path: %r is not an absolute path' % params['record_path'])
    if params['users'] is not None:
        problem = version_problem(params['version'])
        problems += (['version: %s' % problem] if problem else []) + normalize_users(params['users'])[1]
    return problems


def policy_path_warning(config, policy, policy_path):
    """A warning when a policy is given but the config does not name its file: headscale then never reads it."""
    if policy is not None and config is not None and policy_path not in config:
        return ('the config does not name %s (policy.path): headscale reads no policy file it is not told about, and allows '
                'all traffic without one' % policy_path)
    return None


def parse_environment(text):
    """{name: value} of an EnvironmentFile: NAME="value" (as the role writes it, with \\ and \" escaped),
    NAME='value' or NAME=value lines; blank lines and comments (# or ;) are skipped."""
    environment = {}
    for line in (text or '').splitlines():
        match = ENVIRONMENT_LINE.match(line.strip())
        if not match:
            continue
        name, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        elif len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        environment[name] = value
    return environment


def secret_scrubber(environment):
    """A function that replaces the values of environment (longest first) and anything that looks like a pre-auth key."""
    secrets = sorted(set(value for value in environment.values() if value), key=len, reverse=True)
    return lambda text: scrub_keys(scrub_secrets(text, secrets))


def file_diff(path, before, after, after_header=None):
    return dict(before_header=path, after_header=after_header or path, before=before or '', after=after or '')


# -- the host ----------------------------------------------------------------------------------

class HeadscaleServer(object):
    """headscale on its host: its two files, its checkers and its unit."""

    def __init__(self, module):
        params = module.params
        self.module = module
        self.unit = params['unit']
        self.config_path = params['config_path']
        self.policy_path = params['policy_path']
        self.config = params['config']
        self.policy = policy_text(params['policy'])
        self.timeout = params['timeout']
        # The unit's environment (secrets) for configtest; a file not there yet is an empty one, as for systemd's EnvironmentFile=-.
        self.environment = parse_environment(read_text_or_none(params['environment_file'])) if params['environment_file'] else {}
        self.service = SystemdService(module, self.unit, scrub=secret_scrubber(self.environment))
        self.executable = params['executable']
        if not self.executable and params['state'] == 'present':
            # Check mode runs no headscale command: an earlier task may not have installed it yet.
            self.executable = module.get_bin_path(EXECUTABLE, required=not module.check_mode)
        self.last_error = None

    def fail(self, msg, **kwargs):
        self.service.fail(msg, **kwargs)

    # -- reading -----------------------------------------------------------------------------------

    def ready(self):
        """Whether the server answers on its unix socket: `users list` exits 0 (its output is not read)."""
        rc, _stdout, stderr = self.service.run(list_users_argv(self.executable, self.config_path))
        self.last_error = None if rc == 0 else (cli_error(stderr) or 'rc %d, no error output' % rc)
        return rc == 0

    def status(self):
        """Why the server is not up, for a message: the unit's state or what the CLI said."""
        state = self.service.active_state()
        if state != 'active':
            return 'the unit is %s; journalctl -u %s tells why' % (state, self.unit)
        if self.last_error:
            return 'its unix socket (%s by default) does not answer: %s' % (UNIX_SOCKET, self.last_error)
        return 'it does not answer on its unix socket'

    def policy_checker(self):
        rc, stdout, _stderr = self.service.run([self.executable, 'policy', 'check', '--help'])
        return policy_checker(stdout) if rc == 0 else None

    # -- checking ----------------------------------------------------------------------------------

    def policy_problem(self, running):
        """(what `policy check` says against the new policy or None, whether it checked it at all)."""
        kind = self.policy_checker()
        if kind is None:
            self.module.warn('this headscale has no `policy check` (headscale 0.26 and later have it); configtest and the '
                             'restart check the policy instead')
            return None, False
        if kind == 'server' and not running:
            # 0.29 asks the running server; none runs, and configtest reads the new file once it is in place.
            return None, False
        unchecked = []

        def check(path):
            rc, _stdout, stderr = self.service.run(policy_check_argv(self.executable, kind, path, self.config_path))
            if rc == 0:
                return None
            error = checker_error(stderr) or 'rc %d, no error output' % rc
            if kind == 'server' and not_connected(error):
                unchecked.append(error)
                return None
            return error

        problem = self.service.check_text(os.path.basename(self.policy_path), self.policy, check)
        return problem, not unchecked

    def config_problem(self, path):
        """What configtest says against the config at path (with the policy file in place), None when it passes."""
        rc, _stdout, stderr = self.service.run(configtest_argv(self.executable, path), environ=self.environment)
        if rc == 0:
            return None
        # With log.format json, 0.26-0.28 log their fatal error to stdout, which is never quoted.
        return checker_error(stderr) or 'rc %d, no error output on stderr (run headscale configtest on the host to see why)' % rc

    # -- changing ----------------------------------------------------------------------------------

    def put(self, path, text):
        """Write text to path (None: remove it), in a directory the daemon can enter."""
        directory = os.path.dirname(path)
        if text is not None and directory and not os.path.isdir(directory):
            # SystemdService would create it 0700 (a key directory); the daemon reads these files as another user.
            try:
                os.makedirs(directory, DIRECTORY_MODE)
                os.chmod(directory, DIRECTORY_MODE)
            except OSError as exc:
                self.fail('cannot create %s: %s' % (directory, to_native(exc.strerror or exc)))
        self.service.put_file(path, text, mode=FILE_MODE)

    def put_files(self, config_changed, policy_changed, running):
        """Check the new files and put them in place, in an order in which a refused file never replaces a working one:

        1. `policy check` on a copy of the new policy, before anything is written;
        2. the policy file goes in place (or goes): the running daemon reads it only at start or on SIGHUP;
        3. configtest on a copy of the new config: after 2, because it reads the policy file the config names,
           so the pair is checked as the daemon will start on it (this also checks a policy that 1 could not: 0.29
           without a running server, no `policy check`, a removed file the config still names). When it refuses,
           the previous policy file goes back;
        4. the config goes in place.
        Returns file_states of the changed files before the run, for the rollback.
        """
        paths = [path for path, changed in ((self.policy_path, policy_changed), (self.config_path, config_changed)) if changed]
        previous = self.service.file_states(paths)
        policy_checked = False
        if policy_changed and self.policy is not None:
            problem, policy_checked = self.policy_problem(running)
            if problem:
                self.fail('headscale policy check refuses the new %s; nothing was changed: %s' % (self.policy_path, problem))
        if policy_changed:
            self.put(self.policy_path, self.policy)
        if needs_config_check(config_changed, policy_changed, policy_checked):
            problem = self.service.check_text(os.path.basename(self.config_path), self.config, self.config_problem)
            if problem:
                self.service.restore_files(dict((path, text) for path, text in previous.items() if path == self.policy_path), self.modes())
                self.fail('headscale configtest refuses %s%s; nothing was changed: %s' % (
                    'the new %s' % self.config_path if config_changed else self.config_path, self.policy_change_text(policy_changed), problem))
        if config_changed:
            self.put(self.config_path, self.config)
        return previous

    def policy_change_text(self, policy_changed):
        if not policy_changed:
            return ''
        if self.policy is None:
            return ' without %s' % self.policy_path
        return ' with the new %s' % self.policy_path

    def modes(self):
        return {self.config_path: FILE_MODE, self.policy_path: FILE_MODE}

    def restart_with_rollback(self, previous):
        self.service.restart_or_restore(previous, self.ready, timeout=self.timeout, modes=self.modes(), status=self.status)

    def reload(self, previous):
        """SIGHUP: headscale reads its policy file again. A failed reload puts the previous policy back, so that the
        file matches what the daemon still runs on."""
        rc, _stdout, stderr = self.service.run([self.service.systemctl, 'reload', self.unit])
        if rc != 0:
            self.service.restore_files(previous, self.modes())
            self.fail('systemctl reload %s failed (rc %d): %s; the previous %s is back' % (
                self.unit, rc, self.service.clean(stderr) or '(no error output)', self.policy_path))
        if not self.service.wait_until(lambda: self.service.is_active() and self.ready(), self.timeout):
            self.fail('%s does not answer after the reload for the new %s: %s' % (self.unit, self.policy_path, self.status()))

    def restart(self):
        if not self.service.restarted_and_ready(self.ready, self.timeout):
            self.fail('%s did not start with %s: %s' % (self.unit, self.config_path, self.status()))


# -- the runs ----------------------------------------------------------------------------------

def run_present(server):
    module = server.module
    params = module.params
    current_config = read_text_or_none(server.config_path)
    current_policy = read_text_or_none(server.policy_path)
    config_changed = current_config != server.config
    policy_changed = current_policy != server.policy
    running = server.service.is_active()
    action = plan_present(config_changed, policy_changed, params['restart'], running)
    warning = policy_path_warning(server.config, server.policy, server.policy_path)
    if warning:
        module.warn(warning)
    diffs = []
    if config_changed:
        diffs.append(file_diff(server.config_path, current_config, server.config))
    if policy_changed:
        diffs.append(file_diff(server.policy_path, current_policy, server.policy,
                               None if server.policy is not None else '%s (absent)' % server.policy_path))

    if action != 'none' and not module.check_mode:
        previous = server.put_files(config_changed, policy_changed, running)
        if action == 'replace':
            server.restart_with_rollback(previous)
        elif action == 'reload':
            server.reload(previous)
        else:
            server.restart()
    enabled_changed = server.service.ensure_enabled(params['enabled'])
    result = dict(changed=action != 'none' or enabled_changed, action=action)
    if module._diff and diffs:
        result['diff'] = diffs
    return result


def run_absent(server):
    """Stop and disable the unit; remove the config, the policy file and remove_paths."""
    module = server.module
    state = server.service.active_state()
    enabled = server.service.is_enabled()
    paths = existing_paths([server.config_path, server.policy_path] + module.params['remove_paths'])
    changed = needs_stop(state) or enabled or bool(paths)
    result = dict(changed=changed, action='remove' if changed else 'none')
    diffs = [removal_diff(path) for path in (server.config_path, server.policy_path) if path in paths]
    if module._diff and diffs:
        result['diff'] = diffs
    if module.check_mode or not changed:
        return result
    server.service.remove(needs_stop(state), enabled, paths)
    return result


def write_files(module, files, directories=()):
    """Puts the files and directories that differ in place (not in check mode); their paths and diff."""
    plan = plan_files(files, directories)
    if not module.check_mode:
        try:
            write_planned_files(plan, DIRECTORY_MODE)
        except FileWriteError as exc:
            module.fail_json(msg=to_native(exc))
    return [entry['path'] for entry in plan['directories'] + plan['files']], plan['diff']


def keep_users(module, result):
    """The users of the users option, kept on the server that runs now; their changes added to result."""
    users = run_users(module)
    result.update(changed=result['changed'] or users['changed'], users=users['users'], created_users=users['created'],
                  removed_users=users['removed'])
    if 'diff' in users:
        result['diff'] = result.get('diff', []) + [users['diff']]


def run_module(module):
    params = module.params
    problems = input_problems(params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    server = HeadscaleServer(module)
    changed_paths, file_diffs = write_files(module, params['files'], params['directories']) if params['state'] == 'present' else ([], [])
    if params['daemon_reload']:
        server.service.daemon_reload()
    if params['state'] == 'absent':
        return run_absent(server)
    result = run_present(server)
    result.update(changed=result['changed'] or bool(changed_paths), changed_paths=changed_paths)
    if module._diff and file_diffs:
        result['diff'] = file_diffs + result.get('diff', [])
    if params['users'] is not None:
        keep_users(module, result)
    if params['record'] is not None:
        # Last: a run that failed before (a refused config, a server that did not come up) left it as it was.
        record_paths, record_diffs = write_files(module, [dict(path=params['record_path'], content=params['record'])])
        result.update(changed=result['changed'] or bool(record_paths), changed_paths=changed_paths + record_paths)
        if module._diff and record_diffs:
            result['diff'] = result.get('diff', []) + record_diffs
    return result
