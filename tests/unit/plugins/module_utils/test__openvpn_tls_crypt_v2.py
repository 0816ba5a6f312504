# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import hashlib
import hmac
import os
import shutil
import socket
import struct
import subprocess
import time

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from ansible_collections.overlaynet.vpn.plugins.module_utils import _openvpn_tls_crypt_v2 as tc2
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_tls_crypt_v2 import (
    CLIENT_KEY_LENGTH,
    HAS_CRYPTOGRAPHY,
    METADATA_TYPE_TIMESTAMP,
    METADATA_TYPE_USER,
    SERVER_KEY_LENGTH,
    TlsCryptV2Error,
    client_key_belongs_to,
    client_key_from_pem,
    client_key_to_pem,
    new_client_key,
    new_server_key,
    server_key_from_pem,
    server_key_to_pem,
    unwrap_client_key,
)

# A fixed server key, so that the known-answer test below pins the byte layout.
SERVER_KEY = bytes(range(SERVER_KEY_LENGTH))
OTHER_SERVER_KEY = bytes(255 - byte for byte in range(SERVER_KEY_LENGTH))
METADATA = b'overlaynet.vpn client alice \x00\xff'
# 1024 (largest wrapped key OpenVPN reads) - 256 (Kc) - 32 (tag) - 2 (length) - 1 (type byte).
MAX_USER_METADATA = 733


def pem_body_lines(pem):
    return pem.strip().split('\n')[1:-1]


def flip(data, index):
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def key_spellings(key):
    """Ways a key could leak into a message: base64 and hex of its start, middle and whole."""
    spellings = set()
    for part in (key, key[:24], key[40:64]):
        spellings.add(base64.b64encode(part).decode('ascii')[:32])
        spellings.add(part.hex()[:32])
        spellings.add(part.hex().upper()[:32])
        spellings.add(repr(part)[:32])
    return spellings


def assert_no_key_in(message, *keys):
    assert message
    for key in keys:
        for spelling in key_spellings(key):
            assert spelling not in message


def test_cryptography_is_there():
    assert HAS_CRYPTOGRAPHY is True
    assert tc2.CRYPTOGRAPHY_IMPORT_ERROR is None


def test_new_server_key_is_128_random_bytes():
    keys = [new_server_key() for dummy in range(5)]
    assert all(isinstance(key, bytes) and len(key) == SERVER_KEY_LENGTH == 128 for key in keys)
    assert len(set(keys)) == 5


def test_server_key_pem_round_trip_and_layout():
    pem = server_key_to_pem(SERVER_KEY)
    assert pem.startswith('-----BEGIN OpenVPN tls-crypt-v2 server key-----\n')
    assert pem.endswith('\n-----END OpenVPN tls-crypt-v2 server key-----\n')
    # 128 bytes are 172 base64 characters: two full 64-column lines and one of 44, as OpenSSL writes them.
    assert [len(line) for line in pem_body_lines(pem)] == [64, 64, 44]
    assert server_key_from_pem(pem) == SERVER_KEY
    assert server_key_from_pem(pem.encode('ascii')) == SERVER_KEY
    assert server_key_from_pem(pem.replace('\n', '\r\n')) == SERVER_KEY
    assert server_key_from_pem('\n  ' + pem + '\n\n') == SERVER_KEY


def test_client_key_layout_known_answer():
    # Rebuilt here from the published construction with primitives of our own, so that an
    # error in offsets (Ke, Ka, IV, length field) cannot cancel out in a round trip.
    client_key = new_client_key(SERVER_KEY, METADATA)
    wkc_length = 32 + 256 + 1 + len(METADATA) + 2
    assert len(client_key) == 256 + wkc_length
    kc, wkc = client_key[:256], client_key[256:]
    assert wkc[-2:] == struct.pack('>H', wkc_length)
    plaintext = kc + b'\x00' + METADATA
    tag = hmac.new(SERVER_KEY[64:96], wkc[-2:] + plaintext, hashlib.sha256).digest()
    assert wkc[:32] == tag
    encryptor = Cipher(algorithms.AES(SERVER_KEY[0:32]), modes.CTR(tag[:16])).encryptor()
    assert wkc[32:-2] == encryptor.update(plaintext) + encryptor.finalize()


