#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: wireguard_keypair
short_description: Keep a WireGuard private key on the target and return its public key
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Makes sure a file on the target holds a WireGuard private key, in the format C(wg genkey) writes
    (standard base64 of 32 bytes followed by a newline), and returns the matching public key.
  - The key is generated on the target with a pure-Python X25519 implementation; neither the C(wg)
    binary nor the Python C(cryptography) package is needed.
  - The private key never leaves the target through this module. It is not returned, not shown in
    diffs and not put into any message.
  - The file is written atomically, with mode C(0600) from its first byte, and its owner, group and
    mode are enforced on every run, also when an existing key is kept.
options:
  path:
    description:
      - Path of the private key file, for example C(/etc/wireguard/wg0.key).
      - The parent directory is created with mode C(0700) when it does not exist.
    type: path
    required: true
  state:
    description:
      - V(present) makes sure the file holds a valid private key.
      - V(absent) removes the file. The other key options are ignored then.
    type: str
    choices: [present, absent]
    default: present
  regenerate:
    description:
      - When to write a new private key over an existing file.
      - V(never) keeps an existing valid key. If the existing file does not hold a valid key, the module
        fails instead of replacing it, so that a key is never lost silently.
      - V(invalid) keeps an existing valid key and replaces the file only when it does not hold a valid key.
      - V(always) writes a new key on every run. Use it for deliberate key rotation, on the hosts that
        should rotate; peers then need the new public key.
      - Does not apply when O(private_key) is set; V(always) cannot be combined with O(private_key).
    type: str
    choices: [never, invalid, always]
    default: never
  private_key:
    description:
      - Private key to store instead of generating one, as standard base64 of 32 bytes (the output of
        C(wg genkey)). Surrounding whitespace is ignored.
      - The file is rewritten only when it does not already hold this key. An existing file with another
        key, or with content that is not a valid key, is replaced by this key.
      - Keep this value in Ansible Vault or another secret store.
      - Mutually exclusive with O(regenerate=always).
    type: str
  owner:
    description:
      - Name (or numeric id) of the user that should own the key file.
      - When unset, a new file belongs to the user running the module and an existing file keeps its owner.
    type: str
  group:
    description:
      - Name (or numeric id) of the group that should own the key file.
      - When unset, a new file gets that user's group and an existing file keeps its group.
    type: str
  mode:
    description:
      - Permissions of the key file, as an octal string such as V('0600') or in symbolic form.
      - Quote octal values in YAML so they stay strings.
    type: raw
    default: '0600'
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - When an existing valid key would be kept, its public key is returned in check mode too, so check mode
        can be used to read the public key of a host without changing it.
      - When a new key would be generated, RV(public_key) is V(null).
  diff_mode:
    support: full
    details:
      - The diff shows the public key before and after, and owner, group or mode changes. It never shows private key material.
notes:
  - To see the public key a peer has without changing it, run this module against the peer with
    C(delegate_to) and C(check_mode=true).
seealso:
  - name: WireGuard quick start
    description: Key generation with C(wg genkey) and C(wg pubkey).
    link: https://www.wireguard.com/quickstart/
'''

EXAMPLES = r'''
- name: Generate a private key once and keep it on later runs
  overlaynet.vpn.wireguard_keypair:
    path: /etc/wireguard/wg0.key
  register: wg0_key

- name: Show the public key to give to peers
  ansible.builtin.debug:
    msg: "{{ wg0_key.public_key }}"

- name: Import a private key kept in Ansible Vault
  overlaynet.vpn.wireguard_keypair:
    path: /etc/wireguard/wg0.key
    private_key: "{{ vault_wg0_private_key }}"

- name: Replace the key file only if it does not hold a valid key
  overlaynet.vpn.wireguard_keypair:
    path: /etc/wireguard/wg0.key
    regenerate: invalid

- name: Rotate the key on the hosts flagged for rotation
  overlaynet.vpn.wireguard_keypair:
    path: /etc/wireguard/wg0.key
    regenerate: always
  when: wireguard_rotate_key | default(false) | bool
  register: wg0_key

- name: Read the hub's public key without changing anything on the hub
  overlaynet.vpn.wireguard_keypair:
    path: /etc/wireguard/wg0.key
  delegate_to: hub1.example.net
  check_mode: true
  register: hub_key

- name: Use the hub's public key (null if the hub has no key yet)
  ansible.builtin.debug:
    msg: "{{ hub_key.public_key }}"

- name: Remove the key file
  overlaynet.vpn.wireguard_keypair:
    path: /etc/wireguard/wg0.key
    state: absent
'''

RETURN = r'''
public_key:
  description:
    - Base64 public key of the private key in O(path).
    - V(null) when O(state=absent), and in check mode when a new key would be generated.
  returned: always
  type: str
  sample: hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=
path:
  description: Path of the private key file.
  returned: always
  type: str
  sample: /etc/wireguard/wg0.key
changed:
  description:
    - Whether a key was (or in check mode would be) created, replaced, imported or removed, or the file's
      owner, group or mode was (or would be) fixed.
  returned: always
  type: bool
  sample: true
