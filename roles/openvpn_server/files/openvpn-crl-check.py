# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Daily check of an OpenVPN server's CRL: --warn-days DAYS CRL_FILE...

OpenVPN (with OpenSSL) refuses every client once its CRL is past its next update. The play
renews the CRL on every run, but the CA that signs it lives on the controller: if the play stops
running, only the server can tell. This check runs from a systemd timer; it prints the next
update of each CRL and exits 1 (the unit fails, so `systemctl --failed` and any unit monitoring
show it) once one is less than DAYS away or past, 2 when a file is not a readable CRL.

Standard library only: the server has python3 (Ansible needs it) but not necessarily the
cryptography package or the openssl command. The CRL's DER is walked just far enough to reach
nextUpdate (RFC 5280 5.1: CertificateList, TBSCertList)."""
import base64
import datetime
import sys

EXIT_OK, EXIT_DUE, EXIT_UNREADABLE = 0, 1, 2
UTC_TIME, GENERALIZED_TIME, INTEGER = 0x17, 0x18, 0x02


class NotACrl(Exception):
    pass


def der_from_pem(text):
    begin, end = '-----BEGIN X509 CRL-----', '-----END X509 CRL-----'
    if begin not in text or end not in text:
        raise NotACrl('no PEM block "X509 CRL"')
    body = text.split(begin, 1)[1].split(end, 1)[0]
    try:
        return base64.b64decode(''.join(body.split()), validate=True)
    except ValueError:
        raise NotACrl('the PEM block is not base64')


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


def next_update(pem_text):
    """The CRL's nextUpdate (an aware UTC datetime), or None when it has none."""
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
    if len(fields) < 4 or fields[3][0] not in (UTC_TIME, GENERALIZED_TIME):
        return None
    tag, start, end = fields[3]
    return parse_time(tag, der[start:end])


def check(path, warn_days, now):
    """(exit code, message) for one CRL file."""
    try:
        with open(path, encoding='ascii') as handle:
            due = next_update(handle.read())
    except (OSError, UnicodeDecodeError, ValueError, NotACrl) as exc:
        return EXIT_UNREADABLE, '%s: not a readable CRL (%s)' % (path, exc)
    if due is None:
        return EXIT_OK, '%s: no next update date' % path
    left = due - now
    days = left.total_seconds() / 86400
    when = due.strftime('%Y-%m-%d %H:%M UTC')
    if days <= 0:
        return EXIT_DUE, ('%s: its next update (%s) has passed: OpenVPN refuses every client until the play of '
                          'overlaynet.vpn.openvpn_server puts a new CRL in place' % (path, when))
    if days < warn_days:
        return EXIT_DUE, ('%s: its next update is %s, in %.0f days: run the play of overlaynet.vpn.openvpn_server '
                          '(the CA on the controller signs a new CRL); from that date OpenVPN refuses every client'
                          % (path, when, days))
    return EXIT_OK, '%s: next update %s, in %.0f days' % (path, when, days)


def main(argv, now=None):
    if len(argv) < 3 or argv[0] != '--warn-days' or not argv[1].isdigit():
        sys.stderr.write('usage: crl-check --warn-days DAYS CRL_FILE...\n')
        return EXIT_UNREADABLE
    now = now or datetime.datetime.now(datetime.timezone.utc)
    worst = EXIT_OK
    for path in argv[2:]:
        code, message = check(path, int(argv[1]), now)
        (sys.stdout if code == EXIT_OK else sys.stderr).write(message + '\n')
        worst = max(worst, code)
    return worst


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
