# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# No headscale can run here: the fake CLI below answers as the upstream sources read say it would
# (github.com/juanfont/headscale). Every output is built the way the CLI builds it: Go's
# json.MarshalIndent(value, "", "\t") of the generated protobuf structs, so keys are their json
# tags, zero values are left out (omitempty), an empty list is null and timestamps are
# {"seconds", "nanos"}. Where each shape comes from is said at each sample.

import ipaddress
import json

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import (
    HeadscaleCLI,
    HeadscaleCLIError,
    approve_routes_argv,
    cli_error,
    cli_version,
    create_preauthkey_argv,
    create_user_argv,
    destroy_user_argv,
    expiration_problem,
    failure_message,
    list_nodes_argv,
    list_users_argv,
    load_json,
    match_nodes,
    missing_routes,
    nodes_named,
    nodes_of,
    normalize_route_nodes,
    normalize_users,
    parse_created_user,
    parse_nodes,
    parse_preauthkey,
    parse_updated_node,
    parse_users,
    plan_users,
    preauthkey_problems,
    read_nodes,
    read_users,
    routes_approved,
    route_key,
    routes_problems,
    same_routes,
    scrub_keys,
    sorted_routes,
    tag_problem,
    timestamp_text,
    unannounced,
    user_name_problem,
    users_unchanged,
)

CREATED = {'seconds': 1764500000, 'nanos': 125000000}   # 2025-11-30T10:53:20Z
EXPIRES = {'seconds': 1764503600, 'nanos': 125000000}   # one hour later
# Key shapes: 0.28+ hscontrol/db/preauth_keys.go (hskey-auth- + 12 + "-" + 64 URL-safe base64
# characters); 0.26/0.27 the same file's generateKey (24 random bytes as hex).
NEW_KEY = 'hskey-auth-Xy3_kQ9-bZ0a-' + 'Qm9ndXNLZXlGb3JUZXN0aW5nT25seS0xMjM0NTY3ODkwYWJjZGVmZ2hpamtsbW4_'[:64]
LEGACY_KEY = '5f2b9c0e7a1d4e3f8b6a0c9d2e1f7a3b5c4d6e8f0a1b2c3d'
MASKED_KEY = 'hskey-auth-Xy3_kQ9-bZ0a-***'
TAGGED_DEVICES = {'id': 2147455555, 'name': 'tagged-devices', 'created_at': {'seconds': -62135596800}, 'display_name': 'Tagged Devices'}


def go_json(value):
    """What json.MarshalIndent(value, "", "\\t") prints (Go also writes ": " after a key)."""
    return json.dumps(value, indent='\t')


def user_json(user_id, name, display_name='', email='', provider='', provider_id=''):
    """One v1.User (gen/go/headscale/v1/user.pb.go, the same at v0.26.0, v0.27.0, v0.28.0, v0.29.2)."""
    item = {'id': user_id, 'name': name, 'created_at': CREATED}
    for key, value in (('display_name', display_name), ('email', email), ('provider_id', provider_id), ('provider', provider)):
        if value:
            item[key] = value
    return item


def node_json(node_id, name, user, version=(0, 29, 2), key=None, tags=(), approved=(), announced=(), hostname=None):
    """One v1.Node (gen/go/headscale/v1/node.pb.go): 0.26/0.27 have forced_tags/valid_tags/invalid_tags,
    0.28+ tags; pre_auth_key is the v1.PreAuthKey the node joined with (a whole legacy key in 0.26/0.27,
    hscontrol/types/preauth_key.go Proto; the masked form in 0.28+). Routes (the same fields 23-25 at
    v0.26.0 to v0.29.2): approved_routes and available_routes as types/node.go Proto sets them (the
    approved list as stored, the announced Hostinfo.RoutableIPs), subnet_routes as grpcv1.go
    nodesToProto does (see subnet_routes()); each left out when empty. name is the host name,
    given_name the (unique) name headscale gave it, here the same unless hostname is given."""
    item = {
        'id': node_id,
        'machine_key': 'mkey:' + '1' * 64,
        'node_key': 'nodekey:%064x' % node_id,
        'disco_key': 'discokey:' + '3' * 64,
        'ip_addresses': ['100.64.0.%d' % node_id, 'fd7a:115c:a1e0::%d' % node_id],
        'name': hostname or name,
        'user': user,
        'last_seen': CREATED,
        'created_at': CREATED,
        'register_method': 1,
        'given_name': name,
        'online': True,
    }
    if key is not None:
        item['pre_auth_key'] = {'user': user, 'id': 1, 'key': key, 'used': True, 'expiration': EXPIRES, 'created_at': CREATED}
    set_routes(item, version, approved, announced)
    if tags and version[:2] >= (0, 28):
        item['tags'] = list(tags)
    elif tags:
        item['forced_tags'] = list(tags)
        item['valid_tags'] = list(tags)
    return item


def sorted_prefixes(routes):
    # tsaddr.SortPrefixes (netipx.ComparePrefix; 0.26-0.28) and slices.SortFunc(netip.Prefix.Compare) (0.29):
    # IPv4 before IPv6, then by prefix length, then by address.
    networks = sorted(set(ipaddress.ip_network(route) for route in routes), key=lambda net: (net.version, net.prefixlen, net.network_address))
    return [str(network) for network in networks]


def subnet_routes(version, approved, announced, exits=True):
    """What the JSON shows as subnet_routes: the announced and approved routes (the primary ones; a single router
    here) without exit routes, and then the exit routes: both once either is served in 0.26/0.27 (types/node.go
    ExitRoutes), each served one in 0.28+. exits=False: what approve-routes prints (its primary routes only)."""
    served = [route for route in announced if route in approved]
    routes = [route for route in served if not route.endswith('/0')]
    served_exits = [route for route in served if route.endswith('/0')]
    if exits and served_exits:
        routes += ['0.0.0.0/0', '::/0'] if version[:2] < (0, 28) else served_exits
    return routes