def test_client_key_round_trip():
    client_key = new_client_key(SERVER_KEY, METADATA)
    pem = client_key_to_pem(client_key)
    assert pem.startswith('-----BEGIN OpenVPN tls-crypt-v2 client key-----\n')
    assert pem.endswith('\n-----END OpenVPN tls-crypt-v2 client key-----\n')
    lines = pem_body_lines(pem)
    assert all(len(line) == 64 for line in lines[:-1]) and 0 < len(lines[-1]) <= 64
    assert client_key_from_pem(pem) == client_key
    kc, metadata_type, metadata = unwrap_client_key(SERVER_KEY, client_key)
    assert kc == client_key[:CLIENT_KEY_LENGTH] and len(kc) == 256
    assert metadata_type == METADATA_TYPE_USER == 0
    assert metadata == METADATA


@pytest.mark.parametrize('metadata', [b'', b'x', b'\x00' * 10, os.urandom(MAX_USER_METADATA)])
def test_client_key_lengths_follow_the_metadata(metadata):
    client_key = new_client_key(SERVER_KEY, metadata)
    assert len(client_key) == 256 + 32 + 256 + 1 + len(metadata) + 2
    assert unwrap_client_key(SERVER_KEY, client_key_from_pem(client_key_to_pem(client_key)))[1:] == (METADATA_TYPE_USER, metadata)


def test_largest_client_key_has_a_1024_byte_wrapped_part():
    client_key = new_client_key(SERVER_KEY, b'm' * MAX_USER_METADATA)
    assert len(client_key) - CLIENT_KEY_LENGTH == 1024


def test_timestamp_metadata():
    stamp = struct.pack('>Q', 1767225600)
    client_key = new_client_key(SERVER_KEY, stamp, METADATA_TYPE_TIMESTAMP)
    assert unwrap_client_key(SERVER_KEY, client_key)[1:] == (METADATA_TYPE_TIMESTAMP, stamp)
    assert client_key_belongs_to(SERVER_KEY, client_key_to_pem(client_key), stamp) is False


@pytest.mark.parametrize('metadata, metadata_type', [
    (b'\x00' * 7, METADATA_TYPE_TIMESTAMP),
    (b'\x00' * 9, METADATA_TYPE_TIMESTAMP),
    (b'x', 2),
    (b'x', -1),
    (b'x', True),
    (b'x', '0'),
])
def test_new_client_key_rejects_bad_metadata_types(metadata, metadata_type):
    with pytest.raises(TlsCryptV2Error):
        new_client_key(SERVER_KEY, metadata, metadata_type)


def test_client_keys_differ():
    assert new_client_key(SERVER_KEY, METADATA)[:256] != new_client_key(SERVER_KEY, METADATA)[:256]


def test_metadata_too_long():
    with pytest.raises(TlsCryptV2Error, match='at most 733 bytes, not 734'):
        new_client_key(SERVER_KEY, b'm' * (MAX_USER_METADATA + 1))


@pytest.mark.parametrize('metadata', ['text', None, 42])
def test_metadata_must_be_bytes(metadata):
    with pytest.raises(TlsCryptV2Error):
        new_client_key(SERVER_KEY, metadata)


@pytest.mark.parametrize('server_key', [b'', SERVER_KEY[:127], SERVER_KEY + b'\x00', SERVER_KEY.hex(), None])
def test_server_key_must_be_128_bytes(server_key):
    with pytest.raises(TlsCryptV2Error):
        new_client_key(server_key, METADATA)
    with pytest.raises(TlsCryptV2Error):
        server_key_to_pem(server_key)


