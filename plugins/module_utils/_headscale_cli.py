# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The local `headscale` CLI as overlaynet.vpn.headscale_user, overlaynet.vpn.headscale_preauthkey
# and overlaynet.vpn.headscale_routes drive it on the headscale server host, for headscale 0.26 to
# 0.29: the command lines, the JSON they print, their error texts, the checks of names, tags,
# durations and routes before any command, and the three module runs. The CLI talks to the
# running server over its unix socket (`unix_socket` of the config it reads:
# /etc/headscale/config.yaml, $HEADSCALE_CONFIG or --config).
#
# Upstream read (github.com/juanfont/headscale at v0.26.0, v0.27.0, v0.28.0 and v0.29.2; the
# snapshot has no v0.29.3 tag, whose `nodes approve-routes --help` and `nodes list --help` show
# the same flags): cmd/headscale/cli/{root,utils,users,preauthkeys,nodes}.go,
# gen/go/headscale/v1/{user,preauthkey,node}.pb.go, hscontrol/grpcv1.go,
# hscontrol/db/{users,preauth_keys,node}.go, hscontrol/types/{users,preauth_key,node}.go,
# hscontrol/state/state.go (0.27+), hscontrol/routes/primary.go, hscontrol/util/dns.go, and
# spf13/pflag's string_slice.go (v1.0.6 in 0.26, v1.0.10 from 0.27 on).
#
# The same in 0.26 to 0.29:
# - `--output json` prints the gRPC response with Go's encoding/json, tab-indented: the keys are
#   the snake_case json tags of the generated structs, zero values are left out (omitempty: an
#   unset display name or a false `reusable` is simply missing), an empty list is `null`, ids are
#   numbers and timestamps are {"seconds": N, "nanos": N}. Errors go to stderr, as
#   {"error": "..."} under `--output json`.
# - The CLI turns its logging off only when one argument is exactly "json" (hasMachineOutputFlag):
#   `--output json` must be two arguments; `--output=json` would let log lines (and with
#   log.format json, onto stdout) through.
# - `users list`, `users create NAME [--display-name D] [--email E]`, `users destroy --identifier
#   ID` (asks on the terminal unless the global `--force` is given), `nodes list` and
#   `preauthkeys create --user ID --expiration D [--reusable] [--ephemeral] [--tags T,...]`.
#   `--user` takes the numeric id; it is a flag of `preauthkeys` in 0.26/0.27 and of `create`
#   from 0.28 on, and after `create` both read it. Display name and e-mail can only be given at
#   creation: no command changes them later.
# - A user that still owns nodes is not deleted ("user not empty: node(s) found"); deleting a user
#   deletes its pre-auth keys. Tags on a key must start with "tag:", be lower case and hold no
#   space (grpcv1.go validateTag). --expiration is a Prometheus duration (1y2w3d4h5m6s7ms, units in
#   that order, no fractions), added to the current time.
# - Routes: a v1.Node of `nodes list` has `approved_routes` (what the administrator or the
#   policy's autoApprovers approved), `available_routes` (what the node announces, its Hostinfo
#   RoutableIPs) and `subnet_routes` (what it serves: its primary routes and its approved, announced
#   exit routes), each a list of netip.Prefix texts, left out when empty. `nodes approve-routes
#   --identifier ID --routes CIDR,...` replaces the approved list with exactly the given one
#   (SetApprovedRoutes; --routes is a comma-separated string slice, and an empty value clears the
#   list) and prints the updated node. The server adds both 0.0.0.0/0 and ::/0 when either is
#   given, sorts and de-duplicates, and does not check the list against what the node announces:
#   a route approved before it is announced is kept and served once the node announces it (served
#   = announced and approved). It parses each route with netip.ParsePrefix, which keeps host bits
#   (10.0.0.5/24 would be stored as it is and match no announced route) and refuses zones.
#   Routes the policy's autoApprovers allow are approved again when the node next announces its
#   routes or the policy is reloaded, whatever approve-routes removed.
#
# What differs:
# - 0.26, 0.27: every pre-auth key belongs to a user (--user is required). Keys are 48 hex digits,
#   stored in clear and shown whole by `preauthkeys list` and in the `pre_auth_key` of every node
#   of `nodes list`. 0.28+: a key with tags needs no user (its nodes are owned by the tags; the
#   user only records who made it); keys are hskey-auth-<12>-<64> (URL-safe base64), stored as a
#   bcrypt hash, and lists show `hskey-auth-<prefix>-***`.
# - User names: 0.26 refuses a first character that is a digit, 0.27+ anything but a letter.
# - 0.26 to 0.28 print nothing under `--output json` when they cannot load their config or reach
#   the server (log.Fatal with logging off, then exit status 255); 0.29 prints {"error": ...}.
# - 0.28.0 deletes every pre-auth key of the server, of all users, with any user (DestroyUser
#   listed all keys); 0.29.0 deletes only the user's own.
# - 0.28+ list a tagged node under a pseudo-user "tagged-devices" (id 2147455555), so a user's
#   tagged nodes are not seen as theirs; 0.28 may still refuse to delete that user for them.
# - `preauthkeys list`/`expire`: per user and by the whole key on the command line in 0.26/0.27,
#   all keys and by --id from 0.28 on (not used here).
# - `subnet_routes` of `nodes list`: 0.26/0.27 show both exit routes once the node serves either,
#   0.28+ each approved exit route the node announces. The node that approve-routes prints has no
#   exit route in its `subnet_routes` in any version (its primary routes only); headscale_routes
#   returns neither. approve-routes for an unknown id: "record not found" (0.26), "node not found
#   in NodeStore" (0.27+); ids here always come from `nodes list`.
#
# Secrets: only a minted pre-auth key, which goes into the `key` return value and nowhere else.
# No message quotes the CLI's stdout (a key, or old keys inside `nodes list`); its stderr is
# quoted with anything that looks like a key replaced.

