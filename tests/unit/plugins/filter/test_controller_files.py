# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import time

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.overlaynet.vpn.plugins.filter.controller_files import (
    binaries_to_install,
    binary_install_needed,
    controller_file_sha256,
    installed_binary_sha256,
)
from ansible_collections.overlaynet.vpn.plugins.plugin_utils._controller_files import controller_digest_cache_path


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache-home'))
    return tmp_path / 'cache-home'


def test_sha256_of_a_file_larger_than_one_read_block(tmp_path):
    content = bytes(range(256)) * 5000  # 1.2 MiB: more than one read block
    path = tmp_path / "binary"
    path.write_bytes(content)
    assert controller_file_sha256(str(path)) == hashlib.sha256(content).hexdigest()


def test_a_large_file_is_hashed_again_only_once_it_changed(tmp_path, cache_home):
    path = tmp_path / "binary"
    path.write_bytes(b"a" * 2 * 1024 * 1024)
    long_ago = time.time() - 3600
    os.utime(str(path), (long_ago, long_ago))
    # ctime is now: the first digest is not kept until the file has been still for a while.
    controller_file_sha256(str(path))
    assert not os.path.exists(controller_digest_cache_path())
    assert controller_digest_cache_path().startswith(str(cache_home))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AnsibleFilterError, match="cannot read .*missing"):
        controller_file_sha256(str(tmp_path / "missing"))


def test_installed_binary_sha256_by_source(tmp_path):
    binary = tmp_path / 'tailscaled'
    binary.write_bytes(b'binary')
    assert installed_binary_sha256('file', str(binary)) == hashlib.sha256(b'binary').hexdigest()
    assert installed_binary_sha256('url', checksum='sha256:ABCDEF') == 'abcdef'
    assert installed_binary_sha256('package') is None


def test_a_binary_is_installed_where_the_hosts_differs_and_never_for_a_package(tmp_path):
    binary = tmp_path / 'tailscaled'
    binary.write_bytes(b'binary')
    digest = hashlib.sha256(b'binary').hexdigest()
    assert binary_install_needed('file', digest, str(binary)) is False
    assert binary_install_needed('file', '0' * 64, str(binary)) is True
    for missing in ('', None):
        assert binary_install_needed('file', missing, str(binary)) is True
        assert binary_install_needed('url', missing, checksum='sha256:' + digest.upper()) is True
    assert binary_install_needed('url', digest, checksum='sha256:' + digest.upper()) is False
    assert binary_install_needed('package', '') is False and binary_install_needed('package', digest) is False


def test_binaries_to_install_by_source(tmp_path):
    cli, daemon = tmp_path / 'tailscale', tmp_path / 'tailscaled'
    cli.write_bytes(b'cli')
    daemon.write_bytes(b'daemon')
    checksum = 'sha256:' + 'b' * 64
    binaries = [
        dict(source='file', file=str(cli), binary='/usr/local/bin/tailscale', installed_sha256=''),
        dict(source='file', file=str(daemon), binary='/usr/local/sbin/tailscaled',
             installed_sha256=hashlib.sha256(b'daemon').hexdigest()),
        dict(source='url', url='https://example.net/headscale', checksum=checksum, binary='/usr/local/bin/headscale',
             installed_sha256='a' * 64),
        dict(source='url', url='https://example.net/same', checksum=checksum, binary='/usr/local/bin/same', installed_sha256='b' * 64),
        dict(source='package', binary='/usr/bin/wg'),
    ]
    assert binaries_to_install(binaries, 'file') == [{'src': str(cli), 'dest': '/usr/local/bin/tailscale'}]
    assert binaries_to_install(binaries, 'url') == [{'url': 'https://example.net/headscale', 'checksum': checksum,
                                                     'dest': '/usr/local/bin/headscale'}]
    assert binaries_to_install([], 'file') == []
    with pytest.raises(AnsibleFilterError, match='source must be file or url'):
        binaries_to_install(binaries, 'package')
