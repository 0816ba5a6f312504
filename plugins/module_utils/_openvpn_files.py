# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# The small files the OpenVPN roles put next to each config, as pure functions of the plans
# (_openvpn_plan) and of the PKI files read on the controller. Each list is what
# overlaynet.vpn.rendered_files takes ({path, content, mode, owner, group}), so the roles write
# only the files whose checksum differs from what the probe read.
#
# Public files (certificates, the CRL, client-config-dir files, the list of allowed clients) and
# secret ones (tls-crypt keys, the password hashes, a client's credentials) are built by separate
# functions: the roles write the secret ones in no_log tasks, the public ones with --diff.

import datetime
import hashlib

from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import sha256_of_file
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_layout import CA_CERTIFICATE, CRL, CRL_AHEAD, issued_certificate, private_key_file

PUBLIC_MODE = '0644'
SECRET_MODE = '0600'
# The server reads the password hashes after dropping its privileges to nobody:nogroup.
USERS_FILE_MODE = '0640'
UNPRIVILEGED_GROUP = 'nogroup'
# PBKDF2-SHA256 work per password check; the check runs once per connecting client.
PASSWORD_ITERATIONS = 200000
# openvpn_pki's renew_before_days, which the roles leave at its default: a certificate that ends
# sooner is issued again, so its host must send a signing request.
CERTIFICATE_RENEW_BEFORE_DAYS = 30


def ccd_text(instance, client):
    """The client-config-dir file of one client of an instance plan: its fixed addresses and routes behind it."""
    lines = ['# Managed by overlaynet.vpn: client %s of %s' % (client['name'], instance['network']),
             'ifconfig-push %s %s' % (client['ipv4'], instance['ipv4_netmask'])]
    if client['ipv6'] and instance['server_ipv6']:
        lines.append('ifconfig-ipv6-push %s/%d %s' % (client['ipv6'], instance['ipv6_prefix'], instance['server_ipv6']))
    for route in client['iroutes']:
        if route['family'] == 'ipv4':
            lines.append('iroute %s %s' % (route['address'], route['netmask']))
        else:
            lines.append('iroute-ipv6 %s' % route['network'])
    return '\n'.join(lines) + '\n'


def clients_allowed_text(instance):
    """The names the tls-crypt-v2 verify hook lets in: every current client of the instance, one per line."""
    return ''.join('%s\n' % client['name'] for client in instance['clients'])


def _file(path, content, mode=PUBLIC_MODE, group='root'):
    return {'path': path, 'content': content, 'mode': mode, 'owner': 'root', 'group': group}


def server_public_files(plans, pki):
    """The public files of a server host: its PKI's CA certificate, its certificate, the CRL and the
    CRLs signed ahead (pki: {'ca', 'certificate', 'crl', 'crl_ahead'} texts, None while not made yet,
    as in check mode), and per present instance one client-config-dir file per client and the list
    of allowed clients."""
    present = [plan for plan in plans if plan['state'] == 'present']
    files = []
    if present:
        for path_key, key in (('ca_path', 'ca'), ('cert_path', 'certificate'), ('crl_path', 'crl')):
            if pki.get(key):
                files.append(_file(present[0][path_key], pki[key]))
        if pki.get('crl'):
            # Empty when the PKI signs none ahead, so that the timer finds no older ones left on the host.
            files.append(_file(present[0]['crl_ahead_path'], pki.get('crl_ahead') or ''))
    for plan in present:
        files.extend(_file('%s/%s' % (plan['ccd_dir'], client['name']), ccd_text(plan, client)) for client in plan['clients'])
        files.append(_file(plan['clients_allowed_path'], clients_allowed_text(plan)))
    return files


def _salt(server, user):
    # Derived, not random: the same users give the same file, so a converged server is not rewritten.
    # Unique per server and user, which is what a salt is for.
    return hashlib.sha256(('overlaynet.vpn openvpn users\0%s\0%s' % (server, user)).encode('utf-8')).hexdigest()[:32]


def users_text(server, users):
    """The password list of a server's auth-user-pass-verify hook: 'NAME pbkdf2_sha256 ITERATIONS SALT HASH' per user (a secret)."""
    lines = []
    for name in sorted(users):
        salt = _salt(server, name)
        digest = hashlib.pbkdf2_hmac('sha256', str(users[name]).encode('utf-8'), bytes.fromhex(salt), PASSWORD_ITERATIONS)
        lines.append('%s pbkdf2_sha256 %d %s %s\n' % (name, PASSWORD_ITERATIONS, salt, digest.hex()))
    return ''.join(lines)


def server_secret_files(server, plans, tls_crypt_keys, users, users_path):
    """The secret files of a server host: the tls-crypt keys its instances use (tls_crypt_keys:
    {'v2': server key text, 'v1': static key text}) and the password list when an instance asks
    for passwords."""
    present = [plan for plan in plans if plan['state'] == 'present']
    files = []
    if not present:
        return files
    key_dir = present[0]['key_dir']
    versions = set(plan['tls_crypt'] for plan in present)
    for version, name in (('v2', 'tls-crypt-v2-server.key'), ('v1', 'tls-crypt.key')):
        if version in versions and tls_crypt_keys.get(version):
            files.append(_file('%s/%s' % (key_dir, name), tls_crypt_keys[version], SECRET_MODE))
    if any(plan['password_auth'] for plan in present):
        files.append(_file(users_path, users_text(server, users), USERS_FILE_MODE, UNPRIVILEGED_GROUP))
    return files


