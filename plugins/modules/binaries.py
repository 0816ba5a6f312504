#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: binaries
short_description: Install executables from the controller, with the users, directories and files they need, in one module run
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Sends each file of O(executables) from the controller and puts it in place on the host as an executable (mode
    C(0755), owned by root) where the host's file differs, replacing the old one in one rename (a running program keeps
    its old file).
  - In the same run, makes the system users of O(system_users) that are missing, creates the directories of
    O(directories) (or corrects their mode and ownership; missing parents get mode C(0755), owned by root) and writes the
    files of O(files) whose content, mode or ownership differs (a unit, a settings file), as a distribution package
    ships and sets them up, for a service installed from the controller or from a URL. Users first, then directories,
    then files, then executables.
  - One module run for all of it, with no stat run first; M(ansible.builtin.copy) costs two runs per file, and
    M(ansible.builtin.user) and M(ansible.builtin.file) one run each. Meant for binaries of tens of megabytes that a probe
    of the host already found different, and for the first install of a service.
  - The SHA-256 of each controller file (kept in a cache under C(~/.cache/overlaynet-vpn/) for large files) is checked on
    the host before the file replaces anything; a file that arrives different fails the task and changes nothing.
  - An action plugin sends the executables; the module moves them into place.
options:
  executables:
    description:
      - The executables to install.
    type: list
    elements: dict
    default: []
    suboptions:
      src:
        description:
          - Path of the file on the controller. Required; the action plugin sends the file and hands the module its
            path on the host instead (none in check mode).
        type: path
      dest:
        description: Absolute path of the executable on the host.
        type: path
        required: true
      sha256:
        description:
          - The SHA-256 of the file, in hexadecimal. Leave it out; the action plugin sets it from the controller file.
        type: str
  system_users:
    description:
      - System users to make where missing (C(useradd --system --user-group --no-create-home)), each with a group of its
        name. A user that exists is left as it is.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The user's name.
        type: str
        required: true
      home:
        description: Its home directory (absolute; not created, a service's state directory usually is its home).
        type: path
      shell:
        description: Its login shell.
        type: path
        default: /usr/sbin/nologin
extends_documentation_fragment:
  - overlaynet.vpn.files
  - overlaynet.vpn.attributes
attributes:
  action:
    support: full
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
  check_mode:
    support: full
    details:
      - Sends nothing; reports the executables, directories and files that differ and the users that are missing.
  diff_mode:
    support: full
    details:
      - One before/after pair per file of O(files) whose content changes; executables, users and directories are
        named in the return values.
notes:
  - The executables are sent into the task's temporary directory on the host (it needs the room for them) and removed with it.
'''

EXAMPLES = r'''
- name: Install the Tailscale CLI and daemon built on the controller
  overlaynet.vpn.binaries:
    executables:
      - src: /srv/builds/tailscale
        dest: /usr/local/bin/tailscale
      - src: /srv/builds/tailscaled
        dest: /usr/local/sbin/tailscaled
  register: tailscale_binaries

- name: Install headscale from the controller with its system user and directories
  overlaynet.vpn.binaries:
    executables:
      - src: /srv/builds/headscale
        dest: /usr/local/bin/headscale
    system_users:
      - name: headscale
        home: /var/lib/headscale
    directories:
      - path: /etc/headscale
      - path: /etc/headscale/tls
        group: headscale
        mode: '0750'
    files:
      - path: /etc/systemd/system/headscale.service
        content: "{{ lookup('ansible.builtin.template', 'headscale.service.j2') }}"
'''

RETURN = r'''
changed_executables:
  description: The executables that were (or in check mode would be) installed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [/usr/local/sbin/tailscaled]
created_users:
  description: The system users that were (or in check mode would be) made.
  returned: always
  type: list
  elements: str
  sample: [headscale]
changed_directories:
  description: The directories that were (or in check mode would be) created or given their mode and ownership.
  returned: always
  type: list
  elements: str
  sample: [/etc/headscale, /etc/headscale/tls]
changed_files:
  description: The files of O(files) whose content, mode or ownership was (or in check mode would be) changed.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/tailscaled.service]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._binaries import (
    binary_differs,
    binary_problems,
    install_binary,
    system_user_problems,
    user_exists,
    useradd_argv,
)
from ansible_collections.overlaynet.vpn.plugins.module_utils._files import (
    FileWriteError,
    file_problems,
    files_argument_spec,
    plan_files,
    write_planned_files,
)

# Missing parents of O(directories) and O(files), as a package's.
PARENT_MODE = 0o755


def run_module(module):
    executables = module.params['executables']
    users = module.params['system_users']
    problems = (binary_problems(executables, module.check_mode) + system_user_problems(users)
                + file_problems(module.params['files'], module.params['directories']))
    if problems:
        module.fail_json(msg='; '.join(problems))
    users_to_make = [user for user in users if not user_exists(user['name'])]
    plan = plan_files(module.params['files'], module.params['directories'])
    changed_executables = [entry['dest'] for entry in executables if binary_differs(entry)]
    result = dict(changed=bool(users_to_make or plan['directories'] or plan['files'] or changed_executables),
                  changed_executables=changed_executables,
                  created_users=[user['name'] for user in users_to_make],
                  changed_directories=[entry['path'] for entry in plan['directories']],
                  changed_files=[entry['path'] for entry in plan['files']])
    if module._diff:
        result['diff'] = plan['diff']
    if module.check_mode:
        return result
    if users_to_make:
        useradd = module.get_bin_path('useradd', required=True)
        for user in users_to_make:
            rc, _stdout, stderr = module.run_command(useradd_argv(useradd, user))
            if rc != 0:
                module.fail_json(msg='cannot make the system user %s: %s' % (user['name'], stderr.strip()), rc=rc)
    try:
        write_planned_files(plan, PARENT_MODE)
    except FileWriteError as exc:
        module.fail_json(msg=to_native(exc))
    for entry in executables:
        if entry['dest'] not in changed_executables:
            continue
        installed = changed_executables[:changed_executables.index(entry['dest'])]
        try:
            install_binary(entry)
        except ValueError as exc:
            module.fail_json(msg=to_native(exc), changed_executables=installed)
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot install %s: %s' % (entry['dest'], to_native(getattr(exc, 'strerror', None) or exc)),
                             changed_executables=installed)
    return result


def main():
    # The action plugin gives src as the path on the host it sent the file to, and sha256.
    module = AnsibleModule(
        argument_spec=dict(
            files_argument_spec(),
            executables=dict(type='list', elements='dict', default=[], options=dict(
                src=dict(type='path'),
                dest=dict(type='path', required=True),
                sha256=dict(type='str'),
            )),
            system_users=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                home=dict(type='path'),
                shell=dict(type='path', default='/usr/sbin/nologin'),
            )),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
