# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""X.509 as pure functions: keys (made, loaded, serialised, described, fingerprinted), names, certificates, CSRs,
subject alt names, key usages and CRLs, for the CA store (_x509_ca, controller) and the key a VPN host keeps with its
signing request (_x509_key_request). No private key is ever put into a message or a returned value.

module_utils are standard library only by rule; this file may use `cryptography` because it is there wherever it runs:
on the controller it comes with ansible-core, on the VPN hosts every role that calls overlaynet.vpn.x509_key_request
installs it first (python3-cryptography). The import is guarded so that importing this file never fails; modules fail
with missing_required_lib when HAS_CRYPTOGRAPHY is false. Only APIs of cryptography 3.1 and later are used (no backend
arguments): every supported target's package has them (the oldest, Ubuntu 22.04, has 3.4.8).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import ipaddress
import os
import re
import traceback

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

# Lists, as the modules' argument specs take them for choices.
KINDS = ['server', 'client']
KEY_TYPES = ['ec', 'rsa']
EC_CURVES = ['secp256r1', 'secp384r1', 'secp521r1']
RSA_KEY_SIZES = [2048, 3072, 4096]
DEFAULT_KEY_TYPE = 'ec'
DEFAULT_EC_CURVE = 'secp384r1'
DEFAULT_RSA_KEY_SIZE = 3072
MIN_RSA_KEY_SIZE = 2048
RSA_PUBLIC_EXPONENT = 65537
# ub-common-name of RFC 5280: a longer common name is not a valid X.509 name.
MAX_COMMON_NAME_LENGTH = 64
# How dates are written in results, messages and the CA's state file: ISO 8601 in UTC.
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'

# Letters, digits, '.', '_', '-', 1 to 64 characters (the longest common name X.509 allows). A leading
# '.' or '-' is refused too: it would make a hidden file (or '.', '..') or read as an option to a tool.
NAME_PATTERN = re.compile(r'[A-Za-z0-9_][A-Za-z0-9._-]{0,63}')
# A host name, optionally a wildcard; labels of letters, digits, '_' and inner '-'.
DNS_NAME_PATTERN = re.compile(r'(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?')
# Certificates start a little in the past, so that a host whose clock lags behind accepts them at once.
BACKDATE = datetime.timedelta(minutes=10)
# Revocation reasons written into CRLs (RFC 5280 CRLReason, as cryptography's ReasonFlags names them).
REVOCATION_REASONS = ('unspecified', 'key_compromise', 'affiliation_changed', 'superseded', 'cessation_of_operation')


