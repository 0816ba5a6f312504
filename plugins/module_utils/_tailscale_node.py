# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The local `tailscale` CLI as overlaynet.vpn.tailscale_node drives it on a node (Tailscale 1.80
# and later; written against 1.102): the checks of the options, the JSON it prints, what to do
# about it, the command lines, and the module run. The CLI talks to the running tailscaled over
# its unix socket (/var/run/tailscale/tailscaled.sock, or the root flag --socket).
#
# Upstream read (github.com/tailscale/tailscale at v1.102.3, the newest 1.102 tag of the
# snapshot, and v1.80.0 for the oldest supported CLI): cmd/tailscale/cli/{cli,up,set,status,
# logout,debug,risks}.go, ipn/prefs.go, ipn/ipnstate/ipnstate.go, ipn/ipnlocal/local.go (Start,
# Logout, updateStatusLocked), net/netutil/routes.go, net/tsaddr/tsaddr.go, util/dnsname,
# tailcfg.CheckTag; and github.com/juanfont/headscale v0.29.2 hscontrol/auth.go for what the
# server does with the register requests.
#
# What the module relies on:
# - `tailscale status --json` prints ipnstate.Status (json.MarshalIndent, Go field names):
#   BackendState ("NoState", "NeedsLogin", "NeedsMachineAuth", "Stopped", "Starting",
#   "Running"), HaveNodeKey (omitempty: missing when false; the node is logged in), TailscaleIPs,
#   Self (a PeerStatus: HostName, DNSName with its final dot, TailscaleIPs, Tags (omitempty),
#   Expired (omitempty: control says the node key expired)), CurrentTailnet (null until a netmap
#   arrives). --peers=false (StatusWithoutPeers) leaves out the peers, which this module does not
#   need. Self is always there; without a netmap its DNSName is "" and HostName the OS's.
# - `tailscale debug prefs` prints ipn.Prefs, tab-indented, with the private keys of its
#   "Config" (persist.Persist) zeroed by tailscaled: ControlURL, RouteAll (--accept-routes),
#   CorpDNS (--accept-dns), WantRunning, LoggedOut, AdvertiseTags (null when none), Hostname (""
#   when the OS's is used), AdvertiseRoutes (null or prefixes as text). An exit node is advertised
#   when AdvertiseRoutes holds both 0.0.0.0/0 and ::/0 (tsaddr.ContainsExitRoutes); --advertise-routes
#   is AdvertiseRoutes without them.
# - `tailscale up --reset FLAGS` sets every setting: those not given go back to their defaults,
#   so that up never fails with "requires mentioning all non-default flags". With an auth key it
#   logs in with it (--auth-key file:PATH: the CLI reads the file, the key is on no command line).
#   It waits for the Running state for at most --timeout and then fails with "timeout waiting for
#   Tailscale service to enter a Running state". On a Running node it refuses another
#   --login-server without --force-reauth; with --force-reauth it makes a new node key and logs
#   in with it (through the auth key), but asks on the terminal first when the SSH connection it
#   runs in comes over Tailscale, and without a terminal gives up: "aborted, no changes made".
#   Other tags than those logged in with (AdvertiseTags) also take a new login (not just an edit
#   of the prefs): headscale re-registers a known node key sent with an auth key
#   (handleRegisterWithAuthKey), so the same server needs no --force-reauth for that.
# - `up` without a key on a node that is logged in but stopped (WantRunning false, state
#   Stopped) starts it with the node key it has: tailscaled's Start logs in again with that key
#   (headscale answers a known, unexpired node key without auth with the node as it is). When the
#   server has expired or deleted the node, it answers with an auth URL instead; `up` prints "To
#   authenticate, visit" and waits until --timeout. Then a pre-auth key is needed.
# - `tailscale set --flag=value` changes only the settings given, on a node in any state:
#   --advertise-routes alone keeps whether the exit node is advertised, --advertise-exit-node
#   alone keeps the other routes (set.go calcAdvertiseRoutesForSet); an empty
#   --advertise-routes= clears them.
# - `tailscale logout` expires the node key on the server and deletes the login profile; it
#   does nothing (and succeeds) without a node key.
# - Errors go to stderr and the CLI exits 1; `up` and `set` print warnings (IP forwarding off,
#   health) on stdout. The CLI itself replaces tskey-... keys in what it prints.
#
# Secrets: the pre-auth key only, which this module never reads (the CLI reads its file). What
# the CLI prints is quoted with anything that looks like a key (tskey-..., hskey-auth-..., 48 hex
# digits) replaced; the prefs JSON (stdout) is never quoted.

import ipaddress
import json
import math
import os
import re
import time
from urllib.parse import urlsplit

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import normalise_networks, parse_cidr_list
from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import is_executable_file
from ansible_collections.overlaynet.vpn.plugins.module_utils._secrets import scrub_secrets
from ansible_collections.overlaynet.vpn.plugins.module_utils._systemd_service import SystemdService
from ansible_collections.overlaynet.vpn.plugins.module_utils._tailnet_names import KEY_TEXT, tag_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import remove_if_present, write_temporary_file
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import check_int, dedupe, is_list, is_mapping, type_name

