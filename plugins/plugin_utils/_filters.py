# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# What every filter plugin of the collection shares: the errors that mean "undefined" when a
# planner reads hostvars, and the turn of a planner's ValueError into an AnsibleFilterError.

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable

# A host variable that templates to something undefined counts as unset, as with Jinja's default():
# reading it raises the first (ansible-core before 2.19) or gives the second (2.19 and later).
UNDEFINED = (AnsibleUndefinedVariable, Undefined)


def filter_error(name, function, *args):
    """function(*args), a ValueError becoming an AnsibleFilterError that names the filter."""
    try:
        return function(*args)
    except ValueError as exc:
        raise AnsibleFilterError('%s: %s' % (name, exc))
