# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# What the modules and filters read of files, on a host (host_probe) and on the controller:
# whether a path is an executable file, and SHA-256 digests.
#
# Deciding on a rerun whether a binary must be copied compares two digests: the controller's
# file (headscale 75 MB, tailscale and tailscaled 76 MB together) and the host's copy. Hashing
# them costs about 0.5 s of CPU per node on each side, on every rerun, for files that have not
# changed. DigestCache keeps the digest of a large file with the file's identity (device, inode,
# size, mtime and ctime, all in nanoseconds) and hashes again only when any of them changed.
# ctime cannot be set from user space and changes with every write; and, as git does for its
# index, a file changed less than RACY_SECONDS before it was hashed is not kept, since a second
# write within the same timestamp tick would keep every part of its identity.

import hashlib
import json
import os
import tempfile
import time

_HASH_CHUNK_SIZE = 1024 * 1024
# Smaller files are hashed on every read: cheap, and the cache never holds key or config files.
MIN_CACHED_SIZE = 1024 * 1024
RACY_SECONDS = 2
# The cache is a convenience: one larger than this (a damaged file) is ignored and rewritten.
MAX_CACHE_FILE_SIZE = 1024 * 1024


def is_executable_file(path):
    """Whether path (symlinks followed) is a regular file this process may execute."""
    return os.path.isfile(path) and os.access(path, os.X_OK)


def sha256_of_file(path):
    """Hex SHA-256 of the raw bytes of a file, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as input_file:
            for chunk in iter(lambda: input_file.read(_HASH_CHUNK_SIZE), b''):
                digest.update(chunk)
    except (IOError, OSError):
        return None
    return digest.hexdigest()


def file_identity(status):
    """What changes whenever a file's content may have: [device, inode, size, mtime_ns, ctime_ns]."""
    return [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns]


class DigestCache(object):
    """SHA-256 of files, large ones looked up by identity in a JSON file (cache_path) that save() writes.

    cache_path None: no cache (every file hashed). A cache that cannot be read is empty; one that
    cannot be written stays as it was: either way only time is lost.
    """

    def __init__(self, cache_path, now=None):
        self.cache_path = cache_path
        self.now = now or time.time
        self.entries = self._load()
        self.added = {}

    def _load(self):
        if self.cache_path is None:
            return {}
        try:
            with open(self.cache_path, 'rb') as cache_file:
                content = cache_file.read(MAX_CACHE_FILE_SIZE + 1)
            entries = json.loads(content.decode('utf-8')) if len(content) <= MAX_CACHE_FILE_SIZE else {}
        except (IOError, OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def sha256(self, path):
        """Hex SHA-256 of the file at path (symlinks followed), or None when it cannot be read."""
        try:
            status = os.stat(path)
        except OSError:
            return None
        if self.cache_path is None or status.st_size < MIN_CACHED_SIZE:
            return sha256_of_file(path)
        key = os.path.realpath(path)
        identity = file_identity(status)
        entry = self.entries.get(key)
        if isinstance(entry, dict) and entry.get('identity') == identity and isinstance(entry.get('sha256'), str):
            return entry['sha256']
        digest = sha256_of_file(path)
        if digest is not None and self.now() - max(status.st_mtime, status.st_ctime) >= RACY_SECONDS:
            self.added[key] = dict(identity=identity, sha256=digest)
        return digest

    def save(self):
        """Write the digests hashed since the cache was read, merged with what another process
        wrote meanwhile, dropping entries of files that are gone. Returns whether it wrote."""
        if self.cache_path is None or not self.added:
            return False
        entries = self._load()
        entries.update(self.added)
        entries = dict((key, entry) for key, entry in entries.items() if os.path.exists(key))
        directory = os.path.dirname(self.cache_path)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
            descriptor, temporary_path = tempfile.mkstemp(dir=directory, prefix='.digests-')
            try:
                with os.fdopen(descriptor, 'w') as cache_file:
                    json.dump(entries, cache_file, sort_keys=True)
                os.chmod(temporary_path, 0o644)
                os.rename(temporary_path, self.cache_path)
            except (IOError, OSError):
                os.unlink(temporary_path)
                raise
        except (IOError, OSError):
            return False
        self.entries = entries
        self.added = {}
        return True
