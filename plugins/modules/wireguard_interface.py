#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: wireguard_interface
short_description: Bring a live WireGuard interface to its wg-quick configuration and key files
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Applies a rendered wg-quick file that holds no secret, plus the private key file and the optional preshared
    key file next to it, to the live interface managed by a systemd unit such as C(wg-quick@wg0.service).
  - Peers, keys and the listen port are changed in place with C(wg syncconf), which keeps the other
    tunnels up. The secrets reach C(wg) on its standard input only, never on a command line.
  - What only C(wg-quick up) applies restarts the unit when it changes - addresses, MTU, DNS, routing table,
    hooks, the fwmark (on which wg-quick bases its routing rules) and the routes wg-quick adds for allowed IPs.
    Allowed IPs inside the subnet of one of the interface's addresses need no route of their own (with the
    default C(Table = auto)), so adding or removing such a peer does not restart the unit. As DNS, hooks and
    routes cannot be read back, the module records a fingerprint of them in O(state_dir) after each start or
    restart and compares the file with it.
    Without a recorded fingerprint only the addresses and the MTU the interface has decide.
  - With O(userspace_binary) the module also makes sure a userspace daemon of that binary serves the interface,
    and restarts the unit when another binary (or the kernel) does.
  - After a change the module reads the interface back and fails when it does not match the files.
  - Private and preshared keys are never returned, shown in diffs or put into a message.
