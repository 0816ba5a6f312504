# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_runtime import apply_inputs_digest
from ansible_collections.overlaynet.vpn.plugins.filter.wireguard_facts import (
    wireguard_add_read_public_keys,
    wireguard_interface_converged,
    wireguard_interface_facts,
    wireguard_keyless_members,
    wireguard_known_public_keys,
    wireguard_own_public_keys,
    wireguard_road_warrior_public_keys,
    wireguard_unknown_members,
)

PEERS_FILE = '/var/lib/overlaynet/peers/wireguard.json'
NETWORKS = [{'name': 'mesh', 'interface': 'wg0'}, {'name': 'late', 'interface': 'wg6'}]
MEMBERS = {'mesh': ['a', 'b', 'c', 'd'], 'late': ['a', 'b', 'c', 'd']}
KEY = dict((name, (name * 43)[:43] + '=') for name in 'abcdxyz')


def record(*entries):
    return {'system': 'wireguard', 'peers': [
        {'system': 'wireguard', 'network': network, 'interface': 'wg0', 'peer': peer, 'managed': managed,
         'addresses': [], 'must_answer': managed, 'extras': {'wireguard_public_key': key}}
        for network, peer, key, managed in entries]}


def play_host(own, recorded=None):
    """A play host's variables: its own keys as the probe read them (the key module skipped)."""
    interfaces = dict((network['name'], network['interface']) for network in NETWORKS)
    return {
        'wireguard__keypairs': {'results': [{'item': {'name': name, 'interface': interfaces[name]}, 'skipped': True}
                                            for name in own]},
        'wireguard__probe': {'json_files': {PEERS_FILE: recorded},
                             'wireguard_keys': dict((interfaces[name], {'public_key': key}) for name, key in own.items())},
    }


def test_own_keys_come_from_the_key_module_or_else_the_probe():
    results = [
        {'item': {'name': 'mesh', 'interface': 'wg0'}, 'skipped': True},
        {'item': {'name': 'late', 'interface': 'wg6'}, 'public_key': KEY['x']},
    ]
    probed = {'wg0': {'permissions': '600:root:root', 'public_key': KEY['a']}}
    assert wireguard_own_public_keys(results, probed) == {'mesh': KEY['a'], 'late': KEY['x']}


def test_invalid_or_missing_keys_are_not_own_keys():
    results = [{'item': {'name': 'mesh', 'interface': 'wg0'}, 'skipped': True},
               {'item': {'name': 'late', 'interface': 'wg6'}, 'public_key': None}]
    assert wireguard_own_public_keys(results, {'wg0': {'public_key': 'invalid'}}) == {}


def test_unreachable_member_keeps_the_key_its_peers_recorded():
    hostvars = {
        'a': play_host({'mesh': KEY['a']}, record(('mesh', 'd', KEY['d'], True), ('mesh', 'b', KEY['x'], True))),
        'b': play_host({'mesh': KEY['b']}, record(('mesh', 'd', KEY['d'], True))),
        'c': play_host({'mesh': KEY['c']}, None),
    }
    known = wireguard_known_public_keys({'mesh': ['a', 'b', 'c', 'd']}, NETWORKS, hostvars, ['a', 'b', 'c'], PEERS_FILE)
    # b's own key wins over what a recorded for it; d (unreachable) keeps its recorded key.
    assert known == {'a': {'mesh': KEY['a']}, 'b': {'mesh': KEY['b']}, 'c': {'mesh': KEY['c']}, 'd': {'mesh': KEY['d']}}


def test_the_key_most_peers_recorded_wins_and_ties_are_decided_the_same_everywhere():
    hostvars = {
        'a': play_host({}, record(('mesh', 'd', KEY['y'], True))),
        'b': play_host({}, record(('mesh', 'd', KEY['x'], True))),
        'c': play_host({}, record(('mesh', 'd', KEY['x'], True))),
    }
    known = wireguard_known_public_keys({'mesh': ['d']}, NETWORKS, hostvars, ['a', 'b', 'c'], PEERS_FILE)
    assert known == {'d': {'mesh': KEY['x']}}
    hostvars['c'] = play_host({}, None)
    known = wireguard_known_public_keys({'mesh': ['d']}, NETWORKS, hostvars, ['c', 'b', 'a'], PEERS_FILE)
    assert known == {'d': {'mesh': min(KEY['x'], KEY['y'])}}


def test_road_warriors_recorded_by_a_hub_are_not_members():
    hostvars = {'a': play_host({}, record(('mesh', 'laptop', KEY['z'], False)))}
    assert wireguard_known_public_keys({'mesh': ['a']}, NETWORKS, hostvars, ['a'], PEERS_FILE) == {}


def test_only_members_outside_the_play_without_a_known_key_are_read_from_the_host():
    known = {'a': {'mesh': KEY['a']}, 'd': {'mesh': KEY['d']}}
    unknown = wireguard_unknown_members(MEMBERS, NETWORKS, known, ['a', 'b'])
    assert unknown == [{'host': 'c', 'network': 'late', 'interface': 'wg6'},
                       {'host': 'd', 'network': 'late', 'interface': 'wg6'},
                       {'host': 'c', 'network': 'mesh', 'interface': 'wg0'}]


