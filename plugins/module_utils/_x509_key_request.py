# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# An X.509 private key kept on a VPN host (OpenVPN server or client; later ocserv, strongSwan)
# and a certificate signing request for it, so that the CA on the controller signs the request
# and the private key never travels.
#
# This file runs on the VPN hosts. Keys, names and signing requests are made and read by _x509,
# which may use `cryptography` there because every role that calls overlaynet.vpn.x509_key_request
# installs it on the host first (see _x509); the module fails with missing_required_lib without it.
#
# The private key goes from its file to cryptography and back to its file, nowhere else: no
# return value, message, warning or diff holds key material. Errors name the file, not its content.

import errno
import os

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import (
    X509Error,
    describe_key,
    iso,
    key_description,
    load_certificate,
    load_private_key,
    make_csr,
    new_private_key,
    not_after,
    private_key_pem,
    public_key_der,
    public_key_sha256,
    readable_public_key,
    sha256_hex,
    subject_name,
    wanted_key_description,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import ensure_parent_directory, key_file_diff, write_private_file

# Why the module needs the package, for missing_required_lib (it reads "This is required <reason>.").
CRYPTOGRAPHY_REASON = 'to keep an X.509 key and make its signing request on this host (Debian and Ubuntu package python3-cryptography)'

REGENERATE_MODES = ['never', 'invalid', 'always', 'type_changed']

# A PKCS#8 PEM of an RSA 16384 key is about 13 KB; a larger file is not a key and is not read whole.
MAX_KEY_FILE_SIZE = 64 * 1024
# A certificate with its chain is a few KB; a larger file is not read whole (and counts as unparsable).
MAX_CERTIFICATE_FILE_SIZE = 1024 * 1024

INVALID_KEY_FILE = 'does not hold an unencrypted EC or RSA private key in PEM'
NEW_KEY_IN_CHECK_MODE = '(new key, generated when not in check mode)'


def certificate_facts(data, private_key):
    """What tells a caller whether to ask the CA again, for the certificate file content data (bytes, or
    None when there is no file) and the key the file should hold (None when there is no key yet).

    Only PEM counts, since that is what OpenVPN reads; a certificate that cannot be parsed is reported
    as no certificate: no match and nulls.
    """
    facts = dict(certificate_matches_key=False, certificate_not_after=None, certificate_sha256=None)
    if data is None:
        return facts
    try:
        certificate = load_certificate(data)
        certificate_public_der = public_key_der(readable_public_key(certificate))
    except X509Error:
        return facts
    facts['certificate_not_after'] = iso(not_after(certificate))
    facts['certificate_sha256'] = sha256_hex(data)
    if private_key is not None:
        facts['certificate_matches_key'] = certificate_public_der == public_key_der(private_key)
    return facts


def _read_small_file(path, limit):
    """The bytes of a file, or None when it is missing, unreadable or larger than limit."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read(limit + 1)
    except (IOError, OSError):
        return None
    return data if len(data) <= limit else None


def key_and_certificate_facts(key_path, certificate_path):
    """For overlaynet.vpn.host_probe: whether the key file holds a usable key (key_valid) and
    certificate_facts() of the certificate against it, read the same way the module reads them, so
    that a role can skip the module when the certificate on the host is current. No key material
    is returned. Needs cryptography (HAS_CRYPTOGRAPHY)."""
    key_data = _read_small_file(key_path, MAX_KEY_FILE_SIZE)
    private_key = None
    if key_data is not None:
        try:
            private_key = load_private_key(key_data, none_if_unusable=True)
        except X509Error:
            private_key = None
    facts = certificate_facts(_read_small_file(certificate_path, MAX_CERTIFICATE_FILE_SIZE), private_key)
    facts['key_valid'] = private_key is not None
    return facts


def decide_action(state, regenerate, exists, existing_spec, wanted_spec):
    """What to do with the key file: (action, refusal). action is none, created, replaced or removed;
    refusal is a message (with %s for the path) when the module must fail instead.

    exists tells whether the file exists, existing_spec is the key_description of the key it holds (None
    when it holds no usable key) and wanted_spec the one the options ask for (wanted_key_description).
    """
    if state == 'absent':
        return ('removed' if exists else 'none'), None
    if not exists:
        return 'created', None
    if existing_spec is None:
        if regenerate == 'never':
            return None, 'key file %%s %s; refusing to replace it (regenerate=invalid replaces it)' % INVALID_KEY_FILE
        return 'replaced', None
    if regenerate == 'always':
        return 'replaced', None
    if regenerate == 'type_changed' and existing_spec != wanted_spec:
        return 'replaced', None
    return 'none', None


def _describe_key_for_diff(spec, fingerprint):
    return '%s, public_key_sha256 %s' % (describe_key(spec), fingerprint)


class KeyRequest(object):
    """One run of overlaynet.vpn.x509_key_request: keeps the key file and returns the signing request."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def _fail(self, message):
        self.module.fail_json(msg=message)

    def _read_key_file(self, path):
        """The bytes of the key file (at most MAX_KEY_FILE_SIZE + 1), or None when there is no file."""
        data = None
        try:
            with open(path, 'rb') as key_file:
                data = key_file.read(MAX_KEY_FILE_SIZE + 1)
        except (IOError, OSError) as exc:
            if exc.errno != errno.ENOENT:
                self._fail('cannot read key file %s: %s' % (path, to_native(exc.strerror or exc.__class__.__name__)))
        return data

    def _read_certificate_file(self, path):
        """The bytes of the certificate file, or None when it is missing, unreadable (with a warning) or too large."""
        try:
            with open(path, 'rb') as certificate_file:
                data = certificate_file.read(MAX_CERTIFICATE_FILE_SIZE + 1)
        except (IOError, OSError) as exc:
            if exc.errno != errno.ENOENT:
                self.module.warn('cannot read certificate %s (%s); it is reported as missing' % (path, to_native(exc.strerror or exc.__class__.__name__)))
            return None
        if len(data) > MAX_CERTIFICATE_FILE_SIZE:
            return None
        return data

    def _remove_key_file(self, path):
        try:
            os.remove(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                self._fail('cannot remove key file %s: %s' % (path, to_native(exc.strerror)))

    def _write_new_key(self, path):
        params = self.params
        private_key = new_private_key(params['key_type'], params['ec_curve'], params['rsa_key_size'])
        try:
            ensure_parent_directory(path)
            write_private_file(path, private_key_pem(private_key).decode('ascii'))
        except OSError as exc:
            self._fail('cannot write key file %s: %s' % (path, to_native(exc.strerror or exc.__class__.__name__)))
        return private_key

    def run(self):
        """Bring the key file to the requested state; the result dict, which never holds the private key."""
        params = self.params
        path = params['path']
        state = params['state']
        wanted_spec = wanted_key_description(params['key_type'], params['ec_curve'], params['rsa_key_size'])

        if state == 'present':
            # Before anything is written: a key must not be made for a request that cannot be.
            try:
                subject_name(params['common_name'])
            except X509Error as exc:
                self._fail(to_native(exc))
        if os.path.isdir(path):
            self._fail('path %s is a directory, not a key file' % path)

        existing_data = self._read_key_file(path)
        exists = existing_data is not None
        existing_key = None
        if exists and len(existing_data) <= MAX_KEY_FILE_SIZE:
            existing_key = load_private_key(existing_data, none_if_unusable=True)
        existing_spec = key_description(existing_key) if existing_key is not None else None

        action, refusal = decide_action(state, params['regenerate'], exists, existing_spec, wanted_spec)
        if refusal:
            self._fail(refusal % path)

        result = dict(
            changed=action != 'none', path=path, action=action, generated=False, key_type=None, csr=None, public_key_sha256=None,
            certificate_matches_key=False, certificate_not_after=None, certificate_sha256=None,
        )

        private_key = None
        if action == 'removed':
            if not self.module.check_mode:
                self._remove_key_file(path)
        elif action == 'none':
            private_key = existing_key
            if private_key is not None and existing_spec != wanted_spec:
                self.module.warn('key file %s holds an %s, not the %s the options ask for; it is kept (regenerate=type_changed replaces it)'
                                 % (path, describe_key(existing_spec), describe_key(wanted_spec)))
        elif not self.module.check_mode:
            private_key = self._write_new_key(path)
            result['generated'] = True

        attribute_diff = {}
        if state == 'present':
            result['key_type'] = key_description(private_key)[0] if private_key is not None else wanted_spec[0]
            if private_key is not None:
                result['csr'] = make_csr(private_key, params['common_name'])
                result['public_key_sha256'] = public_key_sha256(private_key)
            if params['certificate_path']:
                result.update(certificate_facts(self._read_certificate_file(params['certificate_path']), private_key))
            if os.path.exists(path):
                file_args = self.module.load_file_common_arguments(params, path=path)
                result['changed'] = self.module.set_fs_attributes_if_different(file_args, result['changed'], diff=attribute_diff)

        if self.module._diff:
            if not exists:
                before_key = '(absent)'
            elif existing_key is None:
                before_key = '(file %s)' % INVALID_KEY_FILE
            else:
                before_key = _describe_key_for_diff(existing_spec, public_key_sha256(existing_key))
            if state == 'absent':
                after_key = '(absent)'
            elif private_key is None:
                after_key = '%s %s' % (describe_key(wanted_spec), NEW_KEY_IN_CHECK_MODE)
            else:
                after_key = _describe_key_for_diff(key_description(private_key), result['public_key_sha256'])
            result['diff'] = key_file_diff(path, 'key', before_key, after_key, attribute_diff)

        return result
