# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _headscale_inventory as inventory
from ansible_collections.overlaynet.vpn.plugins.module_utils._tailnet_names import lost_on_server

GROUPS = {'headscale_servers': ['hs1'], 'tailscale_nodes': ['ts1', 'ts2', 'ts3']}


def server(**extra):
    variables = {
        'headscale_server_url': 'https://hs1.example.net',
        'headscale_install_source': 'url',
        'headscale_install_checksum': 'sha256:' + 'a' * 64,
        'headscale_users': ['lab', 'ops'],
        'headscale_dns': {'base_domain': 'tailnet.example.org'},
    }
    variables.update(extra)
    return variables


def node(**extra):
    variables = {'tailscale_user': 'lab'}
    variables.update(extra)
    return variables


def tailnet(hs1=None, **nodes):
    hostvars = {'hs1': server() if hs1 is None else hs1}
    for name in ('ts1', 'ts2', 'ts3'):
        hostvars[name] = nodes.get(name, node())
    return hostvars


def errors_of(hostvars, groups=None):
    return inventory.validate(hostvars, GROUPS if groups is None else groups)


def test_a_valid_tailnet():
    assert errors_of(tailnet()) == []


def test_the_server_config_checks_run_too():
    errors = errors_of(tailnet(hs1=server(headscale_extra_config={'dns_config': {'magic_dns': True}})))
    assert any(error.startswith('host hs1: headscale_extra_config.dns_config') for error in errors), errors


def test_an_empty_mapping_in_extra_config_changes_nothing():
    hostvars = tailnet(hs1=server(headscale_extra_config={'dns_config': {}}))
    assert errors_of(hostvars) == []
    assert 'dns_config' not in inventory.server_plan(hostvars, GROUPS, 'hs1')['config']


def test_users_and_policy_of_the_server_are_checked():
    errors = errors_of(tailnet(hs1=server(headscale_users=['1bad'], headscale_policy={'acls': 'no'})))
    assert any('host hs1: headscale_users[0].name' in error for error in errors), errors
    assert any(error.startswith('host hs1: headscale_policy') for error in errors), errors


def test_headscale_has_no_package():
    errors = errors_of(tailnet(hs1=server(headscale_install_source='package')))
    assert any('host hs1: headscale_install_source: headscale has no package' in error for error in errors), errors


def test_a_url_install_needs_a_checksum():
    errors = errors_of(tailnet(hs1=server(headscale_install_checksum='')))
    assert any(error.startswith('host hs1: headscale_install_checksum') for error in errors), errors


def test_a_node_needs_a_known_user():
    errors = errors_of(tailnet(ts1=node(tailscale_user='mallory')))
    assert errors == ["host ts1: tailscale_user: 'mallory' is not a user of hs1 (its headscale_users: lab, ops)"]


def test_a_node_without_user_needs_tags_and_0_28():
    assert errors_of(tailnet(ts1={})) == [
        'host ts1: tailscale_user: required unless tailscale_tags are given (a node belongs to a user of hs1 or to its tags)']
    old = tailnet(hs1=server(headscale_version='0.27.1'), ts1={'tailscale_tags': ['tag:web']})
    assert any('host ts1: tailscale_user: required with headscale 0.27.1' in error for error in errors_of(old))
    assert errors_of(tailnet(ts1={'tailscale_tags': ['tag:web']})) == []


def test_tags_need_an_owner_in_the_policy():
    hostvars = tailnet(hs1=server(headscale_policy={'tag_owners': {'web': ['lab']}, 'acls': []}),
                       ts1=node(tailscale_tags=['tag:web']), ts2=node(tailscale_tags=['tag:db', 'Tag:x']))
    errors = errors_of(hostvars)
    assert any(error.startswith('host ts2: tailscale_tags[0]: tag:db has no owner') for error in errors), errors
    assert any(error.startswith('host ts2: tailscale_tags[1]:') for error in errors), errors
    assert not any(error.startswith('host ts1') for error in errors)


