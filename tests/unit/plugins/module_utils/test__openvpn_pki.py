# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os
import stat
import select
import socket
import subprocess
import time

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509 as x509_lib
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_pki import OpenVPNPKIError, run
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_tls_crypt_v2 import client_key_belongs_to, server_key_from_pem
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import (
    NOW,
    OPENVPN,
    assert_no_secret,
    ec_key,
    make_csr,
    mode_of,
    pem_of,
    spki_der,
    tampered_csr,
    tree_stamps,
)

DAY = datetime.timedelta(days=1)


def params(root, certificates=(), **options):
    result = dict(path=str(root), certificates=[dict(entry) if isinstance(entry, dict) else dict(name=entry) for entry in certificates])
    result.update(options)
    return result


def read_text(path):
    with open(str(path)) as handle:
        return handle.read()


def load_state(root):
    return json.loads(read_text(root / 'state.json'))


def certificate_at(path):
    return x509.load_pem_x509_certificate(read_text(path).encode('ascii'))


def crl_at(path):
    return x509.load_pem_x509_crl(read_text(path).encode('ascii'))


def server_key(root):
    return server_key_from_pem(read_text(root / 'tls-crypt-v2' / 'server.key'))


def problems_of(options, root):
    with pytest.raises(OpenVPNPKIError) as excinfo:
        run(params(root, **options), now=NOW)
    assert str(excinfo.value) == '; '.join(excinfo.value.problems)
    return excinfo.value.problems


# Checking the options

def test_every_option_problem_is_reported_at_once_naming_option_and_value(tmp_path):
    options = dict(
        certificates=[dict(name='alice'), dict(name='bad name'), dict(name='alice'), dict(name='short', validity_days=20),
                      dict(name='zero', validity_days=0), dict(name='vpn1', kind='server', subject_alt_names=['DNS:ok.example.org', 'vpn1']),
                      dict(name='carol')],
        revoke=['carol', '../x', 'dave', 'dave'],
        renew_before_days=30,
        crl_validity_days=90,
        crl_renew_before_days=90,
        ca=dict(validity_days=-1),
    )
    assert problems_of(options, tmp_path / 'pki') == [
        'ca.validity_days must be greater than 0, got -1',
        'crl_renew_before_days (90) must be less than crl_validity_days (90), or the CRL would be signed again on every run',
        "certificates[1].name: 'bad name' is not a valid name (1 to 64 letters, digits, \".\", \"_\" or \"-\", not starting with \".\" or \"-\")",
        "certificates[2].name: 'alice' is given twice (also certificates[0])",
        "certificates[3].validity_days (20) of 'short' must be greater than renew_before_days (30), or the certificate would be renewed "
        "on every run",
        'certificates[4].validity_days must be greater than 0, got 0',
        "certificates[5].subject_alt_names of 'vpn1': 'vpn1' is not DNS:<name> or IP:<address>",
        "revoke[0]: 'carol' is also in certificates[6]; a name is either issued or revoked",
        "revoke[1]: '../x' is not a valid name (1 to 64 letters, digits, \".\", \"_\" or \"-\", not starting with \".\" or \"-\")",
        "revoke[3]: 'dave' is given twice",
    ]
    assert not (tmp_path / 'pki').exists()


@pytest.mark.parametrize('option', ['renew_before_days', 'crl_validity_days', 'crl_renew_before_days'])
def test_days_must_be_positive(tmp_path, option):
    assert '%s must be greater than 0, got 0' % option in problems_of({option: 0}, tmp_path / 'pki')


def test_a_server_without_subject_alt_names_is_allowed(tmp_path):
    result = run(params(tmp_path / 'pki', [dict(name='vpn1', kind='server')]), now=NOW)
    assert result['certificates']['vpn1']['action'] == 'issued'


def test_bad_csrs_and_unknown_revocations_are_refused_before_anything_is_written(tmp_path):
    key = ec_key()
    options = dict(certificates=[dict(name='good', csr=make_csr(ec_key())), dict(name='forged', csr=tampered_csr(key)),
                                 dict(name='garbage', csr='-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')],
                   revoke=['ghost'])
    root = tmp_path / 'pki'
    assert problems_of(options, root) == [
        "certificates[1].csr of 'forged': the signature of the certificate signing request does not verify",
        "certificates[2].csr of 'garbage': not a PEM certificate signing request",
        "revoke[0]: 'ghost' was never issued by the CA in %s, so there is nothing to revoke" % root,
    ]
    assert not root.exists()