EXECUTABLE = 'tailscale'
STATES = ('present', 'absent')
DEFAULT_TIMEOUT = 60
MAX_TIMEOUT = 3600
ERROR_LINES = 10

# ipn.State names (ipnstate.Status.BackendState).
NO_STATE = 'NoState'
NEEDS_LOGIN = 'NeedsLogin'
NEEDS_MACHINE_AUTH = 'NeedsMachineAuth'
# The states of a tailscaled that has just (re)started with a node key and has no netmap yet
# (so no tailnet addresses): a reading then is waited out, at most SETTLE_TIMEOUT_SECONDS.
SETTLING_STATES = (NO_STATE, 'Starting')
SETTLE_TIMEOUT_SECONDS = 30.0
SETTLE_POLL_SECONDS = 0.5

EXIT_ROUTES = (ipaddress.ip_network('0.0.0.0/0'), ipaddress.ip_network('::/0'))

# The settings of the module, as returned in `settings` and shown in diffs, in this order.
SETTINGS = ('login_server', 'hostname', 'advertise_tags', 'advertise_routes', 'advertise_exit_node', 'accept_routes', 'accept_dns')
# Those `tailscale set` changes on a node that is logged in, with their flags.
SET_FLAGS = (('hostname', 'hostname'), ('advertise_routes', 'advertise-routes'), ('advertise_exit_node', 'advertise-exit-node'),
             ('accept_routes', 'accept-routes'), ('accept_dns', 'accept-dns'))

# A Tailscale key (also as the CLI masks it), or a headscale pre-auth key of 0.28+ or of 0.26/0.27.
KEY_SHAPED = re.compile(r'tskey-[A-Za-z0-9_*-]+|' + KEY_TEXT.pattern)
_LABEL = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$')

# What the CLI says, for the hints of the messages (cmd/tailscale/cli/up.go, risks.go, cli.go).
UP_TIMEOUT_TEXT = 'timeout waiting for Tailscale service to enter a Running state'
AUTH_URL_TEXT = 'To authenticate, visit'
ABORTED_TEXT = 'aborted, no changes made'
# A join or logout that failed because the control server was not reached: its name did not
# resolve or its key could not be fetched. A join used nothing up (a single-use pre-auth key still
# holds) and runs again until the timeout. A logout runs again too, but may have logged the node
# out locally before it failed: the next try then finds no node key (LOGGED_OUT_LOCALLY_TEXT).
CONTROL_UNREACHABLE_TEXTS = ('fetch control key', 'failed to resolve')
LOGGED_OUT_LOCALLY_TEXT = 'no nodekey to log out'
ZERO_NODE_KEY = 'nodekey:' + '0' * 64
# tailscaled's own lookups (the control server's name, for a logout too) go through Go's resolver,
# which reads /etc/resolv.conf again at most every 5 seconds (net/dnsclient_unix.go, tryUpdate).
# While tailscaled's DNS is in charge the file names its own resolver, which a logout tears down.
RESOLV_CONF = '/etc/resolv.conf'
TAILSCALE_RESOLVER = '100.100.100.100'
GO_RESOLV_CONF_RECHECK_SECONDS = 5.0
HOST_DNS_TIMEOUT_SECONDS = 10.0
CONTROL_RETRY_SECONDS = 2.0
# tailscaled not reached: status and up (diag.go fixTailscaledConnectErrorImpl), the other commands (client/local/local.go).
NOT_RUNNING_TEXTS = ('failed to connect to local tailscaled', 'failed to connect to local Tailscaled',
                     'Failed to connect to local Tailscale daemon')


class TailscaleCLIError(Exception):
    """A failed or unreadable tailscale command; the message quotes no stdout and no key."""

    def __init__(self, message, rc=None):
        super(TailscaleCLIError, self).__init__(message)
        self.message = message
        self.rc = rc


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------

def login_server_problem(url):
    """Why url is no login server this module takes (an https URL with a host, no user, query or fragment), None when it is."""
    if not isinstance(url, str) or not url:
        return 'must be an https URL such as https://headscale.example.org, got %r' % (url,)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return '%r is not a URL' % url
    if parts.scheme.lower() != 'https':
        return '%r is not an https URL (tailscale talks to its control server over TLS)' % url
    if not parts.hostname:
        return '%r has no host' % url
    if parts.username is not None or parts.password is not None:
        return '%r must not hold a user or password' % url
    if parts.query or parts.fragment or url.endswith(('?', '#')):
        return '%r must not hold a query or fragment' % url
    if any(char.isspace() for char in url):
        return '%r must not hold white space' % url
    if port == 0:
        return '%r: port 0 is no port' % url
    return None


