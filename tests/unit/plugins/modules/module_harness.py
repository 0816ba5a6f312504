# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a module's main() in-process (its arguments in, its result out as an exception), and the
fakes that modules and the module_utils driving a host run against: the commands of a host, its
clock and its systemd unit."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


def exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise ExitJson(kwargs)


def fail_json(self, msg, **kwargs):
    kwargs['msg'] = msg
    raise FailJson(kwargs)


def patch_exits(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


@contextlib.contextmanager
def module_args(args):
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core before 2.19
        patch_module_args = None
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    previous = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = previous


def call_main(main, args, check_mode=False, diff=False, fail=False):
    """The result main() exits with, run with args (in check mode, in diff mode); with fail=True
    the result it fails with. Exiting the other way fails the test."""
    full = dict(args)
    if check_mode:
        full['_ansible_check_mode'] = True
    if diff:
        full['_ansible_diff'] = True
    with module_args(full):
        with pytest.raises(FailJson if fail else ExitJson) as excinfo:
            main()
    return excinfo.value.args[0]


def install_fake_commands(monkeypatch, fake, paths, exits=True):
    """Let main() drive fake instead of the host, and return fake: run_command is answered by
    fake.run(argv), get_bin_path by paths ({command: its path, None where it is not installed}),
    and the module's warnings are collected in fake.warnings. With exits=False the module's own
    exit_json and fail_json print and exit, as Ansible receives them."""
    if exits:
        patch_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, args, **kwargs: fake.run(args))

    def get_bin_path(self, name, required=False, opt_dirs=None):
        path = paths[name]
        if path is None and required:
            self.fail_json(msg='Failed to find required executable "%s"' % name)
        return path

    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    fake.warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: fake.warnings.append(warning))
    return fake


class FakeClock(object):
    """time as the code under test sees it: sleep() only moves the clock, so waits take no real time."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


class FakeUnitHost(FakeClock):
    """A host with one systemd unit, the base of the fake hosts of the apply steps. It is also the
    clock of the service's bounded waits. A subclass keeps the unit's active_state, stops it in
    stop() and answers the verbs that are its own (restart, reload, show)."""

    def __init__(self):
        super(FakeUnitHost, self).__init__()
        self.enabled = False

    def common_systemctl(self, verb):
        """(rc, stdout, stderr) of a systemctl verb that every unit answers alike; None for any other verb."""
        if verb == 'is-active':
            return (0 if self.active_state == 'active' else 3), self.active_state + '\n', ''
        if verb == 'is-enabled':
            return (0, 'enabled\n', '') if self.enabled else (1, 'disabled\n', '')
        if verb in ('enable', 'disable'):
            self.enabled = verb == 'enable'
            return 0, '', ''
        if verb == 'stop':
            self.stop()
            return 0, '', ''
        return None


class Failed(Exception):
    """What FakeModule.fail_json raises: the message and the other values of the failure."""

    def __init__(self, msg, result=None):
        super(Failed, self).__init__(msg)
        self.msg = msg
        self.result = result or {}


class FakeModule(object):
    """The AnsibleModule surface an apply step uses, with params as given; its commands are answered by
    host.run(argv, environ_update)."""

    def __init__(self, host, params, check_mode=False, diff=False):
        self.host = host
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/bin/' + name

    def run_command(self, args, data=None, binary_data=False, environ_update=None):
        return self.host.run(args, environ_update)

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, msg, **kwargs):
        raise Failed(msg, kwargs)
