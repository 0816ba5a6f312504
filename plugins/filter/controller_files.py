# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError

# module_utils are imported inside the filters (why: docs/dev/architecture.md, "Filter plugins").


def controller_digest_cache_path():
    """Where the controller keeps the digests of its large files (see _file_facts): the user's cache directory."""
    cache_home = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(cache_home, 'overlaynet-vpn', 'controller-file-digests.json')


def controller_file_sha256(path):
    """SHA-256 (hex) of a file on the controller, read in the controller process: deciding
    whether a binary must be copied costs no module run, and on a rerun no hashing (the digest
    of a large file that kept its identity comes from the cache)."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import DigestCache
    digests = DigestCache(controller_digest_cache_path())
    digest = digests.sha256(path)
    if digest is None:
        raise AnsibleFilterError('controller_file_sha256: cannot read %s' % path)
    digests.save()
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


class FilterModule(object):
    def filters(self):
        return {'controller_file_sha256': controller_file_sha256, 'installed_binary_sha256': installed_binary_sha256,
                'binary_install_needed': binary_install_needed}