import ipaddress
import json
import re
import time
from datetime import datetime, timedelta, timezone

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import parse_cidr_list
from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import is_executable_file
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_config import (
    DEFAULT_VERSION,
    UNIX_SOCKET,
    model_duration_seconds,
    parse_version,
    version_problem,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._secrets import KEY_PLACEHOLDER
from ansible_collections.overlaynet.vpn.plugins.module_utils._tailnet_names import KEY_TEXT, tag_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._values import (
    check_bool,
    check_choice,
    check_int,
    check_known_keys,
    dedupe,
    is_int,
    is_mapping,
    type_name,
)

EXECUTABLE = 'headscale'
OUTPUT_ARGS = ('--output', 'json')
STATES = ('present', 'absent')
USER_KEYS = ('name', 'state', 'display_name', 'email')
DEFAULT_EXPIRATION = '1h'
# A pre-auth key without a user (tags only) is accepted from 0.28 on.
TAGS_ONLY_KEYS_SINCE = (0, 28)
# The minor series whose user deletion takes every pre-auth key of the server with it.
DELETES_ALL_KEYS_WITH_A_USER = ((0, 28),)
NODES_FOUND_ERROR = 'node(s) found'
ERROR_LINES = 10
NODE_KEYS = ('name', 'routes', 'exit_node')
REMOVAL_KEYS = ('name', 'node_key')
# A node's public node key as `nodes list` and `tailscale status --json` (Self.PublicKey) print it.
NODE_KEY_PATTERN = re.compile(r'^nodekey:[0-9a-f]{64}$')
# The two halves of an exit node; headscale approves both when either is given (grpcv1.go SetApprovedRoutes).
EXIT_ROUTES = ('0.0.0.0/0', '::/0')
MAX_WAIT_SECONDS = 3600
POLL_SECONDS = 1.0


class HeadscaleCLIError(Exception):
    """A failed or unreadable headscale command; the message quotes no stdout and no key."""

    def __init__(self, message, rc=None):
        super(HeadscaleCLIError, self).__init__(message)
        self.message = message
        self.rc = rc


# ---------------------------------------------------------------------------------------------
# Versions and inputs
# ---------------------------------------------------------------------------------------------

def cli_version(text):
    """'0.29.3' -> (0, 29, 3) for a supported minor series; ValueError (naming the supported ones) otherwise."""
    problem = version_problem(text)
    if problem:
        raise ValueError(problem)
    return parse_version(text)


def user_name_problem(name):
    """Why headscale would refuse name as a user name, None when every supported version takes it.

    At least two characters, a letter first (0.27+; 0.26 only refuses a digit), then letters, digits,
    "-", "." and "_", and at most one "@".
    """
    if not isinstance(name, str) or not name:
        return 'a user name must be a non-empty string, got %r' % (name,)
    if len(name) < 2:
        return '%r: a headscale user name has at least 2 characters' % name
    if not name[0].isalpha():
        return '%r: a headscale user name starts with a letter' % name
    invalid = dedupe(char for char in name if not (char.isalpha() or char.isdecimal() or char in '-._@'))
    if invalid:
        return '%r: headscale refuses the character%s %s in a user name (allowed: letters, digits, "-", ".", "_" and one "@")' % (
            name, '' if len(invalid) == 1 else 's', ', '.join(repr(char) for char in invalid))
    if name.count('@') > 1:
        return '%r: a headscale user name has at most one "@"' % name
    return None


def expiration_problem(text):
    """Why text is no expiration headscale's CLI takes (a positive Prometheus duration such as 1h, 30m, 7d, 1w2d), None when it is."""
    try:
        seconds = model_duration_seconds(text)
    except ValueError:
        seconds = None
    if seconds is None or text != text.strip():
        return '%r is not a duration such as 30m, 1h, 7d or 1w2d (units y, w, d, h, m, s, ms, largest first)' % (text,)
    if seconds <= 0:
        return '%r: a pre-auth key that expires at once cannot be used' % (text,)
    return None


def normalize_users(items):
    """The `users` option as entries {name, state, display_name, email}, and every problem at once.

    An item is a user name (short for {name: NAME}) or a mapping with name, state (present, the
    default, or absent), display_name and email.
    """
    entries, problems, seen = [], [], {}
    for index, item in enumerate(items or []):
        where = 'users[%d]' % index
        if isinstance(item, str):
            item = {'name': item}
        if not is_mapping(item):
            problems.append('%s: must be a user name or a mapping with name, state, display_name and email, got %s' % (where, type_name(item)))
            continue
        check_known_keys(problems, where, item, USER_KEYS)
        state = item.get('state')
        entry = dict(name=item.get('name'), state='present' if state is None else state, display_name=item.get('display_name'),
                     email=item.get('email'))
        problem = user_name_problem(entry['name'])
        if problem:
            problems.append('%s.name: %s' % (where, problem))
        check_choice(problems, '%s.state' % where, entry['state'], STATES)
        for key in ('display_name', 'email'):
            if entry[key] is not None and not isinstance(entry[key], str):
                problems.append('%s.%s: must be a string, got %s' % (where, key, type_name(entry[key])))
            elif entry[key] is not None and entry['state'] == 'absent':
                problems.append('%s.%s: only with state present' % (where, key))
        if isinstance(entry['name'], str):
            if entry['name'] in seen:
                problems.append('%s: %s is listed already as users[%d]' % (where, entry['name'], seen[entry['name']]))
            seen.setdefault(entry['name'], index)
        entries.append(entry)
    return entries, problems


def preauthkey_problems(version, user, tags, expiration):
    """Every problem of the options of a pre-auth key at once."""
    problems = []
    version_text_problem = version_problem(version)
    if version_text_problem:
        problems.append('version: %s' % version_text_problem)
    if user is not None:
        problem = user_name_problem(user)
        if problem:
            problems.append('user: %s' % problem)
    for index, tag in enumerate(tags):
        problem = tag_problem(tag)
        if problem:
            problems.append('tags[%d]: %s' % (index, problem))
    problem = expiration_problem(expiration)
    if problem:
        problems.append('expiration: %s' % problem)
    if user is None and not version_text_problem and parse_version(version)[:2] < TAGS_ONLY_KEYS_SINCE:
        problems.append('user: required with headscale %s (a key without a user, tags only, needs 0.28 or later)' % version)
    elif user is None and not tags:
        problems.append('user: required unless tags are given (a key belongs to a user or to its tags)')
    return problems


def route_key(text):
    """A route text as (IP version, prefix length, address), to compare routes however they are written: headscale
    (Go's netip) and Python write IPv4-mapped IPv6 addresses differently. Host bits are kept; (0, 0, 0, text) for a
    text that is no prefix. Sorted, these keys give headscale's order (netip.Prefix.Compare, tsaddr.SortPrefixes)."""
    try:
        interface = ipaddress.ip_interface(text)
    except ValueError:
        return (0, 0, 0, text)
    return (interface.version, interface.network.prefixlen, int(interface.ip))


def sorted_routes(texts):
    """Route texts without repetitions, in headscale's order: IPv4 first, by prefix length, then by address."""
    unique = {}
    for text in texts:
        unique.setdefault(route_key(text), text)
    return [unique[key] for key in sorted(unique)]


def same_routes(first, second):
    return set(route_key(text) for text in first) == set(route_key(text) for text in second)


def missing_routes(wanted, present):
    """The routes of wanted that are not in present, in the order of wanted."""
    keys = set(route_key(text) for text in present)
    return [text for text in wanted if route_key(text) not in keys]


def normalize_route_nodes(items):
    """The `nodes` option as entries {name, routes}, and every problem at once.

    routes is the whole list of approved routes wanted for the node: canonical CIDR texts, sorted, with both exit
    routes when exit_node is true or either of them is listed (headscale approves both halves together).
    """
    entries, problems, seen = [], [], {}
    for index, item in enumerate(items or []):
        where = 'nodes[%d]' % index
        if not is_mapping(item):
            problems.append('%s: must be a mapping with name, routes and exit_node, got %s' % (where, type_name(item)))
            continue
        check_known_keys(problems, where, item, NODE_KEYS)
        name = item.get('name')
        if not isinstance(name, str) or not name.strip():
            problems.append('%s.name: must be the name of a headscale node (a non-empty string), got %r' % (where, name))
        elif name in seen:
            problems.append('%s: %s is listed already as nodes[%d]' % (where, name, seen[name]))
        else:
            seen[name] = index
        routes = []
        for network in parse_cidr_list(problems, '%s.routes' % where, item.get('routes')):
            if '%' in str(network):
                problems.append('%s.routes: %s has an IPv6 zone, which headscale refuses in a route' % (where, network))
            else:
                routes.append(str(network))
        exit_node = item.get('exit_node')
        if exit_node is not None and check_bool(problems, '%s.exit_node' % where, exit_node) and exit_node:
            routes.extend(EXIT_ROUTES)
        if any(ipaddress.ip_network(route).prefixlen == 0 for route in routes):
            routes.extend(EXIT_ROUTES)
        entries.append(dict(name=name, routes=sorted_routes(routes)))
    return entries, problems


def normalize_removals(items):
    """The `nodes` option of headscale_node as entries {name, node_key} (exactly one of them set), and every problem
    at once."""
    entries, problems, seen = [], [], {}
    for index, item in enumerate(items or []):
        where = 'nodes[%d]' % index
        if not is_mapping(item):
            problems.append('%s: must be a mapping with name or node_key, got %s' % (where, type_name(item)))
            continue
        check_known_keys(problems, where, item, REMOVAL_KEYS)
        name, node_key = item.get('name'), item.get('node_key')
        if (name is None) == (node_key is None):
            problems.append('%s: give either name or node_key (exactly one of them)' % where)
            continue
        if name is not None and (not isinstance(name, str) or not name.strip()):
            problems.append('%s.name: must be the name of a headscale node (a non-empty string), got %r' % (where, name))
            continue
        if node_key is not None and (not isinstance(node_key, str) or not NODE_KEY_PATTERN.match(node_key)):
            problems.append('%s.node_key: must be a node key as nodekey: and 64 hex digits (tailscale status --json shows it as '
                            'Self.PublicKey)' % where)
            continue
        identity = name if name is not None else node_key
        if identity in seen:
            problems.append('%s: %s is listed already as nodes[%d]' % (where, identity, seen[identity]))
            continue
        seen[identity] = index
        entries.append(dict(name=name, node_key=node_key))
    return entries, problems


def routes_problems(version, wait_for_announce):
    """The problems of the module-wide options of headscale_routes."""
    problems = []
    problem = version_problem(version)
    if problem:
        problems.append('version: %s' % problem)
    check_int(problems, 'wait_for_announce', wait_for_announce, 0, MAX_WAIT_SECONDS)
    return problems


# ---------------------------------------------------------------------------------------------
# Command lines
# ---------------------------------------------------------------------------------------------

def command(executable, words, config_path=None):
    """argv of a headscale command printing JSON: executable, words, --output json, --config=PATH.

    Values are joined to their flag (--email=VALUE) so that one starting with "-" stays a value;
    --output and json stay two arguments (see the header).
    """
    argv = [executable] + list(words) + list(OUTPUT_ARGS)
    if config_path:
        argv.append('--config=%s' % config_path)
    return argv


def list_users_argv(executable=EXECUTABLE, config_path=None):
    return command(executable, ['users', 'list'], config_path)


def create_user_argv(name, display_name=None, email=None, executable=EXECUTABLE, config_path=None):
    words = ['users', 'create', name]
    # The CLI leaves an empty value out of its request: '' is the same as not given.
    if display_name:
        words.append('--display-name=%s' % display_name)
    if email:
        words.append('--email=%s' % email)
    return command(executable, words, config_path)


def destroy_user_argv(user_id, executable=EXECUTABLE, config_path=None):
    # --force: without it the CLI asks on the terminal; 0.26 then gives up with exit status 0
    # without deleting anything.
    return command(executable, ['users', 'destroy', '--identifier=%d' % user_id, '--force'], config_path)


def list_nodes_argv(executable=EXECUTABLE, config_path=None):
    return command(executable, ['nodes', 'list'], config_path)


def delete_node_argv(node_id, executable=EXECUTABLE, config_path=None):
    # --force, as for users destroy: without it the CLI asks on the terminal.
    return command(executable, ['nodes', 'delete', '--identifier=%d' % node_id, '--force'], config_path)


def approve_routes_argv(node_id, routes, executable=EXECUTABLE, config_path=None):
    """argv setting the approved routes of node node_id to exactly routes ([]: none).

    --routes is a string slice: comma-separated, and an empty value is the empty list (pflag readAsCSV).
    """
    return command(executable, ['nodes', 'approve-routes', '--identifier=%d' % node_id, '--routes=%s' % ','.join(routes)], config_path)


def create_preauthkey_argv(version, user_id, reusable=False, ephemeral=False, expiration=DEFAULT_EXPIRATION, tags=(),
                           executable=EXECUTABLE, config_path=None):
    """argv minting a pre-auth key of user user_id (None: tags only, 0.28+; ValueError before)."""
    if user_id is None and tuple(version[:2]) < TAGS_ONLY_KEYS_SINCE:
        raise ValueError('headscale %d.%d needs a user for every pre-auth key' % tuple(version[:2]))
    words = ['preauthkeys', 'create']
    if user_id is not None:
        words.append('--user=%d' % user_id)
    words.append('--expiration=%s' % expiration)
    if reusable:
        words.append('--reusable')
    if ephemeral:
        words.append('--ephemeral')
    tags = sorted(dedupe(tags))
    if tags:
        # A string-slice flag: comma-separated (tags hold no comma, see tag_problem).
        words.append('--tags=%s' % ','.join(tags))
    return command(executable, words, config_path)


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def load_json(stdout):
    """The JSON document of a command's stdout. ValueError otherwise, quoting nothing of it (it may hold a key).

    Lines before the document (a log line that got through) are skipped.
    """
    text = (stdout or '').strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    lines = text.splitlines()
    for index, line in enumerate(lines):
        start = line.strip()
        if index and (start[:1] in ('[', '{') or start == 'null'):
            try:
                return json.loads('\n'.join(lines[index:]))
            except ValueError:
                continue
    raise ValueError('the output is not JSON')


def _list(document, what):
    if document is None:
        return []  # Go's encoding/json prints an empty (nil) list as null
    if not isinstance(document, list):
        raise ValueError('expected a list of %s, got %s' % (what, type_name(document)))
    return document


def _text(item, key):
    value = item.get(key)
    return value if isinstance(value, str) else ''


def parse_user(item):
    """{id, name, display_name, email, provider} of one user of the JSON (a missing text is '')."""
    if not is_mapping(item) or not is_int(item.get('id')):
        raise ValueError('a user without a numeric id')
    return dict(id=item['id'], name=_text(item, 'name'), display_name=_text(item, 'display_name'), email=_text(item, 'email'),
                provider=_text(item, 'provider'))


def parse_users(stdout):
    """The users of `users list --output json`, in the order printed (by id)."""
    return [parse_user(item) for item in _list(load_json(stdout), 'users')]


def parse_created_user(stdout):
    """The user `users create --output json` printed."""
    return parse_user(load_json(stdout))


def _texts(item, key):
    value = item.get(key)
    return [text for text in value if isinstance(text, str)] if isinstance(value, list) else []


def parse_node(item):
    """{id, name, hostname, user_id, node_key, approved_routes, available_routes} of one node of the JSON: name is
    its given name, else its host name; user_id None when no user is shown; a missing text is '' and a missing route
    list []. node_key is the node's public key; nothing else is kept: the JSON holds pre-auth keys."""
    if not is_mapping(item) or not is_int(item.get('id')):
        raise ValueError('a node without a numeric id')
    user = item.get('user')
    user_id = user.get('id') if is_mapping(user) and is_int(user.get('id')) else None
    return dict(id=item['id'], name=_text(item, 'given_name') or _text(item, 'name'), hostname=_text(item, 'name'), user_id=user_id,
                node_key=_text(item, 'node_key'), approved_routes=_texts(item, 'approved_routes'),
                available_routes=_texts(item, 'available_routes'))


def parse_nodes(stdout):
    """The nodes of `nodes list --output json` (see parse_node), in the order printed."""
    return [parse_node(item) for item in _list(load_json(stdout), 'nodes')]


def parse_updated_node(stdout):
    """The node `nodes approve-routes --output json` printed."""
    return parse_node(load_json(stdout))


def timestamp_text(value):
    """A timestamp of the JSON ({"seconds": N, "nanos": N}) as UTC ISO 8601 text, None when missing."""
    if not is_mapping(value):
        return None
    seconds = value.get('seconds', 0)
    if not is_int(seconds):
        return None
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_preauthkey(stdout):
    """{id, key, user_id, reusable, ephemeral, tags, expiration} of `preauthkeys create --output json`.

    ValueError, naming no value, when there is no usable key in it (for example a masked one).
    """
    item = load_json(stdout)
    if not is_mapping(item):
        raise ValueError('expected a pre-auth key, got %s' % type_name(item))
    key = item.get('key')
    if not isinstance(key, str) or not key or key.endswith('*'):
        raise ValueError('no key in the output')
    if not is_int(item.get('id')):
        raise ValueError('a pre-auth key without a numeric id')
    user = item.get('user')
    tags = item.get('acl_tags')
    return dict(id=item['id'], key=key, user_id=user.get('id') if is_mapping(user) and is_int(user.get('id')) else None,
                reusable=item.get('reusable') is True, ephemeral=item.get('ephemeral') is True,
                tags=[tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else [],
                expiration=timestamp_text(item.get('expiration')))


def scrub_keys(text):
    """text with everything that looks like a pre-auth key replaced by '(key)'."""
    return KEY_TEXT.sub(KEY_PLACEHOLDER, text or '')


def cli_error(stderr):
    """What headscale said on stderr: the "error" of its JSON, else its last lines; keys replaced, '' when silent."""
    text = (stderr or '').strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if is_mapping(document) and isinstance(document.get('error'), str):
        return scrub_keys(document['error'].strip())
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return scrub_keys('; '.join(lines[-ERROR_LINES:]))


def failure_message(what, rc, stderr, version, config_path=None):
    """The message of a failed command: its error, or for a silent one what 0.26-0.28 leave unsaid."""
    error = cli_error(stderr)
    if not error:
        if tuple(version[:2]) < (0, 29):
            error = ('no error output: headscale %d.%d prints nothing when it cannot load %s or reach the server over its unix socket '
                     '(%s by default): is headscale running?' % (version[0], version[1], config_path or 'its config', UNIX_SOCKET))
        else:
            error = '(no error output)'
    return '%s failed (rc %d): %s' % (what, rc, error)


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------

def users_named(users, name):
    """The users called name (more than one only with OIDC users, whose names need not be unique)."""
    return [user for user in users if user['name'] == name]


def ambiguity_problem(matches, name):
    if len(matches) < 2:
        return None
    ids = ', '.join('%d%s' % (user['id'], ' (%s)' % user['provider'] if user['provider'] else '') for user in matches)
    return ('%d headscale users are called %s (ids %s): OIDC users need not have unique names, and this module cannot tell them apart'
            % (len(matches), name, ids))


def plan_users(entries, existing):
    """What the users module does: {create: [entry], remove: [user], present: {name: user or None},
    problems: [...], warnings: [...]}. present maps every name of state present to its user (None: to be created)."""
    plan = dict(create=[], remove=[], present={}, problems=[], warnings=[])
    for entry in entries:
        matches = users_named(existing, entry['name'])
        problem = ambiguity_problem(matches, entry['name'])
        if problem:
            plan['problems'].append(problem)
            continue
        user = matches[0] if matches else None
        if entry['state'] == 'absent':
            if user is not None:
                plan['remove'].append(user)
            continue
        plan['present'][entry['name']] = user
        if user is None:
            plan['create'].append(entry)
            continue
        for key in ('display_name', 'email'):
            if entry[key] is not None and entry[key] != user[key]:
                plan['warnings'].append('headscale user %s has %s %r, not %r: headscale sets it only when it creates a user '
                                        '(remove and re-create the user to change it)' % (user['name'], key, user[key], entry[key]))
    return plan


def users_unchanged(items, existing):
    """Whether overlaynet.vpn.headscale_user, given items (its option users), would neither change nor warn on a
    server whose users are existing (parse_users; None when they could not be read): a play runs it only otherwise."""
    if existing is None:
        return False
    entries, problems = normalize_users(items)
    plan = plan_users(entries, existing)
    return not (problems or plan['create'] or plan['remove'] or plan['problems'] or plan['warnings'])


def nodes_of(nodes, users):
    """{user name: ['NODE (id N)', ...]} of the users (of the JSON) that own nodes."""
    names = dict((user['id'], user['name']) for user in users)
    owned = {}
    for node in nodes:
        if node['user_id'] in names:
            owned.setdefault(names[node['user_id']], []).append('%s (id %d)' % (node['name'] or 'unnamed', node['id']))
    return owned


def names_text(users):
    return ''.join('%s\n' % name for name in sorted(users))


def node_text(node):
    return '%s (id %d)' % (node['name'] or 'unnamed', node['id'])


def nodes_named(nodes, name):
    """The node whose given name is name (headscale keeps given names unique); when none, those whose host name is."""
    matches = [node for node in nodes if node['name'] == name]
    return matches or [node for node in nodes if node['hostname'] == name]


def match_nodes(entries, nodes):
    """[(entry, node, or None when no node has its name)] of the entries, and the problems: names several nodes have."""
    pairs, problems = [], []
    for entry in entries:
        matches = nodes_named(nodes, entry['name'])
        if len(matches) > 1:
            problems.append('%d headscale nodes have the host name %s and none has it as given name (%s): name the node by its '
                            'given name, which is unique (headscale nodes list shows it)'
                            % (len(matches), entry['name'], ', '.join(node_text(node) for node in matches)))
            continue
        pairs.append((entry, matches[0] if matches else None))
    return pairs, problems


def absent_problems(pairs, nodes):
    """A problem for every entry no node has the name of."""
    names = ', '.join(node['name'] for node in nodes) or 'none'
    return ['headscale has no node %s (nodes: %s)' % (entry['name'], names) for entry, node in pairs if node is None]


def nodes_to_delete(entries, nodes):
    """The nodes (of list_nodes) that entries (normalize_removals) name, each once, in the order of nodes, and the
    problems: a host name several nodes have and none has as given name. An entry no node matches needs nothing."""
    named, problems = match_nodes([entry for entry in entries if entry['name'] is not None], nodes)
    wanted = set(node['id'] for _entry, node in named if node is not None)
    keys = set(entry['node_key'] for entry in entries if entry['node_key'] is not None)
    wanted.update(node['id'] for node in nodes if node['node_key'] and node['node_key'] in keys)
    return [node for node in nodes if node['id'] in wanted], problems


def unannounced(pairs):
    """{name: [route, ...]} of the wanted routes the matched nodes do not announce (yet)."""
    pending = {}
    for entry, node in pairs:
        routes = missing_routes(entry['routes'], node['available_routes']) if node is not None else []
        if routes:
            pending[entry['name']] = routes
    return pending


def routes_text(pairs, approved):
    """'NAME: ROUTE' lines of the approved routes of the listed nodes, for the diff."""
    lines = []
    for entry, _node in pairs:
        lines.extend('%s: %s\n' % (entry['name'], route) for route in sorted_routes(approved[entry['name']]))
    return ''.join(lines)


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------

class HeadscaleCLI(object):
    """The headscale CLI of one server host.

    run_command: a callable argv -> (rc, stdout, stderr), such as AnsibleModule.run_command.
    version: the headscale version the commands are written for (a text, validated).
    """

    def __init__(self, run_command, version=DEFAULT_VERSION, executable=EXECUTABLE, config_path=None):
        self.run_command = run_command
        self.version = cli_version(version)
        self.executable = executable
        self.config_path = config_path

    def run(self, argv, what):
        rc, stdout, stderr = self.run_command(argv)
        if rc != 0:
            raise HeadscaleCLIError(failure_message(what, rc, stderr, self.version, self.config_path), rc=rc)
        return stdout

    def read(self, argv, what, parse):
        stdout = self.run(argv, what)
        try:
            return parse(stdout)
        except ValueError as error:
            raise HeadscaleCLIError('%s printed nothing this module can read (%s)' % (what, error))

    def list_users(self):
        return self.read(list_users_argv(self.executable, self.config_path), 'headscale users list', parse_users)

    def create_user(self, name, display_name=None, email=None):
        return self.read(create_user_argv(name, display_name, email, self.executable, self.config_path),
                         'headscale users create %s' % name, parse_created_user)

    def destroy_user(self, user):
        what = 'headscale users destroy for %s (id %d)' % (user['name'], user['id'])
        try:
            self.run(destroy_user_argv(user['id'], self.executable, self.config_path), what)
        except HeadscaleCLIError as error:
            if NODES_FOUND_ERROR in error.message:
                # 0.28 counts tagged nodes the user registered, which `nodes list` shows under "tagged-devices".
                raise HeadscaleCLIError('%s; headscale deletes no user that still owns nodes (tagged ones included): '
                                        'delete them first (headscale nodes delete --identifier ID --force)' % error.message, rc=error.rc)
            raise

    def list_nodes(self):
        return self.read(list_nodes_argv(self.executable, self.config_path), 'headscale nodes list', parse_nodes)

    def delete_node(self, node):
        """Delete node (of list_nodes) from the server: its addresses and name are free again."""
        self.run(delete_node_argv(node['id'], self.executable, self.config_path), 'headscale nodes delete for %s' % node_text(node))

    def approve_routes(self, node, routes):
        """Set the approved routes of node (of list_nodes) to exactly routes; the node as headscale then shows it."""
        return self.read(approve_routes_argv(node['id'], routes, self.executable, self.config_path),
                         'headscale nodes approve-routes for %s' % node_text(node), parse_updated_node)

    def create_preauthkey(self, user_id, reusable=False, ephemeral=False, expiration=DEFAULT_EXPIRATION, tags=()):
        argv = create_preauthkey_argv(self.version, user_id, reusable, ephemeral, expiration, tags, self.executable, self.config_path)
        what = 'headscale preauthkeys create'
        stdout = self.run(argv, what)
        try:
            return parse_preauthkey(stdout)
        except ValueError as error:
            raise HeadscaleCLIError('%s succeeded, but its output (not shown: it may hold the key) cannot be read (%s); '
                                    'a key may have been minted: list them with headscale preauthkeys list' % (what, error))


def _read_list(run_command, executable, config_path, list_method):
    """list_method (HeadscaleCLI.list_users or list_nodes) run with the CLI at executable; None when it is not
    installed there or the server does not answer."""
    if not is_executable_file(executable):
        return None
    try:
        return list_method(HeadscaleCLI(run_command, executable=executable, config_path=config_path))
    except HeadscaleCLIError:
        return None


def read_users(run_command, executable, config_path=None):
    """The users of the server (parse_users), read with the CLI at executable; None when it is not installed there or
    the server does not answer. What overlaynet.vpn.host_probe returns as headscale_users (option headscale_state)."""
    return _read_list(run_command, executable, config_path, HeadscaleCLI.list_users)


def read_nodes(run_command, executable, config_path=None):
    """The nodes of the server (parse_nodes: ids, names and routes, no key), read with the CLI at executable; None when
    it is not installed there or the server does not answer. What overlaynet.vpn.host_probe returns as headscale_nodes
    (option headscale_state)."""
    return _read_list(run_command, executable, config_path, HeadscaleCLI.list_nodes)


def routes_approved(item, nodes):
    """Whether headscale_routes would change nothing for item (an entry of its nodes option: name, routes, exit_node)
    on a server whose nodes (parse_nodes) were read: exactly one node has the name, with those routes approved."""
    entries, problems = normalize_route_nodes([item])
    if problems:
        return False
    matches = nodes_named(nodes or [], entries[0]['name'])
    return len(matches) == 1 and same_routes(matches[0]['approved_routes'], entries[0]['routes'])


# ---------------------------------------------------------------------------------------------
# The module runs
# ---------------------------------------------------------------------------------------------

def cli_argument_spec(**options):
    """The argument_spec of a module of the headscale CLI: its own options and the ones the doc fragment
    overlaynet.vpn.headscale_cli documents for all of them."""
    spec = dict(options)
    spec.update(
        version=dict(type='str', default=DEFAULT_VERSION),
        config_path=dict(type='path'),
    )
    return spec


def cli_for(module, what='users'):
    """The HeadscaleCLI of the module's options; None in check mode when headscale is not installed (yet)."""
    # headscale_server names its binary (not there yet in check mode on a new host); the CLI modules find it on the PATH.
    executable = module.params.get('executable')
    if not executable or not is_executable_file(executable):
        executable = module.get_bin_path(EXECUTABLE, required=not module.check_mode)
    if executable is None:
        module.warn('headscale is not installed; check mode assumes it has no %s yet' % what)
        return None
    return HeadscaleCLI(module.run_command, module.params['version'], executable, module.params['config_path'])


def read_state(module, cli, read, what):
    """read() of the CLI; in check mode, a failure (the server is not set up yet) is a warning and [] is assumed."""
    if cli is None:
        return []
    try:
        return read()
    except HeadscaleCLIError as error:
        if not module.check_mode:
            module.fail_json(msg=error.message, rc=error.rc)
        module.warn('%s; check mode assumes no %s (a run outside check mode fails unless an earlier task sets the server up)'
                    % (error.message, what))
        return []


def fail_on_input_problems(module, problems):
    """Fail the module, before any command, with the problems of its options and of its version option."""
    problem = version_problem(module.params['version'])
    problems = (['version: %s' % problem] if problem else []) + problems
    if problems:
        module.fail_json(msg='; '.join(problems))


def _done(created, removed):
    done = ['created %s' % ', '.join(created)] if created else []
    done += ['removed %s' % ', '.join(removed)] if removed else []
    return '; done before: %s' % '; '.join(done) if done else '; nothing was changed'


def run_users(module):
    """overlaynet.vpn.headscale_user: one `users list`, `nodes list` only when a user is to go, then the changes."""
    params = module.params
    entries, problems = normalize_users(params['users'])
    fail_on_input_problems(module, problems)
    cli = cli_for(module)
    existing = read_state(module, cli, cli.list_users if cli else None, 'users')
    plan = plan_users(entries, existing)
    if plan['problems']:
        module.fail_json(msg='%s; nothing was changed' % '; '.join(plan['problems']))
    for warning in plan['warnings']:
        module.warn(warning)

    if plan['remove'] and cli is not None:
        owned = nodes_of(read_state(module, cli, cli.list_nodes, 'nodes'), plan['remove'])
        if owned:
            module.fail_json(msg='headscale deletes no user that still owns nodes: %s; delete those nodes first '
                                 '(headscale nodes delete --identifier ID --force) or keep the user%s'
                                 % ('; '.join('%s owns %s' % (name, ', '.join(owned[name])) for name in sorted(owned)), _done([], [])))
        if tuple(cli.version[:2]) in DELETES_ALL_KEYS_WITH_A_USER:
            module.warn('headscale %d.%d deletes every pre-auth key of the server, of all users, when it deletes a user '
                        '(registered nodes stay); mint new keys for nodes yet to join' % tuple(cli.version[:2]))

    present = dict(plan['present'])
    created = [entry['name'] for entry in plan['create']]
    removed = [user['name'] for user in plan['remove']]
    if not module.check_mode:
        created, removed = [], []
        try:
            for entry in plan['create']:
                present[entry['name']] = cli.create_user(entry['name'], entry['display_name'], entry['email'])
                created.append(entry['name'])
            for user in plan['remove']:
                cli.destroy_user(user)
                removed.append(user['name'])
        except HeadscaleCLIError as error:
            module.fail_json(msg=error.message + _done(created, removed), rc=error.rc, created=created, removed=removed)

    users = {}
    entries_by_name = dict((entry['name'], entry) for entry in entries)
    for name, user in present.items():
        if user is None:  # check mode: what it would be created with
            user = dict(id=None, display_name=entries_by_name[name]['display_name'] or '', email=entries_by_name[name]['email'] or '')
        users[name] = dict(id=user['id'], name=name, display_name=user['display_name'], email=user['email'])
    result = dict(changed=bool(created or removed), users=users, created=created, removed=removed)
    if module._diff and result['changed']:
        before = [user['name'] for user in existing]
        after = [name for name in before if name not in removed] + created
        result['diff'] = dict(before_header='headscale users', after_header='headscale users', before=names_text(before), after=names_text(after))
    return result


KEY_OPTIONS = ('user', 'reusable', 'ephemeral', 'expiration', 'tags')


def key_requests(params):
    """The keys headscale_preauthkey mints, each dict(name, user, reusable, ephemeral, expiration, tags), and every
    problem of them at once: one per item of params['keys'] (name None without keys), an option an item leaves out
    taken from the module's option of the same name."""
    if not params.get('keys'):
        items, prefixes = [dict(name=None)], ['']
    else:
        items = params['keys']
        prefixes = ['keys[%d] (%s): ' % (index, item.get('name')) for index, item in enumerate(items)]
    requests, problems, seen = [], [], set()
    for item, prefix in zip(items, prefixes):
        request = dict(name=item['name'])
        for option in KEY_OPTIONS:
            request[option] = item[option] if item.get(option) is not None else params[option]
        request['tags'] = sorted(dedupe(request['tags']))
        problems.extend(prefix + problem for problem in
                        preauthkey_problems(params['version'], request['user'], request['tags'], request['expiration']))
        if request['name'] is not None:
            if not request['name']:
                problems.append(prefix + 'name: must not be empty')
            elif request['name'] in seen:
                problems.append(prefix + 'name: given twice (a key per name)')
            seen.add(request['name'])
        requests.append(request)
    return requests, problems


def key_user_ids(module, cli, requests):
    """name of user -> its id, for the users of the requests (one `users list`); in check mode a user that does not
    exist yet is a warning and has the id None."""
    names = sorted(set(request['user'] for request in requests if request['user'] is not None))
    if not names:
        return {}
    users = read_state(module, cli, cli.list_users if cli else None, 'users')
    ids = {}
    for name in names:
        matches = users_named(users, name)
        problem = ambiguity_problem(matches, name)
        if problem:
            module.fail_json(msg=problem)
        if matches:
            ids[name] = matches[0]['id']
            continue
        if not module.check_mode:
            module.fail_json(msg='headscale has no user %s (users: %s)' % (name, ', '.join(user['name'] for user in users) or 'none'))
        if cli is not None:
            module.warn('headscale has no user %s yet; a run outside check mode fails unless an earlier task creates it' % name)
        ids[name] = None
    return ids


def mint_key(cli, request, user_id):
    """The key of request, minted: the module's result for it (the key in its field `key`)."""
    minted = cli.create_preauthkey(user_id, request['reusable'], request['ephemeral'], request['expiration'], request['tags'])
    return dict(key=minted['key'], id=minted['id'], user=request['user'], user_id=user_id, reusable=minted['reusable'],
                ephemeral=minted['ephemeral'], tags=sorted(minted['tags']), expiration=minted['expiration'])


def run_preauthkey(module):
    """overlaynet.vpn.headscale_preauthkey: `users list` to find the users' ids (when keys have users), then each key."""
    requests, problems = key_requests(module.params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    cli = cli_for(module)
    user_ids = key_user_ids(module, cli, requests)
    keys = []
    for request in requests:
        user_id = user_ids.get(request['user'])
        if module.check_mode:
            keys.append(dict(id=None, user=request['user'], user_id=user_id, reusable=request['reusable'],
                             ephemeral=request['ephemeral'], tags=request['tags'], expiration=None))
            continue
        try:
            keys.append(mint_key(cli, request, user_id))
        except HeadscaleCLIError as error:
            spent = ' (keys minted before it in this run: %d; unused, they expire)' % len(keys) if keys else ''
            module.fail_json(msg=error.message + spent, rc=error.rc)
    if not module.params.get('keys'):
        return dict(changed=True, **keys[0])
    return dict(changed=True, keys=dict((request['name'], key) for request, key in zip(requests, keys)))


def wait_for_announcements(cli, entries, pairs, seconds):
    """Read the nodes again, every POLL_SECONDS, until every node announces its wanted routes or seconds have passed;
    the pairs of the last read. HeadscaleCLIError when a read fails or a node is gone or ambiguous in between."""
    deadline = time.monotonic() + seconds
    while unannounced(pairs):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(POLL_SECONDS, left))
        nodes = cli.list_nodes()
        pairs, problems = match_nodes(entries, nodes)
        problems += absent_problems(pairs, nodes)
        if problems:
            raise HeadscaleCLIError('; '.join(problems))
    return pairs


def run_routes(module):
    """overlaynet.vpn.headscale_routes: one `nodes list` (more only to wait for announcements), then one
    `nodes approve-routes` per node whose approved routes differ."""
    params = module.params
    wait = params['wait_for_announce']
    entries, problems = normalize_route_nodes(params['nodes'])
    problems = routes_problems(params['version'], wait) + problems
    if problems:
        module.fail_json(msg='; '.join(problems))
    cli = cli_for(module, 'nodes')
    read = []   # [nodes] once read: in check mode, read_state warns of a failed read and returns []

    def list_nodes():
        read.append(cli.list_nodes())
        return read[0]

    nodes = read_state(module, cli, list_nodes if cli else None, 'nodes')
    pairs, problems = match_nodes(entries, nodes)
    if not module.check_mode:
        problems += absent_problems(pairs, nodes)
    elif read:
        for entry, node in pairs:
            if node is None:
                module.warn('headscale has no node %s yet; a run outside check mode fails unless it joins before' % entry['name'])
    if problems:
        module.fail_json(msg='; '.join(problems) + _updated([]))
    if wait and not module.check_mode:
        try:
            pairs = wait_for_announcements(cli, entries, pairs, wait)
        except HeadscaleCLIError as error:
            module.fail_json(msg=error.message + _updated([]), rc=error.rc)
        for name, routes in sorted(unannounced(pairs).items()):
            module.warn('node %s does not announce %s after %d seconds; approved all the same (headscale serves a route '
                        'once the node announces it)' % (name, ', '.join(routes), wait))

    before = dict((entry['name'], node['approved_routes'] if node else []) for entry, node in pairs)
    result_nodes, updated = {}, []
    for entry, node in pairs:
        approved = before[entry['name']]
        if not same_routes(approved, entry['routes']):
            if module.check_mode:
                approved = entry['routes']
            else:
                try:
                    node = cli.approve_routes(node, entry['routes'])
                except HeadscaleCLIError as error:
                    module.fail_json(msg=error.message + _updated(updated), rc=error.rc, updated=updated)
                approved = node['approved_routes']
            updated.append(entry['name'])
        result_nodes[entry['name']] = dict(name=entry['name'], id=node['id'] if node else None, approved_routes=approved,
                                           available_routes=node['available_routes'] if node else [])
    result = dict(changed=bool(updated), nodes=result_nodes, updated=updated)
    if module._diff and updated:
        after = dict((name, item['approved_routes']) for name, item in result_nodes.items())
        result['diff'] = dict(before_header='headscale approved routes', after_header='headscale approved routes',
                              before=routes_text(pairs, before), after=routes_text(pairs, after))
    return result


def run_node_absent(module):
    """overlaynet.vpn.headscale_node: one `nodes list`, then one `nodes delete` per node to go."""
    params = module.params
    entries, problems = normalize_removals(params['nodes'])
    fail_on_input_problems(module, problems)
    cli = cli_for(module, 'nodes')
    nodes = read_state(module, cli, cli.list_nodes if cli else None, 'nodes')
    doomed, problems = nodes_to_delete(entries, nodes)
    if problems:
        module.fail_json(msg='; '.join(problems) + '; nothing was changed')
    deleted = []
    for node in doomed:
        if not module.check_mode:
            try:
                cli.delete_node(node)
            except HeadscaleCLIError as error:
                done = '; done before: deleted %s' % ', '.join(node_text(item) for item in deleted) if deleted else '; nothing was changed'
                module.fail_json(msg=error.message + done, rc=error.rc, deleted=deleted)
        deleted.append(dict(id=node['id'], name=node['name']))
    result = dict(changed=bool(deleted), deleted=deleted)
    if module._diff and deleted:
        result['diff'] = dict(before_header='headscale nodes', after_header='headscale nodes',
                              before=''.join('%s\n' % node_text(node) for node in deleted), after='')
    return result


def _updated(names):
    return '; done before: set the approved routes of %s' % ', '.join(names) if names else '; nothing was changed'
