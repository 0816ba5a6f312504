#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: ufw_rules
short_description: Keep the ufw rules of one VPN role, tagged as its own, for its ports and tunnels
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Where ufw is the host's firewall, its rules drop what a role's own nftables table accepts (nftables runs the chains
    of every table, and iptables rules are nftables rules on current systems). This module gives a role's ports and
    tunnel interfaces their ufw rules, through ufw's own command, which checks each rule.
  - Every rule carries the comment C(overlaynet.vpn <owner>). The rules with that comment are the role's - rules it no
    longer wants are deleted, and rules without it are left alone. Where a rule without it (yours, or another role's)
    already allows the same port or interface, for IPv4 and IPv6 alike, the module adds none (ufw would only give
    that rule the role's comment), so that rule stays its owner's and is never deleted with the role's.
  - Reads the rules from C(/etc/ufw/user.rules) and C(/etc/ufw/user6.rules) first, and runs ufw only for the rules
    that differ. M(overlaynet.vpn.host_probe) reads the same (its O(overlaynet.vpn.host_probe#module:ufw_comment)
    option), so a role runs this module only when something differs.
  - Works whether ufw is enabled or not; the platform role calls it only where ufw is enabled, and to remove the role's
    rules.
options:
  owner:
    description: The role the rules belong to, for example C(wireguard); the comment is C(overlaynet.vpn <owner>).
    type: str
    required: true
  udp_ports:
    description: UDP ports to allow to the host (C(ufw allow PORT/udp)).
    type: list
    elements: int
    default: []
  tcp_ports:
    description: TCP ports to allow to the host (C(ufw allow PORT/tcp)).
    type: list
    elements: int
    default: []
  interfaces:
    description:
      - Tunnel interfaces whose traffic is allowed to the host (C(ufw allow in on IF)) and forwarded
        (C(ufw route allow in on IF)). Replies come back through ufw's rules for established connections.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The role's rules before and after, one C(ufw) command per line.
notes:
  - Needs the C(ufw) command on the host.
'''

EXAMPLES = r'''
- name: Let WireGuard's port and tunnel through ufw
  overlaynet.vpn.ufw_rules:
    owner: wireguard
    udp_ports: [51820]
    interfaces: [wg0]

- name: Remove every ufw rule of the role
  overlaynet.vpn.ufw_rules:
    owner: wireguard
'''

RETURN = r'''
added:
  description: The rules added (or in check mode to be added), as the ufw commands that add them.
  returned: always
  type: list
  elements: str
  sample: [ufw allow 51820/udp, ufw allow in on wg0, ufw route allow in on wg0]
deleted:
  description: The rules deleted (or in check mode to be deleted), as the ufw commands that delete them.
  returned: always
  type: list
  elements: str
  sample: [ufw delete allow 51821/udp]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._addresses import interface_name_problem
from ansible_collections.overlaynet.vpn.plugins.module_utils._ufw import (
    comment_of,
    read_ufw,
    rule_arguments,
    rules_to_change,
    wanted_rules,
)


# Where the host's files are read from (tests point it at a directory of their own).
ROOT = '/'


def command_text(arguments):
    return ' '.join(['ufw'] + arguments)


def run_module(module):
    params = module.params
    problems = ['%s: %r is not a port (1-65535)' % (option, port) for option in ('udp_ports', 'tcp_ports')
                for port in params[option] if not 1 <= port <= 65535]
    for name in params['interfaces']:
        problem = interface_name_problem(name)
        if problem:
            problems.append('interfaces: %s' % problem)
    if problems:
        module.fail_json(msg='; '.join(problems))
    comment = comment_of(params['owner'])
    current = read_ufw(comment, ROOT)
    wanted = wanted_rules(params['udp_ports'], params['tcp_ports'], params['interfaces'])
    to_add, to_delete = rules_to_change(wanted, current)
    added = [command_text(rule_arguments(key)[0]) for key in to_add]
    deleted = [command_text(rule_arguments(key)[1]) for key in to_delete]
    result = dict(changed=bool(added or deleted), added=added, deleted=deleted)
    if module._diff:
        # The role's rules after the run: a wanted rule that another owner's rule holds stays that owner's.
        rules_after = sorted(set(to_add) | (set(current['rules']) & set(wanted)))
        result['diff'] = dict(
            before_header='ufw rules of %s' % params['owner'], after_header='ufw rules of %s' % params['owner'],
            before=''.join(command_text(rule_arguments(key)[0]) + '\n' for key in current['rules']),
            after=''.join(command_text(rule_arguments(key)[0]) + '\n' for key in rules_after))
    if module.check_mode or not result['changed']:
        return result
    ufw = module.get_bin_path('ufw', required=True)
    commands = [rule_arguments(key)[1] for key in to_delete] + [rule_arguments(key)[0] + ['comment', comment] for key in to_add]
    for arguments in commands:
        rc, stdout, stderr = module.run_command([ufw] + arguments)
        if rc != 0 or 'ERROR' in stdout:
            module.fail_json(msg='%s failed: %s' % (command_text(arguments), (stderr or stdout).strip()), **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            owner=dict(type='str', required=True),
            udp_ports=dict(type='list', elements='int', default=[]),
            tcp_ports=dict(type='list', elements='int', default=[]),
            interfaces=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
