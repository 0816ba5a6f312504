#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_probe
short_description: Read what a VPN role needs to know about a host, in one module run, without changing it
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Reads, in one module run, the facts a role of this collection needs before it changes a host - the
    operating system, which commands are missing, which instances of its systemd template units are
    enabled, the mode, owner and checksum of its files, sysctl values - and the checks that are
    specific to one VPN system, each behind its own option.
  - Each role calls it once per host before any change, so that a host that already matches needs
    only this read and one apply step. It replaces fact gathering and shell probes.
  - Only what an option asks for is read; the operating system facts are always returned.
  - Nothing is changed on the host and RV(changed) is always V(false). The only command run is the
    throw-away link of O(wireguard_kernel).
  - Paths are read with symlinks followed.
options:
  commands:
    description:
      - Names of commands to look for, such as C(wg) or C(nft), or absolute paths of executables.
      - A name is found when an executable file of that name is in a directory of E(PATH) or in
        C(/usr/sbin), C(/sbin) or C(/usr/local/sbin).
      - Returns RV(missing_commands).
    type: list
    elements: str
  unit_templates:
    description:
      - Names of systemd template units, without C(@.service), for example C(overlaynet-wireguard)
        for C(overlaynet-wireguard@.service).
      - An instance C(TEMPLATE@INSTANCE.service) counts as enabled when an entry of that name (a link,
        even a dangling one, or a file) is in a C(/etc/systemd/system/*.wants/) directory, which is
        where C(systemctl enable) puts it for the targets the unit is wanted by.
      - Returns RV(enabled_instances).
    type: list
    elements: str
  files:
    description:
      - Absolute paths of files whose existence, mode, owner, group and SHA-256 checksum are returned.
      - The checksum of a file of 1 MiB or more is kept in C(/var/cache/overlaynet/file-digests.json) with the file's
        device, inode, size, mtime and ctime, and read from there while none of them changed (a rerun does not hash
        unchanged binaries again). The cache is not written in check mode and is never reported as a change.
      - The checksum is of the raw bytes, so it equals C(lookup('ansible.builtin.template', src) | hash('sha256'))
        of a template whose rendering was written to the file unchanged - a role renders a template
        again only when the checksums differ - and it tells whether a binary must be copied or downloaded.
      - Returns RV(files).
    type: list
    elements: path
  globs:
    description:
      - Absolute shell glob patterns, such as C(/etc/wireguard/*.psk).
      - As in a shell, C(*) and C(?) do not match a leading dot of a file name.
      - Returns RV(globbed).
    type: list
    elements: path
  json_files:
    description:
      - Absolute paths of small JSON files the collection's roles wrote on the host, whose content a role reads back
        (for example the peers a host recorded at its last run). Never pass a file that holds a secret.
      - Returns RV(json_files).
    type: list
    elements: path
  wireguard_live_state:
    description:
      - WireGuard interfaces to read live, by name, each with the systemd unit that runs it (for example
        the key C(wg0) with the value C(overlaynet-wireguard@wg0.service)).
      - Returns RV(wireguard_live_state), compared by the WireGuard role with what its apply step recorded.
    type: dict
  tailscale_state:
    description:
      - Read the Tailscale node with its CLI (C(tailscale status --json), C(tailscale debug prefs)), as
        M(overlaynet.vpn.tailscale_node) reads it first.
      - Returns RV(tailscale_state); the Tailscale role runs M(overlaynet.vpn.tailscale_node) only when it differs
        from what the role wants.
    type: dict
    suboptions:
      executable:
        description: Path of the C(tailscale) CLI.
        type: path
        required: true
      socket:
        description: tailscaled's socket, when not the default.
        type: path
  headscale_state:
    description:
      - Read the users and the nodes of the headscale server on the host with its CLI (C(headscale users list),
        C(headscale nodes list)), as M(overlaynet.vpn.headscale_user) and M(overlaynet.vpn.headscale_routes) read them first.
      - Returns RV(headscale_users) and RV(headscale_nodes). The headscale role runs M(overlaynet.vpn.headscale_user) only when
        the users differ from what it wants; the tailscale role runs M(overlaynet.vpn.headscale_routes) only for nodes whose
        approved routes differ from what they advertise, or that changed in the run.
    type: dict
    suboptions:
      executable:
        description: Path of the C(headscale) binary.
        type: path
        required: true
      config_path:
        description: The server's configuration file, when not the default.
        type: path
  sysctls:
    description:
      - Kernel parameter names as C(sysctl) takes them, for example C(net.ipv4.ip_forward) or
        C(net.ipv6.conf.all.forwarding). A slash stands for a dot inside a name, as in
        C(net.ipv4.conf.eth0/100.forwarding) for the interface C(eth0.100).
      - Returns RV(sysctls) and RV(sysctls_writable).
    type: list
    elements: str
  wireguard_kernel:
    description:
      - Whether to test that the kernel can create WireGuard links.
      - The test adds a throw-away link C(owgprobe0) of type C(wireguard) with C(ip link add) and deletes
        it again; it is the only reliable test, as the kernel module may be built in, loadable, or
        absent as in containers and LXC. A link C(owgprobe0) left over by an interrupted test is deleted first.
      - The test runs in check mode too, as it leaves the host as it was.
      - It needs root (C(CAP_NET_ADMIN)); without it, or without the C(ip) command, the kernel counts as unable.
      - Returns RV(wireguard_kernel).
    type: bool
    default: false
  wireguard_key_dir:
    description:
      - Directory of the WireGuard private key files C(<interface>.key), usually C(/etc/wireguard).
      - For each regular file C(*.key) in it, the permissions and the public key are returned; the public
        key is computed in Python, without the C(wg) command.
      - The private keys are never returned, logged or put into a message.
      - Returns RV(wireguard_keys).
    type: path
  x509_keys:
    description:
      - X.509 private keys and their certificates to check, by a name of the caller's choice, each a dict with the absolute
        paths C(key) and C(certificate) (as M(overlaynet.vpn.x509_key_request) keeps them).
      - Needs the Python C(cryptography) package on the host; without it RV(python_cryptography) is V(false) and every entry
        is V(null).
      - No key material is returned. Returns RV(x509_keys) and RV(python_cryptography).
    type: dict
  active_units:
    description:
      - Names of systemd units, such as C(openvpn-server@office.service), to ask systemd about with one C(systemctl is-active).
      - Returns RV(active_units).
    type: list
    elements: str
  ufw_comment:
    description:
      - The comment that marks a role's ufw rules, C(overlaynet.vpn <role>) (see M(overlaynet.vpn.ufw_rules)).
      - Reads C(/etc/ufw/ufw.conf), C(/etc/default/ufw) and the rules files C(/etc/ufw/user.rules) and
        C(/etc/ufw/user6.rules) without running ufw. Returns RV(ufw).
    type: str
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing, so it reads the same in check mode.
  diff_mode:
    support: none
notes:
  - Run it with C(become=true); as another user, files and sysctls that only root may read are reported as
    unreadable (V(null)), and the kernel test fails.
seealso:
  - module: overlaynet.vpn.wireguard_keypair
  - module: overlaynet.vpn.wireguard_interface
'''

EXAMPLES = r'''
# The WireGuard role: one read per host before any change.
- name: Probe the host for WireGuard support, tools and installed files
  overlaynet.vpn.host_probe:
    commands: [wg, wg-quick, nft]
    unit_templates: [overlaynet-wireguard]
    files:
      - /usr/local/sbin/overlaynet-wireguard
      - /etc/systemd/system/overlaynet-wireguard@.service
      - /etc/wireguard/overlaynet-wireguard.nft
      - /etc/systemd/system/overlaynet-wireguard-nftables.service
      - /usr/local/sbin/wireguard-go
    globs: [/etc/wireguard/*.psk]
    wireguard_kernel: true
    wireguard_key_dir: /etc/wireguard
    sysctls: [net.ipv4.ip_forward, net.ipv6.conf.all.forwarding]
  register: probe

- name: Install the unit helper only when its rendering differs from the installed file
  ansible.builtin.template:
    src: unit-helper.sh.j2
    dest: /usr/local/sbin/overlaynet-wireguard
    mode: "0755"
  when: >-
    lookup('ansible.builtin.template', 'unit-helper.sh.j2') | hash('sha256')
    != probe.files['/usr/local/sbin/overlaynet-wireguard'].sha256

- name: Install the WireGuard tools only when one is missing
  ansible.builtin.package:
    name: wireguard-tools
  when: probe.missing_commands | intersect(['wg', 'wg-quick']) | length > 0

- name: Show the interfaces enabled before and the public key of each
  ansible.builtin.debug:
    msg: >-
      {{ probe.enabled_instances['overlaynet-wireguard'] }}
      {{ probe.wireguard_keys | dict2items | map(attribute='value.public_key') | list }}
'''

RETURN = r'''
changed:
  description: Always V(false); the module changes nothing.
  returned: always
  type: bool
  sample: false
os_family:
  description:
    - V(Debian) for Debian, Ubuntu and their derivatives, V(RedHat) for RHEL, Fedora, CentOS, Rocky Linux,
      AlmaLinux, Oracle Linux, Amazon Linux and their derivatives, V(unsupported) for any other system.
    - Decided by C(ID) and then C(ID_LIKE) of C(/etc/os-release) (or C(/usr/lib/os-release)).
  returned: always
  type: str
  choices: [Debian, RedHat, unsupported]
  sample: Debian
os_id:
  description: C(ID) of the os-release file; V(null) when it has none or there is no such file.
  returned: always
  type: str
  sample: ubuntu
os_version_id:
  description: C(VERSION_ID) of the os-release file; V(null) when it has none (as Debian testing).
  returned: always
  type: str
  sample: '24.04'
os_version_codename:
  description: C(VERSION_CODENAME) of the os-release file (as package repositories name releases); V(null) when it has none.
  returned: always
  type: str
  sample: bookworm
missing_commands:
  description: The commands of O(commands) that were not found, in the order given.
  returned: when O(commands) is set
  type: list
  elements: str
  sample: [wg-quick, nft]
enabled_instances:
  description: For each template of O(unit_templates), the sorted instance names of its enabled units (V([]) when none).
  returned: when O(unit_templates) is set
  type: dict
  sample: {overlaynet-wireguard: [wg0, wg1]}
files:
  description:
    - For each path of O(files), what is there.
    - C(exists) - whether the path exists (a dangling link does not).
    - C(mode) - the permission bits as a four-digit octal string such as V('0600'); V(null) when the path does not exist.
    - C(owner), C(group) - user and group name, or the number when it has no name; V(null) when the path does not exist.
    - C(sha256) - the hex SHA-256 of the file's bytes; V(null) when it is not a regular file or cannot be read.
  returned: when O(files) is set
  type: dict
  sample:
    /usr/local/sbin/overlaynet-wireguard:
      exists: true
      mode: '0755'
      owner: root
      group: root
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    /usr/local/sbin/wireguard-go:
      exists: false
      mode: null
      owner: null
      group: null
      sha256: null
globbed:
  description: For each pattern of O(globs), the sorted paths that match it (V([]) when none).
  returned: when O(globs) is set
  type: dict
  sample: {/etc/wireguard/*.psk: [/etc/wireguard/wg0.psk]}
json_files:
  description:
    - For each path of O(json_files), its parsed content, or V(null) when the file is missing, larger than 1 MiB or
      not JSON.
  returned: when O(json_files) is set
  type: dict
  sample: {/var/lib/overlaynet/peers/wireguard.json: {system: wireguard, peers: []}}
wireguard_live_state:
  description:
    - For each interface of O(wireguard_live_state), a fingerprint (SHA-256) of its live state as the apply step of
      M(overlaynet.vpn.wireguard_interface) records it when it converged - the unit's state, the implementation and the
      binary serving it, addresses, MTU, keys, port, fwmark and peers (not handshakes or traffic counters); V(null) when
      C(wg), C(ip) or C(systemctl) is missing. Keys only enter the hash.
  returned: when O(wireguard_live_state) is set
  type: dict
  sample: {wg0: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}
headscale_nodes:
  description:
    - The server's nodes as M(overlaynet.vpn.headscale_routes) reads them (C(id), C(name) (the given name), C(hostname),
      C(user_id), C(approved_routes), C(available_routes)); no key. V(null) when the binary is not at
      O(headscale_state.executable) or the server does not answer.
  returned: when O(headscale_state) is set
  type: list
  elements: dict
  sample: [{id: 1, name: ts3, hostname: ts3, user_id: 1, approved_routes: [10.213.1.0/24], available_routes: [10.213.1.0/24]}]
headscale_users:
  description:
    - The server's users as M(overlaynet.vpn.headscale_user) reads them (C(id), C(name), C(display_name), C(email),
      C(provider)); V(null) when the binary is not at O(headscale_state.executable) or the server does not answer.
  returned: when O(headscale_state) is set
  type: list
  elements: dict
  sample: [{id: 1, name: alice, display_name: '', email: '', provider: ''}]
tailscale_state:
  description:
    - The node as M(overlaynet.vpn.tailscale_node) reads it - C(status) (backend state, tailnet addresses, names, tags,
      approved routes) and C(prefs) (the settings that module keeps); no key is in either. V(null) when the CLI is not
      at O(tailscale_state.executable) or tailscaled does not answer.
  returned: when O(tailscale_state) is set
  type: dict
  sample: {status: {backend_state: Running, tailscale_ips: [100.64.0.1, 'fd7a:115c:a1e0::1'], dns_name: ts1.tailnet.lab,
                    hostname: ts1, tags: ['tag:alpha'], expired: false, have_node_key: true, approved_routes: []},
           prefs: {login_server: 'https://hs1', hostname: null, advertise_tags: [], advertise_routes: [], advertise_exit_node: false,
                   accept_routes: true, accept_dns: true, want_running: true, logged_out: false}}
sysctls:
  description: For each key of O(sysctls), its value as C(sysctl -n) prints it, or V(null) when the host has no such key or it cannot be read.
  returned: when O(sysctls) is set
  type: dict
  sample: {net.ipv4.ip_forward: '1', net.ipv6.conf.all.forwarding: '0'}
sysctls_writable:
  description:
    - For each key of O(sysctls), whether writing it would be allowed, told without writing - by the C(access) system call
      with C(W_OK), which checks the permissions C(/proc/sys) applies (including who owns the network namespace)
      and reports a read-only C(/proc/sys), as a default container mounts it.
    - V(false) for a key the host does not have.
  returned: when O(sysctls) is set
  type: dict
  sample: {net.ipv4.ip_forward: true, net.ipv6.conf.all.forwarding: true}
wireguard_kernel:
  description: Whether the kernel created (and the module deleted again) a WireGuard link.
  returned: when O(wireguard_kernel=true)
  type: bool
  sample: true
wireguard_keys:
  description:
    - For each regular file C(<interface>.key) in O(wireguard_key_dir), keyed by the interface name.
    - C(permissions) - V(MODE:OWNER:GROUP), the mode in octal without leading zeros as C(stat -c %a) prints it,
      for example V(600:root:root).
    - C(public_key) - the base64 public key of the private key in the file, or V(invalid) when the file does not
      hold a WireGuard private key (or cannot be read).
  returned: when O(wireguard_key_dir) is set
  type: dict
  sample: {wg0: {permissions: '600:root:root', public_key: hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=}}
x509_keys:
  description:
    - For each name of O(x509_keys), what the files hold, or V(null) without the C(cryptography) package.
    - C(key_valid) - whether the key file holds an unencrypted EC or RSA private key in PEM.
    - C(certificate_matches_key) - whether the certificate file holds a PEM certificate of that key.
    - C(certificate_not_after) - the end of the certificate's validity (ISO 8601, UTC), or V(null).
    - C(certificate_sha256) - the SHA-256 of the certificate file, or V(null) when it holds no certificate.
  returned: when O(x509_keys) is set
  type: dict
  sample: {server: {key_valid: true, certificate_matches_key: true, certificate_not_after: '2028-03-05T10:00:00Z',
                    certificate_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}}
python_cryptography:
  description: Whether the Python C(cryptography) package can be imported on the host.
  returned: when O(x509_keys) is set
  type: bool
  sample: true
active_units:
  description: The units of O(active_units) that are active, in the order given.
  returned: when O(active_units) is set
  type: list
  elements: str
  sample: [openvpn-server@office.service]
ufw:
  description:
    - Whether ufw is installed and enabled (C(ENABLED=yes)), and the rules with the comment O(ufw_comment) as
      M(overlaynet.vpn.ufw_rules) names them - C(rules) present for every address family ufw handles,
      C(partial_rules) for one only; C(other_rules), the same rules without that comment (yours, or another role's)
      present for every family.
  returned: when O(ufw_comment) is set
  type: dict
  sample: {installed: true, enabled: true, rules: [in/wg0, route/wg0, udp/51820], partial_rules: [], other_rules: [tcp/22]}
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._file_facts import DigestCache
from ansible_collections.overlaynet.vpn.plugins.module_utils._host_probe import (
    DIGEST_CACHE_PATH, WIREGUARD_PROBE_LINK, active_units, can_create_link, on_root, probe_host)
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import read_nodes as read_headscale_nodes, read_users as read_headscale_users
from ansible_collections.overlaynet.vpn.plugins.module_utils._tailscale_node import read_state as read_tailscale_state
from ansible_collections.overlaynet.vpn.plugins.module_utils._wireguard_apply import LiveInterface

# The tree the module reads; tests point it at a fake one.
ROOT = '/'


def run_module(module):
    params = module.params
    for option in ('files', 'globs', 'json_files'):
        for path in params[option] or []:
            if not os.path.isabs(path):
                module.fail_json(msg='%s: %s is not an absolute path' % (option, path))
    if params['wireguard_key_dir'] is not None and not os.path.isabs(params['wireguard_key_dir']):
        module.fail_json(msg='wireguard_key_dir: %s is not an absolute path' % params['wireguard_key_dir'])
    digests = DigestCache(on_root(ROOT, DIGEST_CACHE_PATH))
    try:
        result = probe_host(params, os.environ.get('PATH', os.defpath), ROOT, digests)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    # A cache of digests, not state: written outside check mode and never reported as a change.
    if not module.check_mode:
        digests.save()
    if params['wireguard_kernel']:
        result['wireguard_kernel'] = can_create_link(module, 'wireguard', WIREGUARD_PROBE_LINK, ROOT)
    if params['active_units'] is not None:
        result['active_units'] = active_units(params['active_units'], module.run_command)
    if params['wireguard_live_state'] is not None:
        result['wireguard_live_state'] = dict(
            (name, LiveInterface(module, name, unit, module.run_command).digest())
            for name, unit in sorted(params['wireguard_live_state'].items()))
    if params['headscale_state'] is not None:
        server = params['headscale_state']
        result['headscale_users'] = read_headscale_users(module.run_command, server['executable'], server['config_path'])
        result['headscale_nodes'] = read_headscale_nodes(module.run_command, server['executable'], server['config_path'])
    if params['tailscale_state'] is not None:
        result['tailscale_state'] = read_tailscale_state(module.run_command, params['tailscale_state']['executable'],
                                                         params['tailscale_state']['socket'])
    result['changed'] = False
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            commands=dict(type='list', elements='str'),
            unit_templates=dict(type='list', elements='str'),
            files=dict(type='list', elements='path'),
            globs=dict(type='list', elements='path'),
            json_files=dict(type='list', elements='path'),
            sysctls=dict(type='list', elements='str'),
            wireguard_kernel=dict(type='bool', default=False),
            wireguard_key_dir=dict(type='path', no_log=False),
            wireguard_live_state=dict(type='dict'),
            headscale_state=dict(type='dict', options=dict(executable=dict(type='path', required=True), config_path=dict(type='path'))),
            tailscale_state=dict(type='dict', options=dict(executable=dict(type='path', required=True), socket=dict(type='path'))),
            x509_keys=dict(type='dict', no_log=False),
            active_units=dict(type='list', elements='str'),
            ufw_comment=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
