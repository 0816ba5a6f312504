# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import ipaddress

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509 as x509_lib
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import X509Error
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import (
    NOW,
    certificate_pem,
    ec_key,
    extension,
    make_csr,
    openssl_binary,
    pem_of,
    rsa_key,
    run_openssl,
    spki_der,
    tampered_csr,
)

DAY = datetime.timedelta(days=1)

# A P-256 key with a fixed private value, and what `openssl pkey -pubout -outform DER | sha256sum`
# printed for it: pins the fingerprint to the DER SubjectPublicKeyInfo, in lower-case hex.
KNOWN_PRIVATE_VALUE = int.from_bytes(hashlib.sha256(b'overlaynet.vpn x509_key_request known-answer key').digest(), 'big')
KNOWN_SPKI_HEX = ('3059301306072a8648ce3d020106082a8648ce3d03010703420004627448a27029e84fb0b0d7a3e2070fda205e6bf3d51e9d2eecd6'
                  'be35d9a1d8f3ba987e19e4cc4b51765523c0bf7a53c128d1cbff3ffdb0b700ef8df758583f91')
KNOWN_FINGERPRINT = 'b8ad8bfafd8a16dfd6b410025386d5f29638b68fbf5c2e2b68ab5e1154c448a1'


def known_key():
    return ec.derive_private_key(KNOWN_PRIVATE_VALUE, ec.SECP256R1())


def parse_csr(pem):
    return x509.load_pem_x509_csr(pem.encode('ascii'))


@pytest.fixture(scope='module')
def ca_pair():
    key = x509_lib.new_private_key()
    return x509_lib.create_ca_certificate(key, 'Test CA', 3650, NOW), key


@pytest.fixture(scope='module')
def other_ca_pair():
    key = x509_lib.new_private_key('ec', 'secp256r1')
    return x509_lib.create_ca_certificate(key, 'Other CA', 3650, NOW), key


def issue(ca_pair, kind='client', public_key=None, name='alice', sans=(), days=825, now=NOW, serial=None):
    certificate, key = ca_pair
    public_key = public_key or ec_key().public_key()
    return x509_lib.issue_certificate(certificate, key, public_key, name, kind, x509_lib.parse_subject_alt_names(list(sans)), days, now,
                                      serial or x509_lib.random_serial())


def test_cryptography_is_found():
    assert x509_lib.HAS_CRYPTOGRAPHY is True


# Keys

@pytest.mark.parametrize('curve', ['secp256r1', 'secp384r1', 'secp521r1'])
def test_new_ec_key_has_the_curve_and_is_written_as_pkcs8(curve):
    private_key = x509_lib.new_private_key('ec', curve, 4096)

    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert private_key.curve.name == curve
    assert x509_lib.key_description(private_key) == ('ec', curve)
    pem = x509_lib.private_key_pem(private_key).decode('ascii')
    assert pem.startswith('-----BEGIN PRIVATE KEY-----\n') and pem.endswith('-----END PRIVATE KEY-----\n')
    loaded = x509_lib.load_private_key(pem.encode('ascii'))
    assert spki_der(loaded.public_key()) == spki_der(private_key.public_key())
    assert loaded.private_numbers() == private_key.private_numbers()


@pytest.mark.parametrize('size', [2048, 3072, 4096])
def test_new_rsa_key_has_the_size_and_is_written_as_pkcs8(size):
    private_key = x509_lib.new_private_key('rsa', 'secp384r1', size)

    assert isinstance(private_key, rsa.RSAPrivateKey)
    assert private_key.key_size == size
    assert private_key.public_key().public_numbers().e == 65537
    assert x509_lib.key_description(private_key) == ('rsa', size)
    pem = x509_lib.private_key_pem(private_key).decode('ascii')
    assert pem.startswith('-----BEGIN PRIVATE KEY-----\n')
    assert x509_lib.load_private_key(pem.encode('ascii')).private_numbers() == private_key.private_numbers()


