# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_inventory import read_clients, read_servers
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_validate import raise_if_invalid, validate
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.hostvars_fakes import UNDEFINED, LazyHostVars, undefined_error
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.openvpn_inputs import PASSWORDS, base_inventory, connection, instance
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import assert_error


def errors_after(change):
    hostvars, groups = base_inventory()
    change(hostvars, groups)
    return validate(hostvars, groups)


def only_error(errors):
    assert len(errors) == 1, errors
    return errors[0]


def second_server(hostvars, groups, pool='10.8.0.0/24'):
    hostvars['vpn2'] = {'openvpn_server_instances': [{'name': 'main', 'ipv4_pool': pool}]}
    groups['openvpn_servers'].append('vpn2')


def assert_no_secret(errors):
    text = '\n'.join(errors)
    for password in list(PASSWORDS.values()) + ['typo-password', 'hunter2']:
        assert password not in text


# ---------------------------------------------------------------------------------------------
# Valid inventories
# ---------------------------------------------------------------------------------------------

def test_base_inventory_is_valid():
    hostvars, groups = base_inventory()
    assert validate(hostvars, groups) == []


def test_empty_or_missing_groups_are_valid():
    assert validate({}, {}) == []
    assert validate({'vpn1': {}}, {'openvpn_servers': ['vpn1']}) == []


def test_groups_must_be_a_mapping():
    assert validate({}, ['vpn1']) == ['all: groups: must be a mapping of group name to hosts, got list']


def test_lazy_hostvars_with_undefined_values_are_read_as_unset():
    hostvars, groups = base_inventory()
    hostvars['vpn1']['openvpn_server_state'] = undefined_error
    hostvars['site3']['unrelated'] = undefined_error
    assert validate(LazyHostVars(hostvars), groups, UNDEFINED) == []


def test_raise_if_invalid_lists_every_problem():
    hostvars, groups = base_inventory()
    instance(hostvars)['port'] = 0
    connection(hostvars, 'site2')['address'] = '10.7.0.1'
    with pytest.raises(ValueError) as caught:
        raise_if_invalid(read_servers(hostvars, groups), read_clients(hostvars, groups), groups)
    assert str(caught.value).startswith('invalid OpenVPN configuration:\n- ')
    assert 'openvpn_server_instances[0].port' in str(caught.value) and 'openvpn_client_connections[0].address' in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Server variables
# ---------------------------------------------------------------------------------------------

def test_server_variable_types():
    def change(hostvars, _groups):
        hostvars['vpn1']['openvpn_server_state'] = 'gone'
        hostvars['vpn1']['openvpn_server_public_address'] = 'vpn1.example.org:1194'
    errors = errors_after(change)
    assert_error(errors, 'host vpn1: openvpn_server_state:', "'gone' must be one of present, absent")
    assert_error(errors, 'host vpn1: openvpn_server_public_address:', 'must not contain a port (the port comes from port)')
    errors = errors_after(lambda hostvars, _groups: hostvars['vpn1'].update(openvpn_server_instances={'name': 'main'}))
    assert_error(errors, 'host vpn1: openvpn_server_instances: must be a list of instances, got dict')
    assert_error(errors, "host site3: openvpn_client_connections[0].instance: 'lab' is not an instance of server vpn1 (its instances: none)")


