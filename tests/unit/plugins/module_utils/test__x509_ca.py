# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509 as x509_lib
from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509_ca as ca_lib
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import X509Error
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_ca import CertificateSpec, X509Store
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import (
    NOW,
    OPENSSL,
    assert_no_secret,
    ec_key,
    extension,
    make_csr,
    mode_of,
    pem_of,
    spki_der,
    tree_stamps,
)

DAY = datetime.timedelta(days=1)


@pytest.fixture(scope='module')
def other_ca_pair():
    key = x509_lib.new_private_key('ec', 'secp256r1')
    return x509_lib.create_ca_certificate(key, 'Other CA', 3650, NOW), key


# The store

def client(name, **options):
    return CertificateSpec(name, **options)


def run_store(path, specs=(), revoke=(), now=NOW, renew=30, crl_days=180, crl_renew=90, commit=True, revoke_reason='unspecified',
              crl_ahead=0):
    store = X509Store(str(path), now=now)
    store.load()
    store.ensure_ca(common_name_text='Store CA')
    store.adopt_unrecorded()
    outcomes = dict((spec.name, store.ensure_certificate(spec, renew)) for spec in specs)
    for name in revoke:
        store.revoke(name, revoke_reason)
    crl, crl_reason = store.ensure_crl(crl_days, crl_renew, crl_ahead)
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
    assert spki_der(alice.public_key()) == spki_der(key_at(root / 'private' / 'alice.key').public_key())
    assert x509_lib.is_signed_by(alice, certificate_at(root / 'ca.crt'))
    state = load_state(root)
    assert state['certificates']['alice']['serial'] == x509_lib.serial_hex(alice.serial_number)
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


def test_the_record_of_a_new_certificate_is_the_one_read_back_from_its_file(tmp_path):
    # A certificate issued in a run is recorded from what was put into it (its key, no SANs), not read back: the
    # record must be the same as the one made from the certificate file (the way a kept or adopted one is recorded).
    root = tmp_path / 'pki'
    specs = [client('alice'), client('bob', key_type='rsa', rsa_key_size=2048), client('carol', ec_curve='secp521r1'),
             client('vpn1', kind='server', csr=make_csr(ec_key()), subject_alt_names=['DNS:VPN1.example.org', 'IP:192.0.2.1']),
             client('vpn2', kind='server', subject_alt_names=['IP:2001:db8::1'])]
    result = run_store(root, specs)
    store = result['store']
    for name, record in load_state(root)['certificates'].items():
        data = read_bytes(root / 'issued' / ('%s.crt' % name))
        certificate = x509.load_pem_x509_certificate(data)
        assert store._record_for(certificate, data, record['kind'], record['private_key_sha256'], record['csr_sha256']) == record, name


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
    assert x509_lib.not_after(certificate) == NOW + 171 * DAY
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
    assert spki_der(certificate.public_key()) == spki_der(new_key.public_key())
    state = load_state(root)
    assert state['certificates']['vpn1']['serial'] == x509_lib.serial_hex(certificate.serial_number) != first_serial
    assert state['certificates']['vpn1']['status'] == 'valid'
    assert [(entry['serial'], entry['reason'], entry['name']) for entry in state['revoked']] == [(first_serial, 'superseded', 'vpn1')]
    crl = x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))
    assert x509_lib.crl_serials(crl) == {first_serial}


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
    assert x509_lib.certificate_subject_alt_names(certificate_at(root / 'issued' / 'vpn1.crt')) == ['DNS:b.example.org', 'IP:192.0.2.7']
    old_key = read_bytes(root / 'private' / 'vpn1.key')
    result = run_store(root, [client('vpn1', kind='server', subject_alt_names=['DNS:b.example.org', 'IP:192.0.2.7'],
                                     key_type='rsa', rsa_key_size=2048)])
    assert result['outcomes']['vpn1']['reason'] == 'key type changed'
    assert read_bytes(root / 'private' / 'vpn1.key') != old_key
    new_key = key_at(root / 'private' / 'vpn1.key')
    assert isinstance(new_key, rsa.RSAPrivateKey) and new_key.key_size == 2048
    assert spki_der(certificate_at(root / 'issued' / 'vpn1.crt').public_key()) == spki_der(new_key.public_key())


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
    assert x509_lib.crl_serials(crl) == {bob_serial}
    assert x509_lib.crl_number(crl) == 2
    assert crl.get_revoked_certificate_by_serial_number(int(bob_serial, 16)).revocation_date_utc == NOW + DAY
    assert not (root / 'issued' / 'bob.crt').exists() and not (root / 'private' / 'bob.key').exists()
    stamps = tree_stamps(root)
    assert run_store(root, [client('alice')], revoke=['bob'], now=NOW + 2 * DAY)['changes'] == []
    assert tree_stamps(root) == stamps


