# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import json
import os
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509_ca as ca_lib
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_ca import CertificateSpec, X509CAError, X509Store
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.pki_helpers import (
    NOW,
    OPENSSL,
    assert_no_secret,
    ec_key,
    make_csr,
    mode_of,
    private_pem,
    public_der,
    rsa_key,
    tampered_csr,
    tree_stamps,
)

DAY = datetime.timedelta(days=1)


@pytest.fixture(scope='module')
def ca_pair():
    key = ca_lib.new_private_key()
    return ca_lib.create_ca_certificate(key, 'Test CA', 3650, NOW), key


@pytest.fixture(scope='module')
def other_ca_pair():
    key = ca_lib.new_private_key('ec', 'secp256r1')
    return ca_lib.create_ca_certificate(key, 'Other CA', 3650, NOW), key


def extension(certificate, extension_class):
    return certificate.extensions.get_extension_for_class(extension_class)


def issue(ca_pair, kind='client', public_key=None, name='alice', sans=(), days=825, now=NOW, serial=None):
    certificate, key = ca_pair
    public_key = public_key or ec_key().public_key()
    return ca_lib.issue_certificate(certificate, key, public_key, name, kind, ca_lib.parse_subject_alt_names(list(sans)), days, now,
                                    serial or ca_lib.random_serial())


# Names, SANs, serials

@pytest.mark.parametrize('name', ['a', 'alice-laptop', 'vpn1.example.org', 'x_1', '9', 'A' * 64])
def test_safe_names_pass(name):
    assert ca_lib.name_problem(name) is None


@pytest.mark.parametrize('name', ['', 'a b', '../etc', 'a/b', '.hidden', '-rf', 'A' * 65, 'é', None, 'a\n'])
def test_unsafe_names_are_refused_naming_the_value(name):
    problem = ca_lib.name_problem(name, 'certificates[2].name')
    assert problem.startswith('certificates[2].name: %r is not a valid name' % (name,))


def test_subject_alt_names_parse_dns_and_ip():
    names = ca_lib.parse_subject_alt_names(['DNS:vpn.example.org', 'IP:192.0.2.1', 'ip:2001:db8::1', 'DNS:*.example.org'])
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
    with pytest.raises(X509CAError) as excinfo:
        ca_lib.parse_subject_alt_names(['DNS:ok.example.org', value])
    assert str(excinfo.value) == message


def test_a_subject_alt_name_given_twice_is_refused():
    with pytest.raises(X509CAError, match="^'DNS:A.example.org' is given twice$"):
        ca_lib.parse_subject_alt_names(['DNS:a.example.org', 'DNS:A.example.org'])


def test_random_serials_are_positive_128_bit_and_avoid_taken_ones(monkeypatch):
    serials = [ca_lib.random_serial() for dummy in range(200)]
    assert all(0 < serial < 2 ** 128 for serial in serials)
    assert len(set(serials)) == 200
    draws = iter([b'\x00' * 16, (5).to_bytes(16, 'big'), (6).to_bytes(16, 'big')])
    monkeypatch.setattr(ca_lib.os, 'urandom', lambda size: next(draws))
    assert ca_lib.random_serial(taken={'05'}) == 6


def test_serial_hex_is_whole_upper_case_bytes():
    assert ca_lib.serial_hex(0xABC) == '0ABC'
    assert ca_lib.serial_hex(0x1F2E) == '1F2E'


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
    assert ca_lib.not_after(certificate) == NOW + 3650 * DAY


def test_rsa_ca_key_has_the_asked_size():
    key = ca_lib.new_private_key('rsa', rsa_key_size=2048)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    certificate = ca_lib.create_ca_certificate(key, 'RSA CA', 10, NOW)
    certificate.verify_directly_issued_by(certificate)
    assert ca_lib.key_description(certificate.public_key()) == ('rsa', 2048)


def test_ca_pair_check_refuses_a_mismatch_and_a_leaf(ca_pair, other_ca_pair):
    ca_lib.check_ca_pair(*ca_pair)
    with pytest.raises(X509CAError, match='^the private key does not match the certificate$'):
        ca_lib.check_ca_pair(ca_pair[0], other_ca_pair[1])
    leaf_key = ec_key()
    leaf = issue(ca_pair, public_key=leaf_key.public_key())
    with pytest.raises(X509CAError, match='not a CA certificate'):
        ca_lib.check_ca_pair(leaf, leaf_key)


