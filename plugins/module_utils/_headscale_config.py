# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The inputs of the role overlaynet.vpn.headscale (hosts of group headscale_servers): reading
# them with the role's defaults, checking them (validate(): every problem at once, run before any
# host changes) and the /etc/headscale/config.yaml they become (config_for()).
#
# Upstream read (juanfont/headscale): config-example.yaml, hscontrol/types/config.go,
# hscontrol/app.go and CHANGELOG.md at the tags v0.26.0, v0.27.0, v0.28.0, v0.29.0 and v0.29.2,
# and the head of release-branch/0.29 (2026-07); the mirror holds no v0.29.3 tag, and the config
# code is identical in v0.29.0, v0.29.2 and that branch. What differs between the supported minor
# series (0.26 to 0.29):
#
# * 0.29 reads node.expiry (default key expiry of every non-tagged node) and refuses to start on
#   oidc.expiry; 0.26-0.28 only have oidc.expiry (OIDC nodes, default 180d). headscale_node_expiry
#   is written as whichever the version reads, and needs OIDC before 0.29.
# * 0.29 reads node.ephemeral.inactivity_timeout; before, ephemeral_node_inactivity_timeout
#   (0.29 still reads it, with a deprecation warning). Every version refuses 65s or less.
# * 0.29 refuses randomize_client_port at startup: it moved into the policy file
#   ("randomizeClientPort": true at its top level).
# * derp.server.verify_clients arrived in 0.27; oidc.email_verified_required and taildrop.enabled
#   in 0.28; trusted_proxies, auto_update.enabled and node.routes.ha.* in 0.29 (which also
#   refuses a trusted proxy of /0 and checks the probe interval and timeout). Older versions
#   silently ignore keys they do not read, as every version does with misspelt ones.
# * An empty metrics_listen_addr turns the metrics listener off from 0.28 on; 0.26 and 0.27 listen
#   on a random port of every address instead.
# * From 0.29 on, headscale refuses a database last used by an older minor version other than the
#   previous one, or by a newer minor version (upgrade_problem()).
#
# The same in every supported version: keys removed in 0.23-0.26 (acl_policy_path, dns_config,
# dns.use_username_in_magic_dns, oidc.strip_email_domain, oidc.map_legacy_users) stop headscale
# at startup; ip_prefixes and the flat db_* keys are silently ignored (without prefixes.v4/v6
# headscale then refuses to start). MagicDNS needs dns.base_domain, which must be neither the host
# of server_url nor one of its parent domains (the tailnet takes the domain over, and clients would
# lose the server and its DERP relay). override_local_dns needs global nameservers. An empty DERP
# map is refused. Prefixes outside 100.64.0.0/10 and fd7a:115c:a1e0::/48 only get a warning banner,
# but Tailscale clients break on them, so they are refused here.
#
# Decisions of this collection:
# * server_url is https, always. Tailscale clients insist on TLS (an http:// server_url with a name
#   fails, and the embedded DERP server needs TLS too). TLS is headscale's own (headscale_tls.mode
#   files or letsencrypt) or a reverse proxy's in front of it (mode proxy: headscale then serves
#   plain HTTP on headscale_listen_address, and server_url still says https).
# * No secret in config.yaml: the postgres password and an inline OIDC client secret go to the
#   service's environment (secret_environment(), HEADSCALE_DATABASE_POSTGRES_PASS and
#   HEADSCALE_OIDC_CLIENT_SECRET, which headscale reads for database.postgres.pass and
#   oidc.client_secret), for a 0600 EnvironmentFile; headscale has no password file option.
#   No message names a secret's value.
# * disable_check_updates: true (each CLI call would ask GitHub for releases; the role pins the
#   version) and logtail.enabled: false are written explicitly.
# * headscale_extra_config is deep-merged into the result: it may set what no role variable sets;
#   a key a variable sets, a removed key or a key the version does not read is refused, naming
#   what to use instead.
#
# A None value of a scalar variable (metrics address, node expiry, inactivity timeout, log level,
# policy path) leaves the key out, so headscale's built-in default applies; in the mapping
# variables a missing or null key takes the role's default, except prefixes.v4/v6 and
# database.postgres.port, where null means "none".

import copy
import ipaddress
import re
from urllib.parse import urlsplit

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import host_name_problem, parse_cidr_list, split_endpoint
from ansible_collections.overlaynet.vpn.plugins.module_utils._hostvars import read_host_variables
from ansible_collections.overlaynet.vpn.plugins.module_utils._membership import group_hosts
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

SERVERS_GROUP = 'headscale_servers'
CONFIG_PATH = '/etc/headscale/config.yaml'
DEFAULT_VERSION = '0.29.3'
# The minor series (major, minor) this module writes and checks configurations for.
SUPPORTED_VERSIONS = ((0, 26), (0, 27), (0, 28), (0, 29))

STATES = ('present', 'absent')
ALLOCATIONS = ('sequential', 'random')
DATABASE_TYPES = ('sqlite', 'postgres')
TLS_MODES = ('files', 'letsencrypt', 'proxy')
CHALLENGE_TYPES = ('HTTP-01', 'TLS-ALPN-01')
LOG_LEVELS = ('panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace')
RECORD_TYPES = ('A', 'AAAA')
PKCE_METHODS = ('plain', 'S256')
POSTGRES_SSL_MODES = ('disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full')

# Tailscale clients assume their addresses come from these ranges (tsaddr.CGNATRange, TailscaleULARange).
TAILSCALE_V4_RANGE = ipaddress.ip_network('100.64.0.0/10')
TAILSCALE_V6_RANGE = ipaddress.ip_network('fd7a:115c:a1e0::/48')
TAILSCALE_DERP_MAP_URL = 'https://controlplane.tailscale.com/derpmap/default'
# headscale refuses an ephemeral inactivity timeout of 65 s or less (keepalive 60 s plus a margin).
MINIMUM_INACTIVITY_SECONDS = 65

NOISE_KEY_PATH = '/var/lib/headscale/noise_private.key'
DERP_KEY_PATH = '/var/lib/headscale/derp_server_private.key'
UNIX_SOCKET = '/var/run/headscale/headscale.sock'
DEFAULT_CERT_PATH = '/etc/headscale/tls/headscale.crt'
DEFAULT_KEY_PATH = '/etc/headscale/tls/headscale.key'
POSTGRES_PASSWORD_ENV = 'HEADSCALE_DATABASE_POSTGRES_PASS'
OIDC_CLIENT_SECRET_ENV = 'HEADSCALE_OIDC_CLIENT_SECRET'

SERVER_DEFAULTS = {
    'headscale_version': DEFAULT_VERSION,
    'headscale_state': 'present',
    'headscale_server_url': None,
    'headscale_listen_address': '0.0.0.0:443',
    'headscale_metrics_listen_address': '127.0.0.1:9090',
    'headscale_grpc_listen_address': '127.0.0.1:50443',
    'headscale_prefixes': {'v4': '100.64.0.0/10', 'v6': 'fd7a:115c:a1e0::/48', 'allocation': 'sequential'},
    'headscale_derp': {
        'server': {
            'enabled': True, 'region_id': 999, 'region_code': 'headscale', 'region_name': 'Headscale Embedded DERP',
            'stun_listen_address': '0.0.0.0:3478', 'automatically_add_embedded_derp_region': True,
            'verify_clients': None, 'ipv4': None, 'ipv6': None,
        },
        'urls': [TAILSCALE_DERP_MAP_URL],
        'paths': [],
        'auto_update': True,
        'update_frequency': None,
    },
    'headscale_database': {
        'type': 'sqlite',
        'sqlite': {'path': '/var/lib/headscale/db.sqlite', 'write_ahead_log': True},
        'postgres': {'host': None, 'port': 5432, 'name': None, 'user': None, 'password': None, 'ssl': None},
    },
    'headscale_dns': {
        'magic_dns': True,
        'base_domain': None,
        'override_local_dns': False,
        'nameservers': {'global': [], 'split': {}},
        'search_domains': [],
        'extra_records': [],
        'extra_records_path': None,
    },
    'headscale_tls': {
        'mode': 'files', 'cert_path': None, 'key_path': None,
        'letsencrypt_hostname': None, 'letsencrypt_challenge_type': None, 'letsencrypt_listen': None,
        'letsencrypt_cache_dir': None, 'acme_url': None, 'acme_email': None,
    },
    'headscale_oidc': None,
    'headscale_node_expiry': None,
    'headscale_ephemeral_inactivity_timeout': '30m',
    'headscale_policy_path': '/etc/headscale/policy.json',
    'headscale_log_level': 'info',
    'headscale_extra_config': {},
}

