#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: openvpn_instance
short_description: Bring an OpenVPN server instance or client connection to its configuration
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Applies the configuration file of one OpenVPN 2.6 server instance or client connection, run by Debian's systemd
    units C(openvpn-server@<name>.service) or C(openvpn-client@<name>.service).
  - Before anything is replaced, every file of O(required_files) must exist and OpenVPN's own option parser
    (C(openvpn --config <copy> --show-curves)) must accept the new text; otherwise the module fails and the file in
    place stays as it is.
  - OpenVPN cannot reload its options, so a new text is put in place and the unit restarted. When the daemon refuses
    it at start (what its parser cannot see, such as options that contradict each other or a key it cannot load), the
    previous file goes back, the unit is restarted on it, and the module fails saying whether it serves again.
  - A server counts as started when its unit is active, OpenVPN reported C(Initialization Sequence Completed) to
    systemd and O(device), when given, exists.
  - A client counts as connected on the same signs, which it only shows once it has reached its server. It is
    restarted without waiting for its start job (C(systemctl --no-block restart)) and followed for a few seconds. When
    its daemon exits, the client refused the text and it is rolled back as for a server. When it still runs
    without having reached its server, that is no configuration error; the module succeeds with a warning and
    RV(connected=false).
options:
  name:
    description:
      - Name of the instance or connection, the instance of its unit. 1 to 15 characters of C(a-z), C(0-9), C(_) and
        C(-), starting with a letter or digit.
    type: str
    required: true
  kind:
    description:
      - V(server) for an instance run by C(openvpn-server@<name>.service), V(client) for a connection run by
        C(openvpn-client@<name>.service).
    type: str
    choices: [server, client]
    required: true
  state:
    description:
      - V(present) puts O(config) in place, makes sure the unit runs on it and, with O(enabled), starts at boot.
      - V(absent) stops and disables the unit and removes O(config_path) and O(remove_paths).
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The whole text of the configuration file (written with mode C(0600)). Required with O(state=present).
      - Keep keys in files of their own, so that the text holds no secret and diff mode can show it. PEM blocks (inline
        keys of a profile) are replaced by a placeholder in the diff and in messages, but the text is still a module
        argument; a task passing inline keys needs C(no_log).
    type: str
  config_path:
    description:
      - The configuration file, C(/etc/openvpn/server/<name>.conf) or C(/etc/openvpn/client/<name>.conf) for Debian's
        units (they read C(<name>.conf) from those directories).
    type: path
    required: true
  device:
    description:
      - The tun device the configuration names (C(dev)). When given, the unit only counts as started or connected once
        the device exists.
    type: str
  restart:
    description:
      - Restart the unit even when the text did not change, for example because a certificate or key the daemon
        reads only at start was rewritten. A daemon that does not come up then fails the module with the unit's
        status (nothing to roll back).
    type: bool
    default: false
  enabled:
    description:
      - Whether the unit starts at boot, with O(state=present).
    type: bool
    default: true
  remove_paths:
    description:
      - Files and directories (removed with their content) removed with O(state=absent), for example the
        instance's client-config-dir.
    type: list
    elements: path
    default: []
  required_files:
    description:
      - Files the configuration needs (certificates, keys, CRL). With O(state=present), a missing one fails the module
        before anything changes, naming the file; in check mode it is a warning.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode only reads the state (C(systemctl show), C(systemctl is-enabled), C(ip link show)); the new text is
        not checked with OpenVPN's parser.
  diff_mode:
    support: full
    details:
      - The configuration file before and after, PEM blocks replaced by a placeholder.
requirements:
  - systemd, OpenVPN 2.6 with Debian's C(openvpn-server@.service) and C(openvpn-client@.service) units, and
    C(ip) from iproute2 when O(device) is given, on the target.
notes:
  - OpenVPN's C(--show-curves) run parses every option, but opens no file and leaves the checks across options to the
    daemon's start; those are caught by the restart with rollback.
  - The start is followed through what OpenVPN reports to systemd; with C(chroot) in the configuration that report is
    lost, so a server never counts as started and a client never as connected.
  - Status texts from the daemon in messages have PEM blocks replaced by a placeholder.
seealso:
  - module: overlaynet.vpn.openvpn_pki
  - name: openvpn(8)
    description: The reference manual of OpenVPN 2.6.
    link: https://openvpn.net/community-resources/reference-manual-for-openvpn-2-6/
'''

EXAMPLES = r'''
- name: Run the OpenVPN server instance main on its rendered configuration
  overlaynet.vpn.openvpn_instance:
    name: main
    kind: server
    config: "{{ lookup('ansible.builtin.template', 'server.conf.j2') }}"
    config_path: /etc/openvpn/server/main.conf
    device: ovpn-main
    required_files:
      - /etc/openvpn/server/main/pki/ca.crt
      - /etc/openvpn/server/main/pki/server.crt
      - /etc/openvpn/server/main/pki/server.key
    restart: "{{ server_key is changed }}"

- name: Connect to the office server
  overlaynet.vpn.openvpn_instance:
    name: office
    kind: client
    config: "{{ lookup('ansible.builtin.template', 'client.conf.j2') }}"
    config_path: /etc/openvpn/client/office.conf
    device: ovpnc-office
  register: office

- name: Say when the office server could not be reached yet
  ansible.builtin.debug:
    msg: "{{ office.unit }} is still connecting"
  when: not office.connected

- name: Remove the instance old with its client-config-dir
  overlaynet.vpn.openvpn_instance:
    name: old
    kind: server
    state: absent
    config_path: /etc/openvpn/server/old.conf
    remove_paths: [/etc/openvpn/server/old]
'''

RETURN = r'''
restarted:
  description: Whether the unit was (or in check mode would be) restarted.
  returned: always
  type: bool
  sample: true
connected:
  description:
    - Whether the tunnel is up at the end of the run - the unit is active, OpenVPN reported
      C(Initialization Sequence Completed) and O(device), when given, exists. For a client this means it has
      reached its server.
    - In check mode, as it is before the run. Always V(false) with O(state=absent).
  returned: always
  type: bool
  sample: true
unit:
  description: The systemd unit of the instance or connection.
  returned: always
  type: str
  sample: openvpn-server@main.service
diff:
  description: The configuration file before and after, PEM blocks replaced by a placeholder.
  returned: in diff mode, when the file changes (or would)
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._openvpn_apply import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            kind=dict(type='str', required=True, choices=['server', 'client']),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            config=dict(type='str'),
            config_path=dict(type='path', required=True),
            device=dict(type='str'),
            restart=dict(type='bool', default=False),
            enabled=dict(type='bool', default=True),
            remove_paths=dict(type='list', elements='path', default=[]),
            required_files=dict(type='list', elements='path', default=[]),
        ),
        required_if=[('state', 'present', ['config'])],
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
