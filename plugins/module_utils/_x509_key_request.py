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
# This file runs on the VPN hosts, where module_utils are standard library only by rule. It may
# use `cryptography` because every role that calls overlaynet.vpn.x509_key_request installs it on
# the host first (Debian package python3-cryptography). The import is guarded so that importing
# this file never fails; the module fails with missing_required_lib when the package is absent.
# Only APIs of cryptography 3.1 and later are used (no backend arguments), which the distribution
# package of every supported target provides (the oldest, Ubuntu 22.04, has 3.4.8).
#
# The private key goes from its file to cryptography and back to its file, nowhere else: no
# return value, message, warning or diff holds key material. Errors name the file, not its content.

import errno
import hashlib
import os
import traceback

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import ensure_parent_directory, write_private_file

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

# Why the module needs the package, for missing_required_lib (it reads "This is required <reason>.").
CRYPTOGRAPHY_REASON = 'to keep an X.509 key and make its signing request on this host (Debian and Ubuntu package python3-cryptography)'

KEY_TYPES = ['ec', 'rsa']
EC_CURVES = ['secp256r1', 'secp384r1', 'secp521r1']
RSA_KEY_SIZES = [2048, 3072, 4096]
REGENERATE_MODES = ['never', 'invalid', 'always', 'type_changed']

RSA_PUBLIC_EXPONENT = 65537
# ub-common-name of RFC 5280: a longer common name is not a valid X.509 name.
MAX_COMMON_NAME_LENGTH = 64
# A PKCS#8 PEM of an RSA 16384 key is about 13 KB; a larger file is not a key and is not read whole.
MAX_KEY_FILE_SIZE = 64 * 1024
# A certificate with its chain is a few KB; a larger file is not read whole (and counts as unparsable).
MAX_CERTIFICATE_FILE_SIZE = 1024 * 1024
NOT_AFTER_FORMAT = '%Y-%m-%dT%H:%M:%SZ'

INVALID_KEY_FILE = 'does not hold an unencrypted EC or RSA private key in PEM'
NEW_KEY_IN_CHECK_MODE = '(new key, generated when not in check mode)'


class KeyRequestError(Exception):
    """An option or a file the module cannot work with. The message never holds key material."""


# Key specs: ('ec', curve name) or ('rsa', size in bits), comparable to tell a type change.

def requested_spec(key_type, ec_curve, rsa_key_size):
    """The spec of the key the options ask for; only the detail of the key type counts."""
    if key_type == 'ec':
        return ('ec', ec_curve)
    return ('rsa', rsa_key_size)


def key_spec(private_key):
    """The spec of a key load_private_key returned."""
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return ('ec', private_key.curve.name)
    return ('rsa', private_key.key_size)


def describe_spec(spec):
    if spec[0] == 'ec':
        return 'EC %s key' % spec[1]
    return 'RSA %d-bit key' % spec[1]


def generate_private_key(spec):
    """A new private key of the spec requested_spec returned."""
    key_type, detail = spec
    if key_type == 'ec':
        # The curve classes are named as the curves, upper case: ec.SECP384R1 for secp384r1.
        return ec.generate_private_key(getattr(ec, detail.upper())())
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=detail)


def private_key_pem(private_key):
    """The key as unencrypted PKCS#8 PEM text (-----BEGIN PRIVATE KEY-----), for its file only."""
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode('ascii')


