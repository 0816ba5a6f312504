# -*- coding: utf-8 -*-
# Copyright (c) 2026 overlaynet.vpn contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

# overlaynet.vpn.binaries on the controller: the controller files' digests, each file sent into
# the task's temporary directory on the host, then one run of the module, which checks the
# digests and moves the files into place (ansible.builtin.copy runs a stat, then the copy,
# per file). Check mode sends nothing.

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.overlaynet.vpn.plugins.plugin_utils._controller_files import controller_file_sha256


class ActionModule(ActionBase):

    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(('executables', 'system_users', 'directories', 'files'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # the temporary directory comes from the connection's shell
        try:
            module_executables = []
            for index, entry in enumerate(self._task.args.get('executables') or []):
                if not isinstance(entry, dict) or not entry.get('src') or not entry.get('dest'):
                    raise AnsibleActionFail('executables[%d]: needs src (a controller file) and dest (a path on the host)' % index)
                source = self._find_needle('files', to_text(entry['src']))
                digest = controller_file_sha256(source)
                if digest is None:
                    raise AnsibleActionFail('executables[%d].src: cannot read %s on the controller' % (index, source))
                sent = None
                if not self._task.check_mode:
                    sent = self._connection._shell.join_path(self._connection._shell.tmpdir, 'binary-%d' % index)
                    self._transfer_file(source, sent)
                    self._fixup_perms2((self._connection._shell.tmpdir, sent))
                module_executables.append(dict(src=sent, dest=entry['dest'], sha256=digest))
            module_args = dict(executables=module_executables)
            # Made on the host by the module in the same run; nothing to send for them.
            for option in ('system_users', 'directories', 'files'):
                if self._task.args.get(option) is not None:
                    module_args[option] = self._task.args[option]
            result.update(self._execute_module(module_name='overlaynet.vpn.binaries', module_args=module_args,
                                               task_vars=task_vars))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
