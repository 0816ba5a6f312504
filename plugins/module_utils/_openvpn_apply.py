# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The apply step of overlaynet.vpn.openvpn_instance: one OpenVPN server instance or client
# connection, run by Debian's units openvpn-server@NAME / openvpn-client@NAME (Type=notify). The
# unit is driven through the shared SystemdService; what is OpenVPN's own is here: its option
# parser as the config checker, when its tunnel counts as up, and a client restart that never
# waits for the server. The decisions are the pure functions at the top.
#
# What openvpn 2.6 does (seen with 2.6.14 on Debian 12, and in its init.c):
# - `openvpn --config FILE --show-curves` parses every option, refuses an unknown option or a bad
#   argument with rc 1 and "Options error: ..." on stdout (`topology bogus`: "--topology must be
#   net30, p2p, or subnet"), and for a valid file lists curves and exits 0 without starting
#   anything. It opens no key file and skips the checks across options (`tls-server` next to
#   `tls-client`, a missing `dh`); the daemon makes those at start, hence the rollback.
# - The daemon sends READY=1 ("Pre-connection initialization successful") after those checks but
#   before it loads its keys, opens its tun device or contacts a server, and reports
#   STATUS=Initialization Sequence Completed once its tunnel is up: a server on its own, a client
#   once it has reached its server. So an active unit proves little: a key the daemon cannot load
#   makes it exit just after the unit became active, and a client whose server is down stays
#   active while it keeps trying. The tunnel is up when the unit is active, that status is set
#   and the device (when given) exists.

import os
import re


from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import interface_name_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_inventory import CLIENT_UNIT, NAME_PATTERN, SERVER_UNIT
from ansible_collections.overlaynet.vpn.plugins.module_utils._secrets import SECRET_PLACEHOLDER
from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import WAIT_TIMEOUT_SECONDS, SystemdService, existing_paths, removal_diff
from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import needs_stop as state_needs_stop
from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import read_text_or_none

UNITS = {'server': SERVER_UNIT + '.service', 'client': CLIENT_UNIT + '.service'}
TUNNEL_UP_STATUS = 'Initialization Sequence Completed'
UNIT_PROPERTIES = ('ActiveState', 'SubState', 'Result', 'Job', 'StatusText')
# A PEM block (a key, a certificate, an inline <key> of a profile), also when the output was cut
# before its END line: nothing of it may reach a message or a diff.
PEM_BLOCK = re.compile(r'-----BEGIN ([^\r\n-]+)-----.*?(?:-----END \1-----|\Z)', re.DOTALL)
LOG_LINES = 10


# -- decisions ---------------------------------------------------------------------------------

def name_problems(name, device):
    """Why name or device cannot be used, every problem at once."""
    problems = []
    if not NAME_PATTERN.match(name):
        problems.append('name: %r must be 1 to 15 lower-case letters, digits, "-" or "_", starting with a letter or digit' % name)
    if device is not None:
        problem = interface_name_problem(device)
        if problem:
            problems.append('device: %s' % problem)
    return problems


def missing_files(paths, exists=os.path.exists):
    """The paths that do not exist, in the order given."""
    return [path for path in paths if not exists(path)]


def plan_present(current_text, desired_text, restart, running):
    """What state=present does: 'replace' (a new text, restarted with rollback), 'restart' (the
    same text, restarted because asked to or because the unit does not run) or 'none'."""
    if current_text != desired_text:
        return 'replace'
    if restart or not running:
        return 'restart'
    return 'none'


def parse_properties(text):
    """{name: value} of `systemctl show` output; a property systemd leaves empty is missing."""
    properties = {}
    for line in text.splitlines():
        name, sep, value = line.partition('=')
        if sep and value:
            properties[name] = value
    return properties


def is_running(properties):
    """Whether the unit counts as active, as `systemctl is-active` says it."""
    return properties.get('ActiveState') in ('active', 'reloading')


def needs_stop(properties):
    """Whether a stop is needed: the unit runs, is starting, or waits to be started again."""
    return state_needs_stop(properties.get('ActiveState', 'inactive'))


