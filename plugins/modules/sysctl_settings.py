#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: sysctl_settings
short_description: Keep kernel settings in a sysctl.d file and live, and restore them when no longer needed
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Makes sure the live kernel settings under C(/proc/sys) have the values of O(settings) and that one file in
    C(/etc/sysctl.d) persists them for the next boot. Meant for the settings a VPN role needs, such as
    C(net.ipv4.ip_forward=1) on a host that forwards between peers.
  - Reads every setting live first and writes only those that differ, so a value that was changed by hand is put
    back on the next run even when the file is unchanged, and a container whose settings were given at creation
    (C(podman run --sysctl)) with a read-only C(/proc/sys) needs no write at all.
  - When a value that differs cannot be written (a read-only C(/proc/sys), as in a container by default), the module
    fails before writing anything, naming the setting, its current and wanted value and how to set it for a
    container. The same message comes from the R(overlaynet.vpn.sysctl_problems,ansible_collections.overlaynet.vpn.sysctl_problems_filter)
    filter, for a check on every host before any host changes.
  - "The file records, above each setting, the value it had before this module first changed it
    (C(# before: net.ipv4.ip_forward = 0)). The record is kept when the file is rewritten."
  - When the file is removed (O(state=absent)), or a setting is left out of O(settings), the live value is restored -
    to the value other sysctl configuration files give it (in the order of C(sysctl --system)), else to the recorded
    value, else it is left as it is. A setting that another overlaynet file (C(/etc/sysctl.d/*overlaynet*.conf))
    still sets to the same value is left alone, so two roles can both need forwarding.
options:
  path:
    description:
      - The file, directly in C(/etc/sysctl.d) and named C(*.conf), for example C(/etc/sysctl.d/60-overlaynet-wireguard.conf).
      - Written atomically with mode C(0644), owned by root. C(/etc/sysctl.d) is created when missing.
    type: path
    required: true
  settings:
    description:
      - Setting name to value. Names are dotted as C(sysctl) prints them (C(net.ipv4.ip_forward)) or paths below
        C(/proc/sys) (C(net/ipv4/ip_forward)); as for C(sysctl), when the first separator is a dot, dots and slashes
        swap, so C(net.ipv4.conf.eth0/100.forwarding) is the interface C(eth0.100).
      - Values are integers or strings on one line; they compare as C(sysctl) compares them, with whitespace folded.
      - Persisted in O(path) and applied live. A setting that does not exist under C(/proc/sys) is an error.
      - Required with O(state=present); ignored with O(state=absent).
    type: dict
  live_settings:
    description:
      - Settings applied live only, never persisted, and skipped when they do not exist under C(/proc/sys), for
        settings of one interface (C(net.ipv4.conf.wg1.send_redirects)) that exist only while the interface does.
      - Not restored when the file is removed (the interface's settings go with the interface).
      - Ignored with O(state=absent).
    type: dict
  state:
    description:
      - V(present) writes the live values and the file.
      - V(absent) restores the live values of the settings in the file (see the description) and removes the file.
    type: str
    choices: [present, absent]
    default: present
  comment:
    description:
      - One line at the top of the file, saying which role owns it.
    type: str
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the live values and the files and predicts RV(changed), RV(changed_settings) and RV(file_changed); it also
        fails when a value that differs cannot be written.
  diff_mode:
    support: full
    details:
      - Two diffs - the file before and after, and the live values before and after.
notes:
  - Values are written to C(/proc/sys) directly; neither C(sysctl) nor C(systemd-sysctl) needs to be installed.
  - Whether a value can be written is checked first with access(2), which sees a read-only C(/proc/sys); when a write
    fails anyway, the values already written in the same run are put back.
  - Restoring a value that cannot be written (a read-only C(/proc/sys)) is a warning, not a failure.
seealso:
  - name: sysctl.d(5)
    description: The file format and the order in which the files apply.
    link: https://man7.org/linux/man-pages/man5/sysctl.d.5.html
  - name: ip-sysctl
    description: The kernel's description of C(ip_forward), C(forwarding) and C(send_redirects).
    link: https://docs.kernel.org/networking/ip-sysctl.html
'''

EXAMPLES = r'''
- name: Let this host forward between WireGuard peers without redirecting spokes to each other
  overlaynet.vpn.sysctl_settings:
    path: /etc/sysctl.d/60-overlaynet-wireguard.conf
    comment: "overlaynet.vpn.wireguard: this host forwards between WireGuard peers"
    settings:
      net.ipv4.ip_forward: 1
      net.ipv6.conf.all.forwarding: 1
      net.ipv4.conf.all.send_redirects: 0
      net.ipv4.conf.default.send_redirects: 0
    live_settings:
      net.ipv4.conf.wg1.send_redirects: 0

- name: Remove the file when the host forwards no more, restoring the values from before
  overlaynet.vpn.sysctl_settings:
    path: /etc/sysctl.d/60-overlaynet-wireguard.conf
    state: absent
  register: forwarding

- name: Show what was restored and where the values came from
  ansible.builtin.debug:
    msg: "{{ forwarding.restored_settings }}"
'''

RETURN = r'''
changed:
  description: Whether a live value or the file was (or in check mode would be) changed.
  returned: always
  type: bool
  sample: true
path:
  description: The file.
  returned: always
  type: str
  sample: /etc/sysctl.d/60-overlaynet-wireguard.conf
file_changed:
  description: Whether the file was (or would be) written, removed, or given its mode and owner.
  returned: always
  type: bool
  sample: true
changed_settings:
  description: Each live value that was (or would be) written, including restored ones, with its value before and after.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": {"before": "0", "after": "1"}}
restored_settings:
  description:
    - Each setting the file no longer sets whose live value was (or would be) restored, with the value before and
      after and where the restored value came from (another file, or the value recorded before the file changed it).
    - A setting whose restored value could not be written is left out (and warned about).
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": {"before": "1", "after": "0", "source": "/etc/sysctl.conf"}}
kept_settings:
  description: Each setting the file no longer sets whose live value stays as it is, with the reason.
  returned: always
  type: dict
  sample: {"net.ipv4.ip_forward": "still set to 1 by /etc/sysctl.d/60-overlaynet-openvpn.conf"}
skipped_settings:
  description: The names of O(live_settings) that do not exist here, in canonical dotted form.
  returned: always
  type: list
  elements: str
  sample: [net.ipv4.conf.wg1.send_redirects]
problems:
  description: On failure, one message per setting that cannot be set.
  returned: failure
  type: list
  elements: str
diff:
  description: The file and the live values before and after.
  returned: when diff mode is on
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._sysctl import SysctlSettings

# Where the live settings and the configuration files are; tests point them at a fake tree.
SYSCTL_ROOT = '/proc/sys'
CONFIG_ROOT = '/'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            settings=dict(type='dict'),
            live_settings=dict(type='dict'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            comment=dict(type='str'),
        ),
        required_if=[('state', 'present', ['settings'])],
        supports_check_mode=True,
    )
    module.exit_json(**SysctlSettings(module, SYSCTL_ROOT, CONFIG_ROOT).run())


if __name__ == '__main__':
    main()