def normalize_login_server(url):
    """url in one spelling for comparisons: scheme and host lower case, no :443, no final "/"; None for ''/None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or '').lower()
    if ':' in host:
        host = '[%s]' % host
    if port is not None and not (parts.scheme.lower() == 'https' and port == 443):
        host = '%s:%d' % (host, port)
    return '%s://%s%s' % (parts.scheme.lower(), host, parts.path.rstrip('/'))


def hostname_problem(name):
    """Why name is no host name tailscale takes as --hostname (one DNS label), None when it is."""
    if not isinstance(name, str):
        return 'must be a string (a DNS label), got %s' % type_name(name)
    if not _LABEL.match(name):
        return ('%r is not a DNS label (1 to 63 letters, digits and "-", starting and ending with a letter or digit; '
                'no dots)' % name)
    return None


def check_options(params):
    """(wanted settings, problems) of the module's options; every problem names its option.

    wanted: {login_server, hostname, advertise_tags (sorted), advertise_routes (canonical, sorted),
    advertise_exit_node, accept_routes, accept_dns, key_tags (sorted, or None), rejoin}. login_server is checked when given (it is
    required for state present by the argument spec).
    """
    problems = []
    login_server = params.get('login_server')
    if login_server is not None:
        problem = login_server_problem(login_server)
        if problem:
            problems.append('login_server: %s' % problem)
    hostname = params.get('hostname')
    if hostname is not None:
        problem = hostname_problem(hostname)
        if problem:
            problems.append('hostname: %s' % problem)
    tags = params.get('advertise_tags') or []
    for index, tag in enumerate(tags):
        problem = tag_problem(tag)
        if problem:
            problems.append('advertise_tags[%d]: %s' % (index, problem))
    key_tags = params.get('key_tags')
    for index, tag in enumerate(key_tags or []):
        problem = tag_problem(tag)
        if problem:
            problems.append('key_tags[%d]: %s' % (index, problem))
    if key_tags is not None and tags:
        problems.append('advertise_tags: leave it empty with key_tags (headscale 0.29 refuses a login with a pre-auth key that also asks for tags)')
    routes = []
    route_problems = []
    networks = parse_cidr_list(route_problems, 'advertise_routes', params.get('advertise_routes') or [])
    problems.extend(route_problems)
    for network in networks:
        if network in EXIT_ROUTES:
            problems.append('advertise_routes: %s is an exit route; set advertise_exit_node to true instead' % network)
        else:
            routes.append(str(network))
    timeout_problems = []
    check_int(timeout_problems, 'timeout', params.get('timeout'), 1, MAX_TIMEOUT)
    problems.extend(timeout_problems)
    auth_key_file = params.get('auth_key_file')
    if auth_key_file is not None and not os.path.isabs(auth_key_file):
        problems.append('auth_key_file: %r must be an absolute path (the tailscale CLI reads it)' % auth_key_file)
    auth_key = params.get('auth_key')
    if auth_key is not None and (not isinstance(auth_key, str) or not auth_key.strip() or len(auth_key.split()) != 1):
        problems.append('auth_key: must be one pre-auth key (a non-empty text without spaces or line breaks)')
    socket = params.get('socket')
    if socket is not None and not os.path.isabs(socket):
        problems.append('socket: %r must be an absolute path' % socket)
    for option in ('restart', 'daemon_reload'):
        if params.get(option) and not params.get('unit'):
            problems.append('%s: needs unit (the systemd unit of tailscaled)' % option)
    wanted = dict(
        login_server=login_server,
        hostname=hostname,
        advertise_tags=sorted(dedupe(tags)),
        advertise_routes=normalise_networks(routes) if routes else [],
        advertise_exit_node=bool(params.get('advertise_exit_node')),
        accept_routes=bool(params.get('accept_routes')),
        accept_dns=bool(params.get('accept_dns')),
        key_tags=None if key_tags is None else sorted(dedupe(key_tags)),
        rejoin=bool(params.get('rejoin')),
    )
    return wanted, problems


# ---------------------------------------------------------------------------------------------
# What the CLI prints
# ---------------------------------------------------------------------------------------------

def load_json(stdout):
    try:
        return json.loads(stdout or '')
    except ValueError:
        raise ValueError('no JSON')


def _text(mapping, key):
    value = mapping.get(key)
    return value if isinstance(value, str) else ''


def _texts(value):
    return [item for item in value if isinstance(item, str)] if is_list(value) else []


def parse_status(stdout):
    """What this module uses of `tailscale status --json`:
    {backend_state, have_node_key, node_key, tailscale_ips, dns_name (no final dot), hostname, tags, expired, approved_routes}.

    node_key: the node's public node key (Self.PublicKey, nodekey:HEX), or None.

    approved_routes: the routes the control server lets this node serve (subnet routes, and both /0 routes of an
    approved exit node): Self.AllowedIPs without the node's own addresses."""
    status = load_json(stdout)
    if not is_mapping(status):
        raise ValueError('expected a status object, got %s' % type_name(status))
    backend_state = status.get('BackendState')
    if not isinstance(backend_state, str) or not backend_state:
        raise ValueError('a status without BackendState')
    self_status = status.get('Self') if is_mapping(status.get('Self')) else {}
    ips = _texts(status.get('TailscaleIPs')) or _texts(self_status.get('TailscaleIPs'))
    return dict(
        backend_state=backend_state,
        have_node_key=status.get('HaveNodeKey') is True,
        node_key=_node_key(_text(self_status, 'PublicKey')),
        tailscale_ips=ips,
        dns_name=_text(self_status, 'DNSName').rstrip('.') or None,
        hostname=_text(self_status, 'HostName') or None,
        tags=sorted(_texts(self_status.get('Tags'))),
        expired=self_status.get('Expired') is True,
        approved_routes=_approved_routes(_texts(self_status.get('AllowedIPs')), ips),
    )


