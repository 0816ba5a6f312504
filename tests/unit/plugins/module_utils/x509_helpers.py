# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for the X.509 tests (_x509, the CA store, openvpn_pki, x509_key_request): keys, CSRs and certificates
made here with cryptography directly (not with the code under test), the openssl and openvpn binaries, file modes
and stamps, and the checks that no private key material shows up in a result or a message."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import shutil
import stat
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

OPENSSL = '/usr/bin/openssl'
OPENVPN = '/usr/sbin/openvpn'
OPENSSL_SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/bin', '/usr/local/bin', '/bin'])
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2031, 7, 14, 9, 30, 5)
NOT_AFTER_TEXT = '2031-07-14T09:30:05Z'


def openssl_binary():
    binary = shutil.which('openssl', path=OPENSSL_SEARCH_PATH)
    if binary is None:
        pytest.fail('the openssl binary is not installed (the project set-up installs it): CSR and key interop cannot be checked')
    return binary


def run_openssl(openssl, *args, **kwargs):
    return subprocess.run([openssl] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False, **kwargs)


# Keys

def ec_key(curve_name='secp384r1'):
    return ec.generate_private_key(getattr(ec, curve_name.upper())())


def rsa_key(size=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def pem_of(private_key, private_format=None, passphrase=None):
    """PEM text of private_key: PKCS#8 unless private_format says otherwise, encrypted with passphrase (bytes) when given."""
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return private_key.private_bytes(serialization.Encoding.PEM, private_format or serialization.PrivateFormat.PKCS8, encryption).decode('ascii')


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# CSRs and certificates

def make_csr(private_key, common_name='host'):
    """PEM text of a CSR for private_key, as a host makes it for the key it keeps."""
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
           .sign(private_key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode('ascii')


def tampered_csr(private_key, common_name='host'):
    """A CSR whose signature does not verify: the signed bytes changed after signing."""
    text = make_csr(private_key, common_name)
    der = x509.load_pem_x509_csr(text.encode('ascii')).public_bytes(serialization.Encoding.DER)
    marker = common_name.encode('ascii')
    position = der.index(marker)
    changed = der[:position] + bytes([der[position] ^ 0x01]) + der[position + 1:]
    return x509.load_der_x509_csr(changed).public_bytes(serialization.Encoding.PEM).decode('ascii')


def certificate_pem(public_key, not_after=NOT_AFTER, common_name='vpn1'):
    """PEM of a certificate for public_key, issued by a CA made here, valid until not_after (naive UTC)."""
    ca_key = ec_key('secp256r1')
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test CA')])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(not_after)
        .sign(ca_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode('ascii')


def extension(document, extension_class):
    return document.extensions.get_extension_for_class(extension_class)


# Files

def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def tree_stamps(root):
    """{relative path: (inode, mtime_ns, mode)} of every file and directory under root."""
    stamps = {}
    for directory, directories, files in os.walk(str(root)):
        for name in directories + files:
            path = os.path.join(directory, name)
            status = os.stat(path)
            stamps[os.path.relpath(path, str(root))] = (status.st_ino, status.st_mtime_ns, stat.S_IMODE(status.st_mode))
    return stamps


# No secrets

def secret_files(root):
    """Contents of every private key file (CA, made-here keys, tls-crypt-v2 keys) under root."""
    secrets = []
    for directory, dummy, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(directory, name)
            if name.endswith('.key'):
                with open(path) as handle:
                    secrets.append(handle.read())
    return secrets


def assert_no_secret(value, root, *more_secrets):
    """No private key PEM, no key file's content, no line of a key's base64 body and none of more_secrets in value."""
    text = value if isinstance(value, str) else json.dumps(value)
    assert 'PRIVATE KEY' not in text
    assert 'tls-crypt-v2 server key' not in text and 'tls-crypt-v2 client key' not in text
    for secret in list(secret_files(root)) + [str(item) for item in more_secrets]:
        assert secret.strip() not in text
        for line in secret.splitlines():
            if line and not line.startswith('-----'):
                assert line not in text


def key_material(key_pem):
    """Pieces of a private key that must appear nowhere: the lines of its PEM body and its private
    numbers (EC private value; RSA d, p and q) in decimal and hexadecimal."""
    private_key = serialization.load_pem_private_key(key_pem.encode('ascii'), password=None)
    numbers = private_key.private_numbers()
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        values = [numbers.private_value]
    else:
        values = [numbers.d, numbers.p, numbers.q]
    pieces = [line for line in key_pem.strip().splitlines() if not line.startswith('-----')]
    pieces += ['%d' % value for value in values] + ['%x' % value for value in values]
    return pieces


def assert_no_key_material(text, *key_pems):
    assert 'PRIVATE KEY-----' not in text
    for key_pem in key_pems:
        for piece in key_material(key_pem):
            assert piece not in text
