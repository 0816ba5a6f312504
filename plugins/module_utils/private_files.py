# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files only their owner may read (keys, preshared keys, configs), written atomically."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os


def ensure_parent_directory(path):
    parent = os.path.dirname(path)
    if parent and not os.path.isdir(parent):
        os.makedirs(parent, 0o700)
        # makedirs' mode is filtered through the umask; a key directory must be 0700 regardless.
        os.chmod(parent, 0o700)


def read_text_or_none(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8')
    except (IOError, OSError):
        return None


def key_file_diff(path, label, before_key, after_key, attribute_diff):
    """The --diff of a key file module: a line naming the key before and after (never the key itself:
    a public key or a description), then the owner, group and mode changes of attribute_diff."""
    def side(key_text, attributes):
        lines = ['%s: %s' % (label, key_text)]
        lines.extend('%s: %s' % (name, attributes[name]) for name in sorted(attributes))
        return '\n'.join(lines) + '\n'
    return dict(before_header=path, after_header=path,
                before=side(before_key, attribute_diff.get('before', {})),
                after=side(after_key, attribute_diff.get('after', {})))


def write_private_file(path, text, mode=0o600):
    """Replace path atomically by a file holding text, with mode (0600 by default) from its
    first byte, so that a secret is never readable by others, not even for a moment."""
    temp_path = write_temporary_file(path, text.encode('utf-8'), mode)
    try:
        os.replace(temp_path, path)
    except BaseException:
        remove_if_present(temp_path)
        raise
    # Persist the rename itself, so that a crash cannot leave the old name pointing at nothing.
    sync_directory(os.path.dirname(path) or '.')


def write_temporary_file(path, data, mode=0o600, sync=True):
    """A new file next to path holding data (bytes), with mode from its first byte; its name.
    sync=False leaves flushing to the caller, who writes many files and syncs them at once."""
    directory = os.path.dirname(path) or '.'
    temp_path = os.path.join(directory, '.%s.%s.tmp' % (os.path.basename(path), os.urandom(6).hex()))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0)
    fd = os.open(temp_path, flags, mode)
    try:
        try:
            # open()'s mode went through the umask, which can only take permissions away: set it exactly, on the
            # descriptor, before the first byte.
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if not written:
                    raise OSError(errno.EIO, 'nothing was written', temp_path)
                view = view[written:]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        remove_if_present(temp_path)
        raise
    return temp_path


def remove_if_present(path):
    if os.path.lexists(path):
        os.unlink(path)


def sync_directory(directory):
    """fsync a directory, so that renames in it survive a crash; best effort (not every
    filesystem lets a directory be opened or synced)."""
    try:
        directory_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory_fd)
    except OSError:
        pass
    finally:
        os.close(directory_fd)
