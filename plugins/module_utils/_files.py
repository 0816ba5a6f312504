# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Several small files rendered on the controller, written in one module run where they differ
# (a template task costs two module runs per file: a stat, then the copy). Content, mode and
# ownership are compared; a file is replaced atomically with its mode from its first byte.
# Directories with their own mode and owner (say one a daemon's group must enter) come in the
# same run, before the files (ansible.builtin.file costs a module run per directory).

import grp
import os
import pwd
import stat

from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import (
    read_text_or_none,
    remove_if_present,
    write_private_file,
)

MODE_DIGITS = frozenset('01234567')


class FileWriteError(Exception):
    """A directory or file of a plan that could not be written; the message names its path."""


def files_argument_spec():
    """The options files and directories of a module that writes them (documented by the doc fragment
    overlaynet.vpn.files), a fresh copy for each module."""
    def attributes(mode):
        return dict(path=dict(type='path', required=True), mode=dict(type='str', default=mode),
                    owner=dict(type='str', default='root'), group=dict(type='str', default='root'))
    return dict(
        files=dict(type='list', elements='dict', default=[], options=dict(attributes('0644'), content=dict(type='str', required=True))),
        directories=dict(type='list', elements='dict', default=[], options=attributes('0755')),
    )


def parse_mode(text, what):
    """'0644' -> 0o644; raises ValueError naming what for anything but 3 or 4 octal digits."""
    text = str(text)
    if not 3 <= len(text) <= 4 or not set(text) <= MODE_DIGITS:
        raise ValueError('%s must be an octal mode such as 0644, got %r' % (what, text))
    return int(text, 8)


def file_problems(files, directories=()):
    """Messages for entries of the options files and directories that cannot be written (relative or repeated paths,
    bad modes)."""
    problems = []
    seen = set()
    entries = [('directories[%d]' % index, entry) for index, entry in enumerate(directories)]
    entries += [('files[%d]' % index, entry) for index, entry in enumerate(files)]
    for where, entry in entries:
        path = entry.get('path') or ''
        if not os.path.isabs(path):
            problems.append('%s.path: %r is not an absolute path' % (where, path))
        elif path in seen:
            problems.append('%s.path: %s is given twice' % (where, path))
        seen.add(path)
        try:
            parse_mode(entry.get('mode', '0644'), '%s.mode' % where)
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def _attributes(path):
    """(mode, owner, group) of path, (None, None, None) when it does not exist."""
    try:
        status = os.stat(path)
    except OSError:
        return None, None, None
    try:
        owner = pwd.getpwuid(status.st_uid).pw_name
    except KeyError:
        owner = str(status.st_uid)
    try:
        group = grp.getgrgid(status.st_gid).gr_name
    except KeyError:
        group = str(status.st_gid)
    return stat.S_IMODE(status.st_mode), owner, group


def current_state(path):
    """(text or None, mode or None, owner or None, group or None) of a file."""
    mode, owner, group = _attributes(path)
    if mode is None:
        return None, None, None, None
    return read_text_or_none(path), mode, owner, group


def directory_changed(entry):
    """Whether the directory of entry (path, mode, owner, group) is missing, not a directory, or has other attributes."""
    if not os.path.isdir(entry['path']):
        return True
    return _attributes(entry['path']) != (parse_mode(entry.get('mode', '0755'), 'mode'), entry.get('owner', 'root'), entry.get('group', 'root'))


def plan_file(entry):
    """What writing entry changes: {'path', 'content_changed', 'attributes_changed', 'before', 'state' (the file's
    current_state())}."""
    state = current_state(entry['path'])
    text, mode, owner, group = state
    wanted_mode = parse_mode(entry.get('mode', '0644'), 'mode')
    return {
        'path': entry['path'],
        'content_changed': text != entry['content'],
        'attributes_changed': text is not None and (mode != wanted_mode or owner != entry.get('owner', 'root')
                                                    or group != entry.get('group', 'root')),
        'before': text,
        'state': state,
    }