def _node_key(text):
    # A node without a key shows the zero key (key.NodePublic{} as text).
    return text if text and text != ZERO_NODE_KEY else None


def _approved_routes(allowed_ips, own_ips):
    own = set(ipaddress.ip_network(ip) for ip in own_ips)
    routes = []
    for prefix in allowed_ips:
        try:
            network = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            continue
        if network not in own:
            routes.append(network)
    return [str(network) for network in sorted(set(routes), key=lambda network: (network.version, network))]


def split_routes(prefixes):
    """(routes without the exit routes, exit node advertised) of the AdvertiseRoutes of prefs.

    Like tsaddr.ContainsExitRoutes / WithoutExitRoutes: both /0 routes make an exit node; a
    lone /0 stays among the routes.
    """
    networks = [ipaddress.ip_network(prefix, strict=False) for prefix in prefixes]
    exit_node = all(route in networks for route in EXIT_ROUTES)
    routes = [str(network) for network in networks if not (exit_node and network.prefixlen == 0)]
    return normalise_networks(routes) if routes else [], exit_node


def parse_prefs(stdout):
    """The settings of `tailscale debug prefs` (keyed as SETTINGS) and {want_running, logged_out}."""
    prefs = load_json(stdout)
    if not is_mapping(prefs):
        raise ValueError('expected a prefs object, got %s' % type_name(prefs))
    for key in ('WantRunning', 'LoggedOut', 'RouteAll', 'CorpDNS'):
        if not isinstance(prefs.get(key), bool):
            raise ValueError('prefs without a true/false %s' % key)
    try:
        routes, exit_node = split_routes(_texts(prefs.get('AdvertiseRoutes')))
    except ValueError:
        raise ValueError('prefs with an AdvertiseRoutes that is no list of prefixes')
    return dict(
        login_server=_text(prefs, 'ControlURL') or None,
        hostname=_text(prefs, 'Hostname') or None,
        advertise_tags=sorted(_texts(prefs.get('AdvertiseTags'))),
        advertise_routes=routes,
        advertise_exit_node=exit_node,
        accept_routes=prefs['RouteAll'],
        accept_dns=prefs['CorpDNS'],
        want_running=prefs['WantRunning'],
        logged_out=prefs['LoggedOut'],
    )


def settings_of(prefs):
    return dict((key, prefs[key]) for key in SETTINGS)


def scrub_keys(text):
    """text with everything that looks like a Tailscale or headscale key replaced by '(key)'."""
    return scrub_secrets(text, (), key_pattern=KEY_SHAPED)


def cli_error(stderr):
    """The last lines of what the CLI said on stderr, keys replaced; '' when it said nothing."""
    lines = [line.strip() for line in (stderr or '').splitlines() if line.strip()]
    return scrub_keys('; '.join(lines[-ERROR_LINES:]))


def cli_warnings(what, stdout):
    """The warnings `up` and `set` print on stdout (IP forwarding off, health checks), as module warnings, keys replaced.

    Several health warnings come as "# Health check warnings:" and then "#     - TEXT" lines.
    """
    warnings = []
    for line in (stdout or '').splitlines():
        line = line.strip().lstrip('#').strip()
        if line.startswith('- '):
            line = line[2:].strip()
        if line and line != 'Health check warnings:':
            warnings.append('%s: %s' % (what, scrub_keys(line)))
    return warnings


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------

def logged_in(status, prefs):
    """Whether tailscaled holds a login (a node key, not logged out), whatever its state."""
    return status['have_node_key'] and not prefs['logged_out']


def join_reason(status, prefs, wanted):
    """Why the node must log in (with a pre-auth key) to be as wanted, None when it need not."""
    if not logged_in(status, prefs):
        return 'not logged in'
    if normalize_login_server(prefs['login_server']) != normalize_login_server(wanted['login_server']):
        return 'logged in to %s, not %s' % (prefs['login_server'] or 'the default control server', wanted['login_server'])
    if wanted.get('rejoin'):
        return 'its control server no longer has it (rejoin)'
    if status['backend_state'] == NEEDS_LOGIN:
        return 'the control server wants it to log in again (its node key expired, or the node was removed there)'
    if status['expired']:
        return 'its node key has expired'
    if prefs['advertise_tags'] != wanted['advertise_tags']:
        return 'advertise_tags differ (%s now; tags are sent at login)' % (', '.join(prefs['advertise_tags']) or 'none')
    if wanted.get('key_tags') is not None and status['tags'] != wanted['key_tags']:
        return 'the server granted the tags %s, not %s (tags come with the pre-auth key)' % (
            ', '.join(status['tags']) or 'none', ', '.join(wanted['key_tags']) or 'none')
    return None


def differing_settings(current, wanted):
    """The settings of SET_FLAGS that differ; hostname only when wanted (None leaves it alone)."""
    keys = []
    for key, _flag in SET_FLAGS:
        if key == 'hostname' and wanted['hostname'] is None:
            continue
        if current[key] != wanted[key]:
            keys.append(key)
    return keys


