# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host's files under a temporary directory, for the tests of host_probe."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import grp
import json
import os
import pwd

# RFC 7748, section 6.1 (Alice): a private key and its public key, base64-encoded.
PRIVATE_KEY = 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo='
PUBLIC_KEY = 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo='
# The owner and group the files of the tree get.
USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name

DEBIAN_OS_RELEASE = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
'''


def on_host(root, host_path):
    return os.path.join(str(root), host_path.lstrip('/'))


def write(root, host_path, content, mode=0o644):
    """Write content (text or bytes) at host_path under root, with its directories, and set its mode."""
    path = on_host(root, host_path)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'wb') as output:
        output.write(content.encode('utf-8') if isinstance(content, str) else content)
    os.chmod(path, mode)
    return path


def link(root, host_path, target):
    """A symlink at host_path under root pointing to target (as written, so a host path dangles)."""
    path = on_host(root, host_path)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    os.symlink(target, path)
    return path


def assert_no_private_key(*outputs):
    """Assert that PRIVATE_KEY appears in none of outputs (JSON-serialisable), in any of its forms."""
    dumped = json.dumps(outputs)
    key_bytes = base64.b64decode(PRIVATE_KEY)
    for form in (PRIVATE_KEY, PRIVATE_KEY.rstrip('='), key_bytes.hex(), key_bytes.hex().upper(), repr(key_bytes)):
        assert form not in dumped
