# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A directory read once per run whose changes are staged in memory and written by commit(), only where a
file differs: what lets a module tell in check mode exactly what a real run would write, and write nothing
when nothing changed. Standard library only. Every file is written atomically with its mode from the first
byte; the directory and its subdirectories are 0700.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import (
    ensure_parent_directory,
    remove_if_present,
    sync_directory,
    write_temporary_file,
)

DIRECTORY_MODE = 0o700


class StagedDirectory(object):
    """Files under path by their relative paths: current() reads a file at most once, stage() and
    stage_removal() record what it should become, changes() lists what commit() will do."""

    def __init__(self, path):
        self.path = path
        self._files = {}
        self._staged = {}
        self._order = []
        # Relative directories found missing: no file in them is opened (a first run asks for hundreds). Only commit()
        # makes directories here, and it forgets this.
        self._missing_directories = set()

    def absolute(self, relative):
        """os.path.join(path, relative), spelled out: it is called thousands of times in a run."""
        path = self.path
        if path and not relative.startswith('/'):
            return (path if path.endswith('/') else path + '/') + relative
        return os.path.join(path, relative)

    def current(self, relative):
        """(bytes, mode) of a file as it is now, or (None, None); read at most once per run."""
        if relative not in self._files:
            self._files[relative] = self._read(relative)
        return self._files[relative]

    def _read(self, relative):
        directory = relative.rpartition('/')[0]
        if directory in self._missing_directories:
            return None, None
        try:
            with open(self.absolute(relative), 'rb') as handle:
                mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
                return handle.read(), mode
        except (IOError, OSError):
            if directory and not os.path.isdir(self.absolute(directory)):
                self._missing_directories.add(directory)
            return None, None

    def stage(self, relative, data, mode):
        """Make relative hold data with mode; a file that already does is left alone, one that differs only
        in its mode gets a chmod. Whether anything is staged."""
        return self._stage_if(self.current(relative) != (data, mode), relative, data, mode)

    def stage_removal(self, relative):
        """Remove relative (a file or a dangling link) if it exists. Whether anything is staged."""
        exists = self.current(relative)[0] is not None or os.path.lexists(self.absolute(relative))
        return self._stage_if(exists, relative, None, None)

    def _stage_if(self, needed, relative, data, mode):
        """Stage (data, mode) for relative when needed, else drop what was staged for it."""
        if not needed:
            if relative in self._staged:
                del self._staged[relative]
                self._order.remove(relative)
            return False
        if relative not in self._staged:
            self._order.append(relative)
        self._staged[relative] = (data, mode)
        return True

    def ensure_mode(self, relative, mode):
        """Keep a file's content and fix its mode if it differs."""
        data, current_mode = self.current(relative)
        if data is not None and relative not in self._staged and current_mode != mode:
            self.stage(relative, data, mode)

    def changes(self):
        """[(relative path, 'write'|'mode'|'remove')] in the order they are committed."""
        changes = []
        for relative in self._commit_order():
            data, mode = self._staged[relative]
            if data is None:
                changes.append((relative, 'remove'))
            elif self.current(relative)[0] == data:
                changes.append((relative, 'mode'))
            else:
                changes.append((relative, 'write'))
        return changes

    def commit_rank(self, relative):
        """Files are committed by rank, then in the order they were staged; a subclass ranks files whose order
        matters (for a run that stops half way)."""
        return 0

    def _commit_order(self):
        ranked = sorted((self.commit_rank(relative), index, relative) for index, relative in enumerate(self._order))
        return [relative for dummy, dummy, relative in ranked]

    def commit(self):
        """Write what is staged: the directory 0700, each file atomically with its mode from the first byte.

        Many files are written at once (500 certificates and keys): every new content goes to a temporary
        file first, all of them reach the disk with one sync, and only then do the renames happen, in commit
        order, followed by one sync per directory. As durable as a sync per file, at a fraction of the cost.
        """
        if not self._staged:
            return
        if not os.path.isdir(self.path):
            os.makedirs(self.path, DIRECTORY_MODE)
            os.chmod(self.path, DIRECTORY_MODE)
        changes = self.changes()
        self._missing_directories = set()
        temporary = {}
        try:
            parents = set()
            for relative, change in changes:
                if change == 'write':
                    absolute = self.absolute(relative)
                    data, mode = self._staged[relative]
                    parent = os.path.dirname(absolute)
                    if parent not in parents:
                        ensure_parent_directory(absolute)
                        parents.add(parent)
                    temporary[relative] = write_temporary_file(absolute, data, mode, sync=False)
            if temporary:
                os.sync()
            touched_directories = set()
            for relative, change in changes:
                absolute = self.absolute(relative)
                if change == 'remove':
                    remove_if_present(absolute)
                elif change == 'mode':
                    os.chmod(absolute, self._staged[relative][1])
                else:
                    os.replace(temporary[relative], absolute)
                    del temporary[relative]
                touched_directories.add(os.path.dirname(absolute))
            for directory in sorted(touched_directories):
                sync_directory(directory)
        finally:
            for temp_path in temporary.values():
                remove_if_present(temp_path)
        for relative, (data, mode) in self._staged.items():
            self._files[relative] = (data, mode)
        self._staged = {}
        self._order = []
