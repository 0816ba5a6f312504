#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: headscale_routes
short_description: Approve the subnet and exit-node routes of headscale nodes
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Sets the approved routes (subnet routes and exit-node routes) of nodes of a headscale 0.26 to 0.29 server, through
    the C(headscale) CLI on the server host, which reaches the running server over its unix socket.
  - For each node listed, the routes given are the B(whole) list of its approved routes. Routes it has approved that
    are not listed are un-approved, and an empty list un-approves every route of the node. Nodes that are not
    listed are left alone.
  - Reads the nodes once (C(headscale nodes list)) and runs C(headscale nodes approve-routes) only for the nodes whose
    approved routes differ. A converged server costs that one read.
  - Nodes are found by their given name (the name C(headscale nodes list) shows, unique on the server); when no node
    has it as given name, by host name. A name no node has, or a host name several nodes have, fails the module
    before anything changes.
  - headscale approves a route whether or not the node announces it (C(tailscale set --advertise-routes),
    C(--advertise-exit-node)); it keeps the approval and serves the route once the node announces it. The module
    therefore approves routes not announced yet. O(wait_for_announce) lets it wait for the announcements first.
options:
  nodes:
    description:
      - The nodes and the routes to approve for each. Each item is a mapping with C(name) (required), C(routes) and
        C(exit_node).
      - C(name) is the node's given name as C(headscale nodes list) shows it (or its host name). A node may be listed
        once.
      - C(routes) is the list of routes to approve, as CIDR prefixes with no host bits set (C(10.20.0.0/16),
        C(fd00:20::/64)). Default V([]), no route.
      - C(exit_node) V(true) adds the exit routes C(0.0.0.0/0) and C(::/0) (default V(false)). headscale approves
        both halves of an exit node together, so C(routes) holding either of them also approves both; to stop a
        node being an exit node, list neither and leave C(exit_node) false.
    type: list
    elements: dict
    required: true
  wait_for_announce:
    description:
      - How many seconds to wait, at most, for the nodes to announce the routes to approve. While a node does not
        announce one of them, the module reads the nodes again every second; when the time runs out it warns and
        approves the routes all the same.
      - Nodes announce their routes shortly after they join; V(0) (the default) does not wait. Not in check mode.
      - From 0 to 3600.
    type: int
    default: 0
extends_documentation_fragment:
  - overlaynet.vpn.headscale_cli
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode only reads (C(nodes list)), once, and does not wait. When headscale is not installed, its server
        cannot be reached yet or a node has not joined yet (an earlier task would see to it), the module warns and
        assumes the node has no approved routes.
  diff_mode:
    support: full
    details:
      - The approved routes of the listed nodes before and after, one a line, as the node name, a colon and the route.
notes:
  - Routes that the policy's C(autoApprovers) allow are approved by headscale itself, and are part of a node's approved
    routes; list them too. headscale approves them again when the node next announces its routes or the policy is
    reloaded, even after this module un-approved them.
  - A route is served (the tailnet sends traffic to it through the node) when it is both announced and approved; with
    several nodes announcing the same approved route, headscale picks one as primary.
seealso:
  - module: overlaynet.vpn.headscale_user
  - module: overlaynet.vpn.headscale_preauthkey
  - name: headscale routes
    description: Subnet routers and exit nodes in the headscale documentation.
    link: https://headscale.net/stable/ref/routes/
'''

EXAMPLES = r'''
- name: Approve the routes of the site router and make gw1 an exit node
  overlaynet.vpn.headscale_routes:
    nodes:
      - name: site-router
        routes: [10.20.0.0/16, fd00:20::/64]
      - name: gw1
        exit_node: true
    wait_for_announce: 30
  register: headscale__routes

- name: Un-approve every route of the old router
  overlaynet.vpn.headscale_routes:
    nodes:
      - name: old-router
        routes: []
'''

RETURN = r'''
nodes:
  description:
    - Every node of O(nodes), by the name given, with its numeric C(id) (what C(headscale nodes approve-routes
      --identifier) takes), C(name), C(approved_routes) and C(available_routes) (the routes it announces), as headscale
      shows them after the run.
    - In check mode, C(approved_routes) is what they would be; a node that has not joined yet has C(id) V(null).
  returned: success
  type: dict
  sample:
    site-router:
      name: site-router
      id: 3
      approved_routes: [10.20.0.0/16, fd00:20::/64]
      available_routes: [10.20.0.0/16, fd00:20::/64]
    gw1:
      name: gw1
      id: 4
      approved_routes: [0.0.0.0/0, '::/0']
      available_routes: [0.0.0.0/0, '::/0']
updated:
  description: The names of the nodes whose approved routes were set (in check mode, would be), in the order of O(nodes).
  returned: always
  type: list
  elements: str
  sample: [gw1]
diff:
  description:
    - The approved routes of the listed nodes before and after, one a line, as the node name, a colon and the route.
  returned: in diff mode, when approved routes change (or would)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import cli_argument_spec, run_routes


def main():
    module = AnsibleModule(
        argument_spec=cli_argument_spec(
            nodes=dict(type='list', elements='dict', required=True),
            wait_for_announce=dict(type='int', default=0),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_routes(module))


if __name__ == '__main__':
    main()
