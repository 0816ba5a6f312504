# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import grp
import json
import os
import pwd
import stat

import pytest


from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import is_valid_key, public_key_from_private
from ansible_collections.overlaynet.vpn.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, module_args, patch_exits
from ansible_collections.overlaynet.vpn.plugins.modules import wireguard_keypair

# RFC 7748, section 6.1 (Alice), base64-encoded.
KNOWN_PRIVATE_KEY = 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo='
KNOWN_PUBLIC_KEY = 'hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo='
# RFC 7748, section 6.1 (Bob), base64-encoded.
OTHER_PRIVATE_KEY = 'XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os='

CURRENT_USER = pwd.getpwuid(os.getuid()).pw_name
CURRENT_GROUP = grp.getgrgid(os.getgid()).gr_name


@pytest.fixture(autouse=True)
def _patch_exits(monkeypatch):
    patch_exits(monkeypatch)


def _full_args(args, check_mode, diff):
    full = dict(owner=CURRENT_USER, group=CURRENT_GROUP)
    full.update(args)
    if check_mode:
        full['_ansible_check_mode'] = True
    if diff:
        full['_ansible_diff'] = True
    return full


def run_ok(args, check_mode=False, diff=False):
    with module_args(_full_args(args, check_mode, diff)):
        with pytest.raises(ExitJson) as excinfo:
            wireguard_keypair.main()
    result = excinfo.value.args[0]
    assert 'failed' not in result
    return result


def run_fail(args, check_mode=False):
    with module_args(_full_args(args, check_mode, False)):
        with pytest.raises(FailJson) as excinfo:
            wireguard_keypair.main()
    return excinfo.value.args[0]


def read(path):
    with open(str(path)) as key_file:
        return key_file.read()


def write(path, content, mode=0o600):
    with open(str(path), 'w') as key_file:
        key_file.write(content)
    os.chmod(str(path), mode)


def file_mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def assert_no_private_material(result, *private_keys):
    dumped = json.dumps(result)
    for private_key in private_keys:
        assert private_key.strip() not in dumped


@pytest.fixture
def key_path(tmp_path):
    return tmp_path / 'wireguard' / 'wg0.key'


def test_create_new_key(key_path):
    result = run_ok({'path': str(key_path)})

    content = read(key_path)
    assert content.endswith('\n') and content.count('\n') == 1
    private_key = content.strip()
    assert is_valid_key(private_key)
    assert len(private_key) == 44
    assert file_mode(key_path) == 0o600
    assert file_mode(key_path.parent) == 0o700
    assert result['changed'] is True
    assert result['generated'] is True
    assert result['action'] == 'created'
    assert result['path'] == str(key_path)
    assert result['public_key'] == public_key_from_private(private_key)
    assert_no_private_material(result, private_key)
    # No temporary file is left behind next to the key.
    assert os.listdir(str(key_path.parent)) == ['wg0.key']


def test_rerun_keeps_key(key_path):
    first = run_ok({'path': str(key_path)})
    content = read(key_path)

    second = run_ok({'path': str(key_path)})

    assert read(key_path) == content
    assert second['changed'] is False
    assert second['generated'] is False
    assert second['action'] == 'none'
    assert second['public_key'] == first['public_key']


def test_check_mode_on_missing_file_writes_nothing(key_path):
    result = run_ok({'path': str(key_path)}, check_mode=True)

    assert result['changed'] is True
    assert result['action'] == 'created'
    assert result['generated'] is False
    assert result['public_key'] is None
    assert not key_path.exists()
    assert not key_path.parent.exists()


def test_check_mode_returns_public_key_of_kept_key(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path)}, check_mode=True)

    assert result['changed'] is False
    assert result['action'] == 'none'
    assert result['public_key'] == KNOWN_PUBLIC_KEY
    assert_no_private_material(result, KNOWN_PRIVATE_KEY)


@pytest.mark.parametrize('check_mode', [False, True])
def test_invalid_file_with_never_fails_without_content(tmp_path, check_mode):
    path = tmp_path / 'wg0.key'
    bad_content = 'SECRET-LOOKING-CONTENT-%s\n' % KNOWN_PRIVATE_KEY[:20]
    write(path, bad_content)

    result = run_fail({'path': str(path)}, check_mode=check_mode)

    assert result['msg'] == ('existing key file %s does not hold a valid WireGuard key; refusing to replace it '
                             '(set regenerate=invalid to replace it)' % path)
    assert 'SECRET-LOOKING-CONTENT' not in json.dumps(result)
    assert read(path) == bad_content


def test_invalid_file_with_invalid_is_replaced(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, 'garbage\n', mode=0o644)

    result = run_ok({'path': str(path), 'regenerate': 'invalid'})

    private_key = read(path).strip()
    assert is_valid_key(private_key)
    assert file_mode(path) == 0o600
    assert result['changed'] is True
    assert result['generated'] is True
    assert result['action'] == 'replaced'
    assert result['public_key'] == public_key_from_private(private_key)


def test_valid_file_with_invalid_is_kept(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path), 'regenerate': 'invalid'})

    assert read(path) == KNOWN_PRIVATE_KEY + '\n'
    assert result['changed'] is False
    assert result['action'] == 'none'
    assert result['public_key'] == KNOWN_PUBLIC_KEY