class X509Error(Exception):
    """A problem with a key, a name, a certificate, a CSR, a CRL or the CA store; the message holds no secret."""


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(moment):
    """'2027-01-03T12:00:00Z' for an aware or naive-UTC datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.strftime(TIME_FORMAT)


def parse_iso(text):
    return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=datetime.timezone.utc)


def _utc(document, attribute):
    """document.<attribute>_utc (cryptography 42 and later, where the naive <attribute> is deprecated), else the naive
    one (in UTC) made aware; None when the document has no such date."""
    moment = getattr(document, attribute + '_utc', None)
    if moment is None:
        moment = getattr(document, attribute)
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=datetime.timezone.utc)


def serial_hex(serial):
    """The serial as OpenSSL prints it: upper-case hex, whole bytes."""
    text = '%X' % serial
    return text if len(text) % 2 == 0 else '0' + text


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def as_bytes(text):
    """text encoded as UTF-8; bytes and None as they are."""
    return text.encode('utf-8') if isinstance(text, str) else text


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


# Keys. A key description is ('ec', curve name) or ('rsa', size in bits): what the options ask for and what a
# key is compare equal exactly when the key is of the asked type.

def new_private_key(key_type=DEFAULT_KEY_TYPE, ec_curve=DEFAULT_EC_CURVE, rsa_key_size=DEFAULT_RSA_KEY_SIZE):
    """A new EC key on ec_curve, or for key_type 'rsa' an RSA key of rsa_key_size bits."""
    if key_type == 'rsa':
        return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=int(rsa_key_size))
    if ec_curve not in EC_CURVES:
        raise X509Error('unsupported EC curve %r (one of %s)' % (ec_curve, ', '.join(EC_CURVES)))
    # The curve classes are named as the curves, upper case: ec.SECP384R1 for secp384r1.
    return ec.generate_private_key(getattr(ec, ec_curve.upper())())


def private_key_pem(private_key):
    """The key as unencrypted PKCS#8 PEM bytes (-----BEGIN PRIVATE KEY-----), for its file only."""
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def load_private_key(data, passphrase=None, none_if_unusable=False):
    """The EC or RSA private key in PEM data (PKCS#8 or the traditional format, encrypted when passphrase is given).

    X509Error (without the key) when data holds none: garbage, an encrypted key without its passphrase, a wrong
    passphrase, a key of another algorithm (Ed25519, DSA, ...). With none_if_unusable, None instead: for a key file
    that is replaced when it holds no usable key.
    """
    passphrase = as_bytes(passphrase)
    problem = None
    try:
        private_key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        # cryptography's answer both to a missing passphrase and to a passphrase for a key that has none.
        if passphrase is None:
            problem = 'the private key is encrypted and no passphrase was given'
        else:
            problem = 'the private key is not encrypted but a passphrase was given'
    except (ValueError, UnsupportedAlgorithm):
        problem = 'the private key cannot be read: not a PEM private key'
        if passphrase is not None:
            problem += ', or a wrong passphrase'
    else:
        if not isinstance(private_key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            problem = 'the private key is neither an EC nor an RSA key'
    if problem is None:
        return private_key
    if none_if_unusable:
        return None
    raise X509Error(problem)


def _public_key(key):
    """key itself, or the public key of an EC or RSA private key."""
    if isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        return key.public_key()
    return key


def public_key_der(key):
    """The DER SubjectPublicKeyInfo of a public key, or of a private key's public key: what tells keys apart."""
    return _public_key(key).public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_sha256(key):
    """Hex SHA-256 of public_key_der(key): the key's fingerprint in results and the CA's state file."""
    return sha256_hex(public_key_der(key))


def key_description(key):
    """('ec', 'secp384r1') or ('rsa', 3072) for a public or private key; ('other', None) for another algorithm."""
    key = _public_key(key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return 'ec', key.curve.name
    if isinstance(key, rsa.RSAPublicKey):
        return 'rsa', key.key_size
    return 'other', None


def wanted_key_description(key_type, ec_curve, rsa_key_size):
    """The description of the key the options ask for; only the detail of the key type counts."""
    return ('rsa', int(rsa_key_size)) if key_type == 'rsa' else ('ec', ec_curve)


def describe_key(description, in_option_words=False):
    """A key description for messages: 'EC secp384r1 key', 'RSA 3072-bit key'; with in_option_words the option
    values as written, 'ec secp384r1 key', 'rsa 3072 key' (openvpn_pki's CA warning quotes its ca options so)."""
    key_type, detail = description
    if in_option_words:
        return '%s %s key' % (key_type, detail)
    if key_type == 'ec':
        return 'EC %s key' % detail
    if key_type == 'rsa':
        return 'RSA %d-bit key' % detail
    return 'key of another algorithm'


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


# Names, certificates, CSRs

def subject_name(common_name_text):
    """The X.509 name CN=common_name_text; X509Error for a common name X.509 cannot carry."""
    if not isinstance(common_name_text, str) or not common_name_text:
        raise X509Error('common_name must be a non-empty string')
    if len(common_name_text) > MAX_COMMON_NAME_LENGTH:
        raise X509Error('common_name must be at most %d characters (RFC 5280), it has %d' % (MAX_COMMON_NAME_LENGTH, len(common_name_text)))
    try:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name_text)])
    except ValueError as exc:
        raise X509Error('common_name %r cannot be an X.509 common name: %s' % (common_name_text, exc))


def common_name(x509_name):
    attributes = x509_name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attributes[0].value if attributes else None


def pem_bytes(document):
    """PEM bytes of a certificate, CSR or CRL."""
    return document.public_bytes(serialization.Encoding.PEM)


def der_bytes(document):
    """DER bytes of a certificate, CSR or CRL."""
    return document.public_bytes(serialization.Encoding.DER)


def load_certificate(data):
    """The first certificate in PEM data, or X509Error."""
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise X509Error('not a PEM certificate')


