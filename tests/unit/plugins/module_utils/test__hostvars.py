# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._hostvars import read_host_variables
from ansible_collections.overlaynet.vpn.tests.unit.plugins.module_utils.hostvars_fakes import (
    UNDEFINED,
    LazyHostVars,
    UndefinedError,
    UndefinedValue,
    undefined_error,
)

DEFAULTS = {'role_port': 51820, 'role_list': [], 'role_map': {}}


def test_set_values_win_and_defaults_fill_in():
    hostvars = {'a': {'role_port': 1, 'role_map': None, 'other': 'x'}}
    assert read_host_variables(hostvars, 'a', DEFAULTS) == {'role_port': 1, 'role_list': [], 'role_map': None}


def test_unknown_host_and_odd_hostvars_get_the_defaults():
    assert read_host_variables({'a': {}}, 'b', DEFAULTS) == DEFAULTS
    assert read_host_variables(None, 'a', DEFAULTS) == DEFAULTS
    assert read_host_variables({'a': 'not variables'}, 'a', DEFAULTS) == DEFAULTS


def test_defaults_are_copies():
    first = read_host_variables({}, 'a', DEFAULTS)
    first['role_list'].append('x')
    first['role_map']['y'] = 1
    assert DEFAULTS == {'role_port': 51820, 'role_list': [], 'role_map': {}}
    assert read_host_variables({}, 'b', DEFAULTS)['role_list'] == []


def test_lazy_hostvars_are_read_only_for_the_names_asked_for():
    hostvars = LazyHostVars({'a': {'role_port': lambda: 7, 'broken': undefined_error, 'other': lambda: 'x'}})
    assert read_host_variables(hostvars, 'a', DEFAULTS, UNDEFINED) == {'role_port': 7, 'role_list': [], 'role_map': {}}
    assert hostvars.names_read() == [('a', 'role_port')]


@pytest.mark.parametrize('value', [undefined_error, UndefinedValue])
def test_a_value_that_templates_to_undefined_counts_as_unset(value):
    hostvars = LazyHostVars({'a': {'role_port': value}})
    assert read_host_variables(hostvars, 'a', DEFAULTS, UNDEFINED)['role_port'] == 51820


def test_without_undefined_types_an_undefined_value_is_an_error():
    with pytest.raises(UndefinedError):
        read_host_variables(LazyHostVars({'a': {'role_port': undefined_error}}), 'a', DEFAULTS)
