#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: headscale_preauthkey
short_description: Mint a headscale pre-auth key and return it
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Mints a pre-auth key with C(headscale preauthkeys create) on the headscale server host (headscale 0.26 to 0.29)
    and returns it in RV(key), for a node to join the tailnet (C(tailscale up --auth-key file:PATH)).
  - B(The returned key is a secret.) A task using this module must set C(no_log) to V(true), and pass the key on only to
    where it is used (a file of mode C(0600) on the joining node, removed after the join). The key is in no other
    return value, in no message and in no warning of this module; it takes no secret as an option.
  - The user is given by name; the module looks up its numeric id (C(headscale users list)), which the CLI wants.
  - Every run mints a new key, so the module always reports a change; it never looks for an earlier key (from 0.28 on
    headscale stores only a hash and cannot show a key again). Call it only when a node must join, as the role
    overlaynet.vpn.headscale does.
  - Keys not used expire after O(expiration); a single-use key is spent by its first node.
  - With O(keys), one run mints a key for each item (one C(users list) for all of them) and returns them in RV(keys) by
    name, for several nodes joining at once; the other options are then the defaults of the items.
options:
  user:
    description:
      - Name of the headscale user whose key it is; the nodes that join with it are that user's.
      - Required with headscale 0.26 and 0.27. From 0.28 on it may be left out when O(tags) are given; the nodes are
        then owned by their tags.
    type: str
  reusable:
    description:
      - Whether more than one node may join with the key (until it expires); by default the first node spends it.
    type: bool
    default: false
  ephemeral:
    description:
      - Whether the nodes that join with it are ephemeral (headscale removes them some time after they go offline).
    type: bool
    default: false
  expiration:
    description:
      - How long the key may be used, as headscale's CLI reads a duration (C(30m), C(1h), C(7d), C(1w2d); units C(y),
        C(w), C(d), C(h), C(m), C(s), C(ms), largest first, whole numbers). More than zero.
    type: str
    default: 1h
  tags:
    description:
      - Tags the nodes that join with it get, each C(tag:) and a name of lower-case letters, digits and C(-) starting
        with a letter (headscale refuses upper case and spaces).
      - From headscale 0.28 on, nodes with tags are owned by their tags, not by O(user); the policy's C(tagOwners)
        decide who may use them.
    type: list
    elements: str
    default: []
  keys:
    description:
      - Several keys to mint in one run, each named (usually for the node that joins with it). An option an item leaves
        out is taken from the module's option of the same name.
      - With O(keys) the keys are returned in RV(keys), and RV(key) is not returned.
      - Should minting fail part way, the keys minted before are not returned; unused, they expire.
    type: list
    elements: dict
    suboptions:
      name:
        description: The key's name in RV(keys), unique among the items; headscale does not store it.
        type: str
        required: true
      user:
        description: As O(user).
        type: str
      reusable:
        description: As O(reusable).
        type: bool
      ephemeral:
        description: As O(ephemeral).
        type: bool
      expiration:
        description: As O(expiration).
        type: str
      tags:
        description: As O(tags).
        type: list
        elements: str
extends_documentation_fragment:
  - overlaynet.vpn.headscale_cli
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode mints nothing and returns no key; it reports a change (a real run always mints one). It reads the
        users to find O(user); a user that does not exist yet, or a server that cannot be reached yet, is a warning.
  diff_mode:
    support: none
notes:
  - Keys of headscale 0.26 and 0.27 are 48 hexadecimal digits, those of 0.28 and later start with C(hskey-auth-).
seealso:
  - module: overlaynet.vpn.headscale_user
  - name: headscale
    description: The headscale documentation.
    link: https://headscale.net/stable/
'''

EXAMPLES = r'''
- name: Mint a single-use key for the node joining as alice
  overlaynet.vpn.headscale_preauthkey:
    user: alice
    expiration: 30m
  delegate_to: "{{ groups['headscale_servers'] | first }}"
  register: headscale__join_key
  no_log: true

- name: Mint a reusable key for tagged servers (headscale 0.28 or later)
  overlaynet.vpn.headscale_preauthkey:
    tags: [tag:server]
    reusable: true
    expiration: 2h
  register: headscale__server_key
  no_log: true

- name: Mint a single-use key for each of two nodes in one run
  overlaynet.vpn.headscale_preauthkey:
    expiration: 30m
    keys:
      - name: web1
        tags: [tag:web]
      - name: db1
        tags: [tag:db]
  register: headscale__node_keys
  no_log: true
  # headscale__node_keys.keys.web1.key is the key of web1
'''

RETURN = r'''
keys:
  description:
    - With O(keys), each key by its name, as the return values below describe one key (C(key), C(id), C(user), C(user_id),
      C(reusable), C(ephemeral), C(tags), C(expiration)); in check mode without C(key).
    - B(A secret) outside check mode; set C(no_log) on the task.
  returned: success, with O(keys)
  type: dict
  sample:
    web1:
      key: hskey-auth-AbCdEfGhIjKl-(64 more characters)
      id: 8
      user: null
      user_id: null
      reusable: false
      ephemeral: false
      tags: [tag:web]
      expiration: '2026-11-30T13:00:00Z'
key:
  description:
    - The pre-auth key. A secret; set C(no_log) on the task and keep it out of logs, files left behind and facts.
  returned: success, not in check mode, without O(keys)
  type: str
  sample: hskey-auth-AbCdEfGhIjKl-(64 more characters)
id:
  description: The key's numeric id on the server (C(headscale preauthkeys expire --id) takes it, 0.28 and later).
  returned: success, without O(keys); V(null) in check mode
  type: int
  sample: 7
user:
  description: O(user), as given.
  returned: success, without O(keys)
  type: str
  sample: alice
user_id:
  description: The numeric id of O(user); V(null) without a user, and in check mode for a user that does not exist yet.
  returned: success, without O(keys)
  type: int
  sample: 1
reusable:
  description: Whether the key is reusable.
  returned: success, without O(keys)
  type: bool
  sample: false
ephemeral:
  description: Whether nodes that join with the key are ephemeral.
  returned: success, without O(keys)
  type: bool
  sample: false
tags:
  description: The tags of the key, sorted.
  returned: success, without O(keys)
  type: list
  elements: str
  sample: [tag:server]
expiration:
  description: When the key expires, UTC, as headscale recorded it.
  returned: success, without O(keys); V(null) in check mode
  type: str
  sample: '2026-11-30T13:00:00Z'
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import DEFAULT_EXPIRATION, cli_argument_spec, run_preauthkey


def main():
    module = AnsibleModule(
        argument_spec=cli_argument_spec(
            user=dict(type='str'),
            reusable=dict(type='bool', default=False),
            ephemeral=dict(type='bool', default=False),
            expiration=dict(type='str', default=DEFAULT_EXPIRATION),
            tags=dict(type='list', elements='str', default=[]),
            # The keys' requests, not keys: nothing secret goes in.
            keys=dict(type='list', elements='dict', no_log=False, options=dict(
                name=dict(type='str', required=True),
                user=dict(type='str'),
                reusable=dict(type='bool'),
                ephemeral=dict(type='bool'),
                expiration=dict(type='str'),
                tags=dict(type='list', elements='str'),
            )),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_preauthkey(module))


if __name__ == '__main__':
    main()