def test_crl_days_are_checked_before_the_pki_module_runs():
    def change(hostvars, _groups):
        hostvars['vpn1'].update(openvpn_server_crl_validity_days=30, openvpn_server_crl_renew_before_days=30)
    assert only_error(errors_after(change)) == (
        'host vpn1: openvpn_server_crl_renew_before_days: 30 must be less than openvpn_server_crl_validity_days (30), '
        'or every run would sign a new CRL')

    def bad_values(hostvars, _groups):
        hostvars['vpn1'].update(openvpn_server_crl_validity_days='long', openvpn_server_crl_renew_before_days=0,
                                openvpn_server_crl_signed_ahead=21)
    errors = errors_after(bad_values)
    assert_error(errors, 'host vpn1: openvpn_server_crl_signed_ahead: 21 is out of range (0-20)')
    assert_error(errors, "host vpn1: openvpn_server_crl_validity_days: must be an integer between 2 and 3650, got 'long'")
    assert_error(errors, 'host vpn1: openvpn_server_crl_renew_before_days: 0 is out of range (1-3650)')

    def good_values(hostvars, _groups):
        hostvars['vpn1'].update(openvpn_server_crl_validity_days=30, openvpn_server_crl_renew_before_days=29)
    assert errors_after(good_values) == []


@pytest.mark.parametrize('address', ['192.0.2.1', '2001:db8::1', '[2001:db8::1]', 'vpn.example.org'])
def test_public_address_forms(address):
    assert errors_after(lambda hostvars, _groups: hostvars['vpn1'].update(openvpn_server_public_address=address)) == []


def test_instance_must_be_a_mapping_and_keys_known():
    errors = errors_after(lambda hostvars, _groups: hostvars['vpn1']['openvpn_server_instances'].append('main'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[2]: must be a mapping (an instance), got str')
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(ipv4_poll='10.1.0.0/24'))
    message = only_error(errors)
    assert message.startswith('host vpn1: openvpn_server_instances[0].ipv4_poll: unknown key (known keys: name, device, proto, port, ipv4_pool,')


def test_instance_name_rules_and_duplicates():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).pop('name'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].name: required')
    for bad in ('Main', '-main', 'a' * 16, 7):
        errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(name=bad))
        assert_error(errors, 'host vpn1: openvpn_server_instances[0].name: %r must be 1 to 15 characters' % (bad,))
    errors = errors_after(lambda hostvars, _groups: instance(hostvars, index=1).update(name='main'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[1].name: main is also the name of openvpn_server_instances[0]')


def test_devices_are_valid_and_unique_per_host():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(device='tun/0'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].device:', 'must not contain "/"')
    errors = errors_after(lambda hostvars, _groups: instance(hostvars, index=1).update(device='ovpn-main'))
    assert only_error(errors) == 'host vpn1: openvpn_server_instances[1].device: ovpn-main is also the device of openvpn_server_instances[0]'

    def long_names(hostvars, _groups):
        instance(hostvars)['name'] = 'abcdefghij1'
        instance(hostvars, index=1)['name'] = 'abcdefghij2'
        for client in ('site1', 'site2'):
            connection(hostvars, client)['instance'] = 'abcdefghij1'
        connection(hostvars, 'site3')['instance'] = 'abcdefghij2'
    assert_error(errors_after(long_names), 'host vpn1: openvpn_server_instances[1].device: ovpn-abcdefghij is also the device of')


def test_a_device_of_a_host_that_is_server_and_client_is_unique_across_both():
    def change(hostvars, groups):
        second_server(hostvars, groups, '10.20.0.0/24')
        groups['openvpn_clients'].append('vpn1')
        hostvars['vpn1']['openvpn_client_connections'] = [{'server': 'vpn2', 'device': 'ovpn-lab'}]
    assert only_error(errors_after(change)) == \
        'host vpn1: openvpn_client_connections[0].device: ovpn-lab is also the device of openvpn_server_instances[1]'


def test_proto_and_port():
    def change(hostvars, _groups):
        instance(hostvars)['proto'] = 'sctp'
        instance(hostvars, index=1)['port'] = 70000
    errors = errors_after(change)
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].proto:', "'sctp' must be one of udp, tcp")
    assert_error(errors, 'host vpn1: openvpn_server_instances[1].port: 70000 is out of range (1-65535)')
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(port='1194'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].port: must be an integer between 1 and 65535')


def test_proto_and_port_are_unique_per_host():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars, index=1).update(proto='udp', port=1194))
    assert only_error(errors) == 'host vpn1: openvpn_server_instances[1].port: udp port 1194 is also listened on by openvpn_server_instances[0]'
    assert errors_after(lambda hostvars, _groups: instance(hostvars, index=1).update(port=1194)) == []  # tcp 1194 next to udp 1194


