# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# OpenVPN tls-crypt-v2 server and client keys, made and read without the openvpn binary.
#
# The format is the one of OpenVPN's doc/tls-crypt-v2.txt and src/openvpn/tls_crypt.c:
#   server key  128 bytes (OpenVPN's `struct key`: cipher[64] then hmac[64]); AES-256-CTR uses
#               the first 32 bytes of the cipher half (Ke), HMAC-SHA256 the first 32 bytes of
#               the hmac half (Ka).
#   client key  Kc || WKc, with Kc 256 random bytes (`struct key2`: two `struct key`) and
#               WKc = T || AES-256-CTR(Ke, IV = T[:16], Kc || metadata) || len,
#               T = HMAC-SHA256(Ka, len || Kc || metadata), len = len(WKc) as a big-endian uint16.
#   metadata    one type byte (0x00 user data, 0x01 a 64-bit big-endian unix time) and its payload.
# Both keys are PEM: base64 in 64-column lines between BEGIN/END lines naming the key.
#
# This file runs on the controller only (the OpenVPN PKI is made there), which is why it may
# use `cryptography` (ansible-core depends on it) against the standard-library-only rule for
# module_utils. Whether the package is there is found out once, by the guarded import of _x509;
# this file imports from it only then, so that importing this file never fails.
#
# Pure functions: no file I/O here; the caller writes key files with mode 0600. No message
# raised here ever contains key material.

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct

from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY  # pylint: disable=unused-import

try:
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError:
    pass  # HAS_CRYPTOGRAPHY (from _x509, where the same package failed to import) is False then.

SERVER_KEY_LENGTH = 128
CLIENT_KEY_LENGTH = 256

METADATA_TYPE_USER = 0x00
METADATA_TYPE_TIMESTAMP = 0x01
METADATA_TYPES = (METADATA_TYPE_USER, METADATA_TYPE_TIMESTAMP)
TIMESTAMP_LENGTH = 8

SERVER_PEM_LABEL = 'OpenVPN tls-crypt-v2 server key'
CLIENT_PEM_LABEL = 'OpenVPN tls-crypt-v2 client key'
PEM_LINE_LENGTH = 64

TAG_LENGTH = 32
_LENGTH_FIELD_LENGTH = 2
_IV_LENGTH = 16
# OpenVPN refuses a WKc longer than this (TLS_CRYPT_V2_MAX_WKC_LEN), which bounds the metadata
# (TLS_CRYPT_V2_MAX_METADATA_LEN, type byte included) and so the user data after the type byte.
MAX_WRAPPED_KEY_LENGTH = 1024
MAX_METADATA_LENGTH = MAX_WRAPPED_KEY_LENGTH - (CLIENT_KEY_LENGTH + TAG_LENGTH + _LENGTH_FIELD_LENGTH)
MAX_USER_METADATA_LENGTH = MAX_METADATA_LENGTH - 1
_MIN_WRAPPED_KEY_LENGTH = TAG_LENGTH + CLIENT_KEY_LENGTH + _LENGTH_FIELD_LENGTH

# Ke and Ka inside the server key: OpenVPN's `struct key` is cipher[64] then hmac[64].
_CIPHER_KEY = slice(0, 32)
_HMAC_KEY = slice(64, 96)

_BASE64_BODY = re.compile(r'[A-Za-z0-9+/=\s]+')


class TlsCryptV2Error(Exception):
    """A tls-crypt-v2 key that is malformed, not wrapped by the given server key, or not makeable.

    The message never contains key material.
    """


def _require_cryptography():
    if not HAS_CRYPTOGRAPHY:
        raise TlsCryptV2Error('the Python package cryptography is needed for tls-crypt-v2 keys on the controller')


def _as_bytes(value, what):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TlsCryptV2Error('%s must be bytes, not %s' % (what, type(value).__name__))


def _checked_server_key(server_key):
    server_key = _as_bytes(server_key, 'a tls-crypt-v2 server key')
    if len(server_key) != SERVER_KEY_LENGTH:
        raise TlsCryptV2Error('a tls-crypt-v2 server key must be %d bytes, not %d' % (SERVER_KEY_LENGTH, len(server_key)))
    return server_key


