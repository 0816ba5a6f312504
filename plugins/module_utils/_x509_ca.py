# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small X.509 certificate authority kept in one directory on the controller.

Pure functions make and check keys, certificates and CRLs; X509Store reads the directory once,
decides what has to change, stages the new file contents in memory and writes them in commit()
(never called in check mode). Nothing here is specific to one VPN: OpenVPN, ocserv and headscale
use the same store; kinds are 'server' (EKU serverAuth) and 'client' (EKU clientAuth).

Layout under the store directory (0700):
    ca.crt (0644)  ca.key (0600)  crl.pem (0644)  state.json (0600)
    issued/<name>.crt (0644)  private/<name>.key (0600, only keys made here)

No private key is ever put into an exception message or a returned value; reasons only name what
differs. The state file records SHA-256 digests of the key files made here, to recognise an
unchanged key without loading it.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import ipaddress
import json
import os
import re
import stat
import traceback

from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import ensure_parent_directory, write_private_file

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

KINDS = ('server', 'client')
KEY_TYPES = ('ec', 'rsa')
EC_CURVES = ('secp256r1', 'secp384r1', 'secp521r1')
RSA_KEY_SIZES = (2048, 3072, 4096)
DEFAULT_KEY_TYPE = 'ec'
DEFAULT_EC_CURVE = 'secp384r1'
DEFAULT_RSA_KEY_SIZE = 3072
MIN_RSA_KEY_SIZE = 2048

CA_CERTIFICATE = 'ca.crt'
CA_PRIVATE_KEY = 'ca.key'
CRL = 'crl.pem'
STATE = 'state.json'
ISSUED_DIRECTORY = 'issued'
PRIVATE_DIRECTORY = 'private'
PUBLIC_MODE = 0o644
PRIVATE_MODE = 0o600
DIRECTORY_MODE = 0o700
STATE_FORMAT = 1

# Letters, digits, '.', '_', '-', 1 to 64 characters (the longest common name X.509 allows). A leading
# '.' or '-' is refused too: it would make a hidden file (or '.', '..') or read as an option to a tool.
NAME_PATTERN = re.compile(r'[A-Za-z0-9_][A-Za-z0-9._-]{0,63}')
# A host name, optionally a wildcard; labels of letters, digits, '_' and inner '-'.
DNS_NAME_PATTERN = re.compile(r'(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?')
# Certificates start a little in the past, so that a host whose clock lags behind accepts them at once.
BACKDATE = datetime.timedelta(minutes=10)
# Revocation reasons this store writes (RFC 5280 CRLReason, as cryptography's ReasonFlags names them).
REVOCATION_REASONS = ('unspecified', 'key_compromise', 'affiliation_changed', 'superseded', 'cessation_of_operation')
# A certificate replaced for one of these reasons is revoked as superseded: the old one still works with
# another key or for another role otherwise. One replaced because it expires or its names changed stays valid
# until it expires, so a host that misses the run that renews it keeps working.
SUPERSEDING_REASONS = ('new key', 'kind changed to server', 'kind changed to client', 'key type changed')


class X509CAError(Exception):
    """A problem with the CA, a certificate, a CSR or the store; the message holds no secret."""


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(moment):
    """'2027-01-03T12:00:00Z' for an aware or naive-UTC datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_iso(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)


def _aware(moment):
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.timezone.utc)


def serial_hex(serial):
    """The serial as OpenSSL prints it: upper-case hex, whole bytes."""
    text = '%X' % serial
    return text if len(text) % 2 == 0 else '0' + text


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def name_problem(name, what='name'):
    """None when name can be a certificate name and a file name, else a message naming the value."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        return ('%s: %r is not a valid name (1 to 64 letters, digits, ".", "_" or "-", not starting with "." or "-")'
                % (what, name))
    return None


def random_serial(taken=()):
    """A random positive 128-bit serial not in taken (hex strings)."""
    while True:
        serial = int.from_bytes(os.urandom(16), 'big')
        if serial and serial_hex(serial) not in taken:
            return serial


# Keys

def new_private_key(key_type=DEFAULT_KEY_TYPE, ec_curve=DEFAULT_EC_CURVE, rsa_key_size=DEFAULT_RSA_KEY_SIZE):
    if key_type == 'rsa':
        return rsa.generate_private_key(public_exponent=65537, key_size=int(rsa_key_size))
    if ec_curve not in EC_CURVES:
        raise X509CAError('unsupported EC curve %r (one of %s)' % (ec_curve, ', '.join(EC_CURVES)))
    return ec.generate_private_key(_curve(ec_curve))


def _curve(ec_curve):
    return {'secp256r1': ec.SECP256R1, 'secp384r1': ec.SECP384R1, 'secp521r1': ec.SECP521R1}[ec_curve]()


def _as_bytes(text):
    return text.encode('utf-8') if isinstance(text, str) else text


