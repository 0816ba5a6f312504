# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import (
    SystemdService,
    existing_paths,
    fingerprint,
    is_fingerprint,
    needs_stop,
    removal_diff,
)


class Failed(Exception):
    pass


class FakeModule(object):
    """Records commands; answers systemctl from a small state."""

    def __init__(self, check_mode=False, active=True, enabled='enabled', failing=()):
        self.check_mode = check_mode
        self.commands = []
        self.active = active
        self.enabled = enabled
        self.failing = failing

    def get_bin_path(self, name, required=False):
        return '/usr/bin/' + name

    def run_command(self, args, data=None, binary_data=False):
        self.commands.append(' '.join(args))
        verb = args[1] if len(args) > 1 else ''
        if verb in self.failing:
            return 1, '', 'Job for unit failed: key QUtesecret=\n'
        if verb == 'is-active':
            return (0 if self.active else 3), '', ''
        if verb == 'is-enabled':
            return 0, self.enabled + '\n', ''
        return 0, '', ''

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)


def test_fingerprint_is_canonical_and_recognised():
    assert fingerprint({'b': [1, 2], 'a': 'x'}) == fingerprint({'a': 'x', 'b': [1, 2]})
    assert fingerprint({'a': 1}) != fingerprint({'a': 2})
    assert is_fingerprint(fingerprint({})) and not is_fingerprint('not-a-fingerprint')


def test_enable_only_when_it_differs_and_never_in_check_mode():
    module = FakeModule(enabled='disabled')
    assert SystemdService(module, 'x.service').ensure_enabled(True)
    assert 'systemctl enable x.service' in module.commands[-1]
    module = FakeModule(enabled='enabled')
    assert not SystemdService(module, 'x.service').ensure_enabled(True)
    assert not SystemdService(module, 'x.service').ensure_enabled(None)
    module = FakeModule(check_mode=True, enabled='disabled')
    assert SystemdService(module, 'x.service').ensure_enabled(True)
    assert not any('enable x' in command for command in module.commands if 'is-enabled' not in command)


def test_daemon_reload_is_skipped_in_check_mode():
    module = FakeModule(check_mode=True)
    SystemdService(module, 'x.service').daemon_reload()
    assert module.commands == []


def test_failure_messages_are_scrubbed():
    module = FakeModule(failing=('restart',))
    service = SystemdService(module, 'x.service', scrub=lambda text: text.replace('QUtesecret=', '(secret)'))
    with pytest.raises(Failed) as failure:
        service.systemctl_or_fail('restart')
    assert 'QUtesecret' not in str(failure.value) and '(secret)' in str(failure.value)


def test_sync_file_writes_only_a_checked_changed_text(tmp_path):
    path = str(tmp_path / 'etc' / 'daemon.conf')
    service = SystemdService(FakeModule(), 'x.service')
    seen = []

    def checker(candidate):
        seen.append((os.path.basename(candidate), open(candidate).read()))
        return None

    diff = service.sync_file(path, 'a = 1\n', check=checker)
    assert diff['before'] == '' and diff['after'] == 'a = 1\n'
    assert seen == [('daemon.conf', 'a = 1\n')]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert service.sync_file(path, 'a = 1\n', check=checker) is None
    assert len(seen) == 1, 'an unchanged text is not checked again'


def test_a_refused_text_never_replaces_the_file_in_place(tmp_path):
    path = tmp_path / 'daemon.conf'
    path.write_text('good = 1\n')
    service = SystemdService(FakeModule(), 'x.service')
    with pytest.raises(Failed, match='refused by its checker.*line 1: bad'):
        service.sync_file(str(path), 'bad\n', check=lambda candidate: 'line 1: bad')
    assert path.read_text() == 'good = 1\n'


def test_check_mode_previews_without_writing(tmp_path):
    path = tmp_path / 'daemon.conf'
    diff = SystemdService(FakeModule(check_mode=True), 'x.service').sync_file(str(path), 'a = 1\n')
    assert diff['after'] == 'a = 1\n' and not path.exists()


def test_fingerprint_round_trip_and_garbage(tmp_path):
    path = tmp_path / 'state' / 'wg0.applied'
    service = SystemdService(FakeModule(), 'x.service', fingerprint_path=str(path))
    assert service.read_fingerprint() is None
    service.write_fingerprint(fingerprint({'a': 1}))
    assert service.read_fingerprint() == fingerprint({'a': 1})
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    path.write_text('garbage\n')
    assert service.read_fingerprint() is None


def test_wait_until_is_bounded():
    service = SystemdService(FakeModule(), 'x.service')
    calls = []
    assert not service.wait_until(lambda: calls.append(1), timeout=0.3)
    assert 1 <= len(calls) <= 4
    assert service.wait_until(lambda: True)


def test_remove_file_tolerates_a_missing_file(tmp_path):
    service = SystemdService(FakeModule(), 'x.service')
    path = tmp_path / 'gone'
    service.remove_file(str(path))
    path.write_text('x')
    service.remove_file(str(path))
    assert not path.exists()


def test_needs_stop_for_every_state_but_a_stopped_one():
    assert needs_stop('active') and needs_stop('activating') and needs_stop('reloading') and needs_stop('deactivating')
    assert not needs_stop('inactive') and not needs_stop('failed') and not needs_stop('unknown')