options:
  name:
    description:
      - Name of the WireGuard interface, for example C(wg0).
    type: str
    required: true
  state:
    description:
      - V(started) makes sure the unit runs and the live interface matches the files.
      - V(stopped) stops the unit and forgets the recorded fingerprint.
      - V(absent) stops and disables the unit, deletes a link left behind, and removes the wg-quick file, the
        private key file, the preshared key file and the recorded fingerprint.
    type: str
    choices: [started, stopped, absent]
    default: started
  config_path:
    description:
      - The wg-quick file, without C(PrivateKey) and C(PresharedKey) lines.
      - Defaults to C(/etc/wireguard/<name>.conf).
    type: path
  config:
    description:
      - Desired content of O(config_path). When given, the module writes the file (mode 0600) if it differs,
        after checking it with its own parser and with C(wg-quick strip), and shows the change in diff mode.
        In check mode the change is previewed against this content.
      - Must not contain C(PrivateKey) or C(PresharedKey) lines.
    type: str
  enabled:
    description:
      - Whether the unit O(service) starts at boot. Unset leaves it as it is.
    type: bool
  private_key_path:
    description:
      - File holding the interface's private key, one base64 line as C(wg genkey) prints it.
      - Defaults to C(/etc/wireguard/<name>.key).
    type: path
  preshared_keys_path:
    description:
      - File of C(<peer public key> <preshared key>) lines; C(#) starts a comment.
      - A missing file means no preshared keys. Lines for peers the wg-quick file does not define are ignored.
      - Defaults to C(/etc/wireguard/<name>.psk).
    type: path
  service:
    description:
      - The systemd unit that runs C(wg-quick up) for the interface.
      - Defaults to C(wg-quick@<name>.service).
    type: str
  state_dir:
    description:
      - Directory (mode C(0700) when created) where the fingerprint of the applied configuration is kept,
        in the file C(<name>.applied) (mode C(0600)).
      - After each run that leaves the interface as configured the module also records, in C(<name>.converged) (JSON,
        mode C(0600)), a digest of what it was given (the file checksums, the public key of the private key, the
        userspace binary and its checksum, the unit), a digest of the live interface (as M(overlaynet.vpn.host_probe)
        computes it with O(overlaynet.vpn.host_probe#module:wireguard_live_state)) and the implementation it runs, so
        that a role can skip this module when nothing moved. No key is stored, only digests.
    type: path
    default: /var/lib/overlaynet/wireguard
  force_restart:
    description:
      - Restart a running unit even if the files did not change, for changes the files do not show, such as
        a changed unit drop-in.
    type: bool
    default: false
  userspace_binary:
    description:
      - The userspace implementation binary the interface must run under, for example C(/usr/bin/wireguard-go)
        or C(/usr/local/sbin/wireguard-go).
      - When set and the live interface is a userspace one whose daemon runs another binary (or a binary replaced
        on disk since it started), or a kernel link, the unit is restarted (RV(action=restart)). The unit itself
        must start the interface under this binary (for example with C(WG_QUICK_USERSPACE_IMPLEMENTATION));
        the module fails when the interface it started or restarted runs under another binary or is a kernel link.
      - The daemon is the process that listens on the interface's UAPI socket
        C(/var/run/wireguard/<name>.sock); the binary it runs is compared, symbolic links resolved, with this path.
        When no such process is found the module warns and does not restart.
      - Leave unset to accept whatever runs.
    type: path
extends_documentation_fragment:
  - overlaynet.vpn.daemon_reload
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode only runs commands that read the state (C(systemctl is-active), C(ip ... show), C(wg show),
        C(<userspace binary> --version)).
  diff_mode:
    support: full
    details:
      - The diff lists addresses, MTU, listen port, the interface's public key and the peers by public key with
        their allowed IPs and endpoints. It never shows a private or preshared key.
requirements:
  - systemd, iproute2 with JSON output (C(ip -j)) and C(wg) from wireguard-tools on the target.
notes:
  - Endpoints given as host names are not compared with the live interface, which only knows the address the
    name resolved to (and peers roam). Endpoints given as IP address and port are compared.
  - Without C(ListenPort) or C(FwMark) in the file the interface keeps the port and fwmark it has (wg-quick sets
    a fwmark for a default route).
  - C(SaveConfig = true) is refused, because wg-quick would then write the keys into the configuration file.
  - The userspace daemon is found through C(/proc/net/unix) and the file descriptors in C(/proc/<pid>/fd), which
    needs root (as the rest of the module does) and a Linux C(/proc).
seealso:
  - module: overlaynet.vpn.wireguard_keypair
  - name: wg(8)
    description: The C(syncconf) command and the C(show dump) format.
    link: https://git.zx2c4.com/wireguard-tools/about/src/man/wg.8
  - name: wg-quick(8)
    description: The configuration file format.
    link: https://git.zx2c4.com/wireguard-tools/about/src/man/wg-quick.8
'''

EXAMPLES = r'''
- name: Bring wg0 to /etc/wireguard/wg0.conf, wg0.key and wg0.psk
  overlaynet.vpn.wireguard_interface:
    name: wg0
  register: wg0

- name: Show when each peer last completed a handshake
  ansible.builtin.debug:
    msg: "{{ wg0.latest_handshakes }}"

- name: Restart wg1 because its unit drop-in changed
  overlaynet.vpn.wireguard_interface:
    name: wg1
    force_restart: "{{ wg_dropin is changed }}"

- name: Run wg2 under a wireguard-go built from its Go module, restarting it if it runs another binary
  overlaynet.vpn.wireguard_interface:
    name: wg2
    userspace_binary: /usr/local/sbin/wireguard-go
  register: wg2

- name: Show the binary and version serving wg2
  ansible.builtin.debug:
    msg: "{{ wg2.userspace_binary }} {{ wg2.userspace_version }}"

- name: Stop wg0
  overlaynet.vpn.wireguard_interface:
    name: wg0
    state: stopped

- name: Remove wg3 with its unit, configuration and keys
  overlaynet.vpn.wireguard_interface:
    name: wg3
    state: absent
'''

RETURN = r'''
changed:
  description: Whether the unit was (or in check mode would be) started, restarted or stopped, or the interface synced.
  returned: always
  type: bool
  sample: true
action:
  description:
    - What was done (or in check mode would be done).
    - V(none) - the interface already matched the files.
    - V(start) - the unit was started (or restarted, when it was running without its interface), then the keys and peers applied.
    - V(restart) - the unit was restarted, then the keys and peers applied.
    - V(sync) - keys, peers or the listen port were changed in place with C(wg syncconf).
    - V(stop) - the unit was stopped.
    - V(remove) - with O(state=absent), the unit was stopped or disabled, or files were removed.
  returned: always
  type: str
  choices: [none, start, restart, sync, stop, remove]
  sample: sync
interface:
  description: Name of the interface.
  returned: always
  type: str
  sample: wg0
implementation:
  description:
    - V(kernel) when the interface is a kernel WireGuard link, V(userspace) when it is a tun device of a userspace
      implementation, V(null) when it does not exist (or is neither).
  returned: always
  type: str
  sample: kernel
userspace_binary:
  description:
    - Path of the executable the userspace daemon of the interface runs, as the kernel reports it (symbolic links
      resolved), for example C(/usr/local/sbin/wireguard-go). When that file was replaced on disk after the daemon
      started, the path it had.
    - V(null) for a kernel link, a missing interface, or when the daemon cannot be found.
    - Read at the end of the run, after any restart, like RV(implementation).
  returned: always
  type: str
  sample: /usr/local/sbin/wireguard-go
userspace_version:
  description:
    - The version the daemon's binary reports with C(--version), without the leading C(v), for example
      C(0.0.20220316) for Debian's C(wireguard-go) package.
    - V(null) when RV(userspace_binary) is V(null), the file was replaced on disk after the daemon started, or the
      output holds no version.
  returned: always
  type: str
  sample: 0.0.20230223
removed_files:
  description: With O(state=absent), the files that were (or in check mode would be) removed.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: [/etc/wireguard/wg3.conf, /etc/wireguard/wg3.key]
peers_added:
  description: Public keys of the peers that were (or would be) added, compared with the interface before the run.
  returned: always
  type: list
  elements: str
  sample: [hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=]
peers_removed:
  description: Public keys of the peers that were (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: []
peers_changed:
  description:
    - The peers that were (or would be) changed, by public key, with the names of the changed fields
      (V(preshared_key), V(endpoint), V(allowed_ips), V(persistent_keepalive)).
  returned: always
  type: dict
  sample: {"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=": ["allowed_ips"]}
latest_handshakes:
  description:
    - Epoch second of each peer's latest handshake, by public key, V(null) for a peer without one yet, as the
      interface reports it at the end of the run. Empty when the interface does not exist.
  returned: always
  type: dict
  sample: {"hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=": 1767225600}
diff:
  description: Before and after summary of the interface, without secrets.
  returned: when diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_apply import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='started', choices=['started', 'stopped', 'absent']),
            config_path=dict(type='path'),
            private_key_path=dict(type='path', no_log=False),
            preshared_keys_path=dict(type='path', no_log=False),
            service=dict(type='str'),
            state_dir=dict(type='path', default='/var/lib/overlaynet/wireguard'),
            force_restart=dict(type='bool', default=False),
            daemon_reload=dict(type='bool', default=False),
            config=dict(type='str'),
            enabled=dict(type='bool'),
            userspace_binary=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
