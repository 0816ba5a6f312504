# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

from ansible.errors import AnsibleFilterError


def controller_file_sha256(path):
    """SHA-256 (hex) of a file on the controller, read in the controller process: deciding
    whether a binary must be copied costs no module run."""
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b''):
                digest.update(block)
    except (IOError, OSError) as exc:
        raise AnsibleFilterError('controller_file_sha256: cannot read %s: %s' % (path, exc.strerror or exc))
    return digest.hexdigest()


def installed_binary_sha256(source, file='', checksum=''):
    """The SHA-256 (hex) a binary has once the platform's install step put it in place from source:
    the controller file's (file) or the checksum's (url); None for a package, whose files are the
    package's to keep."""
    if source == 'file':
        return controller_file_sha256(file)
    if source == 'url':
        return checksum.split(':')[-1].lower()
    return None


class FilterModule(object):
    def filters(self):
        return {'controller_file_sha256': controller_file_sha256, 'installed_binary_sha256': installed_binary_sha256}