def private_key_pem(private_key):
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def load_private_key(data, passphrase=None):
    """The private key in PEM data; X509CAError (without the key) when it is not one or cannot be decrypted."""
    if isinstance(passphrase, str):
        passphrase = passphrase.encode('utf-8')
    try:
        private_key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        # cryptography's answer both to a missing passphrase and to a passphrase for a key that has none.
        if passphrase is None:
            raise X509CAError('the private key is encrypted and no passphrase was given')
        raise X509CAError('the private key is not encrypted but a passphrase was given')
    except (ValueError, UnsupportedAlgorithm):
        if passphrase is not None:
            raise X509CAError('the private key cannot be read: not a PEM private key, or a wrong passphrase')
        raise X509CAError('the private key cannot be read: not a PEM private key')
    if not isinstance(private_key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise X509CAError('the private key is neither an EC nor an RSA key')
    return private_key


def public_key_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_description(public_key):
    """('ec', 'secp384r1') or ('rsa', 3072)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return 'ec', public_key.curve.name
    if isinstance(public_key, rsa.RSAPublicKey):
        return 'rsa', public_key.key_size
    return 'other', None


def wanted_key_description(key_type, ec_curve, rsa_key_size):
    return ('rsa', int(rsa_key_size)) if key_type == 'rsa' else ('ec', ec_curve)


def _verify_signature(public_key, signature, data, hash_algorithm):
    """Whether signature over data verifies with public_key (EC or RSA PKCS#1 v1.5)."""
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


# Certificates, CSRs, CRLs

def load_certificate(data):
    """The certificate in PEM data, or X509CAError."""
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise X509CAError('not a PEM certificate')


def certificate_pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def not_after(certificate):
    moment = getattr(certificate, 'not_valid_after_utc', None)
    return moment if moment is not None else _aware(certificate.not_valid_after)


def common_name(x509_name):
    attributes = x509_name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attributes[0].value if attributes else None


def load_csr(data, verify=True):
    """The CSR in PEM data, with its signature checked (proof that its maker holds the key) unless verify is false."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    try:
        csr = x509.load_pem_x509_csr(data)
    except ValueError:
        raise X509CAError('not a PEM certificate signing request')
    try:
        public_key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise X509CAError('the key of the certificate signing request cannot be read')
    if not isinstance(public_key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise X509CAError('the key of the certificate signing request is neither an EC nor an RSA key')
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < MIN_RSA_KEY_SIZE:
        raise X509CAError('the RSA key of the certificate signing request has %d bits; at least %d are needed'
                          % (public_key.key_size, MIN_RSA_KEY_SIZE))
    if verify and not csr.is_signature_valid:
        raise X509CAError('the signature of the certificate signing request does not verify')
    return csr


def parse_subject_alt_names(values):
    """x509 general names for ['DNS:vpn.example.org', 'IP:192.0.2.1', ...]; X509CAError naming the first bad value."""
    names = []
    seen = set()
    for value in values or []:
        text = value if isinstance(value, str) else str(value)
        kind, separator, rest = text.partition(':')
        kind = kind.strip().upper()
        rest = rest.strip()
        if not separator or kind not in ('DNS', 'IP') or not rest:
            raise X509CAError('%r is not DNS:<name> or IP:<address>' % (text,))
        if kind == 'IP':
            try:
                address = ipaddress.ip_address(rest)
            except ValueError:
                raise X509CAError('%r is not an IP address' % (text,))
            general_name = x509.IPAddress(address)
        else:
            if not DNS_NAME_PATTERN.fullmatch(rest):
                raise X509CAError('%r is not a DNS name' % (text,))
            general_name = x509.DNSName(rest)
        key = san_string(general_name)
        if key in seen:
            raise X509CAError('%r is given twice' % (text,))
        seen.add(key)
        names.append(general_name)
    return names


def san_string(general_name):
    if isinstance(general_name, x509.IPAddress):
        return 'IP:%s' % general_name.value
    if isinstance(general_name, x509.DNSName):
        return 'DNS:%s' % general_name.value.lower()
    return '%s:%s' % (general_name.__class__.__name__, general_name.value)


def certificate_subject_alt_names(certificate):
    """The SANs of a certificate as a sorted list of 'DNS:..'/'IP:..' strings."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return sorted(san_string(general_name) for general_name in extension.value)


def expected_key_usage(public_key=None, certificate_authority=False):
    """CA: keyCertSign, cRLSign. Leaf: digitalSignature, and keyEncipherment for RSA keys (RSA key transport)."""
    return x509.KeyUsage(
        digital_signature=not certificate_authority, content_commitment=False,
        key_encipherment=not certificate_authority and isinstance(public_key, rsa.RSAPublicKey),
        data_encipherment=False, key_agreement=False, key_cert_sign=certificate_authority, crl_sign=certificate_authority,
        encipher_only=False, decipher_only=False)


def extended_key_usage(kind):
    return ExtendedKeyUsageOID.SERVER_AUTH if kind == 'server' else ExtendedKeyUsageOID.CLIENT_AUTH


def certificate_kind(certificate):
    """'server' or 'client' by the certificate's extended key usage, or None when it is neither alone."""
    try:
        usages = set(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return None
    if usages == {ExtendedKeyUsageOID.SERVER_AUTH}:
        return 'server'
    if usages == {ExtendedKeyUsageOID.CLIENT_AUTH}:
        return 'client'
    return None


def _authority_key_identifier(ca_certificate):
    try:
        subject_key_identifier = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(subject_key_identifier)


def create_ca_certificate(private_key, common_name_text, validity_days, now):
    """A self-signed CA certificate: CA:TRUE pathlen 0, keyCertSign + cRLSign, SKI, SHA-256."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name_text)])
    public_key = private_key.public_key()
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(subject)
               .public_key(public_key)
               .serial_number(random_serial())
               .not_valid_before(now - BACKDATE)
               .not_valid_after(now + datetime.timedelta(days=validity_days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(expected_key_usage(certificate_authority=True), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
    return builder.sign(private_key, hashes.SHA256())


def check_ca_pair(certificate, private_key):
    """X509CAError unless certificate is a CA certificate whose public key is private_key's."""
    try:
        basic_constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        basic_constraints = None
    if basic_constraints is None or not basic_constraints.ca:
        raise X509CAError('the certificate is not a CA certificate (no basicConstraints CA:TRUE)')
    if public_key_der(certificate.public_key()) != public_key_der(private_key.public_key()):
        raise X509CAError('the private key does not match the certificate')


def issue_certificate(ca_certificate, ca_private_key, public_key, name, kind, subject_alt_names, validity_days, now, serial):
    """A leaf certificate for public_key: CN=name, CA:FALSE, key usage by key type, EKU by kind, SANs, AKI/SKI, SHA-256."""
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca_certificate.subject)
               .public_key(public_key)
               .serial_number(serial)
               .not_valid_before(now - BACKDATE)
               .not_valid_after(now + datetime.timedelta(days=validity_days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(expected_key_usage(public_key), critical=True)
               .add_extension(x509.ExtendedKeyUsage([extended_key_usage(kind)]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(_authority_key_identifier(ca_certificate), critical=False))
    if subject_alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(subject_alt_names)), critical=False)
    return builder.sign(ca_private_key, hashes.SHA256())


def is_signed_by(document, ca_certificate):
    """Whether a certificate or CRL names ca_certificate's subject as issuer and its signature verifies."""
    if document.issuer != ca_certificate.subject:
        return False
    if isinstance(document, x509.CertificateRevocationList):
        tbs = document.tbs_certlist_bytes
    else:
        tbs = document.tbs_certificate_bytes
    hash_algorithm = document.signature_hash_algorithm
    if hash_algorithm is None:
        return False
    return _verify_signature(ca_certificate.public_key(), document.signature, tbs, hash_algorithm)


def certificate_problem(certificate, ca_certificate, wanted_public_key_der, name, kind, subject_alt_names,
                        renew_before_days, now, revoked_serials=()):
    """Why certificate cannot stay as name's certificate, or None when it can.

    wanted_public_key_der: SubjectPublicKeyInfo DER of the key it must certify. subject_alt_names: sorted
    'DNS:..'/'IP:..' strings. revoked_serials: hex serials.
    """
    if not is_signed_by(certificate, ca_certificate):
        return 'issued by another CA'
    if public_key_der(certificate.public_key()) != wanted_public_key_der:
        return 'new key'
    if common_name(certificate.subject) != name:
        return 'subject changed'
    if certificate_kind(certificate) != kind:
        return 'kind changed to %s' % kind
    if certificate_subject_alt_names(certificate) != list(subject_alt_names):
        return 'subject alt names changed'
    extensions_problem = _leaf_extensions_problem(certificate)
    if extensions_problem:
        return extensions_problem
    return _revocation_or_expiry_problem(serial_hex(certificate.serial_number), not_after(certificate), renew_before_days, now,
                                         revoked_serials)


def record_problem(record, wanted_public_key_sha256, kind, subject_alt_names, renew_before_days, now, revoked_serials=()):
    """certificate_problem for a certificate known by its state record (see X509Store); wanted_public_key_sha256
    None means the key of the certificate itself."""
    if wanted_public_key_sha256 is not None and record.get('public_key_sha256') != wanted_public_key_sha256:
        return 'new key'
    if record.get('kind') != kind:
        return 'kind changed to %s' % kind
    if record.get('subject_alt_names') != list(subject_alt_names):
        return 'subject alt names changed'
    return _revocation_or_expiry_problem(record['serial'], parse_iso(record['not_after']), renew_before_days, now, revoked_serials)


def _revocation_or_expiry_problem(serial, expires, renew_before_days, now, revoked_serials):
    if serial in revoked_serials:
        return 'revoked'
    if expires - datetime.timedelta(days=renew_before_days) <= now:
        return 'expires %s' % expires.strftime('%Y-%m-%d')
    return None


def _leaf_extensions_problem(certificate):
    """For certificates this store did not issue (adopted ones): the constraints and key usage it would set."""
    try:
        if certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return 'is a CA certificate'
    except x509.ExtensionNotFound:
        return 'basic constraints missing'
    try:
        key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return 'key usage changed'
    if key_usage != expected_key_usage(certificate.public_key()):
        return 'key usage changed'
    return None


def crl_next_update(crl):
    moment = getattr(crl, 'next_update_utc', None)
    if moment is not None:
        return moment
    return _aware(crl.next_update) if crl.next_update is not None else None


def crl_number(crl):
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return 0


def crl_serials(crl):
    return set(serial_hex(revoked.serial_number) for revoked in crl)


def build_crl(ca_certificate, ca_private_key, revoked_entries, number, now, validity_days):
    """A CRL of revoked_entries ({'serial': hex, 'revocation_date': iso, 'reason': name}) signed by the CA, with
    lastUpdate now, nextUpdate now + validity_days, CRL number and AKI."""
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(ca_certificate.subject)
               .last_update(now)
               .next_update(now + datetime.timedelta(days=validity_days))
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(_authority_key_identifier(ca_certificate), critical=False))
    for entry in revoked_entries:
        revoked = (x509.RevokedCertificateBuilder()
                   .serial_number(int(entry['serial'], 16))
                   .revocation_date(parse_iso(entry['revocation_date'])))
        reason = entry.get('reason') or 'unspecified'
        if reason != 'unspecified':
            revoked = revoked.add_extension(x509.CRLReason(x509.ReasonFlags[reason]), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(ca_private_key, hashes.SHA256())


def crl_problem(crl, ca_certificate, wanted_serials, renew_before_days, now, signature_checked=False):
    """Why the CRL has to be signed again, or None when it can stay (signature_checked: its signature by this CA is
    known to verify)."""
    if crl is None:
        return 'missing'
    if not signature_checked and not is_signed_by(crl, ca_certificate):
        return 'CA changed'
    if crl_serials(crl) != set(wanted_serials):
        return 'revoked certificates changed'
    next_update = crl_next_update(crl)
    if next_update is None:
        return 'no next update'
    if next_update - datetime.timedelta(days=renew_before_days) <= now:
        return 'next update %s is near' % next_update.strftime('%Y-%m-%d')
    return None


class CertificateSpec(object):
    """What one certificate should be. csr: PEM text made on the host that uses the key, or None for a key made
    here (key_type, ec_curve, rsa_key_size). subject_alt_names: the option's strings."""

    def __init__(self, name, kind='client', csr=None, subject_alt_names=None, key_type=DEFAULT_KEY_TYPE,
                 ec_curve=DEFAULT_EC_CURVE, rsa_key_size=DEFAULT_RSA_KEY_SIZE, validity_days=825):
        self.name = name
        self.kind = kind
        self.csr = csr
        self.subject_alt_names = list(subject_alt_names or [])
        self.key_type = key_type
        self.ec_curve = ec_curve
        self.rsa_key_size = rsa_key_size
        self.validity_days = validity_days


class X509Store(object):
    """The CA directory: read once, changes staged in memory, written by commit() (only files that differ).

    now is the one moment the whole run uses. Methods raise X509CAError (never with key material).
    """

    def __init__(self, path, now=None):
        self.path = path
        self.now = now or utc_now()
        self._files = {}
        self._staged = {}
        self._order = []
        self.ca_certificate = None
        self.ca_private_key = None
        self.ca_sha256 = None
        self.ca_action = None
        self.state = None
        self.state_before = None
        self.recorded_ca_sha256 = None
        self._csr_cache = {}
        self._serials_in_use = None
        self._revoked_serials = None
        self._crl = None
        self.warnings = []

    # Files

    def absolute(self, relative):
        return os.path.join(self.path, relative)

    def current(self, relative):
        """(bytes, mode) of a file as it is now, or (None, None); read at most once per run."""
        if relative not in self._files:
            try:
                with open(self.absolute(relative), 'rb') as handle:
                    mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
                    self._files[relative] = (handle.read(), mode)
            except (IOError, OSError):
                self._files[relative] = (None, None)
        return self._files[relative]

    def stage(self, relative, data, mode):
        """Make relative hold data with mode; a file that already does is left alone, one that differs only
        in its mode gets a chmod."""
        current_data, current_mode = self.current(relative)
        if current_data == data and current_mode == mode:
            self._unstage(relative)
            return False
        if relative not in self._staged:
            self._order.append(relative)
        self._staged[relative] = (data, mode)
        return True

    def stage_removal(self, relative):
        if self.current(relative)[0] is None and not os.path.lexists(self.absolute(relative)):
            self._unstage(relative)
            return False
        if relative not in self._staged:
            self._order.append(relative)
        self._staged[relative] = (None, None)
        return True

    def _unstage(self, relative):
        if relative in self._staged:
            del self._staged[relative]
            self._order.remove(relative)

    def ensure_mode(self, relative, mode):
        """Keep a file's content and fix its mode if it differs."""
        data, current_mode = self.current(relative)
        if data is not None and relative not in self._staged and current_mode != mode:
            self.stage(relative, data, mode)

    def changes(self):
        """[(relative path, 'write'|'mode'|'remove')] in the order they are committed."""
        changes = []
        for relative in self._commit_order():
            data, mode = self._staged[relative]
            if data is None:
                changes.append((relative, 'remove'))
            elif self.current(relative)[0] == data:
                changes.append((relative, 'mode'))
            else:
                changes.append((relative, 'write'))
        return changes

    def _commit_order(self):
        # Private keys before the certificates that match them, the state file last: a run that stops half way
        # leaves files the next run recognises (a certificate not in the state is checked by its signature).
        def rank(relative):
            if relative == STATE:
                return 3
            if relative in (CA_PRIVATE_KEY, CA_CERTIFICATE):
                return 0
            if relative.startswith(PRIVATE_DIRECTORY + '/'):
                return 1
            return 2
        return [relative for dummy, dummy, relative in sorted((rank(relative), index, relative) for index, relative in enumerate(self._order))]

    def commit(self):
        """Write what is staged: the directory 0700, each file atomically with its mode from the first byte."""
        if not self._staged:
            return
        if not os.path.isdir(self.path):
            os.makedirs(self.path, DIRECTORY_MODE)
            os.chmod(self.path, DIRECTORY_MODE)
        ready_directories = set()
        for relative, change in self.changes():
            absolute = self.absolute(relative)
            data, mode = self._staged[relative]
            if change == 'remove':
                if os.path.lexists(absolute):
                    os.unlink(absolute)
                continue
            if change == 'mode':
                os.chmod(absolute, mode)
                continue
            directory = os.path.dirname(absolute)
            if directory not in ready_directories:
                ensure_parent_directory(absolute)
                ready_directories.add(directory)
            write_private_file(absolute, data.decode('utf-8'), mode)
        for relative, (data, mode) in self._staged.items():
            self._files[relative] = (data, mode)
        self._staged = {}
        self._order = []

    # State

    def load(self):
        """Read the state file (an empty state when there is none)."""
        data = self.current(STATE)[0]
        if data is None:
            state = {}
        else:
            try:
                state = json.loads(data.decode('utf-8'))
            except ValueError:
                raise X509CAError('the state file %s is not valid JSON; fix it or remove it (it is rebuilt from the '
                                  'certificates and the CRL then)' % self.absolute(STATE))
            if not isinstance(state, dict) or state.get('format') != STATE_FORMAT:
                raise X509CAError('the state file %s is not in the format this module writes' % self.absolute(STATE))
        state.setdefault('format', STATE_FORMAT)
        state.setdefault('ca_sha256', None)
        state.setdefault('crl_number', 0)
        state.setdefault('certificates', {})
        state.setdefault('revoked', [])
        self.state = state
        self.state_before = json.loads(json.dumps(state))
        self.recorded_ca_sha256 = state['ca_sha256']

    def stage_state(self):
        self.stage(STATE, state_text(self.state).encode('utf-8'), PRIVATE_MODE)

    def revoked_serials(self):
        """The hex serials this CA revoked (kept up to date by revoke_serial)."""
        if self._revoked_serials is None:
            self._revoked_serials = set(entry['serial'] for entry in self.state['revoked'] if entry.get('ca_sha256') == self.ca_sha256)
        return self._revoked_serials

    def record(self, name):
        return self.state['certificates'].get(name)

    # CA

    def ensure_ca(self, common_name_text='overlaynet.vpn CA', key_type=DEFAULT_KEY_TYPE, ec_curve=DEFAULT_EC_CURVE,
                  rsa_key_size=DEFAULT_RSA_KEY_SIZE, validity_days=3650, import_certificate=None, import_private_key=None):
        """Use the store's CA, make one when there is none, or put an imported one (already checked with
        check_ca_pair) in place. Returns 'kept', 'created' or 'imported'."""
        current_certificate_data = self.current(CA_CERTIFICATE)[0]
        current_key_data = self.current(CA_PRIVATE_KEY)[0]
        if import_certificate is not None:
            certificate, private_key = import_certificate, import_private_key
            action = 'imported'
            if current_certificate_data is not None and current_key_data is not None:
                current_certificate = self._load_store_ca_certificate(current_certificate_data)
                if (current_certificate.public_bytes(serialization.Encoding.DER) == certificate.public_bytes(serialization.Encoding.DER)
                        and self._store_ca_key_matches(current_key_data, certificate)):
                    action = 'kept'
        elif current_certificate_data is None and current_key_data is None:
            private_key = new_private_key(key_type, ec_curve, rsa_key_size)
            certificate = create_ca_certificate(private_key, common_name_text, validity_days, self.now)
            action = 'created'
        elif current_certificate_data is None or current_key_data is None:
            present, missing = (CA_CERTIFICATE, CA_PRIVATE_KEY) if current_key_data is None else (CA_PRIVATE_KEY, CA_CERTIFICATE)
            raise X509CAError('%s holds %s but no %s; refusing to make a new CA over it (restore %s, or remove %s to start '
                              'a new CA)' % (self.path, present, missing, missing, present))
        else:
            certificate = self._load_store_ca_certificate(current_certificate_data)
            try:
                private_key = load_private_key(current_key_data)
                check_ca_pair(certificate, private_key)
            except X509CAError as exc:
                raise X509CAError('%s and %s in %s: %s' % (CA_CERTIFICATE, CA_PRIVATE_KEY, self.path, exc))
            action = 'kept'
        if action != 'kept':
            self.stage(CA_PRIVATE_KEY, private_key_pem(private_key), PRIVATE_MODE)
            self.stage(CA_CERTIFICATE, certificate_pem(certificate), PUBLIC_MODE)
        else:
            self.ensure_mode(CA_PRIVATE_KEY, PRIVATE_MODE)
            self.ensure_mode(CA_CERTIFICATE, PUBLIC_MODE)
        self.ca_certificate = certificate
        self.ca_private_key = private_key
        self.ca_sha256 = sha256_hex(certificate.public_bytes(serialization.Encoding.DER))
        self.ca_action = action
        if not_after(certificate) <= self.now:
            raise X509CAError('the CA certificate in %s expired on %s' % (self.path, iso(not_after(certificate))))
        return action

    def _load_store_ca_certificate(self, data):
        try:
            return load_certificate(data)
        except X509CAError:
            raise X509CAError('%s does not hold a PEM certificate' % self.absolute(CA_CERTIFICATE))

    def _store_ca_key_matches(self, key_data, certificate):
        try:
            return public_key_der(load_private_key(key_data).public_key()) == public_key_der(certificate.public_key())
        except X509CAError:
            return False

    def adopt_unrecorded(self):
        """Certificates in issued/ the state does not know (a lost state file, an imported CA's existing PKI) are
        recorded when this CA signed them; revoked serials in a CRL this CA signed are kept."""
        ca_changed = self.recorded_ca_sha256 != self.ca_sha256
        directory = self.absolute(ISSUED_DIRECTORY)
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            entries = []
        for entry in entries:
            if not entry.endswith('.crt'):
                continue
            name = entry[:-len('.crt')]
            if name_problem(name) or name in self.state['certificates']:
                continue
            try:
                certificate = load_certificate(self.current(self._certificate_path(name))[0] or b'')
            except X509CAError:
                continue
            if common_name(certificate.subject) != name or not is_signed_by(certificate, self.ca_certificate):
                continue
            self.state['certificates'][name] = self._record_for(certificate, self.current(self._certificate_path(name))[0],
                                                                certificate_kind(certificate) or 'other', None, None)
        crl, crl_signed = self._current_crl()
        if crl_signed:
            known = self.revoked_serials()
            for revoked in crl:
                serial = serial_hex(revoked.serial_number)
                if serial in known:
                    continue
                revocation_date = getattr(revoked, 'revocation_date_utc', None) or _aware(revoked.revocation_date)
                self.state['revoked'].append(dict(name=None, serial=serial, revocation_date=iso(revocation_date),
                                                  reason=_crl_entry_reason(revoked), not_after=None, ca_sha256=self.ca_sha256))
                known.add(serial)
            self.state['crl_number'] = max(self.state['crl_number'], crl_number(crl))
        if ca_changed:
            self.state['ca_sha256'] = self.ca_sha256
        return ca_changed

    def _current_crl(self):
        """(the CRL file's CRL or None, whether this CA signed it); parsed and checked once per run."""
        if self._crl is None:
            data = self.current(CRL)[0]
            crl = None
            if data is not None:
                try:
                    crl = x509.load_pem_x509_crl(data)
                except ValueError:
                    crl = None
            self._crl = (crl, crl is not None and is_signed_by(crl, self.ca_certificate))
        return self._crl

    # Certificates

    @staticmethod
    def _certificate_path(name):
        return '%s/%s.crt' % (ISSUED_DIRECTORY, name)

    @staticmethod
    def _private_key_path(name):
        return '%s/%s.key' % (PRIVATE_DIRECTORY, name)

    def certificate_path(self, name):
        return self.absolute(self._certificate_path(name))

    def private_key_path(self, name):
        return self.absolute(self._private_key_path(name))

    def _record_for(self, certificate, certificate_data, kind, private_key_sha256, csr_sha256):
        """The state of a valid certificate: what the next run compares without parsing the certificate again."""
        public_key = certificate.public_key()
        return dict(serial=serial_hex(certificate.serial_number), kind=kind, not_after=iso(not_after(certificate)),
                    status='valid', revocation_date=None, certificate_sha256=sha256_hex(certificate_data),
                    public_key_sha256=sha256_hex(public_key_der(public_key)), key='%s:%s' % key_description(public_key),
                    subject_alt_names=certificate_subject_alt_names(certificate),
                    private_key_sha256=private_key_sha256, csr_sha256=csr_sha256)

    def load_spec_csr(self, spec):
        """The parsed CSR of spec; its signature is checked unless it is the very CSR the current certificate was
        issued from. X509CAError (naming no key) when it does not parse or verify."""
        if spec.name not in self._csr_cache:
            csr_bytes = _as_bytes(spec.csr)
            record = self.record(spec.name)
            known = record is not None and record.get('csr_sha256') == sha256_hex(csr_bytes)
            self._csr_cache[spec.name] = load_csr(csr_bytes, verify=not known)
        return self._csr_cache[spec.name]

    def ensure_certificate(self, spec, renew_before_days):
        """Keep or (re)issue spec's certificate (and the key, when it is made here).

        Returns a dict: action (kept|issued|reissued), reason (None when kept), serial (hex), not_after (ISO 8601),
        certificate_data (PEM bytes), certificate_path, private_key_path (None for a CSR).
        """
        name = spec.name
        record = self.record(name)
        was_revoked = record is not None and record.get('status') == 'revoked'
        certificate_data = self.current(self._certificate_path(name))[0]
        wanted_sans = sorted(san_string(general_name) for general_name in parse_subject_alt_names(spec.subject_alt_names))
        # A certificate file that is byte for byte the one this CA wrote and recorded is judged by its record: no parsing,
        # no signature check.
        recorded = (not was_revoked and record is not None and certificate_data is not None and self.recorded_ca_sha256 == self.ca_sha256
                    and record.get('certificate_sha256') == sha256_hex(certificate_data) and 'subject_alt_names' in record)
        certificate = None
        if certificate_data is not None and not recorded:
            try:
                certificate = load_certificate(certificate_data)
            except X509CAError:
                certificate = None
        private_key_object = None
        private_key_sha256 = None
        csr_sha256 = None
        key_reason = None
        if spec.csr is not None:
            public_key = self.load_spec_csr(spec).public_key()
            wanted_der = public_key_der(public_key)
            csr_sha256 = sha256_hex(_as_bytes(spec.csr))
            if was_revoked and record.get('public_key_sha256') == sha256_hex(wanted_der):
                self.warnings.append('%s: the CSR has the key of the revoked certificate %s; make a new key and CSR on that host if '
                                     'the key may have been compromised' % (name, record['serial']))
            # A key for this name made here earlier is not needed any more: the host keeps its own.
            self.stage_removal(self._private_key_path(name))
        else:
            public_key, wanted_der, private_key_object, private_key_sha256, key_reason = self._private_key_for(
                spec, was_revoked, record if recorded else None, certificate)

        if was_revoked:
            reason = 'certificate %s was revoked' % record['serial']
        elif certificate_data is None:
            reason = 'new' if record is None else 'certificate file missing'
        elif not recorded and certificate is None:
            reason = 'certificate file is not a valid certificate'
        elif key_reason is not None:
            reason = key_reason
        elif recorded:
            reason = record_problem(record, None if wanted_der is None else sha256_hex(wanted_der), spec.kind, wanted_sans,
                                    renew_before_days, self.now, self.revoked_serials())
        else:
            reason = certificate_problem(certificate, self.ca_certificate, wanted_der, name, spec.kind, wanted_sans,
                                         renew_before_days, self.now, self.revoked_serials())

        if reason is None:
            self.ensure_mode(self._certificate_path(name), PUBLIC_MODE)
            if spec.csr is None:
                self.ensure_mode(self._private_key_path(name), PRIVATE_MODE)
            if recorded:
                new_record = dict(record, kind=spec.kind, private_key_sha256=private_key_sha256, csr_sha256=csr_sha256)
            else:
                new_record = self._record_for(certificate, certificate_data, spec.kind, private_key_sha256, csr_sha256)
            self.state['certificates'][name] = new_record
            return dict(action='kept', reason=None, serial=new_record['serial'], not_after=new_record['not_after'],
                        certificate_data=certificate_data, certificate_path=self.certificate_path(name),
                        private_key_path=self._key_path_or_none(spec))

        if reason in SUPERSEDING_REASONS and not was_revoked and certificate_data is not None:
            if recorded:
                self.revoke_serial(record['serial'], 'superseded', name=name, not_after_text=record['not_after'])
            elif certificate is not None and is_signed_by(certificate, self.ca_certificate):
                self.revoke_serial(serial_hex(certificate.serial_number), 'superseded', name=name,
                                   not_after_text=iso(not_after(certificate)))
        if public_key is None:
            # The kept key made here is the key of the recorded certificate.
            public_key = load_certificate(certificate_data).public_key()
        new_certificate = issue_certificate(self.ca_certificate, self.ca_private_key, public_key, name, spec.kind,
                                            parse_subject_alt_names(spec.subject_alt_names), spec.validity_days, self.now,
                                            self._new_serial())
        new_certificate_data = certificate_pem(new_certificate)
        if private_key_object is not None:
            private_key_data = private_key_pem(private_key_object)
            private_key_sha256 = sha256_hex(private_key_data)
            self.stage(self._private_key_path(name), private_key_data, PRIVATE_MODE)
        elif spec.csr is None:
            self.ensure_mode(self._private_key_path(name), PRIVATE_MODE)
        self.stage(self._certificate_path(name), new_certificate_data, PUBLIC_MODE)
        new_record = self._record_for(new_certificate, new_certificate_data, spec.kind, private_key_sha256, csr_sha256)
        self.state['certificates'][name] = new_record
        return dict(action='issued' if record is None and certificate_data is None else 'reissued', reason=reason,
                    serial=new_record['serial'], not_after=new_record['not_after'], certificate_data=new_certificate_data,
                    certificate_path=self.certificate_path(name), private_key_path=self._key_path_or_none(spec))

    def _key_path_or_none(self, spec):
        return self.private_key_path(spec.name) if spec.csr is None else None

    def _private_key_for(self, spec, was_revoked, record, certificate):
        """For a key made here: (public key, its SubjectPublicKeyInfo DER, new private key or None, sha256 of the kept
        key file or None, reason the certificate has to change because of the key or None).

        With record (the certificate file is the recorded one) and the key file the one recorded with it, the key is
        not loaded: public key and DER are None then, meaning "the key of the certificate".
        """
        wanted = '%s:%s' % wanted_key_description(spec.key_type, spec.ec_curve, spec.rsa_key_size)
        # Never the key of a revoked certificate again, even when its file was put back.
        key_data = None if was_revoked else self.current(self._private_key_path(spec.name))[0]
        reason = None
        if key_data is None:
            reason = None if was_revoked or (record is None and certificate is None) else 'new key'
        else:
            key_sha256 = sha256_hex(key_data)
            if record is not None and record.get('private_key_sha256') == key_sha256:
                if record.get('key') == wanted:
                    return None, None, None, key_sha256, None
                reason = 'key type changed'
            else:
                try:
                    existing_public_key = load_private_key(key_data).public_key()
                except X509CAError:
                    existing_public_key = None
                if existing_public_key is None:
                    reason = 'new key'
                elif '%s:%s' % key_description(existing_public_key) != wanted:
                    reason = 'key type changed'
                else:
                    return existing_public_key, public_key_der(existing_public_key), None, key_sha256, None
        private_key = new_private_key(spec.key_type, spec.ec_curve, spec.rsa_key_size)
        return private_key.public_key(), public_key_der(private_key.public_key()), private_key, None, reason

    def _new_serial(self):
        if self._serials_in_use is None:
            self._serials_in_use = set(entry['serial'] for entry in self.state['revoked'])
            self._serials_in_use.update(record['serial'] for record in self.state['certificates'].values())
        serial = random_serial(self._serials_in_use)
        self._serials_in_use.add(serial_hex(serial))
        return serial

    # Revocation

    def revoke_serial(self, serial, reason='unspecified', name=None, not_after_text=None, revocation_date=None):
        """Add a serial (hex) to the revoked certificates of this CA; False when it is there already."""
        if reason not in REVOCATION_REASONS:
            raise X509CAError('unknown revocation reason %r (one of %s)' % (reason, ', '.join(REVOCATION_REASONS)))
        if serial in self.revoked_serials():
            return False
        self.state['revoked'].append(dict(name=name, serial=serial, revocation_date=iso(revocation_date or self.now),
                                          reason=reason, not_after=not_after_text, ca_sha256=self.ca_sha256))
        self._revoked_serials.add(serial)
        return True

    def revoke(self, name, reason='unspecified'):
        """Revoke name's current certificate; its certificate and key files go. False when it was revoked already."""
        record = self.record(name)
        if record is None:
            raise X509CAError('%r was never issued' % (name,))
        if record.get('status') == 'revoked':
            return False
        self.revoke_serial(record['serial'], reason, name=name, not_after_text=record.get('not_after'))
        record['status'] = 'revoked'
        record['revocation_date'] = iso(self.now)
        self.stage_removal(self._certificate_path(name))
        self.stage_removal(self._private_key_path(name))
        return True

    def revoked_names(self):
        return sorted(name for name, record in self.state['certificates'].items() if record.get('status') == 'revoked')

    def ensure_crl(self, validity_days, renew_before_days):
        """Keep the CRL, or sign a new one (number + 1). Returns (crl, reason or None when kept)."""
        crl, crl_signed = self._current_crl()
        wanted = [entry for entry in self.state['revoked'] if entry.get('ca_sha256') == self.ca_sha256]
        if crl is None and self.current(CRL)[0] is not None:
            reason = 'not a valid CRL'
        elif crl is not None and not crl_signed:
            reason = 'CA changed'
        else:
            reason = crl_problem(crl, self.ca_certificate, [entry['serial'] for entry in wanted], renew_before_days, self.now,
                                 signature_checked=True)
        if reason is None:
            self.ensure_mode(CRL, PUBLIC_MODE)
            self.state['crl_number'] = max(self.state['crl_number'], crl_number(crl))
            return crl, None
        number = max(self.state['crl_number'], crl_number(crl) if crl is not None else 0) + 1
        new_crl = build_crl(self.ca_certificate, self.ca_private_key, wanted, number, self.now, validity_days)
        self.stage(CRL, new_crl.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)
        self.state['crl_number'] = number
        return new_crl, reason


def state_text(state):
    """The state as JSON with one line per certificate and per revoked serial: readable, and quick to write
    (the indenting encoder is the slow pure-Python one)."""
    def block(key, opening, closing, items):
        if not items:
            return ['  %s: %s%s' % (json.dumps(key), opening, closing)]
        lines = ['  %s: %s' % (json.dumps(key), opening)]
        lines.extend('    %s%s' % (item, ',' if index < len(items) - 1 else '') for index, item in enumerate(items))
        lines.append('  %s' % closing)
        return lines

    keys = sorted(state)
    lines = ['{']
    for index, key in enumerate(keys):
        value = state[key]
        if key == 'certificates':
            part = block(key, '{', '}', ['%s: %s' % (json.dumps(name), json.dumps(value[name], sort_keys=True)) for name in sorted(value)])
        elif key == 'revoked':
            part = block(key, '[', ']', [json.dumps(entry, sort_keys=True) for entry in value])
        else:
            part = ['  %s: %s' % (json.dumps(key), json.dumps(value, sort_keys=True))]
        if index < len(keys) - 1:
            part[-1] += ','
        lines.extend(part)
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _crl_entry_reason(revoked):
    try:
        return revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        return 'unspecified'