def client_public_files(plans, pki_by_server):
    """The CA certificate and the client's certificate of each present managed connection
    (pki_by_server: server host -> {'ca', 'certificate'} texts, None while not made yet)."""
    files = []
    for plan in plans:
        if plan['state'] != 'present' or plan['server'] is None:
            continue
        pki = pki_by_server.get(plan['server'], {})
        for name, key in (('ca.crt', 'ca'), ('client.crt', 'certificate')):
            if pki.get(key):
                files.append(_file('%s/%s' % (plan['pki_dir'], name), pki[key]))
    return files


def client_secret_files(plans, tls_crypt_keys_by_server, passwords):
    """The tls-crypt key of each present managed connection (tls_crypt_keys_by_server: server
    host -> {'v2': this client's key, 'v1': the static key}) and the credentials file of each
    present connection that has a password (passwords: connection name -> password)."""
    files = []
    for plan in plans:
        if plan['state'] != 'present':
            continue
        if plan['server'] is not None:
            key = tls_crypt_keys_by_server.get(plan['server'], {}).get(plan['tls_crypt'])
            if key:
                name = 'tls-crypt-v2.key' if plan['tls_crypt'] == 'v2' else 'tls-crypt.key'
                files.append(_file('%s/%s' % (plan['pki_dir'], name), key, SECRET_MODE))
        if plan['password_auth'] and passwords.get(plan['name']):
            files.append(_file(plan['credentials_path'], '%s\n%s\n' % (plan['username'], passwords[plan['name']]), SECRET_MODE))
    return files


# ---------------------------------------------------------------------------------------------
# Profiles of unmanaged clients
# ---------------------------------------------------------------------------------------------

def client_options(connection, device='tun'):
    """The options every client of an instance needs, from a connection plan or an unmanaged profile entry (without files)."""
    lines = [
        'client',
        'dev %s' % device,
        'dev-type tun',
        'proto %s' % connection['proto'],
        'remote %s %d' % (connection['remote_address'], connection['remote_port']),
        'nobind',
        'resolv-retry infinite',
        # The server's certificate must be a server certificate of this server host, from this CA.
        'remote-cert-tls server',
        'verify-x509-name %s name' % connection['server'],
        'tls-version-min 1.2',
        'data-ciphers %s' % ':'.join(connection['data_ciphers']),
        'persist-key',
        'persist-tun',
        'verb 3',
    ]
    lines.extend(connection['tun_mtu_options'])
    if connection['password_auth']:
        lines.append('auth-user-pass')
    return lines


def client_config_text(plan, profile=None):
    """The config file of a client connection plan.

    A managed connection gets the client options with its files on the host. It keeps root
    (no `user nobody`): a client reads its credentials file again at each reconnection, and a
    server restart makes every client reconnect; the unit's capability bounding still applies.
    A profile_file connection gets the user's profile (profile) as it is, plus the credentials
    file when a password is given. No secret, except what a user's profile holds (the role
    does not show it).
    """
    if plan['server'] is None:
        lines = [profile.rstrip('\n')] if profile else []
        if plan['password_auth']:
            lines.extend(['# Added by overlaynet.vpn: the credentials from openvpn_client_connections',
                          'auth-user-pass %s' % plan['credentials_path']])
        return '\n'.join(lines) + '\n'
    lines = ['# Managed by overlaynet.vpn: %s to %s (%s)' % (plan['name'], plan['network'], plan['unit'])]
    options = client_options(plan, plan['device'])
    if plan['password_auth']:
        options = [option for option in options if option != 'auth-user-pass'] + ['auth-user-pass %s' % plan['credentials_path']]
    lines.extend(options)
    lines.extend([
        'ca %s/ca.crt' % plan['pki_dir'],
        'cert %s/client.crt' % plan['pki_dir'],
        'key %s' % plan['key_path'],
        ('tls-crypt-v2 %s/tls-crypt-v2.key' if plan['tls_crypt'] == 'v2' else 'tls-crypt %s/tls-crypt.key') % plan['pki_dir'],
    ])
    return '\n'.join(lines) + '\n'


def client_required_files(plan):
    """The files a managed connection's config names, which must exist before it replaces the config."""
    if plan['server'] is None:
        return [plan['credentials_path']] if plan['password_auth'] else []
    files = ['%s/ca.crt' % plan['pki_dir'], '%s/client.crt' % plan['pki_dir'], plan['key_path'],
             '%s/%s' % (plan['pki_dir'], 'tls-crypt-v2.key' if plan['tls_crypt'] == 'v2' else 'tls-crypt.key')]
    if plan['password_auth']:
        files.append(plan['credentials_path'])
    return files