def test_node_settings_are_checked():
    hostvars = tailnet(ts1=node(tailscale_advertise_routes=['10.1.0.1/24'], tailscale_accept_dns='yes', tailscale_networking='wg',
                                tailscale_port=70000, tailscale_key_expiration='forever', tailscale_hostname='Bad_Name',
                                tailscale_firewall='on'))
    errors = errors_of(hostvars)
    for variable in ('tailscale_advertise_routes', 'tailscale_accept_dns', 'tailscale_networking', 'tailscale_port',
                     'tailscale_key_expiration', 'tailscale_hostname', 'tailscale_firewall'):
        assert any(error.startswith('host ts1: %s' % variable) for error in errors), (variable, errors)


def test_host_names_are_unique_per_tailnet():
    errors = errors_of(tailnet(ts2=node(tailscale_hostname='ts1')))
    assert errors == ['host ts2: tailscale_hostname: ts1 is also the name of host ts1 on https://hs1.example.net; each node of a tailnet needs its own']


def test_the_server_must_be_named_when_there_are_several():
    groups = {'headscale_servers': ['hs1', 'hs2'], 'tailscale_nodes': ['ts1']}
    hostvars = {'hs1': server(), 'hs2': server(headscale_server_url='https://hs2.example.net'), 'ts1': node()}
    assert errors_of(hostvars, groups)[0].startswith('host ts1: tailscale_server: required: the inventory has 2 present headscale servers')
    hostvars['ts1'] = node(tailscale_server='hs3')
    assert errors_of(hostvars, groups) == ["host ts1: tailscale_server: 'hs3' is not a present host of group headscale_servers"]
    hostvars['ts1'] = node(tailscale_server='hs2')
    assert errors_of(hostvars, groups) == []


def test_a_server_outside_the_inventory_needs_a_url_and_a_key():
    groups = {'tailscale_nodes': ['ts1']}
    assert errors_of({'ts1': {'tailscale_login_server': 'http://hs.example.net'}}, groups) == [
        "host ts1: tailscale_login_server: 'http://hs.example.net' must be the https:// URL of the headscale server",
        'host ts1: tailscale_auth_key: required with tailscale_login_server (a server outside the inventory mints no key for this node)']
    assert errors_of({'ts1': {'tailscale_login_server': 'https://hs.example.net', 'tailscale_auth_key': 'k'}}, groups) == []


def test_a_node_being_removed_is_not_checked():
    assert errors_of(tailnet(ts1={'tailscale_state': 'absent', 'tailscale_user': 'nobody'})) == []


def test_a_node_only_installed_joins_nothing_and_is_nobodys_peer():
    # Installed for an image to clone: nothing of a join is checked, and it is no peer of the others.
    hostvars = tailnet(ts1={'tailscale_state': 'installed', 'tailscale_user': 'nobody'})
    assert errors_of(hostvars) == []
    assert inventory.node_plan(hostvars, GROUPS, 'ts1')['state'] == 'installed'
    assert inventory.peers_records(hostvars, GROUPS, ['ts1'])['ts1']['peers'] == []
    assert 'ts1' not in [peer['peer'] for peer in inventory.peers_records(hostvars, GROUPS, ['ts2'])['ts2']['peers']]
    assert errors_of(tailnet(ts1={'tailscale_state': 'joined'})) == [
        "host ts1: tailscale_state: 'joined' must be one of present, installed, absent"]


def test_messages_never_show_the_auth_key():
    groups = {'tailscale_nodes': ['ts1']}
    errors = errors_of({'ts1': {'tailscale_login_server': 'ftp://x', 'tailscale_auth_key': 'hskey-auth-secret'}}, groups)
    assert errors and not any('hskey-auth-secret' in error for error in errors)


def test_server_plan_without_policy_leaves_the_policy_path_empty():
    plan = inventory.server_plan(tailnet(), GROUPS, 'hs1')
    assert plan['policy'] is None
    assert plan['config']['policy'] == {'mode': 'file', 'path': ''}
    assert plan['policy_path'] == ''
    assert plan['tls_from_pki'] is True
    assert plan['subject_alt_names'] == ['DNS:hs1.example.net']
    assert plan['tcp_ports'] == [443] and plan['udp_ports'] == [3478]
    assert plan['database_path'] == '/var/lib/headscale/db.sqlite'
    assert plan['database'] == 'sqlite:/var/lib/headscale/db.sqlite'
    assert [user['name'] for user in plan['users']] == ['lab', 'ops']


