# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OpenVPN PKI on the controller: the generic CA store (_x509_ca, on the functions of _x509) plus tls-crypt-v2 keys.

run() checks every option at once, brings the store to what the options ask for (in memory),
writes only the files that differ (nothing in check mode) and returns a result that holds
public material and paths only. The role copies key files from those paths itself.

Layout added to the store's: tls-crypt-v2/server.key (0600), tls-crypt-v2/clients/<name>.key
(0600; the metadata of each client key is the client's name, so that the server's verify hook
can refuse a revoked client before TLS starts).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import datetime
import os

from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_tls_crypt_v2 import (
    METADATA_TYPE_USER,
    TlsCryptV2Error,
    client_key_belongs_to,
    client_key_to_pem,
    new_client_key,
    new_server_key,
    server_key_from_pem,
    server_key_to_pem,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509 import (
    DEFAULT_EC_CURVE,
    DEFAULT_KEY_TYPE,
    DEFAULT_RSA_KEY_SIZE,
    X509Error,
    check_ca_pair,
    common_name,
    crl_next_update,
    describe_key,
    iso,
    key_description,
    load_certificate,
    load_private_key,
    name_problem,
    not_after,
    parse_subject_alt_names,
    pem_bytes,
    utc_now,
    wanted_key_description,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_ca import (
    CA_CERTIFICATE, CRL, CRL_AHEAD, PRIVATE_MODE, CertificateSpec, X509Store, crl_ahead_step,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._x509_layout import MAX_CRL_SIGNED_AHEAD

TLS_CRYPT_V2_SERVER_KEY = 'tls-crypt-v2/server.key'
TLS_CRYPT_V2_CLIENT_KEY = 'tls-crypt-v2/clients/%s.key'
# tls-crypt (v1): one static key shared by the server and every client, in OpenVPN's own format.
TLS_CRYPT_KEY = 'tls-crypt.key'
TLS_CRYPT_KEY_BYTES = 256
TLS_CRYPT_KEY_HEADER = '-----BEGIN OpenVPN Static key V1-----'
TLS_CRYPT_KEY_FOOTER = '-----END OpenVPN Static key V1-----'
DEFAULT_CA_COMMON_NAME = 'overlaynet.vpn OpenVPN CA'
# Read at most this much of a file named by an import option: a CA certificate or key is a few kB.
MAX_IMPORT_FILE_SIZE = 1024 * 1024


class OpenVPNPKIError(Exception):
    """A problem with the options or the PKI directory; the message names the option and holds no secret.
    problems: each problem found, when there are several."""

    def __init__(self, message, problems=None):
        super(OpenVPNPKIError, self).__init__(message)
        self.problems = problems or [message]


def _refuse(problems):
    raise OpenVPNPKIError('; '.join(problems), problems)


KEY_DEFAULTS = dict(key_type=DEFAULT_KEY_TYPE, ec_curve=DEFAULT_EC_CURVE, rsa_key_size=DEFAULT_RSA_KEY_SIZE)
CA_DEFAULTS = dict(KEY_DEFAULTS, common_name=DEFAULT_CA_COMMON_NAME, validity_days=3650, import_certificate_path=None,
                   import_private_key_path=None, import_private_key_passphrase=None)
CERTIFICATE_DEFAULTS = dict(KEY_DEFAULTS, kind='client', csr=None, subject_alt_names=[], validity_days=825)
DEFAULTS = dict(renew_before_days=30, keep=[], revoke=[], revoke_unlisted=False, crl_validity_days=180, crl_renew_before_days=90,
                crl_signed_ahead=0, tls_crypt_v2=True, tls_crypt=False)


def with_defaults(params):
    """params with the module's defaults filled in where a value is missing or None (for callers other than the module)."""
    def filled(values, defaults):
        result = dict(values or {})
        for option, default in defaults.items():
            if result.get(option) is None:
                result[option] = list(default) if isinstance(default, list) else default
        return result
    result = filled(params, DEFAULTS)
    result['ca'] = filled(params.get('ca'), CA_DEFAULTS)
    result['certificates'] = [filled(entry, CERTIFICATE_DEFAULTS) for entry in params.get('certificates') or []]
    return result


def _positive_problem(value, what):
    if value is None or value <= 0:
        return '%s must be greater than 0, got %s' % (what, value)
    return None


def _name_list_problems(problems, names, option, first_index, kept, either):
    """Adds the problems of a list of names (keep, revoke) to problems: bad or repeated names, names
    also in certificates (first_index: name -> index) or in keep (kept). Returns the set of names."""
    seen = set()
    for index, name in enumerate(names or []):
        where = '%s[%d]' % (option, index)
        problem = name_problem(name, where)
        if problem:
            problems.append(problem)
        elif name in seen:
            problems.append('%s: %r is given twice' % (where, name))
        elif name in first_index:
            problems.append('%s: %r is also in certificates[%d]; a name is either %s' % (where, name, first_index[name], either))
        elif name in kept:
            problems.append('%s: %r is also in keep; a name is either kept or revoked' % (where, name))
        seen.add(name)
    return seen


def parameter_problems(params):
    """Every problem of the options that can be found without reading the PKI directory."""
    problems = []
    ca = params.get('ca') or {}
    renew_before_days = params.get('renew_before_days')
    for value, what in ((ca.get('validity_days'), 'ca.validity_days'), (renew_before_days, 'renew_before_days'),
                        (params.get('crl_validity_days'), 'crl_validity_days'),
                        (params.get('crl_renew_before_days'), 'crl_renew_before_days')):
        problem = _positive_problem(value, what)
        if problem:
            problems.append(problem)
    crl_validity_days = params.get('crl_validity_days')
    crl_renew_before_days = params.get('crl_renew_before_days')
    if crl_validity_days and crl_renew_before_days and crl_validity_days > 0 and crl_renew_before_days >= crl_validity_days:
        problems.append('crl_renew_before_days (%d) must be less than crl_validity_days (%d), or the CRL would be signed again on '
                        'every run' % (crl_renew_before_days, crl_validity_days))
    crl_signed_ahead = params.get('crl_signed_ahead')
    if crl_signed_ahead is not None and not 0 <= crl_signed_ahead <= MAX_CRL_SIGNED_AHEAD:
        problems.append('crl_signed_ahead must be between 0 and %d, got %s' % (MAX_CRL_SIGNED_AHEAD, crl_signed_ahead))
    if bool(ca.get('import_certificate_path')) != bool(ca.get('import_private_key_path')):
        problems.append('ca.import_certificate_path and ca.import_private_key_path must be given together')
    if ca.get('import_private_key_passphrase') is not None and not ca.get('import_private_key_path'):
        problems.append('ca.import_private_key_passphrase is set but ca.import_private_key_path is not')

    first_index = {}
    for index, entry in enumerate(params.get('certificates') or []):
        where = 'certificates[%d]' % index
        name = entry.get('name')
        problem = name_problem(name, '%s.name' % where)
        if problem:
            problems.append(problem)
        elif name in first_index:
            problems.append('%s.name: %r is given twice (also certificates[%d])' % (where, name, first_index[name]))
        else:
            first_index[name] = index
        validity_days = entry.get('validity_days')
        problem = _positive_problem(validity_days, '%s.validity_days' % where)
        if problem:
            problems.append(problem)
        elif renew_before_days and renew_before_days > 0 and validity_days <= renew_before_days:
            problems.append('%s.validity_days (%d) of %r must be greater than renew_before_days (%d), or the certificate would be '
                            'renewed on every run' % (where, validity_days, name, renew_before_days))
        try:
            parse_subject_alt_names(entry.get('subject_alt_names'))
        except X509Error as exc:
            problems.append('%s.subject_alt_names of %r: %s' % (where, name, exc))
        if entry.get('csr') is not None and not entry.get('csr').strip():
            problems.append('%s.csr of %r is empty' % (where, name))

    kept = _name_list_problems(problems, params.get('keep'), 'keep', first_index, (), 'checked or kept as it is')
    _name_list_problems(problems, params.get('revoke'), 'revoke', first_index, kept, 'issued or revoked')
    return problems


def certificate_specs(params):
    return [CertificateSpec(name=entry['name'], kind=entry['kind'], csr=entry['csr'], subject_alt_names=entry['subject_alt_names'],
                            key_type=entry['key_type'], ec_curve=entry['ec_curve'], rsa_key_size=entry['rsa_key_size'],
                            validity_days=entry['validity_days'])
            for entry in params['certificates']]


def _read_import_file(path, what):
    try:
        with open(path, 'rb') as handle:
            data = handle.read(MAX_IMPORT_FILE_SIZE + 1)
    except (IOError, OSError) as exc:
        raise OpenVPNPKIError('%s: cannot read %s: %s' % (what, path, exc.strerror or exc.__class__.__name__))
    if len(data) > MAX_IMPORT_FILE_SIZE:
        raise OpenVPNPKIError('%s: %s is larger than %d bytes; it is not a PEM certificate or key' % (what, path, MAX_IMPORT_FILE_SIZE))
    return data


def load_imported_ca(ca):
    """(certificate, private key) from the import options, checked to be a CA and a matching pair."""
    certificate_path = ca['import_certificate_path']
    key_path = ca['import_private_key_path']
    try:
        certificate = load_certificate(_read_import_file(certificate_path, 'ca.import_certificate_path'))
    except X509Error as exc:
        raise OpenVPNPKIError('ca.import_certificate_path: %s: %s' % (certificate_path, exc))
    try:
        private_key = load_private_key(_read_import_file(key_path, 'ca.import_private_key_path'), ca.get('import_private_key_passphrase'))
    except X509Error as exc:
        raise OpenVPNPKIError('ca.import_private_key_path: %s: %s' % (key_path, exc))
    try:
        check_ca_pair(certificate, private_key)
    except X509Error as exc:
        raise OpenVPNPKIError('ca.import_certificate_path (%s) and ca.import_private_key_path (%s): %s' % (certificate_path, key_path, exc))
    return certificate, private_key


def _ca_warnings(store, ca, renew_before_days):
    warnings = []
    certificate = store.ca_certificate
    if store.ca_action == 'kept' and not ca.get('import_certificate_path'):
        existing_name = common_name(certificate.subject)
        if existing_name != ca['common_name']:
            warnings.append('ca.common_name is %r but the existing CA in %s is %r; an existing CA is never replaced by '
                            'changing the ca options' % (ca['common_name'], store.path, existing_name))
        wanted = wanted_key_description(ca['key_type'], ca['ec_curve'], ca['rsa_key_size'])
        existing = key_description(certificate.public_key())
        if existing != wanted:
            warnings.append('the ca key options ask for a %s but the existing CA in %s has a %s; an existing CA is never replaced '
                            'by changing the ca options'
                            % (describe_key(wanted, in_option_words=True), store.path, describe_key(existing, in_option_words=True)))
    expires = not_after(certificate)
    if expires - datetime.timedelta(days=renew_before_days) <= store.now:
        warnings.append('the CA certificate in %s expires on %s; plan a new CA before then' % (store.path, iso(expires)))
    return warnings


def _csr_problems(store, specs):
    problems = []
    for index, spec in enumerate(specs):
        if spec.csr is None:
            continue
        try:
            store.load_spec_csr(spec)
        except X509Error as exc:
            problems.append('certificates[%d].csr of %r: %s' % (index, spec.name, exc))
    return problems


def _ensure_tls_crypt_v2(store, specs, enabled):
    """Server key, one client key per valid client certificate listed; a revoked client's or a server's
    client key file goes (also with tls_crypt_v2 off). Returns {name: path} of the client keys."""
    client_key_paths = {}
    for name, record in store.state['certificates'].items():
        if record.get('status') == 'revoked' or record.get('kind') != 'client':
            store.stage_removal(TLS_CRYPT_V2_CLIENT_KEY % name)
    if not enabled:
        return client_key_paths
    server_key_data = store.current(TLS_CRYPT_V2_SERVER_KEY)[0]
    server_key_is_new = server_key_data is None
    if server_key_is_new:
        server_key = new_server_key()
        store.stage(TLS_CRYPT_V2_SERVER_KEY, server_key_to_pem(server_key).encode('ascii'), PRIVATE_MODE)
    else:
        try:
            server_key = server_key_from_pem(server_key_data.decode('ascii'))
        except (TlsCryptV2Error, UnicodeDecodeError):
            raise OpenVPNPKIError('%s does not hold a tls-crypt-v2 server key; remove it to make a new one (every client key is '
                                  'made again then)' % store.absolute(TLS_CRYPT_V2_SERVER_KEY))
        store.ensure_mode(TLS_CRYPT_V2_SERVER_KEY, PRIVATE_MODE)
    for spec in specs:
        if spec.kind != 'client':
            continue
        relative = TLS_CRYPT_V2_CLIENT_KEY % spec.name
        metadata = spec.name.encode('utf-8')
        client_key_data = store.current(relative)[0]
        keep = False
        if client_key_data is not None and not server_key_is_new:
            try:
                keep = client_key_belongs_to(server_key, client_key_data.decode('ascii'), metadata)
            except UnicodeDecodeError:
                keep = False
        if keep:
            store.ensure_mode(relative, PRIVATE_MODE)
        else:
            client_key = new_client_key(server_key, metadata, METADATA_TYPE_USER)
            store.stage(relative, client_key_to_pem(client_key).encode('ascii'), PRIVATE_MODE)
        client_key_paths[spec.name] = store.absolute(relative)
    return client_key_paths


def tls_crypt_key_text(data):
    """OpenVPN's static key file (--genkey secret) of 256 bytes: 16 lines of 32 hex digits between its markers."""
    hex_text = binascii.hexlify(data).decode('ascii')
    lines = [hex_text[start:start + 32] for start in range(0, len(hex_text), 32)]
    return '\n'.join([TLS_CRYPT_KEY_HEADER] + lines + [TLS_CRYPT_KEY_FOOTER]) + '\n'


def is_tls_crypt_key_text(text):
    lines = text.strip().split('\n')
    if len(lines) != 18 or lines[0] != TLS_CRYPT_KEY_HEADER or lines[-1] != TLS_CRYPT_KEY_FOOTER:
        return False
    return all(len(line) == 32 and all(char in '0123456789abcdef' for char in line) for line in lines[1:-1])


def _ensure_tls_crypt(store, enabled):
    """The tls-crypt (v1) static key, when asked for: kept while valid, made when missing. Returns its path or None."""
    if not enabled:
        return None
    data = store.current(TLS_CRYPT_KEY)[0]
    try:
        valid = data is not None and is_tls_crypt_key_text(data.decode('ascii'))
    except UnicodeDecodeError:
        valid = False
    if valid:
        store.ensure_mode(TLS_CRYPT_KEY, PRIVATE_MODE)
    else:
        store.stage(TLS_CRYPT_KEY, tls_crypt_key_text(os.urandom(TLS_CRYPT_KEY_BYTES)).encode('ascii'), PRIVATE_MODE)
    return store.absolute(TLS_CRYPT_KEY)


def _summary(state, tls_crypt_v2_names, new_names=(), new_ca=False):
    """Diff side: CA fingerprint, CRL number, and per name its kind, serial and status; no key material. In check mode
    new_names and new_ca show what is only made in a real run as new."""
    ca_sha256 = '(new CA)' if new_ca else state.get('ca_sha256') or '(none)'
    lines = ['ca sha256: %s' % ca_sha256, 'crl number: %s' % (state.get('crl_number') or '(none)')]
    for name in sorted(state.get('certificates', {})):
        record = state['certificates'][name]
        serial = '(new serial)' if name in new_names else record['serial']
        line = '%s: %s %s %s' % (name, record['kind'], serial, record['status'])
        if record['status'] == 'valid':
            line += ' until %s' % record['not_after']
        else:
            line += ' on %s' % record['revocation_date']
        if name in tls_crypt_v2_names:
            line += ', tls-crypt-v2 key'
        lines.append(line)
    revoked = [entry for entry in state.get('revoked', []) if entry.get('ca_sha256') == state.get('ca_sha256')]
    lines.append('crl serials: %s' % (', '.join(sorted(entry['serial'] for entry in revoked)) or '(none)'))
    return '\n'.join(lines) + '\n'


def _tls_crypt_v2_names_before(store):
    names = set()
    for name in store.state_before.get('certificates', {}):
        if store.current(TLS_CRYPT_V2_CLIENT_KEY % name)[0] is not None:
            names.add(name)
    return names


def run(params, check_mode=False, diff=False, now=None):
    """Bring the PKI in params['path'] to what params ask for; the module's result (without 'warnings' handling).

    Raises OpenVPNPKIError or X509Error (messages name the option and hold no secret), OSError when a write fails.
    """
    params = with_defaults(params)
    problems = parameter_problems(params)
    if problems:
        _refuse(problems)
    ca = params['ca']
    renew_before_days = params['renew_before_days']
    specs = certificate_specs(params)
    # Kept names (hosts outside this run, whose CSR is not at hand) count as listed: never revoked as unlisted.
    listed = set(spec.name for spec in specs) | set(params.get('keep') or [])
    to_revoke = list(params.get('revoke') or [])

    imported_certificate, imported_key = (None, None)
    if ca.get('import_certificate_path'):
        imported_certificate, imported_key = load_imported_ca(ca)

    store = X509Store(params['path'], now=now or utc_now())
    store.load()
    store.ensure_ca(common_name_text=ca['common_name'], key_type=ca['key_type'], ec_curve=ca['ec_curve'],
                    rsa_key_size=ca['rsa_key_size'], validity_days=ca['validity_days'],
                    import_certificate=imported_certificate, import_private_key=imported_key)
    warnings = _ca_warnings(store, ca, renew_before_days)
    store.adopt_unrecorded()
    tls_crypt_v2_before = _tls_crypt_v2_names_before(store) if diff else set()

    problems = _csr_problems(store, specs)
    for index, name in enumerate(to_revoke):
        if store.record(name) is None:
            problems.append('revoke[%d]: %r was never issued by the CA in %s, so there is nothing to revoke' % (index, name, store.path))
    if problems:
        _refuse(problems)

    outcomes = {}
    for spec in specs:
        outcomes[spec.name] = store.ensure_certificate(spec, renew_before_days)
    for name in to_revoke:
        store.revoke(name, 'unspecified')
    if params.get('revoke_unlisted'):
        for name in sorted(store.state['certificates']):
            record = store.state['certificates'][name]
            if name not in listed and record.get('status') == 'valid' and record.get('kind') == 'client':
                store.revoke(name, 'cessation_of_operation')
    crl, dummy = store.ensure_crl(params['crl_validity_days'], params['crl_renew_before_days'], params['crl_signed_ahead'])
    client_key_paths = _ensure_tls_crypt_v2(store, specs, params['tls_crypt_v2'])
    tls_crypt_key_path = _ensure_tls_crypt(store, params['tls_crypt'])
    warnings.extend(store.warnings)
    store.stage_state()

    changes = store.changes()
    if not check_mode:
        store.commit()

    certificates = {}
    for spec in specs:
        outcome = outcomes[spec.name]
        unwritten = check_mode and outcome['action'] != 'kept'
        entry = dict(
            kind=spec.kind,
            serial=None if unwritten else outcome['serial'],
            not_after=outcome['not_after'],
            certificate=None if unwritten else outcome['certificate_data'].decode('ascii'),
            certificate_path=outcome['certificate_path'],
            action=outcome['action'],
            reason=outcome['reason'],
        )
        if outcome['private_key_path'] is not None:
            entry['private_key_path'] = outcome['private_key_path']
        if spec.name in client_key_paths:
            entry['tls_crypt_v2_key_path'] = client_key_paths[spec.name]
        certificates[spec.name] = entry

    revoked = []
    for name in store.revoked_names():
        record = store.state['certificates'][name]
        revoked.append(dict(name=name, serial=record['serial'], revocation_date=record['revocation_date']))

    ca_unwritten = check_mode and store.ca_action == 'created'
    result = dict(
        changed=bool(changes),
        changed_paths=[store.absolute(relative) for relative, dummy in changes],
        ca_path=store.absolute(CA_CERTIFICATE),
        ca_certificate=None if ca_unwritten else pem_bytes(store.ca_certificate).decode('ascii'),
        crl_path=store.absolute(CRL),
        crl_next_update=iso(crl_next_update(crl)),
        crl_ahead_path=store.absolute(CRL_AHEAD) if params['crl_signed_ahead'] else None,
        crl_covered_until=iso(crl_next_update(crl)
                              + params['crl_signed_ahead'] * crl_ahead_step(params['crl_validity_days'], params['crl_renew_before_days'])),
        certificates=certificates,
        revoked=revoked,
        tls_crypt_v2_server_key_path=store.absolute(TLS_CRYPT_V2_SERVER_KEY) if params['tls_crypt_v2'] else None,
        tls_crypt_key_path=tls_crypt_key_path,
        warnings=warnings,
    )
    if diff:
        new_names = set(name for name, outcome in outcomes.items() if outcome['action'] != 'kept') if check_mode else set()
        result['diff'] = dict(
            before_header=store.path,
            after_header=store.path,
            before=_summary(store.state_before, tls_crypt_v2_before),
            after=_summary(store.state, set(client_key_paths) | (tls_crypt_v2_before - _removed_client_keys(changes)), new_names,
                           new_ca=check_mode and store.ca_action == 'created'),
        )
    return result


def _removed_client_keys(changes):
    prefix, suffix = TLS_CRYPT_V2_CLIENT_KEY.split('%s')
    return set(relative[len(prefix):-len(suffix)] for relative, change in changes
               if change == 'remove' and relative.startswith(prefix) and relative.endswith(suffix))
