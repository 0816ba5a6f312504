# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The digests of controller files that the platform's filters and the binaries action plugin
# share: one cache per user, so a rerun hashes no unchanged large binary again.

import os

from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import DigestCache


def controller_digest_cache_path():
    """Where the controller keeps the digests of its large files (see _file_facts): the user's cache directory."""
    cache_home = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(cache_home, 'overlaynet-vpn', 'controller-file-digests.json')


def controller_file_sha256(path):
    """SHA-256 (hex) of a file on the controller, the digest of a large file that kept its identity from the cache;
    None when it cannot be read."""
    digests = DigestCache(controller_digest_cache_path())
    digest = digests.sha256(path)
    digests.save()
    return digest
