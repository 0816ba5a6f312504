# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_policy import (
    check_policy,
    policy_document,
    policy_text,
    policy_version,
    user_token,
)

USERS = ['alice', 'bob', 'carol']


def office_policy():
    """Engineers reach the servers on 22 and 443 and the office LAN; ops reach everything; servers reach nobody."""
    return {
        'groups': {'eng': ['alice', 'bob'], 'ops': ['carol']},
        'tag_owners': {'server': ['group:ops'], 'router': ['group:ops'], 'exit': ['carol']},
        'hosts': {'lan1': '10.213.1.0/24', 'printer': '10.213.1.7'},
        'acls': [
            {'action': 'accept', 'src': ['group:eng'], 'dst': ['tag:server:22,443', 'lan1:*']},
            {'action': 'accept', 'src': ['group:ops'], 'dst': ['*:*']},
            {'action': 'accept', 'src': ['alice'], 'proto': 'icmp', 'dst': ['printer:*']},
        ],
        'auto_approvers': {'routes': {'10.213.1.0/24': ['tag:router']}, 'exit_node': ['tag:exit']},
        'ssh': [{'action': 'accept', 'src': ['group:ops'], 'dst': ['tag:server'], 'users': ['root', 'autogroup:nonroot']}],
    }


OFFICE_DOCUMENT = {
    'groups': {'group:eng': ['alice@', 'bob@'], 'group:ops': ['carol@']},
    'tagOwners': {'tag:exit': ['carol@'], 'tag:router': ['group:ops'], 'tag:server': ['group:ops']},
    'hosts': {'lan1': '10.213.1.0/24', 'printer': '10.213.1.7'},
    'acls': [
        {'action': 'accept', 'src': ['group:eng'], 'dst': ['tag:server:22,443', 'lan1:*']},
        {'action': 'accept', 'src': ['group:ops'], 'dst': ['*:*']},
        {'action': 'accept', 'src': ['alice@'], 'dst': ['printer:*'], 'proto': 'icmp'},
    ],
    'ssh': [{'action': 'accept', 'src': ['group:ops'], 'dst': ['tag:server'], 'users': ['root', 'autogroup:nonroot']}],
    'autoApprovers': {'routes': {'10.213.1.0/24': ['tag:router']}, 'exitNode': ['tag:exit']},
}


def errors_for(change=None, users=None, version=None, policy=None):
    if policy is None:
        policy = office_policy()
    if change is not None:
        change(policy)
    errors = []
    check_policy(errors, 'hs1', policy, USERS if users is None else users, version)
    return errors


def only_error(errors):
    assert len(errors) == 1, errors
    return errors[0]


def acl(*dst, **keys):
    rule = {'action': 'accept', 'src': keys.pop('src', ['group:eng']), 'dst': list(dst)}
    rule.update(keys)
    return rule


def with_acl(*dst, **keys):
    return lambda policy: policy['acls'].append(acl(*dst, **keys))


def with_ssh(**keys):
    rule = {'action': 'accept', 'src': ['group:ops'], 'dst': ['tag:server'], 'users': ['root']}
    rule.update(keys)
    return lambda policy: policy['ssh'].append(rule)


def ports_match(spec, port):
    if spec == '*':
        return True
    for item in spec.split(','):
        first, _dash, last = item.partition('-')
        if int(first) <= port <= int(last or first):
            return True
    return False


def reaches(document, source, destination, port):
    """An independent reading of the rendered file: does any rule accept source (a set of tokens naming
    the node: its user, groups, tags) to destination (the same) on port?"""
    for rule in document['acls']:
        if not any(token == '*' or token in source for token in rule['src']):
            continue
        for text in rule['dst']:
            target, _colon, spec = text.rpartition(':')
            if (target == '*' or target in destination) and ports_match(spec, port):
                return True
    return False


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

def test_office_policy_is_valid_and_renders_headscale_keys():
    assert errors_for() == []
    assert policy_document(office_policy(), USERS) == OFFICE_DOCUMENT


def test_the_rendered_rules_allow_one_pair_and_leave_the_other_denied():
    document = policy_document(office_policy(), USERS)
    alice_laptop = {'alice@', 'group:eng'}
    server = {'tag:server'}
    assert reaches(document, alice_laptop, server, 22)
    assert reaches(document, alice_laptop, server, 443)
    assert not reaches(document, alice_laptop, server, 80)
    assert not reaches(document, server, alice_laptop, 22)          # the reverse pair: no rule
    assert reaches(document, {'carol@', 'group:ops'}, alice_laptop, 5900)