def test_private_keys_load_with_the_right_passphrase_only_and_errors_hold_no_key():
    key = ec_key()
    encrypted = private_pem(key, b'correct horse')
    assert public_der(ca_lib.load_private_key(encrypted, 'correct horse').public_key()) == public_der(key.public_key())
    messages = []
    for data, passphrase in ((encrypted, None), (encrypted, 'wrong'), (private_pem(key), 'unneeded'), (b'garbage', None)):
        with pytest.raises(X509CAError) as excinfo:
            ca_lib.load_private_key(data, passphrase)
        messages.append(str(excinfo.value))
    assert messages == [
        'the private key is encrypted and no passphrase was given',
        'the private key cannot be read: not a PEM private key, or a wrong passphrase',
        'the private key is not encrypted but a passphrase was given',
        'the private key cannot be read: not a PEM private key',
    ]
    for message in messages:
        assert 'PRIVATE' not in message and private_pem(key).decode('ascii').splitlines()[1] not in message


# Issuing

@pytest.mark.parametrize('kind, usage', [('server', ExtendedKeyUsageOID.SERVER_AUTH), ('client', ExtendedKeyUsageOID.CLIENT_AUTH)])
def test_leaf_extensions_per_kind_with_an_ec_key(ca_pair, kind, usage):
    ca_certificate, ca_key = ca_pair
    key = ec_key()
    certificate = issue(ca_pair, kind, key.public_key(), 'vpn1', sans=['DNS:vpn1.example.org', 'IP:192.0.2.1'], days=100)
    certificate.verify_directly_issued_by(ca_certificate)
    assert ca_lib.is_signed_by(certificate, ca_certificate)
    assert list(extension(certificate, x509.ExtendedKeyUsage).value) == [usage]
    constraints = extension(certificate, x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage_extension = extension(certificate, x509.KeyUsage)
    assert usage_extension.critical and usage_extension.value.digital_signature
    assert not usage_extension.value.key_encipherment and not usage_extension.value.key_cert_sign
    assert extension(certificate, x509.AuthorityKeyIdentifier).value.key_identifier == \
        extension(ca_certificate, x509.SubjectKeyIdentifier).value.digest
    assert extension(certificate, x509.SubjectKeyIdentifier).value == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    assert ca_lib.certificate_subject_alt_names(certificate) == ['DNS:vpn1.example.org', 'IP:192.0.2.1']
    assert ca_lib.common_name(certificate.subject) == 'vpn1' and certificate.issuer == ca_certificate.subject
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    assert ca_lib.not_after(certificate) == NOW + 100 * DAY
    assert ca_lib.certificate_kind(certificate) == kind


def test_rsa_leaf_keys_also_get_key_encipherment(ca_pair):
    certificate = issue(ca_pair, 'server', rsa_key().public_key())
    usage = extension(certificate, x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment


def test_a_certificate_of_another_ca_is_not_signed_by_this_one(ca_pair, other_ca_pair):
    certificate = issue(other_ca_pair)
    assert ca_lib.is_signed_by(certificate, other_ca_pair[0])
    assert not ca_lib.is_signed_by(certificate, ca_pair[0])


def test_csr_signature_is_checked(ca_pair):
    key = ec_key()
    csr = ca_lib.load_csr(make_csr(key))
    assert public_der(csr.public_key()) == public_der(key.public_key())
    with pytest.raises(X509CAError, match='^the signature of the certificate signing request does not verify$'):
        ca_lib.load_csr(tampered_csr(key))
    assert ca_lib.load_csr(tampered_csr(key), verify=False) is not None
    with pytest.raises(X509CAError, match='^the RSA key of the certificate signing request has 1024 bits; at least 2048 are needed$'):
        ca_lib.load_csr(make_csr(rsa_key(1024)))
    with pytest.raises(X509CAError, match='^not a PEM certificate signing request$'):
        ca_lib.load_csr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')


# Keeping a certificate

def problem(certificate, ca_pair, public_key, name='alice', kind='client', sans=(), renew=30, now=NOW, revoked=()):
    return ca_lib.certificate_problem(certificate, ca_pair[0], public_der(public_key), name, kind, sorted(sans), renew, now, set(revoked))


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
                   revoked=[ca_lib.serial_hex(certificate.serial_number)]) == 'revoked'
    expires = (NOW + 100 * DAY).strftime('%Y-%m-%d')
    assert problem(certificate, ca_pair, key.public_key(), kind='server', sans=['DNS:a.example.org'], now=NOW + 70 * DAY) == \
        'expires %s' % expires
    assert problem(certificate, ca_pair, key.public_key(), kind='server', sans=['DNS:a.example.org'], now=NOW + 69 * DAY) is None


# CRL

def test_crl_holds_the_revoked_serials_with_number_dates_and_aki(ca_pair):
    ca_certificate, ca_key = ca_pair
    entries = [dict(serial='0A0B', revocation_date='2026-05-01T00:00:00Z', reason='unspecified'),
               dict(serial='FF', revocation_date='2026-05-02T00:00:00Z', reason='superseded')]
    crl = ca_lib.build_crl(ca_certificate, ca_key, entries, 7, NOW, 180)
    assert crl.is_signature_valid(ca_certificate.public_key())
    assert ca_lib.crl_number(crl) == 7
    assert crl.last_update_utc == NOW and crl.next_update_utc == NOW + 180 * DAY
    assert extension(crl, x509.AuthorityKeyIdentifier).value.key_identifier == \
        extension(ca_certificate, x509.SubjectKeyIdentifier).value.digest
    assert ca_lib.crl_serials(crl) == {'0A0B', 'FF'}
    assert crl.get_revoked_certificate_by_serial_number(0xFF).extensions.get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.superseded


def test_crl_problems(ca_pair, other_ca_pair):
    ca_certificate, ca_key = ca_pair
    crl = ca_lib.build_crl(ca_certificate, ca_key, [dict(serial='01', revocation_date='2026-05-01T00:00:00Z')], 1, NOW, 180)
    assert ca_lib.crl_problem(crl, ca_certificate, ['01'], 90, NOW + 89 * DAY) is None
    assert ca_lib.crl_problem(crl, ca_certificate, ['01'], 90, NOW + 90 * DAY) == 'next update %s is near' % \
        (NOW + 180 * DAY).strftime('%Y-%m-%d')
    assert ca_lib.crl_problem(crl, ca_certificate, ['01', '02'], 90, NOW) == 'revoked certificates changed'
    assert ca_lib.crl_problem(crl, other_ca_pair[0], ['01'], 90, NOW) == 'CA changed'
    assert ca_lib.crl_problem(None, ca_certificate, [], 90, NOW) == 'missing'


# The store

def client(name, **options):
    return CertificateSpec(name, **options)


def run_store(path, specs=(), revoke=(), now=NOW, renew=30, crl_days=180, crl_renew=90, commit=True, revoke_reason='unspecified'):
    store = X509Store(str(path), now=now)
    store.load()
    store.ensure_ca(common_name_text='Store CA')
    store.adopt_unrecorded()
    outcomes = dict((spec.name, store.ensure_certificate(spec, renew)) for spec in specs)
    for name in revoke:
        store.revoke(name, revoke_reason)
    crl, crl_reason = store.ensure_crl(crl_days, crl_renew)
    store.stage_state()
    changes = store.changes()
    if commit:
        store.commit()
    return dict(store=store, outcomes=outcomes, changes=changes, crl=crl, crl_reason=crl_reason)


def read_bytes(path):
    with open(str(path), 'rb') as handle:
        return handle.read()


def load_state(root):
    with open(str(root / 'state.json')) as handle:
        return json.load(handle)


def certificate_at(path):
    return x509.load_pem_x509_certificate(read_bytes(path))


def key_at(path):
    return serialization.load_pem_private_key(read_bytes(path), None)


def test_store_layout_and_modes(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice'), client('vpn1', kind='server', csr=make_csr(ec_key()))])
    assert mode_of(root) == 0o700
    for directory in ('issued', 'private'):
        assert mode_of(root / directory) == 0o700
    for name, mode in (('ca.crt', 0o644), ('ca.key', 0o600), ('crl.pem', 0o644), ('state.json', 0o600),
                       ('issued/alice.crt', 0o644), ('issued/vpn1.crt', 0o644), ('private/alice.key', 0o600)):
        assert mode_of(root / name) == mode, name
    # The host that made the CSR keeps its key; none is made here.
    assert not (root / 'private' / 'vpn1.key').exists()
    assert sorted(os.listdir(str(root / 'private'))) == ['alice.key']
    alice = certificate_at(root / 'issued' / 'alice.crt')
    assert public_der(alice.public_key()) == public_der(key_at(root / 'private' / 'alice.key').public_key())
    assert ca_lib.is_signed_by(alice, certificate_at(root / 'ca.crt'))
    state = load_state(root)
    assert state['certificates']['alice']['serial'] == ca_lib.serial_hex(alice.serial_number)
    assert state['certificates']['alice']['kind'] == 'client' and state['certificates']['alice']['status'] == 'valid'
    assert state['certificates']['alice']['not_after'] == '2028-09-03T12:00:00Z'
    assert state['crl_number'] == 1
    assert_no_secret(state, root)


def test_an_unchanged_store_writes_nothing(tmp_path):
    root = tmp_path / 'pki'
    specs = [client('alice'), client('vpn1', kind='server', csr=make_csr(ec_key()), subject_alt_names=['DNS:vpn1.example.org'])]
    first = run_store(root, specs)
    assert {outcome['action'] for outcome in first['outcomes'].values()} == {'issued'}
    stamps = tree_stamps(root)
    second = run_store(root, specs, now=NOW + 10 * DAY)
    assert second['changes'] == []
    assert {outcome['action'] for outcome in second['outcomes'].values()} == {'kept'}
    assert tree_stamps(root) == stamps


def test_nothing_is_written_without_commit_but_the_changes_are_listed(tmp_path):
    root = tmp_path / 'pki'
    result = run_store(root, [client('alice')], commit=False)
    assert not root.exists()
    assert [relative for relative, change in result['changes']] == [
        'ca.key', 'ca.crt', 'private/alice.key', 'issued/alice.crt', 'crl.pem', 'state.json']
    assert {change for relative, change in result['changes']} == {'write'}


def test_a_certificate_is_renewed_inside_the_window_only_keeping_its_key(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice', validity_days=100)])
    key_before = read_bytes(root / 'private' / 'alice.key')
    serial_before = certificate_at(root / 'issued' / 'alice.crt').serial_number
    assert run_store(root, [client('alice', validity_days=100)], now=NOW + 69 * DAY)['outcomes']['alice']['action'] == 'kept'
    renewed = run_store(root, [client('alice', validity_days=100)], now=NOW + 71 * DAY)
    outcome = renewed['outcomes']['alice']
    assert (outcome['action'], outcome['reason']) == ('reissued', 'expires %s' % (NOW + 100 * DAY).strftime('%Y-%m-%d'))
    certificate = certificate_at(root / 'issued' / 'alice.crt')
    assert certificate.serial_number != serial_before
    assert ca_lib.not_after(certificate) == NOW + 171 * DAY
    assert read_bytes(root / 'private' / 'alice.key') == key_before
    # Renewal is not a reason to revoke the old certificate: a host that misses this run keeps working.
    assert load_state(root)['revoked'] == []


def test_a_new_csr_key_reissues_and_supersedes_the_old_certificate(tmp_path):
    root = tmp_path / 'pki'
    first_key = ec_key()
    run_store(root, [client('vpn1', kind='server', csr=make_csr(first_key))])
    first_serial = load_state(root)['certificates']['vpn1']['serial']
    # The same key in a CSR made again (another subject even) is not a new key.
    again = run_store(root, [client('vpn1', kind='server', csr=make_csr(first_key, 'other subject'))])
    assert again['outcomes']['vpn1']['action'] == 'kept'
    assert load_state(root)['certificates']['vpn1']['serial'] == first_serial
    new_key = ec_key()
    result = run_store(root, [client('vpn1', kind='server', csr=make_csr(new_key))])
    assert (result['outcomes']['vpn1']['action'], result['outcomes']['vpn1']['reason']) == ('reissued', 'new key')
    certificate = certificate_at(root / 'issued' / 'vpn1.crt')
    assert public_der(certificate.public_key()) == public_der(new_key.public_key())
    state = load_state(root)
    assert state['certificates']['vpn1']['serial'] == ca_lib.serial_hex(certificate.serial_number) != first_serial
    assert state['certificates']['vpn1']['status'] == 'valid'
    assert [(entry['serial'], entry['reason'], entry['name']) for entry in state['revoked']] == [(first_serial, 'superseded', 'vpn1')]
    crl = x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))
    assert ca_lib.crl_serials(crl) == {first_serial}


def test_a_kind_change_reissues_with_the_other_extended_key_usage(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('box')])
    result = run_store(root, [client('box', kind='server')])
    assert result['outcomes']['box']['reason'] == 'kind changed to server'
    certificate = certificate_at(root / 'issued' / 'box.crt')
    assert list(extension(certificate, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert [entry['reason'] for entry in load_state(root)['revoked']] == ['superseded']


def test_subject_alt_name_and_key_type_changes(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('vpn1', kind='server', subject_alt_names=['DNS:a.example.org'])])
    result = run_store(root, [client('vpn1', kind='server', subject_alt_names=['DNS:b.example.org', 'IP:192.0.2.7'])])
    assert result['outcomes']['vpn1']['reason'] == 'subject alt names changed'
    assert ca_lib.certificate_subject_alt_names(certificate_at(root / 'issued' / 'vpn1.crt')) == ['DNS:b.example.org', 'IP:192.0.2.7']
    old_key = read_bytes(root / 'private' / 'vpn1.key')
    result = run_store(root, [client('vpn1', kind='server', subject_alt_names=['DNS:b.example.org', 'IP:192.0.2.7'],
                                     key_type='rsa', rsa_key_size=2048)])
    assert result['outcomes']['vpn1']['reason'] == 'key type changed'
    assert read_bytes(root / 'private' / 'vpn1.key') != old_key
    new_key = key_at(root / 'private' / 'vpn1.key')
    assert isinstance(new_key, rsa.RSAPrivateKey) and new_key.key_size == 2048
    assert public_der(certificate_at(root / 'issued' / 'vpn1.crt').public_key()) == public_der(new_key.public_key())


def test_revocation_goes_into_state_and_crl_and_removes_the_files(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice'), client('bob')])
    bob_serial = load_state(root)['certificates']['bob']['serial']
    result = run_store(root, [client('alice')], revoke=['bob'], now=NOW + DAY)
    assert result['crl_reason'] == 'revoked certificates changed'
    state = load_state(root)
    assert state['certificates']['bob']['status'] == 'revoked'
    assert state['certificates']['bob']['revocation_date'] == '2026-06-02T12:00:00Z'
    assert state['crl_number'] == 2
    crl = x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))
    assert ca_lib.crl_serials(crl) == {bob_serial}
    assert ca_lib.crl_number(crl) == 2
    assert crl.get_revoked_certificate_by_serial_number(int(bob_serial, 16)).revocation_date_utc == NOW + DAY
    assert not (root / 'issued' / 'bob.crt').exists() and not (root / 'private' / 'bob.key').exists()
    stamps = tree_stamps(root)
    assert run_store(root, [client('alice')], revoke=['bob'], now=NOW + 2 * DAY)['changes'] == []
    assert tree_stamps(root) == stamps