def test_wrong_server_key_is_refused():
    client_key = new_client_key(SERVER_KEY, METADATA)
    with pytest.raises(TlsCryptV2Error, match='does not authenticate') as excinfo:
        unwrap_client_key(OTHER_SERVER_KEY, client_key)
    assert_no_key_in(str(excinfo.value), SERVER_KEY, OTHER_SERVER_KEY, client_key)
    assert client_key_belongs_to(OTHER_SERVER_KEY, client_key_to_pem(client_key), METADATA) is False


@pytest.mark.parametrize('index', [256, 256 + 31, 256 + 32, 256 + 32 + 255, 256 + 32 + 256, -3])
def test_tampered_wrapped_key_is_refused(index):
    client_key = new_client_key(SERVER_KEY, METADATA)
    tampered = flip(client_key, index)
    with pytest.raises(TlsCryptV2Error, match='does not authenticate') as excinfo:
        unwrap_client_key(SERVER_KEY, tampered)
    assert_no_key_in(str(excinfo.value), SERVER_KEY, client_key)
    assert client_key_belongs_to(SERVER_KEY, client_key_to_pem(tampered), METADATA) is False


def test_tampered_length_field_is_refused():
    client_key = new_client_key(SERVER_KEY, METADATA)
    with pytest.raises(TlsCryptV2Error, match='says'):
        unwrap_client_key(SERVER_KEY, flip(client_key, -1))


def test_kc_in_front_must_be_the_wrapped_one():
    client_key = new_client_key(SERVER_KEY, METADATA)
    with pytest.raises(TlsCryptV2Error, match='not the wrapped one') as excinfo:
        unwrap_client_key(SERVER_KEY, flip(client_key, 5))
    assert_no_key_in(str(excinfo.value), client_key)


def test_wrapped_key_without_metadata_type_is_refused():
    # OpenVPN itself always writes a type byte; a WKc without one is built here by hand.
    kc = os.urandom(256)
    length_field = struct.pack('>H', 32 + 256 + 2)
    tag = hmac.new(SERVER_KEY[64:96], length_field + kc, hashlib.sha256).digest()
    encryptor = Cipher(algorithms.AES(SERVER_KEY[0:32]), modes.CTR(tag[:16])).encryptor()
    client_key = kc + tag + encryptor.update(kc) + encryptor.finalize() + length_field
    with pytest.raises(TlsCryptV2Error, match='no metadata type'):
        unwrap_client_key(SERVER_KEY, client_key)


@pytest.mark.parametrize('cut', [1, 256, 256 + 290 - 1])
def test_short_client_key_is_refused(cut):
    client_key = new_client_key(SERVER_KEY, b'')
    with pytest.raises(TlsCryptV2Error):
        unwrap_client_key(SERVER_KEY, client_key[:cut])
    with pytest.raises(TlsCryptV2Error):
        client_key_to_pem(client_key[:cut])


def test_wrapped_part_longer_than_openvpn_reads_is_refused():
    kc = os.urandom(256)
    wkc = os.urandom(1025 - 2) + struct.pack('>H', 1025)
    with pytest.raises(TlsCryptV2Error, match='at most 1024'):
        client_key_to_pem(kc + wkc)


def test_client_key_belongs_to():
    pem = client_key_to_pem(new_client_key(SERVER_KEY, METADATA))
    assert client_key_belongs_to(SERVER_KEY, pem, METADATA) is True
    assert client_key_belongs_to(SERVER_KEY, pem, bytearray(METADATA)) is True
    assert client_key_belongs_to(SERVER_KEY, pem, METADATA[:-1]) is False
    assert client_key_belongs_to(SERVER_KEY, pem, METADATA + b'x') is False
    assert client_key_belongs_to(SERVER_KEY, pem, b'') is False
    assert client_key_belongs_to(SERVER_KEY, pem.replace('client key', 'server key'), METADATA) is False
    assert client_key_belongs_to(SERVER_KEY, server_key_to_pem(SERVER_KEY), METADATA) is False
    assert client_key_belongs_to(SERVER_KEY, '', METADATA) is False
    assert client_key_belongs_to(SERVER_KEY, None, METADATA) is False
    assert client_key_belongs_to(SERVER_KEY, pem[:200], METADATA) is False


