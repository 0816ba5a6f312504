# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.overlaynet.vpn.plugins.module_utils._secrets import scrub_secrets
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import KEY_SHAPED
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.wireguard_files import PEER_A, PRIVATE, PSK_A, new_key


def test_scrub_secrets():
    other = new_key()
    text = 'Key is not the correct length or format: `%s`; peer %s; psk %s; unknown %s' % (PRIVATE, PEER_A, PSK_A, other)
    cleaned = scrub_secrets(text, [PRIVATE, PSK_A, None], [PEER_A], KEY_SHAPED)
    assert PRIVATE not in cleaned and PSK_A not in cleaned and other not in cleaned
    assert PEER_A in cleaned
    assert cleaned.count('(secret)') == 2 and '(key)' in cleaned
    assert scrub_secrets(None, [PRIVATE]) == ''


def test_known_secrets_go_whatever_their_shape():
    text = 'openvpn: bad static key "s3cr3t-passphrase" (s3cr3t-passphrase)'
    assert scrub_secrets(text, ['s3cr3t-passphrase', '']) == 'openvpn: bad static key "(secret)" ((secret))'


def test_without_a_key_pattern_only_known_secrets_go():
    other = new_key()
    assert scrub_secrets('unknown %s' % other, [PRIVATE]) == 'unknown %s' % other


def test_key_pattern_of_another_system():
    hex_key = re.compile(r'\b[0-9a-f]{64}\b')
    known = 'a' * 64
    text = 'keys %s %s' % (known, 'b' * 64)
    assert scrub_secrets(text, [], [known], hex_key) == 'keys %s (key)' % known