MAPPING_VARIABLES = ('headscale_prefixes', 'headscale_derp', 'headscale_database', 'headscale_dns', 'headscale_tls')
# Keys of the mapping variables where an explicit null means "none" rather than "the default".
_NULLABLE = frozenset([('headscale_prefixes', 'v4'), ('headscale_prefixes', 'v6'), ('headscale_database', 'postgres', 'port')])

OIDC_KEYS = (
    'issuer', 'client_id', 'client_secret', 'client_secret_path', 'only_start_if_oidc_is_available', 'scope', 'extra_params',
    'allowed_domains', 'allowed_users', 'allowed_groups', 'email_verified_required', 'use_expiry_from_token', 'pkce',
)
PKCE_KEYS = ('enabled', 'method')
EXTRA_RECORD_KEYS = ('name', 'type', 'value')
TLS_FILE_KEYS = ('cert_path', 'key_path')
TLS_LETSENCRYPT_KEYS = ('letsencrypt_hostname', 'letsencrypt_challenge_type', 'letsencrypt_listen', 'letsencrypt_cache_dir',
                        'acme_url', 'acme_email')

# Keys of the mapping variables that headscale removed: the message says what replaces them.
_REMOVED_VARIABLE_KEYS = {
    ('headscale_dns', 'use_username_in_magic_dns'): 'removed in headscale 0.24, which refuses to start with it; nothing replaces it',
    ('headscale_oidc', 'expiry'): ('set headscale_node_expiry instead: the role writes it as oidc.expiry before headscale 0.29 and as '
                                   'node.expiry from 0.29 on, which refuses to start with oidc.expiry'),
    ('headscale_oidc', 'strip_email_domain'): 'removed in headscale 0.26, which refuses to start with it; nothing replaces it',
    ('headscale_oidc', 'map_legacy_users'): 'removed in headscale 0.26, which refuses to start with it; nothing replaces it',
}

# Settings headscale reads that no role variable sets (so headscale_extra_config may set them),
# as dotted paths -> (first, last) minor version of 0.x that reads them (None: still read).
_EXTRA_SETTINGS = dict.fromkeys((
    'cli.address', 'cli.insecure', 'cli.timeout', 'database.debug', 'database.gorm.parameterized_queries', 'database.gorm.prepare_stmt',
    'database.gorm.skip_err_record_not_found', 'database.gorm.slow_threshold', 'database.postgres.conn_max_idle_time_secs',
    'database.postgres.max_idle_conns', 'database.postgres.max_open_conns', 'database.sqlite.wal_autocheckpoint',
    'derp.server.private_key_path', 'disable_check_updates', 'grpc_allow_insecure', 'log.format', 'logtail.enabled',
    'noise.private_key_path', 'tuning.batch_change_delay', 'tuning.node_mapsession_buffered_chan_size', 'tuning.notifier_send_timeout',
    'unix_socket', 'unix_socket_permission',
), (26, None))
_EXTRA_SETTINGS.update({
    'randomize_client_port': (26, 28),
    'tuning.batcher_workers': (27, None),
    'tuning.register_cache_expiration': (27, None),
    'tuning.register_cache_cleanup': (27, 28),
    'taildrop.enabled': (28, None),
    'tuning.node_store_batch_size': (28, None),
    'tuning.node_store_batch_timeout': (28, None),
    'auto_update.enabled': (29, None),
    'node.routes.ha.probe_interval': (29, None),
    'node.routes.ha.probe_timeout': (29, None),
    'trusted_proxies': (29, None),
    'tuning.register_cache_max_entries': (29, None),
})

# Settings a role variable sets: headscale_extra_config must not override them (that would skip their checks).
_MANAGED = {
    'server_url': 'headscale_server_url',
    'listen_addr': 'headscale_listen_address',
    'metrics_listen_addr': 'headscale_metrics_listen_address',
    'grpc_listen_addr': 'headscale_grpc_listen_address',
    'prefixes': 'headscale_prefixes',
    'derp.server.enabled': 'headscale_derp.server.enabled',
    'derp.server.region_id': 'headscale_derp.server.region_id',
    'derp.server.region_code': 'headscale_derp.server.region_code',
    'derp.server.region_name': 'headscale_derp.server.region_name',
    'derp.server.stun_listen_addr': 'headscale_derp.server.stun_listen_address',
    'derp.server.automatically_add_embedded_derp_region': 'headscale_derp.server.automatically_add_embedded_derp_region',
    'derp.server.verify_clients': 'headscale_derp.server.verify_clients',
    'derp.server.ipv4': 'headscale_derp.server.ipv4',
    'derp.server.ipv6': 'headscale_derp.server.ipv6',
    'derp.urls': 'headscale_derp.urls',
    'derp.paths': 'headscale_derp.paths',
    'derp.auto_update_enabled': 'headscale_derp.auto_update',
    'derp.update_frequency': 'headscale_derp.update_frequency',
    'database.type': 'headscale_database.type',
    'database.sqlite.path': 'headscale_database.sqlite.path',
    'database.sqlite.write_ahead_log': 'headscale_database.sqlite.write_ahead_log',
    'database.postgres.host': 'headscale_database.postgres.host',
    'database.postgres.port': 'headscale_database.postgres.port',
    'database.postgres.name': 'headscale_database.postgres.name',
    'database.postgres.user': 'headscale_database.postgres.user',
    'database.postgres.pass': 'headscale_database.postgres.password',
    'database.postgres.ssl': 'headscale_database.postgres.ssl',
    'dns': 'headscale_dns',
    'tls_cert_path': 'headscale_tls.cert_path',
    'tls_key_path': 'headscale_tls.key_path',
    'tls_letsencrypt_hostname': 'headscale_tls.letsencrypt_hostname',
    'tls_letsencrypt_challenge_type': 'headscale_tls.letsencrypt_challenge_type',
    'tls_letsencrypt_listen': 'headscale_tls.letsencrypt_listen',
    'tls_letsencrypt_cache_dir': 'headscale_tls.letsencrypt_cache_dir',
    'acme_url': 'headscale_tls.acme_url',
    'acme_email': 'headscale_tls.acme_email',
    'oidc': 'headscale_oidc',
    'node.expiry': 'headscale_node_expiry',
    'node.ephemeral.inactivity_timeout': 'headscale_ephemeral_inactivity_timeout',
    'ephemeral_node_inactivity_timeout': 'headscale_ephemeral_inactivity_timeout',
    'policy': 'headscale_policy_path',
    'log.level': 'headscale_log_level',
}