def plan_present(status, prefs, wanted, have_key):
    """What state present does: {action: 'join', 'start', 'set' or None, reason, keys (for set),
    force_reauth (for join), needs_auth_key}.

    - join (tailscale up --reset ... --auth-key): not logged in, logged in elsewhere, no longer on
      its server (rejoin), asked to log in again, node key expired, other tags. Without a key: no action, needs_auth_key.
    - start (tailscale up --reset ..., no key): logged in to login_server but stopped.
    - set (tailscale set, the differing flags only): logged in and not stopped, settings differ.
    """
    plan = dict(action=None, reason=None, keys=[], force_reauth=False, needs_auth_key=False)
    reason = join_reason(status, prefs, wanted)
    if reason is not None:
        plan['reason'] = reason
        if not have_key:
            plan['needs_auth_key'] = True
            return plan
        plan['action'] = 'join'
        # --force-reauth: without it tailscale refuses another server on a Running node, and logs in
        # again with the node key it holds, which a server that deleted the node does not know. On a
        # node that is not logged in, the new login replaces nothing.
        plan['force_reauth'] = logged_in(status, prefs) and (
            bool(wanted.get('rejoin')) or normalize_login_server(prefs['login_server']) != normalize_login_server(wanted['login_server']))
        return plan
    if not prefs['want_running']:
        plan['action'] = 'start'
        plan['reason'] = 'logged in but stopped'
        return plan
    keys = differing_settings(settings_of(prefs), wanted)
    if keys:
        plan['action'] = 'set'
        plan['keys'] = keys
        plan['reason'] = 'settings differ: %s' % ', '.join(keys)
    return plan


def settings_after(current, wanted, plan):
    """The settings plan leaves (what check mode reports): up --reset sets them all (a hostname of
    None: the OS's), set only its keys."""
    if plan['action'] in ('join', 'start'):
        return dict((key, wanted[key]) for key in SETTINGS)
    after = dict(current)
    for key in plan['keys']:
        after[key] = wanted[key]
    return after


def _value_text(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list):
        return '[%s]' % ', '.join(value)
    return value


def settings_text(settings):
    """The settings one a line (key: value), in the order of SETTINGS, for diffs."""
    if settings is None:
        return ''
    return ''.join('%s: %s\n' % (key, _value_text(settings.get(key))) for key in SETTINGS)


# ---------------------------------------------------------------------------------------------
# Command lines
# ---------------------------------------------------------------------------------------------

def base_argv(executable, socket=None):
    # --socket is a flag of the root command: it goes before the subcommand.
    return [executable] + (['--socket=%s' % socket] if socket else [])


def status_argv(executable, socket=None):
    return base_argv(executable, socket) + ['status', '--json', '--peers=false']


def prefs_argv(executable, socket=None):
    return base_argv(executable, socket) + ['debug', 'prefs']


def _bool(value):
    return 'true' if value else 'false'


def up_argv(executable, wanted, timeout, auth_key_file=None, force_reauth=False, socket=None):
    """`tailscale up --reset` with every setting of wanted (the hostname when given); with
    auth_key_file, a login with the key in that file; bounded by --timeout."""
    argv = base_argv(executable, socket) + ['up', '--reset', '--login-server=%s' % wanted['login_server']]
    if auth_key_file is not None:
        argv.append('--auth-key=file:%s' % auth_key_file)
    if force_reauth:
        argv.append('--force-reauth')
    if wanted['hostname'] is not None:
        argv.append('--hostname=%s' % wanted['hostname'])
    argv += [
        '--advertise-tags=%s' % ','.join(wanted['advertise_tags']),
        '--advertise-routes=%s' % ','.join(wanted['advertise_routes']),
        '--advertise-exit-node=%s' % _bool(wanted['advertise_exit_node']),
        '--accept-routes=%s' % _bool(wanted['accept_routes']),
        '--accept-dns=%s' % _bool(wanted['accept_dns']),
        '--timeout=%ds' % timeout,
    ]
    return argv


def set_argv(executable, wanted, keys, socket=None):
    """`tailscale set` with the flags of keys only (an empty --advertise-routes= clears the routes)."""
    argv = base_argv(executable, socket) + ['set']
    for key, flag in SET_FLAGS:
        if key not in keys:
            continue
        value = wanted[key]
        if isinstance(value, bool):
            value = _bool(value)
        elif isinstance(value, list):
            value = ','.join(value)
        argv.append('--%s=%s' % (flag, value))
    return argv


def logout_argv(executable, socket=None):
    return base_argv(executable, socket) + ['logout']


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------

def failure_hint(error, timeout=None, login_server=None, with_key=False):
    """What to check after error (the CLI's words), '' when there is nothing to add."""
    if any(text in error for text in NOT_RUNNING_TEXTS):
        return 'is tailscaled running (systemctl status tailscaled), and is the socket the right one (option socket)?'
    if ABORTED_TEXT in error:
        return ('tailscale asked for a confirmation no one can give: this connection comes over Tailscale and a new login '
                'would cut it; run the task over another connection')
    if UP_TIMEOUT_TEXT in error or AUTH_URL_TEXT in error:
        if AUTH_URL_TEXT in error and not with_key:
            return ('the control server wants this node to log in again (its node key expired, or the node was removed '
                    'there): run the module with a new pre-auth key (auth_key or auth_key_file)')
        return ('tailscaled did not reach the Running state within %ss. Check that this host reaches %s over HTTPS and '
                'trusts the CA of its certificate (tailscaled logs "x509: certificate signed by unknown authority" '
                'otherwise: journalctl -u tailscaled)%s, and tailscale status'
                % (timeout if timeout is not None else '--timeout', login_server or 'the control server',
                   ', and that the pre-auth key is valid (not expired, not used up when single-use, its tags allowed '
                   'by the server\'s policy)' if with_key else ''))
    return ''