def test_wanted_key_description_keeps_only_the_detail_of_the_type():
    assert x509_lib.wanted_key_description('ec', 'secp256r1', 4096) == ('ec', 'secp256r1')
    assert x509_lib.wanted_key_description('rsa', 'secp256r1', 4096) == ('rsa', 4096)
    assert x509_lib.wanted_key_description('rsa', 'secp256r1', '2048') == ('rsa', 2048)
    assert x509_lib.describe_key(('ec', 'secp521r1')) == 'EC secp521r1 key'
    assert x509_lib.describe_key(('rsa', 3072)) == 'RSA 3072-bit key'
    # openvpn_pki's CA warning quotes the ca options as they are written.
    assert x509_lib.describe_key(('ec', 'secp521r1'), in_option_words=True) == 'ec secp521r1 key'
    assert x509_lib.describe_key(('rsa', 3072), in_option_words=True) == 'rsa 3072 key'
    assert x509_lib.describe_key(('other', None)) == 'key of another algorithm'


def test_a_key_is_described_and_fingerprinted_alike_by_its_private_and_its_public_half():
    for private_key, description in ((ec_key('secp521r1'), ('ec', 'secp521r1')), (rsa_key(2048), ('rsa', 2048))):
        assert x509_lib.key_description(private_key) == x509_lib.key_description(private_key.public_key()) == description
        assert x509_lib.public_key_der(private_key) == x509_lib.public_key_der(private_key.public_key()) == spki_der(private_key.public_key())
        assert x509_lib.public_key_sha256(private_key) == x509_lib.public_key_sha256(private_key.public_key())
    assert x509_lib.key_description(ed25519.Ed25519PrivateKey.generate().public_key()) == ('other', None)


def test_an_unsupported_ec_curve_is_refused():
    with pytest.raises(X509Error, match=r"^unsupported EC curve 'secp224r1' \(one of secp256r1, secp384r1, secp521r1\)$"):
        x509_lib.new_private_key('ec', 'secp224r1')


@pytest.mark.parametrize('make_key, expected_spec', [
    (lambda: ec_key('secp256r1'), ('ec', 'secp256r1')),
    (lambda: rsa_key(2048), ('rsa', 2048)),
])
def test_traditional_pem_keys_are_read(make_key, expected_spec):
    private_key = make_key()
    pem = pem_of(private_key, serialization.PrivateFormat.TraditionalOpenSSL)
    assert 'BEGIN PRIVATE KEY' not in pem

    loaded = x509_lib.load_private_key(pem.encode('ascii'))

    assert x509_lib.key_description(loaded) == expected_spec
    assert loaded.private_numbers() == private_key.private_numbers()


def test_secp256k1_key_is_read_with_its_curve():
    loaded = x509_lib.load_private_key(pem_of(ec.generate_private_key(ec.SECP256K1())).encode('ascii'))

    assert x509_lib.key_description(loaded) == ('ec', 'secp256k1')


@pytest.mark.parametrize('data', [
    b'',
    b'garbage\n',
    bytes(range(256)),
    b'-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
], ids=['empty', 'text', 'binary', 'truncated'])
def test_garbage_is_no_key(data):
    assert x509_lib.load_private_key(data, none_if_unusable=True) is None


def test_encrypted_key_is_no_key():
    pem = pem_of(ec_key(), passphrase=b'passphrase')
    assert 'ENCRYPTED PRIVATE KEY' in pem

    assert x509_lib.load_private_key(pem.encode('ascii'), none_if_unusable=True) is None


def test_key_of_another_algorithm_is_no_key():
    pem = pem_of(ed25519.Ed25519PrivateKey.generate())

    assert x509_lib.load_private_key(pem.encode('ascii'), none_if_unusable=True) is None


def test_a_key_that_is_no_usable_key_is_refused_naming_why_unless_none_is_asked_for():
    cases = [
        (b'garbage\n', None, 'the private key cannot be read: not a PEM private key'),
        (pem_of(ec_key(), passphrase=b'passphrase').encode('ascii'), None, 'the private key is encrypted and no passphrase was given'),
        (pem_of(ed25519.Ed25519PrivateKey.generate()).encode('ascii'), None, 'the private key is neither an EC nor an RSA key'),
        (pem_of(ed25519.Ed25519PrivateKey.generate(), passphrase=b'pass').encode('ascii'), 'pass', 'the private key is neither an EC nor an RSA key'),
    ]
    for data, passphrase, message in cases:
        with pytest.raises(X509Error) as excinfo:
            x509_lib.load_private_key(data, passphrase)
        assert str(excinfo.value) == message
        assert x509_lib.load_private_key(data, passphrase, none_if_unusable=True) is None