generated:
  description:
    - Whether a new private key was written to O(path) during this run (created, replaced or imported).
    - Always V(false) in check mode, because nothing is written then.
  returned: always
  type: bool
  sample: true
action:
  description:
    - What happened (or in check mode would happen) to the key.
    - V(none) - an existing key was kept (owner, group or mode may still have been fixed).
    - V(created) - a new key was generated because the file did not exist.
    - V(replaced) - an existing file was replaced by a newly generated key (O(regenerate=always), or
      O(regenerate=invalid) and the file did not hold a valid key).
    - V(imported) - O(private_key) was written to the file.
    - V(removed) - the file was removed (O(state=absent)).
  returned: always
  type: str
  choices: [none, created, replaced, imported, removed]
  sample: created
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils.private_files import ensure_parent_directory, key_file_diff, write_private_file
from ansible_collections.overlaynet.vpn.plugins.module_utils.wireguard_keys import (
    decode_key,
    generate_private_key,
    is_valid_key,
    public_key_from_private,
)

# A key file is 45 bytes; anything much larger is not a key and need not be read whole.
MAX_KEY_FILE_SIZE = 4096


def read_key_file(module, path):
    """Return the text of an existing key file, or None when it cannot be a key file."""
    try:
        with open(path, 'rb') as key_file:
            content = key_file.read(MAX_KEY_FILE_SIZE + 1)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read key file %s: %s' % (path, to_native(exc.strerror or exc.__class__.__name__)))
    if len(content) > MAX_KEY_FILE_SIZE:
        return None
    try:
        return content.decode('ascii')
    except UnicodeDecodeError:
        return None


def decide_action(state, regenerate, imported_key, exists, existing_text, path):
    """Return (action, error message or None) for the current file state and options."""
    existing_valid = exists and is_valid_key(existing_text)
    if state == 'absent':
        return ('removed' if exists else 'none'), None
    if imported_key is not None:
        if existing_valid and decode_key(existing_text) == decode_key(imported_key):
            return 'none', None
        return 'imported', None
    if not exists:
        return 'created', None
    if not existing_valid:
        if regenerate == 'never':
            return None, ('existing key file %s does not hold a valid WireGuard key; refusing to replace it '
                          '(set regenerate=invalid to replace it)' % path)
        return 'replaced', None
    if regenerate == 'always':
        return 'replaced', None
    return 'none', None


def run_module(module):
    """Bring the key file to the requested state and return the result dict (never the private key)."""
    path = module.params['path']
    state = module.params['state']
    regenerate = module.params['regenerate']
    imported_key = module.params['private_key']

    if state == 'present' and imported_key is not None:
        if regenerate == 'always':
            module.fail_json(msg='private_key cannot be combined with regenerate=always')
        if not is_valid_key(imported_key):
            module.fail_json(msg='private_key is not a valid WireGuard key (expected 44 characters of base64 ending in "=")')
        imported_key = imported_key.strip()

    if os.path.isdir(path):
        module.fail_json(msg='path %s is a directory, not a key file' % path)

    exists = os.path.exists(path)
    existing_text = read_key_file(module, path) if exists else None
    existing_public_key = public_key_from_private(existing_text) if exists and is_valid_key(existing_text) else None
    if not exists:
        before_public_key = '(absent)'
    elif existing_public_key is None:
        before_public_key = '(file does not hold a valid key)'
    else:
        before_public_key = existing_public_key

    action, error = decide_action(state, regenerate, imported_key, exists, existing_text, path)
    if error:
        module.fail_json(msg=error)

    result = dict(changed=action != 'none', path=path, public_key=None, generated=False, action=action)

    if action == 'removed':
        if not module.check_mode:
            try:
                os.remove(path)
            except OSError as exc:
                module.fail_json(msg='cannot remove key file %s: %s' % (path, to_native(exc.strerror)))
    elif action == 'none':
        result['public_key'] = existing_public_key
    elif module.check_mode:
        # A generated key cannot be predicted; an imported one can.
        if action == 'imported':
            result['public_key'] = public_key_from_private(imported_key)
    else:
        new_private_key = imported_key if action == 'imported' else generate_private_key()
        try:
            ensure_parent_directory(path)
            write_private_file(path, new_private_key + '\n')
        except OSError as exc:
            module.fail_json(msg='cannot write key file %s: %s' % (path, to_native(exc.strerror)))
        result['generated'] = True
        result['public_key'] = public_key_from_private(new_private_key)

    attribute_diff = {}
    if state == 'present' and os.path.exists(path):
        file_args = module.load_file_common_arguments(module.params, path=path)
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'], diff=attribute_diff)

    if module._diff:
        if state == 'absent':
            after_public_key = '(absent)'
        elif result['public_key'] is not None:
            after_public_key = result['public_key']
        else:
            after_public_key = '(new key, generated when not in check mode)'
        result['diff'] = key_file_diff(path, 'public key', before_public_key, after_public_key, attribute_diff)

    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            regenerate=dict(type='str', default='never', choices=['never', 'invalid', 'always']),
            private_key=dict(type='str', no_log=True),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw', default='0600'),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
