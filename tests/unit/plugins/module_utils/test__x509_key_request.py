# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_key_request import (
    HAS_CRYPTOGRAPHY,
    KeyRequestError,
    certificate_facts,
    decide_action,
    describe_spec,
    generate_private_key,
    key_spec,
    load_private_key,
    make_csr,
    private_key_pem,
    public_key_sha256,
    requested_spec,
    subject_name,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_request_helpers import (
    NOT_AFTER_TEXT,
    certificate_pem,
    ec_key,
    openssl_binary,
    pem_of,
    rsa_key,
    run_openssl,
    spki_der,
)

# A P-256 key with a fixed private value, and what `openssl pkey -pubout -outform DER | sha256sum`
# printed for it: pins the fingerprint to the DER SubjectPublicKeyInfo, in lower-case hex.
KNOWN_PRIVATE_VALUE = int.from_bytes(hashlib.sha256(b'overlaynet.vpn x509_key_request known-answer key').digest(), 'big')
KNOWN_SPKI_HEX = ('3059301306072a8648ce3d020106082a8648ce3d03010703420004627448a27029e84fb0b0d7a3e2070fda205e6bf3d51e9d2eecd6'
                  'be35d9a1d8f3ba987e19e4cc4b51765523c0bf7a53c128d1cbff3ffdb0b700ef8df758583f91')
KNOWN_FINGERPRINT = 'b8ad8bfafd8a16dfd6b410025386d5f29638b68fbf5c2e2b68ab5e1154c448a1'


def known_key():
    return ec.derive_private_key(KNOWN_PRIVATE_VALUE, ec.SECP256R1())


def load_csr(pem):
    return x509.load_pem_x509_csr(pem.encode('ascii'))


def test_cryptography_is_found():
    assert HAS_CRYPTOGRAPHY is True


@pytest.mark.parametrize('curve', ['secp256r1', 'secp384r1', 'secp521r1'])
def test_new_ec_key_has_the_curve_and_is_written_as_pkcs8(curve):
    private_key = generate_private_key(requested_spec('ec', curve, 4096))

    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert private_key.curve.name == curve
    assert key_spec(private_key) == ('ec', curve)
    pem = private_key_pem(private_key)
    assert pem.startswith('-----BEGIN PRIVATE KEY-----\n') and pem.endswith('-----END PRIVATE KEY-----\n')
    loaded = load_private_key(pem.encode('ascii'))
    assert spki_der(loaded.public_key()) == spki_der(private_key.public_key())
    assert loaded.private_numbers() == private_key.private_numbers()


@pytest.mark.parametrize('size', [2048, 3072, 4096])
def test_new_rsa_key_has_the_size_and_is_written_as_pkcs8(size):
    private_key = generate_private_key(requested_spec('rsa', 'secp384r1', size))

    assert isinstance(private_key, rsa.RSAPrivateKey)
    assert private_key.key_size == size
    assert private_key.public_key().public_numbers().e == 65537
    assert key_spec(private_key) == ('rsa', size)
    pem = private_key_pem(private_key)
    assert pem.startswith('-----BEGIN PRIVATE KEY-----\n')
    assert load_private_key(pem.encode('ascii')).private_numbers() == private_key.private_numbers()


def test_requested_spec_keeps_only_the_detail_of_the_type():
    assert requested_spec('ec', 'secp256r1', 4096) == ('ec', 'secp256r1')
    assert requested_spec('rsa', 'secp256r1', 4096) == ('rsa', 4096)
    assert describe_spec(('ec', 'secp521r1')) == 'EC secp521r1 key'
    assert describe_spec(('rsa', 3072)) == 'RSA 3072-bit key'


@pytest.mark.parametrize('make_key, expected_spec', [
    (lambda: ec_key('secp256r1'), ('ec', 'secp256r1')),
    (lambda: rsa_key(2048), ('rsa', 2048)),
])
def test_traditional_pem_keys_are_read(make_key, expected_spec):
    private_key = make_key()
    pem = pem_of(private_key, serialization.PrivateFormat.TraditionalOpenSSL)
    assert 'BEGIN PRIVATE KEY' not in pem

    loaded = load_private_key(pem.encode('ascii'))

    assert key_spec(loaded) == expected_spec
    assert loaded.private_numbers() == private_key.private_numbers()


def test_secp256k1_key_is_read_with_its_curve():
    loaded = load_private_key(pem_of(ec.generate_private_key(ec.SECP256K1())).encode('ascii'))

    assert key_spec(loaded) == ('ec', 'secp256k1')


@pytest.mark.parametrize('data', [
    b'',
    b'garbage\n',
    bytes(range(256)),
    b'-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
], ids=['empty', 'text', 'binary', 'truncated'])
def test_garbage_is_no_key(data):
    assert load_private_key(data) is None


def test_encrypted_key_is_no_key():
    pem = pem_of(ec_key(), encryption=serialization.BestAvailableEncryption(b'passphrase'))
    assert 'ENCRYPTED PRIVATE KEY' in pem

    assert load_private_key(pem.encode('ascii')) is None


