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
short_description: Install executables from the controller, several in one module run
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Sends each file of O(files) from the controller and puts it in place on the host as an executable (mode C(0755), owned
    by root) where the host's file differs, replacing the old one in one rename (a running program keeps its old file).
  - One module run for all of them, with no stat run first; M(ansible.builtin.copy) costs two runs per file. Meant for
    binaries of tens of megabytes that a probe of the host already found different.
  - The SHA-256 of each controller file (kept in a cache under C(~/.cache/overlaynet-vpn/) for large files) is checked on
    the host before the file replaces anything; a file that arrives different fails the task and changes nothing.
  - An action plugin sends the files; the module moves them into place.
options:
  files:
    description:
      - The executables to install.
    type: list
    elements: dict
    required: true
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
extends_documentation_fragment:
  - overlaynet.vpn.attributes
attributes:
  action:
    support: full
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
  check_mode:
    support: full
    details:
      - Sends nothing; reports the files that differ on the host.
  diff_mode:
    support: none
notes:
  - The files are sent into the task's temporary directory on the host (it needs the room for them) and removed with it.
'''

EXAMPLES = r'''
- name: Install the Tailscale CLI and daemon built on the controller
  overlaynet.vpn.binaries:
    files:
      - src: /srv/builds/tailscale
        dest: /usr/local/bin/tailscale
      - src: /srv/builds/tailscaled
        dest: /usr/local/sbin/tailscaled
  register: tailscale_binaries
'''

RETURN = r'''
changed_paths:
  description: The executables that were (or in check mode would be) installed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [/usr/local/sbin/tailscaled]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.overlaynet.vpn.plugins.module_utils._binaries import binary_differs, binary_problems, install_binary


def run_module(module):
    files = module.params['files']
    problems = binary_problems(files, module.check_mode)
    if problems:
        module.fail_json(msg='; '.join(problems))
    changed_paths = [entry['dest'] for entry in files if binary_differs(entry)]
    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module.check_mode:
        return result
    for entry in files:
        if entry['dest'] not in changed_paths:
            continue
        try:
            install_binary(entry)
        except ValueError as exc:
            module.fail_json(msg=to_native(exc), changed_paths=changed_paths[:changed_paths.index(entry['dest'])])
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot install %s: %s' % (entry['dest'], to_native(getattr(exc, 'strerror', None) or exc)),
                             changed_paths=changed_paths[:changed_paths.index(entry['dest'])])
    return result


def main():
    # The action plugin gives src as the path on the host it sent the file to, and sha256.
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                src=dict(type='path'),
                dest=dict(type='path', required=True),
                sha256=dict(type='str'),
            )),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
