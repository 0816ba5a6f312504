# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# WireGuard key handling in pure Python (standard library only).
#
# X25519 follows RFC 7748, section 5. Targets cannot be assumed to have the
# `cryptography` package or the `wg` binary, hence the own implementation.
#
# Python integers are not constant time, so this code keeps the constant
# structure the RFC asks for (no secret-dependent branches, conditional swaps
# done with masks) but does not claim side-channel resistance at machine level.

import base64
import binascii
import os
import re

KEY_LENGTH = 32
KEY_LENGTH_BASE64 = 44

# A key as wg prints it: the standard base64 of 32 bytes. 43 characters carry 258 bits, so the
# last one before the '=' has its two lowest bits zero: one of the 16 characters listed.
# The only spelling of the key format in the collection: use KEY_SHAPED or is_wireguard_key.
KEY_PATTERN = r'[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]='
KEY_SHAPED = re.compile(KEY_PATTERN)

# Curve25519 field prime and the (A - 2) / 4 constant of the ladder (RFC 7748, section 4.1 / 5).
_P = 2 ** 255 - 19
_A24 = 121665
_BITS = 255
_BASE_POINT_U = b'\x09' + b'\x00' * 31


def _decode_little_endian(data):
    return int.from_bytes(data, 'little')


def _encode_u_coordinate(u):
    return (u % _P).to_bytes(KEY_LENGTH, 'little')


def _decode_u_coordinate(u):
    u_bytes = bytearray(u)
    # RFC 7748: the most significant bit of the final byte MUST be masked;
    # non-canonical values (>= p) are accepted and reduced by the field arithmetic.
    u_bytes[-1] &= 0x7f
    return _decode_little_endian(bytes(u_bytes))


def clamp_scalar(scalar):
    """Return the 32-byte scalar clamped as RFC 7748 decodeScalar25519 does."""
    if len(scalar) != KEY_LENGTH:
        raise ValueError('an X25519 scalar must be exactly %d bytes' % KEY_LENGTH)
    clamped = bytearray(scalar)
    clamped[0] &= 248
    clamped[31] &= 127
    clamped[31] |= 64
    return bytes(clamped)


def _cswap(swap, x_2, x_3):
    # swap is 0 or 1; -swap is then 0 or all ones, so no branch depends on it.
    mask = -swap
    dummy = mask & (x_2 ^ x_3)
    return x_2 ^ dummy, x_3 ^ dummy


def x25519(scalar, u):
    """X25519(scalar, u) from RFC 7748: both arguments and the result are 32 bytes."""
    if len(scalar) != KEY_LENGTH or len(u) != KEY_LENGTH:
        raise ValueError('X25519 inputs must be exactly %d bytes each' % KEY_LENGTH)
    k = _decode_little_endian(clamp_scalar(scalar))
    x_1 = _decode_u_coordinate(u)
    x_2, z_2 = 1, 0
    x_3, z_3 = x_1, 1
    swap = 0

    for t in range(_BITS - 1, -1, -1):
        k_t = (k >> t) & 1
        swap ^= k_t
        x_2, x_3 = _cswap(swap, x_2, x_3)
        z_2, z_3 = _cswap(swap, z_2, z_3)
        swap = k_t

        a = (x_2 + z_2) % _P
        aa = (a * a) % _P
        b = (x_2 - z_2) % _P
        bb = (b * b) % _P
        e = (aa - bb) % _P
        c = (x_3 + z_3) % _P
        d = (x_3 - z_3) % _P
        da = (d * a) % _P
        cb = (c * b) % _P
        x_3 = pow(da + cb, 2, _P)
        z_3 = (x_1 * pow(da - cb, 2, _P)) % _P
        x_2 = (aa * bb) % _P
        z_2 = (e * (aa + _A24 * e)) % _P

    x_2, x_3 = _cswap(swap, x_2, x_3)
    z_2, z_3 = _cswap(swap, z_2, z_3)
    # z_2 ** (p - 2) is the inverse of z_2 (Fermat); for z_2 == 0 it yields 0 as the RFC specifies.
    return _encode_u_coordinate(x_2 * pow(z_2, _P - 2, _P))


def _encode_key(key_bytes):
    return base64.b64encode(key_bytes).decode('ascii')


def decode_key(text):
    """Decode a WireGuard key (standard base64 of 32 bytes) to bytes.

    Surrounding whitespace is ignored. Raises ValueError; the message never
    contains the key text, since the input may be a private key.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode('ascii')
        except UnicodeDecodeError:
            raise ValueError('a WireGuard key must be ASCII base64 text')
    if not isinstance(text, str):
        raise ValueError('a WireGuard key must be a string')
    text = text.strip()
    if len(text) != KEY_LENGTH_BASE64 or not text.endswith('=') or text.endswith('=='):
        raise ValueError('a WireGuard key must be %d characters of base64 ending in a single "="' % KEY_LENGTH_BASE64)
    try:
        key_bytes = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('a WireGuard key must contain only standard base64 characters')
    # Reject encodings with non-zero padding bits, which `wg` refuses as well.
    if len(key_bytes) != KEY_LENGTH or _encode_key(key_bytes) != text:
        raise ValueError('a WireGuard key must be the canonical base64 encoding of %d bytes' % KEY_LENGTH)
    return key_bytes


def is_wireguard_key(value):
    """Tell whether value is a WireGuard key and nothing else (no whitespace around it)."""
    return isinstance(value, str) and KEY_SHAPED.fullmatch(value) is not None


def is_valid_key(text):
    """Tell whether text (surrounding whitespace ignored) is a WireGuard key."""
    try:
        decode_key(text)
    except ValueError:
        return False
    return True


def generate_private_key():
    """Return a new clamped private key in base64, as `wg genkey` prints it."""
    return _encode_key(clamp_scalar(os.urandom(KEY_LENGTH)))


def public_key_from_private(private_key_b64):
    """Return the base64 public key that belongs to a base64 private key."""
    return _encode_key(x25519(decode_key(private_key_b64), _BASE_POINT_U))