def test_public_key_and_certificate_are_no_key():
    private_key = ec_key()
    public_pem = private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    assert x509_lib.load_private_key(public_pem, none_if_unusable=True) is None
    assert x509_lib.load_private_key(certificate_pem(private_key.public_key()).encode('ascii'), none_if_unusable=True) is None


def test_public_key_sha256_known_answer():
    private_key = known_key()

    assert spki_der(private_key.public_key()).hex() == KNOWN_SPKI_HEX
    assert x509_lib.public_key_sha256(private_key) == KNOWN_FINGERPRINT


def test_public_key_sha256_differs_between_keys_and_is_the_spki_hash():
    first, second = ec_key(), rsa_key()

    assert x509_lib.public_key_sha256(first) == hashlib.sha256(spki_der(first.public_key())).hexdigest()
    assert x509_lib.public_key_sha256(second) == hashlib.sha256(spki_der(second.public_key())).hexdigest()
    assert x509_lib.public_key_sha256(first) != x509_lib.public_key_sha256(second)


@pytest.mark.parametrize('make_key', [lambda: ec_key('secp384r1'), lambda: ec_key('secp521r1'), lambda: rsa_key(2048)],
                         ids=['ec384', 'ec521', 'rsa2048'])
def test_csr_is_signed_by_the_key_for_the_common_name(make_key):
    private_key = make_key()

    pem = x509_lib.make_csr(private_key, 'vpn1.example.net')

    assert pem.startswith('-----BEGIN CERTIFICATE REQUEST-----\n') and pem.endswith('-----END CERTIFICATE REQUEST-----\n')
    request = parse_csr(pem)
    assert request.is_signature_valid
    assert request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'vpn1.example.net'
    assert len(request.subject) == 1
    assert spki_der(request.public_key()) == spki_der(private_key.public_key())
    assert isinstance(request.signature_hash_algorithm, hashes.SHA256)
    assert len(request.extensions) == 0


def test_csr_of_another_key_does_not_verify_against_this_key():
    first, second = ec_key(), ec_key()

    request = parse_csr(x509_lib.make_csr(first, 'vpn1'))

    assert spki_der(request.public_key()) != spki_der(second.public_key())


def test_csr_common_name_with_non_ascii_characters():
    request = parse_csr(x509_lib.make_csr(ec_key('secp256r1'), u'b\u00fcro-gateway'))

    assert request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == u'b\u00fcro-gateway'
    assert request.is_signature_valid


@pytest.mark.parametrize('common_name, message', [
    ('', 'common_name must be a non-empty string'),
    (None, 'common_name must be a non-empty string'),
    ('x' * 65, 'common_name must be at most 64 characters (RFC 5280), it has 65'),
])
def test_common_names_x509_cannot_carry_are_refused(common_name, message):
    with pytest.raises(X509Error) as excinfo:
        x509_lib.subject_name(common_name)

    assert str(excinfo.value) == message


def test_common_name_of_64_characters_is_accepted():
    name = x509_lib.subject_name('x' * 64)

    assert name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'x' * 64


def test_certificates_are_built_with_the_checked_common_name(ca_pair):
    with pytest.raises(X509Error, match=r'^common_name must be at most 64 characters \(RFC 5280\), it has 65$'):
        x509_lib.create_ca_certificate(ca_pair[1], 'C' * 65, 10, NOW)
    assert x509_lib.common_name(issue(ca_pair, name='n' * 64).subject) == 'n' * 64


def test_the_key_of_a_certificate_or_csr_that_cannot_be_read_is_an_error():
    class Unreadable(object):
        def public_key(self):
            raise ValueError('no key here')
    with pytest.raises(X509Error, match='^the key of the certificate cannot be read$'):
        x509_lib.readable_public_key(Unreadable())
    with pytest.raises(X509Error, match='^the key of the certificate signing request cannot be read$'):
        x509_lib.readable_public_key(Unreadable(), 'certificate signing request')
    key = ec_key()
    certificate = x509.load_pem_x509_certificate(certificate_pem(key.public_key()).encode('ascii'))
    assert spki_der(x509_lib.readable_public_key(certificate)) == spki_der(key.public_key())