# Issuing, keeping, revoking

def test_crls_signed_ahead_are_returned_with_the_last_day_they_cover(tmp_path):
    root = tmp_path / 'pki'
    result = run(dict(params(root, ['alice']), crl_signed_ahead=3), now=NOW)
    assert result['crl_ahead_path'] == str(root / 'crl-ahead.pem') and str(root / 'crl-ahead.pem') in result['changed_paths']
    # 180 days for the CRL, then 3 x (180 - 90) days.
    assert result['crl_next_update'] == '2026-11-28T12:00:00Z' and result['crl_covered_until'] == '2027-08-25T12:00:00Z'
    again = run(dict(params(root, ['alice']), crl_signed_ahead=3), now=NOW)
    assert again['changed'] is False and again['crl_covered_until'] == result['crl_covered_until']
    none = run(params(root, ['alice']), now=NOW)
    assert none['changed_paths'] == [str(root / 'crl-ahead.pem')] and not (root / 'crl-ahead.pem').exists()
    assert none['crl_ahead_path'] is None and none['crl_covered_until'] == none['crl_next_update']


@pytest.mark.parametrize('count', [-1, 21])
def test_crl_signed_ahead_out_of_range_is_refused(tmp_path, count):
    with pytest.raises(OpenVPNPKIError) as caught:
        run(dict(params(tmp_path / 'pki', ['alice']), crl_signed_ahead=count), now=NOW)
    assert 'crl_signed_ahead must be between 0 and 20, got %d' % count in str(caught.value)


def test_a_first_run_makes_the_whole_pki_and_returns_public_material_only(tmp_path):
    root = tmp_path / 'pki'
    vpn1_key = ec_key()
    result = run(params(root, [dict(name='vpn1', kind='server', csr=make_csr(vpn1_key), subject_alt_names=['DNS:vpn1.example.org']),
                               'alice']), now=NOW)
    assert result['changed'] is True
    assert result['ca_path'] == str(root / 'ca.crt') and result['ca_certificate'] == read_text(root / 'ca.crt')
    assert result['crl_path'] == str(root / 'crl.pem') and result['crl_next_update'] == '2026-11-28T12:00:00Z'
    assert result['tls_crypt_v2_server_key_path'] == str(root / 'tls-crypt-v2' / 'server.key')
    assert result['revoked'] == []
    vpn1, alice = result['certificates']['vpn1'], result['certificates']['alice']
    assert vpn1 == dict(kind='server', serial=load_state(root)['certificates']['vpn1']['serial'], not_after='2028-09-03T12:00:00Z',
                        certificate=read_text(root / 'issued' / 'vpn1.crt'), certificate_path=str(root / 'issued' / 'vpn1.crt'),
                        action='issued', reason='new')
    assert alice['private_key_path'] == str(root / 'private' / 'alice.key')
    assert alice['tls_crypt_v2_key_path'] == str(root / 'tls-crypt-v2' / 'clients' / 'alice.key')
    assert spki_der(certificate_at(root / 'issued' / 'vpn1.crt').public_key()) == spki_der(vpn1_key.public_key())
    assert result['changed_paths'] == [str(root / relative) for relative in (
        'ca.key', 'ca.crt', 'private/alice.key', 'issued/vpn1.crt', 'issued/alice.crt', 'crl.pem', 'tls-crypt-v2/server.key',
        'tls-crypt-v2/clients/alice.key', 'state.json')]
    for relative, mode in (('.', 0o700), ('tls-crypt-v2', 0o700), ('tls-crypt-v2/clients', 0o700), ('tls-crypt-v2/server.key', 0o600),
                           ('tls-crypt-v2/clients/alice.key', 0o600), ('issued/vpn1.crt', 0o644), ('private/alice.key', 0o600)):
        assert mode_of(root / relative) == mode, relative
    assert_no_secret(result, root, pem_of(vpn1_key))


