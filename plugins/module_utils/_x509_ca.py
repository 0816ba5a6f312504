# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small X.509 certificate authority kept in one directory on the controller.

X509Store reads the directory once, decides what has to change, stages the new file contents in memory and
writes them in commit() (never called in check mode); the keys, certificates and CRLs themselves are made and
checked by the pure functions of _x509. Nothing here is specific to one VPN: OpenVPN, ocserv and headscale use
the same store; kinds are 'server' (EKU serverAuth) and 'client' (EKU clientAuth).

Layout under the store directory (0700):
    ca.crt (0644)  ca.key (0600)  crl.pem (0644)  crl-ahead.pem (0644, when asked for)  state.json (0600)
    issued/<name>.crt (0644)  private/<name>.key (0600, only keys made here)

No private key is ever put into an exception message or a returned value; reasons only name what
differs. The state file records SHA-256 digests of the key files made here, to recognise an
unchanged key without loading it.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import os

from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import (
    DEFAULT_EC_CURVE,
    DEFAULT_KEY_TYPE,
    DEFAULT_RSA_KEY_SIZE,
    REVOCATION_REASONS,
    X509Error,
    as_bytes,
    authority_key_identifier,
    build_crl,
    certificate_kind,
    certificate_problem,
    certificate_subject_alt_names,
    check_ca_pair,
    common_name,
    create_ca_certificate,
    crl_entry_reason,
    crl_entry_revocation_date,
    crl_last_update,
    crl_next_update,
    crl_number,
    crl_serials,
    crl_problem,
    der_bytes,
    is_signed_by,
    iso,
    issue_certificate,
    key_description,
    load_certificate,
    load_crl,
    load_crls,
    load_csr,
    load_private_key,
    name_problem,
    new_private_key,
    not_after,
    parse_iso,
    parse_subject_alt_names,
    pem_bytes,
    private_key_pem,
    public_key_der,
    public_key_sha256,
    random_serial,
    revocation_or_expiry_problem,
    san_string,
    serial_hex,
    sha256_hex,
    utc_now,
    wanted_key_description,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._staged_directory import StagedDirectory

from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_layout import (
    CA_CERTIFICATE,
    CA_PRIVATE_KEY,
    CRL,
    CRL_AHEAD,
    ISSUED_DIRECTORY,
    PRIVATE_DIRECTORY,
    STATE,
    issued_certificate,
    private_key_file,
)

PUBLIC_MODE = 0o644
PRIVATE_MODE = 0o600
STATE_FORMAT = 1

# A certificate replaced for one of these reasons is revoked as superseded: the old one still works with
# another key or for another role otherwise. One replaced because it expires or its names changed stays valid
# until it expires, so a host that misses the run that renews it keeps working.
SUPERSEDING_REASONS = ('new key', 'kind changed to server', 'kind changed to client', 'key type changed')


def record_problem(record, wanted_public_key_sha256, kind, subject_alt_names, renew_before_days, now, revoked_serials=()):
    """certificate_problem for a certificate known by its state record (see X509Store); wanted_public_key_sha256
    None means the key of the certificate itself."""
    if wanted_public_key_sha256 is not None and record.get('public_key_sha256') != wanted_public_key_sha256:
        return 'new key'
    if record.get('kind') != kind:
        return 'kind changed to %s' % kind
    if record.get('subject_alt_names') != list(subject_alt_names):
        return 'subject alt names changed'
    return revocation_or_expiry_problem(record['serial'], parse_iso(record['not_after']), renew_before_days, now, revoked_serials)


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


class X509Store(StagedDirectory):
    """The CA directory: read once, changes staged in memory, written by commit() (only files that differ).

    now is the one moment the whole run uses. Methods raise X509Error (never with key material).
    """

    def __init__(self, path, now=None):
        super(X509Store, self).__init__(path)
        self.now = now or utc_now()
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
        self._ca_key_identifier = (None, None)
        self.warnings = []

    def commit_rank(self, relative):
        # The CA first, private keys before the certificates that match them, the state file last: a run that stops
        # half way leaves files the next run recognises (a certificate not in the state is checked by its signature).
        if relative == STATE:
            return 3
        if relative in (CA_PRIVATE_KEY, CA_CERTIFICATE):
            return 0
        if relative.startswith(PRIVATE_DIRECTORY + '/'):
            return 1
        return 2

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
                raise X509Error('the state file %s is not valid JSON; fix it or remove it (it is rebuilt from the '
                                'certificates and the CRL then)' % self.absolute(STATE))
            if not isinstance(state, dict) or state.get('format') != STATE_FORMAT:
                raise X509Error('the state file %s is not in the format this module writes' % self.absolute(STATE))
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
                if (der_bytes(current_certificate) == der_bytes(certificate)
                        and self._store_ca_key_matches(current_key_data, certificate)):
                    action = 'kept'
        elif current_certificate_data is None and current_key_data is None:
            private_key = new_private_key(key_type, ec_curve, rsa_key_size)
            certificate = create_ca_certificate(private_key, common_name_text, validity_days, self.now)
            action = 'created'
        elif current_certificate_data is None or current_key_data is None:
            present, missing = (CA_CERTIFICATE, CA_PRIVATE_KEY) if current_key_data is None else (CA_PRIVATE_KEY, CA_CERTIFICATE)
            raise X509Error('%s holds %s but no %s; refusing to make a new CA over it (restore %s, or remove %s to start '
                            'a new CA)' % (self.path, present, missing, missing, present))
        else:
            certificate = self._load_store_ca_certificate(current_certificate_data)
            try:
                private_key = load_private_key(current_key_data)
                check_ca_pair(certificate, private_key)
            except X509Error as exc:
                raise X509Error('%s and %s in %s: %s' % (CA_CERTIFICATE, CA_PRIVATE_KEY, self.path, exc))
            action = 'kept'
        if action != 'kept':
            self.stage(CA_PRIVATE_KEY, private_key_pem(private_key), PRIVATE_MODE)
            self.stage(CA_CERTIFICATE, pem_bytes(certificate), PUBLIC_MODE)
        else:
            self.ensure_mode(CA_PRIVATE_KEY, PRIVATE_MODE)
            self.ensure_mode(CA_CERTIFICATE, PUBLIC_MODE)
        self.ca_certificate = certificate
        self.ca_private_key = private_key
        self.ca_sha256 = sha256_hex(der_bytes(certificate))
        self.ca_action = action
        if not_after(certificate) <= self.now:
            raise X509Error('the CA certificate in %s expired on %s' % (self.path, iso(not_after(certificate))))
        return action

    def _load_store_ca_certificate(self, data):
        try:
            return load_certificate(data)
        except X509Error:
            raise X509Error('%s does not hold a PEM certificate' % self.absolute(CA_CERTIFICATE))

    def _store_ca_key_matches(self, key_data, certificate):
        try:
            return public_key_der(load_private_key(key_data).public_key()) == public_key_der(certificate.public_key())
        except X509Error:
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
                certificate_data = self.current(issued_certificate(name))[0]
                certificate = load_certificate(certificate_data or b'')
            except X509Error:
                continue
            if common_name(certificate.subject) != name or not is_signed_by(certificate, self.ca_certificate):
                continue
            self.state['certificates'][name] = self._record_for(certificate, certificate_data,
                                                                certificate_kind(certificate) or 'other', None, None)
        crl, crl_signed = self._current_crl()
        if crl_signed:
            known = self.revoked_serials()
            for revoked in crl:
                serial = serial_hex(revoked.serial_number)
                if serial in known:
                    continue
                revocation_date = crl_entry_revocation_date(revoked)
                self.state['revoked'].append(dict(name=None, serial=serial, revocation_date=iso(revocation_date),
                                                  reason=crl_entry_reason(revoked), not_after=None, ca_sha256=self.ca_sha256))
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
                    crl = load_crl(data)
                except X509Error:
                    crl = None
            self._crl = (crl, crl is not None and is_signed_by(crl, self.ca_certificate))
        return self._crl

    # Certificates

    def certificate_path(self, name):
        return self.absolute(issued_certificate(name))

    def private_key_path(self, name):
        return self.absolute(private_key_file(name))

    def _record_for(self, certificate, certificate_data, kind, private_key_sha256, csr_sha256, issued_public_key=None,
                    issued_public_key_der=None, issued_without_subject_alt_names=False):
        """The state of a valid certificate: what the next run compares without parsing the certificate again.

        For a certificate issued in this run the caller may pass what it put into it, which is then not read back:
        issued_public_key (and its SubjectPublicKeyInfo DER, when already at hand), and issued_without_subject_alt_names
        when it has no SAN extension.
        """
        if issued_public_key is None:
            public_key = certificate.public_key()
            public_key_fingerprint = public_key_sha256(public_key)
        else:
            public_key = issued_public_key
            public_key_fingerprint = sha256_hex(issued_public_key_der or public_key_der(public_key))
        subject_alt_names = [] if issued_without_subject_alt_names else certificate_subject_alt_names(certificate)
        return dict(serial=serial_hex(certificate.serial_number), kind=kind, not_after=iso(not_after(certificate)),
                    status='valid', revocation_date=None, certificate_sha256=sha256_hex(certificate_data),
                    public_key_sha256=public_key_fingerprint, key='%s:%s' % key_description(public_key),
                    subject_alt_names=subject_alt_names, private_key_sha256=private_key_sha256, csr_sha256=csr_sha256)

    def _authority_key_identifier(self):
        """authority_key_identifier() of the store's CA certificate, made once per CA certificate."""
        certificate, identifier = self._ca_key_identifier
        if certificate is not self.ca_certificate:
            identifier = authority_key_identifier(self.ca_certificate)
            self._ca_key_identifier = (self.ca_certificate, identifier)
        return identifier

    def load_spec_csr(self, spec):
        """The parsed CSR of spec; its signature is checked unless it is the very CSR the current certificate was
        issued from. X509Error (naming no key) when it does not parse or verify."""
        if spec.name not in self._csr_cache:
            csr_bytes = as_bytes(spec.csr)
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
        certificate_data = self.current(issued_certificate(name))[0]
        requested_sans = parse_subject_alt_names(spec.subject_alt_names)
        wanted_sans = sorted(san_string(general_name) for general_name in requested_sans)
        # A certificate file that is byte for byte the one this CA wrote and recorded is judged by its record: no parsing,
        # no signature check.
        recorded = (not was_revoked and record is not None and certificate_data is not None and self.recorded_ca_sha256 == self.ca_sha256
                    and record.get('certificate_sha256') == sha256_hex(certificate_data) and 'subject_alt_names' in record)
        certificate = None
        if certificate_data is not None and not recorded:
            try:
                certificate = load_certificate(certificate_data)
            except X509Error:
                certificate = None
        private_key_object = None
        private_key_sha256 = None
        csr_sha256 = None
        key_reason = None
        if spec.csr is not None:
            public_key = self.load_spec_csr(spec).public_key()
            wanted_der = public_key_der(public_key)
            csr_sha256 = sha256_hex(as_bytes(spec.csr))
            if was_revoked and record.get('public_key_sha256') == sha256_hex(wanted_der):
                self.warnings.append('%s: the CSR has the key of the revoked certificate %s; make a new key and CSR on that host if '
                                     'the key may have been compromised' % (name, record['serial']))
            # A key for this name made here earlier is not needed any more: the host keeps its own.
            self.stage_removal(private_key_file(name))
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
            self.ensure_mode(issued_certificate(name), PUBLIC_MODE)
            if spec.csr is None:
                self.ensure_mode(private_key_file(name), PRIVATE_MODE)
            if recorded:
                # A kept certificate keeps its record: a new CSR for the same key (ECDSA signs each one differently)
                # changes nothing, so a converged run writes nothing.
                new_record = dict(record, kind=spec.kind, private_key_sha256=private_key_sha256,
                                  csr_sha256=record.get('csr_sha256') if spec.csr is not None else None)
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
        new_certificate = issue_certificate(self.ca_certificate, self.ca_private_key, public_key, name, spec.kind, requested_sans,
                                            spec.validity_days, self.now, self._new_serial(),
                                            ca_key_identifier=self._authority_key_identifier())
        new_certificate_data = pem_bytes(new_certificate)
        if private_key_object is not None:
            private_key_data = private_key_pem(private_key_object)
            private_key_sha256 = sha256_hex(private_key_data)
            self.stage(private_key_file(name), private_key_data, PRIVATE_MODE)
        elif spec.csr is None:
            self.ensure_mode(private_key_file(name), PRIVATE_MODE)
        self.stage(issued_certificate(name), new_certificate_data, PUBLIC_MODE)
        # What was just put into the certificate is not read back from it: its key (and that key's DER when known) and
        # whether it has subject alt names.
        new_record = self._record_for(new_certificate, new_certificate_data, spec.kind, private_key_sha256, csr_sha256,
                                      issued_public_key=public_key, issued_public_key_der=wanted_der,
                                      issued_without_subject_alt_names=not requested_sans)
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
        key_data = None if was_revoked else self.current(private_key_file(spec.name))[0]
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
                except X509Error:
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
            raise X509Error('unknown revocation reason %r (one of %s)' % (reason, ', '.join(REVOCATION_REASONS)))
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
            raise X509Error('%r was never issued' % (name,))
        if record.get('status') == 'revoked':
            return False
        self.revoke_serial(record['serial'], reason, name=name, not_after_text=record.get('not_after'))
        record['status'] = 'revoked'
        record['revocation_date'] = iso(self.now)
        self.stage_removal(issued_certificate(name))
        self.stage_removal(private_key_file(name))
        return True

    def revoked_names(self):
        return sorted(name for name, record in self.state['certificates'].items() if record.get('status') == 'revoked')

    def ensure_crl(self, validity_days, renew_before_days, signed_ahead=0):
        """Keep the CRL, or sign a new one (number + 1). Returns (crl, reason or None when kept).

        signed_ahead > 0 also keeps that many CRLs signed ahead in CRL_AHEAD: the i-th one has the same revoked
        certificates, lastUpdate i * (validity_days - renew_before_days) days after the CRL's (the day a run would
        sign the CRL again) and the same validity, so a server that no run reaches can put each in place when its
        day comes. They are signed again with the CRL, and the CRL with them when they do not match it."""
        crl, crl_signed = self._current_crl()
        wanted = [entry for entry in self.state['revoked'] if entry.get('ca_sha256') == self.ca_sha256]
        wanted_serials = [entry['serial'] for entry in wanted]
        if crl is None and self.current(CRL)[0] is not None:
            reason = 'not a valid CRL'
        elif crl is not None and not crl_signed:
            reason = 'CA changed'
        else:
            reason = crl_problem(crl, self.ca_certificate, wanted_serials, renew_before_days, self.now, signature_checked=True)
        step = crl_ahead_step(validity_days, renew_before_days)
        if reason is None and signed_ahead:
            reason = self._crls_ahead_problem(crl, wanted_serials, validity_days, step, signed_ahead)
        if not signed_ahead and self.current(CRL_AHEAD)[0] is not None:
            self.stage_removal(CRL_AHEAD)
        if reason is None:
            self.ensure_mode(CRL, PUBLIC_MODE)
            if signed_ahead:
                self.ensure_mode(CRL_AHEAD, PUBLIC_MODE)
            self.state['crl_number'] = max(self.state['crl_number'], crl_number(crl))
            return crl, None
        number = max(self.state['crl_number'], crl_number(crl) if crl is not None else 0) + 1
        new_crl = build_crl(self.ca_certificate, self.ca_private_key, wanted, number, self.now, validity_days)
        self.stage(CRL, pem_bytes(new_crl), PUBLIC_MODE)
        if signed_ahead:
            ahead = [build_crl(self.ca_certificate, self.ca_private_key, wanted, number + index, self.now + index * step, validity_days)
                     for index in range(1, signed_ahead + 1)]
            self.stage(CRL_AHEAD, b''.join(pem_bytes(ahead_crl) for ahead_crl in ahead), PUBLIC_MODE)
        self.state['crl_number'] = number + signed_ahead
        return new_crl, reason

    def _crls_ahead_problem(self, crl, wanted_serials, validity_days, step, signed_ahead):
        """Why the CRLs signed ahead of crl must be signed again (with it), or None."""
        data = self.current(CRL_AHEAD)[0]
        if data is None:
            return 'no CRLs signed ahead'
        try:
            ahead = load_crls(data)
        except X509Error:
            return 'CRLs signed ahead not valid'
        if len(ahead) != signed_ahead:
            return 'number of CRLs signed ahead changed'
        validity = datetime.timedelta(days=validity_days)
        for index, ahead_crl in enumerate(ahead, 1):
            last_update = crl_last_update(ahead_crl)
            if last_update != crl_last_update(crl) + index * step or crl_next_update(ahead_crl) != last_update + validity:
                return 'dates of the CRLs signed ahead changed'
            if crl_serials(ahead_crl) != set(wanted_serials) or not is_signed_by(ahead_crl, self.ca_certificate):
                return 'CRLs signed ahead differ from the CRL'
        return None


def crl_ahead_step(validity_days, renew_before_days):
    """The time between two CRLs signed ahead: the CRL's validity less its renewal window, so that each becomes valid
    the day a run would sign the one before it again."""
    return datetime.timedelta(days=validity_days - renew_before_days)


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