def test_text_is_byte_identical_across_runs_and_input_order():
    text = policy_text(office_policy(), USERS)
    assert text == policy_text(office_policy(), USERS)
    shuffled = office_policy()
    for key in ('groups', 'tag_owners', 'hosts'):
        shuffled[key] = dict(reversed(list(shuffled[key].items())))
    shuffled = dict(reversed(list(shuffled.items())))
    assert policy_text(shuffled, USERS) == text
    assert text.endswith('}\n') and json.loads(text) == OFFICE_DOCUMENT
    assert text.startswith('{\n  "groups": {\n    "group:eng": [\n      "alice@",\n      "bob@"\n    ],\n')
    assert [line.strip() for line in text.splitlines() if line.startswith('  "')] == [
        '"groups": {', '"tagOwners": {', '"hosts": {', '"acls": [', '"ssh": [', '"autoApprovers": {']


def test_rules_and_their_lists_keep_the_order_written():
    policy = office_policy()
    policy['acls'].reverse()
    policy['acls'][0]['dst'] = ['printer:*', 'lan1:*']
    document = policy_document(policy, USERS)
    assert [rule['src'] for rule in document['acls']] == [['alice@'], ['group:ops'], ['group:eng']]
    assert document['acls'][0]['dst'] == ['printer:*', 'lan1:*']


def test_none_means_no_policy_file():
    errors = []
    check_policy(errors, 'hs1', None, USERS)
    assert errors == []
    assert policy_document(None, USERS) is None
    assert policy_text(None, USERS) is None


def test_an_empty_mapping_is_deny_all_on_every_version():
    # 0.27+ allow all when "acls" is missing; an empty list denies all there and in 0.26.
    for version in (None, '0.27.1', '0.29.3'):
        assert errors_for(policy={}, version=version) == []
    assert policy_document({}, USERS) == {'acls': []}
    assert policy_text({}, USERS) == '{\n  "acls": []\n}\n'


def test_users_are_rendered_with_an_at_sign_and_tokens_canonically():
    users = ['alice', 'dev@example.org']
    policy = {
        'groups': {'eng': ['alice@', 'dev@example.org']},
        'hosts': {'v6net': 'FD00:0::/64'},
        'acls': [
            acl('[fd00::1]:22', '[fd00::]/64:80', 'fd00::2:443', 'v6net:1000-2000', src=['alice', 'dev@example.org']),
            acl('10.213.1.0/24:*', src=['*'], proto=6),
        ],
        'auto_approvers': {'routes': {'fd00::/64': ['alice'], '10.0.0.0/8': ['alice@'], '0.0.0.0/0': ['group:eng']}},
    }
    assert errors_for(policy=policy, users=users) == []
    document = policy_document(policy, users)
    assert document['groups'] == {'group:eng': ['alice@', 'dev@example.org']}
    assert document['hosts'] == {'v6net': 'fd00::/64'}
    assert document['acls'] == [
        {'action': 'accept', 'src': ['alice@', 'dev@example.org'], 'dst': ['fd00::1:22', 'fd00::/64:80', 'fd00::2:443', 'v6net:1000-2000']},
        {'action': 'accept', 'src': ['*'], 'dst': ['10.213.1.0/24:*'], 'proto': '6'},
    ]
    assert list(document['autoApprovers']['routes']) == ['0.0.0.0/0', '10.0.0.0/8', 'fd00::/64']
    assert document['autoApprovers'] == {'routes': {'0.0.0.0/0': ['group:eng'], '10.0.0.0/8': ['alice@'], 'fd00::/64': ['alice@']}}
    assert user_token('bob') == 'bob@' and user_token('bob@example.org') == 'bob@example.org'


def test_ssh_check_with_period_renders_check_period():
    policy = office_policy()
    policy['ssh'][0].update(action='check', check_period='12h')
    assert errors_for(policy=policy, version='0.29.3') == []
    assert policy_document(policy, USERS)['ssh'][0] == {
        'action': 'check', 'src': ['group:ops'], 'dst': ['tag:server'], 'users': ['root', 'autogroup:nonroot'], 'checkPeriod': '12h'}


