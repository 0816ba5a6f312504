# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for the PKI tests: CSRs made as a host would make them, file modes and stamps, secret scans."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import stat

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

OPENSSL = '/usr/bin/openssl'
OPENVPN = '/usr/sbin/openvpn'
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def ec_key(curve=None):
    return ec.generate_private_key(curve or ec.SECP256R1())


def rsa_key(size=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


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


def private_pem(private_key, passphrase=None):
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


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
