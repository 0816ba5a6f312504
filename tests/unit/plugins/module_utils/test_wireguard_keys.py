# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import (
    KEY_SHAPED,
    decode_key,
    generate_private_key,
    is_valid_key,
    is_wireguard_key,
    public_key_from_private,
    x25519,
)

BASE_POINT = bytes.fromhex('09' + '00' * 31)

# RFC 7748, section 6.1.
ALICE_PRIVATE = bytes.fromhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
ALICE_PUBLIC = bytes.fromhex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
BOB_PRIVATE = bytes.fromhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
BOB_PUBLIC = bytes.fromhex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
SHARED_SECRET = bytes.fromhex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742')


def b64(data):
    return base64.b64encode(data).decode('ascii')


@pytest.mark.parametrize('scalar, u, expected', [
    (
        'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
        'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
        'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    ),
    (
        '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
        'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
        '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
    ),
])
def test_rfc7748_single_vectors(scalar, u, expected):
    assert x25519(bytes.fromhex(scalar), bytes.fromhex(u)).hex() == expected


def _iterate(iterations):
    k = BASE_POINT
    u = BASE_POINT
    for dummy in range(iterations):
        k, u = x25519(k, u), k
    return k.hex()


@pytest.mark.parametrize('iterations, expected', [
    (1, '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079'),
    (1000, '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51'),
])
def test_rfc7748_iterated(iterations, expected):
    assert _iterate(iterations) == expected


def test_rfc7748_diffie_hellman():
    assert x25519(ALICE_PRIVATE, BASE_POINT) == ALICE_PUBLIC
    assert x25519(BOB_PRIVATE, BASE_POINT) == BOB_PUBLIC
    assert x25519(ALICE_PRIVATE, BOB_PUBLIC) == SHARED_SECRET
    assert x25519(BOB_PRIVATE, ALICE_PUBLIC) == SHARED_SECRET


def test_u_coordinate_top_bit_is_masked():
    u_with_top_bit = bytearray(BOB_PUBLIC)
    u_with_top_bit[31] |= 0x80
    assert x25519(ALICE_PRIVATE, bytes(u_with_top_bit)) == SHARED_SECRET


def test_x25519_rejects_wrong_lengths():
    with pytest.raises(ValueError):
        x25519(b'\x01' * 31, BASE_POINT)
    with pytest.raises(ValueError):
        x25519(ALICE_PRIVATE, b'\x09')


def test_generated_private_key_is_clamped_base64():
    for dummy in range(20):
        key = generate_private_key()
        assert len(key) == 44
        assert key.endswith('=')
        raw = base64.b64decode(key, validate=True)
        assert len(raw) == 32
        assert raw[0] & 7 == 0
        assert raw[31] & 128 == 0
        assert raw[31] & 64 == 64


def test_generated_private_keys_differ():
    assert len(set(generate_private_key() for dummy in range(10))) == 10


def test_public_key_from_private_matches_rfc_pairs():
    assert public_key_from_private(b64(ALICE_PRIVATE)) == b64(ALICE_PUBLIC)
    assert public_key_from_private(b64(BOB_PRIVATE)) == b64(BOB_PUBLIC)
    assert public_key_from_private(b64(ALICE_PRIVATE)) == 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo='


def test_public_key_from_private_accepts_trailing_newline():
    assert public_key_from_private(b64(BOB_PRIVATE) + '\n') == b64(BOB_PUBLIC)


def test_public_key_from_private_rejects_invalid_key():
    with pytest.raises(ValueError):
        public_key_from_private('not a key')


@pytest.mark.parametrize('text', [
    b64(ALICE_PRIVATE),
    b64(ALICE_PUBLIC),
    b64(ALICE_PRIVATE) + '\n',
    '  ' + b64(BOB_PUBLIC) + ' \r\n',
    b64(ALICE_PRIVATE).encode('ascii'),
])
def test_is_valid_key_accepts(text):
    assert is_valid_key(text) is True


@pytest.mark.parametrize('text', [
    '',
    '\n',
    None,
    42,
    b64(ALICE_PRIVATE)[:-1],  # 43 characters
    b64(ALICE_PRIVATE)[:-2] + '==',  # right length, wrong padding
    b64(b'\x01' * 31),  # 31 bytes
    b64(b'\x01' * 33),  # 33 bytes
    b64(ALICE_PRIVATE)[:10] + '*' + b64(ALICE_PRIVATE)[11:],  # character outside base64
    b64(ALICE_PRIVATE)[:10] + '-' + b64(ALICE_PRIVATE)[11:],  # url-safe alphabet
    b64(ALICE_PRIVATE)[:20] + ' ' + b64(ALICE_PRIVATE)[21:],  # inner space
    ALICE_PRIVATE.hex(),  # 64 hex characters of a 32-byte key
    b64(ALICE_PRIVATE)[:42] + 'r=',  # non-zero padding bits (canonical would end in 'o=')
    b'\xff' * 44,
])
def test_is_valid_key_rejects(text):
    assert is_valid_key(text) is False


def test_decode_key_returns_bytes():
    assert decode_key(b64(BOB_PRIVATE) + '\n') == BOB_PRIVATE


@pytest.mark.parametrize('text', [
    b64(ALICE_PRIVATE)[:-1],
    b64(ALICE_PRIVATE)[:10] + '*' + b64(ALICE_PRIVATE)[11:],
    b64(ALICE_PRIVATE)[:42] + 'r=',
    ALICE_PRIVATE.hex(),
])
def test_decode_key_error_never_contains_the_key(text):
    with pytest.raises(ValueError) as excinfo:
        decode_key(text)
    message = str(excinfo.value)
    assert message
    assert text not in message
    assert text[:16] not in message


KEY_A = base64.b64encode(b'\x01' * 32).decode('ascii')


def test_is_wireguard_key():
    assert is_wireguard_key(KEY_A)
    assert not is_wireguard_key(KEY_A[:-1])
    assert not is_wireguard_key(None)
    assert not is_wireguard_key(base64.b64encode(b'x' * 31).decode() + '==')


def test_key_pattern_is_exactly_the_canonical_base64_of_32_bytes():
    # Every last character before '=' that base64 can produce for 32 bytes, and no other.
    endings = set(b64(bytes(31) + bytes([byte]))[-2] for byte in range(256))
    assert endings == set('AEIMQUYcgkosw048')
    for char in 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/':
        text = 'A' * 42 + char + '='
        assert is_wireguard_key(text) == is_valid_key(text) == (char in endings)
    for key in (b64(ALICE_PRIVATE), b64(ALICE_PUBLIC), generate_private_key()):
        assert is_wireguard_key(key)
        assert not is_wireguard_key(' ' + key) and not is_wireguard_key(key + '\n')
    assert not is_wireguard_key('A' * 43 + '-') and not is_wireguard_key('A' * 42 + '_A=')


def test_key_shaped_finds_keys_inside_text():
    key = b64(BOB_PUBLIC)
    assert KEY_SHAPED.findall('peer %s: handshake did not complete; psk=%s.' % (key, b64(SHARED_SECRET))) == [key, b64(SHARED_SECRET)]
