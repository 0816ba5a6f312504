# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The server's daily CRL check (roles/openvpn_server/files/openvpn-crl-check.py), against CRLs
signed here with cryptography and by the openssl binary."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import importlib.util
import os
import stat
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'openvpn_server', 'files', 'openvpn-crl-check.py')
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def load_script():
    spec = importlib.util.spec_from_file_location('openvpn_crl_check', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


crl_check = load_script()


def signed_crl(next_update, last_update=NOW - datetime.timedelta(days=1), revoked_serials=()):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'test CA')])
    builder = x509.CertificateRevocationListBuilder().issuer_name(name).last_update(last_update).next_update(next_update)
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(last_update).build())
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode('ascii')


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize('next_update', [
    datetime.datetime(2026, 11, 28, 6, 30, 5, tzinfo=datetime.timezone.utc),
    # From 2050 on, X.509 times are GeneralizedTime, not UTCTime.
    datetime.datetime(2051, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
])
def test_reads_the_next_update_in_both_time_encodings(next_update):
    assert crl_check.next_update(signed_crl(next_update, revoked_serials=range(1, 300))) == next_update


def test_a_crl_far_from_its_next_update_passes(tmp_path):
    path = write(tmp_path, 'crl.pem', signed_crl(NOW + datetime.timedelta(days=120)))
    code, message = crl_check.check(path, 45, NOW)
    assert code == crl_check.EXIT_OK
    assert message == '%s: next update 2026-09-29 12:00 UTC, in 120 days' % path


def test_a_crl_within_the_warning_days_fails_and_says_what_to_do(tmp_path):
    path = write(tmp_path, 'crl.pem', signed_crl(NOW + datetime.timedelta(days=10)))
    code, message = crl_check.check(path, 45, NOW)
    assert code == crl_check.EXIT_DUE
    assert 'in 10 days: run the play of overlaynet.vpn.openvpn_server' in message
    assert 'refuses every client' in message


def test_a_crl_past_its_next_update_fails(tmp_path):
    path = write(tmp_path, 'crl.pem', signed_crl(NOW - datetime.timedelta(hours=1), last_update=NOW - datetime.timedelta(days=9)))
    code, message = crl_check.check(path, 45, NOW)
    assert code == crl_check.EXIT_DUE
    assert 'has passed' in message


@pytest.mark.parametrize('text', ['', 'not a crl', '-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n',
                                  '-----BEGIN X509 CRL-----\nMAMCAQE=\n-----END X509 CRL-----\n'])
def test_what_is_not_a_crl_is_reported_as_unreadable(tmp_path, text):
    code, message = crl_check.check(write(tmp_path, 'crl.pem', text), 45, NOW)
    assert code == crl_check.EXIT_UNREADABLE
    assert 'not a readable CRL' in message


def test_a_missing_file_is_unreadable(tmp_path):
    assert crl_check.check(str(tmp_path / 'absent.pem'), 45, NOW)[0] == crl_check.EXIT_UNREADABLE


def test_main_returns_the_worst_result_and_prints_each_file(tmp_path, capsys):
    good = write(tmp_path, 'good.pem', signed_crl(NOW + datetime.timedelta(days=120)))
    due = write(tmp_path, 'due.pem', signed_crl(NOW + datetime.timedelta(days=3)))
    assert crl_check.main(['--warn-days', '45', good, due], now=NOW) == crl_check.EXIT_DUE
    output = capsys.readouterr()
    assert good in output.out and due in output.err


def test_main_refuses_a_bad_command_line(capsys):
    assert crl_check.main(['crl.pem']) == crl_check.EXIT_UNREADABLE
    assert 'usage' in capsys.readouterr().err


DAY = datetime.timedelta(days=1)


def ahead_file(tmp_path, *last_updates):
    """CRLs signed ahead, valid 180 days from each of last_updates; {last update: PEM text} and the file's path."""
    crls = dict((last_update, signed_crl(last_update + 180 * DAY, last_update=last_update)) for last_update in last_updates)
    return crls, write(tmp_path, 'crl-ahead.pem', ''.join(crls.values()))


def test_the_newest_crl_signed_ahead_whose_day_came_replaces_the_crl(tmp_path, capsys):
    crl = write(tmp_path, 'crl.pem', signed_crl(NOW + 5 * DAY, last_update=NOW - 175 * DAY))
    crls, ahead = ahead_file(tmp_path, NOW - 85 * DAY, NOW - DAY, NOW + 89 * DAY)
    assert crl_check.main(['--warn-days', '45', '--ahead', ahead, crl], now=NOW) == crl_check.EXIT_OK
    with open(crl) as handle:
        assert handle.read() == crls[NOW - DAY]
    assert stat.S_IMODE(os.stat(crl).st_mode) == 0o644
    output = capsys.readouterr().out
    assert 'put in place the CRL signed ahead for 2026-05-31 12:00 UTC' in output
    # The check counts the CRLs signed ahead: the last one is valid until 269 days from now.
    assert 'next update 2026-11-27 12:00 UTC, CRLs signed ahead until 2027-02-25 12:00 UTC, in 269 days' in output
    assert [name for name in os.listdir(str(tmp_path)) if name.startswith('.')] == []


def test_a_crl_signed_ahead_is_not_put_in_place_before_its_day_nor_over_a_newer_crl(tmp_path):
    newer = signed_crl(NOW + 170 * DAY, last_update=NOW - 10 * DAY)
    crl = write(tmp_path, 'crl.pem', newer)
    # The play signed a new CRL since: the one signed ahead for 20 days ago is older than it.
    crls, ahead = ahead_file(tmp_path, NOW - 20 * DAY, NOW + 80 * DAY)
    code, message, covered_until = crl_check.put_due_crl_in_place(crl, ahead, NOW)
    assert (code, message, covered_until) == (crl_check.EXIT_OK, None, NOW + 260 * DAY)
    with open(crl) as handle:
        assert handle.read() == newer


def test_an_unreadable_crl_is_replaced_by_the_crl_signed_ahead_whose_day_came(tmp_path):
    crl = write(tmp_path, 'crl.pem', 'damaged')
    crls, ahead = ahead_file(tmp_path, NOW - DAY)
    assert crl_check.main(['--warn-days', '45', '--ahead', ahead, crl], now=NOW) == crl_check.EXIT_OK
    with open(crl) as handle:
        assert handle.read() == crls[NOW - DAY]


def test_the_warning_comes_when_the_last_crl_signed_ahead_nears_its_next_update(tmp_path, capsys):
    crl = write(tmp_path, 'crl.pem', signed_crl(NOW + 30 * DAY, last_update=NOW - 150 * DAY))
    crls, ahead = ahead_file(tmp_path, NOW - 160 * DAY)
    assert crl_check.main(['--warn-days', '45', '--ahead', ahead, crl], now=NOW) == crl_check.EXIT_DUE
    assert 'in 30 days: run the play' in capsys.readouterr().err


@pytest.mark.parametrize('text', ['not a crl', '-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n'])
def test_unreadable_crls_signed_ahead_fail_and_leave_the_crl(tmp_path, text, capsys):
    original = signed_crl(NOW + 120 * DAY)
    crl = write(tmp_path, 'crl.pem', original)
    ahead = write(tmp_path, 'crl-ahead.pem', text)
    expected = crl_check.EXIT_UNREADABLE if 'BEGIN' in text else crl_check.EXIT_OK
    assert crl_check.main(['--warn-days', '45', '--ahead', ahead, crl], now=NOW) == expected
    with open(crl) as handle:
        assert handle.read() == original


def test_an_empty_file_of_crls_signed_ahead_changes_nothing(tmp_path):
    original = signed_crl(NOW + 120 * DAY)
    crl = write(tmp_path, 'crl.pem', original)
    ahead = write(tmp_path, 'crl-ahead.pem', '')
    assert crl_check.put_due_crl_in_place(crl, ahead, NOW) == (crl_check.EXIT_OK, None, None)


@pytest.mark.parametrize('argv', [['--warn-days', '45', '--ahead', 'a.pem'], ['--warn-days', '45', '--ahead', 'a.pem', 'b.pem', 'c.pem']])
def test_ahead_takes_exactly_one_crl_file(argv, capsys):
    assert crl_check.main(argv) == crl_check.EXIT_UNREADABLE
    assert 'usage' in capsys.readouterr().err


def test_reads_a_crl_the_openssl_binary_signed(tmp_path):
    """A CRL openssl made (its own DER encoding, version field present), run as the timer runs it."""
    key = tmp_path / 'ca.key'
    cert = tmp_path / 'ca.crt'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                    '-keyout', str(key), '-out', str(cert), '-subj', '/CN=openssl CA', '-days', '30'],
                   check=True, capture_output=True)
    (tmp_path / 'index.txt').write_text('')
    (tmp_path / 'crlnumber').write_text('01\n')
    (tmp_path / 'ca.cnf').write_text(
        '[ca]\ndefault_ca = test\n[test]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha256\ndefault_crl_days = 7\n'
        % (tmp_path / 'index.txt', tmp_path / 'crlnumber'))
    crl = tmp_path / 'crl.pem'
    subprocess.run(['openssl', 'ca', '-config', str(tmp_path / 'ca.cnf'), '-gencrl', '-keyfile', str(key), '-cert', str(cert),
                    '-out', str(crl)], check=True, capture_output=True)
    expected = subprocess.run(['openssl', 'crl', '-in', str(crl), '-noout', '-nextupdate', '-dateopt', 'iso_8601'],
                              check=True, capture_output=True, text=True).stdout.strip().split('=', 1)[1]
    due = crl_check.next_update(crl.read_text())
    assert due.strftime('%Y-%m-%d %H:%M:%SZ') == expected
    result = subprocess.run(['python3', SCRIPT, '--warn-days', '45', str(crl)], capture_output=True, text=True, check=False)
    assert result.returncode == crl_check.EXIT_DUE
    assert str(crl) in result.stderr