def test_ipv4_pool_rules():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).pop('ipv4_pool'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].ipv4_pool: required')
    cases = [
        ('10.8.0.0', "'10.8.0.0' is not a CIDR prefix"),
        ('10.8.0.1/24', 'has host bits set (did you mean 10.8.0.0/24?)'),
        ('fd09::/64', 'fd09::/64 is an IPv6 prefix; ipv4_pool takes an IPv4 prefix'),
        ('10.8.0.0/31', '10.8.0.0/31: the prefix length must be at most /30 (got /31)'),
    ]
    for pool, fragment in cases:
        errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(ipv4_pool=pool))
        assert_error(errors, 'host vpn1: openvpn_server_instances[0].ipv4_pool: ', fragment)


def test_ipv6_pool_rules():
    for pool in ('fd08::/48', 'fd08::/125'):
        errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(ipv6_pool=pool))
        assert_error(errors, 'host vpn1: openvpn_server_instances[0].ipv6_pool: %s: the prefix length must be from /64 to /124' % pool)
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(ipv6_pool='10.7.0.0/24'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].ipv6_pool: 10.7.0.0/24 is an IPv4 prefix')
    assert errors_after(lambda hostvars, _groups: instance(hostvars).update(ipv6_pool='fd08::/124')) == []


def test_pools_of_one_host_must_not_overlap():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars, index=1).update(ipv4_pool='10.8.0.0/16'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[1].ipv4_pool: 10.8.0.0/16 overlaps openvpn_server_instances[0].ipv4_pool '
                         '(10.8.0.0/24) of instance main')
    errors = errors_after(lambda hostvars, _groups: instance(hostvars, index=1).update(ipv6_pool='fd08::/96'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[1].ipv6_pool: fd08::/96 overlaps openvpn_server_instances[0].ipv6_pool')


def test_pools_must_not_overlap_push_routes_of_the_instance():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(push_routes=['10.0.0.0/8', '0.0.0.0/0']))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].push_routes: 10.0.0.0/8 overlaps the ipv4_pool 10.8.0.0/24 of the instance')
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].push_routes: 0.0.0.0/0 overlaps', 'use redirect_gateway for a default route')
    # another instance's pool may be pushed (clients of main reach the lab network through the server)
    assert errors_after(lambda hostvars, _groups: instance(hostvars).update(push_routes=['10.9.0.0/24'])) == []


def test_push_routes_dns_and_search_domains_syntax():
    def change(hostvars, _groups):
        instance(hostvars).update(push_routes=['192.168.50.0'], dns_servers=['dns.example.org'], search_domains=['corp example', '10.0.0.1'])
    errors = errors_after(change)
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].push_routes:', "'192.168.50.0' is not a CIDR prefix")
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].dns_servers:', "'dns.example.org' is not an IP address")
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].search_domains:', "'corp example' is not a valid host name")
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].search_domains:', "'10.0.0.1' is not a host name")


def test_booleans_tls_crypt_and_state():
    def change(hostvars, _groups):
        instance(hostvars).update(redirect_gateway='yes', masquerade=1, tls_crypt='v3', state='gone')
    errors = errors_after(change)
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].redirect_gateway: must be true or false')
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].masquerade: must be true or false, got 1')
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].tls_crypt:', "'v3' must be one of v2, v1")
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].state:', "'gone' must be one of present, absent")


