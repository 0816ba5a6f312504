# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.binaries' module: the files the action plugin sent (here written by the test into
# a "temporary directory"), put in place where the host's differ.

import grp
import hashlib
import os
import pwd
import stat

import pytest

from ansible_collections.overlaynet.vpn.plugins.modules import binaries
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, install_fake_commands, patch_exits

OLD = b'\x7fELF old build' * 1000
NEW = b'\x7fELF new build' * 1000


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch)


def sent(tmp_path, name, content):
    """A file as the action plugin leaves it in the task's temporary directory."""
    directory = tmp_path / 'ansible-tmp'
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    return str(path)


def entry(src, dest, content):
    return dict(src=src, dest=str(dest), sha256=hashlib.sha256(content).hexdigest())


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_installs_missing_binaries_executable_with_their_directories(tmp_path):
    cli, daemon = tmp_path / 'bin' / 'tailscale', tmp_path / 'sbin' / 'tailscaled'
    result = call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', OLD), cli, OLD),
                                                        entry(sent(tmp_path, 'binary-1', NEW), daemon, NEW)]))
    assert result['changed'] and result['changed_executables'] == [str(cli), str(daemon)]
    assert cli.read_bytes() == OLD and daemon.read_bytes() == NEW
    assert mode_of(cli) == 0o755 and mode_of(daemon) == 0o755
    # Nothing is left beside them.
    assert sorted(os.listdir(str(tmp_path / 'sbin'))) == ['tailscaled']


def test_a_binary_that_is_the_same_is_left_alone(tmp_path):
    dest = tmp_path / 'tailscaled'
    call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', OLD), dest, OLD)]))
    inode = os.stat(str(dest)).st_ino
    result = call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', OLD), dest, OLD)]))
    assert not result['changed'] and result['changed_executables'] == [] and os.stat(str(dest)).st_ino == inode


def test_a_new_build_replaces_the_old_file_in_one_rename(tmp_path):
    dest = tmp_path / 'tailscaled'
    call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', OLD), dest, OLD)]))
    # A program still running from the old file keeps reading it.
    running = open(str(dest), 'rb')
    result = call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', NEW), dest, NEW)]))
    assert result['changed_executables'] == [str(dest)] and dest.read_bytes() == NEW
    assert running.read() == OLD
    running.close()


def test_a_wrong_mode_alone_is_a_change(tmp_path):
    dest = tmp_path / 'tailscaled'
    call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', OLD), dest, OLD)]))
    os.chmod(str(dest), 0o700)
    result = call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', OLD), dest, OLD)]))
    assert result['changed_executables'] == [str(dest)] and mode_of(dest) == 0o755


def test_check_mode_sends_nothing_and_reports_what_differs(tmp_path):
    same, other = tmp_path / 'same', tmp_path / 'other'
    same.write_bytes(OLD)
    os.chmod(str(same), 0o755)
    result = call_main(binaries.main, dict(executables=[dict(entry(None, same, OLD), src=None), dict(entry(None, other, NEW), src=None)]),
                       check_mode=True)
    assert result['changed'] and result['changed_executables'] == [str(other)] and not other.exists()


def test_a_file_that_arrived_different_replaces_nothing(tmp_path):
    dest = tmp_path / 'tailscaled'
    dest.write_bytes(OLD)
    result = call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', NEW[:-1]), dest, NEW)]), fail=True)
    assert 'the file sent from the controller does not have the SHA-256' in result['msg'] and result['changed_executables'] == []
    assert dest.read_bytes() == OLD and sorted(os.listdir(str(tmp_path))) == ['ansible-tmp', 'tailscaled']


def test_bad_entries_fail_before_anything_changes(tmp_path):
    dest = tmp_path / 'a'
    result = call_main(binaries.main, dict(executables=[dict(src=None, dest='relative/path', sha256='abc'),
                                                        entry(None, dest, OLD), entry(sent(tmp_path, 'b', OLD), dest, OLD)]), fail=True)
    assert "executables[0].dest: 'relative/path' is not an absolute path" in result['msg']
    assert 'executables[0].sha256: must be 64 lower-case hexadecimal digits' in result['msg']
    assert 'executables[1].src: no file was sent for %s' % dest in result['msg']
    assert 'executables[2].dest: %s is given twice' % dest in result['msg']
    assert not dest.exists()


# The system users and directories of a service, made in the same run (what a package's maintainer
# scripts do). useradd is faked: the tests make no account on the machine that runs them.
OWNER = pwd.getpwuid(os.geteuid()).pw_name
GROUP = grp.getgrgid(os.getegid()).gr_name


class FakeUseradd(object):
    def __init__(self, existing=(), rc=0):
        self.users = set(existing)
        self.calls = []
        self.rc = rc

    def run(self, argv):
        self.calls.append(list(argv))
        if self.rc == 0:
            self.users.add(argv[-1])
        return self.rc, '', 'useradd: cannot lock /etc/passwd' if self.rc else ''


@pytest.fixture
def useradd(monkeypatch):
    fake = FakeUseradd(existing=['root'])
    install_fake_commands(monkeypatch, fake, {'useradd': '/usr/sbin/useradd'})
    monkeypatch.setattr(binaries, 'user_exists', lambda name: name in fake.users)
    return fake