def test_revoking_an_unknown_name_is_refused(tmp_path):
    store = X509Store(str(tmp_path / 'pki'), now=NOW)
    store.load()
    store.ensure_ca()
    with pytest.raises(X509Error, match="^'ghost' was never issued$"):
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
    assert x509_lib.serial_hex(certificate.serial_number) != old_serial and new_key != old_key
    assert spki_der(certificate.public_key()) == spki_der(serialization.load_pem_private_key(new_key, None).public_key())
    state = load_state(root)
    assert state['certificates']['bob']['status'] == 'valid' and state['certificates']['bob']['serial'] == outcome['serial']
    # The revoked serial stays in the CRL.
    assert x509_lib.crl_serials(x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))) == {old_serial}
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
    assert x509_lib.crl_number(crl) == 2 and load_state(root)['crl_number'] == 2
    assert crl.last_update_utc == NOW + 91 * DAY and crl.next_update_utc == NOW + 271 * DAY
    invalid = root / 'crl.pem'
    invalid.write_text('not a crl\n')
    result = run_store(root, [client('alice')], now=NOW + 92 * DAY)
    assert result['crl_reason'] == 'not a valid CRL'
    assert x509_lib.crl_number(x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))) == 3
    os.remove(str(root / 'crl.pem'))
    assert run_store(root, [client('alice')], now=NOW + 93 * DAY)['crl_reason'] == 'missing'
    assert x509_lib.crl_number(x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))) == 4


def crls_ahead(root):
    return x509_lib.load_crls(read_bytes(root / 'crl-ahead.pem'))


def test_crls_signed_ahead_follow_the_crl_one_renewal_window_apart(tmp_path):
    root = tmp_path / 'pki'
    first = run_store(root, [client('alice'), client('bob')], crl_ahead=3)
    assert mode_of(root / 'crl-ahead.pem') == 0o644
    ahead = crls_ahead(root)
    # Each becomes valid the day a run would sign the CRL again (180 - 90 days after the one before it), with the same
    # validity, the same (empty) list, higher numbers, all signed by the CA.
    assert [crl.last_update_utc for crl in ahead] == [NOW + 90 * DAY, NOW + 180 * DAY, NOW + 270 * DAY]
    assert [crl.next_update_utc for crl in ahead] == [NOW + 270 * DAY, NOW + 360 * DAY, NOW + 450 * DAY]
    assert [x509_lib.crl_number(crl) for crl in ahead] == [2, 3, 4] and load_state(root)['crl_number'] == 4
    ca_certificate = first['store'].ca_certificate
    assert all(x509_lib.is_signed_by(crl, ca_certificate) and not x509_lib.crl_serials(crl) for crl in ahead)

    before = read_bytes(root / 'crl-ahead.pem')
    assert run_store(root, [client('alice'), client('bob')], now=NOW + 89 * DAY, crl_ahead=3)['changes'] == []
    assert read_bytes(root / 'crl-ahead.pem') == before

    revoked = run_store(root, [client('alice')], revoke=['bob'], now=NOW + 10 * DAY, crl_ahead=3)
    assert revoked['crl_reason'] == 'revoked certificates changed'
    bob_serial = load_state(root)['revoked'][0]['serial']
    ahead = crls_ahead(root)
    assert [crl.last_update_utc for crl in ahead] == [NOW + 100 * DAY, NOW + 190 * DAY, NOW + 280 * DAY]
    assert all(x509_lib.crl_serials(crl) == {bob_serial} for crl in ahead)
    assert [x509_lib.crl_number(crl) for crl in ahead] == [6, 7, 8]