@pytest.mark.parametrize('postgres, expected', [
    ({'host': 'db1', 'name': 'headscale', 'user': 'hs', 'password': 'pg-secret'}, 'postgres:hs@db1:5432/headscale'),
    ({'host': '/run/postgresql', 'port': None, 'name': 'headscale', 'user': 'hs'}, 'postgres:hs@/run/postgresql/headscale'),
])
def test_server_plan_names_a_postgres_database_without_its_password(postgres, expected):
    hs1 = dict(server(), headscale_database={'type': 'postgres', 'postgres': postgres})
    plan = inventory.server_plan(tailnet(hs1=hs1), GROUPS, 'hs1')
    assert plan['database'] == expected and plan['database_path'] is None
    assert 'pg-secret' not in json.dumps(plan)


def test_server_plan_with_policy():
    policy = {'acls': [{'action': 'accept', 'src': ['lab'], 'dst': ['*:*']}]}
    plan = inventory.server_plan(tailnet(hs1=server(headscale_policy=policy)), GROUPS, 'hs1')
    assert json.loads(plan['policy']) == {'acls': [{'action': 'accept', 'src': ['lab@'], 'dst': ['*:*']}]}
    assert plan['policy_path'] == '/etc/headscale/policy.json'


def test_server_plan_with_certificates_of_your_own():
    tls = {'cert_path': '/etc/ssl/hs.crt', 'key_path': '/etc/ssl/hs.key'}
    plan = inventory.server_plan(tailnet(hs1=server(headscale_tls=tls)), GROUPS, 'hs1')
    assert plan['tls_from_pki'] is False
    assert (plan['cert_path'], plan['key_path']) == ('/etc/ssl/hs.crt', '/etc/ssl/hs.key')


def test_the_ca_of_a_server_is_beside_its_inventory_unless_the_inventory_names_a_root():
    hostvars = tailnet(hs1=server(inventory_dir='/srv/inventory', playbook_dir='/srv/playbooks'))
    assert inventory.server_plan(hostvars, GROUPS, 'hs1')['ca'] == {'path': '/srv/inventory/headscale-pki/hs1',
                                                                    'common_name': 'overlaynet.vpn headscale CA hs1'}
    hostvars = tailnet(hs1=server(playbook_dir='/srv/playbooks'))
    assert inventory.server_plan(hostvars, GROUPS, 'hs1')['ca']['path'] == '/srv/playbooks/headscale-pki/hs1'
    hostvars = tailnet(hs1=server(inventory_dir='/srv/inventory', headscale_pki_root='/srv/pki/'))
    assert inventory.server_plan(hostvars, GROUPS, 'hs1')['ca']['path'] == '/srv/pki/hs1'


def test_a_node_trusts_the_ca_its_server_is_signed_with():
    hostvars = tailnet(hs1=server(headscale_pki_root='/srv/pki'))
    assert inventory.node_plan(hostvars, GROUPS, 'ts1')['server_ca_file'] == '/srv/pki/hs1/ca.crt'
    tls = {'cert_path': '/etc/ssl/hs.crt', 'key_path': '/etc/ssl/hs.key'}
    assert inventory.node_plan(tailnet(hs1=server(headscale_tls=tls)), GROUPS, 'ts1')['server_ca_file'] is None