def set_routes(item, version, approved, announced, exits=True):
    for key in ('approved_routes', 'available_routes', 'subnet_routes'):
        item.pop(key, None)
    served = subnet_routes(version, approved, announced, exits)
    for key, routes in (('approved_routes', list(approved)), ('available_routes', list(announced)), ('subnet_routes', served)):
        if routes:
            item[key] = routes


class FakeHeadscale(object):
    """The headscale CLI of a server host at a version, with its users, nodes and minted keys.

    Answers: cmd/headscale/cli/{users,nodes,preauthkeys}.go at the version's tag. Errors: 0.29
    prints {"error": err.Error()} on stderr (root.go Execute -> utils.go printError); 0.26-0.28
    print {"error": err.Error()} of the raw gRPC error (utils.go ErrorOutput), and nothing at all,
    exit status 255, when they cannot reach the server (log.Fatal with logging off, os.Exit(-1)).
    """

    def __init__(self, version=(0, 29, 2), users=(), nodes=()):
        self.version = version
        self.users = [dict(user) for user in users]
        self.nodes = [dict(node) for node in nodes]
        self.keys = []
        self.commands = []
        self.down = False
        self.next_id = max([user['id'] for user in self.users] + [0]) + 1
        self.override = {}   # command words (e.g. ('preauthkeys', 'create')) -> (rc, stdout, stderr)
        self.announcements = {}   # {n: (node id, routes)}: what a node announces before the n-th nodes list
        self.node_reads = 0

    # -- answers -----------------------------------------------------------------------------

    def error(self, message):
        return 1, '', go_json({'error': message}) + '\n'

    def grpc_error(self, wrap, code, desc):
        # 0.29 wraps the gRPC error with what the command did; 0.26-0.28 print it as it is.
        text = 'rpc error: code = %s desc = %s' % (code, desc)
        if self.version[:2] >= (0, 29):
            text = '%s: %s' % (wrap, text)
        return self.error(text)

    def run(self, argv, **_kwargs):
        self.commands.append(list(argv))
        assert argv[0].endswith('headscale')
        words = [word for word in argv[1:] if not word.startswith('--config=')]
        assert words[-2:] == ['--output', 'json'], 'every command asks for JSON, as two arguments'
        words = words[:-2]
        if self.down:
            if self.version[:2] >= (0, 29):
                return self.error('connecting to headscale: connecting to /var/run/headscale/headscale.sock: context deadline exceeded')
            return 255, '', ''
        if tuple(words[:2]) in self.override:
            return self.override[tuple(words[:2])]
        handler = {('users', 'list'): self.users_list, ('users', 'create'): self.users_create, ('users', 'destroy'): self.users_destroy,
                   ('nodes', 'list'): self.nodes_list, ('nodes', 'approve-routes'): self.nodes_approve_routes,
                   ('nodes', 'delete'): self.nodes_delete,
                   ('preauthkeys', 'create'): self.preauthkeys_create}[tuple(words[:2])]
        return handler(words[2:])

    @staticmethod
    def flags(words):
        values = {}
        for word in words:
            if word.startswith('--'):
                name, _sep, value = word[2:].partition('=')
                values[name] = value if _sep else True
        return values

    def users_list(self, _words):
        # cmd/headscale/cli/users.go listUsersCmd: the []*v1.User of the response, null when empty.
        return 0, go_json(self.users or None) + '\n', ''

    def users_create(self, words):
        name, flags = words[0], self.flags(words[1:])
        if any(user['name'] == name for user in self.users):
            return self.grpc_error('creating user', 'Internal', 'creating user: creating user: UNIQUE constraint failed: users.name')
        user = user_json(self.next_id, name, flags.get('display-name', ''), flags.get('email', ''))
        self.next_id += 1
        self.users.append(user)
        return 0, go_json(user) + '\n', ''

    def users_destroy(self, words):
        flags = self.flags(words)
        assert flags.get('force') is True, 'without --force the CLI asks on the terminal'
        user_id = int(flags['identifier'])
        matches = [user for user in self.users if user['id'] == user_id]
        if len(matches) != 1:
            return self.error('multiple users match query, specify an ID')
        if any((node.get('user') or {}).get('id') == user_id for node in self.nodes):
            return self.grpc_error('destroying user', 'Unknown', 'user not empty: node(s) found')
        self.users.remove(matches[0])
        return 0, go_json({}) + '\n', ''   # v1.DeleteUserResponse has no fields

    def nodes_list(self, _words):
        self.node_reads += 1
        if self.node_reads in self.announcements:
            node_id, routes = self.announcements[self.node_reads]
            node = self.node(node_id)
            set_routes(node, self.version, node.get('approved_routes', []), routes)
        return 0, go_json(self.nodes or None) + '\n', ''

    def node(self, node_id):
        return [node for node in self.nodes if node['id'] == node_id][0]

    def nodes_delete(self, words):
        # cmd/headscale/cli/nodes.go deleteNodeCmd: --identifier (uint64, required), asks on the terminal without
        # --force; it reads the node first. What 0.29.3 printed in the lab: {"Result": "Node deleted"}, and for an id
        # it does not have, rc 1 and "getting node: rpc error: code = NotFound desc = node not found".
        flags = self.flags(words)
        assert flags.get('force') is True, 'without --force the CLI asks on the terminal'
        matches = [node for node in self.nodes if node['id'] == int(flags['identifier'])]
        if not matches:
            return self.grpc_error('getting node', 'NotFound', 'node not found')
        self.nodes.remove(matches[0])
        return 0, go_json({'Result': 'Node deleted'}) + '\n', ''

    def nodes_approve_routes(self, words):
        # cmd/headscale/cli/nodes.go approveRoutesCmd: --identifier (uint64, required) and --routes (a
        # string slice: CSV, "" is the empty list); grpcv1.go SetApprovedRoutes: netip.ParsePrefix each,
        # both exit routes for either, sorted and compacted, stored as they are, whatever the node
        # announces. It prints the updated v1.Node, subnet_routes its primary routes only.
        flags = self.flags(words)
        assert set(flags) == {'identifier', 'routes'}, flags
        routes = flags['routes'].split(',') if flags['routes'] else []
        approved = []
        for route in routes:
            if '/' not in route:
                return self.error('parsing route: netip.ParsePrefix(%s): no \'/\'' % json.dumps(route))
            approved += ['0.0.0.0/0', '::/0'] if route in ('0.0.0.0/0', '::/0') else [route]
        matches = [node for node in self.nodes if node['id'] == int(flags['identifier'])]
        if not matches:
            if self.version[:2] < (0, 27):
                return self.grpc_error('setting approved routes', 'InvalidArgument', 'record not found')
            return self.grpc_error('setting approved routes', 'InvalidArgument', 'node not found in NodeStore: %s' % flags['identifier'])
        node = matches[0]
        set_routes(node, self.version, sorted_prefixes(approved), node.get('available_routes', []))
        printed = dict(node)
        set_routes(printed, self.version, sorted_prefixes(approved), node.get('available_routes', []), exits=False)
        return 0, go_json(printed) + '\n', ''

    def preauthkeys_create(self, words):
        flags = self.flags(words)
        if 'user' not in flags and self.version[:2] < (0, 28):
            return 1, '', 'Error: required flag(s) "user" not set\n'
        user = None
        if 'user' in flags:
            matches = [item for item in self.users if item['id'] == int(flags['user'])]
            if not matches:
                return self.grpc_error('creating preauthkey', 'Unknown', 'user not found')
            user = matches[0]
        tags = flags['tags'].split(',') if 'tags' in flags else []
        # hscontrol/types/preauth_key.go PreAuthKeyNew.Proto (0.28+) / PreAuthKey.Proto (0.26, 0.27).
        key_id = len(self.keys) + 1
        first_key = NEW_KEY if self.version[:2] >= (0, 28) else LEGACY_KEY
        # Every key differs: the first is the constant, later ones end in their id.
        item = {'id': key_id, 'key': first_key if key_id == 1 else first_key[:-2] + '%02d' % key_id}
        if user is not None:
            item = dict(user=user, **item)
        if flags.get('reusable'):
            item['reusable'] = True
        if flags.get('ephemeral'):
            item['ephemeral'] = True
        item['expiration'] = EXPIRES
        item['created_at'] = CREATED
        if tags:
            item['acl_tags'] = sorted(set(tags)) if self.version[:2] >= (0, 28) else tags
        self.keys.append(item)
        return 0, go_json(item) + '\n', ''

    # -- what happened -------------------------------------------------------------------------

    def mutations(self):
        return [command for command in self.commands
                if command[1:3] in (['users', 'create'], ['users', 'destroy'], ['nodes', 'approve-routes'], ['nodes', 'delete'], ['preauthkeys', 'create'])]

    def words(self):
        return [' '.join(command[1:]) for command in self.commands]


