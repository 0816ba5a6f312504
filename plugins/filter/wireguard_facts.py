# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Facts of the WireGuard role, shaped from module results and host variables: the public
keys every host's plan needs, whoever could be reached in this run.

Public keys come, best first, from the member itself (a host of the play: its probe or its
key module; a member outside the play read in check mode), else from what its peers recorded
at their last run (/var/lib/overlaynet/peers/wireguard.json, read by each play host's probe),
so that a member outside the play, unreachable or failed earlier keeps its place in its
peers' lists. Only public keys pass through here."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import Counter

# module_utils are imported inside the filters (why: docs/dev/architecture.md, "Filter plugins").


def _get(mapping, key, default=None):
    # hostvars entries are lazy mappings: .get() templates the value it returns.
    try:
        value = mapping.get(key, default)
    except AttributeError:
        return default
    return default if value is None else value


def _interfaces(networks):
    return dict((network['name'], network['interface']) for network in networks or [])


def wireguard_own_public_keys(keypair_results, probed_keys):
    """{network: public key} of this host: from the key module where it ran, else from the probe."""
    keys = {}
    for result in keypair_results or []:
        network = result['item']
        if result.get('skipped'):
            keys[network['name']] = (probed_keys or {}).get(network['interface'], {}).get('public_key')
        else:
            keys[network['name']] = result.get('public_key')
    return dict((name, key) for name, key in keys.items() if key and key != 'invalid')


def _recorded_keys(record):
    """{host: {network: key}} a peer record names."""
    keys = {}
    for peer in _get(record, 'peers', []) or []:
        key = (peer.get('extras') or {}).get('wireguard_public_key')
        if peer.get('managed') and key:
            keys.setdefault(peer['peer'], {})[peer['network']] = key
    return keys


def wireguard_known_public_keys(members, networks, hostvars, play_hosts, peers_file):
    """{host: {network: key}} for every member any host of the play knows a key of.

    A play host's own key wins (from its key module results, wireguard__keypairs, where the
    module ran, else from its probe, wireguard__probe); for other members the key most play
    hosts recorded (ties: the smallest key, so every host of the play computes the same answer)."""
    own = {}
    votes = {}
    for host in play_hosts or []:
        variables = hostvars[host]
        probe = _get(variables, 'wireguard__probe', {}) or {}
        keypairs = _get(variables, 'wireguard__keypairs')
        if keypairs is not None:
            own[host] = wireguard_own_public_keys(_get(keypairs, 'results', []), _get(probe, 'wireguard_keys', {}))
        record = (_get(probe, 'json_files', {}) or {}).get(peers_file)
        for peer, keys in _recorded_keys(record).items():
            for network, key in keys.items():
                votes.setdefault((peer, network), Counter())[key] += 1
    known = {}
    for network, hosts in (members or {}).items():
        for host in hosts:
            key = own.get(host, {}).get(network) if host in own else None
            if key is None and host not in own and (host, network) in votes:
                counts = votes[(host, network)]
                key = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]
            if key:
                known.setdefault(host, {})[network] = key
    return known


def wireguard_unknown_members(members, networks, known, play_hosts=None):
    """[{host, network, interface}] of members outside the play whose key nobody in the play knows."""
    interfaces = _interfaces(networks)
    play_hosts = set(play_hosts or [])
    unknown = []
    for network in sorted(members or {}):
        for host in members[network]:
            if host in play_hosts or (known or {}).get(host, {}).get(network):
                continue
            unknown.append({'host': host, 'network': network, 'interface': interfaces.get(network)})
    return unknown


def wireguard_add_read_public_keys(known, read_results):
    """known plus the keys read from the members themselves (check-mode key module results;
    unreachable or failed reads add nothing). A key read from the member wins."""
    merged = dict((host, dict(keys)) for host, keys in (known or {}).items())
    for result in read_results or []:
        key = result.get('public_key')
        if result.get('unreachable') or result.get('failed') or not key:
            continue
        merged.setdefault(result['item']['host'], {})[result['item']['network']] = key
    return merged