def test_revoking_an_unknown_name_is_refused(tmp_path):
    store = X509Store(str(tmp_path / 'pki'), now=NOW)
    store.load()
    store.ensure_ca()
    with pytest.raises(X509CAError, match="^'ghost' was never issued$"):
        store.revoke('ghost')


def test_a_revoked_name_listed_again_gets_a_new_serial_and_a_new_matching_key(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('bob')])
    old_serial = load_state(root)['certificates']['bob']['serial']
    old_key = read_bytes(root / 'private' / 'bob.key')
    run_store(root, revoke=['bob'])
    assert not (root / 'private' / 'bob.key').exists()
    # Even a key file put back by hand is not used again for that name.
    (root / 'private' / 'bob.key').write_bytes(old_key)
    result = run_store(root, [client('bob')])
    outcome = result['outcomes']['bob']
    assert (outcome['action'], outcome['reason']) == ('reissued', 'certificate %s was revoked' % old_serial)
    certificate = certificate_at(root / 'issued' / 'bob.crt')
    new_key = read_bytes(root / 'private' / 'bob.key')
    assert ca_lib.serial_hex(certificate.serial_number) != old_serial and new_key != old_key
    assert public_der(certificate.public_key()) == public_der(serialization.load_pem_private_key(new_key, None).public_key())
    state = load_state(root)
    assert state['certificates']['bob']['status'] == 'valid' and state['certificates']['bob']['serial'] == outcome['serial']
    # The revoked serial stays in the CRL.
    assert ca_lib.crl_serials(x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))) == {old_serial}
    assert run_store(root, [client('bob')])['changes'] == []