_DB_KEYS_MESSAGE = 'replaced by the database section in headscale 0.23 and silently ignored since; set headscale_database'
# Keys removed from headscale's configuration: dotted path -> (first minor version it applies to, what to do instead).
_REMOVED_KEYS = {
    'acl_policy_path': (26, 'renamed policy.path in headscale 0.23, and refused at startup without it; set headscale_policy_path'),
    'dns_config': (26, 'replaced by the dns section in headscale 0.23, and refused at startup; set headscale_dns (magic_dns, base_domain, '
                       'override_local_dns, nameservers -> nameservers.global, restricted_nameservers -> nameservers.split, '
                       'domains -> search_domains, extra_records)'),
    'dns.use_username_in_magic_dns': (26, 'removed in headscale 0.24, which refuses to start with it; nothing replaces it'),
    'ip_prefixes': (26, 'replaced by prefixes.v4 and prefixes.v6 in headscale 0.23: silently ignored, and headscale refuses to start '
                        'without prefixes; set headscale_prefixes'),
    'db_type': (26, _DB_KEYS_MESSAGE), 'db_path': (26, _DB_KEYS_MESSAGE), 'db_host': (26, _DB_KEYS_MESSAGE),
    'db_port': (26, _DB_KEYS_MESSAGE), 'db_name': (26, _DB_KEYS_MESSAGE), 'db_user': (26, _DB_KEYS_MESSAGE),
    'db_pass': (26, _DB_KEYS_MESSAGE), 'db_ssl': (26, _DB_KEYS_MESSAGE),
    'private_key_path': (26, 'the key of the legacy protocol, silently ignored since headscale 0.23 (the role sets noise.private_key_path)'),
    'node_update_check_interval': (26, 'silently ignored since headscale 0.23; nothing replaces it'),
    'oidc.expiry': (26, _REMOVED_VARIABLE_KEYS[('headscale_oidc', 'expiry')]),
    'oidc.strip_email_domain': (26, 'removed in headscale 0.26, which refuses to start with it; nothing replaces it'),
    'oidc.map_legacy_users': (26, 'removed in headscale 0.26, which refuses to start with it; nothing replaces it'),
    'randomize_client_port': (29, 'removed in headscale 0.29, which refuses to start with it; put "randomizeClientPort": true at the top '
                                  'level of the policy file (headscale_policy_path) instead'),
}
# Values that are user-defined mappings, not sections of settings.
_FREE_MAPPINGS = frozenset(['dns.nameservers.split', 'oidc.extra_params'])
_EXTRA_BOOLEANS = ('cli.insecure', 'database.debug', 'disable_check_updates', 'grpc_allow_insecure', 'logtail.enabled', 'taildrop.enabled',
                   'auto_update.enabled', 'randomize_client_port')
_EXTRA_PATHS = ('noise.private_key_path', 'derp.server.private_key_path', 'unix_socket')

_VERSION_PATTERN = re.compile(r'^v?([0-9]+)\.([0-9]+)\.([0-9]+)$')
_GO_DURATION_PART = re.compile(r'([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)')
_GO_UNITS = {'ns': 1e-9, 'us': 1e-6, '\u00b5s': 1e-6, '\u03bcs': 1e-6, 'ms': 1e-3, 's': 1.0, 'm': 60.0, 'h': 3600.0}
_MODEL_DURATION = re.compile(r'^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$')
_MODEL_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_WILDCARD_HOSTS = ('', '0.0.0.0', '::')
_NAMED_PORTS = {'http': 80, 'https': 443}


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------

def parse_version(text):
    """'0.29.3' (or 'v0.29.3') -> (0, 29, 3). ValueError for anything else, pre-releases included."""
    match = _VERSION_PATTERN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError('%r is not a headscale release version such as %s' % (text, DEFAULT_VERSION))
    return tuple(int(part) for part in match.groups())


def is_supported(version):
    """True when a (major, minor, patch) tuple is of a minor series in SUPPORTED_VERSIONS."""
    return tuple(version[:2]) in SUPPORTED_VERSIONS


def version_problem(text):
    """None when text is a release of a supported minor series, else why not."""
    try:
        version = parse_version(text)
    except ValueError as error:
        return str(error)
    if not is_supported(version):
        return '%s is not supported (supported: %s)' % (text, ', '.join('%d.%d.x' % series for series in SUPPORTED_VERSIONS))
    return None


def upgrade_problem(installed, wanted):
    """None when headscale `installed` (version text) may be replaced by `wanted`, else why not.

    From 0.29 on, headscale refuses a database last used by a newer minor version, or by an older
    one other than the previous minor version (upstream also dropped the old migrations); patch
    changes are always fine.
    """
    old, new = parse_version(installed), parse_version(wanted)
    if old[0] != new[0]:
        return 'headscale %s cannot take over the database of %s (another major version)' % (wanted, installed)
    if new[1] < old[1]:
        return 'headscale %s cannot take over the database of %s: downgrading to an older minor version is refused' % (wanted, installed)
    if new[1] > old[1] + 1:
        return ('headscale %s cannot take over the database of %s: upgrade one minor version at a time (to the latest %d.%d.x first)'
                % (wanted, installed, old[0], old[1] + 1))
    return None


def _version(value):
    """A version tuple from a tuple or a version text."""
    return tuple(value) if isinstance(value, (tuple, list)) else parse_version(value)


def _since(version, minor):
    return tuple(version[:2]) >= (0, minor)


def _series(version):
    return '%d.%d' % tuple(version[:2])


# ---------------------------------------------------------------------------------------------
# Durations, addresses, URLs
# ---------------------------------------------------------------------------------------------

def go_duration_seconds(text):
    """Seconds of a Go duration as headscale parses most durations ('90s', '1h30m', '0'); ValueError otherwise.

    A bare number is not accepted: Go would read "120" as 120 nanoseconds.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError('not a duration')
    body = text.strip()
    if body == '0':
        return 0.0
    total, position = 0.0, 0
    while position < len(body):
        match = _GO_DURATION_PART.match(body, position)
        if match is None or match.group(1) in ('', '.'):
            raise ValueError('not a duration')
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    return total


def model_duration_seconds(text):
    """Seconds of a duration with days and weeks ('180d', '1w2d', '0'), as headscale parses key expiries; ValueError otherwise."""
    if isinstance(text, str) and text.strip() == '0':
        return 0.0
    match = _MODEL_DURATION.match(text.strip()) if isinstance(text, str) and text.strip() else None
    if match is None or not any(match.groups()):
        raise ValueError('not a duration')
    return sum(int(count) * unit for count, unit in zip(match.groups(), _MODEL_UNITS) if count)


def parse_listen_address(value, named_ports=False):
    """'host:port', '[v6]:port' or ':port' (every address) -> (host, port); ValueError otherwise.

    named_ports: also accept ':http' and ':https', as Go does.
    """
    if not isinstance(value, str):
        raise ValueError('must be host:port, got %s' % type_name(value))
    text = value.strip()
    if text.startswith(':'):
        port_text = text[1:]
        if named_ports and port_text in _NAMED_PORTS:
            return '', _NAMED_PORTS[port_text]
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError('%r must be host:port with a port from 1 to 65535' % value)
        return '', int(port_text)
    host, port = split_endpoint(text, 'address')
    try:
        ipaddress.ip_address(host)
    except ValueError:
        problem = host_name_problem(host)
        if problem:
            raise ValueError('%r: %s' % (value, problem))
    return host, port


def server_url(variables, host):
    """headscale_server_url, or https://<inventory_hostname> when it is None."""
    value = variables.get('headscale_server_url')
    return 'https://%s' % host if value is None else value


def _url_host(value, schemes=('https',)):
    """(host, None) of a URL such as https://name[:port] without path, query or fragment; (None, why not) otherwise."""
    if not isinstance(value, str):
        return None, 'must be a URL such as https://headscale.example.org, got %s' % type_name(value)
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None, '%r is not a valid URL' % value
    if parts.scheme not in schemes:
        return None, '%r must start with %s' % (value, ' or '.join('%s://' % scheme for scheme in schemes))
    host = parts.hostname
    if not host or parts.username is not None or port == 0:
        return None, '%r must name a host (and an optional port), without user or password' % value
    try:
        ipaddress.ip_address(host)
    except ValueError:
        problem = host_name_problem(host)
        if problem:
            return None, '%r: %s' % (value, problem)
    return host, None


def _path_problem(value):
    if not isinstance(value, str) or not value.startswith('/') or any(char in value for char in '\n\r\0'):
        return 'must be an absolute path, got %r' % (value,)
    return None


