# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Daily care of an OpenVPN server's CRL: --warn-days DAYS [--ahead AHEAD_FILE] CRL_FILE...

OpenVPN (with OpenSSL) refuses every client once its CRL is past its next update. The play
renews the CRL on every run, but the CA that signs it lives on the controller. So the play also
leaves CRLs signed ahead (AHEAD_FILE, PEM blocks), each valid from a later day: this script, run
from a systemd timer, puts the newest one whose day has come in place of CRL_FILE (never an older
one than the CRL there; OpenVPN reads the file again at its next connection). It then prints the
next update of each CRL and exits 1 (the unit fails, so `systemctl --failed` and any unit
monitoring show it) once the last day covered, by the CRL or the CRLs signed ahead, is less than
DAYS away or past, 2 when a file is not readable.

Standard library only: the server has python3 (Ansible needs it) but not necessarily the
cryptography package or the openssl command. The CRL's DER is walked just far enough to reach
thisUpdate and nextUpdate (RFC 5280 5.1: CertificateList, TBSCertList)."""
import base64
import datetime
import os
import sys
import tempfile

EXIT_OK, EXIT_DUE, EXIT_UNREADABLE = 0, 1, 2
PEM_BEGIN, PEM_END = '-----BEGIN X509 CRL-----', '-----END X509 CRL-----'
UTC_TIME, GENERALIZED_TIME, INTEGER = 0x17, 0x18, 0x02


class NotACrl(Exception):
    pass


def der_from_pem(text):
    if PEM_BEGIN not in text or PEM_END not in text:
        raise NotACrl('no PEM block "X509 CRL"')
    body = text.split(PEM_BEGIN, 1)[1].split(PEM_END, 1)[0]
    try:
        return base64.b64decode(''.join(body.split()), validate=True)
    except ValueError:
        raise NotACrl('the PEM block is not base64')


def pem_blocks(text):
    """Each PEM CRL block of text, in order."""
    return [PEM_BEGIN + part.split(PEM_END, 1)[0] + PEM_END + '\n' for part in text.split(PEM_BEGIN)[1:]]


def children(der, start, end):
    """(tag, content start, content end) of each DER element between start and end."""
    offset = start
    while offset < end:
        if offset + 2 > end:
            raise NotACrl('truncated DER')
        tag, first_length = der[offset], der[offset + 1]
        header = 2
        if first_length < 0x80:
            length = first_length
        else:
            octets = first_length & 0x7F
            if octets == 0 or octets > 4:
                raise NotACrl('unsupported DER length')
            length = int.from_bytes(der[offset + 2:offset + 2 + octets], 'big')
            header += octets
        content_end = offset + header + length
        if content_end > end:
            raise NotACrl('truncated DER')
        yield tag, offset + header, content_end
        offset = content_end


def parse_time(tag, value):
    text = value.decode('ascii')
    if tag == UTC_TIME:
        # RFC 5280 4.1.2.5.1: two-digit years 50-99 are 19YY, 00-49 are 20YY.
        year = int(text[:2])
        text = ('19' if year >= 50 else '20') + text
    if len(text) != 15 or not text.endswith('Z'):
        raise NotACrl('unsupported time %r' % value)
    return datetime.datetime.strptime(text, '%Y%m%d%H%M%SZ').replace(tzinfo=datetime.timezone.utc)


def update_times(pem_text):
    """(thisUpdate, nextUpdate or None) of the CRL in pem_text, as aware UTC datetimes."""
    der = der_from_pem(pem_text)
    outer = list(children(der, 0, len(der)))
    if len(outer) != 1 or outer[0][0] != 0x30:
        raise NotACrl('not a DER SEQUENCE')
    certificate_list = list(children(der, outer[0][1], outer[0][2]))
    if not certificate_list or certificate_list[0][0] != 0x30:
        raise NotACrl('no TBSCertList')
    fields = list(children(der, certificate_list[0][1], certificate_list[0][2]))
    if fields and fields[0][0] == INTEGER:
        fields = fields[1:]
    # signature AlgorithmIdentifier, issuer Name, thisUpdate, then nextUpdate (optional).
    if len(fields) < 3 or fields[0][0] != 0x30 or fields[1][0] != 0x30 or fields[2][0] not in (UTC_TIME, GENERALIZED_TIME):
        raise NotACrl('unexpected TBSCertList fields')
    tag, start, end = fields[2]
    this_update = parse_time(tag, der[start:end])
    if len(fields) < 4 or fields[3][0] not in (UTC_TIME, GENERALIZED_TIME):
        return this_update, None
    tag, start, end = fields[3]
    return this_update, parse_time(tag, der[start:end])


def next_update(pem_text):
    """The CRL's nextUpdate (an aware UTC datetime), or None when it has none."""
    return update_times(pem_text)[1]


