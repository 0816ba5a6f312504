# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import (
    addresses_differ,
    check_ip_list,
    endpoint_problem,
    format_endpoint,
    host_name_problem,
    host_routes,
    interface_name_problem,
    ip_endpoint,
    is_usable,
    normalise_address,
    normalise_addresses,
    normalise_network,
    normalise_networks,
    overlapping_networks,
    parse_cidr_list,
    parse_host_address,
    split_endpoint,
    usable_range,
)


# ---------------------------------------------------------------------------------------------
# Addresses and prefixes
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('10.77.0.5', (ipaddress.ip_address('10.77.0.5'), None)),
    ('10.77.0.5/24', (ipaddress.ip_address('10.77.0.5'), 24)),
    ('fd77::5/64', (ipaddress.ip_address('fd77::5'), 64)),
])
def test_parse_host_address(text, expected):
    assert parse_host_address(text) == expected


@pytest.mark.parametrize('text', ['10.77.0.5/33', '10.77.0.5/', '10.77.0.5/x', 'fd77::5/129', '10.77.0', None, 5])
def test_parse_host_address_rejects(text):
    with pytest.raises(ValueError):
        parse_host_address(text)


def test_usable_range_leaves_out_network_and_ipv4_broadcast():
    pool4 = ipaddress.ip_network('10.66.0.0/30')
    assert usable_range(pool4) == (int(ipaddress.ip_address('10.66.0.1')), 2)
    assert [is_usable(pool4, ipaddress.ip_address('10.66.0.%d' % last)) for last in range(4)] == [False, True, True, False]
    pool6 = ipaddress.ip_network('fd00::/126')
    assert usable_range(pool6)[1] == 3
    assert not is_usable(pool6, ipaddress.ip_address('fd00::')) and is_usable(pool6, ipaddress.ip_address('fd00::3'))
    assert usable_range(ipaddress.ip_network('10.0.0.1/32'))[1] == 0


def test_host_routes():
    assert host_routes(['10.77.0.5/24', 'fd77::5/64', '10.1.1.1']) == ['10.77.0.5/32', 'fd77::5/128', '10.1.1.1/32']


def test_normalise_addresses_and_networks():
    assert normalise_address(' 10.0.0.1/24 ') == '10.0.0.1/24'
    assert normalise_address('10.0.0.1') == '10.0.0.1/32'
    assert normalise_addresses(['fd00::1/64', '10.0.0.2/24', '10.0.0.1/24', '10.0.0.1/24']) == ['10.0.0.1/24', '10.0.0.2/24', 'fd00::1/64']
    assert normalise_network('10.0.0.5/24') == '10.0.0.0/24'
    assert normalise_networks(['2001:DB8::/32', '10.1.0.0/16', '10.0.0.0/8', '10.0.0.7/8']) == ['10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32']


def test_normalise_errors_name_what_the_caller_says():
    with pytest.raises(ValueError, match=r"^Address '10\.0\.0\.300/24' is not an IP address with an optional prefix length$"):
        normalise_addresses(['10.0.0.300/24'], 'Address')
    with pytest.raises(ValueError, match=r"^address 'x' is not an IP address"):
        normalise_address('x')
    with pytest.raises(ValueError, match=r"^AllowedIPs entry '10\.0\.0\.0/33' is not an IP network$"):
        normalise_networks(['10.0.0.0/33'], 'AllowedIPs entry')
    with pytest.raises(ValueError, match=r"^network 'x' is not an IP network$"):
        normalise_network('x')


def test_addresses_differ():
    assert not addresses_differ(['10.0.0.1/24', 'fd00::1/64'], ['fd00::1/64', '10.0.0.1/24'])
    assert not addresses_differ(['10.0.0.1/32'], ['10.0.0.1'])
    assert not addresses_differ(['10.0.0.1/24', 'fe80::5/64'], ['10.0.0.1/24'])  # kernel link-local ignored
    assert addresses_differ(['10.0.0.1/24'], ['10.0.0.1/24', 'fe80::5/64'])  # ...unless configured
    assert addresses_differ(['10.0.0.1/24'], ['10.0.0.1/25'])
    assert addresses_differ(['10.0.0.1/24', '10.0.0.2/24'], ['10.0.0.1/24'])
    assert addresses_differ([], ['10.0.0.1/24'])
    assert not addresses_differ(None, [])


def test_check_ip_list():
    errors = []
    check_ip_list(errors, 'where', None)
    check_ip_list(errors, 'where', ['10.0.0.1', 'fd00::1'])
    assert errors == []
    check_ip_list(errors, 'where', '10.0.0.1')
    check_ip_list(errors, 'where', ['10.0.0.1', 'dns.example.com', 53])
    assert errors == ['where: must be a list of IP addresses, got str', "where: 'dns.example.com' is not an IP address", 'where: 53 is not an IP address']


def test_parse_cidr_list():
    errors = []
    assert parse_cidr_list(errors, 'where', None) == []
    prefixes = parse_cidr_list(errors, 'where', ['10.0.0.0/8', 'fd00::/64', '10.0.0.1/8', '10.0.0.1', '10.0.0.0/33', 7])
    assert prefixes == [ipaddress.ip_network('10.0.0.0/8'), ipaddress.ip_network('fd00::/64')]
    assert errors == [
        'where: 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)',
        "where: '10.0.0.1' is not a CIDR prefix (address/length)",
        "where: '10.0.0.0/33' is not a CIDR prefix",
        'where: 7 is not a CIDR prefix (address/length)',
    ]
    assert parse_cidr_list(errors, 'where', '10.0.0.0/8') == []
    assert errors[-1] == 'where: must be a list of CIDR prefixes, got str'