def unit_phase(properties):
    """Where the unit is after a restart: 'starting' (its job is queued or running, or it is
    between states), 'running' (active, no job) or 'stopped' (its daemon has exited: failed,
    inactive, or waiting for systemd's Restart=)."""
    if properties.get('Job'):
        return 'starting'
    if properties.get('SubState') == 'auto-restart' or properties.get('ActiveState', 'inactive') in ('inactive', 'failed'):
        return 'stopped'
    if is_running(properties):
        return 'running'
    return 'starting'


def tunnel_problem(properties, link_exists, device=None):
    """Why the daemon's tunnel is not up, None when it is: the unit is active, the daemon reported
    that its initialisation completed, and its device exists (link_exists None: no device to check)."""
    if not is_running(properties):
        return 'the unit is %s' % properties.get('ActiveState', 'unknown')
    if properties.get('StatusText') != TUNNEL_UP_STATUS:
        return 'status "%s"' % properties.get('StatusText', '')
    if link_exists is False:
        return 'device %s does not exist' % device
    return None


def parser_problem(output):
    """The lines of openvpn's own error from its output (all of it when none is marked)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if 'error' in line.lower()]
    return '; '.join(errors or lines)


def status_summary(properties, log_text):
    """The unit's state, the daemon's last status and its last log lines, for a failure message."""
    summary = '%s (%s, result %s)' % (properties.get('ActiveState', 'unknown'), properties.get('SubState', 'unknown'),
                                      properties.get('Result', 'unknown'))
    if properties.get('StatusText'):
        summary += ', status "%s"' % properties['StatusText']
    lines = [line.strip() for line in (log_text or '').splitlines() if line.strip()]
    if lines:
        summary += '; last log lines: %s' % ' | '.join(lines[-LOG_LINES:])
    return summary


def scrub_key_material(text):
    """text without any PEM block."""
    return PEM_BLOCK.sub(SECRET_PLACEHOLDER, text or '')


def scrubbed_diff(diff):
    if diff is None:
        return None
    return dict(diff, before=scrub_key_material(diff['before']), after=scrub_key_material(diff['after']))


# -- the host ----------------------------------------------------------------------------------

class OpenVPNInstance(object):
    """One instance or connection and its unit; every message it builds is scrubbed of key material."""

    def __init__(self, module):
        params = module.params
        self.module = module
        self.name = params['name']
        self.kind = params['kind']
        self.unit = UNITS[self.kind] % self.name
        self.config_path = params['config_path']
        self.device = params['device']
        self.service = SystemdService(module, self.unit, scrub=scrub_key_material)
        self.ip = module.get_bin_path('ip', required=True) if self.device else None

    def fail(self, msg, **kwargs):
        self.service.fail(msg, unit=self.unit, **kwargs)

    # -- reading -----------------------------------------------------------------------------------

    def properties(self):
        args = [self.service.systemctl, 'show'] + ['--property=%s' % name for name in UNIT_PROPERTIES] + [self.unit]
        rc, stdout, _stderr = self.service.run(args)
        return parse_properties(stdout) if rc == 0 else {}

    def link_exists(self):
        """Whether the device exists; None without a device to check."""
        if not self.device:
            return None
        return self.service.run([self.ip, 'link', 'show', 'dev', self.device])[0] == 0

    def tunnel_problem(self, properties=None):
        return tunnel_problem(properties if properties is not None else self.properties(), self.link_exists(), self.device)

    def tunnel_up(self):
        return self.tunnel_problem() is None

    def status(self):
        journalctl = self.module.get_bin_path('journalctl')
        log_text = None
        if journalctl:
            log_text = self.service.run([journalctl, '--unit', self.unit, '--lines', str(LOG_LINES), '--output', 'cat', '--no-pager'])[1]
        return self.service.clean(status_summary(self.properties(), log_text))

    def config_problem(self, path):
        """What openvpn's own parser says against a candidate file, None when it accepts it."""
        openvpn = self.module.get_bin_path('openvpn', required=True)
        rc, stdout, stderr = self.service.run([openvpn, '--config', path, '--show-curves'])
        if rc == 0:
            return None
        return 'openvpn refuses the configuration of %s: %s' % (self.unit, parser_problem('%s\n%s' % (stdout, stderr)) or 'rc %d' % rc)

    # -- changing ----------------------------------------------------------------------------------

    def restart(self, ready, timeout=WAIT_TIMEOUT_SECONDS):
        """Restart the unit and wait: True when ready() holds, False when the daemon refused to start,
        None (clients only) when it runs but has not reached its server within timeout."""
        if self.kind == 'client':
            return self.restart_without_blocking(ready, timeout)
        return self.service.restarted_and_ready(ready, timeout)

    def restart_without_blocking(self, ready, timeout):
        # A start that waits (a passphrase asked through systemd before READY=1, an openvpn older
        # than 2.5 that only sent READY=1 once connected) would hold a blocking restart for the
        # unit's start timeout. The queued job shows in the Job property from the moment
        # `--no-block restart` returns, so the old process's state is never taken for the new one's.
        if self.service.run([self.service.systemctl, '--no-block', 'restart', self.unit])[0] != 0:
            return False
        phases = []

        def settled():
            phases.append(unit_phase(self.properties()))
            return phases[-1] == 'stopped' or (phases[-1] == 'running' and ready())

        if self.service.wait_until(settled, timeout):
            return phases[-1] == 'running'
        return None