def test_always_writes_a_new_key(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path), 'regenerate': 'always'})

    private_key = read(path).strip()
    assert is_valid_key(private_key)
    assert private_key != KNOWN_PRIVATE_KEY
    assert result['changed'] is True
    assert result['generated'] is True
    assert result['action'] == 'replaced'
    assert result['public_key'] == public_key_from_private(private_key)
    assert result['public_key'] != KNOWN_PUBLIC_KEY
    assert file_mode(path) == 0o600
    assert_no_private_material(result, private_key, KNOWN_PRIVATE_KEY)


def test_always_in_check_mode_changes_nothing(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path), 'regenerate': 'always'}, check_mode=True)

    assert read(path) == KNOWN_PRIVATE_KEY + '\n'
    assert result['changed'] is True
    assert result['action'] == 'replaced'
    assert result['generated'] is False
    assert result['public_key'] is None


def test_import_given_key(key_path):
    result = run_ok({'path': str(key_path), 'private_key': KNOWN_PRIVATE_KEY + '\n'})

    assert read(key_path) == KNOWN_PRIVATE_KEY + '\n'
    assert file_mode(key_path) == 0o600
    assert result['changed'] is True
    assert result['generated'] is True
    assert result['action'] == 'imported'
    assert result['public_key'] == KNOWN_PUBLIC_KEY
    assert_no_private_material(result, KNOWN_PRIVATE_KEY)

    again = run_ok({'path': str(key_path), 'private_key': KNOWN_PRIVATE_KEY})

    assert again['changed'] is False
    assert again['action'] == 'none'
    assert again['public_key'] == KNOWN_PUBLIC_KEY


def test_import_replaces_a_different_key(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, OTHER_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path), 'private_key': KNOWN_PRIVATE_KEY})

    assert read(path) == KNOWN_PRIVATE_KEY + '\n'
    assert result['action'] == 'imported'
    assert result['changed'] is True
    assert result['public_key'] == KNOWN_PUBLIC_KEY


def test_import_in_check_mode_predicts_public_key(key_path):
    result = run_ok({'path': str(key_path), 'private_key': KNOWN_PRIVATE_KEY}, check_mode=True)

    assert not key_path.exists()
    assert result['changed'] is True
    assert result['action'] == 'imported'
    assert result['generated'] is False
    assert result['public_key'] == KNOWN_PUBLIC_KEY


def test_import_of_invalid_key_fails_without_echoing_it(key_path):
    bad_key = KNOWN_PRIVATE_KEY[:40] + '*!!='

    result = run_fail({'path': str(key_path), 'private_key': bad_key})

    assert 'not a valid WireGuard key' in result['msg']
    assert bad_key not in json.dumps(result)
    assert KNOWN_PRIVATE_KEY[:20] not in json.dumps(result)
    assert not key_path.exists()


def test_import_with_regenerate_always_fails(key_path):
    result = run_fail({'path': str(key_path), 'private_key': KNOWN_PRIVATE_KEY, 'regenerate': 'always'})

    assert result['msg'] == 'private_key cannot be combined with regenerate=always'
    assert not key_path.exists()


def test_absent_removes_file(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path), 'state': 'absent'})

    assert not path.exists()
    assert result['changed'] is True
    assert result['action'] == 'removed'
    assert result['public_key'] is None

    again = run_ok({'path': str(path), 'state': 'absent'})

    assert again['changed'] is False
    assert again['action'] == 'none'


def test_absent_in_check_mode_keeps_file(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path), 'state': 'absent'}, check_mode=True)

    assert path.exists()
    assert result['changed'] is True
    assert result['action'] == 'removed'


def test_mode_of_existing_key_is_fixed(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n', mode=0o644)

    checked = run_ok({'path': str(path)}, check_mode=True)

    assert checked['changed'] is True
    assert checked['action'] == 'none'
    assert file_mode(path) == 0o644

    result = run_ok({'path': str(path)})

    assert result['changed'] is True
    assert result['action'] == 'none'
    assert result['generated'] is False
    assert result['public_key'] == KNOWN_PUBLIC_KEY
    assert file_mode(path) == 0o600
    assert read(path) == KNOWN_PRIVATE_KEY + '\n'


def test_diff_shows_only_public_keys(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n')

    result = run_ok({'path': str(path), 'regenerate': 'always'}, diff=True)

    new_private_key = read(path).strip()
    assert result['diff']['before'] == 'public key: %s\n' % KNOWN_PUBLIC_KEY
    assert result['diff']['after'] == 'public key: %s\n' % public_key_from_private(new_private_key)
    assert_no_private_material(result, KNOWN_PRIVATE_KEY, new_private_key)


def test_diff_shows_fixed_mode_of_kept_key(tmp_path):
    path = tmp_path / 'wg0.key'
    write(path, KNOWN_PRIVATE_KEY + '\n', mode=0o640)

    result = run_ok({'path': str(path)}, diff=True)

    assert result['diff']['before'] == 'public key: %s\nmode: 0640\n' % KNOWN_PUBLIC_KEY
    assert result['diff']['after'] == 'public key: %s\nmode: 0600\n' % KNOWN_PUBLIC_KEY
    assert_no_private_material(result, KNOWN_PRIVATE_KEY)


def test_diff_in_check_mode_for_new_key(key_path):
    result = run_ok({'path': str(key_path)}, check_mode=True, diff=True)

    assert result['diff']['before'] == 'public key: (absent)\n'
    assert result['diff']['after'] == 'public key: (new key, generated when not in check mode)\n'


def test_directory_as_path_fails(tmp_path):
    result = run_fail({'path': str(tmp_path)})

    assert 'is a directory' in result['msg']