def test_a_revoked_name_listed_again_with_the_same_csr_key_gets_a_warning(tmp_path):
    root = tmp_path / 'pki'
    key = ec_key()
    run_store(root, [client('bob', csr=make_csr(key))])
    run_store(root, revoke=['bob'])
    result = run_store(root, [client('bob', csr=make_csr(key))])
    assert result['outcomes']['bob']['action'] == 'reissued'
    assert result['store'].warnings == ['bob: the CSR has the key of the revoked certificate %s; make a new key and CSR on that host '
                                        'if the key may have been compromised' % result['store'].state['revoked'][0]['serial']]


def test_the_crl_is_signed_again_only_when_needed(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')])
    first = read_bytes(root / 'crl.pem')
    kept = run_store(root, [client('alice')], now=NOW + 89 * DAY)
    assert kept['crl_reason'] is None and read_bytes(root / 'crl.pem') == first
    renewed = run_store(root, [client('alice')], now=NOW + 91 * DAY)
    assert renewed['crl_reason'] == 'next update %s is near' % (NOW + 180 * DAY).strftime('%Y-%m-%d')
    crl = x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))
    assert ca_lib.crl_number(crl) == 2 and load_state(root)['crl_number'] == 2
    assert crl.last_update_utc == NOW + 91 * DAY and crl.next_update_utc == NOW + 271 * DAY
    invalid = root / 'crl.pem'
    invalid.write_text('not a crl\n')
    result = run_store(root, [client('alice')], now=NOW + 92 * DAY)
    assert result['crl_reason'] == 'not a valid CRL'
    assert ca_lib.crl_number(x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))) == 3
    os.remove(str(root / 'crl.pem'))
    assert run_store(root, [client('alice')], now=NOW + 93 * DAY)['crl_reason'] == 'missing'
    assert ca_lib.crl_number(x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))) == 4