def _split_client_key(client_key):
    """(Kc, WKc) of Kc || WKc after the checks that need no server key."""
    client_key = _as_bytes(client_key, 'a tls-crypt-v2 client key')
    if len(client_key) < CLIENT_KEY_LENGTH + _MIN_WRAPPED_KEY_LENGTH:
        raise TlsCryptV2Error('a tls-crypt-v2 client key must be at least %d bytes, not %d'
                              % (CLIENT_KEY_LENGTH + _MIN_WRAPPED_KEY_LENGTH, len(client_key)))
    kc = client_key[:CLIENT_KEY_LENGTH]
    wkc = client_key[CLIENT_KEY_LENGTH:]
    if len(wkc) > MAX_WRAPPED_KEY_LENGTH:
        raise TlsCryptV2Error('the wrapped part of a tls-crypt-v2 client key must be at most %d bytes, not %d'
                              % (MAX_WRAPPED_KEY_LENGTH, len(wkc)))
    # The server finds WKc by this field at the end of the client's first packet.
    (length_field,) = struct.unpack('>H', wkc[-_LENGTH_FIELD_LENGTH:])
    if length_field != len(wkc):
        raise TlsCryptV2Error('the wrapped part of a tls-crypt-v2 client key is %d bytes but says %d' % (len(wkc), length_field))
    return kc, wkc


def _aes_256_ctr(server_key, iv, data):
    _require_cryptography()
    cipher = Cipher(algorithms.AES(server_key[_CIPHER_KEY]), modes.CTR(iv), backend=default_backend())
    # CTR is its own inverse: the same call encrypts and decrypts.
    transform = cipher.encryptor()
    return transform.update(data) + transform.finalize()


def _tag(server_key, length_field, plaintext):
    return hmac.new(server_key[_HMAC_KEY], length_field + plaintext, hashlib.sha256).digest()


def _encode_pem(label, data):
    encoded = base64.b64encode(data).decode('ascii')
    lines = [encoded[start:start + PEM_LINE_LENGTH] for start in range(0, len(encoded), PEM_LINE_LENGTH)]
    return '-----BEGIN %s-----\n%s\n-----END %s-----\n' % (label, '\n'.join(lines), label)


def _decode_pem(text, label):
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode('ascii')
        except UnicodeDecodeError:
            raise TlsCryptV2Error('an %s must be ASCII PEM text' % label)
    if not isinstance(text, str):
        raise TlsCryptV2Error('an %s must be PEM text' % label)
    pem_shape = r'-----BEGIN %s-----[ \t]*\r?\n(.*?)\r?\n-----END %s-----' % (re.escape(label), re.escape(label))
    match = re.fullmatch(pem_shape, text.strip(), re.DOTALL)
    if match is None:
        raise TlsCryptV2Error('an %s must be one PEM block with that label and nothing else' % label)
    body = match.group(1)
    if not _BASE64_BODY.fullmatch(body):
        raise TlsCryptV2Error('the PEM body of an %s must be base64 only' % label)
    encoded = re.sub(r'\s', '', body)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise TlsCryptV2Error('the PEM body of an %s is not valid base64' % label)
    # One spelling per key (no stray padding bits), so that a file either is a key or is not.
    if base64.b64encode(data).decode('ascii') != encoded:
        raise TlsCryptV2Error('the PEM body of an %s is not canonical base64' % label)
    return data


def new_server_key():
    """128 random bytes: a new tls-crypt-v2 server key."""
    return os.urandom(SERVER_KEY_LENGTH)


def server_key_to_pem(server_key):
    """The server key as OpenVPN writes it with --genkey tls-crypt-v2-server."""
    return _encode_pem(SERVER_PEM_LABEL, _checked_server_key(server_key))


def server_key_from_pem(text):
    """The 128 bytes of a server key file's text; TlsCryptV2Error for anything else."""
    return _checked_server_key(_decode_pem(text, SERVER_PEM_LABEL))