def cli(fake, version='0.29.3', config_path=None):
    return HeadscaleCLI(fake.run, version, '/usr/bin/headscale', config_path)


ALICE = user_json(1, 'alice')
BOB = user_json(2, 'bob', display_name='Bob Example', email='bob@example.org')
OIDC_ALICE = user_json(3, 'alice', email='alice@example.org', provider='oidc', provider_id='https://id.example.org/7')


# ---------------------------------------------------------------------------------------------
# Versions and inputs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text', ['0.26.0', '0.27.1', '0.28.0', '0.29.3', 'v0.29.2'])
def test_cli_version_accepts_the_supported_series(text):
    assert cli_version(text)[:2] in ((0, 26), (0, 27), (0, 28), (0, 29))


@pytest.mark.parametrize('text', ['0.25.1', '0.30.0', '1.0.0', 'latest', '0.29', '0.29.0-beta.1'])
def test_cli_version_refuses_others(text):
    with pytest.raises(ValueError):
        cli_version(text)


@pytest.mark.parametrize('name', ['alice', 'bob.smith', 'a1', 'x_y-z', 'alice@example.org', '\u00e9lodie'])
def test_user_names_every_version_takes(name):
    assert user_name_problem(name) is None


@pytest.mark.parametrize('name, fragment', [
    ('', 'non-empty'), (None, 'non-empty'), ('a', 'at least 2'), ('1abc', 'starts with a letter'),
    ('_abc', 'starts with a letter'), ('al ice', "' '"), ('al/ice', "'/'"), ('a@b@c', 'at most one'),
])
def test_user_names_headscale_refuses(name, fragment):
    assert fragment in user_name_problem(name)


def test_tags_are_lower_case_with_their_prefix():
    assert tag_problem('tag:server') is None and tag_problem('tag:web-1') is None
    for bad in ('server', 'tag:Server', 'tag:my server', 'tag:1x', 'tag:', 'tag:a,b', 7):
        assert tag_problem(bad), bad


@pytest.mark.parametrize('text', ['1h', '30m', '90s', '7d', '1w2d', '1y', '2h30m'])
def test_expirations_the_cli_reads(text):
    assert expiration_problem(text) is None


@pytest.mark.parametrize('text', ['', ' 1h', '1h ', '1.5h', '1m1h', 'h', '60', 'forever', None])
def test_expirations_the_cli_refuses(text):
    assert 'not a duration' in expiration_problem(text)


def test_an_expiration_of_zero_is_refused():
    assert 'expires at once' in expiration_problem('0')


def test_normalize_users_takes_names_and_mappings():
    entries, problems = normalize_users(['alice', {'name': 'bob', 'display_name': 'Bob', 'email': 'bob@example.org'},
                                         {'name': 'carol', 'state': 'absent'}])
    assert problems == []
    assert entries == [dict(name='alice', state='present', display_name=None, email=None),
                       dict(name='bob', state='present', display_name='Bob', email='bob@example.org'),
                       dict(name='carol', state='absent', display_name=None, email=None)]