def _inline(tag, text):
    return '<%s>\n%s\n</%s>' % (tag, text.strip(), tag)


def profile_text(profile, pki):
    """The inline .ovpn profile of an unmanaged client (a secret: it holds the client's key);
    pki: {'ca', 'certificate', 'key', 'v2', 'v1'} texts. None while a file is missing (check mode)."""
    tls_crypt_tag, tls_crypt_key = ('tls-crypt-v2', pki.get('v2')) if profile['tls_crypt'] == 'v2' else ('tls-crypt', pki.get('v1'))
    if not all((pki.get('ca'), pki.get('certificate'), pki.get('key'), tls_crypt_key)):
        return None
    lines = ['# Managed by overlaynet.vpn: %s on %s/%s' % (profile['name'], profile['server'], profile['instance'])]
    lines.extend(client_options(profile))
    lines.extend([_inline('ca', pki['ca']), _inline('cert', pki['certificate']), _inline('key', pki['key']),
                  _inline(tls_crypt_tag, tls_crypt_key)])
    return '\n'.join(lines) + '\n'


def profiles_to_write(profiles, pki_path, profile_dir):
    """[{path, content}] of the profiles whose file on the controller is missing or differs
    (<profile_dir>/<server>/<instance>/<name>.ovpn)."""
    files = []
    for profile in profiles:
        pki = client_pki_texts(pki_path.rsplit('/', 1)[0], profile['server'], profile['name'])
        pki['key'] = _read_or_none('%s/%s' % (pki_path, private_key_file(profile['name'])))
        text = profile_text(profile, pki)
        path = '%s/%s/%s/%s.ovpn' % (profile_dir, profile['server'], profile['instance'], profile['name'])
        if text is not None and _read_or_none(path) != text:
            files.append({'path': path, 'content': text})
    return files


# ---------------------------------------------------------------------------------------------
# Reading the PKI on the controller (overlaynet.vpn.openvpn_pki's layout)
# ---------------------------------------------------------------------------------------------

def _read_or_none(path):
    try:
        with open(path, 'r') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def server_pki_texts(pki_path, server):
    """{'ca', 'certificate', 'crl', 'crl_ahead', 'v2', 'v1'} of a server host's PKI directory; None for a file not made yet
    (check mode) or not kept (crl_ahead)."""
    return {
        'ca': _read_or_none('%s/%s' % (pki_path, CA_CERTIFICATE)),
        'certificate': _read_or_none('%s/%s' % (pki_path, issued_certificate(server))),
        'crl': _read_or_none('%s/%s' % (pki_path, CRL)),
        'crl_ahead': _read_or_none('%s/%s' % (pki_path, CRL_AHEAD)),
        'v2': _read_or_none('%s/tls-crypt-v2/server.key' % pki_path),
        'v1': _read_or_none('%s/tls-crypt.key' % pki_path),
    }


def client_pki_texts(pki_root, server, client):
    """{'ca', 'certificate', 'v2', 'v1'} of one client in the PKI of a server host (<pki_root>/<server>)."""
    pki_path = '%s/%s' % (pki_root, server)
    return {
        'ca': _read_or_none('%s/%s' % (pki_path, CA_CERTIFICATE)),
        'certificate': _read_or_none('%s/%s' % (pki_path, issued_certificate(client))),
        'v2': _read_or_none('%s/tls-crypt-v2/clients/%s.key' % (pki_path, client)),
        'v1': _read_or_none('%s/tls-crypt.key' % pki_path),
    }


# ---------------------------------------------------------------------------------------------
# Whether a host must ask the CA again
# ---------------------------------------------------------------------------------------------

def _parse_iso(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ')


def certificate_current(key_facts, probed_key_file, controller_certificate_path, now=None, key_mode='0600'):
    """Whether the key and certificate on a host need no signing request in this run: the probe
    read a valid key (root's, mode key_mode: 0600, or 0640 for a key a service group reads) and a
    certificate of that key that is byte for byte the one the PKI on the controller issued last,
    and that does not end within the PKI's renewal window. key_facts: the probe's x509_keys entry
    (None without cryptography on the host)."""
    if not key_facts or not key_facts.get('key_valid') or not key_facts.get('certificate_matches_key'):
        return False
    if (probed_key_file or {}).get('mode') != key_mode or (probed_key_file or {}).get('owner') != 'root':
        return False
    if key_facts.get('certificate_sha256') != sha256_of_file(controller_certificate_path):
        return False
    now = now or datetime.datetime.utcnow()
    return _parse_iso(key_facts['certificate_not_after']) - now > datetime.timedelta(days=CERTIFICATE_RENEW_BEFORE_DAYS)


def client_key_checks(plans):
    """What the probe of a client host checks (its x509_keys option): per server of its present managed connections,
    the key and the certificate of the first connection to that server."""
    checks = {}
    for plan in plans:
        if plan['state'] == 'present' and plan['server'] is not None and plan['server'] not in checks:
            checks[plan['server']] = {'key': plan['key_path'], 'certificate': '%s/client.crt' % plan['pki_dir']}
    return checks
