# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Stable addresses from pools, for any system that hands out addresses by name (WireGuard
# members and road warriors, OpenVPN fixed client addresses, ...).
#
# Do not change the hash input or the probing order: every deployed address was derived from
# them, and a change would move existing users' addresses.

import hashlib
import ipaddress

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import family_name, is_usable, parse_host_address, usable_range

# Name-by-name hash probing gives up after this many rounds (only reachable in nearly full pools)
# and falls back to the next free slot upwards from the first choice, so allocation always ends.
ALLOCATION_ROUNDS = 256


def _candidate_slot(salt, pool_text, name, attempt, size):
    digest = hashlib.sha256(('%s|%s|%s|%d' % (salt, pool_text, name, attempt)).encode('utf-8')).hexdigest()
    return int(digest, 16) % size


def allocate(pools, names, explicit, salt, label):
    """(addresses, notes) for every name: one address per pool, stable under changes of the other names.

    pools: CIDR strings, in the order each name's addresses are listed. names: every name that
    needs an address. explicit: name -> addresses the user gave ('10.77.0.5' or '10.77.0.5/24');
    a name without an entry has none. salt: mixed into the hash, so that a name gets other slots
    elsewhere (WireGuard: the network name). label: how messages name the pools' owner, for
    example 'network mesh'.

    addresses: name -> ['ip/prefix', ...], with the pool's prefix length so that an interface
    gets the route to the whole pool, e.g. '10.77.0.23/24', 'fd77:77::3a1f:9c2e:1b/64'.
    notes: the names that did not get their first-choice slot, sorted by pool then name:
    {pool, name, address, first_choice, taken_by (the name holding the first choice), attempts,
    message}; their address may move when taken_by goes away.

    Rules, per pool:

    1. Explicit addresses win and are reserved before anything is hashed (the address of the
       pool's family; given with or without prefix).
    2. Everyone else gets slot ``int(sha256("<salt>|<pool>|<name>|<attempt>")) mod U`` of the U
       usable addresses (the network address, and for IPv4 the broadcast address, are never
       used), ``<pool>`` being the pool in normalized form (``str(ipaddress.ip_network(pool))``).
       Probing goes in rounds: in round ``attempt`` (0, 1, 2, ...) every name still without an
       address tries its slot for that attempt, in sorted name order; a slot already held is
       skipped. After ALLOCATION_ROUNDS rounds (only reachable in nearly full pools) the remaining
       names take the next free slot upwards from their first choice, wrapping around.

    Stability, precisely:

    * The result depends only on the salt, the pools, the set of names and the explicit
      addresses; not on the order of names or of the explicit mapping.
    * A name that got its first choice (attempt 0) keeps its address when any other name is removed.
      It also keeps it when names are added, unless an added name has the same first-choice slot
      and sorts before it, or an added explicit address claims it.
    * A name that did not get its first choice (see the notes) depends on the names holding the
      slots it tried: its address may move when those names (the one holding its first choice
      in particular) are removed, and when names are added or removed that change which of the
      slots it tried are free. Pin such names with an explicit address if the address must not move.

    Raises ValueError when an explicit address does not fit (validate first) or a pool is too small.
    """
    pools = [ipaddress.ip_network(pool) for pool in pools]
    names = sorted(set(names))
    explicit = dict((name, list(explicit.get(name) or [])) for name in names)
    addresses = dict((name, []) for name in names)
    notes = []
    for name in names:
        for text in explicit[name]:
            ip = parse_host_address(text)[0]
            if not any(ip.version == pool.version for pool in pools):
                raise ValueError('%s: address %s of %s matches no pool' % (label, ip, name))

    for pool in pools:
        pool_text = str(pool)
        taken = {}      # int address -> name holding it
        assigned = {}   # name -> int address
        for name in names:
            for text in explicit[name]:
                ip = parse_host_address(text)[0]
                if ip.version != pool.version:
                    continue
                if ip not in pool or not is_usable(pool, ip):
                    raise ValueError('%s: address %s of %s is not a usable address of pool %s' % (label, ip, name, pool_text))
                if name in assigned:
                    raise ValueError('%s: %s has more than one %s address' % (label, name, family_name(pool.version)))
                if int(ip) in taken:
                    raise ValueError('%s: address %s is given to both %s and %s' % (label, ip, taken[int(ip)], name))
                taken[int(ip)] = name
                assigned[name] = int(ip)

        first, size = usable_range(pool)
        pending = [name for name in names if name not in assigned]
        if len(pending) > size - len(taken):
            raise ValueError('%s: pool %s has %d usable addresses, too few for %d names' % (label, pool_text, size, len(names)))

        # Round-based probing: every name tries its attempt-0 slot before anyone tries attempt 1, so a
        # name that got its first choice can only lose it to a name wanting that very slot first.
        first_choice = {}
        attempts = {}
        for attempt in range(ALLOCATION_ROUNDS):
            if not pending:
                break
            still_pending = []
            for name in pending:
                candidate = first + _candidate_slot(salt, pool_text, name, attempt, size)
                if attempt == 0:
                    first_choice[name] = candidate
                if candidate in taken:
                    still_pending.append(name)
                else:
                    taken[candidate] = name
                    assigned[name] = candidate
                    attempts[name] = attempt
            pending = still_pending
        for name in pending:
            candidate = first_choice[name]
            while candidate in taken:
                candidate = first + (candidate - first + 1) % size
            taken[candidate] = name
            assigned[name] = candidate
            attempts[name] = ALLOCATION_ROUNDS

        for name in names:
            addresses[name].append('%s/%d' % (ipaddress.ip_address(assigned[name]), pool.prefixlen))
        for name in sorted(attempts):
            if attempts[name] == 0:
                continue
            wanted = ipaddress.ip_address(first_choice[name])
            holder = taken[first_choice[name]]
            got = ipaddress.ip_address(assigned[name])
            notes.append({
                'pool': pool_text,
                'name': name,
                'address': '%s/%d' % (got, pool.prefixlen),
                'first_choice': '%s/%d' % (wanted, pool.prefixlen),
                'taken_by': holder,
                'attempts': attempts[name] + 1,
                'message': ('%s: %s got %s instead of its first choice %s (held by %s); its address may change '
                            'when %s or other members are removed or added; pin it with an explicit address to keep it'
                            % (label, name, got, wanted, holder, holder)),
            })
    return addresses, notes