def test_weak_data_ciphers_are_refused():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(data_ciphers=['AES-256-GCM', 'BF-CBC']))
    message = only_error(errors)
    assert message.startswith("host vpn1: openvpn_server_instances[0].data_ciphers: 'BF-CBC' is not allowed")
    assert 'AES-256-GCM, AES-192-GCM, AES-128-GCM, CHACHA20-POLY1305' in message
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(data_ciphers=[]))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].data_ciphers: must be a non-empty list')
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(data_ciphers=['AES-128-GCM', 'AES-128-GCM']))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].data_ciphers: AES-128-GCM is listed twice')


def test_keepalive():
    for bad in ([10], [10, 'x'], 10, [0, 60]):
        errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(keepalive=bad))
        assert_error(errors, 'host vpn1: openvpn_server_instances[0].keepalive: must be a list of two positive integers')
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(keepalive=[60, 60]))
    assert only_error(errors) == 'host vpn1: openvpn_server_instances[0].keepalive: the timeout (60 s) must be greater than the interval (60 s)'


def test_tun_mtu():
    for bad in (1279, 65536, '9000', True):
        errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(tun_mtu=bad))
        assert_error(errors, 'host vpn1: openvpn_server_instances[0].tun_mtu:')
    assert errors_after(lambda hostvars, _groups: instance(hostvars).update(tun_mtu=9000)) == []


def test_users_are_checked_without_showing_passwords():
    def change(hostvars, _groups):
        hostvars['vpn1']['openvpn_server_users'] = {'site1': PASSWORDS['site1'], 'site2': PASSWORDS['site2'], 'bad user': 'hunter2', 'eve': ''}
    errors = errors_after(change)
    assert_error(errors, "host vpn1: openvpn_server_users: 'bad user' is not a valid user name")
    assert_error(errors, 'host vpn1: openvpn_server_users.eve: the password must be a non-empty string')
    assert_no_secret(errors)
    errors = errors_after(lambda hostvars, _groups: hostvars['vpn1'].update(openvpn_server_users=['site1']))
    assert_error(errors, 'host vpn1: openvpn_server_users: must be a mapping of user name to password, got list')


def test_server_host_name_must_be_a_certificate_name():
    def change(hostvars, groups):
        hostvars['-vpn1'] = hostvars.pop('vpn1')
        groups['openvpn_servers'] = ['-vpn1']
        for client in ('site1', 'site2', 'site3'):
            connection(hostvars, client)['server'] = '-vpn1'
    errors = errors_after(change)
    assert_error(errors, "host -vpn1: inventory_hostname: '-vpn1' is not a valid name", '(the server certificate is named after the host)')


# ---------------------------------------------------------------------------------------------
# Client names and revocations (one CA per server host)
# ---------------------------------------------------------------------------------------------

def test_unmanaged_client_names():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(unmanaged_clients=['laptop', 'laptop', '.hidden']))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].unmanaged_clients[1]: laptop is also listed at [0]')
    assert_error(errors, "host vpn1: openvpn_server_instances[0].unmanaged_clients[2]: '.hidden' is not a valid name")


# site3 connects to lab; the CA is the host's, so an unmanaged site3 on main would share its certificate name.
@pytest.mark.parametrize('index, key, names, message', [
    (0, 'unmanaged_clients', ['site2'], 'host vpn1: openvpn_server_instances[0].unmanaged_clients[0]: site2 is also a host of group openvpn_clients'),
    (0, 'unmanaged_clients', ['site3'], 'host vpn1: openvpn_server_instances[0].unmanaged_clients[0]: site3 is also a host of group openvpn_clients'),
    (0, 'unmanaged_clients', ['vpn1'], 'host vpn1: openvpn_server_instances[0].unmanaged_clients[0]: vpn1 is the name of the server certificate'),
    (0, 'revoked_clients', ['laptop-alice'], 'host vpn1: openvpn_server_instances[0].revoked_clients[0]: laptop-alice is also in '
                                             'unmanaged_clients[0]; a client is either issued or revoked'),
    (1, 'revoked_clients', ['laptop-alice'], 'host vpn1: openvpn_server_instances[1].revoked_clients[0]: laptop-alice is in unmanaged_clients '
                                             'of instance main; a client is either issued or revoked'),
    (1, 'revoked_clients', ['site1'], 'host vpn1: openvpn_server_instances[1].revoked_clients[0]: site1 is a host of group openvpn_clients '
                                      'that connects to this server'),
    (0, 'revoked_clients', ['vpn1'], 'host vpn1: openvpn_server_instances[0].revoked_clients[0]: vpn1 is the name of the server certificate'),
    (0, 'revoked_clients', ['bad name'], "host vpn1: openvpn_server_instances[0].revoked_clients[0]: 'bad name' is not a valid name"),
])
def test_client_names_in_the_one_ca_of_a_server_host(index, key, names, message):
    errors = errors_after(lambda hostvars, _groups: instance(hostvars, index=index).update({key: names}))
    assert only_error(errors).startswith(message)