def _nameserver_problem(value):
    """None for an IP address or a DNS-over-HTTPS URL, else why not."""
    if isinstance(value, str):
        try:
            ipaddress.ip_address(value)
            return None
        except ValueError:
            pass
        if value.startswith('https://') and _url_host(value)[0] is not None:
            return None
    return '%r is not an IP address or an https:// DNS-over-HTTPS URL' % (value,)


def _dns_name_problem(value):
    """Like host_name_problem, without a final dot (headscale wants base_domain and search domains that way)."""
    if isinstance(value, str) and value.endswith('.'):
        return '%r must not end with a dot' % value
    return host_name_problem(value)


# ---------------------------------------------------------------------------------------------
# Reading hostvars, defaults
# ---------------------------------------------------------------------------------------------

def server_variables(hostvars, host, undefined=()):
    """The headscale_* variables of one host, role defaults applied (see read_host_variables).

    The result may hold secrets (headscale_database.postgres.password, headscale_oidc.client_secret).
    """
    return read_host_variables(hostvars, host, SERVER_DEFAULTS, undefined)


def read_servers(hostvars, groups, undefined=()):
    """Host -> server_variables() for every host of group headscale_servers, sorted by host."""
    return dict((host, server_variables(hostvars, host, undefined)) for host in sorted(set(group_hosts(groups, SERVERS_GROUP))))


def _with_defaults(value, default, path):
    """value with the missing (or null) keys of default filled in, recursively; keys default does not know are kept."""
    if is_mapping(default):
        if not is_mapping(value):
            return copy.deepcopy(default)
        result = dict(value)
        for key, sub_default in default.items():
            result[key] = _with_defaults(value[key], sub_default, path + (key,)) if key in value else copy.deepcopy(sub_default)
        return result
    if value is None and path not in _NULLABLE:
        return copy.deepcopy(default)
    return value


def settings(variables):
    """variables with the mapping variables (headscale_prefixes, _derp, _database, _dns, _tls) completed from SERVER_DEFAULTS."""
    result = dict(variables)
    for name in MAPPING_VARIABLES:
        result[name] = _with_defaults(variables.get(name), SERVER_DEFAULTS[name], (name,))
    if result['headscale_extra_config'] is None:
        result['headscale_extra_config'] = {}
    return result


# ---------------------------------------------------------------------------------------------
# Checks of one server
# ---------------------------------------------------------------------------------------------

class _Checker(object):
    """The checks of one host's variables; errors collects the messages, each 'host <name>: <variable>...: ...'."""

    def __init__(self, errors, host, version):
        self.errors = errors
        self.host = host
        self.version = version

    def where(self, *path):
        return 'host %s: %s' % (self.host, '.'.join(str(part) for part in path))

    def add(self, path, message):
        self.errors.append('%s: %s' % (self.where(*path), message))

    def mapping(self, path, value, known, removed_in=None):
        """True when value is a mapping (None too: the defaults apply); reports unknown and removed keys."""
        if value is None:
            return True
        if not is_mapping(value):
            self.add(path, 'must be a mapping, got %s' % type_name(value))
            return False
        unknown = {}
        for key in value:
            message = _REMOVED_VARIABLE_KEYS.get((removed_in, key)) if removed_in else None
            if message:
                self.add(path + (key,), message)
            else:
                unknown[key] = value[key]
        check_known_keys(self.errors, self.where(*path), unknown, known)
        return True

    def boolean(self, path, value, allow_none=False):
        if value is None and allow_none:
            return True
        return check_bool(self.errors, self.where(*path), value)

    def path_value(self, path, value, allow_none=False):
        if value is None and allow_none:
            return True
        problem = _path_problem(value)
        if problem:
            self.add(path, problem)
        return problem is None

    def text(self, path, value, allow_none=False, secret=False):
        if value is None and allow_none:
            return True
        if isinstance(value, str) and value.strip():
            return True
        self.add(path, 'must be a non-empty string' + ('' if secret else ', got %r' % (value,)))
        return False

    def listen(self, path, value, named_ports=False):
        """(host, port) of a listen address, or None (reported)."""
        try:
            return parse_listen_address(value, named_ports)
        except ValueError as error:
            self.add(path, str(error))
            return None

    def go_duration(self, path, value, minimum=None):
        """Seconds of a Go duration, or None (reported)."""
        try:
            seconds = go_duration_seconds(value)
        except ValueError:
            self.add(path, '%r is not a duration such as 30m, 90s or 1h30m' % (value,))
            return None
        if minimum is not None and seconds <= minimum:
            self.add(path, '%s must be longer than %ds (headscale refuses to start otherwise)' % (value, minimum))
            return None
        return seconds


def _check_state(checker, value):
    """False when the state is absent; a wrong value is reported and counts as present."""
    check_choice(checker.errors, checker.where('headscale_state'), value, STATES)
    return value != 'absent'


def _check_version(errors, host, value):
    """The version tuple to check against: headscale_version's, or DEFAULT_VERSION's when it is wrong (reported)."""
    problem = version_problem(value)
    if problem:
        errors.append('host %s: headscale_version: %s' % (host, problem))
        return parse_version(DEFAULT_VERSION)
    return parse_version(value)


def _check_server_url(checker, variables):
    """The host name of the server URL, or None (reported)."""
    value = variables['headscale_server_url']
    url = server_url(variables, checker.host)
    host, problem = _url_host(url)
    if problem is None:
        parts = urlsplit(url.strip())
        if parts.path or parts.query or parts.fragment:
            problem = '%r must not have a path (not even "/"), query or fragment' % url
    if problem is None:
        return host
    if value is None:
        checker.add(('headscale_server_url',), 'unset, and https://%s (from the inventory name) does not work: %s; set it' % (checker.host, problem))
    elif isinstance(value, str) and value.strip().startswith('http://'):
        checker.add(('headscale_server_url',), '%r must start with https://: Tailscale clients insist on TLS and the embedded DERP server '
                                               'needs it (with TLS terminated by a proxy in front of headscale, set headscale_tls.mode: proxy '
                                               'and keep https here)' % value)
    else:
        checker.add(('headscale_server_url',), problem)
    return None


def _check_listen_addresses(checker, variables, version, tls):
    """headscale_listen_address, _metrics_listen_address, _grpc_listen_address (and the ACME HTTP-01 listener): valid, no shared port."""
    listeners = []
    for name in ('headscale_listen_address', 'headscale_metrics_listen_address', 'headscale_grpc_listen_address'):
        value = variables[name]
        if value is None:
            if name != 'headscale_metrics_listen_address':
                checker.add((name,), 'required (host:port)')
            elif not _since(version, 28):
                checker.add((name,), 'required by headscale %s: it only turns the metrics listener off from 0.28 on (before, null listens on '
                                     'a random port of every address)' % _series(version))
            continue
        address = checker.listen((name,), value)
        if address is not None:
            listeners.append((name, address))
    if tls.get('mode') == 'letsencrypt' and tls.get('letsencrypt_challenge_type') in (None, 'HTTP-01'):
        value = tls.get('letsencrypt_listen') or ':http'
        address = checker.listen(('headscale_tls', 'letsencrypt_listen'), value, named_ports=True)
        if address is not None:
            listeners.append(('headscale_tls.letsencrypt_listen', address))
    for index, (name, (host, port)) in enumerate(listeners):
        for other, (other_host, other_port) in listeners[:index]:
            if port == other_port and (host == other_host or host in _WILDCARD_HOSTS or other_host in _WILDCARD_HOSTS):
                checker.add((name,), 'TCP port %d is also the port of %s' % (port, other))


def _check_prefixes(checker, value):
    path = ('headscale_prefixes',)
    found = {}
    for key, version, allowed in (('v4', 4, TAILSCALE_V4_RANGE), ('v6', 6, TAILSCALE_V6_RANGE)):
        if value[key] is None:
            continue
        prefixes = parse_cidr_list(checker.errors, checker.where(*(path + (key,))), [value[key]])
        if not prefixes:
            continue
        prefix = prefixes[0]
        if prefix.version != version or not prefix.subnet_of(allowed):
            checker.add(path + (key,), '%s is not inside %s: Tailscale clients only work with addresses from there (headscale merely warns)'
                        % (prefix, allowed))
        found[key] = prefix
    if value['v4'] is None and value['v6'] is None:
        checker.add(path, 'v4 and v6 are both null; headscale needs at least one prefix to hand out addresses from')
    check_choice(checker.errors, checker.where('headscale_prefixes', 'allocation'), value['allocation'], ALLOCATIONS)
    return found


