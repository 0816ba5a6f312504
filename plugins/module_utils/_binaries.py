# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Executables sent from the controller (overlaynet.vpn.binaries: its action plugin puts each in
# the task's temporary directory on the host), put in place where the host's differ, all in one
# module run and with no stat run before it (ansible.builtin.copy costs two runs per file).
# A file whose digest is not the controller's never replaces a binary. The same run makes the
# system users and the directories a service needs (what a distribution package's maintainer
# scripts make), so that a binary installed from the controller or a URL costs no more module runs
# than a package.

import os
import pwd
import re
import shutil
import stat
import tempfile

from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import sha256_of_file

BINARY_MODE = 0o755
SHA256 = re.compile(r'^[0-9a-f]{64}$')
# useradd's own rule on Debian (NAME_REGEX_SYSTEM), without the trailing '$' of machine accounts.
SYSTEM_USER_NAME = re.compile(r'^[a-z_][a-z0-9_-]{0,31}$')
NO_LOGIN_SHELL = '/usr/sbin/nologin'


def binary_problems(executables, check_mode):
    """Messages for entries that cannot be installed (relative or repeated paths, bad digests, nothing sent)."""
    problems = []
    seen = set()
    for index, entry in enumerate(executables):
        where = 'executables[%d]' % index
        dest = entry.get('dest') or ''
        if not os.path.isabs(dest):
            problems.append('%s.dest: %r is not an absolute path' % (where, dest))
        elif dest in seen:
            problems.append('%s.dest: %s is given twice' % (where, dest))
        seen.add(dest)
        if not SHA256.match(entry.get('sha256') or ''):
            problems.append('%s.sha256: must be 64 lower-case hexadecimal digits' % where)
        if not check_mode and not entry.get('src'):
            problems.append('%s.src: no file was sent for %s' % (where, dest))
    return problems


def binary_differs(entry):
    """Whether the host's file at entry['dest'] is not the wanted binary: other content, not 0755 or not root's."""
    try:
        status = os.stat(entry['dest'])
    except OSError:
        return True
    if stat.S_IMODE(status.st_mode) != BINARY_MODE or (os.geteuid() == 0 and (status.st_uid, status.st_gid) != (0, 0)):
        return True
    return sha256_of_file(entry['dest']) != entry['sha256']


def install_binary(entry):
    """Put the file sent for entry in place (mode 0755, root's when run as root), replacing the old one in one rename;
    ValueError when the sent file's digest is not entry['sha256'] (nothing is replaced)."""
    if sha256_of_file(entry['src']) != entry['sha256']:
        raise ValueError('%s: the file sent from the controller does not have the SHA-256 %s; %s is left as it was'
                         % (entry['dest'], entry['sha256'], entry['dest']))
    directory = os.path.dirname(entry['dest'])
    if not os.path.isdir(directory):
        os.makedirs(directory, BINARY_MODE)
    # Copied beside the destination, then renamed over it: the temporary directory may be on
    # another file system, and a running binary must keep its old file until it exits.
    descriptor, temporary_path = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(entry['dest']))
    try:
        with os.fdopen(descriptor, 'wb') as output, open(entry['src'], 'rb') as source:
            shutil.copyfileobj(source, output, 1024 * 1024)
            output.flush()
            os.fsync(output.fileno())
        os.chmod(temporary_path, BINARY_MODE)
        if os.geteuid() == 0:
            os.chown(temporary_path, 0, 0)
        os.rename(temporary_path, entry['dest'])
    except BaseException:
        if os.path.exists(temporary_path):
            os.unlink(temporary_path)
        raise


def system_user_problems(users):
    """Messages for system users that cannot be made (bad or repeated names, relative home or shell)."""
    problems = []
    seen = set()
    for index, user in enumerate(users):
        where = 'system_users[%d]' % index
        name = user.get('name') or ''
        if not SYSTEM_USER_NAME.match(name):
            problems.append('%s.name: %r is not a user name useradd takes (lower-case letters, digits, _ and -, at most 32)'
                            % (where, name))
        elif name in seen:
            problems.append('%s.name: %s is given twice' % (where, name))
        seen.add(name)
        for option in ('home', 'shell'):
            if user.get(option) and not os.path.isabs(user[option]):
                problems.append('%s.%s: %r is not an absolute path' % (where, option, user[option]))
    return problems


def user_exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def useradd_argv(useradd, user):
    """The command that makes user: a system account with its own group, no home made and no login."""
    argv = [useradd, '--system', '--user-group', '--no-create-home', '--shell', user.get('shell') or NO_LOGIN_SHELL]
    if user.get('home'):
        argv += ['--home-dir', user['home']]
    return argv + [user['name']]
