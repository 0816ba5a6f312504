#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: rendered_files
short_description: Write several small files rendered on the controller in one module run
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Writes each file of O(files) whose content, mode, owner or group differs, atomically and with its mode from its
    first byte, and creates missing parent directories.
  - One module run for all of them; a M(ansible.builtin.template) task costs two per file (a stat, then the copy), so a
    role that renders a unit, its helper and a state file saves most of its first converge here.
  - Directories in O(directories) are created, or get their mode and ownership corrected, in the same run before the
    files.
  - Meant for text the controller renders, for example with C(lookup('ansible.builtin.template', ...)). Do not pass
    secrets unless the task has C(no_log), since the content is a module argument and shown in the diff.
  - With O(check_command), a daemon's own checker reads the new files before the caller reloads the daemon; files it
    refuses never stay in place.
options:
  directory_mode:
    description: Octal mode of the parent directories the module creates, for the files and the directories alike.
    type: str
    default: '0755'
  absent:
    description:
      - Absolute paths of files to remove where they exist, in the same run and under the same O(check_command).
    type: list
    elements: path
    default: []
  check_command:
    description:
      - A command (program and arguments, run without a shell) that checks the configuration the files belong to,
        for example V([firewall-cmd, --check-config]). It runs once the files of O(files) and O(absent) that differ
        are written or removed, and only then.
      - When it exits with a status other than 0, every file written or removed is put back as it was (a new file is
        removed again) and the module fails with the command's output.
    type: list
    elements: str
extends_documentation_fragment:
  - overlaynet.vpn.files
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - One before/after pair per file whose content changes. Directories are not in the diff; their paths are in
        RV(changed_paths).
'''

EXAMPLES = r'''
- name: Install a unit and its helper
  overlaynet.vpn.rendered_files:
    files:
      - path: /usr/local/sbin/overlaynet-wireguard
        content: "{{ lookup('ansible.builtin.template', 'unit-helper.sh.j2') }}"
        mode: '0755'
      - path: /etc/systemd/system/overlaynet-wireguard@.service
        content: "{{ lookup('ansible.builtin.template', 'wireguard@.service.j2') }}"
  register: unit_files

- name: Make a directory the daemon's group may enter, and its config in it
  overlaynet.vpn.rendered_files:
    directories:
      - path: /etc/mydaemon/tls
        group: mydaemon
        mode: '0750'
    files:
      - path: /etc/mydaemon/config.yaml
        content: "{{ lookup('ansible.builtin.template', 'config.yaml.j2') }}"

- name: Reload systemd when the unit changed
  ansible.builtin.systemd_service:
    daemon_reload: true
  when: "'/etc/systemd/system/overlaynet-wireguard@.service' in unit_files.changed_paths"

- name: Replace a firewalld zone and remove an old policy, kept only if firewalld accepts the result
  overlaynet.vpn.rendered_files:
    files:
      - path: /etc/firewalld/zones/olnet-wireguard.xml
        content: "{{ lookup('ansible.builtin.template', 'zone.xml.j2') }}"
    absent: [/etc/firewalld/policies/olnet-wireguard-in.xml]
    check_command: [firewall-cmd, --check-config]
'''

RETURN = r'''
changed_paths:
  description:
    - The directories, then the files, whose content, mode or ownership was (or in check mode would be) changed, each in
      the order given, then the files of O(absent) that were (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/overlaynet-wireguard@.service]
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._files import (
    FileWriteError,
    file_problems,
    files_argument_spec,
    parse_mode,
    plan_files,
    restore_previous_files,
    write_planned_files,
)


def run_module(module):
    files = module.params['files']
    directories = module.params['directories']
    problems = file_problems(files, directories)
    try:
        directory_mode = parse_mode(module.params['directory_mode'], 'directory_mode')
    except ValueError as exc:
        problems.append(to_native(exc))
    problems.extend('absent[%d]: %r is not an absolute path' % (index, path)
                    for index, path in enumerate(module.params['absent']) if not os.path.isabs(path))
    if problems:
        module.fail_json(msg='; '.join(problems))
    plan = plan_files(files, directories, module.params['absent'])
    changed_paths = [entry['path'] for entry in plan['directories'] + plan['files']] + plan['absent']
    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module._diff:
        result['diff'] = plan['diff']
    if module.check_mode:
        return result
    try:
        write_planned_files(plan, directory_mode)
    except FileWriteError as exc:
        module.fail_json(msg=to_native(exc), changed_paths=changed_paths)
    check_command = module.params['check_command']
    if check_command and plan['previous']:
        rc, stdout, stderr = module.run_command(check_command)
        if rc != 0:
            try:
                restore_previous_files(plan)
            except FileWriteError as exc:
                module.fail_json(msg='%s refused the new files (%s), and %s' % (check_command[0], (stderr or stdout).strip(), exc))
            module.fail_json(msg='%s refused the new files, which were put back as they were: %s'
                             % (' '.join(check_command), (stderr or stdout).strip()), rc=rc, changed_paths=[])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(files_argument_spec(), directory_mode=dict(type='str', default='0755'),
                           absent=dict(type='list', elements='path', default=[]),
                           check_command=dict(type='list', elements='str')),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
