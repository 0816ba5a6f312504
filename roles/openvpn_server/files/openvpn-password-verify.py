# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenVPN --auth-user-pass-verify hook (via-file): USERS_FILE CREDENTIALS_FILE.

USERS_FILE holds one line per user: NAME pbkdf2_sha256 ITERATIONS SALT_HEX HASH_HEX. Exit 0 lets
the client in. Nothing about the password is ever printed; a refusal names only the user, in
OpenVPN's log, so that an administrator sees why a client was refused."""
import hashlib
import hmac
import sys


def verify(users_path, credentials_path):
    with open(credentials_path, encoding='utf-8') as handle:
        lines = handle.read().split('\n')
    if len(lines) < 2:
        return False, '(none)'
    name, password = lines[0], lines[1]
    with open(users_path, encoding='utf-8') as handle:
        for line in handle:
            fields = line.split()
            if len(fields) != 5 or fields[0] != name or fields[1] != 'pbkdf2_sha256':
                continue
            digest = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), bytes.fromhex(fields[3]), int(fields[2]))
            return hmac.compare_digest(digest.hex(), fields[4]), name
    return False, name


def main():
    try:
        accepted, name = verify(sys.argv[1], sys.argv[2])
    except (IndexError, OSError, ValueError):
        sys.stderr.write('overlaynet password check: cannot read the user list or the credentials\n')
        return 1
    if not accepted:
        sys.stderr.write('overlaynet password check: refused user %r\n' % name[:64])
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
