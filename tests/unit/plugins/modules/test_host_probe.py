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

from unittest.mock import patch

from ansible.module_utils import basic

from ansible_collections.overlaynet.vpn.plugins.module_utils import _file_facts
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_runtime import live_state_digest, parse_ip_addr_json, parse_wg_dump
from ansible_collections.overlaynet.vpn.plugins.modules import host_probe
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.fake_host_tree import (
    DEBIAN_OS_RELEASE,
    GROUP,
    PRIVATE_KEY,
    PUBLIC_KEY,
    USER,
    assert_no_private_key,
    link,
    write,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, module_args, patch_exits

HELPER = b'#!/bin/sh\n# the unit helper\n'
# The WireGuard role's task, as documented in EXAMPLES.
ROLE_ARGS = dict(
    commands=['wg', 'wg-quick', 'nft'],
    unit_templates=['overlaynet-wireguard'],
    files=['/usr/local/sbin/overlaynet-wireguard', '/etc/systemd/system/overlaynet-wireguard@.service',
           '/etc/wireguard/overlaynet-wireguard.nft', '/etc/systemd/system/overlaynet-wireguard-nftables.service',
           '/usr/local/sbin/wireguard-go'],
    globs=['/etc/wireguard/*.psk'],
    wireguard_kernel=True,
    wireguard_key_dir='/etc/wireguard',
    sysctls=['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'],
)


class FakeHost(object):
    """The kernel's answer to `ip link add`, the commands run and every message the module gave."""

    def __init__(self, kernel_wireguard):
        self.kernel_wireguard = kernel_wireguard
        self.commands = []
        self.messages = []

    def run_command(self, args, **kwargs):
        self.commands.append(' '.join(args))
        if args[1:3] == ['link', 'add'] and not self.kernel_wireguard:
            return 2, '', 'Error: Unknown device type.\n'
        return 0, '', ''


@pytest.fixture
def host(tmp_path, monkeypatch):
    patch_exits(monkeypatch)
    root = str(tmp_path)
    write(root, '/etc/os-release', DEBIAN_OS_RELEASE)
    write(root, '/usr/bin/wg', '', 0o755)
    write(root, '/usr/sbin/nft', '', 0o755)
    write(root, '/usr/local/sbin/overlaynet-wireguard', HELPER, 0o755)
    write(root, '/etc/wireguard/wg0.key', PRIVATE_KEY + '\n', 0o600)
    write(root, '/etc/wireguard/wg0.psk', 'psk\n', 0o600)
    write(root, '/proc/sys/net/ipv4/ip_forward', '1\n')
    write(root, '/proc/sys/net/ipv6/conf/all/forwarding', '0\n')
    link(root, '/etc/systemd/system/multi-user.target.wants/overlaynet-wireguard@wg0.service',
         '/etc/systemd/system/overlaynet-wireguard@.service')
    fake = FakeHost(kernel_wireguard=True)
    monkeypatch.setattr(host_probe, 'ROOT', root)
    monkeypatch.setenv('PATH', '/usr/bin')
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, args, **kwargs: fake.run_command(args, **kwargs))
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: '/usr/sbin/' + name)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, message: fake.messages.append(message))
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, message, *args, **kwargs: fake.messages.append(message))
    return fake


