# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import errno

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible.module_utils import basic

from ansible_collections.overlaynet.vpn.plugins.module_utils import _openvpn_pki
from ansible_collections.overlaynet.vpn.plugins.module_utils import _staged_directory
from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509 as x509_lib
from ansible_collections.overlaynet.vpn.plugins.modules import openvpn_pki
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, patch_exits
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import (
    NOW,
    assert_no_secret,
    ec_key,
    make_csr,
    mode_of,
    pem_of,
    tampered_csr,
    tree_stamps,
)


@pytest.fixture(autouse=True)
def exits(monkeypatch):
    patch_exits(monkeypatch)


@pytest.fixture
def warnings(monkeypatch):
    collected = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: collected.append(warning))
    return collected


@pytest.fixture
def clock(monkeypatch):
    """The module's clock, set to NOW and moved with clock.now = ..."""
    class Clock(object):
        now = NOW
    clock = Clock()
    monkeypatch.setattr(_openvpn_pki, 'utc_now', lambda: clock.now)
    return clock


def args(root, certificates, **options):
    result = dict(path=str(root), certificates=certificates)
    result.update(options)
    return result


CERTIFICATES = [dict(name='vpn1', kind='server', subject_alt_names=['DNS:vpn1.example.org', 'IP:192.0.2.10']), dict(name='alice')]


def test_the_module_makes_the_pki_and_returns_no_secret(tmp_path, clock):
    root = tmp_path / 'pki'
    result = call_main(openvpn_pki.main, args(root, CERTIFICATES))
    assert result['changed'] is True
    assert set(result) >= {'ca_certificate', 'ca_path', 'crl_path', 'crl_next_update', 'certificates', 'revoked',
                           'tls_crypt_v2_server_key_path', 'changed_paths'}
    assert 'diff' not in result and 'warnings' not in result
    vpn1, alice = result['certificates']['vpn1'], result['certificates']['alice']
    assert (vpn1['kind'], vpn1['action'], vpn1['reason']) == ('server', 'issued', 'new')
    assert 'tls_crypt_v2_key_path' not in vpn1 and alice['tls_crypt_v2_key_path'] == str(root / 'tls-crypt-v2' / 'clients' / 'alice.key')
    certificate = x509.load_pem_x509_certificate(vpn1['certificate'].encode('ascii'))
    assert x509_lib.serial_hex(certificate.serial_number) == vpn1['serial']
    assert x509_lib.certificate_subject_alt_names(certificate) == ['DNS:vpn1.example.org', 'IP:192.0.2.10']
    assert mode_of(root) == 0o700 and mode_of(root / 'ca.key') == 0o600 and mode_of(root / 'ca.crt') == 0o644
    assert_no_secret(result, root)


def test_a_second_run_is_unchanged_and_rewrites_no_file(tmp_path, clock):
    root = tmp_path / 'pki'
    call_main(openvpn_pki.main, args(root, CERTIFICATES))
    stamps = tree_stamps(root)
    clock.now = NOW + datetime.timedelta(days=10)
    result = call_main(openvpn_pki.main, args(root, CERTIFICATES))
    assert result['changed'] is False and result['changed_paths'] == []
    assert [entry['action'] for entry in result['certificates'].values()] == ['kept', 'kept']
    assert tree_stamps(root) == stamps


def test_check_mode_writes_nothing(tmp_path, clock):
    root = tmp_path / 'pki'
    result = call_main(openvpn_pki.main, args(root, CERTIFICATES), check_mode=True)
    assert result['changed'] is True and not root.exists()
    assert result['certificates']['alice']['action'] == 'issued' and result['certificates']['alice']['serial'] is None
    call_main(openvpn_pki.main, args(root, CERTIFICATES))
    stamps = tree_stamps(root)
    result = call_main(openvpn_pki.main, args(root, CERTIFICATES[:1], revoke=['alice']), check_mode=True)
    assert result['changed'] is True and [entry['name'] for entry in result['revoked']] == ['alice']
    assert tree_stamps(root) == stamps
    assert result['certificates']['vpn1']['action'] == 'kept'


def test_diff_shows_serials_and_status_but_no_key(tmp_path, clock):
    root = tmp_path / 'pki'
    first = call_main(openvpn_pki.main, args(root, CERTIFICATES))
    result = call_main(openvpn_pki.main, args(root, CERTIFICATES[:1], revoke=['alice']), diff=True)
    serial = first['certificates']['alice']['serial']
    assert 'alice: client %s valid until 2028-09-03T12:00:00Z, tls-crypt-v2 key\n' % serial in result['diff']['before']
    assert 'alice: client %s revoked on 2026-06-01T12:00:00Z\n' % serial in result['diff']['after']
    assert result['diff']['before_header'] == str(root)
    assert_no_secret(result, root)