def test_normalize_users_reports_every_problem_at_once():
    _entries, problems = normalize_users(['alice', {'name': 'alice'}, {'name': '1x', 'state': 'gone', 'mail': 'x'}, 7,
                                          {'name': 'dave', 'state': 'absent', 'email': 'd@example.org'}, {'name': 'erin', 'email': 5}])
    assert problems == [
        'users[1]: alice is listed already as users[0]',
        "users[2].mail: unknown key (known keys: name, state, display_name, email)",
        "users[2].name: '1x': a headscale user name starts with a letter",
        "users[2].state: 'gone' must be one of present, absent",
        'users[3]: must be a user name or a mapping with name, state, display_name and email, got int',
        'users[4].email: only with state present',
        'users[5].email: must be a string, got int',
    ]


def test_preauthkey_problems_need_a_user_before_0_28_and_a_user_or_tags_after():
    assert preauthkey_problems('0.29.3', 'alice', [], '1h') == []
    assert preauthkey_problems('0.29.3', None, ['tag:server'], '1h') == []
    assert preauthkey_problems('0.28.0', None, ['tag:server'], '1h') == []
    assert preauthkey_problems('0.27.1', None, ['tag:server'], '1h') == [
        'user: required with headscale 0.27.1 (a key without a user, tags only, needs 0.28 or later)']
    assert preauthkey_problems('0.29.3', None, [], '1h') == ['user: required unless tags are given (a key belongs to a user or to its tags)']


def test_preauthkey_problems_are_reported_together():
    problems = preauthkey_problems('0.31.0', '1x', ['tag:ok', 'Server'], '0')
    assert [problem.split(':')[0] for problem in problems] == ['version', 'user', 'tags[1]', 'expiration']


# ---------------------------------------------------------------------------------------------
# Command lines (cmd/headscale/cli/users.go, nodes.go, preauthkeys.go, root.go)
# ---------------------------------------------------------------------------------------------

def test_list_commands():
    assert list_users_argv('/usr/bin/headscale') == ['/usr/bin/headscale', 'users', 'list', '--output', 'json']
    assert list_nodes_argv('hs', '/etc/hs/config.yaml') == ['hs', 'nodes', 'list', '--output', 'json', '--config=/etc/hs/config.yaml']


def test_create_user_joins_values_to_their_flags_and_leaves_empty_ones_out():
    assert create_user_argv('bob', 'Bob Example', '-bob@example.org', 'hs') == [
        'hs', 'users', 'create', 'bob', '--display-name=Bob Example', '--email=-bob@example.org', '--output', 'json']
    assert create_user_argv('bob', '', None, 'hs') == ['hs', 'users', 'create', 'bob', '--output', 'json']


def test_destroy_user_by_id_without_a_prompt():
    assert destroy_user_argv(12, 'hs') == ['hs', 'users', 'destroy', '--identifier=12', '--force', '--output', 'json']


def test_create_preauthkey_command():
    assert create_preauthkey_argv((0, 29, 3), 3, True, True, '2h', ['tag:web', 'tag:db', 'tag:web'], 'hs') == [
        'hs', 'preauthkeys', 'create', '--user=3', '--expiration=2h', '--reusable', '--ephemeral', '--tags=tag:db,tag:web',
        '--output', 'json']
    assert create_preauthkey_argv((0, 26, 0), 1, executable='hs') == [
        'hs', 'preauthkeys', 'create', '--user=1', '--expiration=1h', '--output', 'json']


def test_a_key_without_a_user_only_from_0_28():
    assert '--user' not in ' '.join(create_preauthkey_argv((0, 28, 0), None, tags=['tag:server']))
    with pytest.raises(ValueError):
        create_preauthkey_argv((0, 27, 0), None, tags=['tag:server'])


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def test_parse_users_of_0_29():
    # users list --output json at v0.29.2: printListOutput -> json.MarshalIndent([]*v1.User).
    stdout = go_json([ALICE, BOB, OIDC_ALICE])
    assert parse_users(stdout) == [
        dict(id=1, name='alice', display_name='', email='', provider=''),
        dict(id=2, name='bob', display_name='Bob Example', email='bob@example.org', provider=''),
        dict(id=3, name='alice', display_name='', email='alice@example.org', provider='oidc'),
    ]


def test_no_users_is_null():
    assert parse_users('null\n') == []


def test_a_log_line_before_the_document_is_skipped():
    assert parse_users('{"level":"warn","message":"deprecated key"}\n' + go_json([ALICE])) == [
        dict(id=1, name='alice', display_name='', email='', provider='')]


@pytest.mark.parametrize('stdout', ['', 'User created', '{"id": "1"}', '[{"name": "alice"}]', '{}'])
def test_unreadable_user_lists(stdout):
    with pytest.raises(ValueError):
        parse_users(stdout)


def test_parse_created_user():
    # users create --output json: the v1.User of CreateUserResponse (users.go createUserCmd).
    assert parse_created_user(go_json(BOB))['id'] == 2


def test_parse_nodes_keeps_only_ids_names_and_owners():
    # nodes list --output json at v0.26.0 (forced_tags, whole legacy key) and v0.29.2 (tagged node under tagged-devices).
    old = parse_nodes(go_json([node_json(1, 'web1', ALICE, (0, 26, 0), key=LEGACY_KEY, tags=['tag:web'])]))
    new = parse_nodes(go_json([node_json(4, 'db1', BOB, key=MASKED_KEY), node_json(5, 'router', TAGGED_DEVICES, tags=['tag:router'])]))
    assert old == [dict(id=1, name='web1', hostname='web1', user_id=1, node_key='nodekey:%064x' % 1, approved_routes=[], available_routes=[])]
    assert new == [dict(id=4, name='db1', hostname='db1', user_id=2, node_key='nodekey:%064x' % 4, approved_routes=[], available_routes=[]),
                   dict(id=5, name='router', hostname='router', user_id=2147455555, node_key='nodekey:%064x' % 5, approved_routes=[],
                        available_routes=[])]
    # The node key is public; the pre-auth key a node joined with (shown whole by 0.26/0.27) is not kept.
    assert LEGACY_KEY not in repr(old) and MASKED_KEY not in repr(new)


