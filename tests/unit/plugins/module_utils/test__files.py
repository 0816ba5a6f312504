# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import os
import pwd
import stat

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._files import (
    FileWriteError,
    files_argument_spec,
    plan_files,
    write_planned_files,
)

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def entry(path, content=None, mode=None):
    """A file (with content) or directory entry owned by whoever runs the tests."""
    value = dict(path=str(path), owner=ME, group=MY_GROUP)
    if content is not None:
        value['content'] = content
    if mode is not None:
        value['mode'] = mode
    return value


def test_the_argument_spec_is_a_fresh_copy_each_time():
    first = files_argument_spec()
    first['files']['options']['mode']['default'] = '0600'
    assert files_argument_spec()['files']['options']['mode']['default'] == '0644'
    assert files_argument_spec()['directories']['options']['mode']['default'] == '0755'


def test_a_plan_holds_only_what_differs_and_diffs_only_content(tmp_path):
    same = tmp_path / 'same'
    same.write_text(u'kept\n')
    os.chmod(str(same), 0o644)
    other_mode = tmp_path / 'other-mode'
    other_mode.write_text(u'kept\n')
    os.chmod(str(other_mode), 0o600)
    new = tmp_path / 'etc' / 'new'
    plan = plan_files([entry(same, u'kept\n'), entry(other_mode, u'kept\n'), entry(new, u'fresh\n')],
                      [entry(tmp_path, mode='%o' % stat.S_IMODE(os.stat(str(tmp_path)).st_mode)), entry(tmp_path / 'etc', mode='0750')])
    assert [item['path'] for item in plan['directories']] == [str(tmp_path / 'etc')]
    assert [item['path'] for item in plan['files']] == [str(other_mode), str(new)]
    assert plan['diff'] == [dict(before_header=str(new), after_header=str(new), before='', after=u'fresh\n')]


def test_writing_a_plan_makes_the_directories_first_then_the_files(tmp_path):
    directory = tmp_path / 'etc'
    path = directory / 'settings'
    files, directories = [entry(path, u'PORT=1\n', mode='0640')], [entry(directory, mode='0750')]
    write_planned_files(plan_files(files, directories), 0o755)
    assert stat.S_IMODE(os.stat(str(directory)).st_mode) == 0o750
    assert path.read_text() == u'PORT=1\n' and stat.S_IMODE(os.stat(str(path)).st_mode) == 0o640
    assert plan_files(files, directories) == dict(directories=[], files=[], absent=[], previous={}, diff=[])


def test_an_entry_that_cannot_be_written_is_named(tmp_path):
    blocker = tmp_path / 'not-a-directory'
    blocker.write_text(u'')
    with pytest.raises(FileWriteError, match='cannot write %s/settings' % blocker):
        write_planned_files(plan_files([entry(blocker / 'settings', u'x\n')], []), 0o755)
    with pytest.raises(FileWriteError, match='cannot make the directory %s/sub' % blocker):
        write_planned_files(plan_files([], [entry(blocker / 'sub')]), 0o755)