def test_an_unmanaged_client_may_use_two_instances_of_one_server():
    assert errors_after(lambda hostvars, _groups: instance(hostvars, index=1).update(unmanaged_clients=['laptop-alice'])) == []


def test_a_revoked_name_listed_nowhere_else_is_accepted():
    # the laptop was taken out of unmanaged_clients, the host out of openvpn_clients: the normal case
    def change(hostvars, groups):
        instance(hostvars).update(unmanaged_clients=[], revoked_clients=['laptop-alice', 'site2'])
        groups['openvpn_clients'].remove('site2')
    assert errors_after(change) == []


def test_a_client_whose_connection_is_absent_may_be_revoked():
    def change(hostvars, _groups):
        connection(hostvars, 'site2')['state'] = 'absent'
        instance(hostvars)['revoked_clients'] = ['site2']
    assert errors_after(change) == []


# ---------------------------------------------------------------------------------------------
# Client connections
# ---------------------------------------------------------------------------------------------

def test_client_variable_types():
    def change(hostvars, _groups):
        hostvars['site1']['openvpn_client_state'] = 'off'
        hostvars['site2']['openvpn_client_connections'] = {'server': 'vpn1'}
        hostvars['site3']['openvpn_client_connections'] = ['vpn1']
    errors = errors_after(change)
    assert_error(errors, 'host site1: openvpn_client_state:', "'off' must be one of present, absent")
    assert_error(errors, 'host site2: openvpn_client_connections: must be a list of connections, got dict')
    assert_error(errors, 'host site3: openvpn_client_connections[0]: must be a mapping (a connection), got str')


def test_connection_unknown_keys():
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(sever='vpn1'))
    assert only_error(errors).startswith('host site3: openvpn_client_connections[0].sever: unknown key (known keys: server, instance, name,')


def test_connection_server_rules():
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').pop('server'))
    assert_error(errors, 'host site3: openvpn_client_connections[0].server: required', 'unless profile_file is given')
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(server='vpn9'))
    assert only_error(errors) == "host site3: openvpn_client_connections[0].server: 'vpn9' is not a host of group openvpn_servers"

    def own_server(hostvars, groups):
        groups['openvpn_clients'].append('vpn1')
        hostvars['vpn1']['openvpn_client_connections'] = [{'server': 'vpn1', 'instance': 'lab'}]
    errors = errors_after(own_server)
    assert_error(errors, 'host vpn1: openvpn_client_connections[0].server: vpn1 is this host; a host cannot be a client of its own server')


def test_connection_instance_rules():
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(instance='test'))
    assert only_error(errors) == "host site3: openvpn_client_connections[0].instance: 'test' is not an instance of server vpn1 (its instances: main, lab)"
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').pop('instance'))
    assert only_error(errors) == 'host site3: openvpn_client_connections[0].instance: required: server vpn1 has several instances (main, lab)'

    def one_instance(hostvars, groups):
        second_server(hostvars, groups, '10.20.0.0/24')
        hostvars['site3']['openvpn_client_connections'].append({'server': 'vpn2'})
    assert errors_after(one_instance) == []

    def no_instance(hostvars, groups):
        second_server(hostvars, groups)
        hostvars['vpn2']['openvpn_server_instances'] = []
        hostvars['site3']['openvpn_client_connections'].append({'server': 'vpn2'})
    assert_error(errors_after(no_instance), 'host site3: openvpn_client_connections[1].instance: required: server vpn2 has no instances')