def test_a_new_service_gets_its_user_directories_and_binary_in_one_run(tmp_path, useradd):
    tls, dest = tmp_path / 'etc' / 'headscale' / 'tls', tmp_path / 'bin' / 'headscale'
    result = call_main(binaries.main, dict(
        executables=[entry(sent(tmp_path, 'binary-0', NEW), dest, NEW)],
        system_users=[dict(name='headscale', home='/var/lib/headscale')],
        directories=[dict(path=str(tls), mode='0750', owner=OWNER, group=GROUP)]))
    assert result['changed'] and result['created_users'] == ['headscale']
    assert result['changed_directories'] == [str(tls)] and result['changed_executables'] == [str(dest)]
    assert useradd.calls == [['/usr/sbin/useradd', '--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin',
                              '--home-dir', '/var/lib/headscale', 'headscale']]
    assert mode_of(tls) == 0o750 and mode_of(tls.parent) == 0o755 and dest.read_bytes() == NEW


def test_users_and_directories_as_wanted_change_nothing(tmp_path, useradd):
    tls = tmp_path / 'tls'
    wanted = dict(system_users=[dict(name='headscale')], directories=[dict(path=str(tls), mode='0750', owner=OWNER, group=GROUP)])
    call_main(binaries.main, wanted)
    again = call_main(binaries.main, wanted)
    assert not again['changed'] and again['created_users'] == [] and again['changed_directories'] == []
    assert len(useradd.calls) == 1


def test_check_mode_names_the_missing_user_and_directory_and_makes_neither(tmp_path, useradd):
    tls = tmp_path / 'tls'
    result = call_main(binaries.main, dict(system_users=[dict(name='headscale')], directories=[dict(path=str(tls))]), check_mode=True)
    assert result['changed'] and result['created_users'] == ['headscale'] and result['changed_directories'] == [str(tls)]
    assert useradd.calls == [] and not tls.exists()


def test_a_failing_useradd_fails_the_task_before_directories_and_binaries(tmp_path, useradd):
    useradd.rc = 1
    tls, dest = tmp_path / 'tls', tmp_path / 'headscale'
    result = call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', NEW), dest, NEW)], system_users=[dict(name='headscale')],
                                           directories=[dict(path=str(tls))]), fail=True)
    assert result['msg'] == 'cannot make the system user headscale: useradd: cannot lock /etc/passwd'
    assert not tls.exists() and not dest.exists()


def test_bad_users_and_directories_fail_before_anything_changes(tmp_path, useradd):
    result = call_main(binaries.main, dict(system_users=[dict(name='Head Scale'), dict(name='hs', home='var/lib/hs'), dict(name='hs')],
                                           directories=[dict(path='etc/headscale')]), fail=True)
    assert "system_users[0].name: 'Head Scale' is not a user name useradd takes" in result['msg']
    assert "system_users[1].home: 'var/lib/hs' is not an absolute path" in result['msg']
    assert 'system_users[2].name: hs is given twice' in result['msg']
    assert "directories[0].path: 'etc/headscale' is not an absolute path" in result['msg']
    assert useradd.calls == []


def text_file(path, content, mode='0644'):
    return dict(path=str(path), content=content, mode=mode, owner=OWNER, group=GROUP)


def test_files_are_written_with_the_binaries_and_previewed_in_the_diff(tmp_path):
    unit, dest = tmp_path / 'systemd' / 'tailscaled.service', tmp_path / 'sbin' / 'tailscaled'
    result = call_main(binaries.main, dict(executables=[entry(sent(tmp_path, 'binary-0', NEW), dest, NEW)],
                                           files=[text_file(unit, '[Service]\n')]), diff=True)
    assert result['changed_files'] == [str(unit)] and result['changed_executables'] == [str(dest)]
    assert result['diff'] == [dict(before_header=str(unit), after_header=str(unit), before='', after='[Service]\n')]
    assert unit.read_text() == '[Service]\n' and mode_of(unit) == 0o644 and mode_of(unit.parent) == 0o755
    again = call_main(binaries.main, dict(files=[text_file(unit, '[Service]\n')]), diff=True)
    assert not again['changed'] and again['changed_files'] == [] and again['diff'] == []


def test_check_mode_previews_a_changed_text_file_and_writes_nothing(tmp_path):
    defaults = tmp_path / 'tailscaled'
    defaults.write_text('PORT="41641"\n')
    result = call_main(binaries.main, dict(files=[text_file(defaults, 'PORT="41642"\n')]), check_mode=True, diff=True)
    assert result['changed'] and result['changed_files'] == [str(defaults)]
    assert result['diff'][0]['before'] == 'PORT="41641"\n' and result['diff'][0]['after'] == 'PORT="41642"\n'
    assert defaults.read_text() == 'PORT="41641"\n'


def test_a_text_file_mode_changed_by_hand_is_put_back_without_a_diff(tmp_path):
    defaults = tmp_path / 'tailscaled'
    call_main(binaries.main, dict(files=[text_file(defaults, 'x\n')]))
    os.chmod(str(defaults), 0o666)
    result = call_main(binaries.main, dict(files=[text_file(defaults, 'x\n')]), diff=True)
    assert result['changed_files'] == [str(defaults)] and result['diff'] == [] and mode_of(defaults) == 0o644


def test_bad_files_are_named_by_their_option(tmp_path):
    result = call_main(binaries.main, dict(files=[dict(path='etc/x', content=''), dict(path='/etc/y', content='', mode='rw')]),
                       fail=True)
    assert "files[0].path: 'etc/x' is not an absolute path" in result['msg']
    assert 'files[1].mode must be an octal mode' in result['msg']
