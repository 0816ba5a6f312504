# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import time

from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import MIN_CACHED_SIZE, DigestCache, sha256_of_file

LARGE = b'x' * MIN_CACHED_SIZE
OTHER_LARGE = b'y' * MIN_CACHED_SIZE
FAKE_DIGEST = 'f' * 64


def later():
    """A clock well past the files' last change: none of them is racy."""
    return time.time() + 60


def written(path, content, age_seconds=0):
    path.write_bytes(content)
    if age_seconds:
        past = time.time() - age_seconds
        os.utime(str(path), (past, past))
    return str(path)


def cached_entries(cache_path):
    with open(str(cache_path)) as cache_file:
        return json.load(cache_file)


def test_sha256_of_file_and_of_a_missing_one(tmp_path):
    path = written(tmp_path / 'f', b'abc')
    assert sha256_of_file(path) == hashlib.sha256(b'abc').hexdigest()
    assert sha256_of_file(str(tmp_path / 'missing')) is None


def test_a_large_file_is_hashed_once_and_then_read_from_the_cache(tmp_path):
    binary = written(tmp_path / 'binary', LARGE)
    cache_path = tmp_path / 'cache' / 'digests.json'
    first = DigestCache(str(cache_path), now=later)
    assert first.sha256(binary) == hashlib.sha256(LARGE).hexdigest()
    assert first.save() is True
    assert oct(os.stat(str(cache_path)).st_mode & 0o777) == '0o644'
    # The next reader trusts the entry while the file keeps its identity: a planted digest shows it was not hashed again.
    entries = cached_entries(cache_path)
    entries[os.path.realpath(binary)]['sha256'] = FAKE_DIGEST
    cache_path.write_text(json.dumps(entries))
    assert DigestCache(str(cache_path), now=later).sha256(binary) == FAKE_DIGEST


def test_a_changed_file_is_hashed_again(tmp_path):
    binary = written(tmp_path / 'binary', LARGE)
    cache_path = tmp_path / 'digests.json'
    first = DigestCache(str(cache_path), now=later)
    first.sha256(binary)
    first.save()
    entries = cached_entries(cache_path)
    entries[os.path.realpath(binary)]['sha256'] = FAKE_DIGEST
    cache_path.write_text(json.dumps(entries))
    # Same size, and mtime set back to what it was: ctime still changed with the write.
    before = os.stat(binary)
    written(tmp_path / 'binary', OTHER_LARGE)
    os.utime(binary, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert DigestCache(str(cache_path), now=later).sha256(binary) == hashlib.sha256(OTHER_LARGE).hexdigest()


def test_a_file_changed_just_before_it_was_hashed_is_not_kept(tmp_path):
    binary = written(tmp_path / 'binary', LARGE)
    cache = DigestCache(str(tmp_path / 'digests.json'))
    assert cache.sha256(binary) == hashlib.sha256(LARGE).hexdigest()
    assert cache.save() is False
    assert not (tmp_path / 'digests.json').exists()


def test_small_files_are_never_cached(tmp_path):
    small = written(tmp_path / 'key', b'secret')
    cache = DigestCache(str(tmp_path / 'digests.json'), now=later)
    assert cache.sha256(small) == hashlib.sha256(b'secret').hexdigest()
    assert cache.save() is False


def test_without_a_cache_path_every_file_is_hashed(tmp_path):
    binary = written(tmp_path / 'binary', LARGE)
    cache = DigestCache(None, now=later)
    assert cache.sha256(binary) == hashlib.sha256(LARGE).hexdigest()
    assert cache.save() is False


def test_save_keeps_what_another_process_wrote_and_drops_files_that_are_gone(tmp_path):
    one = written(tmp_path / 'one', LARGE)
    two = written(tmp_path / 'two', OTHER_LARGE)
    cache_path = str(tmp_path / 'digests.json')
    first = DigestCache(cache_path, now=later)
    second = DigestCache(cache_path, now=later)
    first.sha256(one)
    second.sha256(two)
    first.save()
    second.save()
    assert sorted(cached_entries(cache_path)) == sorted([os.path.realpath(one), os.path.realpath(two)])
    os.unlink(one)
    third = DigestCache(cache_path, now=later)
    written(tmp_path / 'three', LARGE)
    third.sha256(str(tmp_path / 'three'))
    third.save()
    assert sorted(cached_entries(cache_path)) == sorted([os.path.realpath(two), os.path.realpath(str(tmp_path / 'three'))])


def test_a_damaged_cache_is_ignored_and_replaced(tmp_path):
    binary = written(tmp_path / 'binary', LARGE)
    cache_path = tmp_path / 'digests.json'
    for damage in ('{not json', '[1, 2]'):
        cache_path.write_text(damage)
        cache = DigestCache(str(cache_path), now=later)
        assert cache.sha256(binary) == hashlib.sha256(LARGE).hexdigest()
        assert cache.save() is True
        assert list(cached_entries(cache_path)) == [os.path.realpath(binary)]


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path):
    binary = written(tmp_path / 'binary', LARGE)
    blocker = tmp_path / 'not-a-directory'
    blocker.write_text('')
    cache = DigestCache(str(blocker / 'digests.json'), now=later)
    assert cache.sha256(binary) == hashlib.sha256(LARGE).hexdigest()
    assert cache.save() is False


def test_a_missing_file_has_no_digest(tmp_path):
    assert DigestCache(str(tmp_path / 'digests.json'), now=later).sha256(str(tmp_path / 'missing')) is None