def test_client_key_belongs_to_raises_for_a_bad_server_key():
    pem = client_key_to_pem(new_client_key(SERVER_KEY, METADATA))
    with pytest.raises(TlsCryptV2Error):
        client_key_belongs_to(SERVER_KEY[:100], pem, METADATA)


def test_without_cryptography_nothing_is_judged(monkeypatch):
    pem = client_key_to_pem(new_client_key(SERVER_KEY, METADATA))
    monkeypatch.setattr(tc2, 'HAS_CRYPTOGRAPHY', False)
    with pytest.raises(TlsCryptV2Error, match='cryptography'):
        client_key_belongs_to(SERVER_KEY, pem, METADATA)
    with pytest.raises(TlsCryptV2Error, match='cryptography'):
        new_client_key(SERVER_KEY, METADATA)


def server_pem_of(data):
    return '-----BEGIN OpenVPN tls-crypt-v2 server key-----\n%s\n-----END OpenVPN tls-crypt-v2 server key-----\n' % base64.b64encode(data).decode('ascii')


def test_server_pem_of_builds_what_is_read():
    assert server_key_from_pem(server_pem_of(SERVER_KEY)) == SERVER_KEY


def _pem_variants():
    server_pem = server_key_to_pem(SERVER_KEY)
    body = ''.join(pem_body_lines(server_pem))
    return [
        ('empty', ''),
        ('not text', 42),
        ('not ascii', server_pem.encode('ascii') + b'\xff'),
        ('no footer', server_pem.rsplit('-----END', 1)[0]),
        ('no header', server_pem.split('\n', 1)[1]),
        ('client label', server_pem.replace('server key', 'client key')),
        ('other label', server_pem.replace('OpenVPN tls-crypt-v2 server key', 'PRIVATE KEY')),
        ('mismatched footer', server_pem.replace('END OpenVPN tls-crypt-v2 server', 'END OpenVPN tls-crypt-v2 client')),
        ('bad character', server_pem.replace(body[10], '*', 1)),
        ('bad padding', server_pem.replace(body[-1] + '\n', '\n')),
        # This key's base64 ends in 'n8='; 'n9=' decodes to the same bytes with a stray padding bit set.
        ('padding bits', server_pem.replace(body[-3:] + '\n', body[-3] + chr(ord(body[-2]) + 1) + '=\n')),
        ('inner padding', server_pem.replace(body[:4], body[:2] + '==', 1)),
        ('pem header line', server_pem.replace('-----\n', '-----\nProc-Type: 4,ENCRYPTED\n\n', 1)),
        ('two blocks', server_pem + server_pem),
        ('text before', 'key:\n' + server_pem),
        ('text after', server_pem + 'more\n'),
        ('short key', server_pem_of(SERVER_KEY[:127])),
        ('long key', server_pem_of(SERVER_KEY + b'\x00')),
        ('empty body', '-----BEGIN OpenVPN tls-crypt-v2 server key-----\n\n-----END OpenVPN tls-crypt-v2 server key-----\n'),
    ]


@pytest.mark.parametrize('case, text', _pem_variants(), ids=[case for case, dummy in _pem_variants()])
def test_malformed_server_pem_is_refused(case, text):
    with pytest.raises(TlsCryptV2Error) as excinfo:
        server_key_from_pem(text)
    assert_no_key_in(str(excinfo.value), SERVER_KEY)