def _check_derp(checker, raw, value, version):
    path = ('headscale_derp',)
    server_ok = True
    if checker.mapping(path, raw, tuple(SERVER_DEFAULTS['headscale_derp'])) and is_mapping(raw):
        server_ok = checker.mapping(path + ('server',), raw.get('server'), tuple(SERVER_DEFAULTS['headscale_derp']['server']))
    server = value['server']
    enabled = server['enabled'] is True
    checker.boolean(path + ('server', 'enabled'), server['enabled'])
    checker.boolean(path + ('server', 'automatically_add_embedded_derp_region'), server['automatically_add_embedded_derp_region'])
    check_int(checker.errors, checker.where(*(path + ('server', 'region_id'))), server['region_id'], 1, 2 ** 31 - 1)
    checker.text(path + ('server', 'region_code'), server['region_code'])
    checker.text(path + ('server', 'region_name'), server['region_name'])
    checker.listen(path + ('server', 'stun_listen_address'), server['stun_listen_address'])
    if server['verify_clients'] is not None and checker.boolean(path + ('server', 'verify_clients'), server['verify_clients']) \
            and not _since(version, 27):
        checker.add(path + ('server', 'verify_clients'), 'arrived in headscale 0.27; %s ignores it (leave it null)' % _series(version))
    for key, address_type in (('ipv4', ipaddress.IPv4Address), ('ipv6', ipaddress.IPv6Address)):
        if server[key] is not None:
            try:
                address_type(server[key] if isinstance(server[key], str) else '-')
            except ValueError:
                checker.add(path + ('server', key), '%r is not an %s address' % (server[key], 'IPv4' if key == 'ipv4' else 'IPv6'))
    urls = list_value(checker.errors, checker.where(*(path + ('urls',))), value['urls'], 'DERP map URLs')
    for url in urls:
        problem = _url_host(url, ('https', 'http'))[1]
        if problem:
            checker.add(path + ('urls',), problem)
    paths = list_value(checker.errors, checker.where(*(path + ('paths',))), value['paths'], 'DERP map files')
    for item in paths:
        checker.path_value(path + ('paths',), item)
    checker.boolean(path + ('auto_update',), value['auto_update'])
    if value['update_frequency'] is not None:
        checker.go_duration(path + ('update_frequency',), value['update_frequency'], minimum=0)
    if not server_ok:
        return
    if enabled and server['automatically_add_embedded_derp_region'] is False:
        if not paths:
            checker.add(path + ('server', 'automatically_add_embedded_derp_region'),
                        'false needs the embedded server\'s region in a file of headscale_derp.paths (headscale refuses to start otherwise)')
    elif not enabled and not urls and not paths:
        checker.add(path, 'the DERP map would be empty (embedded server off, no urls, no paths), and headscale refuses to start with '
                          'an empty DERP map; turn server.enabled on (offline networks) or give urls or paths')


def _check_database(checker, raw, value):
    path = ('headscale_database',)
    if checker.mapping(path, raw, tuple(SERVER_DEFAULTS['headscale_database'])) and is_mapping(raw):
        checker.mapping(path + ('sqlite',), raw.get('sqlite'), tuple(SERVER_DEFAULTS['headscale_database']['sqlite']))
        checker.mapping(path + ('postgres',), raw.get('postgres'), tuple(SERVER_DEFAULTS['headscale_database']['postgres']))
    if not check_choice(checker.errors, checker.where('headscale_database', 'type'), value['type'], DATABASE_TYPES):
        return
    if value['type'] == 'sqlite':
        checker.path_value(path + ('sqlite', 'path'), value['sqlite']['path'])
        checker.boolean(path + ('sqlite', 'write_ahead_log'), value['sqlite']['write_ahead_log'])
        raw_postgres = raw.get('postgres') if is_mapping(raw) else None
        if is_mapping(raw_postgres) and any(raw_postgres.get(key) is not None for key in ('host', 'name', 'user', 'password')):
            checker.add(path + ('postgres',), 'set, but type is sqlite (set type: postgres, or remove it)')
        return
    postgres = value['postgres']
    host = postgres['host']
    if host is None:
        checker.add(path + ('postgres', 'host'), 'required with type postgres (a host name, an IP address or the directory of a unix socket)')
    elif not (isinstance(host, str) and host.startswith('/') and _path_problem(host) is None):
        try:
            ipaddress.ip_address(host if isinstance(host, str) else '-')
        except ValueError:
            problem = host_name_problem(host)
            if problem:
                checker.add(path + ('postgres', 'host'), problem)
    check_int(checker.errors, checker.where(*(path + ('postgres', 'port'))), postgres['port'], 1, 65535, allow_none=True)
    for key in ('name', 'user'):
        if postgres[key] is None:
            checker.add(path + ('postgres', key), 'required with type postgres')
        else:
            checker.text(path + ('postgres', key), postgres[key])
    checker.text(path + ('postgres', 'password'), postgres['password'], allow_none=True, secret=True)
    ssl = postgres['ssl']
    if ssl is not None and not isinstance(ssl, bool) and ssl not in POSTGRES_SSL_MODES:
        checker.add(path + ('postgres', 'ssl'), '%r must be true, false or an sslmode (%s)' % (ssl, ', '.join(POSTGRES_SSL_MODES)))


def _check_dns(checker, raw, value, server_host):
    path = ('headscale_dns',)
    if checker.mapping(path, raw, tuple(SERVER_DEFAULTS['headscale_dns']), removed_in='headscale_dns') and is_mapping(raw):
        checker.mapping(path + ('nameservers',), raw.get('nameservers'), tuple(SERVER_DEFAULTS['headscale_dns']['nameservers']))
    for key in ('magic_dns', 'override_local_dns'):
        checker.boolean(path + (key,), value[key])
    base_domain = value['base_domain']
    if base_domain is not None:
        problem = _dns_name_problem(base_domain)
        if problem:
            checker.add(path + ('base_domain',), problem)
            base_domain = None
    if base_domain is not None and server_host is not None:
        base, server = base_domain.lower(), server_host.lower().rstrip('.')
        relation = 'the host' if server == base else 'a parent domain of the host' if server.endswith('.' + base) else None
        if relation:
            checker.add(path + ('base_domain',), '%s is %s of headscale_server_url (%s): the tailnet would take that name over and clients would '
                                                 'lose the server and its DERP relay (headscale refuses to start); use a domain of its own, '
                                                 'such as tailnet.%s' % (base_domain, relation, server, base))
    if value['magic_dns'] is True and value['base_domain'] is None:
        checker.add(path + ('base_domain',), 'required with magic_dns: true (headscale refuses to start without it): a domain for the nodes\' '
                                             'names that is not the server\'s, such as tailnet.example.org; or set magic_dns: false')
    nameservers = value['nameservers'] if is_mapping(value['nameservers']) else {'global': [], 'split': {}}
    where = path + ('nameservers', 'global')
    global_servers = list_value(checker.errors, checker.where(*where), nameservers['global'], 'nameservers')
    for item in global_servers:
        problem = _nameserver_problem(item)
        if problem:
            checker.add(where, problem)
    if value['override_local_dns'] is True and not global_servers:
        checker.add(path + ('override_local_dns',), 'true needs nameservers.global (headscale refuses to start otherwise)')
    split = nameservers['split']
    if not is_mapping(split):
        checker.add(path + ('nameservers', 'split'), 'must be a mapping of domain to nameservers, got %s' % type_name(split))
        split = {}
    for domain in sorted(split, key=str):
        where = path + ('nameservers', 'split', domain)
        problem = _dns_name_problem(domain)
        if problem:
            checker.add(path + ('nameservers', 'split'), problem)
        servers = list_value(checker.errors, checker.where(*where), split[domain], 'nameservers')
        if not servers:
            checker.add(where, 'needs at least one nameserver')
        for item in servers:
            problem = _nameserver_problem(item)
            if problem:
                checker.add(where, problem)
    for domain in list_value(checker.errors, checker.where(*(path + ('search_domains',))), value['search_domains'], 'DNS names'):
        problem = _dns_name_problem(domain)
        if problem:
            checker.add(path + ('search_domains',), problem)
    records = list_value(checker.errors, checker.where(*(path + ('extra_records',))), value['extra_records'], 'records')
    for index, record in enumerate(records):
        _check_extra_record(checker, path + ('extra_records[%d]' % index,), record)
    if value['extra_records_path'] is not None and checker.path_value(path + ('extra_records_path',), value['extra_records_path']) and records:
        checker.add(path + ('extra_records_path',), 'cannot be used together with extra_records (headscale refuses to start); choose one')


