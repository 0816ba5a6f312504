# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The tailnet of one inventory: headscale servers (group headscale_servers, role
# overlaynet.vpn.headscale) and Tailscale nodes (group tailscale_nodes, role overlaynet.vpn.tailscale).
# Here are what the two roles share: the whole inventory's checks (validate(): the servers'
# config through _headscale_config, their users and ACL policy, every node against its server),
# run once before any host changes, and the plans the roles render (server_plan(), node_plan()).
#
# A node joins the server named by tailscale_server (by default the one present server of the
# inventory) with a pre-auth key the server mints in the same run for tailscale_user (a user of
# that server's headscale_users) and the node's tags. Nodes joined to a headscale server outside
# the inventory give tailscale_login_server and a key of their own (tailscale_auth_key, a secret
# the checks only test for presence).

import os
import re
from urllib.parse import urlsplit

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import parse_cidr_list
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import expiration_problem, normalize_users, routes_approved
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_config import (
    DEFAULT_CERT_PATH,
    DEFAULT_KEY_PATH,
    SERVER_DEFAULTS,
    SERVERS_GROUP,
    config_for,
    parse_version,
    secret_environment,
    server_url,
    server_variables,
    settings,
    version_problem,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_config import validate as validate_servers
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_policy import check_policy, policy_text
from ansible_collections.overlaynet.vpn.plugins.module_utils._hostvars import read_host_variables
from ansible_collections.overlaynet.vpn.plugins.module_utils._install_source import install_settings, install_source_problems, setting_variables
from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import group_hosts
from ansible_collections.overlaynet.vpn.plugins.module_utils._tailnet_names import must_join, tag_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import check_bool, check_choice, is_list, is_mapping, type_name
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_layout import CA_CERTIFICATE, CA_PRIVATE_KEY

NODES_GROUP = 'tailscale_nodes'
SYSTEM = 'tailscale'
SERVER_INSTALL_PREFIX = 'headscale_install'
NODE_INSTALL_PREFIXES = ('tailscale_cli', 'tailscale_daemon')
STATES = ('present', 'absent')
NODE_STATES = ('present', 'installed', 'absent')
NETWORKING_MODES = ('tun', 'userspace')
# A tagged pre-auth key without a user: headscale 0.28 and later.
TAGS_ONLY_KEYS_SINCE = (0, 28)
EXIT_NODE_ROUTES = ('0.0.0.0/0', '::/0')
DEFAULT_TAILSCALE_PORT = 41641
# Tailscale turns the host name into a DNS label; one the checks accept is used as it is.
HOSTNAME_PATTERN = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')

# Each server's CA on the controller: <headscale_pki_root>/<host>, the root by default beside the
# host's inventory (else the playbook).
PKI_ROOT_NAME = 'headscale-pki'
CA_COMMON_NAME_PREFIX = 'overlaynet.vpn headscale CA'

# Server variables the tailnet adds to those of _headscale_config.
SERVER_EXTRA_DEFAULTS = {
    'headscale_users': [],
    'headscale_policy': None,
    'headscale_pki_root': None,
    'inventory_dir': None,
    'playbook_dir': None,
}
SERVER_EXTRA_DEFAULTS.update(setting_variables(SERVER_INSTALL_PREFIX))
SERVER_EXTRA_DEFAULTS['headscale_install_source'] = 'url'
# What an empty headscale_install_url means: the official release binary of headscale_version.
RELEASE_URL = 'https://github.com/juanfont/headscale/releases/download/v{version}/headscale_{version}_linux_amd64'

NODE_DEFAULTS = {
    'tailscale_state': 'present',
    'tailscale_server': None,
    'tailscale_login_server': None,
    'tailscale_user': None,
    'tailscale_hostname': None,
    'tailscale_tags': [],
    'tailscale_advertise_routes': [],
    'tailscale_advertise_exit_node': False,
    'tailscale_accept_routes': False,
    'tailscale_accept_dns': True,
    'tailscale_networking': 'tun',
    'tailscale_port': DEFAULT_TAILSCALE_PORT,
    'tailscale_firewall': True,
    'tailscale_key_expiration': '1h',
    'tailscale_ca_certificate_file': None,
}
for _prefix in NODE_INSTALL_PREFIXES:
    NODE_DEFAULTS.update(setting_variables(_prefix))


def _server_extras(hostvars, host, undefined):
    return read_host_variables(hostvars, host, SERVER_EXTRA_DEFAULTS, undefined)


def _node_variables(hostvars, host, undefined):
    variables = read_host_variables(hostvars, host, NODE_DEFAULTS, undefined)
    # Only whether a key is set is read here: its value is a secret.
    variables['has_auth_key'] = bool(read_host_variables(hostvars, host, {'tailscale_auth_key': None}, undefined)['tailscale_auth_key'])
    return variables


def _present_servers(hostvars, groups, undefined):
    servers = {}
    for host in sorted(set(group_hosts(groups, SERVERS_GROUP))):
        variables = server_variables(hostvars, host, undefined)
        if variables['headscale_state'] == 'present':
            servers[host] = variables
    return servers


def _version_tuple(variables):
    text = variables['headscale_version']
    return parse_version(text) if version_problem(text) is None else parse_version(SERVER_DEFAULTS['headscale_version'])


def _user_names(users):
    entries, _problems = normalize_users(users if is_list(users) else [])
    return [entry['name'] for entry in entries if entry['state'] == 'present' and isinstance(entry['name'], str)]


def tls_from_pki(values):
    """Whether a server's TLS certificate is signed by its CA on the controller (values: settings() of its variables):
    TLS from files, with no certificate or key of the user's."""
    tls = values['headscale_tls']
    return tls['mode'] == 'files' and tls['cert_path'] is None and tls['key_path'] is None


def ca_location(host, extras):
    """{path, common_name} of the CA on the controller that signs host's TLS certificate; extras: _server_extras()."""
    root = extras['headscale_pki_root'] or os.path.join(extras['inventory_dir'] or extras['playbook_dir'] or '.', PKI_ROOT_NAME)
    return {'path': '%s/%s' % (str(root).rstrip('/'), host), 'common_name': '%s %s' % (CA_COMMON_NAME_PREFIX, host)}


def server_install_settings(variables, extras):
    """{source, file, url, checksum, binary} of a server; an empty url is the official release of headscale_version."""
    install = install_settings(SERVER_INSTALL_PREFIX, extras)
    if install['source'] == 'url' and not install['url']:
        install['url'] = RELEASE_URL.format(version=str(variables['headscale_version']).lstrip('v'))
    return install


def _check_server_extras(errors, host, variables, extras):
    users = extras['headscale_users']
    if not is_list(users):
        errors.append('host %s: headscale_users: must be a list of user names or mappings, got %s' % (host, type_name(users)))
    else:
        _entries, problems = normalize_users(users)
        errors.extend('host %s: headscale_%s' % (host, problem) for problem in problems)
    check_policy(errors, host, extras['headscale_policy'], _user_names(users), variables['headscale_version'])
    install = server_install_settings(variables, extras)
    if install['source'] == 'package':
        errors.append('host %s: headscale_install_source: headscale has no package in the distributions; use url (a release binary '
                      'with its checksum) or file (a binary on the controller)' % host)
    else:
        errors.extend(install_source_problems(SERVER_INSTALL_PREFIX, host, install))


def node_settings(variables, host, servers):
    """The settings of one node (validated variables): server, login URL, user, tags, hostname, routes, ..."""
    server = variables['tailscale_server']
    if server is None and variables['tailscale_login_server'] is None and len(servers) == 1:
        server = next(iter(servers))
    login_server = variables['tailscale_login_server']
    if login_server is None and server in servers:
        login_server = server_url(servers[server], server)
    routes = [str(network) for network in parse_cidr_list([], '', variables['tailscale_advertise_routes'] or [])]
    return {
        'state': variables['tailscale_state'],
        'server': server,
        'login_server': login_server.strip().rstrip('/') if isinstance(login_server, str) else login_server,
        'user': variables['tailscale_user'],
        'hostname': variables['tailscale_hostname'] or host.split('.')[0].lower(),
        'tags': sorted(variables['tailscale_tags'] or []),
        'advertise_routes': routes,
        'advertise_exit_node': bool(variables['tailscale_advertise_exit_node']),
        'accept_routes': bool(variables['tailscale_accept_routes']),
        'accept_dns': bool(variables['tailscale_accept_dns']),
        'networking': variables['tailscale_networking'],
        'port': variables['tailscale_port'],
        'key_expiration': variables['tailscale_key_expiration'],
        'ca_certificate_file': variables['tailscale_ca_certificate_file'],
    }


def _check_node(errors, host, variables, servers, server_extras):
    def problem(variable, text):
        errors.append('host %s: %s: %s' % (host, variable, text))

    if variables['tailscale_state'] not in NODE_STATES:
        check_choice(errors, 'host %s: tailscale_state' % host, variables['tailscale_state'], NODE_STATES)
        return
    if variables['tailscale_state'] != 'present':
        return
    server = variables['tailscale_server']
    if server is None and variables['tailscale_login_server'] is None:
        if len(servers) != 1:
            problem('tailscale_server', 'required: the inventory has %d present headscale servers (group %s); name the one this node joins, '
                    'or give tailscale_login_server and tailscale_auth_key for a server outside the inventory' % (len(servers), SERVERS_GROUP))
            return
        server = next(iter(servers))
    if server is not None and server not in servers:
        problem('tailscale_server', '%r is not a present host of group %s' % (server, SERVERS_GROUP))
        return
    if server is None:
        login = variables['tailscale_login_server']
        if not (isinstance(login, str) and login.startswith('https://') and len(login) > len('https://')):
            problem('tailscale_login_server', '%r must be the https:// URL of the headscale server' % (login,))
        if not variables['has_auth_key']:
            problem('tailscale_auth_key', 'required with tailscale_login_server (a server outside the inventory mints no key for this node)')
    elif variables['tailscale_login_server'] is not None:
        problem('tailscale_login_server', 'set it only for a server outside the inventory; with tailscale_server the URL is the server\'s '
                'headscale_server_url')
    hostname = variables['tailscale_hostname']
    if hostname is not None and not (isinstance(hostname, str) and HOSTNAME_PATTERN.match(hostname)):
        problem('tailscale_hostname', '%r must be a DNS label: lower-case letters, digits and "-", at most 63' % (hostname,))
    elif hostname is None and not HOSTNAME_PATTERN.match(host.split('.')[0].lower()):
        problem('tailscale_hostname', 'required: the inventory name %r is no DNS label' % host)
    tags = variables['tailscale_tags']
    if not is_list(tags):
        problem('tailscale_tags', 'must be a list of tags such as tag:server, got %s' % type_name(tags))
        tags = []
    for index, tag in enumerate(tags):
        text = tag_problem(tag)
        if text:
            problem('tailscale_tags[%d]' % index, text)
    parse_cidr_list(errors, 'host %s: tailscale_advertise_routes' % host, variables['tailscale_advertise_routes'])
    for name in ('tailscale_advertise_exit_node', 'tailscale_accept_routes', 'tailscale_accept_dns', 'tailscale_firewall'):
        check_bool(errors, 'host %s: %s' % (host, name), variables[name])
    check_choice(errors, 'host %s: tailscale_networking' % host, variables['tailscale_networking'], NETWORKING_MODES)
    port = variables['tailscale_port']
    if not (isinstance(port, int) and not isinstance(port, bool) and 0 <= port <= 65535):
        problem('tailscale_port', '%r must be a UDP port, 1 to 65535 (0: any free port)' % (port,))
    text = expiration_problem(variables['tailscale_key_expiration'])
    if text:
        problem('tailscale_key_expiration', text)
    sources = set()
    for prefix in NODE_INSTALL_PREFIXES:
        install = install_settings(prefix, variables)
        sources.add(install['source'] == 'package')
        if install['source'] == 'url':
            problem('%s_source' % prefix, 'Tailscale publishes its static binaries as one archive; use package (its repository) or file')
        else:
            errors.extend(install_source_problems(prefix, host, install))
    if len(sources) > 1:
        problem('tailscale_daemon_source', 'tailscale_cli_source and tailscale_daemon_source must both be package or both be file')
    if server is None:
        return
    version = _version_tuple(servers[server])
    user = variables['tailscale_user']
    users = _user_names(server_extras[server]['headscale_users'])
    if user is None:
        if not tags:
            problem('tailscale_user', 'required unless tailscale_tags are given (a node belongs to a user of %s or to its tags)' % server)
        elif version < TAGS_ONLY_KEYS_SINCE:
            problem('tailscale_user', 'required with headscale %s on %s (nodes owned by tags alone need 0.28 or later)'
                    % (servers[server]['headscale_version'], server))
    elif user not in users:
        problem('tailscale_user', '%r is not a user of %s (its headscale_users: %s)' % (user, server, ', '.join(users) or 'none'))
    policy = server_extras[server]['headscale_policy']
    if tags and is_mapping(policy):
        owners = policy.get('tag_owners') or {}
        for index, tag in enumerate(tags):
            if isinstance(tag, str) and tag.startswith('tag:') and tag[len('tag:'):] not in owners:
                problem('tailscale_tags[%d]' % index, '%s has no owner in the headscale_policy.tag_owners of %s, which refuses it' % (tag, server))


def validate(hostvars, groups, undefined=()):
    """Every problem of the headscale servers and Tailscale nodes of the inventory ([] when valid)."""
    if not is_mapping(groups):
        return ['all: groups: must be a mapping of group name to hosts, got %s' % type_name(groups)]
    # The servers' own config (_headscale_config) first, then what the tailnet adds.
    errors = validate_servers(hostvars, groups, undefined)
    servers = _present_servers(hostvars, groups, undefined)
    extras = dict((host, _server_extras(hostvars, host, undefined)) for host in sorted(set(group_hosts(groups, SERVERS_GROUP))))
    for host in sorted(servers):
        _check_server_extras(errors, host, servers[host], extras[host])
    names = {}
    for host in sorted(set(group_hosts(groups, NODES_GROUP))):
        variables = _node_variables(hostvars, host, undefined)
        before = len(errors)
        _check_node(errors, host, variables, servers, extras)
        if len(errors) == before and variables['tailscale_state'] == 'present':
            node = node_settings(variables, host, servers)
            names.setdefault((node['login_server'], node['hostname']), []).append(host)
    for (login_server, hostname), hosts in sorted(names.items()):
        for host in hosts[1:]:
            errors.append('host %s: tailscale_hostname: %s is also the name of host %s on %s; each node of a tailnet needs its own'
                          % (host, hostname, hosts[0], login_server))
    return errors


# ---------------------------------------------------------------------------------------------
# Plans (of an inventory validate() accepted)
# ---------------------------------------------------------------------------------------------

def server_plan(hostvars, groups, host, undefined=()):
    """What the headscale role renders on host: its config (a dict), policy text, users, TLS and ports.

    Holds no secret (the environment of secret_environment() is read by the no_log task that writes it).
    """
    variables = server_variables(hostvars, host, undefined)
    extras = _server_extras(hostvars, host, undefined)
    values = settings(variables)
    policy = extras['headscale_policy']
    users_entries, _problems = normalize_users(extras['headscale_users'] or [])
    text = None
    if variables['headscale_state'] == 'present' and policy is not None:
        text = policy_text(policy, _user_names(extras['headscale_users']))
    plan = {
        'state': variables['headscale_state'],
        'version': str(variables['headscale_version']).lstrip('v'),
        'users': users_entries,
        'policy': text,
        'install': server_install_settings(variables, extras),
        'config': None,
        'tls_from_pki': False,
        'subject_alt_names': [],
        'tcp_ports': [],
        'udp_ports': [],
        'has_secret_environment': False,
        'policy_path': '',
        'database_path': None,
        'database': None,
        'cert_path': DEFAULT_CERT_PATH,
        'key_path': DEFAULT_KEY_PATH,
        'ca': ca_location(host, extras),
    }
    if variables['headscale_state'] != 'present':
        return plan
    # No policy: an empty policy.path, so that headscale allows all traffic (a path to a missing file is fatal).
    config_variables = dict(variables, headscale_policy_path=variables['headscale_policy_path'] if policy is not None else None)
    config = config_for(config_variables, host)
    url = server_url(variables, host)
    url_host = urlsplit(url.strip()).hostname
    tls = values['headscale_tls']
    plan.update({
        'config': config,
        'server_url': url,
        'tls_from_pki': tls_from_pki(values),
        'cert_path': config.get('tls_cert_path', DEFAULT_CERT_PATH),
        'key_path': config.get('tls_key_path', DEFAULT_KEY_PATH),
        'subject_alt_names': ['DNS:' + url_host],
        'tcp_ports': [_port_of(variables['headscale_listen_address'], 443)],
        'udp_ports': ([_port_of(values['headscale_derp']['server']['stun_listen_address'], 3478)]
                      if values['headscale_derp']['server']['enabled'] else []),
        'has_secret_environment': bool(secret_environment(variables)),
        'policy_path': config['policy']['path'],
        'database_path': config['database']['sqlite']['path'] if config['database']['type'] == 'sqlite' else None,
        'database': database_identity(config['database']),
    })
    return plan


def database_identity(database):
    """Which database a headscale config's database section names, as one text without the password: the role
    records it, and a server whose database is another one than at its last run starts empty there."""
    if database['type'] == 'sqlite':
        return 'sqlite:' + database['sqlite']['path']
    postgres = database['postgres']
    port = postgres.get('port')
    return 'postgres:%s@%s%s/%s' % (postgres['user'], postgres['host'], '' if port is None else ':%s' % port, postgres['name'])


def cas_to_make(hostvars, groups, hosts, undefined=()):
    """The CAs (ca_location() and the host) that the present servers among hosts sign their certificates with and that
    the controller does not hold yet (ca.crt or ca.key missing). Reads only what server_plan() decides them from."""
    missing = []
    for host in sorted(set(group_hosts(groups, SERVERS_GROUP)) & set(hosts)):
        variables = server_variables(hostvars, host, undefined)
        if variables['headscale_state'] != 'present' or not tls_from_pki(settings(variables)):
            continue
        ca = ca_location(host, _server_extras(hostvars, host, undefined))
        if not all(os.path.isfile(os.path.join(ca['path'], name)) for name in (CA_CERTIFICATE, CA_PRIVATE_KEY)):
            missing.append(dict(ca, host=host))
    return missing


def _port_of(address, default):
    text = str(address or '')
    port = text.rsplit(':', 1)[-1] if ':' in text else ''
    return int(port) if port.isdigit() else default


def environment_text(hostvars, host, undefined=()):
    """The 0600 EnvironmentFile of the headscale service (secrets: postgres password, OIDC client secret); '' for none."""
    environment = secret_environment(server_variables(hostvars, host, undefined))
    lines = []
    for name in sorted(environment):
        value = str(environment[name]).replace('\\', '\\\\').replace('"', '\\"')
        lines.append('%s="%s"\n' % (name, value))
    return ''.join(lines)


def node_binaries(variables):
    """(CLI, daemon) paths of a node's Tailscale: where its variables put them, else where the package or the
    controller file goes."""
    install = dict((prefix, install_settings(prefix, variables)) for prefix in NODE_INSTALL_PREFIXES)
    package = install['tailscale_cli']['source'] == 'package'
    return (install['tailscale_cli']['binary'] or ('/usr/bin/tailscale' if package else '/usr/local/bin/tailscale'),
            install['tailscale_daemon']['binary'] or ('/usr/sbin/tailscaled' if package else '/usr/local/sbin/tailscaled'))


def node_plan(hostvars, groups, host, undefined=()):
    """What the tailscale role does on host: the server it joins, the key it asks for and its settings."""
    variables = _node_variables(hostvars, host, undefined)
    servers = _present_servers(hostvars, groups, undefined)
    node = node_settings(variables, host, servers)
    node['install'] = dict((prefix, install_settings(prefix, variables)) for prefix in NODE_INSTALL_PREFIXES)
    node['package'] = node['install']['tailscale_cli']['source'] == 'package'
    node['cli_binary'], node['daemon_binary'] = node_binaries(variables)
    node['server_version'] = servers[node['server']]['headscale_version'] if node['server'] in servers else None
    node['server_tls_from_pki'] = False
    node['server_ca_file'] = None
    if node['server'] in servers:
        node['server_tls_from_pki'] = tls_from_pki(settings(servers[node['server']]))
        if node['server_tls_from_pki']:
            node['server_ca_file'] = ca_location(node['server'], _server_extras(hostvars, node['server'], undefined))['path'] + '/' + CA_CERTIFICATE
    node['routes'] = node['advertise_routes'] + (list(EXIT_NODE_ROUTES) if node['advertise_exit_node'] else [])
    return node


def peers_records(hostvars, groups, hosts, undefined=()):
    """Host -> its peers for the connectivity report (/var/lib/overlaynet/peers/tailscale.json), for each of hosts: the
    other present nodes of its tailnet. Every node's variables are read once, however many hosts are asked for.

    The server hands out a peer's tailnet addresses, so the record has none: the report's probe reads them from the
    node's live state (resolve: the node's tailscale CLI, which lists its peers by tailscale_hostname). The records
    need only the inventory, so they are known before any node joins. With an ACL policy on the server a peer may
    rightly be unreachable, so it must answer only when the server has no policy (all traffic allowed).
    """
    servers = _present_servers(hostvars, groups, undefined)
    members = set(group_hosts(groups, NODES_GROUP))
    nodes = sorted(members | set(hosts))
    variables = dict((node, _node_variables(hostvars, node, undefined)) for node in nodes)
    plans = dict((node, node_settings(variables[node], node, servers)) for node in nodes)
    open_tailnets = {}
    peers = []
    for node in nodes:
        plan = plans[node]
        if plan['state'] != 'present' or plan['server'] is None or node not in members:
            continue
        if plan['server'] not in open_tailnets:
            open_tailnets[plan['server']] = _server_extras(hostvars, plan['server'], undefined)['headscale_policy'] is None
        peers.append({
            'system': SYSTEM,
            'network': plan['server'],
            'interface': 'tailscale0',
            'peer': node,
            'managed': True,
            'addresses': [],
            'must_answer': open_tailnets[plan['server']],
            'extras': {'tailscale_hostname': plan['hostname']},
        })
    records = {}
    for host in hosts:
        plan = plans[host]
        resolve = {'tailscale': node_binaries(variables[host])[0]}
        own = [] if plan['state'] != 'present' or plan['server'] is None else [
            dict(peer, resolve=resolve) for peer in peers if peer['network'] == plan['server'] and peer['peer'] != host]
        records[host] = {'system': SYSTEM, 'peers': own}
    return records


def node_removals(nodes):
    """Server host -> {version, nodes: [{node_key}]} (overlaynet.vpn.headscale_node's options) for the nodes of the play
    that logged out of a server of the inventory in this run.

    nodes: the variables of the play's Tailscale hosts, each with tailscale__plan (node_plan()) and, where the node
    logged out, tailscale__logged_out (overlaynet.vpn.tailscale_node's result with state absent). A logout only expires
    the node's entry on the server, which keeps its name: a machine joining again under that host name would be given
    another name, and MagicDNS would resolve the name to the expired entry.
    """
    removals = {}
    for variables in nodes:
        plan = variables.get('tailscale__plan') if is_mapping(variables) else None
        result = variables.get('tailscale__logged_out') if is_mapping(variables) else None
        if not is_mapping(plan) or plan.get('state') != 'absent' or plan.get('server_version') is None:
            continue
        if not is_mapping(result) or not result.get('logged_out_node_key'):
            continue
        entry = removals.setdefault(plan['server'], {'version': plan['server_version'], 'nodes': []})
        entry['nodes'].append({'node_key': result['logged_out_node_key']})
    for entry in removals.values():
        entry['nodes'].sort(key=lambda node: node['node_key'])
    return removals


def key_requests(nodes, state_dir, check_mode):
    """Server host -> {version, keys: [{name, user, tags, expiration}]} (overlaynet.vpn.headscale_preauthkey's options): a
    single-use key, named by its inventory host, for each node of the play that must join a server of the inventory, so
    that each server mints the keys of all its joining nodes in one run.

    nodes: the variables of the play's Tailscale hosts, each with inventory_hostname, tailscale__plan (node_plan()),
    tailscale__probe and, where it ran, tailscale__node_kept: must_join() reads them (state_dir, check_mode as it takes).
    """
    requests = {}
    for variables in nodes:
        plan = variables.get('tailscale__plan') if is_mapping(variables) else None
        if not is_mapping(plan) or plan.get('server_version') is None:
            continue
        if not must_join(plan, variables.get('tailscale__probe'), variables.get('tailscale__node_kept'), state_dir, check_mode):
            continue
        entry = requests.setdefault(plan['server'], {'version': plan['server_version'], 'keys': []})
        entry['keys'].append({'name': variables['inventory_hostname'], 'user': plan['user'] or None, 'tags': list(plan['tags']),
                              'expiration': plan['key_expiration']})
    for entry in requests.values():
        entry['keys'].sort(key=lambda key: key['name'])
    return requests


def node_result(variables):
    """What overlaynet.vpn.tailscale_node gave for a node in this run (tailscale__node_joined, else tailscale__node_kept,
    where it ran), else what the node's probe read (tailscale__probe; the role skips the module where the node is as
    wanted: then it changed nothing); None when neither is known."""
    for name in ('tailscale__node_joined', 'tailscale__node_kept'):
        result = variables.get(name)
        if is_mapping(result) and not result.get('skipped'):
            return result
    probe = variables.get('tailscale__probe')
    state = probe.get('tailscale_state') if is_mapping(probe) else None
    status = state.get('status') if is_mapping(state) else None
    if not is_mapping(status):
        return None
    return {'changed': False, 'tailscale_ips': list(status.get('tailscale_ips') or [])}


def route_approvals(nodes, server_nodes=None):
    """Server host -> {version, nodes: [{name, routes, exit_node}]} (overlaynet.vpn.headscale_routes' options) for the nodes
    whose advertised routes the server has not approved.

    nodes: the variables of the play's Tailscale hosts, each with tailscale__plan (node_plan()) and what node_result()
    reads. A node that has not joined yet (no tailnet address) is left for its next run.
    server_nodes: server host -> its nodes as its probe read them (host_probe headscale_nodes) at the start of the run.
    A node that changed nothing in this run and that the server showed with these routes approved needs nothing.
    The node's own status cannot tell: headscale does not send a node its own approved routes.
    """
    approvals = {}
    for variables in nodes:
        plan = variables.get('tailscale__plan') if is_mapping(variables) else None
        if not is_mapping(plan) or plan.get('state') != 'present' or plan.get('server') is None or not plan.get('routes'):
            continue
        result = node_result(variables)
        if not is_mapping(result) or not result.get('tailscale_ips'):
            continue
        item = {'name': plan['hostname'], 'routes': list(plan['advertise_routes']), 'exit_node': plan['advertise_exit_node']}
        if result.get('changed') is False and routes_approved(item, (server_nodes or {}).get(plan['server'])):
            continue
        entry = approvals.setdefault(plan['server'], {'version': plan['server_version'], 'nodes': []})
        entry['nodes'].append(item)
    for entry in approvals.values():
        entry['nodes'].sort(key=lambda node: node['name'])
    return approvals