def test_connection_names_devices_and_instances_are_unique_per_client():
    def change(hostvars, groups):
        second_server(hostvars, groups, '10.20.0.0/24')
        hostvars['site3']['openvpn_client_connections'].append({'server': 'vpn2', 'instance': 'main', 'name': 'lab'})
    errors = errors_after(change)
    assert_error(errors, 'host site3: openvpn_client_connections[1].name: lab is also the name of openvpn_client_connections[0]')
    assert_error(errors, 'host site3: openvpn_client_connections[1].device: ovpnc-lab is also the device of openvpn_client_connections[0]')
    errors = errors_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'server': 'vpn1', 'instance': 'lab', 'name': 'lab2'}))
    assert only_error(errors) == ('host site3: openvpn_client_connections[1].instance: instance lab of server vpn1 is also connected to by '
                                  'openvpn_client_connections[0]')
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(name='Lab', device='a' * 16))
    assert_error(errors, "host site3: openvpn_client_connections[0].name: 'Lab' must be 1 to 15 characters")
    assert_error(errors, 'host site3: openvpn_client_connections[0].device:', 'must be 1 to 15 characters long')


def test_client_host_name_must_be_a_certificate_name():
    def change(hostvars, groups):
        hostvars['site 4'] = {'openvpn_client_connections': [{'server': 'vpn1', 'instance': 'lab'}]}
        groups['openvpn_clients'].append('site 4')
    assert_error(errors_after(change), "host site 4: inventory_hostname: 'site 4' is not a valid name", '(the client certificate is named after the host)')


def test_pools_of_one_client_must_not_overlap():
    def change(hostvars, groups):
        second_server(hostvars, groups, '10.9.0.0/25')
        hostvars['site3']['openvpn_client_connections'].append({'server': 'vpn2', 'name': 'other'})
    assert only_error(errors_after(change)) == (
        'host site3: openvpn_client_connections[1]: the ipv4_pool 10.9.0.0/25 of instance main of server vpn2 overlaps the ipv4_pool '
        '10.9.0.0/24 of instance lab of server vpn1 (openvpn_client_connections[0]); a client cannot be in both at once')


def test_pools_of_two_servers_may_overlap_for_different_clients():
    def change(hostvars, groups):
        second_server(hostvars, groups, '10.9.0.0/24')
        hostvars['site4'] = {'openvpn_client_connections': [{'server': 'vpn2'}]}
        groups['openvpn_clients'].append('site4')
    assert errors_after(change) == []


def test_fixed_address_rules():
    cases = [
        ('10.7.0.5', 'host site2: openvpn_client_connections[0].address: 10.7.0.5 is outside the ipv4_pool 10.8.0.0/24 of instance main of server vpn1'),
        ('10.8.0.0', 'host site2: openvpn_client_connections[0].address: 10.8.0.0 is the network address of the ipv4_pool 10.8.0.0/24'),
        ('10.8.0.255', 'host site2: openvpn_client_connections[0].address: 10.8.0.255 is the broadcast address of the ipv4_pool 10.8.0.0/24'),
        ('10.8.0.1', 'host site2: openvpn_client_connections[0].address: 10.8.0.1 is the address of the server itself in instance main of server vpn1'),
        ('10.8.0.10', 'host site2: openvpn_client_connections[0].address: 10.8.0.10 is also the address of host site1 (openvpn_client_connections[0])'),
        ('fd08::5', "host site2: openvpn_client_connections[0].address: 'fd08::5' is not an IPv4 address (write it without prefix length)"),
        ('10.8.0.5/24', "host site2: openvpn_client_connections[0].address: '10.8.0.5/24' is not an IPv4 address"),
    ]
    for address, message in cases:
        errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site2').update(address=address))
        assert_error(errors, message)
        assert len(errors) == 1, errors