def test_only_missing_cas_of_the_servers_among_the_hosts_are_to_make(tmp_path):
    hostvars = tailnet(hs1=server(headscale_pki_root=str(tmp_path)))
    wanted = [{'host': 'hs1', 'path': '%s/hs1' % tmp_path, 'common_name': 'overlaynet.vpn headscale CA hs1'}]
    assert inventory.cas_to_make(hostvars, GROUPS, ['hs1', 'ts1']) == wanted
    assert inventory.cas_to_make(hostvars, GROUPS, ['ts1']) == []
    (tmp_path / 'hs1').mkdir()
    (tmp_path / 'hs1' / 'ca.crt').write_text('certificate')
    assert inventory.cas_to_make(hostvars, GROUPS, ['hs1']) == wanted
    (tmp_path / 'hs1' / 'ca.key').write_text('key')
    assert inventory.cas_to_make(hostvars, GROUPS, ['hs1']) == []
    tls = {'cert_path': '/etc/ssl/hs.crt', 'key_path': '/etc/ssl/hs.key'}
    assert inventory.cas_to_make(tailnet(hs1=server(headscale_tls=tls)), GROUPS, ['hs1']) == []
    assert inventory.cas_to_make(tailnet(hs1=server(headscale_state='absent')), GROUPS, ['hs1']) == []


def test_environment_holds_the_secrets_quoted():
    database = {'type': 'postgres', 'postgres': {'host': 'db', 'name': 'hs', 'user': 'hs', 'password': 'p"w\\1'}}
    text = inventory.environment_text(tailnet(hs1=server(headscale_database=database)), 'hs1')
    assert text == 'HEADSCALE_DATABASE_POSTGRES_PASS="p\\"w\\\\1"\n'
    assert inventory.environment_text(tailnet(), 'hs1') == ''
    assert inventory.server_plan(tailnet(hs1=server(headscale_database=database)), GROUPS, 'hs1')['has_secret_environment'] is True


def test_node_plan():
    hostvars = tailnet(ts3=node(tailscale_advertise_routes=['10.213.1.0/24'], tailscale_advertise_exit_node=True,
                                tailscale_tags=['tag:b', 'tag:a']))
    plan = inventory.node_plan(hostvars, GROUPS, 'ts3')
    assert plan['server'] == 'hs1'
    assert plan['login_server'] == 'https://hs1.example.net'
    assert plan['hostname'] == 'ts3'
    assert plan['tags'] == ['tag:a', 'tag:b']
    assert plan['routes'] == ['10.213.1.0/24', '0.0.0.0/0', '::/0']
    assert plan['server_tls_from_pki'] is True
    assert plan['package'] is True


def test_the_node_result_is_the_join_then_the_kept_settings_then_the_probe():
    joined = {'changed': True, 'tailscale_ips': ['100.64.0.9']}
    kept = {'changed': False, 'tailscale_ips': ['100.64.0.8']}
    skipped = {'changed': False, 'skipped': True}
    probe = {'tailscale_state': {'status': {'tailscale_ips': ['100.64.0.7'], 'backend_state': 'Running'}, 'prefs': {}}}
    assert inventory.node_result({'tailscale__node_joined': joined, 'tailscale__node_kept': kept, 'tailscale__probe': probe}) == joined
    assert inventory.node_result({'tailscale__node_joined': skipped, 'tailscale__node_kept': kept, 'tailscale__probe': probe}) == kept
    assert inventory.node_result({'tailscale__node_joined': skipped, 'tailscale__node_kept': skipped, 'tailscale__probe': probe}) == {
        'changed': False, 'tailscale_ips': ['100.64.0.7']}
    assert inventory.node_result({'tailscale__probe': probe})['tailscale_ips'] == ['100.64.0.7']
    assert inventory.node_result({'tailscale__probe': {}}) is None
    assert inventory.node_result({}) is None