# Names, SANs, serials

@pytest.mark.parametrize('name', ['a', 'alice-laptop', 'vpn1.example.org', 'x_1', '9', 'A' * 64])
def test_safe_names_pass(name):
    assert x509_lib.name_problem(name) is None


@pytest.mark.parametrize('name', ['', 'a b', '../etc', 'a/b', '.hidden', '-rf', 'A' * 65, 'é', None, 'a\n'])
def test_unsafe_names_are_refused_naming_the_value(name):
    problem = x509_lib.name_problem(name, 'certificates[2].name')
    assert problem.startswith('certificates[2].name: %r is not a valid name' % (name,))


def test_subject_alt_names_parse_dns_and_ip():
    names = x509_lib.parse_subject_alt_names(['DNS:vpn.example.org', 'IP:192.0.2.1', 'ip:2001:db8::1', 'DNS:*.example.org'])
    assert names == [x509.DNSName('vpn.example.org'), x509.IPAddress(ipaddress.ip_address('192.0.2.1')),
                     x509.IPAddress(ipaddress.ip_address('2001:db8::1')), x509.DNSName('*.example.org')]


@pytest.mark.parametrize('value, message', [
    ('vpn.example.org', "'vpn.example.org' is not DNS:<name> or IP:<address>"),
    ('URI:http://x', "'URI:http://x' is not DNS:<name> or IP:<address>"),
    ('IP:300.1.1.1', "'IP:300.1.1.1' is not an IP address"),
    ('DNS:bad name', "'DNS:bad name' is not a DNS name"),
    ('DNS:', "'DNS:' is not DNS:<name> or IP:<address>"),
])
def test_bad_subject_alt_names_are_refused_naming_the_value(value, message):
    with pytest.raises(X509Error) as excinfo:
        x509_lib.parse_subject_alt_names(['DNS:ok.example.org', value])
    assert str(excinfo.value) == message


def test_a_subject_alt_name_given_twice_is_refused():
    with pytest.raises(X509Error, match="^'DNS:A.example.org' is given twice$"):
        x509_lib.parse_subject_alt_names(['DNS:a.example.org', 'DNS:A.example.org'])


def test_random_serials_are_positive_128_bit_and_avoid_taken_ones(monkeypatch):
    serials = [x509_lib.random_serial() for dummy in range(200)]
    assert all(0 < serial < 2 ** 128 for serial in serials)
    assert len(set(serials)) == 200
    draws = iter([b'\x00' * 16, (5).to_bytes(16, 'big'), (6).to_bytes(16, 'big')])
    monkeypatch.setattr(x509_lib.os, 'urandom', lambda size: next(draws))
    assert x509_lib.random_serial(taken={'05'}) == 6


def test_serial_hex_is_whole_upper_case_bytes():
    assert x509_lib.serial_hex(0xABC) == '0ABC'
    assert x509_lib.serial_hex(0x1F2E) == '1F2E'


# CA