# -- the runs ----------------------------------------------------------------------------------

def run_present(instance):
    module = instance.module
    params = module.params
    missing = missing_files(params['required_files'])
    if missing:
        if not module.check_mode:
            instance.fail('%s needs %s, which %s missing; %s is unchanged'
                          % (instance.unit, ', '.join(missing), 'is' if len(missing) == 1 else 'are', instance.config_path))
        # A file that an earlier task writes (a key, a certificate) does not exist yet in check mode.
        module.warn('%s: %s missing; a run outside check mode fails unless an earlier task creates %s'
                    % (instance.unit, ', '.join(missing), 'it' if len(missing) == 1 else 'them'))

    properties = instance.properties()
    action = plan_present(read_text_or_none(instance.config_path), params['config'], params['restart'], is_running(properties))
    diff = None
    if action == 'replace':
        diff = instance.service.restart_or_roll_back(instance.config_path, params['config'], instance.tunnel_up,
                                                     check=instance.config_problem, restart=instance.restart)
    elif action == 'restart' and not module.check_mode:
        if instance.restart(instance.tunnel_up) is False:
            instance.fail('%s did not start with %s: %s' % (instance.unit, instance.config_path, instance.status()))
    enabled_changed = instance.service.ensure_enabled(params['enabled'])

    if action != 'none' and not module.check_mode:
        properties = instance.properties()
    problem = instance.tunnel_problem(properties)
    if problem and (action == 'none' or not module.check_mode):
        if instance.kind == 'client':
            module.warn('%s has not reached its server yet (%s)' % (instance.unit, problem))
        else:
            module.warn('%s runs, but its tunnel is not up (%s)' % (instance.unit, problem))
    result = dict(changed=action != 'none' or enabled_changed, restarted=action != 'none', connected=problem is None, unit=instance.unit)
    if module._diff and diff is not None:
        result['diff'] = scrubbed_diff(diff)
    return result


def run_absent(instance):
    """Stop and disable the unit, remove the config and remove_paths."""
    module = instance.module
    properties = instance.properties()
    enabled = instance.service.is_enabled()
    paths = existing_paths([instance.config_path] + module.params['remove_paths'])
    changed = needs_stop(properties) or enabled or bool(paths)
    result = dict(changed=changed, restarted=False, connected=False, unit=instance.unit)
    if module._diff and instance.config_path in paths:
        result['diff'] = scrubbed_diff(removal_diff(instance.config_path))
    if module.check_mode or not changed:
        return result
    instance.service.remove(needs_stop(properties), enabled, paths)
    return result


def run_module(module):
    problems = name_problems(module.params['name'], module.params['device'])
    if problems:
        module.fail_json(msg='; '.join(problems))
    instance = OpenVPNInstance(module)
    if module.params['state'] == 'absent':
        return run_absent(instance)
    return run_present(instance)
