# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import shutil
import subprocess

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils import _openvpn_files as files
from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_plan import (
    client_passwords,
    client_plan,
    server_plan,
    tun_mtu_options,
    unmanaged_profiles,
)
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.openvpn_inputs import PASSWORDS, base_inventory, by_name

PKI = {'ca': 'CA\n', 'certificate': 'CERT\n', 'crl': 'CRL\n', 'v2': 'V2-SERVER-KEY\n', 'v1': 'V1-KEY\n'}


def plans():
    hostvars, groups = base_inventory()
    return hostvars, groups, server_plan(hostvars, groups, 'vpn1'), client_plan(hostvars, groups, 'site1')


def test_ccd_file_pushes_the_fixed_addresses_and_routes_behind_the_client():
    dummy, dummy, servers, dummy = plans()
    main = by_name(servers)['main']
    site1 = by_name(main['clients'])['site1']
    text = files.ccd_text(main, site1)
    assert 'ifconfig-push 10.8.0.10 255.255.255.0\n' in text
    assert 'ifconfig-ipv6-push %s/64 %s\n' % (site1['ipv6'], main['server_ipv6']) in text
    assert 'iroute 192.168.10.0 255.255.255.0\n' in text


def test_server_public_files_cover_pki_ccd_and_allowed_clients():
    dummy, dummy, servers, dummy = plans()
    listed = dict((entry['path'], entry) for entry in files.server_public_files(servers, PKI))
    assert listed['/etc/openvpn/server/pki/crl.pem']['content'] == 'CRL\n'
    # No CRLs signed ahead in this PKI: an empty file, so that none signed before stays on the host.
    assert listed['/etc/openvpn/server/pki/crl-ahead.pem']['content'] == ''
    ahead = dict((entry['path'], entry) for entry in files.server_public_files(servers, dict(PKI, crl_ahead='AHEAD\n')))
    assert ahead['/etc/openvpn/server/pki/crl-ahead.pem']['content'] == 'AHEAD\n'
    assert listed['/etc/openvpn/server/main/clients.allowed']['content'] == 'laptop-alice\nsite1\nsite2\n'
    assert '/etc/openvpn/server/main/ccd/laptop-alice' in listed and '/etc/openvpn/server/lab/ccd/site3' in listed
    assert all(entry['mode'] == '0644' for entry in listed.values())
    # Nothing from the PKI yet (check mode before the first run): only the files of the plan.
    assert not any(path.startswith('/etc/openvpn/server/pki/') for path in
                   (entry['path'] for entry in files.server_public_files(servers, {})))


def test_users_file_holds_salted_hashes_only_and_is_stable():
    text = files.users_text('vpn1', PASSWORDS)
    assert not any(password in text for password in PASSWORDS.values())
    name, scheme, iterations, salt, digest = text.splitlines()[0].split()
    assert (name, scheme, int(iterations)) == ('site1', 'pbkdf2_sha256', files.PASSWORD_ITERATIONS)
    assert hashlib.pbkdf2_hmac('sha256', PASSWORDS['site1'].encode(), bytes.fromhex(salt), int(iterations)).hex() == digest
    assert files.users_text('vpn1', PASSWORDS) == text
    assert files.users_text('vpn2', PASSWORDS) != text


def test_server_secret_files_by_tls_crypt_version_and_password_auth():
    dummy, dummy, servers, dummy = plans()
    listed = dict((entry['path'], entry) for entry in files.server_secret_files('vpn1', servers, PKI, PASSWORDS, '/etc/openvpn/server/users'))
    assert listed['/etc/openvpn/server/keys/tls-crypt-v2-server.key']['mode'] == '0600'
    assert listed['/etc/openvpn/server/keys/tls-crypt.key']['content'] == 'V1-KEY\n'
    assert (listed['/etc/openvpn/server/users']['mode'], listed['/etc/openvpn/server/users']['group']) == ('0640', 'nogroup')