def test_route_approvals_only_for_joined_nodes_with_unapproved_routes():
    def host(name, routes, ips=('100.64.0.1',), exit_node=False, changed=False):
        plan = {'state': 'present', 'server': 'hs1', 'server_version': '0.29.3', 'hostname': name, 'advertise_routes': list(routes),
                'advertise_exit_node': exit_node, 'routes': list(routes) + (['0.0.0.0/0', '::/0'] if exit_node else [])}
        # headscale sends no node its own approved routes: the node's result never shows them.
        return {'tailscale__plan': plan, 'tailscale__node_kept': {'tailscale_ips': list(ips), 'approved_routes': [], 'changed': changed}}

    def server_node(node_id, name, approved):
        return {'id': node_id, 'name': name, 'hostname': name, 'user_id': 1, 'approved_routes': approved, 'available_routes': approved}

    nodes = [host('b', ['10.1.0.0/24']), host('a', [], exit_node=True), host('c', ['10.2.0.0/24']),
             host('d', []), host('e', ['10.3.0.0/24'], ips=()), host('f', ['10.4.0.0/24'], changed=True),
             host('g', ['10.5.0.0/24'])]
    server_nodes = {'hs1': [server_node(1, 'a', ['0.0.0.0/0', '::/0']), server_node(2, 'c', ['10.2.0.0/24']),
                            server_node(3, 'f', ['10.4.0.0/24']), server_node(4, 'b', ['10.9.0.0/24'])]}
    # Without the server's reading, every joined node with routes is approved (headscale_routes then changes nothing
    # where they are approved already).
    assert [node['name'] for node in inventory.route_approvals(nodes)['hs1']['nodes']] == ['a', 'b', 'c', 'f', 'g']
    # With it: a (exit node) and c are approved; b has other routes approved; f changed in this run (it may have
    # joined again as a new node of the same name); g is not on the server yet.
    assert inventory.route_approvals(nodes, server_nodes) == {'hs1': {'version': '0.29.3', 'nodes': [
        {'name': 'b', 'routes': ['10.1.0.0/24'], 'exit_node': False},
        {'name': 'f', 'routes': ['10.4.0.0/24'], 'exit_node': False},
        {'name': 'g', 'routes': ['10.5.0.0/24'], 'exit_node': False}]}}
    # Once the server shows b's routes and g: only f, which changed in this run.
    server_nodes['hs1'][3] = server_node(4, 'b', ['10.1.0.0/24'])
    server_nodes['hs1'].append(server_node(5, 'g', ['10.5.0.0/24']))
    assert [node['name'] for node in inventory.route_approvals(nodes, server_nodes)['hs1']['nodes']] == ['f']
    del nodes[5]
    assert inventory.route_approvals(nodes, server_nodes) == {}


def test_a_node_is_lost_on_its_server_when_no_server_node_has_its_key():
    key = 'nodekey:' + 'ab' * 32
    status = {'have_node_key': True, 'node_key': key}
    server_nodes = [{'id': 1, 'node_key': 'nodekey:' + 'cd' * 32}]
    assert lost_on_server(status, server_nodes) is True
    assert lost_on_server(status, []) is True
    assert lost_on_server(status, server_nodes + [{'id': 2, 'node_key': key}]) is False
    # Not read on either side, or no login to lose: nothing to tell.
    assert lost_on_server(status, None) is False
    assert lost_on_server(None, server_nodes) is False
    assert lost_on_server({'have_node_key': False, 'node_key': None}, server_nodes) is False
    assert lost_on_server({'have_node_key': True, 'node_key': None}, server_nodes) is False


def test_peers_records_of_several_hosts_read_each_node_once(monkeypatch):
    groups = {'headscale_servers': ['hs1', 'hs2'], 'tailscale_nodes': ['ts1', 'ts2', 'ts3', 'ts4']}
    hostvars = tailnet(ts1=node(tailscale_server='hs1'), ts2=node(tailscale_server='hs1'), ts3=node(tailscale_server='hs2'))
    hostvars['hs2'] = server(headscale_server_url='https://hs2.example.net', headscale_policy={'acls': []})
    hostvars['ts4'] = node(tailscale_server='hs2')
    hostvars['ts2']['tailscale_cli_binary'] = '/opt/tailscale/bin/tailscale'
    reads = []
    real_node_variables = inventory._node_variables

    def counted(hostvars, host, undefined):
        reads.append(host)
        return real_node_variables(hostvars, host, undefined)
    monkeypatch.setattr(inventory, '_node_variables', counted)
    records = inventory.peers_records(hostvars, groups, ['ts1', 'ts2', 'ts3', 'ts4'])
    assert sorted(reads) == ['ts1', 'ts2', 'ts3', 'ts4']
    assert [peer['peer'] for peer in records['ts1']['peers']] == ['ts2']
    assert [(peer['peer'], peer['network'], peer['must_answer']) for peer in records['ts3']['peers']] == [('ts4', 'hs2', False)]
    assert records['ts2']['peers'][0]['must_answer'] is True
    # Each record names the CLI of the node that holds it, which the report's probe asks for the peers' addresses.
    assert records['ts2']['peers'][0]['resolve'] == {'tailscale': '/opt/tailscale/bin/tailscale'}
    assert records['ts1']['peers'][0]['resolve'] == {'tailscale': '/usr/bin/tailscale'}