# ---------------------------------------------------------------------------------------------
# Versions and autogroups
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('version, expected', [
    (None, (0, 26)), ('0.26.0', (0, 26)), ('v0.29.3', (0, 29)), ('0.28.0-beta.1', (0, 28)), ((0, 27), (0, 27)), ((0, 29, 3), (0, 29)),
])
def test_policy_version(version, expected):
    assert policy_version(version) == expected


@pytest.mark.parametrize('version', ['0.25.1', '0.30.0', '1.0.0', 'latest', 29, (0,)])
def test_policy_version_outside_the_supported_range(version):
    with pytest.raises(ValueError) as caught:
        policy_version(version)
    assert 'the policy check knows 0.26 to 0.29' in str(caught.value)


def test_autogroups_of_0_27_are_refused_for_0_26():
    def change(policy):
        policy['acls'].append(acl('autogroup:self:*', 'autogroup:internet:*', src=['autogroup:member']))
        policy['ssh'].append({'action': 'accept', 'src': ['autogroup:member'], 'dst': ['autogroup:self'], 'users': ['autogroup:nonroot']})
    assert errors_for(change) == [
        'host hs1: headscale_policy.acls[3].src[0]: autogroup:member in ACL sources needs headscale 0.27 or later (the policy is checked for 0.26)',
        'host hs1: headscale_policy.acls[3].dst[0]: autogroup:self in ACL destinations needs headscale 0.27 or later (the policy is checked for 0.26)',
        'host hs1: headscale_policy.ssh[1].src[0]: autogroup:member in SSH sources needs headscale 0.27 or later (the policy is checked for 0.26)',
        'host hs1: headscale_policy.ssh[1].dst[0]: autogroup:self in SSH destinations needs headscale 0.27 or later (the policy is checked for 0.26)',
    ]
    assert errors_for(change, version='0.27.0') == []
    assert errors_for(change, version='0.29.3') == []


def test_danger_all_is_a_0_29_source_only():
    assert only_error(errors_for(with_acl('tag:server:22', src=['autogroup:danger-all']), version='0.28.0')) == (
        'host hs1: headscale_policy.acls[3].src[0]: autogroup:danger-all in ACL sources needs headscale 0.29 or later (the policy is checked for 0.28)')
    assert errors_for(with_acl('tag:server:22', src=['autogroup:danger-all']), version='0.29.0') == []
    assert only_error(errors_for(with_acl('autogroup:danger-all:*'), version='0.29.0')) == (
        'host hs1: headscale_policy.acls[3].dst[0]: autogroup:danger-all cannot be used in ACL destinations (only in: ACL sources)')


def test_autogroups_out_of_place_or_unknown():
    def change(policy):
        policy['acls'].append(acl('autogroup:nonroot:*', src=['autogroup:internet', 'autogroup:admin']))
        policy['ssh'].append({'action': 'accept', 'src': ['group:ops'], 'dst': ['autogroup:internet'], 'users': ['autogroup:member']})
    known = 'autogroup:danger-all, autogroup:internet, autogroup:member, autogroup:nonroot, autogroup:self, autogroup:tagged'
    assert errors_for(change, version='0.29.3') == [
        'host hs1: headscale_policy.acls[3].src[0]: autogroup:internet cannot be used in ACL sources (only in: ACL destinations)',
        "host hs1: headscale_policy.acls[3].src[1]: 'autogroup:admin' is not an autogroup headscale supports (%s)" % known,
        'host hs1: headscale_policy.acls[3].dst[0]: autogroup:nonroot cannot be used in ACL destinations (only in: SSH users)',
        'host hs1: headscale_policy.ssh[1].dst[0]: autogroup:internet cannot be used in SSH destinations (only in: ACL destinations)',
        'host hs1: headscale_policy.ssh[1].users[0]: autogroup:member cannot be used in SSH users '
        '(only in: ACL destinations, ACL sources, SSH destinations, SSH sources)',
    ]


def test_autogroup_self_takes_only_users_groups_members_and_wildcard_as_sources():
    change = with_acl('autogroup:self:*', src=['alice', 'group:eng', 'autogroup:member', '*', 'tag:server', 'lan1', '10.1.0.0/16'])
    assert errors_for(change, version='0.29.3') == [
        "host hs1: headscale_policy.acls[3].src[%d]: '%s' cannot be the source of a rule with autogroup:self as destination "
        "(only users, groups, autogroup:member and '*' can)" % (index, token)
        for index, token in ((4, 'tag:server'), (5, 'lan1'), (6, '10.1.0.0/16'))]