# ---------------------------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('host, port, expected', [
    ('vpn.example.net', 51820, 'vpn.example.net:51820'),
    ('192.0.2.1', 1, '192.0.2.1:1'),
    ('2001:db8::1', 51820, '[2001:db8::1]:51820'),
    ('[2001:db8::1]', 51820, '[2001:db8::1]:51820'),
    (None, 51820, None),
    ('', 51820, None),
])
def test_format_endpoint(host, port, expected):
    assert format_endpoint(host, port) == expected


def test_format_endpoint_rejects_bad_port():
    with pytest.raises(ValueError):
        format_endpoint('vpn', 0)
    with pytest.raises(ValueError):
        format_endpoint('vpn', '51820')


@pytest.mark.parametrize('text, expected', [
    ('vpn.example.net:51820', ('vpn.example.net', 51820)),
    (' 198.51.100.7:1 ', ('198.51.100.7', 1)),
    ('[fd00::1]:65535', ('fd00::1', 65535)),
])
def test_split_endpoint(text, expected):
    assert split_endpoint(text) == expected


@pytest.mark.parametrize('text, message', [
    ('198.51.100.7', "Endpoint '198.51.100.7' must be host:port"),
    ('fd00::1:51820', "Endpoint 'fd00::1:51820': write IPv6 addresses in brackets, [address]:port"),
    ('[fd00::1]51820', "Endpoint '[fd00::1]51820' must be [IPv6 address]:port"),
    (':51820', "Endpoint ':51820' has no valid host"),
    ('vpn:0', "the port of Endpoint 'vpn:0' must be an integer between 1 and 65535, got 0"),
    ('vpn:x', "the port of Endpoint 'vpn:x' must be an integer between 1 and 65535, got 'x'"),
])
def test_split_endpoint_errors_name_what_the_caller_says(text, message):
    with pytest.raises(ValueError) as excinfo:
        split_endpoint(text, 'Endpoint')
    assert str(excinfo.value) == message
    with pytest.raises(ValueError) as excinfo:
        split_endpoint(text)
    assert str(excinfo.value) == message.replace('Endpoint', 'endpoint')


def test_ip_endpoint():
    assert ip_endpoint('[fd00::1]:51820') == (ipaddress.ip_address('fd00::1'), 51820)
    assert ip_endpoint('198.51.100.7:1') == (ipaddress.ip_address('198.51.100.7'), 1)
    assert ip_endpoint('vpn.example.net:51820') is None
    assert ip_endpoint('garbage') is None
    assert ip_endpoint(None) is None


@pytest.mark.parametrize('value', ['vpn.example.net', 'vpn', 'vpn.example.net.', '192.0.2.1', '2001:db8::1', '[2001:db8::1]', 'my_host-1.lan'])
def test_endpoint_problem_accepts(value):
    assert endpoint_problem(value) is None


@pytest.mark.parametrize('value, word', [
    ('vpn.example.net:51820', 'port'), ('[2001:db8::1]:51820', 'port'), ('vpn example.net', 'whitespace'), ('vpn..example.net', 'host name'),
    ('-vpn', 'host name'), ('a' * 64 + '.net', 'host name'), ('300.1.2.3', 'IPv4'), ('[192.0.2.1]', 'IPv6'), ('[2001:db8::1', 'endpoint'),
    ('2001:db8::zz', 'IPv6'), ('vpn:http', 'endpoint'), (51820, 'string'),
])
def test_endpoint_problem_rejects(value, word):
    assert word in endpoint_problem(value)


def test_endpoint_problem_names_the_port_setting():
    assert endpoint_problem('vpn.example.net:1194', 'port') == "'vpn.example.net:1194' must not contain a port (the port comes from port)"
    assert endpoint_problem('[2001:db8::1]:1194') == "'[2001:db8::1]:1194' must not contain a port (the port comes from listen_port)"


@pytest.mark.parametrize('value', ['example.org', 'corp', 'corp.example.org.', 'my_host-1.lan'])
def test_host_name_accepted(value):
    assert host_name_problem(value) is None


@pytest.mark.parametrize('value, message', [
    ('10.0.0.1', "'10.0.0.1' is not a host name (its labels are all numbers)"),
    ('corp example', "'corp example' is not a valid host name"),
    ('-corp.example', "'-corp.example' is not a valid host name"),
    ('a..b', "'a..b' is not a valid host name"),
    ('', "'' is not a valid host name"),
    ('x' * 64, "'%s' is not a valid host name" % ('x' * 64)),
    (['corp'], 'must be a string (a host name), got list'),
])
def test_host_name_problem(value, message):
    assert host_name_problem(value) == message


def test_overlapping_networks():
    networks = [ipaddress.ip_network(text) for text in ('10.0.0.0/24', 'fd00::/64', '10.0.0.128/25', '10.1.0.0/24', '10.0.0.0/8', 'fd00::/64')]
    assert overlapping_networks(networks) == [(0, 2), (0, 4), (1, 5), (2, 4), (3, 4)]
    assert overlapping_networks([ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_network('::/0')]) == []
    assert overlapping_networks([]) == []


# ---------------------------------------------------------------------------------------------
# Interface names
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value', ['wg0', 'a', 'x' * 15, 'wg-office_1.2'])
def test_interface_name_accepted(value):
    assert interface_name_problem(value) is None


@pytest.mark.parametrize('value, fragment', [
    ('', '1 to 15'), ('x' * 16, '1 to 15'), ('.', 'not a valid'), ('..', 'not a valid'), ('wg/0', 'must not contain'), ('wg:0', 'must not contain'),
    ('wg 0', 'must not contain'), (0, 'must be a string'),
])
def test_interface_name_problem(value, fragment):
    assert fragment in interface_name_problem(value)