def new_client_key(server_key, metadata, metadata_type=METADATA_TYPE_USER):
    """Kc || WKc: a new client key wrapped by server_key with this metadata.

    metadata is the payload after the type byte: at most 733 bytes of user data, or for
    METADATA_TYPE_TIMESTAMP the 8 bytes of a big-endian unix time.
    """
    server_key = _checked_server_key(server_key)
    metadata = _as_bytes(metadata, 'tls-crypt-v2 metadata')
    if isinstance(metadata_type, bool) or metadata_type not in METADATA_TYPES:
        raise TlsCryptV2Error('the tls-crypt-v2 metadata type must be %d (user) or %d (timestamp)' % METADATA_TYPES)
    if metadata_type == METADATA_TYPE_TIMESTAMP and len(metadata) != TIMESTAMP_LENGTH:
        raise TlsCryptV2Error('timestamp metadata must be %d bytes (big-endian unix time), not %d' % (TIMESTAMP_LENGTH, len(metadata)))
    if len(metadata) > MAX_USER_METADATA_LENGTH:
        raise TlsCryptV2Error('tls-crypt-v2 metadata must be at most %d bytes, not %d' % (MAX_USER_METADATA_LENGTH, len(metadata)))
    _require_cryptography()
    kc = os.urandom(CLIENT_KEY_LENGTH)
    plaintext = kc + bytes((metadata_type,)) + metadata
    length_field = struct.pack('>H', TAG_LENGTH + len(plaintext) + _LENGTH_FIELD_LENGTH)
    tag = _tag(server_key, length_field, plaintext)
    wkc = tag + _aes_256_ctr(server_key, tag[:_IV_LENGTH], plaintext) + length_field
    return kc + wkc


def client_key_to_pem(client_key):
    """The client key (Kc || WKc) as OpenVPN writes it with --genkey tls-crypt-v2-client."""
    kc, wkc = _split_client_key(client_key)
    return _encode_pem(CLIENT_PEM_LABEL, kc + wkc)


def client_key_from_pem(text):
    """Kc || WKc from a client key file's text, its lengths checked; TlsCryptV2Error otherwise."""
    kc, wkc = _split_client_key(_decode_pem(text, CLIENT_PEM_LABEL))
    return kc + wkc


def unwrap_client_key(server_key, client_key):
    """(Kc, metadata type, metadata payload) of a client key wrapped by server_key.

    Raises TlsCryptV2Error when the lengths are wrong, the tag does not verify (another server
    key, or the key was altered), the wrapped Kc is not the one in front of WKc, or there is no
    metadata type byte.
    """
    server_key = _checked_server_key(server_key)
    kc, wkc = _split_client_key(client_key)
    tag = wkc[:TAG_LENGTH]
    length_field = wkc[-_LENGTH_FIELD_LENGTH:]
    plaintext = _aes_256_ctr(server_key, tag[:_IV_LENGTH], wkc[TAG_LENGTH:-_LENGTH_FIELD_LENGTH])
    if not hmac.compare_digest(tag, _tag(server_key, length_field, plaintext)):
        raise TlsCryptV2Error('the tls-crypt-v2 client key does not authenticate: wrapped by another server key, or altered')
    wrapped_kc = plaintext[:CLIENT_KEY_LENGTH]
    # The client uses the Kc in front, the server the wrapped one: they must be the same key.
    if not hmac.compare_digest(kc, wrapped_kc):
        raise TlsCryptV2Error('the tls-crypt-v2 client key in front of the wrapped key is not the wrapped one')
    if len(plaintext) == CLIENT_KEY_LENGTH:
        raise TlsCryptV2Error('the tls-crypt-v2 client key has no metadata type')
    return wrapped_kc, plaintext[CLIENT_KEY_LENGTH], plaintext[CLIENT_KEY_LENGTH + 1:]


def client_key_belongs_to(server_key, client_key_pem, metadata):
    """Whether client_key_pem is a client key wrapped by server_key with exactly this user metadata.

    Anything wrong with the client key text gives False; a malformed server key raises
    TlsCryptV2Error, since that is the caller's error and not a reason to replace the client key.
    """
    server_key = _checked_server_key(server_key)
    metadata = _as_bytes(metadata, 'tls-crypt-v2 metadata')
    # Without cryptography nothing can be told about the file: an error, not a replacement.
    _require_cryptography()
    try:
        dummy, metadata_type, wrapped_metadata = unwrap_client_key(server_key, client_key_from_pem(client_key_pem))
    except TlsCryptV2Error:
        return False
    return metadata_type == METADATA_TYPE_USER and wrapped_metadata == metadata