def test_tags_as_tag_owners_need_0_28_and_must_not_loop():
    def change(policy):
        policy['tag_owners'].update(web=['tag:server'], a=['tag:b'], b=['tag:c'], c=['tag:a'])
    assert only_error(errors_for(lambda policy: policy['tag_owners'].update(web=['tag:server']))) == (
        'host hs1: headscale_policy.tag_owners.web[0]: a tag as a tag owner (tag:server) needs headscale 0.28 or later (the policy is checked for 0.26)')
    assert errors_for(change, version='0.28.0') == [
        'host hs1: headscale_policy.tag_owners.a: tag:a owns itself (tag:a -> tag:b -> tag:c -> tag:a)']
    assert errors_for(lambda policy: policy['tag_owners'].update(web=['tag:server']), version='0.28.0') == []
    assert policy_document(dict(office_policy(), tag_owners={'server': ['group:ops'], 'web': ['tag:server']}), USERS)['tagOwners'] == {
        'tag:server': ['group:ops'], 'tag:web': ['tag:server']}


# ---------------------------------------------------------------------------------------------
# Refusals: structure and names
# ---------------------------------------------------------------------------------------------

def test_policy_must_be_a_mapping_with_known_keys():
    assert errors_for(policy=['acls']) == [
        'host hs1: headscale_policy: must be a mapping (keys: groups, tag_owners, hosts, acls, auto_approvers, ssh, randomize_client_port) '
        'or null (no policy file: headscale allows all traffic), got list']
    assert only_error(errors_for(lambda policy: policy.update(tagOwners={}))) == (
        'host hs1: headscale_policy.tagOwners: unknown key (known keys: groups, tag_owners, hosts, acls, auto_approvers, ssh, randomize_client_port)')
    assert errors_for(lambda policy: policy.update(groups=['eng'], hosts='lan1', acls={}, ssh='x', auto_approvers=[])) == [
        'host hs1: headscale_policy.groups: must be a mapping of group name to user names, got list',
        'host hs1: headscale_policy.hosts: must be a mapping of host alias to IP address or CIDR prefix, got str',
        'host hs1: headscale_policy.acls: must be a list of rules, got dict',
        'host hs1: headscale_policy.auto_approvers: must be a mapping of routes and exit_node, got list',
        'host hs1: headscale_policy.ssh: must be a list of SSH rules, got str',
    ]


def test_group_names_members_and_duplicates():
    def change(policy):
        policy['groups'].update({'group:qa': ['bob'], '2nd': [], 'db team': ['alice'], 'eng': ['alice', 'dave', 'group:ops', 'alice@', 7]})
    assert errors_for(change) == [
        "host hs1: headscale_policy.groups: '2nd' is not a valid group name (a letter, then letters, digits, \".\", \"_\" or \"-\")",
        "host hs1: headscale_policy.groups: 'db team' is not a valid group name (a letter, then letters, digits, \".\", \"_\" or \"-\")",
        "host hs1: headscale_policy.groups.eng[1]: 'dave' is not a user of headscale_users (alice, bob, carol)",
        'host hs1: headscale_policy.groups.eng[2]: group:ops: a group cannot hold a group (headscale refuses nested groups)',
        "host hs1: headscale_policy.groups.eng[4]: 7 is not a user of headscale_users (alice, bob, carol)",
        'host hs1: headscale_policy.groups.eng[3]: alice is listed twice',
        "host hs1: headscale_policy.groups: 'group:qa': write the name without the 'group:' prefix (qa)",
    ]
    assert only_error(errors_for(lambda policy: policy['groups'].update(eng='alice'))) == (
        'host hs1: headscale_policy.groups.eng: must be a list of user names, got str')
    assert errors_for(users=[])[0] == "host hs1: headscale_policy.groups.eng[0]: 'alice' is not a user of headscale_users (none)"


