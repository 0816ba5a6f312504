# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Every check of the OpenVPN roles' inputs, run once before any host changes: the servers'
# instances, public addresses and users, the clients' connections, and what ties them together
# (instances named by connections, fixed addresses, passwords, overlapping networks, client names
# and revocations in the one CA of each server host). See _openvpn_inventory for the inputs.
#
# validate() returns every problem at once. Each message starts with 'host <name>' or 'all' and
# names the variable to fix. Passwords are never echoed.
#
# Only present instances and connections are checked against each other: an instance or a
# connection with state absent (or on a host whose openvpn_*_state is absent) is being removed,
# and needs only a name. A connection to an absent instance is removed with it.
#
# Revocation: revoked_clients names clients whose certificates are revoked, typically a laptop
# taken out of unmanaged_clients or a host that left openvpn_clients. A revoked name must not be
# a current client of the server host (managed or unmanaged) nor its own certificate name; any
# other valid name is accepted here, since the controller's PKI is not read here. The PKI module
# (overlaynet.vpn.openvpn_pki) then refuses a name it never issued, naming it.

import hmac
import ipaddress
import os
import re

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import (
    check_ip_list,
    endpoint_problem,
    family_name,
    host_name_problem,
    interface_name_problem,
    is_usable,
    overlapping_networks,
    parse_cidr_list,
    usable_range,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_inventory import (
    CLIENT_DEVICE_PREFIX,
    CLIENTS_GROUP,
    CONNECTION_KEYS,
    DATA_CIPHERS,
    DEFAULT_PORT,
    INSTANCE_KEYS,
    NAME_PATTERN,
    PROTOCOLS,
    SERVER_DEVICE_PREFIX,
    SERVERS_GROUP,
    STATES,
    TLS_CRYPT_VERSIONS,
    TUN_MTU_RANGE,
    default_device,
    read_clients,
    read_servers,
    sole_instance,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import (
    check_bool,
    check_choice,
    check_int,
    check_known_keys,
    is_int,
    is_list,
    is_mapping,
    list_value,
    type_name,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import name_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_layout import MAX_CRL_SIGNED_AHEAD

POOL_PREFIXES = {'ipv4_pool': (4, 0, 30), 'ipv6_pool': (6, 64, 124)}
BOOLEAN_KEYS = ('redirect_gateway', 'client_to_client', 'masquerade', 'password_auth', 'revoke_unlisted')
# A user name goes into the credentials file of a client and the user list of a server: printable
# ASCII without spaces, as OpenVPN's auth-user-pass reads one name per line.
USERNAME_PATTERN = re.compile(r'^[!-~]{1,64}$')


class _Server(object):
    """A host of openvpn_servers as the cross checks see it."""

    def __init__(self, host, users):
        self.host = host
        self.users = users               # user name -> password, the valid entries only
        self.instances = []              # _Instance, every entry that is a mapping

    def present_instances(self):
        return [instance for instance in self.instances if instance.present and instance.name is not None]


class _Instance(object):
    """One entry of openvpn_server_instances, with the values that passed its own checks."""

    def __init__(self, server, index):
        self.server = server
        self.path = 'openvpn_server_instances[%d]' % index
        self.where = 'host %s: %s' % (server, self.path)
        self.name = None
        self.present = True
        self.device = None
        self.proto = 'udp'
        self.port = DEFAULT_PORT
        self.pools = {}                  # 'ipv4_pool' / 'ipv6_pool' -> ip_network
        self.push_routes = []
        self.password_auth = False
        self.unmanaged = []              # (index, name), valid and listed once
        self.revoked = []                # (index, name), valid and listed once
        self.connections = []            # the present managed _Connection of clients

    def label(self):
        return 'instance %s of server %s' % (self.name, self.server)


class _Connection(object):
    """One entry of openvpn_client_connections, with the values that passed its own checks."""

    def __init__(self, client, index):
        self.client = client
        self.path = 'openvpn_client_connections[%d]' % index
        self.where = 'host %s: %s' % (client, self.path)
        self.reference = 'host %s (%s)' % (client, self.path)
        self.name = None
        self.present = True
        self.device = None
        self.instance = None             # the _Instance of a managed connection, once found
        self.address = None              # ip_address
        self.routed_networks = []
        self.username = None
        self.password = None             # the secret itself: compared, never shown


def _report_duplicates(errors, entries, what):
    """entries: (key, where, reference, shown) in order; '<where>: <shown> is also <what> <first reference>' for every repeated key."""
    first = {}
    for key, where, reference, shown in entries:
        if key in first:
            errors.append('%s: %s is also %s %s' % (where, shown, what, first[key]))
        else:
            first[key] = reference


def secret_text(value):
    """The text of a password (a vault value reads as its plain text), or None when it is not a non-empty string."""
    if value is None or isinstance(value, (bool, int, float, list, tuple, dict)):
        return None
    text = value if isinstance(value, str) else str(value)
    return text or None


def _username_problem(value):
    if not isinstance(value, str) or not USERNAME_PATTERN.match(value):
        return '%r is not a valid user name (1 to 64 printable ASCII characters, no spaces)' % (value,)
    return None


def _check_name(errors, where, value):
    """True when value can name an instance or a connection (a unit instance and a file name)."""
    if isinstance(value, str) and NAME_PATTERN.match(value):
        return True
    errors.append('%s: %r must be 1 to 15 characters of a-z, 0-9, "_" and "-", starting with a letter or digit' % (where, value))
    return False


def _name_and_device(errors, where, name, device, prefix):
    """(name, device) of an instance or a connection, each None when invalid or unknown; the device defaults to prefix + name."""
    if name is not None and not _check_name(errors, where + '.name', name):
        name = None
    if device is None and name is not None:
        device = default_device(prefix, name)
    if device is not None:
        problem = interface_name_problem(device)
        if problem:
            errors.append('%s.device: %s' % (where, problem))
            device = None
    return name, device


def _check_state(errors, where, value):
    """False when value says absent; a wrong value is reported and counts as present (so that everything else is checked)."""
    if value is None:
        return True
    check_choice(errors, where, value, STATES)
    return value != 'absent'


def _check_name_list(errors, where, value):
    """(index, name) of the valid certificate names of a list, each once."""
    names = []
    for index, name in enumerate(list_value(errors, where, value, 'client names')):
        problem = name_problem(name, '%s[%d]' % (where, index))
        if problem:
            errors.append(problem)
        else:
            names.append((index, name))
    _report_duplicates(errors, [(name, '%s[%d]' % (where, index), '[%d]' % index, name) for index, name in names], 'listed at')
    first = {}
    return [(index, name) for index, name in names if first.setdefault(name, index) == index]


def _check_entry(errors, where, value, what, keys):
    """False when a list entry has state absent, True otherwise; None when it is not a mapping. Unknown keys are reported."""
    if not is_mapping(value):
        errors.append('%s: must be a mapping (%s), got %s' % (where, what, type_name(value)))
        return None
    check_known_keys(errors, where, value, keys)
    return _check_state(errors, where + '.state', value.get('state'))


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------

def _check_pool(errors, instance, key, value):
    version, low, high = POOL_PREFIXES[key]
    where = '%s.%s' % (instance.where, key)
    pool_errors = []
    pools = parse_cidr_list(pool_errors, where, [value])
    errors.extend(pool_errors)
    if not pools:
        return
    pool = pools[0]
    if pool.version != version:
        errors.append('%s: %s is an %s prefix; %s takes an %s prefix' % (where, pool, family_name(pool.version), key, family_name(version)))
    elif not low <= pool.prefixlen <= high:
        errors.append('%s: %s: the prefix length must be %s (got /%d)'
                      % (where, pool, 'at most /%d' % high if low == 0 else 'from /%d to /%d' % (low, high), pool.prefixlen))
    else:
        instance.pools[key] = pool


def _check_ciphers(errors, where, value):
    if value is None:
        return
    allowed = ', '.join(DATA_CIPHERS)
    if not is_list(value) or not value:
        errors.append('%s: must be a non-empty list of cipher names (allowed: %s), got %r' % (where, allowed, value))
        return
    seen = set()
    for cipher in value:
        if not isinstance(cipher, str) or cipher not in DATA_CIPHERS:
            errors.append('%s: %r is not allowed (allowed: %s; weak or removed ciphers such as BF-CBC are refused)' % (where, cipher, allowed))
        elif cipher in seen:
            errors.append('%s: %s is listed twice' % (where, cipher))
        seen.add(cipher)


def _check_keepalive(errors, where, value):
    if value is None:
        return
    if not is_list(value) or len(value) != 2 or not all(is_int(item) and item >= 1 for item in value):
        errors.append('%s: must be a list of two positive integers [interval, timeout] in seconds, got %r' % (where, value))
    elif value[1] <= value[0]:
        errors.append('%s: the timeout (%d s) must be greater than the interval (%d s)' % (where, value[1], value[0]))


def _check_domains(errors, where, value):
    for domain in list_value(errors, where, value, 'DNS names'):
        problem = host_name_problem(domain)
        if problem:
            errors.append('%s: %s' % (where, problem))


def _check_instance(errors, server, index, value, server_present):
    instance = _Instance(server, index)
    where = instance.where
    wanted = _check_entry(errors, where, value, 'an instance', INSTANCE_KEYS)
    if wanted is None:
        return None
    instance.present = wanted and server_present

    if value.get('name') is None:
        errors.append('%s.name: required' % where)
    instance.name, instance.device = _name_and_device(errors, where, value.get('name'), value.get('device'), SERVER_DEVICE_PREFIX)

    if value.get('proto') is not None and check_choice(errors, where + '.proto', value['proto'], PROTOCOLS):
        instance.proto = value['proto']
    if value.get('port') is not None and check_int(errors, where + '.port', value['port'], 1, 65535):
        instance.port = value['port']
    for key in ('ipv4_pool', 'ipv6_pool'):
        if value.get(key) is not None:
            _check_pool(errors, instance, key, value[key])
    if value.get('ipv4_pool') is None and instance.present:
        errors.append('%s.ipv4_pool: required (an IPv4 prefix such as 10.8.0.0/24 for the tunnel addresses)' % where)
    instance.push_routes = parse_cidr_list(errors, where + '.push_routes', value.get('push_routes'))
    check_ip_list(errors, where + '.dns_servers', value.get('dns_servers'))
    _check_domains(errors, where + '.search_domains', value.get('search_domains'))
    for key in BOOLEAN_KEYS:
        if value.get(key) is not None:
            check_bool(errors, '%s.%s' % (where, key), value[key])
    instance.password_auth = value.get('password_auth') is True
    if value.get('tls_crypt') is not None:
        check_choice(errors, where + '.tls_crypt', value['tls_crypt'], TLS_CRYPT_VERSIONS)
    _check_ciphers(errors, where + '.data_ciphers', value.get('data_ciphers'))
    _check_keepalive(errors, where + '.keepalive', value.get('keepalive'))
    if value.get('tun_mtu') is not None:
        check_int(errors, where + '.tun_mtu', value['tun_mtu'], *TUN_MTU_RANGE)

    instance.unmanaged = _check_name_list(errors, where + '.unmanaged_clients', value.get('unmanaged_clients'))
    instance.revoked = _check_name_list(errors, where + '.revoked_clients', value.get('revoked_clients'))
    unmanaged = dict((name, index) for index, name in instance.unmanaged)
    for index, name in instance.revoked:
        if name in unmanaged:
            errors.append('%s.revoked_clients[%d]: %s is also in unmanaged_clients[%d]; a client is either issued or revoked'
                          % (where, index, name, unmanaged[name]))
    return instance


def _check_users(errors, host, users):
    """The valid entries of openvpn_server_users; the passwords are never shown."""
    where = 'host %s: openvpn_server_users' % host
    if not is_mapping(users):
        errors.append('%s: must be a mapping of user name to password, got %s' % (where, type_name(users)))
        return {}
    valid = {}
    for name in sorted(users, key=str):
        problem = _username_problem(name)
        if problem:
            errors.append('%s: %s' % (where, problem))
            continue
        password = secret_text(users[name])
        if password is None:
            errors.append('%s.%s: the password must be a non-empty string' % (where, name))
            continue
        valid[name] = password
    return valid


def _check_server_instances(errors, server):
    """What the instances of one host must not share: names, devices, (proto, port) and overlapping pools."""
    named = [instance for instance in server.instances if instance.name is not None]
    _report_duplicates(errors, [(instance.name, instance.where + '.name', instance.path, instance.name) for instance in named],
                       'the name of')
    present = server.present_instances()
    _report_duplicates(errors, [((instance.proto, instance.port), instance.where + '.port', instance.path,
                                 '%s port %d' % (instance.proto, instance.port)) for instance in present], 'listened on by')
    pools = [(instance, key, pool) for instance in present for key, pool in sorted(instance.pools.items())]
    for first, second in overlapping_networks([pool for _instance, _key, pool in pools]):
        instance, key, pool = pools[second]
        other, other_key, other_pool = pools[first]
        errors.append('%s.%s: %s overlaps %s.%s (%s) of instance %s; the pools of one host must not overlap'
                      % (instance.where, key, pool, other.path, other_key, other_pool, other.name))
    for instance in present:
        for route in instance.push_routes:
            for key, pool in sorted(instance.pools.items()):
                if route.version == pool.version and route.overlaps(pool):
                    errors.append('%s.push_routes: %s overlaps the %s %s of the instance (its clients reach the pool anyway; '
                                  'use redirect_gateway for a default route)' % (instance.where, route, key, pool))


def _check_crl_days(errors, host, validity_days, renew_before_days, signed_ahead):
    check_int(errors, 'host %s: openvpn_server_crl_signed_ahead' % host, signed_ahead, 0, MAX_CRL_SIGNED_AHEAD)
    validity_ok = check_int(errors, 'host %s: openvpn_server_crl_validity_days' % host, validity_days, 2, 3650)
    renew_ok = check_int(errors, 'host %s: openvpn_server_crl_renew_before_days' % host, renew_before_days, 1, 3650)
    if validity_ok and renew_ok and renew_before_days >= validity_days:
        errors.append('host %s: openvpn_server_crl_renew_before_days: %d must be less than openvpn_server_crl_validity_days (%d), '
                      'or every run would sign a new CRL' % (host, renew_before_days, validity_days))


def _check_server(errors, host, variables):
    present = _check_state(errors, 'host %s: openvpn_server_state' % host, variables['openvpn_server_state'])
    problem = endpoint_problem(variables['openvpn_server_public_address'], 'port')
    if problem:
        errors.append('host %s: openvpn_server_public_address: %s' % (host, problem))
    _check_crl_days(errors, host, variables['openvpn_server_crl_validity_days'], variables['openvpn_server_crl_renew_before_days'],
                    variables['openvpn_server_crl_signed_ahead'])
    server = _Server(host, _check_users(errors, host, variables['openvpn_server_users']))
    instances = variables['openvpn_server_instances']
    if not is_list(instances):
        errors.append('host %s: openvpn_server_instances: must be a list of instances, got %s' % (host, type_name(instances)))
        instances = []
    for index, value in enumerate(instances):
        instance = _check_instance(errors, host, index, value, present)
        if instance is not None:
            server.instances.append(instance)
    _check_server_instances(errors, server)
    if server.present_instances():
        problem = name_problem(host, 'host %s: inventory_hostname' % host)
        if problem:
            errors.append('%s (the server certificate is named after the host)' % problem)
    return server


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

def _check_profile_connection(errors, connection, value, wanted):
    where = connection.where
    path = value['profile_file']
    if wanted and not (isinstance(path, str) and path and os.path.isfile(path)):
        errors.append('%s.profile_file: %s is not a file on the controller' % (where, path or '(empty)'))
    for key in ('server', 'instance', 'address', 'routed_networks'):
        if value.get(key) is not None:
            errors.append('%s.%s: must not be set together with profile_file (the profile names its server)' % (where, key))
    if value.get('name') is None:
        errors.append('%s.name: required with profile_file' % where)


def _find_instance(errors, connection, value, servers):
    """The _Instance a managed connection names, or None (reported)."""
    where = connection.where
    server_host = value.get('server')
    if server_host is None:
        errors.append('%s.server: required (the inventory name of a host of group %s), unless profile_file is given' % (where, SERVERS_GROUP))
        return None
    if not isinstance(server_host, str) or server_host not in servers:
        errors.append('%s.server: %r is not a host of group %s' % (where, server_host, SERVERS_GROUP))
        return None
    if server_host == connection.client:
        errors.append('%s.server: %s is this host; a host cannot be a client of its own server' % (where, server_host))
        return None
    server = servers[server_host]
    names = [instance.name for instance in server.instances if instance.name is not None]
    instance_name = value.get('instance')
    if instance_name is None:
        instance_name = sole_instance(names)
        if instance_name is None:
            errors.append('%s.instance: required: server %s has %s' % (where, server_host, 'no instances' if not names else
                                                                       'several instances (%s)' % ', '.join(names)))
            return None
    elif instance_name not in names:
        errors.append('%s.instance: %r is not an instance of server %s (its instances: %s)'
                      % (where, instance_name, server_host, ', '.join(names) or 'none'))
        return None
    return [instance for instance in server.instances if instance.name == instance_name][0]


def _check_connection(errors, client, index, value, servers, client_present):
    connection = _Connection(client, index)
    where = connection.where
    wanted = _check_entry(errors, where, value, 'a connection', CONNECTION_KEYS)
    if wanted is None:
        return None
    wanted = wanted and client_present

    name = value.get('name')
    if value.get('profile_file') is not None:
        _check_profile_connection(errors, connection, value, wanted)
        connection.present = wanted
    elif wanted or name is None:
        # A connection being removed needs its name only: its server may have left the inventory.
        connection.instance = _find_instance(errors, connection, value, servers)
        # A connection to an instance that is being removed goes with it.
        connection.present = wanted and connection.instance is not None and connection.instance.present
        if name is None and connection.instance is not None:
            name = connection.instance.name
    else:
        connection.present = False
    connection.name, connection.device = _name_and_device(errors, where, name, value.get('device'), CLIENT_DEVICE_PREFIX)

    username = value.get('username')
    if username is None:
        connection.username = client
    else:
        problem = _username_problem(username)
        if problem:
            errors.append('%s.username: %s' % (where, problem))
        else:
            connection.username = username
    if value.get('password') is not None:
        connection.password = secret_text(value['password'])
        if connection.password is None:
            errors.append('%s.password: must be a non-empty string' % where)
    address = value.get('address')
    if address is not None:
        try:
            connection.address = ipaddress.IPv4Address(address if isinstance(address, str) else '-')
        except ValueError:
            errors.append('%s.address: %r is not an IPv4 address (write it without prefix length)' % (where, address))
    connection.routed_networks = parse_cidr_list(errors, where + '.routed_networks', value.get('routed_networks'))
    return connection


def _check_client(errors, host, variables, servers):
    present = _check_state(errors, 'host %s: openvpn_client_state' % host, variables['openvpn_client_state'])
    values = variables['openvpn_client_connections']
    if not is_list(values):
        errors.append('host %s: openvpn_client_connections: must be a list of connections, got %s' % (host, type_name(values)))
        values = []
    connections = [connection for connection in (_check_connection(errors, host, index, value, servers, present)
                                                 for index, value in enumerate(values)) if connection is not None]
    _report_duplicates(errors, [(connection.name, connection.where + '.name', connection.path, connection.name)
                                for connection in connections if connection.name is not None], 'the name of')
    managed = [connection for connection in connections if connection.present and connection.instance is not None]
    _report_duplicates(errors, [((connection.instance.server, connection.instance.name), connection.where + '.instance', connection.path,
                                 connection.instance.label()) for connection in managed], 'connected to by')
    pools = [(connection, key, pool) for connection in managed for key, pool in sorted(connection.instance.pools.items())]
    for first, second in overlapping_networks([pool for _connection, _key, pool in pools]):
        connection, key, pool = pools[second]
        other, other_key, other_pool = pools[first]
        if connection.instance is other.instance:
            continue  # the same instance twice, reported above
        errors.append('%s: the %s %s of %s overlaps the %s %s of %s (%s); a client cannot be in both at once'
                      % (connection.where, key, pool, connection.instance.label(), other_key, other_pool, other.instance.label(), other.path))
    if managed:
        problem = name_problem(host, 'host %s: inventory_hostname' % host)
        if problem:
            errors.append('%s (the client certificate is named after the host)' % problem)
    for connection in managed:
        connection.instance.connections.append(connection)
    return connections


# ---------------------------------------------------------------------------------------------
# What ties servers and clients together
# ---------------------------------------------------------------------------------------------

def _check_addresses(errors, instance):
    pool = instance.pools.get('ipv4_pool')
    if pool is None:
        return
    server_address = ipaddress.ip_address(usable_range(pool)[0])
    taken = []
    for connection in instance.connections:
        address = connection.address
        if address is None:
            continue
        where = connection.where + '.address'
        if address not in pool:
            errors.append('%s: %s is outside the ipv4_pool %s of %s' % (where, address, pool, instance.label()))
        elif not is_usable(pool, address):
            kind = 'network' if address == pool.network_address else 'broadcast'
            errors.append('%s: %s is the %s address of the ipv4_pool %s of %s' % (where, address, kind, pool, instance.label()))
        elif address == server_address:
            errors.append('%s: %s is the address of the server itself in %s (the first usable address of its ipv4_pool)'
                          % (where, address, instance.label()))
        else:
            taken.append((address, where, connection.reference, str(address)))
    _report_duplicates(errors, taken, 'the address of')


def _check_pool_sizes(errors, instance):
    clients = set(connection.client for connection in instance.connections) | set(name for _index, name in instance.unmanaged)
    for key, pool in sorted(instance.pools.items()):
        size = usable_range(pool)[1]
        if len(clients) + 1 > size:
            errors.append('%s.%s: %s has %d usable addresses, too few for the server and its %d clients'
                          % (instance.where, key, pool, size, len(clients)))


def _check_passwords(errors, server, instance):
    if not instance.password_auth:
        return
    for connection in instance.connections:
        if connection.password is None:
            errors.append('%s.password: required because %s has password_auth: true' % (connection.where, instance.label()))
        if connection.username is None:
            continue
        expected = server.users.get(connection.username)
        if expected is None:
            errors.append('host %s: openvpn_server_users: no entry for user %s, the username of %s on instance %s, which has password_auth: true'
                          % (server.host, connection.username, connection.reference, instance.name))
        elif connection.password is not None and not hmac.compare_digest(expected.encode('utf-8'), connection.password.encode('utf-8')):
            errors.append('%s.password: does not match the password of user %s in openvpn_server_users of server %s'
                          % (connection.where, connection.username, server.host))


def _check_client_names(errors, server):
    """Certificate names in the one CA of a server host: managed, unmanaged and revoked names must not collide."""
    instances = server.present_instances()
    managed = set(connection.client for instance in instances for connection in instance.connections)
    unmanaged = {}
    for instance in instances:
        for index, name in instance.unmanaged:
            where = '%s.unmanaged_clients[%d]' % (instance.where, index)
            if name == server.host:
                errors.append('%s: %s is the name of the server certificate of this host' % (where, name))
            elif name in managed:
                errors.append('%s: %s is also a host of group %s that connects to this server; a client is either managed or unmanaged'
                              % (where, name, CLIENTS_GROUP))
            unmanaged.setdefault(name, instance)
    for instance in instances:
        own_unmanaged = set(name for _index, name in instance.unmanaged)
        for index, name in instance.revoked:
            where = '%s.revoked_clients[%d]' % (instance.where, index)
            if name in own_unmanaged:
                continue  # reported by _check_instance
            if name == server.host:
                errors.append('%s: %s is the name of the server certificate of this host' % (where, name))
            elif name in unmanaged:
                errors.append('%s: %s is in unmanaged_clients of instance %s; a client is either issued or revoked' % (where, name, unmanaged[name].name))
            elif name in managed:
                errors.append('%s: %s is a host of group %s that connects to this server; remove its connection (or set its state to absent) '
                              'before revoking it' % (where, name, CLIENTS_GROUP))


def _check_routed_networks(errors, server):
    """Routed networks behind clients become routes of the server host: no overlap with its pools or with each other."""
    instances = server.present_instances()
    pools = [(instance, key, pool) for instance in instances for key, pool in sorted(instance.pools.items())]
    routed = []
    for instance in instances:
        for connection in instance.connections:
            for network in connection.routed_networks:
                for pool_instance, key, pool in pools:
                    if network.version == pool.version and network.overlaps(pool):
                        errors.append('%s.routed_networks: %s overlaps the %s %s of %s' % (connection.where, network, key, pool, pool_instance.label()))
                routed.append((connection, network))
    for first, second in overlapping_networks([network for _connection, network in routed]):
        connection, network = routed[second]
        other, other_network = routed[first]
        errors.append('%s.routed_networks: %s overlaps %s, routed behind %s on server %s; a network can sit behind one client only'
                      % (connection.where, network, other_network, other.reference, server.host))


def _check_devices(errors, servers, clients):
    """The tun devices of a host's present instances and connections (a host may be a server and a client) are distinct."""
    devices = {}
    for host, server in servers.items():
        devices[host] = [(instance.device, instance.where + '.device', instance.path, instance.device)
                         for instance in server.present_instances() if instance.device is not None]
    for host, connections in clients.items():
        devices.setdefault(host, []).extend((connection.device, connection.where + '.device', connection.path, connection.device)
                                            for connection in connections if connection.present and connection.device is not None)
    for host in sorted(devices):
        _report_duplicates(errors, devices[host], 'the device of')


def check_inventory(servers, clients, groups):
    """Every problem of read_servers() and read_clients() results (see validate)."""
    errors = []
    if not is_mapping(groups):
        return ['all: groups: must be a mapping of group name to hosts, got %s' % type_name(groups)]
    checked_servers = dict((host, _check_server(errors, host, servers[host])) for host in sorted(servers))
    checked_clients = dict((host, _check_client(errors, host, clients[host], checked_servers)) for host in sorted(clients))
    for host in sorted(checked_servers):
        server = checked_servers[host]
        for instance in server.present_instances():
            _check_addresses(errors, instance)
            _check_pool_sizes(errors, instance)
            _check_passwords(errors, server, instance)
        _check_client_names(errors, server)
        _check_routed_networks(errors, server)
    _check_devices(errors, checked_servers, checked_clients)
    return errors


def validate(hostvars, groups, undefined=()):
    """Every problem of the OpenVPN inventory, as a list of messages ([] when valid).

    Reads the variables of every host of groups openvpn_servers and openvpn_clients from hostvars
    (Ansible's, or host -> variables) with the roles' defaults; undefined: see read_host_variables.
    Each message starts with 'host <name>' (or 'all') and names the variable
    (openvpn_server_instances[<i>].<key>, openvpn_client_connections[<i>].<key>, openvpn_server_users,
    ...). Passwords are never echoed.
    """
    if not is_mapping(groups):
        return check_inventory({}, {}, groups)
    return check_inventory(read_servers(hostvars, groups, undefined), read_clients(hostvars, groups, undefined), groups)


def raise_if_invalid(servers, clients, groups):
    """Raise ValueError listing every problem of read_servers() and read_clients() results, if there are any."""
    errors = check_inventory(servers, clients, groups)
    if errors:
        raise ValueError('invalid OpenVPN configuration:\n- ' + '\n- '.join(errors))