def _check_extra_record(checker, path, record):
    if not is_mapping(record):
        checker.add(path, 'must be a mapping (name, type, value), got %s' % type_name(record))
        return
    check_known_keys(checker.errors, checker.where(*path), record, EXTRA_RECORD_KEYS)
    problem = _dns_name_problem(record.get('name'))
    if problem:
        checker.add(path + ('name',), problem)
    record_type = record.get('type')
    if not check_choice(checker.errors, checker.where(*(path + ('type',))), record_type, RECORD_TYPES):
        return
    address = record.get('value')
    try:
        ip = ipaddress.ip_address(address if isinstance(address, str) else '-')
    except ValueError:
        ip = None
    if ip is None or ip.version != (4 if record_type == 'A' else 6):
        checker.add(path + ('value',), '%r is not an %s address (type %s)' % (address, 'IPv4' if record_type == 'A' else 'IPv6', record_type))


def _check_tls(checker, raw, value, server_host):
    path = ('headscale_tls',)
    checker.mapping(path, raw, tuple(SERVER_DEFAULTS['headscale_tls']))
    mode = value['mode']
    if not check_choice(checker.errors, checker.where('headscale_tls', 'mode'), mode, TLS_MODES):
        return
    for key in TLS_FILE_KEYS + TLS_LETSENCRYPT_KEYS:
        wanted = 'files' if key in TLS_FILE_KEYS else 'letsencrypt'
        if value[key] is not None and mode != wanted:
            checker.add(path + (key,), 'only with mode %s (mode is %s)' % (wanted, mode))
    if mode == 'files':
        # Both or the defaults: a key without its certificate would silently turn TLS off.
        given = [key for key in TLS_FILE_KEYS if value[key] is not None]
        if len(given) == 1:
            other = 'key_path' if given[0] == 'cert_path' else 'cert_path'
            checker.add(path + (other,), 'required together with %s (a certificate and its key)' % given[0])
        for key in given:
            checker.path_value(path + (key,), value[key])
    elif mode == 'letsencrypt':
        hostname = value['letsencrypt_hostname']
        if hostname is not None:
            problem = _dns_name_problem(hostname)
            if problem:
                checker.add(path + ('letsencrypt_hostname',), problem)
            elif server_host is not None and hostname.lower() != server_host.lower():
                checker.add(path + ('letsencrypt_hostname',), '%s is not the host of headscale_server_url (%s), the name clients check the '
                                                              'certificate for' % (hostname, server_host))
        elif server_host is not None and host_name_problem(server_host) is not None:
            checker.add(path + ('letsencrypt_hostname',), 'required: the host of headscale_server_url (%s) is not a DNS name' % server_host)
        if value['letsencrypt_challenge_type'] is not None:
            check_choice(checker.errors, checker.where('headscale_tls', 'letsencrypt_challenge_type'), value['letsencrypt_challenge_type'],
                         CHALLENGE_TYPES)
        checker.path_value(path + ('letsencrypt_cache_dir',), value['letsencrypt_cache_dir'], allow_none=True)
        if value['acme_url'] is not None:
            problem = _url_host(value['acme_url'])[1]
            if problem:
                checker.add(path + ('acme_url',), problem)
        email = value['acme_email']
        if email is not None and not (isinstance(email, str) and '@' in email and not any(char.isspace() for char in email)):
            checker.add(path + ('acme_email',), '%r is not an e-mail address' % (email,))


def _check_oidc(checker, value, version):
    path = ('headscale_oidc',)
    if value is None:
        return False
    if not checker.mapping(path, value, OIDC_KEYS, removed_in='headscale_oidc'):
        return False
    if value.get('issuer') is None:
        checker.add(path + ('issuer',), 'required (the https:// URL of the identity provider)')
    else:
        problem = _url_host(value['issuer'])[1]
        if problem is None and urlsplit(value['issuer'].strip()).query:
            problem = 'must not have a query'
        if problem:
            checker.add(path + ('issuer',), problem)
    if value.get('client_id') is None:
        checker.add(path + ('client_id',), 'required')
    else:
        checker.text(path + ('client_id',), value['client_id'])
    if value.get('client_secret') is not None:
        checker.text(path + ('client_secret',), value['client_secret'], secret=True)
        if value.get('client_secret_path') is not None:
            checker.add(path + ('client_secret',), 'cannot be used together with client_secret_path (headscale refuses to start); choose one '
                                                   '(client_secret_path keeps the secret in a file of its own)')
    secret_path = value.get('client_secret_path')
    if secret_path is not None and not (isinstance(secret_path, str) and secret_path.startswith('${CREDENTIALS_DIRECTORY}/')):
        checker.path_value(path + ('client_secret_path',), secret_path)
    for key in ('only_start_if_oidc_is_available', 'use_expiry_from_token', 'email_verified_required'):
        checker.boolean(path + (key,), value.get(key), allow_none=True)
    if value.get('email_verified_required') is not None and not _since(version, 28):
        checker.add(path + ('email_verified_required',), 'arrived in headscale 0.28; %s ignores it (leave it out)' % _series(version))
    scope = value.get('scope')
    if scope is not None:
        scopes = list_value(checker.errors, checker.where(*(path + ('scope',))), scope, 'scopes')
        if is_list(scope) and 'openid' not in scopes:
            checker.add(path + ('scope',), 'must include openid')
        for item in scopes:
            if not isinstance(item, str) or not item or any(char.isspace() for char in item):
                checker.add(path + ('scope',), '%r is not a scope name' % (item,))
    extra_params = value.get('extra_params')
    if extra_params is not None and not (is_mapping(extra_params) and all(isinstance(key, str) and isinstance(item, str)
                                                                          for key, item in extra_params.items())):
        checker.add(path + ('extra_params',), 'must be a mapping of parameter name to text')
    for domain in list_value(checker.errors, checker.where(*(path + ('allowed_domains',))), value.get('allowed_domains'), 'domains'):
        problem = _dns_name_problem(domain)
        if problem:
            checker.add(path + ('allowed_domains',), problem)
    for key in ('allowed_users', 'allowed_groups'):
        for item in list_value(checker.errors, checker.where(*(path + (key,))), value.get(key), 'names'):
            if not isinstance(item, str) or not item:
                checker.add(path + (key,), '%r must be a non-empty string' % (item,))
    pkce = value.get('pkce')
    if checker.mapping(path + ('pkce',), pkce, PKCE_KEYS) and is_mapping(pkce):
        checker.boolean(path + ('pkce', 'enabled'), pkce.get('enabled'), allow_none=True)
        if pkce.get('method') is not None:
            check_choice(checker.errors, checker.where('headscale_oidc', 'pkce', 'method'), pkce['method'], PKCE_METHODS)
    return True