def test_tag_names_and_owners():
    def change(policy):
        policy['tag_owners'].update({'tag:db': [], 'web_1': [], '1st': [], 'web': ['dave', 'group:qa', 'autogroup:member', '10.0.0.1', 'carol', 'carol@']})
    assert errors_for(change) == [
        "host hs1: headscale_policy.tag_owners: '1st' is not a valid tag name (a letter, then letters, digits or \"-\")",
        "host hs1: headscale_policy.tag_owners: 'tag:db': write the name without the 'tag:' prefix (db)",
        "host hs1: headscale_policy.tag_owners.web[0]: 'dave' is not a user of headscale_users (alice, bob, carol), a host alias of "
        "headscale_policy.hosts, a group:, tag: or autogroup: name, an IP address, a CIDR prefix or '*'",
        'host hs1: headscale_policy.tag_owners.web[1]: group:qa is not defined in headscale_policy.groups',
        'host hs1: headscale_policy.tag_owners.web[2]: autogroup:member (an autogroup) cannot be used as a tag owner (allowed there: users, groups, tags)',
        'host hs1: headscale_policy.tag_owners.web[3]: 10.0.0.1 (an IP address or prefix) cannot be used as a tag owner '
        '(allowed there: users, groups, tags)',
        'host hs1: headscale_policy.tag_owners.web[5]: carol@ is listed twice',
        "host hs1: headscale_policy.tag_owners: 'web_1' is not a valid tag name (a letter, then letters, digits or \"-\")",
    ]


def test_host_aliases():
    def change(policy):
        policy['hosts'].update({'bob': '10.0.0.2', 'lan2': '10.213.2.1/24', 'nas': 'nas.example.org', 'bad name': '10.0.0.3', 'v6': 'fd00::1'})
    assert errors_for(change) == [
        "host hs1: headscale_policy.hosts: 'bad name' is not a valid host name",
        'host hs1: headscale_policy.hosts.bob: bob is also a user of headscale_users: a bare name in src or dst would mean either; rename the host alias',
        'host hs1: headscale_policy.hosts.lan2: 10.213.2.1/24 has host bits set (did you mean 10.213.2.0/24?)',
        "host hs1: headscale_policy.hosts.nas: 'nas.example.org' is not an IP address or CIDR prefix",
    ]


# ---------------------------------------------------------------------------------------------
# Refusals: ACL rules
# ---------------------------------------------------------------------------------------------

def test_acl_entries_action_and_required_lists():
    def change(policy):
        policy['acls'] += ['accept', {'action': 'deny', 'src': ['group:eng'], 'dst': ['lan1:*'], 'ports': [22]}, {'src': [], 'dst': 'lan1:*'}]
    assert errors_for(change) == [
        'host hs1: headscale_policy.acls[3]: must be a mapping (action, src, dst, proto), got str',
        'host hs1: headscale_policy.acls[4].ports: unknown key (known keys: action, src, dst, proto)',
        "host hs1: headscale_policy.acls[4].action: 'deny' is not supported: headscale rules only accept; traffic that no rule accepts is denied",
        'host hs1: headscale_policy.acls[5].action: required (accept)',
        'host hs1: headscale_policy.acls[5].src: required, a non-empty list of sources',
        "host hs1: headscale_policy.acls[5].dst: must be a list of destinations ('target:ports'), got str",
    ]


def test_acl_sources_must_be_known():
    change = with_acl('lan1:*', src=['dave', 'dave@', 'group:qa', 'tag:db', '10.0.0.1/8', 'printer', '*', ' alice', None])
    users = "(alice, bob, carol)"
    assert errors_for(change) == [
        "host hs1: headscale_policy.acls[3].src[0]: 'dave' is not a user of headscale_users %s, a host alias of headscale_policy.hosts, "
        "a group:, tag: or autogroup: name, an IP address, a CIDR prefix or '*'" % users,
        "host hs1: headscale_policy.acls[3].src[1]: 'dave@' is not a user of headscale_users %s" % users,
        'host hs1: headscale_policy.acls[3].src[2]: group:qa is not defined in headscale_policy.groups',
        'host hs1: headscale_policy.acls[3].src[3]: tag:db is not defined in headscale_policy.tag_owners',
        'host hs1: headscale_policy.acls[3].src[4]: 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)',
        "host hs1: headscale_policy.acls[3].src[7]: ' alice' has leading or trailing spaces",
        'host hs1: headscale_policy.acls[3].src[8]: must be a non-empty string, got None',
    ]


