# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Reading the settings of other hosts, for checks and plans that cover every host of a network.
#
# Ansible's `hostvars[<host>]` holds a host's inventory variables and facts, not the defaults
# of the role that is running: a reader supplies those defaults itself. It templates a value
# when the value is read, so a reader reads the names it needs and nothing else (another
# variable of the host may not template here at all). Plain dicts work the same way in tests.

import copy
from collections.abc import Mapping


def read_host_variables(hostvars, host, defaults, undefined=()):
    """{name: value} for every name in defaults: the host's value where it sets one, else a copy of the default.

    hostvars: Ansible's `hostvars`, or a dict of host name -> variables. A host hostvars does not
    hold gets the defaults. A value is "set" when the name is present, even as null, as for
    Jinja's default(). undefined: the types that mean a value is not set after all, because it
    templates to something undefined (which default() replaces too): a read that raises an
    exception of one of these types, or returns an instance of one. The controller passes
    AnsibleUndefinedVariable and Jinja's Undefined.
    """
    undefined = tuple(undefined)
    variables = {}
    if isinstance(hostvars, Mapping) and host in hostvars:
        variables = hostvars[host]
        if not isinstance(variables, Mapping):
            variables = {}
    values = {}
    for name, default in defaults.items():
        values[name] = copy.deepcopy(default)
        if name not in variables:
            continue
        try:
            value = variables[name]
        except Exception as error:
            if not isinstance(error, undefined):
                raise
            continue
        if not isinstance(value, undefined):
            values[name] = value
    return values