def _check_lifetimes(checker, variables, version, oidc):
    expiry = variables['headscale_node_expiry']
    if expiry is not None:
        try:
            if is_int(expiry) and expiry == 0:
                expiry = '0'
            model_duration_seconds(expiry)
            valid = True
        except ValueError:
            checker.add(('headscale_node_expiry',), '%r is not a duration such as 180d, 12h or 0 (never); headscale would silently use '
                                                    'no expiry' % (expiry,))
            valid = False
        if valid and not _since(version, 29) and not oidc:
            checker.add(('headscale_node_expiry',), 'needs headscale 0.29 or headscale_oidc: before 0.29, headscale only sets an expiry '
                                                    'for nodes that log in with OIDC (oidc.expiry)')
    if variables['headscale_ephemeral_inactivity_timeout'] is not None:
        checker.go_duration(('headscale_ephemeral_inactivity_timeout',), variables['headscale_ephemeral_inactivity_timeout'],
                            minimum=MINIMUM_INACTIVITY_SECONDS)


def _flatten(mapping, prefix=''):
    """(dotted path, value) of every leaf of a nested mapping (free mappings such as dns.nameservers.split count as leaves)."""
    leaves = []
    for key in sorted(mapping, key=str):
        path = prefix + str(key)
        value = mapping[key]
        if is_mapping(value) and path not in _FREE_MAPPINGS:
            leaves.extend(_flatten(value, path + '.'))  # an empty mapping changes nothing
        else:
            leaves.append((path, value))
    return leaves


def _matching_prefix(table, path):
    """The key of table that is path or one of its parents, or None."""
    parts = path.split('.')
    for length in range(1, len(parts) + 1):
        candidate = '.'.join(parts[:length])
        if candidate in table:
            return candidate
    return None


def _setting_versions(path):
    first, last = _EXTRA_SETTINGS[path]
    return '0.%d to 0.%d' % (first, last) if last is not None else '0.%d on' % first


def _check_extra_config(checker, value, version):
    """Every key of headscale_extra_config: removed upstream, set by a role variable, a secret, not read by the version, or its value."""
    path = ('headscale_extra_config',)
    if value is None:
        return
    if not is_mapping(value):
        checker.add(path, 'must be a mapping (merged into config.yaml), got %s' % type_name(value))
        return
    reported = set()
    values = {}
    for leaf, item in _flatten(value):
        removed = _matching_prefix(_REMOVED_KEYS, leaf)
        if removed and _since(version, _REMOVED_KEYS[removed][0]):
            if removed not in reported:
                checker.add(path + (removed,), _REMOVED_KEYS[removed][1])
            reported.add(removed)
            continue
        managed = _matching_prefix(_MANAGED, leaf)
        if managed:
            if managed not in reported:
                checker.add(path + (managed,), 'set by %s; set it there' % _MANAGED[managed])
            reported.add(managed)
            continue
        if leaf == 'cli.api_key':
            checker.add(path + (leaf,), 'a secret, which never goes into config.yaml (the CLI on the server uses the unix socket, no key needed)')
            continue
        if leaf in _EXTRA_SETTINGS:
            first, last = _EXTRA_SETTINGS[leaf]
            if _since(version, first) and (last is None or not _since(version, last + 1)):
                values[leaf] = item
            else:
                checker.add(path + (leaf,), 'not read by headscale %s, which would silently ignore it (read by %s)'
                            % (_series(version), _setting_versions(leaf)))
            continue
        section = [key.split('.')[len(leaf.split('.'))] for key in sorted(_EXTRA_SETTINGS) if key.startswith(leaf + '.')]
        if section:
            checker.add(path + (leaf,), 'must be a mapping (keys: %s), got %s' % (', '.join(sorted(set(section))), type_name(item)))
        else:
            checker.add(path + (leaf,), 'not a headscale setting; headscale would silently ignore it (misspelt?)')
    _check_extra_values(checker, values)


def _check_extra_values(checker, values):
    """The values of settings headscale checks at startup, and plain types."""
    def where(key):
        return ('headscale_extra_config', key)
    for key in _EXTRA_BOOLEANS:
        if key in values:
            checker.boolean(where(key), values[key])
    for key in _EXTRA_PATHS:
        if key in values:
            checker.path_value(where(key), values[key])
    if 'log.format' in values:
        check_choice(checker.errors, checker.where(*where('log.format')), values['log.format'], ('text', 'json'))
    permission = values.get('unix_socket_permission')
    if 'unix_socket_permission' in values and not (isinstance(permission, str) and re.match(r'^0?[0-7]{3}$', permission)):
        checker.add(where('unix_socket_permission'), '%r must be an octal mode in quotes, such as "0770"' % (permission,))
    if 'trusted_proxies' in values:
        for proxy in list_value(checker.errors, checker.where(*where('trusted_proxies')), values['trusted_proxies'], 'CIDR prefixes'):
            try:
                network = ipaddress.ip_network(proxy if isinstance(proxy, str) else '-', strict=False)
            except ValueError:
                checker.add(where('trusted_proxies'), '%r is not a CIDR prefix' % (proxy,))
                continue
            if network.prefixlen == 0:
                checker.add(where('trusted_proxies'), '%s would trust every address (headscale refuses to start)' % proxy)
    if 'node.routes.ha.probe_interval' in values or 'node.routes.ha.probe_timeout' in values:
        interval = checker.go_duration(where('node.routes.ha.probe_interval'), values.get('node.routes.ha.probe_interval', '10s'))
        timeout = checker.go_duration(where('node.routes.ha.probe_timeout'), values.get('node.routes.ha.probe_timeout', '5s'))
        if interval and timeout is not None:
            if interval < 2:
                checker.add(where('node.routes.ha.probe_interval'), 'must be 2s or more, or 0 to turn probing off (headscale refuses to start)')
            if timeout < 1 or timeout >= interval:
                checker.add(where('node.routes.ha.probe_timeout'), 'must be 1s or more and shorter than the probe interval '
                                                                   '(headscale refuses to start)')
    for key in ('tuning.node_store_batch_size',):
        if key in values:
            check_int(checker.errors, checker.where(*where(key)), values[key], 1, 2 ** 31 - 1)


def check_server(errors, host, variables):
    """Append every problem of one host's server_variables() to errors; nothing else is checked for headscale_state absent.

    Version-dependent checks use headscale_version (DEFAULT_VERSION when it is invalid, which is reported).
    Messages start with 'host <host>: <variable>[.<key>]: ' and never hold a secret's value.
    """
    checker = _Checker(errors, host, None)
    if not _check_state(checker, variables['headscale_state']):
        return
    version = checker.version = _check_version(errors, host, variables['headscale_version'])
    values = settings(variables)
    server_host = _check_server_url(checker, variables)
    _check_listen_addresses(checker, variables, version, values['headscale_tls'])
    if checker.mapping(('headscale_prefixes',), variables['headscale_prefixes'], tuple(SERVER_DEFAULTS['headscale_prefixes'])):
        _check_prefixes(checker, values['headscale_prefixes'])
    _check_derp(checker, variables['headscale_derp'], values['headscale_derp'], version)
    _check_database(checker, variables['headscale_database'], values['headscale_database'])
    _check_dns(checker, variables['headscale_dns'], values['headscale_dns'], server_host)
    _check_tls(checker, variables['headscale_tls'], values['headscale_tls'], server_host)
    oidc = _check_oidc(checker, variables['headscale_oidc'], version)
    _check_lifetimes(checker, variables, version, oidc)
    if variables['headscale_policy_path'] is not None:
        checker.path_value(('headscale_policy_path',), variables['headscale_policy_path'])
    if variables['headscale_log_level'] is not None:
        check_choice(errors, checker.where('headscale_log_level'), variables['headscale_log_level'], LOG_LEVELS)
    _check_extra_config(checker, variables['headscale_extra_config'], version)


