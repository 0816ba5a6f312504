# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The inputs of the OpenVPN roles, read with the roles' defaults:
#
# * servers: the hosts of group openvpn_servers (role overlaynet.vpn.openvpn_server), each with
#   openvpn_server_instances, openvpn_server_public_address, openvpn_server_users (secrets) and
#   openvpn_server_state; read by read_servers(),
# * clients: the hosts of group openvpn_clients (role overlaynet.vpn.openvpn_client), each with
#   openvpn_client_connections (whose passwords are secrets) and openvpn_client_state; read by
#   read_clients().
#
# What read_* return holds passwords: it is only for the checks (_openvpn_validate) and the
# planners (_openvpn_plan), never stored or shown. server_settings() and client_settings() fill
# in the defaults of validated variables and leave every password out.
#
# Every host's data comes from `hostvars`, which does not show role defaults: the defaults
# below are the roles' (roles/openvpn_server/defaults/main.yml, roles/openvpn_client/...).

import re

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import INTERFACE_NAME_MAX_LENGTH
from ansible_collections.overlaynet.vpn.plugins.module_utils._hostvars import read_host_variables
from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import group_hosts
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import as_list

SERVERS_GROUP = 'openvpn_servers'
CLIENTS_GROUP = 'openvpn_clients'

STATES = ('present', 'absent')
PROTOCOLS = ('udp', 'tcp')
TLS_CRYPT_VERSIONS = ('v2', 'v1')
# AEAD ciphers only: OpenVPN 2.6 removed BF-CBC and the other 64-bit block ciphers from the defaults,
# and CBC ciphers need a separate HMAC that data-ciphers negotiation no longer offers.
DATA_CIPHERS = ('AES-256-GCM', 'AES-192-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305')
DEFAULT_DATA_CIPHERS = ['AES-256-GCM', 'CHACHA20-POLY1305']
DEFAULT_PORT = 1194
DEFAULT_KEEPALIVE = [10, 60]
# tun_mtu: IPv6 needs 1280 on a link; 65535 is the largest IP packet.
TUN_MTU_RANGE = (1280, 65535)

# Instance and connection names name a systemd unit instance and a config file.
NAME_PATTERN = re.compile(r'^[a-z0-9][a-z0-9_-]{0,14}$')
SERVER_DEVICE_PREFIX = 'ovpn-'
CLIENT_DEVICE_PREFIX = 'ovpnc-'
SERVER_CONFIG_DIR = '/etc/openvpn/server'
CLIENT_CONFIG_DIR = '/etc/openvpn/client'
SERVER_UNIT = 'openvpn-server@%s'
CLIENT_UNIT = 'openvpn-client@%s'

INSTANCE_KEYS = (
    'name', 'device', 'proto', 'port', 'ipv4_pool', 'ipv6_pool', 'push_routes', 'dns_servers', 'search_domains',
    'redirect_gateway', 'client_to_client', 'masquerade', 'tls_crypt', 'data_ciphers', 'password_auth',
    'unmanaged_clients', 'revoked_clients', 'revoke_unlisted', 'keepalive', 'tun_mtu', 'state',
)
CONNECTION_KEYS = (
    'server', 'instance', 'name', 'device', 'profile_file', 'username', 'password', 'address', 'routed_networks', 'state',
)

SERVER_DEFAULTS = {'openvpn_server_instances': [], 'openvpn_server_public_address': None, 'openvpn_server_users': {},
                   'openvpn_server_state': 'present', 'openvpn_server_crl_validity_days': 180,
                   'openvpn_server_crl_renew_before_days': 90, 'openvpn_server_crl_signed_ahead': 3}
CLIENT_DEFAULTS = {'openvpn_client_connections': [], 'openvpn_client_state': 'present'}


def default_device(prefix, name):
    """The tun device of an instance or connection without one: prefix + name, cut to the kernel's 15 characters."""
    return ('%s%s' % (prefix, name))[:INTERFACE_NAME_MAX_LENGTH]


def network_name(server, instance):
    """How the connectivity report names the tunnel of one server instance: '<server host>/<instance>'."""
    return '%s/%s' % (server, instance)


# ---------------------------------------------------------------------------------------------
# Reading hostvars
# ---------------------------------------------------------------------------------------------

def server_variables(hostvars, host, undefined=()):
    """The openvpn_server_* variables of one host, role defaults applied (see read_host_variables).

    openvpn_server_public_address defaults (also when null) to the host's ansible_host, else its
    inventory name. The result holds openvpn_server_users (passwords).
    """
    variables = read_host_variables(hostvars, host, SERVER_DEFAULTS, undefined)
    if variables['openvpn_server_public_address'] is None:
        variables['openvpn_server_public_address'] = read_host_variables(hostvars, host, {'ansible_host': host}, undefined)['ansible_host']
    return variables


def client_variables(hostvars, host, undefined=()):
    """The openvpn_client_* variables of one host, role defaults applied. The result holds connection passwords."""
    return read_host_variables(hostvars, host, CLIENT_DEFAULTS, undefined)