@pytest.mark.parametrize('change, reason', [
    (dict(crl_ahead=2), 'number of CRLs signed ahead changed'),
    (dict(crl_ahead=3, crl_days=200), 'dates of the CRLs signed ahead changed'),
    (dict(crl_ahead=3, crl_renew=60), 'dates of the CRLs signed ahead changed'),
])
def test_crls_signed_ahead_that_no_longer_match_the_options_are_signed_again_with_the_crl(tmp_path, change, reason):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')], crl_ahead=3)
    result = run_store(root, [client('alice')], now=NOW + DAY, **change)
    assert result['crl_reason'] == reason
    assert len(crls_ahead(root)) == change['crl_ahead']
    crl = x509.load_pem_x509_crl(read_bytes(root / 'crl.pem'))
    assert crl.last_update_utc == NOW + DAY
    step = (change.get('crl_days', 180) - change.get('crl_renew', 90)) * DAY
    assert crls_ahead(root)[0].last_update_utc == NOW + DAY + step


@pytest.mark.parametrize('damage, reason', [
    (lambda path: os.remove(str(path)), 'no CRLs signed ahead'),
    (lambda path: path.write_text('not a crl\n'), 'CRLs signed ahead not valid'),
])
def test_missing_or_damaged_crls_signed_ahead_are_signed_again(tmp_path, damage, reason):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')], crl_ahead=2)
    damage(root / 'crl-ahead.pem')
    assert run_store(root, [client('alice')], now=NOW + DAY, crl_ahead=2)['crl_reason'] == reason
    assert len(crls_ahead(root)) == 2


def test_crls_signed_ahead_by_another_ca_are_signed_again(tmp_path, other_ca_pair):
    root = tmp_path / 'pki'
    first = run_store(root, [client('alice')], crl_ahead=1)
    crl = first['crl']
    other_certificate, other_key = other_ca_pair
    foreign = x509_lib.build_crl(other_certificate, other_key, [], 9, crl.last_update_utc + 90 * DAY, 180)
    (root / 'crl-ahead.pem').write_bytes(x509_lib.pem_bytes(foreign))
    assert run_store(root, [client('alice')], now=NOW + DAY, crl_ahead=1)['crl_reason'] == 'CRLs signed ahead differ from the CRL'