def test_node_removals_for_the_nodes_that_logged_out_of_a_server_of_the_inventory():
    def host(state, key, server='hs1', version='0.29.3'):
        plan = {'state': state, 'server': server, 'server_version': version, 'hostname': 'x'}
        variables = {'tailscale__plan': plan}
        if key is not False:
            # A skipped logout (tailscaled was not running) registers no key.
            variables['tailscale__logged_out'] = {'logged_out_node_key': key} if key else {'skipped': True}
        return variables

    key_b, key_a, key_c = ('nodekey:%064x' % number for number in (2, 1, 3))
    nodes = [host('absent', key_b), host('absent', key_a), host('absent', None), host('absent', False), host('present', False),
             host('absent', key_c, server='hs2', version='0.28.0'), host('absent', 'nodekey:%064x' % 9, server='gone', version=None)]
    assert inventory.node_removals(nodes) == {
        'hs1': {'version': '0.29.3', 'nodes': [{'node_key': key_a}, {'node_key': key_b}]},
        'hs2': {'version': '0.28.0', 'nodes': [{'node_key': key_c}]},
    }
    assert inventory.node_removals(nodes[2:5]) == {}


STATE_DIR = '/var/lib/tailscale'


def test_key_requests_group_the_joining_nodes_by_server():
    def host(name, started=False, needs_key=None, state='present', server='hs1', version='0.29.3', user='', tags=()):
        plan = {'state': state, 'server': server, 'server_version': version, 'user': user, 'tags': list(tags),
                'key_expiration': '10m', 'hostname': name}
        variables = {'inventory_hostname': name + '.lab', 'tailscale__plan': plan,
                     'tailscale__probe': {'files': {STATE_DIR: {'exists': started}}}}
        if needs_key is not None:
            variables['tailscale__node_kept'] = {'changed': False, 'needs_auth_key': needs_key}
        return variables

    nodes = [host('ts2', tags=['tag:web']), host('ts1', started=True, needs_key=True, user='alice'),
             host('ts3', started=True, needs_key=False), host('ts4', started=True),
             host('ts5', state='absent'), host('ts6', server='hs2', version='0.28.0'),
             host('ts7', server=None, version=None)]
    assert inventory.key_requests(nodes, STATE_DIR, False) == {
        'hs1': {'version': '0.29.3', 'keys': [{'name': 'ts1.lab', 'user': 'alice', 'tags': [], 'expiration': '10m'},
                                              {'name': 'ts2.lab', 'user': None, 'tags': ['tag:web'], 'expiration': '10m'}]},
        'hs2': {'version': '0.28.0', 'keys': [{'name': 'ts6.lab', 'user': None, 'tags': [], 'expiration': '10m'}]},
    }
    assert inventory.key_requests(nodes[2:5], STATE_DIR, False) == {}
    # Check mode mints nothing: the join it would make is only reported.
    assert inventory.key_requests(nodes, STATE_DIR, True) == {}


@pytest.mark.parametrize('policy, must_answer', [(None, True), ({'acls': []}, False)])
def test_peers_record(policy, must_answer):
    # Known from the inventory alone, before any node joined: the probe reads the addresses live.
    hostvars = tailnet(hs1=server(headscale_policy=policy))
    record = inventory.peers_records(hostvars, GROUPS, ['ts1'])['ts1']
    assert record['system'] == 'tailscale' and [peer['peer'] for peer in record['peers']] == ['ts2', 'ts3']
    assert record['peers'][0] == {
        'system': 'tailscale', 'network': 'hs1', 'interface': 'tailscale0', 'peer': 'ts2', 'managed': True,
        'addresses': [], 'must_answer': must_answer, 'extras': {'tailscale_hostname': 'ts2'},
        'resolve': {'tailscale': '/usr/bin/tailscale'}}