def failure_message(what, rc, stderr, hint=''):
    error = cli_error(stderr) or '(no error output)'
    return '%s failed (rc %s): %s%s' % (what, rc, error, '; %s' % hint if hint else '')


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------

class TailscaleCLI(object):
    """The tailscale CLI of one node.

    run_command: a callable argv -> (rc, stdout, stderr), such as AnsibleModule.run_command.
    """

    def __init__(self, run_command, executable=EXECUTABLE, socket=None):
        self.run_command = run_command
        self.executable = executable
        self.socket = socket

    def run(self, argv, what, hint=None):
        """stdout of argv; TailscaleCLIError on failure. hint: error text -> what to add."""
        rc, stdout, stderr = self.run_command(argv)
        if rc != 0:
            error = cli_error(stderr)
            raise TailscaleCLIError(failure_message(what, rc, stderr, (hint or failure_hint)(error)), rc=rc)
        return stdout, stderr

    def read(self, argv, what, parse):
        stdout, _stderr = self.run(argv, what)
        try:
            return parse(stdout)
        except ValueError as error:
            raise TailscaleCLIError('%s printed nothing this module can read (%s)' % (what, error))

    def status(self):
        return self.read(status_argv(self.executable, self.socket), 'tailscale status --json', parse_status)

    def prefs(self):
        return self.read(prefs_argv(self.executable, self.socket), 'tailscale debug prefs', parse_prefs)

    def up(self, wanted, timeout, auth_key_file=None, force_reauth=False):
        argv = up_argv(self.executable, wanted, timeout, auth_key_file, force_reauth, self.socket)

        def hint(error):
            return failure_hint(error, timeout, wanted['login_server'], auth_key_file is not None)

        return self.run(argv, 'tailscale up', hint)

    def set(self, wanted, keys):
        return self.run(set_argv(self.executable, wanted, keys, self.socket), 'tailscale set')

    def logout(self):
        return self.run(logout_argv(self.executable, self.socket), 'tailscale logout')


def read_state(run_command, executable, socket=None):
    """{status, prefs} of the node (parse_status, parse_prefs: no key in either), read with the CLI at
    executable; None when it is not installed there or tailscaled does not answer. What
    overlaynet.vpn.host_probe returns for its option tailscale_state."""
    if not is_executable_file(executable):
        return None
    cli = TailscaleCLI(run_command, executable, socket)
    try:
        return dict(status=cli.status(), prefs=cli.prefs())
    except TailscaleCLIError:
        return None


def unchanged_result(status, prefs, params):
    """What the module returns for state present on a node read as (status, prefs) that is as params
    want it: nothing to run, no key to mint. None when the module must run (to change the node, ask
    for a key, warn or fail), so that a play runs it only then."""
    options = dict(timeout=DEFAULT_TIMEOUT)
    options.update(params)
    options['state'] = 'present'
    wanted, problems = check_options(options)
    if problems:
        return None
    before = settings_of(prefs)
    if wanted['hostname'] is None:
        wanted = dict(wanted, hostname=before['hostname'])
    plan = plan_present(status, prefs, wanted, False)
    if plan['action'] is not None or plan['needs_auth_key'] or status['backend_state'] == NEEDS_MACHINE_AUTH:
        return None
    return _result(status, before, changed=False, needs_auth_key=False, join_reason=None)


# ---------------------------------------------------------------------------------------------
# The module run
# ---------------------------------------------------------------------------------------------

def _fresh_node():
    """What check mode assumes of a node whose tailscaled cannot be asked (not installed or not started yet)."""
    status = dict(backend_state=NO_STATE, have_node_key=False, node_key=None, tailscale_ips=[], dns_name=None, hostname=None,
                  tags=[], expired=False, approved_routes=[])
    prefs = dict(login_server=None, hostname=None, advertise_tags=[], advertise_routes=[], advertise_exit_node=False,
                 accept_routes=False, accept_dns=True, want_running=False, logged_out=True)
    return status, prefs


def settled(read, timeout=SETTLE_TIMEOUT_SECONDS, clock=time.monotonic, sleep=time.sleep):
    """read() -> (status, prefs), read again every SETTLE_POLL_SECONDS while a node that holds a node key is still
    starting (tailscaled has just been restarted, by the role or anyone: without a netmap the reading has no tailnet
    addresses), at most timeout seconds; the last reading."""
    deadline = clock() + timeout
    status, prefs = read()
    while status['have_node_key'] and status['backend_state'] in SETTLING_STATES and clock() < deadline:
        sleep(SETTLE_POLL_SECONDS)
        status, prefs = read()
    return status, prefs