def test_acl_destinations_need_ports_in_range():
    change = with_acl('tag:server', 'lan1', '*', '10.213.1.7', 'fd00::1', 'tag:server:ssh', 'lan1:0', 'lan1:70000', 'lan1:2000-1000',
                      'lan1:22-', '[10.0.0.1]:22', 'autogroup:internet:*', 22)
    no_port = "has no port part (add ':*', ':22', ':80,443' or ':1000-2000')"
    assert errors_for(change) == [
        "host hs1: headscale_policy.acls[3].dst[0]: 'tag:server' %s" % no_port,
        "host hs1: headscale_policy.acls[3].dst[1]: 'lan1' %s" % no_port,
        "host hs1: headscale_policy.acls[3].dst[2]: '*' %s" % no_port,
        "host hs1: headscale_policy.acls[3].dst[3]: '10.213.1.7' %s" % no_port,
        "host hs1: headscale_policy.acls[3].dst[4]: 'fd00::1': write an IPv6 destination as [address]:ports or address:ports",
        "host hs1: headscale_policy.acls[3].dst[5]: 'tag:server:ssh': the ports must be '*' or ports and ranges separated by commas, "
        "such as 22, 80,443 or 1000-2000 (got 'ssh')",
        "host hs1: headscale_policy.acls[3].dst[6]: 'lan1:0': port 0 is out of range (1-65535; '*' means every port)",
        "host hs1: headscale_policy.acls[3].dst[7]: 'lan1:70000': port 70000 is out of range (1-65535; '*' means every port)",
        "host hs1: headscale_policy.acls[3].dst[8]: 'lan1:2000-1000': the range 2000-1000 is reversed",
        "host hs1: headscale_policy.acls[3].dst[9]: 'lan1:22-': the ports must be '*' or ports and ranges separated by commas, "
        "such as 22, 80,443 or 1000-2000 (got '22-')",
        "host hs1: headscale_policy.acls[3].dst[10]: '[10.0.0.1]:22': square brackets only go around IPv6 addresses",
        "host hs1: headscale_policy.acls[3].dst[12]: must be a string 'target:ports', got 22",
    ]


def test_acl_destination_tokens_follow_the_source_rules():
    change = with_acl('group:qa:22', 'tag:db:22', 'dave:22', '10.213.1.1/24:*')
    assert errors_for(change) == [
        'host hs1: headscale_policy.acls[3].dst[0]: group:qa is not defined in headscale_policy.groups',
        'host hs1: headscale_policy.acls[3].dst[1]: tag:db is not defined in headscale_policy.tag_owners',
        "host hs1: headscale_policy.acls[3].dst[2]: 'dave' is not a user of headscale_users (alice, bob, carol), a host alias of "
        "headscale_policy.hosts, a group:, tag: or autogroup: name, an IP address, a CIDR prefix or '*'",
        'host hs1: headscale_policy.acls[3].dst[3]: 10.213.1.1/24 has host bits set (did you mean 10.213.1.0/24?)',
    ]


def test_acl_protocols():
    assert errors_for(with_acl('lan1:22', proto='tcp')) == []
    assert errors_for(with_acl('lan1:*', proto=47)) == []
    assert errors_for(with_acl('lan1:22', proto='17')) == []
    known = 'tcp, udp, sctp, icmp, igmp, ipv4, ip-in-ip, egp, igp, gre, esp, ah, or an IANA number 1-255'
    for proto in ('http', 'TCP', 'ipv6-icmp', '06', 0, 256, True, '*'):
        assert only_error(errors_for(with_acl('lan1:*', proto=proto))) == (
            'host hs1: headscale_policy.acls[3].proto: %r is not a protocol every supported headscale knows (%s)' % (proto, known))
    assert only_error(errors_for(with_acl('lan1:*', 'printer:22', proto='icmp'))) == (
        "host hs1: headscale_policy.acls[3].dst[1]: 'printer:22': protocol icmp has no ports; write the destination with ':*'")
    assert only_error(errors_for(with_acl('lan1:500', proto=50))) == (
        "host hs1: headscale_policy.acls[3].dst[0]: 'lan1:500': protocol 50 has no ports; write the destination with ':*'")


