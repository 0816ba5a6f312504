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
options:
  directory_mode:
    description: Octal mode of the parent directories the module creates, for the files and the directories alike.
    type: str
    default: '0755'
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
'''

RETURN = r'''
changed_paths:
  description:
    - The directories, then the files, whose content, mode or ownership was (or in check mode would be) changed, each in
      the order given.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/overlaynet-wireguard@.service]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._files import (
    FileWriteError,
    file_problems,
    files_argument_spec,
    parse_mode,
    plan_files,
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
    if problems:
        module.fail_json(msg='; '.join(problems))
    plan = plan_files(files, directories)
    changed_paths = [entry['path'] for entry in plan['directories'] + plan['files']]
    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module._diff:
        result['diff'] = plan['diff']
    if module.check_mode:
        return result
    try:
        write_planned_files(plan, directory_mode)
    except FileWriteError as exc:
        module.fail_json(msg=to_native(exc), changed_paths=changed_paths)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(files_argument_spec(), directory_mode=dict(type='str', default='0755')),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