def test_client_files_and_credentials():
    hostvars, groups, dummy, site1 = plans()
    pki = {'vpn1': {'ca': 'CA\n', 'certificate': 'CERT\n', 'v2': 'V2-CLIENT-KEY\n', 'v1': 'V1-KEY\n'}}
    public = dict((entry['path'], entry['content']) for entry in files.client_public_files(site1, pki))
    assert public == {'/etc/openvpn/client/main/ca.crt': 'CA\n', '/etc/openvpn/client/main/client.crt': 'CERT\n'}
    secret = dict((entry['path'], entry) for entry in files.client_secret_files(site1, pki, client_passwords(hostvars, groups, 'site1')))
    assert secret['/etc/openvpn/client/main/tls-crypt-v2.key']['content'] == 'V2-CLIENT-KEY\n'
    assert secret['/etc/openvpn/client/main/credentials'] == {'path': '/etc/openvpn/client/main/credentials',
                                                              'content': 'site1\n%s\n' % PASSWORDS['site1'], 'mode': '0600',
                                                              'owner': 'root', 'group': 'root'}


def test_managed_client_config_names_its_files_and_holds_no_secret():
    hostvars, groups, dummy, site1 = plans()
    text = files.client_config_text(site1[0])
    assert 'remote vpn1.example.org 1194\n' in text and 'verify-x509-name vpn1 name\n' in text
    assert 'key /etc/openvpn/client/pki/vpn1.key\n' in text and 'tls-crypt-v2 /etc/openvpn/client/main/tls-crypt-v2.key\n' in text
    assert 'auth-user-pass /etc/openvpn/client/main/credentials\n' in text and '\nauth-user-pass\n' not in text
    assert PASSWORDS['site1'] not in text
    assert files.client_required_files(site1[0])[-1] == '/etc/openvpn/client/main/credentials'


def test_a_tunnel_mtu_is_in_every_client_config_and_profile():
    dummy, dummy, dummy, site1 = plans()
    assert 'tun-mtu' not in files.client_config_text(site1[0])
    text = files.client_config_text(dict(site1[0], tun_mtu_options=tun_mtu_options(9000)))
    assert 'tun-mtu 9000\nmssfix 0\n' in text
    profile = files.profile_text(dict(unmanaged_profiles(*base_inventory(), host='vpn1')[0], tun_mtu_options=tun_mtu_options(1400)),
                                 {'ca': 'CA', 'certificate': 'CERT', 'key': 'KEY', 'v2': 'TLSKEY', 'v1': None})
    assert 'tun-mtu 1400\n' in profile and 'mssfix' not in profile


def test_profile_connection_keeps_the_users_file_and_adds_the_credentials():
    plan = {'server': None, 'password_auth': True, 'credentials_path': '/etc/openvpn/client/home/credentials'}
    text = files.client_config_text(plan, 'client\nremote vpn.example.org 1194\n')
    assert text.startswith('client\nremote vpn.example.org 1194\n')
    assert text.endswith('auth-user-pass /etc/openvpn/client/home/credentials\n')


def test_profiles_are_written_only_when_complete_and_different(tmp_path):
    hostvars, groups = base_inventory()
    profiles = unmanaged_profiles(hostvars, groups, 'vpn1')
    assert [(profile['instance'], profile['name']) for profile in profiles] == [('main', 'laptop-alice')]
    pki_path = tmp_path / 'pki' / 'vpn1'
    for relative, text in (('ca.crt', 'CA'), ('issued/laptop-alice.crt', 'CERT'), ('private/laptop-alice.key', 'KEY'),
                           ('tls-crypt-v2/clients/laptop-alice.key', 'TLSKEY')):
        (pki_path / relative).parent.mkdir(parents=True, exist_ok=True)
        if relative != 'private/laptop-alice.key':
            (pki_path / relative).write_text(text + '\n')
    profile_dir = tmp_path / 'profiles'
    assert files.profiles_to_write(profiles, str(pki_path), str(profile_dir)) == []
    (pki_path / 'private' / 'laptop-alice.key').write_text('KEY\n')
    written = files.profiles_to_write(profiles, str(pki_path), str(profile_dir))
    assert [entry['path'] for entry in written] == [str(profile_dir / 'vpn1' / 'main' / 'laptop-alice.ovpn')]
    text = written[0]['content']
    assert '<key>\nKEY\n</key>' in text and '<tls-crypt-v2>\nTLSKEY\n</tls-crypt-v2>' in text and '\nauth-user-pass\n' in text
    (profile_dir / 'vpn1' / 'main').mkdir(parents=True)
    (profile_dir / 'vpn1' / 'main' / 'laptop-alice.ovpn').write_text(text)
    assert files.profiles_to_write(profiles, str(pki_path), str(profile_dir)) == []