def run_ok(args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with module_args(args):
        with pytest.raises(ExitJson) as excinfo:
            host_probe.main()
    return excinfo.value.args[0]


def run_fail(args):
    with module_args(args):
        with pytest.raises(FailJson) as excinfo:
            host_probe.main()
    return excinfo.value.args[0]


@pytest.mark.parametrize('check_mode', [False, True])
def test_the_wireguard_role_probe(host, check_mode):
    result = run_ok(ROLE_ARGS, check_mode=check_mode)
    assert result == dict(
        changed=False,
        os_family='Debian',
        os_id='debian',
        os_version_id='12',
        os_version_codename='bookworm',
        missing_commands=['wg-quick'],
        enabled_instances={'overlaynet-wireguard': ['wg0']},
        files={
            '/usr/local/sbin/overlaynet-wireguard': dict(
                exists=True, mode='0755', owner=USER, group=GROUP, sha256=hashlib.sha256(HELPER).hexdigest()),
            '/etc/systemd/system/overlaynet-wireguard@.service': dict(exists=False, mode=None, owner=None, group=None, sha256=None),
            '/etc/wireguard/overlaynet-wireguard.nft': dict(exists=False, mode=None, owner=None, group=None, sha256=None),
            '/etc/systemd/system/overlaynet-wireguard-nftables.service': dict(exists=False, mode=None, owner=None, group=None, sha256=None),
            '/usr/local/sbin/wireguard-go': dict(exists=False, mode=None, owner=None, group=None, sha256=None),
        },
        globbed={'/etc/wireguard/*.psk': ['/etc/wireguard/wg0.psk']},
        sysctls={'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '0'},
        sysctls_writable={'net.ipv4.ip_forward': True, 'net.ipv6.conf.all.forwarding': True},
        wireguard_kernel=True,
        wireguard_keys={'wg0': {'permissions': '600:%s:%s' % (USER, GROUP), 'public_key': PUBLIC_KEY}},
    )
    assert host.commands == ['/usr/sbin/ip link add dev owgprobe0 type wireguard', '/usr/sbin/ip link delete dev owgprobe0']


def test_the_private_key_never_leaves_the_module(host):
    result = run_ok(ROLE_ARGS)
    assert result['wireguard_keys']['wg0']['public_key'] == PUBLIC_KEY  # the key file was read
    assert_no_private_key(result, host.messages, host.commands)


def test_kernel_without_wireguard(host):
    host.kernel_wireguard = False
    result = run_ok(dict(wireguard_kernel=True))
    assert result['wireguard_kernel'] is False
    assert host.commands == ['/usr/sbin/ip link add dev owgprobe0 type wireguard']


def test_nothing_asked_reads_only_the_os_and_runs_nothing(host):
    assert run_ok({}) == dict(changed=False, os_family='Debian', os_id='debian', os_version_id='12', os_version_codename='bookworm')
    assert host.commands == []


def test_empty_lists_return_empty_answers(host):
    result = run_ok(dict(commands=[], unit_templates=[], files=[], globs=[], sysctls=[]))
    assert result == dict(changed=False, os_family='Debian', os_id='debian', os_version_id='12', os_version_codename='bookworm', missing_commands=[],
                          enabled_instances={}, files={}, globbed={}, sysctls={}, sysctls_writable={})


@pytest.mark.parametrize('args, message', [
    (dict(files=['/etc/wireguard/wg0.conf', 'wg0.conf']), 'files: wg0.conf is not an absolute path'),
    (dict(globs=['*.psk']), 'globs: *.psk is not an absolute path'),
    (dict(wireguard_key_dir='wireguard'), 'wireguard_key_dir: wireguard is not an absolute path'),
    (dict(sysctls=['net.ipv4..ip_forward']), "sysctls: 'net.ipv4..ip_forward' is not a sysctl key"),
])
def test_option_values_that_cannot_be_read(host, args, message):
    assert run_fail(args)['msg'].startswith(message)
    assert host.commands == []


def test_wireguard_live_state_is_the_digest_the_apply_step_records(host, monkeypatch):
    """The probe reads the interface with the apply step's own reader (LiveInterface), so a
    live state it digests equals the apply step's digest of the same state."""
    peer = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='
    answers = {
        'systemctl is-active': (0, 'active\n', ''),
        'ip -j addr': (0, '[{"ifname": "wg0", "mtu": 1420, "addr_info": [{"family": "inet", "local": "10.77.0.1", "prefixlen": 24}]}]', ''),
        'wg show wg0': (0, '%s\t(public)\t51820\toff\n%s\t(none)\t192.0.2.9:51820\t10.77.0.2/32\t0\t0\t0\toff\n' % (PRIVATE_KEY, peer), ''),
        'ip -d -j': (0, '[{"ifname": "wg0", "linkinfo": {"info_kind": "wireguard"}}]', ''),
    }

    def run_command(self, args, **kwargs):
        host.commands.append(' '.join(args))
        for prefix, answer in answers.items():
            if ' '.join([args[0].rsplit('/', 1)[-1]] + args[1:]).startswith(prefix):
                return answer
        return 1, '', 'unexpected'

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    result = run_ok(dict(wireguard_live_state={'wg0': 'overlaynet-wireguard@wg0.service'}))
    runtime = parse_wg_dump(answers['wg show wg0'][1])
    link = parse_ip_addr_json(answers['ip -j addr'][1])
    assert result['wireguard_live_state'] == {'wg0': live_state_digest(runtime, link, 'kernel', None, True)}
    assert_no_private_key(result)


@pytest.mark.parametrize('check_mode', [False, True])
def test_digests_of_large_files_are_cached_outside_check_mode(host, tmp_path, check_mode):
    root = str(tmp_path)
    binary = write(root, '/usr/local/bin/tailscaled', b'\x7fELF' * (1024 * 1024), 0o755)
    long_ago = time.time() - 3600
    os.utime(binary, (long_ago, long_ago))
    # Its ctime is now: hashed, and kept only by a run once the file has been still for a while.
    result = run_ok(dict(files=['/usr/local/bin/tailscaled']), check_mode=check_mode)
    assert result['files']['/usr/local/bin/tailscaled']['sha256'] == hashlib.sha256(b'\x7fELF' * (1024 * 1024)).hexdigest()
    assert result['changed'] is False
    cache_file = os.path.join(root, 'var/cache/overlaynet/file-digests.json')
    assert not os.path.exists(cache_file)
    an_hour_later = time.time() + 3600
    with patch.object(_file_facts.time, 'time', lambda: an_hour_later):
        run_ok(dict(files=['/usr/local/bin/tailscaled']), check_mode=check_mode)
    assert os.path.exists(cache_file) is not check_mode


def test_a_headscale_server_that_is_not_installed_has_no_users_and_no_nodes(host):
    result = run_ok(dict(headscale_state=dict(executable='/usr/local/bin/headscale')))
    assert result['headscale_users'] is None and result['headscale_nodes'] is None
    assert host.commands == []