def readable_public_key(document, what='certificate'):
    """The public key of a certificate or CSR; X509Error naming what when cryptography cannot read it."""
    try:
        return document.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise X509Error('the key of the %s cannot be read' % what)


def not_after(certificate):
    return _utc(certificate, 'not_valid_after')


def make_csr(private_key, common_name_text):
    """PEM text of a signing request for the key, with subject CN=common_name_text, signed with the key (SHA-256).

    Nothing but the subject is requested: the CA decides the extensions (server or client use).
    """
    request = x509.CertificateSigningRequestBuilder().subject_name(subject_name(common_name_text)).sign(private_key, hashes.SHA256())
    return pem_bytes(request).decode('ascii')


def load_csr(data, verify=True):
    """The CSR in PEM data, with its signature checked (proof that its maker holds the key) unless verify is false."""
    try:
        csr = x509.load_pem_x509_csr(as_bytes(data))
    except ValueError:
        raise X509Error('not a PEM certificate signing request')
    public_key = readable_public_key(csr, 'certificate signing request')
    if not isinstance(public_key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise X509Error('the key of the certificate signing request is neither an EC nor an RSA key')
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < MIN_RSA_KEY_SIZE:
        raise X509Error('the RSA key of the certificate signing request has %d bits; at least %d are needed'
                        % (public_key.key_size, MIN_RSA_KEY_SIZE))
    if verify and not csr.is_signature_valid:
        raise X509Error('the signature of the certificate signing request does not verify')
    return csr


# Subject alt names, key usages

def parse_subject_alt_names(values):
    """x509 general names for ['DNS:vpn.example.org', 'IP:192.0.2.1', ...]; X509Error naming the first bad value."""
    names = []
    seen = set()
    for value in values or []:
        text = value if isinstance(value, str) else str(value)
        kind, separator, rest = text.partition(':')
        kind = kind.strip().upper()
        rest = rest.strip()
        if not separator or kind not in ('DNS', 'IP') or not rest:
            raise X509Error('%r is not DNS:<name> or IP:<address>' % (text,))
        if kind == 'IP':
            try:
                address = ipaddress.ip_address(rest)
            except ValueError:
                raise X509Error('%r is not an IP address' % (text,))
            general_name = x509.IPAddress(address)
        else:
            if not DNS_NAME_PATTERN.fullmatch(rest):
                raise X509Error('%r is not a DNS name' % (text,))
            general_name = x509.DNSName(rest)
        key = san_string(general_name)
        if key in seen:
            raise X509Error('%r is given twice' % (text,))
        seen.add(key)
        names.append(general_name)
    return names


def san_string(general_name):
    if isinstance(general_name, x509.IPAddress):
        return 'IP:%s' % general_name.value
    if isinstance(general_name, x509.DNSName):
        return 'DNS:%s' % general_name.value.lower()
    return '%s:%s' % (general_name.__class__.__name__, general_name.value)


def _extension_value(document, extension_class):
    """The value of the certificate's, CRL's or CRL entry's extension of extension_class, or None when it has none."""
    try:
        return document.extensions.get_extension_for_class(extension_class).value
    except x509.ExtensionNotFound:
        return None


def certificate_subject_alt_names(certificate):
    """The SANs of a certificate as a sorted list of 'DNS:..'/'IP:..' strings."""
    return sorted(san_string(general_name) for general_name in _extension_value(certificate, x509.SubjectAlternativeName) or [])


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
    usages = set(_extension_value(certificate, x509.ExtendedKeyUsage) or [])
    if usages == {ExtendedKeyUsageOID.SERVER_AUTH}:
        return 'server'
    if usages == {ExtendedKeyUsageOID.CLIENT_AUTH}:
        return 'client'
    return None


def authority_key_identifier(ca_certificate):
    """The AuthorityKeyIdentifier the CA puts into what it signs: its subject key identifier, or one made from its key."""
    subject_key_identifier = _extension_value(ca_certificate, x509.SubjectKeyIdentifier)
    if subject_key_identifier is None:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_certificate.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(subject_key_identifier)


# Issuing and checking

def create_ca_certificate(private_key, common_name_text, validity_days, now):
    """A self-signed CA certificate: CA:TRUE pathlen 0, keyCertSign + cRLSign, SKI, SHA-256."""
    subject = subject_name(common_name_text)
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
    """X509Error unless certificate is a CA certificate whose public key is private_key's."""
    basic_constraints = _extension_value(certificate, x509.BasicConstraints)
    if basic_constraints is None or not basic_constraints.ca:
        raise X509Error('the certificate is not a CA certificate (no basicConstraints CA:TRUE)')
    if public_key_der(certificate.public_key()) != public_key_der(private_key):
        raise X509Error('the private key does not match the certificate')


def issue_certificate(ca_certificate, ca_private_key, public_key, name, kind, subject_alt_names, validity_days, now, serial,
                      ca_key_identifier=None):
    """A leaf certificate for public_key: CN=name, CA:FALSE, key usage by key type, EKU by kind, SANs, AKI/SKI, SHA-256.

    ca_key_identifier: authority_key_identifier(ca_certificate) when the caller keeps it for many certificates of one CA.
    """
    if ca_key_identifier is None:
        ca_key_identifier = authority_key_identifier(ca_certificate)
    builder = (x509.CertificateBuilder()
               .subject_name(subject_name(name))
               .issuer_name(ca_certificate.subject)
               .public_key(public_key)
               .serial_number(serial)
               .not_valid_before(now - BACKDATE)
               .not_valid_after(now + datetime.timedelta(days=validity_days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(expected_key_usage(public_key), critical=True)
               .add_extension(x509.ExtendedKeyUsage([extended_key_usage(kind)]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(ca_key_identifier, critical=False))
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
    return revocation_or_expiry_problem(serial_hex(certificate.serial_number), not_after(certificate), renew_before_days, now,
                                        revoked_serials)


def revocation_or_expiry_problem(serial, expires, renew_before_days, now, revoked_serials):
    """'revoked' when serial (hex) is in revoked_serials, 'expires <date>' inside the renewal window, else None."""
    if serial in revoked_serials:
        return 'revoked'
    if expires - datetime.timedelta(days=renew_before_days) <= now:
        return 'expires %s' % expires.strftime('%Y-%m-%d')
    return None


def _leaf_extensions_problem(certificate):
    """For certificates this CA did not issue (adopted ones): the constraints and key usage it would set."""
    basic_constraints = _extension_value(certificate, x509.BasicConstraints)
    if basic_constraints is None:
        return 'basic constraints missing'
    if basic_constraints.ca:
        return 'is a CA certificate'
    if _extension_value(certificate, x509.KeyUsage) != expected_key_usage(certificate.public_key()):
        return 'key usage changed'
    return None


# CRLs

def load_crl(data):
    """The CRL in PEM data, or X509Error."""
    try:
        return x509.load_pem_x509_crl(data)
    except ValueError:
        raise X509Error('not a PEM CRL')


def load_crls(data):
    """The CRLs of data, PEM blocks one after the other (none when data is empty), or X509Error."""
    marker = b'-----END X509 CRL-----'
    parts = data.split(marker)
    if parts[-1].strip():
        raise X509Error('text after the last PEM CRL')
    return [load_crl(part + marker) for part in parts[:-1]]


def crl_last_update(crl):
    return _utc(crl, 'last_update')


def crl_next_update(crl):
    return _utc(crl, 'next_update')


def crl_number(crl):
    number = _extension_value(crl, x509.CRLNumber)
    return number.crl_number if number is not None else 0


def crl_serials(crl):
    return set(serial_hex(revoked.serial_number) for revoked in crl)


def crl_entry_revocation_date(revoked):
    return _utc(revoked, 'revocation_date')


def crl_entry_reason(revoked):
    reason = _extension_value(revoked, x509.CRLReason)
    return reason.reason.name if reason is not None else 'unspecified'


def build_crl(ca_certificate, ca_private_key, revoked_entries, number, now, validity_days):
    """A CRL of revoked_entries ({'serial': hex, 'revocation_date': iso, 'reason': name}) signed by the CA, with
    lastUpdate now, nextUpdate now + validity_days, CRL number and AKI."""
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(ca_certificate.subject)
               .last_update(now)
               .next_update(now + datetime.timedelta(days=validity_days))
               .add_extension(x509.CRLNumber(number), critical=False)
               .add_extension(authority_key_identifier(ca_certificate), critical=False))
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
