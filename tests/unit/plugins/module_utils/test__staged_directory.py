# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._staged_directory import StagedDirectory
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import mode_of, tree_stamps


class LastFirst(StagedDirectory):
    """Commits 'last' after everything else, whatever the order it was staged in."""

    def commit_rank(self, relative):
        return 1 if relative == 'last' else 0


def test_nothing_is_written_before_commit_and_commit_writes_with_modes(tmp_path):
    root = tmp_path / 'store'
    directory = StagedDirectory(str(root))
    assert directory.stage('a', b'one\n', 0o644) is True
    assert directory.stage('sub/b', b'two\n', 0o600) is True
    assert directory.changes() == [('a', 'write'), ('sub/b', 'write')]
    assert not root.exists()
    directory.commit()
    assert (root / 'a').read_bytes() == b'one\n' and (root / 'sub' / 'b').read_bytes() == b'two\n'
    assert (mode_of(root), mode_of(root / 'sub'), mode_of(root / 'a'), mode_of(root / 'sub' / 'b')) == (0o700, 0o700, 0o644, 0o600)
    assert directory.changes() == []


def test_a_file_that_already_holds_the_content_is_left_alone_and_a_mode_alone_is_a_chmod(tmp_path):
    root = tmp_path / 'store'
    first = StagedDirectory(str(root))
    first.stage('a', b'one\n', 0o644)
    first.stage('b', b'two\n', 0o644)
    first.commit()
    stamps = tree_stamps(root)
    again = StagedDirectory(str(root))
    assert again.stage('a', b'one\n', 0o644) is False
    assert again.stage('b', b'two\n', 0o600) is True
    assert again.changes() == [('b', 'mode')]
    again.commit()
    assert mode_of(root / 'b') == 0o600
    # A chmod keeps the file (same inode, same content).
    assert tree_stamps(root)['b'][0] == stamps['b'][0] and (root / 'b').read_bytes() == b'two\n'


def test_staging_the_current_content_again_drops_what_was_staged(tmp_path):
    root = tmp_path / 'store'
    first = StagedDirectory(str(root))
    first.stage('a', b'one\n', 0o644)
    first.commit()
    directory = StagedDirectory(str(root))
    directory.stage('a', b'changed\n', 0o644)
    assert directory.changes() == [('a', 'write')]
    assert directory.stage('a', b'one\n', 0o644) is False
    assert directory.changes() == []


def test_removal_of_files_and_dangling_links_only_where_there_is_something(tmp_path):
    root = tmp_path / 'store'
    root.mkdir()
    (root / 'a').write_text('one\n')
    os.symlink(str(root / 'nowhere'), str(root / 'dangling'))
    directory = StagedDirectory(str(root))
    assert directory.stage_removal('missing') is False
    assert directory.stage_removal('a') is True
    assert directory.stage_removal('dangling') is True
    assert directory.changes() == [('a', 'remove'), ('dangling', 'remove')]
    directory.commit()
    assert sorted(os.listdir(str(root))) == []


def test_files_are_committed_by_rank_then_in_staging_order(tmp_path):
    directory = LastFirst(str(tmp_path / 'store'))
    for name in ('last', 'b', 'a'):
        directory.stage(name, name.encode('ascii'), 0o600)
    assert [relative for relative, change in directory.changes()] == ['b', 'a', 'last']


def test_commit_syncs_once_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    syncs = []
    monkeypatch.setattr(os, 'sync', lambda: syncs.append(1))
    directory = StagedDirectory(str(tmp_path / 'store'))
    for index in range(20):
        directory.stage('issued/c%02d.crt' % index, b'cert %d\n' % index, 0o644)
    directory.stage('private/k.key', b'key\n', 0o600)
    directory.commit()
    assert syncs == [1]
    names = sorted(os.listdir(str(tmp_path / 'store' / 'issued')))
    assert names == ['c%02d.crt' % index for index in range(20)]
    assert oct(os.stat(str(tmp_path / 'store' / 'private' / 'k.key')).st_mode & 0o777) == oct(0o600)
    assert (tmp_path / 'store' / 'issued' / 'c07.crt').read_bytes() == b'cert 7\n'


def test_a_failed_commit_leaves_the_old_files_and_no_temporary_file(tmp_path, monkeypatch):
    directory = StagedDirectory(str(tmp_path / 'store'))
    directory.stage('a.txt', b'old\n', 0o600)
    directory.commit()
    directory = StagedDirectory(str(tmp_path / 'store'))
    directory.stage('a.txt', b'new\n', 0o600)
    directory.stage('b.txt', b'b\n', 0o600)

    def fail_replace(source, destination):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'replace', fail_replace)
    with pytest.raises(OSError):
        directory.commit()
    assert sorted(os.listdir(str(tmp_path / 'store'))) == ['a.txt']
    assert (tmp_path / 'store' / 'a.txt').read_bytes() == b'old\n'


def test_files_in_a_missing_directory_are_not_opened_but_are_read_after_commit(tmp_path, monkeypatch):
    root = tmp_path / 'store'
    root.mkdir()
    (root / 'top').write_bytes(b'top\n')
    directory = StagedDirectory(str(root))
    opened = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        opened.append(os.path.relpath(str(path), str(root)))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr('builtins.open', counting_open)
    assert directory.current('sub/a')[0] is None and directory.current('sub/b')[0] is None
    assert directory.current('sub/deeper/c') == (None, None)
    assert directory.current('top') == (b'top\n', 0o666 & ~current_umask())
    assert opened == ['sub/a', 'sub/deeper/c', 'top']
    directory.stage('sub/a', b'a\n', 0o600)
    directory.commit()
    assert directory.current('sub/a') == (b'a\n', 0o600)
    (root / 'sub' / 'b').write_bytes(b'b\n')
    # A new run reads the directory afresh.
    assert StagedDirectory(str(root)).current('sub/b')[0] == b'b\n'


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_files_get_their_mode_whatever_the_umask(tmp_path):
    mask = os.umask(0o077)
    try:
        directory = StagedDirectory(str(tmp_path / 'store'))
        directory.stage('public', b'p\n', 0o644)
        directory.stage('sub/private', b'k\n', 0o600)
        directory.commit()
    finally:
        os.umask(mask)
    assert mode_of(tmp_path / 'store' / 'public') == 0o644 and mode_of(tmp_path / 'store' / 'sub' / 'private') == 0o600
    assert (tmp_path / 'store' / 'public').read_bytes() == b'p\n'