def _chown(path, entry):
    os.chown(path, pwd.getpwnam(entry.get('owner', 'root')).pw_uid, grp.getgrnam(entry.get('group', 'root')).gr_gid)


def write_directory(entry, directory_mode):
    """Create the directory of entry (and missing parents, with directory_mode), then set its mode and owner."""
    path = entry['path']
    if not os.path.isdir(path):
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent)
            os.chmod(parent, directory_mode)
        os.mkdir(path, 0o700)
    _chown(path, entry)
    os.chmod(path, parse_mode(entry.get('mode', '0755'), 'mode'))


def write_file(entry, directory_mode):
    """Write entry (content, mode, owner, group), creating missing parent directories."""
    path = entry['path']
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
        os.chmod(parent, directory_mode)
    mode = parse_mode(entry.get('mode', '0644'), 'mode')
    if read_text_or_none(path) != entry['content']:
        write_private_file(path, entry['content'], mode=mode)
    os.chmod(path, mode)
    _chown(path, entry)


def plan_files(files, directories, absent=()):
    """What writing directories, then files, and removing the paths of absent changes on this host:
    {'directories': the directory entries to write, 'files': the file entries to write, 'absent': the paths to
    remove that exist, 'previous': what each file to write or remove was ({path: (text, mode, owner, group)}, text
    None for a missing file), 'diff': a before/after pair per file whose content changes or that goes}."""
    plans = [plan_file(entry) for entry in files]
    changed = [(plan, entry) for plan, entry in zip(plans, files) if plan['content_changed'] or plan['attributes_changed']]
    # Each file is read once: its state serves the diff and, after a refused check, putting it back.
    removed_states = [(path, current_state(path)) for path in absent if os.path.lexists(path)]
    return {
        'directories': [entry for entry in directories if directory_changed(entry)],
        'files': [entry for plan, entry in changed],
        'absent': [path for path, state in removed_states],
        'previous': dict([(plan['path'], plan['state']) for plan, entry in changed] + removed_states),
        'diff': [dict(before_header=plan['path'], after_header=plan['path'], before=plan['before'] or '', after=entry['content'])
                 for plan, entry in zip(plans, files) if plan['content_changed']]
        + [dict(before_header=path, after_header=path, before=state[0] or '', after='') for path, state in removed_states],
    }


def write_planned_files(plan, directory_mode):
    """Write what plan_files found different, directories first; missing parents get directory_mode. Raises
    FileWriteError at the first entry that cannot be written."""
    for entry in plan['directories']:
        try:
            write_directory(entry, directory_mode)
        except (IOError, OSError, KeyError) as exc:
            raise FileWriteError('cannot make the directory %s: %s' % (entry['path'], getattr(exc, 'strerror', None) or exc))
    for entry in plan['files']:
        try:
            write_file(entry, directory_mode)
        except (IOError, OSError, KeyError) as exc:
            raise FileWriteError('cannot write %s: %s' % (entry['path'], getattr(exc, 'strerror', None) or exc))
    for path in plan.get('absent', []):
        try:
            remove_if_present(path)
        except OSError as exc:
            raise FileWriteError('cannot remove %s: %s' % (path, exc.strerror or exc))


def restore_previous_files(plan):
    """Put every file plan_files wrote or removed back as it was (a file that did not exist is removed again);
    directories it made stay. Raises FileWriteError at the first file that cannot be put back."""
    for path, (text, mode, owner, group) in sorted(plan['previous'].items()):
        try:
            if text is None and mode is None:
                remove_if_present(path)
            else:
                write_file(dict(path=path, content=text or '', mode='%04o' % mode, owner=owner, group=group), 0o755)
        except (IOError, OSError, KeyError) as exc:
            raise FileWriteError('cannot put %s back as it was: %s' % (path, getattr(exc, 'strerror', None) or exc))