def test_key_of_another_algorithm_is_no_key():
    pem = pem_of(ed25519.Ed25519PrivateKey.generate())

    assert load_private_key(pem.encode('ascii')) is None


def test_public_key_and_certificate_are_no_key():
    private_key = ec_key()
    public_pem = private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    assert load_private_key(public_pem) is None
    assert load_private_key(certificate_pem(private_key.public_key()).encode('ascii')) is None


def test_public_key_sha256_known_answer():
    private_key = known_key()

    assert spki_der(private_key.public_key()).hex() == KNOWN_SPKI_HEX
    assert public_key_sha256(private_key) == KNOWN_FINGERPRINT


def test_public_key_sha256_differs_between_keys_and_is_the_spki_hash():
    first, second = ec_key(), rsa_key()

    assert public_key_sha256(first) == hashlib.sha256(spki_der(first.public_key())).hexdigest()
    assert public_key_sha256(second) == hashlib.sha256(spki_der(second.public_key())).hexdigest()
    assert public_key_sha256(first) != public_key_sha256(second)


@pytest.mark.parametrize('make_key', [lambda: ec_key('secp384r1'), lambda: ec_key('secp521r1'), lambda: rsa_key(2048)],
                         ids=['ec384', 'ec521', 'rsa2048'])
def test_csr_is_signed_by_the_key_for_the_common_name(make_key):
    private_key = make_key()

    pem = make_csr(private_key, 'vpn1.example.net')

    assert pem.startswith('-----BEGIN CERTIFICATE REQUEST-----\n') and pem.endswith('-----END CERTIFICATE REQUEST-----\n')
    request = load_csr(pem)
    assert request.is_signature_valid
    assert request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'vpn1.example.net'
    assert len(request.subject) == 1
    assert spki_der(request.public_key()) == spki_der(private_key.public_key())
    assert isinstance(request.signature_hash_algorithm, hashes.SHA256)
    assert len(request.extensions) == 0


def test_csr_of_another_key_does_not_verify_against_this_key():
    first, second = ec_key(), ec_key()

    request = load_csr(make_csr(first, 'vpn1'))

    assert spki_der(request.public_key()) != spki_der(second.public_key())


def test_csr_common_name_with_non_ascii_characters():
    request = load_csr(make_csr(ec_key('secp256r1'), u'b\u00fcro-gateway'))

    assert request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == u'b\u00fcro-gateway'
    assert request.is_signature_valid


@pytest.mark.parametrize('common_name, message', [
    ('', 'common_name must be a non-empty string'),
    (None, 'common_name must be a non-empty string'),
    ('x' * 65, 'common_name must be at most 64 characters (RFC 5280), it has 65'),
])
def test_common_names_x509_cannot_carry_are_refused(common_name, message):
    with pytest.raises(KeyRequestError) as excinfo:
        subject_name(common_name)

    assert str(excinfo.value) == message


def test_common_name_of_64_characters_is_accepted():
    name = subject_name('x' * 64)

    assert name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'x' * 64


# certificate_facts


def test_certificate_holding_the_key_matches():
    private_key = ec_key()
    data = certificate_pem(private_key.public_key()).encode('ascii')

    facts = certificate_facts(data, private_key)

    assert facts == dict(certificate_matches_key=True, certificate_not_after=NOT_AFTER_TEXT,
                         certificate_sha256=hashlib.sha256(data).hexdigest())


def test_certificate_of_another_key_does_not_match():
    data = certificate_pem(ec_key().public_key()).encode('ascii')

    facts = certificate_facts(data, ec_key())

    assert facts == dict(certificate_matches_key=False, certificate_not_after=NOT_AFTER_TEXT,
                         certificate_sha256=hashlib.sha256(data).hexdigest())


def test_certificate_of_an_rsa_key_does_not_match_an_ec_key_and_matches_its_own():
    rsa_private_key = rsa_key()
    data = certificate_pem(rsa_private_key.public_key()).encode('ascii')

    assert certificate_facts(data, ec_key())['certificate_matches_key'] is False
    assert certificate_facts(data, rsa_private_key)['certificate_matches_key'] is True


def test_certificate_without_a_key_yet_reports_its_expiry_only():
    data = certificate_pem(ec_key().public_key()).encode('ascii')

    facts = certificate_facts(data, None)

    assert facts == dict(certificate_matches_key=False, certificate_not_after=NOT_AFTER_TEXT,
                         certificate_sha256=hashlib.sha256(data).hexdigest())


def test_certificate_followed_by_its_chain_is_read_from_its_first_certificate():
    private_key = ec_key()
    data = (certificate_pem(private_key.public_key()) + certificate_pem(ec_key().public_key(), common_name='intermediate')).encode('ascii')

    facts = certificate_facts(data, private_key)

    assert facts['certificate_matches_key'] is True
    assert facts['certificate_sha256'] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('data', [None, b'', b'not a certificate\n', bytes(range(256))], ids=['missing', 'empty', 'text', 'binary'])
