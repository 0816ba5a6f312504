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
  - Meant for text the controller renders, for example with C(lookup('ansible.builtin.template', ...)). Do not pass
    secrets unless the task has C(no_log), since the content is a module argument and shown in the diff.
options:
  files:
    description:
      - The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole text of the file.
        type: str
        required: true
      mode:
        description: Octal mode, for example C('0755').
        type: str
        default: '0644'
      owner:
        description: Owner of the file.
        type: str
        default: root
      group:
        description: Group of the file.
        type: str
        default: root
  directory_mode:
    description: Octal mode of the parent directories the module creates.
    type: str
    default: '0755'
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - One before/after pair per file whose content changes.
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

- name: Reload systemd when the unit changed
  ansible.builtin.systemd_service:
    daemon_reload: true
  when: "'/etc/systemd/system/overlaynet-wireguard@.service' in unit_files.changed_paths"
'''

RETURN = r'''
changed_paths:
  description: The files whose content, mode or ownership was (or in check mode would be) changed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/overlaynet-wireguard@.service]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._files import file_problems, parse_mode, plan_file, write_file


def run_module(module):
    files = module.params['files']
    problems = file_problems(files)
    try:
        directory_mode = parse_mode(module.params['directory_mode'], 'directory_mode')
    except ValueError as exc:
        problems.append(to_native(exc))
    if problems:
        module.fail_json(msg='; '.join(problems))
    plans = [plan_file(entry) for entry in files]
    changed = [plan for plan in plans if plan['content_changed'] or plan['attributes_changed']]
    result = dict(changed=bool(changed), changed_paths=[plan['path'] for plan in changed])
    if module._diff:
        result['diff'] = [dict(before_header=plan['path'], after_header=plan['path'], before=plan['before'] or '', after=entry['content'])
                          for plan, entry in zip(plans, files) if plan['content_changed']]
    if module.check_mode:
        return result
    for plan, entry in zip(plans, files):
        if plan in changed:
            try:
                write_file(entry, directory_mode)
            except (IOError, OSError, KeyError) as exc:
                module.fail_json(msg='cannot write %s: %s' % (entry['path'], to_native(getattr(exc, 'strerror', None) or exc)),
                                 changed_paths=result['changed_paths'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                content=dict(type='str', required=True),
                mode=dict(type='str', default='0644'),
                owner=dict(type='str', default='root'),
                group=dict(type='str', default='root'),
            )),
            directory_mode=dict(type='str', default='0755'),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