def test_failures_name_the_option_and_hold_no_secret(tmp_path, clock):
    key = ec_key()
    result = call_main(openvpn_pki.main, args(tmp_path / 'pki', [dict(name='vpn1', kind='server', csr=tampered_csr(key)),
                                                                 dict(name='bad/name')]), fail=True)
    assert result['msg'] == ("certificates[1].name: 'bad/name' is not a valid name (1 to 64 letters, digits, \".\", \"_\" or \"-\", "
                             "not starting with \".\" or \"-\")")
    result = call_main(openvpn_pki.main, args(tmp_path / 'pki', [dict(name='vpn1', kind='server', csr=tampered_csr(key))]), fail=True)
    assert result['msg'] == "certificates[0].csr of 'vpn1': the signature of the certificate signing request does not verify"
    assert_no_secret(result, tmp_path, pem_of(key))
    assert not (tmp_path / 'pki').exists()


def test_an_encrypted_ca_import_with_its_passphrase(tmp_path, clock, warnings):
    key = ec_key()
    certificate = x509_lib.create_ca_certificate(key, 'Imported CA', 3650, NOW)
    (tmp_path / 'ca.crt').write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / 'ca.key').write_text(pem_of(key, passphrase=b'open sesame 42'))
    ca = dict(import_certificate_path=str(tmp_path / 'ca.crt'), import_private_key_path=str(tmp_path / 'ca.key'),
              import_private_key_passphrase='open sesame 42')
    root = tmp_path / 'pki'
    result = call_main(openvpn_pki.main, args(root, [dict(name='alice', csr=make_csr(ec_key()))], ca=ca))
    assert result['ca_certificate'] == (tmp_path / 'ca.crt').read_text()
    assert not (root / 'private').exists()
    assert_no_secret(result, tmp_path, 'open sesame 42')
    assert warnings == []
    mismatched = dict(ca, import_private_key_path=str(root / 'ca.key'), import_private_key_passphrase=None)
    (root / 'ca.key').write_text(pem_of(ec_key()))
    failure = call_main(openvpn_pki.main, args(root, [], ca=mismatched), fail=True)
    assert failure['msg'] == ('ca.import_certificate_path (%s) and ca.import_private_key_path (%s): the private key does not match '
                              'the certificate' % (tmp_path / 'ca.crt', root / 'ca.key'))
    assert_no_secret(failure, tmp_path, 'open sesame 42')


def test_only_the_passphrase_is_no_log(tmp_path, clock, monkeypatch):
    specs = []
    original_init = basic.AnsibleModule.__init__

    def capture(self, argument_spec, **kwargs):
        specs.append(argument_spec)
        original_init(self, argument_spec, **kwargs)
    monkeypatch.setattr(basic.AnsibleModule, '__init__', capture)
    call_main(openvpn_pki.main, args(tmp_path / 'pki', []), check_mode=True)

    def no_log_options(spec, prefix=''):
        found = {}
        for name, option in spec.items():
            if 'no_log' in option:
                found[prefix + name] = option['no_log']
            found.update(no_log_options(option.get('options') or {}, prefix + name + '.'))
        return found
    assert no_log_options(specs[0]) == {
        'ca.import_private_key_passphrase': True, 'ca.import_private_key_path': False, 'ca.key_type': False, 'ca.rsa_key_size': False,
        'certificates.key_type': False, 'certificates.rsa_key_size': False, 'tls_crypt_v2': False, 'tls_crypt': False}


def test_warnings_reach_the_module(tmp_path, clock, warnings):
    root = tmp_path / 'pki'
    call_main(openvpn_pki.main, args(root, CERTIFICATES))
    result = call_main(openvpn_pki.main, args(root, CERTIFICATES, ca=dict(common_name='Renamed CA')))
    assert result['changed'] is False
    assert warnings == ["ca.common_name is 'Renamed CA' but the existing CA in %s is 'overlaynet.vpn OpenVPN CA'; an existing CA is "
                        "never replaced by changing the ca options" % root]


def test_without_cryptography_the_module_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(openvpn_pki._x509, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setattr(openvpn_pki._x509, 'CRYPTOGRAPHY_IMPORT_ERROR', 'Traceback: No module named cryptography')
    result = call_main(openvpn_pki.main, args(tmp_path / 'pki', CERTIFICATES), fail=True)
    assert 'Failed to import the required Python library (cryptography)' in result['msg']
    assert result['exception'] == 'Traceback: No module named cryptography'
    assert not (tmp_path / 'pki').exists()


def test_a_write_failure_is_reported_with_the_path(tmp_path, clock, monkeypatch):
    root = tmp_path / 'pki'
    call_main(openvpn_pki.main, args(root, CERTIFICATES))

    def refuse(path, data, mode=0o600, sync=True):
        raise OSError(errno.EACCES, 'Permission denied', path)
    monkeypatch.setattr(_staged_directory, 'write_temporary_file', refuse)
    result = call_main(openvpn_pki.main, args(root, CERTIFICATES + [dict(name='bob')]), fail=True)
    assert result['msg'] == 'cannot write the PKI in %s: Permission denied (%s)' % (root, root / 'private' / 'bob.key')
    assert_no_secret(result, root)
