# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _wireguard_userspace as wu

# /proc/net/unix of a host running wireguard-go for wg0 (pointers zeroed as for a non-root
# reader): the listening UAPI socket (Flags 00010000, St 01), a connection it accepted from
# `wg` (same path, St 03), systemd's sockets, an abstract socket, unnamed socket pairs, a
# datagram socket and a path with a space.
UNIX_TABLE = '''Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 18734 /run/systemd/private
0000000000000000: 00000002 00000000 00010000 0001 01 18736 /run/systemd/userdb/io.systemd.DynamicUser
0000000000000000: 0000000B 00000000 00000000 0002 01 18751 /run/systemd/journal/dev-log
0000000000000000: 00000002 00000000 00010000 0001 01 21544 @/tmp/.X11-unix/X0
0000000000000000: 00000003 00000000 00000000 0001 03 40211
0000000000000000: 00000003 00000000 00000000 0001 03 40210 /var/run/wireguard/wg0.sock
0000000000000000: 00000002 00000000 00010000 0001 01 40175 /var/run/wireguard/wg0.sock
0000000000000000: 00000002 00000000 00010000 0001 01 40301 /var/run/wireguard/wg1.sock
0000000000000000: 00000003 00000000 00000000 0001 03 22017
0000000000000000: 00000002 00000000 00010000 0001 01 31337 /tmp/with space.sock
0000000000000000: 00000002 00000000 00000000 0002 01 31338 /var/run/wireguard/wg9.sock
'''

PACKAGE_VERSION_OUTPUT = '''wireguard-go v0.0.20220316

Userspace WireGuard daemon for linux-amd64.
Information available at https://www.wireguard.com.
Copyright (C) Jason A. Donenfeld <Jason@zx2c4.com>.
'''
BUILT_VERSION_OUTPUT = PACKAGE_VERSION_OUTPUT.replace('v0.0.20220316', 'v0.0.20250522').replace('amd64', 'arm64')


# ---------------------------------------------------------------------------------------------
# /proc/net/unix
# ---------------------------------------------------------------------------------------------

def test_uapi_socket_paths():
    assert wu.uapi_socket_paths('wg0') == ('/var/run/wireguard/wg0.sock', '/run/wireguard/wg0.sock')


def test_listening_socket_is_preferred_to_an_accepted_connection():
    assert wu.unix_socket_inode(UNIX_TABLE, wu.uapi_socket_paths('wg0')) == 40175
    assert wu.unix_socket_inode(UNIX_TABLE, '/var/run/wireguard/wg1.sock') == 40301


def test_accepted_connection_is_the_fallback():
    table = '\n'.join(line for line in UNIX_TABLE.splitlines() if ' 40175 ' not in line)
    assert wu.unix_socket_inode(table, wu.uapi_socket_paths('wg0')) == 40210


def test_socket_bound_under_run():
    table = UNIX_TABLE.replace('/var/run/wireguard/wg1.sock', '/run/wireguard/wg1.sock')
    assert wu.unix_socket_inode(table, wu.uapi_socket_paths('wg1')) == 40301
    assert wu.unix_socket_inode(table, ['/var/run/wireguard/wg1.sock']) is None


@pytest.mark.parametrize('path', [
    '/var/run/wireguard/wg2.sock',  # no such socket
    '/var/run/wireguard/wg9.sock',  # a datagram socket, not a UAPI listener
    'wireguard/wg0.sock',  # only whole paths match
    '/tmp/.X11-unix/X0',  # the abstract socket is @/tmp/.X11-unix/X0
])
def test_no_matching_stream_socket(path):
    assert wu.unix_socket_inode(UNIX_TABLE, [path]) is None


def test_path_with_space_and_abstract_socket():
    assert wu.unix_socket_inode(UNIX_TABLE, ['/tmp/with space.sock']) == 31337
    assert wu.unix_socket_inode(UNIX_TABLE, ['@/tmp/.X11-unix/X0']) == 21544


@pytest.mark.parametrize('text', [None, '', 'Num       RefCount Protocol Flags    Type St Inode Path\n',
                                  'garbage /var/run/wireguard/wg0.sock\n',
                                  '0000000000000000: 00000002 00000000 0001000Z 0001 01 40175 /var/run/wireguard/wg0.sock\n'])
def test_unusable_table(text):
    assert wu.unix_socket_inode(text, wu.uapi_socket_paths('wg0')) is None