def test_no_crls_signed_ahead_removes_the_file_and_keeps_the_crl(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')], crl_ahead=2)
    crl = read_bytes(root / 'crl.pem')
    result = run_store(root, [client('alice')], now=NOW + DAY)
    assert result['crl_reason'] is None and [path for path, dummy in result['changes'] if 'crl' in path] == ['crl-ahead.pem']
    assert not (root / 'crl-ahead.pem').exists() and read_bytes(root / 'crl.pem') == crl


def test_openssl_accepts_each_crl_signed_ahead_only_from_its_day(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')], crl_ahead=1)
    (root / 'ahead.pem').write_bytes(read_bytes(root / 'crl-ahead.pem'))

    def verify(attime):
        return subprocess.run([OPENSSL, 'verify', '-attime', str(int(attime.timestamp())), '-CAfile', str(root / 'ca.crt'),
                               '-crl_check', '-CRLfile', str(root / 'ahead.pem'), str(root / 'issued' / 'alice.crt')],
                              capture_output=True, text=True, check=False)

    early = verify(NOW + 89 * DAY)
    assert early.returncode != 0 and 'CRL is not yet valid' in early.stdout + early.stderr
    assert verify(NOW + 91 * DAY).returncode == 0


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
    with pytest.raises(X509Error, match='state.json is not valid JSON'):
        run_store(root, [client('alice')])
    os.remove(str(root / 'state.json'))
    os.remove(str(root / 'ca.key'))
    with pytest.raises(X509Error) as excinfo:
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
    assert spki_der(alice.public_key()) == spki_der(key_at(root / 'private' / 'alice.key').public_key())


def test_a_certificate_from_another_ca_is_replaced(tmp_path, other_ca_pair):
    root = tmp_path / 'pki'
    key = ec_key()
    run_store(root, [client('vpn1', csr=make_csr(key))])
    foreign = x509_lib.issue_certificate(other_ca_pair[0], other_ca_pair[1], key.public_key(), 'vpn1', 'client', [], 825, NOW,
                                         x509_lib.random_serial())
    (root / 'issued' / 'vpn1.crt').write_bytes(foreign.public_bytes(serialization.Encoding.PEM))
    result = run_store(root, [client('vpn1', csr=make_csr(key))])
    assert result['outcomes']['vpn1']['reason'] == 'issued by another CA'
    assert x509_lib.is_signed_by(certificate_at(root / 'issued' / 'vpn1.crt'), certificate_at(root / 'ca.crt'))


def test_an_unchanged_rerun_neither_loads_keys_nor_checks_signatures(tmp_path, monkeypatch):
    root = tmp_path / 'pki'
    specs = [client('c%02d' % index) for index in range(20)] + [client('vpn1', kind='server', csr=make_csr(ec_key()))]
    run_store(root, specs)
    calls = []
    real_load_private_key = x509_lib.load_private_key
    real_load_certificate = x509_lib.load_certificate
    real_load_csr = x509_lib.load_csr
    real_is_signed_by = x509_lib.is_signed_by
    # The store calls them by the names it imports from _x509, the functions of _x509 by their own: count both.
    for library in (ca_lib, x509_lib):
        monkeypatch.setattr(library, 'load_private_key', lambda *args: calls.append('key') or real_load_private_key(*args))
        monkeypatch.setattr(library, 'load_certificate', lambda *args: calls.append('certificate') or real_load_certificate(*args))
        monkeypatch.setattr(library, 'load_csr', lambda data, verify=True: calls.append('csr verify=%s' % verify) or real_load_csr(data, verify))
        monkeypatch.setattr(library, 'is_signed_by', lambda *args: calls.append('signature') or real_is_signed_by(*args))
    result = run_store(root, specs)
    assert result['changes'] == []
    # The CA (to be ready to sign) and the CRL's signature; the CSR is parsed but its signature not checked again.
    assert sorted(calls) == ['certificate', 'csr verify=False', 'key', 'signature']


def test_error_messages_hold_no_key_material(tmp_path):
    root = tmp_path / 'pki'
    run_store(root, [client('alice')])
    (root / 'ca.key').write_text(pem_of(ec_key()))
    with pytest.raises(X509Error) as excinfo:
        run_store(root, [client('alice')])
    assert str(excinfo.value) == 'ca.crt and ca.key in %s: the private key does not match the certificate' % root
    assert_no_secret(str(excinfo.value), root)


def test_openssl_checks_the_purpose_of_each_kind(tmp_path):
    assert os.path.exists(OPENSSL), 'this test needs %s' % OPENSSL
    root = tmp_path / 'pki'
    # openssl checks the CRL's dates against the real clock.
    run_store(root, [client('alice'), client('bob'), client('vpn1', kind='server', csr=make_csr(ec_key()))], now=x509_lib.utc_now())

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
    now = x509_lib.utc_now()
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