def test_missing_or_unparsable_certificate_gives_no_match_and_nulls(data):
    assert certificate_facts(data, ec_key()) == dict(certificate_matches_key=False, certificate_not_after=None, certificate_sha256=None)


def test_der_certificate_counts_as_unparsable():
    private_key = ec_key()
    certificate = x509.load_pem_x509_certificate(certificate_pem(private_key.public_key()).encode('ascii'))

    facts = certificate_facts(certificate.public_bytes(serialization.Encoding.DER), private_key)

    assert facts == dict(certificate_matches_key=False, certificate_not_after=None, certificate_sha256=None)


# decide_action

EC384 = ('ec', 'secp384r1')
EC256 = ('ec', 'secp256r1')
RSA3072 = ('rsa', 3072)
REFUSAL = 'key file %s does not hold an unencrypted EC or RSA private key in PEM; refusing to replace it (regenerate=invalid replaces it)'


@pytest.mark.parametrize('state, regenerate, exists, existing_spec, wanted_spec, expected', [
    ('present', 'never', False, None, EC384, ('created', None)),
    ('present', 'always', False, None, EC384, ('created', None)),
    ('present', 'never', True, EC384, EC384, ('none', None)),
    ('present', 'never', True, RSA3072, EC384, ('none', None)),
    ('present', 'never', True, None, EC384, (None, REFUSAL)),
    ('present', 'invalid', True, None, EC384, ('replaced', None)),
    ('present', 'invalid', True, EC384, EC384, ('none', None)),
    ('present', 'invalid', True, EC256, EC384, ('none', None)),
    ('present', 'always', True, EC384, EC384, ('replaced', None)),
    ('present', 'always', True, None, EC384, ('replaced', None)),
    ('present', 'type_changed', True, EC384, EC384, ('none', None)),
    ('present', 'type_changed', True, EC256, EC384, ('replaced', None)),
    ('present', 'type_changed', True, RSA3072, EC384, ('replaced', None)),
    ('present', 'type_changed', True, ('rsa', 2048), RSA3072, ('replaced', None)),
    ('present', 'type_changed', True, None, EC384, ('replaced', None)),
    ('absent', 'never', True, EC384, EC384, ('removed', None)),
    ('absent', 'never', True, None, EC384, ('removed', None)),
    ('absent', 'always', False, None, EC384, ('none', None)),
])
def test_decide_action(state, regenerate, exists, existing_spec, wanted_spec, expected):
    assert decide_action(state, regenerate, exists, existing_spec, wanted_spec) == expected


# Interoperability with the real openssl binary. The set-up installs it: its absence is a failure.


@pytest.fixture(scope='module')
def openssl():
    return openssl_binary()


@pytest.mark.parametrize('spec', [('ec', 'secp384r1'), ('ec', 'secp521r1'), ('rsa', 2048)])
def test_openssl_verifies_our_csr_and_reads_our_key(openssl, tmp_path, spec):
    private_key = generate_private_key(spec)
    key_file = tmp_path / 'host.key'
    csr_file = tmp_path / 'host.csr'
    key_file.write_text(private_key_pem(private_key))
    csr_file.write_text(make_csr(private_key, 'vpn1'))

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
    assert hashlib.sha256(public_der.stdout).hexdigest() == public_key_sha256(private_key)
    request_public_der = run_openssl(openssl, 'req', '-in', str(csr_file), '-noout', '-pubkey')
    assert request_public_der.returncode == 0, request_public_der.stderr
    assert serialization.load_pem_public_key(request_public_der.stdout) == private_key.public_key()


def test_openssl_refuses_a_tampered_csr(openssl, tmp_path):
    private_key = ec_key()
    request = load_csr(make_csr(private_key, 'vpn1'))
    der = bytearray(request.public_bytes(serialization.Encoding.DER))
    # The last byte belongs to the signature: flipping it must break verification.
    der[-1] ^= 0x01
    csr_file = tmp_path / 'tampered.csr'
    csr_file.write_bytes(bytes(der))

    verified = run_openssl(openssl, 'req', '-in', str(csr_file), '-inform', 'DER', '-noout', '-verify')

    # OpenSSL 3.0 reports the failure but exits 0; later versions exit non-zero.
    assert b'verify OK' not in verified.stdout + verified.stderr
    assert verified.returncode != 0 or b'verify failure' in verified.stderr
    assert load_csr(request.public_bytes(serialization.Encoding.PEM).decode('ascii')).is_signature_valid
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

    private_key = load_private_key(key_file.read_bytes())

    assert private_key is not None
    assert key_spec(private_key) == expected_spec
    public_der = run_openssl(openssl, 'pkey', '-in', str(key_file), '-pubout', '-outform', 'DER')
    assert hashlib.sha256(public_der.stdout).hexdigest() == public_key_sha256(private_key)