def test_malformed_client_pem_is_refused():
    client_key = new_client_key(SERVER_KEY, METADATA)
    pem = client_key_to_pem(client_key)
    body = ''.join(pem_body_lines(pem))
    bad = [
        pem.replace('client key', 'server key'),
        server_key_to_pem(SERVER_KEY).replace('server key', 'client key'),
        pem.replace(body[100], '!' if body[100] != '!' else '?', 1),
        pem.replace(body[-4:], ''),  # three bytes short: the length field no longer matches
        pem.rsplit('-----END', 1)[0],
    ]
    for text in bad:
        with pytest.raises(TlsCryptV2Error) as excinfo:
            client_key_from_pem(text)
        assert_no_key_in(str(excinfo.value), client_key)


def test_messages_never_carry_key_material():
    client_key = new_client_key(SERVER_KEY, METADATA)
    client_pem = client_key_to_pem(client_key)
    server_pem = server_key_to_pem(SERVER_KEY)
    failing = [
        lambda: server_key_from_pem(server_pem[:-30]),
        lambda: server_key_from_pem(server_pem.replace('server', 'client')),
        lambda: client_key_from_pem(client_pem[:-60]),
        lambda: client_key_from_pem(client_pem.replace('\n', '\n#', 3)),
        lambda: unwrap_client_key(OTHER_SERVER_KEY, client_key),
        lambda: unwrap_client_key(SERVER_KEY, flip(client_key, 300)),
        lambda: unwrap_client_key(SERVER_KEY, flip(client_key, 0)),
        lambda: unwrap_client_key(SERVER_KEY[:-1], client_key),
        lambda: unwrap_client_key(SERVER_KEY, client_key[:-1]),
        lambda: new_client_key(SERVER_KEY + b'x', METADATA),
        lambda: new_client_key(SERVER_KEY, METADATA.decode('latin-1')),
        lambda: client_key_to_pem(client_key + b'x'),
        lambda: server_key_to_pem(SERVER_KEY.hex()),
    ]
    for call in failing:
        with pytest.raises(TlsCryptV2Error) as excinfo:
            call()
        message = str(excinfo.value)
        assert_no_key_in(message, SERVER_KEY, OTHER_SERVER_KEY, client_key, client_key[256:])
        assert SERVER_KEY.hex()[:16] not in message and client_pem.split('\n')[1][:16] not in message


# Interoperability with the real openvpn binary. The set-up installs it: its absence is a failure.

OPENVPN_SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin', '/usr/local/sbin', '/sbin'])
HANDSHAKE_DONE = ('Initialization Sequence Completed', 'Peer Connection Initiated')


@pytest.fixture(scope='module')
def openvpn():
    binary = shutil.which('openvpn', path=OPENVPN_SEARCH_PATH)
    if binary is None:
        pytest.fail('the openvpn binary is not installed (the project set-up installs it): tls-crypt-v2 interop cannot be checked')
    return binary


def run_openvpn(openvpn, *args):
    return subprocess.run([openvpn] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20, check=False)


def test_openvpn_server_key_and_client_key_are_read(openvpn, tmp_path):
    server_file = tmp_path / 's.key'
    client_file = tmp_path / 'c.key'
    result = run_openvpn(openvpn, '--genkey', 'tls-crypt-v2-server', str(server_file))
    assert result.returncode == 0, result.stdout
    server_key = server_key_from_pem(server_file.read_text())
    assert len(server_key) == 128
    # Our encoder writes what openvpn wrote, byte for byte.
    assert server_key_to_pem(server_key) == server_file.read_text()

    result = run_openvpn(openvpn, '--tls-crypt-v2', str(server_file), '--genkey', 'tls-crypt-v2-client', str(client_file),
                         base64.b64encode(METADATA).decode('ascii'))
    assert result.returncode == 0, result.stdout
    client_key = client_key_from_pem(client_file.read_text())
    assert client_key_to_pem(client_key) == client_file.read_text()
    kc, metadata_type, metadata = unwrap_client_key(server_key, client_key)
    assert (kc, metadata_type, metadata) == (client_key[:256], METADATA_TYPE_USER, METADATA)
    assert client_key_belongs_to(server_key, client_file.read_text(), METADATA) is True
    assert client_key_belongs_to(server_key, client_file.read_text(), b'other') is False
    with pytest.raises(TlsCryptV2Error):
        unwrap_client_key(new_server_key(), client_key)


