#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: headscale_user
short_description: Keep the users of a headscale server
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Creates and removes users of headscale 0.26 to 0.29 through the C(headscale) CLI on the server host, which reaches
    the running server over its unix socket. All users of a run are handled in that one run.
  - Reads the users once (C(headscale users list)); creates only the users that are missing and removes only those that
    exist. A converged server costs that one read.
  - Users are matched by name. OIDC users need not have unique names; a name that more than one user has fails the
    module before anything changes.
  - headscale refuses to delete a user that still owns nodes. Before any change, the module reads the nodes
    (C(headscale nodes list), only when a user is to be removed) and fails naming every such user and their nodes;
    nothing is changed then. Deleting nodes is left to the administrator (C(headscale nodes delete)). Removing a user
    also removes its pre-auth keys.
  - Display name and e-mail are set only when a user is created; headscale has no command to change them. For an
    existing user with other values the module warns and leaves the user as it is.
options:
  users:
    description:
      - The users to keep or remove. Each item is a user name (short for a mapping with only C(name)) or a mapping with
        C(name) (required), C(state) (V(present), the default, or V(absent)), and, for V(present), C(display_name) and
        C(email).
      - A name has at least 2 characters, starts with a letter and holds letters, digits, C(-), C(.), C(_) and at most
        one C(@) (what every supported headscale version accepts). A name may be listed once.
      - Users of the server that are not listed are left alone.
    type: list
    elements: raw
    required: true
extends_documentation_fragment:
  - overlaynet.vpn.headscale_cli
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode only reads (C(users list), C(nodes list)). When headscale is not installed or its server cannot be
        reached yet (an earlier task would set it up), the module warns and assumes the server has no users.
  diff_mode:
    support: full
    details:
      - The names of the server's users before and after, one a line.
notes:
  - headscale 0.28 deletes every pre-auth key of the server, of all users, when it deletes a user (fixed in 0.29); the
    module warns when it removes a user from a 0.28 server. Nodes that have joined stay.
  - headscale 0.28 also counts a user's tagged nodes (shown as owned by C(tagged-devices)) when it refuses to delete a
    user; the module then fails with headscale's error, naming what it removed before.
seealso:
  - module: overlaynet.vpn.headscale_preauthkey
  - name: headscale
    description: The headscale documentation.
    link: https://headscale.net/stable/
'''

EXAMPLES = r'''
- name: Keep the users of the tailnet
  overlaynet.vpn.headscale_user:
    users:
      - alice
      - name: bob
        display_name: Bob Example
        email: bob@example.org
      - name: carol
        state: absent
  register: headscale__users

- name: Show alice's numeric id
  ansible.builtin.debug:
    msg: "alice is user {{ headscale__users.users.alice.id }}"
'''

RETURN = r'''
users:
  description:
    - Every user of O(users) with state V(present), by name, with its numeric C(id) (what C(headscale preauthkeys
      create --user) and C(users destroy --identifier) take), C(name), C(display_name) and C(email) (empty when unset).
    - In check mode, a user that would be created has C(id) V(null).
  returned: success
  type: dict
  sample:
    alice: {id: 1, name: alice, display_name: '', email: ''}
    bob: {id: 2, name: bob, display_name: Bob Example, email: bob@example.org}
created:
  description: The names of the users created (in check mode, that would be created), in the order of O(users).
  returned: always
  type: list
  elements: str
  sample: [bob]
removed:
  description: The names of the users removed (in check mode, that would be removed), in the order of O(users).
  returned: always
  type: list
  elements: str
  sample: [carol]
diff:
  description: The names of the server's users before and after, one a line.
  returned: in diff mode, when users are created or removed (or would be)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import cli_argument_spec, run_users


def main():
    module = AnsibleModule(
        argument_spec=cli_argument_spec(
            users=dict(type='list', elements='raw', required=True),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_users(module))


if __name__ == '__main__':
    main()