def read_node(module, cli):
    """(status, prefs) of the node, once it has settled (settled()); in check mode a failure (tailscaled not set up yet)
    is a warning and a fresh node is assumed."""
    if cli is None:
        return _fresh_node()
    try:
        return settled(lambda: (cli.status(), cli.prefs()))
    except TailscaleCLIError as error:
        if not module.check_mode:
            module.fail_json(msg=error.message, rc=error.rc)
        module.warn('%s; check mode assumes a node that has not joined (a run outside check mode fails unless an earlier task '
                    'starts tailscaled)' % error.message)
        return _fresh_node()


def cli_for(module):
    """The TailscaleCLI of the module's options; None in check mode when tailscale is not installed (yet)."""
    executable = module.params['executable']
    if executable is not None and not is_executable_file(executable):
        if not module.check_mode:
            module.fail_json(msg='executable: %s is no executable file' % executable)
        executable = None
    elif executable is None:
        executable = module.get_bin_path(EXECUTABLE, required=not module.check_mode)
    if executable is None:
        module.warn('tailscale is not installed; check mode assumes a node that has not joined')
        return None
    return TailscaleCLI(module.run_command, executable, module.params['socket'])


def _result(status, settings, **extra):
    result = dict(backend_state=status['backend_state'], tailscale_ips=status['tailscale_ips'], dns_name=status['dns_name'],
                  hostname=status['hostname'], tags=status['tags'], approved_routes=status['approved_routes'], settings=settings)
    result.update(extra)
    return result


def _diff(module, result, before, after, after_header='tailscale settings'):
    if module._diff and result['changed']:
        result['diff'] = dict(before_header='tailscale settings', after_header=after_header,
                              before=settings_text(before), after=settings_text(after))


def until_control_reached(attempt, timeout, clock=time.monotonic, sleep=time.sleep):
    """attempt(seconds_left), run again every CONTROL_RETRY_SECONDS while it fails only because
    the control server could not be reached, at most timeout seconds in all; what it returns."""
    deadline = clock() + timeout
    while True:
        try:
            return attempt(max(1, int(math.ceil(deadline - clock()))))
        except TailscaleCLIError as error:
            if not any(text in error.message for text in CONTROL_UNREACHABLE_TEXTS) or clock() >= deadline:
                raise
        sleep(CONTROL_RETRY_SECONDS)


def logout_until_control_reached(cli, timeout, warn):
    """cli.logout(), run again while the control server is not reached (until_control_reached); its stdout.

    A try that finds no node key to log out with ends it, with a warning: tailscaled logged the node out locally
    while its server did not expire the key. That is what an earlier try that did not reach the server leaves, or
    one the server refused: headscale answers the logout of a node it deleted already with an error ("authkey
    already used"), and a node it deleted cannot log out any other way. After a refusal, one more try tells which.
    """
    failures = []

    def logged_out_locally(error):
        if LOGGED_OUT_LOCALLY_TEXT not in error.message:
            return False
        warn('the node is logged out locally, but its control server did not expire its key (%s): delete the node '
             'on the server if it still lists it' % (failures[-1] if failures else 'an earlier logout did not finish'))
        return True

    def attempt(_seconds_left):
        try:
            return cli.logout()[0]
        except TailscaleCLIError as error:
            if logged_out_locally(error):
                return ''
            failures.append(error.message)
            if any(text in error.message for text in CONTROL_UNREACHABLE_TEXTS):
                raise
            refusal = error
        try:
            return cli.logout()[0]
        except TailscaleCLIError as error:
            if logged_out_locally(error):
                return ''
            raise refusal
    return until_control_reached(attempt, timeout)


def wait_for_host_dns(path=RESOLV_CONF, clock=time.time, sleep=time.sleep):
    """Once tailscaled was told to hand DNS back: wait (bounded) until path no longer names its resolver, then until
    Go's resolver inside tailscaled must have read the host's servers again (GO_RESOLV_CONF_RECHECK_SECONDS after the
    file changed), so that the logout's lookup of the control server does not go to a resolver that is going away."""
    deadline = clock() + HOST_DNS_TIMEOUT_SECONDS
    while clock() < deadline:
        try:
            with open(path) as handle:
                if TAILSCALE_RESOLVER not in handle.read():
                    break
        except (IOError, OSError):
            return
        sleep(0.2)
    try:
        changed = os.stat(path).st_mtime
    except (IOError, OSError):
        return
    left = changed + GO_RESOLV_CONF_RECHECK_SECONDS - clock()
    if left > 0:
        sleep(min(left, GO_RESOLV_CONF_RECHECK_SECONDS))


def run_absent(module, cli):
    status, prefs = read_node(module, cli)
    before = settings_of(prefs)
    if not status['have_node_key']:
        return _result(status, before, changed=False, needs_auth_key=False, join_reason=None, logged_out_node_key=None)
    # The server keeps the node's entry (expired) after the logout: with this key a play deletes it there.
    logged_out_node_key = status['node_key']
    if module.check_mode:
        prefs = _fresh_node()[1]    # logout deletes the login profile; a new, empty one is current
    else:
        try:
            if before['accept_dns']:
                # The logout fetches the control server's key, resolving its name. With the tailnet's
                # DNS in charge, /etc/resolv.conf names tailscaled's own resolver (100.100.100.100),
                # which the logout tears down while that lookup may still be in flight, and the
                # lookup then fails (seen: "no DNS fallback candidates remain"). The host's DNS
                # comes back first, and tailscaled's resolver is given the time to read it.
                cli.set(dict(accept_dns=False), ['accept_dns'])
                wait_for_host_dns(RESOLV_CONF)
            stdout = logout_until_control_reached(cli, module.params['timeout'], module.warn)
            for warning in cli_warnings('tailscale logout', stdout):
                module.warn(warning)
        except TailscaleCLIError as error:
            module.fail_json(msg=error.message, rc=error.rc)
        status, prefs = read_node(module, cli)
    result = _result(status, settings_of(prefs), changed=True, needs_auth_key=False, join_reason=None,
                     logged_out_node_key=logged_out_node_key)
    _diff(module, result, before, None, 'tailscale settings (logged out)')
    return result


