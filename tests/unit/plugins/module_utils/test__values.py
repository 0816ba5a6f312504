# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.overlaynet.vpn.plugins.module_utils._values import (
    as_list,
    check_bool,
    check_choice,
    check_int,
    check_known_keys,
    dedupe,
    is_int,
    is_list,
    is_mapping,
    list_value,
    parse_int,
    type_name,
)


def test_type_tests():
    assert is_int(0) and is_int(-5) and not is_int(True) and not is_int('1') and not is_int(1.0)
    assert is_list([]) and is_list(()) and not is_list('ab') and not is_list({})
    assert is_mapping({}) and not is_mapping([])
    assert as_list(None) == [] and as_list(('a',)) == ['a']
    assert dedupe(['b', 'a', 'b', 'c', 'a']) == ['b', 'a', 'c']
    assert type_name('x') == 'str' and type_name(None) == 'NoneType'


def test_check_int():
    errors = []
    assert check_int(errors, 'port', 1, 1, 65535)
    assert check_int(errors, 'mtu', None, 1280, 9000, allow_none=True)
    assert errors == []
    assert not check_int(errors, 'port', 0, 1, 65535)
    assert not check_int(errors, 'port', True, 1, 65535)
    assert not check_int(errors, 'mtu', None, 1280, 9000)
    assert errors == ['port: 0 is out of range (1-65535)', 'port: must be an integer between 1 and 65535, got True',
                      'mtu: must be an integer between 1280 and 9000, got None']


def test_list_value():
    errors = []
    assert list_value(errors, 'names', None, 'names') == []
    assert list_value(errors, 'names', ('a', 'b'), 'names') == ['a', 'b']
    assert errors == []
    assert list_value(errors, 'names', 'a', 'client names') == []
    assert errors == ['names: must be a list of client names, got str']


def test_check_bool():
    errors = []
    assert check_bool(errors, 'flag', True) and check_bool(errors, 'flag', False)
    assert not check_bool(errors, 'flag', 'yes')
    assert not check_bool(errors, 'flag', 1)
    assert errors == ["flag: must be true or false, got 'yes'", 'flag: must be true or false, got 1']


def test_check_choice():
    errors = []
    assert check_choice(errors, 'proto', 'udp', ('udp', 'tcp'))
    assert check_choice(errors, 'size', 2048, (2048, 3072))
    assert not check_choice(errors, 'proto', 'sctp', ('udp', 'tcp'))
    assert not check_choice(errors, 'proto', ['udp'], ('udp', 'tcp'))
    assert not check_choice(errors, 'size', True, (1, 2))
    assert errors == ["proto: 'sctp' must be one of udp, tcp", "proto: ['udp'] must be one of udp, tcp", 'size: True must be one of 1, 2']


def test_check_known_keys():
    errors = []
    check_known_keys(errors, 'host a: items[0]', {'name': 1, 'nmae': 2, 3: 'x'}, ('name', 'port'))
    assert errors == ['host a: items[0].3: unknown key (known keys: name, port)', 'host a: items[0].nmae: unknown key (known keys: name, port)']


def test_parse_int():
    assert parse_int(' 42 ', 'MTU', 0, 100) == 42
    with pytest.raises(ValueError, match=r"^MTU must be an integer between 68 and 65535, got 20$"):
        parse_int('20', 'MTU', 68, 65535)
    with pytest.raises(ValueError, match=r"^MTU must be an integer between 68 and 65535, got '-1'$"):
        parse_int('-1', 'MTU', 68, 65535)
