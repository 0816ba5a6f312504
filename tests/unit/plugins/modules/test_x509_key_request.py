# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import hashlib
import json
import os
import pwd
import stat

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible.module_utils import basic

from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509
from ansible_collections.overlaynet.vpn.plugins.module_utils import _x509_key_request
from ansible_collections.overlaynet.vpn.plugins.modules import x509_key_request
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.x509_helpers import (
    NOT_AFTER_TEXT,
    assert_no_key_material,
    certificate_pem,
    ec_key,
    openssl_binary,
    pem_of,
    rsa_key,
    run_openssl,
    spki_der,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import call_main, patch_exits

CURRENT_USER = pwd.getpwuid(os.getuid()).pw_name
CURRENT_GROUP = grp.getgrgid(os.getgid()).gr_name
INVALID_MESSAGE = ('key file %s does not hold an unencrypted EC or RSA private key in PEM; refusing to replace it '
                   '(regenerate=invalid replaces it)')
NO_CERTIFICATE = dict(certificate_matches_key=False, certificate_not_after=None, certificate_sha256=None)


@pytest.fixture(autouse=True)
def warnings(monkeypatch):
    """The warnings the module gives (exit_json is replaced, so they are caught where they are made)."""
    patch_exits(monkeypatch)
    given = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning: given.append(warning))
    return given


@pytest.fixture
def key_path(tmp_path):
    return tmp_path / 'openvpn' / 'vpn1.key'


def run_ok(args, check_mode=False, diff=False):
    full = dict(common_name='vpn1')
    full.update(args)
    result = call_main(x509_key_request.main, full, check_mode=check_mode, diff=diff)
    assert 'failed' not in result
    return result


def run_fail(args, check_mode=False):
    full = dict(common_name='vpn1')
    full.update(args)
    return call_main(x509_key_request.main, full, check_mode=check_mode, fail=True)