def load_private_key(data):
    """The EC or RSA private key in data (unencrypted PEM, PKCS#8 or the traditional format), or None
    when data holds none: garbage, an encrypted key, or a key of another algorithm (Ed25519, DSA, ...)."""
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if not isinstance(private_key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        return None
    return private_key


def _public_key_der(public_key):
    return public_key.public_bytes(encoding=serialization.Encoding.DER, format=serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_sha256(private_key):
    """Hex SHA-256 of the DER SubjectPublicKeyInfo of the key's public key (what the CA compares)."""
    return hashlib.sha256(_public_key_der(private_key.public_key())).hexdigest()


def subject_name(common_name):
    """The subject of the signing request; raises KeyRequestError for a common name X.509 cannot carry."""
    if not isinstance(common_name, str) or not common_name:
        raise KeyRequestError('common_name must be a non-empty string')
    if len(common_name) > MAX_COMMON_NAME_LENGTH:
        raise KeyRequestError('common_name must be at most %d characters (RFC 5280), it has %d' % (MAX_COMMON_NAME_LENGTH, len(common_name)))
    try:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    except ValueError as exc:
        raise KeyRequestError('common_name %r cannot be an X.509 common name: %s' % (common_name, to_native(exc)))


def make_csr(private_key, common_name):
    """PEM text of a signing request for the key, with subject CN=common_name, signed with the key (SHA-256).

    Nothing but the subject is requested: the CA decides the extensions (server or client use).
    """
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject_name(common_name))
    request = builder.sign(private_key, hashes.SHA256())
    return request.public_bytes(serialization.Encoding.PEM).decode('ascii')


def _not_after(certificate):
    # not_valid_after_utc is cryptography 42 and later, where not_valid_after (naive, in UTC) is deprecated.
    not_after = getattr(certificate, 'not_valid_after_utc', None)
    if not_after is None:
        not_after = certificate.not_valid_after
    return not_after.strftime(NOT_AFTER_FORMAT)


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
        certificate = x509.load_pem_x509_certificate(data)
        certificate_public_der = _public_key_der(certificate.public_key())
        not_after = _not_after(certificate)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return facts
    facts['certificate_not_after'] = not_after
    facts['certificate_sha256'] = hashlib.sha256(data).hexdigest()
    if private_key is not None:
        facts['certificate_matches_key'] = certificate_public_der == _public_key_der(private_key.public_key())
    return facts


def decide_action(state, regenerate, exists, existing_spec, wanted_spec):
    """What to do with the key file: (action, refusal). action is none, created, replaced or removed;
    refusal is a message (with %s for the path) when the module must fail instead.

    exists tells whether the file exists, existing_spec is the spec of the key it holds (None when it
    holds no usable key) and wanted_spec the spec the options ask for.
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


def _diff_side(key_text, attributes):
    lines = ['key: %s' % key_text]
    for name in sorted(attributes):
        lines.append('%s: %s' % (name, attributes[name]))
    return '\n'.join(lines) + '\n'


def _describe_key_for_diff(spec, fingerprint):
    return '%s, public_key_sha256 %s' % (describe_spec(spec), fingerprint)


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

    def _write_new_key(self, path, spec):
        private_key = generate_private_key(spec)
        try:
            ensure_parent_directory(path)
            write_private_file(path, private_key_pem(private_key))
        except OSError as exc:
            self._fail('cannot write key file %s: %s' % (path, to_native(exc.strerror or exc.__class__.__name__)))
        return private_key

    def run(self):
        """Bring the key file to the requested state; the result dict, which never holds the private key."""
        params = self.params
        path = params['path']
        state = params['state']
        wanted_spec = requested_spec(params['key_type'], params['ec_curve'], params['rsa_key_size'])

        if state == 'present':
            # Before anything is written: a key must not be made for a request that cannot be.
            try:
                subject_name(params['common_name'])
            except KeyRequestError as exc:
                self._fail(to_native(exc))
        if os.path.isdir(path):
            self._fail('path %s is a directory, not a key file' % path)

        existing_data = self._read_key_file(path)
        exists = existing_data is not None
        existing_key = None
        if exists and len(existing_data) <= MAX_KEY_FILE_SIZE:
            existing_key = load_private_key(existing_data)
        existing_spec = key_spec(existing_key) if existing_key is not None else None

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
                                 % (path, describe_spec(existing_spec), describe_spec(wanted_spec)))
        elif not self.module.check_mode:
            private_key = self._write_new_key(path, wanted_spec)
            result['generated'] = True

        attribute_diff = {}
        if state == 'present':
            result['key_type'] = key_spec(private_key)[0] if private_key is not None else wanted_spec[0]
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
                after_key = '%s %s' % (describe_spec(wanted_spec), NEW_KEY_IN_CHECK_MODE)
            else:
                after_key = _describe_key_for_diff(key_spec(private_key), result['public_key_sha256'])
            result['diff'] = dict(
                before_header=path,
                after_header=path,
                before=_diff_side(before_key, attribute_diff.get('before', {})),
                after=_diff_side(after_key, attribute_diff.get('after', {})),
            )

        return result