def test_pool_too_small_for_the_server_and_its_clients():
    def change(hostvars, _groups):
        instance(hostvars).update(ipv4_pool='10.8.0.0/30', unmanaged_clients=['laptop-alice', 'laptop-bob'])
        connection(hostvars, 'site1').pop('address')
    assert only_error(errors_after(change)) == ('host vpn1: openvpn_server_instances[0].ipv4_pool: 10.8.0.0/30 has 2 usable addresses, too few '
                                                'for the server and its 4 clients')


def test_password_auth_needs_a_password_for_every_managed_connection():
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site2').pop('password'))
    assert only_error(errors) == ('host site2: openvpn_client_connections[0].password: required because instance main of server vpn1 has '
                                  'password_auth: true')
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site2').update(password=''))
    assert_error(errors, 'host site2: openvpn_client_connections[0].password: must be a non-empty string')


def test_password_auth_needs_a_user_entry_on_the_server():
    errors = errors_after(lambda hostvars, _groups: hostvars['vpn1']['openvpn_server_users'].pop('site2'))
    assert only_error(errors) == ('host vpn1: openvpn_server_users: no entry for user site2, the username of host site2 '
                                  '(openvpn_client_connections[0]) on instance main, which has password_auth: true')
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site2').update(username='bob'))
    assert_error(errors, 'host vpn1: openvpn_server_users: no entry for user bob')
    assert_no_secret(errors)


def test_passwords_must_match_and_are_never_shown():
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site2').update(password='typo-password'))
    assert only_error(errors) == ('host site2: openvpn_client_connections[0].password: does not match the password of user site2 '
                                  'in openvpn_server_users of server vpn1')
    assert_no_secret(errors)


def test_no_password_needed_without_password_auth():
    assert errors_after(lambda hostvars, _groups: instance(hostvars).update(password_auth=False)) == []


def test_username_rules():
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(username='bob smith'))
    assert_error(errors, "host site3: openvpn_client_connections[0].username: 'bob smith' is not a valid user name")


def test_routed_networks_rules():
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site2').update(routed_networks=['192.168.10.128/25']))
    assert only_error(errors) == ('host site2: openvpn_client_connections[0].routed_networks: 192.168.10.128/25 overlaps 192.168.10.0/24, '
                                  'routed behind host site1 (openvpn_client_connections[0]) on server vpn1; a network can sit behind one client only')
    # also across the instances of one host: the routes live in one routing table
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(routed_networks=['192.168.10.0/24']))
    assert_error(errors, 'host site3: openvpn_client_connections[0].routed_networks: 192.168.10.0/24 overlaps 192.168.10.0/24')
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(routed_networks=['10.8.0.0/16']))
    assert_error(errors, 'host site3: openvpn_client_connections[0].routed_networks: 10.8.0.0/16 overlaps the ipv4_pool 10.8.0.0/24 of instance main')
    errors = errors_after(lambda hostvars, _groups: connection(hostvars, 'site3').update(routed_networks=['192.168.3.1/24']))
    assert_error(errors, 'host site3: openvpn_client_connections[0].routed_networks: 192.168.3.1/24 has host bits set')