def validate(hostvars, groups, undefined=()):
    """Every problem of the headscale servers' variables, as a list of messages ([] when valid).

    Reads every host of group headscale_servers from hostvars (Ansible's, or host -> variables) with
    the role's defaults; undefined: see read_host_variables. Each message starts with 'host <name>'
    (or 'all') and names the variable; secrets are never shown.
    """
    if not is_mapping(groups):
        return ['all: groups: must be a mapping of group name to hosts, got %s' % type_name(groups)]
    errors = []
    servers = read_servers(hostvars, groups, undefined)
    urls = {}
    for host in sorted(servers):
        variables = servers[host]
        check_server(errors, host, variables)
        url = server_url(variables, host)
        if variables['headscale_state'] != 'absent' and isinstance(url, str):
            urls.setdefault(url.strip().rstrip('/').lower(), []).append(host)
    for url, hosts in sorted(urls.items()):
        for host in hosts[1:]:
            errors.append('host %s: headscale_server_url: %s is also the URL of host %s; each headscale server needs its own'
                          % (host, url, hosts[0]))
    return errors


# ---------------------------------------------------------------------------------------------
# config.yaml
# ---------------------------------------------------------------------------------------------

def _deep_merge(base, extra):
    """base with extra merged in: mappings merge key by key, anything else in extra replaces base's value."""
    result = dict(base)
    for key, value in extra.items():
        if is_mapping(value) and not value:
            continue  # an empty mapping changes nothing (and _check_extra_config does not see it)
        if is_mapping(value) and is_mapping(result.get(key)):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _tls_config(tls, host_name):
    if tls['mode'] == 'files':
        return {'tls_cert_path': tls['cert_path'] or DEFAULT_CERT_PATH, 'tls_key_path': tls['key_path'] or DEFAULT_KEY_PATH}
    if tls['mode'] == 'letsencrypt':
        config = {}
        if tls['acme_url'] is not None:
            config['acme_url'] = tls['acme_url']
        if tls['acme_email'] is not None:
            config['acme_email'] = tls['acme_email']
        config.update({
            'tls_letsencrypt_hostname': tls['letsencrypt_hostname'] or host_name,
            'tls_letsencrypt_cache_dir': tls['letsencrypt_cache_dir'] or '/var/lib/headscale/cache',
            'tls_letsencrypt_challenge_type': tls['letsencrypt_challenge_type'] or 'HTTP-01',
            'tls_letsencrypt_listen': tls['letsencrypt_listen'] or ':http',
        })
        return config
    return {}


def _derp_config(derp):
    server = derp['server']
    embedded = {
        'enabled': server['enabled'],
        'region_id': server['region_id'],
        'region_code': server['region_code'],
        'region_name': server['region_name'],
    }
    if server['verify_clients'] is not None:
        embedded['verify_clients'] = server['verify_clients']
    embedded.update({
        'stun_listen_addr': server['stun_listen_address'],
        'private_key_path': DERP_KEY_PATH,
        'automatically_add_embedded_derp_region': server['automatically_add_embedded_derp_region'],
    })
    for key in ('ipv4', 'ipv6'):
        if server[key] is not None:
            embedded[key] = server[key]
    config = {'server': embedded, 'urls': list(derp['urls']), 'paths': list(derp['paths']), 'auto_update_enabled': derp['auto_update']}
    if derp['update_frequency'] is not None:
        config['update_frequency'] = derp['update_frequency']
    return config


def _database_config(database):
    if database['type'] == 'sqlite':
        return {'type': 'sqlite', 'sqlite': {'path': database['sqlite']['path'], 'write_ahead_log': database['sqlite']['write_ahead_log']}}
    postgres = database['postgres']
    config = {'host': postgres['host']}
    if postgres['port'] is not None:
        config['port'] = postgres['port']
    config.update({'name': postgres['name'], 'user': postgres['user']})
    if postgres['ssl'] is not None:
        config['ssl'] = postgres['ssl']
    # The password goes to the service's environment (secret_environment()), never here.
    return {'type': 'postgres', 'postgres': config}


def _dns_config(dns):
    config = {
        'magic_dns': dns['magic_dns'],
        'base_domain': dns['base_domain'] or '',
        'override_local_dns': dns['override_local_dns'],
        'nameservers': {'global': list(dns['nameservers']['global']), 'split': copy.deepcopy(dns['nameservers']['split'])},
        'search_domains': list(dns['search_domains']),
    }
    # headscale refuses extra_records next to extra_records_path even when the list is empty: write one of them at most.
    if dns['extra_records_path'] is not None:
        config['extra_records_path'] = dns['extra_records_path']
    elif dns['extra_records']:
        config['extra_records'] = [{'name': record['name'], 'type': record['type'], 'value': record['value']} for record in dns['extra_records']]
    return config


def _oidc_config(oidc, expiry, version):
    config = {}
    for key in OIDC_KEYS:
        if key == 'client_secret' or oidc.get(key) is None:
            continue  # an inline client secret goes to the service's environment (secret_environment())
        config[key] = copy.deepcopy(oidc[key])
    if expiry is not None and not _since(version, 29):
        config['expiry'] = str(expiry)
    return config


def config_for(variables, host, version=None):
    """The content of /etc/headscale/config.yaml (a dict) for one host's server_variables() that passed check_server.

    version: the headscale version (text or tuple) to write for; default headscale_version. Keys are
    named as that version's config-example.yaml names them. headscale_extra_config is merged in last.
    The result holds paths to secret files, never a secret.
    """
    version = _version(variables['headscale_version'] if version is None else version)
    values = settings(variables)
    url = server_url(variables, host)
    host_name = urlsplit(url.strip()).hostname
    config = {
        'server_url': url,
        'listen_addr': variables['headscale_listen_address'],
    }
    if variables['headscale_metrics_listen_address'] is not None:
        config['metrics_listen_addr'] = variables['headscale_metrics_listen_address']
    config.update({
        'grpc_listen_addr': variables['headscale_grpc_listen_address'],
        'grpc_allow_insecure': False,
        'noise': {'private_key_path': NOISE_KEY_PATH},
        'prefixes': dict((key, values['headscale_prefixes'][key]) for key in ('v4', 'v6', 'allocation')
                         if values['headscale_prefixes'][key] is not None),
        'derp': _derp_config(values['headscale_derp']),
        'disable_check_updates': True,
    })
    expiry = variables['headscale_node_expiry']
    timeout = variables['headscale_ephemeral_inactivity_timeout']
    if _since(version, 29):
        node = {}
        if expiry is not None:
            node['expiry'] = str(expiry)
        if timeout is not None:
            node['ephemeral'] = {'inactivity_timeout': timeout}
        if node:
            config['node'] = node
    elif timeout is not None:
        config['ephemeral_node_inactivity_timeout'] = timeout
    config['database'] = _database_config(values['headscale_database'])
    config.update(_tls_config(values['headscale_tls'], host_name))
    if variables['headscale_log_level'] is not None:
        config['log'] = {'level': variables['headscale_log_level']}
    config['policy'] = {'mode': 'file', 'path': variables['headscale_policy_path'] or ''}
    config['dns'] = _dns_config(values['headscale_dns'])
    config.update({'unix_socket': UNIX_SOCKET, 'unix_socket_permission': '0770'})
    if variables['headscale_oidc'] is not None:
        config['oidc'] = _oidc_config(variables['headscale_oidc'], expiry, version)
    config['logtail'] = {'enabled': False}
    return _deep_merge(config, values['headscale_extra_config'])


def secret_environment(variables):
    """Environment variable -> secret for the headscale service (a 0600 EnvironmentFile, written with no_log): the postgres
    password and an inline OIDC client secret, which headscale reads from the environment as well as from config.yaml.

    {} when there is neither. For server_variables() that passed check_server.
    """
    environment = {}
    database = settings(variables)['headscale_database']
    if database['type'] == 'postgres' and database['postgres']['password'] is not None:
        environment[POSTGRES_PASSWORD_ENV] = database['postgres']['password']
    oidc = variables['headscale_oidc']
    if is_mapping(oidc) and oidc.get('client_secret') is not None:
        environment[OIDC_CLIENT_SECRET_ENV] = oidc['client_secret']
    return environment
