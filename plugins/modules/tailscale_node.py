#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: tailscale_node
short_description: Join a Tailscale node to a headscale server, keep its settings, log it out
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Drives the C(tailscale) CLI (Tailscale 1.80 or later) of a Linux host whose C(tailscaled) runs, to join it to the
    control server O(login_server) (a headscale server), keep the settings of its options, and log it out.
  - Reads the node first (C(tailscale status --json), C(tailscale debug prefs)) and runs at most one command that
    changes it. A node as wanted costs these two reads.
  - B(Join.) A node that is not logged in, is logged in to another server, whose node key expired, or that logged in
    with other O(advertise_tags) (tags are sent at login) must log in with a pre-auth key,
    with C(tailscale up --reset --login-server=URL --auth-key=file:PATH ...) with every setting of this module,
    bounded by O(timeout). Without O(auth_key) or O(auth_key_file) the module changes nothing and returns
    RV(needs_auth_key) true,
    so that a play mints a key (overlaynet.vpn.headscale_preauthkey) only for the nodes that need one and runs the
    module again with it. A node logged in to another server is logged in anew with C(--force-reauth) (a new node
    key).
  - B(Start.) A node logged in to O(login_server) but stopped (C(tailscale down)) is started with
    C(tailscale up --reset ...) and its settings, without a key; it logs in again with the node key it has. When the
    server has expired or removed the node meanwhile, this fails after O(timeout) saying so; the next run returns
    RV(needs_auth_key) true.
  - B(Settings.) A node logged in to O(login_server) and not stopped whose settings differ gets
    C(tailscale set) with only the flags that differ.
  - C(tailscale up --reset) sets every setting; those this module has no option for (for example C(--ssh),
    C(--operator), C(--exit-node), C(--shields-up), C(--netfilter-mode)) go back to their defaults when the node
    joins or starts. C(tailscale set) leaves them alone.
  - B(Log out.) With O(state=absent), a node that holds a login gets C(tailscale logout), which expires its node key
    on the server; the node stays in the server's list until removed there (M(overlaynet.vpn.headscale_node)).
    A logout the server refuses (headscale refuses that of a node it deleted already) is tried once more; when
    tailscaled then holds no node key any more, the node is logged out locally and the module warns instead of
    failing.
  - A join or logout that fails before the control server saw it (its name did not resolve, its key could not be
    fetched) runs again every 2 seconds until O(timeout) has passed in all; nothing was used up by the failed try.
  - The pre-auth key is never on a command line (the CLI reads it from a file) and never in a return value or
    message; anything that looks like a key (C(tskey-...), C(hskey-auth-...), 48 hexadecimal digits) is removed from
    what the CLI says before the module quotes it. O(auth_key) is a C(no_log) option; the module writes it to a file
    of its own for the CLI (mode 0600, in the module's private temporary directory) and removes the file after the
    join.
  - B(Daemon.) With O(unit) and O(state=present), the module first makes that systemd unit of C(tailscaled) run on what
    it reads at start (binary, flags, trusted CAs). It runs C(systemctl daemon-reload) with O(daemon_reload), enables
    the unit, starts it where it does not run and restarts it with O(restart). A play that has just written the unit
    or its settings needs no separate task for it.
options:
  state:
    description:
      - V(present) joins the node to O(login_server) and keeps its settings; V(absent) logs it out.
    type: str
    choices: [present, absent]
    default: present
  login_server:
    description:
      - The URL of the control server, C(https://) and a host, optionally a port and a path; no user, query or
        fragment. Compared without a final C(/) and a C(:443).
      - Required for O(state=present); not used for O(state=absent).
    type: str
  auth_key:
    description:
      - A pre-auth key (of headscale, or of Tailscale), used only when the node must join. The module hands it to the
        CLI in a file of its own, which it removes after the join.
      - Mutually exclusive with O(auth_key_file).
    type: str
  auth_key_file:
    description:
      - Absolute path of a file on the node holding a pre-auth key (of headscale, or of Tailscale), used only when the
        node must join. The C(tailscale) CLI reads it (C(--auth-key=file:PATH)); the module only checks that it is a
        file, before it joins.
      - Remove the file after the join; the module neither creates nor removes it. Mutually exclusive with
        O(auth_key), which spares the play the file.
    type: path
  hostname:
    description:
      - The host name the node gives the control server (C(--hostname)), one DNS label of 1 to 63 letters, digits and
        C(-), starting and ending with a letter or digit. headscale derives the node's name in the tailnet from it.
      - When unset, the module leaves the host name as it is, also when the node joins or starts (with
        C(--hostname) and the one it has); a node that has none uses the OS's.
    type: str
  advertise_tags:
    description:
      - Tags the node asks for at login (C(--advertise-tags)), each C(tag:) and a name of lower-case letters, digits
        and C(-) starting with a letter. The server's policy decides which it grants (RV(tags)).
      - Compared with the tags the node logged in with (not with those granted); other tags take a new login, with a
        pre-auth key.
    type: list
    elements: str
    default: []
  key_tags:
    description:
      - The tags the pre-auth key of a join grants (headscale 0.28 and later tag a node from its key; 0.29 refuses a login
        with a pre-auth key that also asks for tags, so O(advertise_tags) stays empty then).
      - When given, a node whose granted tags (RV(tags)) differ must log in again, with a new key.
      - Not given (the default), granted tags are not compared.
    type: list
    elements: str
  rejoin:
    description:
      - Whether the node must log in anew, with a pre-auth key and a new node key (C(--force-reauth)), although it holds
        a login to O(login_server), because its control server no longer has it (for example, deleted with C(headscale nodes
        delete)). tailscaled cannot tell; it keeps showing the node running, without peers.
      - The P(overlaynet.vpn.tailscale#role) role sets it where its server's probe lists no node with this node's key.
    type: bool
    default: false
  advertise_routes:
    description:
      - Subnet routes the node offers to the tailnet (C(--advertise-routes)), as CIDR prefixes with no host bits set.
        The server must approve them before other nodes use them.
      - C(0.0.0.0/0) and C(::/0) are refused here; set O(advertise_exit_node) instead.
    type: list
    elements: str
    default: []
  advertise_exit_node:
    description:
      - Whether the node offers itself as an exit node (C(--advertise-exit-node), the routes C(0.0.0.0/0) and C(::/0)).
    type: bool
    default: false
  accept_routes:
    description:
      - Whether the node uses the subnet routes other nodes advertise (C(--accept-routes)).
    type: bool
    default: false
  accept_dns:
    description:
      - Whether the node uses the DNS settings of the control server (C(--accept-dns)).
    type: bool
    default: true
  timeout:
    description:
      - Seconds C(tailscale up) waits for the node to be running (C(--timeout)), 1 to 3600. When it runs out, the
        module fails and says what to check (whether the node reaches O(login_server) and trusts the CA of its
        certificate, whether the key is valid).
    type: int
    default: 60
  unit:
    description:
      - The systemd unit of C(tailscaled) (for example C(tailscaled.service)) that the module enables and starts, or
        restarts with O(restart), before it reads the node; only with O(state=present).
      - Not given, the module leaves the daemon alone, and C(tailscaled) must run. O(restart) and O(daemon_reload) need
        it.
    type: str
  restart:
    description:
      - Restart O(unit) before reading the node, because something C(tailscaled) reads only at start changed (its
        binary, its flags, the CAs it trusts). A unit that does not run is started either way. Needs O(unit).
    type: bool
    default: false
  executable:
    description:
      - Path of the C(tailscale) CLI, an executable file; by default the one found in the C(PATH).
    type: path
  socket:
    description:
      - Absolute path of the socket of C(tailscaled) (C(--socket)); by default the CLI's own
        (C(/var/run/tailscale/tailscaled.sock)).
    type: path
extends_documentation_fragment:
  - overlaynet.vpn.daemon_reload
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode only reads; a unit (O(unit)) it would start or restart is a change. A node that must join is
        reported as a change, with a key or without one (then also
        with RV(needs_auth_key) true). When C(tailscale) is not installed or C(tailscaled) cannot be asked yet (an
        earlier task would set it up), the module warns and assumes a node that has not joined.
      - The values read (RV(backend_state), RV(tailscale_ips), ...) are those before the change; RV(settings) are
        those the change would leave.
  diff_mode:
    support: full
    details:
      - The settings of RV(settings) before and after, one a line.
requirements:
  - Tailscale 1.80 or later on the node, C(tailscaled) running; the module runs as a user who may use its socket
    (usually root).
notes:
  - When the task's own SSH connection comes over Tailscale, C(tailscale up --force-reauth) (a node moving to another
    server) asks for a confirmation no one can give and the module fails; run such a task over another connection.
  - Tailscale keeps the settings in its state (C(/var/lib/tailscale)); a node whose state was removed has to join
    again.
seealso:
  - module: overlaynet.vpn.headscale_preauthkey
  - module: overlaynet.vpn.headscale_node
  - name: tailscale up
    description: The Tailscale CLI reference.
    link: https://tailscale.com/kb/1080/cli
'''

EXAMPLES = r'''
- name: Join the node if it needs to, or keep its settings
  overlaynet.vpn.tailscale_node:
    login_server: https://headscale.example.org
    hostname: web1
    advertise_tags: [tag:server]
    accept_dns: false
  register: tailscale__node

- name: Mint a key for a node that must join
  overlaynet.vpn.headscale_preauthkey:
    tags: [tag:server]
    expiration: 30m
  delegate_to: "{{ groups['headscale_servers'] | first }}"
  register: tailscale__key
  no_log: true
  when: tailscale__node.needs_auth_key

- name: Join with it (the key is a no_log option, never printed)
  overlaynet.vpn.tailscale_node:
    login_server: https://headscale.example.org
    auth_key: "{{ tailscale__key.key }}"
    hostname: web1
    advertise_tags: [tag:server]
    accept_dns: false
  when: tailscale__node.needs_auth_key

- name: Start tailscaled (restarted on its new settings file), then keep the node's settings
  overlaynet.vpn.tailscale_node:
    login_server: https://headscale.example.org
    unit: tailscaled.service
    restart: "{{ tailscaled_settings is changed }}"

- name: Offer the LAN and be an exit node
  overlaynet.vpn.tailscale_node:
    login_server: https://headscale.example.org
    advertise_routes: [192.168.10.0/24]
    advertise_exit_node: true

- name: Log the node out
  overlaynet.vpn.tailscale_node:
    state: absent
'''

RETURN = r'''
service_action:
  description:
    - What was done (or in check mode would be done) to O(unit) before the node was read - V(none), V(start) (it did
      not run) or V(restart) (O(restart)). Enabling it alone leaves V(none), with C(changed=true).
  returned: with O(unit) and O(state=present)
  type: str
  sample: start
logged_out_node_key:
  description:
    - With O(state=absent), the public node key (C(nodekey:) and 64 hex digits) of the node that logged out (in check
      mode, that would); V(null) when the node was not logged in.
    - The server keeps the node's entry after a logout (expired, with its name and addresses); this key names that
      entry for M(overlaynet.vpn.headscale_node), which deletes it.
  returned: with O(state=absent)
  type: str
  sample: nodekey:4f2c0d9a1be2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c
needs_auth_key:
  description:
    - Whether the node must join (see RV(join_reason)) and neither O(auth_key) nor O(auth_key_file) was given; nothing
      was changed then.
  returned: always
  type: bool
  sample: false
join_reason:
  description: Why the node must join (or joined, in this run); V(null) when it need not.
  returned: always
  type: str
  sample: not logged in
backend_state:
  description:
    - The state of C(tailscaled) (C(NoState), C(NeedsLogin), C(NeedsMachineAuth), C(Stopped), C(Starting),
      C(Running)), after the change (before it in check mode).
  returned: always
  type: str
  sample: Running
tailscale_ips:
  description: The node's addresses in the tailnet; empty while it has none.
  returned: always
  type: list
  elements: str
  sample: [100.64.0.5, 'fd7a:115c:a1e0::5']
dns_name:
  description: The node's name in the tailnet (MagicDNS), without the final dot; V(null) while it has none.
  returned: always
  type: str
  sample: web1.tailnet.example.org
hostname:
  description: The host name the node gives the control server (O(hostname), else the OS's).
  returned: always
  type: str
  sample: web1
tags:
  description: The tags the control server granted the node, sorted; empty without tags.
  returned: always
  type: list
  elements: str
  sample: [tag:server]
approved_routes:
  description:
    - The routes the control server lets the node serve (its approved subnet routes, and C(0.0.0.0/0) and C(::/0) when it
      is an approved exit node) as the server tells the node itself, sorted; empty when none or before the node joined.
    - headscale (seen with 0.29) tells a node only its own addresses, so this is empty there; the server's view is what
      M(overlaynet.vpn.headscale_routes) and the O(overlaynet.vpn.host_probe#module:headscale_nodes) option of
      M(overlaynet.vpn.host_probe) return.
  returned: always
  type: list
  elements: str
  sample: [10.1.0.0/24]
settings:
  description:
    - The node's settings after the run (in check mode, those the change would leave), keyed as the options.
      C(login_server) is the URL as tailscale keeps it; C(hostname) is V(null) when the OS's is used.
  returned: always
  type: dict
  sample:
    login_server: https://headscale.example.org
    hostname: web1
    advertise_tags: [tag:server]
    advertise_routes: []
    advertise_exit_node: false
    accept_routes: false
    accept_dns: false
diff:
  description: The settings before and after, one a line.
  returned: in diff mode, when the node changes (or would)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._tailscale_node import DEFAULT_TIMEOUT, STATES, run_node


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=list(STATES), default='present'),
            login_server=dict(type='str'),
            auth_key=dict(type='str', no_log=True),
            auth_key_file=dict(type='path', no_log=False),
            hostname=dict(type='str'),
            advertise_tags=dict(type='list', elements='str', default=[]),
            key_tags=dict(type='list', elements='str', no_log=False),
            rejoin=dict(type='bool', default=False),
            advertise_routes=dict(type='list', elements='str', default=[]),
            advertise_exit_node=dict(type='bool', default=False),
            accept_routes=dict(type='bool', default=False),
            accept_dns=dict(type='bool', default=True),
            timeout=dict(type='int', default=DEFAULT_TIMEOUT),
            executable=dict(type='path'),
            socket=dict(type='path'),
            unit=dict(type='str'),
            restart=dict(type='bool', default=False),
            daemon_reload=dict(type='bool', default=False),
        ),
        required_if=[('state', 'present', ('login_server',))],
        mutually_exclusive=[('auth_key', 'auth_key_file')],
        supports_check_mode=True,
    )
    module.exit_json(**run_node(module))


if __name__ == '__main__':
    main()
