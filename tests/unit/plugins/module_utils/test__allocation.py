# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The WireGuard allocation through the role's inputs is tested in test__wireguard_plan.py; these
# tests call the generic function directly.

import re

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _allocation
from ansible_collections.overlaynet.vpn.plugins.module_utils._allocation import allocate
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_inputs import first_choice

DUAL_STACK = ['10.77.0.0/24', 'fd77:77::/64']
NAMES = ['web1', 'web2', 'db1', 'db2', 'laptop']
SIX = ['n%d' % number for number in range(6)]

# Addresses handed out before the allocation became generic (computed with the former
# wireguard_network.allocate_addresses). Deployed hosts hold these: they must never change.
KNOWN_ADDRESSES = {
    'db1': ['10.77.0.203/24', 'fd77:77::73ad:5f2b:a719:aec9/64'],
    'db2': ['10.77.0.21/24', 'fd77:77::7428:7a46:c13d:94ef/64'],
    'laptop': ['10.77.0.246/24', 'fd77:77::9cc6:16de:6316:612/64'],
    'web1': ['10.77.0.19/24', 'fd77:77::9302:fcaf:892e:bab0/64'],
    'web2': ['10.77.0.57/24', 'fd77:77::4be9:7636:11f5:dd1/64'],
}
KNOWN_FULL_POOL = {'n0': ['10.66.0.2/29'], 'n1': ['10.66.0.6/29'], 'n2': ['10.66.0.5/29'], 'n3': ['10.66.0.4/29'], 'n4': ['10.66.0.1/29'],
                   'n5': ['10.66.0.3/29']}


def test_addresses_of_existing_deployments_do_not_move():
    addresses, notes = allocate(DUAL_STACK, NAMES, {}, 'mesh', 'network mesh')
    assert addresses == KNOWN_ADDRESSES
    assert notes == []
    assert allocate(['10.66.0.0/29'], SIX, {}, 'tiny', 'network tiny')[0] == KNOWN_FULL_POOL


def test_first_choice_is_the_documented_hash_with_the_salt():
    addresses = allocate(['10.77.0.0/24'], NAMES, {}, 'mesh', 'network mesh')[0]
    for name in NAMES:
        assert addresses[name] == ['%s/24' % first_choice('mesh', '10.77.0.0/24', name)]
    assert allocate(['10.77.0.0/24'], NAMES, {}, 'other', 'network other')[0] != addresses


def test_order_of_names_and_explicit_mapping_does_not_matter():
    explicit = {'db1': ['10.77.0.5'], 'web2': ['fd77:77::5/64']}
    expected = allocate(DUAL_STACK, NAMES, explicit, 'mesh', 'network mesh')
    assert allocate(DUAL_STACK, list(reversed(NAMES)), dict(reversed(list(explicit.items()))), 'mesh', 'network mesh') == expected
    assert allocate(DUAL_STACK, NAMES + ['db1'], explicit, 'mesh', 'network mesh') == expected
    assert expected[0]['db1'][0] == '10.77.0.5/24' and expected[0]['web2'][1] == 'fd77:77::5/64'


def test_collision_note_names_the_label_pool_and_holder():
    addresses, notes = allocate(['10.66.0.0/29'], SIX, {}, 'tiny', 'network tiny')
    assert notes == [{
        'pool': '10.66.0.0/29', 'name': 'n3', 'address': '10.66.0.4/29', 'first_choice': '10.66.0.2/29', 'taken_by': 'n0', 'attempts': 9,
        'message': 'network tiny: n3 got 10.66.0.4 instead of its first choice 10.66.0.2 (held by n0); its address may change when n0 '
                   'or other members are removed or added; pin it with an explicit address to keep it',
    }]
    assert addresses['n3'] == ['10.66.0.4/29']


def test_after_the_last_round_names_take_the_next_free_slot(monkeypatch):
    monkeypatch.setattr(_allocation, 'ALLOCATION_ROUNDS', 1)
    addresses, notes = allocate(['10.66.0.0/29'], SIX, {}, 'tiny', 'network tiny')
    assert addresses == KNOWN_FULL_POOL
    assert [(note['name'], note['first_choice'], note['address'], note['attempts']) for note in notes] == [('n3', '10.66.0.2/29', '10.66.0.4/29', 2)]
    pinned = allocate(['10.66.0.0/29'], SIX, {'n1': ['10.66.0.2']}, 'tiny', 'network tiny')[0]
    assert pinned['n1'] == ['10.66.0.2/29'] and pinned['n3'] == ['10.66.0.6/29']


@pytest.mark.parametrize('pools, explicit, message', [
    (['10.77.0.0/24'], {'a': ['fd00::1']}, 'network x: address fd00::1 of a matches no pool'),
    (['10.77.0.0/24'], {'a': ['10.78.0.1']}, 'network x: address 10.78.0.1 of a is not a usable address of pool 10.77.0.0/24'),
    (['10.77.0.0/24'], {'a': ['10.77.0.255']}, 'is not a usable address'),
    (['10.77.0.0/24'], {'a': ['10.77.0.1', '10.77.0.2']}, 'network x: a has more than one IPv4 address'),
    (['10.77.0.0/24'], {'a': ['10.77.0.1'], 'b': ['10.77.0.1/24']}, 'network x: address 10.77.0.1 is given to both a and b'),
    (['10.66.0.0/30'], {}, 'network x: pool 10.66.0.0/30 has 2 usable addresses, too few for 3 names'),
])
def test_allocation_errors_name_the_label(pools, explicit, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        allocate(pools, ['a', 'b', 'c'], explicit, 'x', 'network x')
