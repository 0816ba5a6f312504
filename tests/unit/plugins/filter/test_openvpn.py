# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError

from ansible_collections.overlaynet.vpn.plugins.filter.openvpn import FilterModule
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import client_plan, peers_record, pki_request, server_plan
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_validate import validate
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.openvpn_inputs import PASSWORDS, base_inventory, connection, instance


@pytest.fixture
def filters():
    return FilterModule().filters()


def test_filter_names(filters):
    assert sorted(filters) == ['openvpn_certificate_current', 'openvpn_client_config', 'openvpn_client_files', 'openvpn_client_key_checks',
                               'openvpn_client_plan', 'openvpn_client_required_files',
                               'openvpn_peers_merged', 'openvpn_peers_record', 'openvpn_pki_options', 'openvpn_pki_request', 'openvpn_profiles',
                               'openvpn_server_files', 'openvpn_server_plan', 'openvpn_validate']


def test_openvpn_peers_merged_is_wired(filters):
    other = {'system': 'wireguard', 'peer': 'x'}
    assert filters['openvpn_peers_merged']([other], [], 'client') == [other]


def test_openvpn_validate_is_wired(filters):
    hostvars, groups = base_inventory()
    assert filters['openvpn_validate'](hostvars, groups) == validate(hostvars, groups) == []
    connection(hostvars, 'site2')['password'] = 'typo-password'
    errors = filters['openvpn_validate'](hostvars, groups)
    assert errors == ['host site2: openvpn_client_connections[0].password: does not match the password of user site2 in openvpn_server_users of server vpn1']


def test_openvpn_validate_takes_jinja_undefined_as_unset(filters):
    hostvars, groups = base_inventory()
    hostvars['vpn1']['openvpn_server_state'] = Undefined()
    hostvars['site3']['openvpn_client_connections'] = Undefined()
    assert filters['openvpn_validate'](hostvars, groups) == []
    assert filters['openvpn_client_plan'](hostvars, groups, 'site3') == []


def test_plan_filters_are_wired(filters):
    hostvars, groups = base_inventory()
    assert filters['openvpn_server_plan'](hostvars, groups, 'vpn1') == server_plan(hostvars, groups, 'vpn1')
    assert filters['openvpn_client_plan'](hostvars, groups, 'site1') == client_plan(hostvars, groups, 'site1')
    assert filters['openvpn_client_plan'](hostvars, groups, 'site1')[0]['ipv4'] == '10.8.0.10'
    assert filters['openvpn_pki_request'](hostvars, groups, 'vpn1') == pki_request(hostvars, groups, 'vpn1')
    plan = server_plan(hostvars, groups, 'vpn1')
    assert filters['openvpn_peers_record'](plan, 'server') == peers_record(plan, 'server')
    assert len(filters['openvpn_peers_record'](plan, 'server')['peers']) == 4


@pytest.mark.parametrize('name', ['openvpn_server_plan', 'openvpn_client_plan', 'openvpn_pki_request'])
def test_plan_filters_turn_invalid_input_into_filter_errors(filters, name):
    hostvars, groups = base_inventory()
    instance(hostvars)['data_ciphers'] = ['BF-CBC']
    connection(hostvars, 'site1')['password'] = 'typo-password'
    with pytest.raises(AnsibleFilterError) as caught:
        filters[name](hostvars, groups, 'vpn1')
    message = str(caught.value)
    assert message.startswith('%s: invalid OpenVPN configuration:' % name)
    assert "host vpn1: openvpn_server_instances[0].data_ciphers: 'BF-CBC' is not allowed" in message
    assert 'host site1: openvpn_client_connections[0].password: does not match' in message
    assert 'typo-password' not in message and PASSWORDS['site1'] not in message


def test_pki_request_filter_fails_for_a_client(filters):
    hostvars, groups = base_inventory()
    with pytest.raises(AnsibleFilterError, match='^openvpn_pki_request: host site1 is not in group openvpn_servers$'):
        filters['openvpn_pki_request'](hostvars, groups, 'site1')


def test_peers_record_filter_refuses_an_unknown_role(filters):
    with pytest.raises(AnsibleFilterError, match='^openvpn_peers_record: role must be one of server, client'):
        filters['openvpn_peers_record']([], 'hub')