def test_new_ca_is_ec_secp384r1_self_signed_ca_with_pathlen_0(ca_pair):
    certificate, key = ca_pair
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == 'secp384r1'
    constraints = extension(certificate, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = extension(certificate, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign and not usage.value.digital_signature
    assert extension(certificate, x509.SubjectKeyIdentifier).value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    assert certificate.subject == certificate.issuer
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'Test CA'
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    certificate.verify_directly_issued_by(certificate)
    assert x509_lib.not_after(certificate) == NOW + 3650 * DAY


def test_rsa_ca_key_has_the_asked_size():
    key = x509_lib.new_private_key('rsa', rsa_key_size=2048)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    certificate = x509_lib.create_ca_certificate(key, 'RSA CA', 10, NOW)
    certificate.verify_directly_issued_by(certificate)
    assert x509_lib.key_description(certificate.public_key()) == ('rsa', 2048)


def test_ca_pair_check_refuses_a_mismatch_and_a_leaf(ca_pair, other_ca_pair):
    x509_lib.check_ca_pair(*ca_pair)
    with pytest.raises(X509Error, match='^the private key does not match the certificate$'):
        x509_lib.check_ca_pair(ca_pair[0], other_ca_pair[1])
    leaf_key = ec_key()
    leaf = issue(ca_pair, public_key=leaf_key.public_key())
    with pytest.raises(X509Error, match='not a CA certificate'):
        x509_lib.check_ca_pair(leaf, leaf_key)


def test_private_keys_load_with_the_right_passphrase_only_and_errors_hold_no_key():
    key = ec_key()
    encrypted = pem_of(key, passphrase=b'correct horse').encode('ascii')
    assert spki_der(x509_lib.load_private_key(encrypted, 'correct horse').public_key()) == spki_der(key.public_key())
    messages = []
    for data, passphrase in ((encrypted, None), (encrypted, 'wrong'), (pem_of(key).encode('ascii'), 'unneeded'), (b'garbage', None)):
        with pytest.raises(X509Error) as excinfo:
            x509_lib.load_private_key(data, passphrase)
        messages.append(str(excinfo.value))
    assert messages == [
        'the private key is encrypted and no passphrase was given',
        'the private key cannot be read: not a PEM private key, or a wrong passphrase',
        'the private key is not encrypted but a passphrase was given',
        'the private key cannot be read: not a PEM private key',
    ]
    for message in messages:
        assert 'PRIVATE' not in message and pem_of(key).splitlines()[1] not in message


# Issuing

@pytest.mark.parametrize('kind, usage', [('server', ExtendedKeyUsageOID.SERVER_AUTH), ('client', ExtendedKeyUsageOID.CLIENT_AUTH)])
def test_leaf_extensions_per_kind_with_an_ec_key(ca_pair, kind, usage):
    ca_certificate, ca_key = ca_pair
    key = ec_key()
    certificate = issue(ca_pair, kind, key.public_key(), 'vpn1', sans=['DNS:vpn1.example.org', 'IP:192.0.2.1'], days=100)
    certificate.verify_directly_issued_by(ca_certificate)
    assert x509_lib.is_signed_by(certificate, ca_certificate)
    assert list(extension(certificate, x509.ExtendedKeyUsage).value) == [usage]
    constraints = extension(certificate, x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage_extension = extension(certificate, x509.KeyUsage)
    assert usage_extension.critical and usage_extension.value.digital_signature
    assert not usage_extension.value.key_encipherment and not usage_extension.value.key_cert_sign
    assert extension(certificate, x509.AuthorityKeyIdentifier).value.key_identifier == \
        extension(ca_certificate, x509.SubjectKeyIdentifier).value.digest
    assert extension(certificate, x509.SubjectKeyIdentifier).value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    assert x509_lib.certificate_subject_alt_names(certificate) == ['DNS:vpn1.example.org', 'IP:192.0.2.1']
    assert x509_lib.common_name(certificate.subject) == 'vpn1' and certificate.issuer == ca_certificate.subject
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    assert x509_lib.not_after(certificate) == NOW + 100 * DAY
    assert x509_lib.certificate_kind(certificate) == kind


def test_rsa_leaf_keys_also_get_key_encipherment(ca_pair):
    certificate = issue(ca_pair, 'server', rsa_key().public_key())
    usage = extension(certificate, x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment


def test_a_certificate_of_another_ca_is_not_signed_by_this_one(ca_pair, other_ca_pair):
    certificate = issue(other_ca_pair)
    assert x509_lib.is_signed_by(certificate, other_ca_pair[0])
    assert not x509_lib.is_signed_by(certificate, ca_pair[0])


def test_csr_signature_is_checked(ca_pair):
    key = ec_key()
    csr = x509_lib.load_csr(make_csr(key))
    assert spki_der(csr.public_key()) == spki_der(key.public_key())
    with pytest.raises(X509Error, match='^the signature of the certificate signing request does not verify$'):
        x509_lib.load_csr(tampered_csr(key))
    assert x509_lib.load_csr(tampered_csr(key), verify=False) is not None
    with pytest.raises(X509Error, match='^the RSA key of the certificate signing request has 1024 bits; at least 2048 are needed$'):
        x509_lib.load_csr(make_csr(rsa_key(1024)))
    with pytest.raises(X509Error, match='^not a PEM certificate signing request$'):
        x509_lib.load_csr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')


# Keeping a certificate

def problem(certificate, ca_pair, public_key, name='alice', kind='client', sans=(), renew=30, now=NOW, revoked=()):
    return x509_lib.certificate_problem(certificate, ca_pair[0], spki_der(public_key), name, kind, sorted(sans), renew, now, set(revoked))


def test_certificate_problems_name_what_differs(ca_pair, other_ca_pair):
    key = ec_key()
    certificate = issue(ca_pair, 'server', key.public_key(), sans=['DNS:a.example.org'], days=100)
    assert problem(certificate, ca_pair, key.public_key(), kind='server', sans=['DNS:a.example.org']) is None
    assert problem(certificate, other_ca_pair, key.public_key(), kind='server', sans=['DNS:a.example.org']) == 'issued by another CA'
    assert problem(certificate, ca_pair, ec_key().public_key(), kind='server', sans=['DNS:a.example.org']) == 'new key'
    assert problem(certificate, ca_pair, key.public_key(), name='bob', kind='server', sans=['DNS:a.example.org']) == 'subject changed'
    assert problem(certificate, ca_pair, key.public_key(), sans=['DNS:a.example.org']) == 'kind changed to client'
    assert problem(certificate, ca_pair, key.public_key(), kind='server', sans=['DNS:b.example.org']) == 'subject alt names changed'
    assert problem(certificate, ca_pair, key.public_key(), kind='server', sans=['DNS:a.example.org'],
                   revoked=[x509_lib.serial_hex(certificate.serial_number)]) == 'revoked'
    expires = (NOW + 100 * DAY).strftime('%Y-%m-%d')
    assert problem(certificate, ca_pair, key.public_key(), kind='server', sans=['DNS:a.example.org'], now=NOW + 70 * DAY) == \
        'expires %s' % expires
    assert problem(certificate, ca_pair, key.public_key(), kind='server', sans=['DNS:a.example.org'], now=NOW + 69 * DAY) is None


# CRL

def test_crl_holds_the_revoked_serials_with_number_dates_and_aki(ca_pair):
    ca_certificate, ca_key = ca_pair
    entries = [dict(serial='0A0B', revocation_date='2026-05-01T00:00:00Z', reason='unspecified'),
               dict(serial='FF', revocation_date='2026-05-02T00:00:00Z', reason='superseded')]
    crl = x509_lib.build_crl(ca_certificate, ca_key, entries, 7, NOW, 180)
    assert crl.is_signature_valid(ca_certificate.public_key())
    assert x509_lib.crl_number(crl) == 7
    assert crl.last_update_utc == NOW and crl.next_update_utc == NOW + 180 * DAY
    assert extension(crl, x509.AuthorityKeyIdentifier).value.key_identifier == \
        extension(ca_certificate, x509.SubjectKeyIdentifier).value.digest
    assert x509_lib.crl_serials(crl) == {'0A0B', 'FF'}
    assert crl.get_revoked_certificate_by_serial_number(0xFF).extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.superseded


def test_crl_problems(ca_pair, other_ca_pair):
    ca_certificate, ca_key = ca_pair
    crl = x509_lib.build_crl(ca_certificate, ca_key, [dict(serial='01', revocation_date='2026-05-01T00:00:00Z')], 1, NOW, 180)
    assert x509_lib.crl_problem(crl, ca_certificate, ['01'], 90, NOW + 89 * DAY) is None
    assert x509_lib.crl_problem(crl, ca_certificate, ['01'], 90, NOW + 90 * DAY) == 'next update %s is near' % \
        (NOW + 180 * DAY).strftime('%Y-%m-%d')
    assert x509_lib.crl_problem(crl, ca_certificate, ['01', '02'], 90, NOW) == 'revoked certificates changed'
    assert x509_lib.crl_problem(crl, other_ca_pair[0], ['01'], 90, NOW) == 'CA changed'
    assert x509_lib.crl_problem(None, ca_certificate, [], 90, NOW) == 'missing'


# Interoperability with the real openssl binary. The set-up installs it: its absence is a failure.


@pytest.fixture(scope='module')
def openssl():
    return openssl_binary()


@pytest.mark.parametrize('spec', [('ec', 'secp384r1', 3072), ('ec', 'secp521r1', 3072), ('rsa', 'secp384r1', 2048)], ids=['ec384', 'ec521', 'rsa2048'])
def test_openssl_verifies_our_csr_and_reads_our_key(openssl, tmp_path, spec):
    private_key = x509_lib.new_private_key(*spec)
    key_file = tmp_path / 'host.key'
    csr_file = tmp_path / 'host.csr'
    key_file.write_bytes(x509_lib.private_key_pem(private_key))
    csr_file.write_text(x509_lib.make_csr(private_key, 'vpn1'))

    verified = run_openssl(openssl, 'req', '-in', str(csr_file), '-noout', '-verify', '-subject', '-nameopt', 'RFC2253')
    assert verified.returncode == 0, verified.stderr
    assert b'CN=vpn1' in verified.stdout
    # OpenSSL 3.0 exits 0 also when the signature does not verify (see the tampered test below):
    # only its message tells. It prints "Certificate request self-signature verify OK", older versions "verify OK".
    assert b'verify OK' in verified.stdout + verified.stderr
    assert b'verify failure' not in verified.stdout + verified.stderr

    read = run_openssl(openssl, 'pkey', '-in', str(key_file), '-noout')
    assert read.returncode == 0, read.stderr

    public_der = run_openssl(openssl, 'pkey', '-in', str(key_file), '-pubout', '-outform', 'DER')
    assert public_der.returncode == 0, public_der.stderr
    assert hashlib.sha256(public_der.stdout).hexdigest() == x509_lib.public_key_sha256(private_key)
    request_public_der = run_openssl(openssl, 'req', '-in', str(csr_file), '-noout', '-pubkey')
    assert request_public_der.returncode == 0, request_public_der.stderr
    assert serialization.load_pem_public_key(request_public_der.stdout) == private_key.public_key()


def test_openssl_refuses_a_tampered_csr(openssl, tmp_path):
    private_key = ec_key()
    request = parse_csr(x509_lib.make_csr(private_key, 'vpn1'))
    der = bytearray(request.public_bytes(serialization.Encoding.DER))
    # The last byte belongs to the signature: flipping it must break verification.
    der[-1] ^= 0x01
    csr_file = tmp_path / 'tampered.csr'
    csr_file.write_bytes(bytes(der))

    verified = run_openssl(openssl, 'req', '-in', str(csr_file), '-inform', 'DER', '-noout', '-verify')

    # OpenSSL 3.0 reports the failure but exits 0; later versions exit non-zero.
    assert b'verify OK' not in verified.stdout + verified.stderr
    assert verified.returncode != 0 or b'verify failure' in verified.stderr
    assert parse_csr(request.public_bytes(serialization.Encoding.PEM).decode('ascii')).is_signature_valid
    assert not x509.load_der_x509_csr(bytes(der)).is_signature_valid


@pytest.mark.parametrize('genkey_args, expected_spec', [
    (['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp384r1'], ('ec', 'secp384r1')),
    (['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], ('rsa', 2048)),
    (['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], ('ec', 'secp256r1')),
], ids=['genpkey-ec', 'genpkey-rsa', 'ecparam-traditional'])
def test_keys_openssl_made_are_read(openssl, tmp_path, genkey_args, expected_spec):
    key_file = tmp_path / 'openssl.key'
    made = run_openssl(openssl, *(genkey_args + ['-out', str(key_file)]))
    assert made.returncode == 0, made.stderr

    private_key = x509_lib.load_private_key(key_file.read_bytes())

    assert private_key is not None
    assert x509_lib.key_description(private_key) == expected_spec
    public_der = run_openssl(openssl, 'pkey', '-in', str(key_file), '-pubout', '-outform', 'DER')
    assert hashlib.sha256(public_der.stdout).hexdigest() == x509_lib.public_key_sha256(private_key)