# ---------------------------------------------------------------------------------------------
# A fake /proc
# ---------------------------------------------------------------------------------------------

class FakeProc(object):
    def __init__(self, root):
        self.root = str(root)
        os.makedirs(os.path.join(self.root, 'net'))
        with open(os.path.join(self.root, 'net', 'unix'), 'w') as table:
            table.write(UNIX_TABLE)
        with open(os.path.join(self.root, 'uptime'), 'w') as uptime:
            uptime.write('1234.5 678.9\n')
        os.symlink('4242', os.path.join(self.root, 'self'))

    def process(self, pid, exe=None, fds=()):
        pid_dir = os.path.join(self.root, str(pid))
        os.makedirs(os.path.join(pid_dir, 'fd'))
        if exe is not None:
            os.symlink(exe, os.path.join(pid_dir, 'exe'))
        for number, target in enumerate(fds):
            os.symlink(target, os.path.join(pid_dir, 'fd', str(number)))
        return pid_dir


@pytest.fixture
def proc(tmp_path):
    fake = FakeProc(tmp_path / 'proc')
    fake.process(1, '/usr/lib/systemd/systemd', ['/dev/null', 'socket:[18734]', 'anon_inode:[eventpoll]'])
    fake.process(377, '/usr/sbin/sshd', ['/dev/null', 'socket:[22017]'])
    return fake


def test_daemon_is_found_through_its_socket(proc):
    proc.process(912, '/usr/local/sbin/wireguard-go', ['/dev/null', '/dev/net/tun', 'socket:[40174]', 'socket:[40175]', 'socket:[40210]'])
    proc.process(913, '/usr/bin/wireguard-go', ['/dev/null', '/dev/net/tun', 'socket:[40301]'])
    assert wu.socket_owner_pid(40175, proc.root) == 912
    assert wu.socket_owner_pid(40301, proc.root) == 913
    assert wu.socket_owner_pid(55555, proc.root) is None
    assert wu.find_userspace_daemon('wg0', proc.root) == dict(pid=912, exe='/usr/local/sbin/wireguard-go', deleted=False)
    assert wu.find_userspace_daemon('wg1', proc.root) == dict(pid=913, exe='/usr/bin/wireguard-go', deleted=False)
    assert wu.find_userspace_daemon('wg2', proc.root) is None


def test_replaced_binary_is_reported_as_deleted(proc):
    proc.process(912, '/usr/local/sbin/wireguard-go (deleted)', ['socket:[40175]'])
    assert wu.process_executable(912, proc.root) == ('/usr/local/sbin/wireguard-go', True)
    assert wu.find_userspace_daemon('wg0', proc.root) == dict(pid=912, exe='/usr/local/sbin/wireguard-go', deleted=True)


def test_vanished_and_unreadable_processes_are_skipped(proc, monkeypatch):
    proc.process(500, '/usr/bin/bash', ['socket:[40175]'])
    proc.process(600, '/usr/bin/other', [])
    # 400 exited between the listing of /proc and the listing of its fds: no fd directory left.
    os.makedirs(os.path.join(proc.root, '400'))
    # 450's fd directory belongs to another user; one of 500's fds closes while it is read.
    proc.process(450, '/usr/bin/foreign', ['socket:[40175]'])
    real_listdir, real_readlink = os.listdir, os.readlink

    def listdir(path):
        if path == os.path.join(proc.root, '450', 'fd'):
            raise OSError(errno.EACCES, 'Permission denied', path)
        return real_listdir(path)

    def readlink(path):
        if path == os.path.join(proc.root, '500', 'fd', '0'):
            raise OSError(errno.ENOENT, 'No such file or directory', path)
        return real_readlink(path)

    monkeypatch.setattr(wu.os, 'listdir', listdir)
    monkeypatch.setattr(wu.os, 'readlink', readlink)
    assert wu.socket_owner_pid(40175, proc.root) is None


def test_daemon_that_exits_before_its_exe_is_read(proc):
    proc.process(912, '/usr/local/sbin/wireguard-go', ['socket:[40175]'])
    os.remove(os.path.join(proc.root, '912', 'exe'))
    assert wu.process_executable(912, proc.root) is None
    assert wu.process_executable(31999, proc.root) is None
    assert wu.find_userspace_daemon('wg0', proc.root) is None


def test_missing_proc(tmp_path):
    root = str(tmp_path / 'no-proc')
    assert wu.read_unix_socket_table(root) is None
    assert wu.socket_owner_pid(40175, root) is None
    assert wu.find_userspace_daemon('wg0', root) is None