def test_a_node_prefers_its_given_name():
    node = node_json(1, 'host-a', ALICE)
    node['given_name'] = 'web-a'
    del node['user']
    assert parse_nodes(go_json([node])) == [dict(id=1, name='web-a', hostname='host-a', user_id=None, node_key='nodekey:%064x' % 1,
                                                 approved_routes=[], available_routes=[])]


def test_parse_preauthkey_of_0_29():
    # preauthkeys create --output json at v0.29.2: printOutput(response.GetPreAuthKey()), PreAuthKeyNew.Proto.
    stdout = go_json({'user': BOB, 'id': 7, 'key': NEW_KEY, 'reusable': True, 'expiration': EXPIRES, 'created_at': CREATED,
                      'acl_tags': ['tag:db', 'tag:web']})
    assert parse_preauthkey(stdout) == dict(id=7, key=NEW_KEY, user_id=2, reusable=True, ephemeral=False, tags=['tag:db', 'tag:web'],
                                            expiration='2025-11-30T11:53:20Z')


def test_parse_preauthkey_of_0_26():
    # v0.26.0: SuccessOutput(response.GetPreAuthKey()), PreAuthKey.Proto; false flags left out.
    stdout = go_json({'user': ALICE, 'id': 1, 'key': LEGACY_KEY, 'expiration': EXPIRES, 'created_at': CREATED})
    assert parse_preauthkey(stdout) == dict(id=1, key=LEGACY_KEY, user_id=1, reusable=False, ephemeral=False, tags=[],
                                            expiration='2025-11-30T11:53:20Z')


@pytest.mark.parametrize('item', [{'id': 1, 'key': MASKED_KEY}, {'id': 1}, {'key': NEW_KEY}, [NEW_KEY]])
def test_parse_preauthkey_refuses_output_without_a_usable_key_and_names_no_value(item):
    with pytest.raises(ValueError) as excinfo:
        parse_preauthkey(go_json(item))
    assert NEW_KEY not in str(excinfo.value) and 'hskey' not in str(excinfo.value)


def test_timestamps():
    assert timestamp_text({'seconds': 0}) == '1970-01-01T00:00:00Z'
    assert timestamp_text(EXPIRES) == '2025-11-30T11:53:20Z'
    assert timestamp_text(None) is None and timestamp_text({'seconds': '1'}) is None


def test_scrub_keys_replaces_both_key_formats():
    text = 'a %s b %s c %s d nodekey:%s' % (NEW_KEY, LEGACY_KEY, MASKED_KEY, '2' * 64)
    assert scrub_keys(text) == 'a (key) b (key) c (key) d nodekey:%s' % ('2' * 64)


def test_cli_error_reads_the_json_error():
    assert cli_error(go_json({'error': 'listing users: rpc error: code = Unavailable desc = connection refused'})) == (
        'listing users: rpc error: code = Unavailable desc = connection refused')


def test_cli_error_keeps_the_last_lines_of_plain_text_and_replaces_keys():
    assert cli_error('2026-11-30T10:00:00Z FTL error loading config\n\nbad key %s\n' % LEGACY_KEY) == (
        '2026-11-30T10:00:00Z FTL error loading config; bad key (key)')
    assert cli_error(go_json({'error': 'auth-key %s not valid' % NEW_KEY})) == 'auth-key (key) not valid'
    assert cli_error('') == ''


def test_a_silent_failure_of_0_26_to_0_28_says_what_it_usually_means():
    assert 'is headscale running?' in failure_message('headscale users list', 255, '', (0, 28, 0))
    assert 'cannot load /etc/hs.yaml' in failure_message('headscale users list', 255, '', (0, 26, 0), '/etc/hs.yaml')
    assert failure_message('headscale users list', 1, '', (0, 29, 3)) == 'headscale users list failed (rc 1): (no error output)'


# ---------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------

def entries(*items):
    result, problems = normalize_users(list(items))
    assert problems == []
    return result


def test_plan_creates_the_missing_and_removes_the_existing():
    plan = plan_users(entries('alice', 'carol', {'name': 'bob', 'state': 'absent'}, {'name': 'dave', 'state': 'absent'}),
                      parse_users(go_json([ALICE, BOB])))
    assert [entry['name'] for entry in plan['create']] == ['carol']
    assert [user['name'] for user in plan['remove']] == ['bob']
    assert sorted(plan['present']) == ['alice', 'carol'] and plan['present']['carol'] is None
    assert plan['problems'] == [] and plan['warnings'] == []


def test_plan_warns_about_display_names_and_emails_it_cannot_change():
    plan = plan_users(entries({'name': 'bob', 'display_name': 'Robert', 'email': 'bob@example.org'}), parse_users(go_json([BOB])))
    assert plan['create'] == [] and plan['warnings'] == [
        "headscale user bob has display_name 'Bob Example', not 'Robert': headscale sets it only when it creates a user "
        "(remove and re-create the user to change it)"]


def test_plan_refuses_a_name_several_users_have():
    plan = plan_users(entries('alice', 'bob'), parse_users(go_json([ALICE, BOB, OIDC_ALICE])))
    assert plan['problems'] == ['2 headscale users are called alice (ids 1, 3 (oidc)): OIDC users need not have unique names, '
                                'and this module cannot tell them apart']
    assert plan['create'] == [] and list(plan['present']) == ['bob']


def test_nodes_of_the_users_to_remove():
    nodes = parse_nodes(go_json([node_json(4, 'db1', BOB), node_json(5, 'db2', BOB), node_json(6, 'web1', ALICE),
                                 node_json(7, 'router', TAGGED_DEVICES)]))
    assert nodes_of(nodes, parse_users(go_json([BOB]))) == {'bob': ['db1 (id 4)', 'db2 (id 5)']}
    assert nodes_of(nodes, []) == {}