def read_text(path):
    with open(path, encoding='ascii') as handle:
        return handle.read()


def replace_file(path, text):
    """Write text to path through a new file renamed over it: a reader sees the old CRL or the new one, whole."""
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix='.crl-', dir=directory)
    try:
        with os.fdopen(descriptor, 'w', encoding='ascii') as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), 0o644)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def put_due_crl_in_place(crl_path, ahead_path, now):
    """(exit code, message or None, last nextUpdate among the CRLs signed ahead or None): replaces crl_path with the
    newest CRL of ahead_path whose thisUpdate has come, when it is newer than the CRL in crl_path."""
    try:
        ahead = [(update_times(block), block) for block in pem_blocks(read_text(ahead_path))]
    except (OSError, UnicodeDecodeError, ValueError, NotACrl) as exc:
        return EXIT_UNREADABLE, '%s: not readable CRLs signed ahead (%s)' % (ahead_path, exc), None
    next_updates = [times[1] for times, block in ahead if times[1] is not None]
    covered_until = max(next_updates) if next_updates else None
    try:
        installed_this_update = update_times(read_text(crl_path))[0]
    except (OSError, UnicodeDecodeError, ValueError, NotACrl):
        installed_this_update = None
    due = [(times[0], block) for times, block in ahead
           if times[0] <= now and (installed_this_update is None or times[0] > installed_this_update)]
    if not due:
        return EXIT_OK, None, covered_until
    this_update, block = max(due, key=lambda item: item[0])
    try:
        replace_file(crl_path, block)
    except OSError as exc:
        return EXIT_UNREADABLE, '%s: cannot put the CRL signed ahead for %s in place (%s)' % (crl_path, this_update.strftime('%Y-%m-%d'), exc), covered_until
    return EXIT_OK, '%s: put in place the CRL signed ahead for %s' % (crl_path, this_update.strftime('%Y-%m-%d %H:%M UTC')), covered_until


def check(path, warn_days, now, covered_until=None):
    """(exit code, message) for one CRL file; covered_until: the last next update of its CRLs signed ahead."""
    try:
        due = next_update(read_text(path))
    except (OSError, UnicodeDecodeError, ValueError, NotACrl) as exc:
        return EXIT_UNREADABLE, '%s: not a readable CRL (%s)' % (path, exc)
    if due is None:
        return EXIT_OK, '%s: no next update date' % path
    when = due.strftime('%Y-%m-%d %H:%M UTC')
    last = max(due, covered_until) if covered_until is not None else due
    ahead = ''
    if last > due:
        ahead = ', CRLs signed ahead until %s' % last.strftime('%Y-%m-%d %H:%M UTC')
    days = (last - now).total_seconds() / 86400
    if days <= 0:
        return EXIT_DUE, ('%s: its next update (%s) has passed: OpenVPN refuses every client until the play of '
                          'overlaynet.vpn.openvpn_server puts a new CRL in place' % (path, when))
    if days < warn_days:
        return EXIT_DUE, ('%s: its next update is %s%s, in %.0f days: run the play of overlaynet.vpn.openvpn_server '
                          '(the CA on the controller signs new CRLs); from that date OpenVPN refuses every client'
                          % (path, when, ahead, days))
    return EXIT_OK, '%s: next update %s%s, in %.0f days' % (path, when, ahead, days)


def parse_arguments(argv):
    """(warn days, ahead file or None, CRL files), or None when argv is not a valid command line."""
    if len(argv) < 3 or argv[0] != '--warn-days' or not argv[1].isdigit():
        return None
    warn_days, rest, ahead_path = int(argv[1]), argv[2:], None
    if rest[0] == '--ahead':
        if len(rest) != 3:
            return None
        ahead_path, rest = rest[1], rest[2:]
    return warn_days, ahead_path, rest


def main(argv, now=None):
    arguments = parse_arguments(argv)
    if arguments is None:
        sys.stderr.write('usage: crl-check --warn-days DAYS [--ahead AHEAD_FILE CRL_FILE | CRL_FILE...]\n')
        return EXIT_UNREADABLE
    warn_days, ahead_path, paths = arguments
    now = now or datetime.datetime.now(datetime.timezone.utc)
    worst, covered_until = EXIT_OK, None
    if ahead_path is not None:
        worst, message, covered_until = put_due_crl_in_place(paths[0], ahead_path, now)
        if message:
            (sys.stdout if worst == EXIT_OK else sys.stderr).write(message + '\n')
    for path in paths:
        code, message = check(path, warn_days, now, covered_until)
        (sys.stdout if code == EXIT_OK else sys.stderr).write(message + '\n')
        worst = max(worst, code)
    return worst


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