def test_tls_crypt_v2_client_keys_carry_the_client_name(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice', 'bob', dict(name='vpn1', kind='server')]), now=NOW)
    key = server_key(root)
    alice = read_text(root / 'tls-crypt-v2' / 'clients' / 'alice.key')
    assert client_key_belongs_to(key, alice, b'alice')
    assert not client_key_belongs_to(key, alice, b'bob')
    assert client_key_belongs_to(key, read_text(root / 'tls-crypt-v2' / 'clients' / 'bob.key'), b'bob')
    assert sorted(os.listdir(str(root / 'tls-crypt-v2' / 'clients'))) == ['alice.key', 'bob.key']


def test_a_second_run_changes_nothing_and_touches_no_file(tmp_path):
    root = tmp_path / 'pki'
    options = params(root, [dict(name='vpn1', kind='server', csr=make_csr(ec_key()), subject_alt_names=['IP:192.0.2.1']), 'alice', 'bob'],
                     revoke=[])
    first = run(options, now=NOW)
    stamps = tree_stamps(root)
    second = run(options, now=NOW + 30 * DAY)
    assert second['changed'] is False and second['changed_paths'] == []
    assert set(entry['action'] for entry in second['certificates'].values()) == {'kept'}
    assert set(entry['reason'] for entry in second['certificates'].values()) == {None}
    assert tree_stamps(root) == stamps
    for name in ('vpn1', 'alice', 'bob'):
        assert second['certificates'][name]['serial'] == first['certificates'][name]['serial']
        assert second['certificates'][name]['certificate'] == first['certificates'][name]['certificate']
    assert second['crl_next_update'] == first['crl_next_update']


def test_revocation_puts_the_serial_in_the_crl_and_removes_the_client_files(tmp_path):
    root = tmp_path / 'pki'
    first = run(params(root, ['alice', 'bob']), now=NOW)
    bob_serial = first['certificates']['bob']['serial']
    result = run(params(root, ['alice'], revoke=['bob']), now=NOW + DAY)
    assert result['changed'] is True
    assert result['revoked'] == [dict(name='bob', serial=bob_serial, revocation_date='2026-06-02T12:00:00Z')]
    crl = crl_at(root / 'crl.pem')
    assert x509_lib.crl_serials(crl) == {bob_serial} and x509_lib.crl_number(crl) == 2
    assert result['crl_next_update'] == x509_lib.iso(NOW + DAY + 180 * DAY)
    assert load_state(root)['certificates']['bob']['status'] == 'revoked'
    for relative in ('issued/bob.crt', 'private/bob.key', 'tls-crypt-v2/clients/bob.key'):
        assert not (root / relative).exists(), relative
    assert (root / 'tls-crypt-v2' / 'clients' / 'alice.key').exists()
    assert str(root / 'tls-crypt-v2' / 'clients' / 'bob.key') in result['changed_paths']


def test_a_revoked_client_listed_again_gets_new_serial_key_and_tls_crypt_v2_key(tmp_path):
    root = tmp_path / 'pki'
    first = run(params(root, ['bob']), now=NOW)
    old_key = read_text(root / 'private' / 'bob.key')
    old_tls_crypt_v2_key = read_text(root / 'tls-crypt-v2' / 'clients' / 'bob.key')
    run(params(root, [], revoke=['bob']), now=NOW)
    again = run(params(root, ['bob']), now=NOW + DAY)
    bob = again['certificates']['bob']
    assert bob['action'] == 'reissued' and bob['reason'] == 'certificate %s was revoked' % first['certificates']['bob']['serial']
    assert bob['serial'] != first['certificates']['bob']['serial']
    new_key = read_text(root / 'private' / 'bob.key')
    assert new_key != old_key
    assert spki_der(serialization.load_pem_private_key(new_key.encode('ascii'), None).public_key()) == \
        spki_der(certificate_at(root / 'issued' / 'bob.crt').public_key())
    assert read_text(root / 'tls-crypt-v2' / 'clients' / 'bob.key') != old_tls_crypt_v2_key
    assert again['revoked'] == []
    assert x509_lib.crl_serials(crl_at(root / 'crl.pem')) == {first['certificates']['bob']['serial']}


def test_revoke_unlisted_revokes_clients_only(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice', 'bob', 'carol', dict(name='vpn1', kind='server'), dict(name='vpn2', kind='server')]), now=NOW)
    result = run(params(root, ['alice', dict(name='vpn1', kind='server')], revoke_unlisted=True), now=NOW)
    assert [entry['name'] for entry in result['revoked']] == ['bob', 'carol']
    state = load_state(root)
    assert state['certificates']['vpn2']['status'] == 'valid' and (root / 'issued' / 'vpn2.crt').exists()
    assert sorted(entry['reason'] for entry in state['revoked']) == ['cessation_of_operation'] * 2
    assert sorted(os.listdir(str(root / 'tls-crypt-v2' / 'clients'))) == ['alice.key']
    assert run(params(root, ['alice', dict(name='vpn1', kind='server')], revoke_unlisted=True), now=NOW)['changed'] is False


def test_tls_crypt_static_key_is_made_once_in_openvpns_format(tmp_path):
    root = tmp_path / 'pki'
    first = run(params(root, ['alice'], tls_crypt=True), now=NOW)
    key_file = root / 'tls-crypt.key'
    text = read_text(key_file)
    assert first['tls_crypt_key_path'] == str(key_file) and stat.S_IMODE(os.stat(str(key_file)).st_mode) == 0o600
    lines = text.strip().split('\n')
    assert lines[0] == '-----BEGIN OpenVPN Static key V1-----' and lines[-1] == '-----END OpenVPN Static key V1-----'
    assert len(bytes.fromhex(''.join(lines[1:-1]))) == 256
    assert run(params(root, ['alice'], tls_crypt=True), now=NOW)['changed'] is False and read_text(key_file) == text
    key_file.write_text('not a key\n')
    assert run(params(root, ['alice'], tls_crypt=True), now=NOW)['changed'] is True and read_text(key_file) != text
    assert run(params(root, ['alice']), now=NOW)['tls_crypt_key_path'] is None


def test_kept_names_are_not_revoked_as_unlisted_nor_issued(tmp_path):
    root = tmp_path / 'pki'
    first = run(params(root, ['alice', 'bob']), now=NOW)
    result = run(params(root, ['alice'], keep=['bob', 'dave'], revoke_unlisted=True), now=NOW + DAY)
    assert result['changed'] is False and result['revoked'] == [] and sorted(result['certificates']) == ['alice']
    assert load_state(root)['certificates']['bob']['serial'] == first['certificates']['bob']['serial']
    assert (root / 'tls-crypt-v2' / 'clients' / 'bob.key').exists() and not (root / 'issued' / 'dave.crt').exists()


def test_a_kept_name_is_neither_listed_nor_revoked(tmp_path):
    refused = problems_of(dict(certificates=['alice'], keep=['alice', 'bob', 'bob'], revoke=['bob']), tmp_path / 'pki')
    assert any("keep[0]: 'alice' is also in certificates[0]" in problem for problem in refused)
    assert any("keep[2]: 'bob' is given twice" in problem for problem in refused)
    assert any("revoke[0]: 'bob' is also in keep" in problem for problem in refused)


def test_without_revoke_unlisted_unlisted_names_stay(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice', 'bob']), now=NOW)
    result = run(params(root, ['alice']), now=NOW)
    assert result['changed'] is False and sorted(result['certificates']) == ['alice']
    assert (root / 'issued' / 'bob.crt').exists() and (root / 'tls-crypt-v2' / 'clients' / 'bob.key').exists()


def test_the_csr_path_keeps_the_key_off_the_controller(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice']), now=NOW)
    assert (root / 'private' / 'alice.key').exists()
    result = run(params(root, [dict(name='alice', csr=make_csr(ec_key()))]), now=NOW)
    assert result['certificates']['alice']['reason'] == 'new key'
    assert 'private_key_path' not in result['certificates']['alice']
    assert not (root / 'private' / 'alice.key').exists()
    # The tls-crypt-v2 client key does not depend on the certificate key.
    assert result['certificates']['alice']['tls_crypt_v2_key_path'] not in result['changed_paths']


def test_a_new_csr_for_the_same_key_changes_nothing(tmp_path):
    """Hosts send a fresh CSR on every run (ECDSA signatures differ each time): a converged PKI stays unwritten."""
    root = tmp_path / 'pki'
    key = ec_key()
    run(params(root, [dict(name='alice', csr=make_csr(key))]), now=NOW)
    stamps = tree_stamps(root)
    again = run(params(root, [dict(name='alice', csr=make_csr(key))]), now=NOW + DAY)
    assert again['changed'] is False and again['certificates']['alice']['action'] == 'kept'
    assert tree_stamps(root) == stamps


def test_a_client_that_becomes_a_server_loses_its_tls_crypt_v2_key(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['box']), now=NOW)
    result = run(params(root, [dict(name='box', kind='server')]), now=NOW)
    assert result['certificates']['box']['reason'] == 'kind changed to server'
    assert 'tls_crypt_v2_key_path' not in result['certificates']['box']
    assert not (root / 'tls-crypt-v2' / 'clients' / 'box.key').exists()


def test_tls_crypt_v2_keys_are_kept_replaced_when_foreign_and_off_on_request(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice', 'bob']), now=NOW)
    alice_key = read_text(root / 'tls-crypt-v2' / 'clients' / 'alice.key')
    # bob's file holds alice's key: wrapped by the right server key but with another name.
    (root / 'tls-crypt-v2' / 'clients' / 'bob.key').write_text(alice_key)
    result = run(params(root, ['alice', 'bob']), now=NOW)
    assert result['changed_paths'] == [str(root / 'tls-crypt-v2' / 'clients' / 'bob.key')]
    assert client_key_belongs_to(server_key(root), read_text(root / 'tls-crypt-v2' / 'clients' / 'bob.key'), b'bob')
    assert read_text(root / 'tls-crypt-v2' / 'clients' / 'alice.key') == alice_key

    plain = tmp_path / 'plain'
    result = run(params(plain, ['carol'], tls_crypt_v2=False), now=NOW)
    assert not (plain / 'tls-crypt-v2').exists()
    assert result['tls_crypt_v2_server_key_path'] is None and 'tls_crypt_v2_key_path' not in result['certificates']['carol']


def test_a_broken_tls_crypt_v2_server_key_is_refused_not_replaced(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice']), now=NOW)
    (root / 'tls-crypt-v2' / 'server.key').write_text('garbage\n')
    with pytest.raises(OpenVPNPKIError) as excinfo:
        run(params(root, ['alice']), now=NOW)
    assert str(excinfo.value) == ('%s does not hold a tls-crypt-v2 server key; remove it to make a new one (every client key is made '
                                  'again then)' % (root / 'tls-crypt-v2' / 'server.key'))


def test_a_new_server_key_makes_every_client_key_again(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice', 'bob']), now=NOW)
    os.remove(str(root / 'tls-crypt-v2' / 'server.key'))
    result = run(params(root, ['alice', 'bob']), now=NOW)
    assert sorted(result['changed_paths']) == sorted(str(root / relative) for relative in (
        'tls-crypt-v2/server.key', 'tls-crypt-v2/clients/alice.key', 'tls-crypt-v2/clients/bob.key'))
    for name in ('alice', 'bob'):
        assert client_key_belongs_to(server_key(root), read_text(root / 'tls-crypt-v2' / 'clients' / ('%s.key' % name)), name.encode())


# Renewal and the CRL through run()

def test_renewal_window_and_crl_window(tmp_path):
    root = tmp_path / 'pki'
    options = params(root, [dict(name='alice', validity_days=100)], crl_validity_days=60, crl_renew_before_days=20)
    first = run(options, now=NOW)
    crl_text = read_text(root / 'crl.pem')
    kept = run(options, now=NOW + 39 * DAY)
    assert kept['changed'] is False and read_text(root / 'crl.pem') == crl_text
    crl_renewed = run(options, now=NOW + 41 * DAY)
    assert crl_renewed['changed_paths'] == [str(root / 'crl.pem'), str(root / 'state.json')]
    assert crl_renewed['crl_next_update'] == x509_lib.iso(NOW + 101 * DAY)
    assert x509_lib.crl_number(crl_at(root / 'crl.pem')) == 2
    renewed = run(options, now=NOW + 71 * DAY)
    alice = renewed['certificates']['alice']
    assert (alice['action'], alice['reason']) == ('reissued', 'expires %s' % (NOW + 100 * DAY).strftime('%Y-%m-%d'))
    assert alice['serial'] != first['certificates']['alice']['serial']
    assert alice['not_after'] == x509_lib.iso(NOW + 171 * DAY)


# Check mode and diff

def test_check_mode_writes_nothing_and_says_what_would_happen(tmp_path):
    root = tmp_path / 'pki'
    result = run(params(root, ['alice', dict(name='vpn1', kind='server')]), check_mode=True, diff=True, now=NOW)
    assert not root.exists()
    assert result['changed'] is True and len(result['changed_paths']) == 10
    assert result['ca_certificate'] is None
    alice = result['certificates']['alice']
    assert (alice['action'], alice['serial'], alice['certificate']) == ('issued', None, None)
    assert alice['not_after'] == '2028-09-03T12:00:00Z'
    assert 'alice: client (new serial) valid until 2028-09-03T12:00:00Z, tls-crypt-v2 key' in result['diff']['after']
    assert result['diff']['before'] == 'ca sha256: (none)\ncrl number: (none)\ncrl serials: (none)\n'
    assert result['diff']['after'].startswith('ca sha256: (new CA)\ncrl number: 1\n')

    run(params(root, ['alice', 'bob']), now=NOW)
    stamps = tree_stamps(root)
    result = run(params(root, ['alice'], revoke=['bob']), check_mode=True, diff=True, now=NOW)
    assert tree_stamps(root) == stamps
    assert result['changed'] is True
    assert result['certificates']['alice']['action'] == 'kept'
    bob_serial = load_state(root)['certificates']['bob']['serial']
    assert result['revoked'] == [dict(name='bob', serial=bob_serial, revocation_date='2026-06-01T12:00:00Z')]
    assert sorted(result['changed_paths']) == sorted(str(root / relative) for relative in (
        'issued/bob.crt', 'private/bob.key', 'tls-crypt-v2/clients/bob.key', 'crl.pem', 'state.json'))
    assert 'bob: client %s valid until' % bob_serial in result['diff']['before']
    assert 'bob: client %s revoked on 2026-06-01T12:00:00Z\n' % bob_serial in result['diff']['after']
    assert 'crl serials: %s\n' % bob_serial in result['diff']['after']
    assert_no_secret(result, root)


# The CA

def write_ca(directory, passphrase=None, name='Imported CA'):
    key = ec_key()
    certificate = x509_lib.create_ca_certificate(key, name, 3650, NOW)
    directory.mkdir(exist_ok=True)
    (directory / 'ca.crt').write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / 'ca.key').write_text(pem_of(key, passphrase=passphrase))
    return certificate, key


def import_options(directory, passphrase=None):
    return dict(import_certificate_path=str(directory / 'ca.crt'), import_private_key_path=str(directory / 'ca.key'),
                import_private_key_passphrase=passphrase)


def test_an_imported_ca_issues_the_certificates(tmp_path):
    certificate, key = write_ca(tmp_path / 'import', b'secret passphrase')
    root = tmp_path / 'pki'
    options = params(root, ['alice'], ca=import_options(tmp_path / 'import', 'secret passphrase'))
    result = run(options, now=NOW)
    assert result['ca_certificate'] == certificate.public_bytes(serialization.Encoding.PEM).decode('ascii')
    assert x509_lib.is_signed_by(certificate_at(root / 'issued' / 'alice.crt'), certificate)
    stored = serialization.load_pem_private_key((root / 'ca.key').read_bytes(), None)
    assert spki_der(stored.public_key()) == spki_der(key.public_key())
    assert mode_of(root / 'ca.key') == 0o600
    assert run(options, now=NOW)['changed'] is False
    assert_no_secret(result, root, 'secret passphrase')


def test_importing_another_ca_reissues_everything_under_it(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice', 'bob']), now=NOW)
    run(params(root, ['alice'], revoke=['bob']), now=NOW)
    certificate, dummy = write_ca(tmp_path / 'import')
    result = run(params(root, ['alice'], ca=import_options(tmp_path / 'import')), now=NOW + DAY)
    assert result['certificates']['alice']['reason'] == 'issued by another CA'
    assert x509_lib.is_signed_by(certificate_at(root / 'issued' / 'alice.crt'), certificate)
    crl = crl_at(root / 'crl.pem')
    assert crl.is_signature_valid(certificate.public_key())
    # The old CA's revocations mean nothing to the new CA: its CRL starts empty.
    assert x509_lib.crl_serials(crl) == set()
    assert result['revoked'][0]['name'] == 'bob'


@pytest.mark.parametrize('case', ['mismatch', 'leaf', 'wrong passphrase', 'missing', 'one path'])
def test_bad_ca_imports_are_refused_clearly(tmp_path, case):
    certificate, key = write_ca(tmp_path / 'import', b'Tr0ub4dor&3')
    write_ca(tmp_path / 'other', b'Tr0ub4dor&3')
    ca = import_options(tmp_path / 'import', 'Tr0ub4dor&3')
    crt, key_path = ca['import_certificate_path'], ca['import_private_key_path']
    if case == 'mismatch':
        ca['import_private_key_path'] = key_path = str(tmp_path / 'other' / 'ca.key')
        expected = ('ca.import_certificate_path (%s) and ca.import_private_key_path (%s): the private key does not match the certificate'
                    % (crt, key_path))
    elif case == 'leaf':
        leaf_key = ec_key()
        leaf = x509_lib.issue_certificate(certificate, key, leaf_key.public_key(), 'leaf', 'client', [], 10, NOW, 5)
        (tmp_path / 'leaf.crt').write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        (tmp_path / 'leaf.key').write_text(pem_of(leaf_key, passphrase=b'Tr0ub4dor&3'))
        ca = import_options(tmp_path, 'Tr0ub4dor&3')
        ca.update(import_certificate_path=str(tmp_path / 'leaf.crt'), import_private_key_path=str(tmp_path / 'leaf.key'))
        expected = ('ca.import_certificate_path (%s) and ca.import_private_key_path (%s): the certificate is not a CA certificate '
                    '(no basicConstraints CA:TRUE)' % (tmp_path / 'leaf.crt', tmp_path / 'leaf.key'))
    elif case == 'wrong passphrase':
        ca['import_private_key_passphrase'] = 'correct horse battery'
        expected = 'ca.import_private_key_path: %s: the private key cannot be read: not a PEM private key, or a wrong passphrase' % key_path
    elif case == 'missing':
        ca['import_certificate_path'] = str(tmp_path / 'nowhere.crt')
        expected = 'ca.import_certificate_path: cannot read %s: No such file or directory' % (tmp_path / 'nowhere.crt')
    else:
        del ca['import_private_key_path']
        expected = ('ca.import_certificate_path and ca.import_private_key_path must be given together; '
                    'ca.import_private_key_passphrase is set but ca.import_private_key_path is not')
    with pytest.raises(OpenVPNPKIError) as excinfo:
        run(params(tmp_path / 'pki', ['alice'], ca=ca), now=NOW)
    assert str(excinfo.value) == expected
    assert not (tmp_path / 'pki').exists()
    assert_no_secret(str(excinfo.value), tmp_path, 'Tr0ub4dor&3', 'correct horse battery')


def test_changed_ca_options_never_replace_the_ca_but_warn(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice']), now=NOW)
    ca_text = read_text(root / 'ca.crt')
    result = run(params(root, ['alice'], ca=dict(common_name='Another name', key_type='rsa')), now=NOW)
    assert result['changed'] is False and read_text(root / 'ca.crt') == ca_text
    assert result['warnings'] == [
        "ca.common_name is 'Another name' but the existing CA in %s is 'overlaynet.vpn OpenVPN CA'; an existing CA is never replaced "
        "by changing the ca options" % root,
        'the ca key options ask for a rsa 3072 key but the existing CA in %s has a ec secp384r1 key; an existing CA is never replaced '
        'by changing the ca options' % root,
    ]


def test_a_ca_close_to_its_end_is_warned_about(tmp_path):
    root = tmp_path / 'pki'
    run(params(root, ['alice'], ca=dict(validity_days=1000)), now=NOW)
    result = run(params(root, ['alice'], ca=dict(validity_days=1000)), now=NOW + 980 * DAY)
    assert result['warnings'] == ['the CA certificate in %s expires on %s; plan a new CA before then' % (root, x509_lib.iso(NOW + 1000 * DAY))]


# Speed: what a large PKI costs

def test_five_hundred_clients_are_quick_to_issue_and_quicker_to_keep(tmp_path):
    root = tmp_path / 'pki'
    options = params(root, ['client%03d' % index for index in range(500)])
    started = time.monotonic()
    first = run(options)
    issued_in = time.monotonic() - started
    started = time.monotonic()
    second = run(options)
    kept_in = time.monotonic() - started
    assert len(first['changed_paths']) == 3 + 500 * 3 + 2 and second['changed'] is False
    # Generous bounds for a busy machine; typical: about 3 s (mostly fsync) and 0.2 s.
    assert issued_in < 20 and kept_in < 3, (issued_in, kept_in)


# Interoperability: a real OpenVPN handshake over loopback, without a tun device

def free_udp_ports(count):
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for dummy in range(count)]
    try:
        for handle in sockets:
            handle.bind(('127.0.0.1', 0))
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def read_until(process, markers, seconds):
    """What process printed until one of markers appeared or seconds passed."""
    output = b''
    descriptor = process.stdout.fileno()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, dummy, dummy = select.select([descriptor], [], [], 0.2)
        if ready:
            chunk = os.read(descriptor, 65536)
            if not chunk:
                break
            output += chunk
            if any(marker in output for marker in markers):
                break
    return output.decode('utf-8', 'replace')


def stop(*processes):
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def handshake(root, certificate_path, key_path, tls_crypt_v2_key_path, seconds=10):
    """(server log, client log) of one point-to-point TLS handshake between the server vpn1 and a client; the
    logs end when the server completed the handshake or refused the client."""
    server_port, client_port = free_udp_ports(2)
    common = ['--dev', 'null', '--proto', 'udp4', '--verb', '3', '--ca', str(root / 'ca.crt')]
    server = subprocess.Popen([OPENVPN] + common + [
        '--tls-server', '--local', '127.0.0.1', '--lport', str(server_port), '--remote', '127.0.0.1', str(client_port),
        '--cert', str(root / 'issued' / 'vpn1.crt'), '--key', str(root / 'private' / 'vpn1.key'), '--dh', 'none',
        '--crl-verify', str(root / 'crl.pem'), '--remote-cert-tls', 'client', '--tls-crypt-v2', str(root / 'tls-crypt-v2' / 'server.key'),
    ], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    client = subprocess.Popen([OPENVPN] + common + [
        '--tls-client', '--local', '127.0.0.1', '--lport', str(client_port), '--remote', '127.0.0.1', str(server_port),
        '--cert', str(certificate_path), '--key', str(key_path), '--remote-cert-tls', 'server', '--tls-crypt-v2', str(tls_crypt_v2_key_path),
        '--verify-x509-name', 'vpn1', 'name',
    ], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        server_log = read_until(server, [b'Initialization Sequence Completed', b'VERIFY ERROR'], seconds)
    finally:
        stop(client, server)
    return server_log, client.stdout.read().decode('utf-8', 'replace')


def test_openvpn_accepts_a_valid_client_and_refuses_a_revoked_one(tmp_path):
    assert os.path.exists(OPENVPN), 'this test needs %s' % OPENVPN
    root = tmp_path / 'pki'
    # openvpn checks the CRL's dates against the real clock.
    run(params(root, [dict(name='vpn1', kind='server'), 'alice', 'mallory']))
    kept = tmp_path / 'kept'
    kept.mkdir()
    for source, target in (('issued/mallory.crt', 'mallory.crt'), ('private/mallory.key', 'mallory.key'),
                           ('tls-crypt-v2/clients/mallory.key', 'mallory-tc2.key')):
        (kept / target).write_bytes((root / source).read_bytes())
    run(params(root, [dict(name='vpn1', kind='server'), 'alice'], revoke=['mallory']))

    server_log, client_log = handshake(root, root / 'issued' / 'alice.crt', root / 'private' / 'alice.key',
                                       root / 'tls-crypt-v2' / 'clients' / 'alice.key')
    assert 'Initialization Sequence Completed' in server_log, server_log
    assert 'Control Channel: using tls-crypt-v2 key' in server_log
    assert 'VERIFY EKU OK' in server_log and 'VERIFY OK: depth=0, CN=alice' in server_log
    assert 'VERIFY EKU OK' in client_log and 'VERIFY OK: depth=0, CN=vpn1' in client_log

    server_log, client_log = handshake(root, kept / 'mallory.crt', kept / 'mallory.key', kept / 'mallory-tc2.key')
    assert 'VERIFY ERROR: depth=0, error=certificate revoked: CN=mallory' in server_log, server_log
    assert 'Initialization Sequence Completed' not in server_log