def test_a_lost_state_file_is_rebuilt_without_reissuing_or_losing_revocations(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice'), client('bob')])
    run_store(root, [client('alice')], revoke=['bob'])
    before = load_state(root)
    alice_certificate = read_bytes(root / 'issued' / 'alice.crt')
    os.remove(str(root / 'state.json'))
    result = run_store(root, [client('alice')])
    assert result['outcomes']['alice']['action'] == 'kept'
    assert read_bytes(root / 'issued' / 'alice.crt') == alice_certificate
    after = load_state(root)
    assert [entry['serial'] for entry in after['revoked']] == [before['certificates']['bob']['serial']]
    assert after['crl_number'] == before['crl_number']
    assert after['certificates']['alice']['serial'] == before['certificates']['alice']['serial']


def test_a_broken_state_file_or_half_a_ca_is_refused(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')])
    (root / 'state.json').write_text('{broken')
    with pytest.raises(X509CAError, match='state.json is not valid JSON'):
        run_store(root, [client('alice')])
    os.remove(str(root / 'state.json'))
    os.remove(str(root / 'ca.key'))
    with pytest.raises(X509CAError) as excinfo:
        run_store(root, [client('alice')])
    assert str(excinfo.value) == ('%s holds ca.crt but no ca.key; refusing to make a new CA over it (restore ca.key, or remove ca.crt '
                                  'to start a new CA)' % root)


def test_damaged_files_are_replaced(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice'), client('bob')])
    (root / 'private' / 'alice.key').write_text('garbage\n')
    (root / 'issued' / 'bob.crt').write_text('garbage\n')
    os.chmod(str(root / 'ca.key'), 0o644)
    result = run_store(root, [client('alice'), client('bob')])
    assert result['outcomes']['alice']['reason'] == 'new key'
    assert result['outcomes']['bob']['reason'] == 'certificate file is not a valid certificate'
    assert ('ca.key', 'mode') in result['changes'] and mode_of(root / 'ca.key') == 0o600
    alice = certificate_at(root / 'issued' / 'alice.crt')
    assert public_der(alice.public_key()) == public_der(key_at(root / 'private' / 'alice.key').public_key())


def test_a_certificate_from_another_ca_is_replaced(tmp_path, other_ca_pair):
    root = tmp_path / 'pki'
    key = ec_key()
    run_store(root, [client('vpn1', csr=make_csr(key))])
    foreign = issue(other_ca_pair, public_key=key.public_key(), name='vpn1')
    (root / 'issued' / 'vpn1.crt').write_bytes(foreign.public_bytes(serialization.Encoding.PEM))
    result = run_store(root, [client('vpn1', csr=make_csr(key))])
    assert result['outcomes']['vpn1']['reason'] == 'issued by another CA'
    assert ca_lib.is_signed_by(certificate_at(root / 'issued' / 'vpn1.crt'), certificate_at(root / 'ca.crt'))


def test_an_unchanged_rerun_neither_loads_keys_nor_checks_signatures(tmp_path, monkeypatch):
    root = tmp_path / 'pki'
    specs = [client('c%02d' % index) for index in range(20)] + [client('vpn1', kind='server', csr=make_csr(ec_key()))]
    run_store(root, specs)
    calls = []
    real_load_private_key = ca_lib.load_private_key
    monkeypatch.setattr(ca_lib, 'load_private_key', lambda *args: calls.append('key') or real_load_private_key(*args))
    real_load_certificate = ca_lib.load_certificate
    monkeypatch.setattr(ca_lib, 'load_certificate', lambda *args: calls.append('certificate') or real_load_certificate(*args))
    real_load_csr = ca_lib.load_csr
    monkeypatch.setattr(ca_lib, 'load_csr', lambda data, verify=True: calls.append('csr verify=%s' % verify) or real_load_csr(data, verify))
    real_is_signed_by = ca_lib.is_signed_by
    monkeypatch.setattr(ca_lib, 'is_signed_by', lambda *args: calls.append('signature') or real_is_signed_by(*args))
    result = run_store(root, specs)
    assert result['changes'] == []
    # The CA (to be ready to sign) and the CRL's signature; the CSR is parsed but its signature not checked again.
    assert sorted(calls) == ['certificate', 'csr verify=False', 'key', 'signature']


def test_error_messages_hold_no_key_material(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')])
    (root / 'ca.key').write_bytes(private_pem(ec_key()))
    with pytest.raises(X509CAError) as excinfo:
        run_store(root, [client('alice')])
    assert str(excinfo.value) == 'ca.crt and ca.key in %s: the private key does not match the certificate' % root
    assert_no_secret(str(excinfo.value), root)


def test_openssl_checks_the_purpose_of_each_kind(tmp_path):
    assert os.path.exists(OPENSSL), 'this test needs %s' % OPENSSL
    root = tmp_path / 'pki'
    # openssl checks the CRL's dates against the real clock.
    run_store(root, [client('alice'), client('bob'), client('vpn1', kind='server', csr=make_csr(ec_key()))], now=ca_lib.utc_now())

    def verify(certificate_path, purpose):
        return subprocess.run([OPENSSL, 'verify', '-CAfile', str(root / 'ca.crt'), '-crl_check', '-CRLfile', str(root / 'crl.pem'),
                               '-purpose', purpose, str(certificate_path)], capture_output=True, text=True, check=False)

    assert verify(root / 'issued' / 'alice.crt', 'sslclient').returncode == 0
    assert verify(root / 'issued' / 'vpn1.crt', 'sslserver').returncode == 0
    # A client certificate is no server certificate and the other way round.
    assert verify(root / 'issued' / 'alice.crt', 'sslserver').returncode != 0
    assert verify(root / 'issued' / 'vpn1.crt', 'sslclient').returncode != 0


def test_openssl_refuses_a_revoked_certificate(tmp_path):
    assert os.path.exists(OPENSSL), 'this test needs %s' % OPENSSL
    root = tmp_path / 'pki'
    now = ca_lib.utc_now()
    run_store(root, [client('alice'), client('bob')], now=now)
    bob = read_bytes(root / 'issued' / 'bob.crt')
    run_store(root, [client('alice')], revoke=['bob'], now=now)
    kept = tmp_path / 'bob.crt'
    kept.write_bytes(bob)
    command = [OPENSSL, 'verify', '-CAfile', str(root / 'ca.crt'), '-crl_check', '-CRLfile', str(root / 'crl.pem')]
    valid = subprocess.run(command + [str(root / 'issued' / 'alice.crt')], capture_output=True, text=True, check=False)
    assert valid.returncode == 0 and valid.stdout.strip().endswith(': OK')
    revoked = subprocess.run(command + [str(kept)], capture_output=True, text=True, check=False)
    assert revoked.returncode != 0 and 'certificate revoked' in revoked.stdout + revoked.stderr