def own_auth_key_file(directory, auth_key):
    """A new file in directory (the module's private temporary directory) holding auth_key, mode 0600 from its
    first byte, for `tailscale up --auth-key=file:PATH`: the key never goes on a command line. The caller removes it."""
    return write_temporary_file(os.path.join(directory, 'auth-key'), auth_key.strip().encode('utf-8'), 0o600, sync=False)


def run_present(module, cli, wanted):
    params = module.params
    status, prefs = read_node(module, cli)
    unchanged = unchanged_result(status, prefs, params)
    if unchanged is not None:
        # The answer a play takes without running this module (filter tailscale_node_unchanged): one decision.
        return unchanged
    before = settings_of(prefs)
    if wanted['hostname'] is None:
        # Left as it is, also by `up --reset` (which would otherwise go back to the OS's).
        wanted = dict(wanted, hostname=before['hostname'])
    plan = plan_present(status, prefs, wanted, params['auth_key_file'] is not None or params.get('auth_key') is not None)
    if status['backend_state'] == NEEDS_MACHINE_AUTH and plan['action'] != 'join':
        module.warn('the node is logged in but waits for an administrator of the control server to approve it')
    if plan['action'] is None:
        # A join is needed but there is no key (check mode says the join would happen), or the node waits for approval.
        changed = plan['needs_auth_key'] and module.check_mode
        after = settings_after(before, wanted, dict(plan, action='join')) if changed else before
        result = _result(status, after, changed=changed, needs_auth_key=plan['needs_auth_key'], join_reason=plan['reason'])
        _diff(module, result, before, after)
        return result
    if params['auth_key_file'] is not None and plan['action'] == 'join' and not module.check_mode \
            and not os.path.isfile(params['auth_key_file']):
        module.fail_json(msg='auth_key_file: %s is no file (it must hold the pre-auth key to join with); nothing was changed'
                         % params['auth_key_file'])
    after = settings_after(before, wanted, plan)
    if not module.check_mode:
        own_key_file = None
        try:
            if plan['action'] == 'set':
                stdout, _stderr = cli.set(wanted, plan['keys'])
                what = 'tailscale set'
            else:
                key_file = None
                if plan['action'] == 'join':
                    key_file = params['auth_key_file']
                    if key_file is None:
                        own_key_file = key_file = own_auth_key_file(module.tmpdir, params['auth_key'])
                stdout, _stderr = until_control_reached(
                    lambda seconds_left: cli.up(wanted, seconds_left, key_file, plan['force_reauth']), params['timeout'])
                what = 'tailscale up'
        except TailscaleCLIError as error:
            module.fail_json(msg='%s (%s)' % (error.message, plan['reason']), rc=error.rc,
                             join_reason=plan['reason'] if plan['action'] == 'join' else None)
        finally:
            if own_key_file is not None:
                remove_if_present(own_key_file)
        for warning in cli_warnings(what, stdout):
            module.warn(warning)
        status, prefs = read_node(module, cli)
        after = settings_of(prefs)
    result = _result(status, after, changed=True, needs_auth_key=False, join_reason=plan['reason'] if plan['action'] == 'join' else None)
    _diff(module, result, before, after)
    return result


def daemon_action(active, restart):
    """What bring_up_daemon does to the unit: 'start' where it does not run, 'restart' where asked, else 'none'."""
    if not active:
        return 'start'
    return 'restart' if restart else 'none'


def bring_up_daemon(module):
    """(action, changed) for the unit of tailscaled (option unit): daemon-reload where asked, enabled, then started or
    restarted (daemon_action); Type=notify units return once tailscaled answers. Nothing runs in check mode."""
    params = module.params
    service = SystemdService(module, params['unit'])
    if params['daemon_reload']:
        service.daemon_reload()
    enabled_changed = service.ensure_enabled(True)
    action = daemon_action(service.is_active(), params['restart'])
    if action != 'none' and not module.check_mode:
        service.systemctl_or_fail(action)
    return action, enabled_changed or action != 'none'


def run_node(module):
    """overlaynet.vpn.tailscale_node: checks, tailscaled brought up (option unit), the reads (status, prefs), at most one
    change, the reads again after it."""
    wanted, problems = check_options(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    cli = cli_for(module)
    if module.params['state'] == 'absent':
        return run_absent(module, cli)
    if module.params['unit'] is None:
        return run_present(module, cli, wanted)
    action, service_changed = bring_up_daemon(module)
    result = dict(run_present(module, cli, wanted), service_action=action)
    result['changed'] = result['changed'] or service_changed
    return result