# ---------------------------------------------------------------------------------------------
# The CLI class with a fake runner
# ---------------------------------------------------------------------------------------------

def test_the_class_lists_creates_and_destroys():
    fake = FakeHeadscale(users=[ALICE])
    headscale = cli(fake, config_path='/etc/headscale/config.yaml')
    assert [user['name'] for user in headscale.list_users()] == ['alice']
    assert headscale.create_user('bob', 'Bob Example', 'bob@example.org') == dict(
        id=2, name='bob', display_name='Bob Example', email='bob@example.org', provider='')
    headscale.destroy_user(dict(id=1, name='alice'))
    assert [user['name'] for user in fake.users] == ['bob']
    assert fake.words() == [
        'users list --output json --config=/etc/headscale/config.yaml',
        'users create bob --display-name=Bob Example --email=bob@example.org --output json --config=/etc/headscale/config.yaml',
        'users destroy --identifier=1 --force --output json --config=/etc/headscale/config.yaml',
    ]


def test_the_class_refuses_an_unsupported_version():
    with pytest.raises(ValueError):
        cli(FakeHeadscale(), version='0.25.0')


def test_a_user_with_nodes_is_refused_with_a_hint():
    fake = FakeHeadscale(users=[ALICE], nodes=[node_json(1, 'web1', ALICE)])
    with pytest.raises(HeadscaleCLIError) as excinfo:
        cli(fake).destroy_user(dict(id=1, name='alice'))
    assert excinfo.value.message == (
        'headscale users destroy for alice (id 1) failed (rc 1): destroying user: rpc error: code = Unknown desc = '
        'user not empty: node(s) found; headscale deletes no user that still owns nodes (tagged ones included): '
        'delete them first (headscale nodes delete --identifier ID --force)')


@pytest.mark.parametrize('version, expected', [
    ((0, 29, 2), 'headscale users list failed (rc 1): connecting to headscale: connecting to /var/run/headscale/headscale.sock: '
                 'context deadline exceeded'),
    ((0, 27, 0), 'headscale users list failed (rc 255): no error output: headscale 0.27 prints nothing when it cannot load its config '
                 'or reach the server over its unix socket (/var/run/headscale/headscale.sock by default): is headscale running?'),
])
def test_a_server_that_is_down(version, expected):
    fake = FakeHeadscale(version=version)
    fake.down = True
    with pytest.raises(HeadscaleCLIError) as excinfo:
        cli(fake, version='%d.%d.%d' % version).list_users()
    assert excinfo.value.message == expected


def test_create_preauthkey_returns_the_key():
    fake = FakeHeadscale(users=[ALICE])
    minted = cli(fake).create_preauthkey(1, reusable=True, expiration='30m', tags=['tag:web'])
    assert minted['key'] == NEW_KEY and minted['id'] == 1 and minted['tags'] == ['tag:web'] and minted['reusable']
    assert fake.words() == ['preauthkeys create --user=1 --expiration=30m --reusable --tags=tag:web --output json']


def test_create_preauthkey_on_0_26_returns_a_legacy_key():
    fake = FakeHeadscale(version=(0, 26, 1), users=[ALICE])
    assert cli(fake, version='0.26.1').create_preauthkey(1)['key'] == LEGACY_KEY


def test_unreadable_key_output_is_never_quoted():
    fake = FakeHeadscale(users=[ALICE])
    fake.override[('preauthkeys', 'create')] = (0, 'Key: %s\n' % NEW_KEY, '')
    with pytest.raises(HeadscaleCLIError) as excinfo:
        cli(fake).create_preauthkey(1)
    assert NEW_KEY not in excinfo.value.message and 'hskey' not in excinfo.value.message
    assert 'a key may have been minted' in excinfo.value.message


def test_a_failure_that_echoes_a_key_is_scrubbed():
    fake = FakeHeadscale(users=[ALICE])
    fake.override[('preauthkeys', 'create')] = (1, '', go_json({'error': 'creating preauthkey: duplicate key %s' % LEGACY_KEY}))
    with pytest.raises(HeadscaleCLIError) as excinfo:
        cli(fake).create_preauthkey(1)
    assert excinfo.value.message == 'headscale preauthkeys create failed (rc 1): creating preauthkey: duplicate key (key)'


def test_an_unknown_user_id_is_headscales_error():
    with pytest.raises(HeadscaleCLIError) as excinfo:
        cli(FakeHeadscale()).create_preauthkey(9)
    assert excinfo.value.message.endswith('creating preauthkey: rpc error: code = Unknown desc = user not found')


def test_load_json_never_quotes_its_input():
    with pytest.raises(ValueError) as excinfo:
        load_json('garbage %s' % NEW_KEY)
    assert NEW_KEY not in str(excinfo.value)


# ---------------------------------------------------------------------------------------------
# Routes (headscale_routes)
# ---------------------------------------------------------------------------------------------

ROUTER = node_json(3, 'site-router', ALICE, approved=['10.20.0.0/16'], announced=['10.20.0.0/16', 'fd00:20::/64'])
GATEWAY = node_json(4, 'gw1', TAGGED_DEVICES, announced=['0.0.0.0/0', '::/0'], tags=['tag:exit'])


def route_entries(*items):
    result, problems = normalize_route_nodes(list(items))
    assert problems == []
    return result


def test_normalize_route_nodes_makes_the_whole_wanted_list():
    assert route_entries({'name': 'site-router', 'routes': ['fd00:20::/64', '10.20.0.0/16', '10.20.0.0/16', '192.168.1.0/24']},
                         {'name': 'gw1', 'exit_node': True}, {'name': 'old'}) == [
        dict(name='site-router', routes=['10.20.0.0/16', '192.168.1.0/24', 'fd00:20::/64']),
        dict(name='gw1', routes=['0.0.0.0/0', '::/0']),
        dict(name='old', routes=[]),
    ]


