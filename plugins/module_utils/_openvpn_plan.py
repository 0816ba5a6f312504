# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# What each OpenVPN server and client gets, as pure functions of the inventory (hostvars and
# groups, read with the roles' defaults by _openvpn_inventory and checked by _openvpn_validate):
#
# * server_plan(): the instances of a server host, each with its clients and their fixed tunnel
#   addresses (every client has one, so the server runs with ccd-exclusive),
# * client_plan(): the connections of a client host, with the address its server pushes,
# * pki_request(): what the role passes to overlaynet.vpn.openvpn_pki for a server host (one CA
#   per server host covers all its instances),
# * peers_record(): the peers of a plan for the connectivity report.
#
# Membership comes from the groups only, never from the hosts of the play, so a host's plan does
# not depend on --limit. No password enters a plan: the roles write credentials from the
# variables themselves, under no_log.

import ipaddress

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import normalise_networks, usable_range
from ansible_collections.overlaynet.vpn.plugins.module_utils._allocation import allocate
from ansible_collections.overlaynet.vpn.plugins.module_utils._hostvars import read_host_variables
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_inventory import (
    CLIENT_CONFIG_DIR,
    CLIENT_UNIT,
    CLIENTS_GROUP,
    SERVER_CONFIG_DIR,
    SERVER_UNIT,
    SERVERS_GROUP,
    inventory_settings,
    network_name,
    read_clients,
    read_servers,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_validate import raise_if_invalid, secret_text
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import as_list

SYSTEM = 'openvpn'
# One PKI per server host (all its instances): the CA, the server's key and certificate, the CRL
# and the tls-crypt keys. The CRL is read again by the unprivileged daemon at every connection.
SERVER_PKI_DIR = SERVER_CONFIG_DIR + '/pki'
# Its public files there (the role names them by its vars openvpn_server__ca_path, __cert_path and
# __crl_path, which a unit test holds to these).
SERVER_CA_FILE = SERVER_PKI_DIR + '/ca.crt'
SERVER_CERT_FILE = SERVER_PKI_DIR + '/server.crt'
SERVER_CRL_FILE = SERVER_PKI_DIR + '/crl.pem'
# The CRLs signed ahead, which the server's daily timer puts in place of the CRL each on its day.
SERVER_CRL_AHEAD_FILE = SERVER_PKI_DIR + '/crl-ahead.pem'
# The server's private key and the tls-crypt keys, read once at start before privileges drop: 0700.
SERVER_KEY_DIR = SERVER_CONFIG_DIR + '/keys'
SERVER_USERS_FILE = SERVER_CONFIG_DIR + '/users'
# A client host keeps one key per server (a server's PKI knows one certificate per client name).
CLIENT_KEY_DIR = CLIENT_CONFIG_DIR + '/pki'
# The hooks the server runs (roles/openvpn_server/files): absolute paths, as OpenVPN runs them without PATH.
HELPER_DIR = '/usr/local/lib/overlaynet/openvpn'
TLS_CRYPT_V2_VERIFY = HELPER_DIR + '/tls-crypt-v2-verify'
PASSWORD_VERIFY = HELPER_DIR + '/password-verify'
# Holds the server's own addresses in the allocation; '@' is not allowed in a client name.
SERVER_SLOT = '@server'
PEER_ROLES = ('server', 'client')


def _settings(hostvars, groups, undefined):
    """(host -> server settings, host -> client settings) of a valid inventory; ValueError listing every problem otherwise."""
    servers = read_servers(hostvars, groups, undefined)
    clients = read_clients(hostvars, groups, undefined)
    raise_if_invalid(servers, clients, groups)
    return inventory_settings(servers, clients)


def _instance(servers, server_host, instance_name):
    server = servers.get(server_host)
    for instance in (server['instances'] if server else []):
        if instance['name'] == instance_name:
            return instance
    return None


def _connected_instance(servers, connection):
    """The settings of the instance a present managed connection joins, else None (profile, removed or removed with its instance)."""
    if connection['state'] != 'present' or connection['profile_file'] is not None:
        return None
    instance = _instance(servers, connection['server'], connection['instance'])
    return instance if instance is not None and instance['state'] == 'present' else None


def _managed_connections(servers, clients, server_host, instance_name):
    """Client host -> its connection to an instance, for every client that joins it (at most one connection each)."""
    joined = {}
    for host in sorted(clients):
        for connection in clients[host]['connections']:
            if connection['server'] == server_host and connection['instance'] == instance_name and _connected_instance(servers, connection):
                joined[host] = connection
    return joined


def _first_usable(pool):
    return ipaddress.ip_address(usable_range(ipaddress.ip_network(pool))[0]) if pool else None


def _text(address):
    return None if address is None else str(address)


def _pools(instance):
    return [pool for pool in (instance['ipv4_pool'], instance['ipv6_pool']) if pool]


def _instance_addresses(server_host, instance, connections):
    """(name -> {'ipv4', 'ipv6'}, allocation notes) of every client of an instance (managed: host name, unmanaged: its name).

    _allocation.allocate over the instance's pools, salt '<server host>/<instance>': the user's fixed
    addresses first, the server's own (first usable) addresses reserved.
    """
    explicit = dict((host, [connection['address']]) for host, connection in connections.items() if connection['address'])
    explicit[SERVER_SLOT] = [str(_first_usable(pool)) for pool in _pools(instance)]
    names = list(connections) + list(instance['unmanaged_clients']) + [SERVER_SLOT]
    network = network_name(server_host, instance['name'])
    allocated, notes = allocate(_pools(instance), names, explicit, network, 'instance %s' % network)
    addresses = {}
    for name, prefixes in allocated.items():
        bare = dict((ipaddress.ip_interface(prefix).version, str(ipaddress.ip_interface(prefix).ip)) for prefix in prefixes)
        addresses[name] = {'ipv4': bare.get(4), 'ipv6': bare.get(6)}
    return addresses, [note['message'] for note in notes]


def _route(network):
    """A network as templates print it: 'route 10.1.0.0 255.255.0.0', 'route-ipv6 fd10::/64', 'iroute ...'."""
    prefix = ipaddress.ip_network(network)
    return {
        'network': str(prefix),
        'family': 'ipv%d' % prefix.version,
        'address': str(prefix.network_address),
        'netmask': str(prefix.netmask) if prefix.version == 4 else None,
        'prefix': prefix.prefixlen,
    }


def _routes(networks):
    return [_route(network) for network in normalise_networks(networks)]


def _removal(name, device, unit, config_path):
    return {'name': name, 'state': 'absent', 'device': device, 'unit': unit, 'config_path': config_path}


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------

def _server_instance_plan(servers, clients, server_host, instance):
    name = instance['name']
    unit = SERVER_UNIT % name
    config_path = '%s/%s.conf' % (SERVER_CONFIG_DIR, name)
    if instance['state'] != 'present':
        return _removal(name, instance['device'], unit, config_path)
    connections = _managed_connections(servers, clients, server_host, name)
    addresses, notes = _instance_addresses(server_host, instance, connections)
    ipv4_pool = ipaddress.ip_network(instance['ipv4_pool'])
    ipv6_pool = ipaddress.ip_network(instance['ipv6_pool']) if instance['ipv6_pool'] else None

    client_entries = []
    for client in sorted(set(connections) | set(instance['unmanaged_clients'])):
        connection = connections.get(client)
        client_entries.append({
            'name': client,
            'managed': connection is not None,
            'host': client if connection is not None else None,
            'ipv4': addresses[client]['ipv4'],
            'ipv6': addresses[client]['ipv6'],
            'iroutes': _routes(connection['routed_networks']) if connection is not None else [],
        })
    routed = [network for connection in connections.values() for network in connection['routed_networks']]
    return {
        'name': name,
        'state': 'present',
        'network': network_name(server_host, name),
        'device': instance['device'],
        'unit': unit,
        'config_path': config_path,
        'ccd_dir': '%s/%s/ccd' % (SERVER_CONFIG_DIR, name),
        'clients_allowed_path': '%s/%s/clients.allowed' % (SERVER_CONFIG_DIR, name),
        'pki_dir': SERVER_PKI_DIR,
        'ca_path': SERVER_CA_FILE,
        'cert_path': SERVER_CERT_FILE,
        'crl_path': SERVER_CRL_FILE,
        'crl_ahead_path': SERVER_CRL_AHEAD_FILE,
        'key_dir': SERVER_KEY_DIR,
        'tls_crypt_v2_verify_command': '%s %s/%s/clients.allowed' % (TLS_CRYPT_V2_VERIFY, SERVER_CONFIG_DIR, name),
        'password_verify_command': '/usr/bin/python3 %s %s' % (PASSWORD_VERIFY, SERVER_USERS_FILE),
        'proto': instance['proto'],
        'port': instance['port'],
        # udp6/tcp6 on '::' take IPv4 clients too (OpenVPN binds dual-stack unless told `bind ipv6only`).
        # TCP names its side: without the `server` helper the config does not use, OpenVPN refuses
        # a bare tcp ("--proto tcp is ambiguous in this context") when the unit starts.
        'listen': {'address': '::', 'proto': 'tcp6-server' if instance['proto'] == 'tcp' else 'udp6', 'dual_stack': True},
        'ipv4_pool': str(ipv4_pool),
        'server_ipv4': str(_first_usable(instance['ipv4_pool'])),
        'ipv4_netmask': str(ipv4_pool.netmask),
        'ipv4_prefix': ipv4_pool.prefixlen,
        'ipv6_pool': _text(ipv6_pool),
        'server_ipv6': _text(_first_usable(instance['ipv6_pool'])),
        'ipv6_prefix': ipv6_pool.prefixlen if ipv6_pool is not None else None,
        'push_routes': _routes(instance['push_routes']),
        'dns_servers': list(instance['dns_servers']),
        'search_domains': list(instance['search_domains']),
        'redirect_gateway': instance['redirect_gateway'],
        'client_to_client': instance['client_to_client'],
        'masquerade': instance['masquerade'],
        'tls_crypt': instance['tls_crypt'],
        'data_ciphers': list(instance['data_ciphers']),
        'password_auth': instance['password_auth'],
        'keepalive': list(instance['keepalive']),
        'tun_mtu_options': tun_mtu_options(instance['tun_mtu']),
        'clients': client_entries,
        'routes': _routes(routed),
        'firewall': {
            'ports': [{'proto': instance['proto'], 'port': instance['port']}],
            'forward_interfaces': [instance['device']],
            'forwarding': ['ipv%d' % pool.version for pool in (ipv4_pool, ipv6_pool) if pool is not None],
            'masquerade_interfaces': [instance['device']] if instance['masquerade'] else [],
        },
        'allocation_notes': notes,
    }


def server_plan(hostvars, groups, host, undefined=()):
    """The OpenVPN instances of a server host, sorted by name ([] for a host outside openvpn_servers).

    Present instances get the full plan (see the openvpn_server_plan filter documentation),
    instances being removed (their state, or openvpn_server_state, is absent) only {name, state:
    absent, device, unit, config_path}. Raises ValueError listing every problem of the inventory.
    """
    servers, clients = _settings(hostvars, groups, undefined)
    if host not in servers:
        return []
    instances = sorted(servers[host]['instances'], key=lambda instance: instance['name'])
    return [_server_instance_plan(servers, clients, host, instance) for instance in instances]


def pki_request(hostvars, groups, host, undefined=()):
    """What a server host's role passes to overlaynet.vpn.openvpn_pki (one CA per server host, all instances).

    {server, needed (the host has a present instance), certificates (the server certificate and one
    per unmanaged client, keys made on the controller: complete entries), managed_clients (names
    whose CSRs the role adds from the key requests), unmanaged_clients, revoke, revoke_unlisted,
    tls_crypt_v2}. Only present instances count. Raises ValueError for an invalid inventory or a
    host outside openvpn_servers.
    """
    servers, clients = _settings(hostvars, groups, undefined)
    if host not in servers:
        raise ValueError('host %s is not in group %s' % (host, SERVERS_GROUP))
    instances = [instance for instance in servers[host]['instances'] if instance['state'] == 'present']
    managed = sorted(set(client for instance in instances for client in _managed_connections(servers, clients, host, instance['name'])))
    unmanaged = sorted(set(name for instance in instances for name in instance['unmanaged_clients']))
    certificates = []
    if instances:
        certificates.append({'name': host, 'kind': 'server', 'subject_alt_names': [subject_alt_name(servers[host]['public_address'])]})
    certificates.extend({'name': name, 'kind': 'client'} for name in unmanaged)
    return {
        'server': host,
        'needed': bool(instances),
        'certificates': certificates,
        'managed_clients': managed,
        'unmanaged_clients': unmanaged,
        'revoke': sorted(set(name for instance in instances for name in instance['revoked_clients'])),
        'revoke_unlisted': any(instance['revoke_unlisted'] for instance in instances),
        'tls_crypt_v2': any(instance['tls_crypt'] == 'v2' for instance in instances),
        'tls_crypt': any(instance['tls_crypt'] == 'v1' for instance in instances),
    }


# The facts the roles set with the signing requests made in this run (public, like the certificates):
# a server's own, and each client host's, by server host.
SERVER_CSR_FACT = 'openvpn_server__csr'
CLIENT_CSRS_FACT = 'openvpn_client__csrs'


def pki_options(hostvars, groups, host, undefined=()):
    """The overlaynet.vpn.openvpn_pki options (all but path) of a server host's PKI in this run.

    pki_request() with the signing requests made in this run, read from the hosts' facts: the
    server's (openvpn_server__csr) and each managed client's for this server
    (openvpn_client__csrs[server]). A host whose request is not at hand (outside the play, or not
    run yet) is kept as it is: its certificate is neither checked nor revoked, and none is issued,
    so that a run never issues a key on the controller for a host that keeps its own.
    """
    request = pki_request(hostvars, groups, host, undefined)
    csrs = {}
    server_csr = read_host_variables(hostvars, host, {SERVER_CSR_FACT: None}, undefined)[SERVER_CSR_FACT]
    if server_csr:
        csrs[host] = server_csr
    for client in request['managed_clients']:
        by_server = read_host_variables(hostvars, client, {CLIENT_CSRS_FACT: {}}, undefined)[CLIENT_CSRS_FACT]
        if isinstance(by_server, dict) and by_server.get(host):
            csrs[client] = by_server[host]
    certificates = []
    keep = []
    for entry in request['certificates']:
        if entry['kind'] == 'server':
            if host in csrs:
                certificates.append(dict(entry, csr=csrs[host]))
            else:
                keep.append(host)
        else:
            certificates.append(dict(entry))
    for client in request['managed_clients']:
        if client in csrs:
            certificates.append({'name': client, 'kind': 'client', 'csr': csrs[client]})
        else:
            keep.append(client)
    return {
        'certificates': certificates,
        'keep': sorted(keep),
        'revoke': request['revoke'],
        'revoke_unlisted': request['revoke_unlisted'],
        'tls_crypt_v2': request['tls_crypt_v2'],
        'tls_crypt': request['tls_crypt'],
    }


def _bare_host(address):
    """An address as clients dial it: brackets of an IPv6 literal removed."""
    return address[1:-1] if address.startswith('[') and address.endswith(']') else address


def subject_alt_name(public_address):
    """'IP:<address>' for an IP literal (with or without brackets), else 'DNS:<name>' (without a final dot)."""
    address = _bare_host(public_address)
    try:
        return 'IP:%s' % ipaddress.ip_address(address)
    except ValueError:
        return 'DNS:%s' % (address[:-1] if address.endswith('.') else address)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

def tun_mtu_options(tun_mtu):
    """The config lines of an instance's tun_mtu, the same for the server and its clients (a tunnel MTU above 1600 cannot
    be pushed); none for OpenVPN's default. Above 1500 also mssfix 0: clamping TCP to fit the outer path's 1500 bytes
    would undo the larger MTU (which the user asks for on a path that carries it)."""
    if tun_mtu is None:
        return []
    return ['tun-mtu %d' % tun_mtu] + (['mssfix 0'] if tun_mtu > 1500 else [])


def _what_clients_dial(servers, server_host, instance):
    """What every client of an instance needs to reach it, managed or not."""
    return {
        'server': server_host,
        'instance': instance['name'],
        'remote_address': _bare_host(servers[server_host]['public_address']),
        'remote_port': instance['port'],
        'proto': instance['proto'],
        'tls_crypt': instance['tls_crypt'],
        'data_ciphers': list(instance['data_ciphers']),
        'tun_mtu_options': tun_mtu_options(instance['tun_mtu']),
        'password_auth': instance['password_auth'],
    }


def _client_connection_plan(servers, clients, host, connection):
    name = connection['name']
    unit = CLIENT_UNIT % name
    config_path = '%s/%s.conf' % (CLIENT_CONFIG_DIR, name)
    profile = connection['profile_file']
    instance = _connected_instance(servers, connection)
    if connection['state'] != 'present' or (instance is None and profile is None):
        return _removal(name, connection['device'], unit, config_path)
    plan = {
        'name': name,
        'state': 'present',
        'device': connection['device'],
        'unit': unit,
        'config_path': config_path,
        'profile_file': profile,
        'pki_dir': '%s/%s' % (CLIENT_CONFIG_DIR, name),
        'key_path': None,
        'credentials_path': '%s/%s/credentials' % (CLIENT_CONFIG_DIR, name),
        'username': connection['username'],
        'network': None,
        'server': None,
        'instance': None,
        'remote_address': None,
        'remote_port': None,
        'proto': None,
        'tls_crypt': None,
        'data_ciphers': [],
        'tun_mtu_options': [],
        # A profile of its own asks for credentials when the user gave a password.
        'password_auth': connection['password_given'],
        'ipv4': None,
        'ipv6': None,
        'server_ipv4': None,
        'server_ipv6': None,
        'routed_networks': [],
    }
    if instance is None:
        return plan
    server_host = connection['server']
    connections = _managed_connections(servers, clients, server_host, instance['name'])
    addresses = _instance_addresses(server_host, instance, connections)[0][host]
    plan.update(_what_clients_dial(servers, server_host, instance))
    plan.update({
        'network': network_name(server_host, instance['name']),
        'key_path': '%s/%s.key' % (CLIENT_KEY_DIR, server_host),
        'ipv4': addresses['ipv4'],
        'ipv6': addresses['ipv6'],
        'server_ipv4': str(_first_usable(instance['ipv4_pool'])),
        'server_ipv6': _text(_first_usable(instance['ipv6_pool'])),
        'routed_networks': normalise_networks(connection['routed_networks']),
    })
    return plan


def client_plan(hostvars, groups, host, undefined=()):
    """The OpenVPN connections of a client host, sorted by name ([] for a host outside openvpn_clients).

    Present connections get the full plan (see the openvpn_client_plan filter documentation);
    connections being removed (their state or openvpn_client_state is absent, or their server
    instance is being removed) only {name, state: absent, device, unit, config_path}. No password:
    password_auth and username tell the role to write the credentials file from the variable.
    Raises ValueError listing every problem of the inventory.
    """
    servers, clients = _settings(hostvars, groups, undefined)
    if host not in clients:
        return []
    connections = sorted(clients[host]['connections'], key=lambda connection: connection['name'])
    return [_client_connection_plan(servers, clients, host, connection) for connection in connections]


# ---------------------------------------------------------------------------------------------
# Connectivity report
# ---------------------------------------------------------------------------------------------

def _peer(network, interface, peer, managed, addresses, role):
    return {
        'system': SYSTEM,
        'network': network,
        'interface': interface,
        'peer': peer,
        'managed': managed,
        'addresses': [address for address in addresses if address],
        'must_answer': managed,
        # The role that wrote the entry: a host that is both server and client has entries of both.
        'extras': {'openvpn_common_name': peer, 'openvpn_role': role},
    }


def peers_record(plans, role):
    """The peers of a host's plan as the connectivity report reads them (/var/lib/overlaynet/peers/openvpn.json).

    role 'server' (plans: server_plan()): every client of every present instance; managed ones must
    answer, unmanaged ones may be offline. role 'client' (plans: client_plan()): the server of every
    present managed connection, which must answer (a profile_file connection's server is not known).
    The network is '<server host>/<instance>' on both sides, so the report pairs the two ends.
    """
    if role not in PEER_ROLES:
        raise ValueError('role must be one of %s, got %r' % (', '.join(PEER_ROLES), role))
    peers = []
    for plan in plans:
        if plan['state'] != 'present':
            continue
        if role == 'server':
            peers.extend(_peer(plan['network'], plan['device'], client['name'], client['managed'], (client['ipv4'], client['ipv6']), role)
                         for client in plan['clients'])
        elif plan['server'] is not None:
            peers.append(_peer(plan['network'], plan['device'], plan['server'], True, (plan['server_ipv4'], plan['server_ipv6']), role))
    return {'system': SYSTEM, 'peers': peers}


def merged_peers(existing, plans, role):
    """overlaynet_peers (existing, every role's) with the entries this OpenVPN role wrote replaced by those of plans; the
    other role's OpenVPN entries stay, so a host that is both server and client reports both."""
    kept = [peer for peer in existing or ()
            if not (peer.get('system') == SYSTEM and (peer.get('extras') or {}).get('openvpn_role') in (role, None))]
    return kept + peers_record(plans, role)['peers']


def client_passwords(hostvars, groups, host, undefined=()):
    """Connection name -> password of a client host's connections that have one (secrets: for the credentials files only)."""
    servers, clients = _settings(hostvars, groups, undefined)
    if host not in clients:
        return {}
    variables = read_clients(hostvars, {CLIENTS_GROUP: [host]}, undefined)[host]
    passwords = {}
    for raw, settings in zip(as_list(variables['openvpn_client_connections']), clients[host]['connections']):
        if raw.get('password') is not None:
            passwords[settings['name']] = secret_text(raw['password'])
    return passwords


def unmanaged_profiles(hostvars, groups, host, undefined=()):
    """What the profile of each unmanaged client of a server host's present instances says, sorted by instance and name:
    {name, instance, server, remote_address, remote_port, proto, tls_crypt, data_ciphers, tun_mtu_options, password_auth}."""
    servers, dummy = _settings(hostvars, groups, undefined)
    if host not in servers:
        return []
    profiles = []
    for instance in sorted(servers[host]['instances'], key=lambda entry: entry['name']):
        if instance['state'] != 'present':
            continue
        for name in sorted(set(instance['unmanaged_clients'])):
            profile = {'name': name}
            profile.update(_what_clients_dial(servers, host, instance))
            profiles.append(profile)
    return profiles