def test_duplicates_in_acls():
    def change(policy):
        policy['acls'].append(acl('lan1:*', 'lan1:*', 'tag:server:22', src=['alice', 'alice@']))
        policy['acls'].append({'action': 'accept', 'src': ['group:eng'], 'dst': ['tag:server:022,443', 'lan1:*']})
    assert errors_for(change) == [
        'host hs1: headscale_policy.acls[3].src[1]: alice@ is listed twice',
        'host hs1: headscale_policy.acls[3].dst[1]: lan1:* is listed twice',
        'host hs1: headscale_policy.acls[4]: the same rule as acls[0]',
    ]


# ---------------------------------------------------------------------------------------------
# Refusals: auto-approvers and SSH
# ---------------------------------------------------------------------------------------------

def test_auto_approvers():
    def change(policy):
        policy['auto_approvers'] = {
            'routes': {'10.213.1.0/24': ['tag:router', 'tag:router'], '10.213.2.1/24': ['group:qa'], 'lan1': ['alice'],
                       'fd00:0::/64': ['*'], 'fd00::/64': ['lan1']},
            'exit_node': ['tag:exit', 'dave@', 'autogroup:tagged'],
            'exitNode': [],
        }
    assert errors_for(change) == [
        'host hs1: headscale_policy.auto_approvers.exitNode: unknown key (known keys: routes, exit_node)',
        'host hs1: headscale_policy.auto_approvers.routes[10.213.1.0/24][1]: tag:router is listed twice',
        'host hs1: headscale_policy.auto_approvers.routes: 10.213.2.1/24 has host bits set (did you mean 10.213.2.0/24?)',
        'host hs1: headscale_policy.auto_approvers.routes[10.213.2.1/24][0]: group:qa is not defined in headscale_policy.groups',
        "host hs1: headscale_policy.auto_approvers.routes[fd00:0::/64][0]: * cannot be used as an auto-approver (allowed there: users, groups, tags)",
        'host hs1: headscale_policy.auto_approvers.routes[fd00::/64]: the same prefix as fd00:0::/64',
        'host hs1: headscale_policy.auto_approvers.routes[fd00::/64][0]: lan1 (a host alias) cannot be used as an auto-approver '
        '(allowed there: users, groups, tags)',
        "host hs1: headscale_policy.auto_approvers.routes: 'lan1' is not a CIDR prefix (address/length)",
        "host hs1: headscale_policy.auto_approvers.exit_node[1]: 'dave@' is not a user of headscale_users (alice, bob, carol)",
        'host hs1: headscale_policy.auto_approvers.exit_node[2]: autogroup:tagged (an autogroup) cannot be used as an auto-approver '
        '(allowed there: users, groups, tags)',
    ]


def test_ssh_entries_and_required_fields():
    def change(policy):
        policy['ssh'] += ['accept', {'action': 'deny', 'src': ['group:ops'], 'dst': ['tag:server'], 'users': ['root'], 'acceptEnv': []},
                          {'src': [], 'users': []}]
    assert errors_for(change) == [
        'host hs1: headscale_policy.ssh[1]: must be a mapping (action, src, dst, users, check_period), got str',
        'host hs1: headscale_policy.ssh[2].acceptEnv: unknown key (known keys: action, src, dst, users, check_period)',
        "host hs1: headscale_policy.ssh[2].action: 'deny' is not supported: SSH rules accept or check",
        'host hs1: headscale_policy.ssh[3].action: required (accept or check)',
        'host hs1: headscale_policy.ssh[3].src: required, a non-empty list of sources',
        'host hs1: headscale_policy.ssh[3].dst: required, a non-empty list of destinations',
        'host hs1: headscale_policy.ssh[3].users: required, a non-empty list of login names (root, a Linux user name or autogroup:nonroot)',
    ]


