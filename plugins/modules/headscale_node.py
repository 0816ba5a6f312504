#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: headscale_node
short_description: Delete nodes from a headscale server
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Deletes nodes of a headscale 0.26 to 0.29 server through the C(headscale) CLI on the server host, which reaches the
    running server over its unix socket. All nodes of a run are handled in that one run.
  - A node joins by itself (M(overlaynet.vpn.tailscale_node) with a pre-auth key); what a server keeps after the node
    left is its entry. C(tailscale logout) only expires that entry, which keeps the node's name and addresses, so a
    machine that joins again under the same host name is given another name (C(NAME-XXXXXXXX)) and MagicDNS
    resolves its name to the expired entry. Deleting the entry frees both.
  - Reads the nodes once (C(headscale nodes list)) and runs C(headscale nodes delete) only for the listed nodes the
    server has. A node the server does not have needs nothing, so a second run changes nothing.
  - Nodes are found by node key, which names exactly one machine's registration, or by name (the given name
    C(headscale nodes list) shows, unique on the server; when no node has it as given name, the host name). A host
    name that several nodes have fails the module before anything changes.
options:
  nodes:
    description:
      - The nodes to delete. Each item is a mapping with either C(node_key) or C(name).
      - C(node_key) is the node's public node key, C(nodekey:) and 64 hex digits, as C(tailscale status --json) shows it
        on the node (C(Self.PublicKey)) and C(headscale nodes list --output json) on the server.
      - C(name) is the node's given name (or its host name).
      - Nodes of the server that are not listed are left alone.
    type: list
    elements: dict
    required: true
  state:
    description:
      - V(absent), the only choice, deletes the listed nodes. Nodes register themselves; there is no V(present).
    type: str
    choices: [absent]
    default: absent
extends_documentation_fragment:
  - overlaynet.vpn.headscale_cli
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode only reads (C(nodes list)). When headscale is not installed or its server cannot be reached yet, the
        module warns and assumes the server has no nodes.
  diff_mode:
    support: full
    details:
      - The nodes deleted, one a line, as name and id.
notes:
  - A node that is still logged in when its entry is deleted loses its place in the tailnet; log it out first
    (M(overlaynet.vpn.tailscale_node) with O(overlaynet.vpn.tailscale_node#module:state=absent)), as the
    P(overlaynet.vpn.tailscale#role) role does when a node is set absent.
seealso:
  - module: overlaynet.vpn.tailscale_node
  - module: overlaynet.vpn.headscale_user
  - name: headscale nodes
    description: Node management in the headscale documentation.
    link: https://headscale.net/stable/ref/registration/
'''

EXAMPLES = r'''
- name: Delete the entry of a node that logged out (its key as tailscale status showed it)
  overlaynet.vpn.headscale_node:
    nodes:
      - node_key: nodekey:4f2c0d9a1be2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c
    state: absent

- name: Delete the old laptop by its name
  overlaynet.vpn.headscale_node:
    nodes:
      - name: old-laptop
'''

RETURN = r'''
deleted:
  description: The nodes deleted (in check mode, that would be), each with its numeric C(id) and its C(name).
  returned: success
  type: list
  elements: dict
  sample:
    - id: 7
      name: old-laptop
diff:
  description: The nodes deleted, one a line, as name and id.
  returned: in diff mode, when nodes are deleted (or would be)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import cli_argument_spec, run_node_absent


def main():
    module = AnsibleModule(
        argument_spec=cli_argument_spec(
            nodes=dict(type='list', elements='dict', required=True),
            state=dict(type='str', choices=['absent'], default='absent'),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_node_absent(module))


if __name__ == '__main__':
    main()
