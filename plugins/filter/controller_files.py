# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

# module_utils are imported inside the filters (why: docs/dev/architecture.md, "Filter plugins").


def controller_file_sha256(path):
    """SHA-256 (hex) of a file on the controller, read in the controller process: deciding
    whether a binary must be copied costs no module run, and on a rerun no hashing (the digest
    of a large file that kept its identity comes from the cache)."""
    from ansible_collections.overlaynet.vpn.plugins.plugin_utils._controller_files import controller_file_sha256 as file_sha256
    digest = file_sha256(path)
    if digest is None:
        raise AnsibleFilterError('controller_file_sha256: cannot read %s' % path)
    return digest


def installed_binary_sha256(source, file='', checksum=''):
    """The SHA-256 (hex) a binary has once the platform's install step put it in place from source:
    the controller file's (file) or the checksum's (url); None for a package, whose files are the
    package's to keep."""
    if source == 'file':
        return controller_file_sha256(file)
    if source == 'url':
        return checksum.split(':')[-1].lower()
    return None


def binary_install_needed(source, installed_sha256, file='', checksum=''):
    """Whether the platform's install step must put the binary in place: from a file or url (source) whose binary
    (installed_binary_sha256) is not the one the host has (installed_sha256, '' or None when it has none). Never for
    a package."""
    wanted = installed_binary_sha256(source, file, checksum)
    return wanted is not None and wanted != (installed_sha256 or '')


def binaries_to_install(binaries, source):
    """The binaries of the platform's install step (platform_install_binaries entries: source, file, url, checksum,
    binary, installed_sha256) of source that differ from the host's: for 'file' [{src, dest}] (overlaynet.vpn.binaries'
    executables), for 'url' [{url, checksum, dest}] (ansible.builtin.get_url's options)."""
    if source not in ('file', 'url'):
        raise AnsibleFilterError("binaries_to_install: source must be file or url, got %r" % (source,))
    wanted = []
    for entry in binaries:
        if entry.get('source', 'package') != source:
            continue
        if not binary_install_needed(source, entry.get('installed_sha256'), entry.get('file', ''), entry.get('checksum', '')):
            continue
        if source == 'file':
            wanted.append({'src': entry['file'], 'dest': entry['binary']})
        else:
            wanted.append({'url': entry['url'], 'checksum': entry['checksum'], 'dest': entry['binary']})
    return wanted


class FilterModule(object):
    def filters(self):
        return {'controller_file_sha256': controller_file_sha256, 'installed_binary_sha256': installed_binary_sha256,
                'binary_install_needed': binary_install_needed, 'binaries_to_install': binaries_to_install}