def test_either_exit_route_means_both():
    # grpcv1.go SetApprovedRoutes adds both halves for either; wanting one alone would never converge.
    assert route_entries({'name': 'gw1', 'routes': ['::/0', '10.0.0.0/8']})[0]['routes'] == ['0.0.0.0/0', '10.0.0.0/8', '::/0']
    assert route_entries({'name': 'gw1', 'routes': ['0.0.0.0/0'], 'exit_node': False})[0]['routes'] == ['0.0.0.0/0', '::/0']


def test_routes_are_written_canonically():
    assert route_entries({'name': 'r', 'routes': ['10.0.0.0/255.0.0.0', 'FD00:0020:0000::/64']})[0]['routes'] == ['10.0.0.0/8', 'fd00:20::/64']


def test_normalize_route_nodes_reports_every_problem_at_once():
    _entries, problems = normalize_route_nodes([
        {'name': 'r1', 'routes': ['10.20.0.1/16', '10.0.0.0', 'fe80::%eth0/64', 5]},
        {'name': 'r1'},
        {'name': '', 'exit_node': 'yes', 'route': ['10.0.0.0/8']},
        {'routes': '10.0.0.0/8'},
        'r2',
    ])
    assert problems == [
        'nodes[0].routes: 10.20.0.1/16 has host bits set (did you mean 10.20.0.0/16?)',
        "nodes[0].routes: '10.0.0.0' is not a CIDR prefix (address/length)",
        'nodes[0].routes: 5 is not a CIDR prefix (address/length)',
        'nodes[0].routes: fe80::%eth0/64 has an IPv6 zone, which headscale refuses in a route',
        'nodes[1]: r1 is listed already as nodes[0]',
        'nodes[2].route: unknown key (known keys: name, routes, exit_node)',
        "nodes[2].name: must be the name of a headscale node (a non-empty string), got ''",
        "nodes[2].exit_node: must be true or false, got 'yes'",
        'nodes[3].name: must be the name of a headscale node (a non-empty string), got None',
        'nodes[3].routes: must be a list of CIDR prefixes, got str',
        'nodes[4]: must be a mapping with name, routes and exit_node, got str',
    ]


def test_routes_problems():
    assert routes_problems('0.29.3', 0) == [] and routes_problems('0.26.0', 3600) == []
    assert routes_problems('0.25.0', -1) == ['version: 0.25.0 is not supported (supported: 0.26.x, 0.27.x, 0.28.x, 0.29.x)',
                                             'wait_for_announce: -1 is out of range (0-3600)']


def test_routes_compare_however_they_are_written():
    # Go's netip writes ::ffff:10.0.0.0/104, Python ::ffff:a00:0/104; host bits count (netip keeps them).
    assert same_routes(['::ffff:10.0.0.0/104', '10.0.0.0/8'], ['10.0.0.0/8', '::ffff:a00:0/104'])
    assert not same_routes(['10.0.0.5/8'], ['10.0.0.0/8'])
    assert not same_routes(['10.0.0.0/8'], ['10.0.0.0/8', '::/0'])
    assert route_key('garbage') == (0, 0, 0, 'garbage')


def test_routes_sort_as_headscale_sorts_them():
    # netipx.ComparePrefix / netip.Prefix.Compare: family, then prefix length, then address.
    assert sorted_routes(['fd00::/64', '192.168.1.0/24', '10.0.0.0/8', '::/0', '10.1.0.0/24', '0.0.0.0/0', '10.0.0.0/8']) == [
        '0.0.0.0/0', '10.0.0.0/8', '10.1.0.0/24', '192.168.1.0/24', '::/0', 'fd00::/64']
    assert missing_routes(['10.0.0.0/8', '::/0'], ['::/0']) == ['10.0.0.0/8']


def test_approve_routes_command():
    # nodes.go approveRoutesCmd at v0.26.0, v0.27.0, v0.28.0, v0.29.2: --identifier/-i uint64, --routes/-r string slice.
    assert approve_routes_argv(3, ['10.20.0.0/16', 'fd00:20::/64'], 'hs', '/etc/hs.yaml') == [
        'hs', 'nodes', 'approve-routes', '--identifier=3', '--routes=10.20.0.0/16,fd00:20::/64', '--output', 'json', '--config=/etc/hs.yaml']
    # pflag readAsCSV: an empty value is the empty list, which clears the approved routes.
    assert approve_routes_argv(3, [], 'hs') == ['hs', 'nodes', 'approve-routes', '--identifier=3', '--routes=', '--output', 'json']


@pytest.mark.parametrize('version', [(0, 26, 0), (0, 27, 0), (0, 28, 0), (0, 29, 2)])
def test_parse_nodes_keeps_the_routes(version):
    node = node_json(3, 'site-router', ALICE, version, approved=['10.20.0.0/16', '0.0.0.0/0', '::/0'],
                     announced=['10.20.0.0/16', 'fd00:20::/64', '0.0.0.0/0', '::/0'])
    assert 'subnet_routes' in node
    assert parse_nodes(go_json([node])) == [dict(id=3, name='site-router', hostname='site-router', user_id=1, node_key='nodekey:%064x' % 3,
                                                 approved_routes=['10.20.0.0/16', '0.0.0.0/0', '::/0'],
                                                 available_routes=['10.20.0.0/16', 'fd00:20::/64', '0.0.0.0/0', '::/0'])]


def test_parse_updated_node():
    assert parse_updated_node(go_json(ROUTER))['approved_routes'] == ['10.20.0.0/16']
    with pytest.raises(ValueError):
        parse_updated_node(go_json({'approved_routes': ['10.0.0.0/8']}))


def test_nodes_are_found_by_given_name_then_host_name():
    nodes = parse_nodes(go_json([node_json(1, 'web', ALICE, hostname='host-a'), node_json(2, 'web-1', ALICE, hostname='web'),
                                 node_json(3, 'db', ALICE, hostname='box'), node_json(4, 'db-1', ALICE, hostname='box')]))
    assert [node['id'] for node in nodes_named(nodes, 'web')] == [1]
    assert [node['id'] for node in nodes_named(nodes, 'host-a')] == [1]
    assert [node['id'] for node in nodes_named(nodes, 'box')] == [3, 4]
    assert nodes_named(nodes, 'nothing') == []