def test_profile_file_rules(tmp_path):
    profile = tmp_path / 'vendor.ovpn'
    profile.write_text('client\n')
    assert errors_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'profile_file': str(profile), 'name': 'vendor', 'username': 'me', 'password': 'hunter2'})) == []
    errors = errors_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'profile_file': str(profile), 'server': 'vpn1', 'instance': 'main', 'address': '10.8.0.7'}))
    assert_error(errors, 'host site3: openvpn_client_connections[1].server: must not be set together with profile_file')
    assert_error(errors, 'host site3: openvpn_client_connections[1].instance: must not be set together with profile_file')
    assert_error(errors, 'host site3: openvpn_client_connections[1].address: must not be set together with profile_file')
    assert_error(errors, 'host site3: openvpn_client_connections[1].name: required with profile_file')
    errors = errors_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'profile_file': str(tmp_path / 'missing.ovpn'), 'name': 'vendor'}))
    assert only_error(errors) == 'host site3: openvpn_client_connections[1].profile_file: %s is not a file on the controller' % (tmp_path / 'missing.ovpn')


# ---------------------------------------------------------------------------------------------
# Removal
# ---------------------------------------------------------------------------------------------

def test_an_absent_instance_needs_a_name_only():
    def change(hostvars, _groups):
        hostvars['vpn1']['openvpn_server_instances'].append({'name': 'old', 'state': 'absent'})
    assert errors_after(change) == []
    errors = errors_after(lambda hostvars, _groups: hostvars['vpn1']['openvpn_server_instances'].append({'state': 'absent'}))
    assert only_error(errors) == 'host vpn1: openvpn_server_instances[2].name: required'


def test_an_absent_instance_frees_its_port_and_device():
    def change(hostvars, _groups):
        hostvars['vpn1']['openvpn_server_instances'].append({'name': 'old', 'state': 'absent', 'port': 1194, 'device': 'ovpn-main',
                                                             'ipv4_pool': '10.8.0.0/24'})
    assert errors_after(change) == []


def test_connections_to_an_absent_instance_go_with_it():
    def change(hostvars, _groups):
        instance(hostvars)['state'] = 'absent'
        connection(hostvars, 'site2').pop('password')   # not needed any more
        connection(hostvars, 'site2')['address'] = '10.8.0.10'
    assert errors_after(change) == []
    errors = errors_after(lambda hostvars, _groups: hostvars['vpn1'].update(openvpn_server_state='absent', openvpn_server_users={}))
    assert errors == []


def test_an_absent_connection_needs_a_name_only():
    def change(hostvars, _groups):
        hostvars['site3']['openvpn_client_connections'].append({'server': 'vpn-gone', 'name': 'old', 'state': 'absent'})
    assert errors_after(change) == []
    errors = errors_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append({'server': 'vpn-gone', 'state': 'absent'}))
    assert only_error(errors) == "host site3: openvpn_client_connections[1].server: 'vpn-gone' is not a host of group openvpn_servers"


def test_an_absent_client_leaves_every_instance():
    def change(hostvars, _groups):
        hostvars['site2']['openvpn_client_state'] = 'absent'
        connection(hostvars, 'site2')['address'] = '10.8.0.10'
        instance(hostvars)['revoked_clients'] = ['site2']
    assert errors_after(change) == []


def test_name_lists_and_domains_must_be_lists():
    errors = errors_after(lambda hostvars, _groups: instance(hostvars).update(unmanaged_clients='laptop', search_domains='corp.example.org'))
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].unmanaged_clients: must be a list of client names, got str')
    assert_error(errors, 'host vpn1: openvpn_server_instances[0].search_domains: must be a list of DNS names, got str')


def test_an_absent_profile_connection_needs_no_file(tmp_path):
    def change(hostvars, _groups):
        hostvars['site3']['openvpn_client_connections'].append({'profile_file': str(tmp_path / 'deleted.ovpn'), 'name': 'vendor',
                                                                'state': 'absent'})
    assert errors_after(change) == []
    errors = errors_after(lambda hostvars, _groups: hostvars['site3']['openvpn_client_connections'].append(
        {'profile_file': str(tmp_path / 'deleted.ovpn'), 'state': 'absent'}))
    assert only_error(errors) == 'host site3: openvpn_client_connections[1].name: required with profile_file'
