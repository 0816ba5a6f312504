# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files only their owner may read (keys, preshared keys, configs), written atomically."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

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


def write_private_file(path, text, mode=0o600):
    """Replace path atomically by a file holding text, with mode (0600 by default) from its
    first byte, so that a secret is never readable by others, not even for a moment."""
    directory = os.path.dirname(path) or '.'
    temp_path = os.path.join(directory, '.%s.%s.tmp' % (os.path.basename(path), os.urandom(6).hex()))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0)
    fd = os.open(temp_path, flags, mode)
    try:
        with os.fdopen(fd, 'wb') as temp_file:
            temp_file.write(text.encode('utf-8'))
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)
        raise
    # Persist the rename itself, so that a crash cannot leave the old name pointing at nothing.
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