def test_socket_table_with_foreign_non_utf8_path(tmp_path):
    root = tmp_path / 'proc'
    (root / 'net').mkdir(parents=True)
    (root / 'net' / 'unix').write_bytes(UNIX_TABLE.encode('ascii') + b'0000000000000000: 00000002 00000000 00010000 0001 01 9 /tmp/\xff.sock\n')
    assert wu.unix_socket_inode(wu.read_unix_socket_table(str(root)), wu.uapi_socket_paths('wg0')) == 40175


@pytest.mark.parametrize('link, expected', [
    ('/usr/bin/wireguard-go', ('/usr/bin/wireguard-go', False)),
    ('/usr/local/sbin/wireguard-go (deleted)', ('/usr/local/sbin/wireguard-go', True)),
    ('/opt/wg (deleted) copy', ('/opt/wg (deleted) copy', False)),
])
def test_split_deleted_marker(link, expected):
    assert wu.split_deleted_marker(link) == expected


# ---------------------------------------------------------------------------------------------
# --version
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    (PACKAGE_VERSION_OUTPUT, '0.0.20220316'),
    (BUILT_VERSION_OUTPUT, '0.0.20250522'),
    ('wireguard-go v0.0.20230223\n', '0.0.20230223'),
    ('\nwireguard-go v0.0.20230223-dirty\n', '0.0.20230223-dirty'),
    ('wireguard-go v0.0.0-20250521234502-f333402bd9cb\n', '0.0.0-20250521234502-f333402bd9cb'),
    ('wireguard-go version 0.0.20230223, linux/amd64\n', '0.0.20230223'),
    ('boringtun 0.6.0\n', '0.6.0'),
    ('', None),
    (None, None),
    ('Usage: wireguard-go [-f/--foreground] INTERFACE-NAME\n', None),
    ('wireguard-go: unknown option --version\nversion 1.2.3\n', None),
    ('build 42\n', None),
    ('\x00\xff garbage\n', None),
])
def test_parse_version_output(text, expected):
    assert wu.parse_version_output(text) == expected


# ---------------------------------------------------------------------------------------------
# Does the daemon run the wanted binary?
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def binaries(tmp_path):
    built = tmp_path / 'usr' / 'local' / 'sbin' / 'wireguard-go'
    package = tmp_path / 'usr' / 'bin' / 'wireguard-go'
    for binary in (built, package):
        binary.parent.mkdir(parents=True)
        binary.write_text(u'#!/bin/sh\n')
    link = tmp_path / 'usr' / 'local' / 'sbin' / 'wg-userspace'
    link.symlink_to(built)
    return dict(built=str(built), package=str(package), link=str(link))


def daemon(exe, deleted=False):
    return dict(pid=912, exe=exe, deleted=deleted)


def test_daemon_of_the_wanted_binary_does_not_differ(binaries):
    assert wu.userspace_binary_difference(binaries['built'], 'userspace', daemon(binaries['built'])) is None
    # The kernel reports the file a symbolic link points to.
    assert wu.userspace_binary_difference(binaries['link'], 'userspace', daemon(binaries['built'])) is None


def test_daemon_of_another_binary_differs(binaries):
    reason = wu.userspace_binary_difference(binaries['built'], 'userspace', daemon(binaries['package']))
    assert reason == 'its daemon runs %s, not %s' % (binaries['package'], binaries['built'])
    reason = wu.userspace_binary_difference(binaries['link'], 'userspace', daemon(binaries['package'], deleted=True))
    assert reason == 'its daemon runs %s, not %s' % (binaries['package'], binaries['link'])


def test_replaced_binary_differs(binaries):
    reason = wu.userspace_binary_difference(binaries['built'], 'userspace', daemon(binaries['built'], deleted=True))
    assert reason == 'its daemon runs %s as it was before the file was replaced' % binaries['built']


def test_kernel_link_differs(binaries):
    reason = wu.userspace_binary_difference(binaries['built'], 'kernel', None)
    assert reason == 'it is a kernel WireGuard link, not a userspace one run by %s' % binaries['built']


def test_unknown_does_not_differ(binaries):
    assert wu.userspace_binary_difference(binaries['built'], 'userspace', None) is None
    assert wu.userspace_binary_difference(binaries['built'], None, None) is None
    assert wu.userspace_binary_difference(binaries['built'], None, daemon(binaries['package'])) is None
