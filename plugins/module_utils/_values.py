# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Type tests and integer checks for values read from an inventory or a configuration file,
# shared by the validators and parsers of every system.

import re

_DIGITS = re.compile(r'^[0-9]+$')


def is_int(value):
    # bool is an int subclass; `listen_port: true` is a mistake, not port 1.
    return isinstance(value, int) and not isinstance(value, bool)


def is_list(value):
    return isinstance(value, (list, tuple))


def is_mapping(value):
    return isinstance(value, dict)


def as_list(value):
    if value is None:
        return []
    return list(value)


def dedupe(items):
    """items without repetitions, in the order of their first appearance."""
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def type_name(value):
    return type(value).__name__


def check_int(errors, where, value, low, high, allow_none=False):
    """Append a message to errors unless value is an integer from low to high; True when it is."""
    if value is None and allow_none:
        return True
    if not is_int(value):
        errors.append('%s: must be an integer between %d and %d, got %r' % (where, low, high, value))
        return False
    if not low <= value <= high:
        errors.append('%s: %d is out of range (%d-%d)' % (where, value, low, high))
        return False
    return True


def parse_int(text, what, low, high):
    """Decimal text -> int from low to high; ValueError naming what otherwise."""
    text = str(text).strip()
    if not _DIGITS.match(text):
        raise ValueError('%s must be an integer between %d and %d, got %r' % (what, low, high, text))
    value = int(text)
    if not low <= value <= high:
        raise ValueError('%s must be an integer between %d and %d, got %d' % (what, low, high, value))
    return value
