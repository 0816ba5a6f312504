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

from ansible_collections.overlaynet.vpn.plugins.modules import rendered_files
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, patch_exits

# Files owned by whoever runs the tests, so that they need no root.
OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch)


def entry(path, content, mode='0644'):
    return dict(path=str(path), content=content, mode=mode, owner=OWNER, group=GROUP)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_writes_missing_files_with_their_modes_and_parents(tmp_path):
    helper, unit = tmp_path / 'sbin' / 'helper', tmp_path / 'system' / 'x@.service'
    result = call_main(rendered_files.main, dict(files=[entry(helper, '#!/bin/sh\n', '0755'), entry(unit, '[Unit]\n')],
                                                 directory_mode='0750'))
    assert result['changed'] and result['changed_paths'] == [str(helper), str(unit)]
    assert helper.read_text() == '#!/bin/sh\n' and mode_of(helper) == 0o755
    assert unit.read_text() == '[Unit]\n' and mode_of(unit) == 0o644
    assert mode_of(tmp_path / 'sbin') == 0o750


def test_unchanged_files_are_left_alone(tmp_path):
    path = tmp_path / 'a.conf'
    call_main(rendered_files.main, dict(files=[entry(path, 'a = 1\n')]))
    before = os.stat(str(path)).st_ino
    result = call_main(rendered_files.main, dict(files=[entry(path, 'a = 1\n')]))
    assert not result['changed'] and result['changed_paths'] == []
    assert os.stat(str(path)).st_ino == before


def test_a_mode_change_alone_is_a_change(tmp_path):
    path = tmp_path / 'a.conf'
    call_main(rendered_files.main, dict(files=[entry(path, 'a = 1\n')]))
    result = call_main(rendered_files.main, dict(files=[entry(path, 'a = 1\n', '0600')]))
    assert result['changed_paths'] == [str(path)] and mode_of(path) == 0o600


def test_check_mode_previews_with_a_diff_and_writes_nothing(tmp_path):
    path = tmp_path / 'a.conf'
    path.write_text('a = 1\n')
    result = call_main(rendered_files.main, dict(files=[entry(path, 'a = 2\n')]), check_mode=True, diff=True)
    assert result['changed'] and result['diff'] == [dict(before_header=str(path), after_header=str(path), before='a = 1\n', after='a = 2\n')]
    assert path.read_text() == 'a = 1\n'


@pytest.mark.parametrize('files, message', [
    ([dict(path='relative/x', content='')], 'not an absolute path'),
    ([dict(path='/tmp/x', content='', mode='rw-r--r--')], 'octal mode'),
    ([dict(path='/tmp/x', content=''), dict(path='/tmp/x', content='')], 'given twice'),
])
def test_bad_entries_are_refused_before_anything_is_written(files, message):
    result = call_main(rendered_files.main, dict(files=files), fail=True)
    assert message in result['msg']


def directory(path, mode='0755'):
    return dict(path=str(path), mode=mode, owner=OWNER, group=GROUP)


def test_directories_come_first_with_their_modes_and_are_kept_after(tmp_path):
    tls, config = tmp_path / 'etc' / 'tls', tmp_path / 'etc' / 'tls' / 'a.crt'
    result = call_main(rendered_files.main, dict(directories=[directory(tls, '0750')], files=[entry(config, 'crt\n')]))
    assert result['changed_paths'] == [str(tls), str(config)]
    assert mode_of(tls) == 0o750 and config.read_text() == 'crt\n'
    again = call_main(rendered_files.main, dict(directories=[directory(tls, '0750')], files=[entry(config, 'crt\n')]))
    assert not again['changed'] and again['changed_paths'] == []


def test_a_directory_mode_changed_by_hand_is_put_back(tmp_path):
    tls = tmp_path / 'tls'
    call_main(rendered_files.main, dict(directories=[directory(tls, '0750')]))
    os.chmod(str(tls), 0o777)
    result = call_main(rendered_files.main, dict(directories=[directory(tls, '0750')]))
    assert result['changed_paths'] == [str(tls)] and mode_of(tls) == 0o750