@pytest.mark.skipif(shutil.which('openvpn') is None, reason='openvpn is not installed on this machine')
def test_openvpn_parses_the_client_config_and_the_profile(tmp_path):
    """openvpn --show-curves reads every option of the file (an unknown or malformed one fails)."""
    hostvars, groups, dummy, site1 = plans()
    config = tmp_path / 'client.conf'
    config.write_text(files.client_config_text(site1[0]))
    result = subprocess.run(['openvpn', '--config', str(config), '--show-curves'], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    config.write_text(files.client_config_text(dict(site1[0], tun_mtu_options=tun_mtu_options(60000))))
    result = subprocess.run(['openvpn', '--config', str(config), '--show-curves'], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    config.write_text(files.client_config_text(site1[0]) + 'topology bogus\n')
    assert subprocess.run(['openvpn', '--config', str(config), '--show-curves'], capture_output=True, check=False).returncode != 0
    assert os.path.exists(str(config))


def _facts(sha256, not_after='2031-07-14T09:30:05Z', **changes):
    facts = {'key_valid': True, 'certificate_matches_key': True, 'certificate_not_after': not_after, 'certificate_sha256': sha256}
    facts.update(changes)
    return facts


def test_a_certificate_is_current_only_when_it_is_the_pkis_latest_and_far_from_its_end(tmp_path):
    import datetime
    issued = tmp_path / 'issued.crt'
    issued.write_text('CERT\n')
    sha256 = hashlib.sha256(b'CERT\n').hexdigest()
    key_file = {'mode': '0600', 'owner': 'root'}
    now = datetime.datetime(2031, 1, 1)
    assert files.certificate_current(_facts(sha256), key_file, str(issued), now)
    assert not files.certificate_current(_facts(sha256, not_after='2031-01-20T00:00:00Z'), key_file, str(issued), now)
    assert not files.certificate_current(_facts('0' * 64), key_file, str(issued), now)
    assert not files.certificate_current(_facts(sha256, certificate_matches_key=False), key_file, str(issued), now)
    assert not files.certificate_current(_facts(sha256, key_valid=False), key_file, str(issued), now)
    assert not files.certificate_current(_facts(sha256), {'mode': '0644', 'owner': 'root'}, str(issued), now)
    assert not files.certificate_current(None, key_file, str(issued), now)
    assert not files.certificate_current(_facts(sha256), key_file, str(tmp_path / 'missing.crt'), now)
    # A key a service's group reads (headscale's TLS key) is current at the mode asked for, and only at it.
    group_readable = {'mode': '0640', 'owner': 'root'}
    assert files.certificate_current(_facts(sha256), group_readable, str(issued), now, key_mode='0640')
    assert not files.certificate_current(_facts(sha256), group_readable, str(issued), now)
    assert not files.certificate_current(_facts(sha256), key_file, str(issued), now, key_mode='0640')


def test_client_key_checks_one_per_server():
    dummy, dummy, dummy, site1 = plans()
    assert files.client_key_checks(site1) == {'vpn1': {'key': '/etc/openvpn/client/pki/vpn1.key',
                                                       'certificate': '/etc/openvpn/client/main/client.crt'}}
