# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Keeping secrets out of messages: tool output (stderr of wg, openvpn, ...) may quote a key,
# and a module must not pass it on in a warning, an error or a return value.

SECRET_PLACEHOLDER = '(secret)'
KEY_PLACEHOLDER = '(key)'


def scrub_secrets(text, secrets, public_keys=(), key_pattern=None):
    """text with every known secret replaced by '(secret)'.

    With key_pattern (a compiled regular expression matching the system's key format), every
    other match that is not one of public_keys becomes '(key)' as well: a key this code has not
    seen may still be secret. None for text gives ''.
    """
    text = text or ''
    for secret in secrets:
        if secret:
            text = text.replace(secret, SECRET_PLACEHOLDER)
    if key_pattern is None:
        return text
    known_public = set(public_keys)
    return key_pattern.sub(lambda match: match.group(0) if match.group(0) in known_public else KEY_PLACEHOLDER, text)
