# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ufw_rules against rules files as ufw writes them; the ufw command is a stand-in that records its
arguments (the wireguard_hub and openvpn_remote_access scenarios run the real ufw)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.overlaynet.vpn.plugins.modules import ufw_rules
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.test__ufw import write_host
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, install_fake_commands


class RecordingUfw(object):
    def __init__(self, answer=(0, 'Rule added\nRule added (v6)\n', '')):
        self.calls = []
        self.answer = answer

    def run(self, argv):
        self.calls.append(list(argv[1:]))
        return self.answer


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setattr(ufw_rules, 'ROOT', write_host(tmp_path))
    return tmp_path


@pytest.fixture
def ufw(monkeypatch):
    return install_fake_commands(monkeypatch, RecordingUfw(), {'ufw': '/usr/sbin/ufw'})


def test_the_rules_in_place_change_nothing_and_run_no_ufw(host, ufw):
    result = call_main(ufw_rules.main, dict(owner='wireguard', udp_ports=[51820], interfaces=['wg0']))
    assert not result['changed'] and result['added'] == [] and result['deleted'] == []
    assert ufw.calls == []


def test_missing_rules_are_added_with_the_comment_and_unwanted_ones_deleted_first(host, ufw):
    result = call_main(ufw_rules.main, dict(owner='wireguard', udp_ports=[51821], tcp_ports=[443], interfaces=['wg0']),
                       diff=True)
    assert result['changed']
    assert result['deleted'] == ['ufw delete allow 51820/udp']
    assert result['added'] == ['ufw allow 443/tcp', 'ufw allow 51821/udp']
    assert ufw.calls == [['delete', 'allow', '51820/udp'],
                         ['allow', '443/tcp', 'comment', 'overlaynet.vpn wireguard'],
                         ['allow', '51821/udp', 'comment', 'overlaynet.vpn wireguard']]
    assert 'ufw allow 51820/udp' in result['diff']['before'] and 'ufw allow 51821/udp' in result['diff']['after']


def test_no_ports_or_interfaces_delete_every_rule_of_the_role_only(host, ufw):
    result = call_main(ufw_rules.main, dict(owner='wireguard'))
    assert result['deleted'] == ['ufw delete allow in on wg0', 'ufw route delete allow in on wg0', 'ufw delete allow 51820/udp']
    assert all('1194' not in ' '.join(call) and '22' not in call for call in ufw.calls)


def test_a_port_your_own_rule_opens_stays_yours(host, ufw):
    # RULES_V4/V6 hold an untagged `allow 22/tcp` and openvpn_server's `allow 1194/udp`.
    result = call_main(ufw_rules.main, dict(owner='wireguard', udp_ports=[51820, 1194], tcp_ports=[22], interfaces=['wg0']), diff=True)
    assert not result['changed'] and ufw.calls == []
    assert result['diff']['before'] == result['diff']['after']
    result = call_main(ufw_rules.main, dict(owner='wireguard'))
    assert result['changed'] and all('1194/udp' not in ' '.join(call) and '22/tcp' not in ' '.join(call) for call in ufw.calls)


def test_check_mode_previews_and_runs_no_ufw(host, ufw):
    result = call_main(ufw_rules.main, dict(owner='wireguard', udp_ports=[51821]), check_mode=True)
    assert result['changed'] and result['added'] == ['ufw allow 51821/udp'] and ufw.calls == []


def test_a_rule_ufw_refuses_fails_naming_it(host, monkeypatch):
    install_fake_commands(monkeypatch, RecordingUfw((1, '', 'ERROR: Bad port')), {'ufw': '/usr/sbin/ufw'})
    result = call_main(ufw_rules.main, dict(owner='wireguard', udp_ports=[51820, 51821], interfaces=['wg0']), fail=True)
    assert result['msg'] == 'ufw allow 51821/udp comment overlaynet.vpn wireguard failed: ERROR: Bad port'


@pytest.mark.parametrize('args, message', [
    (dict(udp_ports=[0]), 'udp_ports: 0 is not a port'),
    (dict(tcp_ports=[70000]), 'tcp_ports: 70000 is not a port'),
    (dict(interfaces=['wg 0']), "interfaces: 'wg 0' must not contain"),
])
def test_bad_input_is_refused_before_ufw_runs(host, ufw, args, message):
    result = call_main(ufw_rules.main, dict(args, owner='wireguard'), fail=True)
    assert message in result['msg'] and ufw.calls == []