def test_check_mode_names_a_missing_directory_and_makes_nothing(tmp_path):
    tls = tmp_path / 'tls'
    result = call_main(rendered_files.main, dict(directories=[directory(tls)]), check_mode=True, diff=True)
    assert result['changed'] and result['changed_paths'] == [str(tls)] and result['diff'] == []
    assert not tls.exists()


def test_a_path_given_as_a_directory_and_a_file_is_refused(tmp_path):
    path = str(tmp_path / 'x')
    result = call_main(rendered_files.main, dict(directories=[dict(path=path)], files=[dict(path=path, content='')]), fail=True)
    assert 'files[0].path: %s is given twice' % path in result['msg']
    assert not os.path.exists(path)


def test_absent_files_are_removed_and_shown_going_in_the_diff(tmp_path):
    old, missing = tmp_path / 'old.xml', tmp_path / 'never.xml'
    old.write_text('<old/>\n')
    result = call_main(rendered_files.main, dict(absent=[str(old), str(missing)]), diff=True)
    assert result['changed_paths'] == [str(old)] and not old.exists()
    assert result['diff'] == [dict(before_header=str(old), after_header=str(old), before='<old/>\n', after='')]
    assert not call_main(rendered_files.main, dict(absent=[str(old)]))['changed']


def checker_accepting_only(text, directory):
    """A real checker, as firewall-cmd --check-config is one: fails when any file of directory holds text."""
    return ['sh', '-c', '! grep -rq -- "%s" "%s"' % (text, directory)]


def test_files_the_check_accepts_stay(tmp_path):
    zone, policy = tmp_path / 'zone.xml', tmp_path / 'policy.xml'
    policy.write_text('<policy/>\n')
    result = call_main(rendered_files.main, dict(files=[entry(zone, '<zone/>\n')], absent=[str(policy)],
                                                 check_command=checker_accepting_only('broken', tmp_path)))
    assert result['changed_paths'] == [str(zone), str(policy)]
    assert zone.read_text() == '<zone/>\n' and not policy.exists()


def test_files_the_check_refuses_are_put_back_as_they_were(tmp_path):
    changed, new, removed = tmp_path / 'changed.xml', tmp_path / 'new.xml', tmp_path / 'removed.xml'
    changed.write_text('<zone>working</zone>\n')
    os.chmod(str(changed), 0o640)
    removed.write_text('<policy>working</policy>\n')
    result = call_main(rendered_files.main, dict(files=[entry(changed, '<zone>broken</zone>\n'), entry(new, '<new/>\n')],
                                                 absent=[str(removed)], check_command=checker_accepting_only('broken', tmp_path)),
                       fail=True)
    assert 'refused the new files, which were put back as they were' in result['msg']
    assert changed.read_text() == '<zone>working</zone>\n' and mode_of(changed) == 0o640
    assert removed.read_text() == '<policy>working</policy>\n'
    assert not new.exists()


def test_the_check_runs_only_when_a_file_changes(tmp_path):
    path = tmp_path / 'zone.xml'
    call_main(rendered_files.main, dict(files=[entry(path, '<zone/>\n')]))
    result = call_main(rendered_files.main, dict(files=[entry(path, '<zone/>\n')], check_command=['false']))
    assert not result['changed']


def test_check_mode_runs_no_check_and_changes_nothing(tmp_path):
    path, gone = tmp_path / 'zone.xml', tmp_path / 'policy.xml'
    gone.write_text('<policy/>\n')
    result = call_main(rendered_files.main, dict(files=[entry(path, '<zone/>\n')], absent=[str(gone)], check_command=['false']),
                       check_mode=True)
    assert result['changed_paths'] == [str(path), str(gone)]
    assert not path.exists() and gone.exists()