def read_servers(hostvars, groups, undefined=()):
    """Host -> server_variables() for every host of group openvpn_servers, sorted by host."""
    return dict((host, server_variables(hostvars, host, undefined)) for host in sorted(set(group_hosts(groups, SERVERS_GROUP))))


def read_clients(hostvars, groups, undefined=()):
    """Host -> client_variables() for every host of group openvpn_clients, sorted by host."""
    return dict((host, client_variables(hostvars, host, undefined)) for host in sorted(set(group_hosts(groups, CLIENTS_GROUP))))


# ---------------------------------------------------------------------------------------------
# Settings with defaults (of variables that passed the checks)
# ---------------------------------------------------------------------------------------------

def _or_default(settings, key, default):
    if settings.get(key) is None:
        settings[key] = default


def instance_settings(instance, server_state='present'):
    """An entry of openvpn_server_instances with defaults filled in for absent (or null) keys.

    Its state is absent when the server's openvpn_server_state is.
    """
    settings = dict(instance)
    _or_default(settings, 'device', default_device(SERVER_DEVICE_PREFIX, settings['name']))
    _or_default(settings, 'proto', 'udp')
    _or_default(settings, 'port', DEFAULT_PORT)
    settings.setdefault('ipv4_pool', None)
    settings.setdefault('ipv6_pool', None)
    for key in ('push_routes', 'dns_servers', 'search_domains', 'unmanaged_clients', 'revoked_clients'):
        settings[key] = as_list(settings.get(key))
    for key in ('redirect_gateway', 'client_to_client', 'password_auth', 'revoke_unlisted'):
        settings[key] = bool(settings.get(key))
    _or_default(settings, 'masquerade', True)
    _or_default(settings, 'tls_crypt', 'v2')
    _or_default(settings, 'data_ciphers', list(DEFAULT_DATA_CIPHERS))
    _or_default(settings, 'keepalive', list(DEFAULT_KEEPALIVE))
    settings.setdefault('tun_mtu', None)
    _or_default(settings, 'state', 'present')
    if server_state == 'absent':
        settings['state'] = 'absent'
    return settings


def server_settings(host, variables):
    """{'host', 'public_address', 'state', 'instances': [instance_settings(), ...]} of a server (no passwords)."""
    state = variables['openvpn_server_state']
    return {
        'host': host,
        'public_address': variables['openvpn_server_public_address'],
        'state': state,
        'instances': [instance_settings(instance, state) for instance in as_list(variables['openvpn_server_instances'])],
    }


def sole_instance(instance_names):
    """The instance a connection without `instance` means: the only one the server lists, else None."""
    names = list(instance_names)
    return names[0] if len(names) == 1 else None


def connection_settings(connection, host, client_state, server_instance_names):
    """An entry of openvpn_client_connections with defaults filled in, without its password.

    server_instance_names: the instance names the connection's server lists ([] for a profile_file
    connection). instance defaults to the server's only instance, name to the instance, username
    to the client's certificate name (its inventory name). The state is absent when the client's
    openvpn_client_state is.
    """
    settings = dict((key, value) for key, value in connection.items() if key != 'password')
    settings['password_given'] = connection.get('password') is not None
    settings.setdefault('profile_file', None)
    settings.setdefault('server', None)
    if settings.get('instance') is None and settings['profile_file'] is None:
        settings['instance'] = sole_instance(server_instance_names)
    settings.setdefault('instance', None)
    _or_default(settings, 'name', settings['instance'])
    _or_default(settings, 'device', default_device(CLIENT_DEVICE_PREFIX, settings['name']))
    _or_default(settings, 'username', host)
    settings.setdefault('address', None)
    settings['routed_networks'] = as_list(settings.get('routed_networks'))
    _or_default(settings, 'state', 'present')
    if client_state == 'absent':
        settings['state'] = 'absent'
    return settings


def client_settings(host, variables, servers):
    """{'host', 'state', 'connections': [connection_settings(), ...]} of a client; servers: host -> server_settings()."""
    state = variables['openvpn_client_state']
    connections = []
    for connection in as_list(variables['openvpn_client_connections']):
        # A connection being removed may name a server that is gone, or anything at all.
        server = servers.get(connection['server']) if isinstance(connection.get('server'), str) else None
        names = [instance['name'] for instance in server['instances']] if server else []
        connections.append(connection_settings(connection, host, state, names))
    return {'host': host, 'state': state, 'connections': connections}


def inventory_settings(servers, clients):
    """(host -> server_settings(), host -> client_settings()) of read_servers() and read_clients() results that passed the checks."""
    server_settings_by_host = dict((host, server_settings(host, variables)) for host, variables in servers.items())
    client_settings_by_host = dict((host, client_settings(host, variables, server_settings_by_host)) for host, variables in clients.items())
    return server_settings_by_host, client_settings_by_host