def write(path, content, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    os.chmod(str(path), mode)


def file_mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def file_identity(path):
    info = os.stat(str(path))
    return (info.st_ino, info.st_mtime_ns, info.st_size, path.read_bytes())


def load_key(path):
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def assert_csr_for(result, private_key, common_name='vpn1'):
    request = x509.load_pem_x509_csr(result['csr'].encode('ascii'))
    assert request.is_signature_valid
    assert request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == common_name
    assert spki_der(request.public_key()) == spki_der(private_key.public_key())
    assert result['public_key_sha256'] == hashlib.sha256(spki_der(private_key.public_key())).hexdigest()


def assert_no_secret(result, *key_pems):
    assert_no_key_material(json.dumps(result), *key_pems)


def test_new_key_is_an_ec_secp384r1_pkcs8_file_with_mode_0600(key_path):
    result = run_ok({'path': str(key_path)})

    content = key_path.read_text()
    assert content.startswith('-----BEGIN PRIVATE KEY-----\n') and content.endswith('-----END PRIVATE KEY-----\n')
    private_key = load_key(key_path)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    assert private_key.curve.name == 'secp384r1'
    assert file_mode(key_path) == 0o600
    assert file_mode(key_path.parent) == 0o700
    assert result['changed'] is True
    assert result['generated'] is True
    assert result['action'] == 'created'
    assert result['key_type'] == 'ec'
    assert result['path'] == str(key_path)
    assert_csr_for(result, private_key)
    for name, value in NO_CERTIFICATE.items():
        assert result[name] == value
    assert_no_secret(result, content)
    # No temporary file is left behind next to the key.
    assert os.listdir(str(key_path.parent)) == ['vpn1.key']


@pytest.mark.parametrize('options, key_class, detail', [
    ({'ec_curve': 'secp256r1'}, ec.EllipticCurvePrivateKey, 'secp256r1'),
    ({'ec_curve': 'secp521r1', 'rsa_key_size': 2048}, ec.EllipticCurvePrivateKey, 'secp521r1'),
    ({'key_type': 'rsa', 'rsa_key_size': 2048}, rsa.RSAPrivateKey, 2048),
    ({'key_type': 'rsa'}, rsa.RSAPrivateKey, 3072),
])
def test_new_key_has_the_type_curve_and_size_asked_for(key_path, options, key_class, detail):
    args = {'path': str(key_path), 'common_name': 'client-7'}
    args.update(options)

    result = run_ok(args)

    private_key = load_key(key_path)
    assert isinstance(private_key, key_class)
    if key_class is rsa.RSAPrivateKey:
        assert private_key.key_size == detail
        assert result['key_type'] == 'rsa'
    else:
        assert private_key.curve.name == detail
        assert result['key_type'] == 'ec'
    assert_csr_for(result, private_key, 'client-7')
    assert_no_secret(result, key_path.read_text())


def test_rerun_keeps_the_key_untouched(key_path):
    first = run_ok({'path': str(key_path)})
    before = file_identity(key_path)

    second = run_ok({'path': str(key_path)})

    assert file_identity(key_path) == before
    assert second['changed'] is False
    assert second['generated'] is False
    assert second['action'] == 'none'
    assert second['public_key_sha256'] == first['public_key_sha256']
    assert_csr_for(second, load_key(key_path))


def test_rerun_with_another_common_name_is_no_change(key_path):
    run_ok({'path': str(key_path)})
    before = file_identity(key_path)

    result = run_ok({'path': str(key_path), 'common_name': 'vpn1.example.net'})

    assert result['changed'] is False
    assert file_identity(key_path) == before
    assert_csr_for(result, load_key(key_path), 'vpn1.example.net')


def test_check_mode_on_a_missing_file_writes_nothing(key_path):
    result = run_ok({'path': str(key_path), 'certificate_path': str(key_path.parent / 'vpn1.crt')}, check_mode=True)

    assert result['changed'] is True
    assert result['action'] == 'created'
    assert result['generated'] is False
    assert result['csr'] is None
    assert result['public_key_sha256'] is None
    assert result['key_type'] == 'ec'
    assert not key_path.parent.exists()


def test_check_mode_returns_the_csr_of_a_kept_key(key_path):
    private_key = ec_key('secp384r1')
    write(key_path, pem_of(private_key))
    before = file_identity(key_path)

    result = run_ok({'path': str(key_path)}, check_mode=True)

    assert result['changed'] is False
    assert result['action'] == 'none'
    assert_csr_for(result, private_key)
    assert file_identity(key_path) == before
    assert_no_secret(result, pem_of(private_key))


@pytest.mark.parametrize('check_mode', [False, True])
@pytest.mark.parametrize('content', [
    'not a key, but it might be something precious\n',
    '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n',
], ids=['text', 'truncated-key'])
def test_invalid_file_with_never_fails_and_keeps_the_file(key_path, check_mode, content):
    write(key_path, content)
    before = file_identity(key_path)

    result = run_fail({'path': str(key_path)}, check_mode=check_mode)

    assert result['msg'] == INVALID_MESSAGE % key_path
    assert 'precious' not in json.dumps(result) and 'MIGHAgEA' not in json.dumps(result)
    assert file_identity(key_path) == before


def test_encrypted_key_with_never_fails_without_showing_it(key_path):
    private_key = ec_key()
    encrypted = pem_of(private_key, passphrase=b'passphrase')
    write(key_path, encrypted)

    result = run_fail({'path': str(key_path)})

    assert result['msg'] == INVALID_MESSAGE % key_path
    assert_no_key_material(json.dumps(result), pem_of(private_key))
    for line in encrypted.strip().splitlines()[1:-1]:
        assert line not in json.dumps(result)
    assert key_path.read_text() == encrypted


def test_oversized_file_counts_as_invalid(key_path):
    content = pem_of(ec_key()) + '#' * (64 * 1024)
    write(key_path, content)

    assert run_fail({'path': str(key_path)})['msg'] == INVALID_MESSAGE % key_path
    assert run_ok({'path': str(key_path), 'regenerate': 'invalid'})['action'] == 'replaced'


def test_invalid_file_with_invalid_is_replaced(key_path):
    write(key_path, 'garbage\n', mode=0o644)

    result = run_ok({'path': str(key_path), 'regenerate': 'invalid'})

    private_key = load_key(key_path)
    assert file_mode(key_path) == 0o600
    assert result['changed'] is True
    assert result['generated'] is True
    assert result['action'] == 'replaced'
    assert_csr_for(result, private_key)
    assert_no_secret(result, key_path.read_text())


def test_valid_file_with_invalid_is_kept(key_path):
    private_key = ec_key('secp384r1')
    write(key_path, pem_of(private_key))
    before = file_identity(key_path)

    result = run_ok({'path': str(key_path), 'regenerate': 'invalid'})

    assert file_identity(key_path) == before
    assert result['changed'] is False
    assert result['action'] == 'none'
    assert_csr_for(result, private_key)


def test_always_writes_a_new_key_every_run(key_path):
    old_key = ec_key('secp384r1')
    write(key_path, pem_of(old_key))
    fingerprints = {hashlib.sha256(spki_der(old_key.public_key())).hexdigest()}

    for dummy in range(2):
        result = run_ok({'path': str(key_path), 'regenerate': 'always'})
        new_key = load_key(key_path)
        assert result['changed'] is True
        assert result['generated'] is True
        assert result['action'] == 'replaced'
        assert_csr_for(result, new_key)
        assert result['public_key_sha256'] not in fingerprints
        fingerprints.add(result['public_key_sha256'])
        assert file_mode(key_path) == 0o600
        assert_no_secret(result, pem_of(old_key), key_path.read_text())


def test_always_in_check_mode_changes_nothing(key_path):
    write(key_path, pem_of(ec_key()))
    before = file_identity(key_path)

    result = run_ok({'path': str(key_path), 'regenerate': 'always'}, check_mode=True)

    assert file_identity(key_path) == before
    assert result['changed'] is True
    assert result['action'] == 'replaced'
    assert result['generated'] is False
    assert result['csr'] is None
    assert result['public_key_sha256'] is None


@pytest.mark.parametrize('old_key, options, key_class, detail', [
    (lambda: rsa_key(2048), {}, ec.EllipticCurvePrivateKey, 'secp384r1'),
    (lambda: ec_key('secp256r1'), {}, ec.EllipticCurvePrivateKey, 'secp384r1'),
    (lambda: ec_key('secp384r1'), {'key_type': 'rsa', 'rsa_key_size': 2048}, rsa.RSAPrivateKey, 2048),
    (lambda: rsa_key(2048), {'key_type': 'rsa'}, rsa.RSAPrivateKey, 3072),
], ids=['rsa-to-ec', 'curve', 'ec-to-rsa', 'rsa-size'])
def test_type_changed_replaces_a_key_of_another_type(key_path, old_key, options, key_class, detail):
    old_pem = pem_of(old_key())
    write(key_path, old_pem)
    args = {'path': str(key_path), 'regenerate': 'type_changed'}
    args.update(options)

    result = run_ok(args)

    new_key = load_key(key_path)
    assert isinstance(new_key, key_class)
    assert (new_key.key_size if key_class is rsa.RSAPrivateKey else new_key.curve.name) == detail
    assert result['changed'] is True
    assert result['action'] == 'replaced'
    assert result['generated'] is True
    assert_csr_for(result, new_key)
    assert_no_secret(result, old_pem, key_path.read_text())

    again = run_ok(args)

    assert again['changed'] is False
    assert again['action'] == 'none'
    assert again['public_key_sha256'] == result['public_key_sha256']


def test_type_changed_keeps_a_key_of_the_type_asked_for(key_path):
    private_key = rsa_key(2048)
    write(key_path, pem_of(private_key))
    before = file_identity(key_path)

    result = run_ok({'path': str(key_path), 'regenerate': 'type_changed', 'key_type': 'rsa', 'rsa_key_size': 2048, 'ec_curve': 'secp521r1'})

    assert file_identity(key_path) == before
    assert result['changed'] is False
    assert result['key_type'] == 'rsa'
    assert_csr_for(result, private_key)


def test_type_changed_replaces_an_invalid_file(key_path):
    write(key_path, 'garbage\n')

    result = run_ok({'path': str(key_path), 'regenerate': 'type_changed'})

    assert result['action'] == 'replaced'
    assert load_key(key_path).curve.name == 'secp384r1'


@pytest.mark.parametrize('regenerate', ['never', 'invalid'])
def test_key_of_another_type_is_kept_with_a_warning(key_path, warnings, regenerate):
    private_key = rsa_key(2048)
    write(key_path, pem_of(private_key))
    before = file_identity(key_path)

    result = run_ok({'path': str(key_path), 'regenerate': regenerate})

    assert file_identity(key_path) == before
    assert result['changed'] is False
    assert result['action'] == 'none'
    assert result['key_type'] == 'rsa'
    assert_csr_for(result, private_key)
    assert warnings == ['key file %s holds an RSA 2048-bit key, not the EC secp384r1 key the options ask for; it is kept '
                        '(regenerate=type_changed replaces it)' % key_path]
    assert_no_key_material('\n'.join(warnings), pem_of(private_key))


def test_key_in_the_traditional_format_is_kept_as_it_is(key_path, warnings):
    private_key = ec_key('secp384r1')
    traditional = pem_of(private_key, serialization.PrivateFormat.TraditionalOpenSSL)
    write(key_path, traditional)

    result = run_ok({'path': str(key_path)})

    assert key_path.read_text() == traditional
    assert result['changed'] is False
    assert_csr_for(result, private_key)
    assert warnings == []
    assert_no_secret(result, traditional)


# certificate_path


def test_certificate_holding_the_key_matches(key_path):
    private_key = ec_key('secp384r1')
    write(key_path, pem_of(private_key))
    certificate_path = key_path.parent / 'vpn1.crt'
    write(certificate_path, certificate_pem(private_key.public_key()), mode=0o644)
    before = file_identity(certificate_path)

    result = run_ok({'path': str(key_path), 'certificate_path': str(certificate_path)})

    assert result['certificate_matches_key'] is True
    assert result['certificate_not_after'] == NOT_AFTER_TEXT
    assert result['certificate_sha256'] == hashlib.sha256(certificate_path.read_bytes()).hexdigest()
    assert result['changed'] is False
    assert file_identity(certificate_path) == before
    assert_no_secret(result, pem_of(private_key))


def test_certificate_of_another_key_does_not_match(key_path):
    write(key_path, pem_of(ec_key('secp384r1')))
    certificate_path = key_path.parent / 'vpn1.crt'
    write(certificate_path, certificate_pem(ec_key('secp384r1').public_key()), mode=0o644)

    result = run_ok({'path': str(key_path), 'certificate_path': str(certificate_path)})

    assert result['certificate_matches_key'] is False
    assert result['certificate_not_after'] == NOT_AFTER_TEXT
    assert result['certificate_sha256'] == hashlib.sha256(certificate_path.read_bytes()).hexdigest()


def test_missing_certificate_gives_no_match_and_nulls(key_path, warnings):
    write(key_path, pem_of(ec_key()))

    result = run_ok({'path': str(key_path), 'certificate_path': str(key_path.parent / 'missing.crt')})

    for name, value in NO_CERTIFICATE.items():
        assert result[name] == value
    assert warnings == []


def test_garbage_certificate_gives_no_match_and_nulls(key_path):
    write(key_path, pem_of(ec_key()))
    certificate_path = key_path.parent / 'vpn1.crt'
    write(certificate_path, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n')

    result = run_ok({'path': str(key_path), 'certificate_path': str(certificate_path)})

    for name, value in NO_CERTIFICATE.items():
        assert result[name] == value


def test_directory_as_certificate_path_is_reported_missing_with_a_warning(key_path, warnings):
    write(key_path, pem_of(ec_key()))

    result = run_ok({'path': str(key_path), 'certificate_path': str(key_path.parent)})

    for name, value in NO_CERTIFICATE.items():
        assert result[name] == value
    assert len(warnings) == 1 and warnings[0].startswith('cannot read certificate %s (' % key_path.parent)


def test_certificate_of_the_old_key_does_not_match_a_new_key(key_path):
    old_key = ec_key('secp384r1')
    write(key_path, pem_of(old_key))
    certificate_path = key_path.parent / 'vpn1.crt'
    write(certificate_path, certificate_pem(old_key.public_key()), mode=0o644)

    result = run_ok({'path': str(key_path), 'certificate_path': str(certificate_path), 'regenerate': 'always'})

    assert result['generated'] is True
    assert result['certificate_matches_key'] is False
    assert result['certificate_not_after'] == NOT_AFTER_TEXT


def test_certificate_in_check_mode_for_a_new_key(key_path):
    certificate_path = key_path.parent / 'vpn1.crt'
    write(certificate_path, certificate_pem(ec_key().public_key()), mode=0o644)

    result = run_ok({'path': str(key_path), 'certificate_path': str(certificate_path)}, check_mode=True)

    assert not key_path.exists()
    assert result['certificate_matches_key'] is False
    assert result['certificate_not_after'] == NOT_AFTER_TEXT
    assert result['certificate_sha256'] == hashlib.sha256(certificate_path.read_bytes()).hexdigest()


# state=absent


def test_absent_removes_the_key_file(key_path):
    write(key_path, pem_of(ec_key()))
    certificate_path = key_path.parent / 'vpn1.crt'
    write(certificate_path, 'certificate\n', mode=0o644)

    result = run_ok({'path': str(key_path), 'state': 'absent', 'certificate_path': str(certificate_path)})

    assert not key_path.exists()
    assert certificate_path.exists()
    assert result['changed'] is True
    assert result['action'] == 'removed'
    assert result['csr'] is None and result['public_key_sha256'] is None and result['key_type'] is None

    again = run_ok({'path': str(key_path), 'state': 'absent'})

    assert again['changed'] is False
    assert again['action'] == 'none'


def test_absent_removes_an_invalid_file_too(key_path):
    write(key_path, 'garbage\n')

    result = run_ok({'path': str(key_path), 'state': 'absent'})

    assert result['action'] == 'removed'
    assert not key_path.exists()


def test_absent_in_check_mode_keeps_the_file(key_path):
    write(key_path, pem_of(ec_key()))
    before = file_identity(key_path)

    result = run_ok({'path': str(key_path), 'state': 'absent'}, check_mode=True)

    assert file_identity(key_path) == before
    assert result['changed'] is True
    assert result['action'] == 'removed'


# owner, group, mode and diff


def test_owner_group_and_mode_of_a_kept_key_are_enforced(key_path):
    private_key = ec_key()
    write(key_path, pem_of(private_key), mode=0o644)
    args = {'path': str(key_path), 'owner': CURRENT_USER, 'group': CURRENT_GROUP}

    checked = run_ok(args, check_mode=True)

    assert checked['changed'] is True
    assert checked['action'] == 'none'
    assert file_mode(key_path) == 0o644

    result = run_ok(args)

    assert result['changed'] is True
    assert result['action'] == 'none'
    assert result['generated'] is False
    assert file_mode(key_path) == 0o600
    assert_csr_for(result, private_key)

    again = run_ok(args)

    assert again['changed'] is False


def test_mode_option_is_applied_to_a_new_key(key_path):
    run_ok({'path': str(key_path), 'mode': '0640', 'group': CURRENT_GROUP})

    assert file_mode(key_path) == 0o640
    assert run_ok({'path': str(key_path), 'mode': '0640', 'group': CURRENT_GROUP})['changed'] is False


def test_diff_shows_public_fingerprints_only(key_path):
    old_key = rsa_key(2048)
    old_pem = pem_of(old_key)
    write(key_path, old_pem)
    old_fingerprint = hashlib.sha256(spki_der(old_key.public_key())).hexdigest()

    result = run_ok({'path': str(key_path), 'regenerate': 'type_changed'}, diff=True)

    assert result['diff']['before'] == 'key: RSA 2048-bit key, public_key_sha256 %s\n' % old_fingerprint
    assert result['diff']['after'] == 'key: EC secp384r1 key, public_key_sha256 %s\n' % result['public_key_sha256']
    assert result['diff']['before_header'] == result['diff']['after_header'] == str(key_path)
    assert_no_secret(result, old_pem, key_path.read_text())


def test_diff_shows_the_mode_fixed_on_a_kept_key(key_path):
    private_key = ec_key('secp256r1')
    write(key_path, pem_of(private_key), mode=0o640)
    fingerprint = hashlib.sha256(spki_der(private_key.public_key())).hexdigest()

    result = run_ok({'path': str(key_path), 'ec_curve': 'secp256r1'}, diff=True)

    assert result['diff']['before'] == 'key: EC secp256r1 key, public_key_sha256 %s\nmode: 0640\n' % fingerprint
    assert result['diff']['after'] == 'key: EC secp256r1 key, public_key_sha256 %s\nmode: 0600\n' % fingerprint
    assert_no_secret(result, pem_of(private_key))


def test_diff_of_a_kept_key_is_empty(key_path):
    write(key_path, pem_of(ec_key()))

    result = run_ok({'path': str(key_path)}, diff=True)

    assert result['diff']['before'] == result['diff']['after']


def test_diff_in_check_mode_for_a_new_key(key_path):
    write(key_path, 'garbage\n')

    result = run_ok({'path': str(key_path), 'regenerate': 'invalid', 'key_type': 'rsa'}, check_mode=True, diff=True)

    assert result['diff']['before'] == 'key: (file does not hold an unencrypted EC or RSA private key in PEM)\n'
    assert result['diff']['after'] == 'key: RSA 3072-bit key (new key, generated when not in check mode)\n'
    assert key_path.read_text() == 'garbage\n'


def test_diff_of_absent(key_path):
    result = run_ok({'path': str(key_path), 'state': 'absent'}, diff=True)

    assert result['diff']['before'] == result['diff']['after'] == 'key: (absent)\n'


# refusals


def test_directory_as_path_fails(tmp_path):
    result = run_fail({'path': str(tmp_path)})

    assert result['msg'] == 'path %s is a directory, not a key file' % tmp_path


@pytest.mark.parametrize('common_name', ['', 'x' * 65])
def test_common_name_x509_cannot_carry_fails_before_a_key_is_made(key_path, common_name):
    result = run_fail({'path': str(key_path), 'common_name': common_name})

    assert result['msg'].startswith('common_name must be')
    assert not key_path.parent.exists()


def test_missing_cryptography_names_the_debian_package(key_path, monkeypatch):
    monkeypatch.setattr(_x509, 'HAS_CRYPTOGRAPHY', False)
    monkeypatch.setattr(_x509, 'CRYPTOGRAPHY_IMPORT_ERROR', 'Traceback: ImportError')

    result = run_fail({'path': str(key_path)})

    assert 'Failed to import the required Python library (cryptography)' in result['msg']
    assert 'python3-cryptography' in result['msg']
    assert result['exception'] == 'Traceback: ImportError'
    assert not key_path.parent.exists()


def test_unwritable_directory_fails_without_key_material(tmp_path, monkeypatch):
    def refuse(path, text, mode=0o600):
        raise OSError(13, 'Permission denied')

    monkeypatch.setattr(_x509_key_request, 'write_private_file', refuse)
    key_path = tmp_path / 'vpn1.key'

    result = run_fail({'path': str(key_path)})

    assert result['msg'] == 'cannot write key file %s: Permission denied' % key_path
    assert not key_path.exists()


# Interoperability with the real openssl binary. The set-up installs it: its absence is a failure.


@pytest.mark.parametrize('options', [{}, {'key_type': 'rsa', 'rsa_key_size': 2048}], ids=['ec', 'rsa'])
def test_openssl_verifies_the_csr_and_reads_the_key_file(key_path, options):
    openssl = openssl_binary()
    args = {'path': str(key_path)}
    args.update(options)
    result = run_ok(args)
    csr_path = key_path.parent / 'vpn1.csr'
    csr_path.write_text(result['csr'])

    verified = run_openssl(openssl, 'req', '-in', str(csr_path), '-noout', '-verify', '-subject', '-nameopt', 'RFC2253')

    assert verified.returncode == 0, verified.stderr
    # OpenSSL 3.0 exits 0 also when the signature does not verify: only its message tells.
    assert b'verify OK' in verified.stdout + verified.stderr
    assert b'verify failure' not in verified.stdout + verified.stderr
    assert b'CN=vpn1' in verified.stdout

    read = run_openssl(openssl, 'pkey', '-in', str(key_path), '-noout')
    assert read.returncode == 0, read.stderr
    public_der = run_openssl(openssl, 'pkey', '-in', str(key_path), '-pubout', '-outform', 'DER')
    assert hashlib.sha256(public_der.stdout).hexdigest() == result['public_key_sha256']