def wireguard_road_warrior_public_keys(keypair_results):
    """{network: {road warrior: public key}} from the controller-side key module results."""
    keys = {}
    for result in keypair_results or []:
        network, road_warrior = result['item'][0], result['item'][1]
        if result.get('public_key'):
            keys.setdefault(network['name'], {})[road_warrior['name']] = result['public_key']
    return keys


def wireguard_keyless_members(members, networks, public_keys):
    """['host (network, interface)', ...] of members nobody has a public key of."""
    interfaces = _interfaces(networks)
    keyless = []
    for network in sorted(members or {}):
        for host in members[network]:
            if not (public_keys or {}).get(host, {}).get(network):
                keyless.append('%s (%s, %s)' % (host, network, interfaces.get(network)))
    return keyless


def converged_record_path(state_dir, interface):
    """Where overlaynet.vpn.wireguard_interface records what it applied and what it saw after."""
    return '%s/%s.converged' % (state_dir.rstrip('/'), interface)


def wireguard_interface_facts(apply_results, recorded=None, state_dir=None):
    """{interface: {network, implementation, userspace_binary, userspace_version}} from the
    results of the apply loop (the fact wireguard_interfaces). An interface whose apply step was
    skipped because it had converged takes them from what the apply step recorded (recorded:
    the probe's json_files)."""
    facts = {}
    for result in apply_results or []:
        item = result['item']
        source = result
        if result.get('skipped') and state_dir:
            source = ((recorded or {}).get(converged_record_path(state_dir, item['interface'])) or {}).get('report') or {}
        facts[item['interface']] = {
            'network': item['network'],
            'implementation': source.get('implementation'),
            'userspace_binary': source.get('userspace_binary'),
            'userspace_version': source.get('userspace_version'),
        }
    return facts


def wireguard_interface_converged(interface_plan, config_sha256, probe, settings):
    """Whether the apply step of an interface can be skipped: nothing it was given and nothing
    live moved since it last ran. True only when the probe found the record the apply step
    wrote, its wg-quick file and preshared keys as wanted (none written in this run), the unit
    enabled and unchanged, the same inputs (file checksums, own public key, userspace binary and
    its checksum, unit) and the same live state (the probe's digest, computed as the apply step
    computes it).

    settings: config_dir, state_dir, unit_name, unit_changed, psk_files_to_write,
    own_public_keys ({network: key}), userspace_binary (None for the kernel) and
    userspace_binary_sha256 (what the binary will be after this run's install step)."""
    from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_runtime import apply_inputs_digest
    interface = interface_plan['interface']
    files = probe.get('files') or {}
    record = (probe.get('json_files') or {}).get(converged_record_path(settings['state_dir'], interface))
    if not isinstance(record, dict) or settings['unit_changed'] or interface in settings['psk_files_to_write']:
        return False
    config_path = '%s/%s.conf' % (settings['config_dir'], interface)
    if (files.get(config_path) or {}).get('sha256') != config_sha256:
        return False
    if interface not in ((probe.get('enabled_instances') or {}).get(settings['unit_name']) or []):
        return False
    live = (probe.get('wireguard_live_state') or {}).get(interface)
    if live is None or live != record.get('live'):
        return False
    psk = files.get('%s/%s.psk' % (settings['config_dir'], interface)) or {}
    inputs = apply_inputs_digest(
        config_sha256,
        (settings['own_public_keys'] or {}).get(interface_plan['network']),
        psk.get('sha256') if psk.get('exists') else None,
        settings['userspace_binary'] or None,
        settings['userspace_binary_sha256'] if settings['userspace_binary'] else None,
        '%s@%s.service' % (settings['unit_name'], interface),
    )
    return inputs == record.get('inputs')


class FilterModule(object):
    def filters(self):
        return {
            'wireguard_own_public_keys': wireguard_own_public_keys,
            'wireguard_known_public_keys': wireguard_known_public_keys,
            'wireguard_unknown_members': wireguard_unknown_members,
            'wireguard_add_read_public_keys': wireguard_add_read_public_keys,
            'wireguard_road_warrior_public_keys': wireguard_road_warrior_public_keys,
            'wireguard_keyless_members': wireguard_keyless_members,
            'wireguard_interface_facts': wireguard_interface_facts,
            'wireguard_interface_converged': wireguard_interface_converged,
        }
