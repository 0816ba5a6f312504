# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.overlaynet.vpn.plugins.filter.platform import (
    firewall_paths,
    firewall_probe_request,
    forwarding_sysctls,
    sysctls_match,
    sysctls_to_check,
    files_to_write,
)


def test_paths_are_named_after_the_role():
    paths = firewall_paths('wireguard')
    assert paths['sysctl_file'] == '/etc/sysctl.d/60-overlaynet-wireguard.conf'
    assert paths['nftables_file'] == '/etc/overlaynet/nftables/wireguard.nft'
    assert paths['nftables_table'] == 'overlaynet_wireguard'
    assert paths['nftables_unit'] == 'overlaynet-nftables@wireguard.service'
    assert paths['firewalld_zone_file'] == '/etc/firewalld/zones/olnet-wireguard.xml'
    assert paths['firewalld_policy_file'] == '/etc/firewalld/policies/olnet-wireguard-in.xml'


@pytest.mark.parametrize('owner', ['wireguard', 'openvpn_server', 'headscale', 'tailscale'])
def test_firewalld_names_of_every_role_fit_firewalld_and_differ(owner):
    paths = firewall_paths(owner)
    # firewalld refuses longer zone and policy names, and a zone and a policy of the same name.
    assert len(paths['firewalld_zone']) <= 17 and len(paths['firewalld_policy']) <= 18
    assert paths['firewalld_zone'] != paths['firewalld_policy']


def test_a_role_name_too_long_for_firewalld_is_refused():
    with pytest.raises(AnsibleFilterError, match='longer than firewalld takes'):
        firewall_paths('a_very_long_role_name')


@pytest.mark.parametrize('owner', ['', 'Wire', '../etc', 'a b', None])
def test_paths_refuse_names_that_are_not_role_names(owner):
    with pytest.raises(AnsibleFilterError):
        firewall_paths(owner)


def test_no_forwarding_needs_no_sysctl():
    assert forwarding_sysctls([]) == {'settings': {}, 'live_settings': {}, 'all': {}}


def test_ipv4_forwarding_without_a_hub_keeps_redirects_alone():
    result = forwarding_sysctls(['ipv4'])
    assert result['settings'] == {'net.ipv4.ip_forward': '1'}
    assert result['live_settings'] == {}


def test_a_hub_turns_redirects_off_everywhere_they_could_be_sent():
    result = forwarding_sysctls(['ipv4', 'ipv6'], ['wg1', 'wg0', 'wg1'])
    assert result['settings'] == {
        'net.ipv4.ip_forward': '1',
        'net.ipv6.conf.all.forwarding': '1',
        'net.ipv4.conf.all.send_redirects': '0',
        'net.ipv4.conf.default.send_redirects': '0',
    }
    assert result['live_settings'] == {'net.ipv4.conf.wg0.send_redirects': '0', 'net.ipv4.conf.wg1.send_redirects': '0'}
    assert result['all'] == dict(result['settings'], **result['live_settings'])


def test_unknown_family_is_refused():
    with pytest.raises(AnsibleFilterError, match='ipv5'):
        forwarding_sysctls(['ipv5'])


def test_probe_request_covers_every_key_either_family_could_need():
    request = firewall_probe_request('wireguard', ['wg0'])
    assert '/etc/sysctl.d/60-overlaynet-wireguard.conf' in request['files']
    assert '/etc/overlaynet/nftables' in request['files']
    assert '/etc/firewalld/zones/olnet-wireguard.xml' in request['files']
    assert request['active_units'] == ['firewalld.service']
    assert set(request['sysctls']) == set(forwarding_sysctls(['ipv4', 'ipv6'], ['wg0'])['all'])


def test_sysctls_match_compares_values_and_skips_keys_the_host_lacks():
    wanted = {'net.ipv4.ip_forward': '1', 'net.ipv4.conf.wg9.send_redirects': '0'}
    assert sysctls_match({'net.ipv4.ip_forward': '1', 'net.ipv4.conf.wg9.send_redirects': None}, wanted)
    assert not sysctls_match({'net.ipv4.ip_forward': '0'}, wanted)
    assert sysctls_match({'net.ipv4.ip_forward': ' 1\n'}, {'net.ipv4.ip_forward': 1})


def test_interfaces_not_created_yet_are_not_checked():
    forwarding = forwarding_sysctls(['ipv4'], ['wg0', 'wg1'])
    wanted = sysctls_to_check(forwarding, {'net.ipv4.conf.wg0.send_redirects': '1', 'net.ipv4.conf.wg1.send_redirects': None})
    assert wanted == dict(forwarding['settings'], **{'net.ipv4.conf.wg0.send_redirects': '0'})


def test_files_to_write_are_those_the_probe_found_different_or_missing():
    files = [{'path': '/a', 'content': 'same\n'}, {'path': '/b', 'content': 'new\n'}, {'path': '/c', 'content': ''}]
    probed = {'/a': {'exists': True, 'sha256': hashlib.sha256(b'same\n').hexdigest()},
              '/b': {'exists': True, 'sha256': hashlib.sha256(b'old\n').hexdigest()}}
    assert files_to_write(files, probed) == ['/b', '/c']


def test_ufw_rules_to_change_compares_with_the_probe():
    from ansible_collections.overlaynet.vpn.plugins.filter.platform import ufw_rules_to_change
    probed = {'installed': True, 'enabled': True, 'rules': ['in/wg0', 'route/wg0', 'udp/51820'], 'partial_rules': []}
    assert ufw_rules_to_change(probed, True, [51820], [], ['wg0']) == {'add': [], 'delete': []}
    assert ufw_rules_to_change(probed, True, [51821], [], ['wg0']) == {'add': ['udp/51821'], 'delete': ['udp/51820']}
    assert ufw_rules_to_change(probed, False, [51820], [], ['wg0']) == {'add': [], 'delete': ['in/wg0', 'route/wg0', 'udp/51820']}
    assert ufw_rules_to_change({}, False) == {'add': [], 'delete': []}
    # A port your own rule opens already: no rule of the role's is added for it.
    assert ufw_rules_to_change(dict(probed, other_rules=['udp/51821']), True, [51821], [], ['wg0']) == {'add': [], 'delete': ['udp/51820']}


def test_probe_request_names_the_roles_ufw_comment():
    assert firewall_probe_request('wireguard')['ufw_comment'] == 'overlaynet.vpn wireguard'
