# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers for x509_key_request: keys and certificates made here, the openssl binary, and the
check that no private key material shows up in a result or a message."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import shutil
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOT_AFTER = datetime.datetime(2031, 7, 14, 9, 30, 5)
NOT_AFTER_TEXT = '2031-07-14T09:30:05Z'

OPENSSL_SEARCH_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/bin', '/usr/local/bin', '/bin'])


def openssl_binary():
    binary = shutil.which('openssl', path=OPENSSL_SEARCH_PATH)
    if binary is None:
        pytest.fail('the openssl binary is not installed (the project set-up installs it): CSR and key interop cannot be checked')
    return binary


def run_openssl(openssl, *args, **kwargs):
    return subprocess.run([openssl] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False, **kwargs)


def ec_key(curve_name='secp384r1'):
    return ec.generate_private_key(getattr(ec, curve_name.upper())())


def rsa_key(size=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def pem_of(private_key, private_format=None, encryption=None):
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=private_format or serialization.PrivateFormat.PKCS8,
        encryption_algorithm=encryption or serialization.NoEncryption(),
    ).decode('ascii')


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


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
