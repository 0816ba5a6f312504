# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Which userspace WireGuard daemon serves an interface, for overlaynet.vpn.wireguard_interface.
#
# A userspace implementation (wireguard-go) listens on the UAPI socket
# /var/run/wireguard/<name>.sock, where `wg` talks to it. The daemon is found through that
# socket: /proc/net/unix gives the inode of the socket bound to the path, the daemon is the
# process holding a `socket:[<inode>]` file descriptor, and its /proc/<pid>/exe link names the
# binary it runs, with " (deleted)" appended once the file it started from is gone (replaced on
# disk). The parsing functions are pure; the IO helpers take the proc root so tests can build a
# fake tree. Processes come and go while /proc is scanned (ENOENT, ESRCH) and those of other
# users may be closed to us (EACCES, EPERM): a process that cannot be read is skipped, never an
# error, since it cannot be the daemon the caller could have asked about anyway.

import io
import os
import re

PROC_ROOT = '/proc'
# /var/run is a symlink to /run on current systems; the socket table holds the path as bound.
UAPI_SOCKET_DIRECTORIES = ('/var/run/wireguard', '/run/wireguard')
DELETED_MARKER = ' (deleted)'

# __SO_ACCEPTCON in the Flags column: the socket listens.
_UNIX_FLAG_LISTENING = 0x10000
_UNIX_TYPE_STREAM = 1
_VERSION_TOKEN = re.compile(r'^v?(\d+(?:\.\d+)+(?:[-+~.][0-9A-Za-z.+~-]*)?)$')


# ---------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------

def uapi_socket_paths(interface_name):
    """The paths the UAPI socket of an interface may be bound to."""
    return tuple('%s/%s.sock' % (directory, interface_name) for directory in UAPI_SOCKET_DIRECTORIES)


def unix_socket_inode(table_text, socket_paths):
    """Inode of the unix stream socket bound to one of socket_paths, from the text of /proc/net/unix.

    Columns: Num RefCount Protocol Flags Type St Inode [Path]. Connections accepted by a listening
    socket show its path too (and belong to the same daemon); the listening socket is preferred.
    Returns None when no stream socket is bound to the paths.
    """
    if isinstance(socket_paths, str):
        socket_paths = (socket_paths,)
    wanted = set(socket_paths)
    fallback = None
    for line in (table_text or '').splitlines():
        # The path is the last column and may hold spaces.
        fields = line.split(None, 7)
        if len(fields) < 8 or fields[7] not in wanted:
            continue
        try:
            flags = int(fields[3], 16)
            socket_type = int(fields[4], 16)
            inode = int(fields[6])
        except ValueError:
            continue  # the header line, or a line this parser does not know
        if socket_type != _UNIX_TYPE_STREAM:
            continue
        if flags & _UNIX_FLAG_LISTENING:
            return inode
        if fallback is None:
            fallback = inode
    return fallback


def split_deleted_marker(exe_link):
    """(path, deleted) from the text of a /proc/<pid>/exe link."""
    if exe_link.endswith(DELETED_MARKER):
        return exe_link[:-len(DELETED_MARKER)], True
    return exe_link, False


def parse_version_output(text):
    """The version in the first line of `<binary> --version`, without a leading 'v'; None when there is none.

    wireguard-go prints "wireguard-go v0.0.20220316" (Debian's package) or, built from the Go
    module, "wireguard-go v0.0.20230223"; other daemons print "<name> <version>" alike.
    """
    for line in (text or '').splitlines():
        if not line.strip():
            continue
        for token in line.split():
            match = _VERSION_TOKEN.match(token.rstrip(',;'))
            if match:
                return match.group(1)
        return None
    return None


def userspace_binary_difference(wanted_binary, implementation, daemon):
    """Why the interface does not run under wanted_binary, or None when it does or it cannot be told.

    implementation is 'kernel', 'userspace' or None; daemon is what find_userspace_daemon returns.
    A kernel link differs (the binary is only asked for when userspace is wanted). A userspace
    interface differs when its daemon runs another file, or a file deleted (replaced) since it
    started. Unknown (no link, no daemon found) does not differ.
    """
    if implementation == 'kernel':
        return 'it is a kernel WireGuard link, not a userspace one run by %s' % wanted_binary
    if implementation != 'userspace' or daemon is None:
        return None
    if daemon['exe'] != os.path.realpath(wanted_binary):
        return 'its daemon runs %s, not %s' % (daemon['exe'], wanted_binary)
    if daemon['deleted']:
        return 'its daemon runs %s as it was before the file was replaced' % daemon['exe']
    return None


# ---------------------------------------------------------------------------------------------
# Reading /proc
# ---------------------------------------------------------------------------------------------

def read_unix_socket_table(proc_root=PROC_ROOT):
    """The text of <proc_root>/net/unix, or None when it cannot be read."""
    try:
        # Other programs' socket paths need not be UTF-8; they only have to not stop the parse.
        with io.open(os.path.join(proc_root, 'net', 'unix'), encoding='utf-8', errors='replace') as table:
            return table.read()
    except (IOError, OSError):
        return None


def socket_owner_pid(inode, proc_root=PROC_ROOT):
    """The lowest pid holding a file descriptor on the socket with this inode, or None."""
    target = 'socket:[%d]' % inode
    try:
        pids = sorted(int(entry) for entry in os.listdir(proc_root) if entry.isdigit())
    except OSError:
        return None
    for pid in pids:
        fd_dir = os.path.join(proc_root, str(pid), 'fd')
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # exited, or not ours to look at
        for fd in fds:
            try:
                if os.readlink(os.path.join(fd_dir, fd)) == target:
                    return pid
            except OSError:
                continue  # closed or exited meanwhile
    return None


def process_executable(pid, proc_root=PROC_ROOT):
    """(path, deleted) of the binary a process runs, or None when the process is gone or hidden."""
    try:
        link = os.readlink(os.path.join(proc_root, str(pid), 'exe'))
    except OSError:
        return None
    return split_deleted_marker(link)


def find_userspace_daemon(interface_name, proc_root=PROC_ROOT):
    """{'pid', 'exe', 'deleted'} of the daemon listening on the interface's UAPI socket, or None."""
    inode = unix_socket_inode(read_unix_socket_table(proc_root), uapi_socket_paths(interface_name))
    if inode is None:
        return None
    pid = socket_owner_pid(inode, proc_root)
    if pid is None:
        return None
    executable = process_executable(pid, proc_root)
    if executable is None:
        return None
    return dict(pid=pid, exe=executable[0], deleted=executable[1])
