#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: headscale_server
short_description: Bring a headscale server to its configuration and policy
version_added: 0.1.0
author: overlaynet.vpn contributors (@overlaynet)
description:
  - Applies the C(config.yaml) and the ACL policy file of a headscale 0.26 to 0.29 server, run by the systemd unit
    O(unit) (C(Type=simple), C(ExecReload=/bin/kill -HUP $MAINPID)), and waits until the server answers.
  - Nothing is replaced before headscale's own checkers accepted it, in this order. A new policy is checked with
    C(headscale policy check) on a copy; then the policy file is put in place (the running server reads it only at
    start or on C(SIGHUP)); then the new configuration is checked with C(headscale configtest) on a copy, which also
    loads the policy file the configuration names, so that both are checked together as the server will start on
    them. When either checker refuses, the module fails quoting it and the files in place stay as they were (a policy
    file written before a refused configuration goes back).
  - C(headscale policy check) parses the file alone in headscale 0.26 to 0.28, and asks the running server in 0.29
    (which also checks it against the server's users and nodes). Without a running 0.29 server, C(configtest) checks
    the policy instead.
  - A new configuration (or a new policy while the unit does not run, or with O(restart)) restarts the unit. When the
    server does not answer within O(timeout) seconds, the previous configuration and the previous policy file go back
    together, the unit is restarted on them, and the module fails saying whether the old configuration serves again;
    on a first install the new files are removed and the unit is stopped.
  - A new policy alone, while the unit runs, is applied with C(systemctl reload) (C(SIGHUP)), on which headscale reads
    its policy file again without a restart. headscale only logs a policy it refuses then, which is why the
    policy is checked first.
  - The server counts as up when the unit is active and C(headscale users list --output json) exits 0, which proves
    that its gRPC unix socket answers.
  - In the same run, and before anything else, the files of O(files) that differ are written (the unit, the TLS
    certificate, what headscale reads at start, see O(restart)); after the server is up, the users of O(users) are kept
    as M(overlaynet.vpn.headscale_user) keeps them; last, O(record) is written where it differs.
    A role that renders these files saves two module runs this way.
options:
  state:
    description:
      - V(present) puts O(config) and O(policy) in place, makes sure the unit runs on them and, with O(enabled), starts
        at boot.
      - V(absent) stops and disables the unit and removes O(config_path), O(policy_path) and O(remove_paths).
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The whole text of C(config.yaml). Required with O(state=present).
      - It holds no secret (keep secrets in the unit's environment file), so it is written readable by all (C(0644),
        owner root), for the daemon that runs as its own user, and shown in the diff.
      - Paths in it must be absolute; headscale takes a relative one from the directory of the configuration file, and
        the check reads a copy in a temporary directory.
    type: str
  config_path:
    description:
      - The configuration file the unit starts headscale on.
    type: path
    default: /etc/headscale/config.yaml
  policy:
    description:
      - The whole text of the ACL policy file (JSON or HuJSON); written with mode C(0644), owner root.
      - Omitted or V(null), there is no policy file, the file at O(policy_path) is removed, and headscale allows all
        traffic between nodes. Then O(config) must not name a policy file (C(policy.path) empty), since C(configtest) refuses a
        configuration whose policy file is missing.
      - A mapping is written as JSON indented by 2 spaces; ansible-core before 2.19 turns a templated JSON text into one.
      - The configuration must name O(policy_path) (C(policy.mode=file), C(policy.path)); otherwise headscale never
        reads the file, and the module warns.
    type: raw
  policy_path:
    description:
      - The policy file.
    type: path
    default: /etc/headscale/policy.json
  environment_file:
    description:
      - The unit's C(EnvironmentFile) with the secrets headscale reads from its environment, such as
        C(HEADSCALE_DATABASE_POSTGRES_PASS) for C(database.postgres.pass). C(configtest) opens the database as the
        server does, so it gets these variables as well; their values are replaced in every message.
      - Lines C(NAME="value") (a backslash or a double quote in the value escaped by a backslash), C(NAME='value') or
        C(NAME=value). A file that does not exist counts as empty, as for C(EnvironmentFile=-).
    type: path
  executable:
    description:
      - The headscale binary the checks and the readiness probe run. Default C(headscale) from the C(PATH).
    type: path
  unit:
    description:
      - The systemd unit that runs the server.
    type: str
    default: headscale.service
  restart:
    description:
      - Restart the unit even when neither file changed, because something headscale reads only at start changed in
        this run, for example its TLS certificate, its environment file or its binary. A server that does not come up
        then fails the module with the unit's state (nothing to roll back).
      - With a new policy, restart instead of reload.
    type: bool
    default: false
  enabled:
    description:
      - Whether the unit starts at boot, with O(state=present).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the server to answer after a start, restart or reload, polled; each poll of a server that
        does not answer may itself take the CLI's timeout (C(cli.timeout), 5 seconds by default).
    type: int
    default: 30
  remove_paths:
    description:
      - Files and directories (removed with their content) removed with O(state=absent), for example
        C(/var/lib/headscale) with the database and the server's keys.
    type: list
    elements: path
    default: []
  users:
    description:
      - The users of the tailnet, kept once the server is up, as the O(overlaynet.vpn.headscale_user#module:users) option
        of M(overlaynet.vpn.headscale_user) keeps them (same items). Omitted, users are left as they are.
      - Checked with the other options, before anything changes.
    type: list
    elements: raw
  record:
    description:
      - The whole text of a record file, written last at O(record_path) where it differs (mode C(0644), owner root), only
        once the server answers on the new configuration and the users of O(users) are kept, so that a run that fails
        before leaves the file as it was. For a record of what the server runs on, such as the database its
        configuration names, which a refused run must not claim.
      - O(record_path) may also be one of O(files), for example for a record whose version is written first.
    type: str
  record_path:
    description:
      - The record file of O(record). Required with O(record).
    type: path
  version:
    description:
      - The headscale version on the server (C(0.26.x) to C(0.29.x)), for the differences of its CLI when O(users) is
        given.
    type: str
    default: 0.29.3
extends_documentation_fragment:
  - overlaynet.vpn.files
  - overlaynet.vpn.daemon_reload
  - overlaynet.vpn.attributes
attributes:
  check_mode:
    support: full
    details:
      - Check mode only reads the files and the unit's state (C(systemctl is-active), C(systemctl is-enabled)), and
        with O(users) the users of a server that runs (C(headscale users list)); no other headscale command runs, so the
        new texts are not checked, and headscale need not be installed yet.
  diff_mode:
    support: full
    details:
      - The files of O(files), the configuration and the policy file before and after, as a list with one item per
        file that changes, then the names of the users before and after when O(users) changes them.
requirements:
  - systemd and headscale 0.26 to 0.29 on the target, with a unit for it; the module runs as root.
notes:
  - C(headscale configtest) builds the server without listening, so on a new host it creates the noise key, the DERP key
    and the database named in the configuration, as root. The daemon's user must own them when it starts. A unit with
    C(StateDirectory=headscale) gets that from systemd when configtest created the directory (systemd changes the owner
    of everything in a state directory that is not its user's); in a directory the user owns already they stay root's.
  - C(configtest) misses what the server only meets once it runs (its TLS certificate and key, its listeners, files its
    user cannot read); those are caught by the restart with rollback.
  - Messages quote the checkers' error output with anything that looks like a pre-auth key replaced; the output of
    headscale commands is never quoted.
seealso:
  - module: overlaynet.vpn.headscale_user
  - module: overlaynet.vpn.headscale_preauthkey
  - name: headscale
    description: The headscale documentation.
    link: https://headscale.net/stable/
'''

EXAMPLES = r'''
- name: Run headscale on its rendered configuration and policy
  overlaynet.vpn.headscale_server:
    config: "{{ lookup('ansible.builtin.template', 'config.yaml.j2') }}"
    policy: "{{ lookup('ansible.builtin.template', 'policy.json.j2') }}"
    restart: "{{ headscale_certificate is changed or headscale_binary is changed }}"
    daemon_reload: "{{ headscale_unit_file is changed }}"
  register: headscale

- name: Say how the server took it
  ansible.builtin.debug:
    msg: "headscale: {{ headscale.action }}"

- name: Run headscale without a policy (all traffic allowed)
  overlaynet.vpn.headscale_server:
    config: "{{ lookup('ansible.builtin.template', 'config.yaml.j2') }}"

- name: Remove headscale with its database and keys
  overlaynet.vpn.headscale_server:
    state: absent
    remove_paths: [/var/lib/headscale]
'''

RETURN = r'''
action:
  description:
    - What was done (or in check mode would be done) - V(none); V(reload) (a new policy, read again on C(SIGHUP));
      V(restart) (the same files, restarted because of O(restart) or because the unit did not run); V(replace) (new
      files, restarted with rollback); V(remove) (O(state=absent)).
    - Enabling or disabling the unit alone leaves it at V(none), with C(changed=true).
  returned: always
  type: str
  sample: replace
changed_paths:
  description:
    - The directories and files of O(directories) and O(files), then O(record_path), that were (or in check mode would
      be) written.
  returned: with O(state=present)
  type: list
  elements: str
  sample: [/etc/systemd/system/headscale.service]
users:
  description: As the return value RV(overlaynet.vpn.headscale_user#module:users) of M(overlaynet.vpn.headscale_user).
  returned: when O(users) is given
  type: dict
  sample:
    alice: {id: 1, name: alice, display_name: '', email: ''}
created_users:
  description: The names of the users created (in check mode, that would be created), in the order of O(users).
  returned: when O(users) is given
  type: list
  elements: str
  sample: [alice]
removed_users:
  description: The names of the users removed (in check mode, that would be removed), in the order of O(users).
  returned: when O(users) is given
  type: list
  elements: str
  sample: []
diff:
  description:
    - The files of O(files), the configuration and the policy file before and after, one item per file that changes;
      then the names of the server's users before and after, one a line, when O(users) changes them; then O(record).
  returned: in diff mode, when a file or the users change (or would)
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_apply import DEFAULT_TIMEOUT, POLICY_PATH, UNIT, run_module
from ansible_collections.overlaynet.vpn.plugins.module_utils._files import files_argument_spec
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_cli import cli_argument_spec
from ansible_collections.overlaynet.vpn.plugins.module_utils._headscale_config import CONFIG_PATH


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files_argument_spec(),
            record=dict(type='str'),
            record_path=dict(type='path'),
            users=dict(type='list', elements='raw'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            config=dict(type='str'),
            config_path=dict(type='path', default=CONFIG_PATH),
            policy=dict(type='raw'),
            policy_path=dict(type='path', default=POLICY_PATH),
            environment_file=dict(type='path'),
            executable=dict(type='path'),
            unit=dict(type='str', default=UNIT),
            restart=dict(type='bool', default=False),
            daemon_reload=dict(type='bool', default=False),
            enabled=dict(type='bool', default=True),
            timeout=dict(type='int', default=DEFAULT_TIMEOUT),
            remove_paths=dict(type='list', elements='path', default=[]),
            version=cli_argument_spec()['version'],
        ),
        required_if=[('state', 'present', ['config'])],
        required_by={'record': 'record_path'},
        supports_check_mode=True,
    )
    module.exit_json(**run_module(module))


if __name__ == '__main__':
    main()