def test_ssh_sources_destinations_and_login_names():
    change = with_ssh(src=['*', 'lan1', 'alice'], dst=['*', 'lan1', '10.213.1.7', 'group:eng', 'tag:server'],
                      users=['root', '*', 'Admin', 'localpart:*@example.org', 'root'])
    allowed_dst = '(allowed there: users, tags, autogroups)'
    assert errors_for(change) == [
        'host hs1: headscale_policy.ssh[1].src[0]: * cannot be used as an SSH source (allowed there: users, groups, tags, autogroups)',
        'host hs1: headscale_policy.ssh[1].src[1]: lan1 (a host alias) cannot be used as an SSH source (allowed there: users, groups, tags, autogroups)',
        'host hs1: headscale_policy.ssh[1].dst[0]: * cannot be used as an SSH destination %s' % allowed_dst,
        'host hs1: headscale_policy.ssh[1].dst[1]: lan1 (a host alias) cannot be used as an SSH destination %s' % allowed_dst,
        'host hs1: headscale_policy.ssh[1].dst[2]: 10.213.1.7 (an IP address or prefix) cannot be used as an SSH destination %s' % allowed_dst,
        'host hs1: headscale_policy.ssh[1].dst[3]: group:eng (a group) cannot be used as an SSH destination %s' % allowed_dst,
        "host hs1: headscale_policy.ssh[1].users[1]: '*' is not a login name (root, a Linux user name or autogroup:nonroot)",
        "host hs1: headscale_policy.ssh[1].users[2]: 'Admin' is not a login name (root, a Linux user name or autogroup:nonroot)",
        "host hs1: headscale_policy.ssh[1].users[3]: 'localpart:*@example.org' is not a login name (root, a Linux user name or autogroup:nonroot)",
        'host hs1: headscale_policy.ssh[1].users[4]: root is listed twice',
    ]


def test_ssh_reach_rules_of_upstream():
    assert errors_for(with_ssh(src=['alice'], dst=['alice'])) == []
    assert errors_for(with_ssh(src=['group:eng'], dst=['alice'])) == [
        'host hs1: headscale_policy.ssh[1].dst[0]: alice: a user as SSH destination needs that user alone as source; '
        'use autogroup:self for "users to their own devices"']
    assert errors_for(with_ssh(src=['tag:server'], dst=['bob', 'autogroup:member', 'autogroup:self', 'tag:server']), version='0.29.3') == [
        'host hs1: headscale_policy.ssh[1].dst[%d]: %s: tagged sources (tag:server) cannot reach user-owned devices by SSH; '
        'use tags or autogroup:tagged as destinations' % (index, token)
        for index, token in enumerate(['bob', 'autogroup:member', 'autogroup:self'])]


def test_ssh_check_action_and_period():
    assert only_error(errors_for(with_ssh(action='check'), version='0.28.0')) == (
        'host hs1: headscale_policy.ssh[1].action: the SSH action check needs headscale 0.29 or later (the policy is checked for 0.28)')
    for period in ('always', '1h30m', '168h', '45s'):
        assert errors_for(with_ssh(action='check', check_period=period), version='0.29.3') == []
    assert only_error(errors_for(with_ssh(check_period='12h'), version='0.29.3')) == (
        'host hs1: headscale_policy.ssh[1].check_period: only goes with action check')
    assert only_error(errors_for(with_ssh(action='check', check_period='169h'), version='0.29.3')) == (
        'host hs1: headscale_policy.ssh[1].check_period: 169h is more than the maximum, 168h')
    for period in ('12', '1d', '', 12):
        assert only_error(errors_for(with_ssh(action='check', check_period=period), version='0.29.3')) == (
            'host hs1: headscale_policy.ssh[1].check_period: %r must be always or a duration such as 12h, 30m or 1h30m' % (period,))


def test_randomize_client_port_lives_in_the_policy_from_0_29():
    assert errors_for(lambda policy: policy.update(randomize_client_port=True), version='0.29.3') == []
    assert errors_for(lambda policy: policy.update(randomize_client_port=False)) == []
    assert only_error(errors_for(lambda policy: policy.update(randomize_client_port=True), version='0.28.0')) == (
        'host hs1: headscale_policy.randomize_client_port: needs headscale 0.29 or later (the policy is checked for 0.28); '
        'before, it is the server setting randomize_client_port of config.yaml')
    assert only_error(errors_for(lambda policy: policy.update(randomize_client_port='yes'), version='0.29.3')) == (
        "host hs1: headscale_policy.randomize_client_port: must be true or false, got 'yes'")
    assert policy_document({'randomize_client_port': True}, USERS) == {'acls': [], 'randomizeClientPort': True}
    assert 'randomizeClientPort' not in policy_document({'randomize_client_port': False}, USERS)


def test_every_problem_is_reported_at_once():
    def change(policy):
        policy['groups']['eng'].append('dave')
        policy['hosts']['lan1'] = '10.213.1.1/24'
        policy['acls'][0]['dst'].append('tag:nope:22')
        policy['ssh'][0]['users'] = []
    errors = errors_for(change)
    assert len(errors) == 4 and all(error.startswith('host hs1: headscale_policy.') for error in errors)
