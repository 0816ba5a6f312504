# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._install_source import install_settings, install_source_problems, setting_variables

CHECKSUM = 'sha256:' + 'aB3' * 21 + 'f'


@pytest.fixture
def binary(tmp_path):
    path = tmp_path / 'daemon'
    path.write_text('#!/bin/sh\n')
    return str(path)


def test_setting_variables_and_install_settings_use_the_prefix():
    assert setting_variables('tailscale') == {'tailscale_source': 'package', 'tailscale_file': '', 'tailscale_url': '', 'tailscale_checksum': '',
                                              'tailscale_binary': ''}
    variables = {'tailscale_source': 'url', 'tailscale_url': 'https://x/y', 'wireguard_userspace_source': 'file'}
    assert install_settings('tailscale', variables) == {'source': 'url', 'file': '', 'url': 'https://x/y', 'checksum': '', 'binary': ''}


def test_valid_settings_have_no_problems(binary):
    assert install_source_problems('wireguard_userspace', 'h1', {}) == []
    assert install_source_problems('wireguard_userspace', 'h1', {'source': 'package', 'binary': '/usr/bin/wireguard-go'}) == []
    assert install_source_problems('wireguard_userspace', 'h1', {'source': 'file', 'file': binary}) == []
    assert install_source_problems('wireguard_userspace', 'h1', {'source': 'url', 'url': 'http://10.0.0.1:8000/wg', 'checksum': CHECKSUM}) == []
    # A checksum may end in one newline, as one pasted from sha256sum's output into a vault value does.
    assert install_source_problems('wireguard_userspace', 'h1', {'source': 'url', 'url': 'https://x', 'checksum': CHECKSUM + '\n'}) == []
    # Settings the source does not use are not checked.
    assert install_source_problems('wireguard_userspace', 'h1', {'source': 'package', 'file': '/nonexistent', 'url': 'ftp://x'}) == []


@pytest.mark.parametrize('settings, message', [
    ({'binary': 'usr/bin/wireguard-go'}, 'host h1: wireguard_userspace_binary: usr/bin/wireguard-go is not an absolute path'),
    ({'binary': 7}, 'host h1: wireguard_userspace_binary: 7 is not an absolute path'),
    ({'source': 'file'}, 'host h1: wireguard_userspace_file: (empty) is not a file on the controller (wireguard_userspace_source: file)'),
    ({'source': 'file', 'file': '/nonexistent/wireguard-go'},
     'host h1: wireguard_userspace_file: /nonexistent/wireguard-go is not a file on the controller (wireguard_userspace_source: file)'),
    ({'source': 'file', 'file': None}, 'host h1: wireguard_userspace_file: (empty) is not a file on the controller (wireguard_userspace_source: file)'),
    ({'source': 'url'}, 'host h1: wireguard_userspace_url: (empty) is not an http(s) address (wireguard_userspace_source: url)'),
    ({'source': 'url', 'url': 'ftp://x/y', 'checksum': CHECKSUM},
     'host h1: wireguard_userspace_url: ftp://x/y is not an http(s) address (wireguard_userspace_source: url)'),
    ({'source': 'url', 'url': 'https:///path', 'checksum': CHECKSUM},
     'host h1: wireguard_userspace_url: https:///path is not an http(s) address (wireguard_userspace_source: url)'),
    ({'source': 'url', 'url': 'https://x/y'}, 'host h1: wireguard_userspace_checksum: must be sha256: and 64 hex digits (wireguard_userspace_source: url)'),
    ({'source': 'url', 'url': 'https://x/y', 'checksum': CHECKSUM[:-1]},
     'host h1: wireguard_userspace_checksum: must be sha256: and 64 hex digits (wireguard_userspace_source: url)'),
    ({'source': 'url', 'url': 'https://x/y', 'checksum': 'md5:' + 'a' * 32},
     'host h1: wireguard_userspace_checksum: must be sha256: and 64 hex digits (wireguard_userspace_source: url)'),
    ({'source': 'distro'}, "host h1: wireguard_userspace_source: 'distro' must be one of package, file, url"),
])
def test_each_problem_names_the_host_and_the_variable(settings, message):
    assert install_source_problems('wireguard_userspace', 'h1', settings) == [message]


def test_a_directory_is_not_a_file(tmp_path):
    assert install_source_problems('x', 'h', {'source': 'file', 'file': str(tmp_path)}) == [
        'host h: x_file: %s is not a file on the controller (x_source: file)' % tmp_path]


def test_url_problem_comes_before_checksum_and_binary_is_checked_too():
    problems = install_source_problems('netbird', 'relay1', {'source': 'url', 'url': '', 'checksum': '', 'binary': 'netbird'})
    assert problems == ['host relay1: netbird_binary: netbird is not an absolute path',
                        'host relay1: netbird_url: (empty) is not an http(s) address (netbird_source: url)']