def test_match_nodes_refuses_a_host_name_several_nodes_have():
    nodes = parse_nodes(go_json([node_json(3, 'db', ALICE, hostname='box'), node_json(4, 'db-1', ALICE, hostname='box'), ROUTER]))
    pairs, problems = match_nodes(route_entries({'name': 'box'}, {'name': 'site-router'}, {'name': 'new'}), nodes)
    assert [(entry['name'], node and node['id']) for entry, node in pairs] == [('site-router', 3), ('new', None)]
    assert problems == ['2 headscale nodes have the host name box and none has it as given name (db (id 3), db-1 (id 4)): '
                        'name the node by its given name, which is unique (headscale nodes list shows it)']


def test_unannounced_routes():
    pairs, _problems = match_nodes(route_entries({'name': 'site-router', 'routes': ['10.20.0.0/16', '10.30.0.0/16']},
                                                 {'name': 'gw1', 'exit_node': True}, {'name': 'new', 'routes': ['10.9.0.0/16']}),
                                   parse_nodes(go_json([ROUTER, GATEWAY])))
    assert unannounced(pairs) == {'site-router': ['10.30.0.0/16']}


def test_the_class_approves_exactly_the_given_routes():
    fake = FakeHeadscale(users=[ALICE], nodes=[ROUTER])
    headscale = cli(fake)
    router = headscale.list_nodes()[0]
    updated = headscale.approve_routes(router, ['10.20.0.0/16', 'fd00:20::/64', '192.168.5.0/24'])
    assert updated['approved_routes'] == ['10.20.0.0/16', '192.168.5.0/24', 'fd00:20::/64']
    assert updated['available_routes'] == ['10.20.0.0/16', 'fd00:20::/64']
    assert headscale.approve_routes(router, [])['approved_routes'] == []
    assert 'approved_routes' not in fake.node(3) and 'subnet_routes' not in fake.node(3)
    assert fake.words()[1:] == ['nodes approve-routes --identifier=3 --routes=10.20.0.0/16,fd00:20::/64,192.168.5.0/24 --output json',
                                'nodes approve-routes --identifier=3 --routes= --output json']


@pytest.mark.parametrize('version', [(0, 26, 1), (0, 29, 2)])
def test_headscale_approves_both_exit_routes_for_either(version):
    fake = FakeHeadscale(version=version, nodes=[GATEWAY])
    headscale = cli(fake, version='%d.%d.%d' % version)
    assert headscale.approve_routes(headscale.list_nodes()[0], ['0.0.0.0/0'])['approved_routes'] == ['0.0.0.0/0', '::/0']
    assert fake.node(4)['subnet_routes'] == ['0.0.0.0/0', '::/0']


def test_a_refused_approval_is_headscales_error():
    fake = FakeHeadscale(nodes=[ROUTER])
    with pytest.raises(HeadscaleCLIError) as excinfo:
        cli(fake).approve_routes(dict(id=9, name='ghost'), ['10.0.0.0/8'])
    assert excinfo.value.message == ('headscale nodes approve-routes for ghost (id 9) failed (rc 1): setting approved routes: rpc error: '
                                     'code = InvalidArgument desc = node not found in NodeStore: 9')


def fake_executable(tmp_path):
    executable = tmp_path / 'headscale'
    executable.write_text('#!/bin/sh\n')
    executable.chmod(0o755)
    return executable


def test_the_probe_reads_the_users_like_the_module_and_nothing_from_a_server_that_does_not_answer(tmp_path):
    executable = fake_executable(tmp_path)
    fake = FakeHeadscale(users=[ALICE, BOB])
    users = read_users(fake.run, str(executable))
    assert [user['name'] for user in users] == ['alice', 'bob']
    assert users_unchanged(['alice', 'bob'], users) and not users_unchanged(['alice', 'carol'], users)
    fake.down = True
    assert read_users(fake.run, str(executable)) is None
    assert read_users(fake.run, str(tmp_path / 'missing')) is None


def test_the_probe_reads_the_nodes_like_the_routes_module_and_tells_which_routes_are_approved(tmp_path):
    executable = fake_executable(tmp_path)
    fake = FakeHeadscale(nodes=[ROUTER, GATEWAY])
    nodes = read_nodes(fake.run, str(executable))
    assert [(node['name'], node['approved_routes']) for node in nodes] == [('site-router', ['10.20.0.0/16']), ('gw1', [])]
    assert 'hskey' not in repr(nodes)
    assert routes_approved(dict(name='site-router', routes=['10.20.0.0/16']), nodes)
    assert not routes_approved(dict(name='site-router', routes=['10.20.0.0/16', 'fd00:20::/64']), nodes)
    assert not routes_approved(dict(name='gw1', routes=[], exit_node=True), nodes)
    assert not routes_approved(dict(name='ghost', routes=[]), nodes)
    assert not routes_approved(dict(name='site-router', routes=['not a route']), nodes)
    assert not routes_approved(dict(name='site-router', routes=['10.20.0.0/16']), None)
    fake.down = True
    assert read_nodes(fake.run, str(executable)) is None
    assert read_nodes(fake.run, str(tmp_path / 'missing')) is None


def test_a_node_is_deleted_by_id_with_force():
    fake = FakeHeadscale(nodes=[ROUTER, GATEWAY])
    cli(fake).delete_node(dict(id=3, name='site-router'))
    assert [node['id'] for node in fake.nodes] == [4]
    with pytest.raises(HeadscaleCLIError) as excinfo:
        cli(fake).delete_node(dict(id=3, name='site-router'))
    assert excinfo.value.message.startswith('headscale nodes delete for site-router (id 3) failed (rc 1)')