def test_keys_read_from_the_member_win_and_failed_reads_add_nothing():
    known = {'d': {'mesh': KEY['x']}}
    results = [
        {'item': {'host': 'd', 'network': 'mesh'}, 'public_key': KEY['d']},
        {'item': {'host': 'c', 'network': 'mesh'}, 'unreachable': True, 'public_key': KEY['y']},
        {'item': {'host': 'c', 'network': 'late'}, 'failed': True},
        {'item': {'host': 'b', 'network': 'late'}, 'public_key': None},
    ]
    assert wireguard_add_read_public_keys(known, results) == {'d': {'mesh': KEY['d']}}
    assert known == {'d': {'mesh': KEY['x']}}, 'the input must not change'


def test_keyless_members_are_named_with_network_and_interface():
    keys = {'a': {'mesh': KEY['a'], 'late': KEY['a']}, 'b': {'mesh': KEY['b']}}
    assert wireguard_keyless_members({'mesh': ['a', 'b'], 'late': ['a', 'b']}, NETWORKS, keys) == ['b (late, wg6)']


def test_road_warrior_keys_by_network():
    results = [{'item': [{'name': 'branches'}, {'name': 'laptop'}], 'public_key': KEY['z']},
               {'item': [{'name': 'branches'}, {'name': 'phone'}], 'public_key': None}]
    assert wireguard_road_warrior_public_keys(results) == {'branches': {'laptop': KEY['z']}}


def test_interface_facts_from_the_apply_results():
    results = [{'item': {'interface': 'wg0', 'network': 'mesh'}, 'implementation': 'userspace',
                'userspace_binary': '/usr/local/sbin/wireguard-go', 'userspace_version': '0.0.20250522'}]
    assert wireguard_interface_facts(results) == {'wg0': {
        'network': 'mesh', 'implementation': 'userspace', 'userspace_binary': '/usr/local/sbin/wireguard-go',
        'userspace_version': '0.0.20250522'}}


CONF_SHA = 'c' * 64
PSK_SHA = 'd' * 64


def converged_probe(live='live-digest', record_live='live-digest', inputs=None, conf_sha=CONF_SHA, enabled=('wg0',)):
    inputs = inputs or apply_inputs_digest(CONF_SHA, KEY['a'], PSK_SHA, None, None, 'overlaynet-wireguard@wg0.service')
    return {
        'files': {'/etc/wireguard/wg0.conf': {'exists': True, 'sha256': conf_sha},
                  '/etc/wireguard/wg0.psk': {'exists': True, 'sha256': PSK_SHA}},
        'json_files': {'/var/lib/overlaynet/wireguard/wg0.converged': {'inputs': inputs, 'live': record_live,
                                                                       'report': {'implementation': 'kernel'}}},
        'enabled_instances': {'overlaynet-wireguard': list(enabled)},
        'wireguard_live_state': {'wg0': live},
    }


def converged_settings(**overrides):
    settings = {'config_dir': '/etc/wireguard', 'state_dir': '/var/lib/overlaynet/wireguard', 'unit_name': 'overlaynet-wireguard',
                'unit_changed': False, 'psk_files_to_write': [], 'own_public_keys': {'mesh': KEY['a']},
                'userspace_binary': None, 'userspace_binary_sha256': 'e' * 64}
    settings.update(overrides)
    return settings


PLAN_WG0 = {'interface': 'wg0', 'network': 'mesh'}


def test_an_interface_is_converged_only_when_nothing_it_gets_and_nothing_live_moved():
    assert wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(), converged_settings())
    # Something live moved (a key changed by hand, a daemon replaced, a peer roamed).
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(live='other'), converged_settings())
    # The wg-quick file on the host is not the one this run renders.
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(conf_sha='0' * 64), converged_settings())
    # A rotated key, another binary, a unit rewritten or preshared keys written in this run.
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(), converged_settings(own_public_keys={'mesh': KEY['b']}))
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(),
                                             converged_settings(userspace_binary='/usr/local/sbin/wireguard-go'))
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(), converged_settings(unit_changed=True))
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(), converged_settings(psk_files_to_write=['wg0']))
    # The unit was disabled by hand, or nothing was ever recorded, or the probe could not read it.
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(enabled=()), converged_settings())
    probe = converged_probe()
    probe['json_files'] = {'/var/lib/overlaynet/wireguard/wg0.converged': None}
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, probe, converged_settings())
    assert not wireguard_interface_converged(PLAN_WG0, CONF_SHA, converged_probe(live=None, record_live=None), converged_settings())


def test_facts_of_a_skipped_apply_come_from_its_record():
    probe = converged_probe()
    results = [{'item': {'interface': 'wg0', 'network': 'mesh'}, 'skipped': True}]
    facts = wireguard_interface_facts(results, probe['json_files'], '/var/lib/overlaynet/wireguard')
    assert facts == {'wg0': {'network': 'mesh', 'implementation': 'kernel', 'userspace_binary': None, 'userspace_version': None}}
