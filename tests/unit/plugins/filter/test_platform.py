# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.overlaynet.vpn.plugins.filter.platform import FilterModule

WANTED = {'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': '1'}


@pytest.fixture
def sysctl_problems():
    return FilterModule().filters()['sysctl_problems']


def test_filter_names():
    assert sorted(FilterModule().filters()) == ['files_to_write', 'firewall_paths', 'firewall_probe_request', 'forwarding_sysctls', 'sysctl_problems',
                                                'sysctls_match', 'sysctls_to_check', 'ufw_rules_to_change']


def test_read_only_container_with_values_given_at_creation_passes(sysctl_problems):
    assert sysctl_problems({'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1\n'}, False, WANTED, 'spoke1') == []


def test_read_only_container_that_lacks_a_value(sysctl_problems):
    problems = sysctl_problems({'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '0'},
                               {'net.ipv4.ip_forward': False, 'net.ipv6.conf.all.forwarding': False}, WANTED, 'hub1')
    assert problems == [
        "host hub1: sysctl net.ipv6.conf.all.forwarding is 0, needs 1, and /proc/sys is read-only here (a container's default): "
        "set it when the container is created (podman/docker run --sysctl net.ipv6.conf.all.forwarding=1; "
        "LXC: lxc.sysctl.net.ipv6.conf.all.forwarding = 1) or give the container a writable /proc/sys"]


def test_writable_host_passes_whatever_its_values(sysctl_problems):
    assert sysctl_problems({'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0'}, True, WANTED, 'hub1') == []


def test_missing_setting(sysctl_problems):
    problems = sysctl_problems({'net.ipv4.ip_forward': '1'}, True, WANTED, 'hub1')
    assert len(problems) == 1
    assert problems[0].startswith('host hub1: sysctl net.ipv6.conf.all.forwarding does not exist here')


@pytest.mark.parametrize('live, wanted', [
    ({}, {'net.ipv4.ip_forward': True}),
    ({}, {'net.ipv4.ip_forward': '1\n2'}),
    ('net.ipv4.ip_forward=1', WANTED),
    ({}, ['net.ipv4.ip_forward']),
])
def test_bad_input_is_a_filter_error(sysctl_problems, live, wanted):
    with pytest.raises(AnsibleFilterError) as excinfo:
        sysctl_problems(live, True, wanted, 'hub1')
    assert str(excinfo.value).startswith('sysctl_problems: ')
