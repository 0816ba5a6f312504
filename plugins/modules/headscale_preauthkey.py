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
'''

RETURN = r'''
key:
  description:
    - The pre-auth key. A secret; set C(no_log) on the task and keep it out of logs, files left behind and facts.
  returned: success, not in check mode
  type: str
  sample: hskey-auth-AbCdEfGhIjKl-(64 more characters)
id:
  description: The key's numeric id on the server (C(headscale preauthkeys expire --id) takes it, 0.28 and later).
  returned: success; V(null) in check mode
  type: int
  sample: 7
user:
  description: O(user), as given.
  returned: always
  type: str
  sample: alice
user_id:
  description: The numeric id of O(user); V(null) without a user, and in check mode for a user that does not exist yet.
  returned: always
  type: int
  sample: 1
reusable:
  description: Whether the key is reusable.
  returned: always
  type: bool
  sample: false
ephemeral:
  description: Whether nodes that join with the key are ephemeral.
  returned: always
  type: bool
  sample: false
tags:
  description: The tags of the key, sorted.
  returned: always
  type: list
  elements: str
  sample: [tag:server]
expiration:
  description: When the key expires, UTC, as headscale recorded it.
  returned: success; V(null) in check mode
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
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_preauthkey(module))


if __name__ == '__main__':
    main()
