# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._ufw import (
    comment_of,
    read_ufw,
    rule_arguments,
    rules_to_change,
    split_rules,
    wanted_rules,
)

COMMENT = comment_of('wireguard')
HEX = binascii.hexlify(COMMENT.encode()).decode()
OTHER_HEX = binascii.hexlify(comment_of('openvpn_server').encode()).decode()

# As ufw 0.36 writes them after `ufw allow 51820/udp comment ...`, `ufw allow in on wg0 comment ...`,
# `ufw route allow in on wg0 comment ...`, plus rules that are not the role's.
RULES_V4 = """*filter
:ufw-user-input - [0:0]
### RULES ###

### tuple ### allow udp 51820 0.0.0.0/0 any 0.0.0.0/0 in comment=%(hex)s
-A ufw-user-input -p udp --dport 51820 -j ACCEPT

### tuple ### allow any any 0.0.0.0/0 any 0.0.0.0/0 in_wg0 comment=%(hex)s
-A ufw-user-input -i wg0 -j ACCEPT

### tuple ### route:allow any any 0.0.0.0/0 any 0.0.0.0/0 in_wg0 comment=%(hex)s
-A ufw-user-forward -i wg0 -j ACCEPT

### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow udp 1194 0.0.0.0/0 any 0.0.0.0/0 in comment=%(other)s
### tuple ### deny tcp 25 0.0.0.0/0 any 10.0.0.0/8 in comment=%(hex)s

### END RULES ###
""" % {'hex': HEX, 'other': OTHER_HEX}
RULES_V6 = RULES_V4.replace('0.0.0.0/0', '::/0')


def write_host(root, conf='ENABLED=yes\n', defaults='IPV6=yes\n', v4=RULES_V4, v6=RULES_V6):
    etc = root / 'etc' / 'ufw'
    etc.mkdir(parents=True)
    (root / 'etc' / 'default').mkdir()
    if conf is not None:
        (etc / 'ufw.conf').write_text(conf)
    (root / 'etc' / 'default' / 'ufw').write_text(defaults)
    if v4 is not None:
        (etc / 'user.rules').write_text(v4)
    if v6 is not None:
        (etc / 'user6.rules').write_text(v6)
    return str(root)


def test_wanted_rules_name_each_port_and_both_directions_of_each_tunnel():
    assert wanted_rules([51820, 51820], [443], ['wg0']) == ['in/wg0', 'route/wg0', 'tcp/443', 'udp/51820']
    assert wanted_rules([], [], []) == []


@pytest.mark.parametrize('key, add, delete', [
    ('udp/51820', ['allow', '51820/udp'], ['delete', 'allow', '51820/udp']),
    ('tcp/443', ['allow', '443/tcp'], ['delete', 'allow', '443/tcp']),
    ('in/wg0', ['allow', 'in', 'on', 'wg0'], ['delete', 'allow', 'in', 'on', 'wg0']),
    ('route/wg0', ['route', 'allow', 'in', 'on', 'wg0'], ['route', 'delete', 'allow', 'in', 'on', 'wg0']),
])
def test_each_rule_has_the_ufw_arguments_that_add_and_delete_it(key, add, delete):
    assert rule_arguments(key) == (add, delete)


@pytest.mark.parametrize('key', ['udp', 'sctp/1', 'out/wg0', ''])
def test_unknown_rule_keys_are_refused(key):
    with pytest.raises(ValueError):
        rule_arguments(key)


def test_only_the_roles_own_tagged_rules_are_read():
    # The deny rule tagged as the role's is not a rule the role makes (someone edited it): never read as ours.
    assert split_rules(RULES_V4, COMMENT)[0] == {'udp/51820', 'in/wg0', 'route/wg0'}
    assert split_rules(RULES_V4, comment_of('openvpn_server'))[0] == {'udp/1194'}


def test_the_same_rules_without_the_roles_comment_are_someone_elses():
    assert split_rules(RULES_V4, COMMENT)[1] == {'tcp/22', 'udp/1194'}
    assert split_rules(RULES_V4, comment_of('openvpn_server'))[1] == {'tcp/22', 'udp/51820', 'in/wg0', 'route/wg0'}


def test_an_enabled_ufw_with_the_rules_in_both_families(tmp_path):
    assert read_ufw(COMMENT, write_host(tmp_path)) == dict(
        installed=True, enabled=True, rules=['in/wg0', 'route/wg0', 'udp/51820'], partial_rules=[], other_rules=['tcp/22', 'udp/1194'])


def test_another_owners_rule_in_one_family_only_is_not_counted(tmp_path):
    v6_without_ssh = RULES_V6.replace('### tuple ### allow tcp 22', '### tuple ### allow tcp 2222')
    assert read_ufw(COMMENT, write_host(tmp_path / 'a', v6=v6_without_ssh))['other_rules'] == ['udp/1194']
    assert read_ufw(COMMENT, write_host(tmp_path / 'b', defaults='IPV6=no\n', v6=v6_without_ssh))['other_rules'] == ['tcp/22', 'udp/1194']


def test_a_disabled_or_missing_ufw(tmp_path):
    assert read_ufw(COMMENT, write_host(tmp_path / 'a', conf='ENABLED=no\n'))['enabled'] is False
    assert read_ufw(COMMENT, str(tmp_path)) == dict(installed=False, enabled=False, rules=[], partial_rules=[], other_rules=[])


def test_a_rule_in_one_family_only_is_partial_unless_ufw_handles_ipv4_only(tmp_path):
    v6_without_port = RULES_V6.replace('### tuple ### allow udp 51820', '### tuple ### allow udp 51999')
    state = read_ufw(COMMENT, write_host(tmp_path / 'a', v6=v6_without_port))
    assert state['rules'] == ['in/wg0', 'route/wg0'] and state['partial_rules'] == ['udp/51820', 'udp/51999']
    state = read_ufw(COMMENT, write_host(tmp_path / 'b', defaults='IPV6="no"\n', v6=v6_without_port))
    assert state['rules'] == ['in/wg0', 'route/wg0', 'udp/51820'] and state['partial_rules'] == []


def test_rules_to_change_adds_missing_and_partial_rules_and_deletes_unwanted_ones():
    current = dict(rules=['in/wg0', 'udp/51820'], partial_rules=['route/wg0', 'udp/1'])
    assert rules_to_change(['route/wg0', 'udp/51821', 'in/wg0'], current) == (['route/wg0', 'udp/51821'], ['udp/1', 'udp/51820'])
    assert rules_to_change([], dict(rules=[], partial_rules=[])) == ([], [])


def test_a_port_another_owners_rule_opens_is_not_added_and_never_deleted():
    current = dict(rules=['udp/51820'], partial_rules=[], other_rules=['tcp/22', 'udp/1194'])
    assert rules_to_change(['udp/1194', 'tcp/22', 'udp/51821'], current) == (['udp/51821'], ['udp/51820'])
    assert rules_to_change([], current) == ([], ['udp/51820'])