def test_openvpn_default_metadata_is_a_timestamp(openvpn, tmp_path):
    server_file = tmp_path / 's.key'
    client_file = tmp_path / 'c.key'
    server_file.write_text(server_key_to_pem(SERVER_KEY))
    before = int(time.time())
    result = run_openvpn(openvpn, '--tls-crypt-v2', str(server_file), '--genkey', 'tls-crypt-v2-client', str(client_file))
    assert result.returncode == 0, result.stdout
    dummy, metadata_type, metadata = unwrap_client_key(SERVER_KEY, client_key_from_pem(client_file.read_text()))
    assert metadata_type == METADATA_TYPE_TIMESTAMP
    assert before - 1 <= struct.unpack('>Q', metadata)[0] <= int(time.time()) + 1


def test_openvpn_longest_metadata_matches_ours(openvpn, tmp_path):
    server_file = tmp_path / 's.key'
    server_file.write_text(server_key_to_pem(SERVER_KEY))
    longest = os.urandom(MAX_USER_METADATA)
    result = run_openvpn(openvpn, '--tls-crypt-v2', str(server_file), '--genkey', 'tls-crypt-v2-client', str(tmp_path / 'ok.key'),
                         base64.b64encode(longest).decode('ascii'))
    assert result.returncode == 0, result.stdout
    assert unwrap_client_key(SERVER_KEY, client_key_from_pem((tmp_path / 'ok.key').read_text()))[2] == longest
    result = run_openvpn(openvpn, '--tls-crypt-v2', str(server_file), '--genkey', 'tls-crypt-v2-client', str(tmp_path / 'no.key'),
                         base64.b64encode(longest + b'x').decode('ascii'))
    assert result.returncode != 0
    assert b'metadata too long (734 bytes, max 733 bytes)' in result.stdout


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject_key, common_name, issuer_key, issuer_name, is_ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name))
               .issuer_name(issuer_name)
               .public_key(subject_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if is_ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                                      crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key_pair(directory, name, key, certificate):
    (directory / (name + '.crt')).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = directory / (name + '.pem')
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_file.chmod(0o600)


def make_test_pki(directory):
    """ca.crt, server.crt/.pem and client.crt/.pem (P-256, one day) in directory."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_certificate = _certificate(ca_key, 'overlaynet test CA', ca_key, _name('overlaynet test CA'), True)
    (directory / 'ca.crt').write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    for name in ('server', 'client'):
        key = ec.generate_private_key(ec.SECP256R1())
        _write_key_pair(directory, name, key, _certificate(key, name, ca_key, ca_certificate.subject, False))


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def read_log(path):
    return path.read_text(errors='replace') if path.exists() else ''


def wait_for(predicate, seconds):
    """Poll predicate until it is true or the deadline passes; whether it became true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class Loopback:
    """One openvpn TLS server and one client on 127.0.0.1, peer to peer, --dev null."""

    def __init__(self, openvpn, directory):
        self.openvpn = openvpn
        self.directory = directory
        self.processes = []
        self.server_log = directory / 'server.log'
        self.client_log = directory / 'client.log'
        self.record = directory / 'verify-record'
        make_test_pki(directory)

    def verify_script(self, exit_code):
        # openvpn runs it with a bare environment (no PATH): absolute paths only.
        script = self.directory / 'verify.sh'
        script.write_text('#!/bin/sh\n'
                          'printf "%%s|%%s\\n" "$script_type" "$metadata_type" > %s.type\n'
                          '/bin/cat "$metadata_file" > %s.metadata\n'
                          'exit %d\n' % (self.record, self.record, exit_code))
        script.chmod(0o700)
        return script

    def start(self, server_key_pem, client_key_pem, verify_exit_code=0):
        port = str(free_udp_port())
        for name, text in (('server-tc2.key', server_key_pem), ('client-tc2.key', client_key_pem)):
            (self.directory / name).write_text(text)
            (self.directory / name).chmod(0o600)
        common = ['--dev', 'null', '--proto', 'udp', '--ca', str(self.directory / 'ca.crt'), '--verb', '3',
                  '--hand-window', '10', '--connect-retry', '1', '--tmp-dir', str(self.directory)]
        self._spawn(self.server_log, common + [
            '--tls-server', '--dh', 'none', '--local', '127.0.0.1', '--lport', port,
            '--cert', str(self.directory / 'server.crt'), '--key', str(self.directory / 'server.pem'),
            '--tls-crypt-v2', str(self.directory / 'server-tc2.key'),
            '--script-security', '2', '--tls-crypt-v2-verify', str(self.verify_script(verify_exit_code))])
        # The server logs its socket before it reads; the client starts once it can be reached.
        assert wait_for(lambda: 'UDPv4 link local (bound): [AF_INET]127.0.0.1:' + port in read_log(self.server_log), 5), read_log(self.server_log)
        self._spawn(self.client_log, common + [
            '--tls-client', '--nobind', '--remote', '127.0.0.1', port,
            '--cert', str(self.directory / 'client.crt'), '--key', str(self.directory / 'client.pem'),
            '--tls-crypt-v2', str(self.directory / 'client-tc2.key')])

    def _spawn(self, log_path, args):
        with open(str(log_path), 'wb') as log:
            self.processes.append(subprocess.Popen([self.openvpn] + args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))

    def handshake_done(self):
        client_log = read_log(self.client_log)
        return any(line in client_log for line in HANDSHAKE_DONE)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self):
        return '--- server\n%s\n--- client\n%s' % (read_log(self.server_log), read_log(self.client_log))


