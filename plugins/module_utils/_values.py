# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Type tests and checks (integers, booleans, choices, known keys) for values read from an
# inventory or a configuration file, shared by the validators and parsers of every system.

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


def list_value(errors, where, value, what):
    """value as a list ([] for None); [] and a message '<where>: must be a list of <what>, got <type>' when it is not a list."""
    if value is None:
        return []
    if not is_list(value):
        errors.append('%s: must be a list of %s, got %s' % (where, what, type_name(value)))
        return []
    return list(value)


def check_bool(errors, where, value):
    """Append a message to errors unless value is true or false (None too: callers check defaults); True when it is."""
    if isinstance(value, bool):
        return True
    errors.append('%s: must be true or false, got %r' % (where, value))
    return False


def check_choice(errors, where, value, choices):
    """Append a message to errors unless value is one of choices (true is not 1); True when it is."""
    if isinstance(value, (str, int)) and not isinstance(value, bool) and value in choices:
        return True
    errors.append('%s: %r must be one of %s' % (where, value, ', '.join(str(choice) for choice in choices)))
    return False


def check_known_keys(errors, where, mapping, known):
    """Append '<where>.<key>: unknown key (known keys: ...)' for every key of mapping that is not in known (typos)."""
    for key in sorted(mapping, key=str):
        if key not in known:
            errors.append('%s.%s: unknown key (known keys: %s)' % (where, key, ', '.join(known)))


def parse_int(text, what, low, high):
    """Decimal text -> int from low to high; ValueError naming what otherwise."""
    text = str(text).strip()
    if not _DIGITS.match(text):
        raise ValueError('%s must be an integer between %d and %d, got %r' % (what, low, high, text))
    value = int(text)
    if not low <= value <= high:
        raise ValueError('%s must be an integer between %d and %d, got %d' % (what, low, high, value))
    return value