def test_existing_paths_keep_their_order_once_with_dangling_links(tmp_path):
    (tmp_path / 'config').write_text('x')
    (tmp_path / 'dir').mkdir()
    os.symlink(str(tmp_path / 'nowhere'), str(tmp_path / 'dangling'))
    paths = [str(tmp_path / name) for name in ('dir', 'missing', 'config', 'dangling', 'dir')]
    assert existing_paths(paths) == [str(tmp_path / name) for name in ('dir', 'config', 'dangling')]


def test_removal_diff_shows_the_text_before_and_nothing_after(tmp_path):
    path = tmp_path / 'x.conf'
    path.write_text('port 1194\n')
    assert removal_diff(str(path)) == dict(before_header=str(path), after_header='%s (absent)' % path, before='port 1194\n', after='')
    assert removal_diff(str(tmp_path / 'gone'))['before'] == ''


def test_remove_stops_and_disables_only_what_needs_it_then_removes_the_paths(tmp_path):
    (tmp_path / 'x.conf').write_text('x')
    (tmp_path / 'state').mkdir()
    (tmp_path / 'state' / 'db').write_text('x')
    module = FakeModule()
    SystemdService(module, 'x.service').remove(True, True, [str(tmp_path / 'x.conf'), str(tmp_path / 'state')])
    assert module.commands == ['/usr/bin/systemctl stop x.service', '/usr/bin/systemctl disable x.service']
    assert os.listdir(str(tmp_path)) == []
    module = FakeModule()
    SystemdService(module, 'x.service').remove(False, False, [])
    assert module.commands == []


class RestartingModule(FakeModule):
    """A unit that starts only when the config file holds a text the daemon accepts."""

    def __init__(self, config_path, good_texts, check_mode=False):
        super(RestartingModule, self).__init__(check_mode=check_mode)
        self.config_path = config_path
        self.good_texts = good_texts

    def run_command(self, args, data=None, binary_data=False):
        verb = args[1] if len(args) > 1 else ''
        if verb == 'restart':
            with open(self.config_path) as handle:
                self.active = handle.read() in self.good_texts
            self.commands.append(' '.join(args))
            return (0 if self.active else 1), '', ''
        if verb == 'stop':
            self.active = False
        return super(RestartingModule, self).run_command(args, data, binary_data)


def test_restart_or_roll_back_keeps_a_config_the_daemon_accepts(tmp_path):
    path = str(tmp_path / 'server.conf')
    with open(path, 'w') as handle:
        handle.write('old\n')
    module = RestartingModule(path, good_texts=('old\n', 'new\n'))
    diff = SystemdService(module, 'x.service').restart_or_roll_back(path, 'new\n', ready=lambda: True, timeout=1)
    assert diff['before'] == 'old\n' and diff['after'] == 'new\n'
    assert open(path).read() == 'new\n'
    assert [command for command in module.commands if 'restart' in command] == ['/usr/bin/systemctl restart x.service']


def test_restart_or_roll_back_puts_the_working_config_back(tmp_path):
    path = str(tmp_path / 'server.conf')
    with open(path, 'w') as handle:
        handle.write('old\n')
    module = RestartingModule(path, good_texts=('old\n',))
    with pytest.raises(Failed) as failure:
        SystemdService(module, 'x.service').restart_or_roll_back(path, 'refused at start\n', ready=lambda: True, timeout=0.5)
    assert 'previous file is back and serves again' in str(failure.value)
    assert open(path).read() == 'old\n' and module.active
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_restart_or_roll_back_waits_for_readiness_not_only_for_the_unit(tmp_path):
    path = str(tmp_path / 'server.conf')
    with open(path, 'w') as handle:
        handle.write('old\n')
    module = RestartingModule(path, good_texts=('old\n', 'new\n'))
    readiness = {'new\n': False, 'old\n': True}
    with pytest.raises(Failed):
        SystemdService(module, 'x.service').restart_or_roll_back(
            path, 'new\n', ready=lambda: readiness[open(path).read()], timeout=0.5)
    assert open(path).read() == 'old\n'


def test_restart_or_roll_back_removes_a_first_config_that_fails(tmp_path):
    path = str(tmp_path / 'server.conf')
    module = RestartingModule(path, good_texts=())
    with pytest.raises(Failed) as failure:
        SystemdService(module, 'x.service').restart_or_roll_back(path, 'bad\n', ready=lambda: True, timeout=0.5)
    assert 'file was removed and the unit stopped' in str(failure.value)
    assert not os.path.exists(path) and '/usr/bin/systemctl stop x.service' in module.commands


def test_restart_or_roll_back_does_nothing_when_in_place_or_in_check_mode(tmp_path):
    path = str(tmp_path / 'server.conf')
    with open(path, 'w') as handle:
        handle.write('same\n')
    module = RestartingModule(path, good_texts=('same\n',))
    assert SystemdService(module, 'x.service').restart_or_roll_back(path, 'same\n', ready=lambda: True) is None
    module = RestartingModule(path, good_texts=('same\n',), check_mode=True)
    diff = SystemdService(module, 'x.service').restart_or_roll_back(path, 'other\n', ready=lambda: True)
    assert diff['after'] == 'other\n' and open(path).read() == 'same\n'
    assert not any('restart' in command for command in module.commands)