@pytest.fixture
def loopback(openvpn, tmp_path):
    pair = Loopback(openvpn, tmp_path)
    yield pair
    pair.stop()


def test_openvpn_accepts_our_keys_in_a_handshake(loopback):
    server_key = new_server_key()
    client_key = new_client_key(server_key, METADATA)
    loopback.start(server_key_to_pem(server_key), client_key_to_pem(client_key))
    assert wait_for(loopback.handshake_done, 10), loopback.logs()
    assert wait_for(lambda: 'TLS CRYPT V2 VERIFY SCRIPT OK' in read_log(loopback.server_log), 2), loopback.logs()
    assert (loopback.directory / 'verify-record.type').read_text() == 'tls-crypt-v2-verify|0\n'
    assert (loopback.directory / 'verify-record.metadata').read_bytes() == METADATA


def test_openvpn_refuses_a_client_key_of_another_server_key(loopback):
    client_key = new_client_key(new_server_key(), METADATA)
    loopback.start(server_key_to_pem(new_server_key()), client_key_to_pem(client_key))
    assert wait_for(lambda: 'Can not unwrap tls-crypt-v2 client key' in read_log(loopback.server_log), 5), loopback.logs()
    assert 'tls_crypt_v2_unwrap_client_key: client key authentication error' in read_log(loopback.server_log)
    # The client retries its first packet; none of them gets it a session.
    assert not wait_for(loopback.handshake_done, 2), loopback.logs()
    assert not (loopback.directory / 'verify-record.type').exists()


def test_openvpn_verify_script_failure_refuses_the_client(loopback):
    server_key = new_server_key()
    loopback.start(server_key_to_pem(server_key), client_key_to_pem(new_client_key(server_key, METADATA)), verify_exit_code=1)
    assert wait_for(lambda: 'TLS CRYPT V2 VERIFY SCRIPT ERROR' in read_log(loopback.server_log), 5), loopback.logs()
    assert (loopback.directory / 'verify-record.metadata').read_bytes() == METADATA
    assert not wait_for(loopback.handshake_done, 2), loopback.logs()
